#!/usr/bin/env bash
# Starts the edge on the demo Django database (scripts/edge-up.sh) and
# measures it against Django (benches/edge_bench.py). Not a test: it prints
# figures. SECONDS_OF_LOAD (default 60) bounds the load test. Django 4.2 LTS
# times the hashes: it still has every legacy hasher the demo users carry.
set -euo pipefail
cd "$(dirname "$0")/.."
trap scripts/edge-down.sh EXIT
scripts/edge-up.sh
# shellcheck disable=SC1091
source target/edge/env
"$(scripts/django_venv.sh 4.2)" benches/edge_bench.py --worker "$DJEDGE_WORKER_URL" --serve "$DJEDGE_SERVE_URL" \
  --token "$DJEDGE_API_TOKEN" --snapshot "$DJEDGE_SNAPSHOT" \
  --passwords tests/fixtures/demo-django-5.2.passwords.json --seconds "${SECONDS_OF_LOAD:-60}" --worker-log target/edge/worker.log
