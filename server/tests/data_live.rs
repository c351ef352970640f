//! The live data source against a mock CCDB5 API (`wiremock`), driven through
//! `tools::call` as the MCP layer drives it: exact query parameters, document
//! shapes, and every upstream failure as a clear `isError` result
//! (DATA-1, DATA-2, DATA-3, DATA-4, DATA-5, MSG-5).

use std::time::Duration;

use cfpb_mcp_server::data::{DataMode, DataSource};
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

fn text_of(result: &CallToolResult) -> String {
    result
        .content
        .iter()
        .filter_map(|block| block.as_text().map(|text| text.text.clone()))
        .collect::<Vec<_>>()
        .join("\n")
}

fn ccdb5_source(id: &str, narrative: &str) -> Value {
    json!({
        "product": "Debt collection",
        "complaint_what_happened": narrative,
        "date_sent_to_company": "2023-03-02T12:00:00-05:00",
        "issue": "Attempts to collect debt not owed",
        "sub_product": "Medical debt",
        "zip_code": "606XX",
        "tags": "Servicemember",
        "has_narrative": !narrative.is_empty(),
        "complaint_id": id,
        "timely": "Yes",
        "consumer_consent_provided": "Consent provided",
        "company_response": "Closed with explanation",
        "submitted_via": "Web",
        "company": "Example Upstream Co",
        "date_received": "2023-03-01T12:00:00-05:00",
        "state": "IL",
        "consumer_disputed": "N/A",
        "company_public_response": null,
        "sub_issue": "Debt is not yours"
    })
}

fn search_body(total: Value, ids: &[&str]) -> Value {
    json!({
        "_meta": {"total_record_count": 5_000_000},
        "took": 12,
        "timed_out": false,
        "hits": {
            "total": total,
            "max_score": 1.0,
            "hits": ids.iter().map(|id| json!({
                "_index": "complaint-public-v2",
                "_id": id,
                "_score": 1.0,
                "_source": ccdb5_source(id, "They kept calling me about a debt I do not owe."),
            })).collect::<Vec<_>>()
        }
    })
}

#[tokio::test]
async fn search_sends_exact_ccdb5_parameters_and_shapes_the_result() {
    // DATA-1 / DATA-3: CCDB5 parameter names, lists repeated; DATA-4 result shape.
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(API_PATH))
        .and(query_param("no_aggs", "true"))
        .respond_with(ResponseTemplate::new(200).set_body_json(search_body(
            json!({"value": 1234, "relation": "eq"}),
            &["7654321", "7654320"],
        )))
        .expect(1)
        .mount(&server)
        .await;
    let source = live(&server, Duration::from_secs(5)).await;
    assert_eq!(source.mode(), DataMode::Live);

    let result = tools::call(
        &source,
        "search_complaints",
        args(json!({
            "search_term": "debt not owed",
            "field": "complaint_what_happened",
            "company": ["Example Upstream Co", "Other & Sons"],
            "product": "Debt collection",
            "issue": ["Attempts to collect debt not owed"],
            "state": ["IL", "CA"],
            "submitted_via": "Web",
            "tags": "Servicemember",
            "company_response": ["Closed with explanation"],
            "date_received_min": "2023-01-01",
            "date_received_max": "2023-12-31",
            "has_narrative": true,
            "size": 2,
            "frm": 40,
            "sort": "created_date_desc"
        })),
    )
    .await
    .expect("known tool");
    assert_eq!(result.is_error, Some(false), "{}", text_of(&result));

    let requests = server.received_requests().await.unwrap_or_default();
    assert_eq!(requests.len(), 1);
    let pairs: Vec<(String, String)> = requests[0].url.query_pairs().into_owned().collect();
    let expected: Vec<(String, String)> = [
        ("search_term", "debt not owed"),
        ("field", "complaint_what_happened"),
        ("company", "Example Upstream Co"),
        ("company", "Other & Sons"),
        ("product", "Debt collection"),
        ("issue", "Attempts to collect debt not owed"),
        ("state", "IL"),
        ("state", "CA"),
        ("submitted_via", "Web"),
        ("tags", "Servicemember"),
        ("company_response", "Closed with explanation"),
        ("date_received_min", "2023-01-01"),
        ("date_received_max", "2023-12-31"),
        ("has_narrative", "true"),
        ("size", "2"),
        ("frm", "40"),
        ("sort", "created_date_desc"),
        ("no_aggs", "true"),
    ]
    .iter()
    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
    .collect();
    assert_eq!(pairs, expected);
    let user_agent = requests[0]
        .headers
        .get("user-agent")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    assert!(user_agent.starts_with("cfpb-mcp-server/"), "{user_agent}");

    let structured = result
        .structured_content
        .clone()
        .expect("structured content");
    assert_eq!(structured["source"], "live");
    assert!(structured.get("synthetic").is_none());
    assert_eq!(structured["total"], 1234);
    assert_eq!(structured["total_relation"], "eq");
    assert_eq!(structured["frm"], 40);
    assert_eq!(structured["size"], 2);
    assert_eq!(structured["returned"], 2);
    assert_eq!(structured["next_frm"], 42);
    let first = &structured["complaints"][0];
    assert_eq!(first["complaint_id"], "7654321");
    assert_eq!(first["company"], "Example Upstream Co");
    assert_eq!(first["tags"], json!(["Servicemember"]));
    assert_eq!(
        first["url"],
        "https://www.consumerfinance.gov/data-research/consumer-complaints/search/detail/7654321"
    );
    assert_eq!(first["narrative_truncated"], false);
    let from_text: Value = serde_json::from_str(&text_of(&result)).expect("text content is JSON");
    assert_eq!(
        from_text, structured,
        "DATA-4: text and structured content agree"
    );
}

