//! Configuration every protocol shares, as the admin API and seed bundles write it: delivery
//! endpoints and API clients. Field names are the admin API's contract
//! (docs/admin-openapi.yaml).

use alloc::string::String;
use alloc::vec::Vec;
use serde::{Deserialize, Serialize};


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
