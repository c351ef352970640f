//! Renders a `Report` as the human report (grouped by clause family, expected vs observed
//! and a reproduction for every failure), JSON, or JUnit XML.
//! Pure functions over an already redacted `Report`: never touches the network or keys.

use crate::engine::{CheckReport, Outcome, Profile, Report, Verdict, fingerprints};

/// Output format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Format {
    #[default]
    Human,
    Json,
    Junit,
}

/// Families in first-seen order with their results.
fn grouped(report: &Report) -> Vec<(&str, Vec<&CheckReport>)> {
    let mut groups: Vec<(&str, Vec<&CheckReport>)> = Vec::new();
    for r in &report.results {
        match groups.iter_mut().find(|(f, _)| *f == r.family) {
            Some((_, v)) => v.push(r),
            None => groups.push((&r.family, vec![r])),
        }
    }
    groups
}

fn secs(d: std::time::Duration) -> String {
    format!("{:.1}s", d.as_secs_f64())
}

/// The human report. `color` adds ANSI colours (only on a terminal).
pub fn human(report: &Report, color: bool) -> String {
    let paint = |code: &str, s: &str| {
        if color {
            format!("\x1b[{code}m{s}\x1b[0m")
        } else {
            s.to_string()
        }
    };
    let mut out = String::new();
    out.push_str(&format!(
        "mcp-conformance {} against {} (profile {})\n",
        env!("CARGO_PKG_VERSION"),
        report.target,
        report.profile
    ));
    for n in &report.notes {
        out.push_str(&format!("{n}\n"));
    }
    let width = report.results.iter().map(|r| r.id.len()).max().unwrap_or(0);
    for (family, results) in grouped(report) {
        out.push_str(&format!(
            "\n{} ({})\n",
            paint("1", family),
            crate::checks::families::title(family)
        ));
        for r in results {
            let tag = match r.verdict {
                Verdict::Pass => paint("32", "pass "),
                Verdict::Fail => paint("31;1", "FAIL "),
                Verdict::Skip => paint("33", "skip "),
                Verdict::Warn => paint("35", "warn "),
                Verdict::XFail => paint("36", "xfail"),
                Verdict::XPass => paint("31;1", "XPASS"),
            };
            let strict = match r.profile {
                Profile::Strict => " [strict]",
                Profile::Claude => " [claude]",
                _ => "",
            };
            out.push_str(&format!(
                "  {tag}  {:<width$}  {}{strict} ({})\n",
                r.id,
                r.title,
                secs(r.duration)
            ));
            match (&r.outcome, r.verdict) {
                (Outcome::Skip { why }, _) => out.push_str(&format!("         why: {why}\n")),
                (Outcome::Fail { expected, observed, reproduce, .. } | Outcome::Warn { expected, observed, reproduce }, v) => {
                    if v == Verdict::XFail {
                        out.push_str("         (listed in the baseline)\n");
                    }
                    if v == Verdict::Warn {
                        out.push_str("         (a warning: reported, does not fail the run)\n");
                    }
                    out.push_str(&format!("         expected: {}\n", indent(expected, 19)));
                    out.push_str(&format!("         observed: {}\n", indent(observed, 19)));
                    if !reproduce.is_empty() {
                        out.push_str("         reproduce:\n");
                        for line in reproduce.lines() {
                            out.push_str(&format!("           {line}\n"));
                        }
                    }
                    for line in fingerprints(&r.id, &r.outcome) {
                        out.push_str(&format!("         baseline: {line}\n"));
                    }
                }
                (Outcome::Pass, Verdict::XPass) => out.push_str(
                    "         listed in the baseline as failing, but passes now: remove it from the baseline\n",
                ),
                _ => {}
            }
        }
    }
    let (p, f, s, xf, xp, w) = (
        report.count(Verdict::Pass),
        report.count(Verdict::Fail),
        report.count(Verdict::Skip),
        report.count(Verdict::XFail),
        report.count(Verdict::XPass),
        report.count(Verdict::Warn),
    );
    let mut summary = format!(
        "{} checks: {p} passed, {f} failed, {s} skipped",
        report.results.len()
    );
    if w > 0 {
        summary.push_str(&format!(", {w} warned"));
    }
    if xf > 0 || xp > 0 {
        summary.push_str(&format!(", {xf} expected failures, {xp} unexpected passes"));
    }
    summary.push_str(&format!(" in {}", secs(report.elapsed)));
    let summary = if f + xp > 0 {
        paint("31;1", &summary)
    } else {
        paint("32;1", &summary)
    };
    out.push_str(&format!("\n{summary}\n"));
    if s > 0 {
        out.push_str(
            "(skip = the check could not observe its clause against this target; see `why`)\n",
        );
    }
    out
}

fn indent(s: &str, n: usize) -> String {
    s.replace('\n', &format!("\n{}", " ".repeat(n)))
}

