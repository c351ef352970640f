//! MCP-LOG-1: no key in the target's log, in any encoding, after a run that presented the
//! keys in headers, near misses and tool arguments. Only with a log source (`--log-file`,
//! `--log-command`, or the embedded server's); otherwise a skip. The scan is LOG-2's.

use crate::checks::log::key_in_log;
use crate::checks::prereq::{need_key, setup};
use crate::client::Ctx;
use crate::engine::table::check_table;
use crate::engine::{Check, CheckResult, Outcome};

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
    key_in_log(ctx, &log)
}
