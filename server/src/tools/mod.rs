//! The MCP tools (MSG-4, DATA-1, DATA-2, DATA-4, DATA-6 to DATA-10), described
//! for `tools/list` and run for `tools/call` against a [`DataSource`]:
//! `search_complaints`, `get_complaint_document`, `list_complaint_trends`,
//! `get_state_aggregations`, `suggest_filter_values`,
//! `generate_cfpb_dashboard_url`, `get_overall_trend_signals`,
//! `rank_group_spikes`, `rank_company_spikes`. No tool knows which source
//! it reads.
//!
//! Layout: `args` (reading arguments), `answer` (the ask-and-shape tail
//! the data tools share), `filters` (the search filters every
//! aggregation tool shares), `trend_args`, `output` (result shapes),
//! `dashboard` (links to the CFPB dashboard), `signals` (spike arithmetic),
//! then one module per tool (`spikes` holds the three spike tools).
//!
//! Contract with the MCP layer: an unknown tool name is a JSON-RPC
//! invalid-params error; everything else (bad arguments, upstream failures,
//! not found) is a tool result with `isError: true` and a clear message, so
//! the session stays healthy (MSG-5). Nothing here panics on client or
//! upstream input.

// Doors: `list`, `NAMES`, `known_name` and `call` below, and the argument
// checks of two tools, which the fuzz targets run on their own
// (`search::parse_query`, `document::parse_id`, each module's `NAME`); the
// other rooms are private.
mod answer;
mod args;
mod dashboard;
pub mod document;
mod filters;
mod output;
pub mod search;
mod signals;
mod spikes;
mod states;
mod suggest;
mod trend_args;
mod trends;

/// What `search::parse_query` and `document::parse_id` reject with.
pub use self::args::ArgError;

use rmcp::ErrorData;
use rmcp::model::{CallToolResult, JsonObject, Tool};

use crate::data::DataSource;

/// Every tool, with JSON Schema `inputSchema`s and, where the result is
/// structured, `outputSchema`s (MSG-4). The schemas are generated once per
/// process; every `tools/list` gets a copy.
pub fn list() -> Vec<Tool> {
    static TOOLS: std::sync::OnceLock<Vec<Tool>> = std::sync::OnceLock::new();
    TOOLS
        .get_or_init(|| {
            let mut tools = vec![
                search::tool(),
                document::tool(),
                trends::tool(),
                states::tool(),
                suggest::tool(),
                dashboard::tool(),
            ];
            tools.extend(spikes::tools());
            tools
        })
        .clone()
}

/// Every tool's name, as `list` gives them.
pub const NAMES: &[&str] = &[
    search::NAME,
    document::NAME,
    trends::NAME,
    states::NAME,
    suggest::NAME,
    dashboard::NAME,
    spikes::OVERALL,
    spikes::GROUPS,
    spikes::COMPANIES,
];

/// The server's own `&'static` name for `name`, if it is one of its tools.
pub fn known_name(name: &str) -> Option<&'static str> {
    NAMES.iter().copied().find(|known| *known == name)
}

/// Runs tool `name` with `arguments` against `source`.
///
/// `Err` only for an unknown tool (JSON-RPC -32602, as the MCP spec asks);
/// every other failure is `Ok` with `is_error: Some(true)`.
pub async fn call(
    source: &DataSource,
    name: &str,
    arguments: Option<JsonObject>,
) -> Result<CallToolResult, ErrorData> {
    match name {
        search::NAME => Ok(search::call(source, arguments).await),
        document::NAME => Ok(document::call(source, arguments).await),
        trends::NAME => Ok(trends::call(source, arguments).await),
        states::NAME => Ok(states::call(source, arguments).await),
        suggest::NAME => Ok(suggest::call(source, arguments).await),
        dashboard::NAME => Ok(dashboard::call(arguments)),
        spikes::OVERALL | spikes::GROUPS | spikes::COMPANIES => {
            Ok(spikes::call(source, name, arguments).await)
        }
        _ => Err(ErrorData::invalid_params(
            format!("Unknown tool: {}", args::quote(name)),
            None,
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rmcp::model::ErrorCode;

    #[test]
    fn lists_every_tool_with_object_schemas() {
        // MSG-4: nine tools, each with a JSON Schema inputSchema.
        let tools = list();
        let names: Vec<&str> = tools.iter().map(|tool| tool.name.as_ref()).collect();
        assert_eq!(
            names,
            vec![
                "search_complaints",
                "get_complaint_document",
                "list_complaint_trends",
                "get_state_aggregations",
                "suggest_filter_values",
                "generate_cfpb_dashboard_url",
                "get_overall_trend_signals",
                "rank_group_spikes",
                "rank_company_spikes"
            ]
        );
        assert_eq!(names, NAMES, "NAMES lists every tool, in order");
        assert_eq!(known_name("rank_group_spikes"), Some("rank_group_spikes"));
        assert_eq!(known_name("search_complaints "), None);
        for tool in &tools {
            let output = tool.output_schema.clone().expect("an outputSchema");
            assert_eq!(output.get("type"), Some(&serde_json::json!("object")));
        }
        for tool in &tools {
            assert_eq!(
                tool.input_schema.get("type"),
                Some(&serde_json::json!("object"))
            );
            let annotations = tool.annotations.clone().unwrap_or_default();
            assert_eq!(annotations.read_only_hint, Some(true));
        }
        let document = &tools[1];
        assert_eq!(
            document.input_schema.get("required"),
            Some(&serde_json::json!(["complaint_id"]))
        );
    }

    /// Claude warns when the enabled servers' tool definitions pass ~20k
    /// tokens; tools/list is read into every conversation's context. The
    /// whole list, as compact JSON, stays within 20 KB (docs/tools.md has
    /// the figure and what was cut to get there).
    #[test]
    fn tools_list_fits_claudes_budget() {
        let bytes = serde_json::to_vec(&list()).expect("tools serialize").len();
        assert!(bytes <= 20_000, "tools/list is {bytes} bytes");
    }

    #[tokio::test]
    async fn unknown_tool_is_invalid_params() {
        // MSG-3 / MCP spec: unknown tool -> JSON-RPC -32602.
        let source = DataSource::fixtures().expect("fixtures load");
        let error = call(&source, "drop_tables", None)
            .await
            .expect_err("unknown tool");
        assert_eq!(error.code, ErrorCode::INVALID_PARAMS);
        assert_eq!(error.message, "Unknown tool: drop_tables");
        let long = "x".repeat(10_000);
        let error = call(&source, &long, None).await.expect_err("unknown tool");
        assert!(error.message.len() < 100, "the echoed name is bounded");
    }
}
