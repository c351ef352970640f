//! MCP-AUTH: credentials on an MCP endpoint, by the MCP authorization spec and RFC 9110
//! rather than this contract's exact bodies: no credential or a wrong one -> 401 with a
//! `WWW-Authenticate` challenge (any scheme, any body), on Streamable HTTP (POST, and GET
//! and DELETE, which may also answer 405) and, when the
//! target offers it, on the legacy SSE stream; near misses of the real key refused; and
//! no response of the whole run reflecting a key from a request header, or showing one in
//! a response head (after key-bearing tool calls): a failure; a key the caller sent in
//! the body, returned to that caller (an SDK's `Unknown tool: <name>`): a warning.

use crate::checks::auth::near_miss_steps;
use crate::checks::echo::{BodyEcho, judge_scan};
use crate::checks::prereq::{need_key, setup};
use crate::client::streamable::{SESSION_VERSION, initialize_body};
use crate::client::{
    BODY_MARKER, Ctx, HeaderSpec, Pace, Probe, key_bearing_calls, key_bearing_calls_of,
    pick_string_argument, random_session_id, wrong_key,
};
use crate::engine::table::check_table;
use crate::engine::{Check, CheckResult, Expect, Outcome, Step, expect_steps, send_any};
use serde_json::json;

pub fn refusals() -> Vec<Check> {
    check_table! {
        "MCP-AUTH-1.missing", Mcp, missing,
            "POST <mcp-path> initialize with no credential -> 401 with WWW-Authenticate (any scheme, any body)";
        "MCP-AUTH-1.wrong", Mcp, wrong,
            "a random credential of the key's length, in X-API-Key and as Bearer -> 401 with WWW-Authenticate";
        "MCP-AUTH-1.get", Mcp, get,
            "GET <mcp-path> (Accept: text/event-stream, the standalone stream) with no credential -> 401 with WWW-Authenticate, or 405";
        "MCP-AUTH-1.delete", Mcp, delete,
            "DELETE <mcp-path> with a random Mcp-Session-Id and no credential -> 401 with WWW-Authenticate, or 405";
        "MCP-AUTH-1.sse", Mcp, sse,
            "when GET <sse-path> with the key opens an event stream: without a credential -> 401 with WWW-Authenticate (skips on a Streamable-HTTP-only target)";
        "MCP-AUTH-2", Mcp, near_miss, needs(mcp),
            "near misses of the real key (prefix, suffix, case flip, inner space, percent-encoded, appended char, one char changed; trailing NUL sent raw) in the configured header -> 401 or 403 (400 too for the NUL)";
    }
}

pub fn echo() -> Vec<Check> {
    check_table! {
        "MCP-AUTH-3", Mcp, no_echo, needs(mcp),
            "the keys (raw, percent-encoded, base64, hex) in a string argument of a tool from the target's tools/list (a required one first) and as a tool name over Streamable HTTP; then no response of the whole run reflects a key from a request header or shows one in a head (fail); a key echoed to the caller that sent it in the body warns";
    }
}

/// `POST <mcp-path>` initialize, with no credential.
fn init_probe(ctx: &Ctx) -> Probe {
    ctx.mcp_post(None, &initialize_body(SESSION_VERSION))
}

async fn missing(ctx: &Ctx) -> CheckResult {
    let step = Step::new(
        "POST initialize without a credential",
        init_probe(ctx),
        Pace::AuthFail,
        Expect::Challenge,
    );
    expect_steps(ctx, vec![step]).await
}

async fn wrong(ctx: &Ctx) -> CheckResult {
    let w = wrong_key(need_key(ctx, 0)?.expose().len());
    let steps = [
        ("a wrong X-API-Key", HeaderSpec::plain("X-API-Key", &w)),
        (
            "a wrong Bearer token",
            HeaderSpec::plain("Authorization", &format!("Bearer {w}")),
        ),
    ]
    .into_iter()
    .map(|(what, h)| {
        Step::new(
            format!("POST initialize with {what}"),
            init_probe(ctx).header(h),
            Pace::AuthFail,
            Expect::Challenge,
        )
    })
    .collect();
    expect_steps(ctx, steps).await
}

/// The other methods of the Streamable HTTP endpoint, unauthenticated: the spec requires
/// authorization on every request, not only on the POSTs an SDK's middleware wraps. A
/// `405` passes: a method not served has nothing to guard.
async fn get(ctx: &Ctx) -> CheckResult {
    let probe = Probe::new("GET", ctx.url(&ctx.target.mcp_path))
        .header(HeaderSpec::plain("Accept", "text/event-stream"))
        .stream();
    let label = format!("GET {} without a credential", ctx.target.mcp_path);
    let step = Step::new(label, probe, Pace::AuthFail, Expect::ChallengeOr405);
    expect_steps(ctx, vec![step]).await
}

async fn delete(ctx: &Ctx) -> CheckResult {
    let probe = Probe::new("DELETE", ctx.url(&ctx.target.mcp_path))
        .header(HeaderSpec::plain("Mcp-Session-Id", &random_session_id()));
    let label = format!("DELETE {} without a credential", ctx.target.mcp_path);
    let step = Step::new(label, probe, Pace::AuthFail, Expect::ChallengeOr405);
    expect_steps(ctx, vec![step]).await
}

async fn sse(ctx: &Ctx) -> CheckResult {
    need_key(ctx, 0)?;
    let path = &ctx.target.sse_path;
    let keyed = ctx.sse_probe(0);
    let head = send_any(ctx, &keyed, Pace::Key(0))
        .await
        .map_err(setup(&format!("GET {path} with the key")))?;
    let streams = head.status == 200
        && head
            .header("content-type")
            .is_some_and(|c| c.trim().starts_with("text/event-stream"));
    if !streams {
        return Err(Outcome::skip(format!(
            "target does not offer the legacy HTTP+SSE transport on {path} (GET with the key answered {}; --sse-path names another path)",
            head.status
        )));
    }
    let keyless = Probe::new("GET", ctx.url(path))
        .header(HeaderSpec::plain("Accept", "text/event-stream"))
        .stream();
    let step = Step::new(
        format!("GET {path} without a credential"),
        keyless,
        Pace::AuthFail,
        Expect::Challenge,
    );
    expect_steps(ctx, vec![step]).await
}

async fn near_miss(ctx: &Ctx) -> CheckResult {
    let key = need_key(ctx, 0)?;
    let endpoints = [("POST initialize".to_string(), init_probe(ctx))];
    let steps = near_miss_steps(
        key,
        &endpoints,
        ctx.target.style,
        Expect::StatusIn(&[401, 403]),
        Expect::StatusIn(&[400, 401, 403]),
    );
    expect_steps(ctx, steps).await
}

async fn no_echo(ctx: &Ctx) -> CheckResult {
    need_key(ctx, 0)?;
    let mut s = ctx
        .open_http_mcp(0)
        .await
        .map_err(setup("opening a Streamable HTTP session"))?;
    let marker = format!("{BODY_MARKER}-{}", &random_session_id()[..12]);
    // the key goes into a string argument of one of the target's own tools
    let listed = s.request(ctx, "tools/list", json!({})).await;
    let calls = match listed.ok().and_then(|(v, _, _)| pick_string_argument(&v)) {
        Some(target) => key_bearing_calls_of(ctx, &marker, &target, &format!("{BODY_MARKER}-")),
        None => key_bearing_calls(ctx, &marker),
    };
    for (method, params) in calls {
        // answers pass through the response scan; they are not judged here
        let _ = s.request(ctx, method, params).await;
    }
    let _ = s.close(ctx).await;
    judge_scan(ctx, BodyEcho::Warns)
}
