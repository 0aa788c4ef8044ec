//! One host, every port: what a function needs from the platform it runs on. A host built
//! for a function with fewer bindings answers the missing ports with an error, and a secret
//! a function is not given is an error only when that function asks for it, so least
//! privilege is a configuration choice and never a code path.
#![allow(async_fn_in_trait)]

use alloc::string::{String, ToString};
use alloc::vec::Vec;

use crate::common::http::{HttpRequest, HttpResponse};
use crate::ports::{AddressTable, Archive, Clock, Entropy, HttpClient, KeyValue, Outbox, PortError, PortResult, Signer, Unique, Verifier};

pub trait Host: Clock + Entropy {
    type Kv: KeyValue;
    type Archive: Archive;
    type Outbox: Outbox;
    type Unique: Unique;
    type AddressTable: AddressTable;
    type Http: HttpClient;
    type Signer: Signer;
    type Verifier: Verifier;

    fn kv(&self) -> PortResult<&Self::Kv>;
    fn archive(&self) -> PortResult<&Self::Archive>;
    fn outbox(&self) -> PortResult<&Self::Outbox>;
    fn unique(&self) -> PortResult<&Self::Unique>;
    /// The address table (DIP MAMS); bound only where MAMS is read or written.
    fn address_table(&self) -> PortResult<&Self::AddressTable>;
    fn http(&self) -> PortResult<&Self::Http>;
    fn settings(&self) -> &Settings;
    /// The hub's RSA signer, from the `SWITCHYARD_SIGNING_KEY` secret.
    async fn signer(&self) -> PortResult<Self::Signer>;
    /// RSA signature verification (DIP message signatures and their certificates).
    fn verifier(&self) -> &Self::Verifier;
    /// An operational error for the host's log. Never pass secrets or message bodies.
    fn log_error(&self, message: &str);
}

/// How the gateway reaches the function that serves a route: a service binding on
/// Cloudflare, local service chaining on Spin.
pub trait Forward {
    async fn forward(&self, to: Function, req: HttpRequest) -> PortResult<HttpResponse>;
}

/// The function Workers / Spin components behind the gateway.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Function {
    Send,
    Webhooks,
    Directory,
    Replay,
    Token,
    Deliver,
    Admin,
}

impl Function {
    /// The API an operator can block (503/700700) by this name in `SWITCHYARD_BLOCKED_APIS`.
    /// The admin API cannot be blocked: it is how the operator unblocks the others.
    pub fn api(self) -> Option<&'static str> {
        match self {
            Function::Send => Some("letterbox"),
            Function::Directory => Some("directory"),
            Function::Token => Some("token"),
            Function::Webhooks | Function::Replay | Function::Deliver | Function::Admin => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Function::Send => "send",
            Function::Webhooks => "webhooks",
            Function::Directory => "directory",
            Function::Replay => "replay",
            Function::Token => "token",
            Function::Deliver => "deliver",
            Function::Admin => "admin",
        }
    }
}

