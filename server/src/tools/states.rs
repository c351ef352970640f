//! The `get_state_aggregations` tool (DATA-7): complaint counts by US state
//! with the search filters, from the CCDB5 `geo/states` endpoint (or the
//! same computation offline).

use rmcp::model::{CallToolResult, JsonObject, Tool};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Value, json};

use super::answer::answer;
use super::args::ArgError;
use super::dashboard::{self, Tab, View};
use super::{filters, output};
use crate::data::{DataSource, SearchQuery};

/// The tool's name (MSG-4).
pub const NAME: &str = "get_state_aggregations";

/// Complaint counts by state (the filters are the only arguments).
#[derive(Debug, Deserialize, JsonSchema)]
struct StatesArgs {}

/// Validates client arguments into the filters (DATA-7); no I/O.
fn parse_query(arguments: Option<JsonObject>) -> Result<SearchQuery, ArgError> {
    let (_, query): (StatesArgs, SearchQuery) = filters::parse(arguments, &[])?;
    Ok(query)
}

/// The tool's description for `tools/list`.
pub fn tool() -> Tool {
    let tool = Tool::new(
        NAME,
        "CFPB complaint counts per US state or territory, largest first, with \
         search_complaints' filters and a consumerfinance.gov map link.",
        filters::input_schema::<StatesArgs>(filters::Filters::Schema),
    )
    .with_raw_output_schema(std::sync::Arc::new(output::data_schema(
        json!({
            "total": {"type": "integer"},
            "states": {"type": "array", "items": {"type": "object", "properties": {
                "state": {"type": "string"}, "count": {"type": "integer"}
            }, "required": ["state", "count"]}},
            "citations": output::citations_schema()
        }),
        &["total", "states", "citations"],
    )));
    output::titled(tool, "CFPB complaints by state", true)
}

/// Runs the tool (DATA-7, DATA-4, MSG-5).
pub async fn call(source: &DataSource, arguments: Option<JsonObject>) -> CallToolResult {
    answer(
        source,
        parse_query(arguments),
        DataSource::states,
        |query, counts, result| {
            result.insert("total".to_owned(), json!(counts.total));
            result.insert(
                "states".to_owned(),
                Value::Array(
                    counts
                        .states
                        .iter()
                        .map(|s| json!({"state": s.state, "count": s.count}))
                        .collect(),
                ),
            );
            let view = View {
                tab: Tab::Map,
                ..View::default()
            };
            result.insert(
                "citations".to_owned(),
                dashboard::citations(query, view, "This map on consumerfinance.gov"),
            );
        },
    )
    .await
}
