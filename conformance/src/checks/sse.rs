//! SSE checks (docs/contract.md SSE-1..5) on the raw stream: response head (SSE-1), the endpoint event (SSE-2),
//! message framing (SSE-3), keep-alive comments (SSE-4) and their interval against
//! `--expect-keepalive` (SSE-4.expect-keepalive), session lifetime (SSE-5).
//! Streams are always dropped at the end of a check so they don't count against the cap.

use super::prereq::setup;
use crate::client::{Ctx, HeaderSpec, Pace, Probe, initialize_params};
use crate::engine::table::check_table;
use crate::engine::{Check, CheckResult, Outcome};
use crate::wire::response::Resp;
use crate::wire::sse::SseItem;
use std::time::{Duration, Instant};

pub fn checks() -> Vec<Check> {
    check_table! {
        "SSE-1", Seed, head,
            "GET /mcp/sse (Accept-Encoding: gzip, br) -> 200, Content-Type: text/event-stream, Cache-Control: no-cache, no-transform, X-Accel-Buffering: no, no Content-Length, no Content-Encoding";
        "SSE-2", Seed, endpoint,
            "the first event is `event: endpoint` with data /mcp/messages?session_id=<32 lowercase hex>, different for two sessions";
        "SSE-3", Seed, message_framing, needs(session),
            "the response to `initialize` arrives as `event: message` with the JSON-RPC message on one data line";
        "SSE-4", Seed, keepalive, needs(session),
            "an idle stream carries a comment line (`: ping`) within the keep-alive wait (--keepalive-wait) and stays open";
        "SSE-4.expect-keepalive", Seed, expect_keepalive, needs(session),
            "the time between two keep-alive comments on an idle stream matches --expect-keepalive within max(0.5 s, 20%) (skip without it)";
        "SSE-5", Seed, lifetime, needs(session),
            "a session answers while its stream is open; after the client closes the stream the session is removed (its URL then gets 404)";
    }
}

async fn head(ctx: &Ctx) -> CheckResult {
    let mut probe = ctx.sse_probe(0);
    probe = probe.header(HeaderSpec::plain("Accept-Encoding", "gzip, deflate, br"));
    let expected = "200, text/event-stream, Cache-Control: no-cache, no-transform, X-Accel-Buffering: no, no Content-Length, no Content-Encoding";
    let conn = ctx
        .open_stream(&probe, Pace::Key(0), true)
        .await
        .map_err(|e| Outcome::fail(expected, format!("no response: {e}"), probe.curl()))?;
    let resp = match conn {
        Ok(c) => c.head,
        Err(resp) => return Err(Outcome::fail(expected, resp.summary(), probe.curl())),
    };
    let problems = stream_head_problems(&resp);
    if problems.is_empty() {
        Ok(())
    } else {
        Err(Outcome::fail(expected, problems.join("; "), probe.curl()))
    }
}

/// How an event stream's response head differs from SSE-1 (empty when it is right):
/// `text/event-stream`, `Cache-Control` with `no-cache` and `no-transform`,
/// `X-Accel-Buffering: no`, no `Content-Length`, no `Content-Encoding`.
pub fn stream_head_problems(resp: &Resp) -> Vec<String> {
    let mut problems = Vec::new();
    let ct = resp.header("content-type").unwrap_or_default();
    if !ct
        .trim()
        .to_ascii_lowercase()
        .starts_with("text/event-stream")
    {
        problems.push(format!("Content-Type: {ct}"));
    }
    let cc = resp
        .header("cache-control")
        .unwrap_or_default()
        .to_ascii_lowercase();
    let tokens: Vec<&str> = cc.split(',').map(str::trim).collect();
    if !tokens.contains(&"no-cache") || !tokens.contains(&"no-transform") {
        problems.push(format!("Cache-Control: {cc}"));
    }
    let xab = resp.header("x-accel-buffering").unwrap_or_default();
    if !xab.trim().eq_ignore_ascii_case("no") {
        problems.push(format!("X-Accel-Buffering: {xab}"));
    }
    if let Some(cl) = resp.header("content-length") {
        problems.push(format!("Content-Length: {cl}"));
    }
    if let Some(ce) = resp.header("content-encoding") {
        problems.push(format!("Content-Encoding: {ce}"));
    }
    problems
}

