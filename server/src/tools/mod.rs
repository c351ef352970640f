//! The MCP tools (MSG-4, DATA-1, DATA-2, DATA-4): `search_complaints` and
//! `get_complaint_document`, described for `tools/list` and run for
//! `tools/call` against a [`DataSource`].
//!
//! Contract with the MCP layer: an unknown tool name is a JSON-RPC
//! invalid-params error; everything else (bad arguments, upstream failures,
//! not found) is a tool result with `isError: true` and a clear message, so
//! the session stays healthy (MSG-5). Nothing here panics on client or
//! upstream input.

pub mod args;
pub mod document;
pub mod output;
pub mod search;

use rmcp::ErrorData;
use rmcp::model::{CallToolResult, JsonObject, Tool};

use crate::data::DataSource;

/// Both tools, with JSON Schema `inputSchema`s (MSG-4). The schemas are
/// generated once per process; every `tools/list` gets a copy.
pub fn list() -> Vec<Tool> {
    static TOOLS: std::sync::OnceLock<Vec<Tool>> = std::sync::OnceLock::new();
    TOOLS
        .get_or_init(|| vec![search::tool(), document::tool()])
        .clone()
}

/// Every tool's name, as `list` gives them.
pub const NAMES: &[&str] = &[search::NAME, document::NAME];

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
    fn lists_both_tools_with_object_schemas() {
        // MSG-4: both tools, each with a JSON Schema inputSchema.
        let tools = list();
        let names: Vec<&str> = tools.iter().map(|tool| tool.name.as_ref()).collect();
        assert_eq!(names, vec!["search_complaints", "get_complaint_document"]);
        assert_eq!(names, NAMES, "NAMES lists every tool, in order");
        assert_eq!(known_name("search_complaints"), Some("search_complaints"));
        assert_eq!(known_name("search_complaints "), None);
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
