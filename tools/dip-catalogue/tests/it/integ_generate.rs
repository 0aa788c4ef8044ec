//! The generator yields a valid message for every event, and overrides shape it.

use serde_json::json;

use crate::utils::{catalogue, errors, event, payload};
use dip_catalogue::generate::{instance, set, EVENT_CODE, INTERFACE_ID, S1, SCHEMA_VERSION};

#[test]
fn every_event_generates_a_valid_message() {
    let mut count = 0;
    for (id, channel) in &catalogue().channels {
        for (code, event) in &channel.events {
            let message = instance(&event.schema).unwrap_or_else(|e| panic!("{id} {code}: {e}"));
            assert_eq!(message["CommonBlock"]["S0"]["interfaceID"], json!(id));
            assert_eq!(
                message["CommonBlock"]["S0"]["eventCode"],
                json!(format!("[{code}]"))
            );
            assert_eq!(
                errors(&event.schema, &message),
                Vec::<String>::new(),
                "{id} {code}"
            );
            count += 1;
        }
    }
    assert_eq!(count, 146);
}

#[test]
fn generation_is_deterministic() {
    assert_eq!(
        payload("IF-021", "ActivePower"),
        payload("IF-021", "ActivePower")
    );
}

#[test]
fn generated_timestamps_are_real_date_times() {
    let message = payload("IF-001", "InitialRegistration");
    assert_eq!(
        message["CommonBlock"]["S1"]["senderTimestamp"],
        "2026-04-01T12:00:00+00:00"
    );
}

#[test]
fn overrides_change_s0_and_s1() {
    let schema = &event("IF-021", "ActivePower").schema;
    let mut message = payload("IF-021", "ActivePower");
    set(
        &mut message,
        &format!("{S1}/senderDIPID"),
        json!("2000000002"),
    )
    .unwrap();
    set(&mut message, &format!("{S1}/senderRoleID"), json!("MSS")).unwrap();
    assert_eq!(errors(schema, &message), Vec::<String>::new());
    assert_eq!(message["CommonBlock"]["S1"]["senderDIPID"], "2000000002");

    for (pointer, wrong) in [
        (INTERFACE_ID, "if-021"),
        (EVENT_CODE, "[ReactivePower]"),
        (SCHEMA_VERSION, "010"),
    ] {
        let mut changed = message.clone();
        set(&mut changed, pointer, json!(wrong)).unwrap();
        assert!(
            !errors(schema, &changed).is_empty(),
            "{pointer} = {wrong} accepted"
        );
    }
}
