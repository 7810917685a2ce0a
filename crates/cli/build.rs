//! Carries the built Worker in the binary when `DJEDGE_WORKER_DIR` names
//! it at build time (scripts/build-worker.sh's `crates/worker/build`, as
//! the wheel is built): `djedge deploy` then uploads exactly those bytes,
//! with no Rust or Node on the deploying machine. A relative directory is
//! taken from the workspace's root. Without the variable the binary carries
//! no Worker, and deploy asks for `--worker`.

use std::path::{Path, PathBuf};
use std::{env, fs};

/// The modules worker-build writes: the entry point (which imports the
/// Wasm), first.
const MODULES: [&str; 2] = ["index.js", "index_bg.wasm"];

#[expect(
    clippy::expect_used,
    clippy::panic,
    reason = "a build script fails by panicking, with the message cargo shows"
)]
fn main() {
    println!("cargo::rerun-if-env-changed=DJEDGE_WORKER_DIR");
    let out = PathBuf::from(env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    let mut code = String::from("&[\n");
    if let Some(dir) = env::var_os("DJEDGE_WORKER_DIR").filter(|d| !d.is_empty()) {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let dir = root.join(dir);
        for name in MODULES {
            let path = dir.join(name);
            println!("cargo::rerun-if-changed={}", path.display());
            let path = path.canonicalize().unwrap_or_else(|e| {
                panic!("DJEDGE_WORKER_DIR: {}: {e} (build the Worker first: scripts/build-worker.sh)", path.display())
            });
            code.push_str(&format!("    ({name:?}, include_bytes!({:?}).as_slice()),\n", path.display().to_string()));
        }
    }
    code.push(']');
    fs::write(out.join("worker_modules.rs"), code).expect("OUT_DIR is writable");
}
