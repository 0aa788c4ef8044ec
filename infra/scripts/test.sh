#!/usr/bin/env bash
# `make test`: every test. Native unit tests of the workspace, the core's no_std build, the
# Spin components' build, the black-box suites in tests/ against the hub on workerd
# (infra/scripts/run-hub.mjs, started by the suite on a free port with a fresh state
# directory, unless SWITCHYARD_BASE_URL names a running hub), the same suites unchanged
# against the Spin components on the Spin host emulator, and the emulator's own tests.
source "$(dirname "$0")/common.sh"
cd "$ROOT"
log "the core's layering (no import cycles; shared mechanisms and hosts name no protocol)"
python3 infra/scripts/check-layers.py
log "core builds no_std for wasm32-unknown-unknown"
cargo build -q -p switchyard-core --no-default-features --target wasm32-unknown-unknown
build_spin_components
log "Spin host emulator (infra/scripts/spin-host.sh: a cached build)"
SPIN_HOST="$(infra/scripts/spin-host.sh | tail -1)"
out="$(mktemp)"
trap 'rm -f "$out"' EXIT
rc=0
# The black-box suites mostly wait on the network: run them wider than the 2 cores.
log "cargo test --workspace (the black-box suites on workerd)"
RUST_TEST_THREADS=8 cargo test --workspace 2>&1 | tee "$out" || rc=1
log "the black-box suites on Spin (the Spin host emulator)"
SWITCHYARD_RUNNER=spin SWITCHYARD_SPIN_HOST="$SPIN_HOST" RUST_TEST_THREADS=8 cargo test -p switchyard-tests --test it 2>&1 | tee -a "$out" || rc=1
log "the Spin host emulator's own tests"
infra/scripts/spin-host.sh test 2>&1 | tee -a "$out" || rc=1
# One closing line for the whole run (cargo prints one per test binary).
awk '/^test result:/ { p += $4; f += $6; i += $8 } END { printf "\nswitchyard: %d passed, %d failed, %d skipped\n", p, f, i }' "$out"
exit $rc
