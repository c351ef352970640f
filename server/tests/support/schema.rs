//! Checking tool results against the schemas `tools/list` advertises (MSG-4):
//! every schema must itself be valid JSON Schema, and a success's
//! `structuredContent` must match its tool's `outputSchema` (the MCP spec:
//! "servers MUST provide structured results that conform to this schema";
//! the official SDK clients validate it). Shared by the tests that call tools.

// Each test binary that includes this module uses a part of it.
#![allow(dead_code)]

use cfpb_mcp_server::tools;
use rmcp::model::{CallToolResult, JsonObject};
use serde_json::Value;

/// The tool called `name`, as `tools/list` describes it.
fn listed(name: &str) -> rmcp::model::Tool {
    tools::list()
        .into_iter()
        .find(|tool| tool.name == name)
        .unwrap_or_else(|| panic!("`{name}` is not listed"))
}

/// `schema`, checked against the JSON Schema meta-schema and compiled.
fn compiled(what: &str, schema: &JsonObject) -> jsonschema::Validator {
    let schema = Value::Object(schema.clone());
    if let Err(error) = jsonschema::meta::validate(&schema) {
        panic!("{what} is not valid JSON Schema: {error}");
    }
    jsonschema::validator_for(&schema).unwrap_or_else(|error| panic!("{what}: {error}"))
}

/// Every way `instance` breaks `validator`, one line each (empty when it conforms).
fn violations(validator: &jsonschema::Validator, instance: &Value) -> Vec<String> {
    validator
        .iter_errors(instance)
        .map(|error| format!("{}: {error}", error.instance_path()))
        .collect()
}

/// Why `arguments` break `name`'s `inputSchema` (empty when they conform).
pub fn input_violations(name: &str, arguments: &Value) -> Vec<String> {
    let tool = listed(name);
    let validator = compiled(&format!("{name}'s inputSchema"), &tool.input_schema);
    violations(&validator, arguments)
}

/// Why `structured` breaks `name`'s `outputSchema` (empty when it conforms).
pub fn output_violations(name: &str, structured: &Value) -> Vec<String> {
    let tool = listed(name);
    let schema = tool
        .output_schema
        .unwrap_or_else(|| panic!("`{name}` has no outputSchema"));
    let validator = compiled(&format!("{name}'s outputSchema"), &schema);
    violations(&validator, structured)
}

/// Panics unless `result` is a success whose `structuredContent` matches
/// `name`'s `outputSchema` and whose text is the same JSON (DATA-4).
pub fn assert_conforms(name: &str, result: &CallToolResult) {
    assert_eq!(result.is_error, Some(false), "{name}: {result:?}");
    let structured = result
        .structured_content
        .clone()
        .unwrap_or_else(|| panic!("{name}: no structuredContent"));
    let problems = output_violations(name, &structured);
    assert!(
        problems.is_empty(),
        "{name}'s result breaks its outputSchema:\n{}",
        problems.join("\n")
    );
    let text = result
        .content
        .first()
        .and_then(|block| block.as_text())
        .map(|text| text.text.clone())
        .unwrap_or_default();
    let from_text: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
    assert_eq!(
        from_text, structured,
        "{name}: text and structuredContent differ"
    );
}
