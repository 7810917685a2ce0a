#!/usr/bin/env bash
# Installs what building and testing djedge needs, idempotently: the wasm32
# target and wasm-bindgen-cli at exactly the wasm-bindgen version in
# Cargo.lock (the two must never drift).
set -euo pipefail
cd "$(dirname "$0")/.."

command -v cargo >/dev/null || { echo "setup: cargo is needed (https://rustup.rs)." >&2; exit 1; }
command -v node >/dev/null || { echo "setup: node (20 or later) is needed for the Wasm tests." >&2; exit 1; }
rustup target list --installed | grep -qx wasm32-unknown-unknown || rustup target add wasm32-unknown-unknown

# The version Cargo.lock resolves (cargo pkgid prints `…#name@version`).
locked_version() { cargo pkgid --locked "$1" | sed 's/.*@//'; }
# A tool at exactly VERSION: with its own Cargo.lock first; if the registry
# no longer has a version that lock names (a yanked crate), with the newest
# compatible dependencies instead.
install_tool() {
  cargo install --locked "$1" --version "$2" ||
    { echo "setup: $1 $2 with its own lock failed; resolving its dependencies afresh" >&2
      cargo install "$1" --version "$2"; }
}
wb_version=$(locked_version wasm-bindgen)
if [ "$(wasm-bindgen-test-runner --version 2>/dev/null | awk '{print $2}')" != "$wb_version" ]; then
  echo "setup: installing wasm-bindgen-cli $wb_version (takes a few minutes once)" >&2
  install_tool wasm-bindgen-cli "$wb_version"
fi

# worker-build at the workers-rs version in Cargo.lock (scripts/build-worker.sh).
wk_version=$(locked_version worker)
if [ "$(worker-build --version 2>/dev/null)" != "$wk_version" ]; then
  echo "setup: installing worker-build $wk_version (takes a few minutes once)" >&2
  install_tool worker-build "$wk_version"
fi

# wrangler (local workerd) and the test tools, from package-lock.json.
if [ ! -x node_modules/.bin/wrangler ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-fund --no-audit --loglevel=error
fi
