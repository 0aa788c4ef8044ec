//! The catalogue covers the spec: every channel, every `/validate` event, schemas that compile
//! and select the variant by (channel, event code).

use serde_json::{json, Value};

use crate::utils::{catalogue, errors, event, payload, spec_dir, spec_file};
use dip_catalogue::generate::{set, EVENT_CODE};
use dip_catalogue::spec::{Location, Spec, DATA_TYPES, INTERFACES, SUBMIT_EVENTS};

#[test]
fn release_is_submit_events_version() {
    assert_eq!(catalogue().release, "2.1.0");
}

#[test]
fn every_validate_path_is_an_event() {
    let submit = spec_file(SUBMIT_EVENTS);
    let pairs: Vec<(&str, &str)> = submit["paths"]
        .as_object()
        .unwrap()
        .keys()
        .filter_map(|p| p.strip_prefix("/validate/")?.split_once('/'))
        .collect();
    assert_eq!(pairs.len(), 127);
    for (channel, code) in pairs {
        assert!(
            catalogue().event(channel, code).is_some(),
            "{channel} {code} missing"
        );
    }
}

#[test]
fn every_interface_id_is_a_channel() {
    let ids = spec_file(DATA_TYPES)["components"]["schemas"]["DT-000-InterfaceID"]["enum"].clone();
    let ids: Vec<&str> = ids
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), 58);
    let channels: Vec<&str> = catalogue().channels.keys().map(String::as_str).collect();
    let mut sorted = ids.clone();
    sorted.sort();
    assert_eq!(channels, sorted);
    for id in ids {
        assert!(
            !catalogue().channels[id].events.is_empty(),
            "{id} has no events"
        );
    }
}

#[test]
fn counts_of_channels_and_events() {
    let events: usize = catalogue().channels.values().map(|c| c.events.len()).sum();
    // 127 /validate paths + IF-016 (5) + IF-047 (1) + 11 reports (REP-901 has 2 event codes).
    assert_eq!(events, 146);
    assert_eq!(catalogue().channels["IF-041"].events.len(), 10);
    let codes = |c: &str| {
        catalogue().channels[c]
            .events
            .keys()
            .cloned()
            .collect::<Vec<_>>()
    };
    assert_eq!(codes("IF-047"), ["ISD"]);
    assert_eq!(codes("REP-002"), ["DUOSSupplierAggData"]);
    assert_eq!(
        codes("REP-901"),
        ["DUoSEmbeddedLDSOAggInvData", "DUoSSupplierAggInvData"]
    );
    assert_eq!(
        codes("IF-016"),
        [
            "ActivePower",
            "ActivePowerDefaulted",
            "ActivePowerRejected",
            "ConsumptionRequestRejected",
            "ReactivePower"
        ]
    );
}

#[test]
fn schema_versions_come_from_s0() {
    assert_eq!(
        event("IF-001", "InitialRegistration").schema_versions,
        ["011"]
    );
    assert_eq!(event("IF-051", "EESRefresh").schema_versions, ["001"]);
    assert_eq!(
        event("REP-002", "DUOSSupplierAggData").schema_versions,
        ["008"]
    );
}

#[test]
fn every_schema_compiles_as_draft_2020_12() {
    for (id, channel) in &catalogue().channels {
        for (code, event) in &channel.events {
            assert_eq!(
                event.schema["$schema"],
                "https://json-schema.org/draft/2020-12/schema"
            );
            jsonschema::options()
                .with_draft(jsonschema::Draft::Draft202012)
                .should_validate_formats(true)
                .build(&event.schema)
                .unwrap_or_else(|e| panic!("{id} {code}: {e}"));
        }
    }
}

