//! Delivery rules of the DIP's two kinds of call: a publication (one job per (recipient, role)
//! copy of a message, to the recipient's publication webhook on the channel) and a status
//! message (to a participant's status webhook). Both are held until the webhook is registered,
//! signed by the hub (10.3), and retried until 14 days old (DSD002 8.9; then dead-lettered: the
//! job ends and the archive keeps the message). What a final refusal of a publication sends
//! back to its sender (8.6), batching and obfuscation come with the publication webhooks.

use alloc::string::String;
use serde::{Deserialize, Serialize};

use crate::common::broker::Addressed;
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

/// One call the hub owes a DIP participant: a publication (one per (recipient, role) copy of a
/// message, to the recipient's webhook on the channel) or a status message (to the
/// participant's status webhook).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Call {
    #[serde(rename = "recipientDIPID")]
    pub recipient: String,
    #[serde(rename = "transactionID")]
    pub transaction_id: String,
    #[serde(flatten)]
    pub to: To,
}

/// The broker's job part DIP calls travel in (the hub's `protocols::Payload`): DIP builds its
/// jobs without naming the protocols that share the broker.
pub trait Carries: From<Call> + Addressed + Serialize + serde::de::DeserializeOwned {}
impl<P: From<Call> + Addressed + Serialize + serde::de::DeserializeOwned> Carries for P {}

/// Which webhook of the recipient a call goes to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "webhook", rename_all = "lowercase")]
pub enum To {
    /// The role is the one this copy is for (a participant with two recipient roles gets two).
    Publication { channel: String, role: String },
    Status,
}

impl Call {
    pub fn publication(channel: &str, recipient: &str, role: &str, transaction_id: &str) -> Call {
        Call { recipient: recipient.into(), transaction_id: transaction_id.into(), to: To::Publication { channel: channel.into(), role: role.into() } }
    }

    pub fn status(recipient: &str, transaction_id: &str) -> Call {
        Call { recipient: recipient.into(), transaction_id: transaction_id.into(), to: To::Status }
    }
}

impl Addressed for Call {
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

impl Rules for Call {
    fn archive_area(&self) -> &'static str {
        super::ARCHIVE_AREA
    }

    fn classify(&self, answer: Result<u16, &OutboundError>) -> Outcome {
        classify(answer)
    }

    async fn policy(&self, _host: &impl Host) -> PortResult<DeliveryPolicy> {
        Ok(POLICY)
    }

    fn endpoint_key(&self) -> String {
        match &self.to {
            To::Publication { channel, .. } => keys::dip_pubconfig(channel, &self.recipient),
            To::Status => keys::dip_status_webhook(&self.recipient),
        }
    }

    /// A participant without the webhook yet keeps its calls until it registers one.
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
        let p = Call::publication("IF-021", "1000000001", "SUP", "T");
        assert_eq!(p.endpoint_key(), "dip/pubconfig/IF-021/1000000001");
        assert_eq!(p.unregistered(), Outcome::Retry);
        assert_eq!(Call::status("1000000001", "T").endpoint_key(), "dip/status/1000000001");
    }
}
