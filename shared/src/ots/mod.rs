//! The OTS letterbox protocol (TOTSCo Hub API v2.0, and v0.5 for letterbox v1): the
//! envelope, the error book, the directory, routing IDs, the acceptance checks of a post,
//! and the delivery rules with their failure notifications.

pub mod delivery;
pub mod directory;
pub mod envelope;
pub mod errors;
pub mod failure;
pub mod ingest;
pub mod routing;

/// §2.1.8.1: messages over 256000 bytes are rejected (9017 on v2, the generic 400 on v1).
pub const MAX_MESSAGE_BYTES: usize = 256_000;

/// Where accepted letterbox posts and the hub's notifications are archived.
pub const ARCHIVE_AREA: &str = "ots";

/// Routing IDs ending in `Request` open a conversation and carry no destination correlationID.
pub const REQUEST_SUFFIX: &str = "Request";

/// The failure notification routing ID (§2.1.8.2).
pub const MESSAGE_DELIVERY_FAILURE: &str = "messageDeliveryFailure";

/// `/letterbox/{version}/post` -> the version, for the versions the hub serves.
pub fn letterbox_version(path: &str) -> Option<ApiVersion> {
    let mut seg = path.trim_start_matches('/').split('/');
    match (seg.next(), seg.next().and_then(ApiVersion::from_segment), seg.next(), seg.next()) {
        (Some("letterbox"), Some(v), Some("post"), None) => Some(v),
        _ => None,
    }
}

/// `/directory/{version}/entry` -> the version.
pub fn directory_version(path: &str) -> Option<ApiVersion> {
    let mut seg = path.trim_start_matches('/').split('/');
    match (seg.next(), seg.next().and_then(ApiVersion::from_segment), seg.next(), seg.next()) {
        (Some("directory"), Some(v), Some("entry"), None) => Some(v),
        _ => None,
    }
}

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
