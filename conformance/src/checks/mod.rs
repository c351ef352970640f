//! The registry of checks, one or more per externally observable clause of the contract
//! (the HTTP+SSE families first, then the Streamable HTTP group `HTTP-*`),
//! in run order, plus the expectation helpers they share (exact error bodies, shapes).
//! Checks never use the server's code; they only speak HTTP to the target.

pub mod auth;
pub mod endpoints;
pub mod http;
pub mod log;
pub mod msg;
pub mod net;
pub mod rate;
pub mod sse;

use crate::check::{Check, CheckResult, Outcome};
use crate::ctx::{Ctx, Pace};
use crate::probe::{Probe, Resp};

pub const AUTH_BODY: &str = r#"{"error":{"type":"auth","message":"Missing or invalid API key"}}"#;
pub const RATE_BODY: &str = r#"{"error":{"type":"rate_limit","message":"Too many requests"}}"#;
pub const NOT_FOUND_BODY: &str = r#"{"error":{"type":"not_found","message":"Unknown session"}}"#;
pub const FORBIDDEN_BODY: &str = r#"{"error":{"type":"forbidden","message":"Origin not allowed"}}"#;

/// Every check, in run order.
pub fn all() -> Vec<Check> {
    let mut v = Vec::new();
    v.extend(endpoints::checks());
    v.extend(auth::checks());
    v.extend(net::checks());
    v.extend(sse::checks());
    v.extend(msg::checks());
    v.extend(rate::checks());
    v.extend(log::checks());
    v.extend(http::checks());
    v
}

