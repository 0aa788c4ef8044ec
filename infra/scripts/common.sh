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
settings_of() { # the secrets and variables a function is given: only those it reads
  case "$1" in
    gateway) echo SWITCHYARD_TOKEN_SECRET SWITCHYARD_ADMIN_TOKEN SWITCHYARD_BLOCKED_APIS ;;
    token) echo SWITCHYARD_TOKEN_SECRET ;;
    admin) echo SWITCHYARD_TOKEN_SECRET SWITCHYARD_SEAL_KEY SWITCHYARD_ALLOW_LOOPBACK_HTTP SWITCHYARD_SIGNING_KEY SWITCHYARD_ENABLE_SIGNING_TEST SWITCHYARD_DIP_ENVIRONMENT SWITCHYARD_SIGNING_CERTIFICATE ;;
    deliver) echo SWITCHYARD_SEAL_KEY SWITCHYARD_HUB_IDENTITY SWITCHYARD_ALLOW_LOOPBACK_HTTP SWITCHYARD_OUTBOX_GRACE_SECS SWITCHYARD_OUTBOX_SHARDS SWITCHYARD_SIGNING_KEY SWITCHYARD_SIGNING_CERTIFICATE \
      SWITCHYARD_DIP_ID SWITCHYARD_DIP_MAX_RETRY_WAIT_SECS SWITCHYARD_CIRCUIT_FAILURES SWITCHYARD_CIRCUIT_COOLDOWN_SECS SWITCHYARD_CLOCK_OFFSET_SECS ;;
    send) echo SWITCHYARD_OUTBOX_SHARDS SWITCHYARD_DIP_ENVIRONMENT SWITCHYARD_DIP_ID SWITCHYARD_ALLOW_LOOPBACK_HTTP SWITCHYARD_CLOCK_OFFSET_SECS ;;
    webhooks) echo SWITCHYARD_ALLOW_LOOPBACK_HTTP SWITCHYARD_DIP_ENVIRONMENT SWITCHYARD_DIP_ALLOW_CALLBACK_PORTS SWITCHYARD_OUTBOX_SHARDS SWITCHYARD_CLOCK_OFFSET_SECS ;;
    *) ;; # directory, replay: none
  esac
}
log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
build_spin_components() { # every function as a Spin component (wasm32-wasip2), as spin.toml names them
  log "cargo build --target wasm32-wasip2 --release (Spin components)"
  (cd "$ROOT" && cargo build -q --target wasm32-wasip2 --release $(printf -- '-p switchyard-%s ' "${FUNCTIONS[@]}"))
}
