#!/usr/bin/env python3
"""`make load`: OTS letterbox load at increasing rates against the hub as `make dev` runs it.

Uses the hub at SWITCHYARD_BASE_URL (with SWITCHYARD_ADMIN_TOKEN) when set. Otherwise it
starts one: every function in one `wrangler dev`, with a fresh state directory and the demo
seed, on free loopback ports. Each step runs for a fixed time (LOAD_STEP_SECONDS, default
15) and waits for every accepted message to arrive. Writes infra/bench/results/load.json and
the load section of docs/benchmarks.md."""
import json, os, secrets, shutil, subprocess, sys, tempfile, time, urllib.request

sys.path.insert(0, os.path.dirname(__file__))
from common import ROOT, machine, start_wrangler, stop, write_section
import load

RATES = [50, 100, 200, 0]  # messages per second; 0 = as fast as the hub answers


def own_hub():
    tmp = tempfile.mkdtemp(prefix="switchyard-load-")
    admin = secrets.token_hex(16)
    vars_file = os.path.join(tmp, "vars")
    with open(vars_file, "w") as f:
        f.write(f"SWITCHYARD_TOKEN_SECRET={secrets.token_hex(32)}\nSWITCHYARD_SEAL_KEY={secrets.token_hex(32)}\n"
                f"SWITCHYARD_ADMIN_TOKEN={admin}\nSWITCHYARD_ALLOW_LOOPBACK_HTTP=true\n")
    configs = subprocess.run([os.path.join(ROOT, "infra/scripts/stage.sh"), os.path.join(tmp, "configs"), vars_file],
                             check=True, capture_output=True, text=True).stdout.split()
    proc, base = start_wrangler(configs, os.path.join(tmp, "state"), os.path.join(tmp, "wrangler.log"))
    seed = open(os.path.join(ROOT, "infra/seed/demo.json"), "rb").read()
    req = urllib.request.Request(base + "/admin/v1/apply", data=seed, method="POST", headers={"authorization": f"Bearer {admin}"})
    urllib.request.urlopen(req, timeout=30).read()
    return proc, base, admin, tmp


def main():
    step = float(os.environ.get("LOAD_STEP_SECONDS", "15"))
    proc, tmp = None, None
    base, admin = os.environ.get("SWITCHYARD_BASE_URL"), os.environ.get("SWITCHYARD_ADMIN_TOKEN")
    if not base:
        proc, base, admin, tmp = own_hub()
    steps = []
    try:
        for rate in RATES:
            r = load.run(base, admin, duration=step, concurrency=8 if rate == 0 else 4, rate=rate, drain=120)
            steps.append(r)
            print(f"rate {rate or 'max':>4}: {r['accepted_per_second']} accepted/s, ingest p50/p90/p99 {r['ingest_ms']}, "
                  f"ingress-to-receiver {r['ingress_to_receiver_ms']}, errors {r['errors']}, exactly once {r['every_accepted_arrived_exactly_once']}", flush=True)
    finally:
        stop(proc)
        if tmp:
            shutil.rmtree(tmp, ignore_errors=True)
    out = {"date": time.strftime("%Y-%m-%d"), "machine": machine(), "step_seconds": step, "steps": steps}
    os.makedirs(os.path.join(ROOT, "infra/bench/results"), exist_ok=True)
    json.dump(out, open(os.path.join(ROOT, "infra/bench/results/load.json"), "w"), indent=2)
    fmt = lambda d: f"{d['p50']} / {d['p90']} / {d['p99']}"
    rows = "\n".join(
        f"| {s['target_rate'] or 'max'} | {s['accepted_per_second']} | {fmt(s['ingest_ms'])} | {fmt(s['ingress_to_receiver_ms'])} | "
        f"{sum(s['errors'].values())} | {s['missing']} lost, {s['duplicates']} duplicates |" for s in steps)
    write_section("load", f"""
## OTS load and latency ({out['date']}, {out['machine']})

`make load` (infra/bench/loadrun.py): letterbox posts from one client to a receiver on
127.0.0.1 that answers 202, every function in one `wrangler dev` (workerd, local KV, R2,
Queues), {step:.0f} s per step. Latencies in ms (p50 / p90 / p99).

| target msg/s | accepted msg/s | ingest latency | ingress to receiver | errors | exactly once |
|---|---|---|---|---|---|
{rows}
""")
    return 0 if all(s["missing"] == 0 for s in steps) else 1


if __name__ == "__main__":
    sys.exit(main())