/// What a probe's response must be.
#[derive(Clone, Debug)]
pub enum Expect {
    /// This status, `application/json`, and exactly this body.
    Exact(u16, &'static str),
    /// This status, `application/json`, body `{"error":{"type":T,"message":<string>}}`.
    Shape(u16, &'static str),
    /// Any of these statuses.
    StatusIn(&'static [u16]),
    /// Not rejected as unauthenticated: anything but 401/403/429/5xx.
    Accepted,
}

impl std::fmt::Display for Expect {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Expect::Exact(s, b) => write!(f, "{s}, application/json, body exactly {b}"),
            Expect::Shape(s, t) => write!(
                f,
                "{s}, application/json, body {{\"error\":{{\"type\":\"{t}\",\"message\":...}}}}"
            ),
            Expect::StatusIn(s) => write!(
                f,
                "status {}",
                s.iter()
                    .map(|s| s.to_string())
                    .collect::<Vec<_>>()
                    .join(" or ")
            ),
            Expect::Accepted => f.write_str("accepted (not 401/403/429/5xx)"),
        }
    }
}

pub fn is_json(resp: &Resp) -> bool {
    resp.header("content-type").is_some_and(|c| {
        c.trim()
            .to_ascii_lowercase()
            .starts_with("application/json")
    })
}

/// `Ok(())` when `resp` meets `expect`, else a description of how it differs.
pub fn meets(resp: &Resp, expect: &Expect) -> Result<(), String> {
    match expect {
        Expect::Exact(status, body) => {
            if resp.status != *status {
                return Err(format!("status {}", resp.status));
            }
            if !is_json(resp) {
                return Err("content-type is not application/json".into());
            }
            if resp.body != body.as_bytes() {
                return Err("body differs".into());
            }
            Ok(())
        }
        Expect::Shape(status, ty) => {
            if resp.status != *status {
                return Err(format!("status {}", resp.status));
            }
            if !is_json(resp) {
                return Err("content-type is not application/json".into());
            }
            error_shape(&resp.body, ty)
        }
        Expect::StatusIn(statuses) => {
            if statuses.contains(&resp.status) {
                Ok(())
            } else {
                Err(format!("status {}", resp.status))
            }
        }
        Expect::Accepted => {
            if matches!(resp.status, 401 | 403 | 429) || resp.status >= 500 {
                Err(format!("status {}", resp.status))
            } else {
                Ok(())
            }
        }
    }
}

/// Checks `{"error":{"type":ty,"message":<string>}}` with no other members.
pub fn error_shape(body: &[u8], ty: &str) -> Result<(), String> {
    let v: serde_json::Value =
        serde_json::from_slice(body).map_err(|_| "body is not JSON".to_string())?;
    let obj = v.as_object().ok_or("body is not a JSON object")?;
    let err = obj
        .get("error")
        .and_then(|e| e.as_object())
        .ok_or("no `error` object")?;
    if obj.len() != 1 || err.len() != 2 {
        return Err("extra members in the error body".into());
    }
    if err.get("type").and_then(|t| t.as_str()) != Some(ty) {
        return Err(format!("error.type is not `{ty}`"));
    }
    if !err.get("message").is_some_and(|m| m.is_string()) {
        return Err("error.message is not a string".into());
    }
    Ok(())
}

/// One probe with its label, pacing and expectation.
pub struct Step {
    pub label: String,
    pub probe: Probe,
    pub pace: Pace,
    pub expect: Expect,
}

impl Step {
    pub fn new(label: impl Into<String>, probe: Probe, pace: Pace, expect: Expect) -> Self {
        Self {
            label: label.into(),
            probe,
            pace,
            expect,
        }
    }
}

/// Sends a probe and returns its response head (and body unless it opened a stream).
pub async fn send_any(ctx: &Ctx, probe: &Probe, pace: Pace) -> Result<Resp, String> {
    if probe.stream && !probe.raw {
        match ctx.open_stream(probe, pace, true).await? {
            Ok(conn) => Ok(conn.head),
            Err(resp) => Ok(resp),
        }
    } else {
        ctx.send(probe, pace).await
    }
}

/// Runs every step; fails with the first mismatch (and names the others).
pub async fn expect_steps(ctx: &Ctx, steps: Vec<Step>) -> CheckResult {
    let mut failures: Vec<(String, String, String)> = Vec::new();
    let mut first_probe: Option<Probe> = None;
    for step in &steps {
        let (observed, ok) = match send_any(ctx, &step.probe, step.pace).await {
            Ok(resp) => match meets(&resp, &step.expect) {
                Ok(()) => (String::new(), true),
                Err(why) => (format!("{} ({why})", resp.summary()), false),
            },
            Err(e) => (format!("no response: {e}"), false),
        };
        if !ok {
            if first_probe.is_none() {
                first_probe = Some(step.probe.clone());
            }
            failures.push((step.label.clone(), step.expect.to_string(), observed));
        }
    }
    if failures.is_empty() {
        return Ok(());
    }
    let (label, expected, observed) = &failures[0];
    let mut observed = format!("{label}: {observed}");
    if failures.len() > 1 {
        let others: Vec<&str> = failures[1..].iter().map(|f| f.0.as_str()).collect();
        observed.push_str(&format!("\nalso failed: {}", others.join("; ")));
    }
    Err(Outcome::fail(
        format!("{label}: {expected}"),
        observed,
        first_probe.map(|p| p.curl()).unwrap_or_default(),
    ))
}

/// A random 32-hex session id no server has issued.
pub fn random_session_id() -> String {
    use rand::Rng;
    let mut b = [0u8; 16];
    rand::rng().fill(&mut b);
    hex::encode(b)
}

/// A key-less probe of each guarded endpoint: GET /mcp/sse and POST /mcp/messages (to an
/// unknown session, with a JSON ping).
pub fn guarded_endpoints(ctx: &Ctx) -> Vec<(&'static str, Probe)> {
    let sid = random_session_id();
    vec![
        (
            "GET /mcp/sse",
            Probe::new("GET", ctx.url("/mcp/sse")).stream(),
        ),
        (
            "POST /mcp/messages",
            Probe::new("POST", ctx.url(&format!("/mcp/messages?session_id={sid}")))
                .json(r#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#),
        ),
    ]
}

/// The primary key, or a skip.
pub fn need_key(ctx: &Ctx, slot: usize) -> Result<&crate::key::ApiKey, Outcome> {
    ctx.key(slot).ok_or_else(|| {
        Outcome::skip(if slot == 0 {
            "no key given".to_string()
        } else {
            "needs a second key (--key-file with two lines, or two entries in MCP_CONFORMANCE_KEYS)"
                .to_string()
        })
    })
}
