//! The `mcp` profile (`--profile mcp`): what the MCP specification and common sense require
//! of ANY auth-gated MCP endpoint, without this contract's exact error bodies or paths
//! (`--mcp-path`, `--sse-path`), one file per family, listed here in run order. A separate
//! selection: no seed or strict check runs with it, and none of these runs with those.
//! The checks that need a working session declare `needs(mcp)`: `initialize` +
//! `tools/list` over Streamable HTTP (MCP-INIT-1), tried once per run.

mod auth;
mod init;
mod log;
mod origin;
mod rate;
mod session;
mod tools;

use crate::engine::Check;

/// The MCP-* checks, in run order: the round trip, refusals, Origin, sessions, the burst
/// (it empties the key's bucket), then the echo scan of the whole run and the log.
pub fn checks() -> Vec<Check> {
    [
        init::checks(),
        auth::refusals(),
        origin::checks(),
        session::checks(),
        tools::checks(),
        rate::checks(),
        auth::echo(),
        log::checks(),
    ]
    .concat()
}
