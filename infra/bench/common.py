"""Shared pieces of the benchmark drivers: starting a hub (or any set of wrangler configs) on a
free loopback port with the runner `make dev` uses, reading the CPU time of the runtime's
threads from /proc, and writing one section of docs/benchmarks.md between markers.

Runner: `infra/scripts/run-hub.mjs` (the configs in one Miniflare/workerd, no inspector), or
plain `wrangler dev` with SWITCHYARD_RUNNER=wrangler."""
import functools, os, platform, re, signal, socket, subprocess, time, urllib.error, urllib.request

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
RUNNERS = ("run-hub", "wrangler", "spin")
# The processes whose threads run the functions: workerd, or the Spin host emulator.
RUNTIMES = ("workerd", "spin-host")
CLK_TCK = os.sysconf("SC_CLK_TCK")


def runner_of_env():
    return "wrangler" if os.environ.get("SWITCHYARD_RUNNER") == "wrangler" else "run-hub"


@functools.cache
def spin_host():
    """The Spin host emulator, built (or found in its cache) by infra/scripts/spin-host.sh, once
    per run."""
    out = subprocess.run([os.path.join(ROOT, "infra/scripts/spin-host.sh")], check=True, capture_output=True, text=True).stdout
    return out.strip().splitlines()[-1]


def spin_env(vars_text):
    """Settings (NAME=value lines) as Spin's environment provider reads variables."""
    return {f"SPIN_VARIABLE_{k}": v for k, v in (l.split("=", 1) for l in vars_text.splitlines() if "=" in l)}


def probe_component():
    """The emulator's probe component (infra/spin-host/tests/fixture), built for wasm32-wasip2:
    its `GET /` is a no-op, the Spin yardstick."""
    fixture = os.path.join(ROOT, "infra/spin-host/tests/fixture")
    target = os.path.join(ROOT, "target/spin-probe")
    subprocess.run(["cargo", "build", "-q", "--release", "--locked", "--target", "wasm32-wasip2", "--manifest-path",
                    os.path.join(fixture, "Cargo.toml"), "--target-dir", target], check=True)
    return os.path.join(target, "wasm32-wasip2/release/spin_host_probe.wasm")


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
            raise RuntimeError(f"the hub exited:\n{open(log).read()[-3000:]}")
        try:
            urllib.request.urlopen(base + "/", timeout=2)
            return
        except urllib.error.HTTPError:
            return
        except Exception:
            time.sleep(0.1)
    raise RuntimeError(f"the hub did not answer within {timeout} s")


def hub_command(runner, config_args, state_dir, port):
    if runner == "spin":  # config_args: ["--manifest", path]; settings come as SPIN_VARIABLE_*
        return [spin_host(), *config_args, "--state", state_dir, "--listen", f"127.0.0.1:{port}",
                "--cache-dir", os.path.join(ROOT, "target/spin-host-compiled")]
    if runner == "wrangler":
        inspector = free_ports(1)[0]
        return [os.path.join(ROOT, "node_modules/.bin/wrangler"), "dev", *config_args, "--port", str(port),
                "--inspector-port", str(inspector), "--ip", "127.0.0.1", "--persist-to", state_dir,
                "--show-interactive-dev-session=false", "--log-level", "warn"]
    return ["node", os.path.join(ROOT, "infra/scripts/run-hub.mjs"), *config_args, "--port", str(port),
            "--persist-to", state_dir, "--log-level", "warn"]


def start_hub(config_args, state_dir, log, runner=None, extra_env=None):
    """Starts the configs (`-c a -c b ...`, the first one served; for the Spin runner
    `--manifest spin.toml`) in their own process group on a free port; retries if the port was
    taken meanwhile. Returns (process, base URL, seconds from spawn to the first HTTP answer)."""
    runner = runner or runner_of_env()
    env = dict(os.environ, CI="true", WRANGLER_SEND_METRICS="false", CLOUDFLARE_CF_FETCH_ENABLED="false", **(extra_env or {}))
    for attempt in range(3):
        port = free_ports(1)[0]
        t0 = time.time()
        proc = subprocess.Popen(hub_command(runner, config_args, state_dir, port), cwd=ROOT, env=env, stdin=subprocess.DEVNULL,
                                stdout=open(log, "a"), stderr=subprocess.STDOUT, start_new_session=True)
        base = f"http://127.0.0.1:{port}"
        try:
            wait_http(base, proc, log)
            return proc, base, time.time() - t0
        except RuntimeError:
            stop(proc)
            if attempt == 2:
                raise


def start_wrangler(config_args, state_dir, log):
    """The older name: starts with the runner of SWITCHYARD_RUNNER."""
    proc, base, _ = start_hub(config_args, state_dir, log)
    return proc, base