#[tokio::test]
async fn total_as_a_number_and_as_a_lower_bound() {
    // DATA-5: hits.total as a number; "gte" totals are reported as such.
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(API_PATH))
        .and(query_param("frm", "0"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(search_body(json!(3), &["1", "2", "3"])),
        )
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(API_PATH))
        .and(query_param("frm", "10"))
        .respond_with(ResponseTemplate::new(200).set_body_json(search_body(
            json!({"value": 10000, "relation": "gte"}),
            &["4"],
        )))
        .mount(&server)
        .await;
    let source = live(&server, Duration::from_secs(5)).await;
    let result = tools::call(&source, "search_complaints", None)
        .await
        .expect("known tool");
    let structured = result.structured_content.expect("structured");
    assert_eq!(structured["total"], 3);
    assert_eq!(structured["next_frm"], Value::Null, "no more pages");

    let result = tools::call(&source, "search_complaints", args(json!({"frm": 10})))
        .await
        .expect("known tool");
    let structured = result.structured_content.expect("structured");
    assert_eq!(structured["total_relation"], "gte");
}

#[tokio::test]
async fn long_live_narratives_are_previewed_in_search_and_whole_in_documents() {
    // DATA-4: bounded narratives in search results, full text by document.
    let server = MockServer::start().await;
    let long = "word ".repeat(600);
    let mut body = search_body(json!({"value": 1}), &["55"]);
    body["hits"]["hits"][0]["_source"]["complaint_what_happened"] = json!(long);
    Mock::given(method("GET"))
        .and(path(API_PATH))
        .respond_with(ResponseTemplate::new(200).set_body_json(body.clone()))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("{API_PATH}55")))
        .respond_with(ResponseTemplate::new(200).set_body_json(body))
        .mount(&server)
        .await;
    let source = live(&server, Duration::from_secs(5)).await;
    let result = tools::call(&source, "search_complaints", None)
        .await
        .expect("known tool");
    let structured = result.structured_content.expect("structured");
    let preview = structured["complaints"][0]["complaint_what_happened"]
        .as_str()
        .unwrap_or("");
    assert_eq!(preview.chars().count(), 1001);
    assert_eq!(structured["complaints"][0]["narrative_truncated"], true);

    let result = tools::call(
        &source,
        "get_complaint_document",
        args(json!({"complaint_id": 55})),
    )
    .await
    .expect("known tool");
    let structured = result.structured_content.expect("structured");
    assert_eq!(
        structured["complaint"]["complaint_what_happened"].as_str(),
        Some(long.as_str())
    );
}

#[tokio::test]
async fn document_is_fetched_at_base_plus_id_in_either_shape() {
    // DATA-2 / DATA-5: <CFPB_API_BASE><complaint_id>; search-shaped or bare document.
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(format!("{API_PATH}111")))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(search_body(json!({"value": 1}), &["111"])),
        )
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("{API_PATH}222")))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "_index": "complaint-public-v2",
            "_id": "222",
            "_source": ccdb5_source("222", ""),
        })))
        .expect(1)
        .mount(&server)
        .await;
    let source = live(&server, Duration::from_secs(5)).await;

    for id in ["111", "222"] {
        let result = tools::call(
            &source,
            "get_complaint_document",
            args(json!({"complaint_id": id})),
        )
        .await
        .expect("known tool");
        assert_eq!(result.is_error, Some(false), "{}", text_of(&result));
        let structured = result.structured_content.expect("structured");
        assert_eq!(structured["source"], "live");
        assert_eq!(structured["complaint"]["complaint_id"], id);
        assert_eq!(
            structured["complaint"]["url"],
            format!(
                "https://www.consumerfinance.gov/data-research/consumer-complaints/search/detail/{id}"
            )
        );
    }
    let requests = server.received_requests().await.unwrap_or_default();
    assert!(requests.iter().all(|r| r.url.query().is_none()));
}

