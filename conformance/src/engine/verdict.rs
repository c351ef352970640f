//! A run's results as data: each check's `Verdict` after the baseline of expected
//! failures (`XFail`, `XPass`), its outcome and time, and the `Report` of the whole run
//! with its exit code (0 only if nothing fails the run). Rendering lives in `report`.

use super::check::Profile;
use super::outcome::Outcome;
use std::time::Duration;

/// A check's verdict after the baseline is applied.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    Pass,
    Fail,
    Skip,
    /// A finding reported but not failing the run (`Outcome::Warn`).
    Warn,
    /// Failed, every kind of finding listed in the baseline: does not fail the run.
    XFail,
    /// Listed in the baseline but passed (or only warned): fails the run (update the
    /// baseline).
    XPass,
}

impl Verdict {
    pub fn fails_run(self) -> bool {
        matches!(self, Verdict::Fail | Verdict::XPass)
    }
}

/// One check's result.
#[derive(Clone, Debug)]
pub struct CheckReport {
    pub id: String,
    pub clause: String,
    pub family: String,
    pub profile: Profile,
    pub title: String,
    pub outcome: Outcome,
    pub verdict: Verdict,
    pub duration: Duration,
}

/// The result of a run.
#[derive(Clone, Debug)]
pub struct Report {
    pub target: String,
    pub profile: Profile,
    pub results: Vec<CheckReport>,
    /// Facts learned about the target (e.g. the measured rate limits).
    pub notes: Vec<String>,
    pub elapsed: Duration,
}

impl Report {
    pub fn count(&self, v: Verdict) -> usize {
        self.results.iter().filter(|r| r.verdict == v).count()
    }

    /// 0 when nothing failed (baseline applied), else 1.
    pub fn exit_code(&self) -> i32 {
        if self.results.iter().any(|r| r.verdict.fails_run()) {
            1
        } else {
            0
        }
    }
}
