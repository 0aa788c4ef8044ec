#!/usr/bin/env python3
"""`make load`: the OTS load sweep against the hub as `make dev` runs it, read beside a
yardstick measured in the same run.

1. Yardstick: a no-op Worker (infra/bench/noop-worker, answers 200) under the same runner on
   the same machine, `GET /` over 16 keep-alive connections, median of 3 runs of
   LOAD_NOOP_SECONDS (3). Every rate below is also given as a share of its req/s, so machines
   of different speeds compare.
2. Sweep: paced 100, 250, 500, 800, 1000 msg/s, then unpaced, LOAD_STEP_SECONDS (15) each,
   over 16 connections (LOAD_RATES overrides the rates, 0 = unpaced). Each step waits up to
   LOAD_DRAIN_SECONDS (60) for every accepted message to arrive before the next one starts.
   Per step: accepted/s, delivered/s, ingest and ingress-to-recipient p50/p90/p99, the backlog
   at the end of the step, the time it took to drain, and CPU per accepted message (from step
   start to drained) on workerd's busiest thread (the runtime's main thread), on all of
   workerd, and on the hub's whole process group.
3. The knee: the highest paced rate that the hub keeps up with (see KEEPS_UP).
4. Spin: the yardstick (a no-op Spin component) and the same sweep against the Spin
   components on the Spin host emulator, as `make dev-spin` runs them (LOAD_SPIN=0 skips it;
   not run against SWITCHYARD_BASE_URL).
5. Reference: the design issue 9 sketched, in plain JavaScript (infra/bench/reference-worker:
   archive put to R2 and outbox insert in a SQLite Durable Object before the 202, push at
   once, delete on 2xx), under the same runner, storage and receiver, at LOAD_REFERENCE_RATES
   (500,0; empty skips it). What it reaches is what this runtime allows on this machine for
   the durable work of a message, before any authentication, routing or validation.

Uses the hub at SWITCHYARD_BASE_URL (with SWITCHYARD_ADMIN_TOKEN) when set; otherwise starts
one with a fresh state directory and the demo seed (runner: run-hub.mjs, or plain `wrangler
dev` with SWITCHYARD_RUNNER=wrangler). Writes infra/bench/results/load.json and the `load`
section of docs/benchmarks.md; with LOAD_LABEL (e.g. "issue 9 before") a section and a JSON
file of that name instead, which later runs leave alone."""
import json, os, re, secrets, shutil, subprocess, sys, tempfile, time, urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import ROOT, CpuProbe, machine, probe_component, runner_of_env, spin_env, start_hub, stop, write_section
import load

RATES = [100, 250, 500, 800, 1000, 0]  # messages per second; 0 = as fast as the hub answers
CONNECTIONS = 16
NOOP_WORKER = os.path.join(ROOT, "infra/bench/noop-worker/wrangler.toml")
NOOP_RUNS = 3
REFERENCE_WORKER = os.path.join(ROOT, "infra/bench/reference-worker")
# Keeping up at a paced rate: the hub took the offered load (>= 97 % accepted, no errors), every
# accepted message arrived exactly once, ingress-to-recipient p99 < 100 ms, and nothing was
# left at the end of the step but messages in flight (the backlog drained within 100 ms).
KEEPS_UP_P99_MS = 100
KEEPS_UP_DRAIN_S = 0.1
KEEPS_UP_ACCEPTED_SHARE = 0.97
KEEPS_UP = (f"accepted >= {KEEPS_UP_ACCEPTED_SHARE:.0%} of the offered rate with no errors, every accepted message delivered "
            f"exactly once, ingress-to-recipient p99 < {KEEPS_UP_P99_MS} ms, and the backlog at the end of the step "
            f"drained within {KEEPS_UP_DRAIN_S * 1000:.0f} ms (only messages in flight)")


def keeps_up(s):
    return bool(s["target_rate"]) and not s["errors"] and s["accepted_per_second"] >= KEEPS_UP_ACCEPTED_SHARE * s["target_rate"] \
        and s["every_accepted_arrived_exactly_once"] and s["ingress_to_receiver_ms"]["p99"] is not None \
        and s["ingress_to_receiver_ms"]["p99"] < KEEPS_UP_P99_MS and s["drain_seconds"] is not None and s["drain_seconds"] <= KEEPS_UP_DRAIN_S


