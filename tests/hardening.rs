//! Issue 23, findings 7, 9 and 10, through the real `cfpb-mcp` binary on
//! loopback (docs/reliability.md, "Issue 23: bounds and trust"):
//!
//! - LOG-4 (finding 7): a flood of wrong-key requests is summarised past its
//!   budget (`refusals_summarized` lines with exact counts), and the lines
//!   written before it stay in the trail.
//! - AUTH-9 (finding 9): a weak key stops the server at start, the message
//!   naming the entry, never the key.
//! - DATA-11 (finding 8): one key whose live calls hang upstream leaves
//!   another key's call answered at once.
//! - LOG-2 (finding 10): a key percent-encoded twice in a path is logged
//!   redacted, not verbatim.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use e2e::{ServerProcess, SseItem, SseStream, post, random_key};
use futures::StreamExt;
use serde_json::{Value, json};

/// Limits high enough that every wrong key reaches its 401 (not the
/// failed-auth limiter's 429).
const UNLIMITED: &[&str] = &[
    "--data",
    "fixtures",
    "--auth-fail-rps",
    "1000000",
    "--auth-fail-burst",
    "1000000",
];

/// Refusal lines written one by one per window and kind (LOG-4's budget).
const LINES_PER_WINDOW: usize = 100;
const WINDOW: Duration = Duration::from_secs(10);

