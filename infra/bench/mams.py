#!/usr/bin/env python3
"""The MPAN address table (DIP MAMS) at production scale: a bulk load of a whole MAMS file,
then the cost of a lookup.

1. Starts a hub as `make load` does (run-hub.mjs, fresh state, the demo seed), or uses the hub
   at SWITCHYARD_BASE_URL with SWITCHYARD_ADMIN_TOKEN.
2. Generates MAMS_BENCH_MPANS MPANs (default 1,000,000), each with 1 to 3 parties (a supplier
   history, sometimes a MOP), and loads them with infra/scripts/mams-load.py's loader:
   `POST /admin/v1/dip/mams` chunks of 10,000 lines over MAMS_BENCH_CONNECTIONS (4)
   connections. Reports MPANs/s, total seconds and CPU per MPAN in workerd.
3. Lookups: MAMS_BENCH_LOOKUPS (2,000) `GET /admin/v1/dip/mams/{MPAN}` of random loaded MPANs,
   one connection, one at a time (latency, not throughput), checked against what was loaded;
   beside it the same number of `GET /admin/v1/dip/environment` (the same gateway and admin
   Worker, no storage: the yardstick) and of unknown MPANs (404).
Writes infra/bench/results/mams.json and the `mams` section of docs/benchmarks.md."""
import http.client, importlib.util, json, os, random, shutil, subprocess, sys, time, urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import ROOT, CpuProbe, machine, runner_of_env, stop, write_section
from loadrun import own_hub

spec = importlib.util.spec_from_file_location("mams_load", os.path.join(ROOT, "infra/scripts/mams-load.py"))
mams_load = importlib.util.module_from_spec(spec)
spec.loader.exec_module(mams_load)

SEED = 20260401
RUNNER_TEXT = {"run-hub": "`infra/scripts/run-hub.mjs` (one workerd, no inspector)", "wrangler": "plain `wrangler dev`"}


def mpan(i):
    return f"19{i:011d}"


def history(i):
    """1-3 parties for MPAN i, reproducible from i alone (so lookups can be checked)."""
    r = random.Random(SEED + i)
    sup = f"{1_000_000_000 + r.randrange(200):010d}"
    parties = [{"roleID": "SUP", "DIPID": sup, "effectiveFrom": "2023-04-01T00:00:00+00:00", "effectiveTo": None}]
    n = r.choice((1, 2, 3))
    if n >= 2:
        parties[0]["effectiveTo"] = "2025-04-01T00:00:00+00:00"
        parties.append({"roleID": "SUP", "DIPID": f"{1_000_000_000 + r.randrange(200):010d}", "effectiveFrom": "2025-04-01T00:00:00+00:00", "effectiveTo": None})
    if n == 3:
        parties.append({"roleID": "MOP", "DIPID": f"{2_000_000_000 + r.randrange(50):010d}", "effectiveFrom": "2024-01-01T00:00:00+00:00", "effectiveTo": None})
    return {"parties": parties}


def lines(n):
    for i in range(n):
        h = history(i)
        yield json.dumps({"MPANCore": mpan(i), **h}, separators=(",", ":"))


def pct(xs):
    xs = sorted(xs)
    at = lambda p: round(xs[min(len(xs) - 1, int(p * len(xs)))], 2)
    return {"p50": at(0.50), "p90": at(0.90), "p99": at(0.99), "mean": round(sum(xs) / len(xs), 2)}


def timed_gets(base, token, paths, expect):
    """Latency (ms) of GETs, one keep-alive connection, one at a time; `expect(path, status,
    body)` checks each answer."""
    u = urllib.parse.urlsplit(base)
    conn = http.client.HTTPConnection(u.netloc, timeout=30)
    headers = {"authorization": f"Bearer {token}"}
    out = []
    for p in paths:
        t0 = time.perf_counter()
        conn.request("GET", p, headers=headers)
        resp = conn.getresponse()
        body = resp.read()
        out.append((time.perf_counter() - t0) * 1000)
        expect(p, resp.status, body)
    conn.close()
    return out


def dir_bytes(path):
    total = 0
    for root, _, files in os.walk(path):
        for f in files:
            try:
                total += os.path.getsize(os.path.join(root, f))
            except OSError:
                pass
    return total


