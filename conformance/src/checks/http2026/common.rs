//! What the HTTP-2026 checks (and the COMPAT ones) share: sending a stateless probe, how an answer differs from
//! a JSON-RPC result or a given JSON-RPC error (status, code, the request's id), and a
//! driver for a list of cases that fails with the first mismatch and names the others.

use crate::checks::prereq::need_stateless;
use crate::client::streamable::{SESSION_HEADER, messages, response_with_id};
use crate::client::{Ctx, Pace, Probe};
use crate::engine::{CheckResult, Outcome, send_any};
use crate::wire::response::Resp;
use serde_json::{Value, json};

/// How a response must look; `Err` says how it differs.
pub type Judge = Box<dyn Fn(&Resp) -> Result<(), String> + Send + Sync>;

/// One probe of a check with what its response must be.
pub struct Case {
    pub label: String,
    pub probe: Probe,
    pub expected: String,
    pub judge: Judge,
}

impl Case {
    pub fn new(
        label: impl Into<String>,
        probe: Probe,
        expected: impl Into<String>,
        judge: impl Fn(&Resp) -> Result<(), String> + Send + Sync + 'static,
    ) -> Self {
        Self {
            label: label.into(),
            probe,
            expected: expected.into(),
            judge: Box::new(judge),
        }
    }
}

/// Sends every case (paced, key 1) after the gate; fails with the first mismatch.
pub async fn run_cases(ctx: &Ctx, cases: Vec<Case>) -> CheckResult {
    need_stateless(ctx).await?;
    send_cases(ctx, cases).await
}

/// Sends every case (paced, key 1), no gate; fails with the first mismatch and names the
/// others.
pub async fn send_cases(ctx: &Ctx, cases: Vec<Case>) -> CheckResult {
    let mut failures: Vec<(&Case, String)> = Vec::new();
    for case in &cases {
        let observed = match send_any(ctx, &case.probe, Pace::Key(0)).await {
            Ok(resp) => match (case.judge)(&resp) {
                Ok(()) => continue,
                Err(why) => format!("{} ({why})", resp.summary()),
            },
            Err(e) => format!("no response: {e}"),
        };
        failures.push((case, observed));
    }
    let Some((first, observed)) = failures.first() else {
        return Ok(());
    };
    let mut observed = format!("{}: {observed}", first.label);
    if failures.len() > 1 {
        let others: Vec<&str> = failures[1..].iter().map(|f| f.0.label.as_str()).collect();
        observed.push_str(&format!("\nalso failed: {}", others.join("; ")));
    }
    Err(Outcome::fail(
        format!("{}: {}", first.label, first.expected),
        observed,
        first.probe.curl(),
    ))
}

/// The JSON-RPC response with `id`: status 200, JSON or SSE, an object `result`.
pub fn result_of(resp: &Resp, id: u64) -> Result<Value, String> {
    if resp.status != 200 {
        return Err(format!("status {}", resp.status));
    }
    let msg = response_with_id(resp, id).map_err(|e| e.to_string())?;
    match msg.get("result") {
        Some(r) if r.is_object() => Ok(r.clone()),
        _ => Err(format!("no result object: {}", short(&msg))),
    }
}

/// The JSON-RPC error with `id` and `code`, answered with `status`; returns the error.
pub fn error_of(resp: &Resp, status: u16, code: i64, id: u64) -> Result<Value, String> {
    if resp.status != status {
        return Err(format!("status {}", resp.status));
    }
    let msgs = messages(resp).map_err(|e| e.to_string())?;
    let msg = msgs
        .into_iter()
        .find(|m| m.get("jsonrpc").is_some() && m.get("error").is_some())
        .ok_or("no JSON-RPC error in the body")?;
    if msg.get("id") != Some(&json!(id)) {
        return Err(format!("the error's id is not {id}: {}", short(&msg)));
    }
    let error = msg.get("error").cloned().unwrap_or_default();
    if error.get("code") != Some(&json!(code)) {
        return Err(format!("error code is not {code}: {}", short(&msg)));
    }
    Ok(error)
}

/// `Err` when the response carries `Mcp-Session-Id` (HTTP-2026-7: there is no session).
pub fn no_session_header(resp: &Resp) -> Result<(), String> {
    match resp.header(SESSION_HEADER) {
        Some(_) => Err("the response carries Mcp-Session-Id".into()),
        None => Ok(()),
    }
}

/// A message cut to a readable length.
pub fn short(v: &Value) -> String {
    let mut t = v.to_string();
    if t.len() > 400 {
        let mut cut = 400;
        while !t.is_char_boundary(cut) {
            cut -= 1;
        }
        t.truncate(cut);
        t.push('…');
    }
    t
}
