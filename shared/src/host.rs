//! One host, every port: what a function needs from the platform it runs on. A host built
//! for a function with fewer bindings answers the missing ports with an error, so least
//! privilege is a configuration choice and never a code path.
#![allow(async_fn_in_trait)]

use alloc::string::{String, ToString};
use alloc::vec::Vec;

use crate::ports::{Archive, Clock, Entropy, HttpClient, KeyValue, Outbox, PortError, PortResult, Queue, Signer};

pub trait Host: Clock + Entropy {
    type Kv: KeyValue;
    type Queue: Queue;
    type Archive: Archive;
    type Outbox: Outbox;
    type Http: HttpClient;
    type Signer: Signer;

    fn kv(&self) -> PortResult<&Self::Kv>;
    fn queue(&self) -> PortResult<&Self::Queue>;
    fn archive(&self) -> PortResult<&Self::Archive>;
    fn outbox(&self) -> PortResult<&Self::Outbox>;
    fn http(&self) -> PortResult<&Self::Http>;
    fn settings(&self) -> &Settings;
    /// The hub's RSA signer, from the `SWITCHYARD_SIGNING_KEY` secret.
    async fn signer(&self) -> PortResult<Self::Signer>;
    /// An operational error for the host's log. Never pass secrets or message bodies.
    fn log_error(&self, message: &str);
}

/// Names of the host secrets and variables the hub reads.
pub mod names {
    /// HMAC key for access tokens and API keys (secret).
    pub const TOKEN_SECRET: &str = "SWITCHYARD_TOKEN_SECRET";
    /// Bearer token of the admin API (secret).
    pub const ADMIN_TOKEN: &str = "SWITCHYARD_ADMIN_TOKEN";
    /// Key that seals recipients' outbound credentials at rest (secret).
    pub const SEAL_KEY: &str = "SWITCHYARD_SEAL_KEY";
    /// The hub's identity as the source of failure notifications (default `TOTSCO`).
    pub const HUB_IDENTITY: &str = "SWITCHYARD_HUB_IDENTITY";
    /// `true` lets endpoints use plain http on loopback (local development and tests only).
    pub const ALLOW_LOOPBACK_HTTP: &str = "SWITCHYARD_ALLOW_LOOPBACK_HTTP";
    /// PKCS#8 PEM RSA key the hub signs with (secret, optional).
    pub const SIGNING_KEY: &str = "SWITCHYARD_SIGNING_KEY";
    /// Seconds an overdue outbox entry waits before a sweep re-sends its job (default 60).
    pub const OUTBOX_GRACE_SECS: &str = "SWITCHYARD_OUTBOX_GRACE_SECS";
    /// Comma-separated APIs answered with 503/700700 until the setting changes.
    pub const BLOCKED_APIS: &str = "SWITCHYARD_BLOCKED_APIS";
}

/// Settings every function reads from host secrets and variables.
#[derive(Debug, Clone)]
pub struct Settings {
    pub token_secret: Vec<u8>,
    pub admin_token: Option<String>,
    pub seal_key: Vec<u8>,
    pub hub_identity: String,
    pub allow_loopback_http: bool,
    /// PKCS#8 PEM private key for message signatures, when configured.
    pub signing_key: Option<String>,
    /// How long past its due time an unfinished job waits before a sweep re-sends it.
    pub outbox_grace_ms: u64,
    /// APIs the operator blocked for now (`letterbox`, `directory`, `token`): 503/700700.
    pub blocked_apis: Vec<String>,
}

/// Default for [`Settings::outbox_grace_ms`]: longer than any broker backlog seen locally.
pub const DEFAULT_OUTBOX_GRACE_SECS: u64 = 60;

/// Secrets shorter than this are refused: they would make tokens guessable.
pub const MIN_SECRET_LEN: usize = 16;

impl Settings {
    /// Reads settings through `lookup` (secret or variable by name). The token secret and
    /// seal key are required; the hub refuses to start a request without them.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> PortResult<Settings> {
        let secret = |name: &str| -> PortResult<Vec<u8>> {
            match lookup(name) {
                Some(v) if v.len() >= MIN_SECRET_LEN => Ok(v.into_bytes()),
                Some(_) => Err(PortError::new(alloc::format!("{name} is shorter than {MIN_SECRET_LEN} characters"))),
                None => Err(PortError::new(alloc::format!("{name} is not set"))),
            }
        };
        Ok(Settings {
            token_secret: secret(names::TOKEN_SECRET)?,
            seal_key: secret(names::SEAL_KEY)?,
            admin_token: lookup(names::ADMIN_TOKEN).filter(|t| t.len() >= MIN_SECRET_LEN),
            hub_identity: lookup(names::HUB_IDENTITY).unwrap_or_else(|| crate::ots::DEFAULT_HUB_IDENTITY.to_string()),
            allow_loopback_http: lookup(names::ALLOW_LOOPBACK_HTTP).is_some_and(|v| v == "true"),
            signing_key: lookup(names::SIGNING_KEY).map(|k| k.replace("\\n", "\n")),
            blocked_apis: lookup(names::BLOCKED_APIS)
                .map(|v| v.split(',').map(|a| a.trim().to_string()).filter(|a| !a.is_empty()).collect())
                .unwrap_or_default(),
            outbox_grace_ms: lookup(names::OUTBOX_GRACE_SECS).and_then(|v| v.parse::<u64>().ok()).unwrap_or(DEFAULT_OUTBOX_GRACE_SECS) * 1000,
        })
    }
}

/// Turns a handler's result into the response, logging host failures (never their payload).
pub fn respond(host: &impl Host, context: &str, result: Result<crate::http::HttpResponse, crate::ots::errors::Failure>) -> crate::http::HttpResponse {
    use crate::ots::errors::{Failure, OtsError};
    match result {
        Ok(r) => r,
        Err(Failure::Rejected(e)) => e.response(),
        Err(Failure::Host(e)) => {
            host.log_error(&alloc::format!("{context}: {e}"));
            OtsError::Backend.response()
        }
    }
}
