//! EP-* checks of the endpoint table in docs/contract.md ("Endpoints") that Claude's
//! connector depends on: `/health`,
//! `POST /mcp/sse` -> 405, `/.well-known/oauth-*` -> 404.
//! Never sends more than a handful of requests.

use super::prereq::need_key;
use crate::client::{Ctx, HeaderSpec, Pace, Probe};
use crate::engine::table::check_table;
use crate::engine::{Check, CheckResult, Expect, Outcome, Step, expect_steps, is_json};

pub fn checks() -> Vec<Check> {
    check_table! {
        "EP-health", Seed, health,
            "GET /health without a key -> 200 application/json {\"status\":\"ok\"} and nothing else";
        "EP-post-sse", Seed, post_sse,
            "POST /mcp/sse with a valid key -> 405, Allow: GET, JSON error body (Claude falls back to SSE only on 400/404/405)";
        "EP-oauth", Seed, oauth,
            "GET /.well-known/oauth-authorization-server and /.well-known/oauth-protected-resource -> 404";
    }
}

async fn health(ctx: &Ctx) -> CheckResult {
    let probe = Probe::new("GET", ctx.url("/health"));
    let resp = ctx.send(&probe, Pace::Free).await.map_err(|e| {
        Outcome::fail(
            "200 {\"status\":\"ok\"}",
            format!("no response: {e}"),
            probe.curl(),
        )
    })?;
    let body: Option<serde_json::Value> = serde_json::from_slice(&resp.body).ok();
    if resp.status == 200 && is_json(&resp) && body == Some(serde_json::json!({"status":"ok"})) {
        Ok(())
    } else {
        Err(Outcome::fail(
            "200, application/json, {\"status\":\"ok\"}",
            resp.summary(),
            probe.curl(),
        ))
    }
}

async fn post_sse(ctx: &Ctx) -> CheckResult {
    let key = need_key(ctx, 0)?;
    let probe = Probe::new("POST", ctx.url("/mcp/sse"))
        .header(HeaderSpec::key(ctx.target.style, key))
        .json(r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{}}"#);
    let expected = "405, Allow: GET, application/json error body";
    let resp = ctx
        .send(&probe, Pace::Key(0))
        .await
        .map_err(|e| Outcome::fail(expected, format!("no response: {e}"), probe.curl()))?;
    let allow_get = resp
        .header("allow")
        .is_some_and(|a| a.split(',').any(|m| m.trim().eq_ignore_ascii_case("GET")));
    if resp.status == 405 && allow_get && is_json(&resp) {
        Ok(())
    } else {
        let allow = resp.header("allow").unwrap_or_else(|| "(none)".into());
        Err(Outcome::fail(
            expected,
            format!("{}; Allow: {allow}", resp.summary()),
            probe.curl(),
        ))
    }
}

async fn oauth(ctx: &Ctx) -> CheckResult {
    let steps = [
        "/.well-known/oauth-authorization-server",
        "/.well-known/oauth-protected-resource",
        "/.well-known/oauth-protected-resource/mcp/sse",
    ]
    .into_iter()
    .map(|p| {
        Step::new(
            format!("GET {p}"),
            Probe::new("GET", ctx.url(p)),
            Pace::Free,
            Expect::StatusIn(&[404]),
        )
    })
    .collect();
    expect_steps(ctx, steps).await
}
