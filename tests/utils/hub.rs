//! The hub under test. With `SWITCHYARD_BASE_URL` (and `SWITCHYARD_ADMIN_TOKEN`) set, the
//! suites run against that hub (`SWITCHYARD_SIGNING_KEY_FILE` names the PKCS#8 PEM it signs
//! with, if known); otherwise one hub with every function is started for the test binary on a
//! free port with a fresh state directory, in its own process group, and stopped when the
//! binary exits. It runs as `make dev` runs it: `infra/scripts/run-hub.mjs` (the wrangler
//! configs in one Miniflare/workerd, no inspector), or plain `wrangler dev` with
//! `SWITCHYARD_RUNNER=wrangler`.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

pub struct Hub {
    pub base: String,
    pub admin_token: String,
    /// The private key the hub signs with (PKCS#8 PEM): the suite's own when it started the
    /// hub, else the file `SWITCHYARD_SIGNING_KEY_FILE` names, if set.
    pub signing_key_pem: Option<String>,
    pub log: Option<PathBuf>,
}

static HUB: OnceLock<Hub> = OnceLock::new();
static PGID: AtomicI32 = AtomicI32::new(0);
/// The shared hub's temporary directory, removed at exit unless SWITCHYARD_KEEP_STATE is set.
static SHARED_DIR: OnceLock<PathBuf> = OnceLock::new();
const START_TIMEOUT: Duration = Duration::from_secs(180);

/// The suite's test signing key (PKCS#8 PEM).
pub fn test_signing_key_pem() -> String {
    std::fs::read_to_string(root().join("tests/fixtures/test-signing-key.pem")).expect("test signing key")
}

/// The signing key as a hub setting (one line, newlines escaped as the hub reads them).
pub fn signing_key_setting(pem: &str) -> (&'static str, String) {
    ("SWITCHYARD_SIGNING_KEY", pem.trim().replace('\n', "\\n"))
}

pub fn hub() -> &'static Hub {
    HUB.get_or_init(|| {
        let hub = match std::env::var("SWITCHYARD_BASE_URL") {
            Ok(base) => Hub {
                base: base.trim_end_matches('/').to_string(),
                admin_token: std::env::var("SWITCHYARD_ADMIN_TOKEN").expect("SWITCHYARD_ADMIN_TOKEN goes with SWITCHYARD_BASE_URL"),
                signing_key_pem: std::env::var_os("SWITCHYARD_SIGNING_KEY_FILE")
                    .map(|f| std::fs::read_to_string(&f).unwrap_or_else(|e| panic!("SWITCHYARD_SIGNING_KEY_FILE {f:?}: {e}"))),
                log: None,
            },
            Err(_) => start_shared(),
        };
        let seed = std::fs::read(root().join("infra/seed/demo.json")).expect("infra/seed/demo.json");
        let r = crate::api::call("POST", &format!("{}/admin/v1/apply", hub.base), &[("authorization", &format!("Bearer {}", hub.admin_token))], &seed);
        assert_eq!(r.status, 200, "seeding the hub failed: {}", r.text());
        hub
    })
}

pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("workspace root").to_path_buf()
}

fn random_hex(n: usize) -> String {
    let mut buf = vec![0u8; n];
    std::fs::File::open("/dev/urandom").and_then(|mut f| f.read_exact(&mut buf)).expect("/dev/urandom");
    buf.iter().map(|b| format!("{b:02x}")).collect()
}

/// The suite hub's DIP delivery settings (a hub given by SWITCHYARD_BASE_URL must use them too).
pub const SUITE_MAX_RETRY_WAIT_SECS: u32 = 2;
pub const SUITE_CIRCUIT_FAILURES: u32 = 3;
pub const SUITE_CIRCUIT_COOLDOWN_SECS: u32 = 4;

