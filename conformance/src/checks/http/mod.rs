//! The Streamable HTTP group (docs/contract.md HTTP-1..7, all strict), one file per
//! clause, listed here in run order. Every check first asks `need_streamable` (skip when
//! the target doesn't offer `/mcp` and `--transport` didn't ask for it; fail when it did);
//! sessions are always deleted at the end (the target caps open `/mcp` sessions per key),
//! and every probe is paced.

pub(crate) mod common;
mod guard;
mod initialize;
mod log;
mod method;
mod post;
mod session;
mod shared_limit;
mod stream;
mod version;

use crate::engine::Check;
pub(crate) use guard::no_or_wrong_key_steps;
pub(crate) use shared_limit::shared_legs;

/// The HTTP-* checks, in run order.
pub fn checks() -> Vec<Check> {
    [
        post::checks(),
        initialize::checks(),
        session::checks(),
        stream::checks(),
        version::checks(),
        guard::checks(),
        shared_limit::checks(),
        log::checks(),
        method::checks(),
    ]
    .concat()
}
