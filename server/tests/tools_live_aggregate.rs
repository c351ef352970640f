//! The aggregation tools on the live source against a mock CCDB5 API
//! (`wiremock`): each tool's upstream path and query string, its result, and
//! 5xx / timeout as `isError` results; argument errors send nothing
//! (DATA-6, DATA-7, DATA-8, DATA-10, MSG-5). Every success is also checked
//! against its tool's `outputSchema` (MSG-4).

#[path = "support/schema.rs"]
mod schema;

use std::time::Duration;

use cfpb_mcp_server::data::DataSource;
use cfpb_mcp_server::tools;
use rmcp::model::{CallToolResult, JsonObject};
use serde_json::{Value, json};
use wiremock::matchers::{method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

const API_PATH: &str = "/data-research/consumer-complaints/search/api/v1/";

async fn live(server: &MockServer, timeout: Duration) -> DataSource {
    let base = url::Url::parse(&format!("{}{API_PATH}", server.uri())).expect("valid base");
    DataSource::live(base, timeout).expect("client builds")
}

fn args(value: Value) -> Option<JsonObject> {
    value.as_object().cloned()
}

async fn call(source: &DataSource, name: &str, arguments: Value) -> CallToolResult {
    let result = tools::call(source, name, args(arguments))
        .await
        .expect("a known tool");
    if result.is_error == Some(false) {
        schema::assert_conforms(name, &result);
    }
    result
}

fn text_of(result: &CallToolResult) -> String {
    result
        .content
        .iter()
        .filter_map(|block| block.as_text().map(|text| text.text.clone()))
        .collect()
}

fn month(day: &str, count: u64) -> Value {
    json!({"key_as_string": format!("{day}T00:00:00.000Z"), "doc_count": count})
}

/// A trends body: overall 10,12,14,12,30 by month, and two product groups.
fn trends_body() -> Value {
    let days = [
        "2024-01-01",
        "2024-02-01",
        "2024-03-01",
        "2024-04-01",
        "2024-05-01",
    ];
    let overall: Vec<Value> = days
        .iter()
        .zip([10, 12, 14, 12, 30])
        .map(|(d, c)| month(d, c))
        .collect();
    let spiky: Vec<Value> = days
        .iter()
        .zip([10, 11, 10, 11, 25])
        .map(|(d, c)| month(d, c))
        .collect();
    json!({
        "hits": {"total": {"value": 78, "relation": "eq"}, "hits": []},
        "aggregations": {
            "dateRangeArea": {"dateRangeArea": {"buckets": overall}},
            "product": {"product": {"buckets": [
                {"key": "Mortgage", "doc_count": 67, "trend_period": {"buckets": spiky}},
                {"key": "Credit card", "doc_count": 11, "trend_period": {"buckets": [month("2024-05-01", 11)]}}
            ]}}
        }
    })
}

#[tokio::test]
async fn trends_sends_lens_interval_and_filters() {
    // DATA-6: <base>trends with the CCDB5 parameter names.
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(format!("{API_PATH}trends")))
        .and(query_param("lens", "product"))
        .and(query_param("trend_interval", "month"))
        .and(query_param("trend_depth", "3"))
        .and(query_param("sub_lens", "issue"))
        .and(query_param("sub_lens_depth", "2"))
        .and(query_param("state", "CA"))
        .and(query_param("has_narrative", "false"))
        .respond_with(ResponseTemplate::new(200).set_body_json(trends_body()))
        .expect(1)
        .mount(&server)
        .await;
    let source = live(&server, Duration::from_secs(5)).await;
    let result = call(
        &source,
        "list_complaint_trends",
        json!({"lens": "product", "trend_depth": 3, "sub_lens": "issue", "sub_lens_depth": 2,
               "state": "CA", "has_narrative": false}),
    )
    .await;
    assert_eq!(result.is_error, Some(false), "{}", text_of(&result));
    let s = result.structured_content.expect("structured");
    assert_eq!(s["source"], "live");
    assert_eq!(s["total"], 78);
    assert_eq!(
        s["overall"][4],
        json!({"period": "2024-05-01", "count": 30})
    );
    assert_eq!(s["groups"][0]["key"], "Mortgage");
    let link = s["citations"][0]["url"].as_str().unwrap_or_default();
    assert!(
        link.contains("tab=Trends") && link.contains("lens=Product") && link.contains("state=CA"),
        "{link}"
    );
}

