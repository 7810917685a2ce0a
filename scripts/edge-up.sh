#!/usr/bin/env bash
# Starts the edge locally against the demo Django database: exports it,
# loads the snapshot into wrangler's local KV, and starts the Worker in
# local workerd (scripts/workerd.mjs: Miniflare with wrangler.toml's
# bindings, without `wrangler dev`'s dev-only proxy, whose 503s under load
# are its own) and `djedge serve` beside it. Both take the same static token
# and the Auth0 machine tokens of a local Auth0 tenant (tests/auth0/tenant.mjs),
# started first and configured by `djedge auth0 setup`. Prints the environment the tests and the demo read; stop
# them all with scripts/edge-down.sh.
#
#   DJEDGE_DATABASE   the Django database to export (default: the demo one)
#   DJEDGE_WORKER_PORT / DJEDGE_SERVE_PORT / DJEDGE_TENANT_PORT
#                     default 8787 / 8788 / 8789
set -euo pipefail
cd "$(dirname "$0")/.."
export WRANGLER_SEND_METRICS=false
state=target/edge
database=${DJEDGE_DATABASE:-sqlite://tests/fixtures/demo-django-5.2.sqlite3}
worker_port=${DJEDGE_WORKER_PORT:-8787}
serve_port=${DJEDGE_SERVE_PORT:-8788}
tenant_port=${DJEDGE_TENANT_PORT:-8789}

scripts/edge-down.sh >/dev/null 2>&1 || true
./scripts/build-worker.sh >&2
cargo build --locked --release -q -p djedge
rm -rf "$state" && mkdir -p "$state"
started_ms=$(date +%s%3N)
token=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')

target/release/djedge export --database "$database" --out "$state/snapshot" >&2
target/release/djedge push --snapshot "$state/snapshot" --local --persist-to "$state/wrangler" >&2

setsid node tests/auth0/tenant.mjs --port "$tenant_port" --state "$state/tenant.json" >"$state/tenant.log" 2>&1 &
echo $! >"$state/tenant.pid"
for _ in $(seq 1 30); do [ -s "$state/tenant.json" ] && break; sleep 0.5; done
tenant() { node -e "process.stdout.write(String(require('./$state/tenant.json')$1))"; }

# The tenant configured the way a site owner does it: `djedge auth0 setup`
# (connection, scripts, API, app, Action), which prints the edge's settings.
AUTH0_CLIENT_ID=$(tenant .apps.management.client_id) AUTH0_CLIENT_SECRET=$(tenant .apps.management.client_secret) \
  target/release/djedge auth0 setup --domain "$(tenant .url)" --connection djedge-users \
  --edge-url "http://127.0.0.1:$worker_port" >"$state/auth0-settings.env" 2>"$state/auth0-setup.log" ||
  { cat "$state/auth0-setup.log" >&2; exit 1; }

# The settings go in a file, not on a command line other users can read.
(umask 077 && { echo "DJEDGE_API_TOKEN=$token"; cat "$state/auth0-settings.env"; } >"$state/worker.env")
setsid node scripts/workerd.mjs --persist-to "$state/wrangler" --port "$worker_port" \
  --env-file "$state/worker.env" >"$state/worker.log" 2>&1 &
echo $! >"$state/worker.pid"
(set -a && . "$state/worker.env" && exec setsid target/release/djedge serve --snapshot "$state/snapshot" \
  --listen "127.0.0.1:$serve_port" --migrations "$state/migrations.jsonl") >"$state/serve.log" 2>&1 &
echo $! >"$state/serve.pid"

for url in "http://127.0.0.1:$worker_port" "http://127.0.0.1:$serve_port"; do
  for _ in $(seq 1 180); do
    if curl -sf -o /dev/null -H "authorization: Bearer $token" "$url/v1/health"; then continue 2; fi
    sleep 1
  done
  echo "edge-up: $url did not come up; see $state/worker.log and $state/serve.log" >&2
  tail -n 20 "$state/worker.log" "$state/serve.log" >&2
  exit 1
done
cat >"$state/env" <<ENV
export DJEDGE_API_TOKEN=$token
export DJEDGE_WORKER_URL=http://127.0.0.1:$worker_port
export DJEDGE_SERVE_URL=http://127.0.0.1:$serve_port
export DJEDGE_SNAPSHOT=$PWD/$state/snapshot
export DJEDGE_STARTED_AT_MS=$started_ms
export DJEDGE_WORKER_LOG=$PWD/$state/worker.log
export DJEDGE_SERVE_PID=$PWD/$state/serve.pid
export DJEDGE_TENANT=$PWD/$state/tenant.json
ENV
echo "edge-up: the Worker on http://127.0.0.1:$worker_port, djedge serve on http://127.0.0.1:$serve_port, a local Auth0 tenant on $(tenant .url); environment in $state/env" >&2
