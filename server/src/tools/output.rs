//! Shaping tool results (DATA-4, DATA-5, MSG-5): the JSON both tools return
//! as text and as `structuredContent`, and the `isError` results.
//!
//! Every success says where its data came from (`"source"`); results from the
//! bundled dataset also carry a notice that they are synthetic. Error texts
//! are short and never embed an upstream body.

use rmcp::model::{CallToolResult, ContentBlock, JsonObject, Tool, ToolAnnotations};
use serde_json::{Value, json};

use crate::data::{Complaint, DataError, DataMode, complaint_url};

/// Said in every result served from the bundled dataset (DATA-5).
const FIXTURES_NOTICE: &str = "Synthetic offline dataset: these complaints and companies are \
     invented for development and demos. They are not CFPB data, and the links point where a \
     real complaint with that id would be.";

/// The start of every success: `{"source": "live" | "fixtures", ...}`.
pub fn envelope(mode: DataMode) -> JsonObject {
    let mut object = JsonObject::new();
    object.insert("source".to_owned(), json!(mode.as_str()));
    if mode == DataMode::Fixtures {
        object.insert("synthetic".to_owned(), json!(true));
        object.insert("notice".to_owned(), json!(FIXTURES_NOTICE));
    }
    object
}

/// A complaint as JSON with its CFPB `url`; with `preview_chars`, a longer
/// narrative is cut to that many characters and `narrative_truncated` is true.
pub fn complaint(complaint: &Complaint, preview_chars: Option<usize>) -> Value {
    let mut value = serde_json::to_value(complaint).unwrap_or_else(|_| json!({}));
    if let Value::Object(object) = &mut value {
        object.insert(
            "url".to_owned(),
            json!(complaint_url(complaint.complaint_id)),
        );
        if let Some(limit) = preview_chars {
            let mut truncated = false;
            if let Some(Value::String(text)) = object.get_mut("complaint_what_happened")
                && let Some((cut, _)) = text.char_indices().nth(limit)
            {
                text.truncate(cut);
                text.push('…');
                truncated = true;
            }
            object.insert("narrative_truncated".to_owned(), json!(truncated));
        }
    }
    value
}

/// `tool` with its `title` and the hints every tool here shares: read-only;
/// `open_world` when it reads the CFPB data (the pure link builder does
/// not; the spec's default is true, so only false is written). The spec gives `destructiveHint` and `idempotentHint` meaning only
/// when `readOnlyHint` is false, and `Tool.title` wins over the
/// annotations' title, so neither is repeated (tools/list's bytes are every
/// conversation's context, docs/tools.md).
pub fn titled(tool: Tool, title: &'static str, open_world: bool) -> Tool {
    // `openWorldHint` defaults to true: said only when false.
    let mut annotations = ToolAnnotations::new().read_only(true);
    if !open_world {
        annotations = annotations.open_world(false);
    }
    tool.with_title(title).with_annotations(annotations)
}

/// A JSON Schema object with these `properties` and `required` names, for
/// an `outputSchema` (MSG-4).
pub fn object_schema(properties: Value, required: &[&str]) -> JsonObject {
    let mut schema = JsonObject::new();
    schema.insert("type".to_owned(), json!("object"));
    schema.insert("properties".to_owned(), properties);
    schema.insert("required".to_owned(), json!(required));
    schema
}

/// [`object_schema`] with the [`envelope`]'s `source` added: the
/// `outputSchema` of a tool that reads a data source. The envelope's
/// optional `synthetic` and `notice` (fixtures only) are documented in
/// docs/tools.md, not in eight schemas: tools/list is read into every
/// conversation's context (docs/tools.md, its size).
pub fn data_schema(properties: Value, required: &[&str]) -> JsonObject {
    let mut properties = properties;
    if let Value::Object(object) = &mut properties {
        object.insert(
            "source".to_owned(),
            json!({"type": "string", "enum": ["live", "fixtures"]}),
        );
    }
    let mut names = vec!["source"];
    names.extend_from_slice(required);
    object_schema(properties, &names)
}

