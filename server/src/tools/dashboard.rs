//! Deep links to the official CFPB complaint dashboard (DATA-4, DATA-9): the
//! URL for a set of search filters and a view (list, trends, map), and the
//! pure `generate_cfpb_dashboard_url` tool that returns one.
//!
//! The parameter names are the dashboard's own (cfpb/ccdb5-ui, see
//! docs/tools.md): `searchText`, `searchField`, the filter names as in the
//! API, `tab` (`List`, `Trends`, `Map`), `lens`, `subLens`, `dateInterval`,
//! `chartType`. The dashboard can only filter `has_narrative=true`; a `false`
//! filter is left out of the link and said so. Never calls a data source.

use rmcp::model::{CallToolResult, JsonObject, Tool};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Value, json};
use url::Url;

use super::{filters, output};
use crate::data::{GroupField, Lens, SearchQuery, TrendInterval};

/// The tool's name (MSG-4).
pub const NAME: &str = "generate_cfpb_dashboard_url";

/// The official dashboard.
const DASHBOARD_BASE: &str =
    "https://www.consumerfinance.gov/data-research/consumer-complaints/search/";

/// Which dashboard tab a link opens.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
// No doc comments on the variants: schemars would turn them into a `oneOf`
// of described constants instead of a plain `enum` (tools/list bytes).
pub enum Tab {
    #[default]
    List,
    Trends,
    Map,
}

impl Tab {
    fn as_str(self) -> &'static str {
        match self {
            Tab::List => "List",
            Tab::Trends => "Trends",
            Tab::Map => "Map",
        }
    }
}

/// What the link shows beyond the filters.
#[derive(Clone, Copy, Debug, Default)]
pub struct View {
    /// The tab.
    pub tab: Tab,
    /// Trends: the lens.
    pub lens: Option<Lens>,
    /// Trends: the sub-lens.
    pub sub_lens: Option<GroupField>,
    /// Trends: the bucket width.
    pub interval: Option<TrendInterval>,
}

