//! HTTP-2026-3: every request carries `_meta` with the protocol version and the client's
//! capabilities; without them 400 with JSON-RPC -32602; a valid request is answered with
//! its result (docs/contract.md HTTP-2026-3).

use super::common::{Case, error_of, result_of, run_cases, short};
use crate::client::Ctx;
use crate::client::stateless::{META_CAPABILITIES, Mirror, search_call, stateless_request};
use crate::engine::table::check_table;
use crate::engine::{Check, CheckResult};
use serde_json::{Value, json};

pub fn checks() -> Vec<Check> {
    check_table! {
        "HTTP-2026-3.meta", Strict, meta, needs(stateless),
            "tools/list (2026-07-28 headers) without params._meta, or with _meta lacking clientCapabilities -> 400 with JSON-RPC -32602 and the request's id";
        "HTTP-2026-3.request", Strict, request, needs(stateless),
            "tools/call search_complaints {search_term, size: 1} with its headers and _meta -> 200, the result with non-empty content and no isError";
    }
}

async fn meta(ctx: &Ctx) -> CheckResult {
    let bare = json!({"jsonrpc":"2.0","id":5,"method":"tools/list","params":{}});
    let mut partial = stateless_request(6, "tools/list", json!({}));
    if let Some(m) = partial
        .pointer_mut("/params/_meta")
        .and_then(Value::as_object_mut)
    {
        m.remove(META_CAPABILITIES);
    }
    let cases = [
        ("without _meta", bare, 5),
        ("_meta without clientCapabilities", partial, 6),
    ]
    .into_iter()
    .map(|(what, body, id)| {
        Case::new(
            format!("POST /mcp tools/list {what}"),
            ctx.stateless_probe(Some(0), &body.to_string(), &Mirror::of(&body)),
            format!("400 with the JSON-RPC error -32602 (id {id})"),
            move |r| error_of(r, 400, -32602, id).map(drop),
        )
    })
    .collect();
    run_cases(ctx, cases).await
}

async fn request(ctx: &Ctx) -> CheckResult {
    let body = search_call(7, "credit card");
    run_cases(
        ctx,
        vec![Case::new(
            "POST /mcp tools/call search_complaints",
            ctx.stateless_post(&body),
            "200 with the tools/call result (id 7): content non-empty, isError absent or false",
            |r| {
                let result = result_of(r, 7)?;
                let content = result
                    .get("content")
                    .and_then(Value::as_array)
                    .is_some_and(|c| !c.is_empty());
                if content && result.get("isError") != Some(&json!(true)) {
                    Ok(())
                } else {
                    Err(short(&result))
                }
            },
        )],
    )
    .await
}
