//! The probe component (tests/fixture) asks for capabilities by name: what its manifest
//! declares is granted, anything else is refused with the error Spin's interfaces define.

use crate::utils::*;
use std::path::Path;

fn probe_manifest(dir: &Path, sink_port: u16) -> std::path::PathBuf {
    let text = format!(
        r#"spin_manifest_version = 2
[application]
name = "probe"
[variables]
granted = {{ default = "visible" }}
withheld = {{ default = "hidden" }}
[[trigger.http]]
route = "/..."
component = "probe"
[component.probe]
source = "{wasm}"
key_value_stores = ["default"]
sqlite_databases = ["default"]
allowed_outbound_hosts = ["http://127.0.0.1:{sink_port}"]
[component.probe.variables]
granted = "{{{{ granted }}}}"
"#,
        wasm = probe_wasm().display()
    );
    let path = dir.join("spin.toml");
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn integ_probe_granted_and_refused() {
    let dir = scratch("probe");
    let sink = http_sink();
    let m = probe_manifest(&dir, sink);
    let state = dir.join("state");
    {
        let e = Emulator::start(&m, &state, &[]);
        // Key-value: the declared store works, another label is access-denied.
        assert_eq!(e.call("PUT", "/kv/default/k", &[], b"v1").status, 200);
        let r = e.call("GET", "/kv/default/k", &[], b"");
        assert_eq!((r.status, r.body.as_str()), (200, "v1"));
        let r = e.call("GET", "/kv/other/k", &[], b"");
        assert_eq!((r.status, r.body.as_str()), (500, "Error::AccessDenied"));
        // Variables: the declared one has its value, the application's other one is undefined.
        let r = e.call("GET", "/var/granted", &[], b"");
        assert_eq!((r.status, r.body.as_str()), (200, "visible"));
        let r = e.call("GET", "/var/withheld", &[], b"");
        assert_eq!(r.status, 500);
        assert!(r.body.starts_with("Error::Undefined("), "{r:?}");
        let r = e.call("GET", "/var/Not-A-Name", &[], b"");
        assert!(r.body.starts_with("Error::InvalidName("), "{r:?}");
        // SQLite, both interface versions, on the declared database; another is access-denied.
        assert_eq!(e.call("POST", "/sql2/default", &[], b"CREATE TABLE t (x TEXT)").status, 200);
        let r = e.call("POST", "/sql3/default", &[], b"INSERT INTO t VALUES ('a')");
        assert_eq!(r.status, 200, "{r:?}");
        assert!(r.body.ends_with("rowid=1 changes=1"), "{r:?}");
        let r = e.call("POST", "/sql2/default", &[], b"SELECT x FROM t");
        assert_eq!((r.status, r.body.as_str()), (200, r#"["x"] ["[Value::Text(\"a\")]"]"#));
        let r = e.call("POST", "/sql2/other", &[], b"SELECT 1");
        assert_eq!((r.status, r.body.as_str()), (500, "Error::AccessDenied"));
        let r = e.call("POST", "/sql3/other", &[], b"SELECT 1");
        assert_eq!((r.status, r.body.as_str()), (500, "Error::AccessDenied"));
        // Outbound HTTP: the declared host:port is reached, the same server by another name is not.
        let r = e.call("GET", &format!("/out/http://127.0.0.1:{sink}/x"), &[], b"");
        assert_eq!((r.status, r.body.as_str()), (200, "204"));
        let r = e.call("GET", &format!("/out/http://localhost:{sink}/x"), &[], b"");
        assert_eq!(r.status, 500);
        assert!(r.body.contains("HttpRequestDenied"), "{r:?}");
        // Chaining to a component the manifest lacks is refused before it is looked up.
        let r = e.call("GET", "/out/http://nothere.spin.internal/", &[], b"");
        assert!(r.body.contains("HttpRequestDenied"), "{r:?}");
    } // SIGKILL
    let e = Emulator::start(&m, &state, &[]);
    let r = e.call("GET", "/kv/default/k", &[], b"");
    assert_eq!((r.status, r.body.as_str()), (200, "v1"), "key-value after a SIGKILL and restart");
    let r = e.call("POST", "/sql2/default", &[], b"SELECT x FROM t");
    assert_eq!((r.status, r.body.as_str()), (200, r#"["x"] ["[Value::Text(\"a\")]"]"#), "SQLite after a SIGKILL and restart");
}

/// A component that declares no key-value store and no SQLite database at all is refused both
/// interfaces (`access-denied`, as Spin refuses them), even the `default` labels.
#[test]
fn integ_undeclared_interfaces_are_refused() {
    let dir = scratch("no-interfaces");
    let sink = http_sink();
    let m = probe_manifest(&dir, sink);
    let text = std::fs::read_to_string(&m).unwrap().replace("key_value_stores = [\"default\"]\n", "").replace("sqlite_databases = [\"default\"]\n", "");
    assert!(!text.contains("key_value_stores") && !text.contains("sqlite_databases"));
    std::fs::write(&m, text).unwrap();
    let e = Emulator::start(&m, &dir.join("state"), &[]);
    let r = e.call("GET", "/kv/default/k", &[], b"");
    assert_eq!((r.status, r.body.as_str()), (500, "Error::AccessDenied"));
    for version in ["sql2", "sql3"] {
        let r = e.call("POST", &format!("/{version}/default"), &[], b"SELECT 1");
        assert_eq!((r.status, r.body.as_str()), (500, "Error::AccessDenied"), "{version}");
    }
}

/// The cron trigger runs a component on its schedule with no request: `tick`, the probe with
/// no HTTP trigger, counts its runs where `probe` can read them, and no request reaches it.
#[test]
fn integ_cron_trigger_runs_on_schedule() {
    let dir = scratch("cron");
    let sink = http_sink();
    let m = probe_manifest(&dir, sink);
    let text = std::fs::read_to_string(&m).unwrap();
    let tick = format!("[[trigger.cron]]\ncomponent = \"tick\"\ncron_expression = \"* * * * * *\"\n[component.tick]\nsource = \"{}\"\nkey_value_stores = [\"default\"]\n", probe_wasm().display());
    let text = text.replace("allowed_outbound_hosts = [", "allowed_outbound_hosts = [\"http://tick.spin.internal\", ");
    std::fs::write(&m, format!("{text}{tick}")).unwrap();
    let e = Emulator::start(&m, &dir.join("state"), &[]);
    let runs = || e.call("GET", "/kv/default/cron-runs", &[], b"").body.parse::<u64>().unwrap_or(0);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    while runs() < 2 {
        assert!(std::time::Instant::now() < deadline, "the cron trigger ran {} times in 15 s (every second expected)", runs());
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    let stamp: u64 = e.call("GET", "/kv/default/cron-timestamp", &[], b"").body.parse().unwrap();
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    assert!(now.abs_diff(stamp) < 20, "the run's metadata carries the time in seconds: {stamp} (now {now})");
    // A component no HTTP trigger names is not reachable by chaining.
    let r = e.call("GET", "/out/http://tick.spin.internal/", &[], b"");
    assert_eq!(r.status, 500, "{r:?}");
    assert!(!r.body.contains("200"), "{r:?}");
}
