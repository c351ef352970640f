//! The `list_complaint_trends` tool (DATA-6): complaint counts over time,
//! overall and by product, issue or company, with the search filters, from
//! the CCDB5 `trends` endpoint (or the same computation offline).

use rmcp::model::{CallToolResult, JsonObject, Tool};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Value, json};

use super::answer::answer;
use super::args::{self, ArgError};
use super::dashboard::{self, Tab, View};
use super::trend_args::{self, IntervalArg, LensArg, SubLensArg};
use super::{filters, output};
use crate::data::{DataSource, Lens, TrendGroup, TrendsQuery};

/// The tool's name (MSG-4).
pub const NAME: &str = "list_complaint_trends";

const OWN: &[&str] = &[
    "lens",
    "trend_interval",
    "trend_depth",
    "sub_lens",
    "sub_lens_depth",
    "focus",
];

/// Complaint counts over time.
#[derive(Debug, Deserialize, JsonSchema)]
struct TrendsArgs {
    /// One series of all matches (overview, the default) or one per value.
    lens: Option<LensArg>,
    /// Bucket width (default month; weeks start on Monday).
    trend_interval: Option<IntervalArg>,
    /// Series for the largest N lens values (default 5).
    #[schemars(range(min = 1, max = 100))]
    trend_depth: Option<u32>,
    /// A second breakdown inside each lens value (not with overview).
    sub_lens: Option<SubLensArg>,
    /// Sub-lens values per lens value (default 5).
    #[schemars(range(min = 1, max = 100))]
    sub_lens_depth: Option<u32>,
    /// One lens value to focus on, e.g. "Mortgage" (not with overview).
    #[schemars(length(max = 500))]
    focus: Option<String>,
}

/// Validates client arguments into a trends query (DATA-6); no I/O.
fn parse_query(arguments: Option<JsonObject>) -> Result<TrendsQuery, ArgError> {
    let (parsed, filters): (TrendsArgs, _) = filters::parse(arguments, OWN)?;
    let lens: Lens = parsed.lens.map_or(Lens::Overview, Into::into);
    let focus = args::text("focus", parsed.focus)?;
    if lens == Lens::Overview && focus.is_some() {
        return Err(ArgError::named("focus", "needs a lens other than overview"));
    }
    if lens == Lens::Overview && parsed.sub_lens.is_some() {
        return Err(ArgError::named(
            "sub_lens",
            "needs a lens other than overview",
        ));
    }
    Ok(TrendsQuery {
        filters,
        lens,
        interval: parsed
            .trend_interval
            .map_or_else(Default::default, Into::into),
        trend_depth: trend_args::bounded(
            "trend_depth",
            parsed.trend_depth,
            TrendsQuery::DEFAULT_DEPTH,
            1,
            TrendsQuery::MAX_DEPTH,
        )?,
        sub_lens: parsed.sub_lens.map(Into::into),
        sub_lens_depth: trend_args::bounded(
            "sub_lens_depth",
            parsed.sub_lens_depth,
            TrendsQuery::DEFAULT_DEPTH,
            1,
            TrendsQuery::MAX_DEPTH,
        )?,
        focus,
    })
}

fn group(group: &TrendGroup) -> Value {
    json!({
        "key": group.key,
        "count": group.count,
        "points": output::series(&group.points),
        "sub_groups": group.sub_groups.iter().map(self::group).collect::<Vec<_>>(),
    })
}

