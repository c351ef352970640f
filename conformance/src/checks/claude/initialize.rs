//! COMPAT-3: `initialize` is session-based whatever the version header says
//! (docs/contract.md COMPAT-3; anthropics/claude-code#96183: Claude Code sends
//! `initialize` after a successful `server/discover`, with the 2026-07-28 header): `200`,
//! a negotiated session-based revision and an `Mcp-Session-Id`, and the session works.

use super::common::{lists_tools, plain_request, session_opened};
use super::replay::Replay;
use crate::checks::http2026::common::result_of;
use crate::checks::prereq::need_streamable;
use crate::client::claude::{STALE_VERSION, SessionRef, VersionHeader};
use crate::client::stateless::STATELESS_VERSION;
use crate::client::{Ctx, initialize_params};
use crate::engine::table::check_table;
use crate::engine::{Check, CheckResult};
use serde_json::json;

pub fn checks() -> Vec<Check> {
    check_table! {
        "COMPAT-3", Claude, initialize, needs(offer),
            "initialize (protocolVersion 2025-11-25) with MCP-Protocol-Version: 2026-07-28 -> 200, a session-based protocolVersion and an Mcp-Session-Id; tools/list in that session -> 200";
    }
}

async fn initialize(ctx: &Ctx) -> CheckResult {
    need_streamable(ctx).await?;
    let mut replay = Replay::new(ctx, "a client that initializes with the 2026-07-28 header");
    let outcome = async {
        let init = plain_request(1, "initialize", initialize_params(STALE_VERSION));
        let (sid, version) = replay
            .step(
                "POST /mcp initialize, MCP-Protocol-Version: 2026-07-28",
                ctx.claude_post(
                    &init,
                    &VersionHeader::one(STATELESS_VERSION),
                    false,
                    &SessionRef::None,
                ),
                "200 with the initialize result (id 1), a session-based protocolVersion, an Mcp-Session-Id (not 404 -32601: the client would be left with nothing)",
                |r| session_opened(r, 1),
            )
            .await?;
        replay.opened(&sid);
        let list = plain_request(2, "tools/list", json!({}));
        replay
            .step(
                &format!("POST /mcp tools/list in that session, MCP-Protocol-Version: {version}"),
                ctx.claude_post(
                    &list,
                    &VersionHeader::one(&version),
                    false,
                    &SessionRef::Live(sid.clone()),
                ),
                "200 with the tools/list result (id 2)",
                |r| lists_tools(&result_of(r, 2)?),
            )
            .await
    }
    .await;
    replay.close().await;
    outcome
}
