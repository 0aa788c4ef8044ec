#!/usr/bin/env bash
# Builds the Spin host emulator (infra/spin-host, a test harness on wasmtime) into a cache
# outside the work tree, so fresh clones and CI runs on the same machine reuse it: a clean
# build is ~13 min on 2 cores, a cached one seconds. Prints the binary's path as its last line.
# `spin-host.sh test` runs the emulator's own tests instead, on stdout (the Spin components
# must be built).
source "$(dirname "$0")/common.sh"
export CARGO_TARGET_DIR="${SWITCHYARD_CACHE_DIR:-$HOME/.cache/switchyard}/spin-host/target"
cd "$ROOT/infra/spin-host"
# build.rs copies the WIT that ships inside spin-sdk from cargo's registry cache.
(cd "$ROOT" && cargo fetch -q)
if [ "${1:-}" = test ]; then
  SWITCHYARD_WASM_DIR="$ROOT/target/wasm32-wasip2/release" exec cargo test --release --locked
fi
cargo build -q --release --locked >&2
echo "$CARGO_TARGET_DIR/release/spin-host"
