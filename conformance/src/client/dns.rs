//! Resolving the target's hostname as Claude's connector would (docs/connector.md "Network
//! facts", CLAUDE-NET.dns): every address the system resolver returns for it, within the
//! run's timeout. An IP literal resolves to itself. Judges nothing (`wire::addr` does).

use super::ctx::Ctx;
use super::error::ClientError;
use std::net::IpAddr;

impl Ctx {
    /// The addresses the target's host resolves to (A and AAAA), deduplicated.
    pub async fn resolve_target(&self) -> Result<Vec<IpAddr>, ClientError> {
        let host = match self.target.base.host() {
            Some(url::Host::Ipv4(ip)) => return Ok(vec![IpAddr::V4(ip)]),
            Some(url::Host::Ipv6(ip)) => return Ok(vec![IpAddr::V6(ip)]),
            Some(url::Host::Domain(d)) => d.to_string(),
            None => return Err(ClientError::Setup("the target URL has no host".into())),
        };
        let port = self.target.base.port_or_known_default().unwrap_or(443);
        let found = tokio::time::timeout(self.timeout(), tokio::net::lookup_host((host, port)))
            .await
            .map_err(|_| ClientError::Timeout {
                what: "DNS answer",
                after: self.timeout(),
            })?
            .map_err(|e| ClientError::Transport(format!("resolving the hostname: {e}")))?;
        let mut out: Vec<IpAddr> = Vec::new();
        for a in found {
            if !out.contains(&a.ip()) {
                out.push(a.ip());
            }
        }
        Ok(out)
    }
}
