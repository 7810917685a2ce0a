#!/usr/bin/env bash
# Re-makes the Django test vectors with real Django 4.2 LTS and 5.2.
set -euo pipefail
cd "$(dirname "$0")/../.."
"$(scripts/django_venv.sh 4.2)" tests/vectors/generate.py --seed 42 --out tests/vectors/django-4.2.json
"$(scripts/django_venv.sh 5.2)" tests/vectors/generate.py --seed 52 --out tests/vectors/django-5.2.json
