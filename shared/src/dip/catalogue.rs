//! The channel catalogue: every DIP channel (IF-xxx, REP-xxx) with its event codes and one
//! JSON Schema per (channel, event code), as imported from Elexon's OpenAPI by
//! `tools/dip-catalogue`. The hub does not compile it in: the operator loads it through the
//! admin API, and `make dev` imports it from the configured spec path.

use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::vec::Vec;
use serde::{Deserialize, Serialize};

/// The whole catalogue, as stored and as the admin API takes it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Catalogue {
    /// The OpenAPI release it was imported from (`info.version` of SubmitEvents).
    pub release: String,
    /// Channel id (`IF-001`, `REP-002`) -> channel.
    pub channels: BTreeMap<String, Channel>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Channel {
    /// Event code as the `/validate/{IF}/{Event}` path names it -> its message schema.
    pub events: BTreeMap<String, Event>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Event {
    /// `S0.schemaVersion` values the schema allows.
    pub schema_versions: Vec<String>,
    /// A self-contained JSON Schema (draft 2020-12, definitions under `$defs`) of one
    /// message's `payload`.
    pub schema: serde_json::Value,
}

impl Catalogue {
    pub fn channel(&self, id: &str) -> Option<&Channel> {
        self.channels.get(id)
    }

    pub fn event(&self, channel: &str, event_code: &str) -> Option<&Event> {
        self.channels.get(channel)?.events.get(event_code)
    }
}
