#!/usr/bin/env python3
"""`make bench-dip-delivery`: DIP delivery throughput and ingress-to-webhook latency, against
the DIP NFR (DSD002 §11.3.1, up to average hourly volume: p90 <= 3 s, p99 <= 10 s, measured
from the ingress's HTTP response; §11.3.2: < 1 s as the target for the future, read as p99).

Per run, a hub as `make dev` runs it (fresh state, the demo seed and DIP seed, a demo CA; the
set-up of infra/bench/dip.py), with both recipients of IF-021 (the demo LDSO, always, and the
supplier the demo MAMS names for the message's MPAN) registered with publication webhooks on
a threaded HTTP server in this process that answers 201 at once. Load: signed
`POST /dip-channel/IF-021` in batches of 10 from tools/dip-pki's dip-bench in its open-loop
mode (requests start on schedule at the OFFERED rate, at most DIP_DELIVERY_CONNECTIONS (64)
in flight; a fresh senderUniqueReference per message and a fresh signature per request) for
DIP_DELIVERY_SECONDS (30), after a short warm-up. Then up to DIP_DELIVERY_DRAIN_SECONDS (120)
for every copy to arrive.

Per rate (DIP_DELIVERY_RATES, default 100,500 msg/s), DIP_DELIVERY_RUNS (3) runs, medians
reported: offered and accepted msg/s; delivered messages/s (one per (message, recipient)
copy) and webhook calls/s, over the window from the first acceptance to the last delivery and
in steady state (the load window without its first quarter); mean messages per call (counted
from each call's body, `payload.CommonBlock.D0.transactionID` per message: egress batching
may put several in one call); ingress-to-webhook latency p50/p90/p99/max (a copy's first
arrival at its recipient's webhook minus the time its 201 reached the sender; a copy that never
arrived counts as slower than any that did, so a percentile it falls in reads "> drain");
copies never delivered; duplicates. Beside them, the no-op Worker yardstick of the same run
(loadrun.yardstick). DIP_DELIVERY_MAX_MESSAGE_COUNT, when set, goes into the webhook
registrations as `maxMessageCount`.

Writes infra/bench/results/dip-delivery.json and the `dip-delivery` section of
docs/benchmarks.md; with DIP_DELIVERY_LABEL (e.g. "egress batching before") a section and a
JSON file of that name instead, which later runs leave alone."""
import json, math, os, re, shutil, statistics, sys, threading, time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import ROOT, CpuProbe, machine, runner_of_env, stop, write_section
from loadrun import yardstick
from dip import RECIPIENTS, RELEASE, SENDER, SPEC, demo_pki, dip_hub, if021_message, key_of, register_webhook, run

BATCH = 10
# DSD002 §11.3.1 (up to average hourly volume; 6 s and 30 s from average to peak): p90 <= 3 s
# and p99 <= 10 s from the ingress's HTTP response; §11.3.2: < 1 s in the future.
NFR_P90_S, NFR_P99_S, TARGET_S = 3.0, 10.0, 1.0
# Steady state: the load window without its first quarter (isolates starting, queues filling).
STEADY_FROM = 0.25
WARMUP_SECONDS, WARMUP_RATE = 2, 20


# --- the recipients' publication webhooks ----------------------------------------------------

