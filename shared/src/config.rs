//! Configuration the admin API and seed bundles write: delivery endpoints, API clients and
//! routing IDs. Field names are the admin API's contract (docs/admin-openapi.yaml).

use alloc::string::String;
use alloc::vec::Vec;
use serde::{Deserialize, Serialize};

use crate::directory::Participant;

/// How the hub authenticates when it pushes to a recipient (TOTSCo API v2.0 §3.2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase", deny_unknown_fields)]
pub enum EndpointAuth {
    /// Client credentials against the recipient's token URL.
    #[serde(rename_all = "camelCase")]
    Oauth2 { token_url: String, client_id: String, client_secret: String },
    /// A static key sent in the `apikey` header until it expires (RFC 3339).
    #[serde(rename_all = "camelCase")]
    Apikey { key: String, expires_at: String },
    None,
}

/// A recipient's letterbox as registered through the admin API.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Endpoint {
    pub url: String,
    pub auth: EndpointAuth,
}

/// A list type + identity pair, as clients are bound to them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PartyRef {
    pub list_type: String,
    pub id: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RateLimit {
    pub messages_per_minute: u32,
}

/// Per routing ID delivery policy (how long and how often the hub retries).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DeliveryPolicy {
    pub timeout_seconds: u32,
    pub initial_backoff_seconds: u32,
    pub max_backoff_seconds: u32,
}

impl Default for DeliveryPolicy {
    /// OTS practice is a 3 s hop; a recipient that is down gets retries for 15 minutes.
    fn default() -> Self {
        DeliveryPolicy { timeout_seconds: DEFAULT_DELIVERY_TIMEOUT_SECS, initial_backoff_seconds: 1, max_backoff_seconds: 60 }
    }
}

pub const DEFAULT_DELIVERY_TIMEOUT_SECS: u32 = 900;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RoutingIdConfig {
    pub process: String,
    #[serde(default)]
    pub delivery_policy: DeliveryPolicy,
}

/// What an API client may do; the request body of `POST /admin/v1/clients`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ClientGrant {
    pub identities: Vec<PartyRef>,
    #[serde(default)]
    pub networks: Vec<String>,
    #[serde(rename = "routingIDs", default)]
    pub routing_ids: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate_limit: Option<RateLimit>,
}

/// One API-key slot of a client. Only the key's hash is kept.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct KeySlot {
    pub key_hash: String,
    pub expires_at_ms: u64,
}

/// A client as stored: the grant plus hashed credentials.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClientRecord {
    pub client_id: String,
    pub secret_hash: String,
    #[serde(flatten)]
    pub grant: ClientGrant,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub primary_key: Option<KeySlot>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secondary_key: Option<KeySlot>,
}

// ----- seed bundles (`POST /admin/v1/apply`, infra/seed/*.json) -----

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
