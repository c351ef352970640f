//! Reading tool arguments from a client (DATA-1, DATA-2): strict, bounded,
//! and every rejection names the argument at fault.
//!
//! Nothing here talks to a data source: an argument error is found before
//! any upstream call. Client text that ends up in a message is truncated
//! and escaped.

use std::borrow::Cow;
use std::fmt;

use rmcp::model::JsonObject;
use schemars::JsonSchema;
use serde::de::{self, DeserializeOwned, Deserializer, SeqAccess, Visitor};

/// The longest string argument we accept, in characters.
const MAX_STRING_CHARS: usize = 500;
/// The most values a list filter may hold.
const MAX_LIST_ITEMS: usize = 50;
/// How much of a client-supplied name or value a message may quote.
const MAX_QUOTE_CHARS: usize = 60;

/// An argument the client got wrong.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ArgError {
    /// The argument's name, when one is at fault.
    pub argument: Option<String>,
    /// What is wrong with it.
    pub problem: String,
}

impl ArgError {
    /// A problem with `argument`.
    pub fn named(argument: &str, problem: impl Into<String>) -> Self {
        ArgError {
            argument: Some(quote(argument)),
            problem: problem.into(),
        }
    }
}

impl fmt::Display for ArgError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.argument {
            Some(name) => write!(f, "Invalid argument `{name}`: {}", self.problem),
            None => write!(f, "Invalid arguments: {}", self.problem),
        }
    }
}

/// Client text made safe to quote: escaped, at most [`MAX_QUOTE_CHARS`].
pub fn quote(text: &str) -> String {
    let mut out: String = text
        .chars()
        .take(MAX_QUOTE_CHARS)
        .flat_map(char::escape_debug)
        .collect();
    if text.chars().count() > MAX_QUOTE_CHARS {
        out.push('…');
    }
    out
}

/// Deserializes `arguments` (absent = `{}`) into `T`, naming the argument at
/// fault on any error: unknown names are checked against `allowed` first.
pub fn parse<T: DeserializeOwned>(
    arguments: Option<JsonObject>,
    allowed: &[&str],
) -> Result<T, ArgError> {
    let object = arguments.unwrap_or_default();
    if let Some(unknown) = object.keys().find(|key| !allowed.contains(&key.as_str())) {
        return Err(ArgError::named(
            unknown,
            format!("unknown argument; expected one of: {}", allowed.join(", ")),
        ));
    }
    serde_path_to_error::deserialize(serde_json::Value::Object(object)).map_err(|error| {
        let path = error.path().to_string();
        let problem = bounded(&error.inner().to_string());
        let argument = path.split(['.', '[']).next().unwrap_or("");
        if argument.is_empty() {
            // A root-level error: missing field.
            match missing_field(&problem) {
                Some(name) => ArgError::named(name, "is required"),
                None => ArgError {
                    argument: None,
                    problem,
                },
            }
        } else if argument == path {
            ArgError::named(argument, problem)
        } else {
            ArgError::named(argument, format!("at {}: {problem}", quote(&path)))
        }
    })
}

fn missing_field(problem: &str) -> Option<&str> {
    problem.strip_prefix("missing field `")?.split('`').next()
}

fn bounded(text: &str) -> String {
    let mut out: String = text.chars().take(300).collect();
    if text.chars().count() > 300 {
        out.push('…');
    }
    out
}

/// A string argument: trimmed, at most [`MAX_STRING_CHARS`], free of control
/// characters; empty means "not given".
pub fn text(name: &str, value: Option<String>) -> Result<Option<String>, ArgError> {
    let Some(value) = value else {
        return Ok(None);
    };
    let value = value.trim();
    if value.is_empty() {
        return Ok(None);
    }
    check_text(name, value)?;
    Ok(Some(value.to_owned()))
}

fn check_text(name: &str, value: &str) -> Result<(), ArgError> {
    if value.chars().count() > MAX_STRING_CHARS {
        return Err(ArgError::named(
            name,
            format!("must be at most {MAX_STRING_CHARS} characters"),
        ));
    }
    if value.chars().any(char::is_control) {
        return Err(ArgError::named(name, "must not contain control characters"));
    }
    Ok(())
}

/// A list filter: a string or an array of strings, each checked like
/// [`text`]; empty strings are dropped, duplicates kept once.
pub fn list(name: &str, value: Option<StringList>) -> Result<Vec<String>, ArgError> {
    let Some(StringList(values)) = value else {
        return Ok(Vec::new());
    };
    let mut out: Vec<String> = Vec::with_capacity(values.len());
    for value in values {
        let value = value.trim();
        if value.is_empty() {
            continue;
        }
        check_text(name, value)?;
        if !out.iter().any(|seen| seen == value) {
            out.push(value.to_owned());
        }
    }
    Ok(out)
}

