//! AUTH-7.run (docs/contract.md AUTH-7, and the as-built "No echo"): no response, head or
//! body, ever echoes a key. Runs last: sends the keys (every encoding) in a `tools/call`
//! argument and as a tool name, then judges the run-wide response scan, which saw every
//! response head and body and every SSE event of the whole run. Reports where a key was
//! found and in which encoding, never the text around it.

use crate::client::{Ctx, random_session_id};
use crate::engine::table::check_table;
use crate::engine::{Check, CheckResult, Outcome};

pub fn checks() -> Vec<Check> {
    check_table! {
        "AUTH-7.run", Seed, whole_run,
            "the keys (raw, percent-encoded, base64, hex) in a tools/call argument and as a tool name; then no response head or body seen during the whole run (every check's, SSE events included) contains a key in any encoding";
    }
}

async fn whole_run(ctx: &Ctx) -> CheckResult {
    if ctx.key(0).is_none() {
        return Err(Outcome::skip("no key given"));
    }
    // The key-bearing tool calls need a session; the scan of the run so far doesn't.
    if ctx.session_opens().await.is_ok()
        && let Ok(mut s) = ctx.open_mcp(0).await
    {
        let marker = format!("conformance-{}", &random_session_id()[..12]);
        s.tool_calls_with_keys(ctx, &marker).await;
    }
    judge_scan(ctx)
}

/// Judges the run-wide response scan so far: a failure naming where a key was found and
/// in which encoding (never the text around it); a skip when no response was seen.
pub(super) fn judge_scan(ctx: &Ctx) -> CheckResult {
    let f = ctx.response_scan();
    let Some(first) = f.leaks.first() else {
        if f.scanned == 0 {
            return Err(Outcome::skip("no response was seen"));
        }
        return Ok(());
    };
    let places: Vec<String> = f
        .leaks
        .iter()
        .map(|l| format!("{} as {} in {}", l.var, l.encoding, l.place))
        .collect();
    Err(Outcome::fail(
        format!(
            "no key in any of the {} responses and stream events of the run",
            f.scanned
        ),
        format!("{} occurrence(s): ${}", f.found, places.join("; $")),
        first.reproduce.clone(),
    ))
}