def yardstick(runner, seconds, runs=NOOP_RUNS):
    """The no-op Worker's req/s under `runner` (median of `runs` runs of `seconds`), and the CPU
    its main thread spends per request. For the Spin runner, the no-op is the emulator's probe
    component (`GET /` touches nothing), alone in its manifest."""
    tmp = tempfile.mkdtemp(prefix="switchyard-noop-")
    proc = None
    try:
        if runner == "spin":
            manifest = os.path.join(tmp, "spin.toml")
            open(manifest, "w").write(f'spin_manifest_version = 2\n[application]\nname = "noop"\n[[trigger.http]]\nroute = "/..."\n'
                                      f'component = "noop"\n[component.noop]\nsource = "{probe_component()}"\n')
            args = ["--manifest", manifest]
        else:
            args = ["-c", NOOP_WORKER]
        proc, base, startup = start_hub(args, os.path.join(tmp, "state"), os.path.join(tmp, "hub.log"), runner)
        load.noop(base, 1.0, CONNECTIONS, warmup=0)
        cpu = CpuProbe(proc.pid)
        results = []
        for _ in range(runs):
            before, t0 = cpu.sample(), time.time()
            r = load.noop(base, seconds, CONNECTIONS, warmup=0)
            r["cpu"] = CpuProbe.delta(before, cpu.sample(), round(r["requests_per_second"] * r["seconds"]), time.time() - t0)
            results.append(r)
        results.sort(key=lambda r: r["requests_per_second"])
        median = dict(results[len(results) // 2])
        median["runs_requests_per_second"] = [r["requests_per_second"] for r in results]
        median["runner"], median["startup_seconds"] = runner, round(startup, 2)
        return median
    finally:
        stop(proc)
        shutil.rmtree(tmp, ignore_errors=True)


def reference(runner, rates, seconds, drain):
    """The reference design's load steps (see the module doc), on fresh state of its own."""
    tmp = tempfile.mkdtemp(prefix="switchyard-reference-")
    receiver, proc, steps = load.Receiver(), None, []
    try:
        config = open(os.path.join(REFERENCE_WORKER, "wrangler.toml")).read()
        config = re.sub(r'(?m)^main = .*$', f'main = "{os.path.join(REFERENCE_WORKER, "index.js")}"', config)
        config = re.sub(r'(?m)^TARGET = .*$', f'TARGET = "{receiver.url()}"', config)
        staged = os.path.join(tmp, "wrangler.toml")
        open(staged, "w").write(config)
        proc, base, _ = start_hub(["-c", staged], os.path.join(tmp, "state"), os.path.join(tmp, "hub.log"), runner)
        cpu = CpuProbe(proc.pid)
        for rate in rates:
            s = load.step(base, "unused", "reference", "reference", receiver, rate, seconds, CONNECTIONS, drain, cpu)
            s["keeps_up"] = keeps_up(s)
            steps.append(s)
        return steps
    finally:
        receiver.stop()
        stop(proc)
        shutil.rmtree(tmp, ignore_errors=True)


def step_line(s, ref, noop_cpu):
    c = s.get("cpu_to_drained") or {}
    drained = f"drained in {s['drain_seconds']:g} s" if s["drain_seconds"] is not None else f"{s['missing']} never arrived"
    return (f"{'paced ' + format(s['target_rate'], 'g') + '/s' if s['target_rate'] else 'unpaced':>12}: accepted {s['accepted_per_second']:g}/s "
            f"({share(s['accepted_per_second'], ref)} of no-op {ref:g}), delivered {s['delivered_per_second']:g}/s "
            f"({share(s['delivered_per_second'], ref)}); ingest {trio(s['ingest_ms'])} ms; ingress-to-recipient "
            f"{trio(s['ingress_to_receiver_ms'])} ms; backlog {s['backlog_at_end']} at end, {drained}; "
            f"CPU/msg main thread {c.get('busiest_thread_ms_per_msg')} ms (no-op {noop_cpu}), "
            f"runtime {c.get('workerd_ms_per_msg')} ms, group {c.get('group_ms_per_msg')} ms; errors {sum(s['errors'].values())}, "
            f"{s['duplicates']} duplicates; steal {c.get('machine_steal_share', 0):.0%}; keeps up: {'yes' if s['keeps_up'] else 'no'}")


def step_row(s, ref):
    c = s.get("cpu_to_drained") or {}
    d = s.get("cpu_during_step") or {}
    drained = f"{s['drain_seconds']:g}" if s["drain_seconds"] is not None else f"{s['missing']} lost"
    return (f"| {format(s['target_rate'], 'g') if s['target_rate'] else 'unpaced'} | {s['accepted_per_second']:g} ({share(s['accepted_per_second'], ref)}) | "
            f"{s['delivered_per_second']:g} ({share(s['delivered_per_second'], ref)}) | {trio(s['ingest_ms'])} | {trio(s['ingress_to_receiver_ms'])} | "
            f"{s['backlog_at_end']} | {drained} | {c.get('busiest_thread_ms_per_msg')} / {c.get('workerd_ms_per_msg')} / {c.get('group_ms_per_msg')} | "
            f"{'–' if d.get('busiest_thread_core_share') is None else format(d['busiest_thread_core_share'], '.0%')} | "
            f"{sum(s['errors'].values())} / {s['duplicates']} | {'yes' if s['keeps_up'] else 'no'} |")


def own_hub(runner, extra_vars=None):
    """A hub with fresh state and the demo seed, as `make dev` runs it (`make dev-spin` for the
    Spin runner)."""
    tmp = tempfile.mkdtemp(prefix="switchyard-load-")
    admin = secrets.token_hex(16)
    vars_file = os.path.join(tmp, "vars")
    with open(vars_file, "w") as f:
        f.write(f"SWITCHYARD_TOKEN_SECRET={secrets.token_hex(32)}\nSWITCHYARD_SEAL_KEY={secrets.token_hex(32)}\n"
                f"SWITCHYARD_ADMIN_TOKEN={admin}\nSWITCHYARD_ALLOW_LOOPBACK_HTTP=true\n")
        for k, v in (extra_vars or {}).items():
            f.write(f"{k}={v}\n")
    if runner == "spin":
        proc, base, startup = start_hub(["--manifest", os.path.join(ROOT, "spin.toml")], os.path.join(tmp, "state"),
                                        os.path.join(tmp, "hub.log"), runner, spin_env(open(vars_file).read()))
    else:
        configs = subprocess.run([os.path.join(ROOT, "infra/scripts/stage.sh"), os.path.join(tmp, "configs"), vars_file],
                                 check=True, capture_output=True, text=True).stdout.split()
        proc, base, startup = start_hub(configs, os.path.join(tmp, "state"), os.path.join(tmp, "hub.log"), runner)
    seed = open(os.path.join(ROOT, "infra/seed/demo.json"), "rb").read()
    req = urllib.request.Request(base + "/admin/v1/apply", data=seed, method="POST", headers={"authorization": f"Bearer {admin}"})
    urllib.request.urlopen(req, timeout=30).read()
    return proc, base, admin, tmp, startup


def sweep(runner, base, admin, rates, step_secs, drain, ref, noop, prefix=""):
    """The load steps against the hub at `base`, or against a hub of our own under `runner`."""
    proc, tmp, startup = None, None, None
    if base:
        cpu = load.probe_for(base)
    else:
        proc, base, admin, tmp, startup = own_hub(runner)
        cpu = CpuProbe(proc.pid)
    receiver = load.Receiver()
    steps = []
    try:
        sender, recipient, token = load.setup(base, admin, receiver.url())
        for rate in rates:
            s = load.step(base, token, sender, recipient, receiver, rate, step_secs, CONNECTIONS, drain, cpu)
            s["keeps_up"] = keeps_up(s)
            steps.append(s)
            print(prefix + step_line(s, ref, noop['cpu']['busiest_thread_ms_per_msg']), flush=True)
    finally:
        receiver.stop()
        stop(proc)
        if tmp:
            shutil.rmtree(tmp, ignore_errors=True)
    return steps, startup


def trio(d):
    return " / ".join("–" if d[k] is None else f"{d[k]:g}" for k in ("p50", "p90", "p99"))


def share(x, noop):
    return f"{x / noop:.3f}" if noop else "–"


def main():
    step_secs = float(os.environ.get("LOAD_STEP_SECONDS", "15"))
    drain = float(os.environ.get("LOAD_DRAIN_SECONDS", "60"))
    noop_secs = float(os.environ.get("LOAD_NOOP_SECONDS", "3"))
    rates = [float(r) for r in os.environ["LOAD_RATES"].split(",")] if os.environ.get("LOAD_RATES") else RATES
    label = os.environ.get("LOAD_LABEL", "").strip()
    base, admin = os.environ.get("SWITCHYARD_BASE_URL"), os.environ.get("SWITCHYARD_ADMIN_TOKEN")
    runner = runner_of_env()

    noop = yardstick(runner, noop_secs)
    ref = noop["requests_per_second"]
    print(f"yardstick: no-op Worker under {runner}: {ref:g} req/s over {CONNECTIONS} connections "
          f"(median of {noop['runs_requests_per_second']}) "
          f"(p50/p90/p99 {trio(noop['latency_ms'])} ms, main thread {noop['cpu']['busiest_thread_ms_per_msg']} ms/req, "
          f"{noop['cpu']['busiest_thread_core_share']:.0%} busy)", flush=True)

    reference_rates = [float(r) for r in os.environ.get("LOAD_REFERENCE_RATES", "500,0").split(",") if r.strip()]
    reference_steps = reference(runner, reference_rates, step_secs, drain) if reference_rates else []
    for s in reference_steps:
        print("reference " + step_line(s, ref, noop['cpu']['busiest_thread_ms_per_msg']).lstrip(), flush=True)

    steps, startup = sweep(runner, base, admin, rates, step_secs, drain, ref, noop)

    # The same sweep on the Spin components (the Spin host emulator), beside its own yardstick.
    spin = None
    if not base and os.environ.get("LOAD_SPIN", "1") != "0":
        spin_noop = yardstick("spin", noop_secs)
        spin_ref = spin_noop["requests_per_second"]
        print(f"spin yardstick: no-op component on the Spin host emulator: {spin_ref:g} req/s (median of {spin_noop['runs_requests_per_second']})", flush=True)
        spin_steps, spin_startup = sweep("spin", None, None, rates, step_secs, drain, spin_ref, spin_noop, prefix="spin ")
        spin_ok = [s["target_rate"] for s in spin_steps if s["keeps_up"]]
        spin = {"noop": spin_noop, "steps": spin_steps, "hub_startup_seconds": round(spin_startup, 2) if spin_startup else None,
                "knee_msg_per_second": max(spin_ok) if spin_ok else None}

    paced_ok = [s["target_rate"] for s in steps if s["keeps_up"]]
    knee = max(paced_ok) if paced_ok else None
    unpaced = next((s for s in steps if not s["target_rate"]), None)
    out = {"date": time.strftime("%Y-%m-%d"), "machine": machine(), "runner": runner, "label": label or None,
           "step_seconds": step_secs, "connections": CONNECTIONS, "hub_startup_seconds": round(startup, 2) if startup else None,
           "noop": noop, "reference": reference_steps, "knee_msg_per_second": knee, "keeps_up_means": KEEPS_UP, "steps": steps,
           "spin": spin}
    slug = re.sub(r"[^a-z0-9]+", "-", label.lower()).strip("-") if label else ""
    name = f"load-{slug}" if slug else "load"
    os.makedirs(os.path.join(ROOT, "infra/bench/results"), exist_ok=True)
    json.dump(out, open(os.path.join(ROOT, f"infra/bench/results/{name}.json"), "w"), indent=2)

    runner_text = {"run-hub": "`infra/scripts/run-hub.mjs` (the wrangler configs in one Miniflare/workerd, no inspector)",
                   "wrangler": "plain `wrangler dev` (with its inspector and proxy)"}[runner]
    rows = [step_row(s, ref) for s in steps]
    reference_text = "" if not reference_steps else f"""
**Reference design** (infra/bench/reference-worker: the outbox design issue 9 sketched, in
plain JavaScript, with no authentication, routing or validation: archive put and Durable
Object outbox insert before the 202, push at once), same runner, storage, receiver and
connections, fresh state:

| offered msg/s | accepted/s | delivered/s | ingest | ingress to recipient | backlog at end | drain s | CPU ms/msg | main thread busy | errors / duplicates | keeps up |
|---|---|---|---|---|---|---|---|---|---|---|
{chr(10).join(step_row(s, ref) for s in reference_steps)}
"""
    spin_text = "" if not spin else f"""
**The same sweep on Spin**, in the same run: the Spin components (`spin.toml`, wasm32-wasip2)
on the Spin host emulator (`infra/spin-host`: wasmtime 48 with Cranelift, a fresh instance
per request, key-value and SQLite in local SQLite files, a test harness, not Spin), as `make
dev-spin` runs them, fresh state. **Yardstick: a no-op Spin component on the emulator serves
{spin['noop']['requests_per_second']:g} req/s** (median of {', '.join(format(x, 'g') for x in spin['noop']['runs_requests_per_second'])}; p50/p90/p99
{trio(spin['noop']['latency_ms'])} ms); rates in brackets are shares of it. **Knee: {format(spin['knee_msg_per_second'], 'g') + ' msg/s' if spin['knee_msg_per_second'] else 'none'}.**
CPU columns: the emulator's busiest thread / the emulator / the process group.

| offered msg/s | accepted/s | delivered/s | ingest | ingress to recipient | backlog at end | drain s | CPU ms/msg | busiest thread busy | errors / duplicates | keeps up |
|---|---|---|---|---|---|---|---|---|---|---|
{chr(10).join(step_row(s, spin['noop']['requests_per_second']) for s in spin['steps'])}
"""
    steal = [(s.get("cpu_to_drained") or {}).get("machine_steal_share", 0) for s in steps]
    heading = f"OTS load sweep, {label}" if label else "OTS load sweep"
    knee_text = (f"**Knee: {knee:g} msg/s** ({share(knee, ref)} of the no-op req/s)" if knee else
                 f"**Knee: none** (no paced rate from {min(r for r in rates if r):g} msg/s up was kept up with)")
    ceiling = (f" Unpaced ceiling: {unpaced['accepted_per_second']:g} msg/s accepted, {unpaced['delivered_per_second']:g} msg/s "
               f"delivered during the step, backlog {unpaced['backlog_at_end']} at its end." if unpaced else "")
    write_section(name, f"""
## {heading} ({out['date']}, {out['machine']})

`make load` (infra/bench/loadrun.py), hub run by {runner_text}, fresh state, letterbox posts
from one client over {CONNECTIONS} keep-alive connections to one recipient whose letterbox is a
receiver on 127.0.0.1 (Nagle off, backlog 1024); generator, receiver and hub share the
machine. {step_secs:g} s per step.

**Yardstick: a no-op Worker under the same runner serves {ref:g} req/s** over {CONNECTIONS}
connections (median of {len(noop['runs_requests_per_second'])} runs of {noop_secs:g} s: {', '.join(format(x, 'g') for x in noop['runs_requests_per_second'])}; p50/p90/p99 {trio(noop['latency_ms'])} ms; its main thread
{noop['cpu']['busiest_thread_ms_per_msg']} ms CPU per request, {noop['cpu']['busiest_thread_core_share']:.0%} busy). Rates in
brackets are shares of it. {knee_text}.{ceiling}

A rate is kept up with when {KEEPS_UP}. Latencies in ms (p50 / p90 / p99). Backlog: accepted
but not yet delivered when the step ended; drain: seconds from then to the last arrival. CPU:
ms per accepted message from step start until drained, on workerd's busiest thread (the
runtime's main thread) / all of workerd / the hub's process group; busy: the main thread's
share of one core during the step. The load generator used up to {max(s['generator_core_share'] for s in steps):.0%}
of a core and the receiver up to {max(s['receiver_core_share'] for s in steps):.0%} (on the same 2 cores as the hub); the
hypervisor took {min(steal):.0%}–{max(steal):.0%} of the machine's CPU time (steal) during the steps.

| offered msg/s | accepted/s | delivered/s | ingest | ingress to recipient | backlog at end | drain s | CPU ms/msg | main thread busy | errors / duplicates | keeps up |
|---|---|---|---|---|---|---|---|---|---|---|
{chr(10).join(rows)}
{reference_text}{spin_text}""")
    print(knee_text.replace("**", ""), flush=True)
    if spin:
        print(f"Spin (emulator) knee: {format(spin['knee_msg_per_second'], 'g') + ' msg/s' if spin['knee_msg_per_second'] else 'none'}", flush=True)
    return 0 if all(s["missing"] == 0 for s in steps + (spin["steps"] if spin else [])) else 1


if __name__ == "__main__":
    sys.exit(main())
