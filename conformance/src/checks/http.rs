//! HTTP checks: the Streamable HTTP transport on `/mcp` (contract HTTP-1..7, all strict).
//! Every check first asks `Ctx::need_streamable` (skip when the target doesn't offer `/mcp`
//! and `--transport` didn't ask for it; fail when it did). Sessions are always deleted at
//! the end (the target caps open `/mcp` sessions per key), and every probe is paced.

use super::{
    AUTH_BODY, Expect, FORBIDDEN_BODY, NOT_FOUND_BODY, RATE_BODY, Step, error_shape, expect_steps,
    meets, need_key, random_session_id,
};
use crate::check::{Check, CheckResult, Outcome, Profile};
use crate::ctx::{Ctx, Pace, setup};
use crate::probe::{HeaderSpec, Probe, Resp};
use crate::streamable::{
    HttpSession, SESSION_HEADER, SESSION_VERSION, VERSION_HEADER, initialize_body, messages,
    response_with_id, rpc, valid_session_id,
};
use serde_json::{Value, json};
use std::time::{Duration, Instant};

const PING: &str = r#"{"jsonrpc":"2.0","id":7,"method":"ping"}"#;

pub fn checks() -> Vec<Check> {
    let c =
        |id: &str, title: &str, run: fn(&Ctx) -> futures::future::BoxFuture<'_, CheckResult>| {
            Check::new(id, Profile::Strict, title, run)
        };
    vec![
        c(
            "HTTP-1.request",
            "in a session, POST /mcp with a JSON-RPC request (ping) and Accept: application/json, text/event-stream -> 200, the response as application/json or text/event-stream",
            |x| Box::pin(request(x)),
        ),
        c(
            "HTTP-1.notification",
            "in a session, POST /mcp with a notification (notifications/initialized) -> 202 with an empty body",
            |x| Box::pin(notification(x)),
        ),
        c(
            "HTTP-1.tools-call",
            "in a session, tools/call search_complaints {search_term, size: 1} -> 200, a result with content and no isError",
            |x| Box::pin(tools_call(x)),
        ),
        c(
            "HTTP-2.session-id",
            "POST /mcp initialize without a session -> 200 with Mcp-Session-Id of 32 lowercase hex, different for two sessions",
            |x| Box::pin(session_id(x)),
        ),
        c(
            "HTTP-2.version",
            "initialize asking for 2024-11-05, 2025-03-26, 2025-06-18, 2025-11-25 -> result.protocolVersion is the version asked for",
            |x| Box::pin(version(x)),
        ),
        c(
            "HTTP-3.missing",
            "a request (ping) without Mcp-Session-Id after initialize -> 400 bad_request JSON",
            |x| Box::pin(missing(x)),
        ),
        c(
            "HTTP-3.unknown",
            "Mcp-Session-Id never issued (random 32 hex) or malformed -> exact 404 not_found \"Unknown session\"",
            |x| Box::pin(unknown(x)),
        ),
        c(
            "HTTP-3.foreign",
            "key 2 posting into (and deleting) key 1's live session -> the same exact 404; the session still answers key 1",
            |x| Box::pin(foreign(x)),
        ),
        c(
            "HTTP-4.get-stream",
            "GET /mcp with the session and Accept: text/event-stream -> 200 with the SSE-1 head (text/event-stream, Cache-Control: no-cache, no-transform, X-Accel-Buffering: no, no Content-Length/-Encoding)",
            |x| Box::pin(get_stream(x)),
        ),
        c(
            "HTTP-4.delete",
            "DELETE /mcp with the session -> 2xx; afterwards the session id gets the exact 404",
            |x| Box::pin(delete(x)),
        ),
        c(
            "HTTP-5",
            "a request in a session with MCP-Protocol-Version: 1999-01-01 -> 400 bad_request JSON",
            |x| Box::pin(bad_version(x)),
        ),
        c(
            "HTTP-6.auth",
            "POST /mcp initialize with no key or a wrong key, GET /mcp with no key -> exact 401",
            |x| Box::pin(auth(x)),
        ),
        c(
            "HTTP-6.origin",
            "POST /mcp initialize with a valid key and Origin: https://evil.example -> exact 403 forbidden",
            |x| Box::pin(origin(x)),
        ),
        c(
            "HTTP-6.shared-limit",
            "one per-key budget for both transports: with the key's burst spent on /mcp/messages, POST /mcp gets the exact 429, and the other way round",
            |x| Box::pin(shared_limit(x)),
        ),
        c(
            "HTTP-6.log",
            "a tools/call over /mcp logs an mcp_request line with path /mcp, tool search_complaints and its arguments, the key id and the 8-char session prefix; the full session id appears nowhere",
            |x| Box::pin(log(x)),
        ),
        c(
            "HTTP-7",
            "PUT /mcp with a valid key -> 405 with Allow: GET, POST, DELETE and a JSON error body",
            |x| Box::pin(other_method(x)),
        ),
    ]
}

