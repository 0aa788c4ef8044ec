#!/usr/bin/env python3
"""OTS load and latency against a running hub, loopback only, bounded in time.

Sets up a sender and a recipient of its own through the admin API. The recipient's letterbox
is a receiver on 127.0.0.1 that answers 202 and timestamps every arrival (Nagle off, listen
backlog 1024). Then a fixed number of keep-alive connections (default 16, spread over several
generator processes; asyncio, request bytes prepared ahead, so 1,000 msg/s costs the
generator a few % of a core) post letterbox messages for a fixed time, either as fast as the
hub answers or paced to a total rate: connection k of n sends at start + (k + j*n)/rate, and a
connection that fell behind sends at once until it is back on schedule (closed loop: each
connection has one request in flight, so 16 connections offer at most 16 / ingest latency).
Nothing is sent after the step's end. Every message carries
its own correlationID, which the receiver reads from the body it gets. The step reports:

- accepted messages per second (202s) and delivered messages per second (arrivals at the
  receiver during the step);
- ingest latency (post -> 202) and ingress-to-recipient latency (post sent -> message
  arrived), p50/p90/p99;
- the backlog at the end of the step (accepted, not yet arrived), how long it took to drain,
  and whether every accepted message arrived exactly once;
- with a CpuProbe (common.py): CPU per accepted message on the runtime's busiest thread, on
  all of workerd and on the hub's whole process group, from step start to drained.

The result is printed as JSON (and written with --out).

  python3 infra/bench/load.py --base http://127.0.0.1:8787 --admin-token switchyard-demo-admin-token --rate 250
"""
import argparse, asyncio, http.client, json, os, pickle, re, resource, subprocess, sys, threading, time, urllib.parse, uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import CpuProbe, pid_listening_on

ROUTING_ID = "residentialSwitchMatchRequest"
CONNECTIONS = 16
PROCESSES = 2
REQUEST_TIMEOUT = 30.0
RESPONSE_202 = b"HTTP/1.1 202 Accepted\r\ncontent-length: 0\r\n\r\n"
CORRELATION_ID = re.compile(rb'"correlationID"\s*:\s*"([^"]+)"')


def pct(values, p):
    if not values:
        return None
    s = sorted(values)
    k = min(len(s) - 1, max(0, int(round(p / 100.0 * (len(s) - 1)))))
    return round(s[k] * 1000, 2)


def pcts(values):
    return {"p50": pct(values, 50), "p90": pct(values, 90), "p99": pct(values, 99)}


# --- HTTP/1.1 framing, just enough for these two peers ---------------------------------------

def _framed(buf, head_end):
    """Length of the message whose head ends at head_end (body included), or None while
    incomplete. Content-Length or chunked bodies."""
    head = bytes(buf[:head_end]).lower()
    i = head.find(b"\r\ncontent-length:")
    if i >= 0:
        j = head.find(b"\r\n", i + 2)
        n = int(head[i + 17:j if j >= 0 else len(head)])
        total = head_end + 4 + n
        return total if len(buf) >= total else None
    if b"\r\ntransfer-encoding: chunked" in head:
        pos = head_end + 4
        while True:
            k = buf.find(b"\r\n", pos)
            if k < 0:
                return None
            size = int(bytes(buf[pos:k]).split(b";")[0], 16)
            pos = k + 2 + size + 2
            if len(buf) < pos:
                return None
            if size == 0:
                return pos
    return head_end + 4


# --- the recipient's letterbox ---------------------------------------------------------------

class Receiver:
    """A letterbox on 127.0.0.1 (own asyncio loop in a thread): answers every post with 202 and
    records the first and later arrival times of each correlationID."""

    def __init__(self):
        self.lock = threading.Lock()
        self.times = {}  # correlationID -> [arrival times]
        self.arrived = 0
        self.requests = 0  # every post, whatever it carries
        self.loop = asyncio.new_event_loop()
        ready = threading.Event()
        threading.Thread(target=self._serve, args=(ready,), daemon=True).start()
        ready.wait(10)

    def _serve(self, ready):
        asyncio.set_event_loop(self.loop)
        rx = self

        class Letterbox(asyncio.Protocol):
            def connection_made(self, transport):
                self.transport, self.buf = transport, bytearray()

            def data_received(self, data):
                self.buf += data
                while True:
                    he = self.buf.find(b"\r\n\r\n")
                    if he < 0:
                        return
                    end = _framed(self.buf, he)
                    if end is None:
                        return
                    t = time.time()
                    m = CORRELATION_ID.search(self.buf, he, end)
                    corr = m.group(1).decode() if m else None  # before the buffer moves on
                    close = b"\r\nconnection: close" in bytes(self.buf[:he]).lower()
                    del self.buf[:end]
                    rx.requests += 1
                    if corr:
                        rx._add(corr, t)
                    self.transport.write(RESPONSE_202)
                    if close:
                        self.transport.close()
                        return

        async def start():
            # asyncio sets TCP_NODELAY on accepted sockets (Nagle off); a deep backlog, or
            # bursts of deliveries see SYNs dropped and 1-3 s retransmits.
            self.server = await self.loop.create_server(Letterbox, "127.0.0.1", 0, backlog=1024)
            self.port = self.server.sockets[0].getsockname()[1]
            ready.set()

        self.loop.run_until_complete(start())
        self.loop.run_forever()

    def _add(self, corr, t):
        with self.lock:
            seen = self.times.get(corr)
            if seen is None:
                self.times[corr] = [t]
                self.arrived += 1
            else:
                seen.append(t)

    def url(self):
        return f"http://127.0.0.1:{self.port}/letterbox/v2/post"

    def stop(self):
        self.loop.call_soon_threadsafe(self.server.close)
        self.loop.call_soon_threadsafe(self.loop.stop)


