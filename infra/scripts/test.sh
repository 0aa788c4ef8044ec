#!/usr/bin/env bash
# `make test`: every test. Native unit tests of the workspace, the core's no_std build, the
# Spin components' build, and the black-box suites in tests/ against the hub under
# infra/scripts/run-hub.mjs (started by the suite on a free port with a fresh state directory, unless
# SWITCHYARD_BASE_URL names a running hub).
source "$(dirname "$0")/common.sh"
cd "$ROOT"
log "the core's layering (no import cycles; shared mechanisms and hosts name no protocol)"
python3 infra/scripts/check-layers.py
log "core builds no_std for wasm32-unknown-unknown"
cargo build -q -p switchyard-core --no-default-features --target wasm32-unknown-unknown
log "Spin components build (wasm32-wasip2)"
cargo build -q --target wasm32-wasip2 --release $(printf -- '-p switchyard-%s ' "${FUNCTIONS[@]}")
log "cargo test --workspace"
out="$(mktemp)"
trap 'rm -f "$out"' EXIT
# The black-box suites mostly wait on the network: run them wider than the 2 cores.
RUST_TEST_THREADS=8 cargo test --workspace 2>&1 | tee "$out"
# One closing line for the whole run (cargo prints one per test binary).
awk '/^test result:/ { p += $4; f += $6; i += $8 } END { printf "\nswitchyard: %d passed, %d failed, %d skipped\n", p, f, i }' "$out"
