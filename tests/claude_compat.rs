//! The request shapes Claude's clients really send (COMPAT-1..6 in
//! docs/contract.md; issue threads in docs/connector.md), replayed through
//! the real `cfpb-mcp` binary: served by default, each tolerance named in
//! its audit line and counted in `cfpb_mcp_client_quirks_total`; refused
//! with `--strict-protocol`; and the controls (what stays strict) refused in
//! both modes.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use e2e::{ServerProcess, random_key};
use serde_json::{Value, json};

const V: &str = "2026-07-28";
const OLD: &str = "2025-11-25";

/// One server, default or strict, with its metrics listener.
struct Target {
    server: ServerProcess,
    key: String,
    client: reqwest::Client,
    metrics: String,
    /// Requests sent to /mcp so far (one audit line each).
    sent: AtomicUsize,
}

impl Target {
    fn start(strict: bool) -> Self {
        let key = random_key();
        let mut args = vec![
            "--data",
            "fixtures",
            "--metrics-bind",
            "127.0.0.1:0",
            "--rate-limit-rps",
            "100",
            "--rate-limit-burst",
            "100",
        ];
        if strict {
            args.push("--strict-protocol");
        }
        let server = ServerProcess::start(&args, &[("CFPB_MCP_API_KEYS", key.as_str())]);
        let metrics = server
            .lines()
            .iter()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .find(|v| v["event"] == "server_start")
            .and_then(|v| v["metrics"].as_str().map(str::to_owned))
            .expect("server_start names the metrics listener");
        Self {
            server,
            key,
            client: reqwest::Client::new(),
            metrics: format!("http://{metrics}/metrics"),
            sent: AtomicUsize::new(0),
        }
    }

    /// POST /mcp with the key, `User-Agent: Claude-User`, and `headers`.
    async fn post(&self, body: &Value, headers: &[(&str, &str)]) -> Answer {
        let mut r = self
            .client
            .post(format!("{}/mcp", self.server.base))
            .header("Authorization", format!("Bearer {}", self.key))
            .header("User-Agent", "Claude-User")
            .header("Content-Type", "application/json")
            .header("Accept", "application/json, text/event-stream")
            .body(body.to_string());
        for (name, value) in headers {
            r = r.header(*name, *value);
        }
        let response = r.send().await.expect("POST /mcp");
        self.sent.fetch_add(1, Ordering::SeqCst);
        let status = response.status().as_u16();
        let session = response
            .headers()
            .get("mcp-session-id")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let text = response.text().await.unwrap_or_default();
        Answer {
            status,
            session,
            message: message_of(&text),
        }
    }

    /// The audit line of the last request (every request here writes one),
    /// once the writer has written it.
    async fn last_request_line(&self) -> Value {
        let sent = self.sent.load(Ordering::SeqCst);
        let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
        loop {
            let lines = self.request_lines();
            if lines.len() >= sent
                && let Some(last) = lines.last()
            {
                return last.clone();
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "no mcp_request line"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    fn request_lines(&self) -> Vec<Value> {
        self.server
            .lines()
            .iter()
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .filter(|v| v["event"] == "mcp_request")
            .collect()
    }

    /// `cfpb_mcp_client_quirks_total{quirk}` now.
    async fn quirk_count(&self, quirk: &str) -> u64 {
        let text = self
            .client
            .get(&self.metrics)
            .send()
            .await
            .expect("GET /metrics")
            .text()
            .await
            .unwrap_or_default();
        let prefix = format!("cfpb_mcp_client_quirks_total{{quirk=\"{quirk}\"}} ");
        text.lines()
            .find_map(|l| l.strip_prefix(&prefix))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(0)
    }
}

struct Answer {
    status: u16,
    session: Option<String>,
    message: Value,
}

/// The JSON-RPC message of a body: JSON, or the first in an event stream.
fn message_of(body: &str) -> Value {
    if let Ok(v) = serde_json::from_str(body) {
        return v;
    }
    body.lines()
        .filter_map(|l| l.strip_prefix("data: "))
        .filter_map(|d| serde_json::from_str::<Value>(d).ok())
        .find(|v| v.get("jsonrpc").is_some())
        .unwrap_or(Value::Null)
}

/// A 2026-07-28 request: its `_meta` names the revision.
fn modern(id: u64, method: &str, mut params: Value) -> Value {
    params["_meta"] = json!({
        "io.modelcontextprotocol/protocolVersion": V,
        "io.modelcontextprotocol/clientInfo": {"name": "claude-ai", "version": "0.1.0"},
        "io.modelcontextprotocol/clientCapabilities": {}
    });
    json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params})
}

fn search(id: u64) -> Value {
    modern(
        id,
        "tools/call",
        json!({"name": "search_complaints", "arguments": {"state": "CA", "size": 1}}),
    )
}

/// The mirrored headers of a 2026-07-28 `tools/call` of search_complaints.
const CALL: [(&str, &str); 2] = [
    ("Mcp-Method", "tools/call"),
    ("Mcp-Name", "search_complaints"),
];

fn initialize(id: u64, version: &str) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "method": "initialize", "params": {
        "protocolVersion": version, "capabilities": {},
        "clientInfo": {"name": "claude-code", "version": "2.1.0"}}})
}

