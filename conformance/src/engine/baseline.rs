//! Baselines: the failures a target is known to have, each named by its fingerprint, the
//! check ID and a kind of finding (`MCP-AUTH-3 key-reflected-in-body`), one per line,
//! `#` comments. A failure is excused (`XFail`) only when every kind of finding it is made
//! of is listed for its check, so a new kind of finding inside an accepted check fails the
//! run. A line naming a check alone is refused: it would excuse any failure of it.

use super::outcome::Outcome;
use std::collections::{BTreeMap, BTreeSet};

/// The accepted failures: check ID -> the kinds of finding accepted for it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Baseline {
    accepted: BTreeMap<String, BTreeSet<String>>,
}

impl Baseline {
    /// Whether the baseline lists anything for this check.
    pub fn lists(&self, id: &str) -> bool {
        self.accepted.contains_key(id)
    }

    /// Whether `outcome` is a failure every finding of which is accepted for `id`.
    pub fn excuses(&self, id: &str, outcome: &Outcome) -> bool {
        match (outcome, self.accepted.get(id)) {
            (Outcome::Fail { findings, .. }, Some(kinds)) => {
                findings.iter().all(|f| kinds.contains(f))
            }
            _ => false,
        }
    }

    /// The findings of a failure of `id` that the baseline does not accept.
    pub fn new_findings<'a>(&self, id: &str, outcome: &'a Outcome) -> Vec<&'a str> {
        match outcome {
            Outcome::Fail { findings, .. } => findings
                .iter()
                .filter(|f| self.accepted.get(id).is_none_or(|k| !k.contains(*f)))
                .map(String::as_str)
                .collect(),
            _ => Vec::new(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.accepted.is_empty()
    }
}

/// The baseline lines of a failure of check `id`: `ID finding`, one per kind of finding.
pub fn fingerprints(id: &str, outcome: &Outcome) -> Vec<String> {
    match outcome {
        Outcome::Fail { findings, .. } => findings.iter().map(|f| format!("{id} {f}")).collect(),
        _ => Vec::new(),
    }
}

/// Parses a baseline file: `ID finding` per line (as a failure's report prints it),
/// `#` comments, blank lines ignored. A line with the ID alone, or with more than two
/// words, is an error naming the line and the fix.
pub fn parse_baseline(text: &str) -> Result<Baseline, String> {
    let mut b = Baseline::default();
    for (n, line) in text.lines().enumerate() {
        let line = line.split('#').next().unwrap_or("").trim();
        if line.is_empty() {
            continue;
        }
        let words: Vec<&str> = line.split_whitespace().collect();
        match words.as_slice() {
            [id, finding] => {
                b.accepted
                    .entry((*id).to_string())
                    .or_default()
                    .insert((*finding).to_string());
            }
            [id] => {
                return Err(format!(
                    "baseline line {}: `{id}` names a check, not a failure, and would accept any failure of it (a new kind of finding included); write `{id} <finding>`, one line per kind of finding, as the report prints them under `baseline:` (run once without --baseline to see them)",
                    n + 1
                ));
            }
            _ => {
                return Err(format!(
                    "baseline line {}: `{line}` is not `ID finding`",
                    n + 1
                ));
            }
        }
    }
    Ok(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failure_is_excused_only_by_all_of_its_findings() {
        let b = parse_baseline("# known\nMCP-AUTH-3 key-echoed-in-body  # SDK default\n").unwrap();
        let echo = Outcome::fail("e", "o", "r").with_findings(&["key echoed in body"]);
        assert!(b.excuses("MCP-AUTH-3", &echo));
        let both = echo
            .clone()
            .with_findings(&["key-echoed-in-body", "key-reflected-in-body"]);
        assert!(!b.excuses("MCP-AUTH-3", &both));
        assert_eq!(
            b.new_findings("MCP-AUTH-3", &both),
            ["key-reflected-in-body"]
        );
        assert!(!b.excuses("MCP-AUTH-2", &echo));
        assert_eq!(
            fingerprints("MCP-AUTH-3", &echo),
            ["MCP-AUTH-3 key-echoed-in-body"]
        );
        assert!(
            parse_baseline("AUTH-4\n")
                .unwrap_err()
                .contains("names a check")
        );
        assert!(parse_baseline("a b c\n").is_err());
    }
}
