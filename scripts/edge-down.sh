#!/usr/bin/env bash
# Stops what scripts/edge-up.sh started (each in its own process group:
# scripts/workerd.mjs runs workerd as a child).
cd "$(dirname "$0")/.."
for name in worker serve tenant; do
  pidfile=target/edge/$name.pid
  [ -f "$pidfile" ] || continue
  kill -TERM -- "-$(cat "$pidfile")" 2>/dev/null
  rm -f "$pidfile"
done
exit 0
