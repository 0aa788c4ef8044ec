#!/usr/bin/env python3
"""RSA PKCS#1 v1.5 SHA-256 signing inside workerd: WebCrypto (the Cloudflare host's signer)
against RustCrypto compiled to wasm. workerd's clock stands still while a request computes,
so each figure is timed from outside: (time of n signatures - time of n=0) / n, median of
several runs. Writes infra/bench/results/signing.json and its section of docs/benchmarks.md."""
import json, os, shutil, statistics, subprocess, sys, tempfile, time, urllib.request

sys.path.insert(0, os.path.dirname(__file__))
from common import ROOT, machine, start_wrangler, stop, write_section

WORKER = os.path.join(ROOT, "infra/bench/signing-worker")
RUNS = 5
N = {("webcrypto", 2048): 200, ("webcrypto", 4096): 40, ("rustcrypto", 2048): 20, ("rustcrypto", 4096): 4}
DATA = b"DIP message signature string: " + b"x" * 1024


def post(base, impl, bits, n):
    req = urllib.request.Request(f"{base}/sign?impl={impl}&bits={bits}&n={n}", data=DATA, method="POST")
    t0 = time.perf_counter()
    body = urllib.request.urlopen(req, timeout=300).read()
    return time.perf_counter() - t0, body


def main():
    env = dict(os.environ, WASM_BINDGEN_BIN=os.path.expanduser("~/.cargo/bin/wasm-bindgen"), ESBUILD_BIN=os.path.join(ROOT, "node_modules/.bin/esbuild"))
    subprocess.run(["worker-build", "--release"], cwd=WORKER, env=env, check=True, stdout=subprocess.DEVNULL)
    tmp = tempfile.mkdtemp(prefix="switchyard-signing-")
    with open(os.path.join(tmp, "wrangler.toml"), "w") as f:
        f.write(open(os.path.join(WORKER, "wrangler.toml")).read().replace('main = "build/index.js"', f'main = "{WORKER}/build/index.js"'))
    keys = os.path.join(ROOT, "shared/benches/keys")
    with open(os.path.join(tmp, ".dev.vars"), "w") as f:
        for bits in (2048, 4096):
            pem = open(os.path.join(keys, f"rsa{bits}.pem")).read().strip().replace("\n", "\\n")
            f.write(f"BENCH_KEY_{bits}={pem}\n")
    proc, base = start_wrangler(["-c", os.path.join(tmp, "wrangler.toml")], os.path.join(tmp, "state"), os.path.join(tmp, "wrangler.log"))
    results = {}
    try:
        for bits in (2048, 4096):
            sigs = {impl: post(base, impl, bits, 1)[1] for impl in ("webcrypto", "rustcrypto")}
            assert sigs["webcrypto"] == sigs["rustcrypto"], f"{bits}: WebCrypto and RustCrypto signatures differ"
            for impl in ("webcrypto", "rustcrypto"):
                n = N[(impl, bits)]
                per_op = []
                for _ in range(RUNS):
                    base_t = min(post(base, impl, bits, 0)[0] for _ in range(3))
                    per_op.append((post(base, impl, bits, n)[0] - base_t) / n * 1000)
                results[f"{impl}-{bits}"] = {"median_ms": round(statistics.median(per_op), 3), "runs_ms": [round(x, 3) for x in per_op], "n": n}
                print(f"rsa-{bits} {impl:10s} in workerd: {results[f'{impl}-{bits}']['median_ms']} ms/sign (median of {RUNS})", flush=True)
    finally:
        stop(proc)
        shutil.rmtree(tmp, ignore_errors=True)
    out = {"date": time.strftime("%Y-%m-%d"), "machine": machine(), "identical_signatures": True, "results": results}
    os.makedirs(os.path.join(ROOT, "infra/bench/results"), exist_ok=True)
    json.dump(out, open(os.path.join(ROOT, "infra/bench/results/signing.json"), "w"), indent=2)
    rows = "\n".join(
        f"| {bits} | {results[f'webcrypto-{bits}']['median_ms']} | {results[f'rustcrypto-{bits}']['median_ms']} | "
        f"{results[f'rustcrypto-{bits}']['median_ms'] / max(results[f'webcrypto-{bits}']['median_ms'], 1e-9):.1f}x |"
        for bits in (2048, 4096))
    write_section("signing", f"""
## RSA signing inside workerd ({out['date']}, {out['machine']})

`python3 infra/bench/signing.py` (part of `make bench`): ms per PKCS#1 v1.5 SHA-256 signature,
median of {RUNS} runs, timed from outside the Worker minus an empty-request baseline. Both
implementations produced byte-identical signatures.

| bits | WebCrypto (Cloudflare host) | RustCrypto in wasm | RustCrypto / WebCrypto |
|---|---|---|---|
{rows}
""")


if __name__ == "__main__":
    main()
