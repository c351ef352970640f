//! The check families, one or more checks per externally observable clause of
//! docs/contract.md, in run order: the HTTP+SSE families first (endpoints, AUTH, NET,
//! SSE, MSG, RATE, LOG), then the Streamable HTTP group `HTTP-*`. This file only lists
//! them; shared helpers live in `prereq.rs` and `bodies.rs`.

mod auth;
mod bodies;
mod endpoints;
mod http;
mod log;
mod msg;
mod net;
mod prereq;
mod rate;
mod sse;

use crate::engine::Check;

/// Every check, in run order.
pub fn all() -> Vec<Check> {
    [
        endpoints::checks(),
        auth::checks(),
        net::checks(),
        sse::checks(),
        msg::checks(),
        rate::checks(),
        log::checks(),
        http::checks(),
    ]
    .concat()
}

#[cfg(test)]
mod tests {
    /// The runner measures up front exactly what it measured when it chose by family:
    /// the limits for RATE-* and HTTP-6.shared-limit, the `/mcp` offer for HTTP-*.
    #[test]
    fn needs_match_the_families_that_use_them() {
        for c in super::all() {
            let limits = c.family() == "RATE" || c.id == "HTTP-6.shared-limit";
            assert_eq!(c.needs.limits, limits, "{}", c.id);
            assert_eq!(c.needs.offer, c.family() == "HTTP", "{}", c.id);
        }
    }
}