#[tokio::test]
async fn spike_tools_score_the_upstream_buckets() {
    // DATA-10: overall z/ratio from the buckets; groups ranked, missing buckets as 0.
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(format!("{API_PATH}trends")))
        .respond_with(ResponseTemplate::new(200).set_body_json(trends_body()))
        .mount(&server)
        .await;
    let source = live(&server, Duration::from_secs(5)).await;
    let overall = call(
        &source,
        "get_overall_trend_signals",
        json!({"baseline_window": 4}),
    )
    .await;
    let s = overall.structured_content.expect("structured");
    assert_eq!(s["signals"]["last_vs_baseline"]["ratio"], 2.5);
    let z = 18.0 / (8.0f64 / 3.0).sqrt();
    let got = s["signals"]["last_vs_baseline"]["z"]
        .as_f64()
        .unwrap_or(0.0);
    assert!((got - z).abs() < 1e-3, "{got} vs {z}");

    let ranked = call(
        &source,
        "rank_group_spikes",
        json!({"group": "product", "baseline_window": 4, "min_baseline_mean": 0}),
    )
    .await;
    let s = ranked.structured_content.expect("structured");
    assert_eq!(s["results"][0]["key"], "Mortgage");
    assert_eq!(s["results"][1]["key"], "Credit card");
    assert_eq!(
        s["results"][1]["signals"]["last_vs_baseline"]["baseline_mean"],
        0.0
    );
    let received = server.received_requests().await.unwrap_or_default();
    assert!(
        received
            .iter()
            .any(|r| r.url.query().unwrap_or("").contains("lens=product"))
    );

    let companies = call(&source, "rank_company_spikes", json!({})).await;
    assert_eq!(companies.is_error, Some(false));
    let received = server.received_requests().await.unwrap_or_default();
    assert!(received.iter().any(|r| {
        r.url
            .query()
            .unwrap_or("")
            .contains("lens=company&trend_interval=month&trend_depth=25")
    }));
}

#[tokio::test]
async fn states_and_suggestions_reach_their_endpoints() {
    // DATA-7, DATA-8
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(format!("{API_PATH}geo/states")))
        .and(query_param("product", "Mortgage"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "aggregations": {"state": {"state": {"buckets": [
                {"key": "TX", "doc_count": 4}, {"key": "CA", "doc_count": 9}]}}}
        })))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("{API_PATH}_suggest_company")))
        .and(query_param("text", "acme"))
        .and(query_param("size", "2"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!(["ACME A", "ACME B", "ACME C"])),
        )
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("{API_PATH}_suggest_zip")))
        .and(query_param("text", "941"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!(["941XX"])))
        .expect(1)
        .mount(&server)
        .await;
    let source = live(&server, Duration::from_secs(5)).await;
    let states = call(
        &source,
        "get_state_aggregations",
        json!({"product": "Mortgage"}),
    )
    .await;
    let s = states.structured_content.expect("structured");
    assert_eq!(s["total"], 13);
    assert_eq!(s["states"][0], json!({"state": "CA", "count": 9}));
    assert!(
        s["citations"][0]["url"]
            .as_str()
            .is_some_and(|u| u.contains("tab=Map"))
    );
    let names = call(
        &source,
        "suggest_filter_values",
        json!({"field": "company", "text": "acme", "size": 2}),
    )
    .await;
    assert_eq!(
        names.structured_content.expect("structured")["suggestions"],
        json!(["ACME A", "ACME B"])
    );
    let zips = call(
        &source,
        "suggest_filter_values",
        json!({"field": "zip_code", "text": "941"}),
    )
    .await;
    assert_eq!(
        zips.structured_content.expect("structured")["suggestions"],
        json!(["941XX"])
    );
}

#[tokio::test]
async fn upstream_failures_are_tool_errors_and_bad_arguments_send_nothing() {
    // MSG-5 for every data tool; DATA-1 style argument errors before any request.
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(503).set_body_string("secret upstream page"))
        .mount(&server)
        .await;
    let source = live(&server, Duration::from_secs(5)).await;
    for (name, arguments) in [
        ("list_complaint_trends", json!({})),
        ("get_state_aggregations", json!({})),
        (
            "suggest_filter_values",
            json!({"field": "company", "text": "a"}),
        ),
        ("get_overall_trend_signals", json!({})),
        ("rank_group_spikes", json!({"group": "issue"})),
        ("rank_company_spikes", json!({})),
    ] {
        let result = call(&source, name, arguments).await;
        assert_eq!(result.is_error, Some(true), "{name}");
        let text = text_of(&result);
        assert_eq!(
            text, "CFPB API request failed: upstream returned HTTP 503",
            "{name}"
        );
    }
    let before = server.received_requests().await.map_or(0, |r| r.len());
    for (name, arguments) in [
        ("list_complaint_trends", json!({"trend_depth": 0})),
        (
            "get_state_aggregations",
            json!({"date_received_min": "nope"}),
        ),
        ("suggest_filter_values", json!({"field": "company"})),
        ("rank_group_spikes", json!({})),
        ("generate_cfpb_dashboard_url", json!({"tab": "x"})),
    ] {
        let result = call(&source, name, arguments).await;
        assert_eq!(result.is_error, Some(true), "{name}");
        assert!(text_of(&result).starts_with("Invalid argument `"), "{name}");
    }
    let after = server.received_requests().await.map_or(0, |r| r.len());
    assert_eq!(before, after, "no upstream call for invalid arguments");
}

#[tokio::test]
async fn upstream_timeout_is_a_tool_error() {
    // MSG-5
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(trends_body())
                .set_delay(Duration::from_secs(3)),
        )
        .mount(&server)
        .await;
    let source = live(&server, Duration::from_millis(300)).await;
    for (name, arguments) in [
        ("list_complaint_trends", json!({})),
        ("get_state_aggregations", json!({})),
        (
            "suggest_filter_values",
            json!({"field": "zip_code", "text": "9"}),
        ),
    ] {
        let result = call(&source, name, arguments).await;
        assert_eq!(result.is_error, Some(true), "{name}");
        assert!(
            text_of(&result).contains("timed out"),
            "{name}: {}",
            text_of(&result)
        );
    }
}
