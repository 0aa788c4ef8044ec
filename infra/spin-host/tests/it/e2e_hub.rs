use crate::utils::*;

fn demo_seed() -> Vec<u8> {
    std::fs::read(repo_root().join("infra/seed/demo.json")).unwrap()
}

#[test]
fn e2e_gateway_answers_every_path() {
    let dir = scratch("gateway");
    let m = manifest(&dir, |t| t);
    let hub = Emulator::start(&m, &dir.join("state"), &hub_env());
    for path in ["/", "/no/such/path"] {
        let r = hub.call("GET", path, &[], b"");
        // The emulator's own 404 is the plain text "Not Found"; anything else came from the gateway.
        assert_ne!(r.body, "Not Found", "{path} did not reach the gateway: {r:?}");
        assert!(r.status >= 200 && r.status < 500, "{path}: {r:?}");
        assert!(r.headers.iter().any(|(k, v)| k == "content-type" && v == "application/json"), "{path}: {r:?}");
    }
}

#[test]
fn e2e_admin_apply_through_chaining_persists_across_restarts() {
    let dir = scratch("admin");
    let m = manifest(&dir, |t| t);
    let state = dir.join("state");
    {
        let hub = Emulator::start(&m, &state, &hub_env());
        assert_eq!(hub.call("GET", "/admin/v1/participants/RCPID/BBCD", &[], b"").status, 401, "admin API without a token");
        let r = hub.admin("POST", "/admin/v1/apply", &demo_seed());
        assert_eq!(r.status, 200, "{r:?}");
        // Written by the previous request, read by this one.
        let r = hub.admin("GET", "/admin/v1/participants/RCPID/BBCD", b"");
        assert_eq!(r.status, 200, "{r:?}");
        assert!(r.body.contains("Bluebird Comms"), "{r:?}");
    } // SIGKILL
    let hub = Emulator::start(&m, &state, &hub_env());
    let r = hub.admin("GET", "/admin/v1/participants/RCPID/BBCD", b"");
    assert_eq!(r.status, 200, "after a restart on the same state: {r:?}");
    assert!(r.body.contains("Bluebird Comms"), "{r:?}");
    drop(hub);
    let hub = Emulator::start(&m, &dir.join("other-state"), &hub_env());
    assert_eq!(hub.admin("GET", "/admin/v1/participants/RCPID/BBCD", b"").status, 404, "a fresh state directory starts empty");
}

#[test]
fn e2e_required_variable_without_value_fails_startup() {
    let dir = scratch("required");
    let m = manifest(&dir, |t| t);
    let env: Vec<_> = hub_env().into_iter().filter(|(k, _)| *k != "SPIN_VARIABLE_SWITCHYARD_ADMIN_TOKEN").collect();
    let err = Emulator::try_start(&m, &dir.join("state"), &env).err().expect("started without a required variable");
    assert!(err.contains("SPIN_VARIABLE_SWITCHYARD_ADMIN_TOKEN"), "{err}");
}
