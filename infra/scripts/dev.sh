#!/usr/bin/env bash
# `make dev`: serves the hub on http://127.0.0.1:$PORT (default 8787) with the demo
# configuration, plus a demo participant letterbox on 127.0.0.1:$DEMO_RECEIVER_PORT (8788).
# State persists in .wrangler/state across restarts; Ctrl-C stops both. The hub runs through
# infra/scripts/run-hub.mjs (the same wrangler configs in one Miniflare/workerd, without
# wrangler dev's inspector); SWITCHYARD_RUNNER=wrangler runs plain `wrangler dev` instead.
# `make dev-spin` (SWITCHYARD_RUNNER=spin) runs the Spin components on the Spin host emulator
# instead, on port 3000 with letterboxes on 3001 and its state in .spin-host/state.
source "$(dirname "$0")/common.sh"
RUNNER="${SWITCHYARD_RUNNER:-}"
if [ "$RUNNER" = spin ]; then
  PORT="${PORT:-3000}"
  RECEIVER_PORT="${DEMO_RECEIVER_PORT:-3001}"
  STATE="$ROOT/.spin-host/state"
else
  PORT="${PORT:-8787}"
  RECEIVER_PORT="${DEMO_RECEIVER_PORT:-8788}"
  STATE="$ROOT/.wrangler/state"
fi
# Secrets and the demo PKI are kept here for both hosts.
DEV="$ROOT/.wrangler"
mkdir -p "$DEV"

# Secrets for this machine's dev hub: generated once, kept beside the state they protect.
if [ ! -s "$DEV/dev-secrets.env" ]; then
  umask 077
  printf 'SWITCHYARD_TOKEN_SECRET=%s\nSWITCHYARD_SEAL_KEY=%s\n' "$(od -An -tx1 -N32 /dev/urandom | tr -d ' \n')" "$(od -An -tx1 -N32 /dev/urandom | tr -d ' \n')" > "$DEV/dev-secrets.env"
fi
ADMIN_TOKEN="${SWITCHYARD_ADMIN_TOKEN:-switchyard-demo-admin-token}"
# The DIP demo PKI: a demo CA (kept across runs), certificates for the demo participants and
# for the hub itself (DIP ID 0000000000), which signs every DIP call it makes.
DIP_DEMO="$DEV/dip-demo"
log "making the DIP demo certificates in $DIP_DEMO"
cargo run -q --release -p dip-pki -- demo "$DIP_DEMO" 1000000001 1000000002 1000000003 1000000004 1000000005 1000000009 0000000000 ||
  { echo "making the DIP demo certificates failed" >&2; exit 1; }
one_line() { awk 'NF { printf "%s\\n", $0 }' "$1"; }
{ cat "$DEV/dev-secrets.env"
  echo "SWITCHYARD_ADMIN_TOKEN=$ADMIN_TOKEN"
  echo "SWITCHYARD_ALLOW_LOOPBACK_HTTP=true"
  echo "SWITCHYARD_SIGNING_KEY=$(one_line "$DIP_DEMO/0000000000.key.pem")"
  echo "SWITCHYARD_SIGNING_CERTIFICATE=$(one_line "$DIP_DEMO/0000000000.cert.pem")"
} > "$DEV/dev.vars"
chmod 600 "$DEV/dev.vars"
if [ "$RUNNER" = spin ]; then
  build_spin_components
  log "the Spin host emulator (infra/scripts/spin-host.sh: a cached build)"
  SPIN_HOST="$("$ROOT/infra/scripts/spin-host.sh" | tail -1)"
else
  configs=$("$ROOT/infra/scripts/stage.sh" "$DEV/dev-configs" "$DEV/dev.vars")
fi

pids=()
cleanup() {
  for p in "${pids[@]}"; do [ "$p" -gt 1 ] && kill -TERM -- "-$p" 2>/dev/null || true; done
}
trap cleanup EXIT INT TERM

