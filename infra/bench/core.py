#!/usr/bin/env python3
"""`cargo bench` of the core (criterion), summarised: median time per operation and heap
allocations per operation. Writes infra/bench/results/core.txt and its docs section."""
import os, re, subprocess, sys, time

sys.path.insert(0, os.path.dirname(__file__))
from common import ROOT, machine, write_section


def main():
    out = subprocess.run(["cargo", "bench", "-p", "switchyard-core", "--features", "rsa", "--bench", "core"],
                         cwd=ROOT, capture_output=True, text=True)
    text = out.stdout + out.stderr
    os.makedirs(os.path.join(ROOT, "infra/bench/results"), exist_ok=True)
    open(os.path.join(ROOT, "infra/bench/results/core.txt"), "w").write(text)
    if out.returncode != 0:
        print(text[-4000:])
        return out.returncode
    times = re.findall(r"^(\S[^\n]*?)\s*\n?\s*time:\s+\[\S+ \S+ (\S+ \S+) \S+ \S+\]", text, flags=re.M)
    allocs = re.findall(r"^allocations/op\s+(.*): (\d+)$", text, flags=re.M)
    for name, t in times:
        print(f"{name.strip():45s} {t}")
    for name, n in allocs:
        print(f"allocations/op {name:30s} {n}")
    rows = "\n".join(f"| {name.strip()} | {t} |" for name, t in times)
    arows = "\n".join(f"| {name} | {n} |" for name, n in allocs)
    write_section("core", f"""
## Core, native ({time.strftime('%Y-%m-%d')}, {machine()})

`cargo bench -p switchyard-core --features rsa` (criterion, median estimate; part of `make bench`).

| operation | time per op |
|---|---|
{rows}

| operation | heap allocations per op |
|---|---|
{arows}
""")
    return 0


if __name__ == "__main__":
    sys.exit(main())
