//! MCP-RATE-1: under a burst, a 429 that says when to come back (`Retry-After`). The MCP
//! spec requires no rate limit, so without `--expect-burst` a target that never answers
//! 429 within the bound is a skip with a note, not a failure; with `--expect-burst N` (the
//! operator says a limit is configured) it fails. Any 429 seen without `Retry-After` fails.
//! Bounded: at most `--max-burst-probe` requests (with `--expect-burst N`, at most
//! 2N + 10), each under `--timeout`. Leaves the key's bucket empty: it runs late.

use crate::checks::http::common::PING;
use crate::checks::prereq::need_key;
use crate::client::{Ctx, Pace, drain, retry_after};
use crate::engine::table::check_table;
use crate::engine::{Check, CheckResult, Outcome};
use std::time::Duration;

pub fn checks() -> Vec<Check> {
    check_table! {
        "MCP-RATE-1", Mcp, burst, needs(mcp),
            "a burst of POST <mcp-path> pings with the key, no session (bounded) -> a 429 with Retry-After; no 429 at all fails only with --expect-burst";
    }
}

async fn burst(ctx: &Ctx) -> CheckResult {
    need_key(ctx, 0)?;
    let expected = ctx.target.expect.burst;
    let max = ctx.target.settings.max_burst_probe;
    let max = expected.map_or(max, |n| max.min(n.saturating_mul(2).saturating_add(10)));
    let probe = ctx.mcp_post(Some(0), PING);
    ctx.wait_full(0).await;
    let (accepted, got) = drain(ctx, &probe, max)
        .await
        .map_err(|e| Outcome::skip(format!("the burst could not be sent: {e}")))?;
    let Some(r429) = got else {
        let observed = format!("no 429 after {accepted} requests in a row");
        return Err(match expected {
            Some(n) => Outcome::fail(
                format!("a 429 within {max} requests (--expect-burst {n})"),
                observed,
                format!("for i in $(seq {max}); do {}; done", probe.curl()),
            ),
            None => Outcome::skip(format!(
                "{observed}: the target shows no per-credential rate limit (the MCP spec requires none; pass --expect-burst N to require one)"
            )),
        });
    };
    // the bucket is empty now: later checks wait for it
    let wait = retry_after(&r429).unwrap_or(Duration::from_secs(1));
    ctx.drained(Pace::Key(0), wait.min(Duration::from_secs(30)));
    let value = r429.header("retry-after");
    let http_date = value.as_deref().is_some_and(|v| v.trim().ends_with(" GMT"));
    match value {
        Some(_) if retry_after(&r429).is_some() || http_date => Ok(()),
        got => Err(Outcome::fail(
            "the 429 carries Retry-After (delta-seconds or an HTTP date)",
            format!(
                "429 after {accepted} requests, Retry-After: {}",
                got.unwrap_or_else(|| "(none)".into())
            ),
            probe.curl(),
        )),
    }
}
