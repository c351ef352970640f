//! The `suggest_filter_values` tool (DATA-8): autocomplete of `company` or
//! `zip_code` filter values from the CCDB5 `_suggest_company` /
//! `_suggest_zip` endpoints (or the bundled data's values offline).

use rmcp::model::{CallToolResult, JsonObject, Tool};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::json;

use super::answer::answer;
use super::args::{self, ArgError};
use super::output;
use super::trend_args;
use crate::data::{DataSource, SuggestField, SuggestQuery};

/// The tool's name (MSG-4).
pub const NAME: &str = "suggest_filter_values";

/// The longest `text` we send.
const MAX_TEXT_CHARS: usize = 100;

const ALLOWED: &[&str] = &["field", "text", "size"];

/// Autocomplete values for the `company` or `zip_code` filter.
#[derive(Debug, Deserialize, JsonSchema)]
struct SuggestArgs {
    // The enum says it all (tools/list bytes, docs/tools.md).
    field: SuggestFieldArg,
    /// The value's beginning, e.g. "acme" or "941".
    #[schemars(length(min = 1, max = 100))]
    text: String,
    /// At most this many values (default 10).
    #[schemars(range(min = 1, max = 50))]
    size: Option<u32>,
}

/// `field` values.
#[derive(Clone, Copy, Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
enum SuggestFieldArg {
    Company,
    ZipCode,
}

/// Validates client arguments (DATA-8); no I/O.
fn parse_query(arguments: Option<JsonObject>) -> Result<SuggestQuery, ArgError> {
    let parsed: SuggestArgs = args::parse(arguments, ALLOWED)?;
    let text = args::text("text", Some(parsed.text))?
        .ok_or_else(|| ArgError::named("text", "must not be empty"))?;
    if text.chars().count() > MAX_TEXT_CHARS {
        return Err(ArgError::named(
            "text",
            format!("must be at most {MAX_TEXT_CHARS} characters"),
        ));
    }
    Ok(SuggestQuery {
        field: match parsed.field {
            SuggestFieldArg::Company => SuggestField::Company,
            SuggestFieldArg::ZipCode => SuggestField::ZipCode,
        },
        text,
        size: trend_args::bounded(
            "size",
            parsed.size,
            SuggestQuery::DEFAULT_SIZE,
            1,
            SuggestQuery::MAX_SIZE,
        )?,
    })
}

/// The tool's description for `tools/list`.
pub fn tool() -> Tool {
    let tool = Tool::new(
        NAME,
        "Autocomplete the company or zip_code filter of the CFPB tools: give the first letters or digits, get the values as the CFPB spells them.",
        super::filters::input_schema::<SuggestArgs>(super::filters::Filters::None),
    )
    .with_raw_output_schema(std::sync::Arc::new(output::data_schema(
        json!({
            "field": {"type": "string"},
            "text": {"type": "string"},
            "suggestions": {"type": "array", "items": {"type": "string"}}
        }),
        &["field", "text", "suggestions"],
    )));
    output::titled(tool, "Suggest CFPB filter values", true)
}

/// Runs the tool (DATA-8, MSG-5).
pub async fn call(source: &DataSource, arguments: Option<JsonObject>) -> CallToolResult {
    answer(
        source,
        parse_query(arguments),
        DataSource::suggest,
        |query, values, result| {
            result.insert("field".to_owned(), json!(query.field.as_str()));
            result.insert("text".to_owned(), json!(query.text));
            result.insert("suggestions".to_owned(), json!(values));
        },
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    fn argument_of(value: Value) -> Option<String> {
        parse_query(value.as_object().cloned())
            .err()
            .and_then(|e| e.argument)
    }

    #[test]
    fn invalid_arguments_are_named() {
        // DATA-8
        assert_eq!(argument_of(json!({"text": "a"})).as_deref(), Some("field"));
        assert_eq!(
            argument_of(json!({"field": "state", "text": "a"})).as_deref(),
            Some("field")
        );
        assert_eq!(
            argument_of(json!({"field": "company"})).as_deref(),
            Some("text")
        );
        assert_eq!(
            argument_of(json!({"field": "company", "text": " "})).as_deref(),
            Some("text")
        );
        assert_eq!(
            argument_of(json!({"field": "company", "text": "a".repeat(101)})).as_deref(),
            Some("text")
        );
        assert_eq!(
            argument_of(json!({"field": "company", "text": "a", "size": 0})).as_deref(),
            Some("size")
        );
        assert_eq!(
            argument_of(json!({"field": "company", "text": "a", "size": 51})).as_deref(),
            Some("size")
        );
        let query = parse_query(
            json!({"field": "zip_code", "text": " 941 "})
                .as_object()
                .cloned(),
        )
        .expect("valid");
        assert_eq!(
            (query.field, query.text.as_str(), query.size),
            (SuggestField::ZipCode, "941", 10)
        );
    }
}
