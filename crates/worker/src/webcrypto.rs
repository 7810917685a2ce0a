//! PBKDF2 through the runtime's WebCrypto: native code, several times faster
//! than Wasm. Cloudflare refuses more than 100,000 iterations in production;
//! any refusal or error is `None`, and the core derives the key itself.

use djedge_edge::Pbkdf2Digest;
use js_sys::{Array, Object, Promise, Reflect, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_namespace = ["crypto", "subtle"], js_name = importKey, catch)]
    fn import_key(
        format: &str,
        key: &Uint8Array,
        algorithm: &str,
        extractable: bool,
        usages: &Array,
    ) -> Result<Promise, JsValue>;

    #[wasm_bindgen(js_namespace = ["crypto", "subtle"], js_name = deriveBits, catch)]
    fn derive_bits(algorithm: &Object, key: &JsValue, length: u32) -> Result<Promise, JsValue>;
}

pub(crate) async fn pbkdf2(
    digest: Pbkdf2Digest,
    password: &[u8],
    salt: &[u8],
    iterations: u32,
    length: usize,
) -> Option<Vec<u8>> {
    let usages = Array::of1(&JsValue::from_str("deriveBits"));
    let key =
        JsFuture::from(import_key("raw", &Uint8Array::from(password), "PBKDF2", false, &usages).ok()?).await.ok()?;
    let algorithm = Object::new();
    let hash_name = match digest {
        Pbkdf2Digest::Sha256 => "SHA-256",
        Pbkdf2Digest::Sha1 => "SHA-1",
    };
    for (name, value) in [
        ("name", JsValue::from_str("PBKDF2")),
        ("hash", JsValue::from_str(hash_name)),
        ("salt", Uint8Array::from(salt).into()),
        ("iterations", JsValue::from(iterations)),
    ] {
        Reflect::set(&algorithm, &JsValue::from_str(name), &value).ok()?;
    }
    let bits = u32::try_from(length.checked_mul(8)?).ok()?;
    let derived = JsFuture::from(derive_bits(&algorithm, &key, bits).ok()?).await.ok()?;
    let derived = Uint8Array::new(&derived).to_vec();
    (derived.len() == length).then_some(derived)
}
