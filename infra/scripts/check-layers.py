#!/usr/bin/env python3
"""The core's layering, checked on every `make test`:

- no import cycle between the core's modules (`common::<mechanism>`, `ots`, `gateway`,
  `protocols`, `admin`, `host`, `ports`), test modules aside;
- the shared mechanisms (`common/`), `ports.rs`, `host.rs` and the host adapters name no
  protocol (`ots`, `protocols`): their failures say what failed, and a protocol words them;
- function crates hold no host-specific code beyond their entry macro, and `deliver` makes
  no protocol decision.
Prints each violation and exits 1 if there is one."""
import collections, os, re, sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CORE = os.path.join(ROOT, "shared", "src")


def strip_tests_and_comments(src):
    out, i = [], 0
    while True:
        k = src.find("#[cfg(test)]", i)
        if k < 0:
            out.append(src[i:])
            break
        out.append(src[i:k])
        brace, semi = src.find("{", k), src.find(";", k)
        if brace == -1 or (semi != -1 and semi < brace):
            i = (semi + 1) if semi != -1 else len(src)
            continue
        depth, j = 0, brace
        while j < len(src):
            depth += {"{": 1, "}": -1}.get(src[j], 0)
            if depth == 0:
                break
            j += 1
        i = j + 1
    return "\n".join(line.split("//")[0] for line in "".join(out).split("\n"))


def module_of(rel):
    parts = rel[:-3].split("/")
    if parts[-1] == "mod":
        parts = parts[:-1]
    if parts[0] == "common":
        return "common::" + parts[1] if len(parts) > 1 else "common"
    return parts[0]


def sources(top):
    for root, _, files in os.walk(top):
        for f in sorted(files):
            if f.endswith(".rs"):
                path = os.path.join(root, f)
                yield path, strip_tests_and_comments(open(path, encoding="utf-8").read())


problems = []
edges = collections.defaultdict(set)
for path, src in sources(CORE):
    rel = os.path.relpath(path, CORE)
    if rel == "testing.rs":
        continue
    m = module_of(rel)
    for target in re.findall(r"crate::((?:common::)?\w+)", src):
        if target != m:
            edges[m].add(target)
    neutral = rel.startswith("common/") or rel in ("ports.rs", "host.rs")
    if neutral and re.search(r"crate::(ots|protocols|admin|gateway)\b", src):
        problems.append(f"shared/src/{rel} names a protocol (crate::ots / protocols / admin / gateway)")

for a in sorted(edges):
    for b in sorted(edges[a]):
        seen, stack = set(), [b]
        while stack:
            x = stack.pop()
            if x == a:
                problems.append(f"import cycle: {a} -> {b} -> ... -> {a}")
                break
            if x not in seen:
                seen.add(x)
                stack.extend(edges.get(x, ()))

for host in ("host-cloudflare", "host-spin"):
    for path, src in sources(os.path.join(ROOT, "shared", host, "src")):
        if re.search(r"switchyard_core::(ots|protocols)\b", src):
            problems.append(f"{os.path.relpath(path, ROOT)}: a host adapter names a protocol")

for path, src in sources(os.path.join(ROOT, "functions")):
    body = re.sub(r"switchyard_host_\w+::\w+_(entry|object)!\([^)]*\);", "", src)
    if re.search(r"\b(worker|spin_sdk|js_sys|web_sys|switchyard_host_\w+)::", body):
        problems.append(f"{os.path.relpath(path, ROOT)}: host-specific code beyond the entry macro")
deliver = strip_tests_and_comments(open(os.path.join(ROOT, "functions", "deliver", "src", "lib.rs")).read())
if re.search(r"\bots\b", deliver):
    problems.append("functions/deliver/src/lib.rs names OTS: delivery decisions belong to the core")

for p in problems:
    print("layering:", p)
print(f"layering: {len(problems)} violation(s) in {len(edges)} core modules")
sys.exit(1 if problems else 0)
