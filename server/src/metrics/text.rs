//! The Prometheus text format (0.0.4), for scrapers that don't ask for
//! OpenMetrics (METRICS-4): `curl`, `promtool check metrics`, older
//! Prometheus servers. `prometheus-client` writes OpenMetrics only; the two
//! differ in three ways that matter here, which [`from_openmetrics`] undoes:
//! a counter's `# HELP`/`# TYPE` name its samples' `_total` name, and there is
//! no `# UNIT` and no `# EOF` line. Sample lines are the same in both.

/// The content type of the Prometheus text format.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// `openmetrics` (as `prometheus_client::encoding::text::encode` writes it)
/// in the Prometheus text format. Pure; any input gives some output.
pub fn from_openmetrics(openmetrics: &str) -> String {
    let mut out = String::with_capacity(openmetrics.len());
    // Counter families seen, by name, from their `# TYPE` line.
    let mut counters: Vec<&str> = Vec::new();
    // A family's HELP comes before its TYPE: hold it until the type is known.
    let mut held_help: Option<(&str, &str)> = None;
    for line in openmetrics.lines() {
        if let Some(rest) = line.strip_prefix("# HELP ") {
            flush_help(&mut out, held_help.take(), false);
            let (name, help) = rest.split_once(' ').unwrap_or((rest, ""));
            held_help = Some((name, help));
            continue;
        }
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, kind) = rest.split_once(' ').unwrap_or((rest, ""));
            let counter = kind == "counter";
            if counter {
                counters.push(name);
            }
            match held_help.take() {
                Some((help_name, help)) if help_name == name => {
                    flush_help(&mut out, Some((name, help)), counter);
                }
                other => flush_help(&mut out, other, false),
            }
            out.push_str("# TYPE ");
            out.push_str(name);
            if counter {
                out.push_str("_total");
            }
            out.push(' ');
            out.push_str(kind);
            out.push('\n');
            continue;
        }
        flush_help(&mut out, held_help.take(), false);
        if line.starts_with("# UNIT ") || line == "# EOF" {
            continue;
        }
        out.push_str(line);
        out.push('\n');
    }
    flush_help(&mut out, held_help, false);
    out
}

fn flush_help(out: &mut String, help: Option<(&str, &str)>, counter: bool) {
    let Some((name, text)) = help else { return };
    out.push_str("# HELP ");
    out.push_str(name);
    if counter {
        out.push_str("_total");
    }
    out.push(' ');
    out.push_str(text);
    out.push('\n');
}

/// Whether an `Accept` header asks for OpenMetrics (as Prometheus does).
pub fn wants_openmetrics(accept: Option<&str>) -> bool {
    accept.is_some_and(|a| a.contains("application/openmetrics-text"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metrics_4_counters_take_their_total_name_and_openmetrics_lines_go() {
        let om = "# HELP x_requests Requests.\n# TYPE x_requests counter\n\
                  x_requests_total{route=\"/mcp\"} 2\n\
                  # HELP x_open Open.\n# TYPE x_open gauge\nx_open 1\n\
                  # HELP x_took_seconds Took.\n# TYPE x_took_seconds histogram\n# UNIT x_took_seconds seconds\n\
                  x_took_seconds_sum 0.5\nx_took_seconds_count 1\n\
                  x_took_seconds_bucket{le=\"+Inf\"} 1\n# EOF\n";
        let text = from_openmetrics(om);
        assert_eq!(
            text,
            "# HELP x_requests_total Requests.\n# TYPE x_requests_total counter\n\
             x_requests_total{route=\"/mcp\"} 2\n\
             # HELP x_open Open.\n# TYPE x_open gauge\nx_open 1\n\
             # HELP x_took_seconds Took.\n# TYPE x_took_seconds histogram\n\
             x_took_seconds_sum 0.5\nx_took_seconds_count 1\n\
             x_took_seconds_bucket{le=\"+Inf\"} 1\n"
        );
    }

    #[test]
    fn metrics_4_odd_input_is_passed_through_not_lost() {
        assert_eq!(from_openmetrics(""), "");
        assert_eq!(from_openmetrics("# HELP lonely"), "# HELP lonely \n");
        assert_eq!(
            from_openmetrics("# HELP a x\n# TYPE b counter\n"),
            "# HELP a x\n# TYPE b_total counter\n"
        );
    }

    #[test]
    fn metrics_4_prometheus_asks_for_openmetrics_curl_does_not() {
        let prometheus = "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";
        assert!(wants_openmetrics(Some(prometheus)));
        assert!(!wants_openmetrics(Some("*/*")));
        assert!(!wants_openmetrics(None));
    }
}