/// A handshaken session of key `slot`, or a skip.
async fn session(ctx: &Ctx, slot: usize) -> Result<HttpSession, Outcome> {
    ctx.need_streamable().await?;
    ctx.open_http_mcp(slot)
        .await
        .map_err(setup("opening a /mcp session"))
}

fn no_response(expected: &str, probe: &Probe) -> impl FnOnce(String) -> Outcome {
    let expected = expected.to_string();
    let repro = probe.curl();
    move |e| Outcome::fail(expected, format!("no response: {e}"), repro)
}

/// Problems with the answer to a JSON-RPC request (`id`): 200, JSON or SSE, the response.
fn response_problems(resp: &Resp, id: u64) -> Result<Value, String> {
    if resp.status != 200 {
        return Err(resp.summary());
    }
    messages(resp).map_err(|e| format!("{e}: {}", resp.summary()))?;
    let msg = response_with_id(resp, id).map_err(|e| format!("{e}: {}", resp.summary()))?;
    if msg.get("result").is_none() && msg.get("error").is_none() {
        return Err(format!("the response has neither result nor error: {msg}"));
    }
    Ok(msg)
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
    ctx.need_streamable().await?;
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

async fn session_id(ctx: &Ctx) -> CheckResult {
    ctx.need_streamable().await?;
    let probe = ctx.mcp_post(Some(0), &initialize_body(SESSION_VERSION));
    let expected =
        "200 with Mcp-Session-Id: <32 lowercase hex>, a different id for each initialize";
    let mut ids = Vec::new();
    let mut problem = None;
    for _ in 0..2 {
        let resp = ctx
            .send(&probe, Pace::Key(0))
            .await
            .map_err(no_response(expected, &probe))?;
        let id = resp.header(SESSION_HEADER);
        if let Some(id) = &id {
            ids.push(id.clone());
        }
        match id {
            Some(id) if resp.status == 200 && valid_session_id(&id) => {}
            Some(id) => {
                problem = Some(format!("{}; Mcp-Session-Id: {id}", resp.summary()));
                break;
            }
            None => {
                problem = Some(format!("{}; no Mcp-Session-Id", resp.summary()));
                break;
            }
        }
    }
    if problem.is_none() && ids.len() == 2 && ids[0] == ids[1] {
        problem = Some("the same Mcp-Session-Id twice".into());
    }
    for id in &ids {
        let _ = ctx.delete_http_session(0, id).await;
    }
    match problem {
        None => Ok(()),
        Some(p) => Err(Outcome::fail(expected, p, probe.curl())),
    }
}

async fn version(ctx: &Ctx) -> CheckResult {
    ctx.need_streamable().await?;
    for v in ["2024-11-05", "2025-03-26", "2025-06-18", "2025-11-25"] {
        let probe = ctx.mcp_post(Some(0), &initialize_body(v));
        let expected = format!("initialize asking for {v} -> result.protocolVersion {v}");
        let (s, resp) = ctx
            .open_http(0, v)
            .await
            .map_err(|e| Outcome::fail(&expected, e, probe.curl()))?;
        let got = response_with_id(&resp, 1).map(|m| {
            m.pointer("/result/protocolVersion")
                .map(Value::to_string)
                .unwrap_or_else(|| format!("no result.protocolVersion in {m}"))
        });
        let _ = s.close(ctx).await;
        match got {
            Ok(g) if g == format!("\"{v}\"") => {}
            Ok(g) => {
                return Err(Outcome::fail(
                    expected,
                    format!("protocolVersion {g}"),
                    probe.curl(),
                ));
            }
            Err(e) => return Err(Outcome::fail(expected, e, probe.curl())),
        }
    }
    Ok(())
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
    ctx.need_streamable().await?;
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

async fn get_stream(ctx: &Ctx) -> CheckResult {
    let s = session(ctx, 0).await?;
    let mut probe = Probe::new("GET", ctx.url("/mcp"))
        .stream()
        .in_http_session();
    if let Some(h) = ctx.auth(0) {
        probe = probe.header(h);
    }
    let probe = probe
        .header(HeaderSpec::plain("Accept", "text/event-stream"))
        .header(HeaderSpec::plain("Accept-Encoding", "gzip, deflate, br"))
        .header(crate::streamable::session_header(&s.id))
        .header(HeaderSpec::plain(VERSION_HEADER, &s.version));
    let expected = "200, text/event-stream, Cache-Control: no-cache, no-transform, X-Accel-Buffering: no, no Content-Length, no Content-Encoding";
    let opened = ctx.open_stream(&probe, Pace::Key(0), true).await;
    let outcome = match opened {
        Err(e) => Err(Outcome::fail(
            expected,
            format!("no response: {e}"),
            probe.curl(),
        )),
        Ok(Err(resp)) => Err(Outcome::fail(expected, resp.summary(), probe.curl())),
        Ok(Ok(conn)) => {
            let problems = super::sse::stream_head_problems(&conn.head);
            drop(conn);
            if problems.is_empty() {
                Ok(())
            } else {
                Err(Outcome::fail(expected, problems.join("; "), probe.curl()))
            }
        }
    };
    let _ = s.close(ctx).await;
    outcome
}

async fn delete(ctx: &Ctx) -> CheckResult {
    let s = session(ctx, 0).await?;
    let id = s.id.clone();
    let del = ctx.http_delete_probe(0, &id);
    let after = s.probe(ctx, PING);
    let resp = s
        .close(ctx)
        .await
        .map_err(no_response("DELETE /mcp -> 2xx", &del))?;
    if !(200..300).contains(&resp.status) {
        return Err(Outcome::fail(
            "DELETE /mcp with the session -> 2xx",
            resp.summary(),
            del.curl(),
        ));
    }
    expect_steps(
        ctx,
        vec![Step::new(
            "POST /mcp ping with the deleted session's id",
            after,
            Pace::Key(0),
            Expect::Exact(404, NOT_FOUND_BODY),
        )],
    )
    .await
}

async fn bad_version(ctx: &Ctx) -> CheckResult {
    let s = session(ctx, 0).await?;
    let probe = ctx
        .mcp_post(Some(0), PING)
        .header(crate::streamable::session_header(&s.id))
        .header(HeaderSpec::plain(VERSION_HEADER, "1999-01-01"))
        .in_http_session();
    let r = expect_steps(
        ctx,
        vec![Step::new(
            "POST /mcp ping with MCP-Protocol-Version: 1999-01-01",
            probe,
            Pace::Key(0),
            Expect::Shape(400, "bad_request"),
        )],
    )
    .await;
    let _ = s.close(ctx).await;
    r
}

async fn auth(ctx: &Ctx) -> CheckResult {
    ctx.need_streamable().await?;
    let key = need_key(ctx, 0)?;
    let wrong: String = {
        use rand::Rng;
        const A: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
        let mut rng = rand::rng();
        (0..key.expose().len().max(8))
            .map(|_| A[rng.random_range(0..A.len())] as char)
            .collect()
    };
    let init = initialize_body(SESSION_VERSION);
    let exact = Expect::Exact(401, AUTH_BODY);
    let steps = vec![
        Step::new(
            "POST /mcp initialize without a key",
            ctx.mcp_post(None, &init),
            Pace::AuthFail,
            exact.clone(),
        ),
        Step::new(
            "POST /mcp initialize with a wrong X-API-Key",
            ctx.mcp_post(None, &init)
                .header(HeaderSpec::plain("X-API-Key", &wrong)),
            Pace::AuthFail,
            exact.clone(),
        ),
        Step::new(
            "GET /mcp without a key",
            Probe::new("GET", ctx.url("/mcp"))
                .header(HeaderSpec::plain("Accept", "text/event-stream"))
                .header(HeaderSpec::plain(SESSION_HEADER, &random_session_id()))
                .stream(),
            Pace::AuthFail,
            exact,
        ),
    ];
    expect_steps(ctx, steps).await
}

async fn origin(ctx: &Ctx) -> CheckResult {
    ctx.need_streamable().await?;
    let probe = ctx
        .mcp_post(Some(0), &initialize_body(SESSION_VERSION))
        .header(HeaderSpec::plain("Origin", "https://evil.example"));
    let expected = format!("403, application/json, body exactly {FORBIDDEN_BODY}");
    let resp = ctx
        .send(&probe, Pace::Key(0))
        .await
        .map_err(no_response(&expected, &probe))?;
    if let Some(id) = resp.header(SESSION_HEADER) {
        let _ = ctx.delete_http_session(0, &id).await; // it opened a session after all
    }
    meets(&resp, &Expect::Exact(403, FORBIDDEN_BODY)).map_err(|why| {
        Outcome::fail(
            expected,
            format!("{} ({why})", resp.summary()),
            probe.curl(),
        )
    })
}

/// Requests sent on the other transport right after the budget is spent: a shared bucket
/// accepts at most 1 + rps x (their time) of them (a cell may just have refilled), a
/// separate one (full) accepts them all.
const SHARED_PROBES: u32 = 3;

async fn shared_limit(ctx: &Ctx) -> CheckResult {
    ctx.need_streamable().await?;
    need_key(ctx, 0)?;
    let l = ctx
        .limits()
        .await
        .map_err(|e| Outcome::skip(format!("the per-key limit can't be measured: {e}")))?
        .clone();
    if l.burst < SHARED_PROBES {
        return Err(Outcome::skip(format!(
            "the measured burst ({}) is too small to tell one budget from two",
            l.burst
        )));
    }
    let cheap = super::rate::cheap_probe(ctx, 0).ok_or_else(|| Outcome::skip("no key"))?;
    let s = session(ctx, 0).await?;
    let ping = s.probe(ctx, PING);
    let outcome = shared_legs(ctx, &l, &cheap, &ping).await;
    ctx.wait_full(0).await;
    let _ = s.close(ctx).await;
    outcome
}

async fn shared_legs(
    ctx: &Ctx,
    l: &crate::ctx::Limits,
    cheap: &Probe,
    ping: &Probe,
) -> CheckResult {
    let max = ctx.target.settings.max_burst_probe;
    let legs = [
        ("POST /mcp/messages", cheap, "POST /mcp", ping),
        ("POST /mcp", ping, "POST /mcp/messages", cheap),
    ];
    for (spent_on, spend, other_name, other) in legs {
        ctx.wait_full(0).await;
        let drained = super::rate::drain(ctx, spend, max).await;
        let t0 = Instant::now();
        let mut answers = Vec::new();
        if let Ok((_, Some(_))) = &drained {
            for _ in 0..SHARED_PROBES {
                match ctx.send_once(other).await {
                    Ok(r) => {
                        let limited = r.status == 429;
                        answers.push(r);
                        if limited {
                            break;
                        }
                    }
                    Err(e) => {
                        ctx.drained(Pace::Key(0), Duration::from_secs_f64(1.0 / l.rps));
                        return Err(Outcome::skip(format!("{other_name}: no response: {e}")));
                    }
                }
            }
        }
        let gap = t0.elapsed();
        ctx.drained(Pace::Key(0), Duration::from_secs_f64(1.0 / l.rps));
        let spent = match drained {
            Ok((n, Some(_))) => n,
            Ok((n, None)) => {
                return Err(Outcome::skip(format!(
                    "no 429 after {n} requests on {spent_on}"
                )));
            }
            Err(e) => {
                return Err(Outcome::skip(format!(
                    "spending the budget on {spent_on}: {e}"
                )));
            }
        };
        let expected = format!(
            "with the key's budget spent on {spent_on} ({spent} accepted, then a 429), {other_name} is limited too: a 429 with body exactly {RATE_BODY} within {SHARED_PROBES} immediate requests"
        );
        let repro = format!(
            "for i in $(seq 1 {}); do {} ; echo; done
for i in $(seq 1 {SHARED_PROBES}); do {} ; echo; done",
            spent + 1,
            spend.curl().replace('\n', "\n  "),
            other.curl().replace('\n', "\n  ")
        );
        match answers.last() {
            Some(r) if r.status == 429 => {
                if let Err(why) = meets(r, &Expect::Exact(429, RATE_BODY)) {
                    return Err(Outcome::fail(
                        expected,
                        format!("{} ({why})", r.summary()),
                        repro,
                    ));
                }
            }
            // all accepted: only a budget of its own, or a refill during them, explains it
            _ if gap.as_secs_f64() * l.rps >= 1.5 => {
                return Err(Outcome::skip(format!(
                    "{SHARED_PROBES} requests on {other_name} took {:.0} ms, long enough for the bucket to refill at {:.1}/s: the shared limit can't be observed from here",
                    gap.as_secs_f64() * 1000.0,
                    l.rps
                )));
            }
            last => {
                return Err(Outcome::fail(
                    expected,
                    format!(
                        "{} requests on {other_name} accepted in {:.0} ms (last: {}): it has a budget of its own",
                        answers.len(),
                        gap.as_secs_f64() * 1000.0,
                        last.map(Resp::summary).unwrap_or_default()
                    ),
                    repro,
                ));
            }
        }
    }
    Ok(())
}

async fn log(ctx: &Ctx) -> CheckResult {
    ctx.need_streamable().await?;
    if matches!(ctx.target.log, crate::target::LogSource::None) {
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
    let deadline = Instant::now() + ctx.timeout();
    let mut observed;
    loop {
        let text = ctx
            .read_log()
            .await
            .map_err(|e| Outcome::skip(format!("reading the log: {e}")))?
            .unwrap_or_default();
        if let Some(n) = text.lines().position(|l| l.contains(&sid)) {
            return Err(Outcome::fail(
                expected,
                format!("line {}: the full session id", n + 1),
                super::log::log_repro(ctx),
            ));
        }
        let objs = super::log::objects(ctx, &text);
        let line = objs.iter().find(|o| {
            o.get("arguments")
                .is_some_and(|a| a.to_string().contains(&marker))
        });
        observed = match line {
            None => "no line with the tools/call's arguments".to_string(),
            Some(o) => {
                let mut p = Vec::new();
                if o.get("event") != Some(&json!("mcp_request")) {
                    p.push(format!("event {}", o.get("event").unwrap_or(&Value::Null)));
                }
                if o.get("path") != Some(&json!("/mcp")) {
                    p.push(format!("path {}", o.get("path").unwrap_or(&Value::Null)));
                }
                if o.get("tool") != Some(&json!("search_complaints")) {
                    p.push(format!("tool {}", o.get("tool").unwrap_or(&Value::Null)));
                }
                if o.get("key") != Some(&json!(want_key)) {
                    p.push(format!("key {}", o.get("key").unwrap_or(&Value::Null)));
                }
                if o.get("session") != Some(&json!(prefix)) {
                    p.push(format!(
                        "session {}",
                        o.get("session").unwrap_or(&Value::Null)
                    ));
                }
                if p.is_empty() {
                    return Ok(());
                }
                format!("the tools/call line has {}", p.join(", "))
            }
        };
        if Instant::now() >= deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    Err(Outcome::fail(
        expected,
        observed,
        super::log::log_repro(ctx),
    ))
}

async fn other_method(ctx: &Ctx) -> CheckResult {
    ctx.need_streamable().await?;
    let mut probe = Probe::new("PUT", ctx.url("/mcp"));
    if let Some(h) = ctx.auth(0) {
        probe = probe.header(h);
    }
    let probe = probe.json(PING);
    let expected = "405, Allow: GET, POST, DELETE, application/json error body {\"error\":{\"type\":\"method_not_allowed\",...}}";
    let resp = ctx
        .send(&probe, Pace::Key(0))
        .await
        .map_err(no_response(expected, &probe))?;
    let allow = resp.header("allow").unwrap_or_default();
    let mut methods: Vec<String> = allow
        .split(',')
        .map(|m| m.trim().to_ascii_uppercase())
        .filter(|m| !m.is_empty())
        .collect();
    methods.sort();
    let mut problems = Vec::new();
    if resp.status != 405 {
        problems.push(format!("status {}", resp.status));
    }
    if methods != ["DELETE", "GET", "POST"] {
        problems.push(format!(
            "Allow: {}",
            if allow.is_empty() { "(none)" } else { &allow }
        ));
    }
    if !super::is_json(&resp) {
        problems.push("content-type is not application/json".into());
    } else if let Err(e) = error_shape(&resp.body, "method_not_allowed") {
        problems.push(e);
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(Outcome::fail(
            expected,
            format!("{} ({})", resp.summary(), problems.join("; ")),
            probe.curl(),
        ))
    }
}