/// A string or an array of strings (a single string is a one-element list).
/// Deserializing refuses more than [`MAX_LIST_ITEMS`] values without reading
/// them all.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StringList(pub Vec<String>);

impl<'de> serde::Deserialize<'de> for StringList {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ListVisitor;

        impl<'de> Visitor<'de> for ListVisitor {
            type Value = StringList;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string or an array of strings")
            }

            fn visit_str<E: de::Error>(self, value: &str) -> Result<StringList, E> {
                Ok(StringList(vec![value.to_owned()]))
            }

            fn visit_string<E: de::Error>(self, value: String) -> Result<StringList, E> {
                Ok(StringList(vec![value]))
            }

            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<StringList, A::Error> {
                let mut values = Vec::new();
                while let Some(value) = seq.next_element::<String>()? {
                    if values.len() == MAX_LIST_ITEMS {
                        return Err(de::Error::custom(format!(
                            "must hold at most {MAX_LIST_ITEMS} values"
                        )));
                    }
                    values.push(value);
                }
                Ok(StringList(values))
            }
        }

        deserializer.deserialize_any(ListVisitor)
    }
}

impl JsonSchema for StringList {
    fn schema_name() -> Cow<'static, str> {
        "StringList".into()
    }

    fn inline_schema() -> bool {
        true
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        // The schema says "an array of strings"; a bare string is still
        // accepted as a list of one (clients and people write it), but no
        // schema-valid call is ever refused, and a list filter appears in
        // six tools' schemas, each in every conversation's context
        // (docs/tools.md: tools/list's size).
        // ok: json_schema! unwraps only on this constant object literal.
        schemars::json_schema!({
            "type": "array",
            "items": {"type": "string", "maxLength": MAX_STRING_CHARS},
            "maxItems": MAX_LIST_ITEMS
        })
    }
}

/// The JSON Schema of `T` as an MCP `inputSchema`: inlined (no `$ref`), and
/// `Option` fields shown as their plain type (a missing argument is the way
/// to leave one out; `null` is still accepted). No `$schema` (2020-12 is
/// MCP's default dialect), `title` (the Rust type's name) or root
/// `description` (the tool's own says it): `tools/list` is read into every
/// conversation's context, so its bytes are the client's budget.
pub fn input_schema<T: JsonSchema>() -> JsonObject {
    let mut settings = schemars::generate::SchemaSettings::draft2020_12();
    settings.inline_subschemas = true;
    let schema = settings.into_generator().into_root_schema_for::<T>();
    let mut value = schema.to_value();
    tidy(&mut value);
    match value {
        serde_json::Value::Object(mut object) => {
            for noise in ["$schema", "title", "description"] {
                object.remove(noise);
            }
            object
        }
        _ => JsonObject::new(),
    }
}

/// `schema` with the descriptions of the properties `names` removed: for
/// arguments a sibling tool already describes (tools/list is read into
/// every conversation's context; docs/tools.md).
pub fn undescribed(mut schema: JsonObject, names: &[&str]) -> JsonObject {
    if let Some(serde_json::Value::Object(properties)) = schema.get_mut("properties") {
        for name in names {
            if let Some(serde_json::Value::Object(p)) = properties.get_mut(*name) {
                p.remove("description");
            }
        }
    }
    schema
}

