//! The spike tools (DATA-10): `get_overall_trend_signals`,
//! `rank_group_spikes` and `rank_company_spikes`, computed by `signals` from
//! the trend buckets of one trends query (CCDB5 `trends`, or offline).
//!
//! The latest bucket is the last one in the series: with the live API, end
//! the range (`date_received_max`) on the last complete period, or the
//! current, partial period looks like a drop (docs/tools.md).

use rmcp::model::{CallToolResult, JsonObject, Tool};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Value, json};

use super::args::{self, ArgError};
use super::dashboard;
use super::signals::{self, Baseline, Signals};
use super::trend_args::{self, IntervalArg};
use super::{filters, output, trends};
use crate::data::{DataSource, Lens, SearchQuery, TrendInterval, TrendsQuery};

/// `get_overall_trend_signals` (MSG-4).
pub const OVERALL: &str = "get_overall_trend_signals";
/// `rank_group_spikes` (MSG-4).
pub const GROUPS: &str = "rank_group_spikes";
/// `rank_company_spikes` (MSG-4).
pub const COMPANIES: &str = "rank_company_spikes";

/// Default baseline window, in buckets.
const DEFAULT_WINDOW: u32 = 8;

/// The signal arguments every spike tool takes.
#[derive(Debug, Deserialize, JsonSchema)]
struct SignalArgs {
    /// Bucket width (default month).
    trend_interval: Option<IntervalArg>,
    /// Buckets before the latest that form the baseline (default 8).
    #[schemars(range(min = 1, max = 60))]
    baseline_window: Option<u32>,
    /// Smallest baseline mean scored (default 10; 25 for companies): tiny
    /// series never spike.
    #[schemars(range(min = 0, max = 1000000))]
    min_baseline_mean: Option<f64>,
}

/// Ranking arguments on top of [`SignalArgs`].
#[derive(Debug, Deserialize, JsonSchema)]
struct RankArgs {
    /// How many of the largest values are scored (default 25).
    #[schemars(range(min = 1, max = 100))]
    trend_depth: Option<u32>,
    /// Ranked results returned (default 10).
    #[schemars(range(min = 1, max = 50))]
    top_n: Option<u32>,
}

/// `rank_group_spikes`' group.
#[derive(Debug, Deserialize, JsonSchema)]
struct GroupArgs {
    /// Rank `product`s or `issue`s.
    group: GroupArg,
}

/// `group` values.
#[derive(Clone, Copy, Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
enum GroupArg {
    Product,
    Issue,
}

/// A validated spike request: the trends query and how to score it.
#[derive(Clone, Debug, PartialEq)]
struct SpikeQuery {
    /// What to fetch.
    trends: TrendsQuery,
    /// How to score.
    baseline: Baseline,
    /// Ranked results returned.
    top_n: u32,
}

const SIGNAL_NAMES: &[&str] = &["trend_interval", "baseline_window", "min_baseline_mean"];
const RANK_NAMES: &[&str] = &["trend_depth", "top_n"];

fn signal_parts(
    parsed: SignalArgs,
    filters: SearchQuery,
    default_min_mean: f64,
) -> Result<(TrendsQuery, Baseline), ArgError> {
    let interval: TrendInterval = parsed
        .trend_interval
        .map_or_else(Default::default, Into::into);
    let window = trend_args::bounded(
        "baseline_window",
        parsed.baseline_window,
        DEFAULT_WINDOW,
        1,
        60,
    )?;
    let min_mean = trend_args::bounded_number(
        "min_baseline_mean",
        parsed.min_baseline_mean,
        default_min_mean,
        0.0,
        1_000_000.0,
    )?;
    Ok((
        TrendsQuery::overview(filters, interval),
        Baseline {
            window: window as usize,
            min_mean,
        },
    ))
}

