//! Steps: probes with a label, a pacing and an expectation, sent in order; the first
//! mismatch becomes the check's failure (with a reproduction of its probe), the others are
//! named after it; each failing step's label is one kind of finding (for the baseline). The shared driver of the exact-answer checks.

use super::expect::{Expect, meets};
use super::outcome::{CheckResult, Outcome};
use crate::client::{ClientError, Ctx, Pace, Probe};
use crate::wire::response::Resp;

/// One probe with its label, pacing and expectation.
pub struct Step {
    pub label: String,
    pub probe: Probe,
    pub pace: Pace,
    pub expect: Expect,
}

impl Step {
    pub fn new(label: impl Into<String>, probe: Probe, pace: Pace, expect: Expect) -> Self {
        Self {
            label: label.into(),
            probe,
            pace,
            expect,
        }
    }
}

/// Sends a probe and returns its response head (and body unless it opened a stream).
pub async fn send_any(ctx: &Ctx, probe: &Probe, pace: Pace) -> Result<Resp, ClientError> {
    if probe.stream && !probe.raw {
        match ctx.open_stream(probe, pace, true).await? {
            Ok(conn) => Ok(conn.head),
            Err(resp) => Ok(resp),
        }
    } else {
        ctx.send(probe, pace).await
    }
}

/// Runs every step; fails with the first mismatch (and names the others).
pub async fn expect_steps(ctx: &Ctx, steps: Vec<Step>) -> CheckResult {
    let mut failures: Vec<(String, String, String)> = Vec::new();
    let mut first_probe: Option<Probe> = None;
    for step in &steps {
        let (observed, ok) = match send_any(ctx, &step.probe, step.pace).await {
            Ok(resp) => match meets(&resp, &step.expect) {
                Ok(()) => (String::new(), true),
                Err(why) => (format!("{} ({why})", resp.summary()), false),
            },
            Err(e) => (format!("no response: {e}"), false),
        };
        if !ok {
            if first_probe.is_none() {
                first_probe = Some(step.probe.clone());
            }
            failures.push((step.label.clone(), step.expect.to_string(), observed));
        }
    }
    if failures.is_empty() {
        return Ok(());
    }
    let (label, expected, observed) = &failures[0];
    let mut observed = format!("{label}: {observed}");
    if failures.len() > 1 {
        let others: Vec<&str> = failures[1..].iter().map(|f| f.0.as_str()).collect();
        observed.push_str(&format!("\nalso failed: {}", others.join("; ")));
    }
    let kinds: Vec<&str> = failures.iter().map(|f| f.0.as_str()).collect();
    Err(Outcome::fail(
        format!("{label}: {expected}"),
        observed,
        first_probe.map(|p| p.curl()).unwrap_or_default(),
    )
    .with_findings(&kinds))
}
