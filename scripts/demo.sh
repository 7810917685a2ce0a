#!/usr/bin/env bash
# The demo: djedge's answers for passwords against hashes real Django made,
# in every format, beside Django's own; then the demo Django database
# (tests/fixtures) exported into a snapshot, with its migration report.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
cargo build --release -q -p djedge
python3 scripts/demo.py target/release/djedge
echo
rm -rf target/demo-snapshot
target/release/djedge export --database sqlite://tests/fixtures/demo-django-5.2.sqlite3 --out target/demo-snapshot
