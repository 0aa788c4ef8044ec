"""Shared pieces of the benchmark drivers: starting wrangler dev on free ports, and writing
one section of docs/benchmarks.md between markers."""
import os, platform, re, signal, socket, subprocess, time, urllib.request

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def free_ports(n):
    """n distinct free loopback ports (all held at once while choosing)."""
    socks = [socket.socket() for _ in range(n)]
    for s in socks:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in socks]
    for s in socks:
        s.close()
    return ports


def wait_http(base, proc, log, timeout=180):
    start = time.time()
    while time.time() - start < timeout:
        if proc.poll() is not None:
            raise SystemExit(f"wrangler dev exited:\n{open(log).read()[-3000:]}")
        try:
            urllib.request.urlopen(base + "/", timeout=2)
            return
        except urllib.error.HTTPError:
            return
        except Exception:
            time.sleep(0.3)
    raise SystemExit(f"wrangler dev did not answer within {timeout} s")


def start_wrangler(config_args, state_dir, log):
    port, inspector = free_ports(2)
    env = dict(os.environ, CI="true", WRANGLER_SEND_METRICS="false", CLOUDFLARE_CF_FETCH_ENABLED="false")
    proc = subprocess.Popen(
        [os.path.join(ROOT, "node_modules/.bin/wrangler"), "dev", *config_args, "--port", str(port), "--inspector-port", str(inspector),
         "--ip", "127.0.0.1", "--persist-to", state_dir, "--show-interactive-dev-session=false", "--log-level", "warn"],
        cwd=ROOT, env=env, stdin=subprocess.DEVNULL, stdout=open(log, "w"), stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    wait_http(base, proc, log)
    return proc, base


def stop(proc):
    if proc and proc.poll() is None and proc.pid > 1:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)


def machine():
    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), platform.processor())
    return f"{os.cpu_count()} cores, {cpu}, {platform.system()} {platform.release()}"


def write_section(name, markdown):
    """Replaces the section `name` of docs/benchmarks.md (created if missing)."""
    path = os.path.join(ROOT, "docs", "benchmarks.md")
    text = open(path).read() if os.path.exists(path) else "# Benchmarks\n"
    start, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
    block = f"{start}\n{markdown.strip()}\n{end}"
    if start in text:
        text = re.sub(re.escape(start) + ".*?" + re.escape(end), lambda _: block, text, flags=re.S)
    else:
        text = text.rstrip() + "\n\n" + block + "\n"
    open(path, "w").write(text)
