#!/usr/bin/env bash
# Every test djedge has: native (with real PostgreSQL and MariaDB), the
# Django vectors in Wasm under node, lints (clippy --all-targets also
# compiles the benches, so they cannot rot), and the edge: the
# real Worker in local workerd and `djedge serve`, answering from the demo
# Django database, through the HTTP API and through Auth0's scripts.
set -euo pipefail
cd "$(dirname "$0")/.."
# Incremental caches only help a rebuild; here they would double target/.
export CARGO_INCREMENTAL=0
df -h . | sed 's/^/test: disk /' >&2
scripts/setup.sh

# A real PostgreSQL and a real MariaDB (Debian's packages), each loaded by
# real Django, for the exporter's tests.
python=$(scripts/django_venv.sh 5.2)
export DJEDGE_TEST_POSTGRES_URL DJEDGE_TEST_MARIADB_URL
DJEDGE_TEST_POSTGRES_URL=$(scripts/postgres.sh)
DJEDGE_TEST_MARIADB_URL=$(scripts/mariadb.sh)
export DJEDGE_TEST_POSTGRES_PASSWORDS="$PWD/target/postgres-django-5.2.passwords.json"
export DJEDGE_TEST_MARIADB_PASSWORDS="$PWD/target/mariadb-django-5.2.passwords.json"
"$python" tests/django_site/make_db.py --model default \
  --database "$DJEDGE_TEST_POSTGRES_URL" --passwords "$DJEDGE_TEST_POSTGRES_PASSWORDS"
"$python" tests/django_site/make_db.py --model default \
  --database "$DJEDGE_TEST_MARIADB_URL" --passwords "$DJEDGE_TEST_MARIADB_PASSWORDS"

cargo test --workspace
cargo test -p djhash --target wasm32-unknown-unknown --test django_vectors --test malformed
cargo clippy --workspace --all-targets -- -D warnings
cargo fmt --all --check

# The edge, end to end (tests/edge): scripts/edge-up.sh builds the Worker,
# exports the demo database, loads it into wrangler's local KV and starts
# both services.
trap scripts/edge-down.sh EXIT
scripts/edge-up.sh
# shellcheck disable=SC1091
source target/edge/env
node --test tests/edge/
