#!/usr/bin/env bash
# Builds every function: a Worker (wasm32-unknown-unknown via worker-build) into
# functions/<name>/build/, and with `--spin` also a Spin component (wasm32-wasip2).
source "$(dirname "$0")/common.sh"
export WASM_BINDGEN_BIN="$HOME/.cargo/bin/wasm-bindgen" ESBUILD_BIN="$ROOT/node_modules/.bin/esbuild"

for f in "${FUNCTIONS[@]}"; do
  log "worker-build $f"
  # worker-build's own status decides (a stale build/ from an earlier run must not pass).
  (cd "$ROOT/functions/$f" && set -o pipefail && worker-build --release 2>&1 | { grep -vE '^\s*(Compiling|Finished)' | grep -E 'error|warning: unused|Done' || true; }) \
    || { echo "build of $f failed" >&2; exit 1; }
  test -s "$ROOT/functions/$f/build/index_bg.wasm" || { echo "build of $f failed" >&2; exit 1; }
done

if [ "${1:-}" = "--spin" ]; then
  build_spin_components
fi
