//! HTTP-2026-7: no session: a stateless request's `Mcp-Session-Id` (made-up, malformed, or
//! a live session's) is not looked up, and no response carries one (docs/contract.md
//! HTTP-2026-7).

use super::common::{Case, no_session_header, result_of, run_cases};
use crate::checks::prereq::{need_stateless, setup};
use crate::client::stateless::stateless_request;
use crate::client::streamable::SESSION_HEADER;
use crate::client::{Ctx, HeaderSpec, random_session_id};
use crate::engine::table::check_table;
use crate::engine::{Check, CheckResult};
use serde_json::json;

pub fn checks() -> Vec<Check> {
    check_table! {
        "HTTP-2026-7", Strict, no_session, needs(stateless),
            "server/discover and tools/list (2026-07-28) with a made-up, a malformed and a live session's Mcp-Session-Id -> 200 with the result, no Mcp-Session-Id in the response";
    }
}

async fn no_session(ctx: &Ctx) -> CheckResult {
    need_stateless(ctx).await?;
    let live = ctx
        .open_http_mcp(0)
        .await
        .map_err(setup("opening a session-based /mcp session"))?;
    let ids = [
        ("a made-up", random_session_id()),
        ("a malformed", "not-a-session-id".to_string()),
        ("a live session's", live.id.clone()),
    ];
    let mut cases = Vec::new();
    for (n, (what, sid)) in ids.into_iter().enumerate() {
        for (k, method) in ["server/discover", "tools/list"].into_iter().enumerate() {
            let id = 20 + (n * 2 + k) as u64;
            let probe = ctx
                .stateless_post(&stateless_request(id, method, json!({})))
                .header(HeaderSpec::plain(SESSION_HEADER, &sid));
            cases.push(Case::new(
                format!("POST /mcp {method} with {what} Mcp-Session-Id"),
                probe,
                format!("200 with the result (id {id}), no Mcp-Session-Id in the response"),
                move |r| {
                    result_of(r, id)?;
                    no_session_header(r)
                },
            ));
        }
    }
    let outcome = run_cases(ctx, cases).await;
    let _ = live.close(ctx).await;
    outcome
}
