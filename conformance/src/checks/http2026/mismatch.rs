//! HTTP-2026-4: `Mcp-Method` and `Mcp-Name` must be present and equal what the body says,
//! and a 2026-07-28 `MCP-Protocol-Version` must equal the `_meta` version; otherwise 400
//! with JSON-RPC -32020 and the request's id (docs/contract.md HTTP-2026-4). An older or
//! absent header with a 2026-07-28 `_meta` is not probed here: outside strict mode it is
//! served (COMPAT-1, the claude group's).

use super::common::{Case, error_of, run_cases};
use crate::client::Ctx;
use crate::client::stateless::{META_VERSION, Mirror, STATELESS_VERSION, search_call};
use crate::engine::table::check_table;
use crate::engine::{Check, CheckResult};
use serde_json::json;

pub fn checks() -> Vec<Check> {
    check_table! {
        "HTTP-2026-4", Strict, mismatch, needs(stateless),
            "tools/call whose Mcp-Method (tools/list, or none) or Mcp-Name (another tool, or none) differs from the body, or with MCP-Protocol-Version 2026-07-28 while its _meta names 2025-11-25 -> 400 with JSON-RPC -32020 and the request's id";
    }
}

async fn mismatch(ctx: &Ctx) -> CheckResult {
    let body = search_call(8, "credit card");
    let honest = Mirror::of(&body);
    let mut old_meta = search_call(8, "credit card");
    old_meta["params"]["_meta"][META_VERSION] = json!("2025-11-25");
    let variants = [
        (
            "Mcp-Method: tools/list",
            &body,
            Mirror {
                method: Some("tools/list".into()),
                ..honest.clone()
            },
        ),
        (
            "no Mcp-Method",
            &body,
            Mirror {
                method: None,
                ..honest.clone()
            },
        ),
        (
            "Mcp-Name: get_complaint_document",
            &body,
            Mirror {
                name: Some("get_complaint_document".into()),
                ..honest.clone()
            },
        ),
        (
            "no Mcp-Name",
            &body,
            Mirror {
                name: None,
                ..honest.clone()
            },
        ),
        (
            "MCP-Protocol-Version: 2026-07-28 (the _meta says 2025-11-25)",
            &old_meta,
            Mirror {
                version: Some(STATELESS_VERSION.into()),
                ..honest.clone()
            },
        ),
    ];
    let cases = variants
        .into_iter()
        .map(|(what, body, mirror)| {
            Case::new(
                format!("POST /mcp tools/call with {what}"),
                ctx.stateless_probe(Some(0), &body.to_string(), &mirror),
                "400 with the JSON-RPC error -32020 (header mismatch, id 8)",
                |r| error_of(r, 400, -32020, 8).map(drop),
            )
        })
        .collect();
    run_cases(ctx, cases).await
}
