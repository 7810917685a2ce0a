#!/usr/bin/env bash
# Times Django's check_password, native djedge and djhash in Wasm (node) on
# the same hashes, and prints the ratios. Needs scripts/setup.sh done.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -p djedge
cargo build --release -p djhash-wasm --target wasm32-unknown-unknown
wasm-bindgen --target nodejs --out-dir target/djhash-wasm-node target/wasm32-unknown-unknown/release/djhash_wasm.wasm
for spec in "5.2:" "4.2:--legacy"; do
  version=${spec%%:*}; flag=${spec#*:}
  "$(scripts/django_venv.sh "$version")" benches/compare.py --djedge target/release/djedge \
    --wasm-pkg "$PWD/target/djhash-wasm-node/djhash_wasm.js" ${flag:+"$flag"} --json "target/compare-$version.json"
done
