#!/usr/bin/env bash
# The demo: djedge answers for passwords against hashes real Django made, in
# every format, beside Django's own answers.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
cargo build --release -q -p djedge
python3 scripts/demo.py target/release/djedge
