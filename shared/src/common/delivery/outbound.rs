//! Which addresses the hub may call (server-side request forgery).
//!
//! Recipients register the URLs the hub pushes to and fetches tokens from, so a URL is attacker
//! input. Guarantees: the hub calls only `https` URLs without credentials in them whose host is
//! a public DNS name or a public IP address. The URL is parsed the way the host's HTTP client
//! parses it (WHATWG URL), so other spellings of an internal address (`2852039166`,
//! `0xA9FEA9FE`, `0251.0376.0251.0376`, a trailing dot, IPv4 inside IPv6) are seen for what
//! they are. With the development setting, loopback (`127/8`, `::1`, `localhost`) is allowed
//! too, over `http` or `https`; nothing else is.
//!
//! Not covered here: the hub never follows redirects (the outbound adapters enforce it, so a
//! public URL cannot bounce to an internal one); a public name that resolves to an internal
//! address (DNS rebinding) cannot be checked without a DNS port — noted, not solved.

use alloc::format;
use alloc::string::String;
use core::net::{Ipv4Addr, Ipv6Addr};

use url::{Host, Url};

use crate::ports::OutboundError;

/// Why an address is refused (for the admin API's 400 text and the delivery log).
pub fn check_outbound_url(url: &str, allow_loopback_http: bool) -> Result<(), crate::ports::OutboundError> {
    // The message names the scheme or host only, never the URL: it may carry a secret.
    let refuse = |reason: String| Err(OutboundError::Refused(reason));
    let Ok(parsed) = Url::parse(url) else {
        return refuse("not a valid absolute URL".into());
    };
    let scheme = parsed.scheme();
    if scheme != "https" && scheme != "http" {
        return refuse(format!("only http(s) URLs may be called, not {scheme}:"));
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return refuse("credentials in the URL are not allowed; register them as the endpoint's auth".into());
    }
    let Some(host) = parsed.host() else {
        return refuse("the URL has no host".into());
    };
    match classify(&host) {
        Class::Loopback if allow_loopback_http => Ok(()),
        Class::Loopback => refuse(format!("loopback address {host} is allowed only in development")),
        Class::Refused(what) => refuse(format!("{what} {host} may not be called")),
        // Production is https only; plain http is for local development against loopback.
        Class::Public if scheme == "http" => refuse(format!("plain http to {host}: only https outside loopback development")),
        Class::Public => Ok(()),
    }
}