# --- setup through the admin API -------------------------------------------------------------

def request(base, method, path, body=None, headers=None):
    u = urllib.parse.urlparse(base)
    assert u.hostname in ("127.0.0.1", "localhost", "::1"), "loopback only"
    c = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
    c.request(method, path, body=body, headers=headers or {})
    r = c.getresponse()
    data = r.read()
    c.close()
    return r.status, data


def setup(base, admin_token, letterbox_url):
    """A fresh sender and recipient (its letterbox: letterbox_url, no auth) and a client token
    of the sender for the match request."""
    auth = {"authorization": f"Bearer {admin_token}", "content-type": "application/json"}
    tag = uuid.uuid4().hex[:6].upper()
    sender, recipient = f"LS{tag}", f"LR{tag}"
    for rid in (sender, recipient):
        entry = {"name": f"Load {rid}", "processSupport": [{"process": "OTS", "status": "ACTIVE"}]}
        st, body = request(base, "PUT", f"/admin/v1/participants/RCPID/{rid}", json.dumps(entry), auth)
        assert st == 200, body
    ep = {"url": letterbox_url, "auth": {"type": "none"}}
    st, body = request(base, "PUT", f"/admin/v1/participants/RCPID/{recipient}/endpoint", json.dumps(ep), auth)
    assert st == 200, body
    grant = {"identities": [{"listType": "RCPID", "id": sender}], "routingIDs": [ROUTING_ID]}
    st, body = request(base, "POST", "/admin/v1/clients", json.dumps(grant), auth)
    assert st == 201, body
    c = json.loads(body)
    form = urllib.parse.urlencode({"grant_type": "client_credentials", "client_id": c["client_id"], "client_secret": c["client_secret"]})
    st, body = request(base, "POST", "/oauth2/token", form, {"content-type": "application/x-www-form-urlencoded"})
    assert st == 200, body
    return sender, recipient, json.loads(body)["access_token"]


# --- the generator (one process drives several connections) ----------------------------------

class _Client(asyncio.Protocol):
    def __init__(self):
        self.buf, self.waiter, self.transport = bytearray(), None, None

    def connection_made(self, transport):
        self.transport = transport

    def data_received(self, data):
        self.buf += data
        he = self.buf.find(b"\r\n\r\n")
        if he < 0:
            return
        end = _framed(self.buf, he)
        if end is None:
            return
        status = int(self.buf[9:12])
        del self.buf[:end]
        if self.waiter and not self.waiter.done():
            self.waiter.set_result(status)

    def connection_lost(self, exc):
        if self.waiter and not self.waiter.done():
            self.waiter.set_exception(ConnectionError("connection closed"))


async def _connection(spec, index, start_at, stop_at, out):
    """One keep-alive connection: sends until stop_at, records (id, sent, answered, status)."""
    loop = asyncio.get_running_loop()
    host, port = spec["host"], spec["port"]
    client = None
    n, seq = spec["connections"], 0
    interval = n / spec["rate"] if spec["rate"] else 0.0
    next_at = start_at + index / spec["rate"] if spec["rate"] else start_at
    head, prefix, suffix = spec["head"], spec["prefix"], spec["suffix"]
    run = spec["run"]
    while True:
        now = time.time()
        if now >= stop_at or (interval and next_at >= stop_at):
            break  # the step is bounded: slots a slow hub left unsent at the end are not sent
        if interval:
            if now < next_at:
                await asyncio.sleep(next_at - now)
            next_at += interval
        if client is None or client.transport is None or client.transport.is_closing():
            try:
                _, client = await loop.create_connection(_Client, host, port)
            except OSError as e:
                out.append((None, time.time(), time.time(), type(e).__name__))
                await asyncio.sleep(0.05)
                continue
        if prefix is None:  # fixed request (the no-op yardstick)
            corr, req = None, head
        else:
            seq += 1
            corr = f"{run}-{index:04x}-4000-8000-{seq:012x}"
            body = prefix + corr.encode() + suffix
            req = head % len(body) + body
        client.waiter = loop.create_future()
        t0 = time.time()
        client.transport.write(req)
        try:
            status = await asyncio.wait_for(client.waiter, REQUEST_TIMEOUT)
        except (asyncio.TimeoutError, ConnectionError) as e:
            status = type(e).__name__
            client.transport.close()
            client = None
        out.append((corr, t0, time.time(), status))
    if client is not None:
        client.transport.close()


