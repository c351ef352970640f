//! MCP-TOOLS-1: what the MCP specification asks of every tool, whatever the server: in
//! `tools/list` over Streamable HTTP, each tool has a name, a description and an object
//! `inputSchema` (judged by `wire::tool_schema::generic_tool_problems`). Our own nine
//! tools are MSG-4.tools-list's business, never this check's.

use crate::checks::prereq::{need_key, setup};
use crate::client::Ctx;
use crate::client::streamable::{SESSION_VERSION, initialize_body};
use crate::engine::table::check_table;
use crate::engine::{Check, CheckResult, Outcome};
use crate::wire::tool_schema::generic_tool_problems;
use serde_json::json;

pub fn checks() -> Vec<Check> {
    check_table! {
        "MCP-TOOLS-1", Mcp, tool_shape, needs(mcp),
            "tools/list over Streamable HTTP -> every tool has a name, a description and an object inputSchema";
    }
}

async fn tool_shape(ctx: &Ctx) -> CheckResult {
    need_key(ctx, 0)?;
    let mut s = ctx
        .open_http_mcp(0)
        .await
        .map_err(setup("opening a Streamable HTTP session"))?;
    let listed = s.request(ctx, "tools/list", json!({})).await;
    let _ = s.close(ctx).await;
    let reproduce = ctx
        .mcp_post(Some(0), &initialize_body(SESSION_VERSION))
        .curl();
    let (v, _, _) = listed
        .map_err(|e| Outcome::fail("a response to tools/list", e.to_string(), reproduce.clone()))?;
    let problems = generic_tool_problems(&v);
    if problems.is_empty() {
        return Ok(());
    }
    Err(Outcome::fail(
        "every tool with a name, a description and an object inputSchema",
        problems.join("; "),
        format!("{reproduce}\n# then, in that session ($SESSION_ID): tools/list"),
    )
    .with_findings(&problems.iter().map(|p| kind_of(p)).collect::<Vec<_>>()))
}

/// A problem's kind of finding: what is wrong, without the tool's name (`has no
/// description`), so a baseline line is not tied to one tool.
fn kind_of(problem: &str) -> &str {
    problem.rsplit("` ").next().unwrap_or(problem)
}