/// The JSON report.
pub fn json(report: &Report) -> String {
    let checks: Vec<serde_json::Value> = report
        .results
        .iter()
        .map(|r| {
            let mut v = serde_json::json!({
                "id": r.id,
                "clause": r.clause,
                "profile": r.profile,
                "title": r.title,
                "status": r.verdict,
                "duration_ms": r.duration.as_millis() as u64,
            });
            match &r.outcome {
                Outcome::Fail {
                    expected,
                    observed,
                    reproduce,
                    findings,
                } => {
                    v["expected"] = expected.clone().into();
                    v["observed"] = observed.clone().into();
                    v["reproduce"] = reproduce.clone().into();
                    v["findings"] = findings.clone().into();
                    v["baseline"] = fingerprints(&r.id, &r.outcome).into();
                }
                Outcome::Warn {
                    expected,
                    observed,
                    reproduce,
                } => {
                    v["expected"] = expected.clone().into();
                    v["observed"] = observed.clone().into();
                    v["reproduce"] = reproduce.clone().into();
                }
                Outcome::Skip { why } => v["why"] = why.clone().into(),
                Outcome::Pass => {}
            }
            v
        })
        .collect();
    let doc = serde_json::json!({
        "tool": "mcp-conformance",
        "version": env!("CARGO_PKG_VERSION"),
        "target": report.target,
        "profile": report.profile,
        "summary": {
            "total": report.results.len(),
            "passed": report.count(Verdict::Pass),
            "failed": report.count(Verdict::Fail),
            "skipped": report.count(Verdict::Skip),
            "warned": report.count(Verdict::Warn),
            "expected_failures": report.count(Verdict::XFail),
            "unexpected_passes": report.count(Verdict::XPass),
        },
        "elapsed_ms": report.elapsed.as_millis() as u64,
        "notes": report.notes,
        "checks": checks,
    });
    let mut s = serde_json::to_string_pretty(&doc).unwrap_or_default();
    s.push('\n');
    s
}

fn xml(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\n' | '\t' => out.push(c),
            c if (c as u32) < 0x20 => {}
            c => out.push(c),
        }
    }
    out
}

/// JUnit XML: one testsuite per clause family, one testcase per check.
pub fn junit(report: &Report) -> String {
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let fails = |rs: &[&CheckReport]| rs.iter().filter(|r| r.verdict.fails_run()).count();
    let skips = |rs: &[&CheckReport]| {
        rs.iter()
            .filter(|r| matches!(r.verdict, Verdict::Skip | Verdict::XFail))
            .count()
    };
    let all: Vec<&CheckReport> = report.results.iter().collect();
    out.push_str(&format!(
        "<testsuites name=\"mcp-conformance\" tests=\"{}\" failures=\"{}\" skipped=\"{}\" time=\"{:.3}\">\n",
        all.len(),
        fails(&all),
        skips(&all),
        report.elapsed.as_secs_f64()
    ));
    for (family, results) in grouped(report) {
        let t: f64 = results.iter().map(|r| r.duration.as_secs_f64()).sum();
        out.push_str(&format!(
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{}\" skipped=\"{}\" time=\"{t:.3}\">\n",
            xml(family),
            results.len(),
            fails(&results),
            skips(&results)
        ));
        for r in results {
            out.push_str(&format!(
                "    <testcase classname=\"mcp-conformance.{}\" name=\"{}\" time=\"{:.3}\">\n",
                xml(family),
                xml(&r.id),
                r.duration.as_secs_f64()
            ));
            match (&r.outcome, r.verdict) {
                (Outcome::Fail { expected, observed, reproduce, .. }, Verdict::Fail) => out.push_str(&format!(
                    "      <failure message=\"{}\">expected: {}\nobserved: {}\nreproduce:\n{}</failure>\n",
                    xml(&format!("expected {expected}")),
                    xml(expected),
                    xml(observed),
                    xml(reproduce)
                )),
                (Outcome::Fail { observed, .. }, Verdict::XFail) => out.push_str(&format!(
                    "      <skipped message=\"{}\"/>\n",
                    xml(&format!("expected failure (baseline): {observed}"))
                )),
                (_, Verdict::XPass) => out.push_str(
                    "      <failure message=\"listed in the baseline as failing, but passes now\"/>\n",
                ),
                (Outcome::Skip { why }, _) => out.push_str(&format!("      <skipped message=\"{}\"/>\n", xml(why))),
                _ => {}
            }
            let warning = match &r.outcome {
                Outcome::Warn {
                    expected, observed, ..
                } => {
                    format!(
                        "\nwarning (does not fail the run): expected {expected}; observed {observed}"
                    )
                }
                _ => String::new(),
            };
            out.push_str(&format!(
                "      <system-out>{}{}</system-out>\n",
                xml(&r.title),
                xml(&warning)
            ));
            out.push_str("    </testcase>\n");
        }
        out.push_str("  </testsuite>\n");
    }
    out.push_str("</testsuites>\n");
    out
}
