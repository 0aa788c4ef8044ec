# Shared settings for Switchyard's scripts. Sourced, not run.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
export PATH="$HOME/.cargo/bin:$ROOT/node_modules/.bin:$PATH"
WORKER_BUILD_VERSION=0.8.7
WASM_BINDGEN_VERSION=0.2.130
WRANGLER_VERSION=4.86.0
# Every function, gateway first: the first wrangler config is the one served on the port.
FUNCTIONS=(gateway send webhooks directory replay token deliver admin)
# No internet here: do not fetch the `Request.cf` sample from Cloudflare at every start.
export CI=true WRANGLER_SEND_METRICS=false CLOUDFLARE_CF_FETCH_ENABLED=false

config_of() { # the wrangler config of a function
  if [ "$1" = gateway ]; then echo "$ROOT/wrangler.toml"; else echo "$ROOT/functions/$1/wrangler.toml"; fi
}
log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
