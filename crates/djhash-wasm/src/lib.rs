//! djhash for JavaScript. The same verifier the Worker runs, exported through
//! wasm-bindgen so node can time it beside Django (bench/compare.py).

use std::cell::RefCell;

use wasm_bindgen::prelude::*;

thread_local! {
    // One verifier per instance: its argon2 buffer is reused across calls.
    static VERIFIER: RefCell<djhash::Verifier> = RefCell::new(djhash::Verifier::default());
}

/// `true` or `false` for a verifiable field; throws `"<kind>: <message>"`
/// for one that cannot be verified.
#[wasm_bindgen]
pub fn verify(password: &str, encoded: &str) -> Result<bool, JsError> {
    VERIFIER.with_borrow_mut(|v| v.verify(password.as_bytes(), encoded)).map_err(|e| JsError::new(&e.to_string()))
}

/// The size of this instance's linear memory in bytes: Wasm memory only
/// grows, so after a run this is its peak.
#[wasm_bindgen]
pub fn memory_bytes() -> f64 {
    #[cfg(target_arch = "wasm32")]
    {
        (core::arch::wasm32::memory_size(0) * 65_536) as f64
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        0.0
    }
}
