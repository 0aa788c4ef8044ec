//! Network locations: which caller addresses a client may send from (CIDR lists).

use alloc::string::String;
use core::net::IpAddr;

/// True when `networks` is empty (no restriction) or `ip` falls inside one of them.
/// An unknown caller address never matches a non-empty list.
pub fn permitted(networks: &[String], ip: Option<&str>) -> bool {
    if networks.is_empty() {
        return true;
    }
    let Some(ip) = ip.and_then(|s| s.trim().parse::<IpAddr>().ok()) else {
        return false;
    };
    networks.iter().any(|n| contains(n, ip))
}

/// Parses `a.b.c.d/nn` or `x::y/nn` (a bare address is a /32 or /128).
pub fn valid_cidr(cidr: &str) -> bool {
    split(cidr).is_some()
}

fn split(cidr: &str) -> Option<(IpAddr, u32)> {
    let (addr, len) = match cidr.split_once('/') {
        Some((a, l)) => (a, Some(l.parse::<u32>().ok()?)),
        None => (cidr, None),
    };
    let addr: IpAddr = addr.trim().parse().ok()?;
    let max = if addr.is_ipv4() { 32 } else { 128 };
    let len = len.unwrap_or(max);
    (len <= max).then_some((addr, len))
}

fn contains(cidr: &str, ip: IpAddr) -> bool {
    let Some((net, len)) = split(cidr) else { return false };
    match (net, ip) {
        (IpAddr::V4(n), IpAddr::V4(i)) => prefix_eq(u32::from(n) as u128, u32::from(i) as u128, len, 32),
        (IpAddr::V6(n), IpAddr::V6(i)) => prefix_eq(u128::from(n), u128::from(i), len, 128),
        (IpAddr::V6(n), IpAddr::V4(i)) => n.to_ipv4_mapped().is_some_and(|m| len >= 96 && prefix_eq(u32::from(m) as u128, u32::from(i) as u128, len - 96, 32)),
        (IpAddr::V4(n), IpAddr::V6(i)) => i.to_ipv4_mapped().is_some_and(|m| prefix_eq(u32::from(n) as u128, u32::from(m) as u128, len, 32)),
    }
}

fn prefix_eq(a: u128, b: u128, len: u32, bits: u32) -> bool {
    if len == 0 {
        return true;
    }
    let shift = bits - len;
    (a >> shift) == (b >> shift)
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    #[test]
    fn cidr_matching() {
        let nets = vec![String::from("192.0.2.0/24"), String::from("2001:db8::/32")];
        assert!(permitted(&nets, Some("192.0.2.77")));
        assert!(!permitted(&nets, Some("192.0.3.1")));
        assert!(permitted(&nets, Some("2001:db8::1")));
        assert!(permitted(&nets, Some("::ffff:192.0.2.9")));
        assert!(!permitted(&nets, None));
        assert!(permitted(&[], None));
        assert!(permitted(&[String::from("0.0.0.0/0")], Some("8.8.8.8")));
        assert!(valid_cidr("10.0.0.0/8") && valid_cidr("::1") && !valid_cidr("10.0.0.0/33") && !valid_cidr("nope"));
    }
}
