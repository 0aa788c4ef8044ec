# Switchyard. `make dev` runs the hub locally with the demo configuration; `make test` runs
# every test. Both install what is missing first (pinned versions, skipped when present).
.PHONY: dev dev-spin test build tools clean bench load bench-dip-delivery crash-test fuzz

tools:
	@infra/scripts/tools.sh

build: tools
	@infra/scripts/build.sh

dev: build
	@infra/scripts/dev.sh

# The hub's Spin components on the Spin host emulator (a test harness on wasmtime, not Spin)
# with the same demo configuration, on its own ports: 3000, letterboxes on 3001.
dev-spin: tools
	@SWITCHYARD_RUNNER=spin infra/scripts/dev.sh

test: build
	@infra/scripts/test.sh

# Native core benchmarks and RSA signing inside workerd -> docs/benchmarks.md.
bench: build
	@python3 infra/bench/core.py
	@python3 infra/bench/signing.py
	@python3 infra/bench/dip.py

# OTS load and latency at increasing rates (loopback only, bounded) -> docs/benchmarks.md.
load: build
	@python3 infra/bench/loadrun.py

# DIP delivery: messages and webhook calls/s, ingress-to-webhook p50/p90/p99 at 100 and 500
# msg/s offered in batches of 10, against the DIP NFR (loopback only, bounded) -> docs/benchmarks.md.
bench-dip-delivery: build
	@python3 infra/bench/dip_delivery.py

# SIGKILL the hub mid-stream, restart it, prove no acknowledged message is lost (also in make test).
crash-test: build
	@cargo test -p switchyard-tests --test it e2e_durability -- --nocapture

# cargo-fuzz targets of the core, FUZZ_SECONDS each (default 60).
fuzz:
	@infra/scripts/fuzz.sh

clean:
	rm -rf target functions/*/build .wrangler/dev-configs
