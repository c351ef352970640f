//! The client's address behind a trusted proxy (RATE-6, NET-3 in
//! docs/contract.md). Behind the tunnel every request's TCP peer is
//! `cloudflared`, so a limiter keyed by the peer is one bucket for every
//! client on the internet. When (and only when) the operator names the
//! proxy's addresses (`CFPB_MCP_TRUSTED_PROXIES`), a request from one of them
//! is keyed by its `CF-Connecting-IP` header, which Cloudflare sets to the
//! visitor's address; from any other peer the header is ignored, so a client
//! that reaches the origin directly cannot choose its own bucket.
//!
//! Pure: parsing and one lookup; no state.

use std::net::IpAddr;

use http::HeaderMap;

/// The header Cloudflare sets to the visitor's address.
pub const CF_CONNECTING_IP: &str = "cf-connecting-ip";

/// Addresses (single, or CIDR blocks) whose `CF-Connecting-IP` is believed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies {
    nets: Vec<(IpAddr, u8)>,
}

/// A list entry that is no address or block.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("entry {entry}: not an IP address or CIDR block (e.g. 172.18.0.0/16)")]
pub struct BadProxy {
    /// 1-based position in the list.
    pub entry: usize,
}

impl TrustedProxies {
    /// A comma-separated list of IP addresses and CIDR blocks; empty entries
    /// are skipped.
    pub fn parse(list: &str) -> Result<Self, BadProxy> {
        let mut nets = Vec::new();
        for (n, item) in list.split(',').map(str::trim).enumerate() {
            if item.is_empty() {
                continue;
            }
            let bad = BadProxy { entry: n + 1 };
            let (addr, prefix) = match item.split_once('/') {
                Some((addr, prefix)) => (addr, Some(prefix)),
                None => (item, None),
            };
            let addr: IpAddr = addr.parse().map_err(|_| bad.clone())?;
            let max = if addr.is_ipv4() { 32 } else { 128 };
            let prefix = match prefix {
                None => max,
                Some(p) => p.parse::<u8>().ok().filter(|p| *p <= max).ok_or(bad)?,
            };
            nets.push((addr, prefix));
        }
        Ok(Self { nets })
    }

    pub fn is_empty(&self) -> bool {
        self.nets.is_empty()
    }

    /// Is `peer` one of the trusted proxies?
    pub fn trusts(&self, peer: IpAddr) -> bool {
        self.nets
            .iter()
            .any(|(net, prefix)| within(peer, *net, *prefix))
    }

    /// The address a request is counted under: `CF-Connecting-IP` when the
    /// peer is trusted and the header is one valid address, else the peer.
    pub fn client_ip(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        if !self.trusts(peer) {
            return peer;
        }
        let mut values = headers.get_all(CF_CONNECTING_IP).iter();
        match (values.next(), values.next()) {
            (Some(value), None) => value
                .to_str()
                .ok()
                .and_then(|v| v.trim().parse().ok())
                .unwrap_or(peer),
            _ => peer,
        }
    }
}

fn within(addr: IpAddr, net: IpAddr, prefix: u8) -> bool {
    match (addr, net) {
        (IpAddr::V4(a), IpAddr::V4(n)) => {
            let mask = u32::MAX.checked_shl(32 - u32::from(prefix)).unwrap_or(0);
            u32::from(a) & mask == u32::from(n) & mask
        }
        (IpAddr::V6(a), IpAddr::V6(n)) => {
            let mask = u128::MAX.checked_shl(128 - u32::from(prefix)).unwrap_or(0);
            u128::from(a) & mask == u128::from(n) & mask
        }
        (IpAddr::V6(a), IpAddr::V4(_)) => a
            .to_ipv4_mapped()
            .is_some_and(|a| within(IpAddr::V4(a), net, prefix)),
        (IpAddr::V4(_), IpAddr::V6(_)) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(values: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in values {
            h.append(CF_CONNECTING_IP, v.parse().unwrap());
        }
        h
    }

    #[test]
    fn rate_6_the_header_counts_only_from_a_trusted_peer() {
        let proxies = TrustedProxies::parse("172.18.0.0/16, 127.0.0.1,::1").unwrap();
        let visitor: IpAddr = "203.0.113.7".parse().unwrap();
        let tunnel: IpAddr = "172.18.0.5".parse().unwrap();
        let outsider: IpAddr = "198.51.100.1".parse().unwrap();
        assert_eq!(proxies.client_ip(tunnel, &with(&["203.0.113.7"])), visitor);
        assert_eq!(
            proxies.client_ip(outsider, &with(&["203.0.113.7"])),
            outsider
        );
        assert_eq!(proxies.client_ip(tunnel, &HeaderMap::new()), tunnel);
        assert_eq!(proxies.client_ip(tunnel, &with(&["junk"])), tunnel);
        assert_eq!(
            proxies.client_ip(tunnel, &with(&["1.1.1.1", "2.2.2.2"])),
            tunnel
        );
        let mapped: IpAddr = "::ffff:172.18.1.1".parse().unwrap();
        assert!(proxies.trusts(mapped));
        assert!(proxies.trusts("::1".parse().unwrap()));
        assert!(!TrustedProxies::default().trusts(tunnel));
    }

    #[test]
    fn the_list_is_parsed_strictly() {
        assert_eq!(
            TrustedProxies::parse("").unwrap(),
            TrustedProxies::default()
        );
        assert!(TrustedProxies::parse("10.0.0.0/8,").is_ok());
        assert!(
            TrustedProxies::parse("0.0.0.0/0")
                .unwrap()
                .trusts("8.8.8.8".parse().unwrap())
        );
        assert_eq!(TrustedProxies::parse("10.0.0.0/33").unwrap_err().entry, 1);
        assert_eq!(
            TrustedProxies::parse("1.2.3.4,cloudflared")
                .unwrap_err()
                .entry,
            2
        );
    }
}