/// Whether `data` is exactly `/mcp/messages?session_id=<32 lowercase hex>`.
pub fn valid_endpoint(data: &str) -> bool {
    data.strip_prefix("/mcp/messages?session_id=")
        .is_some_and(|id| {
            id.len() == 32 && id.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
        })
}

async fn endpoint(ctx: &Ctx) -> CheckResult {
    let probe = ctx.sse_probe(0);
    let expected = "first event `endpoint`, data /mcp/messages?session_id=<32 lowercase hex>";
    // This check is the one that reports the session prerequisite the others skip on: it
    // fails with what was tried once for the whole run, at once.
    if let Err(e) = ctx.session_opens().await {
        return Err(Outcome::fail(
            expected,
            format!("the SSE session could not be opened: {e}"),
            probe.curl(),
        ));
    }
    let mut ids = Vec::new();
    for _ in 0..2 {
        let conn = ctx
            .open_stream(&probe, Pace::Key(0), true)
            .await
            .map_err(setup("GET /mcp/sse"))?;
        let mut conn = conn
            .map_err(|r| Outcome::skip(format!("GET /mcp/sse answered {} (SSE-1)", r.summary())))?;
        let first = conn
            .next_event(ctx.timeout())
            .await
            .map_err(|e| Outcome::fail(expected, e, probe.curl()))?;
        let Some(ev) = first else {
            return Err(Outcome::fail(
                expected,
                "the stream ended without an event",
                probe.curl(),
            ));
        };
        if ev.event != "endpoint" || !valid_endpoint(&ev.data) {
            return Err(Outcome::fail(
                expected,
                format!("event: {} / data: {}", ev.event, ev.data),
                probe.curl(),
            ));
        }
        ids.push(ev.data);
    }
    if ids[0] == ids[1] {
        return Err(Outcome::fail(
            "two sessions get different ids (128 random bits)",
            "the same session id twice",
            probe.curl(),
        ));
    }
    Ok(())
}

