//! COMPAT-2: a repeated version header is its value (docs/contract.md COMPAT-2;
//! lowdefy/lowdefy#2345, different-ai/openwork#3944): `MCP-Protocol-Version: v, v` (one
//! line) or two lines of `v` is `v`, in either era: `initialize` opens a session and
//! requests in it are answered; a stateless request is served. Differing values stay a
//! `400` bad_request.

use super::common::{lists_tools, plain_request, session_opened, stateless_result};
use super::replay::Replay;
use crate::checks::http2026::common::{Case, send_cases};
use crate::checks::prereq::{need_stateless, need_streamable};
use crate::client::claude::{STALE_VERSION, SessionRef, VersionHeader};
use crate::client::stateless::{STATELESS_VERSION, stateless_request};
use crate::client::{Ctx, initialize_params};
use crate::engine::table::check_table;
use crate::engine::{Check, CheckResult, Expect, meets};
use serde_json::json;

pub fn checks() -> Vec<Check> {
    check_table! {
        "COMPAT-2", Claude, repeated, needs(offer, stateless),
            "MCP-Protocol-Version: 2025-11-25, 2025-11-25 on initialize -> 200 + Mcp-Session-Id, and on tools/list in that session -> 200; 2026-07-28 twice (one line, or two lines) on a stateless tools/list -> 200; differing values (2026-07-28, 2025-11-25) -> 400 bad_request";
    }
}

async fn repeated(ctx: &Ctx) -> CheckResult {
    need_streamable(ctx).await?;
    need_stateless(ctx).await?;
    let twice = VersionHeader::repeated(STALE_VERSION);
    let mut replay = Replay::new(ctx, "a client that repeats the version header");
    let outcome = async {
        let init = plain_request(1, "initialize", initialize_params(STALE_VERSION));
        let (sid, _) = replay
            .step(
                "POST /mcp initialize, MCP-Protocol-Version: 2025-11-25, 2025-11-25",
                ctx.claude_post(&init, &twice, false, &SessionRef::None),
                "200 with the initialize result (id 1) and an Mcp-Session-Id",
                |r| session_opened(r, 1),
            )
            .await?;
        replay.opened(&sid);
        let list = plain_request(2, "tools/list", json!({}));
        replay
            .step(
                "POST /mcp tools/list in that session, MCP-Protocol-Version: 2025-11-25, 2025-11-25",
                ctx.claude_post(&list, &twice, false, &SessionRef::Live(sid.clone())),
                "200 with the tools/list result (id 2)",
                |r| lists_tools(&crate::checks::http2026::common::result_of(r, 2)?),
            )
            .await
    }
    .await;
    replay.close().await;
    outcome?;
    let modern = STATELESS_VERSION.to_string();
    let cases = [
        (
            "one line: 2026-07-28, 2026-07-28",
            VersionHeader::Repeated(modern.clone()),
            80,
        ),
        (
            "two lines of 2026-07-28",
            VersionHeader::Lines(modern.clone(), modern.clone()),
            81,
        ),
    ]
    .into_iter()
    .map(|(what, header, id)| {
        let body = stateless_request(id, "tools/list", json!({}));
        Case::new(
            format!("POST /mcp tools/list (2026-07-28), MCP-Protocol-Version {what}"),
            ctx.claude_post(&body, &header, true, &SessionRef::None),
            format!("200 with the result (id {id}), served statelessly"),
            move |r| lists_tools(&stateless_result(r, id)?),
        )
    })
    .chain(std::iter::once({
        let body = stateless_request(82, "tools/list", json!({}));
        Case::new(
            "POST /mcp tools/list, MCP-Protocol-Version: 2026-07-28, 2025-11-25 (differing values)",
            ctx.claude_post(
                &body,
                &VersionHeader::one(&format!("{modern}, {STALE_VERSION}")),
                true,
                &SessionRef::None,
            ),
            "400 bad_request JSON (a version header that is not one version)",
            |r| meets(r, &Expect::Shape(400, "bad_request")),
        )
    }))
    .collect();
    send_cases(ctx, cases).await
}
