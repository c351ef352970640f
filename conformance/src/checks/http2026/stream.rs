//! HTTP-2026-8: `GET /mcp` and `DELETE /mcp` with a stateless version -> 405 with
//! `Allow: POST` and the JSON error body: no subscription stream, nothing to delete
//! (docs/contract.md HTTP-2026-8).

use super::common::{Case, no_session_header, run_cases};
use crate::client::stateless::STATELESS_VERSION;
use crate::client::streamable::{SESSION_HEADER, VERSION_HEADER};
use crate::client::{Ctx, HeaderSpec, Probe, random_session_id};
use crate::engine::table::check_table;
use crate::engine::{Check, CheckResult, error_shape, is_json};

pub fn checks() -> Vec<Check> {
    check_table! {
        "HTTP-2026-8", Strict, get_delete, needs(stateless),
            "GET /mcp (Accept: text/event-stream) and DELETE /mcp with MCP-Protocol-Version 2026-07-28 -> 405, Allow: POST, JSON error body method_not_allowed";
    }
}

async fn get_delete(ctx: &Ctx) -> CheckResult {
    let cases = ["GET", "DELETE"]
        .into_iter()
        .map(|method| {
            let mut probe = Probe::new(method, ctx.url("/mcp"));
            if let Some(h) = ctx.auth(0) {
                probe = probe.header(h);
            }
            probe = probe
                .header(HeaderSpec::plain(VERSION_HEADER, STATELESS_VERSION))
                .header(HeaderSpec::plain(SESSION_HEADER, &random_session_id()));
            if method == "GET" {
                probe = probe
                    .header(HeaderSpec::plain("Accept", "text/event-stream"))
                    .stream();
            }
            Case::new(
                format!("{method} /mcp, 2026-07-28"),
                probe,
                "405, Allow: POST, application/json {\"error\":{\"type\":\"method_not_allowed\",...}}, no Mcp-Session-Id",
                |r| {
                    let allow = r.header("allow").unwrap_or_default();
                    let mut p = Vec::new();
                    if r.status != 405 {
                        p.push(format!("status {}", r.status));
                    }
                    if !allow.trim().eq_ignore_ascii_case("POST") {
                        p.push(format!("Allow: {}", if allow.is_empty() { "(none)" } else { &allow }));
                    }
                    if !is_json(r) {
                        p.push("content-type is not application/json".into());
                    } else if let Err(e) = error_shape(&r.body, "method_not_allowed") {
                        p.push(e);
                    }
                    if let Err(e) = no_session_header(r) {
                        p.push(e);
                    }
                    if p.is_empty() { Ok(()) } else { Err(p.join("; ")) }
                },
            )
        })
        .collect();
    run_cases(ctx, cases).await
}
