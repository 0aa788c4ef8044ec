//! The rows of TOTSCo API v2.0 §2.1.8.1 that need a hub in trouble: 500/101503 when the back
//! end cannot take the message (nothing is acknowledged, so the sender retries), and
//! 503/700700 when the operator blocked an API. A hub of its own: `send` has no archive
//! (no R2 binding on Cloudflare, no key-value store on Spin) and the directory API is blocked.

use serde_json::json;
use switchyard_tests::api::{call, client, letter, unique_rcpid, MATCH_REQUEST};
use switchyard_tests::hub::{Hub, HubProcess};

#[test]
fn e2e_500_101503_and_503_700700() {
    let dir = std::env::temp_dir().join(format!("switchyard-degraded-{}-{}", std::process::id(), unique_rcpid()));
    let admin = "degraded-test-admin-token-01";
    let mut process = HubProcess::stage(&dir, admin, &[("SWITCHYARD_BLOCKED_APIS", "directory".into())]);
    process.withhold_archive_from_send();
    process.spawn();
    let hub = Hub { base: process.base.clone(), admin_token: admin.into(), signing_key_pem: None, log: None };
    let seed = std::fs::read(switchyard_tests::hub::root().join("infra/seed/demo.json")).unwrap();
    assert_eq!(call("POST", &hub.url("/admin/v1/apply"), &[("authorization", &format!("Bearer {admin}"))], &seed).status, 200);

    let (sender, recipient) = (unique_rcpid(), unique_rcpid());
    for id in [&sender, &recipient] {
        let entry = json!({ "name": id, "processSupport": [{ "process": "OTS", "status": "ACTIVE" }] });
        assert_eq!(hub.admin("PUT", &format!("/admin/v1/participants/RCPID/{id}"), &entry).status, 200);
    }
    let (id, secret) = client(&hub, &json!({ "identities": [{ "listType": "RCPID", "id": sender }], "routingIDs": [MATCH_REQUEST] }));
    let token = hub.token(&id, &secret);

    let r = hub.post_letter("v2", &token, &letter(&sender, &recipient, MATCH_REQUEST, "no-archive", None));
    assert_eq!(r.status, 500);
    assert_eq!(r.json(), json!({ "code": "101503", "type": "Status report", "message": "Runtime Error", "description": "Error connecting to the back end" }));

    let r = call("GET", &hub.url("/directory/v2/entry?listType=RCPID"), &[("authorization", &format!("Bearer {token}"))], b"");
    assert_eq!(r.status, 503);
    assert_eq!(
        r.json(),
        json!({ "code": "700700", "type": "API blocked", "description": "This API has been blocked temporarily. Please try again later or contact the system administrators." })
    );
    // The admin API stays reachable, so the operator can act.
    assert_eq!(hub.admin("GET", &format!("/admin/v1/participants/RCPID/{sender}"), &serde_json::Value::Null).status, 200);
}
