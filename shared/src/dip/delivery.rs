//! Delivery rules of a DIP publication: one job per (recipient, role) copy of a message, held
//! until the recipient has a publication webhook on the channel, pushed to it, and retried
//! until the message is 14 days old (DSD002 8.9; then it is dead-lettered: the job ends and
//! the archive keeps the message). What a final refusal sends back to the sender (8.6), the
//! hub's signature on the call, batching and obfuscation come with the publication webhooks.

use alloc::string::String;
use serde::{Deserialize, Serialize};

use crate::common::broker::Addressed;
use crate::common::delivery::credentials::{self, Credential};
use crate::common::delivery::policy::DeliveryPolicy;
use crate::common::delivery::{Ending, Outcome, Reply, Rules};
use crate::common::http::HttpRequest;
use crate::common::store::keys;
use crate::host::{Host, Settings};
use crate::ports::{OutboundError, PortResult};

/// The broker's list type for DIP recipients (they are DIP IDs).
pub const RECIPIENT_LIST: &str = "DIP";

/// 8.9: undelivered messages go to the dead-letter queue after 14 days.
pub const RETENTION_SECS: u32 = 14 * 24 * 3600;
/// Retries back off from 1 s to 5 min: a recipient that comes back is served within minutes.
pub const POLICY: DeliveryPolicy = DeliveryPolicy { timeout_seconds: RETENTION_SECS, initial_backoff_seconds: 1, max_backoff_seconds: 300 };

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Publication {
    pub channel: String,
    #[serde(rename = "recipientDIPID")]
    pub recipient: String,
    /// The role this copy is for (a participant with two recipient roles gets two copies).
    pub role: String,
    #[serde(rename = "transactionID")]
    pub transaction_id: String,
}

impl Addressed for Publication {
    fn recipient(&self) -> (&str, &str) {
        (RECIPIENT_LIST, &self.recipient)
    }
}

/// The contract's final answers (not retried); any other answer, or none, is retried.
pub fn classify(answer: Result<u16, &OutboundError>) -> Outcome {
    match answer {
        Ok(s) if (200..300).contains(&s) => Outcome::Delivered,
        Ok(s @ (400 | 401 | 403 | 404 | 405 | 406 | 413 | 505)) => Outcome::Failed(Ending::Answered(s)),
        _ => Outcome::Retry,
    }
}

impl Rules for Publication {
    fn archive_area(&self) -> &'static str {
        super::ARCHIVE_AREA
    }

    fn classify(&self, answer: Result<u16, &OutboundError>) -> Outcome {
        classify(answer)
    }

    fn push(&self, url: &str, payload: &[u8], credential: &Credential) -> HttpRequest {
        credentials::post_json(url, payload, credential)
    }

    async fn policy(&self, _host: &impl Host) -> PortResult<DeliveryPolicy> {
        Ok(POLICY)
    }

    fn endpoint_key(&self) -> String {
        keys::dip_pubconfig(&self.channel, &self.recipient)
    }

    /// A recipient without a webhook yet keeps its messages until it registers one.
    fn unregistered(&self) -> Outcome {
        Outcome::Retry
    }

    fn ended(&self, _payload: &[u8], _why: Ending, _settings: &Settings) -> Result<Option<Reply<Self>>, String> {
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn final_answers_end_and_the_rest_retry() {
        assert_eq!(classify(Ok(204)), Outcome::Delivered);
        for s in [400, 401, 403, 404, 405, 406, 413, 505] {
            assert_eq!(classify(Ok(s)), Outcome::Failed(Ending::Answered(s)), "{s}");
        }
        for s in [408, 429, 500, 502, 503, 302] {
            assert_eq!(classify(Ok(s)), Outcome::Retry, "{s}");
        }
        assert_eq!(classify(Err(&OutboundError::Timeout)), Outcome::Retry);
        let p = Publication { channel: "IF-021".into(), recipient: "1000000001".into(), role: "SUP".into(), transaction_id: "T".into() };
        assert_eq!(p.endpoint_key(), "dip/pubconfig/IF-021/1000000001");
        assert_eq!(p.unregistered(), Outcome::Retry);
    }
}
