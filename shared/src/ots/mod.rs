//! The OTS letterbox protocol (TOTSCo Hub API v2.0, and v0.5 for letterbox v1).

pub mod envelope;
pub mod errors;
pub mod failure;
pub mod ingest;

/// §2.1.8.1: messages over 256000 bytes are rejected (9017 on v2, the generic 400 on v1).
pub const MAX_MESSAGE_BYTES: usize = 256_000;

/// The hub's own identity as the source of delivery failure notifications (§2.1.8.2).
pub const DEFAULT_HUB_IDENTITY: &str = "TOTSCO";

/// Routing IDs ending in `Request` open a conversation and carry no destination correlationID.
pub const REQUEST_SUFFIX: &str = "Request";

/// The failure notification routing ID (§2.1.8.2).
pub const MESSAGE_DELIVERY_FAILURE: &str = "messageDeliveryFailure";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApiVersion {
    V1,
    V2,
}

impl ApiVersion {
    /// `v1` / `v2` as they appear in `/letterbox/{version}/post` and `/directory/{version}/entry`.
    pub fn from_segment(s: &str) -> Option<ApiVersion> {
        match s {
            "v1" => Some(ApiVersion::V1),
            "v2" => Some(ApiVersion::V2),
            _ => None,
        }
    }

    pub fn segment(self) -> &'static str {
        match self {
            ApiVersion::V1 => "v1",
            ApiVersion::V2 => "v2",
        }
    }
}