enum Class {
    Public,
    Loopback,
    Refused(&'static str),
}

fn classify(host: &Host<&str>) -> Class {
    match host {
        Host::Ipv4(ip) => v4(*ip),
        Host::Ipv6(ip) => v6(*ip),
        Host::Domain(name) => domain(name),
    }
}

fn domain(name: &str) -> Class {
    // The WHATWG parser has already lower-cased and IDNA-mapped the name; a trailing dot
    // names the same host.
    let name = name.strip_suffix('.').unwrap_or(name);
    if name == "localhost" {
        return Class::Loopback;
    }
    let ends = |zone: &str| name == zone || name.strip_suffix(zone).is_some_and(|rest| rest.ends_with('.'));
    // RFC 6761 §6.3 (localhost), RFC 6762 (local, mDNS), RFC 8375 (home.arpa), ICANN's
    // reserved `internal` (metadata.google.internal); `localdomain` is the common resolver default.
    if let Some(zone) = ["localhost", "local", "internal", "localdomain", "home.arpa"].into_iter().find(|z| ends(z)) {
        return Class::Refused(match zone {
            "localhost" => "loopback name",
            _ => "internal name",
        });
    }
    // No dot: the resolver's search domains turn it into an internal host.
    if !name.contains('.') {
        return Class::Refused("single-label name");
    }
    Class::Public
}

fn v4(ip: Ipv4Addr) -> Class {
    let [a, b, ..] = ip.octets();
    // RFC 6890 special-purpose ranges the hub has no business calling.
    Class::Refused(match (a, b) {
        (127, _) => return Class::Loopback,
        (0, _) => "unspecified address",
        (10, _) | (172, 16..=31) | (192, 168) => "private address",
        (169, 254) => "link-local address (cloud metadata)",
        (100, 64..=127) => "shared (CGNAT) address",
        (224..=239, _) => "multicast address",
        (240..=255, _) => "reserved or broadcast address",
        _ => return Class::Public,
    })
}

fn v6(ip: Ipv6Addr) -> Class {
    let s = ip.segments();
    let embedded = |hi: u16, lo: u16| Ipv4Addr::new((hi >> 8) as u8, hi as u8, (lo >> 8) as u8, lo as u8);
    let wrapped = |inner: Ipv4Addr| match v4(inner) {
        Class::Public => Class::Public,
        // A loopback IPv4 inside IPv6 is not the dev setting's `::1`: refuse it.
        _ => Class::Refused("IPv6 form of an internal IPv4 address"),
    };
    if ip == Ipv6Addr::LOCALHOST {
        return Class::Loopback;
    }
    if ip.is_unspecified() {
        return Class::Refused("unspecified address");
    }
    match s {
        // ::ffff:a.b.c.d (mapped, RFC 4291 §2.5.5.2) and ::a.b.c.d (compatible, §2.5.5.1).
        [0, 0, 0, 0, 0, 0xffff | 0, hi, lo] => wrapped(embedded(hi, lo)),
        // NAT64 well-known prefix (RFC 6052 §2.1) reaches the IPv4 address it embeds.
        [0x64, 0xff9b, 0, 0, 0, 0, hi, lo] => wrapped(embedded(hi, lo)),
        // Local-use NAT64 (RFC 8215) is by definition inside someone's network.
        [0x64, 0xff9b, 1, ..] => Class::Refused("local-use NAT64 address"),
        // 6to4 (RFC 3056 §2): 2002:AABB:CCDD::/48 tunnels to a.b.c.d.
        [0x2002, hi, lo, ..] => wrapped(embedded(hi, lo)),
        [a, ..] if a & 0xfe00 == 0xfc00 => Class::Refused("private (unique local) address"),
        [a, ..] if a & 0xffc0 == 0xfe80 => Class::Refused("link-local address"),
        [a, ..] if a & 0xffc0 == 0xfec0 => Class::Refused("site-local address"),
        [a, ..] if a & 0xff00 == 0xff00 => Class::Refused("multicast address"),
        _ => Class::Public,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(url: &str, dev: bool) -> bool {
        matches!(check_outbound_url(url, dev), Err(OutboundError::Refused(_)))
    }

    #[test]
    fn refused_in_production_and_in_development() {
        let table = [
            // loopback wrapped in IPv6 or behind a name: not the dev setting's loopback
            "https://[::ffff:127.0.0.1]/", "https://[::127.0.0.1]/", "https://app.localhost/",
            // unspecified
            "https://0.0.0.0/", "https://0/", "https://[::]/",
            // private
            "https://10.0.0.1/", "https://172.16.0.1/", "https://172.31.255.255/", "https://192.168.1.1/",
            "https://[fc00::1]/", "https://[fd12:3456::1]/",
            // link-local, cloud metadata in every spelling
            "https://169.254.169.254/latest/meta-data/", "https://2852039166/", "https://0xA9FEA9FE/",
            "https://0251.0376.0251.0376/", "https://169.254.169.254./", "https://0xa9.0xfe.0xa9.0xfe/",
            "https://[fe80::1]/", "https://[fec0::1]/",
            // CGNAT, multicast, reserved, broadcast
            "https://100.64.0.1/", "https://100.127.255.254/", "https://224.0.0.1/", "https://239.255.255.250/",
            "https://240.0.0.1/", "https://255.255.255.255/", "https://[ff02::1]/",
            // IPv4 inside IPv6
            "https://[::ffff:169.254.169.254]/", "https://[::ffff:a9fe:a9fe]/", "https://[::ffff:10.0.0.1]/",
            "https://[::169.254.169.254]/", "https://[64:ff9b::a9fe:a9fe]/", "https://[64:ff9b::10.0.0.1]/",
            "https://[64:ff9b:1::1]/", "https://[2002:a9fe:a9fe::1]/", "https://[2002:7f00:1::]/",
            // internal names
            "https://metadata.google.internal/computeMetadata/v1/", "https://printer.local/",
            "https://db.localdomain/", "https://nas.home.arpa/", "https://METADATA.GOOGLE.INTERNAL./",
            "https://intranet/", "https://metadata/", "https://local/",
            // credentials in the URL
            "https://user:pw@cp.example/", "https://user@cp.example/", "https://:pw@cp.example/",
            // not http(s)
            "ftp://cp.example/x", "file:///etc/passwd", "javascript:alert(1)", "data:text/plain,hi",
            "gopher://cp.example/", "ws://cp.example/",
            // not a URL
            "", "cp.example/letterbox", "/letterbox/v2/post", "https://", "https://[::1/",
        ];
        for url in table {
            assert!(refused(url, false), "{url} must be refused");
            assert!(refused(url, true), "{url} must be refused even in development");
        }
    }

    #[test]
    fn unicode_host_names_are_refused_and_punycode_is_not() {
        // idna_adapter 1.0 (workspace Cargo.toml): no Unicode tables in every function.
        assert!(check_outbound_url("https://bücher.example/x", false).is_err());
        assert_eq!(check_outbound_url("https://xn--bcher-kva.example/x", false), Ok(()));
    }

    #[test]
    fn allowed_public_https() {
        for url in [
            "https://cp.example/letterbox/v2/post",
            "https://cp.example:8443/x",
            "https://8.8.8.8/x",
            "https://[2001:4860:4860::8888]/x",
            "https://[::ffff:8.8.8.8]/x",
            "https://CP.Example./x?q=1#f",
            "https://172.32.0.1/",
            "https://100.128.0.1/",
        ] {
            assert_eq!(check_outbound_url(url, false), Ok(()), "{url}");
            assert_eq!(check_outbound_url(url, true), Ok(()), "{url}");
        }
    }

    #[test]
    fn plain_http_only_to_loopback_in_development() {
        let loopback = [
            "http://127.0.0.1:9000/x", "http://127.8.9.10/x", "http://[::1]:9000/x", "http://localhost:8787/x",
            "http://localhost./x", "http://LOCALHOST/x", "http://2130706433/x", "http://0x7f.1/x",
        ];
        for url in loopback {
            assert!(refused(url, false), "{url} without the dev setting");
            assert_eq!(check_outbound_url(url, true), Ok(()), "{url} with the dev setting");
            let https = url.replacen("http:", "https:", 1);
            assert!(refused(&https, false), "{https} without the dev setting");
            assert_eq!(check_outbound_url(&https, true), Ok(()), "{https} with the dev setting");
        }
        for url in ["http://cp.example/x", "http://8.8.8.8/x", "http://10.0.0.1/x"] {
            assert!(refused(url, false) && refused(url, true), "{url}");
        }
    }

    #[test]
    fn previous_rules_still_hold() {
        assert!(check_outbound_url("https://cp.example/letterbox", false).is_ok());
        assert!(check_outbound_url("http://127.0.0.1:9000/x", true).is_ok());
        assert!(check_outbound_url("http://[::1]:9000/x", true).is_ok());
        assert!(check_outbound_url("http://127.0.0.1:9000/x", false).is_err());
        assert!(check_outbound_url("http://10.0.0.1/x", true).is_err());
        assert!(check_outbound_url("ftp://x", true).is_err());
    }

    #[test]
    fn reasons_name_the_host_but_never_the_credentials() {
        let Err(OutboundError::Refused(why)) = check_outbound_url("https://2852039166/", false) else { panic!() };
        assert!(why.contains("169.254.169.254") && why.contains("link-local"), "{why}");
        let Err(OutboundError::Refused(why)) = check_outbound_url("https://user:hunter2@cp.example/", false) else { panic!() };
        assert!(!why.contains("hunter2"), "{why}");
    }
}
