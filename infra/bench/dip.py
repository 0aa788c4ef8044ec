#!/usr/bin/env python3
"""`make bench-dip` (part of `make bench`): the DIP send API's costs, measured.

1. Native: schema validation per message as the hub does it (`dip::schema`), for IF-021
   ActivePower and the largest schema (REP-900), by tools/dip-catalogue's dip-validate-bench.
2. In workerd (the hub as `make dev` runs it, fresh state, the demo DIP seed and a demo CA),
   main-thread CPU per request from /proc (infra/bench/common.py's CpuProbe), beside the no-op
   Worker yardstick of the same run:
   - `/validate/IF-021/ActivePower` with batches of 1 and of 100 messages: the difference per
     message is schema validation in wasm;
   - the same single-message request with a certificate header that does not decode (refused
     before any RSA work): the difference is the signature check (certificate chain and request
     signature, WebCrypto on Cloudflare) with its trust lookup;
   - `POST /dip-channel/IF-021` throughput for batches of 1, 10 and 100 messages (each message
     archived and put in the outbox for its two recipients before the answer).
Load comes from tools/dip-pki's dip-bench (signs every request as a participant would).
DIP_BENCH_SECONDS (8) per run. Writes infra/bench/results/dip.json and the `dip` section of
docs/benchmarks.md."""
import json, os, shutil, subprocess, sys, tempfile, time, urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import ROOT, CpuProbe, machine, runner_of_env, stop, write_section
from loadrun import own_hub, yardstick
import load as load_mod

SPEC = os.environ.get("SWITCHYARD_DIP_SPEC", os.path.join(ROOT, "..", "shared", "specs", "dip-api"))
RELEASE = os.path.join(ROOT, "target", "release")
SENDER, SENDER_KEY = "1000000001", None
RECIPIENTS = ("1000000002", "1000000003")  # the demo supplier (MAMS names it for MPAN) and LDSO (always)
HUB = "0000000000"  # the hub's own DIP ID: it signs its calls as it
MPAN = "1900000000001"


def run(*cmd, **kw):
    return subprocess.run(list(cmd), check=True, capture_output=True, text=True, cwd=ROOT, **kw).stdout


def admin(base, token, method, path, body):
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    req = urllib.request.Request(base + "/admin/v1" + path, data=data, method=method,
                                 headers={"authorization": f"Bearer {token}", "content-type": "application/json"})
    return urllib.request.urlopen(req, timeout=60).read()


def key_of(seed, dip_id):
    """A demo participant's primary API key, from the DIP seed."""
    return next(p["keys"]["primary"] for p in seed["dip"]["participants"] if p["DIPID"] == dip_id)


def demo_pki():
    """A demo CA and certificates for the sender, the recipients and the hub (which signs its
    calls with a key and certificate of its own), in a new temporary directory."""
    pki = tempfile.mkdtemp(prefix="switchyard-dip-pki-")
    run(os.path.join(RELEASE, "dip-pki"), "demo", pki, SENDER, *RECIPIENTS, HUB)
    return pki


def dip_hub(runner, pki, seed):
    """A hub as `make dev` runs it (loadrun.own_hub: fresh state, the demo seed), signing with
    the demo PKI's hub certificate, with the catalogue imported from SPEC, the DIP seed applied
    and the demo CA trusted. Returns (process, base URL, admin token, temporary directory, the
    catalogue's path in it)."""
    one_line = lambda path: open(path).read().strip().replace("\n", "\\n")
    proc, base, token, tmp, _ = own_hub(runner, {"SWITCHYARD_SIGNING_KEY": one_line(os.path.join(pki, f"{HUB}.key.pem")),
                                                 "SWITCHYARD_SIGNING_CERTIFICATE": one_line(os.path.join(pki, f"{HUB}.cert.pem"))})
    try:
        catalogue = os.path.join(tmp, "catalogue.json")
        run(os.path.join(RELEASE, "dip-catalogue"), "--spec", SPEC, "--out", catalogue)
        admin(base, token, "PUT", "/dip/catalogue", open(catalogue, "rb").read())
        admin(base, token, "POST", "/apply", json.dumps(seed).encode())
        admin(base, token, "PUT", "/dip/trust-anchors/bench", {"certificatePem": open(os.path.join(pki, "ca.pem")).read()})
        return proc, base, token, tmp, catalogue
    except BaseException:
        stop(proc)
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def register_webhook(base, pki, seed, recipient, url, tmp, limits=None):
    """Registers `url` as `recipient`'s publication webhook on IF-021, signed by the recipient."""
    registration = os.path.join(tmp, f"registration-{recipient}.json")
    with open(registration, "w") as f:
        json.dump({"callbackURL": url, **(limits or {})}, f)
    out = run(os.path.join(RELEASE, "dip-pki"), "send", pki, recipient, key_of(seed, recipient),
              f"{base}/dip-channel/IF-021/pubconfig/{recipient}", registration)
    assert out.startswith("201"), out