def stop(proc):
    """SIGTERM to the process group the hub was started in, SIGKILL if it lingers."""
    if proc and proc.pid > 1:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        # workerd may outlive its parent for a moment.
        deadline = time.time() + 10
        while group_pids(proc.pid) and time.time() < deadline:
            time.sleep(0.1)


# --- CPU time per thread, from /proc ---------------------------------------------------------

def _stat_fields(path):
    """(comm, fields after the comm) of a /proc stat file, or None if it went away."""
    try:
        raw = open(path).read()
    except OSError:
        return None
    lp, rp = raw.index("("), raw.rindex(")")
    return raw[lp + 1:rp], raw[rp + 2:].split()


def group_pids(pgid):
    """Every live process of a process group."""
    out = []
    for d in os.listdir("/proc"):
        if d.isdigit():
            st = _stat_fields(f"/proc/{d}/stat")
            # after the comm: state, ppid, pgrp, ...
            if st and st[1][2] == str(pgid) and st[1][0] != "Z":
                out.append((int(d), st[0]))
    return out


def pid_listening_on(port):
    """The pid of the process that holds the loopback listening socket of `port`, if visible."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = open(table).read().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            f = line.split()
            if f[3] == "0A" and int(f[1].rsplit(":", 1)[1], 16) == port:
                inodes.add(f[9])
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            for fd in os.listdir(f"/proc/{d}/fd"):
                link = os.readlink(f"/proc/{d}/fd/{fd}")
                if link.startswith("socket:[") and link[8:-1] in inodes:
                    return int(d)
        except OSError:
            continue
    return None


STEAL = ("machine", 0, "steal", False)


def machine_steal():
    """(steal, total) ticks of all CPUs since boot, from /proc/stat."""
    f = [int(x) for x in open("/proc/stat").readline().split()[1:]]
    return f[7], sum(f[:8])


class CpuProbe:
    """CPU time of the runtime's threads: every workerd process of one process group (wrangler
    dev runs two: its proxy and the Workers), and of the whole group (node too)."""

    def __init__(self, pgid):
        self.pgid = pgid

    def sample(self):
        """{(pid, tid, comm, is_workerd): cpu seconds (utime + stime)}, plus the machine's
        (steal, total) ticks under the key STEAL."""
        out = {STEAL: machine_steal()}
        for pid, comm in group_pids(self.pgid):
            try:
                tids = os.listdir(f"/proc/{pid}/task")
            except OSError:
                continue
            for tid in tids:
                st = _stat_fields(f"/proc/{pid}/task/{tid}/stat")
                if st:
                    # utime and stime are fields 14 and 15 of stat; 12 and 13 after the comm.
                    out[(pid, int(tid), st[0], comm in RUNTIMES)] = (int(st[1][11]) + int(st[1][12])) / CLK_TCK
        return out

    @staticmethod
    def delta(before, after, messages, seconds):
        """CPU used between two samples: the busiest workerd thread, all workerd threads and the
        whole group, in ms per message and as a share of one core over `seconds`."""
        steal = (after[STEAL][0] - before[STEAL][0]) / max(1, after[STEAL][1] - before[STEAL][1])
        used = {k: v - before.get(k, 0.0) for k, v in after.items() if k != STEAL}
        workerd = {k: v for k, v in used.items() if k[3]}
        busiest = max(workerd.items(), key=lambda kv: kv[1], default=(None, 0.0))
        total_workerd, total_group = sum(workerd.values()), sum(used.values())
        per_msg = lambda s: round(s * 1000 / messages, 3) if messages else None
        share = lambda s: round(s / seconds, 3) if seconds > 0 else None
        return {
            "busiest_thread": f"{busiest[0][2]} (pid {busiest[0][0]}, tid {busiest[0][1]})" if busiest[0] else None,
            "busiest_thread_ms_per_msg": per_msg(busiest[1]),
            "workerd_ms_per_msg": per_msg(total_workerd),
            "group_ms_per_msg": per_msg(total_group),
            "busiest_thread_core_share": share(busiest[1]),
            "workerd_core_share": share(total_workerd),
            "group_core_share": share(total_group),
            "seconds": round(seconds, 2),
            "by_process_ms_per_msg": {f"{comm} {pid}": per_msg(sum(v for k, v in used.items() if k[0] == pid))
                                      for pid, comm in sorted({(k[0], k[2] if k[0] == k[1] else None) for k in used if k[0] == k[1]})},
            # CPU time the hypervisor gave to others while we waited: a noisy machine.
            "machine_steal_share": round(steal, 3),
        }


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
