//! MCP-LOG-1: no key in the target's log, in any encoding, after a run that presented the
//! keys in headers, near misses and tool arguments. Only with a log source (`--log-file`,
//! `--log-command`, or the embedded server's); otherwise a skip. The scan is LOG-2's,
//! graded as MCP-AUTH-3 grades answers: a line holding a key next to `BODY_MARKER` logs
//! what the harness sent in a request body (an SDK logging an unknown tool's name): a
//! warning; a key in any other line (a credential from a header) fails.

use crate::checks::prereq::{need_key, setup};
use crate::client::{BODY_MARKER, Ctx, log_repro};
use crate::engine::table::check_table;
use crate::engine::{Check, CheckResult, Outcome};
use crate::wire::leak::find_key_leaks;

pub fn checks() -> Vec<Check> {
    check_table! {
        "MCP-LOG-1", Mcp, no_key, needs(mcp),
            "with --log-file (or --log-command): no line of the log written during the run contains a key in any encoding";
    }
}

async fn no_key(ctx: &Ctx) -> CheckResult {
    need_key(ctx, 0)?;
    let log = ctx
        .read_log()
        .await
        .map_err(setup("reading the log"))?
        .ok_or_else(|| Outcome::skip("no log source (--log-file or --log-command)"))?;
    if log.trim().is_empty() {
        return Err(Outcome::skip(
            "the log source holds nothing written during the run",
        ));
    }
    let (mut logged, mut from_body) = (Vec::new(), Vec::new());
    for key in &ctx.target.keys {
        for (n, line) in log.lines().enumerate() {
            if let Some(leak) = find_key_leaks(line, key.expose()).first() {
                let found = format!("line {}: ${} as {}", n + 1, key.var(), leak.encoding);
                if line.contains(BODY_MARKER) {
                    from_body.push(found);
                } else {
                    logged.push(found);
                }
            }
        }
    }
    let expected = "no key in any encoding in any log line";
    if !logged.is_empty() {
        return Err(Outcome::fail(expected, logged.join("; "), log_repro(ctx))
            .with_findings(&["key logged"]));
    }
    if !from_body.is_empty() {
        return Err(Outcome::warn(
            format!(
                "{expected} (a key the harness sent in a request body, logged, is a warning for any MCP server; a credential from a header, a failure)"
            ),
            from_body.join("; "),
            log_repro(ctx),
        ));
    }
    Ok(())
}
