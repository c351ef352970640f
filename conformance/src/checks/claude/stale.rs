//! COMPAT-4: a stale `Mcp-Session-Id` gets `404` (docs/contract.md COMPAT-4, HTTP-3;
//! anthropics/claude-code#48557: after a server restart the client recovers only on
//! `404`), never `400`: an id never issued, and the id of a session the server has
//! forgotten. (With the header repeated too: CLAUDE-CODE's replay.)

use super::common::{plain_request, search_params, session_opened};
use super::replay::Replay;
use crate::checks::bodies::NOT_FOUND_BODY;
use crate::checks::prereq::need_streamable;
use crate::client::claude::{STALE_VERSION, SessionRef, VersionHeader};
use crate::client::{Ctx, initialize_params, random_session_id};
use crate::engine::table::check_table;
use crate::engine::{Check, CheckResult, Expect, meets};
use serde_json::json;

pub fn checks() -> Vec<Check> {
    check_table! {
        "COMPAT-4", Claude, stale, needs(offer),
            "tools/list with a made-up Mcp-Session-Id (MCP-Protocol-Version 2025-11-25), and tools/call with the id of a session deleted before -> 404, exactly {\"error\":{\"type\":\"not_found\",\"message\":\"Unknown session\"}} (never 400)";
    }
}

async fn stale(ctx: &Ctx) -> CheckResult {
    need_streamable(ctx).await?;
    let mut replay = Replay::new(ctx, "a client holding a stale session id");
    let outcome = async {
        let exact = |r: &crate::wire::response::Resp| meets(r, &Expect::Exact(404, NOT_FOUND_BODY));
        let expected = format!("404, exactly {NOT_FOUND_BODY} (a 400 leaves the client stuck)");
        replay
            .step(
                "POST /mcp tools/list with a made-up Mcp-Session-Id, MCP-Protocol-Version: 2025-11-25",
                ctx.claude_post(
                    &plain_request(2, "tools/list", json!({})),
                    &VersionHeader::one(STALE_VERSION),
                    false,
                    &SessionRef::Stale(random_session_id()),
                ),
                &expected,
                exact,
            )
            .await?;
        let init = plain_request(1, "initialize", initialize_params(STALE_VERSION));
        let (sid, version) = replay
            .step(
                "POST /mcp initialize (2025-11-25)",
                ctx.claude_post(
                    &init,
                    &VersionHeader::one(STALE_VERSION),
                    false,
                    &SessionRef::None,
                ),
                "200 with an Mcp-Session-Id",
                |r| session_opened(r, 1),
            )
            .await?;
        replay.opened(&sid);
        replay.forget(&sid).await;
        replay
            .step(
                "POST /mcp tools/call with the Mcp-Session-Id of a session the server forgot (deleted)",
                ctx.claude_post(
                    &plain_request(3, "tools/call", search_params("credit card")),
                    &VersionHeader::one(&version),
                    false,
                    &SessionRef::Live(sid),
                ),
                &expected,
                exact,
            )
            .await
    }
    .await;
    replay.close().await;
    outcome
}
