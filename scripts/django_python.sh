#!/usr/bin/env bash
# Prints a python for Django VERSION: python3 before Django 6; for 6.x, which
# needs Python 3.12 or later (Debian 12's python3 is 3.11), the first that
# runs of python3.12 and pyenv's 3.12s, then newer ones the same way, then
# python3 if it is recent enough; fails with one clear sentence when none is.
set -euo pipefail
version=$1
if [ "${version%%.*}" -lt 6 ]; then
  echo python3
  exit 0
fi
pyenv_versions=${PYENV_ROOT:-$HOME/.pyenv}/versions
for candidate in python3.12 "$pyenv_versions"/3.12*/bin/python3 python3.13 "$pyenv_versions"/3.1[3-9]*/bin/python3 \
  python3.14 python3; do
  # A pyenv shim of a version not selected fails to run: the next one.
  if "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null; then
    command -v "$candidate"
    exit 0
  fi
done
echo "django_python: Django $version needs Python 3.12 or later, and none was found (python3.12 or newer on PATH," \
  "or under $pyenv_versions); install one, e.g. 'pyenv install 3.12'." >&2
exit 1
