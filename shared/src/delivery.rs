//! Delivery decisions: what a recipient's answer means, when to try again, and which
//! addresses the hub may call at all.

use alloc::string::String;

use crate::config::DeliveryPolicy;
use crate::ots::failure::FaultCode;
use crate::ports::OutboundError;

/// How long one push may take before it counts as "no response" (OTS practice: a 3 s hop).
pub const ATTEMPT_TIMEOUT_MS: u32 = 3_000;
/// Refresh a cached outbound OAuth2 token this long before it expires.
pub const TOKEN_REFRESH_MARGIN_SECS: u64 = 60;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Delivered,
    /// Stop and notify the originator with this fault.
    Failed(FaultCode),
    /// Try again under the routing ID's delivery policy.
    Retry,
}

/// TOTSCo API v2.0 §2.1.8.2: only 202 is delivered; 400 -> 9006, 404 -> 9007,
/// 501/502/511 -> 9008; anything else, or no response, is retried.
pub fn classify(result: Result<u16, &OutboundError>) -> Outcome {
    match result {
        Ok(202) => Outcome::Delivered,
        Ok(400) => Outcome::Failed(FaultCode::InvalidFormat),
        Ok(404) => Outcome::Failed(FaultCode::Rejected),
        Ok(501 | 502 | 511) => Outcome::Failed(FaultCode::TimedOut),
        Ok(_) => Outcome::Retry,
        Err(OutboundError::Refused(_)) => Outcome::Failed(FaultCode::NoRoute),
        Err(_) => Outcome::Retry,
    }
}

/// Delay before attempt `attempt + 1` (attempt counts from 1): exponential from the
/// policy's initial backoff, capped, with up to 25% jitter from `jitter` (0..=u32::MAX).
/// `None` once the next attempt would start after the policy's timeout.
pub fn next_delay_secs(policy: &DeliveryPolicy, attempt: u32, elapsed_ms: u64, jitter: u32) -> Option<u32> {
    let base = policy.initial_backoff_seconds.max(1) as u64;
    let exp = base.saturating_mul(1u64 << attempt.saturating_sub(1).min(20));
    let capped = exp.min(policy.max_backoff_seconds.max(1) as u64);
    let spread = capped / 4;
    let delay = capped - spread + (spread * jitter as u64 * 2) / u32::MAX as u64;
    let delay = delay.max(1);
    let deadline_ms = policy.timeout_seconds as u64 * 1000;
    (elapsed_ms + delay * 1000 < deadline_ms).then_some(delay as u32)
}

/// Outbound calls go only to addresses a recipient registered: `https://`, or `http://` on
/// loopback when the host allows it (local development and tests).
pub fn check_outbound_url(url: &str, allow_loopback_http: bool) -> Result<(), OutboundError> {
    if url.starts_with("https://") {
        return Ok(());
    }
    if let Some(rest) = url.strip_prefix("http://") {
        let host = rest.split(['/', '?', '#']).next().unwrap_or("");
        let host = host.rsplit_once('@').map(|(_, h)| h).unwrap_or(host);
        let name = if host.starts_with('[') {
            host.split(']').next().unwrap_or("").trim_start_matches('[')
        } else {
            host.split(':').next().unwrap_or("")
        };
        let loopback = name == "localhost" || name.parse::<core::net::IpAddr>().is_ok_and(|ip| ip.is_loopback());
        if allow_loopback_http && loopback {
            return Ok(());
        }
        return Err(OutboundError::Refused(alloc::format!("plain http is allowed only to loopback in development: {url}")));
    }
    Err(OutboundError::Refused(alloc::format!("not an http(s) URL: {url}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classification_follows_the_spec() {
        assert_eq!(classify(Ok(202)), Outcome::Delivered);
        assert_eq!(classify(Ok(200)), Outcome::Retry);
        assert_eq!(classify(Ok(400)), Outcome::Failed(FaultCode::InvalidFormat));
        assert_eq!(classify(Ok(404)), Outcome::Failed(FaultCode::Rejected));
        for s in [501, 502, 511] {
            assert_eq!(classify(Ok(s)), Outcome::Failed(FaultCode::TimedOut));
        }
        assert_eq!(classify(Ok(500)), Outcome::Retry);
        assert_eq!(classify(Err(&OutboundError::Timeout)), Outcome::Retry);
        assert_eq!(classify(Err(&OutboundError::Connection("refused".into()))), Outcome::Retry);
    }

    #[test]
    fn backoff_grows_caps_and_stops() {
        let p = DeliveryPolicy { timeout_seconds: 60, initial_backoff_seconds: 2, max_backoff_seconds: 10 };
        assert_eq!(next_delay_secs(&p, 1, 0, 0), Some(2));
        assert_eq!(next_delay_secs(&p, 2, 0, 0), Some(3)); // 4 minus 25%
        assert_eq!(next_delay_secs(&p, 9, 0, u32::MAX), Some(12)); // capped at 10, plus 25%
        assert_eq!(next_delay_secs(&p, 9, 55_000, 0), None);
    }

    #[test]
    fn only_registered_kinds_of_address() {
        assert!(check_outbound_url("https://cp.example/letterbox", false).is_ok());
        assert!(check_outbound_url("http://127.0.0.1:9000/x", true).is_ok());
        assert!(check_outbound_url("http://[::1]:9000/x", true).is_ok());
        assert!(check_outbound_url("http://127.0.0.1:9000/x", false).is_err());
        assert!(check_outbound_url("http://10.0.0.1/x", true).is_err());
        assert!(check_outbound_url("ftp://x", true).is_err());
    }
}

/// A recipient's OAuth2 access token as the hub caches it (sealed at rest).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CachedToken {
    pub access_token: String,
    pub expires_at_ms: u64,
}

impl CachedToken {
    /// Usable for a push starting now (refreshed [`TOKEN_REFRESH_MARGIN_SECS`] early).
    pub fn fresh(&self, now_ms: u64) -> bool {
        now_ms + TOKEN_REFRESH_MARGIN_SECS * 1000 < self.expires_at_ms
    }
}

/// When a recipient's token response has no `expires_in`, assume OTS's one hour.
pub const DEFAULT_TOKEN_TTL_SECS: u64 = 3600;

/// Client-credentials request to a recipient's token URL (TOTSCo API v2.0 §3.2.1, outbound).
pub fn token_request(token_url: &str, client_id: &str, client_secret: &str) -> crate::http::HttpRequest {
    use base64::Engine;
    use crate::http::{percent_encode, HttpRequest, Method};
    let basic = base64::engine::general_purpose::STANDARD
        .encode(alloc::format!("{}:{}", percent_encode(client_id), percent_encode(client_secret)));
    HttpRequest::new(Method::Post, token_url)
        .with_header("authorization", alloc::format!("Basic {basic}"))
        .with_header("content-type", "application/x-www-form-urlencoded")
        .with_header("accept", "application/json")
        .with_body(b"grant_type=client_credentials".to_vec())
}

/// The token from a 200 response (`access_token`, optional `expires_in`), else `None`.
pub fn parse_token_response(resp: &crate::http::HttpResponse, now_ms: u64) -> Option<CachedToken> {
    if resp.status != 200 {
        return None;
    }
    let v: serde_json::Value = serde_json::from_slice(&resp.body).ok()?;
    let token = v.get("access_token")?.as_str()?.trim();
    if token.is_empty() {
        return None;
    }
    let ttl = v.get("expires_in").and_then(|e| e.as_u64().or_else(|| e.as_str()?.parse().ok())).unwrap_or(DEFAULT_TOKEN_TTL_SECS);
    Some(CachedToken { access_token: token.into(), expires_at_ms: now_ms + ttl * 1000 })
}

/// How a push authenticates to the recipient.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Credential {
    Bearer(String),
    ApiKey(String),
    None,
}

