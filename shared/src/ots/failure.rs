//! Asynchronous delivery failure notifications (TOTSCo API v2.0 §2.1.8.2): what the hub
//! sends back to an originator when a message cannot be delivered.

use alloc::vec::Vec;
use serde_json::json;

use super::envelope::Envelope;
use super::MESSAGE_DELIVERY_FAILURE;

/// The four failure codes of §2.1.8.2.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaultCode {
    /// 9005: no valid route (the destination has no letterbox endpoint).
    NoRoute,
    /// 9006: the recipient answered 400.
    InvalidFormat,
    /// 9007: the recipient answered 404.
    Rejected,
    /// 9008: the recipient answered 501, 502 or 511, or the delivery policy timed out.
    TimedOut,
}

impl FaultCode {
    pub fn code(self) -> &'static str {
        match self {
            FaultCode::NoRoute => "9005",
            FaultCode::InvalidFormat => "9006",
            FaultCode::Rejected => "9007",
            FaultCode::TimedOut => "9008",
        }
    }

    pub fn text(self) -> &'static str {
        match self {
            FaultCode::NoRoute => "Unable to deliver the message to the destination, no valid route.",
            FaultCode::InvalidFormat => "Unable to deliver the message to the destination, rejected, invalid message format.",
            FaultCode::Rejected => "Recipient rejected message.",
            FaultCode::TimedOut => "Unable to deliver the message to the destination, timed out.",
        }
    }
}

/// The notification for `original`, or `None` when `original` is itself a notification
/// (a failure notification that cannot be delivered never produces another one).
pub fn notification(original: &Envelope, fault: FaultCode, hub_identity: &str) -> Option<Vec<u8>> {
    if original.routing_id == MESSAGE_DELIVERY_FAILURE {
        return None;
    }
    let mut destination = json!({ "type": original.source.list_type, "identity": original.source.identity });
    if let Some(c) = &original.source.correlation_id {
        destination["correlationID"] = json!(c);
    }
    let doc = json!({
        "envelope": {
            "source": { "type": original.source.list_type, "identity": hub_identity },
            "destination": destination,
            "routingID": MESSAGE_DELIVERY_FAILURE,
            "auditData": [
                { "name": "originalDestinationType", "value": original.destination.list_type },
                { "name": "originalDestination", "value": original.destination.identity },
                { "name": "originalRoutingID", "value": original.routing_id },
                { "name": "faultCode", "value": fault.code() }
            ]
        },
        MESSAGE_DELIVERY_FAILURE: { "code": fault.code(), "text": fault.text(), "severity": "failure" }
    });
    serde_json::to_vec(&doc).ok()
}


#[cfg(test)]
mod tests {
    use super::*;
    use crate::ots::envelope::Party;
    use alloc::vec;

    #[test]
    fn matches_the_spec_example() {
        let original = Envelope {
            source: Party { list_type: "RCPID".into(), identity: "BTYD".into(), correlation_id: Some("10266c25".into()) },
            destination: Party { list_type: "RCPID".into(), identity: "BRQD".into(), correlation_id: None },
            routing_id: "businessSwitchMatchRequest".into(),
            audit_data: vec![],
        };
        let n: serde_json::Value = serde_json::from_slice(&notification(&original, FaultCode::NoRoute, "TOTSCO").unwrap()).unwrap();
        assert_eq!(n["envelope"]["source"], json!({"type":"RCPID","identity":"TOTSCO"}));
        assert_eq!(n["envelope"]["destination"]["correlationID"], "10266c25");
        assert_eq!(n["envelope"]["auditData"][3], json!({"name":"faultCode","value":"9005"}));
        assert_eq!(n["messageDeliveryFailure"]["text"], "Unable to deliver the message to the destination, no valid route.");
        let mut echo = original.clone();
        echo.routing_id = MESSAGE_DELIVERY_FAILURE.into();
        assert!(notification(&echo, FaultCode::TimedOut, "TOTSCO").is_none());
    }
}
