//! COMPAT-1: the body wins for a stateless request (docs/contract.md COMPAT-1): a request
//! without `Mcp-Session-Id` whose `_meta` names 2026-07-28 is served statelessly when the
//! `MCP-Protocol-Version` header is absent (Claude's follow-up requests,
//! anthropics/claude-ai-mcp#70) or names a session-based revision (claude.ai connectors,
//! anthropics/claude-code#93290).

use super::common::{lists_tools, stateless_result, tool_succeeded};
use crate::checks::http2026::common::{Case, run_cases, short};
use crate::client::Ctx;
use crate::client::claude::{STALE_VERSION, SessionRef, VersionHeader};
use crate::client::stateless::{STATELESS_VERSION, search_call, stateless_request};
use crate::engine::table::check_table;
use crate::engine::{Check, CheckResult};
use serde_json::{Value, json};

pub fn checks() -> Vec<Check> {
    check_table! {
        "COMPAT-1", Claude, body_wins, needs(stateless),
            "no Mcp-Session-Id, _meta 2026-07-28, MCP-Protocol-Version absent or 2025-11-25 (User-Agent: Claude-User): server/discover, tools/list, tools/call -> 200 with the result, served statelessly (ttlMs on lists, no Mcp-Session-Id)";
    }
}

async fn body_wins(ctx: &Ctx) -> CheckResult {
    let stale = VersionHeader::one(STALE_VERSION);
    let absent = VersionHeader::Absent;
    let mut cases = Vec::new();
    for (what, header, base) in [
        ("no version header", &absent, 60),
        ("MCP-Protocol-Version: 2025-11-25", &stale, 64),
    ] {
        let discover = stateless_request(base, "server/discover", json!({}));
        cases.push(Case::new(
            format!("POST /mcp server/discover, {what}"),
            ctx.claude_post(&discover, header, true, &SessionRef::None),
            format!(
                "200 with the result (id {base}), supportedVersions listing {STATELESS_VERSION}"
            ),
            move |r| {
                let result = stateless_result(r, base)?;
                let listed = result
                    .get("supportedVersions")
                    .and_then(Value::as_array)
                    .is_some_and(|v| v.contains(&json!(STATELESS_VERSION)));
                if listed { Ok(()) } else { Err(short(&result)) }
            },
        ));
        let list = stateless_request(base + 1, "tools/list", json!({}));
        cases.push(Case::new(
            format!("POST /mcp tools/list, {what}"),
            ctx.claude_post(&list, header, true, &SessionRef::None),
            format!(
                "200 with the result (id {}), tools with search_complaints, ttlMs (the stateless shape), no Mcp-Session-Id",
                base + 1
            ),
            move |r| {
                let result = stateless_result(r, base + 1)?;
                lists_tools(&result)?;
                match result.get("ttlMs").and_then(Value::as_u64) {
                    Some(_) => Ok(()),
                    None => Err(format!(
                        "no ttlMs: answered session-based, not statelessly: {}",
                        short(&result)
                    )),
                }
            },
        ));
        let call = search_call(base + 2, "credit card");
        cases.push(Case::new(
            format!("POST /mcp tools/call search_complaints, {what}"),
            ctx.claude_post(&call, header, true, &SessionRef::None),
            format!(
                "200 with the tool result (id {}): content non-empty, isError absent or false",
                base + 2
            ),
            move |r| tool_succeeded(&stateless_result(r, base + 2)?),
        ));
    }
    run_cases(ctx, cases).await
}
