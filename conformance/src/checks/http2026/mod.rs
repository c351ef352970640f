//! The MCP 2026-07-28 group (docs/contract.md HTTP-2026-1..11, all strict): the stateless
//! revision on `/mcp`, one file per clause, listed here in run order. Every check first
//! asks `need_stateless` (skip when the target doesn't speak the revision and `--transport`
//! didn't ask for it; fail when it did). No check opens a stateless "session" (there is
//! none); the two that compare with the session-based revisions delete theirs.

mod cache;
pub(crate) mod common;
mod discover;
mod era;
mod guard;
mod log;
mod meta;
mod method;
mod mismatch;
mod no_session;
mod stream;
mod version;

use crate::engine::Check;

/// The HTTP-2026-* checks, in run order.
pub fn checks() -> Vec<Check> {
    [
        era::checks(),
        discover::checks(),
        meta::checks(),
        mismatch::checks(),
        version::checks(),
        method::checks(),
        no_session::checks(),
        stream::checks(),
        cache::checks(),
        log::checks(),
        guard::checks(),
    ]
    .concat()
}
