//! TOTSCo API v2.0 §2.2.2 and §2.2.3: every way to ask the directory, and its 404s.

use serde_json::json;
use switchyard_tests::api::{call, participant, unique_rcpid};
use switchyard_tests::{hub, Fixture};

fn get(f: &Fixture, version: &str, query: &str) -> switchyard_tests::Resp {
    let auth = format!("Bearer {}", f.token());
    call("GET", &f.hub.url(&format!("/directory/{version}/entry{query}")), &[("authorization", &auth)], b"")
}

fn ids(body: &serde_json::Value) -> Vec<String> {
    body["list"][0]["identity"].as_array().unwrap().iter().map(|i| i["id"].as_str().unwrap().to_string()).collect()
}

#[test]
fn e2e_one_identity_has_the_2_2_3_structure() {
    let f = Fixture::new();
    let id = unique_rcpid();
    let entry = json!({
        "name": "Xenon Telecom",
        "processSupport": [{ "process": "OTS", "status": "ACTIVE" }],
        "resource": [{ "name": "salesAssistURL", "type": "URL", "value": "https://xenon.example/sales" }]
    });
    assert_eq!(f.hub.admin("PUT", &format!("/admin/v1/participants/RCPID/{id}"), &entry).status, 200);
    for v in ["v1", "v2"] {
        let r = get(&f, v, &format!("?listType=RCPID&identity={id}"));
        assert_eq!(r.status, 200, "{v}");
        assert_eq!(
            r.json(),
            json!({ "list": [{ "listType": "RCPID", "identity": [{
                "id": id, "name": "Xenon Telecom",
                "processSupport": [{ "process": "OTS", "status": "ACTIVE" }],
                "resource": [{ "name": "salesAssistURL", "type": "URL", "value": "https://xenon.example/sales" }]
            }] }] })
        );
    }
}

#[test]
fn e2e_all_blank_and_absent_identity_return_the_whole_list() {
    let f = Fixture::new();
    let whole = ids(&get(&f, "v2", "?listType=RCPID").json());
    assert!(whole.contains(&f.sender) && whole.contains(&f.recipient) && whole.contains(&"KSTB".to_string()));
    for q in ["?listType=RCPID&identity=all", "?listType=RCPID&identity=", "?listType=RCPID&identity=%20"] {
        let got = ids(&get(&f, "v2", q).json());
        for id in [&f.sender, &f.recipient] {
            assert!(got.contains(id), "{q}");
        }
    }
}

#[test]
fn e2e_a_process_name_returns_the_identities_supporting_it() {
    let f = Fixture::new();
    let gplb_only = unique_rcpid();
    participant(f.hub, &gplb_only, &[("GPLB", "ACTIVE")]);
    let ots = ids(&get(&f, "v2", "?listType=RCPID&identity=OTS").json());
    assert!(ots.contains(&f.sender) && !ots.contains(&gplb_only));
    let gplb = ids(&get(&f, "v2", "?listType=RCPID&identity=GPLB").json());
    assert!(gplb.contains(&gplb_only) && !gplb.contains(&f.sender));
}

#[test]
fn e2e_404_bodies_of_2_2_3_c_d_e() {
    let f = Fixture::new();
    let r = get(&f, "v2", "");
    assert_eq!((r.status, r.json()), (404, json!({ "code": "404", "description": "Invalid ListType, ListType cannot be empty" })));
    let r = get(&f, "v2", "?listType=NOPE");
    assert_eq!((r.status, r.json()), (404, json!({ "code": "404", "description": "Invalid ListType, ListType is not available in directory hub" })));
    let r = get(&f, "v2", "?listType=RCPID&identity=QQQQ");
    assert_eq!((r.status, r.json()), (404, json!({ "code": "404", "description": "Invalid identity, identity not available in directory hub" })));
}

#[test]
fn e2e_directory_needs_credentials() {
    let h = hub();
    let r = call("GET", &h.url("/directory/v2/entry?listType=RCPID"), &[], b"");
    assert_eq!((r.status, r.json()["code"].clone()), (401, json!("900902")));
    let r = call("GET", &h.url("/directory/v2/entry?listType=RCPID"), &[("authorization", "Bearer nope")], b"");
    assert_eq!((r.status, r.json()["code"].clone()), (401, json!("900901")));
}
