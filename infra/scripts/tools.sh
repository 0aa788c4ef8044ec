#!/usr/bin/env bash
# Installs what building and running the hub needs, skipping whatever is already present at
# the pinned version: rustup targets, worker-build, wasm-bindgen-cli, wrangler (npm ci).
source "$(dirname "$0")/common.sh"

installed=$(rustup target list --installed)
for t in wasm32-unknown-unknown wasm32-wasip2; do
  grep -qx "$t" <<<"$installed" || { log "rustup target add $t"; rustup target add "$t"; }
done

has_version() { "$1" --version 2>/dev/null | grep -qwF -- "$2"; }

if ! has_version worker-build "$WORKER_BUILD_VERSION"; then
  log "cargo install worker-build $WORKER_BUILD_VERSION (several minutes, once)"
  cargo install worker-build --version "$WORKER_BUILD_VERSION" --locked
fi
if ! has_version wasm-bindgen "$WASM_BINDGEN_VERSION"; then
  log "cargo install wasm-bindgen-cli $WASM_BINDGEN_VERSION (several minutes, once)"
  # No --locked: its lockfile pins a crate the registry no longer serves.
  cargo install wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION"
fi
if ! (cd "$ROOT" && has_version node_modules/.bin/wrangler "$WRANGLER_VERSION"); then
  log "npm ci (wrangler $WRANGLER_VERSION)"
  (cd "$ROOT" && npm ci --no-audit --no-fund)
fi