fn start_shared() -> Hub {
    let dir = std::env::temp_dir().join(format!("switchyard-it-{}-{}", std::process::id(), random_hex(4)));
    let signing_key_pem = test_signing_key_pem();
    let admin_token = random_hex(24);
    // The development route `POST /admin/v1/signing/test` is served only with
    // SWITCHYARD_ENABLE_SIGNING_TEST; the suite's hub needs it for e2e_signing.
    // The hub signs its DIP calls with the suite's signing key, under a certificate from the
    // suite's DIP CA (crate::dip::suite_ca) for the hub's DIP ID.
    let certificate = crate::dip::suite_ca().issue(&signing_key_pem, &dip_pki::Leaf::for_party("0000000000", crate::dip::now_ms()));
    let extra = [
        signing_key_setting(&signing_key_pem),
        ("SWITCHYARD_ENABLE_SIGNING_TEST", "true".into()),
        ("SWITCHYARD_SIGNING_CERTIFICATE", certificate.trim().replace('\n', "\\n")),
        // DIP delivery at test speed: retries at most SUITE_MAX_RETRY_WAIT_SECS apart, circuits
        // open after SUITE_CIRCUIT_FAILURES failures for SUITE_CIRCUIT_COOLDOWN_SECS.
        ("SWITCHYARD_DIP_MAX_RETRY_WAIT_SECS", SUITE_MAX_RETRY_WAIT_SECS.to_string()),
        ("SWITCHYARD_CIRCUIT_FAILURES", SUITE_CIRCUIT_FAILURES.to_string()),
        ("SWITCHYARD_CIRCUIT_COOLDOWN_SECS", SUITE_CIRCUIT_COOLDOWN_SECS.to_string()),
    ];
    let process = HubProcess::start(&dir, &admin_token, &extra);
    PGID.store(process.pgid, Ordering::SeqCst);
    let _ = SHARED_DIR.set(dir.clone());
    let (base, log) = (process.base.clone(), process.log.clone());
    // The shared hub lives as long as the test binary; atexit stops it.
    std::mem::forget(process);
    // SAFETY: registers a plain extern "C" fn; it only reads an atomic and sends signals.
    unsafe { libc::atexit(stop_shared) };
    Hub { base, admin_token, signing_key_pem: Some(signing_key_pem), log: Some(log) }
}

/// The program that runs the hub: `SWITCHYARD_RUNNER=wrangler` for plain `wrangler dev`,
/// `SWITCHYARD_RUNNER=spin` for the Spin components on the Spin host emulator
/// (`infra/spin-host`, built by `infra/scripts/spin-host.sh`; the components with
/// `infra/scripts/build.sh --spin`), anything else (or unset) for `infra/scripts/run-hub.mjs`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Runner {
    RunHub,
    WranglerDev,
    Spin,
}

impl Runner {
    pub fn from_env() -> Runner {
        match std::env::var("SWITCHYARD_RUNNER").as_deref() {
            Ok("wrangler") => Runner::WranglerDev,
            Ok("spin") => Runner::Spin,
            _ => Runner::RunHub,
        }
    }
}

/// The Spin host emulator: `SWITCHYARD_SPIN_HOST`, as `make test` sets it
/// (infra/scripts/spin-host.sh builds it into a cache outside the work tree), or a build in
/// `infra/spin-host/target`.
fn spin_host() -> PathBuf {
    let host = std::env::var_os("SWITCHYARD_SPIN_HOST").map(PathBuf::from).unwrap_or_else(|| root().join("infra/spin-host/target/release/spin-host"));
    assert!(host.exists(), "SWITCHYARD_RUNNER=spin needs the emulator at {} (infra/scripts/spin-host.sh builds it)", host.display());
    host
}

/// One hub process group running every function, on a free port, with its state in `dir`.
pub struct HubProcess {
    pub base: String,
    pub log: PathBuf,
    pub pgid: i32,
    dir: PathBuf,
    configs: Vec<String>,
    child: Option<std::process::Child>,
}

impl HubProcess {
    /// Stages the configs with the given admin token and extra settings, then starts.
    pub fn start(dir: &Path, admin_token: &str, extra: &[(&str, String)]) -> HubProcess {
        let mut p = HubProcess::stage(dir, admin_token, extra);
        p.spawn();
        p
    }

    /// The staged wrangler config of `function` (edit it before [`HubProcess::spawn`]).
    pub fn config(&self, function: &str) -> PathBuf {
        self.dir.join("configs").join(function).join("wrangler.toml")
    }

    /// Takes the archive away from `send` before [`HubProcess::spawn`], so the back end cannot
    /// take a message: on Cloudflare its R2 binding, on Spin its key-value store (where Spin
    /// keeps the archive), in a copy of the manifest this hub then runs.
    pub fn withhold_archive_from_send(&self) {
        match Runner::from_env() {
            Runner::Spin => {
                let manifest = std::fs::read_to_string(root().join("spin.toml")).expect("spin.toml");
                let absolute = manifest.replace("source = \"target/", &format!("source = \"{}/target/", root().display()));
                let send = "[component.send]\n";
                let at = absolute.find(send).expect("spin.toml declares component send") + send.len();
                let (head, tail) = absolute.split_at(at);
                let without = tail.replacen("key_value_stores = [\"default\"]\n", "key_value_stores = []\n", 1);
                assert_ne!(tail, without, "send declares the default key-value store");
                std::fs::write(self.dir.join("spin.toml"), format!("{head}{without}")).expect("staged manifest");
            }
            _ => {
                let send = std::fs::read_to_string(self.config("send")).expect("staged send config");
                let without = send.replace("[[r2_buckets]]\nbinding = \"SWITCHYARD_ARCHIVE\"\nbucket_name = \"switchyard-archive\"\n", "");
                assert_ne!(send, without, "the send config binds the archive");
                std::fs::write(self.config("send"), without).expect("staged send config");
            }
        }
    }

