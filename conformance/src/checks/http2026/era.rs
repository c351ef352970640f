//! HTTP-2026-1: a request is served in the era its `MCP-Protocol-Version` header names
//! (docs/contract.md HTTP-2026-1): 2026-07-28 is stateless, an older revision (with no
//! `_meta` version in the body) is session-based, and `/mcp` serves both side by side. The
//! two exceptions (a sessionless body naming 2026-07-28, `initialize`) are COMPAT-1's and
//! COMPAT-3's, checked in the claude group.

use super::common::{Case, result_of, run_cases};
use crate::checks::prereq::setup;
use crate::client::stateless::stateless_request;
use crate::client::streamable::{SESSION_VERSION, VERSION_HEADER};
use crate::client::{Ctx, HeaderSpec, rpc};
use crate::engine::table::check_table;
use crate::engine::{Check, CheckResult, Expect, meets};
use serde_json::json;

pub fn checks() -> Vec<Check> {
    check_table! {
        "HTTP-2026-1", Strict, era, needs(stateless),
            "the era is the MCP-Protocol-Version header's: tools/list with 2026-07-28 and no session -> 200 with its result; ping (no _meta) with 2025-06-18 and no session -> the session-based 400 bad_request; initialize without the header still opens a session";
    }
}

async fn era(ctx: &Ctx) -> CheckResult {
    let list = stateless_request(2, "tools/list", json!({}));
    let old = ctx
        .mcp_post(Some(0), &rpc(3, "ping", json!({})))
        .header(HeaderSpec::plain(VERSION_HEADER, SESSION_VERSION));
    run_cases(
        ctx,
        vec![
            Case::new(
                "POST /mcp tools/list, 2026-07-28, no session",
                ctx.stateless_post(&list),
                "200 with the JSON-RPC result (id 2): served statelessly",
                |r| result_of(r, 2).map(drop),
            ),
            Case::new(
                "POST /mcp ping, MCP-Protocol-Version: 2025-06-18, no session",
                old,
                "the session-based answer to a request without Mcp-Session-Id (HTTP-3): 400 bad_request JSON",
                |r| meets(r, &Expect::Shape(400, "bad_request")),
            ),
        ],
    )
    .await?;
    // The session-based revisions are still served beside it.
    let (s, _) = ctx.open_http(0, SESSION_VERSION).await.map_err(setup(
        "initialize (2025-06-18) without MCP-Protocol-Version",
    ))?;
    let _ = s.close(ctx).await;
    Ok(())
}
