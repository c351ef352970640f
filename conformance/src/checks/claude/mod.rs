//! The `claude` group (`--profile claude`, and part of `strict`): Claude's clients as they
//! are (docs/contract.md COMPAT-1..6, docs/connector.md). First the COMPAT clauses one by
//! one, then one replay per Claude surface (CLAUDE-AI, CLAUDE-CODE, CLAUDE-SSE) that says
//! "would connect" or names the request that breaks it, then Claude's network facts
//! (CLAUDE-NET.*, https targets only). Every request carries `User-Agent: Claude-User`.
//! This file only lists them, in run order.

mod body_wins;
mod common;
mod initialize;
mod network;
mod quirk_log;
mod repeated;
mod replay;
mod stale;
mod still_strict;
mod surface_ai;
mod surface_code;
mod surface_sse;

use crate::engine::Check;

/// The COMPAT-* and CLAUDE-* checks, in run order.
pub fn checks() -> Vec<Check> {
    [
        body_wins::checks(),
        repeated::checks(),
        initialize::checks(),
        stale::checks(),
        still_strict::checks(),
        quirk_log::checks(),
        surface_ai::checks(),
        surface_code::checks(),
        surface_sse::checks(),
        network::checks(),
    ]
    .concat()
}
