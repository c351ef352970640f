//! HTTP-5: a request with an unsupported `MCP-Protocol-Version` -> 400 bad_request
//! (docs/contract.md HTTP-5).

use super::common::{PING, session};
use crate::client::streamable::{VERSION_HEADER, session_header};
use crate::client::{Ctx, HeaderSpec, Pace};
use crate::engine::table::check_table;
use crate::engine::{Check, CheckResult, Expect, Step, expect_steps};

pub fn checks() -> Vec<Check> {
    check_table! {
        "HTTP-5", Strict, bad_version, needs(offer),
            "a request in a session with MCP-Protocol-Version: 1999-01-01 -> 400 bad_request JSON";
    }
}

async fn bad_version(ctx: &Ctx) -> CheckResult {
    let s = session(ctx, 0).await?;
    let probe = ctx
        .mcp_post(Some(0), PING)
        .header(session_header(&s.id))
        .header(HeaderSpec::plain(VERSION_HEADER, "1999-01-01"))
        .in_http_session();
    let r = expect_steps(
        ctx,
        vec![Step::new(
            "POST /mcp ping with MCP-Protocol-Version: 1999-01-01",
            probe,
            Pace::Key(0),
            Expect::Shape(400, "bad_request"),
        )],
    )
    .await;
    let _ = s.close(ctx).await;
    r
}
