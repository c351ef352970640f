//! MCP-SESSION: Streamable HTTP sessions as the MCP spec and common sense want them: bound
//! to the credential that opened them (another valid credential using the id gets 404, as
//! for an id never issued), and their ids unguessable (visible ASCII, distinct, >= 122
//! bits estimated over several sessions: a CSPRNG v4 UUID, the MCP spec's example, passes, no decodable encoding of state; judged by
//! `wire::session_id`). Every session opened here is deleted again.

use crate::checks::http::common::PING;
use crate::checks::prereq::{need_key, setup};
use crate::client::streamable::SESSION_VERSION;
use crate::client::{Ctx, Pace};
use crate::engine::table::check_table;
use crate::engine::{Check, CheckResult, Expect, Outcome, Step, expect_steps};
use crate::wire::session_id;

/// How many sessions MCP-SESSION-2 opens (one after the other, each deleted at once).
const SAMPLE: usize = 8;

pub fn checks() -> Vec<Check> {
    check_table! {
        "MCP-SESSION-1", Mcp, foreign, needs(mcp),
            "key 2 posting a ping into key 1's live session (its Mcp-Session-Id) -> 404 (needs a second key)";
        "MCP-SESSION-2", Mcp, unguessable, needs(mcp),
            "8 sessions' Mcp-Session-Id: visible ASCII, distinct, >= 122 bits estimated (a v4 UUID passes), no shared prefix over 4 chars, not JSON or a counter when decoded (hex/base64)";
    }
}

async fn foreign(ctx: &Ctx) -> CheckResult {
    need_key(ctx, 1)?;
    let s = ctx
        .open_http_mcp(0)
        .await
        .map_err(setup("opening key 1's session"))?;
    let step = Step::new(
        "key 2: POST ping into key 1's session",
        s.probe_as(ctx, 1, PING),
        Pace::Key(1),
        Expect::StatusIn(&[404]),
    );
    let r = expect_steps(ctx, vec![step]).await;
    let _ = s.close(ctx).await;
    r
}

async fn unguessable(ctx: &Ctx) -> CheckResult {
    let mut ids = Vec::with_capacity(SAMPLE);
    for _ in 0..SAMPLE {
        let (s, _) = ctx
            .open_http(0, SESSION_VERSION)
            .await
            .map_err(setup("opening a session"))?;
        ids.push(s.id.clone());
        let _ = s.close(ctx).await;
    }
    match session_id::judge(&ids, session_id::GENERIC_MIN_BITS) {
        None => Ok(()),
        Some(problem) => Err(Outcome::fail(
            format!(
                "session ids unguessable: visible ASCII, distinct, >= {:.0} bits, not an encoding of state",
                session_id::GENERIC_MIN_BITS
            ),
            problem,
            ctx.mcp_post(
                Some(0),
                &crate::client::streamable::initialize_body(SESSION_VERSION),
            )
            .curl(),
        )),
    }
}
