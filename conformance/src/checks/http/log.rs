//! HTTP-6.log: a `tools/call` over `/mcp` is audited like one over `/mcp/messages`
//! (docs/contract.md HTTP-6, LOG-1): path `/mcp`, tool and arguments, key id, the 8-char
//! session prefix, and the full session id in no line. Never reports a line's text.

use super::common::session;
use crate::checks::prereq::{need_key, need_streamable, setup};
use crate::client::{Ctx, Era, Seen, call_line_differences, log_repro, objects, random_session_id};
use crate::engine::table::check_table;
use crate::engine::{Check, CheckResult, Outcome};
use crate::target::LogSource;
use serde_json::json;

pub fn checks() -> Vec<Check> {
    check_table! {
        "HTTP-6.log", Strict, log, needs(offer),
            "a tools/call over /mcp logs an mcp_request line with path /mcp, tool search_complaints and its arguments, the key id and the 8-char session prefix; the full session id appears nowhere";
    }
}

async fn log(ctx: &Ctx) -> CheckResult {
    need_streamable(ctx).await?;
    if matches!(ctx.target.log, LogSource::None) {
        return Err(Outcome::skip(
            "no log source: run embedded, or pass --log-file PATH or --log-command 'CMD'",
        ));
    }
    let key = need_key(ctx, 0)?;
    let marker = format!("conformance-http-{}", &random_session_id()[..12]);
    let mut s = session(ctx, 0).await?;
    let sid = s.id.clone();
    let call = s
        .request(
            ctx,
            "tools/call",
            json!({"name":"search_complaints","arguments":{"search_term":marker,"size":1}}),
        )
        .await;
    let _ = s.close(ctx).await;
    call.map_err(setup("tools/call over /mcp"))?;
    let want_key = key.log_id();
    let prefix = &sid[..8.min(sid.len())];
    let expected = format!(
        "an mcp_request line with path \"/mcp\", tool \"search_complaints\", arguments containing {marker}, key {want_key}, session \"{prefix}\"; the full session id in no line"
    );
    ctx.watch_log(|text| {
        let fail = |observed: String| Outcome::fail(expected.clone(), observed, log_repro(ctx));
        if let Some(n) = text.lines().position(|l| l.contains(&sid)) {
            return Seen::Done(Err(fail(format!("line {}: the full session id", n + 1))));
        }
        let objs = objects(ctx, text);
        match call_line_differences(&objs, &marker, &want_key, Era::Session, prefix) {
            None => Seen::NotYet(Err(fail(
                "no line with the tools/call's arguments".to_string(),
            ))),
            Some(p) if p.is_empty() => Seen::Done(Ok(())),
            Some(p) => Seen::NotYet(Err(fail(format!(
                "the tools/call line has {}",
                p.join(", ")
            )))),
        }
    })
    .await
    .map_err(|e| Outcome::skip(format!("reading the log: {e}")))?
}
