//! The letterbox acceptance checks after authentication and structure, in the order of
//! TOTSCo API v2.0 §2.1.8.1: envelope contents, authorisation, account status.

use super::envelope::Envelope;
use super::errors::OtsError;
use super::REQUEST_SUFFIX;
use super::directory::Participant;
use super::routing::RoutingIdConfig;
use crate::common::config::ClientRecord;
use crate::common::net;

/// What the send function looked up for one envelope.
#[derive(Debug, Clone, Default)]
pub struct Lookups {
    pub source_list_known: bool,
    pub destination_list_known: bool,
    pub source: Option<Participant>,
    pub destination: Option<Participant>,
    pub routing: Option<RoutingIdConfig>,
}

/// Reads what the checks need for `env`: both participants and the routing ID at once. A
/// list type is read only when its participant is absent: an entry exists only under a
/// configured list type, so in the common case a post costs three reads.
pub async fn lookups(kv: &impl crate::ports::KeyValue, env: &Envelope) -> crate::ports::PortResult<Lookups> {
    use super::directory::{list_type_known, participant};
    let (src, dst) = (&env.source, &env.destination);
    let (destination, source, routing) = futures_util::future::try_join3(
        participant(kv, &dst.list_type, &dst.identity),
        participant(kv, &src.list_type, &src.identity),
        super::routing::routing_id(kv, &env.routing_id),
    )
    .await?;
    let destination_list_known = destination.is_some() || list_type_known(kv, &dst.list_type).await?;
    let source_list_known = source.is_some()
        || (src.list_type == dst.list_type && destination_list_known)
        || list_type_known(kv, &src.list_type).await?;
    Ok(Lookups { source_list_known, destination_list_known, source, destination, routing })
}

/// What was accepted: the process the routing ID belongs to, for the delivery policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Accepted {
    pub routing: RoutingIdConfig,
}

