//! HTTP-1: a request, a notification and a `tools/call` posted in a live `/mcp`
//! session get the answers docs/contract.md HTTP-1 requires (200 with the JSON-RPC
//! response as JSON or SSE; 202 with an empty body; a result with content).

use super::common::{no_response, response_problems, session};
use crate::checks::prereq::{need_streamable, setup};
use crate::client::streamable::SESSION_VERSION;
use crate::client::{Ctx, Pace, rpc};
use crate::engine::table::check_table;
use crate::engine::{Check, CheckResult, Outcome};
use serde_json::{Value, json};

pub fn checks() -> Vec<Check> {
    check_table! {
        "HTTP-1.request", Strict, request, needs(offer),
            "in a session, POST /mcp with a JSON-RPC request (ping) and Accept: application/json, text/event-stream -> 200, the response as application/json or text/event-stream";
        "HTTP-1.notification", Strict, notification, needs(offer),
            "in a session, POST /mcp with a notification (notifications/initialized) -> 202 with an empty body";
        "HTTP-1.tools-call", Strict, tools_call, needs(offer),
            "in a session, tools/call search_complaints {search_term, size: 1} -> 200, a result with content and no isError";
    }
}

async fn request(ctx: &Ctx) -> CheckResult {
    let mut s = session(ctx, 0).await?;
    let id = s.next_id();
    let probe = s.probe(ctx, &rpc(id, "ping", json!({})));
    let expected = format!(
        "200, application/json or text/event-stream, with the JSON-RPC response (id {id}, a result)"
    );
    let resp = ctx
        .send(&probe, Pace::Key(0))
        .await
        .map_err(no_response(&expected, &probe))?;
    let outcome = match response_problems(&resp, id) {
        Ok(msg) if msg.get("result").is_some_and(Value::is_object) => Ok(()),
        Ok(msg) => Err(Outcome::fail(&expected, msg.to_string(), probe.curl())),
        Err(why) => Err(Outcome::fail(&expected, why, probe.curl())),
    };
    let _ = s.close(ctx).await;
    outcome
}

async fn notification(ctx: &Ctx) -> CheckResult {
    need_streamable(ctx).await?;
    let (s, _) = ctx
        .open_http(0, SESSION_VERSION)
        .await
        .map_err(setup("opening a /mcp session"))?;
    let body = json!({"jsonrpc":"2.0","method":"notifications/initialized"}).to_string();
    let probe = s.probe(ctx, &body);
    let expected = "202 Accepted with an empty body";
    let resp = ctx
        .send(&probe, Pace::Key(0))
        .await
        .map_err(no_response(expected, &probe))?;
    let _ = s.close(ctx).await;
    if resp.status == 202 && resp.body.is_empty() {
        Ok(())
    } else {
        Err(Outcome::fail(expected, resp.summary(), probe.curl()))
    }
}

async fn tools_call(ctx: &Ctx) -> CheckResult {
    let mut s = session(ctx, 0).await?;
    let params =
        json!({"name":"search_complaints","arguments":{"search_term":"credit card","size":1}});
    let id = s.next_id();
    let probe = s.probe(ctx, &rpc(id, "tools/call", params));
    let expected =
        "200 with the tools/call response: result.content non-empty, isError absent or false";
    let resp = ctx
        .send(&probe, Pace::Key(0))
        .await
        .map_err(no_response(expected, &probe))?;
    let _ = s.close(ctx).await;
    let msg =
        response_problems(&resp, id).map_err(|why| Outcome::fail(expected, why, probe.curl()))?;
    let content_ok = msg
        .pointer("/result/content")
        .and_then(Value::as_array)
        .is_some_and(|c| !c.is_empty());
    let is_error = msg.pointer("/result/isError") == Some(&json!(true));
    if content_ok && !is_error {
        Ok(())
    } else {
        let mut text = msg.to_string();
        text.truncate(600);
        Err(Outcome::fail(expected, text, probe.curl()))
    }
}