/// Schema of one complaint as [`complaint`] writes it: every CCDB field
/// required (text or null, unless listed in `properties`: the id, `tags` a
/// list, `has_narrative`), the CFPB `url`, and, in search previews,
/// `narrative_truncated` (MSG-4). The text-or-null fields are said once, as
/// `additionalProperties`: the same record, a third of the bytes of naming
/// each (tools/list is every conversation's context, docs/tools.md).
pub fn complaint_schema(preview: bool) -> Value {
    let mut properties = JsonObject::new();
    for name in Complaint::FIELDS {
        let schema = match name {
            "complaint_id" => json!({"type": "string", "pattern": "^[0-9]+$"}),
            "tags" => json!({"type": "array", "items": {"type": "string"}}),
            "has_narrative" => json!({"type": ["boolean", "null"]}),
            _ => continue,
        };
        properties.insert(name.to_owned(), schema);
    }
    properties.insert("url".to_owned(), json!({"type": "string", "format": "uri"}));
    let mut required: Vec<&str> = Complaint::FIELDS.to_vec();
    required.push("url");
    if preview {
        properties.insert("narrative_truncated".to_owned(), json!({"type": "boolean"}));
        required.push("narrative_truncated");
    }
    let mut schema = object_schema(Value::Object(properties), &required);
    schema.insert(
        "additionalProperties".to_owned(),
        json!({"type": ["string", "null"]}),
    );
    Value::Object(schema)
}

/// Schema of a `citations` array.
pub fn citations_schema() -> Value {
    // `type`, `url` and `description`, all text: said once.
    json!({"type": "array", "items": {"type": "object",
        "additionalProperties": {"type": "string"}, "required": ["type", "url"]}})
}

/// Schema of a series: `[{period: "YYYY-MM-DD", count}]`.
pub fn series_schema() -> Value {
    json!({"type": "array", "items": {"type": "object", "properties": {
        "period": {"type": "string"}, "count": {"type": "integer"}
    }, "required": ["period", "count"]}})
}

/// A series as JSON: `[{period, count}]`.
pub fn series(points: &[crate::data::TrendPoint]) -> Value {
    Value::Array(
        points
            .iter()
            .map(|point| json!({"period": point.period.to_string(), "count": point.count}))
            .collect(),
    )
}

/// A success: the JSON as text content and as structured content (DATA-4).
pub fn success(object: JsonObject) -> CallToolResult {
    CallToolResult::structured(Value::Object(object))
}

/// An `isError` result with this message.
pub fn error(message: impl Into<String>) -> CallToolResult {
    CallToolResult::error(vec![ContentBlock::text(message.into())])
}

/// An `isError` result for a failed data source (MSG-5).
pub fn upstream_error(mode: DataMode, failure: &DataError) -> CallToolResult {
    match mode {
        DataMode::Live => error(format!("CFPB API request failed: {failure}")),
        DataMode::Fixtures => error(format!("Fixture data source failed: {failure}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixtures_results_are_marked_synthetic() {
        // DATA-5
        let envelope = envelope(DataMode::Fixtures);
        assert_eq!(envelope["source"], "fixtures");
        assert_eq!(envelope["synthetic"], true);
        let live = super::envelope(DataMode::Live);
        assert_eq!(live["source"], "live");
        assert!(live.get("synthetic").is_none());
    }

    #[test]
    fn previews_cut_on_character_boundaries() {
        let long = Complaint {
            complaint_id: 9,
            complaint_what_happened: Some("é".repeat(1200)),
            ..Complaint::default()
        };
        let value = complaint(&long, Some(1000));
        assert_eq!(value["narrative_truncated"], true);
        assert_eq!(
            value["complaint_what_happened"]
                .as_str()
                .map(|t| t.chars().count()),
            Some(1001)
        );
        let full = complaint(&long, None);
        assert!(full.get("narrative_truncated").is_none());
        assert_eq!(
            full["complaint_what_happened"]
                .as_str()
                .map(|t| t.chars().count()),
            Some(1200)
        );
        assert_eq!(
            full["url"],
            "https://www.consumerfinance.gov/data-research/consumer-complaints/search/detail/9"
        );
    }

    #[test]
    fn upstream_errors_read_clearly() {
        // MSG-5
        let result = upstream_error(DataMode::Live, &DataError::Status(503));
        assert_eq!(result.is_error, Some(true));
        assert_eq!(
            result.content[0].as_text().map(|t| t.text.as_str()),
            Some("CFPB API request failed: upstream returned HTTP 503")
        );
    }
}
