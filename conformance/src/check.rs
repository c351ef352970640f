//! A check is data: an ID tied to a contract clause, its profile, a one-line description of
//! what it sends and expects, and the async function that runs it. `Outcome` is what a run
//! observed. A check that could not observe its clause returns `Skip` with the reason,
//! never `Pass`.

use crate::ctx::Ctx;
use futures::future::BoxFuture;
use std::sync::Arc;

/// `seed` = the contract's MUST clauses; `strict` adds the (strict) clauses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Profile {
    Seed,
    Strict,
}

impl std::fmt::Display for Profile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.pad(match self {
            Profile::Seed => "seed",
            Profile::Strict => "strict",
        })
    }
}

/// What running a check observed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    Pass,
    Fail {
        expected: String,
        observed: String,
        /// A shell reproduction; keys appear only as `$MCP_KEY` / `$MCP_KEY2`.
        reproduce: String,
    },
    Skip {
        why: String,
    },
}

impl Outcome {
    pub fn fail(
        expected: impl Into<String>,
        observed: impl Into<String>,
        reproduce: impl Into<String>,
    ) -> Self {
        Outcome::Fail {
            expected: expected.into(),
            observed: observed.into(),
            reproduce: reproduce.into(),
        }
    }

    pub fn skip(why: impl Into<String>) -> Self {
        Outcome::Skip { why: why.into() }
    }

    pub fn is_fail(&self) -> bool {
        matches!(self, Outcome::Fail { .. })
    }
}

/// A check body: `Ok(())` passes; `Err(outcome)` is the failure or skip.
pub type CheckResult = Result<(), Outcome>;

/// The function a check runs.
pub type RunFn = Arc<dyn for<'a> Fn(&'a Ctx) -> BoxFuture<'a, CheckResult> + Send + Sync>;

/// One check of one clause.
#[derive(Clone)]
pub struct Check {
    /// `AUTH-3.missing`: the clause ID, then a probe name where the clause needs several.
    pub id: String,
    /// The clause ID alone (`AUTH-3`), for grouping.
    pub clause: String,
    pub profile: Profile,
    /// What it sends and what it expects, one sentence.
    pub title: String,
    pub run: RunFn,
}

impl std::fmt::Debug for Check {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Check({} [{}])", self.id, self.profile)
    }
}

impl Check {
    pub fn new<F>(id: &str, profile: Profile, title: &str, run: F) -> Self
    where
        F: for<'a> Fn(&'a Ctx) -> BoxFuture<'a, CheckResult> + Send + Sync + 'static,
    {
        let clause = id.split('.').next().unwrap_or(id).to_string();
        Self {
            id: id.to_string(),
            clause,
            profile,
            title: title.to_string(),
            run: Arc::new(run),
        }
    }

    /// The clause family (`AUTH`, `RATE`, ...).
    pub fn family(&self) -> &str {
        self.clause.split('-').next().unwrap_or(&self.clause)
    }

    /// Whether `pattern` selects this check: an exact ID, a clause (`AUTH-3` selects
    /// `AUTH-3.*`), or a family (`AUTH`). Case-insensitive.
    pub fn matches(&self, pattern: &str) -> bool {
        let p = pattern.trim().to_ascii_uppercase();
        let id = self.id.to_ascii_uppercase();
        !p.is_empty()
            && (id == p || id.starts_with(&format!("{p}.")) || id.starts_with(&format!("{p}-")))
    }
}
