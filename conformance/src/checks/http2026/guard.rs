//! HTTP-2026-11: the guard applies unchanged and first to stateless requests
//! (docs/contract.md HTTP-2026-11): no key or a wrong key -> the exact 401 (AUTH-3), a
//! foreign `Origin` -> the exact 403 (NET-2), and one per-key budget shared with the other
//! transports (RATE-1, RATE-2).

use crate::checks::bodies::FORBIDDEN_BODY;
use crate::checks::http::{no_or_wrong_key_steps, shared_legs};
use crate::checks::prereq::{need_key, need_stateless};
use crate::client::stateless::stateless_request;
use crate::client::{Ctx, Era, HeaderSpec, Pace, cheap_probe, wrong_key};
use crate::engine::table::check_table;
use crate::engine::{Check, CheckResult, Expect, Outcome, Step, expect_steps};
use serde_json::json;

pub fn checks() -> Vec<Check> {
    check_table! {
        "HTTP-2026-11.auth", Strict, auth, needs(stateless),
            "server/discover (2026-07-28) with no key or a wrong key -> exact 401";
        "HTTP-2026-11.origin", Strict, origin, needs(stateless),
            "server/discover (2026-07-28) with a valid key and Origin: https://evil.example -> exact 403 forbidden";
        "HTTP-2026-11.shared-limit", Strict, shared_limit, needs(limits, stateless),
            "one per-key budget: with the key's burst spent on /mcp/messages, stateless POST /mcp gets the exact 429 (the other way round is HTTP-6.shared-limit's, for /mcp)";
    }
}

async fn auth(ctx: &Ctx) -> CheckResult {
    need_stateless(ctx).await?;
    let key = need_key(ctx, 0)?;
    let wrong = wrong_key(key.expose().len());
    expect_steps(ctx, no_or_wrong_key_steps(ctx, Era::Stateless, &wrong)).await
}

async fn origin(ctx: &Ctx) -> CheckResult {
    need_stateless(ctx).await?;
    let probe = ctx
        .stateless_post(&stateless_request(51, "server/discover", json!({})))
        .header(HeaderSpec::plain("Origin", "https://evil.example"));
    expect_steps(
        ctx,
        vec![Step::new(
            "POST /mcp server/discover with Origin: https://evil.example",
            probe,
            Pace::Key(0),
            Expect::Exact(403, FORBIDDEN_BODY),
        )],
    )
    .await
}

async fn shared_limit(ctx: &Ctx) -> CheckResult {
    need_stateless(ctx).await?;
    need_key(ctx, 0)?;
    let l = ctx
        .limits()
        .await
        .map_err(|e| Outcome::skip(format!("the per-key limit can't be measured: {e}")))?
        .clone();
    let cheap = cheap_probe(ctx, 0).ok_or_else(|| Outcome::skip("no key"))?;
    let discover = ctx.stateless_post(&stateless_request(52, "server/discover", json!({})));
    let outcome = shared_legs(ctx, &l, &cheap, &discover, "POST /mcp (2026-07-28)", false).await;
    ctx.wait_full(0).await;
    outcome
}
