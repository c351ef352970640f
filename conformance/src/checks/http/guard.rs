//! HTTP-6: `/mcp` sits behind the same guard as the legacy endpoints: no key or a
//! wrong key -> the exact 401 (AUTH-3), a foreign `Origin` -> the exact 403 (NET-2)
//! (docs/contract.md HTTP-6).

use super::common::no_response;
use crate::checks::bodies::{AUTH_BODY, FORBIDDEN_BODY};
use crate::checks::prereq::{need_key, need_streamable};
use crate::client::streamable::{SESSION_HEADER, SESSION_VERSION, initialize_body};
use crate::client::{Ctx, HeaderSpec, Pace, Probe, random_session_id};
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
    let wrong: String = {
        use rand::Rng;
        const A: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
        let mut rng = rand::rng();
        (0..key.expose().len().max(8))
            .map(|_| A[rng.random_range(0..A.len())] as char)
            .collect()
    };
    let init = initialize_body(SESSION_VERSION);
    let exact = Expect::Exact(401, AUTH_BODY);
    let steps = vec![
        Step::new(
            "POST /mcp initialize without a key",
            ctx.mcp_post(None, &init),
            Pace::AuthFail,
            exact.clone(),
        ),
        Step::new(
            "POST /mcp initialize with a wrong X-API-Key",
            ctx.mcp_post(None, &init)
                .header(HeaderSpec::plain("X-API-Key", &wrong)),
            Pace::AuthFail,
            exact.clone(),
        ),
        Step::new(
            "GET /mcp without a key",
            Probe::new("GET", ctx.url("/mcp"))
                .header(HeaderSpec::plain("Accept", "text/event-stream"))
                .header(HeaderSpec::plain(SESSION_HEADER, &random_session_id()))
                .stream(),
            Pace::AuthFail,
            exact,
        ),
    ];
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
