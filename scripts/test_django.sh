#!/usr/bin/env bash
# The Django app from its wheel: builds the wheel (`pip wheel .`, maturin:
# the djedge binary and the python/djedge package), installs it into a
# fresh virtualenv per Django version (4.2 LTS, 5.2 LTS, and 6.1 on Python
# 3.12 or later, which Django 6 needs), and runs the app's tests
# (tests/django_app) from the installed package, with Django's own user
# model and with one that renames every column and has a UUID key, on SQLite
# and on the private PostgreSQL (scripts/postgres.sh), against the local
# Auth0 tenant scripts/edge-up.sh started (DJEDGE_TENANT). Then the browser
# test (tests/django_app/browser.test.mjs: headless Chromium on the site,
# its own tenant and `djedge serve`), on Django 5.2, after `djedge deploy`'s
# tests (tests/deploy) from the 5.2 wheel's binary.
#
# Each run of the suite takes about two minutes, so not every version gets
# all four (database, model) pairs: 5.2 runs them all; 4.2 and 6.1 run
# SQLite with the renamed model and PostgreSQL with Django's, so each
# version still meets both databases and both models.
set -euo pipefail
cd "$(dirname "$0")/.."
: "${DJEDGE_TENANT:?run scripts/edge-up.sh and source target/edge/env first}"

# Django 6.x needs Python 3.12 or later: found (or a clear failure) before
# anything is built.
scripts/django_python.sh 6.1 >/dev/null

rm -rf target/wheels
# The wheel carries the Worker scripts/edge-up.sh built (crates/cli/build.rs),
# as a release wheel does: `djedge deploy` uploads it.
DJEDGE_WORKER_DIR=crates/worker/build python3 -m pip wheel -q --no-deps -w target/wheels .
wheel=$(ls target/wheels/djedge-*.whl)
for version in 4.2 5.2 6.1; do
  python=$(scripts/django_python.sh "$version")
  case $version in
    5.2) runs="sqlite:auth.User sqlite:renamed.RenamedUser postgres:auth.User postgres:renamed.RenamedUser" ;;
    *) runs="sqlite:renamed.RenamedUser postgres:auth.User" ;;
  esac
  venv=$PWD/target/venv-djedge-$version
  rm -rf "$venv"
  "$python" -m venv "$venv"
  "$venv/bin/pip" install -q "django==$version.*" 'psycopg[binary]' "$wheel"
  # The wheel put the binary on the virtualenv's PATH.
  "$venv/bin/djedge" --version >/dev/null
  for run in $runs; do
    database=${run%%:*} model=${run#*:}
    dir=$(mktemp -d)
    [ "$database" = sqlite ] || scripts/postgres.sh djedge_django >/dev/null
    echo "test_django: Django $version ($("$venv/bin/python" -V)), $database, AUTH_USER_MODEL=$model" >&2
    (cd tests/django_app && PYTHONWARNINGS=ignore::DeprecationWarning DJEDGE_TEST_DIR="$dir" DJEDGE_TEST_USER_MODEL="$model" \
      DJEDGE_TEST_DATABASE="$database" \
      DJANGO_SETTINGS_MODULE=testsite.settings PATH="$venv/bin:$PATH" "$venv/bin/python" -m django test djedge_tests -v 1)
    rm -rf "$dir"
  done
done
# `djedge deploy` from the wheel's binary alone (its PATH holds nothing
# else) against the local Cloudflare API and the local tenant.
DJEDGE_BIN=$PWD/target/venv-djedge-5.2/bin/djedge node --test tests/deploy/

# The browser test: Debian's Chromium (scripts/test.sh installs it), the
# site from the 5.2 virtualenv; screenshots in target/screenshots.
command -v chromium >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }
echo "test_django: the browser test (Django 5.2, headless Chromium)" >&2
DJEDGE_DJANGO_PYTHON=$PWD/target/venv-djedge-5.2/bin/python PATH="$PWD/target/venv-djedge-5.2/bin:$PATH" \
  node --test tests/django_app/browser.test.mjs