/// Validates a tool's arguments (DATA-10); no I/O. `tool` is one of the three names.
fn parse_query(tool: &str, arguments: Option<JsonObject>) -> Result<SpikeQuery, ArgError> {
    match tool {
        OVERALL => {
            let (parsed, filters): (SignalArgs, _) = filters::parse(arguments, SIGNAL_NAMES)?;
            let (trends, baseline) = signal_parts(parsed, filters, 10.0)?;
            Ok(SpikeQuery {
                trends,
                baseline,
                top_n: 1,
            })
        }
        _ => {
            let is_groups = tool == GROUPS;
            let mut own: Vec<&str> = SIGNAL_NAMES.iter().chain(RANK_NAMES).copied().collect();
            if is_groups {
                own.push("group");
            }
            let object = arguments.unwrap_or_default();
            let lens = if is_groups {
                let (group, _): (GroupArgs, _) = filters::parse(Some(object.clone()), &own)?;
                match group.group {
                    GroupArg::Product => Lens::Product,
                    GroupArg::Issue => Lens::Issue,
                }
            } else {
                Lens::Company
            };
            let (rank, _): (RankArgs, _) = filters::parse(Some(object.clone()), &own)?;
            let (parsed, filters): (SignalArgs, _) = filters::parse(Some(object), &own)?;
            let (mut trends, baseline) =
                signal_parts(parsed, filters, if is_groups { 10.0 } else { 25.0 })?;
            trends.lens = lens;
            trends.trend_depth = trend_args::bounded(
                "trend_depth",
                rank.trend_depth,
                25,
                1,
                TrendsQuery::MAX_DEPTH,
            )?;
            let top_n = trend_args::bounded("top_n", rank.top_n, 10, 1, 50)?;
            Ok(SpikeQuery {
                trends,
                baseline,
                top_n,
            })
        }
    }
}

fn common_schema(extra: Value) -> Value {
    let mut properties = json!({
        "trend_interval": {"type": "string"},
        "total": {"type": "integer"},
        "citations": output::citations_schema()
    });
    if let (Value::Object(object), Value::Object(extra)) = (&mut properties, extra) {
        object.extend(extra);
    }
    properties
}

/// The three tools' descriptions for `tools/list`.
pub fn tools() -> Vec<Tool> {
    let signals_schema = json!({"type": ["object", "null"]});
    let ranked = json!({"type": "array", "items": {"type": "object", "properties": {
        "key": {"type": "string"}, "count": {"type": "integer"}, "signals": {"type": "object"}
    }, "required": ["key", "count", "signals"]}});
    let with_rank = |schema: Value| {
        common_schema(json!({
            "lens": {"type": "string"},
            "considered": {"type": "integer"},
            "results": schema,
        }))
    };
    let overall = Tool::new(
        OVERALL,
        "Spike signals for all CFPB complaints matching search_complaints' filters: the \
         latest trend bucket against the baseline of earlier buckets (change, ratio to the \
         baseline mean, z-score).",
        filters::input_schema::<SignalArgs>(filters::Filters::Schema),
    )
    .with_raw_output_schema(std::sync::Arc::new(output::data_schema(
        common_schema(json!({"signals": signals_schema})),
        &["trend_interval", "total", "signals", "citations"],
    )));
    let groups = Tool::new(
        GROUPS,
        "Rank CFPB complaint products or issues by how far their latest trend bucket spikes \
         above their own baseline (z-score, then ratio), with search_complaints' filters and \
         get_overall_trend_signals' scoring arguments.",
        args::undescribed(
            filters::input_schema::<MergedGroupArgs>(filters::Filters::Schema),
            SIGNAL_NAMES,
        ),
    )
    .with_raw_output_schema(std::sync::Arc::new(output::data_schema(
        with_rank(ranked.clone()),
        &["lens", "trend_interval", "total", "results", "citations"],
    )));
    let companies = Tool::new(
        COMPANIES,
        "The same ranking for the companies with the most CFPB complaints, with the \
         arguments of rank_group_spikes but group.",
        args::undescribed(
            filters::input_schema::<MergedRankArgs>(filters::Filters::Schema),
            &[SIGNAL_NAMES, RANK_NAMES].concat(),
        ),
    )
    .with_raw_output_schema(std::sync::Arc::new(output::data_schema(
        with_rank(ranked),
        &["lens", "trend_interval", "total", "results", "citations"],
    )));
    vec![
        output::titled(overall, "CFPB complaint trend signals", true),
        output::titled(groups, "Rank CFPB product or issue spikes", true),
        output::titled(companies, "Rank CFPB company spikes", true),
    ]
}

/// Schema only: `group` + ranking + signal arguments.
#[derive(JsonSchema)]
#[allow(dead_code)]
struct MergedGroupArgs {
    #[serde(flatten)]
    group: GroupArgs,
    #[serde(flatten)]
    rank: RankArgs,
    #[serde(flatten)]
    signal: SignalArgs,
}

/// Schema only: ranking + signal arguments.
#[derive(JsonSchema)]
#[allow(dead_code)]
struct MergedRankArgs {
    #[serde(flatten)]
    rank: RankArgs,
    #[serde(flatten)]
    signal: SignalArgs,
}

