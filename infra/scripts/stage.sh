#!/usr/bin/env bash
# Stages every function's wrangler config into OUTDIR/<function>/ with an absolute `main`
# and a .dev.vars holding the lines of VARS_FILE that the function is given (`settings_of`
# in common.sh: least privilege; wrangler reads .dev.vars beside each config, and its --var
# and --env-file reach only the first config). Prints the `-c` arguments.
# Usage: stage.sh OUTDIR VARS_FILE
source "$(dirname "$0")/common.sh"
out="$1" vars="$2"
args=()
for f in "${FUNCTIONS[@]}"; do
  mkdir -p "$out/$f"
  sed -E "s#^main = .*#main = \"$ROOT/functions/$f/build/index.js\"#" "$(config_of "$f")" > "$out/$f/wrangler.toml"
  names=$(settings_of "$f")
  install -m 600 /dev/null "$out/$f/.dev.vars"
  [ -n "$names" ] && { grep -E "^(${names// /|})=" "$vars" || true; } > "$out/$f/.dev.vars"
  args+=(-c "$out/$f/wrangler.toml")
done
echo "${args[@]}"
