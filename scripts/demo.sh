#!/usr/bin/env bash
# The demo: djedge's answers for passwords against hashes real Django made,
# in every format, beside Django's own; then the demo Django database
# (tests/fixtures) exported into a snapshot, loaded into wrangler's local KV,
# and the Worker started in local workerd, with logins going through
# js/login.js as Auth0 runs it. DJEDGE_DEMO_KEEP=1 leaves the Worker running.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
cargo build --release -q -p djedge
python3 scripts/demo.py target/release/djedge
echo
# edge-up exports the demo database (its report is printed) and loads it.
if [ "${DJEDGE_DEMO_KEEP:-}" != 1 ]; then trap scripts/edge-down.sh EXIT; fi
scripts/edge-up.sh
# shellcheck disable=SC1091
source target/edge/env
node scripts/demo_login.mjs
if [ "${DJEDGE_DEMO_KEEP:-}" = 1 ]; then
  echo "The Worker stays up: source target/edge/env; stop it with scripts/edge-down.sh"
fi
