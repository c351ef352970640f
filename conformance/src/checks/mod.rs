//! The check families, one or more checks per externally observable clause of
//! docs/contract.md, in run order: the HTTP+SSE families first (endpoints, AUTH, NET,
//! SSE, MSG, RATE, LOG), then the Streamable HTTP group `HTTP-*`, the MCP 2026-07-28 group
//! `HTTP-2026-*`, the `claude` group (`COMPAT-*`, `CLAUDE-*`), the `mcp` profile's `MCP-*`
//! (selected alone), the `oauth` profile's `OAUTH-*` (selected alone), then AUTH-7.run, which
//! judges every response of the run (so it comes last). This file only lists
//! them; shared helpers live in `prereq.rs` and `bodies.rs`.

mod auth;
mod bodies;
mod claude;
mod echo;
mod endpoints;
mod http;
mod http2026;
mod log;
mod mcp;
mod msg;
mod net;
mod oauth;
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
        http2026::checks(),
        claude::checks(),
        mcp::checks(),
        oauth::checks(),
        echo::checks(),
    ]
    .concat()
}

#[cfg(test)]
mod tests {
    /// The runner measures up front exactly what it measured when it chose by family:
    /// the limits for RATE-* and the shared-limit checks, the `/mcp` offer for HTTP-*, the
    /// 2026-07-28 offer for HTTP-2026-*.
    #[test]
    fn needs_match_the_families_that_use_them() {
        for c in super::all() {
            let limits = c.family() == "RATE"
                || c.id == "HTTP-6.shared-limit"
                || c.id == "HTTP-2026-11.shared-limit";
            assert_eq!(c.needs.limits, limits, "{}", c.id);
            let claude = matches!(c.family(), "COMPAT" | "CLAUDE");
            if !claude {
                assert_eq!(c.needs.offer, c.family() == "HTTP", "{}", c.id);
                assert_eq!(c.needs.stateless, c.family() == "HTTP-2026", "{}", c.id);
            }
        }
    }

    /// The checks that open an SSE session (directly or through the LOG capture) need the
    /// session prerequisite, so they skip at once when sessions can't be opened; the ones
    /// that only look at a stream's head, or that report the prerequisite (SSE-2), don't.
    #[test]
    fn checks_that_open_a_session_need_the_session_prerequisite() {
        let without = [
            "SSE-1",
            "SSE-2",
            "MSG-2.no-session",
            "MSG-2.malformed",
            "MSG-2.unknown",
        ];
        for c in super::all() {
            let family = c.family();
            let needs =
                matches!(family, "MSG" | "LOG" | "SSE") && !without.contains(&c.id.as_str());
            assert_eq!(c.needs.session, needs, "{}", c.id);
        }
    }
}