/// The push of an archived message, byte for byte as the sender posted it, so every attempt
/// carries the same envelope and recipients can de-duplicate on source correlationID.
pub fn push_request(url: &str, payload: &[u8], credential: &Credential) -> crate::http::HttpRequest {
    use crate::http::{HttpRequest, Method};
    let req = HttpRequest::new(Method::Post, url)
        .with_header("content-type", "application/json")
        .with_header("accept", "application/json")
        .with_body(payload.to_vec());
    match credential {
        Credential::Bearer(t) => req.with_header("authorization", alloc::format!("Bearer {t}")),
        Credential::ApiKey(k) => req.with_header("apikey", k.clone()),
        Credential::None => req,
    }
}

/// A 401 from a recipient the hub authenticates to with OAuth2 means our cached token was
/// revoked: fetch a new one and push once more before classifying the answer.
pub fn refresh_token_on(status: u16, auth: &crate::config::EndpointAuth) -> bool {
    status == 401 && matches!(auth, crate::config::EndpointAuth::Oauth2 { .. })
}

/// An API key is sent only until its registered expiry (TOTSCo API v2.0 §3.2.2).
pub fn api_key_usable(expires_at: &str, now_ms: u64) -> bool {
    crate::time::parse_rfc3339(expires_at).is_some_and(|exp| now_ms < exp)
}

#[cfg(test)]
mod outbound_tests {
    use super::*;
    use crate::http::HttpResponse;

    #[test]
    fn token_exchange() {
        let r = token_request("https://cp.example/token", "hub", "s:cret");
        assert_eq!(r.header("authorization"), Some("Basic aHViOnMlM0FjcmV0"));
        let ok = HttpResponse { status: 200, headers: alloc::vec![], body: br#"{"access_token":"t","expires_in":120}"#.to_vec() };
        let t = parse_token_response(&ok, 1_000).unwrap();
        assert_eq!(t.expires_at_ms, 121_000);
        assert!(t.fresh(1_000) && !t.fresh(61_000));
        let bad = HttpResponse { status: 401, ..ok };
        assert!(parse_token_response(&bad, 0).is_none());
        assert!(api_key_usable("2030-01-01T00:00:00Z", 0) && !api_key_usable("2020-01-01T00:00:00Z", 1_700_000_000_000));
        let oauth = crate::config::EndpointAuth::Oauth2 { token_url: "https://t".into(), client_id: "c".into(), client_secret: "s".into() };
        assert!(refresh_token_on(401, &oauth));
        assert!(!refresh_token_on(403, &oauth));
        assert!(!refresh_token_on(401, &crate::config::EndpointAuth::None), "without OAuth2 a 401 is just an answer");
    }
}
