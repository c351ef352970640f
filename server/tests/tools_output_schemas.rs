//! Every tool's results against its own advertised schemas (MSG-4, DATA-4):
//! all nine tools on the bundled dataset with varied arguments, and the two
//! complaint tools on a live upstream (wiremock) whose records lack fields,
//! as CCDB5 records after September 2026 lack `complaint_what_happened`.
//! The arguments used must pass each tool's `inputSchema` too, and a
//! result broken on purpose must fail, so the check can't pass vacuously.

#[path = "support/schema.rs"]
mod schema;

use std::time::Duration;

use cfpb_mcp_server::data::DataSource;
use cfpb_mcp_server::tools;
use rmcp::model::CallToolResult;
use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// Runs tool `name` with `arguments` (a JSON object).
async fn call(source: &DataSource, name: &str, arguments: Value) -> CallToolResult {
    tools::call(source, name, arguments.as_object().cloned())
        .await
        .expect("a known tool")
}

/// Argument sets per tool: defaults, filters, and each tool's own options.
fn cases() -> Vec<(&'static str, Value)> {
    vec![
        ("search_complaints", json!({})),
        (
            "search_complaints",
            json!({"search_term": "forbearance", "size": 5, "sort": "created_date_desc"}),
        ),
        (
            "search_complaints",
            json!({"product": ["Mortgage"], "has_narrative": false, "size": 3, "frm": 20}),
        ),
        // No match at all: an empty page, next_frm null.
        ("search_complaints", json!({"search_term": "zzzzqqqq"})),
        (
            "get_complaint_document",
            json!({"complaint_id": "90100280"}),
        ),
        ("list_complaint_trends", json!({})),
        (
            "list_complaint_trends",
            json!({"lens": "product", "sub_lens": "issue", "trend_interval": "quarter", "trend_depth": 3}),
        ),
        (
            "list_complaint_trends",
            json!({"lens": "company", "trend_interval": "year", "state": ["CA"]}),
        ),
        ("get_state_aggregations", json!({})),
        (
            "get_state_aggregations",
            json!({"product": ["Credit card"], "date_received_min": "2024-01-01"}),
        ),
        (
            "suggest_filter_values",
            json!({"field": "company", "text": "ac"}),
        ),
        (
            "suggest_filter_values",
            json!({"field": "zip_code", "text": "94", "size": 3}),
        ),
        ("generate_cfpb_dashboard_url", json!({})),
        (
            "generate_cfpb_dashboard_url",
            json!({"tab": "trends", "lens": "issue", "trend_interval": "week", "company": ["Acme Fictional Bank, N.A."]}),
        ),
        ("get_overall_trend_signals", json!({})),
        (
            "get_overall_trend_signals",
            json!({"trend_interval": "week", "baseline_window": 8, "min_baseline_mean": 0.5}),
        ),
        ("rank_group_spikes", json!({"group": "product"})),
        (
            "rank_group_spikes",
            json!({"group": "issue", "top_n": 3, "product": ["Mortgage"]}),
        ),
        ("rank_company_spikes", json!({})),
        (
            "rank_company_spikes",
            json!({"trend_depth": 20, "top_n": 5, "min_baseline_mean": 2.0}),
        ),
    ]
}

#[tokio::test]
async fn every_tool_result_on_fixtures_matches_its_output_schema() {
    // MSG-4 / DATA-4: each of the nine tools, and more than one argument set each.
    let source = DataSource::fixtures().expect("fixtures load");
    let cases = cases();
    for name in tools::NAMES {
        assert!(
            cases.iter().filter(|(tool, _)| tool == name).count() >= 1,
            "no case for {name}"
        );
    }
    for (name, arguments) in cases {
        let problems = schema::input_violations(name, &arguments);
        assert!(problems.is_empty(), "{name} {arguments}: {problems:?}");
        let result = call(&source, name, arguments).await;
        schema::assert_conforms(name, &result);
    }
}

#[tokio::test]
async fn a_result_that_breaks_the_schema_is_caught() {
    // The check itself: a search result without `source`, with a string
    // count, or with a numeric complaint id must not pass.
    let source = DataSource::fixtures().expect("fixtures load");
    let result = call(&source, "search_complaints", json!({"size": 1})).await;
    let good = result.structured_content.expect("structured");
    assert!(schema::output_violations("search_complaints", &good).is_empty());

    let mut no_source = good.clone();
    no_source.as_object_mut().map(|o| o.remove("source"));
    let mut string_total = good.clone();
    string_total["total"] = json!("10070");
    let mut numeric_id = good.clone();
    numeric_id["complaints"][0]["complaint_id"] = json!(90100280);
    for broken in [no_source, string_total, numeric_id] {
        assert!(
            !schema::output_violations("search_complaints", &broken).is_empty(),
            "accepted {broken}"
        );
    }
    // And an argument the inputSchema refuses.
    assert!(!schema::input_violations("search_complaints", &json!({"size": 0})).is_empty());
}

const API_PATH: &str = "/data-research/consumer-complaints/search/api/v1/";

#[tokio::test]
async fn sparse_live_records_match_the_output_schemas() {
    // DATA-5: a record with only a few fields (no narrative, no tags, no
    // has_narrative), and a total given as a lower bound.
    let server = MockServer::start().await;
    let sparse = json!({
        "product": "Mortgage",
        "date_received": "2026-10-02T12:00:00-05:00",
        "company": "Example Upstream Co",
        "tags": null,
        "complaint_what_happened": null
    });
    Mock::given(method("GET"))
        .and(path(API_PATH))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "hits": {"total": {"value": 10000, "relation": "gte"}, "hits": [
                {"_id": "11000001", "_source": sparse}
            ]}
        })))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("{API_PATH}11000001")))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"_id": "11000001", "_source": sparse})),
        )
        .mount(&server)
        .await;
    let base = url::Url::parse(&format!("{}{API_PATH}", server.uri())).expect("valid base");
    let source = DataSource::live(base, Duration::from_secs(5)).expect("client builds");

    let search = call(&source, "search_complaints", json!({"size": 1})).await;
    schema::assert_conforms("search_complaints", &search);
    let structured = search.structured_content.expect("structured");
    assert_eq!(structured["total_relation"], "gte");
    assert_eq!(
        structured["complaints"][0]["complaint_what_happened"],
        Value::Null
    );
    assert_eq!(structured["complaints"][0]["has_narrative"], false);

    let document = call(
        &source,
        "get_complaint_document",
        json!({"complaint_id": "11000001"}),
    )
    .await;
    schema::assert_conforms("get_complaint_document", &document);
    let structured = document.structured_content.expect("structured");
    assert_eq!(structured["complaint"]["complaint_id"], "11000001");
    assert_eq!(
        structured["citations"][0]["url"],
        "https://www.consumerfinance.gov/data-research/consumer-complaints/search/detail/11000001"
    );
}
