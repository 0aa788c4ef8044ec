//! The directory (TOTSCo API v2.0 §2.2): participants by list type, with the processes they
//! support and their published resources. Also where each participant's delivery endpoint and
//! each routing ID's policy live in the key-value store.

use alloc::string::String;
use alloc::vec::Vec;
use serde::{Deserialize, Serialize};

/// `processSupport/status` values (§2.2.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ProcessStatus {
    #[serde(rename = "ACTIVE")]
    Active,
    #[serde(rename = "SUSPEND")]
    Suspend,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProcessSupport {
    pub process: String,
    pub status: ProcessStatus,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Resource {
    pub name: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub value: String,
}

/// A directory entry as §2.2.3 shows it (`identity[]` item).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Participant {
    pub id: String,
    pub name: String,
    #[serde(rename = "processSupport", default, skip_serializing_if = "Vec::is_empty")]
    pub process_support: Vec<ProcessSupport>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub resource: Vec<Resource>,
}

impl Participant {
    /// The participant's status for `process`, if it supports it at all.
    pub fn status_for(&self, process: &str) -> Option<ProcessStatus> {
        self.process_support.iter().find(|p| p.process == process).map(|p| p.status)
    }

    pub fn is_active_for(&self, process: &str) -> bool {
        self.status_for(process) == Some(ProcessStatus::Active)
    }
}

/// Key-value layout. One namespace holds every table; prefixes keep them apart.
pub mod keys {
    use super::*;
    use alloc::format;

    /// Marks a list type (e.g. `RCPID`) as configured.
    pub fn list_type(list_type: &str) -> String {
        format!("listtype/{list_type}")
    }
    pub fn list_type_prefix() -> &'static str {
        "listtype/"
    }
    pub fn participant(list_type: &str, id: &str) -> String {
        format!("dir/{list_type}/{id}")
    }
    pub fn participant_prefix(list_type: &str) -> String {
        format!("dir/{list_type}/")
    }
    pub fn endpoint(list_type: &str, id: &str) -> String {
        format!("endpoint/{list_type}/{id}")
    }
    pub fn routing_id(routing_id: &str) -> String {
        format!("routing/{routing_id}")
    }
    pub fn client(client_id: &str) -> String {
        format!("client/{client_id}")
    }
    /// Cached outbound OAuth2 token for a recipient endpoint.
    pub fn outbound_token(list_type: &str, id: &str) -> String {
        format!("outtoken/{list_type}/{id}")
    }
}
