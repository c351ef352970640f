//! The CCDB5 search filters that `search_complaints` and every aggregation
//! tool take (DATA-1, DATA-6, DATA-7): their schema, merged into each tool's
//! `inputSchema`, and their validation (one rule set, one message style),
//! before any upstream call.

use rmcp::model::JsonObject;
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::Value;

use super::args::{self, ArgError, StringList};
use crate::data::{CalendarDate, SearchField, SearchQuery};

/// The filter argument names: [`FilterArgs`]'s fields, in order (a test
/// holds the two together).
pub const NAMES: &[&str] = &[
    "search_term",
    "field",
    "company",
    "product",
    "issue",
    "state",
    "submitted_via",
    "tags",
    "company_response",
    "date_received_min",
    "date_received_max",
    "has_narrative",
];

/// The search filters (all optional; list filters take one string or an
/// array of strings, any value matches; different filters combine with AND).
#[derive(Debug, Default, Deserialize, JsonSchema)]
struct FilterArgs {
    /// Words to search for, in `field`.
    #[schemars(length(max = 500))]
    search_term: Option<String>,
    /// Where search_term looks: narrative (default), company name, or all.
    field: Option<FieldArg>,
    /// Company names as the CFPB spells them (see suggest_filter_values).
    company: Option<StringList>,
    /// Products, e.g. "Mortgage", "Credit card" (or "Product•Sub-product").
    product: Option<StringList>,
    /// Issues, e.g. "Incorrect information on your report" (or
    /// "Issue•Sub-issue").
    issue: Option<StringList>,
    /// State or territory codes, e.g. "CA".
    state: Option<StringList>,
    /// "Web", "Referral", "Phone", "Postal mail", "Fax" or "Email".
    submitted_via: Option<StringList>,
    /// "Older American" or "Servicemember".
    tags: Option<StringList>,
    /// E.g. "Closed with explanation", "In progress".
    company_response: Option<StringList>,
    /// Received on or after (YYYY-MM-DD).
    #[schemars(regex(pattern = r"^\d{4}-\d{2}-\d{2}$"))]
    date_received_min: Option<String>,
    /// Received on or before (YYYY-MM-DD).
    #[schemars(regex(pattern = r"^\d{4}-\d{2}-\d{2}$"))]
    date_received_max: Option<String>,
    /// With (true) or without (false) a published narrative (none since
    /// September 2026).
    has_narrative: Option<bool>,
}

/// `field` values.
#[derive(Clone, Copy, Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
enum FieldArg {
    ComplaintWhatHappened,
    Company,
    All,
}

impl FilterArgs {
    /// The validated filters, as a [`SearchQuery`] with default paging and order.
    fn into_query(self) -> Result<SearchQuery, ArgError> {
        let date_received_min = date("date_received_min", self.date_received_min)?;
        let date_received_max = date("date_received_max", self.date_received_max)?;
        if let (Some(min), Some(max)) = (date_received_min, date_received_max)
            && min > max
        {
            return Err(ArgError::named(
                "date_received_min",
                "must not be after date_received_max",
            ));
        }
        Ok(SearchQuery {
            search_term: args::text("search_term", self.search_term)?,
            field: match self.field {
                None | Some(FieldArg::ComplaintWhatHappened) => SearchField::ComplaintWhatHappened,
                Some(FieldArg::Company) => SearchField::Company,
                Some(FieldArg::All) => SearchField::All,
            },
            company: args::list("company", self.company)?,
            product: args::list("product", self.product)?,
            issue: args::list("issue", self.issue)?,
            state: args::list("state", self.state)?,
            submitted_via: args::list("submitted_via", self.submitted_via)?,
            tags: args::list("tags", self.tags)?,
            company_response: args::list("company_response", self.company_response)?,
            date_received_min,
            date_received_max,
            has_narrative: self.has_narrative,
            ..SearchQuery::default()
        })
    }
}

fn date(name: &str, value: Option<String>) -> Result<Option<CalendarDate>, ArgError> {
    match args::text(name, value)? {
        None => Ok(None),
        Some(text) => CalendarDate::parse(&text)
            .map(Some)
            .ok_or_else(|| ArgError::named(name, "must be a calendar date written YYYY-MM-DD")),
    }
}

