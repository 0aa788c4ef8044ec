#!/usr/bin/env python3
"""OTS load and latency against a running hub, loopback only, bounded in time.

Sets up a sender and a recipient of its own through the admin API. The recipient's letterbox
is a receiver on 127.0.0.1 that answers 202 and timestamps every arrival. Then N workers post
letterbox messages for a fixed time (optionally paced to a total rate). The report gives:

- accepted messages per second;
- ingest latency (post -> 202) at p50/p90/p99;
- ingress-to-receiver latency (post sent -> message arrived) at p50/p90/p99;
- errors;
- whether every accepted message arrived exactly once.

The result is printed as JSON (and written with --out).

  python3 infra/bench/load.py --base http://127.0.0.1:8787 --admin-token switchyard-demo-admin-token
"""
import argparse, http.client, http.server, json, os, statistics, sys, threading, time, urllib.parse, uuid

ROUTING_ID = "residentialSwitchMatchRequest"


def pct(values, p):
    if not values:
        return None
    s = sorted(values)
    k = min(len(s) - 1, max(0, int(round(p / 100.0 * (len(s) - 1)))))
    return round(s[k] * 1000, 2)


class Arrivals:
    def __init__(self):
        self.lock = threading.Lock()
        self.times = {}  # correlationID -> [arrival times]

    def add(self, corr, t):
        with self.lock:
            self.times.setdefault(corr, []).append(t)


def start_receiver(arrivals):
    class H(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("content-length") or 0))
            t = time.time()
            try:
                corr = json.loads(body)["envelope"]["source"]["correlationID"]
            except Exception:
                corr = None
            if corr:
                arrivals.add(corr, t)
            self.send_response(202)
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, *a):
            pass

    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
    srv.daemon_threads = True
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv


def request(base, method, path, body=None, headers=None):
    u = urllib.parse.urlparse(base)
    assert u.hostname in ("127.0.0.1", "localhost", "::1"), "loopback only"
    c = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
    c.request(method, path, body=body, headers=headers or {})
    r = c.getresponse()
    data = r.read()
    c.close()
    return r.status, data


def setup(base, admin_token, receiver_port):
    auth = {"authorization": f"Bearer {admin_token}", "content-type": "application/json"}
    tag = uuid.uuid4().hex[:6].upper()
    sender, recipient = f"LS{tag}", f"LR{tag}"
    for rid in (sender, recipient):
        entry = {"name": f"Load {rid}", "processSupport": [{"process": "OTS", "status": "ACTIVE"}]}
        st, body = request(base, "PUT", f"/admin/v1/participants/RCPID/{rid}", json.dumps(entry), auth)
        assert st == 200, body
    ep = {"url": f"http://127.0.0.1:{receiver_port}/letterbox/v2/post", "auth": {"type": "none"}}
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


def run(base, admin_token, duration=20.0, concurrency=8, rate=0.0, drain=60.0):
    """One load step; returns the result dict."""
    a = argparse.Namespace(base=base, admin_token=admin_token, duration=duration, concurrency=concurrency, rate=rate, drain=drain)
    arrivals = Arrivals()
    srv = start_receiver(arrivals)
    sender, recipient, token = setup(a.base, a.admin_token, srv.server_address[1])
    u = urllib.parse.urlparse(a.base)
    sent = {}  # corr -> send time
    ingest, errors = [], {}
    lock = threading.Lock()
    stop_at = time.time() + a.duration
    interval = a.concurrency / a.rate if a.rate > 0 else 0

    def worker():
        conn = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
        next_at = time.time()
        while True:
            now = time.time()
            if now >= stop_at:
                break
            if interval:
                if now < next_at:
                    time.sleep(next_at - now)
                next_at += interval
            corr = str(uuid.uuid4())
            body = json.dumps({
                "envelope": {"source": {"type": "RCPID", "identity": sender, "correlationID": corr},
                             "destination": {"type": "RCPID", "identity": recipient}, "routingID": ROUTING_ID},
                ROUTING_ID: {"load": True}})
            t0 = time.time()
            try:
                conn.request("POST", "/letterbox/v2/post", body, {"authorization": f"Bearer {token}", "content-type": "application/json"})
                r = conn.getresponse()
                r.read()
                st = r.status
            except Exception as e:
                st = type(e).__name__
                conn.close()
                conn = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
            t1 = time.time()
            with lock:
                if st == 202:
                    sent[corr] = t0
                    ingest.append(t1 - t0)
                else:
                    errors[str(st)] = errors.get(str(st), 0) + 1

    started = time.time()
    threads = [threading.Thread(target=worker) for _ in range(a.concurrency)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    load_secs = time.time() - started
    deadline = time.time() + a.drain
    while time.time() < deadline:
        with arrivals.lock:
            if all(c in arrivals.times for c in sent):
                break
        time.sleep(0.2)
    with arrivals.lock:
        e2e = [arrivals.times[c][0] - t0 for c, t0 in sent.items() if c in arrivals.times]
        missing = sum(1 for c in sent if c not in arrivals.times)
        duplicates = sum(len(arrivals.times[c]) - 1 for c in sent if c in arrivals.times)
    result = {
        "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "base": a.base, "concurrency": a.concurrency, "target_rate": a.rate or None, "load_seconds": round(load_secs, 2),
        "accepted": len(sent), "accepted_per_second": round(len(sent) / load_secs, 1), "errors": errors,
        "ingest_ms": {"p50": pct(ingest, 50), "p90": pct(ingest, 90), "p99": pct(ingest, 99)},
        "ingress_to_receiver_ms": {"p50": pct(e2e, 50), "p90": pct(e2e, 90), "p99": pct(e2e, 99)},
        "delivered": len(e2e), "missing": missing, "duplicates": duplicates,
        "every_accepted_arrived_exactly_once": missing == 0 and duplicates == 0,
    }
    srv.shutdown()
    return result


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--base", default=os.environ.get("SWITCHYARD_BASE_URL", "http://127.0.0.1:8787"))
    ap.add_argument("--admin-token", default=os.environ.get("SWITCHYARD_ADMIN_TOKEN", "switchyard-demo-admin-token"))
    ap.add_argument("--duration", type=float, default=20.0, help="seconds of load")
    ap.add_argument("--concurrency", type=int, default=8)
    ap.add_argument("--rate", type=float, default=0, help="total messages per second (0 = as fast as the hub answers)")
    ap.add_argument("--drain", type=float, default=60.0, help="seconds to wait for deliveries after the load")
    ap.add_argument("--out", help="write the JSON result here too")
    a = ap.parse_args()
    result = run(a.base, a.admin_token, a.duration, a.concurrency, a.rate, a.drain)
    text = json.dumps(result, indent=2)
    print(text)
    if a.out:
        with open(a.out, "w") as f:
            f.write(text + "\n")
    return 0 if result["missing"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
