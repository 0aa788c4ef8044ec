# Switchyard. `make dev` runs the hub locally with the demo configuration; `make test` runs
# every test. Both install what is missing first (pinned versions, skipped when present).
.PHONY: dev test build tools clean

tools:
	@infra/scripts/tools.sh

build: tools
	@infra/scripts/build.sh

dev: build
	@infra/scripts/dev.sh

test: build
	@infra/scripts/test.sh

clean:
	rm -rf target functions/*/build .wrangler/dev-configs
