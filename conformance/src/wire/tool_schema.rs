//! Tool schemas as the MCP specification asks of them (docs/contract.md
//! MSG-4): every `inputSchema` and `outputSchema` in a `tools/list` result
//! is valid JSON Schema, and a successful `tools/call` result of a tool that
//! declares an `outputSchema` carries `structuredContent` that conforms to
//! it ("servers MUST provide structured results that conform to this
//! schema"). Pure functions over JSON values; the schemas come from the
//! target, so nothing is fetched (`$ref`s to other documents fail to
//! compile) and every report is bounded.

use serde_json::Value;

/// At most this many problems are reported per schema or result.
pub const MAX_PROBLEMS: usize = 5;

/// What the MCP specification asks of every tool in a `tools/list` result, whatever the
/// server: a `result.tools` array whose every tool has a non-empty string `name`, a
/// non-empty string `description` and an `inputSchema` that is an object schema
/// (`"type": "object"`). At most `MAX_PROBLEMS` problems; empty when all is well.
pub fn generic_tool_problems(tools_list: &Value) -> Vec<String> {
    let Some(tools) = tools_list
        .pointer("/result/tools")
        .and_then(Value::as_array)
    else {
        return vec!["no result.tools array".into()];
    };
    let nonempty = |v: Option<&Value>| {
        v.and_then(Value::as_str)
            .is_some_and(|s| !s.trim().is_empty())
    };
    let mut problems = Vec::new();
    for (i, t) in tools.iter().enumerate() {
        let name = t
            .get("name")
            .and_then(Value::as_str)
            .map_or_else(|| format!("tool {}", i + 1), |n| format!("`{n}`"));
        if !nonempty(t.get("name")) {
            problems.push(format!("{name} has no name"));
        }
        if !nonempty(t.get("description")) {
            problems.push(format!("{name} has no description"));
        }
        let schema = t.get("inputSchema");
        if !schema.is_some_and(Value::is_object)
            || schema.and_then(|s| s.get("type")) != Some(&Value::from("object"))
        {
            problems.push(format!(
                "{name} has no object inputSchema (`\"type\": \"object\"`)"
            ));
        }
    }
    problems.truncate(MAX_PROBLEMS);
    problems
}

/// Why the schemas of `tool` (one entry of `result.tools`) are not valid JSON
/// Schema; empty when they are, or when it declares none.
pub fn schema_problems(tool: &Value) -> Vec<String> {
    let name = tool_name(tool);
    let mut problems = Vec::new();
    for member in ["inputSchema", "outputSchema"] {
        if let Some(schema) = tool.get(member)
            && let Err(problem) = compile(schema)
        {
            problems.push(format!(
                "`{name}` {member} is not valid JSON Schema: {problem}"
            ));
        }
    }
    problems
}

/// Why `result` (a `tools/call` result object) does not conform to the
/// `outputSchema` that `tool` declares. Empty when it does, when the tool
/// declares none, or when the result is a tool error (`isError: true`),
/// which the specification leaves unstructured.
pub fn result_problems(tool: &Value, result: &Value) -> Vec<String> {
    let name = tool_name(tool);
    let Some(schema) = tool.get("outputSchema") else {
        return Vec::new();
    };
    if result.get("isError") == Some(&Value::Bool(true)) {
        return Vec::new();
    }
    let Some(structured) = result.get("structuredContent") else {
        return vec![format!(
            "`{name}` declares an outputSchema but its result has no structuredContent"
        )];
    };
    let validator = match compile(schema) {
        Ok(validator) => validator,
        Err(problem) => return vec![format!("`{name}` outputSchema: {problem}")],
    };
    validator
        .iter_errors(structured)
        .take(MAX_PROBLEMS)
        .map(|error| {
            let at = error.instance_path().to_string();
            let at = if at.is_empty() {
                "/".to_owned()
            } else {
                bounded(&at)
            };
            format!(
                "`{name}` structuredContent at {at}: {}",
                bounded(&error.masked().to_string())
            )
        })
        .collect()
}

