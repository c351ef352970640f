//! NET-2 (docs/contract.md): Origin checking (DNS-rebinding protection): a foreign `Origin` gets the exact 403,
//! an allowed one passes. Sends only a few requests with a valid key.

use super::bodies::FORBIDDEN_BODY;
use super::prereq::{guarded_endpoints, need_key};
use crate::client::{Ctx, HeaderSpec, Pace};
use crate::engine::table::check_table;
use crate::engine::{Check, CheckResult, Expect, Outcome, Step, expect_steps};

pub fn checks() -> Vec<Check> {
    check_table! {
        "NET-2.foreign", Strict, foreign,
            "a valid key with Origin: https://evil.example -> exact 403 forbidden on both endpoints";
        "NET-2.allowed", Strict, allowed,
            "a valid key with an allowed Origin (--allowed-origin) -> accepted on both endpoints";
    }
}

async fn foreign(ctx: &Ctx) -> CheckResult {
    let key = need_key(ctx, 0)?;
    let steps = guarded_endpoints(ctx)
        .into_iter()
        .map(|(label, p)| {
            Step::new(
                label,
                p.header(HeaderSpec::key(ctx.target.style, key))
                    .header(HeaderSpec::plain("Origin", "https://evil.example")),
                Pace::Key(0),
                Expect::Exact(403, FORBIDDEN_BODY),
            )
        })
        .collect();
    expect_steps(ctx, steps).await
}

async fn allowed(ctx: &Ctx) -> CheckResult {
    let key = need_key(ctx, 0)?;
    let Some(origin) = ctx.target.allowed_origin.clone() else {
        return Err(Outcome::skip(
            "no allowed origin known: pass --allowed-origin ORIGIN (one of CFPB_MCP_ALLOWED_ORIGINS)",
        ));
    };
    let steps = guarded_endpoints(ctx)
        .into_iter()
        .map(|(label, p)| {
            let expect = if p.stream {
                Expect::StatusIn(&[200])
            } else {
                Expect::Accepted
            };
            Step::new(
                label,
                p.header(HeaderSpec::key(ctx.target.style, key))
                    .header(HeaderSpec::plain("Origin", &origin)),
                Pace::Key(0),
                expect,
            )
        })
        .collect();
    expect_steps(ctx, steps).await
}
