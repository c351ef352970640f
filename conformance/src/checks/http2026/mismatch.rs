//! HTTP-2026-4: `Mcp-Method`, `Mcp-Name` and `MCP-Protocol-Version` must be present and
//! equal what the body says; otherwise 400 with JSON-RPC -32020 and the request's id
//! (docs/contract.md HTTP-2026-4).

use super::common::{Case, error_of, run_cases};
use crate::client::Ctx;
use crate::client::stateless::{Mirror, search_call};
use crate::engine::table::check_table;
use crate::engine::{Check, CheckResult};

pub fn checks() -> Vec<Check> {
    check_table! {
        "HTTP-2026-4", Strict, mismatch, needs(stateless),
            "tools/call whose Mcp-Method (tools/list, or none), Mcp-Name (another tool, or none) or MCP-Protocol-Version (2025-11-25) differs from the body -> 400 with JSON-RPC -32020 and the request's id";
    }
}

async fn mismatch(ctx: &Ctx) -> CheckResult {
    let body = search_call(8, "credit card");
    let honest = Mirror::of(&body);
    let variants: [(&str, Mirror); 5] = [
        (
            "Mcp-Method: tools/list",
            Mirror {
                method: Some("tools/list".into()),
                ..honest.clone()
            },
        ),
        (
            "no Mcp-Method",
            Mirror {
                method: None,
                ..honest.clone()
            },
        ),
        (
            "Mcp-Name: get_complaint_document",
            Mirror {
                name: Some("get_complaint_document".into()),
                ..honest.clone()
            },
        ),
        (
            "no Mcp-Name",
            Mirror {
                name: None,
                ..honest.clone()
            },
        ),
        (
            "MCP-Protocol-Version: 2025-11-25 (the _meta says 2026-07-28)",
            Mirror {
                version: Some("2025-11-25".into()),
                ..honest.clone()
            },
        ),
    ];
    let text = body.to_string();
    let cases = variants
        .into_iter()
        .map(|(what, mirror)| {
            Case::new(
                format!("POST /mcp tools/call with {what}"),
                ctx.stateless_probe(Some(0), &text, &mirror),
                "400 with the JSON-RPC error -32020 (header mismatch, id 8)",
                |r| error_of(r, 400, -32020, 8).map(drop),
            )
        })
        .collect();
    run_cases(ctx, cases).await
}
