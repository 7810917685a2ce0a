#!/usr/bin/env bash
# The same djhash Wasm module in bare workerd (benches/workerd_wasm.mjs: no
# workers-rs, no KV, no edge core) and in node, each with V8 flags of its
# own, interleaved, beside Django 5.2's check_password:
#
#   benches/workerd_vs_node.sh
#
#   WORKERD_RUNS  NAME=FLAGS ... (default: workerd as is, and Liftoff only)
#   NODE_RUNS     NAME=FLAGS ... (default: node as is, and Liftoff only)
#   ROUNDS, FORMATS, VERSION (Django, default 5.2) as for side_by_side.sh
#
# Flags are V8's, space-separated within a run and comma-separated in
# WORKERD_RUNS (they go into the workerd config's v8Flags).
set -euo pipefail
cd "$(dirname "$0")/.."
out=$PWD/target/workerd-vs-node
version=${VERSION:-5.2}
port=${PORT:-8795}
read -r -a workerd_runs <<<"${WORKERD_RUNS:-as-is= liftoff-only=--liftoff-only}"
read -r -a node_runs <<<"${NODE_RUNS:-as-is= liftoff-only=--liftoff-only}"
node_args=()
for run in "${node_runs[@]}"; do node_args+=(--node "${run//,/ }"); done

scripts/setup.sh
cargo build --locked --release -q -p djhash-wasm --target wasm32-unknown-unknown
wasm=target/wasm32-unknown-unknown/release/djhash_wasm.wasm
wasm-bindgen --target nodejs --out-dir "$out/node" "$wasm"
wasm-bindgen --target web --out-dir "$out/web" "$wasm"
cp benches/workerd_wasm.mjs "$out/web/worker.mjs"

rm -f "$out/users.sqlite3" && cp tests/fixtures/demo-django-5.2.sqlite3 "$out/users.sqlite3"
python=$(scripts/django_venv.sh "$version")
"$python" benches/side_by_side.py users --db "$out/users.sqlite3" --out "$out/vectors.json"

pids=()
stop() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; }
trap stop EXIT
workerd_args=()
for i in "${!workerd_runs[@]}"; do
  name=${workerd_runs[$i]%%=*} flags=${workerd_runs[$i]#*=} flag_list=""
  IFS=, read -r -a split <<<"$flags"
  for flag in "${split[@]}"; do flag_list+="\"$flag\", "; done
  cat >"$out/$name.capnp" <<CAPNP
using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (
  services = [(name = "main", worker = .worker)],
  sockets = [(name = "http", address = "127.0.0.1:$((port + i))", http = (), service = "main")],
  v8Flags = [ ${flag_list%, } ],
);
const worker :Workerd.Worker = (
  modules = [
    (name = "worker.mjs", esModule = embed "web/worker.mjs"),
    (name = "djhash_wasm.js", esModule = embed "web/djhash_wasm.js"),
    (name = "djhash_wasm_bg.wasm", wasm = embed "web/djhash_wasm_bg.wasm"),
  ],
  compatibilityDate = "2026-04-01",
);
CAPNP
  node_modules/.bin/workerd serve --experimental "$out/$name.capnp" >"$out/$name.log" 2>&1 &
  pids+=($!)
  workerd_args+=(--workerd "$name=http://127.0.0.1:$((port + i))")
  for _ in $(seq 1 60); do
    curl -s -o /dev/null "http://127.0.0.1:$((port + i))/" && break
    sleep 0.5
  done
done

echo "workerd_vs_node: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg); node $(node --version), workerd $(node_modules/.bin/workerd --version)" >&2
"$python" benches/side_by_side.py bare --vectors "$out/vectors.json" --pkg "$out/node/djhash_wasm.js" \
  --rounds "${ROUNDS:-7}" ${FORMATS:+--formats "$FORMATS"} "${node_args[@]}" "${workerd_args[@]}" --json "$out/result.json"
