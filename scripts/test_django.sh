#!/usr/bin/env bash
# The Django app from its wheel: builds the wheel (`pip wheel .`, maturin:
# the djedge binary and the python/djedge package), installs it into a
# fresh virtualenv per Django version (4.2 LTS and 5.2), and runs the app's
# tests (tests/django_app) from the installed package, with Django's own
# user model and with one that renames every column and has a UUID key,
# on SQLite and on the private PostgreSQL (scripts/postgres.sh), against the
# local Auth0 tenant scripts/edge-up.sh started (DJEDGE_TENANT).
set -euo pipefail
cd "$(dirname "$0")/.."
: "${DJEDGE_TENANT:?run scripts/edge-up.sh and source target/edge/env first}"
rm -rf target/wheels
# The wheel carries the Worker scripts/edge-up.sh built (crates/cli/build.rs),
# as a release wheel does: `djedge deploy` uploads it.
DJEDGE_WORKER_DIR=crates/worker/build python3 -m pip wheel -q --no-deps -w target/wheels .
wheel=$(ls target/wheels/djedge-*.whl)
for version in 4.2 5.2; do
  venv=$PWD/target/venv-djedge-$version
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q "django==$version.*" 'psycopg[binary]' "$wheel"
  # The wheel put the binary on the virtualenv's PATH.
  "$venv/bin/djedge" --version >/dev/null
  for run in sqlite:auth.User sqlite:renamed.RenamedUser postgres:auth.User postgres:renamed.RenamedUser; do
    database=${run%%:*} model=${run#*:}
    dir=$(mktemp -d)
    [ "$database" = sqlite ] || scripts/postgres.sh djedge_django >/dev/null
    echo "test_django: Django $version, $database, AUTH_USER_MODEL=$model" >&2
    (cd tests/django_app && PYTHONWARNINGS=ignore::DeprecationWarning DJEDGE_TEST_DIR="$dir" DJEDGE_TEST_USER_MODEL="$model" \
      DJEDGE_TEST_DATABASE="$database" \
      DJANGO_SETTINGS_MODULE=testsite.settings PATH="$venv/bin:$PATH" "$venv/bin/python" -m django test djedge_tests -v 1)
    rm -rf "$dir"
  done
done
# `djedge deploy` from the wheel's binary alone (its PATH holds nothing
# else) against the local Cloudflare API and the local tenant.
DJEDGE_BIN=$PWD/target/venv-djedge-5.2/bin/djedge node --test tests/deploy/
