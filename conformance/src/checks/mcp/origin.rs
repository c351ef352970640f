//! MCP-ORIGIN-1: the MCP spec's "servers MUST validate the Origin header": a valid key with
//! a foreign `Origin` gets 403 (any body); a session it opened anyway is deleted.

use crate::checks::http::common::no_response;
use crate::client::streamable::{SESSION_HEADER, SESSION_VERSION, initialize_body};
use crate::client::{Ctx, HeaderSpec, Pace};
use crate::engine::table::check_table;
use crate::engine::{Check, CheckResult, Expect, Outcome, meets};

pub fn checks() -> Vec<Check> {
    check_table! {
        "MCP-ORIGIN-1", Mcp, foreign, needs(mcp),
            "POST <mcp-path> initialize with the key and Origin: https://evil.example -> 403 (any body)";
    }
}

async fn foreign(ctx: &Ctx) -> CheckResult {
    let probe = ctx
        .mcp_post(Some(0), &initialize_body(SESSION_VERSION))
        .header(HeaderSpec::plain("Origin", "https://evil.example"));
    let expect = Expect::StatusIn(&[403]);
    let resp = ctx
        .send(&probe, Pace::Key(0))
        .await
        .map_err(no_response(&expect.to_string(), &probe))?;
    if let Some(id) = resp.header(SESSION_HEADER) {
        let _ = ctx.delete_http_session(0, &id).await; // it opened a session after all
    }
    meets(&resp, &expect).map_err(|why| {
        Outcome::fail(
            "a foreign Origin refused with 403 (DNS-rebinding protection)",
            format!("{} ({why})", resp.summary()),
            probe.curl(),
        )
    })
}
