//! COMPAT-6: every tolerated request says so (docs/contract.md COMPAT-6): its audit line
//! carries `client_quirk`, a list of words (`version_header_missing`,
//! `version_header_stale`, `version_header_repeated`, `initialize_modern_header`); a
//! request that needed no tolerance has no `client_quirk`. Finds the lines of its
//! `tools/call`s by a marker in their arguments; never reports a line's text.

use super::common::{plain_request, session_opened};
use super::replay::Replay;
use crate::checks::http2026::common::short;
use crate::checks::prereq::{need_key, need_stateless};
use crate::client::claude::{STALE_VERSION, SessionRef, VersionHeader};
use crate::client::stateless::{STATELESS_VERSION, search_call};
use crate::client::{Ctx, Pace, initialize_params, log_repro, objects, random_session_id};
use crate::engine::table::check_table;
use crate::engine::{Check, CheckResult, Outcome};
use crate::target::LogSource;
use serde_json::{Value, json};
use std::time::{Duration, Instant};

const MODERN_INIT: &str = "initialize_modern_header";

pub fn checks() -> Vec<Check> {
    check_table! {
        "COMPAT-6", Claude, quirk_log, needs(stateless),
            "stateless tools/calls with no version header, with 2025-11-25, with 2026-07-28 repeated, with 2025-11-25 repeated, and with the right headers; initialize with 2026-07-28 -> audit lines with client_quirk [version_header_missing], [version_header_stale], [version_header_repeated], [version_header_repeated, version_header_stale], none, and [initialize_modern_header]";
    }
}

async fn quirk_log(ctx: &Ctx) -> CheckResult {
    need_stateless(ctx).await?;
    if matches!(ctx.target.log, LogSource::None) {
        return Err(Outcome::skip(
            "no log source: run embedded, or pass --log-file PATH or --log-command 'CMD'",
        ));
    }
    need_key(ctx, 0)?;
    let tag = &random_session_id()[..12];
    let calls: Vec<(String, VersionHeader, &[&str])> = vec![
        (
            format!("compat-missing-{tag}"),
            VersionHeader::Absent,
            &["version_header_missing"],
        ),
        (
            format!("compat-stale-{tag}"),
            VersionHeader::one(STALE_VERSION),
            &["version_header_stale"],
        ),
        (
            format!("compat-repeated-{tag}"),
            VersionHeader::repeated(STATELESS_VERSION),
            &["version_header_repeated"],
        ),
        // Two tolerances, in the order they are applied: the header is one value, then
        // the body wins over it.
        (
            format!("compat-both-{tag}"),
            VersionHeader::repeated(STALE_VERSION),
            &["version_header_repeated", "version_header_stale"],
        ),
        (
            format!("compat-none-{tag}"),
            VersionHeader::one(STATELESS_VERSION),
            &[],
        ),
    ];
    for (n, (marker, header, _)) in calls.iter().enumerate() {
        let body = search_call(90 + n as u64, marker);
        ctx.send(
            &ctx.claude_post(&body, header, true, &SessionRef::None),
            Pace::Key(0),
        )
        .await
        .map_err(|e| Outcome::skip(format!("the tools/call with {marker}: {e}")))?;
    }
    // initialize with the 2026-07-28 header: one more line with its quirk, when it is
    // served (when it is refused, COMPAT-3 fails and says why; nothing was tolerated).
    let before = modern_init_lines(ctx).await?;
    let mut replay = Replay::new(ctx, "COMPAT-6");
    let init = plain_request(1, "initialize", initialize_params(STALE_VERSION));
    let opened = replay
        .step(
            "POST /mcp initialize, MCP-Protocol-Version: 2026-07-28",
            ctx.claude_post(
                &init,
                &VersionHeader::one(STATELESS_VERSION),
                false,
                &SessionRef::None,
            ),
            "200 with an Mcp-Session-Id",
            |r| session_opened(r, 1),
        )
        .await;
    if let Ok((sid, _)) = &opened {
        replay.opened(sid);
    }
    replay.close().await;
    let init_served = opened.is_ok();
    let mut expected = format!(
        "the line of each tools/call (found by its marker in arguments) with client_quirk {}",
        calls
            .iter()
            .map(|(m, _, w)| match w {
                [] => format!("absent ({m})"),
                w => format!("{} ({m})", json!(w)),
            })
            .collect::<Vec<_>>()
            .join(", ")
    );
    if init_served {
        expected.push_str(&format!(
            "; and one more line with client_quirk [\"{MODERN_INIT}\"] after the initialize"
        ));
    }
    let deadline = Instant::now() + ctx.timeout();
    loop {
        let text = read(ctx).await?;
        let objs = objects(ctx, &text);
        let mut problems: Vec<String> = calls
            .iter()
            .filter_map(|(marker, _, want)| line_problem(&objs, marker, want))
            .collect();
        if init_served && count_modern(&objs) <= before {
            problems.push(format!("no new line with client_quirk [\"{MODERN_INIT}\"]"));
        }
        if problems.is_empty() {
            return Ok(());
        }
        if Instant::now() >= deadline {
            return Err(Outcome::fail(expected, problems.join("; "), log_repro(ctx)));
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

async fn read(ctx: &Ctx) -> Result<String, Outcome> {
    Ok(ctx
        .read_log()
        .await
        .map_err(|e| Outcome::skip(format!("reading the log: {e}")))?
        .unwrap_or_default())
}

async fn modern_init_lines(ctx: &Ctx) -> Result<usize, Outcome> {
    let text = read(ctx).await?;
    Ok(count_modern(&objects(ctx, &text)))
}

fn count_modern(objs: &[Value]) -> usize {
    objs.iter()
        .filter(|o| {
            o.get("client_quirk")
                .and_then(Value::as_array)
                .is_some_and(|q| q.contains(&json!(MODERN_INIT)))
        })
        .count()
}

/// How the line of the call with `marker` differs from `client_quirk` `want` (none when
/// empty).
fn line_problem(objs: &[Value], marker: &str, want: &[&str]) -> Option<String> {
    let Some(o) = objs.iter().find(|o| {
        o.get("event") == Some(&json!("mcp_request"))
            && o.get("arguments")
                .is_some_and(|a| a.to_string().contains(marker))
    }) else {
        return Some(format!("{marker}: no line with its arguments"));
    };
    let got = o.get("client_quirk");
    let ok = match want {
        [] => got.is_none(),
        w => got == Some(&json!(w)),
    };
    (!ok).then(|| {
        format!(
            "{marker}: client_quirk {}",
            got.map(short).unwrap_or_else(|| "absent".into())
        )
    })
}
