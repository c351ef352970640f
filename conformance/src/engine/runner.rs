//! The runner: selects checks by profile, `--only`/`--skip` and `--transport`, measures
//! what the selected checks need up front (`Needs`), skips at once a check whose
//! prerequisite failed (the SSE session, tried once per run), runs the others one at a time
//! (each under an overall time limit, panics caught), redacts every key from every outcome
//! text, applies the baseline of expected failures, and returns a `Report`.
//! Must never let a key reach a `Report`: all outcome text goes through `wire::leak::redact`.

use super::baseline::Baseline;
use super::check::{Check, Profile};
use super::outcome::Outcome;
use super::verdict::{CheckReport, Report, Verdict};
use crate::client::Ctx;
use crate::target::Transport;
use futures::FutureExt;
use std::time::{Duration, Instant};

/// How a skip for a failed `mcp` prerequisite starts (MCP-INIT-1 reports the failure).
pub const MCP_PREREQ_FAILED: &str =
    "prerequisite failed (MCP-INIT-1): initialize + tools/list over Streamable HTTP did not work";

/// How a skip for a failed round trip in the SSE session starts (MSG-4.initialize
/// reports the failure itself).
pub const ANSWERS_PREREQ_FAILED: &str = "prerequisite failed (MSG-4.initialize): the answer to initialize did not arrive in the SSE session (as a `message` event within --timeout)";

/// Which checks to run.
#[derive(Clone, Debug)]
pub struct Selection {
    pub profile: Profile,
    pub only: Vec<String>,
    pub skip: Vec<String>,
    /// `--transport`: `None` selects both groups.
    pub transport: Option<Transport>,
}

impl Default for Selection {
    fn default() -> Self {
        Self {
            profile: Profile::Strict,
            only: Vec::new(),
            skip: Vec::new(),
            transport: None,
        }
    }
}

/// The checks `sel` selects, in run order.
pub fn select(checks: Vec<Check>, sel: &Selection) -> Vec<Check> {
    checks
        .into_iter()
        .filter(|c| sel.profile.selects(c.profile))
        .filter(|c| sel.transport.is_none_or(|t| t.includes(c.transport)))
        .filter(|c| sel.only.is_empty() || sel.only.iter().any(|p| c.matches(p)))
        .filter(|c| !sel.skip.iter().any(|p| c.matches(p)))
        .collect()
}

/// Patterns in `patterns` that select no check at all (a typo in `--only`/`--skip`).
pub fn unknown_patterns(checks: &[Check], patterns: &[String]) -> Vec<String> {
    patterns
        .iter()
        .filter(|p| !checks.iter().any(|c| c.matches(p)))
        .cloned()
        .collect()
}

fn redact_outcome(o: Outcome, secrets: &[(String, String)]) -> Outcome {
    let pairs: Vec<(&str, &str)> = secrets
        .iter()
        .map(|(s, v)| (s.as_str(), v.as_str()))
        .collect();
    let r = |t: String| crate::wire::leak::redact(&t, &pairs);
    match o {
        Outcome::Pass => Outcome::Pass,
        Outcome::Fail {
            expected,
            observed,
            reproduce,
            findings,
        } => Outcome::Fail {
            expected: r(expected),
            observed: r(observed),
            reproduce: r(reproduce),
            findings,
        },
        Outcome::Warn {
            expected,
            observed,
            reproduce,
        } => Outcome::Warn {
            expected: r(expected),
            observed: r(observed),
            reproduce: r(reproduce),
        },
        Outcome::Skip { why } => Outcome::Skip { why: r(why) },
    }
}

/// The reason `check` must skip because a prerequisite it needs failed, if one did. The
/// prerequisite is established on first need and remembered for the run. (Without a key
/// the check's own `need_key` gives the better reason.)
async fn failed_prerequisite(ctx: &Ctx, check: &Check) -> Option<String> {
    if check.needs.session
        && ctx.key(0).is_some()
        && let Err(e) = ctx.session_opens().await
    {
        return Some(format!(
            "prerequisite failed: the SSE session could not be opened: {e}"
        ));
    }
    if check.needs.answers
        && ctx.key(0).is_some()
        && let Err(e) = ctx.answers_arrive().await
    {
        return Some(format!("{ANSWERS_PREREQ_FAILED}: {e}"));
    }
    if check.needs.mcp
        && ctx.key(0).is_some()
        && let Err(e) = ctx.mcp_round_trip().await
    {
        return Some(format!("{MCP_PREREQ_FAILED}: {e}"));
    }
    None
}

