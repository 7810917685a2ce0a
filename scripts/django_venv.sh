#!/usr/bin/env bash
# Prints the python of a virtualenv with Django VERSION (4.2 or 5.2) from
# PyPI, bcrypt<5 (5.x refuses the >72-byte passwords every earlier release
# truncated), argon2-cffi, psycopg, PyMySQL and django-allauth 65.x (its
# 65 releases support Django 4.2 to 6.x); creates it under target/ once.
# Django 6 needs Python 3.12 or later: scripts/django_python.sh finds one.
set -euo pipefail
version=$1
cd "$(dirname "$0")/.."
venv="$PWD/target/venv-django-$version"
python=$(scripts/django_python.sh "$version")
if [ ! -f "$venv/.ready-3" ]; then
  "$python" -m venv "$venv" >&2
  "$venv/bin/pip" install -q "django==$version.*" 'bcrypt<5' argon2-cffi 'psycopg[binary]' PyMySQL \
    'django-allauth>=65,<66' >&2
  touch "$venv/.ready-3"
fi
echo "$venv/bin/python"
