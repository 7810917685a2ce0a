#!/usr/bin/env bash
# Re-make the Django test vectors: one virtualenv per Django version, from
# PyPI. bcrypt<5 because 5.x refuses >72-byte passwords that every earlier
# release truncated, and real databases hold hashes made that way.
set -euo pipefail
cd "$(dirname "$0")"
for spec in "4.2:42" "5.2:52"; do
  version=${spec%%:*}; seed=${spec##*:}
  venv=".venv-django-$version"
  [ -x "$venv/bin/python" ] || python3 -m venv "$venv"
  "$venv/bin/pip" install -q "django==$version.*" 'bcrypt<5' argon2-cffi
  "$venv/bin/python" generate.py --seed "$seed" --out "django-$version.json"
done
