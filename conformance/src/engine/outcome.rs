//! What a check run observed: `Pass`, `Fail` (expected, observed, a shell reproduction
//! with keys only as `$MCP_KEY`/`$MCP_KEY2`), or `Skip` with the reason. A check that
//! could not observe its clause skips, never passes.

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
