//! The check families, one or more checks per externally observable clause of
//! docs/contract.md, in run order: the HTTP+SSE families first (endpoints, AUTH, NET,
//! SSE, MSG, RATE, LOG), then the Streamable HTTP group `HTTP-*`, the MCP 2026-07-28 group
//! `HTTP-2026-*`, the `claude` group (`COMPAT-*`, `CLAUDE-*`), the `mcp` profile's `MCP-*`
//! (selected alone), the `oauth` profile's `OAUTH-*` (selected alone), then AUTH-7.run, which
//! judges every response of the run (so it comes last). This file only lists
//! them; what each family is (title, transport, needs) is a row of `families.rs`; shared
//! helpers live in `prereq.rs` and `bodies.rs`.

mod auth;
mod bodies;
mod claude;
mod echo;
mod endpoints;
pub mod families;
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

/// Every check, in run order, each in its family's `--transport` group.
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
    .into_iter()
    .map(|c| {
        let group = families::transport(c.family());
        c.in_transport(group)
    })
    .collect()
}

#[cfg(test)]
mod tests {
    use super::families::{FAMILIES, family};

    /// Every check's family has a row in the table, every row has a check, and the rows
    /// are in the order the families first run.
    #[test]
    fn every_family_is_in_the_table() {
        let mut seen: Vec<&str> = Vec::new();
        let all = super::all();
        for c in &all {
            assert!(
                family(c.family()).is_some(),
                "{}: family {}",
                c.id,
                c.family()
            );
            if !seen.contains(&c.family()) {
                seen.push(c.family());
            }
        }
        let rows: Vec<&str> = FAMILIES.iter().map(|f| f.id).collect();
        assert_eq!(seen, rows);
    }

    /// The runner measures up front exactly what each family's row says: the limits for
    /// RATE-* (and the shared-limit checks), the `/mcp` offer for HTTP-*, the 2026-07-28
    /// offer for HTTP-2026-*; the claude group's checks choose their own.
    #[test]
    fn needs_match_the_families_that_use_them() {
        let shared_limit = ["HTTP-6.shared-limit", "HTTP-2026-11.shared-limit"];
        for c in super::all() {
            let row = family(c.family()).expect("a family row");
            let Some(needs) = row.needs else {
                assert!(!c.needs.limits, "{}", c.id);
                continue;
            };
            let limits = needs.limits || shared_limit.contains(&c.id.as_str());
            assert_eq!(c.needs.limits, limits, "{}", c.id);
            assert_eq!(c.needs.offer, needs.offer, "{}", c.id);
            assert_eq!(c.needs.stateless, needs.stateless, "{}", c.id);
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
            let row = family(c.family()).expect("a family row");
            let needs = row.needs.is_some_and(|n| n.session) && !without.contains(&c.id.as_str());
            assert_eq!(c.needs.session, needs, "{}", c.id);
        }
    }
}
