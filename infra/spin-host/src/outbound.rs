//! `allowed_outbound_hosts` as Spin reads it: each entry is `scheme://host[:port]`, where the
//! scheme, the host and the port may be `*`, the host may be `*.domain` (any subdomain), and
//! a missing port means the scheme's default (80 for http, 443 for https). A request is
//! allowed when any entry matches its scheme, host and port; anything else is refused with
//! `HttpRequestDenied`, as Spin refuses it.

use anyhow::{bail, Context, Result};

#[derive(Debug, Clone)]
pub struct AllowedHost {
    scheme: String,
    host: String,
    port: Option<u16>, // None = any
}

impl AllowedHost {
    pub fn parse(entry: &str) -> Result<AllowedHost> {
        let (scheme, rest) = entry.split_once("://").with_context(|| format!("allowed_outbound_hosts entry {entry:?} has no scheme"))?;
        let rest = rest.trim_end_matches('/');
        if rest.contains('/') {
            bail!("allowed_outbound_hosts entry {entry:?} has a path");
        }
        let (host, port) = match rest.rsplit_once(':') {
            Some((h, "*")) => (h, None),
            Some((h, p)) => (h, Some(p.parse::<u16>().with_context(|| format!("bad port in {entry:?}"))?)),
            None => (rest, Some(default_port(scheme).with_context(|| format!("{entry:?} needs a port for scheme {scheme}"))?)),
        };
        Ok(AllowedHost { scheme: scheme.to_ascii_lowercase(), host: host.to_ascii_lowercase(), port })
    }

    pub fn allows(&self, scheme: &str, host: &str, port: u16) -> bool {
        let scheme_ok = self.scheme == "*" || self.scheme.eq_ignore_ascii_case(scheme);
        let host = host.to_ascii_lowercase();
        let host_ok = self.host == "*"
            || self.host == host
            || self.host.strip_prefix("*.").is_some_and(|domain| host.ends_with(&format!(".{domain}")));
        scheme_ok && host_ok && self.port.is_none_or(|p| p == port)
    }
}

pub fn default_port(scheme: &str) -> Option<u16> {
    match scheme.to_ascii_lowercase().as_str() {
        "http" => Some(80),
        "https" => Some(443),
        _ => None,
    }
}

pub fn allowed(list: &[AllowedHost], scheme: &str, host: &str, port: u16) -> bool {
    list.iter().any(|a| a.allows(scheme, host, port))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(entries: &[&str]) -> Vec<AllowedHost> {
        entries.iter().map(|e| AllowedHost::parse(e).unwrap()).collect()
    }

    #[test]
    fn the_hub_delivery_list() {
        let l = list(&["https://*:*", "http://127.0.0.1:*", "http://localhost:*"]);
        assert!(allowed(&l, "https", "letterbox.example.com", 443));
        assert!(allowed(&l, "https", "letterbox.example.com", 8443));
        assert!(allowed(&l, "http", "127.0.0.1", 8788));
        assert!(!allowed(&l, "http", "letterbox.example.com", 80));
        assert!(!allowed(&l, "http", "10.0.0.1", 8788));
    }

    #[test]
    fn default_ports_and_subdomains() {
        let l = list(&["http://send.spin.internal", "https://*.example.com"]);
        assert!(allowed(&l, "http", "send.spin.internal", 80));
        assert!(!allowed(&l, "http", "send.spin.internal", 8080));
        assert!(!allowed(&l, "http", "admin.spin.internal", 80));
        assert!(allowed(&l, "https", "a.example.com", 443));
        assert!(!allowed(&l, "https", "example.com", 443));
        assert!(!allowed(&l, "https", "a.example.com.evil", 443));
    }
}
