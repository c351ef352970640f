//! CLAUDE-SSE: Claude's fallback to the legacy HTTP+SSE transport (docs/contract.md
//! "Endpoints" `POST /mcp/sse`, SSE-2, MSG-1, MSG-4): Claude first POSTs to the connector
//! URL and falls back to SSE only on `400`, `404` or `405`; then `GET` opens the stream,
//! its `endpoint` event names where to post, and `initialize`, `tools/list` and a
//! `tools/call` round-trip over it. `User-Agent: Claude-User` on every request.

use super::common::{lists_tools, notification, search_params, tool_succeeded};
use crate::checks::prereq::need_key;
use crate::client::Session;
use crate::client::claude::claude_user_agent;
use crate::client::streamable::{ACCEPT_BOTH, initialize_body};
use crate::client::{Ctx, HeaderSpec, Pace, Probe, initialize_params};
use crate::engine::table::check_table;
use crate::engine::{Check, CheckResult, Outcome};
use crate::target::Transport;
use serde_json::{Value, json};

const SURFACE: &str = "Claude's SSE fallback";

pub fn checks() -> Vec<Check> {
    check_table! {
        "CLAUDE-SSE", Claude, claude_sse,
            "Claude's fallback to HTTP+SSE: POST /mcp/sse -> 400, 404 or 405; GET /mcp/sse -> 200 and an endpoint event; initialize, notifications/initialized, tools/list, tools/call search_complaints over it -> would connect";
    }
}

fn fail(label: &str, expected: &str, observed: String, probe: &Probe) -> Outcome {
    Outcome::fail(
        format!("{label}: {expected} ({SURFACE} would connect)"),
        format!("{SURFACE} would not connect: {label} answered {observed}"),
        probe.curl(),
    )
}

async fn claude_sse(ctx: &Ctx) -> CheckResult {
    if matches!(
        ctx.target.transport,
        Some(Transport::Streamable | Transport::Mcp2026)
    ) {
        return Err(Outcome::skip("--transport excludes HTTP+SSE"));
    }
    need_key(ctx, 0)?;
    let sse = ctx.target.sse_path.clone();
    // 1. Streamable HTTP first, at the connector URL.
    let mut post = Probe::new("POST", ctx.url(&sse)).header(claude_user_agent());
    if let Some(h) = ctx.auth(0) {
        post = post.header(h);
    }
    let post = post
        .header(HeaderSpec::plain("Accept", ACCEPT_BOTH))
        .json(&initialize_body("2025-06-18"));
    let label = format!("POST {sse} (Streamable HTTP tried first)");
    match ctx.send(&post, Pace::Key(0)).await {
        Ok(r) if matches!(r.status, 400 | 404 | 405) => {}
        Ok(r) => {
            return Err(fail(
                &label,
                "400, 404 or 405, on which Claude falls back to SSE",
                r.summary(),
                &post,
            ));
        }
        Err(e) => {
            return Err(fail(
                &label,
                "400, 404 or 405",
                format!("no response: {e}"),
                &post,
            ));
        }
    }
    // 2. The stream. When the run's SSE prerequisite already failed (tried once per run,
    // SSE-2 reports it), fail at once with what it saw instead of waiting it out again.
    let get = ctx.sse_probe(0).header(claude_user_agent());
    if let Err(e) = ctx.session_opens().await {
        return Err(fail(
            &format!("GET {sse}"),
            "200 text/event-stream with an endpoint event first",
            e.to_string(),
            &get,
        ));
    }
    let mut s = ctx.open_session_with(get.clone(), 0).await.map_err(|e| {
        fail(
            &format!("GET {sse}"),
            "200 text/event-stream with an endpoint event first",
            e.to_string(),
            &get,
        )
    })?;
    // 3. The handshake and a tool call, posted to the endpoint, answered on the stream.
    let steps: [(&str, Value); 4] = [
        ("initialize", initialize_params("2024-11-05")),
        ("notifications/initialized", Value::Null),
        ("tools/list", json!({})),
        ("tools/call", search_params("credit card")),
    ];
    for (n, (method, params)) in steps.into_iter().enumerate() {
        let id = n as u64 + 1;
        let body = if params.is_null() {
            notification(method)
        } else {
            json!({"jsonrpc":"2.0","id":id,"method":method,"params":params})
        };
        step(ctx, &mut s, method, id, &body).await?;
    }
    Ok(())
}

/// Posts `body` into the session; expects `202`, then (for a request) its answer on the
/// stream, judged by method.
async fn step(
    ctx: &Ctx,
    s: &mut Session,
    method: &str,
    id: u64,
    body: &Value,
) -> Result<(), Outcome> {
    let probe = s
        .post_probe(ctx, &body.to_string())
        .header(claude_user_agent());
    let label = format!("POST {} {method}", s.post_url.path());
    let resp = ctx
        .send(&probe, Pace::Key(s.slot))
        .await
        .map_err(|e| fail(&label, "202", format!("no response: {e}"), &probe))?;
    if resp.status != 202 {
        return Err(fail(&label, "202", resp.summary(), &probe));
    }
    if body.get("id").is_none() {
        return Ok(());
    }
    let answer = s
        .wait_response(ctx, id)
        .await
        .map_err(|e| fail(&label, "its answer on the stream", e.to_string(), &probe))?;
    let result = answer.get("result").cloned().unwrap_or(Value::Null);
    let judged = match method {
        "tools/list" => lists_tools(&result),
        "tools/call" => tool_succeeded(&result),
        _ if result.is_object() => Ok(()),
        _ => Err(format!("no result: {answer}")),
    };
    judged.map_err(|why| fail(&label, "a result on the stream", why, &probe))
}
