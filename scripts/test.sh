#!/usr/bin/env bash
# Every test djedge has: lints first (clippy --benches also compiles the
# benches, so they cannot rot), then native (with real PostgreSQL and
# MariaDB), the Django vectors in Wasm under node, and the edge: the real
# Worker in local workerd and `djedge serve`, answering from the demo
# Django database, through the HTTP API, through Auth0's scripts and under
# load; then the Django app, installed from its wheel. Cargo.lock is used as
# committed (--locked).
#
#   scripts/test.sh                  everything, as CI runs it
#   scripts/test.sh rust|edge|django the tiers named (lints always run first;
#                                    edge and django start the local edge)
set -euo pipefail
cd "$(dirname "$0")/.."
tiers=${*:-rust edge django}
for tier in $tiers; do
  case $tier in rust | edge | django) ;; *) echo "test: unknown tier $tier (rust, edge, django)" >&2; exit 2 ;; esac
done
wants() { [[ " $tiers " == *" $1 "* ]]; }
# Incremental caches only help a rebuild; here they would double target/.
export CARGO_INCREMENTAL=0
df -h . | sed 's/^/test: disk /' >&2
scripts/setup.sh
cargo fmt --all --check
cargo clippy --locked --workspace --lib --bins -- -D warnings
# Tests and benches fail by panicking: unwrap, expect, panic and indexing
# are how they say "this must hold", in their helpers too (clippy.toml's
# allowances reach only #[test] functions).
cargo clippy --locked --workspace --tests --benches -- -D warnings \
  -A clippy::unwrap_used -A clippy::expect_used -A clippy::panic -A clippy::indexing_slicing
# djhash's Wasm-only code (the SIMD128 SHA-256 and Salsa20/8) as the Worker
# builds it.
cargo clippy --locked -p djhash --target wasm32-unknown-unknown --lib -- -D warnings

if wants rust; then
  # A real PostgreSQL and a real MariaDB (Debian's packages), each holding
  # two databases loaded by real Django, for the exporter's tests: Django's
  # own auth_user, and the custom model (email as username, UUID key).
  python=$(scripts/django_venv.sh 5.2)
  for server in postgres mariadb; do
    for model in default custom; do
      name=DJEDGE_TEST_${server^^}
      [ "$model" = default ] || name=${name}_CUSTOM
      url=$(scripts/$server.sh "djedge_$model")
      passwords="$PWD/target/$server-$model-django-5.2.passwords.json"
      "$python" tests/django_site/make_db.py --model "$model" --database "$url" --passwords "$passwords"
      export "${name}_URL=$url" "${name}_PASSWORDS=$passwords"
    done
    # The identities site (tests/django_site/make_identities_db.py): what
    # users share, and django-allauth's verified addresses.
    url=$(scripts/$server.sh djedge_identities)
    "$python" tests/django_site/make_identities_db.py --database "$url" --passwords "$PWD/target/$server-identities.passwords.json"
    export "DJEDGE_TEST_${server^^}_IDENTITIES_URL=$url"
  done

  cargo test --locked --workspace
  cargo test --locked -p djhash --target wasm32-unknown-unknown --lib --test django_vectors --test malformed
fi

if wants rust || wants edge; then
  # The local Auth0 tenant's own rules (Auth0's user rules, bulk-import
  # jobs, request bodies against Auth0's published schema): the other tests
  # lean on it.
  node --test tests/auth0/
fi
wants edge || wants django || exit 0

# The edge, end to end (tests/edge): scripts/edge-up.sh builds the Worker,
# exports the demo database, loads it into wrangler's local KV and starts
# both services.
trap scripts/edge-down.sh EXIT
scripts/edge-up.sh
# shellcheck disable=SC1091
source target/edge/env
if wants edge; then
  # The progress page is rendered in headless Chromium (Debian's package).
  command -v chromium >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }
  # The hardening test holds 2,500 connections open at once.
  ulimit -n 8192 2>/dev/null || true
  # The local Cloudflare API (its refusals per Cloudflare's published
  # schema; the Worker edge-up built, uploaded to it and run from it).
  node --test tests/cloudflare/
  node --test tests/edge/
  # The migration's tools against the running edge and the stand-ins:
  # push, sync, the bulk path, Auth0 setup and users.
  node --test tests/migration/
fi
# The Django app from its wheel, on Django 4.2, 5.2 and 6.1, against the same
# local Auth0 tenant.
if wants django; then
  scripts/test_django.sh
fi
du -sh target | sed 's/^/test: target holds /' >&2
