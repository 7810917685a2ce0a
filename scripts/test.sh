#!/usr/bin/env bash
# Every test djedge has: native, then the same Django vectors in Wasm under
# node, lints, and a build of the benches so they cannot rot.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh

cargo test --workspace
cargo test -p djhash --target wasm32-unknown-unknown --test django_vectors --test malformed
cargo clippy --workspace --all-targets -- -D warnings
cargo bench -p djhash --no-run