async fn message_framing(ctx: &Ctx) -> CheckResult {
    let mut s = ctx
        .open_session(0)
        .await
        .map_err(setup("opening a session"))?;
    let resp = s
        .request(ctx, "initialize", initialize_params("2024-11-05"))
        .await
        .map_err(setup("initialize"))?;
    let _ = resp;
    let probe = s.post_probe(ctx, r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2024-11-05","capabilities":{},"clientInfo":{"name":"curl","version":"0"}}}"#);
    let Some(ev) = s.seen.iter().rev().find(|e| {
        serde_json::from_str::<serde_json::Value>(&e.data)
            .ok()
            .and_then(|v| v.get("id").cloned())
            == Some(serde_json::json!(1))
    }) else {
        return Err(Outcome::skip(
            "the initialize response was not identified on the stream",
        ));
    };
    if ev.event != "message" || ev.data_lines != 1 {
        return Err(Outcome::fail(
            "`event: message` with the JSON on one `data:` line",
            format!("event: {} with {} data line(s)", ev.event, ev.data_lines),
            probe.curl(),
        ));
    }
    let raw = String::from_utf8_lossy(&s.conn.raw);
    if !raw.contains("event: message") && !raw.contains("event:message") {
        return Err(Outcome::fail(
            "an explicit `event: message` line",
            "the message event has no `event:` line",
            probe.curl(),
        ));
    }
    Ok(())
}

async fn keepalive(ctx: &Ctx) -> CheckResult {
    let mut s = ctx
        .open_session(0)
        .await
        .map_err(setup("opening a session"))?;
    let wait = ctx.target.settings.keepalive_wait;
    let probe = ctx.sse_probe(0);
    let expected = format!("a comment line within {}s", wait.as_secs_f32());
    let start = Instant::now();
    loop {
        let left = wait.saturating_sub(start.elapsed());
        if left.is_zero() {
            return Err(Outcome::fail(expected, "no comment line", probe.curl()));
        }
        match s.conn.next_item(left).await {
            Ok(Some(SseItem::Comment(_))) => return Ok(()),
            Ok(Some(SseItem::Event(_))) => continue,
            Ok(None) => {
                return Err(Outcome::fail(
                    expected,
                    format!(
                        "the stream ended after {:.1}s",
                        start.elapsed().as_secs_f32()
                    ),
                    probe.curl(),
                ));
            }
            Err(e) => return Err(Outcome::fail(expected, e, probe.curl())),
        }
    }
}

/// The tolerance of SSE-4.expect-keepalive: max(0.5 s, 20% of the expected interval).
pub fn keepalive_tolerance(expected: Duration) -> Duration {
    (expected / 5).max(Duration::from_millis(500))
}

async fn expect_keepalive(ctx: &Ctx) -> CheckResult {
    let Some(want) = ctx.target.expect.keepalive else {
        return Err(Outcome::skip(
            "no expected keep-alive interval: pass --expect-keepalive SECS (CFPB_MCP_SSE_KEEPALIVE_SECS) to verify it",
        ));
    };
    let mut s = ctx
        .open_session(0)
        .await
        .map_err(setup("opening a session"))?;
    let tol = keepalive_tolerance(want);
    let expected = format!(
        "keep-alive comments {:.1}s apart (± {:.1}s), as configured",
        want.as_secs_f64(),
        tol.as_secs_f64()
    );
    let probe = ctx.sse_probe(0);
    // Two consecutive comments on the idle stream: the time between them is the interval.
    let mut first: Option<Instant> = None;
    loop {
        let since = first.unwrap_or(s.conn.opened);
        let wait = (want + tol + ctx.timeout()).saturating_sub(since.elapsed());
        match s.conn.next_item(wait).await {
            Ok(Some(SseItem::Comment(_))) => match first {
                None => first = Some(Instant::now()),
                Some(t) => {
                    let gap = t.elapsed();
                    let off = gap.abs_diff(want);
                    if off <= tol {
                        return Ok(());
                    }
                    return Err(Outcome::fail(
                        expected,
                        format!("comments {:.2}s apart", gap.as_secs_f64()),
                        probe.curl(),
                    ));
                }
            },
            Ok(Some(SseItem::Event(_))) => continue,
            Ok(None) => {
                return Err(Outcome::fail(
                    expected,
                    "the stream ended before two comments",
                    probe.curl(),
                ));
            }
            Err(e) => {
                let which = if first.is_some() { "second" } else { "first" };
                return Err(Outcome::fail(
                    expected,
                    format!("no {which} comment: {e}"),
                    probe.curl(),
                ));
            }
        }
    }
}

async fn lifetime(ctx: &Ctx) -> CheckResult {
    let mut s = ctx
        .open_mcp(0)
        .await
        .map_err(setup("opening an MCP session"))?;
    let ping = r#"{"jsonrpc":"2.0","id":77,"method":"ping"}"#;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let probe = s.post_probe(ctx, ping);
    let r = s.post(ctx, ping).await.map_err(setup("posting ping"))?;
    if r.status != 202 {
        return Err(Outcome::fail(
            "ping into the open session -> 202",
            r.summary(),
            probe.curl(),
        ));
    }
    s.wait_response(ctx, 77)
        .await
        .map_err(|e| Outcome::fail("the ping's response on the open stream", e, probe.curl()))?;
    let url = s.post_url.clone();
    drop(s);
    // The server notices the client left at the latest on its next keep-alive write.
    let deadline = Instant::now() + ctx.target.settings.keepalive_wait + ctx.timeout();
    let p = Probe::new("POST", url)
        .in_session()
        .header(ctx.auth(0).ok_or_else(|| Outcome::skip("no key"))?)
        .json(r#"{"jsonrpc":"2.0","id":78,"method":"ping"}"#);
    let mut last = String::new();
    while Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(300)).await;
        match ctx.send(&p, Pace::Key(0)).await {
            Ok(r) if r.status == 404 => return Ok(()),
            Ok(r) => last = r.summary(),
            Err(e) => last = e.to_string(),
        }
    }
    Err(Outcome::fail(
        "after the stream is closed, its session URL gets 404 (session removed)",
        format!("still: {last}"),
        p.curl(),
    ))
}
