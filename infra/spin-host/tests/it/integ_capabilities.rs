//! Each test removes one declaration from a copy of the hub's spin.toml and shows the
//! component is refused what it no longer declares, while the unedited manifest works.

use crate::utils::*;

fn apply_status(hub: &Emulator) -> u16 {
    let seed = std::fs::read(repo_root().join("infra/seed/demo.json")).unwrap();
    hub.admin("POST", "/admin/v1/apply", &seed).status
}

#[test]
fn integ_undeclared_key_value_store_is_refused() {
    let dir = scratch("kv-denied");
    let m = manifest(&dir, |t| {
        let admin = t.find("[component.admin]").unwrap();
        let (head, tail) = t.split_at(admin);
        format!("{head}{}", tail.replacen("key_value_stores = [\"default\"]", "key_value_stores = []", 1))
    });
    let hub = Emulator::start(&m, &dir.join("state"), &hub_env());
    assert_ne!(apply_status(&hub), 200);
    assert!(hub.stderr().contains("component admin may not open key-value store \"default\""), "{}", hub.stderr());
}

#[test]
fn integ_undeclared_outbound_host_is_refused() {
    let dir = scratch("host-denied");
    let m = manifest(&dir, |t| t.replace(", \"http://admin.spin.internal\"", ""));
    let hub = Emulator::start(&m, &dir.join("state"), &hub_env());
    assert_ne!(apply_status(&hub), 200);
    assert!(hub.stderr().contains("component gateway may not send to http://admin.spin.internal:80"), "{}", hub.stderr());
}

#[test]
fn integ_undeclared_variable_is_undefined() {
    let dir = scratch("variable-denied");
    // The gateway loses its admin token: the application still defines it, the gateway may not read it.
    let m = manifest(&dir, |t| replace_line(&t, "switchyard_admin_token = \"{{ switchyard_admin_token }}\"", ""));
    let hub = Emulator::start(&m, &dir.join("state"), &hub_env());
    // Without the variable the gateway has no admin token, so no bearer token is the admin's.
    assert_eq!(apply_status(&hub), 401);
}
