//! Letterbox bodies: parsing (both versions and archived mail) and, when a body parses,
//! every acceptance check after it. Nothing may panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use switchyard_core::common::config::{ClientGrant, ClientRecord, PartyRef};
use switchyard_core::common::delivery::policy::DeliveryPolicy;
use switchyard_core::ots::routing::RoutingIdConfig;
use switchyard_core::ots::directory::{Participant, ProcessStatus, ProcessSupport};
use switchyard_core::ots::{envelope, failure, ingest, ApiVersion};

fuzz_target!(|data: &[u8]| {
    let _ = envelope::parse(data, ApiVersion::V1);
    let _ = envelope::parse_archived(data);
    if let Ok(env) = envelope::parse(data, ApiVersion::V2) {
        let p = |id: &str| Participant { id: id.into(), name: id.into(), process_support: vec![ProcessSupport { process: "OTS".into(), status: ProcessStatus::Active }], resource: vec![] };
        let client = ClientRecord {
            client_id: "c".into(),
            secret_hash: String::new(),
            grant: ClientGrant { identities: vec![PartyRef { list_type: env.source.list_type.clone(), id: env.source.identity.clone() }], networks: vec!["127.0.0.0/8".into()], routing_ids: vec![env.routing_id.clone()], rate_limit: None },
            primary_key: None,
            secondary_key: None,
        };
        let found = ingest::Lookups {
            source_list_known: true,
            destination_list_known: true,
            source: Some(p(&env.source.identity)),
            destination: Some(p(&env.destination.identity)),
            routing: Some(RoutingIdConfig { process: "OTS".into(), delivery_policy: DeliveryPolicy::default() }),
        };
        let _ = ingest::check(&env, &client, Some("127.0.0.1"), found);
        for code in [failure::FaultCode::NoRoute, failure::FaultCode::TimedOut] {
            if let Some(n) = failure::notification(&env, code, "TOTSCO") {
                assert!(envelope::parse_archived(&n).is_ok(), "the hub's own notifications must parse");
            }
        }
    }
});
