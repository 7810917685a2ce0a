#!/usr/bin/env bash
# Two builds of djedge against each other and against Django, in one run:
#
#   benches/side_by_side.sh [BASE] [OTHER]     (default: 4f34506 worktree)
#
# BASE and OTHER are commits, or `worktree` for this checkout as it is. A
# commit is checked out with `git worktree add` into
# target/side-by-side/<commit>, with its own target directory (a copy of
# this checkout's release builds to start warm). Each side builds its
# Worker (scripts/build-worker.sh), its release `djedge` and djhash's Wasm
# for node, exports the demo database (plus one user per format at each
# Django version's defaults, made by that Django: benches/side_by_side.py
# users) with its own `djedge export`, loads it into its own local KV and
# runs its Worker in local workerd (scripts/workerd.mjs) on its own port.
# Then benches/side_by_side.py times, per Django version, every format on
# every side, interleaved, ROUNDS times, and prints min and median.
#
#   ROUNDS    rounds per Django version (default 7)
#   VERSIONS  Django versions (default "5.2 6.1")
#   FORMATS   comma-separated subset (default: all of side_by_side.FORMATS)
#   NODE_FLAGS  flags for the node that runs the Wasm (e.g. --liftoff --no-wasm-tier-up)
#   PORT      the first Worker's port (default 8791; the second gets PORT+1)
#
# Not a test: it prints figures, noisy on a shared machine (hence the
# interleaving, the minimum and the median). benches/README.md has results.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
out=$root/target/side-by-side
run=$out/run
export WRANGLER_SEND_METRICS=false
base=${1:-4f34506}
other=${2:-worktree}
port=${PORT:-8791}
mkdir -p "$out"

# The checkout of REV (this one for `worktree`), made once.
checkout() {
  local rev=$1 sha dir
  if [ "$rev" = worktree ]; then echo "$root"; return; fi
  sha=$(git rev-parse --short=12 "$rev^{commit}")
  dir=$out/$sha
  if [ ! -d "$dir" ]; then
    git worktree add --detach "$dir" "$sha" >&2
    mkdir -p "$dir/target/wasm32-unknown-unknown"
    [ -d target/release ] && cp -a target/release "$dir/target/"
    [ -d target/wasm32-unknown-unknown/release ] && cp -a target/wasm32-unknown-unknown/release "$dir/target/wasm32-unknown-unknown/"
  fi
  [ -e "$dir/node_modules" ] || ln -s "$root/node_modules" "$dir/node_modules"
  echo "$dir"
}

build() {
  (cd "$1" && export CARGO_TARGET_DIR=$1/target &&
    ./scripts/build-worker.sh &&
    cargo build --locked --release -q -p djedge &&
    cargo build --locked --release -q -p djhash-wasm --target wasm32-unknown-unknown &&
    wasm-bindgen --target nodejs --out-dir target/djhash-wasm-node target/wasm32-unknown-unknown/release/djhash_wasm.wasm) >&2
}

scripts/setup.sh
names=() dirs=()
for rev in "$base" "$other"; do
  dir=$(checkout "$rev")
  name=$rev
  [ "$rev" = worktree ] || name=$(git rev-parse --short=7 "$rev^{commit}")
  echo "side_by_side: building $name in $dir" >&2
  build "$dir"
  names+=("$name") dirs+=("$dir")
done
[ "${names[0]}" != "${names[1]}" ] || names[1]="${names[1]}'"

# The demo database with one user per format at each version's defaults.
rm -rf "$run" && mkdir -p "$run"
cp tests/fixtures/demo-django-5.2.sqlite3 "$run/demo.sqlite3"
read -r -a versions <<<"${VERSIONS:-5.2 6.1}"
for version in "${versions[@]}"; do
  "$(scripts/django_venv.sh "$version")" benches/side_by_side.py users --db "$run/demo.sqlite3" --out "$run/vectors-$version.json"
done

token=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')
(umask 077 && echo "DJEDGE_API_TOKEN=$token" >"$run/worker.env")
pids=()
stop() { for pid in "${pids[@]}"; do kill -- "-$pid" 2>/dev/null || true; done; }
trap stop EXIT
sides=()
for i in 0 1; do
  name=${names[$i]} dir=${dirs[$i]} state=$run/side-$i
  mkdir -p "$state"
  "$dir/target/release/djedge" export --database "sqlite://$run/demo.sqlite3" --out "$state/snapshot" >"$state/export.log" 2>&1
  # Each commit loads its own snapshot format as its own edge-up.sh did:
  # `djedge push --local` where it has one, else wrangler per file.
  if "$dir/target/release/djedge" push --help >/dev/null 2>&1; then
    (cd "$dir" && target/release/djedge push --snapshot "$state/snapshot" --local --persist-to "$state/kv") >"$state/load.log" 2>&1
  else
    for file in $(python3 -c 'import json,sys; print(" ".join(f["path"] for f in json.load(open(sys.argv[1]))["files"]))' "$state/snapshot/manifest.json"); do
      (cd "$dir" && node_modules/.bin/wrangler kv bulk put --local --binding DJEDGE_KV --persist-to "$state/kv" "$state/snapshot/$file") >>"$state/load.log" 2>&1
    done
  fi
  # This checkout's workerd.mjs, run in the side's directory: its
  # wrangler.toml and its built Worker.
  (cd "$dir" && exec setsid node "$root/scripts/workerd.mjs" --persist-to "$state/kv" --port "$((port + i))" \
    --env-file "$run/worker.env") >"$state/worker.log" 2>&1 &
  pids+=($!)
  sides+=(--side "$name,http://127.0.0.1:$((port + i)),$dir/target/release/djedge,$dir/target/djhash-wasm-node/djhash_wasm.js")
done
for i in 0 1; do
  for _ in $(seq 1 120); do
    curl -sf -o /dev/null -H "authorization: Bearer $token" "http://127.0.0.1:$((port + i))/v1/health" && continue 2
    sleep 1
  done
  echo "side_by_side: the Worker of ${names[$i]} did not come up; see $run/side-$i/worker.log" >&2
  exit 1
done

echo "side_by_side: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg); node $(node --version)" >&2
for version in "${versions[@]}"; do
  "$(scripts/django_venv.sh "$version")" benches/side_by_side.py time --vectors "$run/vectors-$version.json" \
    --token "$token" --rounds "${ROUNDS:-7}" ${FORMATS:+--formats "$FORMATS"} --node-flags "${NODE_FLAGS:-}" \
    "${sides[@]}" --json "$out/result-$version.json"
done
