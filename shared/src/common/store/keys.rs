//! The key-value layout. One namespace holds every table; a prefix per table keeps them
//! apart, and this is the only place that spells one. Configuration tables (written only by
//! the admin API) may be cached by hosts for as long as [`GENERATION`] is unchanged.

use alloc::format;
use alloc::string::String;

/// Changes whenever configuration is written ([`super::commit`]): a host that cached
/// configuration keeps it only while this value is the one it read.
pub const GENERATION: &str = "config/generation";

/// Tables of configuration, written only through the admin API: cacheable under [`GENERATION`].
const CONFIG_PREFIXES: [&str; 6] = ["listtype/", "dir/", "endpoint/", "routing/", "client/", "dip/"];

/// Whether `key` belongs to a configuration table.
pub fn is_config(key: &str) -> bool {
    CONFIG_PREFIXES.iter().any(|p| key.starts_with(p))
}

/// Marks a list type (e.g. `RCPID`) as configured.
pub fn list_type(list_type: &str) -> String {
    format!("listtype/{list_type}")
}
pub fn list_type_prefix() -> &'static str {
    "listtype/"
}
/// A directory entry.
pub fn participant(list_type: &str, id: &str) -> String {
    format!("dir/{list_type}/{id}")
}
pub fn participant_prefix(list_type: &str) -> String {
    format!("dir/{list_type}/")
}
/// A recipient's delivery endpoint (its sealed credentials are bound to this key).
pub fn endpoint(list_type: &str, id: &str) -> String {
    format!("endpoint/{list_type}/{id}")
}
/// A routing ID's process and delivery policy.
pub fn routing_id(routing_id: &str) -> String {
    format!("routing/{routing_id}")
}
/// An API client: its grant and hashed credentials.
pub fn client(client_id: &str) -> String {
    format!("client/{client_id}")
}
/// Cached outbound OAuth2 token for a recipient endpoint (sealed, bound to this key).
pub fn outbound_token(list_type: &str, id: &str) -> String {
    format!("outtoken/{list_type}/{id}")
}

/// The DIP channel catalogue imported from Elexon's OpenAPI.
pub const DIP_CATALOGUE: &str = "dip/catalogue";
/// The digest of the stored catalogue: functions recompile their schemas when it changes.
pub const DIP_CATALOGUE_ID: &str = "dip/catalogue-id";
/// A DIP participant (DT-006 id).
pub fn dip_participant(dip_id: &str) -> String {
    format!("dip/participant/{dip_id}")
}
/// A DIP participant's two API-key slots (hashes).
pub fn dip_api_keys(dip_id: &str) -> String {
    format!("dip/apikeys/{dip_id}")
}
/// A DIP channel's configuration.
pub fn dip_channel(channel: &str) -> String {
    format!("dip/channel/{channel}")
}
/// A CA certificate DIP signing certificates must chain to.
pub fn dip_trust_anchor(anchor_id: &str) -> String {
    format!("dip/anchor/{anchor_id}")
}
pub fn dip_trust_anchor_prefix() -> &'static str {
    "dip/anchor/"
}
/// A revoked signing certificate, by the hex SHA-256 of its DER.
pub fn dip_revoked(sha256_hex: &str) -> String {
    format!("dip/revoked/{sha256_hex}")
}
/// A recipient's publication webhook on one DIP channel (`/dip-channel/{id}/pubconfig/{recipient}`).
pub fn dip_pubconfig(channel: &str, recipient: &str) -> String {
    format!("dip/pubconfig/{channel}/{recipient}")
}
/// The batching limits a recipient registered with its publication webhook on a channel.
pub fn dip_pubconfig_limits(channel: &str, recipient: &str) -> String {
    format!("dip/pubconfig-limits/{channel}/{recipient}")
}
/// A participant's status-message webhook (`/statusmessage/config/{recipient}`).
pub fn dip_status_webhook(recipient: &str) -> String {
    format!("dip/status/{recipient}")
}
/// The batching limits registered with a status-message webhook.
pub fn dip_status_limits(recipient: &str) -> String {
    format!("dip/status-limits/{recipient}")
}

/// A dead-lettered DIP copy's record (data, not configuration).
pub fn dip_dead_letter(id: &str) -> String {
    format!("dip-dead-letter/{id}")
}
