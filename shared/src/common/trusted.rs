//! Headers the gateway sets for the function after authenticating the caller (it removes
//! anything the caller sent under these names first). Functions read the caller's identity
//! from them instead of authenticating again.

use alloc::string::String;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine;

use crate::common::config::ClientGrant;

pub const PREFIX: &str = "x-switchyard-";
pub const CLIENT_ID: &str = "x-switchyard-client-id";
/// The authenticated client's grant (base64url JSON, no secrets), so the function that
/// serves the request does not read the client record a second time.
pub const CLIENT_GRANT: &str = "x-switchyard-client-grant";

pub fn encode_grant(grant: &ClientGrant) -> String {
    B64.encode(serde_json::to_vec(grant).unwrap_or_default())
}

pub fn decode_grant(header: &str) -> Option<ClientGrant> {
    serde_json::from_slice(&B64.decode(header).ok()?).ok()
}
pub const REMOTE_IP: &str = "x-switchyard-remote-ip";
/// The URL as the caller addressed it (scheme, host, port, path, query), which DIP
/// signatures cover.
pub const ADDRESSED_URL: &str = "x-switchyard-addressed-url";
/// The DIP ID whose API key the caller presented.
pub const DIP_KEY_OWNER: &str = "x-switchyard-dip-key-owner";
pub const AUTH_KIND: &str = "x-switchyard-auth";
