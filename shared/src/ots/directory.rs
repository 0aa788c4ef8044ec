//! The directory (TOTSCo API v2.0 §2.2): participants by list type, with the processes they
//! support and their published resources; how `identity` selects among them; and typed
//! access to the directory tables (layout in `crate::common::store::keys`).

use alloc::string::String;
use alloc::vec::Vec;
use serde::{Deserialize, Serialize};

use super::errors::OtsError;

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

// ----- the directory tables -----

use crate::common::store::{get_json, keys};
use crate::ports::{KeyValue, PortResult};

pub async fn list_type_known(kv: &impl KeyValue, list_type: &str) -> PortResult<bool> {
    Ok(kv.get(&keys::list_type(list_type)).await?.is_some())
}

pub async fn participant(kv: &impl KeyValue, list_type: &str, id: &str) -> PortResult<Option<Participant>> {
    get_json(kv, &keys::participant(list_type, id)).await
}

/// Every participant of a list type, in id order.
pub async fn participants(kv: &impl KeyValue, list_type: &str) -> PortResult<Vec<Participant>> {
    let mut out = Vec::new();
    for key in kv.list(&keys::participant_prefix(list_type)).await? {
        if let Some(p) = get_json::<Participant>(kv, &key).await? {
            out.push(p);
        }
    }
    Ok(out)
}

/// What the `identity` query parameter asks for (§2.2.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selector {
    /// Absent, blank or `all`.
    All,
    /// A process name: every identity supporting it (directory v2 only).
    Process(String),
    /// One identity.
    Identity(String),
}

/// Reads the `identity` parameter. A value that names a process some participant supports
/// selects by process on v2 (the spec lists process names before identities); v1 has no
/// process selection.
pub fn selector(identity: Option<&str>, version: crate::ots::ApiVersion, participants: &[Participant]) -> Selector {
    let Some(id) = identity.map(str::trim).filter(|s| !s.is_empty() && *s != "all") else {
        return Selector::All;
    };
    let is_process = participants.iter().any(|p| p.process_support.iter().any(|s| s.process == id));
    if version == crate::ots::ApiVersion::V2 && is_process {
        Selector::Process(id.into())
    } else {
        Selector::Identity(id.into())
    }
}

/// The §2.2.3 response body for `list_type`, or 404/e for an unknown identity.
pub fn answer(list_type: &str, selector: &Selector, participants: Vec<Participant>) -> Result<serde_json::Value, OtsError> {
    let chosen: Vec<Participant> = match selector {
        Selector::All => participants,
        Selector::Process(process) => {
            participants.into_iter().filter(|p| p.process_support.iter().any(|s| &s.process == process)).collect()
        }
        Selector::Identity(id) => {
            let one: Vec<Participant> = participants.into_iter().filter(|p| &p.id == id).collect();
            if one.is_empty() {
                return Err(OtsError::IdentityUnknown);
            }
            one
        }
    };
    Ok(serde_json::json!({ "list": [ { "listType": list_type, "identity": chosen } ] }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ots::ApiVersion;
    use alloc::vec;

    fn p(id: &str, process: &str) -> Participant {
        Participant {
            id: id.into(),
            name: id.into(),
            process_support: vec![ProcessSupport { process: process.into(), status: ProcessStatus::Active }],
            resource: vec![],
        }
    }

    #[test]
    fn selection_cases_of_2_2_2() {
        let all = vec![p("RTYQ", "OTS"), p("BTYD", "GPLB")];
        for q in [None, Some(""), Some(" "), Some("all")] {
            assert_eq!(selector(q, ApiVersion::V2, &all), Selector::All);
        }
        assert_eq!(selector(Some("OTS"), ApiVersion::V2, &all), Selector::Process("OTS".into()));
        assert_eq!(selector(Some("OTS"), ApiVersion::V1, &all), Selector::Identity("OTS".into()));
        let body = answer("RCPID", &Selector::Process("GPLB".into()), all.clone()).unwrap();
        assert_eq!(body["list"][0]["identity"].as_array().unwrap().len(), 1);
        assert_eq!(body["list"][0]["identity"][0]["id"], "BTYD");
        assert_eq!(answer("RCPID", &Selector::Identity("ZZZZ".into()), all.clone()), Err(OtsError::IdentityUnknown));
        let body = answer("RCPID", &Selector::All, all).unwrap();
        assert_eq!(body["list"][0]["listType"], "RCPID");
        assert!(body["list"][0]["identity"][0].get("resource").is_none());
    }
}
