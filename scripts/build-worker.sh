#!/usr/bin/env bash
# Builds the Worker (crates/worker) into crates/worker/build/ with
# worker-build, offline but for the package registries: wasm-bindgen-cli
# comes from scripts/setup.sh at exactly Cargo.lock's version, wasm-opt is
# off (crates/worker/Cargo.toml), esbuild comes from npm.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
cd crates/worker
WASM_BINDGEN_BIN="$(command -v wasm-bindgen)" worker-build --release