def main():
    n = int(os.environ.get("MAMS_BENCH_MPANS", "1000000"))
    lookups = int(os.environ.get("MAMS_BENCH_LOOKUPS", "2000"))
    connections = int(os.environ.get("MAMS_BENCH_CONNECTIONS", "4"))
    base, admin = os.environ.get("SWITCHYARD_BASE_URL"), os.environ.get("SWITCHYARD_ADMIN_TOKEN")
    runner = runner_of_env()
    proc, tmp = None, None
    if not base:
        proc, base, admin, tmp, _ = own_hub(runner)
    cpu = CpuProbe(proc.pid) if proc else None
    try:
        before = cpu.sample() if cpu else None
        last = [0.0]

        def progress(done, s):
            if s - last[0] >= 10:
                last[0] = s
                print(f"  {done:,} MPANs in {s:.0f} s ({done / s:,.0f}/s)", flush=True)

        loaded, load_s = mams_load.Loader(base, admin, connections).run(mams_load.chunks(lines(n)), progress)
        load_cpu = CpuProbe.delta(before, cpu.sample(), loaded, load_s) if cpu else None
        print(f"loaded {loaded:,} MPANs in {load_s:.1f} s: {loaded / load_s:,.0f} MPANs/s", flush=True)
        state_mb = round(dir_bytes(os.path.join(tmp, "state")) / 1e6, 1) if tmp else None

        rnd = random.Random(SEED)
        sample = [rnd.randrange(n) for _ in range(lookups)]

        def check_loaded(p, status, body):
            i = int(p.rsplit("/", 1)[1]) - 1_900_000_000_000
            if status != 200 or json.loads(body) != history(i):
                raise SystemExit(f"GET {p}: {status} {body[:200]!r} is not what was loaded")

        def check_status(want):
            def check(p, status, body):
                if status != want:
                    raise SystemExit(f"GET {p}: {status}, expected {want}")
            return check

        # Warm both paths first (isolates, shard objects).
        timed_gets(base, admin, ["/admin/v1/dip/environment"] * 50, check_status(200))
        timed_gets(base, admin, [f"/admin/v1/dip/mams/{mpan(i)}" for i in range(0, n, max(1, n // 64))][:64], check_status(200))
        yardstick = pct(timed_gets(base, admin, ["/admin/v1/dip/environment"] * lookups, check_status(200)))
        found = pct(timed_gets(base, admin, [f"/admin/v1/dip/mams/{mpan(i)}" for i in sample], check_loaded))
        missing = pct(timed_gets(base, admin, [f"/admin/v1/dip/mams/18{rnd.randrange(10**11):011d}" for _ in range(lookups)], check_status(404)))
    finally:
        stop(proc)
        if tmp:
            shutil.rmtree(tmp, ignore_errors=True)

    out = {"date": time.strftime("%Y-%m-%d"), "machine": machine(), "runner": runner, "mpans": loaded,
           "parties_per_mpan": "1-3", "connections": connections, "chunk_lines": mams_load.CHUNK_LINES,
           "load_seconds": round(load_s, 1), "mpans_per_second": round(loaded / load_s), "load_cpu": load_cpu,
           "state_megabytes": state_mb, "lookups": lookups, "lookup_ms": found, "unknown_mpan_ms": missing,
           "yardstick_environment_ms": yardstick}
    os.makedirs(os.path.join(ROOT, "infra/bench/results"), exist_ok=True)
    json.dump(out, open(os.path.join(ROOT, "infra/bench/results/mams.json"), "w"), indent=2)
    trio = lambda d: f"{d['p50']:g} / {d['p90']:g} / {d['p99']:g}"
    c = load_cpu or {}
    cpu_text = (f" CPU per MPAN loaded: {c.get('busiest_thread_ms_per_msg')} ms on workerd's busiest thread, "
                f"{c.get('workerd_ms_per_msg')} ms in all of workerd, {c.get('group_ms_per_msg')} ms in the hub's process group "
                f"(the main thread {c.get('busiest_thread_core_share', 0):.0%} busy)." if c else "")
    state_text = f" State on disk after the load: {state_mb} MB." if state_mb is not None else ""
    write_section("mams", f"""
## MAMS address table ({out['date']}, {out['machine']})

`python3 infra/bench/mams.py`: a hub run by {RUNNER_TEXT[runner]} with fresh state, {loaded:,} generated MPANs
with 1 to 3 parties each, loaded by the loader of `infra/scripts/mams-load.py`
(`POST /admin/v1/dip/mams`, {mams_load.CHUNK_LINES:,} lines a request, {connections} connections at once;
each request writes its rows into the 16 `AddressShard` Durable Objects, one call and one
transaction per shard). Loader, generator and hub share the machine.

**Bulk load: {loaded:,} MPANs in {load_s:.1f} s, {loaded / load_s:,.0f} MPANs/s.**{cpu_text}{state_text}

Lookups, {lookups:,} sequential requests on one keep-alive connection, ms p50 / p90 / p99:

| request | p50 / p90 / p99 ms | mean ms |
|---|---|---|
| `GET /admin/v1/dip/mams/{{MPAN}}`, random loaded MPANs (answers checked) | {trio(found)} | {found['mean']:g} |
| `GET /admin/v1/dip/mams/{{MPAN}}`, unknown MPANs (404) | {trio(missing)} | {missing['mean']:g} |
| `GET /admin/v1/dip/environment` (yardstick: same gateway and admin Worker, no storage) | {trio(yardstick)} | {yardstick['mean']:g} |

The difference from the yardstick is what a lookup costs: one call to the MPAN's shard and one
indexed SQLite read. `send` makes the same call once per message on a channel with
secondary addressing.""")
    print(f"lookup p50/p90/p99 {trio(found)} ms (unknown {trio(missing)} ms; yardstick {trio(yardstick)} ms)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