DEMO_RECEIVER_PORT="$RECEIVER_PORT" setsid python3 "$ROOT/infra/scripts/demo-receiver.py" &
pids+=($!)
if [ "$RUNNER" = spin ]; then
  runner="the Spin host emulator (a test harness on wasmtime, not Spin: see infra/spin-host/README.md)"
  # The settings as Spin's environment provider reads variables: SPIN_VARIABLE_<NAME>.
  ( while IFS= read -r line; do export "SPIN_VARIABLE_${line%%=*}=${line#*=}"; done < "$DEV/dev.vars"
    exec setsid "$SPIN_HOST" --manifest "$ROOT/spin.toml" --state "$STATE" --listen "127.0.0.1:$PORT" ) &
elif [ "$RUNNER" = wrangler ]; then
  runner="workerd via wrangler dev"
  # shellcheck disable=SC2086
  setsid wrangler dev $configs --port "$PORT" --ip 127.0.0.1 --persist-to "$STATE" \
    --show-interactive-dev-session=false --log-level warn &
else
  runner="workerd via run-hub.mjs (no inspector)"
  # shellcheck disable=SC2086
  setsid node "$ROOT/infra/scripts/run-hub.mjs" $configs --port "$PORT" --persist-to "$STATE" --log-level warn &
fi
hub=$!
pids+=($hub)

for _ in $(seq 1 180); do
  curl -s -o /dev/null "http://127.0.0.1:$PORT/" && break
  kill -0 "$hub" 2>/dev/null || { echo "$runner exited" >&2; exit 1; }
  sleep 0.5
done
admin() { # METHOD PATH [curl data args...]: an admin call that must succeed
  local method=$1 path=$2; shift 2
  curl -sf -X "$method" "http://127.0.0.1:$PORT/admin/v1$path" -H "authorization: Bearer $ADMIN_TOKEN" \
    -H 'content-type: application/json' "$@" > /dev/null
}
sed "s#127.0.0.1:8788#127.0.0.1:$RECEIVER_PORT#g" "$ROOT/infra/seed/demo.json" | admin POST /apply --data-binary @- ||
  { echo "loading infra/seed/demo.json failed" >&2; exit 1; }

# DIP: the channel catalogue imported from Elexon's OpenAPI at the configured path, the demo
# participants (infra/seed/demo-dip.json) and a demo CA whose certificates they sign with.
DIP_SPEC="${SWITCHYARD_DIP_SPEC:-$ROOT/../shared/specs/dip-api}"
dip_info="  DIP                   not loaded: no Elexon DIP OpenAPI at $DIP_SPEC (set SWITCHYARD_DIP_SPEC)"
if [ -f "$DIP_SPEC/SubmitEvents-unresolved.yaml" ]; then
  log "importing the DIP catalogue from $DIP_SPEC"
  cargo run -q --release -p dip-catalogue --bin dip-catalogue -- --spec "$DIP_SPEC" --out "$DEV/dip-catalogue.json" &&
    admin PUT /dip/catalogue --data-binary "@$DEV/dip-catalogue.json" &&
    admin POST /apply --data-binary "@$ROOT/infra/seed/demo-dip.json" &&
    python3 -c 'import json,sys; print(json.dumps({"certificatePem": open(sys.argv[1]).read()}))' "$DIP_DEMO/ca.pem" |
      admin PUT /dip/trust-anchors/demo-ca --data-binary @- ||
    { echo "loading the DIP demo failed" >&2; exit 1; }
  dip_info="  DIP                   demo participants 1000000001 (SDS) 1000000002 (SUP) 1000000003 (LDSO)
                        1000000004 (MSS) 1000000005 (REGS); keys in infra/seed/demo-dip.json,
                        signing keys and certificates in $DIP_DEMO"
fi

cat <<INFO

  Switchyard hub        http://127.0.0.1:$PORT
  Admin token           $ADMIN_TOKEN   (Authorization: Bearer …, paths under /admin/v1)
  Demo clients          demo-bbcd / demo-bbcd-secret-0001   sends for RCPID BBCD
                        demo-bcbx / demo-bcbx-secret-0001   sends for RCPID BCBX
  Demo letterboxes      http://127.0.0.1:$RECEIVER_PORT  (deliveries to BBCD, BCBX, DMNT, KSTB are printed here)
$dip_info
  State                 $STATE  (kept across restarts; delete it to start afresh)
  Runtime               $runner

  Try it: README.md, "Send a first message" and "Send a signed DIP message". Ctrl-C stops the hub.

INFO
wait "$hub"