fn tool_name(tool: &Value) -> String {
    bounded(tool.get("name").and_then(Value::as_str).unwrap_or("?"))
}

fn compile(schema: &Value) -> Result<jsonschema::Validator, String> {
    if !schema.is_object() && !schema.is_boolean() {
        return Err("not an object".into());
    }
    jsonschema::meta::validate(schema).map_err(|error| bounded(&error.masked().to_string()))?;
    jsonschema::validator_for(schema).map_err(|error| bounded(&error.masked().to_string()))
}

/// The longest piece of target-controlled text (a name, a path, a
/// validator message) a problem line quotes, in characters.
pub const MAX_QUOTED: usize = 160;

/// `text` cut to [`MAX_QUOTED`] characters.
fn bounded(text: &str) -> String {
    match text.char_indices().nth(MAX_QUOTED) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn tool() -> Value {
        json!({"name": "t", "inputSchema": {"type": "object"},
               "outputSchema": {"type": "object", "required": ["total"],
                                "properties": {"total": {"type": "integer"}}}})
    }

    #[test]
    fn conforming_results_and_tool_errors_pass() {
        let ok = json!({"content": [], "structuredContent": {"total": 3}});
        assert!(result_problems(&tool(), &ok).is_empty());
        let error = json!({"content": [{"type": "text", "text": "bad"}], "isError": true});
        assert!(result_problems(&tool(), &error).is_empty());
        let no_schema = json!({"name": "u", "inputSchema": {"type": "object"}});
        assert!(result_problems(&no_schema, &json!({"content": []})).is_empty());
        assert!(schema_problems(&tool()).is_empty());
    }

    #[test]
    fn breaking_results_are_reported_with_their_place() {
        let wrong = json!({"structuredContent": {"total": "three"}});
        let problems = result_problems(&tool(), &wrong);
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(
            problems[0].starts_with("`t` structuredContent at /total:"),
            "{problems:?}"
        );
        let missing = json!({"structuredContent": {}});
        assert_eq!(result_problems(&tool(), &missing).len(), 1);
        let absent = json!({"content": []});
        assert_eq!(
            result_problems(&tool(), &absent),
            vec!["`t` declares an outputSchema but its result has no structuredContent"]
        );
    }

    #[test]
    fn invalid_schemas_are_reported_and_nothing_is_fetched() {
        let bad = json!({"name": "t", "inputSchema": {"type": "objekt"},
                         "outputSchema": {"$ref": "https://example.invalid/schema.json"}});
        let problems = schema_problems(&bad);
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert!(problems[0].contains("inputSchema"), "{problems:?}");
        assert!(problems[1].contains("outputSchema"), "{problems:?}");
    }

    #[test]
    fn reports_are_bounded() {
        let many: serde_json::Map<String, Value> = (0..50)
            .map(|i| (format!("f{i}"), json!({"type": "integer"})))
            .collect();
        let tool = json!({"name": "n".repeat(1000), "outputSchema": {"type": "object", "properties": many}});
        let wrong: serde_json::Map<String, Value> = (0..50)
            .map(|i| (format!("f{i}"), json!("x".repeat(1000))))
            .collect();
        let problems = result_problems(&tool, &json!({"structuredContent": wrong}));
        assert_eq!(problems.len(), MAX_PROBLEMS);
        assert!(
            problems.iter().all(|p| p.chars().count() < 400),
            "{problems:?}"
        );
    }
}

#[cfg(test)]
mod generic_tests {
    use super::generic_tool_problems;
    use serde_json::json;

    #[test]
    fn every_tool_needs_a_description_and_an_object_input_schema() {
        let good = json!({"result":{"tools":[{"name":"x","description":"d","inputSchema":{"type":"object"}}]}});
        assert!(generic_tool_problems(&good).is_empty());
        let bad = json!({"result":{"tools":[{"name":"x","inputSchema":{"type":"string"}}]}});
        assert_eq!(generic_tool_problems(&bad).len(), 2);
        assert!(!generic_tool_problems(&json!({"result":{}})).is_empty());
    }
}
