//! The `search_complaints` tool (DATA-1, DATA-4): CCDB5 search parameters
//! in, one page of complaints out.
//!
//! Arguments are validated completely before the data source is asked
//! anything; each rejection names its argument.

use rmcp::model::{CallToolResult, JsonObject, Tool};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Value, json};

use super::answer::answer;
use super::args::ArgError;
use super::dashboard::{self, View};
use super::{filters, output, trend_args};
use crate::data::{DataSource, SearchPage, SearchQuery, SortOrder};

/// The tool's name (MSG-4).
pub const NAME: &str = "search_complaints";

/// Narratives in search results are cut to this many characters; the full
/// text comes from `get_complaint_document`.
const NARRATIVE_PREVIEW_CHARS: usize = 1000;

/// The tool's own arguments, beside the filters.
const OWN: &[&str] = &["size", "frm", "sort"];

/// The tool's own arguments (all optional); the search filters, their
/// schemas and their rules are [`filters::FilterArgs`]'s.
#[derive(Debug, Deserialize, JsonSchema)]
struct SearchComplaintsArgs {
    /// Results per page (default 10).
    #[schemars(range(min = 1, max = 100))]
    size: Option<u32>,
    /// Offset of the first result (default 0).
    #[schemars(range(min = 0, max = 10000))]
    frm: Option<u32>,
    /// `relevance_desc` (default) or `created_date_desc` (newest first).
    sort: Option<SortArg>,
}

/// `sort` values.
#[derive(Clone, Copy, Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
enum SortArg {
    RelevanceDesc,
    CreatedDateDesc,
}

/// The tool's description for `tools/list`.
pub(super) fn tool() -> Tool {
    let tool = Tool::new(
        NAME,
        "Search CFPB consumer complaints about financial products and companies by company, \
         product, issue, state, dates and more, or narrative text. A list filter matches any \
         of its values; filters combine with AND. Returns the match count and a page of \
         complaints with consumerfinance.gov links; narratives are cut at 1,000 characters \
         (get_complaint_document has them whole).",
        filters::input_schema::<SearchComplaintsArgs>(filters::Filters::Described),
    )
    .with_raw_output_schema(std::sync::Arc::new(output::data_schema(
        json!({
            "total": {"type": "integer"},
            "total_relation": {"type": "string", "enum": ["eq", "gte"]},
            "frm": {"type": "integer"},
            "size": {"type": "integer", "minimum": 1},
            "returned": {"type": "integer"},
            "next_frm": {"type": ["integer", "null"]},
            "complaints": {"type": "array", "items": output::complaint_schema(true)},
            "citations": output::citations_schema()
        }),
        &[
            "total",
            "total_relation",
            "frm",
            "size",
            "returned",
            "next_frm",
            "complaints",
            "citations",
        ],
    )));
    output::titled(tool, "Search CFPB consumer complaints", true)
}

/// Validates client arguments into a query (DATA-1); no I/O.
pub fn parse_query(arguments: Option<JsonObject>) -> Result<SearchQuery, ArgError> {
    let (own, mut query): (SearchComplaintsArgs, SearchQuery) = filters::parse(arguments, OWN)?;
    query.size = trend_args::bounded(
        "size",
        own.size,
        SearchQuery::DEFAULT_SIZE,
        1,
        SearchQuery::MAX_SIZE,
    )?;
    query.frm = trend_args::bounded("frm", own.frm, 0, 0, SearchQuery::MAX_FRM)?;
    query.sort = match own.sort {
        None | Some(SortArg::RelevanceDesc) => SortOrder::RelevanceDesc,
        Some(SortArg::CreatedDateDesc) => SortOrder::CreatedDateDesc,
    };
    Ok(query)
}

/// Runs the tool: an argument error or upstream failure is an `isError`
/// result (DATA-1, MSG-5); success carries text and structured content (DATA-4).
pub(super) async fn call(source: &DataSource, arguments: Option<JsonObject>) -> CallToolResult {
    answer(source, parse_query(arguments), DataSource::search, fill).await
}