class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 1024  # bursts of deliveries: no dropped SYNs

    def handle_error(self, request, client_address):
        # workerd drops idle pooled connections with a reset: not a failed call.
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class Webhooks:
    """Publication webhooks on 127.0.0.1, one path per recipient (/dip/<DIP ID>), served by a
    thread per connection. Every call is answered 201 at once and recorded: arrival time,
    recipient, the transactionIDs of the messages in its body, and whether it was signed."""

    def __init__(self):
        self.lock = threading.Lock()
        self.calls = []  # (arrival, recipient, [transactionID, ...], signed)
        hooks = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as the hub's fetch expects

            def do_POST(self):
                body = self._body()
                arrival = time.time()
                try:  # DIP egress: a JSON array of {"payload": message}
                    ids = [m["payload"]["CommonBlock"]["D0"]["transactionID"] for m in json.loads(body)]
                except (ValueError, KeyError, TypeError):
                    ids = []  # not a publication body: no message of the run
                with hooks.lock:
                    hooks.calls.append((arrival, self.path.rsplit("/", 1)[-1], ids, bool(self.headers.get("x-dip-signature"))))
                self.send_response(201)
                self.send_header("content-length", "0")
                self.end_headers()

            def _body(self):
                if self.headers.get("transfer-encoding", "").lower() == "chunked":
                    out = b""
                    while size := int(self.rfile.readline().split(b";")[0], 16):
                        out += self.rfile.read(size)
                        self.rfile.readline()
                    self.rfile.readline()
                    return out
                return self.rfile.read(int(self.headers.get("content-length", 0)))

            def log_message(self, *args):
                pass

        self.server = _Server(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def url(self, recipient):
        return f"http://127.0.0.1:{self.server.server_address[1]}/dip/{recipient}"

    def first_arrivals(self):
        """{(transactionID, recipient): first arrival time}."""
        first = {}
        with self.lock:
            for arrival, recipient, ids, _ in self.calls:
                for tid in ids:
                    first.setdefault((tid, recipient), arrival)
        return first

    def wait_for(self, copies, until):
        """Waits until every copy in `copies` has arrived, or `until`; True if all did."""
        while time.time() < until:
            first = self.first_arrivals()
            if all(c in first for c in copies):
                return True
            time.sleep(0.1)
        return False

    def reset(self):
        with self.lock:
            self.calls = []

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


# --- one run ---------------------------------------------------------------------------------

def send(base, message, pki, seed, rate, seconds, connections, records):
    """dip-bench in its open-loop mode; returns its summary and its per-message records."""
    out = json.loads(run(os.path.join(RELEASE, "dip-bench"), base, "/dip-channel/IF-021", message, SENDER, "SDS",
                         key_of(seed, SENDER), os.path.join(pki, f"{SENDER}.key.pem"), os.path.join(pki, f"{SENDER}.cert.pem"),
                         str(BATCH), str(connections), str(seconds), "--rate", str(rate), "--records", records))
    return out, [json.loads(line) for line in open(records)]


def copies_of(messages):
    """Every (transactionID, recipient) copy the accepted messages owe, with its 201's time."""
    return {(m["transactionID"], r): m["answered"] for m in messages if m["transactionID"] for r in RECIPIENTS}


def percentiles(values, count):
    """p50/p90/p99/max in seconds of `values`, out of `count` copies: the missing ones are
    slower than any value, so a percentile that falls among them is None ("> drain")."""
    s = sorted(values) + [math.inf] * (count - len(values))
    at = lambda p: s[min(len(s) - 1, max(0, int(round(p * (len(s) - 1)))))] if s else math.inf
    return {k: (round(v, 3) if v != math.inf else None) for k, v in (("p50", at(0.5)), ("p90", at(0.9)), ("p99", at(0.99)), ("max", at(1.0)))}


def one_run(runner, pki, seed, rate, seconds, connections, drain, limits):
    proc, base, token, tmp, catalogue = dip_hub(runner, pki, seed)
    hooks = Webhooks()
    try:
        for r in RECIPIENTS:
            register_webhook(base, pki, seed, r, hooks.url(r), tmp, limits)
        message = if021_message(catalogue, tmp)
        records = os.path.join(tmp, "records.jsonl")
        # Warm-up: every Worker and Durable Object on the path started once, then forgotten.
        _, warm = send(base, message, pki, seed, WARMUP_RATE, WARMUP_SECONDS, connections, records)
        hooks.wait_for(copies_of(warm), time.time() + 30)
        hooks.reset()

        cpu = CpuProbe(proc.pid)
        before = cpu.sample()
        summary, messages = send(base, message, pki, seed, rate, seconds, connections, records)
        load_cpu = CpuProbe.delta(before, cpu.sample(), len(messages), summary["seconds"])
        copies = copies_of(messages)
        all_arrived = hooks.wait_for(copies, time.time() + drain)
        with hooks.lock:
            calls = list(hooks.calls)
    finally:
        hooks.stop()
        stop(proc)
        shutil.rmtree(tmp, ignore_errors=True)

    # Only the calls that carry messages of this run (a late copy of the warm-up is not one).
    ids = {m["transactionID"] for m in messages if m["transactionID"]}
    calls = [c for c in calls if any(t in ids for t in c[2])]
    first = {}
    duplicates = 0
    for arrival, recipient, ids, _ in calls:
        for tid in ids:
            if (tid, recipient) in first:
                duplicates += 1
            else:
                first[(tid, recipient)] = arrival
    delivered = {c: first[c] for c in copies if c in first}
    latencies = [delivered[c] - copies[c] for c in delivered]
    # The window: first acceptance to last delivery; steady state: the load window's last 3/4.
    start = min((m["due"] for m in messages), default=time.time())
    t0 = min(copies.values(), default=start)
    t1 = max(delivered.values(), default=t0)
    s0, s1 = start + STEADY_FROM * seconds, start + seconds
    per_s = lambda n, a, b: round(n / (b - a), 1) if b > a else None
    accepted = sum(1 for m in messages if m["transactionID"])
    statuses = {}
    for m in messages:
        statuses[str(m["status"])] = statuses.get(str(m["status"]), 0) + 1
    return {
        "offered_per_second": rate, "seconds": seconds,
        "sent_per_second": round(len(messages) / seconds, 1), "unsent_requests": summary["unsent_requests"],
        "start_lag_ms": summary["start_lag_ms"], "ingest_ms": summary["latency_ms"], "message_statuses": statuses,
        "request_errors": summary["errors"],
        "accepted": accepted, "accepted_per_second": round(accepted / seconds, 1),
        "copies_owed": len(copies), "copies_delivered": len(delivered), "never_delivered": len(copies) - len(delivered),
        "duplicates": duplicates, "all_arrived_within_drain": all_arrived,
        "calls": len(calls), "unsigned_calls": sum(1 for c in calls if not c[3]),
        "messages_per_call": round(sum(len(c[2]) for c in calls) / len(calls), 2) if calls else None,
        "window_seconds": round(t1 - t0, 2),
        "delivered_per_second": per_s(len(delivered), t0, t1),
        "calls_per_second": per_s(sum(1 for c in calls if t0 <= c[0] <= t1), t0, t1),
        "steady_delivered_per_second": per_s(sum(1 for t in delivered.values() if s0 <= t <= s1), s0, s1),
        "steady_calls_per_second": per_s(sum(1 for c in calls if s0 <= c[0] <= s1), s0, s1),
        "latency_s": percentiles(latencies, len(copies)),
        "main_thread_core_share": load_cpu["busiest_thread_core_share"],
    }


# --- report ----------------------------------------------------------------------------------

def median_of(runs):
    """The median of each figure over the runs (None, "> drain", sorts above every number)."""
    out = {}
    for k, v in runs[0].items():
        if isinstance(v, bool) or not isinstance(v, (int, float, dict, type(None))):
            continue
        if isinstance(v, dict):  # percentiles: the median of each; counts by status stay per run
            if all(r[k].keys() == v.keys() for r in runs) and all(isinstance(x, (int, float, type(None))) for x in v.values()):
                out[k] = median_of([r[k] for r in runs])
            continue
        values = [math.inf if r[k] is None else r[k] for r in runs]
        m = statistics.median(values)
        out[k] = None if m == math.inf else round(m, 3)
    return out


def num(v):
    return "–" if v is None else f"{v:g}"


def seconds_text(v):
    return "> drain" if v is None else f"{v:.2f}"


def verdict(lat):
    p90, p99 = (math.inf if lat[k] is None else lat[k] for k in ("p90", "p99"))
    nfr = "met" if p90 <= NFR_P90_S and p99 <= NFR_P99_S else "not met"
    return nfr, "met" if p99 < TARGET_S else "not met"


def row(m):
    lat = m["latency_s"]
    nfr, target = verdict(lat)
    return (f"| {num(m['offered_per_second'])} | {num(m['accepted_per_second'])} | {num(m['delivered_per_second'])} / "
            f"{num(m['steady_delivered_per_second'])} | {num(m['calls_per_second'])} / {num(m['steady_calls_per_second'])} | "
            f"{num(m['messages_per_call'])} | {' / '.join(seconds_text(lat[k]) for k in ('p50', 'p90', 'p99', 'max'))} | "
            f"{num(m['never_delivered'])} | {num(m['duplicates'])} | {m['main_thread_core_share']:.0%} | {nfr} | {target} |")


def main():
    if not os.path.isfile(os.path.join(SPEC, "SubmitEvents-unresolved.yaml")):
        print(f"no DIP OpenAPI at {SPEC} (set SWITCHYARD_DIP_SPEC)", file=sys.stderr)
        return 1
    rates = [float(r) for r in os.environ.get("DIP_DELIVERY_RATES", "100,500").split(",")]
    runs = int(os.environ.get("DIP_DELIVERY_RUNS", "3"))
    seconds = float(os.environ.get("DIP_DELIVERY_SECONDS", "30"))
    drain = float(os.environ.get("DIP_DELIVERY_DRAIN_SECONDS", "120"))
    connections = int(os.environ.get("DIP_DELIVERY_CONNECTIONS", "64"))
    max_count = os.environ.get("DIP_DELIVERY_MAX_MESSAGE_COUNT")
    limits = {"maxMessageCount": int(max_count)} if max_count else None
    label = os.environ.get("DIP_DELIVERY_LABEL", "").strip()
    run("cargo", "build", "-q", "--release", "-p", "dip-catalogue", "-p", "dip-pki")
    seed = json.load(open(os.path.join(ROOT, "infra/seed/demo-dip.json")))
    runner = runner_of_env()

    noop = yardstick(runner, 3)
    print(f"yardstick: no-op Worker {noop['requests_per_second']:g} req/s", flush=True)
    pki = demo_pki()
    results = []
    try:
        for rate in rates:
            per_run = []
            for i in range(runs):
                r = one_run(runner, pki, seed, rate, seconds, connections, drain, limits)
                per_run.append(r)
                lat = r["latency_s"]
                print(f"{rate:g} msg/s offered, run {i + 1}/{runs}: accepted {r['accepted_per_second']:g}/s, delivered "
                      f"{r['delivered_per_second']}/s (steady {r['steady_delivered_per_second']}) in {r['calls_per_second']} calls/s "
                      f"(steady {r['steady_calls_per_second']}), {r['messages_per_call']} msg/call; ingress-to-webhook s "
                      f"p50/p90/p99/max {' / '.join(seconds_text(lat[k]) for k in ('p50', 'p90', 'p99', 'max'))}; "
                      f"never delivered {r['never_delivered']} of {r['copies_owed']}, duplicates {r['duplicates']}; "
                      f"ingest p99 {r['ingest_ms']['p99']:.0f} ms, start lag p99 {r['start_lag_ms']['p99']:.0f} ms, "
                      f"unsent {r['unsent_requests']} requests; statuses {r['message_statuses']} {r['request_errors'] or ''}", flush=True)
            results.append({"rate": rate, "median": median_of(per_run), "runs": per_run})
    finally:
        shutil.rmtree(pki, ignore_errors=True)

    out = {"date": time.strftime("%Y-%m-%d"), "machine": machine(), "runner": runner, "label": label or None, "batch": BATCH,
           "seconds": seconds, "drain_seconds": drain, "connections": connections, "webhook_limits": limits, "runs": runs,
           "nfr": {"p90_s": NFR_P90_S, "p99_s": NFR_P99_S, "target_s": TARGET_S}, "noop": noop, "rates": results}
    slug = re.sub(r"[^a-z0-9]+", "-", label.lower()).strip("-") if label else ""
    name = f"dip-delivery-{slug}" if slug else "dip-delivery"
    os.makedirs(os.path.join(ROOT, "infra/bench/results"), exist_ok=True)
    json.dump(out, open(os.path.join(ROOT, f"infra/bench/results/{name}.json"), "w"), indent=2)
    limits_text = f", registered with `maxMessageCount` {limits['maxMessageCount']}" if limits else ""
    write_section(name, f"""
## DIP delivery{', ' + label if label else ''} ({out['date']}, {out['machine']})

`make bench-dip-delivery` (infra/bench/dip_delivery.py): per run a hub as `make dev` runs it
(fresh state, demo seed and DIP seed, demo CA), signed `POST /dip-channel/IF-021` in batches of
{BATCH} from `dip-bench` in open loop at the offered rate (at most {connections} requests in flight),
{seconds:g} s after a warm-up, then up to {drain:g} s for the copies to arrive. Each message is owed to
two recipients (the demo LDSO and the supplier MAMS names), whose publication webhooks{limits_text}
are a threaded server on 127.0.0.1 answering 201 at once; generator, receiver and hub share
the machine. Median{"s" if runs > 1 else ""} of {runs} run{"s" if runs > 1 else ""} per rate. **Yardstick: a no-op Worker serves
{noop['requests_per_second']:g} req/s** in the same run.

Accepted: messages answered 201, per second of the load window (requests the bound on requests
in flight kept from starting within it are not sent; the JSON counts them).
Delivered: messages arriving at webhooks, one per (message, recipient) copy, and webhook
calls, per second from the first acceptance to the last delivery / in steady state (the load
window without its first {STEADY_FROM:.0%}); messages per call counted from the bodies.
Ingress to webhook: a copy's first arrival minus the time its 201 reached the sender, in
seconds, p50 / p90 / p99 / max; "> drain" where the percentile falls among copies that never
arrived. NFR (DSD002 §11.3.1, up to average hourly volume): p90 <= {NFR_P90_S:g} s and p99 <= {NFR_P99_S:g} s;
target (§11.3.2, near real time): p99 < {TARGET_S:g} s.
Main thread: workerd's busiest thread's share of one core from the first request to the last
answer.

| offered msg/s | accepted msg/s | delivered msg/s | calls/s | msgs per call | ingress to webhook s | never delivered | duplicates | main thread | NFR | < 1 s target |
|---|---|---|---|---|---|---|---|---|---|---|
{chr(10).join(row(r['median']) for r in results)}
""")
    return 0 if all(r["median"]["never_delivered"] == 0 for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
