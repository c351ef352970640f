//! What a check run observed: `Pass`, `Fail` (expected, observed, a shell reproduction
//! with keys only as `$MCP_KEY`/`$MCP_KEY2`, and the kinds of finding it is made of),
//! `Warn` (the same, reported but not failing the run), or `Skip` with the reason. A check
//! that could not observe its clause skips, never passes.

/// What running a check observed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    Pass,
    Fail {
        expected: String,
        observed: String,
        /// A shell reproduction; keys appear only as `$MCP_KEY` / `$MCP_KEY2`.
        reproduce: String,
        /// The kinds of finding this failure is made of, normalized (lower-case words
        /// joined by `-`, numbers as `n`): what a baseline line accepts (`ID finding`),
        /// so a new kind of finding inside an accepted check fails the run. Never empty.
        findings: Vec<String>,
    },
    /// A finding reported but not failing the run (e.g. in the generic `mcp` profile, a
    /// string the caller put in the body, returned to that caller).
    Warn {
        expected: String,
        observed: String,
        reproduce: String,
    },
    Skip {
        why: String,
    },
}

impl Outcome {
    /// A failure of one kind, named after what was expected (see `finding_kind`).
    pub fn fail(
        expected: impl Into<String>,
        observed: impl Into<String>,
        reproduce: impl Into<String>,
    ) -> Self {
        let expected = expected.into();
        let findings = vec![finding_kind(&expected)];
        Outcome::Fail {
            expected,
            observed: observed.into(),
            reproduce: reproduce.into(),
            findings,
        }
    }

    /// The same failure, made of these kinds of finding (normalized by `finding_kind`);
    /// anything else is returned unchanged.
    pub fn with_findings<S: AsRef<str>>(self, kinds: &[S]) -> Self {
        match self {
            Outcome::Fail {
                expected,
                observed,
                reproduce,
                findings,
            } => {
                let mut new: Vec<String> = kinds.iter().map(|k| finding_kind(k.as_ref())).collect();
                new.sort();
                new.dedup();
                Outcome::Fail {
                    expected,
                    observed,
                    reproduce,
                    findings: if new.is_empty() { findings } else { new },
                }
            }
            o => o,
        }
    }

    pub fn warn(
        expected: impl Into<String>,
        observed: impl Into<String>,
        reproduce: impl Into<String>,
    ) -> Self {
        Outcome::Warn {
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

/// A finding's kind, normalized from a short description: the text before its first
/// `": "`, lower-case, letters and digits kept, every run of digits `n`, everything else
/// one `-`, at most 60 characters (cut at a `-`). So a description that carries a count
/// or a port yields the same kind each run.
pub fn finding_kind(text: &str) -> String {
    let head = text.split(": ").next().unwrap_or(text);
    let mut out = String::new();
    let mut prev: Option<char> = None; // the class of the last char read: 'd', 'a' or '-'
    for c in head.chars() {
        let class = if c.is_ascii_digit() {
            'd'
        } else if c.is_ascii_alphabetic() {
            'a'
        } else {
            '-'
        };
        match class {
            'd' if prev == Some('d') => {}
            'd' => out.push('n'),
            'a' => out.push(c.to_ascii_lowercase()),
            _ if prev == Some('-') || prev.is_none() => {}
            _ => out.push('-'),
        }
        prev = Some(class);
    }
    let mut kind = out.trim_matches('-').to_string();
    if kind.len() > 60 {
        let cut = kind[..60].rfind('-').unwrap_or(60);
        kind.truncate(cut);
    }
    if kind.is_empty() {
        "failure".into()
    } else {
        kind
    }
}

/// A check body: `Ok(())` passes; `Err(outcome)` is the failure or skip.
pub type CheckResult = Result<(), Outcome>;

#[cfg(test)]
mod tests {
    use super::finding_kind;

    #[test]
    fn finding_kinds_are_stable_words() {
        assert_eq!(
            finding_kind("POST initialize with a wrong Bearer token: 401 with WWW-Authenticate"),
            "post-initialize-with-a-wrong-bearer-token"
        );
        assert_eq!(
            finding_kind("a 429 within 210 requests (--expect-burst 100)"),
            "a-n-within-n-requests-expect-burst-n"
        );
        assert_eq!(finding_kind("  "), "failure");
        assert!(finding_kind(&"word ".repeat(40)).len() <= 60);
    }
}
