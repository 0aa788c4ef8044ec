//! Shared calls: start the emulator on a copy of the hub's spin.toml, and a minimal HTTP client.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub const ADMIN_TOKEN: &str = "spin-host-test-admin-token";

pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().unwrap()
}

/// The directory holding the hub's Spin components (`switchyard_<fn>.wasm`):
/// `SWITCHYARD_WASM_DIR`, or the repository's `target/wasm32-wasip2/release`.
pub fn wasm_dir() -> PathBuf {
    let dir = std::env::var_os("SWITCHYARD_WASM_DIR").map(PathBuf::from).unwrap_or_else(|| repo_root().join("target/wasm32-wasip2/release"));
    assert!(
        dir.join("switchyard_gateway.wasm").exists(),
        "no Spin components in {}: build them with `cargo build --target wasm32-wasip2 --release -p switchyard-<fn>` in the repository root, or set SWITCHYARD_WASM_DIR",
        dir.display()
    );
    dir
}

/// Compiled components, shared by every test and run.
fn cache_dir() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join("spin-host-compiled")
}

/// A fresh scratch directory for one test.
pub fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("spin-host-it-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// The hub's spin.toml (or the file `SWITCHYARD_SPIN_TOML` names) with its sources pointed at
/// [`wasm_dir`], after `edit`, written to `dir`.
pub fn manifest(dir: &Path, edit: impl Fn(String) -> String) -> PathBuf {
    let source = std::env::var_os("SWITCHYARD_SPIN_TOML").map(PathBuf::from).unwrap_or_else(|| repo_root().join("spin.toml"));
    let text = std::fs::read_to_string(source).unwrap();
    let wasm = wasm_dir();
    let text = text.replace("source = \"target/wasm32-wasip2/release/", &format!("source = \"{}/", wasm.display()));
    let edited = edit(text.clone());
    let path = dir.join("spin.toml");
    std::fs::write(&path, edited).unwrap();
    path
}

/// Replaces one exact line of a manifest, failing loudly if the line is not there.
pub fn replace_line(text: &str, line: &str, with: &str) -> String {
    assert!(text.lines().any(|l| l == line), "spin.toml has no line {line:?}");
    text.lines().map(|l| if l == line { with } else { l }).collect::<Vec<_>>().join("\n")
}

pub fn hub_env() -> Vec<(&'static str, &'static str)> {
    vec![
        ("SPIN_VARIABLE_SWITCHYARD_TOKEN_SECRET", "spin-host-test-token-secret-0123456789"),
        ("SPIN_VARIABLE_SWITCHYARD_SEAL_KEY", "spin-host-test-seal-key-0123456789abcdef"),
        ("SPIN_VARIABLE_SWITCHYARD_ADMIN_TOKEN", ADMIN_TOKEN),
        ("SPIN_VARIABLE_SWITCHYARD_ALLOW_LOOPBACK_HTTP", "true"),
    ]
}

/// A running emulator; killed (SIGKILL, as a crash) when dropped.
pub struct Emulator {
    child: Child,
    pub base: String,
    stderr: Arc<Mutex<String>>,
}

impl Emulator {
    pub fn start(manifest: &Path, state: &Path, env: &[(&str, &str)]) -> Emulator {
        match Emulator::try_start(manifest, state, env) {
            Ok(e) => e,
            Err(msg) => panic!("emulator did not start: {msg}"),
        }
    }

    /// Starts the emulator; `Err` holds its stderr if it exits before serving.
    pub fn try_start(manifest: &Path, state: &Path, env: &[(&str, &str)]) -> Result<Emulator, String> {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_spin-host"));
        cmd.args(["--manifest".as_ref(), manifest.as_os_str(), "--state".as_ref(), state.as_os_str(), "--listen".as_ref(), "127.0.0.1:0".as_ref(), "--cache-dir".as_ref(), cache_dir().as_os_str()]);
        for (k, _) in std::env::vars() {
            if k.starts_with("SPIN_VARIABLE_") {
                cmd.env_remove(k);
            }
        }
        cmd.envs(env.iter().copied()).stdout(Stdio::piped()).stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("spawn spin-host");
        let stderr = Arc::new(Mutex::new(String::new()));
        let mut err_pipe = child.stderr.take().unwrap();
        let sink = stderr.clone();
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = err_pipe.read(&mut buf) {
                if n == 0 {
                    break;
                }
                let s = String::from_utf8_lossy(&buf[..n]).into_owned();
                eprint!("{s}");
                sink.lock().unwrap().push_str(&s);
            }
        });
        let mut out = BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        loop {
            line.clear();
            if out.read_line(&mut line).unwrap_or(0) == 0 {
                let _ = child.wait();
                std::thread::sleep(Duration::from_millis(100));
                return Err(stderr.lock().unwrap().clone());
            }
            if let Some(rest) = line.strip_prefix("spin-host: serving http://") {
                let addr = rest.split_whitespace().next().unwrap().to_string();
                std::thread::spawn(move || for _ in out.lines() {});
                return Ok(Emulator { child, base: format!("http://{addr}"), stderr });
            }
        }
    }

    pub fn addr(&self) -> &str {
        self.base.trim_start_matches("http://")
    }

    pub fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    pub fn call(&self, method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> Response {
        call(self.addr(), method, path, headers, body)
    }

    pub fn admin(&self, method: &str, path: &str, body: &[u8]) -> Response {
        let auth = format!("Bearer {ADMIN_TOKEN}");
        self.call(method, path, &[("authorization", &auth), ("content-type", "application/json")], body)
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[derive(Debug)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

/// One HTTP/1.1 request on its own connection.
pub fn call(addr: &str, method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> Response {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    let mut req = format!("{method} {path} HTTP/1.1\r\nhost: {addr}\r\nconnection: close\r\ncontent-length: {}\r\n", body.len());
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    s.write_all(req.as_bytes()).unwrap();
    s.write_all(body).unwrap();
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).unwrap();
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n").expect("no end of headers");
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let mut lines = head.split("\r\n");
    let status = lines.next().unwrap().split(' ').nth(1).unwrap().parse().unwrap();
    let headers: Vec<(String, String)> = lines.filter_map(|l| l.split_once(':')).map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string())).collect();
    let mut body = raw[split + 4..].to_vec();
    if headers.iter().any(|(k, v)| k == "transfer-encoding" && v.eq_ignore_ascii_case("chunked")) {
        body = dechunk(&body);
    }
    Response { status, headers, body: String::from_utf8_lossy(&body).into_owned() }
}

fn dechunk(mut b: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let eol = b.windows(2).position(|w| w == b"\r\n").unwrap();
        let size = usize::from_str_radix(std::str::from_utf8(&b[..eol]).unwrap().split(';').next().unwrap().trim(), 16).unwrap();
        if size == 0 {
            return out;
        }
        out.extend_from_slice(&b[eol + 2..eol + 2 + size]);
        b = &b[eol + 2 + size + 2..];
    }
}

/// Builds the probe component (tests/fixture) once per test run and returns its path.
pub fn probe_wasm() -> PathBuf {
    static BUILT: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    BUILT
        .get_or_init(|| {
            let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixture");
            let target = Path::new(env!("CARGO_TARGET_TMPDIR")).join("probe");
            let status = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
                .args(["build", "--release", "--locked", "--target", "wasm32-wasip2", "--manifest-path"])
                .arg(fixture.join("Cargo.toml"))
                .arg("--target-dir")
                .arg(&target)
                .status()
                .expect("run cargo for the probe component");
            assert!(status.success(), "building tests/fixture for wasm32-wasip2 failed");
            target.join("wasm32-wasip2/release/spin_host_probe.wasm")
        })
        .clone()
}

/// A one-thread HTTP server on 127.0.0.1 answering every request with 204; returns its port.
pub fn http_sink() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for mut s in listener.incoming().flatten() {
            let mut buf = [0u8; 4096];
            let _ = s.read(&mut buf);
            let _ = s.write_all(b"HTTP/1.1 204 No Content\r\nconnection: close\r\n\r\n");
        }
    });
    port
}
