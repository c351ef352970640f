//! HTTP-2026-5: a stateless request naming a version the server does not serve -> 400
//! with JSON-RPC -32022 and `data: {requested, supported}`, whether the version is in the
//! header only or in `_meta` too (docs/contract.md HTTP-2026-5).

use super::common::{Case, error_of, run_cases, short};
use crate::client::Ctx;
use crate::client::stateless::{META_VERSION, Mirror, STATELESS_VERSION, stateless_request};
use crate::engine::table::check_table;
use crate::engine::{Check, CheckResult};
use serde_json::{Value, json};

/// A version no server serves.
const FUTURE: &str = "2099-01-01";

pub fn checks() -> Vec<Check> {
    check_table! {
        "HTTP-2026-5", Strict, unsupported, needs(stateless),
            "tools/list with MCP-Protocol-Version 2099-01-01 (in _meta too, or in the header only) -> 400 with JSON-RPC -32022, data.requested 2099-01-01, data.supported listing 2026-07-28";
    }
}

async fn unsupported(ctx: &Ctx) -> CheckResult {
    let mut both = stateless_request(9, "tools/list", json!({}));
    both["params"]["_meta"][META_VERSION] = json!(FUTURE);
    let header_only = stateless_request(10, "tools/list", json!({}));
    let cases = [
        ("in the header and _meta", both, 9),
        ("in the header only", header_only, 10),
    ]
    .into_iter()
    .map(|(what, body, id)| {
        let mirror = Mirror {
            version: Some(FUTURE.into()),
            ..Mirror::of(&body)
        };
        Case::new(
            format!("POST /mcp tools/list with {FUTURE} {what}"),
            ctx.stateless_probe(Some(0), &body.to_string(), &mirror),
            format!(
                "400 with the JSON-RPC error -32022 (id {id}), data.requested \"{FUTURE}\", data.supported listing {STATELESS_VERSION}"
            ),
            move |r| {
                let error = error_of(r, 400, -32022, id)?;
                let supported = error
                    .pointer("/data/supported")
                    .and_then(Value::as_array)
                    .is_some_and(|s| s.contains(&json!(STATELESS_VERSION)));
                let requested = error.pointer("/data/requested") == Some(&json!(FUTURE));
                if supported && requested {
                    Ok(())
                } else {
                    Err(format!("data: {}", short(error.get("data").unwrap_or(&Value::Null))))
                }
            },
        )
    })
    .collect();
    run_cases(ctx, cases).await
}
