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
    /// DIP configuration (the DIP contract's objects).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dip: Option<DipBundle>,
}

/// The DIP part of a seed bundle. Channels are checked against the catalogue the hub holds,
/// so it is loaded first (`PUT /admin/v1/dip/catalogue`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DipBundle {
    /// The channel catalogue (`tools/dip-catalogue`'s output), stored before the channels
    /// below are checked against it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub catalogue: Option<serde_json::Value>,
    #[serde(default)]
    pub trust_anchors: Vec<SeedTrustAnchor>,
    #[serde(default)]
    pub participants: Vec<SeedDipParticipant>,
    #[serde(default)]
    pub channels: Vec<SeedChannel>,
    #[serde(default)]
    pub mams: Vec<SeedMams>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SeedTrustAnchor {
    pub anchor_id: String,
    pub certificate_pem: String,
}

/// A DIP participant with fixed API keys, so a demo can print them; keys are hashed on apply.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeedDipParticipant {
    #[serde(rename = "DIPID")]
    pub dip_id: String,
    #[serde(flatten)]
    pub entry: crate::dip::config::Participant,
    #[serde(default)]
    pub keys: SeedDipKeys,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedDipKeys {
    #[serde(default)]
    pub primary: Option<String>,
    #[serde(default)]
    pub secondary: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeedChannel {
    pub id: String,
    #[serde(flatten)]
    pub config: crate::dip::config::ChannelConfig,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedMams {
    #[serde(rename = "MPANCore")]
    pub mpan_core: String,
    pub parties: Vec<crate::dip::config::MamsParty>,
}
