//! The MPAN address table (MAMS, DSD002 7.5) at scale: `PUT|GET|DELETE
//! /admin/v1/dip/mams/{MPANCore}` one MPAN at a time, `POST /admin/v1/dip/mams` NDJSON loads
//! of thousands (all or nothing, a bad line named), and secondary addressing reading what
//! was loaded.

use serde_json::{json, Value};
use switchyard_tests::api::unique_dip_id;
use switchyard_tests::dip::{batch, catalogue, dip, message, party};
use switchyard_tests::hub;

/// `n` fresh MPAN cores for this run: 13 digits, unique per call.
fn mpans(n: usize) -> Vec<String> {
    let run = &unique_dip_id()[2..];
    (0..n).map(|i| format!("1{run}{i:04}")).collect()
}

fn history(dip_id: &str, from: &str) -> Value {
    json!({ "parties": [{ "roleID": "SUP", "DIPID": dip_id, "effectiveFrom": from, "effectiveTo": null }] })
}

fn line(mpan: &str, h: &Value) -> String {
    let mut l = h.clone();
    l["MPANCore"] = json!(mpan);
    l.to_string()
}

fn load(lines: &[String]) -> switchyard_tests::Resp {
    hub().admin_bytes("POST", "/admin/v1/dip/mams", "application/x-ndjson", lines.join("\n").as_bytes())
}

#[test]
fn e2e_dip_mams_single_put_get_delete() {
    let h = hub();
    let [mpan]: [String; 1] = mpans(1).try_into().unwrap();
    let path = format!("/admin/v1/dip/mams/{mpan}");
    assert_eq!(h.admin("GET", &path, &Value::Null).status, 404);
    assert_eq!(h.admin("DELETE", &path, &Value::Null).status, 404);
    let two = json!({ "parties": [
        { "roleID": "SUP", "DIPID": "1000000002", "effectiveFrom": "2024-01-01T00:00:00+00:00", "effectiveTo": "2025-01-01T00:00:00+00:00" },
        { "roleID": "MOP", "DIPID": "1000000005", "effectiveFrom": "2024-01-01T00:00:00+00:00", "effectiveTo": null }
    ]});
    let r = h.admin("PUT", &path, &two);
    assert_eq!((r.status, r.json()), (200, two.clone()));
    assert_eq!(h.admin("GET", &path, &Value::Null).json(), two, "read straight after the write");
    let one = history("1000000003", "2025-01-01T00:00:00+00:00");
    assert_eq!(h.admin("PUT", &path, &one).status, 200);
    assert_eq!(h.admin("GET", &path, &Value::Null).json(), one, "a PUT replaces the whole history");
    assert_eq!(h.admin("POST", &path, &one).status, 405);
    assert_eq!(h.admin("DELETE", &path, &Value::Null).status, 204);
    assert_eq!(h.admin("GET", &path, &Value::Null).status, 404);
    assert_eq!(h.admin("DELETE", &path, &Value::Null).status, 404);
}

#[test]
fn e2e_dip_mams_bulk_load_of_thousands() {
    let h = hub();
    let all = mpans(3000);
    let dip_of = |i: usize| format!("{:010}", 1_000_000_000 + i);
    let lines: Vec<String> = all.iter().enumerate().map(|(i, m)| line(m, &history(&dip_of(i), "2024-01-01T00:00:00+00:00"))).collect();
    let r = load(&lines);
    assert_eq!((r.status, r.json()), (200, json!({ "loaded": 3000 })), "{}", r.text());
    for i in (0..3000).step_by(211).chain([2999]) {
        let got = h.admin("GET", &format!("/admin/v1/dip/mams/{}", all[i]), &Value::Null);
        assert_eq!((got.status, got.json()), (200, history(&dip_of(i), "2024-01-01T00:00:00+00:00")), "{}", all[i]);
    }
    // A reload replaces each history whole; the later of two lines for one MPAN wins.
    let again = [line(&all[7], &history("1000000008", "2024-02-01T00:00:00+00:00")), line(&all[7], &history("1000000009", "2024-03-01T00:00:00+00:00"))];
    assert_eq!(load(&again).json(), json!({ "loaded": 2 }));
    assert_eq!(h.admin("GET", &format!("/admin/v1/dip/mams/{}", all[7]), &Value::Null).json(), history("1000000009", "2024-03-01T00:00:00+00:00"));
    assert_eq!(h.admin("GET", "/admin/v1/dip/mams", &Value::Null).status, 405);
}

