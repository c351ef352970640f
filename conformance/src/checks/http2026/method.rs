//! HTTP-2026-6: a method the server does not serve, `ping` included (the revision has
//! none) -> 404 with JSON-RPC -32601, and no session minted (docs/contract.md
//! HTTP-2026-6). `initialize` with a 2026-07-28 header is not probed here: outside strict
//! mode it is answered session-based (COMPAT-3, the claude group's).

use super::common::{Case, error_of, no_session_header, run_cases};
use crate::client::Ctx;
use crate::client::stateless::stateless_request;
use crate::engine::table::check_table;
use crate::engine::{Check, CheckResult};
use serde_json::json;

pub fn checks() -> Vec<Check> {
    check_table! {
        "HTTP-2026-6", Strict, unknown_method, needs(stateless),
            "no/such/method and ping with 2026-07-28 headers and _meta -> 404 with JSON-RPC -32601 and the request's id, no Mcp-Session-Id";
    }
}

async fn unknown_method(ctx: &Ctx) -> CheckResult {
    let cases = [("no/such/method", json!({}), 11), ("ping", json!({}), 12)]
        .into_iter()
        .map(|(method, params, id)| {
            Case::new(
                format!("POST /mcp {method} (2026-07-28)"),
                ctx.stateless_post(&stateless_request(id, method, params)),
                format!("404 with the JSON-RPC error -32601 (id {id}), no Mcp-Session-Id"),
                move |r| {
                    error_of(r, 404, -32601, id)?;
                    no_session_header(r)
                },
            )
        })
        .collect();
    run_cases(ctx, cases).await
}