#[tokio::test]
async fn document_404_and_empty_hits_are_not_found() {
    // DATA-2: a clear not-found tool error.
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(format!("{API_PATH}404404")))
        .respond_with(ResponseTemplate::new(404).set_body_string("<html>Not Found</html>"))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("{API_PATH}500500")))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(search_body(json!({"value": 0}), &[])),
        )
        .mount(&server)
        .await;
    let source = live(&server, Duration::from_secs(5)).await;
    for id in [404404u64, 500500] {
        let result = tools::call(
            &source,
            "get_complaint_document",
            args(json!({"complaint_id": id.to_string()})),
        )
        .await
        .expect("known tool");
        assert_eq!(result.is_error, Some(true));
        assert_eq!(text_of(&result), format!("No complaint with id {id}"));
    }
}

#[tokio::test]
async fn upstream_5xx_is_a_clear_tool_error_without_the_body() {
    // MSG-5: a 5xx upstream -> isError with a clear message; never the raw body.
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(
            ResponseTemplate::new(503).set_body_string("UPSTREAM-SECRET-PAGE ".repeat(1000)),
        )
        .mount(&server)
        .await;
    let source = live(&server, Duration::from_secs(5)).await;
    let result = tools::call(&source, "search_complaints", None)
        .await
        .expect("known tool");
    assert_eq!(result.is_error, Some(true));
    assert_eq!(
        text_of(&result),
        "CFPB API request failed: upstream returned HTTP 503"
    );
    let result = tools::call(
        &source,
        "get_complaint_document",
        args(json!({"complaint_id": "5"})),
    )
    .await
    .expect("known tool");
    assert_eq!(
        text_of(&result),
        "CFPB API request failed: upstream returned HTTP 503"
    );
}

#[tokio::test]
async fn upstream_timeout_is_a_clear_tool_error() {
    // MSG-5 / DATA-3: the shared client has a total timeout.
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(search_body(json!(1), &["1"]))
                .set_delay(Duration::from_secs(3)),
        )
        .mount(&server)
        .await;
    let source = live(&server, Duration::from_millis(300)).await;
    let started = std::time::Instant::now();
    let result = tools::call(&source, "search_complaints", None)
        .await
        .expect("known tool");
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "gave up in time"
    );
    assert_eq!(result.is_error, Some(true));
    assert_eq!(
        text_of(&result),
        "CFPB API request failed: the request timed out after 300ms"
    );
}

#[tokio::test]
async fn malformed_json_and_wrong_shapes_are_clear_tool_errors() {
    // MSG-5: bad JSON and unexpected shapes.
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(query_param("frm", "0"))
        .respond_with(ResponseTemplate::new(200).set_body_string("<html>Access denied</html>"))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(query_param("frm", "1"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"error": "nope"})))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(query_param("frm", "2"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"hits": {"hits": [{"_source": "x"}]}})),
        )
        .mount(&server)
        .await;
    let source = live(&server, Duration::from_secs(5)).await;

    let result = tools::call(&source, "search_complaints", args(json!({"frm": 0})))
        .await
        .expect("known tool");
    assert_eq!(result.is_error, Some(true));
    let text = text_of(&result);
    assert!(
        text.starts_with("CFPB API request failed: upstream returned malformed JSON"),
        "{text}"
    );
    assert!(!text.contains("Access denied"), "{text}");

    for frm in [1, 2] {
        let result = tools::call(&source, "search_complaints", args(json!({"frm": frm})))
            .await
            .expect("known tool");
        assert_eq!(result.is_error, Some(true));
        let text = text_of(&result);
        assert!(
            text.starts_with(
                "CFPB API request failed: upstream returned an unexpected response shape"
            ),
            "{text}"
        );
    }
}