fn is_tool_result(m: &Value) -> bool {
    m["result"]["content"].is_array() && m["result"]["isError"] != json!(true)
}

fn quirks(line: &Value) -> Vec<String> {
    line["client_quirk"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|q| q.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn compat_shapes_are_served_logged_and_counted_by_default() {
    let t = Target::start(false);

    // Shape 1 (claude.ai connectors): a 2026-07-28 body, a 2025-11-25 header.
    let a = t
        .post(
            &search(1),
            &[("MCP-Protocol-Version", OLD), CALL[0], CALL[1]],
        )
        .await;
    assert_eq!(a.status, 200, "{}", a.message);
    assert!(is_tool_result(&a.message), "{}", a.message);
    assert_eq!(a.session, None, "served statelessly");
    let line = t.last_request_line().await;
    assert_eq!(quirks(&line), ["version_header_stale"], "{line}");
    assert_eq!(line["tool"], "search_complaints");
    assert_eq!(t.quirk_count("version_header_stale").await, 1);

    // Shape 4: no version header at all, the body says 2026-07-28.
    let a = t
        .post(
            &modern(2, "tools/list", json!({})),
            &[("Mcp-Method", "tools/list")],
        )
        .await;
    assert_eq!(a.status, 200, "{}", a.message);
    assert!(a.message["result"]["tools"].is_array(), "{}", a.message);
    assert_eq!(
        quirks(&t.last_request_line().await),
        ["version_header_missing"]
    );
    assert_eq!(t.quirk_count("version_header_missing").await, 1);

    // Shape 2 (Claude Code): the header duplicated into one value, on
    // initialize and on the session's later requests; and on a stateless one.
    let dup = format!("{OLD}, {OLD}");
    let a = t
        .post(
            &initialize(3, OLD),
            &[("MCP-Protocol-Version", dup.as_str())],
        )
        .await;
    assert_eq!(a.status, 200, "{}", a.message);
    assert_eq!(a.message["result"]["protocolVersion"], OLD);
    let session = a.session.expect("initialize opens a session");
    assert_eq!(
        quirks(&t.last_request_line().await),
        ["version_header_repeated"]
    );
    let done = json!({"jsonrpc": "2.0", "method": "notifications/initialized"});
    let in_session = [
        ("MCP-Protocol-Version", dup.as_str()),
        ("Mcp-Session-Id", session.as_str()),
    ];
    assert_eq!(t.post(&done, &in_session).await.status, 202);
    let list = json!({"jsonrpc": "2.0", "id": 4, "method": "tools/list"});
    let a = t.post(&list, &in_session).await;
    assert_eq!(a.status, 200, "{}", a.message);
    assert!(a.message["result"]["tools"].is_array());
    let modern_dup = format!("{V},{V}");
    let a = t
        .post(
            &search(5),
            &[
                ("MCP-Protocol-Version", modern_dup.as_str()),
                CALL[0],
                CALL[1],
            ],
        )
        .await;
    assert!(is_tool_result(&a.message), "{}", a.message);
    assert_eq!(t.quirk_count("version_header_repeated").await, 4);

    // Shape 3 (Claude Code): initialize after a successful server/discover,
    // with the modern header: answered session-based.
    let discover = modern(6, "server/discover", json!({}));
    let a = t
        .post(
            &discover,
            &[
                ("MCP-Protocol-Version", V),
                ("Mcp-Method", "server/discover"),
            ],
        )
        .await;
    assert_eq!(a.status, 200, "{}", a.message);
    let a = t
        .post(&initialize(7, V), &[("MCP-Protocol-Version", V)])
        .await;
    assert_eq!(a.status, 200, "{}", a.message);
    assert_eq!(
        a.message["result"]["protocolVersion"], OLD,
        "negotiated down"
    );
    let session = a.session.expect("a session id");
    assert_eq!(
        quirks(&t.last_request_line().await),
        ["initialize_modern_header"]
    );
    assert_eq!(t.quirk_count("initialize_modern_header").await, 1);
    let a = t
        .post(
            &list,
            &[("MCP-Protocol-Version", OLD), ("Mcp-Session-Id", &session)],
        )
        .await;
    assert!(a.message["result"]["tools"].is_array(), "{}", a.message);

    // Shape 5: a stale session id gets 404, so the client initializes again.
    let stale = "0123456789abcdef0123456789abcdef";
    let a = t
        .post(
            &list,
            &[("MCP-Protocol-Version", OLD), ("Mcp-Session-Id", stale)],
        )
        .await;
    assert_eq!(a.status, 404);

    // An honest request carries no client_quirk.
    let a = t
        .post(&search(8), &[("MCP-Protocol-Version", V), CALL[0], CALL[1]])
        .await;
    assert!(is_tool_result(&a.message));
    let line = t.last_request_line().await;
    assert!(line.get("client_quirk").is_none(), "{line}");
    t.server.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn compat_strict_protocol_refuses_every_shape() {
    let t = Target::start(true);
    let a = t
        .post(
            &search(1),
            &[("MCP-Protocol-Version", OLD), CALL[0], CALL[1]],
        )
        .await;
    assert_eq!(
        (a.status, &a.message["error"]["code"]),
        (400, &json!(-32020)),
        "{}",
        a.message
    );
    let a = t
        .post(
            &modern(2, "tools/list", json!({})),
            &[("Mcp-Method", "tools/list")],
        )
        .await;
    assert_eq!(
        (a.status, &a.message["error"]["code"]),
        (400, &json!(-32020)),
        "{}",
        a.message
    );
    let dup = format!("{OLD}, {OLD}");
    let a = t
        .post(
            &initialize(3, OLD),
            &[("MCP-Protocol-Version", dup.as_str())],
        )
        .await;
    assert_eq!(a.status, 400);
    let a = t
        .post(&initialize(4, V), &[("MCP-Protocol-Version", V)])
        .await;
    assert_eq!(
        (a.status, &a.message["error"]["code"]),
        (404, &json!(-32601)),
        "{}",
        a.message
    );
    assert_eq!(a.session, None);
    for line in t.request_lines() {
        assert!(line.get("client_quirk").is_none(), "{line}");
    }
    for quirk in [
        "version_header_missing",
        "version_header_stale",
        "version_header_repeated",
        "initialize_modern_header",
    ] {
        assert_eq!(t.quirk_count(quirk).await, 0, "{quirk}");
    }
    t.server.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn compat_5_the_controls_stay_refused_by_default() {
    let t = Target::start(false);
    // Mcp-Method / Mcp-Name that differ from the body.
    for (name, value) in [
        ("Mcp-Method", "tools/list"),
        ("Mcp-Name", "get_complaint_document"),
    ] {
        let mut headers = vec![("MCP-Protocol-Version", V), CALL[0], CALL[1]];
        headers.retain(|(n, _)| *n != name);
        headers.push((name, value));
        let a = t.post(&search(1), &headers).await;
        assert_eq!(
            (a.status, &a.message["error"]["code"]),
            (400, &json!(-32020)),
            "{name}"
        );
    }
    // The same with the tolerated stale header: still a mismatch.
    let a = t
        .post(
            &search(2),
            &[("MCP-Protocol-Version", OLD), ("Mcp-Method", "tools/list")],
        )
        .await;
    assert_eq!(a.message["error"]["code"], -32020, "{}", a.message);
    // A 2026-07-28 header whose _meta names another version.
    let mut body = search(3);
    body["params"]["_meta"]["io.modelcontextprotocol/protocolVersion"] = json!(OLD);
    let a = t
        .post(&body, &[("MCP-Protocol-Version", V), CALL[0], CALL[1]])
        .await;
    assert_eq!(
        (a.status, &a.message["error"]["code"]),
        (400, &json!(-32020)),
        "{}",
        a.message
    );
    // A version the server does not serve.
    let mut body = search(4);
    body["params"]["_meta"]["io.modelcontextprotocol/protocolVersion"] = json!("2099-01-01");
    let a = t
        .post(
            &body,
            &[("MCP-Protocol-Version", "2099-01-01"), CALL[0], CALL[1]],
        )
        .await;
    assert_eq!(
        (a.status, &a.message["error"]["code"]),
        (400, &json!(-32022)),
        "{}",
        a.message
    );
    // A stateless request without _meta.
    let bare = json!({"jsonrpc": "2.0", "id": 5, "method": "tools/list", "params": {}});
    let a = t
        .post(
            &bare,
            &[("MCP-Protocol-Version", V), ("Mcp-Method", "tools/list")],
        )
        .await;
    assert_eq!(
        (a.status, &a.message["error"]["code"]),
        (400, &json!(-32602)),
        "{}",
        a.message
    );
    // Differing version values.
    let a = t
        .post(
            &search(6),
            &[
                ("MCP-Protocol-Version", "2025-11-25, 2026-07-28"),
                CALL[0],
                CALL[1],
            ],
        )
        .await;
    assert_eq!(a.status, 400);
    // A body _meta version on a request that carries a session id (a stale one): 404.
    let a = t
        .post(
            &search(7),
            &[
                ("Mcp-Session-Id", "0123456789abcdef0123456789abcdef"),
                CALL[0],
                CALL[1],
            ],
        )
        .await;
    assert_eq!(a.status, 404);
    // An unknown key: the guard first, as ever.
    let r = t
        .client
        .post(format!("{}/mcp", t.server.base))
        .header("Authorization", format!("Bearer {}", random_key()))
        .header("User-Agent", "Claude-User")
        .header("Content-Type", "application/json")
        .body(search(8).to_string())
        .send()
        .await
        .expect("POST");
    assert_eq!(r.status(), 401);
    // Only the stale header was tolerated (and said so) before the mismatch
    // refused that request; nothing else here needed a tolerance.
    let tolerated: Vec<Vec<String>> = t
        .request_lines()
        .iter()
        .map(quirks)
        .filter(|q| !q.is_empty())
        .collect();
    assert_eq!(tolerated, [["version_header_stale"]]);
    t.server.stop();
}