fn capitalized(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// The dashboard URL for `filters` shown as `view`.
pub fn url(filters: &SearchQuery, view: View) -> String {
    let mut url = match Url::parse(DASHBOARD_BASE) {
        Ok(url) => url,
        Err(_) => return DASHBOARD_BASE.to_owned(),
    };
    {
        let mut pairs = url.query_pairs_mut();
        if let Some(term) = &filters.search_term {
            pairs.append_pair("searchText", term);
            pairs.append_pair("searchField", filters.field.as_str());
        }
        let lists: [(&str, &Vec<String>); 7] = [
            ("company", &filters.company),
            ("product", &filters.product),
            ("issue", &filters.issue),
            ("state", &filters.state),
            ("submitted_via", &filters.submitted_via),
            ("tags", &filters.tags),
            ("company_response", &filters.company_response),
        ];
        for (name, values) in lists {
            for value in values {
                pairs.append_pair(name, value);
            }
        }
        if let Some(day) = filters.date_received_min {
            pairs.append_pair("date_received_min", &day.to_string());
        }
        if let Some(day) = filters.date_received_max {
            pairs.append_pair("date_received_max", &day.to_string());
        }
        if filters.has_narrative == Some(true) {
            pairs.append_pair("has_narrative", "true");
        }
        if view.tab == Tab::Trends {
            pairs.append_pair("chartType", "line");
            let interval = view.interval.unwrap_or_default();
            pairs.append_pair("dateInterval", &capitalized(interval.as_str()));
            pairs.append_pair("lens", &capitalized(view.lens.unwrap_or_default().as_str()));
            if let Some(sub_lens) = view.sub_lens {
                pairs.append_pair("subLens", sub_lens.as_str());
            }
        }
        pairs.append_pair("tab", view.tab.as_str());
    }
    url.into()
}

/// A `citations` entry: `{type, url, description}`.
pub fn citation(kind: &str, url: String, description: &str) -> Value {
    json!({"type": kind, "url": url, "description": description})
}

/// The citations of an aggregation result: the view itself and the matching list.
pub fn citations(filters: &SearchQuery, view: View, description: &str) -> Value {
    let mut list = vec![citation(
        match view.tab {
            Tab::List => "search_results",
            Tab::Trends => "trends_chart",
            Tab::Map => "geographic_map",
        },
        url(filters, view),
        description,
    )];
    if view.tab != Tab::List {
        list.push(citation(
            "search_results",
            url(filters, View::default()),
            "Browse the matching complaints on consumerfinance.gov",
        ));
    }
    Value::Array(list)
}

const OWN: &[&str] = &["tab", "lens", "sub_lens", "trend_interval"];

/// Build a link to the official CFPB complaint dashboard with these filters.
#[derive(Debug, Deserialize, JsonSchema)]
struct DashboardArgs {
    // Said in the tool's description (tools/list bytes, docs/tools.md).
    tab: Option<Tab>,
    lens: Option<super::trend_args::LensArg>,
    sub_lens: Option<super::trend_args::SubLensArg>,
    trend_interval: Option<super::trend_args::IntervalArg>,
}

/// The tool's description for `tools/list`.
pub fn tool() -> Tool {
    let tool = Tool::new(
        NAME,
        "A link to the official CFPB complaint dashboard on consumerfinance.gov with \
         search_complaints' filters, for people to explore: tab list (default), trends (shaped by lens, sub_lens, trend_interval) or map. Fetches no data.",
        filters::input_schema::<DashboardArgs>(filters::Filters::Schema),
    )
    .with_raw_output_schema(std::sync::Arc::new(output::object_schema(
        json!({
            "url": {"type": "string"},
            "tab": {"type": "string"},
            "notes": {"type": "array", "items": {"type": "string"}}
        }),
        &["url", "tab"],
    )));
    output::titled(tool, "Link to the CFPB complaint dashboard", false)
}

/// Runs the tool: pure, no data source (DATA-9).
pub fn call(arguments: Option<JsonObject>) -> CallToolResult {
    let (parsed, query): (DashboardArgs, SearchQuery) = match filters::parse(arguments, OWN) {
        Ok(parsed) => parsed,
        Err(error) => return output::error(error.to_string()),
    };
    let tab = parsed.tab.unwrap_or_default();
    let view = View {
        tab,
        lens: parsed.lens.map(Into::into),
        sub_lens: parsed.sub_lens.map(Into::into),
        interval: parsed.trend_interval.map(Into::into),
    };
    let mut notes = Vec::new();
    if query.has_narrative == Some(false) {
        notes.push(json!(
            "The dashboard can only filter complaints with a narrative; has_narrative=false is not in the link."
        ));
    }
    if tab != Tab::Trends
        && (view.lens.is_some() || view.sub_lens.is_some() || view.interval.is_some())
    {
        notes.push(json!(
            "lens, sub_lens and trend_interval apply to the trends tab only."
        ));
    }
    let mut result = JsonObject::new();
    result.insert("url".to_owned(), json!(url(&query, view)));
    result.insert("tab".to_owned(), json!(tab.as_str()));
    result.insert("notes".to_owned(), Value::Array(notes));
    output::success(result)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::CalendarDate;

    #[test]
    fn list_link_carries_every_filter() {
        // DATA-9: the dashboard's own parameter names.
        let query = SearchQuery {
            search_term: Some("late fee".to_owned()),
            product: vec!["Mortgage".to_owned(), "Credit card".to_owned()],
            state: vec!["CA".to_owned()],
            date_received_min: CalendarDate::parse("2020-01-01"),
            has_narrative: Some(true),
            ..SearchQuery::default()
        };
        assert_eq!(
            url(&query, View::default()),
            "https://www.consumerfinance.gov/data-research/consumer-complaints/search/\
             ?searchText=late+fee&searchField=complaint_what_happened&product=Mortgage\
             &product=Credit+card&state=CA&date_received_min=2020-01-01&has_narrative=true&tab=List"
        );
    }

    #[test]
    fn trends_link_has_lens_interval_and_chart() {
        let view = View {
            tab: Tab::Trends,
            lens: Some(Lens::Product),
            sub_lens: Some(GroupField::SubProduct),
            interval: Some(TrendInterval::Quarter),
        };
        assert_eq!(
            url(&SearchQuery::default(), view),
            "https://www.consumerfinance.gov/data-research/consumer-complaints/search/\
             ?chartType=line&dateInterval=Quarter&lens=Product&subLens=sub_product&tab=Trends"
        );
    }

    #[test]
    fn tool_validates_and_notes_what_the_dashboard_cannot_show() {
        let result = call(
            json!({"tab": "map", "has_narrative": false, "state": ["TX"]})
                .as_object()
                .cloned(),
        );
        let structured = result.structured_content.expect("structured");
        assert_eq!(structured["tab"], "Map");
        assert!(
            structured["url"]
                .as_str()
                .is_some_and(|u| u.ends_with("?state=TX&tab=Map"))
        );
        assert_eq!(structured["notes"].as_array().map(Vec::len), Some(1));
        let error = call(json!({"tab": "pie"}).as_object().cloned());
        assert_eq!(error.is_error, Some(true));
        let text = error.content[0]
            .as_text()
            .map(|t| t.text.clone())
            .unwrap_or_default();
        assert!(text.starts_with("Invalid argument `tab`"), "{text}");
    }
}
