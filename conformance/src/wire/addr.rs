//! Claude's network facts about a target's address, as pure functions (docs/connector.md
//! "Network facts", checked by CLAUDE-NET.port and CLAUDE-NET.dns): Claude's connectors
//! reach a server only on port 443, only over IPv4, and only at a public address. Classifies
//! an IP address and says what is wrong with a hostname's DNS answer. No I/O.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// The only port Claude's connectors connect to.
pub const CLAUDE_PORT: u16 = 443;

/// What kind of address an IP is, for a client on the public internet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AddrKind {
    Public,
    Loopback,
    /// RFC 1918, IPv6 unique-local (fc00::/7), carrier-grade NAT (100.64.0.0/10).
    Private,
    /// 169.254.0.0/16, fe80::/10.
    LinkLocal,
    /// 0.0.0.0/8, ::, documentation, benchmarking, multicast, broadcast, 240.0.0.0/4.
    Reserved,
}

impl std::fmt::Display for AddrKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            AddrKind::Public => "public",
            AddrKind::Loopback => "loopback",
            AddrKind::Private => "private",
            AddrKind::LinkLocal => "link-local",
            AddrKind::Reserved => "reserved",
        })
    }
}

/// The kind of `ip` (an IPv4-mapped IPv6 address counts as its IPv4 address).
pub fn classify(ip: IpAddr) -> AddrKind {
    match ip {
        IpAddr::V4(v4) => classify_v4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => classify_v4(v4),
            None => classify_v6(v6),
        },
    }
}

fn classify_v4(ip: Ipv4Addr) -> AddrKind {
    let [a, b, c, _] = ip.octets();
    if ip.is_loopback() {
        AddrKind::Loopback
    } else if ip.is_private() || (a == 100 && (64..128).contains(&b)) {
        AddrKind::Private
    } else if ip.is_link_local() {
        AddrKind::LinkLocal
    } else if a == 0
        || a >= 224
        || (a == 192 && b == 0 && (c == 0 || c == 2))
        || (a == 198 && (b == 18 || b == 19))
        || (a == 198 && b == 51 && c == 100)
        || (a == 203 && b == 0 && c == 113)
    {
        AddrKind::Reserved
    } else {
        AddrKind::Public
    }
}

fn classify_v6(ip: Ipv6Addr) -> AddrKind {
    let first = ip.segments()[0];
    if ip.is_loopback() {
        AddrKind::Loopback
    } else if first & 0xfe00 == 0xfc00 {
        AddrKind::Private
    } else if first & 0xffc0 == 0xfe80 {
        AddrKind::LinkLocal
    } else if ip.is_unspecified()
        || ip.is_multicast()
        || first == 0x2001 && ip.segments()[1] == 0x0db8
    {
        AddrKind::Reserved
    } else {
        AddrKind::Public
    }
}

/// What keeps Claude from reaching a host that resolves to `addrs`: no IPv4 address (no A
/// record; Claude is IPv4-only), or an address that is not public (Claude would connect
/// nowhere, or somewhere else). Empty when nothing does.
pub fn dns_problems(addrs: &[IpAddr]) -> Vec<String> {
    let mut p = Vec::new();
    if !addrs.iter().any(|a| as_v4(*a).is_some()) {
        let shown: Vec<String> = addrs.iter().map(ToString::to_string).collect();
        p.push(format!(
            "no A record (IPv4 address): Claude connects over IPv4 only; the name resolves to [{}]",
            shown.join(", ")
        ));
    }
    for a in addrs {
        let kind = classify(*a);
        if kind != AddrKind::Public {
            p.push(format!(
                "{a} is a {kind} address: Claude connects from the public internet, it can't reach it"
            ));
        }
    }
    p
}

/// `ip` as IPv4, when it is one (or an IPv4-mapped IPv6 address).
fn as_v4(ip: IpAddr) -> Option<Ipv4Addr> {
    match ip {
        IpAddr::V4(v4) => Some(v4),
        IpAddr::V6(v6) => v6.to_ipv4_mapped(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind(s: &str) -> AddrKind {
        classify(s.parse().unwrap())
    }

    #[test]
    fn classifies_addresses() {
        for (ip, want) in [
            ("104.16.1.1", AddrKind::Public),
            ("2606:4700::6810:101", AddrKind::Public),
            ("127.0.0.1", AddrKind::Loopback),
            ("::1", AddrKind::Loopback),
            ("::ffff:127.0.0.1", AddrKind::Loopback),
            ("10.1.2.3", AddrKind::Private),
            ("172.16.0.1", AddrKind::Private),
            ("172.32.0.1", AddrKind::Public),
            ("192.168.1.1", AddrKind::Private),
            ("100.64.0.1", AddrKind::Private),
            ("100.128.0.1", AddrKind::Public),
            ("fd12:3456::1", AddrKind::Private),
            ("169.254.169.254", AddrKind::LinkLocal),
            ("fe80::1", AddrKind::LinkLocal),
            ("0.0.0.0", AddrKind::Reserved),
            ("::", AddrKind::Reserved),
            ("192.0.2.10", AddrKind::Reserved),
            ("198.18.0.1", AddrKind::Reserved),
            ("224.0.0.1", AddrKind::Reserved),
            ("255.255.255.255", AddrKind::Reserved),
            ("2001:db8::1", AddrKind::Reserved),
        ] {
            assert_eq!(kind(ip), want, "{ip}");
        }
    }

    #[test]
    fn a_public_a_record_is_fine_and_the_rest_is_named() {
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        assert!(dns_problems(&[ip("104.16.1.1"), ip("2606:4700::6810:101")]).is_empty());
        let p = dns_problems(&[ip("2606:4700::6810:101")]);
        assert_eq!(p.len(), 1);
        assert!(p[0].starts_with("no A record"), "{p:?}");
        let p = dns_problems(&[ip("104.16.1.1"), ip("10.0.0.5")]);
        assert_eq!(p.len(), 1);
        assert!(p[0].contains("10.0.0.5 is a private address"), "{p:?}");
        let p = dns_problems(&[ip("127.0.0.1")]);
        assert!(p[0].contains("loopback"), "{p:?}");
        let p = dns_problems(&[]);
        assert!(p[0].starts_with("no A record"), "{p:?}");
    }
}
