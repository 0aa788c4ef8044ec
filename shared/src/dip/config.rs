//! What the operator configures for DIP (the hub's DIP contract, "Admin configuration"):
//! participants and their API keys, channel rules, trust anchors, revoked certificates and
//! the market-agreement (MAMS) history of each MPAN. Field names are the contract's.

use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::vec::Vec;
use serde::{Deserialize, Serialize};

/// `PUT /admin/v1/dip/participants/{DIPID}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Participant {
    pub name: String,
    pub roles: Vec<String>,
    /// The participant's DIP connection provider (itself a participant), if any.
    #[serde(rename = "DIPConnectionProviderID", default)]
    pub dcp: Option<String>,
}

/// A participant's two API-key slots: salted hashes only, each rotated on its own (9.12).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ApiKeys {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub primary: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secondary: Option<String>,
}

/// `PUT /admin/v1/dip/channels/{id}`: who may send on a channel and who receives (7.7).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ChannelConfig {
    pub sender_roles: Vec<String>,
    #[serde(default)]
    pub addressing: Addressing,
    /// Recipient role -> JSON Pointers into `payload` obfuscated for that role (7.8).
    #[serde(default)]
    pub obfuscation: BTreeMap<String, Vec<String>>,
    /// Whether the hub makes a workflow correlation ID where the sender gave none (8.12.4).
    #[serde(rename = "workflowCorrelationID", default)]
    pub workflow_correlation_id: bool,
    /// Days after acceptance an undelivered message moves to the dead-letter store (8.9.2:
    /// 14 unless configured, 1..=365).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dead_letter_after_days: Option<u32>,
}

/// 8.9.2's 14 days.
pub const DEFAULT_DEAD_LETTER_AFTER_DAYS: u32 = 14;

impl ChannelConfig {
    /// Days an undelivered message of the channel waits before the dead-letter store.
    pub fn dead_letter_after_days(&self) -> u32 {
        self.dead_letter_after_days.unwrap_or(DEFAULT_DEAD_LETTER_AFTER_DAYS)
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Addressing {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub always: Option<Always>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secondary: Option<Secondary>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub primary: Option<Primary>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Always {
    #[serde(rename = "DIPIDs", default)]
    pub dip_ids: Vec<String>,
    #[serde(default)]
    pub roles: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Secondary {
    pub roles: Vec<String>,
    /// JSON Pointer into `payload` of the date that picks the responsible party; absent: the
    /// transaction time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub addressing_date_field: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Primary {
    pub roles: Vec<String>,
}

/// `PUT /admin/v1/dip/trust-anchors/{anchorId}`: a CA certificate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct TrustAnchor {
    pub certificate_pem: String,
}

/// `PUT /admin/v1/dip/revoked-certificates/{sha256}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Revocation {
    pub reason: String,
}

/// The revocation reasons of DSD002 6.6.4, by their RFC 5280 names; removal from the list is
/// a DELETE.
pub const REVOCATION_REASONS: [&str; 5] = ["keyCompromise", "cessationOfOperation", "affiliationChanged", "superseded", "privilegeWithdrawn"];

/// `PUT /admin/v1/dip/mams/{MPANCore}`: an MPAN's whole appointment history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Mams {
    pub parties: Vec<MamsParty>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MamsParty {
    #[serde(rename = "roleID")]
    pub role_id: String,
    #[serde(rename = "DIPID")]
    pub dip_id: String,
    /// Inclusive, RFC 3339 with offset.
    #[serde(rename = "effectiveFrom")]
    pub effective_from: String,
    /// Exclusive; null: open-ended.
    #[serde(rename = "effectiveTo", default)]
    pub effective_to: Option<String>,
}

/// DT-006: a DIP participant ID is 10 characters (the hub's own default is `0000000000`).
/// Ours are also key and URL segments, so only ASCII letters and digits.
pub fn valid_dip_id(s: &str) -> bool {
    s.len() == 10 && s.bytes().all(|b| b.is_ascii_alphanumeric())
}

/// A DIP role code: 3 to 5 upper-case letters (DT-009 and the senderUniqueReference pattern).
pub fn valid_role(s: &str) -> bool {
    (3..=5).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_uppercase())
}

/// An MPAN core: 13 ASCII digits.
pub fn valid_mpan_core(s: &str) -> bool {
    s.len() == 13 && s.bytes().all(|b| b.is_ascii_digit())
}

/// DT-013's environment tags, as this hub instance may be configured.
pub const ENVIRONMENTS: [&str; 5] = ["PRD", "SITB", "SIT", "UIT", "DEV"];

/// This instance's environment tag; a value outside DT-013 is a configuration error.
pub fn environment(settings: &crate::host::Settings) -> crate::ports::PortResult<&str> {
    let tag = settings.dip_environment.as_str();
    if ENVIRONMENTS.contains(&tag) {
        Ok(tag)
    } else {
        Err(crate::ports::PortError::new(alloc::format!("{} {tag:?} is not one of {}", crate::host::names::DIP_ENVIRONMENT, ENVIRONMENTS.join(" "))))
    }
}
