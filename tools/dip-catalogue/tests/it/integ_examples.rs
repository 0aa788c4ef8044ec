//! Elexon's example messages (Examples-unresolved.yaml) against the catalogue: every one fails
//! its own channel's schema. EXAMPLES.md explains why, example by example; this test keeps that
//! table honest by checking the first reason listed there.

use serde_json::Value;

use crate::utils::{errors, event, spec_file};
use dip_catalogue::spec::EXAMPLES;

/// Example name, the (channel, event code) it illustrates, and where and how it must fail.
const CASES: &[(&str, &str, &str, &str, &str)] = &[
    (
        "IF-001-InitialRegistration",
        "IF-001",
        "InitialRegistration",
        "/CustomBlock/B032/SSC",
        "does not match",
    ),
    (
        "IF-001-ChangeOfSupplier",
        "IF-001",
        "ChangeOfSupplier",
        "/CommonBlock/S0",
        "\"interfaceID\" is a required property",
    ),
    (
        "IF-002",
        "IF-002",
        "GainMPANInfo",
        "/CustomBlock",
        "'B035List', 'B037List' were unexpected",
    ),
    (
        "IF-003-MSDeAppRM",
        "IF-003",
        "MSDeAppRM",
        "/CommonBlock/S0/eventCode",
        "\"[MSDeAppRM]\" was expected",
    ),
    (
        "IF-020-RelatedCreate",
        "IF-020",
        "RelatedCreate",
        "/CommonBlock/R0/responseMessages",
        "is not of type \"array\"",
    ),
    (
        "IF-021",
        "IF-021",
        "ActivePower",
        "/CommonBlock/S1",
        "'senderDIPId'",
    ),
    (
        "IF-037-MSDeApp",
        "IF-037",
        "MSDeApp",
        "/CustomBlock/B013",
        "\"CSSRegistrationID\" is a required property",
    ),
    (
        "IF-043",
        "IF-043",
        "ConnectionTypeChange",
        "/CommonBlock/S0",
        "\"interfaceID\" is a required property",
    ),
    (
        "IF-044",
        "IF-044",
        "MarketSegmentChange",
        "/CommonBlock/S0",
        "'InterfaceID' was unexpected",
    ),
    (
        "REP-002",
        "REP-002",
        "DUOSSupplierAggData",
        "/CommonBlock/S0/schemaVersion",
        "\"006\" is not one of",
    ),
    (
        "REP-002-proposed",
        "REP-002",
        "DUOSSupplierAggData",
        "/CommonBlock/S0/eventCode",
        "\"[DUOSSupplierAggData]\" was expected",
    ),
];

/// The payloads of one example: its `value` is a message array, or (in some) a single message.
fn payloads(value: &Value) -> Vec<&Value> {
    match value {
        Value::Array(items) => items.iter().map(|m| &m["payload"]).collect(),
        message => vec![&message["payload"]],
    }
}

#[test]
fn every_elexon_example_fails_its_schema() {
    let examples = spec_file(EXAMPLES);
    let examples = examples["components"]["examples"].as_object().unwrap();
    assert_eq!(
        examples.len(),
        CASES.len(),
        "examples: {:?}",
        examples.keys().collect::<Vec<_>>()
    );
    for (name, channel, code, path, reason) in CASES {
        let schema = &event(channel, code).schema;
        let messages = payloads(&examples[*name]["value"]);
        assert!(!messages.is_empty(), "{name} has no payload");
        for payload in messages {
            let found = errors(schema, payload);
            let expected = format!("{path}: ");
            assert!(
                found
                    .iter()
                    .any(|e| e.starts_with(&expected) && e.contains(reason)),
                "{name}: expected {path} {reason}, got {found:#?}"
            );
        }
    }
}
