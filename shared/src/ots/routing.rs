//! Routing IDs (TOTSCo API v2.0 §2.1.4): each names the process it belongs to (whose account
//! status §2.1.8.1 checks) and the delivery policy its messages are retried under.

use alloc::string::String;
use serde::{Deserialize, Serialize};

use crate::common::delivery::policy::DeliveryPolicy;
use crate::common::store::{get_json, keys};
use crate::ports::{KeyValue, PortResult};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RoutingIdConfig {
    pub process: String,
    #[serde(default)]
    pub delivery_policy: DeliveryPolicy,
}

pub async fn routing_id(kv: &impl KeyValue, routing_id: &str) -> PortResult<Option<RoutingIdConfig>> {
    get_json(kv, &keys::routing_id(routing_id)).await
}