#[test]
fn e2e_dip_mams_a_bad_line_rejects_the_whole_load() {
    let h = hub();
    let fresh = mpans(50);
    let mut lines: Vec<String> = fresh.iter().map(|m| line(m, &history("1000000002", "2024-01-01T00:00:00+00:00"))).collect();
    lines[36] = line(&fresh[36], &json!({ "parties": [{ "roleID": "SUP", "DIPID": "1000000002", "effectiveFrom": "yesterday", "effectiveTo": null }] }));
    let r = load(&lines);
    assert_eq!(r.status, 400, "{}", r.text());
    assert!(r.text().contains("line 37"), "the 400 names the line: {}", r.text());
    for m in [&fresh[0], &fresh[35], &fresh[49]] {
        assert_eq!(h.admin("GET", &format!("/admin/v1/dip/mams/{m}"), &Value::Null).status, 404, "nothing of a rejected load is written");
    }
    lines[36] = "{\"MPANCore\": \"123\", \"parties\": []}".into();
    assert!(load(&lines).text().contains("line 37"));
    let too_many: Vec<String> = mpans(10_001).iter().map(|m| line(m, &history("1000000002", "2024-01-01T00:00:00+00:00"))).collect();
    let r = load(&too_many);
    assert_eq!(r.status, 400);
    assert!(r.text().contains("10000 lines"), "the 400 says the limit: {}", r.text());
    assert_eq!(load(&[]).status, 400, "an empty load");
}

/// A channel with secondary addressing by MAMS, other than the suite's IF-021 (whose
/// configuration other tests rely on): the first event whose generated message names
/// `M0.MPANCore`. Returns (channel, event, the sender role the schema generates).
fn mpan_channel() -> (String, String, String) {
    for (id, channel) in &catalogue().channels {
        // Channels other suites configure for themselves.
        if ["IF-001", "IF-005", "IF-006", "IF-019", "IF-020", "IF-021", "IF-022", "IF-023"].contains(&id.as_str()) {
            continue;
        }
        for (event, e) in &channel.events {
            let Ok(m) = dip_catalogue::generate::instance(&e.schema) else { continue };
            if let (Some(_), Some(role)) = (m.pointer("/CommonBlock/M0/MPANCore"), m.pointer("/CommonBlock/S1/senderRoleID").and_then(Value::as_str)) {
                return (id.clone(), event.clone(), role.to_string());
            }
        }
    }
    panic!("no channel of the catalogue names M0.MPANCore");
}

#[test]
fn e2e_dip_mams_secondary_addressing_reads_the_loaded_table() {
    let h = hub();
    let d = dip();
    let (channel, event, role) = mpan_channel();
    let sender = party(h, &d.ca, &[&role], None);
    let config = json!({ "senderRoles": [role], "addressing": { "secondary": { "roles": ["SUP"] } } });
    assert_eq!(h.admin("PUT", &format!("/admin/v1/dip/channels/{channel}"), &config).status, 200);
    let [known, unknown]: [String; 2] = mpans(2).try_into().unwrap();
    assert_eq!(load(&[line(&known, &history(&d.sup.id, "2024-01-01T00:00:00+00:00"))]).status, 200);

    let send = |mpan: &str| {
        let mut m = message(&channel, &event, &sender.id, &role);
        dip_catalogue::generate::set(&mut m, "/CommonBlock/M0/MPANCore", json!(mpan)).unwrap();
        let r = d.post(&sender, &format!("/dip-channel/{channel}"), &batch(&[m]));
        r.json()["messageArray"][0]["message"].as_str().map(String::from).unwrap_or_else(|| panic!("{}: {}", r.status, r.text()))
    };
    assert_eq!(send(&known), "MSG0000 - Success", "the supplier loaded for the MPAN receives it");
    assert!(send(&unknown).starts_with("MSG1038"), "no MAMS party for an MPAN never loaded");
}

