//! HTTP-3: session ids: a request without one -> 400; one never issued, malformed, or
//! another key's -> the exact 404 (docs/contract.md HTTP-3); key 2 can't end key 1's
//! session.

use super::common::{PING, session};
use crate::checks::bodies::NOT_FOUND_BODY;
use crate::checks::prereq::{need_key, need_streamable};
use crate::client::streamable::{SESSION_HEADER, SESSION_VERSION, VERSION_HEADER};
use crate::client::{Ctx, HeaderSpec, Pace, random_session_id, rpc};
use crate::engine::table::check_table;
use crate::engine::{Check, CheckResult, Expect, Outcome, Step, expect_steps};
use serde_json::json;

pub fn checks() -> Vec<Check> {
    check_table! {
        "HTTP-3.missing", Strict, missing, needs(offer),
            "a request (ping) without Mcp-Session-Id after initialize -> 400 bad_request JSON";
        "HTTP-3.unknown", Strict, unknown, needs(offer),
            "Mcp-Session-Id never issued (random 32 hex) or malformed -> exact 404 not_found \"Unknown session\"";
        "HTTP-3.foreign", Strict, foreign, needs(offer),
            "key 2 posting into (and deleting) key 1's live session -> the same exact 404; the session still answers key 1";
    }
}

async fn missing(ctx: &Ctx) -> CheckResult {
    let s = session(ctx, 0).await?;
    let probe = ctx
        .mcp_post(Some(0), PING)
        .header(HeaderSpec::plain(VERSION_HEADER, &s.version));
    let r = expect_steps(
        ctx,
        vec![Step::new(
            "POST /mcp ping without Mcp-Session-Id",
            probe,
            Pace::Key(0),
            Expect::Shape(400, "bad_request"),
        )],
    )
    .await;
    let _ = s.close(ctx).await;
    r
}

async fn unknown(ctx: &Ctx) -> CheckResult {
    need_streamable(ctx).await?;
    let steps = [
        ("a never-issued id", random_session_id()),
        ("a malformed id", "not-a-session-id".to_string()),
    ]
    .into_iter()
    .map(|(what, id)| {
        Step::new(
            format!("POST /mcp ping with {what}"),
            ctx.mcp_post(Some(0), PING)
                .header(HeaderSpec::plain(SESSION_HEADER, &id))
                .header(HeaderSpec::plain(VERSION_HEADER, SESSION_VERSION)),
            Pace::Key(0),
            Expect::Exact(404, NOT_FOUND_BODY),
        )
    })
    .collect();
    expect_steps(ctx, steps).await
}

async fn foreign(ctx: &Ctx) -> CheckResult {
    need_key(ctx, 1)?;
    let mut s = session(ctx, 0).await?;
    let post = s.probe_as(ctx, 1, PING);
    let del = ctx.http_delete_probe(1, &s.id);
    let r = expect_steps(
        ctx,
        vec![
            Step::new(
                "key 2: POST /mcp ping into key 1's session",
                post,
                Pace::Key(1),
                Expect::Exact(404, NOT_FOUND_BODY),
            ),
            Step::new(
                "key 2: DELETE /mcp of key 1's session",
                del,
                Pace::Key(1),
                Expect::Exact(404, NOT_FOUND_BODY),
            ),
        ],
    )
    .await;
    if r.is_ok() {
        // Key 2's DELETE must not have ended it.
        if let Err(e) = s.request(ctx, "tools/list", json!({})).await {
            let probe = s.probe(ctx, &rpc(9, "tools/list", json!({})));
            let _ = s.close(ctx).await;
            return Err(Outcome::fail(
                "key 1's session still answers after key 2 tried to delete it",
                e,
                probe.curl(),
            ));
        }
    }
    let _ = s.close(ctx).await;
    r
}