def if021_message(catalogue, tmp):
    """An IF-021 ActivePower message of SENDER for MPAN (its supplier known to the demo MAMS)."""
    message = os.path.join(tmp, "message.json")
    with open(message, "w") as f:
        f.write(run(os.path.join(RELEASE, "dip-message"), catalogue, "IF-021", "ActivePower", SENDER, "SDS",
                    f'/CommonBlock/M0/MPANCore="{MPAN}"'))
    return message


def load(base, path, message, pki, batch, connections, seconds, cpu, broken=False):
    before, t0 = cpu.sample(), time.time()
    out = json.loads(run(os.path.join(RELEASE, "dip-bench"), base, path, message, SENDER, "SDS", SENDER_KEY,
                         os.path.join(pki, f"{SENDER}.key.pem"), os.path.join(pki, f"{SENDER}.cert.pem"),
                         str(batch), str(connections), str(seconds), *(["--break-certificate"] if broken else [])))
    out["cpu"] = CpuProbe.delta(before, cpu.sample(), out["requests"], time.time() - t0)
    return out


def main():
    global SENDER_KEY
    if not os.path.isfile(os.path.join(SPEC, "SubmitEvents-unresolved.yaml")):
        print(f"no DIP OpenAPI at {SPEC} (set SWITCHYARD_DIP_SPEC)", file=sys.stderr)
        return 1
    seconds = float(os.environ.get("DIP_BENCH_SECONDS", "8"))
    run("cargo", "build", "-q", "--release", "-p", "dip-catalogue", "-p", "dip-pki")
    seed = json.load(open(os.path.join(ROOT, "infra/seed/demo-dip.json")))
    SENDER_KEY = key_of(seed, SENDER)
    runner = runner_of_env()
    noop = yardstick(runner, 3)
    pki = demo_pki()
    proc, base, token, tmp, catalogue = dip_hub(runner, pki, seed)
    try:
        native = {name: json.loads(run(os.path.join(RELEASE, "dip-validate-bench"), catalogue, ch, ev, n))
                  for name, ch, ev, n in [("IF-021 ActivePower", "IF-021", "ActivePower", "2000"),
                                          ("REP-900 DUoSSupplierInvData (largest schema)", "REP-900", "DUoSSupplierInvData", "2000")]}
        # The recipients' publication webhooks answer at once: deliveries finish, as in a
        # steady state, instead of waiting (and retrying) for a webhook.
        receiver = load_mod.Receiver()
        for r in RECIPIENTS:
            register_webhook(base, pki, seed, r, receiver.url(), tmp)
        message = if021_message(catalogue, tmp)
        cpu = CpuProbe(proc.pid)
        load(base, "/validate/IF-021/ActivePower", message, pki, 1, 2, 2, cpu)  # warm-up
        v1 = load(base, "/validate/IF-021/ActivePower", message, pki, 1, 4, seconds, cpu)
        v100 = load(base, "/validate/IF-021/ActivePower", message, pki, 100, 2, seconds, cpu)
        unsigned = load(base, "/validate/IF-021/ActivePower", message, pki, 1, 4, seconds, cpu, broken=True)
        sends = [load(base, "/dip-channel/IF-021", message, pki, b, 8, seconds, cpu) for b in (1, 10, 100)]
        delivered = receiver.requests
    finally:
        stop(proc)
        shutil.rmtree(tmp, ignore_errors=True)
        shutil.rmtree(pki, ignore_errors=True)

    ms = lambda r: r["cpu"]["busiest_thread_ms_per_msg"]
    validation_ms = (ms(v100) - ms(v1)) / 99
    signature_ms = ms(v1) - ms(unsigned)
    out = {"date": time.strftime("%Y-%m-%d"), "machine": machine(), "runner": runner, "noop": noop, "native": native,
           "validate_1": v1, "validate_100": v100, "refused_certificate": unsigned, "sends": sends,
           "deliveries_received": delivered, "validation_ms_per_message_workerd": validation_ms, "signature_check_ms_per_request_workerd": signature_ms}
    os.makedirs(os.path.join(ROOT, "infra/bench/results"), exist_ok=True)
    json.dump(out, open(os.path.join(ROOT, "infra/bench/results/dip.json"), "w"), indent=2)
    trio = lambda d: " / ".join(f"{d[k]:.1f}" for k in ("p50", "p90", "p99"))
    rows = "\n".join(f"| {s['batch']} | {s['requests_per_second']:.1f} | {s['messages_per_second']:.1f} | {trio(s['latency_ms'])} | "
                     f"{s['cpu']['busiest_thread_ms_per_msg'] / s['batch']:.2f} | {s['statuses']} |" for s in sends)
    write_section("dip", f"""
## DIP send API ({out['date']}, {out['machine']})

`python3 infra/bench/dip.py` (`make bench`): the hub as `make dev` runs it, fresh state, the demo
DIP seed; load from `dip-bench` (every request signed as a participant signs it), generator
and hub on the same machine. **Yardstick: a no-op Worker serves {noop['requests_per_second']:g} req/s**
in the same run (main thread {noop['cpu']['busiest_thread_ms_per_msg']} ms per request).

| what | per unit |
|---|---|
| schema validation, native, IF-021 ActivePower | {native['IF-021 ActivePower']['validate_us']:.1f} µs per message (first compile {native['IF-021 ActivePower']['compile_ms']:.2f} ms) |
| schema validation, native, REP-900 (largest schema) | {native['REP-900 DUoSSupplierInvData (largest schema)']['validate_us']:.1f} µs per message (first compile {native['REP-900 DUoSSupplierInvData (largest schema)']['compile_ms']:.2f} ms) |
| schema validation in workerd (wasm), IF-021: (batch of 100 - batch of 1) / 99, main-thread CPU | {validation_ms:.3f} ms per message |
| signature check in workerd (WebCrypto: certificate chain + request signature, with the trust lookup): signed minus refused-before-RSA | {signature_ms:.2f} ms per request |
| `/validate`, one message, signed | {v1['requests_per_second']:.0f} req/s, p50/p90/p99 {trio(v1['latency_ms'])} ms, {ms(v1):.2f} ms main thread per request |

`POST /dip-channel/IF-021` over 8 connections, {seconds:g} s per batch size: each message
archived with one outbox job per recipient (the demo LDSO always, the supplier MAMS names),
both recipients' publication webhooks registered on a receiver that answers at once, so the
CPU figure includes delivering both copies ({delivered} deliveries arrived in all):

| batch | requests/s | messages/s | latency p50 / p90 / p99 ms | main-thread CPU ms per message | statuses |
|---|---|---|---|---|---|
{rows}
""")
    print(json.dumps({k: out[k] for k in ("validation_ms_per_message_workerd", "signature_check_ms_per_request_workerd")}))
    for s in sends:
        print(f"batch {s['batch']}: {s['messages_per_second']:.1f} msg/s, {s['requests_per_second']:.1f} req/s, p99 {s['latency_ms']['p99']:.0f} ms, {s['statuses']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
