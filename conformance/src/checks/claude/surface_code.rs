//! CLAUDE-CODE: Claude Code over Streamable HTTP, replayed as reported (docs/connector.md;
//! docs/contract.md COMPAT-2..4): `server/discover`, then `initialize` with the 2026-07-28
//! header (anthropics/claude-code#96183), requests in the session with the version header
//! repeated (`2025-11-25, 2025-11-25`: lowdefy/lowdefy#2345, different-ai/openwork#3944),
//! the session forgotten by the server (as after a restart) -> `404`, and a fresh
//! `initialize` that works again (anthropics/claude-code#48557). `User-Agent: Claude-User`
//! on every request.

use super::common::{
    lists_tools, notification, plain_request, search_params, session_opened, tool_succeeded,
};
use super::replay::Replay;
use crate::checks::bodies::NOT_FOUND_BODY;
use crate::checks::http2026::common::result_of;
use crate::checks::prereq::{need_stateless, need_streamable};
use crate::client::claude::{STALE_VERSION, SessionRef, VersionHeader};
use crate::client::stateless::{STATELESS_VERSION, stateless_request};
use crate::client::{Ctx, initialize_params};
use crate::engine::table::check_table;
use crate::engine::{Check, CheckResult, Expect, Outcome, meets};
use serde_json::json;

pub fn checks() -> Vec<Check> {
    check_table! {
        "CLAUDE-CODE", Claude, claude_code, needs(offer, stateless),
            "Claude Code: server/discover; initialize with MCP-Protocol-Version 2026-07-28; notifications/initialized, tools/list, tools/call with the header repeated (2025-11-25, 2025-11-25); the session forgotten -> 404; initialize again (repeated header) and tools/list -> would connect";
    }
}

async fn claude_code(ctx: &Ctx) -> CheckResult {
    need_streamable(ctx).await?;
    need_stateless(ctx).await?;
    let mut r = Replay::new(ctx, "Claude Code");
    let outcome = replay(ctx, &mut r).await;
    r.close().await;
    outcome
}

async fn replay(ctx: &Ctx, r: &mut Replay<'_>) -> Result<(), Outcome> {
    let modern = VersionHeader::one(STATELESS_VERSION);
    r.step(
        "POST /mcp server/discover (2026-07-28)",
        ctx.claude_post(
            &stateless_request(110, "server/discover", json!({})),
            &modern,
            true,
            &SessionRef::None,
        ),
        "200 with the discover result",
        |resp| result_of(resp, 110).map(drop),
    )
    .await?;
    let init = plain_request(1, "initialize", initialize_params(STALE_VERSION));
    let (sid, version) = r
        .step(
            "POST /mcp initialize after server/discover, MCP-Protocol-Version: 2026-07-28",
            ctx.claude_post(&init, &modern, false, &SessionRef::None),
            "200, a session-based protocolVersion and an Mcp-Session-Id",
            |resp| session_opened(resp, 1),
        )
        .await?;
    r.opened(&sid);
    let twice = VersionHeader::repeated(&version);
    let live = SessionRef::Live(sid.clone());
    let label = |what: &str| {
        format!("POST /mcp {what} in the session, MCP-Protocol-Version: {version}, {version}")
    };
    r.step(
        &label("notifications/initialized"),
        ctx.claude_post(
            &notification("notifications/initialized"),
            &twice,
            false,
            &live,
        ),
        "202 (accepted)",
        |resp| match resp.status {
            200..=299 => Ok(()),
            s => Err(format!("status {s}")),
        },
    )
    .await?;
    r.step(
        &label("tools/list"),
        ctx.claude_post(
            &plain_request(2, "tools/list", json!({})),
            &twice,
            false,
            &live,
        ),
        "200 with the tools",
        |resp| lists_tools(&result_of(resp, 2)?),
    )
    .await?;
    r.step(
        &label("tools/call search_complaints"),
        ctx.claude_post(
            &plain_request(3, "tools/call", search_params("mortgage servicing")),
            &twice,
            false,
            &live,
        ),
        "200 with a tool result (content, no isError)",
        |resp| tool_succeeded(&result_of(resp, 3)?),
    )
    .await?;
    r.forget(&sid).await;
    r.step(
        &label("tools/call (the server forgot the session, as after a restart)"),
        ctx.claude_post(
            &plain_request(4, "tools/call", search_params("credit card")),
            &twice,
            false,
            &live,
        ),
        &format!(
            "404, exactly {NOT_FOUND_BODY}: the one answer on which Claude Code initializes again"
        ),
        |resp| meets(resp, &Expect::Exact(404, NOT_FOUND_BODY)),
    )
    .await?;
    let stale_twice = VersionHeader::repeated(STALE_VERSION);
    let (sid2, _) = r
        .step(
            "POST /mcp initialize again, MCP-Protocol-Version: 2025-11-25, 2025-11-25",
            ctx.claude_post(&init, &stale_twice, false, &SessionRef::None),
            "200, a session-based protocolVersion and an Mcp-Session-Id",
            |resp| session_opened(resp, 1),
        )
        .await?;
    r.opened(&sid2);
    r.step(
        "POST /mcp tools/list in the new session, MCP-Protocol-Version: 2025-11-25, 2025-11-25",
        ctx.claude_post(
            &plain_request(2, "tools/list", json!({})),
            &stale_twice,
            false,
            &SessionRef::Live(sid2.clone()),
        ),
        "200 with the tools",
        |resp| lists_tools(&result_of(resp, 2)?),
    )
    .await
}