#[tokio::test]
async fn oversized_bodies_are_refused() {
    // MSG-5: the body is bounded before parsing.
    let server = MockServer::start().await;
    let huge = vec![b' '; 9 * 1024 * 1024];
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(huge, "application/json"))
        .mount(&server)
        .await;
    let source = live(&server, Duration::from_secs(10)).await;
    let result = tools::call(&source, "search_complaints", None)
        .await
        .expect("known tool");
    assert_eq!(result.is_error, Some(true));
    assert!(
        text_of(&result).contains("larger than the 8388608-byte limit"),
        "{}",
        text_of(&result)
    );
}

#[tokio::test]
async fn unreachable_upstream_is_a_clear_tool_error() {
    // MSG-5: connection refused.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    drop(listener);
    let base = url::Url::parse(&format!("http://127.0.0.1:{port}/api/v1/")).expect("url");
    let source = DataSource::live(base, Duration::from_secs(2)).expect("client");
    let result = tools::call(&source, "search_complaints", None)
        .await
        .expect("known tool");
    assert_eq!(result.is_error, Some(true));
    let text = text_of(&result);
    assert!(
        text.starts_with("CFPB API request failed: could not connect"),
        "{text}"
    );
    assert!(
        !text.contains(&port.to_string()) || text.len() < 300,
        "{text}"
    );
}

#[tokio::test]
async fn invalid_arguments_never_reach_the_upstream() {
    // DATA-1: argument errors are found before any upstream call.
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_json(search_body(json!(0), &[])))
        .expect(0)
        .mount(&server)
        .await;
    let source = live(&server, Duration::from_secs(5)).await;
    let cases = [
        ("search_complaints", json!({"size": 0}), "size"),
        ("search_complaints", json!({"size": 101}), "size"),
        ("search_complaints", json!({"field": "everything"}), "field"),
        ("search_complaints", json!({"sort": "oldest"}), "sort"),
        (
            "search_complaints",
            json!({"date_received_min": "2023-13-01"}),
            "date_received_min",
        ),
        ("search_complaints", json!({"company": [1, 2]}), "company"),
        ("search_complaints", json!({"bogus": true}), "bogus"),
        (
            "get_complaint_document",
            json!({"complaint_id": "12-34"}),
            "complaint_id",
        ),
        (
            "get_complaint_document",
            json!({"complaint_id": "1".repeat(40)}),
            "complaint_id",
        ),
        ("get_complaint_document", json!({}), "complaint_id"),
    ];
    for (tool, arguments, argument) in cases {
        let result = tools::call(&source, tool, args(arguments.clone()))
            .await
            .expect("known tool");
        assert_eq!(result.is_error, Some(true), "{tool} {arguments}");
        let text = text_of(&result);
        assert!(
            text.starts_with(&format!("Invalid argument `{argument}`")),
            "{tool} {arguments}: {text}"
        );
    }
    assert!(
        server
            .received_requests()
            .await
            .unwrap_or_default()
            .is_empty()
    );
}

/// METRICS-2: every upstream request is counted by outcome, and at most
/// `MAX_IN_FLIGHT` are in flight at once, however many calls wait.
#[tokio::test]
async fn metrics_2_upstream_requests_are_counted_and_bounded_in_flight() {
    use cfpb_mcp_server::data::MAX_IN_FLIGHT;
    use cfpb_mcp_server::metrics::{Metrics, Open};
    use std::sync::Arc;
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(503).set_delay(Duration::from_millis(200)))
        .mount(&server)
        .await;
    let metrics = Arc::new(Metrics::new());
    let source = live(&server, Duration::from_secs(10))
        .await
        .with_metrics(metrics.clone());
    let calls = MAX_IN_FLIGHT * 3;
    let started = std::time::Instant::now();
    let results = futures::future::join_all((0..calls).map(|_| {
        tools::call(
            &source,
            "search_complaints",
            args(json!({"search_term": "escrow"})),
        )
    }))
    .await;
    assert!(
        results
            .iter()
            .all(|r| r.as_ref().is_ok_and(|r| r.is_error == Some(true)))
    );
    let text = metrics.render(Open::default());
    let line = format!(r#"cfpb_mcp_upstream_requests_total{{outcome="status"}} {calls}"#);
    assert!(text.lines().any(|l| l == line), "{line} missing in\n{text}");
    let received = server.received_requests().await.unwrap_or_default();
    assert_eq!(received.len(), calls);
    // At most MAX_IN_FLIGHT at once, each answered after 200 ms: the calls
    // can't all be done in less than 3 waves (a lower bound, so load on the
    // machine can only make it hold more easily).
    assert!(
        started.elapsed() >= Duration::from_millis(3 * 200),
        "{calls} calls in {:?}: more than {MAX_IN_FLIGHT} were in flight",
        started.elapsed()
    );
}