    /// Stages the configs without starting the hub.
    pub fn stage(dir: &Path, admin_token: &str, extra: &[(&str, String)]) -> HubProcess {
        std::fs::create_dir_all(dir).expect("temp dir");
        let configs = stage_configs(dir, admin_token, extra);
        HubProcess { base: String::new(), log: dir.join("wrangler.log"), pgid: 0, dir: dir.to_path_buf(), configs, child: None }
    }

    /// Stages the configs again with other settings, keeping the state directory (stop the hub
    /// first; [`HubProcess::spawn`] then starts it on the same state).
    pub fn restage(&mut self, admin_token: &str, extra: &[(&str, String)]) {
        self.configs = stage_configs(&self.dir, admin_token, extra);
    }

    /// (Re)starts the hub on a free port with the same state directory. A port can be taken
    /// between choosing it and the hub binding it, so a start that exits early is retried.
    pub fn spawn(&mut self) {
        let runner = Runner::from_env();
        for attempt in 1..=3 {
            match self.try_spawn(runner) {
                Ok(()) => return,
                Err(tail) if attempt == 3 => panic!("the hub ({runner:?}) exited:\n{tail}"),
                Err(_) => continue,
            }
        }
    }

    fn command(&self, runner: Runner, port: u16, inspector: u16) -> Command {
        let root = root();
        let mut cmd = match runner {
            Runner::RunHub => {
                let mut c = Command::new("node");
                c.arg(root.join("infra/scripts/run-hub.mjs")).args(["--port", &port.to_string(), "--log-level", "warn"]);
                c
            }
            Runner::WranglerDev => {
                // Each hub gets its own inspector port too: two on the default 9229 collide.
                let mut c = Command::new(root.join("node_modules/.bin/wrangler"));
                c.args(["dev", "--port", &port.to_string(), "--inspector-port", &inspector.to_string(), "--ip", "127.0.0.1"])
                    .args(["--show-interactive-dev-session=false", "--log-level", "warn"]);
                c
            }
            Runner::Spin => {
                // The same settings, as Spin's environment provider reads variables.
                let host = spin_host();
                let mut c = Command::new(host);
                let staged = self.dir.join("spin.toml");
                let manifest = if staged.exists() { staged } else { root.join("spin.toml") };
                c.arg("--manifest").arg(manifest).arg("--state").arg(self.dir.join("spin-state"));
                // Compiled components are shared by every hub of the run (keyed by contents).
                c.arg("--cache-dir").arg(root.join("target/spin-host-compiled"));
                c.args(["--listen", &format!("127.0.0.1:{port}")]);
                let vars = std::fs::read_to_string(self.dir.join("test.vars")).expect("the staged settings");
                for (name, value) in vars.lines().filter_map(|l| l.split_once('=')) {
                    c.env(format!("SPIN_VARIABLE_{name}"), value);
                }
                return c;
            }
        };
        cmd.args(&self.configs).arg("--persist-to").arg(self.dir.join("state"));
        cmd
    }

    fn try_spawn(&mut self, runner: Runner) -> Result<(), String> {
        // Both listeners are held at once, so the two ports differ (wrangler dev also needs
        // an inspector port; run-hub.mjs has no inspector).
        let (a, b) = (TcpListener::bind("127.0.0.1:0").expect("free port"), TcpListener::bind("127.0.0.1:0").expect("free port"));
        let (port, inspector) = (a.local_addr().expect("addr").port(), b.local_addr().expect("addr").port());
        drop((a, b));
        let out = std::fs::OpenOptions::new().create(true).append(true).open(&self.log).expect("log file");
        let child = {
            use std::os::unix::process::CommandExt;
            self.command(runner, port, inspector)
                .env("CI", "true")
                .env("WRANGLER_SEND_METRICS", "false")
                .env("CLOUDFLARE_CF_FETCH_ENABLED", "false")
                .current_dir(root())
                .stdin(Stdio::null())
                .stdout(out.try_clone().expect("log"))
                .stderr(out)
                .process_group(0)
                .spawn()
                .expect("node and node_modules (run `make test`, which installs them)")
        };
        self.pgid = child.id() as i32;
        self.child = Some(child);
        let started = Instant::now();
        let log = self.log.clone();
        let tail = move || std::fs::read_to_string(&log).unwrap_or_default();
        while !answers(port) {
            assert!(started.elapsed() < START_TIMEOUT, "the hub ({runner:?}) did not answer within {START_TIMEOUT:?}:\n{}", tail());
            let exited = self.child.as_mut().is_some_and(|c| matches!(c.try_wait(), Ok(Some(_))));
            if exited {
                self.kill_hard();
                return Err(tail());
            }
            std::thread::sleep(Duration::from_millis(300));
        }
        self.base = format!("http://127.0.0.1:{port}");
        Ok(())
    }

