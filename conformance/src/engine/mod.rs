//! The engine: what a check is (`Check`, `Profile`), what it observed (`Outcome`), the
//! expectations and steps the checks share, the runner (selection, up-front
//! measurements, time limits, redaction), the baseline of accepted failures and the run's results (`Report`).
//! Never names a check family: the families are data it is given (`checks::all()`).

mod baseline;
mod check;
mod expect;
mod outcome;
mod runner;
mod steps;
pub(crate) mod table;
mod verdict;

pub use baseline::{Baseline, fingerprints, parse_baseline};
pub use check::{Check, Needs, Profile, RunFn};
pub(crate) use expect::{Expect, error_shape, is_json, meets};
pub use outcome::{CheckResult, Outcome, finding_kind};
pub use runner::{
    ANSWERS_PREREQ_FAILED, MCP_PREREQ_FAILED, Selection, run, select, unknown_patterns,
};
pub(crate) use steps::{Step, expect_steps, send_any};
pub use verdict::{CheckReport, Report, Verdict};