/// Applies every rule after structure. `remote_ip` is the caller's address as the host saw it.
pub fn check(env: &Envelope, client: &ClientRecord, remote_ip: Option<&str>, found: Lookups) -> Result<Accepted, OtsError> {
    // Envelope contents (§2.1.8.1): 9000, 9001, 9002, 9003, 9012.
    if !found.destination_list_known {
        return Err(OtsError::UnknownDestinationType);
    }
    let destination = found.destination.ok_or(OtsError::UnknownDestination)?;
    if !found.source_list_known {
        return Err(OtsError::UnknownSourceType);
    }
    let source = found.source.ok_or(OtsError::UnknownSource)?;
    let routing = found.routing.ok_or(OtsError::UnknownRoutingId)?;
    // Replies echo the original source correlationID (§2.1.5); requests need not carry one.
    if !env.routing_id.ends_with(REQUEST_SUFFIX) && env.destination.correlation_id.is_none() {
        return Err(OtsError::Schema(
            "[Path '/envelope/destination'] Object has missing required properties ([\"correlationID\"])".into(),
        ));
    }

    // Authorisation: the client sends for this source from a registered network (9004) and
    // the routing ID is mapped to it (9010).
    let bound = client.grant.identities.iter().any(|p| p.list_type == env.source.list_type && p.id == env.source.identity);
    if !bound || !net::permitted(&client.grant.networks, remote_ip) {
        return Err(OtsError::SourceNotPermitted);
    }
    if !client.grant.routing_ids.iter().any(|r| r == &env.routing_id) {
        return Err(OtsError::RoutingIdNotMapped);
    }

    // Account status for the routing ID's process: 403/9003 source, 403/9001 destination.
    if !source.is_active_for(&routing.process) {
        return Err(OtsError::SourceStatusInvalid);
    }
    if !destination.is_active_for(&routing.process) {
        return Err(OtsError::DestinationStatusInvalid);
    }
    Ok(Accepted { routing })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::common::config::{ClientGrant, PartyRef};
    use crate::common::delivery::policy::DeliveryPolicy;
    use crate::ots::directory::{ProcessStatus, ProcessSupport};
    use crate::ots::envelope::Party;
    use alloc::string::String;
    use alloc::vec;

    fn participant(id: &str, status: ProcessStatus) -> Participant {
        Participant {
            id: id.into(),
            name: id.into(),
            process_support: vec![ProcessSupport { process: "OTS".into(), status }],
            resource: vec![],
        }
    }

    fn env(routing: &str, dest_corr: Option<&str>) -> Envelope {
        Envelope {
            source: Party { list_type: "RCPID".into(), identity: "BBCD".into(), correlation_id: Some("c".into()) },
            destination: Party { list_type: "RCPID".into(), identity: "BCBX".into(), correlation_id: dest_corr.map(String::from) },
            routing_id: routing.into(),
            audit_data: vec![],
        }
    }

    fn client() -> ClientRecord {
        ClientRecord {
            client_id: "c1".into(),
            secret_hash: String::new(),
            grant: ClientGrant {
                identities: vec![PartyRef { list_type: "RCPID".into(), id: "BBCD".into() }],
                networks: vec!["127.0.0.0/8".into()],
                routing_ids: vec!["residentialSwitchMatchRequest".into(), "residentialSwitchMatchConfirmation".into()],
                rate_limit: None,
            },
            primary_key: None,
            secondary_key: None,
        }
    }

    fn found() -> Lookups {
        Lookups {
            source_list_known: true,
            destination_list_known: true,
            source: Some(participant("BBCD", ProcessStatus::Active)),
            destination: Some(participant("BCBX", ProcessStatus::Active)),
            routing: Some(RoutingIdConfig { process: "OTS".into(), delivery_policy: DeliveryPolicy::default() }),
        }
    }

    const REQ: &str = "residentialSwitchMatchRequest";
    const IP: Option<&str> = Some("127.0.0.1");

    #[test]
    fn order_of_checks() {
        let c = client();
        assert!(check(&env(REQ, None), &c, IP, found()).is_ok());
        assert_eq!(check(&env(REQ, None), &c, IP, Lookups { destination_list_known: false, ..found() }), Err(OtsError::UnknownDestinationType));
        assert_eq!(check(&env(REQ, None), &c, IP, Lookups { destination: None, source: None, ..found() }), Err(OtsError::UnknownDestination));
        assert_eq!(check(&env(REQ, None), &c, IP, Lookups { source_list_known: false, ..found() }), Err(OtsError::UnknownSourceType));
        assert_eq!(check(&env(REQ, None), &c, IP, Lookups { source: None, ..found() }), Err(OtsError::UnknownSource));
        assert_eq!(check(&env(REQ, None), &c, IP, Lookups { routing: None, ..found() }), Err(OtsError::UnknownRoutingId));
        assert_eq!(check(&env(REQ, None), &c, Some("10.0.0.1"), found()), Err(OtsError::SourceNotPermitted));
        assert_eq!(check(&env("residentialSwitchOrderRequest", None), &c, IP, found()), Err(OtsError::RoutingIdNotMapped));
        let suspended = Lookups { source: Some(participant("BBCD", ProcessStatus::Suspend)), ..found() };
        assert_eq!(check(&env(REQ, None), &c, IP, suspended), Err(OtsError::SourceStatusInvalid));
        let suspended = Lookups { destination: Some(participant("BCBX", ProcessStatus::Suspend)), ..found() };
        assert_eq!(check(&env(REQ, None), &c, IP, suspended), Err(OtsError::DestinationStatusInvalid));
    }

    #[test]
    fn replies_need_the_destination_correlation_id() {
        let c = client();
        let reply = "residentialSwitchMatchConfirmation";
        assert!(matches!(check(&env(reply, None), &c, IP, found()), Err(OtsError::Schema(_))));
        assert!(check(&env(reply, Some("orig")), &c, IP, found()).is_ok());
    }
}
