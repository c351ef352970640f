//! HTTP-2026-10: stateless requests are audited like any other (docs/contract.md
//! HTTP-2026-10, LOG-1): one line each, path `/mcp`, `rpc_method`, `tool` and `arguments`
//! read from the body (a request whose mirrored headers lie is logged as what its body
//! is), the key id, and no session. Never reports a line's text.

use crate::checks::prereq::{need_key, need_stateless};
use crate::client::stateless::{Mirror, search_call};
use crate::client::{
    Ctx, Era, Pace, Seen, call_line_differences, log_repro, objects, random_session_id,
};
use crate::engine::table::check_table;
use crate::engine::{Check, CheckResult, Outcome};
use crate::target::LogSource;
use serde_json::Value;

pub fn checks() -> Vec<Check> {
    check_table! {
        "HTTP-2026-10", Strict, log, needs(stateless),
            "a stateless tools/call, and one whose Mcp-Method/Mcp-Name headers lie (tools/list, another tool), each log an mcp_request line with path /mcp, rpc_method tools/call, tool search_complaints and its arguments (from the body), the key id, and no session";
    }
}

async fn log(ctx: &Ctx) -> CheckResult {
    need_stateless(ctx).await?;
    if matches!(ctx.target.log, LogSource::None) {
        return Err(Outcome::skip(
            "no log source: run embedded, or pass --log-file PATH or --log-command 'CMD'",
        ));
    }
    let key = need_key(ctx, 0)?;
    let tag = &random_session_id()[..12];
    let honest = format!("conformance-2026-{tag}");
    let lying = format!("conformance-2026-lying-{tag}");
    let call = search_call(40, &honest);
    ctx.send(&ctx.stateless_post(&call), Pace::Key(0))
        .await
        .map_err(|e| Outcome::skip(format!("the stateless tools/call: {e}")))?;
    let lie = search_call(41, &lying);
    let mirror = Mirror {
        method: Some("tools/list".into()),
        name: Some("get_complaint_document".into()),
        ..Mirror::of(&lie)
    };
    ctx.send(
        &ctx.stateless_probe(Some(0), &lie.to_string(), &mirror),
        Pace::Key(0),
    )
    .await
    .map_err(|e| Outcome::skip(format!("the tools/call with lying headers: {e}")))?;
    let want_key = key.log_id();
    let expected = format!(
        "for each of the two tools/call (arguments containing {honest}, and {lying} sent with Mcp-Method: tools/list, Mcp-Name: get_complaint_document): an mcp_request line with path \"/mcp\", rpc_method \"tools/call\", tool \"search_complaints\", key {want_key}, session absent or null"
    );
    ctx.watch_log(|text| {
        let objs = objects(ctx, text);
        let problems: Vec<String> = [
            ("the tools/call", &honest),
            ("the lying tools/call", &lying),
        ]
        .into_iter()
        .filter_map(|(what, marker)| {
            line_problems(&objs, marker, &want_key).map(|p| format!("{what}: {p}"))
        })
        .collect();
        if problems.is_empty() {
            Seen::Done(Ok(()))
        } else {
            Seen::NotYet(Err(Outcome::fail(
                expected.clone(),
                problems.join("; "),
                log_repro(ctx),
            )))
        }
    })
    .await
    .map_err(|e| Outcome::skip(format!("reading the log: {e}")))?
}

/// How the line of the call with `marker` differs, or `None` when it is as required.
fn line_problems(objs: &[Value], marker: &str, want_key: &str) -> Option<String> {
    match call_line_differences(objs, marker, want_key, Era::Stateless, "") {
        None => Some("no line with its arguments".into()),
        Some(p) => (!p.is_empty()).then(|| format!("the line has {}", p.join(", "))),
    }
}