/// Removes the `null` alternative schemars adds for `Option` fields, joins
/// doc-comment lines of descriptions, and drops Rust-specific number
/// formats (`uint32`, `double`) that JSON Schema validators don't know.
fn tidy(value: &mut serde_json::Value) {
    use serde_json::Value;
    let Value::Object(object) = value else {
        return;
    };
    if let Some(Value::String(description)) = object.get_mut("description") {
        *description = description.split_whitespace().collect::<Vec<_>>().join(" ");
    }
    if object
        .get("format")
        .and_then(Value::as_str)
        .is_some_and(|format| {
            format.starts_with("int")
                || format.starts_with("uint")
                || format == "double"
                || format == "float"
        })
    {
        object.remove("format");
    }
    if let Some(Value::Array(types)) = object.get_mut("type") {
        types.retain(|t| t != "null");
        if types.len() == 1 {
            let only = types.remove(0);
            object.insert("type".to_owned(), only);
        }
    }
    if let Some(Value::Array(values)) = object.get_mut("enum") {
        values.retain(|v| !v.is_null());
    }
    if let Some(Value::Array(alternatives)) = object.get_mut("anyOf") {
        alternatives.retain(|alternative| alternative.get("type") != Some(&Value::from("null")));
        if alternatives.len() == 1 {
            let only = alternatives.remove(0);
            object.remove("anyOf");
            if let Value::Object(inner) = only {
                for (key, value) in inner {
                    object.entry(key).or_insert(value);
                }
            }
        }
    }
    for child in object.values_mut() {
        match child {
            Value::Object(_) => tidy(child),
            Value::Array(items) => items.iter_mut().for_each(tidy),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[derive(Debug, serde::Deserialize, JsonSchema)]
    #[serde(deny_unknown_fields)]
    struct Example {
        name: String,
        count: Option<u32>,
        tags: Option<StringList>,
    }

    fn args(value: serde_json::Value) -> Option<JsonObject> {
        value.as_object().cloned()
    }

    const ALLOWED: &[&str] = &["name", "count", "tags"];

    #[test]
    fn names_the_argument_on_type_errors() {
        let error = parse::<Example>(args(json!({"name": "x", "count": "ten"})), ALLOWED)
            .expect_err("wrong type");
        assert_eq!(error.argument.as_deref(), Some("count"));
        assert!(
            error
                .to_string()
                .starts_with("Invalid argument `count`: invalid type"),
            "{error}"
        );

        let error = parse::<Example>(args(json!({"name": "x", "tags": ["a", 5]})), ALLOWED)
            .expect_err("wrong item type");
        assert_eq!(error.argument.as_deref(), Some("tags"));
        assert!(error.to_string().contains("tags[1]"), "{error}");
    }

    #[test]
    fn names_unknown_and_missing_arguments() {
        let error = parse::<Example>(args(json!({"name": "x", "colour\n": 1})), ALLOWED)
            .expect_err("unknown");
        assert_eq!(error.argument.as_deref(), Some("colour\\n"), "escaped");
        let error = parse::<Example>(args(json!({})), ALLOWED).expect_err("missing");
        assert_eq!(error.to_string(), "Invalid argument `name`: is required");
        let error = parse::<Example>(None, ALLOWED).expect_err("missing");
        assert_eq!(error.argument.as_deref(), Some("name"));
    }

    #[test]
    fn lists_accept_a_string_or_an_array_and_are_bounded() {
        let parsed = parse::<Example>(args(json!({"name": "x", "tags": "one"})), ALLOWED)
            .expect("a string is a list");
        assert_eq!((parsed.name.as_str(), parsed.count), ("x", None));
        assert_eq!(list("tags", parsed.tags).expect("valid"), vec!["one"]);
        let many: Vec<String> = (0..=MAX_LIST_ITEMS).map(|i| i.to_string()).collect();
        let error = parse::<Example>(args(json!({"name": "x", "tags": many})), ALLOWED)
            .expect_err("too many");
        assert_eq!(error.argument.as_deref(), Some("tags"));
        assert!(error.problem.contains("at most 50"), "{error}");
        let values = list(
            "tags",
            Some(StringList(vec![
                " a ".into(),
                String::new(),
                "a".into(),
                "b".into(),
            ])),
        )
        .expect("valid");
        assert_eq!(values, vec!["a", "b"]);
        let error = list("tags", Some(StringList(vec!["x".repeat(501)]))).expect_err("too long");
        assert_eq!(
            error.to_string(),
            "Invalid argument `tags`: must be at most 500 characters"
        );
    }

    #[test]
    fn text_is_trimmed_bounded_and_clean() {
        assert_eq!(text("q", Some("  ".into())).expect("ok"), None);
        assert_eq!(
            text("q", Some(" hi ".into())).expect("ok"),
            Some("hi".into())
        );
        assert!(text("q", Some("a\u{0}b".into())).is_err());
        assert!(
            text("q", Some("é".repeat(500))).is_ok(),
            "characters, not bytes"
        );
        assert!(text("q", Some("é".repeat(501))).is_err());
    }

    #[test]
    fn quoting_bounds_client_text() {
        let long = "k".repeat(1000);
        assert_eq!(quote(&long).chars().count(), MAX_QUOTE_CHARS + 1);
    }

    #[test]
    fn input_schema_is_inline_and_without_null() {
        let schema = input_schema::<Example>();
        let text = serde_json::Value::Object(schema.clone()).to_string();
        assert!(!text.contains("null"), "{text}");
        assert!(!text.contains("$ref"), "{text}");
        assert_eq!(schema["type"], json!("object"));
        assert_eq!(schema["properties"]["count"]["type"], json!("integer"));
    }
}
