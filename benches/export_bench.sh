#!/usr/bin/env bash
# The export benchmark: USERS (default 1,000,000) Django users in SQLite and
# in PostgreSQL, a full export and a 100-user delta, with users per second.
set -euo pipefail
cd "$(dirname "$0")/.."
users=${1:-1000000}
cargo build --release -q -p djedge
py=$(scripts/django_venv.sh 5.2)
db=$(mktemp -d)/bench.sqlite3
"$py" benches/export_bench.py --users "$users" --djedge target/release/djedge --database "sqlite://$db"
rm -f "$db"
"$py" benches/export_bench.py --users "$users" --djedge target/release/djedge --database "$(scripts/postgres.sh)"