/// The page's fields, after the envelope's (DATA-4).
fn fill(query: &SearchQuery, page: SearchPage, result: &mut JsonObject) {
    let returned = page.complaints.len() as u64;
    let next = u64::from(query.frm) + returned;
    let complaints: Vec<Value> = page
        .complaints
        .iter()
        .map(|complaint| output::complaint(complaint, Some(NARRATIVE_PREVIEW_CHARS)))
        .collect();
    result.insert("total".to_owned(), json!(page.total));
    result.insert(
        "total_relation".to_owned(),
        json!(if page.total_is_exact { "eq" } else { "gte" }),
    );
    result.insert("frm".to_owned(), json!(query.frm));
    result.insert("size".to_owned(), json!(query.size));
    result.insert("returned".to_owned(), json!(returned));
    result.insert(
        "next_frm".to_owned(),
        if returned > 0 && next < page.total && next <= u64::from(SearchQuery::MAX_FRM) {
            json!(next)
        } else {
            Value::Null
        },
    );
    result.insert("complaints".to_owned(), Value::Array(complaints));
    result.insert(
        "citations".to_owned(),
        dashboard::citations(
            query,
            View::default(),
            "These search results on consumerfinance.gov",
        ),
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::SearchField;
    use serde_json::json;

    fn parse(value: Value) -> Result<SearchQuery, ArgError> {
        parse_query(value.as_object().cloned())
    }

    fn argument_of(value: Value) -> String {
        match parse(value) {
            Ok(query) => panic!("accepted: {query:?}"),
            Err(error) => error.argument.unwrap_or_default(),
        }
    }

    #[test]
    fn defaults_when_no_arguments() {
        // DATA-1: size defaults to 10, frm to 0, sort to relevance_desc.
        assert_eq!(parse_query(None), Ok(SearchQuery::default()));
        assert_eq!(parse(json!({})), Ok(SearchQuery::default()));
    }

    #[test]
    fn every_argument_is_read() {
        // DATA-1: the full CCDB5 parameter set.
        let query = parse(json!({
            "search_term": " overdraft ",
            "field": "all",
            "company": "Acme Fictional Bank, N.A.",
            "product": ["Mortgage", "Credit card"],
            "issue": [],
            "state": "CA",
            "submitted_via": ["Web"],
            "tags": ["Older American", "Servicemember"],
            "company_response": "Closed with explanation",
            "date_received_min": "2020-01-01",
            "date_received_max": "2020-12-31",
            "has_narrative": true,
            "size": 100,
            "frm": 20,
            "sort": "created_date_desc"
        }))
        .expect("valid");
        assert_eq!(query.search_term.as_deref(), Some("overdraft"));
        assert_eq!(query.field, SearchField::All);
        assert_eq!(query.company, vec!["Acme Fictional Bank, N.A."]);
        assert_eq!(query.product, vec!["Mortgage", "Credit card"]);
        assert!(query.issue.is_empty());
        assert_eq!(query.tags.len(), 2);
        assert_eq!(
            query.date_received_min.map(|d| d.to_string()).as_deref(),
            Some("2020-01-01")
        );
        assert_eq!(query.has_narrative, Some(true));
        assert_eq!((query.size, query.frm), (100, 20));
        assert_eq!(query.sort, SortOrder::CreatedDateDesc);
    }

    #[test]
    fn each_invalid_argument_is_named() {
        // DATA-1: "Invalid arguments get a tool error naming the argument".
        let many_states = vec!["CA"; 51];
        let cases = [
            (json!({"size": 0}), "size"),
            (json!({"size": 101}), "size"),
            (json!({"size": -1}), "size"),
            (json!({"size": "10"}), "size"),
            (json!({"size": 2.5}), "size"),
            (json!({"frm": 10001}), "frm"),
            (json!({"frm": -5}), "frm"),
            (json!({"field": "narrative"}), "field"),
            (json!({"field": 3}), "field"),
            (json!({"sort": "date"}), "sort"),
            (json!({"sort": "relevance_asc"}), "sort"),
            (
                json!({"date_received_min": "01/02/2020"}),
                "date_received_min",
            ),
            (
                json!({"date_received_max": "2020-02-30"}),
                "date_received_max",
            ),
            (
                json!({"date_received_min": "2021-01-01", "date_received_max": "2020-01-01"}),
                "date_received_min",
            ),
            (json!({"has_narrative": "yes"}), "has_narrative"),
            (json!({"company": 5}), "company"),
            (json!({"product": ["ok", {"x": 1}]}), "product"),
            (json!({"state": many_states}), "state"),
            (json!({"issue": "y".repeat(501)}), "issue"),
            (json!({"search_term": "z".repeat(501)}), "search_term"),
            (json!({"search_term": ["a"]}), "search_term"),
            (json!({"tags": "a\u{7}b"}), "tags"),
            (json!({"query": "x"}), "query"),
            (json!({"Size": 5}), "Size"),
        ];
        for (value, expected) in cases {
            assert_eq!(argument_of(value.clone()), expected, "for {value}");
        }
    }

    #[test]
    fn messages_read_clearly() {
        let error = parse(json!({"size": 500})).expect_err("too big");
        assert_eq!(
            error.to_string(),
            "Invalid argument `size`: must be between 1 and 100"
        );
        let error = parse(json!({"field": "narrative"})).expect_err("bad field");
        assert!(
            error.to_string().contains("complaint_what_happened"),
            "{error}"
        );
        let error = parse(json!({"date_received_min": "yesterday"})).expect_err("bad date");
        assert_eq!(
            error.to_string(),
            "Invalid argument `date_received_min`: must be a calendar date written YYYY-MM-DD"
        );
    }

    #[test]
    fn empty_values_mean_absent() {
        let query = parse(
            json!({"search_term": "", "company": "", "date_received_min": " ", "product": null}),
        )
        .expect("valid");
        assert_eq!(query, SearchQuery::default());
    }

    #[tokio::test]
    async fn fixture_search_result_carries_paging_source_and_links() {
        // DATA-4 / DATA-5: structured content, links, "source": "fixtures".
        let source = DataSource::fixtures().expect("fixtures load");
        let result = call(&source, json!({"size": 3, "frm": 1}).as_object().cloned()).await;
        assert_eq!(result.is_error, Some(false));
        let structured = result.structured_content.clone().expect("structured");
        assert_eq!(structured["source"], "fixtures");
        assert_eq!(structured["size"], 3);
        assert_eq!(structured["frm"], 1);
        assert_eq!(structured["returned"], 3);
        assert_eq!(structured["next_frm"], 4);
        assert!(structured["total"].as_u64().is_some_and(|t| t >= 1000));
        let first = &structured["complaints"][0];
        let id = first["complaint_id"].as_str().expect("id string");
        assert_eq!(
            first["url"],
            format!(
                "https://www.consumerfinance.gov/data-research/consumer-complaints/search/detail/{id}"
            )
        );
        let text = result.content[0]
            .as_text()
            .map(|t| t.text.clone())
            .unwrap_or_default();
        let from_text: Value = serde_json::from_str(&text).expect("text is JSON");
        assert_eq!(from_text, structured);
    }

    #[tokio::test]
    async fn results_cite_the_same_search_on_the_dashboard() {
        // Issue 14: a citation link to the CFPB dashboard for the same filters.
        let source = DataSource::fixtures().expect("fixtures load");
        let arguments = json!({"search_term": "forbearance", "product": "Mortgage", "size": 1});
        let result = call(&source, arguments.as_object().cloned()).await;
        let structured = result.structured_content.expect("structured");
        assert_eq!(
            structured["citations"],
            json!([{
                "type": "search_results",
                "url": "https://www.consumerfinance.gov/data-research/consumer-complaints/search/\
                        ?searchText=forbearance&searchField=complaint_what_happened&product=Mortgage&tab=List",
                "description": "These search results on consumerfinance.gov"
            }])
        );
    }

    #[tokio::test]
    async fn long_narratives_are_shortened_and_flagged() {
        let source = DataSource::fixtures().expect("fixtures load");
        let result = call(
            &source,
            // Long, timeline-style narratives say "Here is what happened".
            json!({"size": 100, "has_narrative": true, "search_term": "here is what happened"})
                .as_object()
                .cloned(),
        )
        .await;
        let structured = result.structured_content.expect("structured");
        let complaints = structured["complaints"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        assert!(complaints.iter().all(|c| {
            c["complaint_what_happened"]
                .as_str()
                .map_or(0, |t| t.chars().count())
                <= NARRATIVE_PREVIEW_CHARS + 1
        }));
        assert!(
            complaints
                .iter()
                .any(|c| c["narrative_truncated"] == json!(true)),
            "the fixtures include long narratives"
        );
    }

    #[tokio::test]
    async fn invalid_arguments_are_tool_errors() {
        // DATA-1: a tool error, before any upstream call (fixtures here; the
        // wiremock tests prove no request is sent to a live upstream).
        let source = DataSource::fixtures().expect("fixtures load");
        let result = call(&source, json!({"size": 0}).as_object().cloned()).await;
        assert_eq!(result.is_error, Some(true));
        assert!(result.structured_content.is_none());
    }
}
