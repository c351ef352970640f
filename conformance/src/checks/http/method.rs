//! HTTP-7: any other method on `/mcp` -> 405 with `Allow: GET, POST, DELETE` and a JSON
//! error body (docs/contract.md HTTP-7).

use super::common::{PING, no_response};
use crate::checks::prereq::need_streamable;
use crate::client::{Ctx, Pace, Probe};
use crate::engine::table::check_table;
use crate::engine::{Check, CheckResult, Outcome, error_shape, is_json};

pub fn checks() -> Vec<Check> {
    check_table! {
        "HTTP-7", Strict, other_method, needs(offer),
            "PUT /mcp with a valid key -> 405 with Allow: GET, POST, DELETE and a JSON error body";
    }
}

async fn other_method(ctx: &Ctx) -> CheckResult {
    need_streamable(ctx).await?;
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
    if !is_json(&resp) {
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