/// Names of the host secrets and variables the hub reads. Each function is given only the
/// ones it uses (README, "Deploy"; spin.toml).
pub mod names {
    /// HMAC key for access tokens and API keys (secret): gateway, token, admin.
    pub const TOKEN_SECRET: &str = "SWITCHYARD_TOKEN_SECRET";
    /// Bearer token of the admin API (secret): gateway.
    pub const ADMIN_TOKEN: &str = "SWITCHYARD_ADMIN_TOKEN";
    /// Key that seals recipients' outbound credentials at rest (secret): admin, deliver.
    pub const SEAL_KEY: &str = "SWITCHYARD_SEAL_KEY";
    /// The hub's identity as the source of failure notifications (OTS default `TOTSCO`).
    pub const HUB_IDENTITY: &str = "SWITCHYARD_HUB_IDENTITY";
    /// `true` lets endpoints use loopback addresses (local development and tests only).
    pub const ALLOW_LOOPBACK_HTTP: &str = "SWITCHYARD_ALLOW_LOOPBACK_HTTP";
    /// PKCS#8 PEM RSA key the hub signs with (secret, optional).
    pub const SIGNING_KEY: &str = "SWITCHYARD_SIGNING_KEY";
    /// `true` enables `POST /admin/v1/signing/test`, which signs any bytes with the hub's key
    /// (development and tests only; otherwise the route does not exist).
    pub const ENABLE_SIGNING_TEST: &str = "SWITCHYARD_ENABLE_SIGNING_TEST";
    /// Seconds after which a shard wakes to push again what a crash left in flight (default
    /// 10): deliver.
    pub const OUTBOX_GRACE_SECS: &str = "SWITCHYARD_OUTBOX_GRACE_SECS";
    /// How many shards the outbox has (default 16): send, deliver. Recipients are spread over
    /// them by a hash of their identity; one recipient's jobs are always in one shard.
    pub const OUTBOX_SHARDS: &str = "SWITCHYARD_OUTBOX_SHARDS";
    /// Comma-separated APIs answered with 503/700700 until the setting changes.
    pub const BLOCKED_APIS: &str = "SWITCHYARD_BLOCKED_APIS";
    /// This DIP instance's environment tag (DT-013: `PRD SITB SIT UIT DEV`, default `DEV`).
    pub const DIP_ENVIRONMENT: &str = "SWITCHYARD_DIP_ENVIRONMENT";
    /// The hub's own DIP ID, the `senderID` of its responses (default `0000000000`).
    pub const DIP_ID: &str = "SWITCHYARD_DIP_ID";
    /// The PEM certificate of the key in SIGNING_KEY, which participants verify the hub's
    /// DIP calls with.
    pub const SIGNING_CERTIFICATE: &str = "SWITCHYARD_SIGNING_CERTIFICATE";
    /// The longest wait between two DIP delivery attempts, seconds (default 300; 7.12.4).
    pub const DIP_MAX_RETRY_WAIT_SECS: &str = "SWITCHYARD_DIP_MAX_RETRY_WAIT_SECS";
    /// `true` lets DIP callback URLs name a port (9.4.1 says they do not); always allowed
    /// with ALLOW_LOOPBACK_HTTP.
    pub const DIP_ALLOW_CALLBACK_PORTS: &str = "SWITCHYARD_DIP_ALLOW_CALLBACK_PORTS";
    /// Consecutive failed calls that open an endpoint's circuit (default 5).
    pub const CIRCUIT_FAILURES: &str = "SWITCHYARD_CIRCUIT_FAILURES";
    /// Seconds an opened circuit stays open before a probe (default 30; doubled after each
    /// failed probe, up to 10 minutes).
    pub const CIRCUIT_COOLDOWN_SECS: &str = "SWITCHYARD_CIRCUIT_COOLDOWN_SECS";
    /// Seconds added to the hub's clock (development only: honoured with
    /// ALLOW_LOOPBACK_HTTP), so a test can restart the hub 14 days later.
    pub const CLOCK_OFFSET_SECS: &str = "SWITCHYARD_CLOCK_OFFSET_SECS";
}

/// Settings a function reads from host secrets and variables. Secrets are read once and
/// handed out only through their accessors; `Debug` is not derived so none reaches a log.
#[derive(Clone)]
pub struct Settings {
    token_secret: Result<Vec<u8>, String>,
    seal_key: Result<Vec<u8>, String>,
    admin_token: Option<String>,
    /// The hub's identity as the source of notifications, when configured.
    pub hub_identity: Option<String>,
    pub allow_loopback_http: bool,
    /// PKCS#8 PEM private key for message signatures, when configured.
    pub signing_key: Option<String>,
    pub enable_signing_test: bool,
    /// How long a job may stay in flight before its shard counts it lost and pushes it again.
    pub outbox_grace_ms: u64,
    /// Shards of the outbox (at least 1).
    pub outbox_shards: u32,
    /// APIs the operator blocked for now (`letterbox`, `directory`, `token`): 503/700700.
    pub blocked_apis: Vec<String>,
    /// The DIP environment tag as configured (checked where DIP reads it).
    pub dip_environment: String,
    /// The hub's DIP ID.
    pub dip_id: String,
    /// The certificate of the signing key (PEM), when configured.
    pub signing_certificate: Option<String>,
    pub dip_max_retry_wait_secs: u32,
    pub dip_allow_callback_ports: bool,
    pub circuit_failures: u32,
    pub circuit_cooldown_secs: u32,
    /// Added to the host's wall clock (0 outside development).
    pub clock_offset_ms: u64,
}

/// Default for [`names::DIP_MAX_RETRY_WAIT_SECS`].
pub const DEFAULT_DIP_MAX_RETRY_WAIT_SECS: u32 = 300;
/// Default for [`names::CIRCUIT_FAILURES`].
pub const DEFAULT_CIRCUIT_FAILURES: u32 = 5;
/// Default for [`names::CIRCUIT_COOLDOWN_SECS`].
pub const DEFAULT_CIRCUIT_COOLDOWN_SECS: u32 = 30;

/// Default for [`names::DIP_ENVIRONMENT`].
pub const DEFAULT_DIP_ENVIRONMENT: &str = "DEV";
/// Default for [`names::DIP_ID`].
pub const DEFAULT_DIP_ID: &str = "0000000000";

/// Default for [`Settings::outbox_grace_ms`]: how soon after a crash the pushes that died
/// with the host are pushed again. A live shard never pushes a job twice at once (it knows
/// what it has in flight), so this needs only to be short, not longer than an attempt.
pub const DEFAULT_OUTBOX_GRACE_SECS: u64 = 10;
/// Default for [`Settings::outbox_shards`].
pub const DEFAULT_OUTBOX_SHARDS: u32 = 16;

