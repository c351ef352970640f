//! LOG checks (docs/contract.md LOG-1, LOG-2) on the target's audit log: every line JSON with the LOG-1 fields, the key's
//! sha256 prefix right, `tools/call` lines with tool and arguments, stream-end lines, the
//! session id only as an 8-char prefix, and no key in any encoding anywhere (LOG-2).
//! Judges the LOG capture (`client`: its own traffic, generated once per run, then the
//! log read after it). Never
//! reports a log line that contains a key: it reports the line number and the encoding.

use super::prereq::need_key;
use crate::client::{Capture, Ctx, log_repro, objects, parse_lines};
use crate::engine::table::check_table;
use crate::engine::{Check, CheckResult, Outcome};
use crate::target::LogSource;
use crate::wire::leak::find_key_leaks;
use serde_json::{Value, json};

pub fn checks() -> Vec<Check> {
    check_table! {
        "LOG-1.json", Seed, json_lines, needs(session),
            "every log line is a JSON object with ts (RFC 3339 UTC) and event; every mcp_request line has method, path (no query), status, duration_ms, key, and session at most 8 chars";
        "LOG-1.key-id", Seed, key_id, needs(session),
            "requests with the key log key = first 8 hex of sha256(key); a request without a key logs key = \"none\"";
        "LOG-1.tools-call", Seed, tools_call, needs(session),
            "a tools/call of search_complaints logs tool = \"search_complaints\" and its arguments";
        "LOG-1.session", Seed, session, needs(session),
            "the session's requests log session = the first 8 chars of its id; the full id appears nowhere";
        "LOG-1.stream-end", Seed, stream_end, needs(session),
            "a closed SSE stream logs one mcp_stream_end line";
        "LOG-2", Seed, no_key, needs(session),
            "no log line contains a key: raw, percent-encoded, base64 (std/url, any alignment, padded or not), hex (lower/upper), or its full sha256";
    }
}

async fn capture(ctx: &Ctx) -> Result<Capture, Outcome> {
    if matches!(ctx.target.log, LogSource::None) {
        return Err(Outcome::skip(
            "no log source: run embedded, or pass --log-file PATH or --log-command 'CMD'",
        ));
    }
    ctx.log_capture().await.map_err(Outcome::skip)
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
        // A field with no value may be absent or null (a request without a session).
        match v.get("session") {
            None | Some(Value::Null) => {}
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
            Err(e) => vec![e.to_string()],
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
    if objs.iter().any(|o| {
        o.get("event") == Some(&json!("mcp_request")) && o.get("session") == Some(&json!(prefix))
    }) {
        Ok(())
    } else {
        Err(Outcome::fail(
            format!("mcp_request lines with session = \"{prefix}\" for the session's requests"),
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
    key_in_log(ctx, &cap.log)
}

/// A failure naming the first log line (by number) holding a key, and the encoding.
pub(super) fn key_in_log(ctx: &Ctx, log: &str) -> CheckResult {
    for key in &ctx.target.keys {
        for (n, line) in log.lines().enumerate() {
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

#[cfg(test)]
mod tests {
    use super::line_problems;
    use serde_json::json;

    #[test]
    fn session_may_be_absent_or_null_but_not_a_full_id() {
        let line = |session: Option<serde_json::Value>| {
            let mut v = json!({"ts":"2026-01-01T00:00:00Z","event":"mcp_request","method":"GET",
                "path":"/mcp/sse","status":401,"duration_ms":0,"key":"none"});
            if let Some(s) = session {
                v["session"] = s;
            }
            line_problems(&v)
        };
        assert!(line(None).is_empty());
        assert!(line(Some(json!(null))).is_empty());
        assert!(line(Some(json!("0123abcd"))).is_empty());
        assert!(!line(Some(json!("0123456789abcdef0123456789abcdef"))).is_empty());
    }
}