fn head(source: &DataSource, query: &SpikeQuery, total: u64) -> JsonObject {
    let mut result = output::envelope(source.mode());
    result.insert(
        "trend_interval".to_owned(),
        json!(query.trends.interval.as_str()),
    );
    result.insert("baseline_window".to_owned(), json!(query.baseline.window));
    result.insert(
        "min_baseline_mean".to_owned(),
        json!(query.baseline.min_mean),
    );
    result.insert("total".to_owned(), json!(total));
    result
}

/// Runs one of the three tools (DATA-10, DATA-4, MSG-5).
pub async fn call(
    source: &DataSource,
    tool: &str,
    arguments: Option<JsonObject>,
) -> CallToolResult {
    let query = match parse_query(tool, arguments) {
        Ok(query) => query,
        Err(error) => return output::error(error.to_string()),
    };
    let data = match source.trends(&query.trends).await {
        Ok(data) => data,
        Err(error) => return output::upstream_error(source.mode(), &error),
    };
    let mut result = head(source, &query, data.total);
    let citations = dashboard::citations(
        &query.trends.filters,
        trends::view(&query.trends),
        "The trends chart behind these signals on consumerfinance.gov",
    );
    if tool == OVERALL {
        let computed = signals::compute(&data.overall, query.baseline);
        result.insert(
            "signals".to_owned(),
            computed
                .as_ref()
                .map_or(Value::Null, |s| signals::to_json(s, query.baseline)),
        );
        if computed.is_none() {
            result.insert("note".to_owned(), json!("fewer than 2 buckets: no signals"));
        }
    } else {
        let scored: Vec<(String, u64, Signals)> = data
            .groups
            .iter()
            .filter_map(|group| {
                let points = signals::align(&group.points, &data.overall);
                Some((
                    group.key.clone(),
                    group.count,
                    signals::compute(&points, query.baseline)?,
                ))
            })
            .collect();
        let mut order: Vec<&(String, u64, Signals)> = scored.iter().collect();
        order.sort_by(|a, b| signals::rank_order((&a.0, &a.2), (&b.0, &b.2)));
        let results: Vec<Value> = order
            .into_iter()
            .take(query.top_n as usize)
            .map(|(key, count, s)| {
                json!({"key": key, "count": count, "signals": signals::to_json(s, query.baseline)})
            })
            .collect();
        result.insert("lens".to_owned(), json!(query.trends.lens.as_str()));
        result.insert("considered".to_owned(), json!(scored.len()));
        result.insert("results".to_owned(), Value::Array(results));
    }
    result.insert("citations".to_owned(), citations);
    output::success(result)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(tool: &str, value: Value) -> Result<SpikeQuery, ArgError> {
        parse_query(tool, value.as_object().cloned())
    }

    #[test]
    fn defaults_per_tool() {
        // DATA-10: defaults (window 8, min mean 10 / 25 for companies).
        let overall = parse(OVERALL, json!({})).expect("valid");
        assert_eq!(overall.trends.lens, Lens::Overview);
        assert_eq!(
            overall.baseline,
            Baseline {
                window: 8,
                min_mean: 10.0
            }
        );
        let groups = parse(GROUPS, json!({"group": "issue", "top_n": 3})).expect("valid");
        assert_eq!(
            (groups.trends.lens, groups.top_n, groups.trends.trend_depth),
            (Lens::Issue, 3, 25)
        );
        let companies = parse(COMPANIES, json!({"min_baseline_mean": 0})).expect("valid");
        assert_eq!(companies.trends.lens, Lens::Company);
        assert_eq!(companies.baseline.min_mean, 0.0);
        assert_eq!(
            parse(COMPANIES, json!({})).map(|q| q.baseline.min_mean),
            Ok(25.0)
        );
    }

    #[test]
    fn invalid_arguments_are_named() {
        for (tool, value, name) in [
            (OVERALL, json!({"baseline_window": 0}), "baseline_window"),
            (
                OVERALL,
                json!({"min_baseline_mean": -1}),
                "min_baseline_mean",
            ),
            (OVERALL, json!({"top_n": 3}), "top_n"),
            (GROUPS, json!({}), "group"),
            (GROUPS, json!({"group": "company"}), "group"),
            (GROUPS, json!({"group": "product", "top_n": 0}), "top_n"),
            (COMPANIES, json!({"trend_depth": 500}), "trend_depth"),
            (COMPANIES, json!({"group": "product"}), "group"),
            (
                COMPANIES,
                json!({"trend_interval": "decade"}),
                "trend_interval",
            ),
        ] {
            let error = parse(tool, value.clone()).expect_err("invalid");
            assert_eq!(error.argument.as_deref(), Some(name), "{tool} {value}");
        }
    }
}
