#!/usr/bin/env node
// Runs the hub's Workers the way a multi-config `wrangler dev` does, minus its inspector and
// its proxy: every config in ONE Miniflare instance (one workerd process), the first config
// served on 127.0.0.1:PORT, the others reached through its service bindings. `wrangler dev`
// always starts an inspector whose network events cost ~1.5 ms of CPU in two other processes
// for every outbound fetch; here nothing is inspected.
//
// The wrangler configs stay the single source of truth: each worker's options come from
// wrangler's own `unstable_getMiniflareWorkerOptions` (bindings, vars, the `.dev.vars` beside
// the config, Durable Objects incl. `script_name`, queue producers and consumers, migrations).
// State goes to DIR/v3, the layout `wrangler dev --persist-to DIR` uses, so either runner can
// restart on the other's state.
//
// Usage: node infra/scripts/run-hub.mjs --port P --persist-to DIR -c cfg1 [-c cfg2 ...]
//        [--log-level none|error|warn|info|debug]   (default info)
// At info and below it prints "Ready on http://127.0.0.1:P" once serving. SIGTERM, SIGINT and
// SIGHUP stop workerd and exit 0.
import { createRequire } from "node:module";
import path from "node:path";

const LOG_LEVELS = ["none", "error", "warn", "info", "debug"];

function parseArgs(argv) {
  const a = { port: 8787, persistTo: null, configs: [], logLevel: "info" };
  for (let i = 0; i < argv.length; i++) {
    const v = () => {
      if (i + 1 >= argv.length) usage(`${argv[i]} needs a value`);
      return argv[++i];
    };
    switch (argv[i]) {
      case "-c": case "--config": a.configs.push(path.resolve(v())); break;
      case "--port": a.port = Number(v()); break;
      case "--persist-to": a.persistTo = path.resolve(v()); break;
      case "--log-level": a.logLevel = v(); break;
      case "-h": case "--help": usage(); break;
      default: usage(`unknown argument ${argv[i]}`);
    }
  }
  if (!a.configs.length) usage("at least one -c CONFIG is needed");
  if (!Number.isInteger(a.port) || a.port < 0 || a.port > 65535) usage("--port must be 0..65535");
  if (!LOG_LEVELS.includes(a.logLevel)) usage(`--log-level is one of ${LOG_LEVELS.join(", ")}`);
  return a;
}

function usage(error) {
  if (error) console.error(`run-hub: ${error}`);
  console.error("usage: node infra/scripts/run-hub.mjs --port P --persist-to DIR -c cfg1 [-c cfg2 ...] [--log-level warn]");
  process.exit(error ? 2 : 0);
}

const args = parseArgs(process.argv.slice(2));
// wrangler's config reader logs at info level ("Using secrets defined in .dev.vars"); keep
// it at ours. Read when wrangler loads, so set before the import. No metrics, no Request.cf
// sample fetched from the internet.
process.env.WRANGLER_LOG ??= args.logLevel === "info" ? "warn" : args.logLevel;
process.env.WRANGLER_SEND_METRICS ??= "false";
process.env.CLOUDFLARE_CF_FETCH_ENABLED ??= "false";
// require, not import: both are CommonJS bundles, and an ESM import of them first scans their
// source for exports (~0.8 s of start-up for wrangler's 10 MB).
const require = createRequire(import.meta.url);
const { unstable_readConfig, unstable_getMiniflareWorkerOptions } = require("wrangler");
const { Miniflare, Log, LogLevel } = require("miniflare");

/** Miniflare options of one worker, from its wrangler config alone. */
function workerFromConfig(configPath) {
  const config = unstable_readConfig({ config: configPath });
  if (!config.name) throw new Error(`${configPath}: no name (service bindings need one)`);
  if (!config.main) throw new Error(`${configPath}: no main`);
  const { workerOptions, main, externalWorkers } = unstable_getMiniflareWorkerOptions(config);
  if (externalWorkers?.length) throw new Error(`${configPath}: remote bindings are not run locally`);
  // worker-build's output is already one ES module plus its wasm; Miniflare follows the
  // imports with the config's module rules (**/*.wasm -> CompiledWasm). Module names are
  // relative to the script's folder, wherever this runs from (workerd refuses "../").
  const scriptPath = path.resolve(path.dirname(configPath), main);
  return { name: config.name, modules: true, modulesRoot: path.dirname(scriptPath), scriptPath, ...workerOptions };
}

const workers = args.configs.map(workerFromConfig);
const mf = new Miniflare({
  host: "127.0.0.1",
  port: args.port,
  // No inspectorPort: no inspector. No liveReload, no dev registry, one process.
  defaultPersistRoot: args.persistTo ? path.join(args.persistTo, "v3") : undefined,
  cf: false,
  unsafeTriggerHandlers: true, // /cdn-cgi/handler/scheduled, as under wrangler dev
  logRequests: false,
  log: new Log(LogLevel[args.logLevel.toUpperCase()]),
  workers,
});

let stopping = false;
async function stop(signal) {
  if (stopping) return;
  stopping = true;
  try {
    await mf.dispose(); // stops workerd
  } catch (e) {
    console.error(`run-hub: stopping workerd after ${signal}: ${e?.message ?? e}`);
    process.exit(1);
  }
  process.exit(0);
}
for (const s of ["SIGTERM", "SIGINT", "SIGHUP"]) process.on(s, () => stop(s));

try {
  const url = await mf.ready;
  if (LOG_LEVELS.indexOf(args.logLevel) >= LOG_LEVELS.indexOf("info")) {
    console.log(`Ready on ${url.origin} (${workers.map((w) => w.name).join(", ")})`);
  }
} catch (e) {
  console.error(`run-hub: ${e?.stack ?? e}`);
  await mf.dispose().catch(() => {});
  process.exit(1);
}