fn parsed(lines: &[String]) -> Vec<Value> {
    lines
        .iter()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn log_4_a_wrong_key_flood_is_summarised_and_earlier_lines_stay() {
    const FLOOD: usize = 3_000;
    let key = random_key();
    let server = ServerProcess::start(UNLIMITED, &[("CFPB_MCP_API_KEYS", key.as_str())]);
    let client = reqwest::Client::new();
    // The trail before the flood: three accepted streams.
    for _ in 0..3 {
        let stream = SseStream::open(&client, &format!("{}/mcp/sse", server.base), &key).await;
        assert_eq!(stream.status, 200);
    }
    let started = Instant::now();
    let url = format!("{}/mcp/sse", server.base);
    let statuses: Vec<u16> = futures::stream::iter(0..FLOOD)
        .map(|_| {
            let (client, url) = (client.clone(), url.clone());
            async move {
                let wrong = random_key();
                match client.get(&url).header("X-API-Key", wrong).send().await {
                    Ok(response) => response.status().as_u16(),
                    Err(_) => 0,
                }
            }
        })
        .buffer_unordered(8)
        .collect()
        .await;
    let took = started.elapsed();
    assert!(
        statuses.iter().all(|s| *s == 401),
        "every wrong key is a 401"
    );
    let (code, lines) = server.stop();
    assert_eq!(code, Some(0));

    let events = parsed(&lines);
    let accepted = events
        .iter()
        .filter(|e| e["event"] == "mcp_request" && e["status"] == 200)
        .count();
    assert_eq!(accepted, 3, "the lines before the flood are all there");
    let refused = events
        .iter()
        .filter(|e| e["event"] == "mcp_request" && e["error"] == "auth")
        .count();
    let summaries: Vec<&Value> = events
        .iter()
        .filter(|e| e["event"] == "refusals_summarized")
        .collect();
    let summarised: u64 = summaries.iter().filter_map(|s| s["count"].as_u64()).sum();
    // Every refusal is written or counted, exactly once.
    assert_eq!(refused as u64 + summarised, FLOOD as u64);
    let windows = (took.as_secs_f64() / WINDOW.as_secs_f64()).ceil() as usize + 1;
    assert!(
        refused <= LINES_PER_WINDOW * windows,
        "{refused} refusal lines in {took:?}"
    );
    assert!(!summaries.is_empty() && summaries.len() <= windows);
    for summary in &summaries {
        assert_eq!(summary["reason"], "auth");
        assert_eq!(summary["written"], LINES_PER_WINDOW);
        assert_eq!(summary["window_secs"], WINDOW.as_secs());
    }
    let bytes: usize = lines.iter().map(|l| l.len() + 1).sum();
    println!(
        "LOG-4: {FLOOD} wrong keys in {took:?}: {refused} refusal lines, {} summaries, \
         {bytes} bytes of log in all",
        summaries.len()
    );
    // One line per refusal would be about 171 bytes each.
    assert!(bytes < FLOOD * 171 / 5, "{bytes} bytes");
}

/// Run `cfpb-mcp serve` with `keys`; its exit code and stderr, or `None` if
/// it was still running after 10 s (it started: killed).
fn start_with_keys(keys: &str) -> Option<(Option<i32>, String)> {
    let mut child = Command::new(e2e::binary("cfpb-mcp"))
        .args(["serve", "--bind", "127.0.0.1:0", "--data", "fixtures"])
        .env("CFPB_MCP_API_KEYS", keys)
        .env_remove("CFPB_MCP_API_KEYS_FILE")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start cfpb-mcp");
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if let Some(status) = child.try_wait().expect("wait") {
            let out = child.wait_with_output().expect("stderr");
            return Some((status.code(), String::from_utf8_lossy(&out.stderr).into()));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    let _ = child.wait();
    None
}

#[test]
fn auth_9_a_weak_key_stops_the_server_without_echoing_it() {
    let strong = random_key();
    for weak in ["k1", "dev-abc123", "sekrit-key-123456"] {
        let (code, stderr) = start_with_keys(&format!("{strong},{weak}"))
            .unwrap_or_else(|| panic!("the server started with the weak key {weak:?}"));
        assert_eq!(code, Some(2), "{stderr}");
        assert!(
            stderr.contains("CFPB_MCP_API_KEYS: key #2 is too weak")
                && stderr.contains("at least 128"),
            "{stderr}"
        );
        assert!(
            !stderr.contains(weak) && !stderr.contains(&strong),
            "{stderr}"
        );
    }
    // What `keygen` makes starts (`start` awaits its `server_start` line).
    let server = ServerProcess::start(&["--data", "fixtures"], &[("CFPB_MCP_API_KEYS", &strong)]);
    assert!(
        server
            .lines()
            .iter()
            .any(|l| l.contains("\"server_start\""))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn log_2_a_key_escaped_twice_in_a_path_is_logged_redacted() {
    let key = random_key();
    let server = ServerProcess::start(UNLIMITED, &[("CFPB_MCP_API_KEYS", key.as_str())]);
    let once: String = key.bytes().map(|b| format!("%{b:02X}")).collect();
    let twice: String = once.bytes().map(|b| format!("%{b:02X}")).collect();
    let client = reqwest::Client::new();
    for escaped in [&once, &twice] {
        let url = format!("{}/leak/{escaped}", server.base);
        let response = client.get(&url).send().await.expect("GET");
        assert_eq!(response.status(), 404);
    }
    let (_, lines) = server.stop();
    let paths: Vec<String> = parsed(&lines)
        .iter()
        .filter(|e| e["event"] == "mcp_request")
        .filter_map(|e| e["path"].as_str().map(str::to_owned))
        .collect();
    assert_eq!(paths, ["/leak/[REDACTED]", "/leak/[REDACTED]"]);
    for line in &lines {
        for needle in [key.as_str(), &once, &twice[..40]] {
            assert!(!line.contains(needle), "{line}");
        }
    }
}

/// Open an HTTP+SSE session and initialize it: its stream and messages URL.
async fn open_session(client: &reqwest::Client, base: &str, key: &str) -> (SseStream, String) {
    let wait = Duration::from_secs(10);
    let mut sse = SseStream::open(client, &format!("{base}/mcp/sse"), key).await;
    let Some(SseItem::Event { data: endpoint, .. }) = sse.next(wait).await else {
        panic!("no endpoint event");
    };
    let messages = format!("{base}{endpoint}");
    let init = json!({"jsonrpc":"2.0","id":0,"method":"initialize","params":{
        "protocolVersion":"2024-11-05","capabilities":{},
        "clientInfo":{"name":"hardening","version":"0"}}});
    assert_eq!(post(client, &messages, key, &init).await.0, 202);
    assert!(
        sse.next_message(wait).await.is_some(),
        "initialize answered"
    );
    (sse, messages)
}

fn document_call(id: u64, complaint: &str) -> Value {
    json!({"jsonrpc":"2.0","id":id,"method":"tools/call","params":{
        "name":"get_complaint_document","arguments":{"complaint_id":complaint}}})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn data_11_a_key_whose_calls_hang_upstream_leaves_another_key_served() {
    use wiremock::matchers::path;
    use wiremock::{Mock, MockServer, ResponseTemplate};
    let upstream = MockServer::start().await;
    // Key A's documents hang upstream for 30 s; key B's answer at once.
    Mock::given(path("/api/1"))
        .respond_with(ResponseTemplate::new(404).set_delay(Duration::from_secs(30)))
        .mount(&upstream)
        .await;
    Mock::given(path("/api/2"))
        .respond_with(ResponseTemplate::new(404))
        .mount(&upstream)
        .await;
    let hanging = || async {
        let received = upstream.received_requests().await.unwrap_or_default();
        received.iter().filter(|r| r.url.path() == "/api/1").count()
    };
    let (a, b) = (random_key(), random_key());
    let api = format!("{}/api/", upstream.uri());
    let args = [
        "--data",
        "live",
        "--api-base",
        &api,
        "--upstream-timeout-secs",
        "60",
        "--rate-limit-rps",
        "1000",
        "--rate-limit-burst",
        "1000",
    ];
    let keys = format!("{a},{b}");
    let server = ServerProcess::start(&args, &[("CFPB_MCP_API_KEYS", keys.as_str())]);
    let client = reqwest::Client::new();
    // A: two sessions, 8 documents each, all hanging.
    let mut hogs = Vec::new();
    for _ in 0..2 {
        let (sse, messages) = open_session(&client, &server.base, &a).await;
        for n in 1..=8 {
            assert_eq!(
                post(&client, &messages, &a, &document_call(n, "1")).await.0,
                202
            );
        }
        hogs.push(sse);
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    while hanging().await < 4 {
        assert!(
            Instant::now() < deadline,
            "A's calls never reached the upstream"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // B: one call, answered without waiting for any of A's.
    let (mut sse, messages) = open_session(&client, &server.base, &b).await;
    let asked = Instant::now();
    assert_eq!(
        post(&client, &messages, &b, &document_call(1, "2")).await.0,
        202
    );
    let answer = sse.next_message(Duration::from_secs(10)).await;
    let took = asked.elapsed();
    println!("DATA-11: key B answered in {took:?} beside key A's 16 hanging calls");
    let answer = answer.expect("B's call answered within 10 s (A holds only its share)");
    assert_eq!(answer["id"], 1);
    assert_eq!(
        hanging().await,
        4,
        "A never had more than its share upstream"
    );
    drop(hogs);
}
