//! LOG checks on the target's audit log: every line JSON with the LOG-1 fields, the key's
//! sha256 prefix right, `tools/call` lines with tool and arguments, stream-end lines, the
//! session id only as an 8-char prefix, and no key in any encoding anywhere (LOG-2).
//! Generates its own traffic first (once per run), then reads the log source. Never
//! reports a log line that contains a key: it reports the line number and the encoding.

use super::{need_key, random_session_id};
use crate::check::{Check, CheckResult, Outcome, Profile};
use crate::ctx::{Ctx, Pace};
use crate::leak::find_key_leaks;
use crate::probe::{HeaderSpec, Probe};
use serde_json::{Value, json};
use std::time::{Duration, Instant};

pub fn checks() -> Vec<Check> {
    vec![
        Check::new(
            "LOG-1.json",
            Profile::Seed,
            "every log line is a JSON object with ts (RFC 3339 UTC) and event; every mcp_request line has method, path (no query), status, duration_ms, key, and session at most 8 chars",
            |c| Box::pin(json_lines(c)),
        ),
        Check::new(
            "LOG-1.key-id",
            Profile::Seed,
            "requests with the key log key = first 8 hex of sha256(key); a request without a key logs key = \"none\"",
            |c| Box::pin(key_id(c)),
        ),
        Check::new(
            "LOG-1.tools-call",
            Profile::Seed,
            "a tools/call of search_complaints logs tool = \"search_complaints\" and its arguments",
            |c| Box::pin(tools_call(c)),
        ),
        Check::new(
            "LOG-1.session",
            Profile::Seed,
            "the session's requests log session = the first 8 chars of its id; the full id appears nowhere",
            |c| Box::pin(session(c)),
        ),
        Check::new(
            "LOG-1.stream-end",
            Profile::Seed,
            "a closed SSE stream logs one mcp_stream_end line",
            |c| Box::pin(stream_end(c)),
        ),
        Check::new(
            "LOG-2",
            Profile::Seed,
            "no log line contains a key: raw, percent-encoded, base64 (std/url, any alignment, padded or not), hex (lower/upper), or its full sha256",
            |c| Box::pin(no_key(c)),
        ),
    ]
}

/// The traffic the LOG checks look for, and the log read after it.
#[derive(Clone, Debug)]
pub struct Capture {
    pub marker: String,
    pub session_id: String,
    pub log: String,
}

/// The log lines as (line number, JSON value or the parse problem).
fn parse_lines(ctx: &Ctx, log: &str) -> Vec<(usize, Result<Value, String>)> {
    let prefixed = ctx.log_lines_prefixed();
    log.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .filter_map(|(i, l)| {
            let text = if prefixed {
                &l[l.find('{')?..] // e.g. `server-1  | {...}`: lines without JSON are skipped
            } else {
                l
            };
            let v = serde_json::from_str::<Value>(text)
                .map_err(|_| "not JSON".to_string())
                .and_then(|v| {
                    if v.is_object() {
                        Ok(v)
                    } else {
                        Err("not a JSON object".into())
                    }
                });
            Some((i + 1, v))
        })
        .collect()
}

pub(crate) fn objects(ctx: &Ctx, log: &str) -> Vec<Value> {
    parse_lines(ctx, log)
        .into_iter()
        .filter_map(|(_, v)| v.ok())
        .collect()
}

async fn capture(ctx: &Ctx) -> Result<Capture, Outcome> {
    if matches!(ctx.target.log, crate::target::LogSource::None) {
        return Err(Outcome::skip(
            "no log source: run embedded, or pass --log-file PATH or --log-command 'CMD'",
        ));
    }
    ctx.log_capture
        .get_or_init(|| generate(ctx))
        .await
        .clone()
        .map_err(Outcome::skip)
}

