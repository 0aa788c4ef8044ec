//! Seed bundles (`POST /admin/v1/apply`, infra/seed/*.json): a whole configuration in one
//! document, applied idempotently.

use alloc::string::String;
use alloc::vec::Vec;
use serde::{Deserialize, Serialize};

use crate::common::config::{ClientGrant, Endpoint};
use crate::ots::directory::Participant;
use crate::ots::routing::RoutingIdConfig;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SeedParticipant {
    pub list_type: String,
    #[serde(flatten)]
    pub entry: Participant,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<Endpoint>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SeedRoutingId {
    #[serde(rename = "routingID")]
    pub routing_id: String,
    #[serde(flatten)]
    pub config: RoutingIdConfig,
}

/// A client with fixed credentials, so a demo can print them. The secret is hashed on apply.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SeedClient {
    pub client_id: String,
    pub client_secret: String,
    #[serde(flatten)]
    pub grant: ClientGrant,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Bundle {
    #[serde(default)]
    pub participants: Vec<SeedParticipant>,
    #[serde(rename = "routingIDs", default)]
    pub routing_ids: Vec<SeedRoutingId>,
    #[serde(default)]
    pub clients: Vec<SeedClient>,
}
