//! MCP-INIT-1: with the key, `initialize` (answered 200 with an `Mcp-Session-Id`),
//! `notifications/initialized` (2xx) and `tools/list` (a `tools` array) over Streamable
//! HTTP at `--mcp-path` work. The prerequisite of the profile's other session checks: when
//! it fails they skip at once naming it; this check reports what happened.

use crate::checks::prereq::need_key;
use crate::client::Ctx;
use crate::client::streamable::{SESSION_VERSION, initialize_body};
use crate::engine::table::check_table;
use crate::engine::{Check, CheckResult, Outcome};

pub fn checks() -> Vec<Check> {
    check_table! {
        "MCP-INIT-1", Mcp, round_trip,
            "with the key: POST <mcp-path> initialize -> 200 + Mcp-Session-Id, notifications/initialized -> 2xx, tools/list -> a tools array (the session deleted after)";
    }
}

async fn round_trip(ctx: &Ctx) -> CheckResult {
    need_key(ctx, 0)?;
    ctx.mcp_round_trip().await.map_err(|e| {
        Outcome::fail(
            "initialize, notifications/initialized and tools/list answered over Streamable HTTP",
            e,
            ctx.mcp_post(Some(0), &initialize_body(SESSION_VERSION))
                .curl(),
        )
    })
}