#[test]
fn schemas_are_self_contained() {
    for (id, channel) in &catalogue().channels {
        for (code, event) in &channel.events {
            let text = event.schema.to_string();
            assert!(
                !text.contains("raw.githubusercontent"),
                "{id} {code} refers outside itself"
            );
            assert!(
                !text.contains("#/components/"),
                "{id} {code} keeps an OpenAPI pointer"
            );
            assert!(!text.contains("\"nullable\""), "{id} {code} keeps nullable");
        }
    }
}

/// The event code is matched as messages carry it, brackets included, case-sensitive.
#[test]
fn event_code_is_the_bracketed_code_of_the_path() {
    let schema = &event("IF-001", "InitialRegistration").schema;
    let mut message = payload("IF-001", "InitialRegistration");
    assert_eq!(
        message["CommonBlock"]["S0"]["eventCode"],
        "[InitialRegistration]"
    );
    for wrong in [
        "InitialRegistration",
        "[initialregistration]",
        "[ChangeOfSupplier]",
    ] {
        set(&mut message, EVENT_CODE, json!(wrong)).unwrap();
        assert!(!errors(schema, &message).is_empty(), "{wrong} accepted");
    }
}

/// IF-020's RelatedCreate variant also lists RelatedAdd and RelatedRemove: a RelatedAdd message
/// fits two branches of Elexon's literal `oneOf`, which therefore rejects it. The catalogue
/// picks the variant the `/validate/IF-020/RelatedAdd` path names.
#[test]
fn if_020_related_add_validates_against_its_own_variant() {
    let message = payload("IF-020", "RelatedAdd");
    assert_eq!(
        errors(&event("IF-020", "RelatedAdd").schema, &message),
        Vec::<String>::new()
    );
    assert!(!errors(&event("IF-020", "RelatedCreate").schema, &message).is_empty());

    let mut spec = Spec::open(&spec_dir()).unwrap();
    let literal =
        dip_catalogue::bundle::bundle(&mut spec, &Location::schema(INTERFACES, "IF-020-Payload"))
            .unwrap();
    let rejected = errors(&literal, &message);
    assert!(
        rejected.iter().any(|e| e.contains("oneOf")),
        "literal oneOf: {rejected:?}"
    );
}

/// OpenAPI patterns are ECMA-262, where `\d` is an ASCII digit only.
#[test]
fn digit_patterns_reject_non_ascii_digits() {
    let with_defs = |name: &str| {
        let mut schema = event("IF-001", "InitialRegistration").schema.clone();
        schema
            .as_object_mut()
            .unwrap()
            .retain(|k, _| k == "$defs" || k == "$schema");
        schema["$ref"] = Value::String(format!("#/$defs/{name}"));
        schema
    };
    let ssc = with_defs("DI-123-SSC");
    assert_eq!(ssc["$defs"]["DI-123-SSC"]["pattern"], "^[0-9]{4,4}$");
    assert!(errors(&ssc, &json!("0123")).is_empty());
    assert!(!errors(&ssc, &json!("١٢٣٤")).is_empty());

    let schema = &event("IF-001", "InitialRegistration").schema;
    let mut message = payload("IF-001", "InitialRegistration");
    set(
        &mut message,
        "/CommonBlock/M0/MPANCore",
        json!("٢٠٠٠٠٥٦٥٣٥٩٧١"),
    )
    .unwrap();
    assert!(errors(schema, &message)
        .iter()
        .any(|e| e.contains("MPANCore")));
}

/// OpenAPI `nullable` survives the conversion: an optional-null field takes null.
#[test]
fn nullable_fields_accept_null() {
    let schema = &event("IF-001", "InitialRegistration").schema;
    let mut message = payload("IF-001", "InitialRegistration");
    set(
        &mut message,
        "/CommonBlock/S1/DIPConnectionProviderID",
        Value::Null,
    )
    .unwrap();
    set(
        &mut message,
        "/CommonBlock/S1/senderCorrelationID",
        Value::Null,
    )
    .unwrap();
    assert_eq!(errors(schema, &message), Vec::<String>::new());
}
