//! HTTP-4: `GET /mcp` opens the session's event stream with the SSE-1 head, and
//! `DELETE /mcp` ends the session (its id then gets the exact 404) (docs/contract.md
//! HTTP-4).

use super::common::{PING, no_response, session};
use crate::checks::bodies::NOT_FOUND_BODY;
use crate::checks::sse::stream_head_problems;
use crate::client::streamable::{VERSION_HEADER, session_header};
use crate::client::{Ctx, HeaderSpec, Pace, Probe};
use crate::engine::table::check_table;
use crate::engine::{Check, CheckResult, Expect, Outcome, Step, expect_steps};

pub fn checks() -> Vec<Check> {
    check_table! {
        "HTTP-4.get-stream", Strict, get_stream, needs(offer),
            "GET /mcp with the session and Accept: text/event-stream -> 200 with the SSE-1 head (text/event-stream, Cache-Control: no-cache, no-transform, X-Accel-Buffering: no, no Content-Length/-Encoding)";
        "HTTP-4.delete", Strict, delete, needs(offer),
            "DELETE /mcp with the session -> 2xx; afterwards the session id gets the exact 404";
    }
}

async fn get_stream(ctx: &Ctx) -> CheckResult {
    let s = session(ctx, 0).await?;
    let mut probe = Probe::new("GET", ctx.url("/mcp"))
        .stream()
        .in_http_session();
    if let Some(h) = ctx.auth(0) {
        probe = probe.header(h);
    }
    let probe = probe
        .header(HeaderSpec::plain("Accept", "text/event-stream"))
        .header(HeaderSpec::plain("Accept-Encoding", "gzip, deflate, br"))
        .header(session_header(&s.id))
        .header(HeaderSpec::plain(VERSION_HEADER, &s.version));
    let expected = "200, text/event-stream, Cache-Control: no-cache, no-transform, X-Accel-Buffering: no, no Content-Length, no Content-Encoding";
    let opened = ctx.open_stream(&probe, Pace::Key(0), true).await;
    let outcome = match opened {
        Err(e) => Err(Outcome::fail(
            expected,
            format!("no response: {e}"),
            probe.curl(),
        )),
        Ok(Err(resp)) => Err(Outcome::fail(expected, resp.summary(), probe.curl())),
        Ok(Ok(conn)) => {
            let problems = stream_head_problems(&conn.head);
            drop(conn);
            if problems.is_empty() {
                Ok(())
            } else {
                Err(Outcome::fail(expected, problems.join("; "), probe.curl()))
            }
        }
    };
    let _ = s.close(ctx).await;
    outcome
}

async fn delete(ctx: &Ctx) -> CheckResult {
    let s = session(ctx, 0).await?;
    let id = s.id.clone();
    let del = ctx.http_delete_probe(0, &id);
    let after = s.probe(ctx, PING);
    let resp = s
        .close(ctx)
        .await
        .map_err(no_response("DELETE /mcp -> 2xx", &del))?;
    if !(200..300).contains(&resp.status) {
        return Err(Outcome::fail(
            "DELETE /mcp with the session -> 2xx",
            resp.summary(),
            del.curl(),
        ));
    }
    expect_steps(
        ctx,
        vec![Step::new(
            "POST /mcp ping with the deleted session's id",
            after,
            Pace::Key(0),
            Expect::Exact(404, NOT_FOUND_BODY),
        )],
    )
    .await
}
