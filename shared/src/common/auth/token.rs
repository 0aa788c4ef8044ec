//! Hub-signed JWTs (HS256): OAuth2 access tokens (1 hour, TOTSCo API v2.0 §3.2.1) and API keys
//! (6 months, §3.2.2). Any function verifies them with the shared token secret and no lookup;
//! an API key is additionally checked against its client's key slot, so rotation revokes it.

use alloc::string::String;
use alloc::vec::Vec;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

pub const ISSUER: &str = "switchyard";
/// §3.2.1: "The OAuth2 token remains valid for a period of 1 hour."
pub const ACCESS_TOKEN_TTL_SECS: u64 = 3600;
/// §3.2.2: "The API key has a validity of 6 months" (taken as 183 days).
pub const API_KEY_TTL_SECS: u64 = 183 * 24 * 3600;
/// Tokens carry a 5000-character budget on recipients' side (§3.2.2); ours stay far below.
pub const MAX_TOKEN_LEN: usize = 5000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    Access,
    Apikey,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    pub iss: String,
    /// The client id.
    pub sub: String,
    pub iat: u64,
    pub exp: u64,
    pub kind: Kind,
    /// For API keys: `primary` or `secondary`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slot: Option<String>,
    pub jti: String,
}

impl Claims {
    /// Claims for `client_id` issued at `now_ms`: an access token lives one hour, an API key
    /// six months (the slot names which of the client's two keys it is).
    pub fn issue(client_id: &str, now_ms: u64, kind: Kind, slot: Option<&str>, jti: String) -> Claims {
        let iat = now_ms / 1000;
        let ttl = match kind {
            Kind::Access => ACCESS_TOKEN_TTL_SECS,
            Kind::Apikey => API_KEY_TTL_SECS,
        };
        Claims { iss: ISSUER.into(), sub: client_id.into(), iat, exp: iat + ttl, kind, slot: slot.map(Into::into), jti }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenError {
    Malformed,
    BadSignature,
    Expired,
    WrongKind,
}

const HEADER_B64: &str = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9"; // {"alg":"HS256","typ":"JWT"}

pub fn mint(claims: &Claims, secret: &[u8]) -> String {
    let payload = serde_json::to_vec(claims).unwrap_or_default();
    let mut out = String::with_capacity(256);
    out.push_str(HEADER_B64);
    out.push('.');
    out.push_str(&B64.encode(payload));
    let sig = mac(secret, out.as_bytes()).finalize().into_bytes();
    out.push('.');
    out.push_str(&B64.encode(sig));
    out
}

/// Verifies signature, kind and expiry (`now_secs` < `exp`).
pub fn verify(token: &str, secret: &[u8], kind: Kind, now_secs: u64) -> Result<Claims, TokenError> {
    if token.len() > MAX_TOKEN_LEN {
        return Err(TokenError::Malformed);
    }
    let mut parts = token.rsplitn(2, '.');
    let (Some(sig_b64), Some(signed)) = (parts.next(), parts.next()) else {
        return Err(TokenError::Malformed);
    };
    let (header, payload_b64) = signed.split_once('.').ok_or(TokenError::Malformed)?;
    if header != HEADER_B64 {
        return Err(TokenError::Malformed);
    }
    let sig = B64.decode(sig_b64).map_err(|_| TokenError::Malformed)?;
    mac(secret, signed.as_bytes()).verify_slice(&sig).map_err(|_| TokenError::BadSignature)?;
    let payload: Vec<u8> = B64.decode(payload_b64).map_err(|_| TokenError::Malformed)?;
    let claims: Claims = serde_json::from_slice(&payload).map_err(|_| TokenError::Malformed)?;
    if claims.kind != kind || claims.iss != ISSUER {
        return Err(TokenError::WrongKind);
    }
    if now_secs >= claims.exp {
        return Err(TokenError::Expired);
    }
    Ok(claims)
}

fn mac(secret: &[u8], data: &[u8]) -> Hmac<Sha256> {
    let mut m = <Hmac<Sha256> as Mac>::new_from_slice(secret).expect("HMAC takes keys of any length");
    m.update(data);
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(kind: Kind, exp: u64) -> Claims {
        Claims { iss: ISSUER.into(), sub: "client-1".into(), iat: 100, exp, kind, slot: None, jti: "j1".into() }
    }

    #[test]
    fn round_trip_and_rejections() {
        let t = mint(&claims(Kind::Access, 200), b"k");
        assert_eq!(t.split('.').count(), 3);
        assert_eq!(verify(&t, b"k", Kind::Access, 150).unwrap().sub, "client-1");
        assert_eq!(verify(&t, b"k", Kind::Access, 200), Err(TokenError::Expired));
        assert_eq!(verify(&t, b"other", Kind::Access, 150), Err(TokenError::BadSignature));
        assert_eq!(verify(&t, b"k", Kind::Apikey, 150), Err(TokenError::WrongKind));
        assert_eq!(verify("a.b", b"k", Kind::Access, 150), Err(TokenError::Malformed));
        let mut tampered = t.clone();
        tampered.insert(40, 'x');
        assert!(verify(&tampered, b"k", Kind::Access, 150).is_err());
    }
}