/// Secrets shorter than this are refused: they would make tokens guessable.
pub const MIN_SECRET_LEN: usize = 16;

impl Settings {
    /// Reads settings through `lookup` (secret or variable by name). Never fails: a missing
    /// or too short secret is an error when a handler asks for it.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Settings {
        let secret = |name: &str| -> Result<Vec<u8>, String> {
            match lookup(name) {
                Some(v) if v.len() >= MIN_SECRET_LEN => Ok(v.into_bytes()),
                Some(_) => Err(alloc::format!("{name} is shorter than {MIN_SECRET_LEN} characters")),
                None => Err(alloc::format!("{name} is not set for this function")),
            }
        };
        let flag = |name: &str| lookup(name).is_some_and(|v| v == "true");
        let number = |name: &str| lookup(name).and_then(|v| v.trim().parse::<u32>().ok());
        Settings {
            token_secret: secret(names::TOKEN_SECRET),
            seal_key: secret(names::SEAL_KEY),
            admin_token: lookup(names::ADMIN_TOKEN).filter(|t| t.len() >= MIN_SECRET_LEN),
            hub_identity: lookup(names::HUB_IDENTITY),
            allow_loopback_http: flag(names::ALLOW_LOOPBACK_HTTP),
            signing_key: lookup(names::SIGNING_KEY).map(|k| k.replace("\\n", "\n")),
            enable_signing_test: flag(names::ENABLE_SIGNING_TEST),
            blocked_apis: lookup(names::BLOCKED_APIS)
                .map(|v| v.split(',').map(|a| a.trim().to_string()).filter(|a| !a.is_empty()).collect())
                .unwrap_or_default(),
            outbox_shards: lookup(names::OUTBOX_SHARDS).and_then(|v| v.parse::<u32>().ok()).filter(|n| *n >= 1).unwrap_or(DEFAULT_OUTBOX_SHARDS),
            outbox_grace_ms: lookup(names::OUTBOX_GRACE_SECS).and_then(|v| v.parse::<u64>().ok()).unwrap_or(DEFAULT_OUTBOX_GRACE_SECS) * 1000,
            dip_environment: lookup(names::DIP_ENVIRONMENT).unwrap_or_else(|| DEFAULT_DIP_ENVIRONMENT.into()),
            dip_id: lookup(names::DIP_ID).unwrap_or_else(|| DEFAULT_DIP_ID.into()),
            signing_certificate: lookup(names::SIGNING_CERTIFICATE).map(|c| c.replace("\\n", "\n")),
            dip_max_retry_wait_secs: number(names::DIP_MAX_RETRY_WAIT_SECS).filter(|n| *n >= 1).unwrap_or(DEFAULT_DIP_MAX_RETRY_WAIT_SECS),
            dip_allow_callback_ports: flag(names::DIP_ALLOW_CALLBACK_PORTS),
            circuit_failures: number(names::CIRCUIT_FAILURES).filter(|n| *n >= 1).unwrap_or(DEFAULT_CIRCUIT_FAILURES),
            circuit_cooldown_secs: number(names::CIRCUIT_COOLDOWN_SECS).filter(|n| *n >= 1).unwrap_or(DEFAULT_CIRCUIT_COOLDOWN_SECS),
            clock_offset_ms: if flag(names::ALLOW_LOOPBACK_HTTP) { number(names::CLOCK_OFFSET_SECS).unwrap_or(0) as u64 * 1000 } else { 0 },
        }
    }

    /// The key access tokens and API keys are signed with.
    pub fn token_secret(&self) -> PortResult<&[u8]> {
        self.token_secret.as_deref().map_err(|e| PortError::new(e.clone()))
    }

    /// The key recipients' outbound credentials are sealed with.
    pub fn seal_key(&self) -> PortResult<&[u8]> {
        self.seal_key.as_deref().map_err(|e| PortError::new(e.clone()))
    }

    /// The admin API's bearer token; `None` refuses every admin call.
    pub fn admin_token(&self) -> Option<&str> {
        self.admin_token.as_deref()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_errors_only_when_asked_for() {
        let s = Settings::from_lookup(|n| (n == names::TOKEN_SECRET).then(|| "0123456789abcdef".into()));
        assert_eq!(s.token_secret().unwrap(), b"0123456789abcdef");
        assert!(s.seal_key().unwrap_err().0.contains("not set"));
        let short = Settings::from_lookup(|n| (n == names::SEAL_KEY).then(|| "short".into()));
        assert!(short.seal_key().unwrap_err().0.contains("shorter"));
        assert!(short.admin_token().is_none() && !short.allow_loopback_http && !short.enable_signing_test);
    }
}