async fn generate(ctx: &Ctx) -> Result<Capture, String> {
    let key = ctx.key(0).ok_or("no key")?;
    let marker = format!("conformance-{}", &random_session_id()[..12]);
    let mut s = ctx
        .open_mcp(0)
        .await
        .map_err(|e| format!("opening an MCP session: {e}"))?;
    let session_id = s.session_id().unwrap_or_default();
    s.request(
        ctx,
        "tools/call",
        json!({"name":"search_complaints","arguments":{"search_term":marker,"size":1}}),
    )
    .await
    .map_err(|e| format!("tools/call: {e}"))?;
    drop(s);
    // Requests that carry the key where a careless server might log it.
    let sid = random_session_id();
    let path = format!("/mcp/messages?session_id={sid}");
    let ping = r#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#;
    let basic = {
        use base64::Engine;
        base64::engine::general_purpose::STANDARD.encode(format!("user:{}", key.expose()))
    };
    let pct: String = key.expose().bytes().map(|b| format!("%{b:02X}")).collect();
    let probes = [
        (
            Probe::new("POST", ctx.url(&path)).json(ping),
            Pace::AuthFail,
        ),
        (
            Probe::new("POST", ctx.url(&path))
                .header(HeaderSpec::bearer(key))
                .json(ping),
            Pace::Key(0),
        ),
        (
            Probe::new("POST", ctx.url(&format!("{path}&api_key={}", key.expose())))
                .header(HeaderSpec::x_api_key(key))
                .json(ping),
            Pace::Key(0),
        ),
        (
            Probe::new("POST", ctx.url(&path))
                .header(HeaderSpec::secret(
                    "Authorization",
                    format!("Basic {basic}").into_bytes(),
                    "Basic ...".into(),
                ))
                .json(ping),
            Pace::AuthFail,
        ),
        (
            Probe::new("POST", ctx.url(&path))
                .header(HeaderSpec::secret(
                    "X-API-Key",
                    pct.into_bytes(),
                    "...".into(),
                ))
                .json(ping),
            Pace::AuthFail,
        ),
    ];
    for (p, pace) in &probes {
        let _ = ctx.send(p, *pace).await;
    }
    // Wait for the lines (the audit writer is asynchronous; the stream end is noticed at
    // the server's next keep-alive write at the latest).
    let deadline = Instant::now() + ctx.target.settings.keepalive_wait + ctx.timeout();
    let mut log = String::new();
    while Instant::now() < deadline {
        log = ctx.read_log().await?.unwrap_or_default();
        let objs = objects(ctx, &log);
        let has_call = objs.iter().any(|o| o.to_string().contains(&marker));
        let has_end = objs.iter().any(|o| {
            o.get("event") == Some(&json!("mcp_stream_end"))
                && o.to_string()
                    .contains(&session_id[..8.min(session_id.len())])
        });
        let has_none = objs.iter().any(|o| o.get("key") == Some(&json!("none")));
        if has_call && has_end && has_none {
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    Ok(Capture {
        marker,
        session_id,
        log,
    })
}

pub(crate) fn log_repro(ctx: &Ctx) -> String {
    match &ctx.target.log {
        crate::target::LogSource::File(p) => format!("tail -n 50 '{}'", p.display()),
        crate::target::LogSource::Command(c) => c.clone(),
        _ => "# the embedded server's audit log (run with --format json to see the lines)".into(),
    }
}

fn is_rfc3339_utc(ts: &str) -> bool {
    let b = ts.as_bytes();
    b.len() >= 20
        && b[4] == b'-'
        && b[7] == b'-'
        && (b[10] == b'T' || b[10] == b't')
        && b[13] == b':'
        && b[16] == b':'
        && (ts.ends_with('Z') || ts.ends_with("+00:00"))
}

/// Problems with one parsed line (empty when it is fine).
pub fn line_problems(v: &Value) -> Vec<String> {
    let mut p = Vec::new();
    match v.get("ts").and_then(Value::as_str) {
        Some(ts) if is_rfc3339_utc(ts) => {}
        _ => p.push("ts missing or not RFC 3339 UTC".into()),
    }
    let Some(event) = v.get("event").and_then(Value::as_str) else {
        p.push("event missing".into());
        return p;
    };
    if event == "mcp_request" {
        for f in ["method", "path", "key"] {
            if !v.get(f).is_some_and(Value::is_string) {
                p.push(format!("{f} missing or not a string"));
            }
        }
        for f in ["status", "duration_ms"] {
            if !v.get(f).is_some_and(Value::is_number) {
                p.push(format!("{f} missing or not a number"));
            }
        }
        if v.get("path")
            .and_then(Value::as_str)
            .is_some_and(|s| s.contains('?'))
        {
            p.push("path carries a query string".into());
        }
        if let Some(k) = v.get("key").and_then(Value::as_str)
            && k != "none"
            && !(k.len() == 8 && k.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')))
        {
            p.push("key is neither \"none\" nor 8 lowercase hex".into());
        }
        match v.get("session") {
            None => p.push("session missing".into()),
            Some(Value::Null) => {}
            Some(Value::String(s)) if s.chars().count() <= 8 => {}
            Some(_) => p.push("session is not null or a string of at most 8 chars".into()),
        }
    }
    p
}

async fn json_lines(ctx: &Ctx) -> CheckResult {
    let cap = capture(ctx).await?;
    let lines = parse_lines(ctx, &cap.log);
    if lines.is_empty() {
        return Err(Outcome::fail(
            "log lines",
            "the log is empty",
            log_repro(ctx),
        ));
    }
    for (n, v) in &lines {
        let problems = match v {
            Ok(v) => line_problems(v),
            Err(e) => vec![e.clone()],
        };
        if !problems.is_empty() {
            return Err(Outcome::fail(
                "every line a JSON object with the LOG-1 fields",
                format!("line {n}: {}", problems.join("; ")),
                log_repro(ctx),
            ));
        }
    }
    if !lines
        .iter()
        .any(|(_, v)| matches!(v, Ok(v) if v.get("event") == Some(&json!("mcp_request"))))
    {
        return Err(Outcome::fail(
            "mcp_request lines for the harness's requests",
            "none",
            log_repro(ctx),
        ));
    }
    Ok(())
}

async fn key_id(ctx: &Ctx) -> CheckResult {
    let cap = capture(ctx).await?;
    let key = need_key(ctx, 0)?;
    let objs = objects(ctx, &cap.log);
    let id = key.log_id();
    let with_key = objs.iter().any(|o| o.get("key") == Some(&json!(id)));
    let none = objs.iter().any(|o| o.get("key") == Some(&json!("none")));
    if with_key && none {
        return Ok(());
    }
    let seen: std::collections::BTreeSet<String> = objs
        .iter()
        .filter_map(|o| o.get("key").and_then(Value::as_str).map(str::to_string))
        .collect();
    Err(Outcome::fail(
        format!("lines with key = {id} (sha256 prefix of $MCP_KEY) and lines with key = \"none\""),
        format!(
            "key values seen: {}",
            seen.into_iter().collect::<Vec<_>>().join(", ")
        ),
        format!(
            "printf %s \"$MCP_KEY\" | sha256sum | cut -c1-8; {}",
            log_repro(ctx)
        ),
    ))
}

async fn tools_call(ctx: &Ctx) -> CheckResult {
    let cap = capture(ctx).await?;
    let objs = objects(ctx, &cap.log);
    let found = objs.iter().any(|o| {
        o.get("tool") == Some(&json!("search_complaints"))
            && o.get("arguments")
                .is_some_and(|a| a.to_string().contains(&cap.marker))
    });
    if found {
        Ok(())
    } else {
        Err(Outcome::fail(
            format!(
                "a line with tool = \"search_complaints\" and arguments containing {}",
                cap.marker
            ),
            "no such line",
            log_repro(ctx),
        ))
    }
}

async fn session(ctx: &Ctx) -> CheckResult {
    let cap = capture(ctx).await?;
    if cap.session_id.len() < 9 {
        return Err(Outcome::skip(
            "the session id is too short to tell a prefix from the id",
        ));
    }
    if let Some(n) = cap.log.lines().position(|l| l.contains(&cap.session_id)) {
        return Err(Outcome::fail(
            "the session id only as an 8-char prefix",
            format!("line {}: the full session id", n + 1),
            log_repro(ctx),
        ));
    }
    let prefix = &cap.session_id[..8];
    let objs = objects(ctx, &cap.log);
    if objs
        .iter()
        .any(|o| o.get("session") == Some(&json!(prefix)))
    {
        Ok(())
    } else {
        Err(Outcome::fail(
            format!("lines with session = \"{prefix}\" for the session's requests"),
            "no such line",
            log_repro(ctx),
        ))
    }
}

async fn stream_end(ctx: &Ctx) -> CheckResult {
    let cap = capture(ctx).await?;
    let objs = objects(ctx, &cap.log);
    let prefix = &cap.session_id[..8.min(cap.session_id.len())];
    let ends = objs
        .iter()
        .filter(|o| o.get("event") == Some(&json!("mcp_stream_end")))
        .collect::<Vec<_>>();
    if ends.iter().any(|o| o.to_string().contains(prefix))
        || (!ends.is_empty() && prefix.is_empty())
    {
        Ok(())
    } else {
        Err(Outcome::fail(
            format!("an mcp_stream_end line for session {prefix} after the client closed it"),
            format!(
                "{} mcp_stream_end line(s), none for that session",
                ends.len()
            ),
            log_repro(ctx),
        ))
    }
}

async fn no_key(ctx: &Ctx) -> CheckResult {
    let cap = capture(ctx).await?;
    for key in &ctx.target.keys {
        for (n, line) in cap.log.lines().enumerate() {
            if let Some(leak) = find_key_leaks(line, key.expose()).first() {
                return Err(Outcome::fail(
                    "no key in any encoding in any log line",
                    format!("line {}: ${} as {}", n + 1, key.var(), leak.encoding),
                    log_repro(ctx),
                ));
            }
        }
    }
    Ok(())
}
