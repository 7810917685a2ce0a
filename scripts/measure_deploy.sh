#!/usr/bin/env bash
# Times the issue's path from a built wheel to a live migration: `pip
# install` of the wheel into a new virtualenv (its dependencies from PyPI),
# `djedge deploy` from it with nothing else on its PATH, and the first login
# the uploaded Worker answers as the login script calls it (the app's token,
# then /v1/login). Against the local Cloudflare API (tests/cloudflare/api.mjs)
# and the local tenant scripts/edge-up.sh started. Prints the three times.
#
#   scripts/edge-up.sh && DJEDGE_WORKER_DIR=crates/worker/build pip wheel --no-deps -w DIR . && scripts/measure_deploy.sh DIR/djedge-*.whl
set -euo pipefail
cd "$(dirname "$0")/.."
wheel=$(realpath "${1:?the wheel to install}")
# shellcheck disable=SC1091
source target/edge/env
token=measure-token-0123456789 account=fedcba9876543210fedcba9876543210
coproc CF { node tests/cloudflare/api.mjs --token $token --account $account; }
read -r api <&"${CF[0]}"
origin=${api%/client/v4}
worker=$(curl -s -X POST "$origin/_test/workers-dev/djedge" | python3 -c 'import json,sys; print(json.load(sys.stdin)["url"])')
mgmt_id=$(python3 -c "import json; print(json.load(open('$DJEDGE_TENANT'))['apps']['management']['client_id'])")
mgmt_secret=$(python3 -c "import json; print(json.load(open('$DJEDGE_TENANT'))['apps']['management']['client_secret'])")
tenant=$(python3 -c "import json; print(json.load(open('$DJEDGE_TENANT'))['url'])")
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
connection=djedge-measure-$$
start=$(date +%s.%N)
python3 -m venv "$scratch"/venv
"$scratch"/venv/bin/pip install -q "$wheel"
installed=$(date +%s.%N)
env -i PATH="$scratch/venv/bin" HOME="$HOME" CLOUDFLARE_API_TOKEN=$token AUTH0_CLIENT_ID=$mgmt_id AUTH0_CLIENT_SECRET=$mgmt_secret \
  "$scratch"/venv/bin/djedge deploy --state-dir "$scratch"/state --account-id $account --api-url "$api" --domain "$tenant" \
  --connection "$connection" --edge-url "$worker" --database "sqlite://$PWD/tests/fixtures/demo-django-5.2.sqlite3" >/dev/null 2>"$scratch"/deploy.log
deployed=$(date +%s.%N)
# The first login, as the login script makes it: the app's token, then /v1/login.
conf=$(curl -s "$tenant/_test/state" | python3 -c 'import json,sys; c=[c for c in json.load(sys.stdin)["connections"] if c["name"]=="'"$connection"'"][0]["options"]["configuration"]; print(c["DJEDGE_CLIENT_ID"], c["DJEDGE_CLIENT_SECRET"], c["DJEDGE_AUDIENCE"])')
read -r cid csecret audience <<<"$conf"
access=$(curl -s "$tenant/oauth/token" -H 'content-type: application/json' -d "{\"grant_type\":\"client_credentials\",\"client_id\":\"$cid\",\"client_secret\":\"$csecret\",\"audience\":\"$audience\"}" | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')
status=$(curl -s -o /dev/null -w '%{http_code}' "$worker/v1/login" -H "authorization: Bearer $access" -H 'content-type: application/json' -d '{"username":"alice","password":"wonderland"}')
answered=$(date +%s.%N)
kill "$CF_PID" || true
python3 -c "print(f'pip install: {$installed-$start:.1f} s; deploy: {$deployed-$installed:.1f} s; first login ({\"$status\"}): {$answered-$deployed:.2f} s; total {$answered-$start:.1f} s')"
