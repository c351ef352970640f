//! The `get_complaint_document` tool (DATA-2, DATA-4): one complaint by id,
//! with its full narrative, or a clear not-found tool error.

use std::borrow::Cow;

use rmcp::model::{CallToolResult, JsonObject, Tool};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Value, json};

use super::args::{self, ArgError};
use super::{dashboard, output};
use crate::data::{DataSource, complaint_url};

/// The tool's name (MSG-4).
pub const NAME: &str = "get_complaint_document";

/// The most digits a complaint id may have (CFPB ids have 7 or 8 today).
const MAX_ID_DIGITS: usize = 15;

const ALLOWED: &[&str] = &["complaint_id"];

/// Fetch one complaint from the CFPB Consumer Complaint Database by its id.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct GetComplaintDocumentArgs {
    /// Digits, e.g. "1234567" (an integer works too).
    #[schemars(schema_with = "complaint_id_schema")]
    complaint_id: Value,
}

fn complaint_id_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    let pattern = format!("^[0-9]{{1,{MAX_ID_DIGITS}}}$");
    // ok: json_schema! unwraps only on this object literal (always an object).
    schemars::json_schema!({
        "anyOf": [
            {"type": "string", "pattern": pattern},
            {"type": "integer", "minimum": 0, "maximum": 999_999_999_999_999_u64}
        ]
    })
}

/// The tool's description for `tools/list`.
pub(super) fn tool() -> Tool {
    let tool = Tool::new(
        NAME,
        Cow::Borrowed(
            "One CFPB complaint by complaint_id (from search_complaints), with its full \
             narrative when published and its consumerfinance.gov link.",
        ),
        args::input_schema::<GetComplaintDocumentArgs>(),
    )
    .with_raw_output_schema(std::sync::Arc::new(output::data_schema(
        json!({
            "complaint": output::complaint_schema(false),
            "citations": output::citations_schema()
        }),
        &["complaint", "citations"],
    )));
    output::titled(tool, "Get a CFPB consumer complaint", true)
}

/// Validates client arguments into a complaint id (DATA-2); no I/O.
pub fn parse_id(arguments: Option<JsonObject>) -> Result<u64, ArgError> {
    let parsed: GetComplaintDocumentArgs = args::parse(arguments, ALLOWED)?;
    const PROBLEM: &str =
        "must be a complaint id: a string of 1 to 15 digits, or a non-negative integer";
    match parsed.complaint_id {
        Value::String(text) => {
            let text = text.trim();
            if text.is_empty()
                || text.len() > MAX_ID_DIGITS
                || !text.bytes().all(|b| b.is_ascii_digit())
            {
                return Err(ArgError::named("complaint_id", PROBLEM));
            }
            text.parse()
                .map_err(|_| ArgError::named("complaint_id", PROBLEM))
        }
        Value::Number(number) => match number.as_u64() {
            Some(id) if id.to_string().len() <= MAX_ID_DIGITS => Ok(id),
            _ => Err(ArgError::named("complaint_id", PROBLEM)),
        },
        _ => Err(ArgError::named("complaint_id", PROBLEM)),
    }
}

/// Runs the tool (DATA-2, DATA-4, MSG-5).
pub(super) async fn call(source: &DataSource, arguments: Option<JsonObject>) -> CallToolResult {
    let complaint_id = match parse_id(arguments) {
        Ok(id) => id,
        Err(error) => return output::error(error.to_string()),
    };
    match source.document(complaint_id).await {
        Ok(Some(complaint)) => {
            let mut result = output::envelope(source.mode());
            result.insert("complaint".to_owned(), output::complaint(&complaint, None));
            result.insert(
                "citations".to_owned(),
                json!([dashboard::citation(
                    "complaint",
                    complaint_url(complaint.complaint_id),
                    "This complaint on consumerfinance.gov"
                )]),
            );
            output::success(result)
        }
        Ok(None) => output::error(format!("No complaint with id {complaint_id}")),
        Err(error) => output::upstream_error(source.mode(), &error),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse(value: Value) -> Result<u64, ArgError> {
        parse_id(value.as_object().cloned())
    }

    #[test]
    fn accepts_digit_strings_and_integers() {
        // DATA-2: complaint_id (digits).
        assert_eq!(parse(json!({"complaint_id": "1234567"})), Ok(1234567));
        assert_eq!(parse(json!({"complaint_id": " 42 "})), Ok(42));
        assert_eq!(parse(json!({"complaint_id": 42})), Ok(42));
    }

    #[test]
    fn rejects_everything_else_naming_complaint_id() {
        // DATA-2: invalid ids are named tool errors.
        for value in [
            json!({"complaint_id": "12a"}),
            json!({"complaint_id": "-1"}),
            json!({"complaint_id": "+1"}),
            json!({"complaint_id": ""}),
            json!({"complaint_id": "1".repeat(16)}),
            json!({"complaint_id": -1}),
            json!({"complaint_id": 1.5}),
            json!({"complaint_id": 10_000_000_000_000_000_u64}),
            json!({"complaint_id": null}),
            json!({"complaint_id": ["1"]}),
            json!({"complaint_id": "１２３"}),
            json!({}),
        ] {
            let error = parse(value.clone()).expect_err("invalid");
            assert_eq!(
                error.argument.as_deref(),
                Some("complaint_id"),
                "for {value}"
            );
        }
        let error = parse(json!({"complaint_id": "1", "id": "2"})).expect_err("unknown");
        assert_eq!(error.argument.as_deref(), Some("id"));
    }

    #[tokio::test]
    async fn finds_a_fixture_complaint_with_full_narrative() {
        // DATA-2 / DATA-4
        let source = DataSource::fixtures().expect("fixtures load");
        let DataSource::Fixtures(fixtures) = &source else {
            panic!("fixtures source");
        };
        let long = fixtures
            .complaints()
            .find(|c| {
                c.complaint_what_happened
                    .as_deref()
                    .is_some_and(|t| t.len() > 1000)
            })
            .cloned()
            .expect("a long narrative");
        let id = long.complaint_id.to_string();
        let result = call(&source, json!({"complaint_id": id}).as_object().cloned()).await;
        assert_eq!(result.is_error, Some(false));
        let structured = result.structured_content.expect("structured");
        assert_eq!(structured["source"], "fixtures");
        assert_eq!(structured["complaint"]["complaint_id"], json!(id));
        assert_eq!(
            structured["complaint"]["complaint_what_happened"].as_str(),
            long.complaint_what_happened.as_deref()
        );
        assert!(
            structured["complaint"]["url"]
                .as_str()
                .is_some_and(|u| u.ends_with(&id))
        );
    }

    #[tokio::test]
    async fn missing_complaint_is_a_clear_tool_error() {
        // DATA-2: "a clear not-found tool error".
        let source = DataSource::fixtures().expect("fixtures load");
        let result = call(&source, json!({"complaint_id": "1"}).as_object().cloned()).await;
        assert_eq!(result.is_error, Some(true));
        assert_eq!(
            result.content[0].as_text().map(|t| t.text.as_str()),
            Some("No complaint with id 1")
        );
    }
}
