//! The Prometheus endpoint of the real binary (METRICS-1..4 in
//! docs/contract.md): after real traffic (a session, a tool call, refusals
//! with a wrong key and a key-bearing path), `GET /metrics` on the metrics
//! listener counts what happened, Prometheus' own `promtool check metrics`
//! accepts the exposition, and no key, key id or session id is in it.

use std::process::{Command, Stdio};
use std::time::Duration;

use e2e::{ServerProcess, SseItem, SseStream, post, random_key};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

const WAIT: Duration = Duration::from_secs(10);

/// Debian's `promtool` (package `prometheus`, which `.ci/run` installs).
fn promtool() -> Option<&'static str> {
    let found = Command::new("promtool")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !found {
        e2e::skip("promtool: not installed (apt-get install prometheus)");
    }
    found.then_some("promtool")
}

/// The 8-hex key id the audit log uses for `key`.
fn key_id(key: &str) -> String {
    hex::encode(Sha256::digest(key.as_bytes()))[..8].to_owned()
}

/// The value of the sample `name` (its whole `name{labels}` text), if any.
fn sample(text: &str, name: &str) -> Option<f64> {
    text.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' '))
        .and_then(|v| v.parse().ok())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_1_4_the_exposition_counts_traffic_passes_promtool_and_holds_no_key() {
    let key = random_key();
    let wrong = random_key();
    let server = ServerProcess::start(
        &[
            "--data",
            "fixtures",
            "--metrics-bind",
            "127.0.0.1:0",
            "--rate-limit-rps",
            "100",
            "--rate-limit-burst",
            "100",
        ],
        &[("CFPB_MCP_API_KEYS", key.as_str())],
    );
    let start: Value = server
        .lines()
        .iter()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .find(|v| v["event"] == "server_start")
        .expect("a server_start line");
    let metrics_addr = start["metrics"]
        .as_str()
        .expect("server_start names the metrics listener");
    assert!(metrics_addr.starts_with("127.0.0.1:"), "{metrics_addr}");
    let metrics_url = format!("http://{metrics_addr}/metrics");

    let client = reqwest::Client::new();
    // A session with a tool call, answered on its stream.
    let mut sse = SseStream::open(&client, &format!("{}/mcp/sse", server.base), &key).await;
    let Some(SseItem::Event { data: endpoint, .. }) = sse.next(WAIT).await else {
        panic!("no endpoint event");
    };
    let session_id = endpoint.rsplit('=').next().unwrap_or_default().to_owned();
    let messages = format!("{}{endpoint}", server.base);
    let init = json!({"jsonrpc":"2.0","id":0,"method":"initialize","params":{
        "protocolVersion":"2024-11-05","capabilities":{},"clientInfo":{"name":"metrics","version":"0"}}});
    assert_eq!(post(&client, &messages, &key, &init).await.0, 202);
    assert!(sse.next_message(WAIT).await.is_some());
    let call = json!({"jsonrpc":"2.0","id":1,"method":"tools/call",
        "params":{"name":"search_complaints","arguments":{"search_term":"escrow","size":2}}});
    assert_eq!(post(&client, &messages, &key, &call).await.0, 202);
    assert_eq!(sse.next_message(WAIT).await.expect("answer")["id"], 1);
    // Refusals: a wrong key (3 times), and a path that carries the key.
    for _ in 0..3 {
        assert_eq!(post(&client, &messages, &wrong, &call).await.0, 401);
    }
    let probe = client
        .get(format!("{}/{key}", server.base))
        .header("X-API-Key", &key)
        .send()
        .await
        .expect("probe");
    assert_eq!(probe.status(), 404);

    let response = client.get(&metrics_url).send().await.expect("scrape");
    assert_eq!(response.status(), 200);
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert!(
        content_type.starts_with("text/plain; version=0.0.4"),
        "{content_type}"
    );
    let text = response.text().await.expect("body");
    // What Prometheus itself asks for.
    let openmetrics = client
        .get(&metrics_url)
        .header(
            "accept",
            "application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5",
        )
        .send()
        .await
        .expect("scrape");
    assert!(
        openmetrics.headers()["content-type"]
            .to_str()
            .unwrap_or_default()
            .starts_with("application/openmetrics-text")
    );
    let openmetrics = openmetrics.text().await.expect("body");
    assert!(
        openmetrics.ends_with("# EOF\n"),
        "OpenMetrics ends with # EOF"
    );
    println!(
        "METRICS figure: {} lines, {} bytes",
        text.lines().count(),
        text.len()
    );

    // METRICS-2: what happened is counted.
    for (name, at_least) in [
        (
            r#"cfpb_mcp_requests_total{route="/mcp/sse",status="200"}"#,
            1.0,
        ),
        (
            r#"cfpb_mcp_requests_total{route="/mcp/messages",status="202"}"#,
            2.0,
        ),
        (
            r#"cfpb_mcp_requests_total{route="/mcp/messages",status="401"}"#,
            3.0,
        ),
        (
            r#"cfpb_mcp_requests_total{route="other",status="404"}"#,
            1.0,
        ),
        (r#"cfpb_mcp_refusals_total{reason="auth"}"#, 3.0),
        // The SSE GET and the two accepted POSTs, by the caller's method (OAUTH-5).
        (r#"cfpb_mcp_admitted_requests_total{method="keys"}"#, 3.0),
        (
            r#"cfpb_mcp_tool_calls_total{tool="search_complaints",outcome="ok"}"#,
            1.0,
        ),
        ("cfpb_mcp_open_streams", 1.0),
    ] {
        let value = sample(&text, name).unwrap_or_else(|| panic!("{name} missing in\n{text}"));
        assert!(
            value >= at_least,
            "{name} = {value}, expected >= {at_least}"
        );
    }
    // METRICS-3: no key material, no session id, no client path.
    for secret in [
        key.as_str(),
        wrong.as_str(),
        &key_id(&key),
        &key_id(&wrong),
        &session_id,
    ] {
        assert!(!secret.is_empty());
        assert!(
            !text.contains(secret) && !openmetrics.contains(secret),
            "the exposition holds {secret:.4}..."
        );
    }
    for prefix in [&key[..8], &session_id[..8]] {
        assert!(
            !text.contains(prefix) && !openmetrics.contains(prefix),
            "the exposition holds a prefix {prefix:.4}..."
        );
    }

    // Prometheus' own linter accepts it.
    if let Some(promtool) = promtool() {
        let mut child = Command::new(promtool)
            .args(["check", "metrics"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("promtool");
        {
            use std::io::Write;
            let mut stdin = child.stdin.take().expect("stdin");
            stdin.write_all(text.as_bytes()).expect("write");
        }
        let out = child.wait_with_output().expect("promtool output");
        assert!(
            out.status.success(),
            "promtool check metrics: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        println!("METRICS figure: promtool check metrics: ok");
    }

    // METRICS-4: only /metrics, only GET.
    let other = client
        .get(format!("http://{metrics_addr}/"))
        .send()
        .await
        .expect("other path");
    assert_eq!(other.status(), 404);
    let posted = client.post(&metrics_url).send().await.expect("post");
    assert_eq!(posted.status(), 405);
    drop(sse);
    server.stop();
}

#[test]
fn metrics_4_a_metrics_address_off_loopback_is_refused_at_start() {
    let output = Command::new(e2e::binary("cfpb-mcp"))
        .args(["--data", "fixtures", "--metrics-bind", "0.0.0.0:0"])
        .env("CFPB_MCP_API_KEYS", random_key())
        .env("CFPB_MCP_BIND", "127.0.0.1:0")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output()
        .expect("run cfpb-mcp");
    assert!(!output.status.success(), "it must not start");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("CFPB_MCP_METRICS_BIND") && stderr.contains("loopback"),
        "{stderr}"
    );
}

/// Every series the Grafana dashboard queries is one the server exports.
#[test]
fn metrics_2_the_grafana_dashboard_queries_only_exported_series() {
    let dashboard: Value = serde_json::from_str(include_str!("../docs/grafana-dashboard.json"))
        .expect("docs/grafana-dashboard.json is JSON");
    let source = include_str!("../server/src/metrics/registry.rs");
    let mut queried = 0;
    for panel in dashboard["panels"].as_array().expect("panels") {
        for target in panel["targets"].as_array().expect("targets") {
            let expr = target["expr"].as_str().expect("expr");
            for word in expr.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_')) {
                let Some(series) = word.strip_prefix("cfpb_mcp_") else {
                    continue;
                };
                let family = ["_total", "_bucket"]
                    .iter()
                    .find_map(|suffix| series.strip_suffix(suffix))
                    .unwrap_or(series);
                let family = family.strip_suffix("_seconds").unwrap_or(family);
                assert!(
                    source.contains(&format!("\"{family}\"")),
                    "the dashboard queries {word}, which registry.rs does not register"
                );
                queried += 1;
            }
        }
    }
    assert!(queried >= 12, "{queried} series queried");
}