def _generator_process():
    """`load.py --generator`: a generator process. Reads (spec, connection indices) from stdin,
    reports ready, waits for (start_at, stop_at), runs its connections and writes their records
    back, all pickled."""
    inp, out = sys.stdin.buffer, sys.stdout.buffer
    spec, indices = pickle.load(inp)
    out.write(b"ready\n")
    out.flush()
    start_at, stop_at = pickle.load(inp)
    records = []

    async def main():
        await asyncio.gather(*(_connection(spec, i, start_at, stop_at, records) for i in indices))

    asyncio.run(main())
    pickle.dump(records, out)
    out.flush()


def drive(spec, duration, processes=PROCESSES):
    """Runs spec["connections"] connections over `processes` processes for `duration` seconds.
    Returns (records, start time, end time, CPU seconds the generator processes used)."""
    n = spec["connections"]
    procs = []
    cpu_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    try:
        for p in range(min(processes, n)):
            proc = subprocess.Popen([sys.executable, os.path.abspath(__file__), "--generator"], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
            pickle.dump((spec, list(range(p, n, processes))), proc.stdin)
            proc.stdin.flush()
            procs.append(proc)
        for proc in procs:
            if proc.stdout.readline() != b"ready\n":
                raise RuntimeError("a generator process did not start")
        start_at = time.time() + 0.2
        stop_at = start_at + duration
        for proc in procs:
            pickle.dump((start_at, stop_at), proc.stdin)
            proc.stdin.flush()
        records = []
        for proc in procs:
            records.extend(pickle.load(proc.stdout))
            proc.wait(10)
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    end = max([r[2] for r in records], default=stop_at)
    cpu_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (cpu_after.ru_utime + cpu_after.ru_stime) - (cpu_before.ru_utime + cpu_before.ru_stime)
    return records, start_at, end, cpu


def letter_spec(base, token, sender, recipient, rate, connections, run):
    u = urllib.parse.urlparse(base)
    assert u.hostname in ("127.0.0.1", "localhost", "::1"), "loopback only"
    head = (f"POST /letterbox/v2/post HTTP/1.1\r\nhost: {u.hostname}:{u.port}\r\nauthorization: Bearer {token}\r\n"
            f"content-type: application/json\r\ncontent-length: %d\r\n\r\n").encode()
    prefix = ('{"envelope":{"source":{"type":"RCPID","identity":"%s","correlationID":"' % sender).encode()
    suffix = ('"},"destination":{"type":"RCPID","identity":"%s"},"routingID":"%s"},"%s":{"load":true}}'
              % (recipient, ROUTING_ID, ROUTING_ID)).encode()
    return {"host": u.hostname, "port": u.port, "rate": rate, "connections": connections, "head": head,
            "prefix": prefix, "suffix": suffix, "run": run}


def noop(base, seconds=5.0, connections=CONNECTIONS, warmup=1.0, path="/"):
    """Requests per second of `GET path` over keep-alive connections, as fast as answered. Any
    HTTP answer counts (a hub's bare route answers its spec 404)."""
    u = urllib.parse.urlparse(base)
    assert u.hostname in ("127.0.0.1", "localhost", "::1"), "loopback only"
    spec = {"host": u.hostname, "port": u.port, "rate": 0, "connections": connections, "prefix": None, "suffix": None, "run": "",
            "head": f"GET {path} HTTP/1.1\r\nhost: {u.hostname}:{u.port}\r\n\r\n".encode()}
    if warmup:
        drive(spec, warmup)
    records, start, end, gen_cpu = drive(spec, seconds)
    ok = [r for r in records if isinstance(r[3], int)]
    return {"requests_per_second": round(len(ok) / (end - start), 1), "connections": connections, "seconds": round(end - start, 2),
            "statuses": sorted({r[3] for r in ok}), "errors": len(records) - len(ok), "latency_ms": pcts([r[2] - r[1] for r in ok]),
            "generator_core_share": round(gen_cpu / (end - start), 3)}


# --- one step --------------------------------------------------------------------------------

def step(base, token, sender, recipient, receiver, rate=0.0, duration=15.0, connections=CONNECTIONS, drain=60.0, cpu=None):
    """One load step (rate 0: as fast as the hub answers). See the module doc for the report."""
    run = uuid.uuid4().hex[:8]
    spec = letter_spec(base, token, sender, recipient, rate, connections, run)
    cpu_before = cpu.sample() if cpu else None
    rx_cpu = time.process_time()
    records, start, end, gen_cpu = drive(spec, duration)
    rx_cpu = time.process_time() - rx_cpu
    cpu_at_end = cpu.sample() if cpu else None
    load_secs = end - start
    sent = {r[0]: r[1] for r in records if r[3] == 202}
    ingest = [r[2] - r[1] for r in records if r[3] == 202]
    errors = {}
    for r in records:
        if r[3] != 202:
            errors[str(r[3])] = errors.get(str(r[3]), 0) + 1
    deadline = time.time() + drain
    while time.time() < deadline:
        with receiver.lock:
            if all(c in receiver.times for c in sent):
                break
        time.sleep(0.05)
    drained_at = time.time()
    cpu_drained = cpu.sample() if cpu else None
    with receiver.lock:
        first = {c: receiver.times[c][0] for c in sent if c in receiver.times}
        duplicates = sum(len(receiver.times[c]) - 1 for c in first)
    e2e = [first[c] - t0 for c, t0 in sent.items() if c in first]
    missing = len(sent) - len(first)
    delivered_in_step = sum(1 for t in first.values() if start <= t <= end)
    backlog = sum(1 for c in sent if c not in first or first[c] > end)
    last = max(first.values(), default=end)
    result = {
        "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "base": base, "connections": connections, "target_rate": rate or None, "load_seconds": round(load_secs, 2),
        "offered": len(records), "accepted": len(sent), "accepted_per_second": round(len(sent) / load_secs, 1),
        "delivered_per_second": round(delivered_in_step / load_secs, 1), "errors": errors,
        "ingest_ms": pcts(ingest), "ingress_to_receiver_ms": pcts(e2e),
        "backlog_at_end": backlog,
        # Seconds from the end of the step to the last first arrival; None if some never came.
        "drain_seconds": round(max(0.0, last - end), 2) if missing == 0 else None,
        "delivered": len(first), "missing": missing, "duplicates": duplicates,
        "every_accepted_arrived_exactly_once": missing == 0 and duplicates == 0,
        # What the load itself cost, beside the hub on the same cores (share of one core).
        "generator_core_share": round(gen_cpu / load_secs, 3), "receiver_core_share": round(rx_cpu / load_secs, 3),
    }
    if cpu:
        result["cpu_during_step"] = CpuProbe.delta(cpu_before, cpu_at_end, len(sent), load_secs)
        result["cpu_to_drained"] = CpuProbe.delta(cpu_before, cpu_drained, len(sent), drained_at - start)
    return result


def run(base, admin_token, duration=20.0, concurrency=CONNECTIONS, rate=0.0, drain=60.0, cpu=None):
    """One load step with a receiver and participants of its own; returns the result dict."""
    receiver = Receiver()
    try:
        sender, recipient, token = setup(base, admin_token, receiver.url())
        return step(base, token, sender, recipient, receiver, rate, duration, concurrency, drain, cpu)
    finally:
        receiver.stop()


def probe_for(base):
    """A CpuProbe of the process group serving `base` (on this machine), if it can be found."""
    port = urllib.parse.urlparse(base).port
    pid = pid_listening_on(port) if port else None
    return CpuProbe(os.getpgid(pid)) if pid else None


def main():
    if sys.argv[1:] == ["--generator"]:
        return _generator_process()
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--base", default=os.environ.get("SWITCHYARD_BASE_URL", "http://127.0.0.1:8787"))
    ap.add_argument("--admin-token", default=os.environ.get("SWITCHYARD_ADMIN_TOKEN", "switchyard-demo-admin-token"))
    ap.add_argument("--duration", type=float, default=20.0, help="seconds of load")
    ap.add_argument("--concurrency", type=int, default=CONNECTIONS, help="keep-alive connections")
    ap.add_argument("--rate", type=float, default=0, help="total messages per second (0 = as fast as the hub answers)")
    ap.add_argument("--drain", type=float, default=60.0, help="seconds to wait for deliveries after the load")
    ap.add_argument("--out", help="write the JSON result here too")
    a = ap.parse_args()
    result = run(a.base, a.admin_token, a.duration, a.concurrency, a.rate, a.drain, probe_for(a.base))
    text = json.dumps(result, indent=2)
    print(text)
    if a.out:
        with open(a.out, "w") as f:
            f.write(text + "\n")
    return 0 if result["missing"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
