#!/usr/bin/env bash
# Loads a snapshot (full or delta) into the Worker's KV namespace with
# wrangler, in the manifest's order: the put files, then a delta's delete
# list, and the stamp (meta/snapshot) last, so GET /v1/health names the new
# snapshot only once everything before it is in. Arguments after the
# directory go to every wrangler call:
#
#   scripts/kv-load.sh snap --remote
#   scripts/kv-load.sh target/edge/snapshot --local --persist-to target/edge/wrangler
set -euo pipefail
dir=${1:?usage: scripts/kv-load.sh SNAPSHOT_DIR [wrangler options…]}
shift
wrangler="$(dirname "$0")/../node_modules/.bin/wrangler"
[ -x "$wrangler" ] || wrangler="npx wrangler"
for file in $(python3 -c 'import json,sys; print(" ".join(f["path"] for f in json.load(open(sys.argv[1]))["files"]))' "$dir/manifest.json"); do
  case "$file" in
    */delete.json) $wrangler kv bulk delete --force --binding DJEDGE_KV "$@" "$dir/$file" ;;
    *) $wrangler kv bulk put --binding DJEDGE_KV "$@" "$dir/$file" ;;
  esac
done
