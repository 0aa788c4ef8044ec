//! Delivery rules of the DIP's two kinds of call: a publication (one job per (recipient, role)
//! copy of a message, to the recipient's publication webhook on the channel) and a status
//! message (to a participant's status webhook). Both are held until the webhook is registered,
//! signed by the hub (10.3), and retried until 14 days old (DSD002 8.9; then dead-lettered: the
//! job ends and the archive keeps the message). What a final refusal of a publication sends
//! back to its sender (8.6), batching and obfuscation come with the publication webhooks.

use alloc::string::String;
use serde::{Deserialize, Serialize};

use crate::common::broker::Addressed;
use crate::common::delivery::credentials::{self, Credential};
use crate::common::delivery::policy::DeliveryPolicy;
use crate::common::delivery::{Ending, Outcome, Reply, Rules};
use crate::common::http::HttpRequest;
use crate::common::store::keys;
use crate::host::{Host, Settings};
use crate::ports::{OutboundError, PortError, PortResult};

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

    async fn sign(&self, host: &impl Host, request: HttpRequest) -> PortResult<HttpRequest> {
        signed(host, request).await
    }

    fn ended(&self, _payload: &[u8], _why: Ending, _settings: &Settings) -> Result<Option<Reply<Self>>, String> {
        Ok(None)
    }
}

/// A status message for `recipient` (the original sender of `transaction_id`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Status {
    #[serde(rename = "recipientDIPID")]
    pub recipient: String,
    #[serde(rename = "transactionID")]
    pub transaction_id: String,
}

impl Addressed for Status {
    fn recipient(&self) -> (&str, &str) {
        (RECIPIENT_LIST, &self.recipient)
    }
}

impl Rules for Status {
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
        keys::dip_status_webhook(&self.recipient)
    }
    fn unregistered(&self) -> Outcome {
        Outcome::Retry
    }
    async fn sign(&self, host: &impl Host, request: HttpRequest) -> PortResult<HttpRequest> {
        signed(host, request).await
    }
    /// A status message that could not be delivered is not reported again.
    fn ended(&self, _payload: &[u8], _why: Ending, _settings: &Settings) -> Result<Option<Reply<Self>>, String> {
        Ok(None)
    }
}

/// The hub's four signature headers on a call (10.3.1), over the registered callback URL.
async fn signed(host: &impl Host, request: HttpRequest) -> PortResult<HttpRequest> {
    let certificate = host.settings().signing_certificate.clone().ok_or_else(|| PortError::new("SWITCHYARD_SIGNING_CERTIFICATE is not set"))?;
    let signer = host.signer().await?;
    let headers = super::signature::sign_headers(&signer, request.method.as_str(), &request.url, &request.body, host.now_ms(), &certificate).await?;
    Ok(headers.into_iter().fold(request, |r, (name, value)| r.with_header(name, value)))
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
