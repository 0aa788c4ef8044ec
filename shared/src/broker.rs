//! What travels on the broker. Payloads live once in the archive; a queue message carries
//! only the archive key and delivery bookkeeping, so it stays far below host limits
//! (Cloudflare Queues: 128 KB).

use alloc::string::String;
use serde::{Deserialize, Serialize};

/// One delivery job: push the archived message `key` to `recipient`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeliveryJob {
    /// The hub's message id (also the archive object name).
    pub message_id: String,
    pub protocol: Protocol,
    pub archive_key: String,
    pub recipient_list_type: String,
    pub recipient: String,
    #[serde(rename = "routingID")]
    pub routing_id: String,
    /// When the hub accepted the message (ms); the delivery policy's clock starts here.
    pub accepted_at_ms: u64,
    /// Attempts already made.
    #[serde(default)]
    pub attempts: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Protocol {
    Ots,
}

impl DeliveryJob {
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    pub fn from_json(s: &[u8]) -> Option<DeliveryJob> {
        serde_json::from_slice(s).ok()
    }
}
