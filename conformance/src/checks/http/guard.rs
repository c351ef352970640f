//! HTTP-6: `/mcp` sits behind the same guard as the legacy endpoints: no key or a
//! wrong key -> the exact 401 (AUTH-3), a foreign `Origin` -> the exact 403 (NET-2)
//! (docs/contract.md HTTP-6).

use super::common::no_response;
use crate::checks::bodies::{AUTH_BODY, FORBIDDEN_BODY};
use crate::checks::prereq::{need_key, need_streamable};
use crate::client::streamable::{SESSION_HEADER, SESSION_VERSION, initialize_body};
use crate::client::{Ctx, Era, HeaderSpec, Pace, Probe, random_session_id, wrong_key};
use crate::engine::table::check_table;
use crate::engine::{Check, CheckResult, Expect, Outcome, Step, expect_steps, meets};

pub fn checks() -> Vec<Check> {
    check_table! {
        "HTTP-6.auth", Strict, auth, needs(offer),
            "POST /mcp initialize with no key or a wrong key, GET /mcp with no key -> exact 401";
        "HTTP-6.origin", Strict, origin, needs(offer),
            "POST /mcp initialize with a valid key and Origin: https://evil.example -> exact 403 forbidden";
    }
}

async fn auth(ctx: &Ctx) -> CheckResult {
    need_streamable(ctx).await?;
    let key = need_key(ctx, 0)?;
    let wrong = wrong_key(key.expose().len());
    let exact = Expect::Exact(401, AUTH_BODY);
    let mut steps = no_or_wrong_key_steps(ctx, Era::Session, &wrong);
    steps.push(Step::new(
        "GET /mcp without a key",
        Probe::new("GET", ctx.url("/mcp"))
            .header(HeaderSpec::plain("Accept", "text/event-stream"))
            .header(HeaderSpec::plain(SESSION_HEADER, &random_session_id()))
            .stream(),
        Pace::AuthFail,
        exact,
    ));
    expect_steps(ctx, steps).await
}

async fn origin(ctx: &Ctx) -> CheckResult {
    need_streamable(ctx).await?;
    let probe = ctx
        .mcp_post(Some(0), &initialize_body(SESSION_VERSION))
        .header(HeaderSpec::plain("Origin", "https://evil.example"));
    let expected = format!("403, application/json, body exactly {FORBIDDEN_BODY}");
    let resp = ctx
        .send(&probe, Pace::Key(0))
        .await
        .map_err(no_response(&expected, &probe))?;
    if let Some(id) = resp.header(SESSION_HEADER) {
        let _ = ctx.delete_http_session(0, &id).await; // it opened a session after all
    }
    meets(&resp, &Expect::Exact(403, FORBIDDEN_BODY)).map_err(|why| {
        Outcome::fail(
            expected,
            format!("{} ({why})", resp.summary()),
            probe.curl(),
        )
    })
}

/// The era's first request without a key and with the wrong key `wrong` (in X-API-Key),
/// each expecting the exact 401 (HTTP-6.auth, HTTP-2026-11.auth).
pub fn no_or_wrong_key_steps(ctx: &Ctx, era: Era, wrong: &str) -> Vec<Step> {
    let name = era.first_request_name();
    let exact = Expect::Exact(401, AUTH_BODY);
    vec![
        Step::new(
            format!("{name} without a key"),
            ctx.first_request(era, None),
            Pace::AuthFail,
            exact.clone(),
        ),
        Step::new(
            format!("{name} with a wrong X-API-Key"),
            ctx.first_request(era, None)
                .header(HeaderSpec::plain("X-API-Key", wrong)),
            Pace::AuthFail,
            exact,
        ),
    ]
}
