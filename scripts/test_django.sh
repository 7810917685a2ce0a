#!/usr/bin/env bash
# The Django app from its wheel: builds the wheel (`pip wheel .`, maturin:
# the djedge binary and the python/djedge package), installs it into a
# fresh virtualenv per Django version (4.2 LTS and 5.2), and runs the app's
# tests (tests/django_app) from the installed package, with Django's own
# user model and with one that renames every column and has a UUID key,
# against the local Auth0 tenant scripts/edge-up.sh started (DJEDGE_TENANT).
set -euo pipefail
cd "$(dirname "$0")/.."
: "${DJEDGE_TENANT:?run scripts/edge-up.sh and source target/edge/env first}"
rm -rf target/wheels
python3 -m pip wheel -q --no-deps -w target/wheels .
wheel=$(ls target/wheels/djedge-*.whl)
for version in 4.2 5.2; do
  venv=$PWD/target/venv-djedge-$version
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q "django==$version.*" "$wheel"
  # The wheel put the binary on the virtualenv's PATH.
  "$venv/bin/djedge" --version >/dev/null
  for model in auth.User renamed.RenamedUser; do
    dir=$(mktemp -d)
    echo "test_django: Django $version, AUTH_USER_MODEL=$model" >&2
    (cd tests/django_app && PYTHONWARNINGS=ignore::DeprecationWarning DJEDGE_TEST_DIR="$dir" DJEDGE_TEST_USER_MODEL="$model" \
      DJANGO_SETTINGS_MODULE=testsite.settings PATH="$venv/bin:$PATH" "$venv/bin/python" -m django test djedge_tests -v 1)
    rm -rf "$dir"
  done
done