/// The tool's description for `tools/list`.
pub fn tool() -> Tool {
    let group_schema = json!({"type": "object", "properties": {
        "key": {"type": "string"}, "count": {"type": "integer"},
        "points": output::series_schema(), "sub_groups": {"type": "array"}
    }, "required": ["key", "count", "points"]});
    let tool = Tool::new(
        NAME,
        "CFPB complaint counts over time, oldest bucket first: one series of all matches or \
         one per product, issue or company, with search_complaints' filters and a \
         consumerfinance.gov chart link.",
        filters::input_schema::<TrendsArgs>(filters::Filters::Schema),
    )
    .with_raw_output_schema(std::sync::Arc::new(output::data_schema(
        json!({
            "lens": {"type": "string"},
            "trend_interval": {"type": "string"},
            "total": {"type": "integer"},
            "overall": output::series_schema(),
            "groups": {"type": "array", "items": group_schema},
            "citations": output::citations_schema()
        }),
        &[
            "lens",
            "trend_interval",
            "total",
            "overall",
            "groups",
            "citations",
        ],
    )));
    output::titled(tool, "CFPB complaint trends", true)
}

/// The dashboard view of a trends query.
pub fn view(query: &TrendsQuery) -> View {
    View {
        tab: Tab::Trends,
        lens: Some(query.lens),
        sub_lens: query.sub_lens,
        interval: Some(query.interval),
    }
}

/// Runs the tool (DATA-6, DATA-4, MSG-5).
pub async fn call(source: &DataSource, arguments: Option<JsonObject>) -> CallToolResult {
    answer(
        source,
        parse_query(arguments),
        DataSource::trends,
        |query, trends, result| {
            result.insert("lens".to_owned(), json!(query.lens.as_str()));
            result.insert("trend_interval".to_owned(), json!(query.interval.as_str()));
            if let Some(focus) = &query.focus {
                result.insert("focus".to_owned(), json!(focus));
            }
            result.insert("total".to_owned(), json!(trends.total));
            result.insert("overall".to_owned(), output::series(&trends.overall));
            result.insert(
                "groups".to_owned(),
                Value::Array(trends.groups.iter().map(group).collect()),
            );
            result.insert(
                "citations".to_owned(),
                dashboard::citations(
                    &query.filters,
                    view(query),
                    "This trends chart on consumerfinance.gov",
                ),
            );
        },
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::{GroupField, TrendInterval};

    fn parse(value: Value) -> Result<TrendsQuery, ArgError> {
        parse_query(value.as_object().cloned())
    }

    #[test]
    fn defaults_and_every_argument() {
        // DATA-6
        let query = parse(json!({})).expect("valid");
        assert_eq!(
            (query.lens, query.interval, query.trend_depth),
            (Lens::Overview, TrendInterval::Month, 5)
        );
        let query = parse(
            json!({"lens": "product", "trend_interval": "week", "trend_depth": 3,
            "sub_lens": "sub_product", "sub_lens_depth": 2, "focus": "Mortgage", "state": "CA"}),
        )
        .expect("valid");
        assert_eq!(query.lens, Lens::Product);
        assert_eq!(query.sub_lens, Some(GroupField::SubProduct));
        assert_eq!((query.trend_depth, query.sub_lens_depth), (3, 2));
        assert_eq!(query.focus.as_deref(), Some("Mortgage"));
        assert_eq!(query.filters.state, vec!["CA"]);
    }

    #[test]
    fn invalid_arguments_are_named() {
        // DATA-6, DATA-1 style.
        for (value, name) in [
            (json!({"lens": "tags"}), "lens"),
            (json!({"trend_interval": "hour"}), "trend_interval"),
            (json!({"trend_depth": 0}), "trend_depth"),
            (json!({"trend_depth": 101}), "trend_depth"),
            (json!({"sub_lens_depth": -1}), "sub_lens_depth"),
            (json!({"focus": "Mortgage"}), "focus"),
            (json!({"sub_lens": "issue"}), "sub_lens"),
            (json!({"lens": "issue", "sub_lens": "zip"}), "sub_lens"),
            (
                json!({"date_received_max": "yesterday"}),
                "date_received_max",
            ),
            (json!({"interval": "month"}), "interval"),
        ] {
            let error = parse(value.clone()).expect_err("invalid");
            assert_eq!(error.argument.as_deref(), Some(name), "{value}");
        }
    }
}
