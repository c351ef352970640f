//! HTTP-2026-9: stateless list results carry `ttlMs` (an integer >= 0) and `cacheScope`
//! (`public` or `private`); session-based ones keep the older shape without them
//! (docs/contract.md HTTP-2026-9).

use super::common::{Case, result_of, run_cases, short};
use crate::checks::prereq::setup;
use crate::client::Ctx;
use crate::client::stateless::stateless_request;
use crate::engine::table::check_table;
use crate::engine::{Check, CheckResult, Outcome};
use serde_json::{Value, json};

pub fn checks() -> Vec<Check> {
    check_table! {
        "HTTP-2026-9", Strict, cache_hints, needs(stateless),
            "tools/list (2026-07-28) -> a result with tools, ttlMs an integer >= 0 and cacheScope public or private; a session-based tools/list has neither";
    }
}

async fn cache_hints(ctx: &Ctx) -> CheckResult {
    let body = stateless_request(30, "tools/list", json!({}));
    run_cases(
        ctx,
        vec![Case::new(
            "POST /mcp tools/list (2026-07-28)",
            ctx.stateless_post(&body),
            "200, result.tools non-empty, result.ttlMs an integer >= 0, result.cacheScope \"public\" or \"private\"",
            |r| {
                let result = result_of(r, 30)?;
                let tools = result
                    .get("tools")
                    .and_then(Value::as_array)
                    .is_some_and(|t| !t.is_empty());
                let ttl = result.get("ttlMs").and_then(Value::as_u64).is_some();
                let scope = matches!(
                    result.get("cacheScope").and_then(Value::as_str),
                    Some("public" | "private")
                );
                if tools && ttl && scope {
                    Ok(())
                } else {
                    Err(short(&result))
                }
            },
        )],
    )
    .await?;
    // The session-based shape is unchanged.
    let mut s = ctx
        .open_http_mcp(0)
        .await
        .map_err(setup("opening a session-based /mcp session"))?;
    let listed = s.request(ctx, "tools/list", json!({})).await;
    let _ = s.close(ctx).await;
    let (msg, _, probe) = listed.map_err(setup("a session-based tools/list"))?;
    let result = msg.get("result").cloned().unwrap_or_default();
    if result.get("ttlMs").is_some() || result.get("cacheScope").is_some() {
        return Err(Outcome::fail(
            "a session-based tools/list result without ttlMs and cacheScope (the older shape)",
            short(&result),
            probe.curl(),
        ));
    }
    Ok(())
}
