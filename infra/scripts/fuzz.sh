#!/usr/bin/env bash
# `make fuzz`: each cargo-fuzz target of the core for FUZZ_SECONDS (default 60) seconds.
# The machine's stable rustc runs cargo-fuzz's nightly flags through RUSTC_BOOTSTRAP=1.
# A crash stops the run (exit 1); its input is left in shared/fuzz/artifacts/<target>/ and
# belongs in a regression test.
source "$(dirname "$0")/common.sh"
CARGO_FUZZ_VERSION=0.13.2
if ! cargo fuzz --version 2>/dev/null | grep -qwF "$CARGO_FUZZ_VERSION"; then
  log "cargo install cargo-fuzz $CARGO_FUZZ_VERSION (once)"
  cargo install cargo-fuzz --version "$CARGO_FUZZ_VERSION" --locked
fi
cd "$ROOT/shared"
for target in envelope credentials json; do
  log "fuzz $target for ${FUZZ_SECONDS:-60} s"
  RUSTC_BOOTSTRAP=1 cargo fuzz run "$target" -- -max_total_time="${FUZZ_SECONDS:-60}" 2>&1 |
    grep -E '^Done|SUMMARY|panicked|Failing input' || true
  if ls "fuzz/artifacts/$target"/crash-* >/dev/null 2>&1; then
    echo "fuzz: $target crashed; see shared/fuzz/artifacts/$target" >&2
    exit 1
  fi
done