/// Parses `arguments` into a tool's own arguments `T` and the filters: any
/// name outside `own` and [`NAMES`] is rejected first, by name.
pub fn parse<T: serde::de::DeserializeOwned>(
    arguments: Option<JsonObject>,
    own: &[&str],
) -> Result<(T, SearchQuery), ArgError> {
    let allowed: Vec<&str> = own.iter().chain(NAMES).copied().collect();
    let object = arguments.unwrap_or_default();
    let filters: FilterArgs = args::parse(Some(object.clone()), &allowed)?;
    let tool: T = args::parse(Some(object), &allowed)?;
    Ok((tool, filters.into_query()?))
}

/// Which filter properties a tool's schema carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Filters {
    /// None (the tool takes no search filters).
    None,
    /// The filters with their descriptions: `search_complaints`, where a
    /// model learns what each filter means.
    Described,
    /// The filters' exact schemas without descriptions: every other tool
    /// takes "the same filters as search_complaints" (its description says
    /// so), and the six copies of the same words would be a third of
    /// `tools/list`, read into every conversation (docs/tools.md).
    Schema,
}

/// `T`'s schema with the filter properties appended; no other properties allowed.
pub fn input_schema<T: JsonSchema>(filters: Filters) -> JsonObject {
    let mut schema = args::input_schema::<T>();
    schema
        .entry("properties".to_owned())
        .or_insert_with(|| Value::Object(JsonObject::new()));
    if filters != Filters::None {
        let mut all = args::input_schema::<FilterArgs>();
        if filters == Filters::Schema {
            all = args::undescribed(all, NAMES);
        }
        if let (Some(Value::Object(own)), Some(Value::Object(extra))) =
            (schema.get_mut("properties"), all.get("properties"))
        {
            for (name, property) in extra {
                own.entry(name.clone()).or_insert(property.clone());
            }
        }
    }
    schema.insert("additionalProperties".to_owned(), Value::Bool(false));
    schema
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[derive(Debug, Deserialize, JsonSchema)]
    struct Own {
        /// A tool argument.
        depth: Option<u32>,
    }

    #[test]
    fn filters_and_own_arguments_are_read_together() {
        // DATA-1 rules for every tool's filters.
        let arguments = json!({"depth": 3, "product": "Mortgage", "has_narrative": false});
        let (own, query): (Own, SearchQuery) =
            parse(arguments.as_object().cloned(), &["depth"]).expect("valid");
        assert_eq!(own.depth, Some(3));
        assert_eq!(query.product, vec!["Mortgage"]);
        assert_eq!(query.has_narrative, Some(false));
    }

    #[test]
    fn bad_filters_and_unknown_names_are_named() {
        let cases = [
            (json!({"size": 5}), "size"),
            (
                json!({"date_received_min": "2020-13-01"}),
                "date_received_min",
            ),
            (json!({"depth": "x"}), "depth"),
            (json!({"state": 7}), "state"),
        ];
        for (value, expected) in cases {
            let error = parse::<Own>(value.as_object().cloned(), &["depth"]).expect_err("invalid");
            assert_eq!(error.argument.as_deref(), Some(expected), "{value}");
        }
    }

    #[test]
    fn names_are_the_filter_fields_in_order() {
        // One definition of the filters: NAMES is FilterArgs, nothing more or less.
        let schema = args::input_schema::<FilterArgs>();
        let fields: Vec<&str> = schema["properties"]
            .as_object()
            .map(|properties| properties.keys().map(String::as_str).collect())
            .unwrap_or_default();
        assert_eq!(fields, NAMES);
    }

    #[test]
    fn schema_has_both_sets_of_properties() {
        let schema = input_schema::<Own>(Filters::Described);
        let properties = schema["properties"]
            .as_object()
            .cloned()
            .unwrap_or_default();
        assert!(properties.contains_key("depth"));
        for name in NAMES {
            assert!(properties.contains_key(*name), "{name}");
        }
        assert_eq!(schema["additionalProperties"], json!(false));
    }
}
