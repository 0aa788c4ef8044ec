#!/usr/bin/env python3
"""The two ways to run the hub locally, side by side on this machine: infra/scripts/run-hub.mjs
(the wrangler configs in one Miniflare/workerd, no inspector; what `make dev` and the tests
use) and plain `wrangler dev` (SWITCHYARD_RUNNER=wrangler). For each runner:

- start-up: spawn to the gateway's first answer, whole hub, fresh state, median of RUNNERS_STARTS (3);
- the hub's bare route (`GET /`, the gateway's spec 404) and the no-op Worker
  (infra/bench/noop-worker), req/s over 16 keep-alive connections, median of 3 runs of
  RUNNERS_SECONDS (3);
- a paced letterbox step (RUNNERS_RATE msg/s, default 50, for RUNNERS_SECONDS * 2) with CPU per
  message on workerd and on the runner's whole process group: under wrangler dev the
  difference is what its inspector and proxy cost.

Loopback only, bounded. Writes infra/bench/results/runners.json and the `runners` section of
docs/benchmarks.md."""
import json, os, shutil, statistics, sys, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import ROOT, RUNNERS, CpuProbe, machine, stop, write_section
import load
from loadrun import NOOP_RUNS, own_hub, yardstick

CONNECTIONS = 16


def startups(runner, n):
    times = []
    for _ in range(n):
        proc, _, _, tmp, startup = own_hub(runner)
        times.append(startup)
        stop(proc)
        shutil.rmtree(tmp, ignore_errors=True)
    return times


def measure(runner, seconds, rate, starts):
    r = {"runner": runner}
    t = startups(runner, starts)
    r["startup_seconds"] = {"median": round(statistics.median(t), 2), "runs": [round(x, 2) for x in t]}
    proc, base, admin, tmp, _ = own_hub(runner)
    try:
        load.noop(base, 1.0, CONNECTIONS, warmup=0)
        runs = sorted((load.noop(base, seconds, CONNECTIONS, warmup=0) for _ in range(NOOP_RUNS)), key=lambda x: x["requests_per_second"])
        r["bare_route"] = dict(runs[len(runs) // 2], runs_requests_per_second=[x["requests_per_second"] for x in runs])
        cpu = CpuProbe(proc.pid)
        step = load.run(base, admin, duration=seconds * 2, concurrency=CONNECTIONS, rate=rate, drain=60, cpu=cpu)
        r["letterbox_step"] = {k: step[k] for k in ("target_rate", "accepted_per_second", "ingest_ms", "ingress_to_receiver_ms",
                                                    "missing", "duplicates", "cpu_to_drained")}
    finally:
        stop(proc)
        shutil.rmtree(tmp, ignore_errors=True)
    r["noop"] = yardstick(runner, seconds)
    return r


def main():
    seconds = float(os.environ.get("RUNNERS_SECONDS", "3"))
    rate = float(os.environ.get("RUNNERS_RATE", "50"))
    starts = int(os.environ.get("RUNNERS_STARTS", "3"))
    results = []
    for runner in RUNNERS:
        r = measure(runner, seconds, rate, starts)
        results.append(r)
        s = r["letterbox_step"]
        print(f"{runner:>8}: start-up {r['startup_seconds']['median']} s {r['startup_seconds']['runs']}, bare route "
              f"{r['bare_route']['requests_per_second']:g} req/s, no-op Worker {r['noop']['requests_per_second']:g} req/s, "
              f"letterbox {s['target_rate']:g}/s: ingress-to-recipient {s['ingress_to_receiver_ms']}, CPU/msg workerd "
              f"{s['cpu_to_drained']['workerd_ms_per_msg']} ms, whole group {s['cpu_to_drained']['group_ms_per_msg']} ms "
              f"({s['cpu_to_drained']['by_process_ms_per_msg']})", flush=True)
    out = {"date": time.strftime("%Y-%m-%d"), "machine": machine(), "connections": CONNECTIONS, "results": results}
    os.makedirs(os.path.join(ROOT, "infra/bench/results"), exist_ok=True)
    json.dump(out, open(os.path.join(ROOT, "infra/bench/results/runners.json"), "w"), indent=2)
    trio = lambda d: " / ".join(f"{d[k]:g}" for k in ("p50", "p90", "p99"))
    name = {"run-hub": "`run-hub.mjs` (`make dev`, tests)", "wrangler": "`wrangler dev` (`SWITCHYARD_RUNNER=wrangler`)"}
    rows = "\n".join(
        f"| {name[r['runner']]} | {r['startup_seconds']['median']} | {r['bare_route']['requests_per_second']:g} | "
        f"{r['noop']['requests_per_second']:g} | {trio(r['letterbox_step']['ingress_to_receiver_ms'])} | "
        f"{r['letterbox_step']['cpu_to_drained']['busiest_thread_ms_per_msg']} / {r['letterbox_step']['cpu_to_drained']['workerd_ms_per_msg']} / "
        f"{r['letterbox_step']['cpu_to_drained']['group_ms_per_msg']} |" for r in results)
    by_process = "; ".join(
        f"{r['runner']}: " + ", ".join(f"{k.split()[0]} {v}" for k, v in r["letterbox_step"]["cpu_to_drained"]["by_process_ms_per_msg"].items())
        for r in results)
    write_section("runners", f"""
## Local runners ({out['date']}, {out['machine']})

`python3 infra/bench/runners.py`: the same staged wrangler configs run by each runner on this
machine. Start-up: spawn to the gateway's first answer, fresh state, median of {starts}. Bare
route: `GET /` on the gateway (its spec 404) and a no-op Worker, req/s over {CONNECTIONS}
keep-alive connections, median of {NOOP_RUNS} runs of {seconds:g} s. Letterbox: paced {rate:g} msg/s for {seconds * 2:g} s, latency
in ms (p50 / p90 / p99), CPU in ms per message from step start until delivered, on workerd's
busiest thread / all of workerd / the runner's whole process group (node included).

| runner | start-up s | bare route req/s | no-op Worker req/s | letterbox ingress to recipient | CPU ms/msg |
|---|---|---|---|---|---|
{rows}

Letterbox CPU per message by process (ms): {by_process}. Under `wrangler dev` the workerd
with little CPU runs its proxy worker, the node process with CPU is wrangler itself (it
proxies the inspector) and esbuild is its file watcher: CPU the hub does not need. Under `run-hub.mjs` node carries no
requests; with Queues, Miniflare's queue broker posts one log line per consumer batch to it.
""")


if __name__ == "__main__":
    main()
