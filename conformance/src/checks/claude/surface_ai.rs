//! CLAUDE-AI: the claude.ai connector (also Claude Desktop and mobile, which connect
//! through it), replayed as reported (docs/connector.md; docs/contract.md COMPAT-1):
//! stateless 2026-07-28 bodies, `User-Agent: Claude-User`, the key as configured, the
//! version header stale (`2025-11-25`, anthropics/claude-code#93290) and then missing
//! (anthropics/claude-ai-mcp#70). Passes when the connector would connect and call a tool.

use super::common::{lists_tools, stateless_result, tool_succeeded};
use super::replay::Replay;
use crate::checks::prereq::need_stateless;
use crate::client::Ctx;
use crate::client::claude::{STALE_VERSION, SessionRef, VersionHeader};
use crate::client::stateless::{STATELESS_VERSION, search_call, stateless_request};
use crate::engine::table::check_table;
use crate::engine::{Check, CheckResult};
use serde_json::{Value, json};

pub fn checks() -> Vec<Check> {
    check_table! {
        "CLAUDE-AI", Claude, claude_ai, needs(stateless),
            "claude.ai connector (Desktop, mobile): server/discover, tools/list, tools/call with _meta 2026-07-28 and MCP-Protocol-Version 2025-11-25, then tools/call and tools/list with no version header -> would connect (each 200 with its result)";
    }
}

async fn claude_ai(ctx: &Ctx) -> CheckResult {
    need_stateless(ctx).await?;
    let stale = VersionHeader::one(STALE_VERSION);
    let mut r = Replay::new(ctx, "the claude.ai connector");
    let post = |body: &Value, h: &VersionHeader| ctx.claude_post(body, h, true, &SessionRef::None);
    r.step(
        "POST /mcp server/discover, MCP-Protocol-Version: 2025-11-25",
        post(
            &stateless_request(100, "server/discover", json!({})),
            &stale,
        ),
        &format!("200 with supportedVersions listing {STATELESS_VERSION}"),
        |resp| {
            let result = stateless_result(resp, 100)?;
            match result.get("supportedVersions").and_then(Value::as_array) {
                Some(v) if v.contains(&json!(STATELESS_VERSION)) => Ok(()),
                _ => Err("no supportedVersions with 2026-07-28".into()),
            }
        },
    )
    .await?;
    r.step(
        "POST /mcp tools/list, MCP-Protocol-Version: 2025-11-25",
        post(&stateless_request(101, "tools/list", json!({})), &stale),
        "200 with the tools (search_complaints among them)",
        |resp| lists_tools(&stateless_result(resp, 101)?),
    )
    .await?;
    r.step(
        "POST /mcp tools/call search_complaints, MCP-Protocol-Version: 2025-11-25",
        post(&search_call(102, "mortgage servicing"), &stale),
        "200 with a tool result (content, no isError)",
        |resp| tool_succeeded(&stateless_result(resp, 102)?),
    )
    .await?;
    r.step(
        "POST /mcp tools/call search_complaints, no MCP-Protocol-Version",
        post(&search_call(103, "credit card"), &VersionHeader::Absent),
        "200 with a tool result (content, no isError)",
        |resp| tool_succeeded(&stateless_result(resp, 103)?),
    )
    .await?;
    r.step(
        "POST /mcp tools/list, no MCP-Protocol-Version",
        post(
            &stateless_request(104, "tools/list", json!({})),
            &VersionHeader::Absent,
        ),
        "200 with the tools",
        |resp| lists_tools(&stateless_result(resp, 104)?),
    )
    .await?;
    r.close().await;
    Ok(())
}
