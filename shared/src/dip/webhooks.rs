//! Webhook registrations (the DIP contract, "Public DIP endpoints"): a recipient's publication
//! webhook per channel (`/dip-channel/{id}/pubconfig/{recipient-id}`) and a participant's
//! status-message webhook (`/statusmessage/config/{recipient-id}`). Each is stored as the
//! endpoint the delivery engine calls, with its batching limits beside it.

use alloc::string::String;
use alloc::vec::Vec;
use serde::{Deserialize, Serialize};

use crate::common::config::{Endpoint, EndpointAuth};
use crate::common::delivery::outbound::check_outbound_url;
use crate::common::store::keys;

/// Elexon's WebhookConfig. `maxPayloadSize` is in KB of 1024 bytes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WebhookConfig {
    #[serde(rename = "callbackURL")]
    pub callback_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_message_count: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_payload_size: Option<f64>,
}

/// What a registration is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Webhook<'a> {
    Publication { channel: &'a str },
    Status,
}

impl Webhook<'_> {
    /// Where the endpoint and its limits are stored for `recipient`.
    pub fn keys(self, recipient: &str) -> (String, String) {
        match self {
            Webhook::Publication { channel } => (keys::dip_pubconfig(channel, recipient), keys::dip_pubconfig_limits(channel, recipient)),
            Webhook::Status => (keys::dip_status_webhook(recipient), keys::dip_status_limits(recipient)),
        }
    }
}

/// A registration's body checked: `callbackURL` present and an address the hub may call, on
/// the scheme's standard port (9.4.1) unless ports are allowed; limits, when given, positive.
/// Returns the records to store (endpoint, limits).
pub fn registration(body: &[u8], allow_loopback_http: bool, allow_ports: bool) -> Result<(Endpoint, WebhookConfig), String> {
    let config: WebhookConfig = crate::common::json::parse(body).map_err(|e| alloc::format!("invalid WebhookConfig: {e}"))?;
    let url = config.callback_url.clone().ok_or_else(|| String::from("callbackURL is required"))?;
    check_outbound_url(&url, allow_loopback_http).map_err(|_| String::from("callbackURL is not an address the hub may call"))?;
    // `url` keeps an explicit port only when it is not the scheme's default (443 for https).
    let names_port = url::Url::parse(&url).map_or(true, |u| u.port().is_some());
    if names_port && !(allow_ports || allow_loopback_http) {
        return Err("callbackURL must not name a port: calls go to the standard HTTPS port (9.4.1)".into());
    }
    let positive = |v: Option<f64>| v.is_none_or(|n| n.is_finite() && n >= 1.0);
    if !positive(config.max_message_count) || !positive(config.max_payload_size) {
        return Err("maxMessageCount and maxPayloadSize must be at least 1".into());
    }
    Ok((Endpoint { url, auth: EndpointAuth::None }, config))
}

/// The records of one registration, ready to store.
pub fn records(webhook: Webhook<'_>, recipient: &str, endpoint: &Endpoint, config: &WebhookConfig) -> Vec<(String, Vec<u8>)> {
    let (endpoint_key, limits_key) = webhook.keys(recipient);
    alloc::vec![
        (endpoint_key, serde_json::to_vec(endpoint).unwrap_or_default()),
        (limits_key, serde_json::to_vec(config).unwrap_or_default()),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registrations_need_a_callable_url() {
        let (ep, cfg) = registration(br#"{"callbackURL":"https://sup.example/events","maxMessageCount":10}"#, false, false).unwrap();
        assert_eq!(ep.url, "https://sup.example/events");
        assert_eq!(cfg.max_message_count, Some(10.0));
        assert!(registration(br#"{"maxMessageCount":10}"#, false, false).unwrap_err().contains("callbackURL"));
        assert!(registration(br#"{"callbackURL":"http://127.0.0.1:9/x"}"#, false, false).is_err(), "loopback outside development");
        assert!(registration(br#"{"callbackURL":"http://127.0.0.1:9/x"}"#, true, false).is_ok());
        assert!(registration(br#"{"callbackURL":"https://a.example","maxPayloadSize":0}"#, false, false).is_err());
        // 9.4.1: no port, unless the operator allows them; the default port is no port.
        assert!(registration(br#"{"callbackURL":"https://sup.example:8443/events"}"#, false, false).unwrap_err().contains("port"));
        assert!(registration(br#"{"callbackURL":"https://sup.example:8443/events"}"#, false, true).is_ok());
        assert!(registration(br#"{"callbackURL":"https://sup.example:443/events"}"#, false, false).is_ok());
        assert_eq!(Webhook::Status.keys("1000000001").0, "dip/status/1000000001");
    }
}

/// `POST|DELETE /dip-channel/{id}/pubconfig/{recipient-id}` and
/// `POST|DELETE /statusmessage/config/{recipient-id}`: 201 / 204, each participant for itself.
pub async fn handle(host: &impl crate::host::Host, req: &crate::common::http::HttpRequest) -> crate::common::http::HttpResponse {
    match serve(host, req).await {
        Ok(resp) => resp,
        Err(e) => {
            host.log_error(&alloc::format!("dip webhooks: {}", e.0));
            crate::common::http::HttpResponse::empty(500)
        }
    }
}

async fn serve(host: &impl crate::host::Host, req: &crate::common::http::HttpRequest) -> crate::ports::PortResult<crate::common::http::HttpResponse> {
    use crate::common::http::{HttpResponse, Method};
    use crate::ports::KeyValue;
    let path = alloc::string::ToString::to_string(req.path());
    let seg: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let (webhook, recipient) = match seg.as_slice() {
        ["dip-channel", channel, "pubconfig", recipient] => (Webhook::Publication { channel }, *recipient),
        ["statusmessage", "config", recipient] => (Webhook::Status, *recipient),
        _ => return Ok(HttpResponse::empty(404)),
    };
    if !matches!(req.method, Method::Post | Method::Delete) {
        return Ok(HttpResponse::empty(405));
    }
    let Some(owner) = super::auth::key_owner_of(req) else { return Ok(HttpResponse::empty(401)) };
    if owner != recipient {
        return Ok(HttpResponse::empty(403));
    }
    if let Some(refused) = super::auth::signed_by(host, req, owner).await? {
        return Ok(refused);
    }
    let kv = host.kv()?;
    if let Webhook::Publication { channel } = webhook {
        let known = super::store::catalogue(kv).await?.is_some_and(|c| c.channel(channel).is_some());
        if !known {
            return Ok(HttpResponse::empty(404));
        }
    }
    let (endpoint_key, limits_key) = webhook.keys(recipient);
    if req.method == Method::Delete {
        if kv.get(&endpoint_key).await?.is_none() {
            return Ok(HttpResponse::empty(404));
        }
        crate::common::store::remove(kv, host, &[endpoint_key, limits_key]).await?;
        return Ok(HttpResponse::empty(204));
    }
    let settings = host.settings();
    match registration(&req.body, settings.allow_loopback_http, settings.dip_allow_callback_ports) {
        Ok((endpoint, config)) => {
            crate::common::store::commit(kv, host, &records(webhook, recipient, &endpoint, &config)).await?;
            // What was kept for this webhook until it was registered goes now.
            crate::common::broker::release(host, (super::delivery::RECIPIENT_LIST, recipient), &endpoint_key).await?;
            Ok(HttpResponse::empty(201))
        }
        Err(why) => Ok(HttpResponse::json(400, &serde_json::Value::String(why))),
    }
}