#[test]
fn e2e_dip_mams_seed_bundles_load_the_address_table() {
    let h = hub();
    dip(); // applies infra/seed/demo-dip.json, whose dip.mams goes through POST /admin/v1/apply
    let seed: Value = serde_json::from_slice(&std::fs::read(switchyard_tests::hub::root().join("infra/seed/demo-dip.json")).unwrap()).unwrap();
    let seeded = seed["dip"]["mams"].as_array().expect("the demo DIP seed holds MAMS");
    assert!(!seeded.is_empty());
    for m in seeded {
        let got = h.admin("GET", &format!("/admin/v1/dip/mams/{}", m["MPANCore"].as_str().unwrap()), &Value::Null);
        assert_eq!((got.status, got.json()), (200, json!({ "parties": m["parties"] })));
    }
}

/// An accepted IF-001 registration notice appoints its incoming supplier in MAMS from its
/// effective date, ending the supplier period it supersedes (dip::mams).
#[test]
fn e2e_dip_registration_notices_keep_mams_current() {
    let d = switchyard_tests::dip::dip();
    let h = switchyard_tests::hub();
    let registration = switchyard_tests::dip::party(h, &d.ca, &["RGS"], None);
    let config = serde_json::json!({ "senderRoles": ["RGS"], "addressing": { "always": { "DIPIDs": [d.sup.id] } } });
    assert_eq!(h.admin("PUT", "/admin/v1/dip/channels/IF-001", &config).status, 200);
    let mpan = format!("19{}1", &switchyard_tests::api::unique_dip_id()[..10]);
    let path = format!("/admin/v1/dip/mams/{mpan}");
    let before = serde_json::json!({ "parties": [{ "roleID": "SUP", "DIPID": "1000000002", "effectiveFrom": "2024-01-01T00:00:00+00:00", "effectiveTo": null }] });
    assert_eq!(h.admin("PUT", &path, &before).status, 200);
    let mut m = switchyard_tests::dip::message("IF-001", "InitialRegistration", &registration.id, "RGS");
    m["CommonBlock"]["M0"]["MPANCore"] = serde_json::json!(mpan);
    m["CustomBlock"]["B002"]["incomingSupplierDIPID"] = serde_json::json!(d.sup.id);
    m["CustomBlock"]["B002"]["supplierEffectiveFromDate"] = serde_json::json!("2026-05-01T00:00:00+00:00");
    let r = d.post(&registration, "/dip-channel/IF-001", &switchyard_tests::dip::batch(&[m]));
    let stored = (h.admin("GET", "/admin/v1/dip/channels/IF-001", &serde_json::Value::Null).text(),
                  h.admin("GET", &format!("/admin/v1/dip/participants/{}", registration.id), &serde_json::Value::Null).text());
    assert_eq!(r.status, 201, "{} (stored: {stored:?})", r.text());
    let after = h.admin("GET", &path, &serde_json::Value::Null).json();
    assert_eq!(after["parties"][0]["effectiveTo"], "2026-05-01T00:00:00+00:00", "{after}");
    assert_eq!(after["parties"][1], serde_json::json!({ "roleID": "SUP", "DIPID": d.sup.id, "effectiveFrom": "2026-05-01T00:00:00+00:00", "effectiveTo": null }));
}