    /// SIGKILL to the whole process group (node, workerd): no chance to flush anything.
    pub fn kill_hard(&mut self) {
        if self.pgid > 1 {
            // SAFETY: signals only the process group this process created (checked > 1).
            unsafe { libc::kill(-self.pgid, libc::SIGKILL) };
            if let Some(mut c) = self.child.take() {
                let _ = c.wait();
            }
            // workerd, reparented, is reaped by init; wait until the group is empty.
            let deadline = Instant::now() + Duration::from_secs(10);
            while group_alive(self.pgid) && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(50));
            }
        }
    }
}

impl Drop for HubProcess {
    fn drop(&mut self) {
        self.kill_hard();
        remove_unless_kept(&self.dir);
    }
}

/// Writes the settings file and the staged wrangler configs into `dir`; returns the configs.
fn stage_configs(dir: &Path, admin_token: &str, extra: &[(&str, String)]) -> Vec<String> {
    // The secrets are made once per state directory: a restaged hub still opens what it sealed.
    let secrets_file = dir.join("secrets");
    let secrets = std::fs::read_to_string(&secrets_file).unwrap_or_else(|_| {
        let s = format!("SWITCHYARD_TOKEN_SECRET={}\nSWITCHYARD_SEAL_KEY={}\n", random_hex(32), random_hex(32));
        std::fs::write(&secrets_file, &s).expect("secrets file");
        s
    });
    let mut vars = format!("{secrets}SWITCHYARD_ADMIN_TOKEN={admin_token}\nSWITCHYARD_ALLOW_LOOPBACK_HTTP=true\n");
    for (k, v) in extra {
        vars.push_str(&format!("{k}={v}\n"));
    }
    let vars_file = dir.join("test.vars");
    std::fs::write(&vars_file, vars).expect("vars file");
    let staged = Command::new(root().join("infra/scripts/stage.sh")).arg(dir.join("configs")).arg(&vars_file).output().expect("infra/scripts/stage.sh");
    assert!(staged.status.success(), "stage.sh: {}", String::from_utf8_lossy(&staged.stderr));
    String::from_utf8_lossy(&staged.stdout).split_whitespace().map(String::from).collect()
}

/// True once the hub's gateway answers: its spec 404 (or 500) body, not just any HTTP
/// server that happens to hold the port.
fn answers(port: u16) -> bool {
    let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) else { return false };
    let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
    if s.write_all(b"GET / HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-length: 0\r\n\r\n").is_err() {
        return false;
    }
    let mut buf = [0u8; 1024];
    let mut got = Vec::new();
    while let Ok(n) = s.read(&mut buf) {
        if n == 0 {
            break;
        }
        got.extend_from_slice(&buf[..n]);
        if got.windows(13).any(|w| w == b"Status report") {
            return true;
        }
        if got.len() > 4096 {
            break;
        }
    }
    false
}

fn group_alive(pgid: i32) -> bool {
    // SAFETY: signal 0 only checks that a process of the group exists.
    pgid > 1 && unsafe { libc::kill(-pgid, 0) } == 0
}

extern "C" fn stop_shared() {
    let pgid = PGID.load(Ordering::SeqCst);
    if pgid > 1 {
        // SAFETY: signals only the process group this binary created (checked > 1).
        unsafe { libc::kill(-pgid, libc::SIGTERM) };
        std::thread::sleep(Duration::from_millis(500));
        unsafe { libc::kill(-pgid, libc::SIGKILL) };
    }
    if let Some(dir) = SHARED_DIR.get() {
        remove_unless_kept(dir);
    }
}

/// Test state is removed when the test is done; `SWITCHYARD_KEEP_STATE=1` keeps it (and the
/// hub's log, `wrangler.log`, inside) for a look after a failure.
fn remove_unless_kept(dir: &Path) {
    if std::env::var_os("SWITCHYARD_KEEP_STATE").is_none() {
        let _ = std::fs::remove_dir_all(dir);
    }
}
