//! The key-value layout. One namespace holds every table; a prefix per table keeps them
//! apart, and this is the only place that spells one. Configuration tables (written only by
//! the admin API) may be cached by hosts for as long as [`GENERATION`] is unchanged.

use alloc::format;
use alloc::string::String;

/// Changes whenever configuration is written ([`super::commit`]): a host that cached
/// configuration keeps it only while this value is the one it read.
pub const GENERATION: &str = "config/generation";

/// Tables of configuration, written only through the admin API: cacheable under [`GENERATION`].
const CONFIG_PREFIXES: [&str; 5] = ["listtype/", "dir/", "endpoint/", "routing/", "client/"];

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
