//! AUTH-7.run (docs/contract.md AUTH-7, and the as-built "No echo"): no response, head or
//! body, ever echoes a key. Runs last: sends the keys (every encoding) in a `tools/call`
//! argument and as a tool name, then judges the run-wide response scan, which saw every
//! response head and body and every SSE event of the whole run. Reports where a key was
//! found, in which encoding and how (reflected from a request header, or echoed from the
//! caller's own body), never the text around it.

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
    judge_scan(ctx, BodyEcho::Fails)
}

/// How a body echo (a key the request carried in its own body, returned in the answer
/// to that same caller) is judged: a failure under our contract, a warning for any MCP
/// server (every SDK names an unknown tool in its error). A key reflected from a request
/// header, or found in a response head, fails either way.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum BodyEcho {
    Fails,
    Warns,
}

/// A leak's kind of finding (what a baseline line names).
fn kind(l: &crate::client::SeenLeak) -> &'static str {
    match (l.in_head, l.echoed) {
        (true, _) => "key reflected in a response head",
        (false, false) => "key reflected in a response body",
        (false, true) => "key echoed to its sender in a response body",
    }
}

/// Judges the run-wide response scan so far: a failure naming where a key was found, in
/// which encoding and how (reflected from a header, or echoed from the caller's own body;
/// never the text around it), one kind of finding per way; a warning when every finding
/// is a body echo and `body_echo` says so; a skip when no response was seen.
pub(super) fn judge_scan(ctx: &Ctx, body_echo: BodyEcho) -> CheckResult {
    let f = ctx.response_scan();
    if f.leaks.is_empty() {
        if f.scanned == 0 {
            return Err(Outcome::skip("no response was seen"));
        }
        return Ok(());
    }
    let failing: Vec<&crate::client::SeenLeak> = f
        .leaks
        .iter()
        .filter(|l| !l.echoed || body_echo == BodyEcho::Fails)
        .collect();
    let shown: Vec<&crate::client::SeenLeak> = if failing.is_empty() {
        f.leaks.iter().collect()
    } else {
        failing.clone()
    };
    let places: Vec<String> = shown
        .iter()
        .map(|l| format!("{} as {} in {} ({})", l.var, l.encoding, l.place, kind(l)))
        .collect();
    let expected = format!(
        "no key in any of the {} responses and stream events of the run",
        f.scanned
    );
    let observed = format!("{} occurrence(s): ${}", f.found, places.join("; $"));
    let reproduce = shown[0].reproduce.clone();
    if failing.is_empty() {
        return Err(Outcome::warn(
            format!(
                "{expected} (a string the caller sent in the body, returned to that caller, is a warning for any MCP server; a credential from a request header, a failure)"
            ),
            observed,
            reproduce,
        ));
    }
    let kinds: Vec<&str> = failing.iter().map(|l| kind(l)).collect();
    Err(Outcome::fail(expected, observed, reproduce).with_findings(&kinds))
}