/// A check's result with its verdict after the baseline: a failure is excused only when
/// the baseline accepts every kind of finding it is made of; a check the baseline lists
/// that passes (or only warns) is an unexpected pass.
fn report_of(check: &Check, outcome: Outcome, baseline: &Baseline, t0: Instant) -> CheckReport {
    let listed = baseline.lists(&check.id);
    let verdict = match (&outcome, listed) {
        (Outcome::Pass, false) => Verdict::Pass,
        (Outcome::Warn { .. }, false) => Verdict::Warn,
        (Outcome::Pass | Outcome::Warn { .. }, true) => Verdict::XPass,
        (Outcome::Fail { .. }, _) if baseline.excuses(&check.id, &outcome) => Verdict::XFail,
        (Outcome::Fail { .. }, _) => Verdict::Fail,
        (Outcome::Skip { .. }, _) => Verdict::Skip,
    };
    CheckReport {
        id: check.id.clone(),
        clause: check.clause.clone(),
        family: check.family().to_string(),
        profile: check.profile,
        title: check.title.clone(),
        outcome,
        verdict,
        duration: t0.elapsed(),
    }
}

/// Runs `checks` against the context. `progress(i, n, id)` is called before each check.
pub async fn run(
    ctx: &Ctx,
    checks: &[Check],
    baseline: &Baseline,
    target_label: &str,
    profile: Profile,
    progress: &mut (dyn FnMut(usize, usize, &str) + Send),
) -> Report {
    let started = Instant::now();
    let secrets = ctx.target.secrets();
    let s = &ctx.target.settings;
    let limit = s.keepalive_wait * 2 + s.timeout * 6 + Duration::from_secs(60);
    let mut results = Vec::new();
    let mut notes = Vec::new();
    // Measure the rate limits first when a check needs them (RATE, a shared budget): from then on the pacer uses the
    // measured limits instead of the contract defaults.
    if checks.iter().any(|c| c.needs.limits) && ctx.key(0).is_some() {
        progress(0, checks.len(), "measuring the rate limits");
        if let Ok(l) = ctx.limits().await {
            notes.push(format!(
                "measured per-key limits: burst {}, refill {:.1}/s",
                l.burst, l.rps
            ));
        }
    }
    // Detect Streamable HTTP once, up front, when a check needs it (the HTTP-* group).
    if checks.iter().any(|c| c.needs.offer) && ctx.key(0).is_some() {
        progress(0, checks.len(), "detecting Streamable HTTP on /mcp");
        notes.push(ctx.offer().await.note());
    }
    // Detect MCP 2026-07-28 once, up front, when a check needs it (the HTTP-2026-* group).
    if checks.iter().any(|c| c.needs.stateless) && ctx.key(0).is_some() {
        progress(0, checks.len(), "detecting MCP 2026-07-28 on /mcp");
        notes.push(crate::client::stateless::stateless_note(
            ctx.stateless_offer().await,
        ));
    }
    let mut prereq_noted = false;
    for (i, check) in checks.iter().enumerate() {
        progress(i, checks.len(), &check.id);
        let t0 = Instant::now();
        // A failed prerequisite skips the check at once (established once, memoized).
        if let Some(why) = failed_prerequisite(ctx, check).await {
            if !prereq_noted {
                notes.push(why.clone());
                prereq_noted = true;
            }
            results.push(report_of(
                check,
                redact_outcome(Outcome::skip(why), &secrets),
                baseline,
                t0,
            ));
            continue;
        }
        let fut = std::panic::AssertUnwindSafe((check.run)(ctx)).catch_unwind();
        let outcome = match tokio::time::timeout(limit, fut).await {
            Err(_) => Outcome::fail(
                format!("the check finishes within {}s", limit.as_secs()),
                "it did not finish",
                String::new(),
            ),
            Ok(Err(_)) => Outcome::fail(
                "the check runs",
                "the harness panicked in this check (a harness bug)",
                String::new(),
            ),
            Ok(Ok(Ok(()))) => Outcome::Pass,
            Ok(Ok(Err(o))) => o,
        };
        let outcome = redact_outcome(outcome, &secrets);
        results.push(report_of(check, outcome, baseline, t0));
    }
    progress(checks.len(), checks.len(), "");
    Report {
        target: target_label.to_string(),
        profile,
        results,
        notes,
        elapsed: started.elapsed(),
    }
}
