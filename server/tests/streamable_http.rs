//! `/mcp`, the Streamable HTTP transport, behind the same guard (HTTP-*):
//! session creation and binding to the key, the errors around sessions, the
//! shared limiter, the per-key session cap, revocation, and the audit line.

use std::io::Write as _;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use cfpb_mcp_server::data::DataMode;
use cfpb_mcp_server::{AuditTarget, Config, RunningServer, Server};
use serde_json::{Value, json};

const KEY: &str = "stream-key-0123456789abcdef";
const OTHER: &str = "other-key-0123456789abcdef";

#[derive(Clone, Default)]
struct Lines(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Lines {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn config(log: &Lines) -> Config {
    let mut config = Config::with_keys([KEY, OTHER]);
    config.data = DataMode::Fixtures;
    config.rate_limit_rps = 1000.0;
    config.rate_limit_burst = 1000;
    config.max_streams_per_key = 2;
    config.allowed_origins = vec!["https://claude.ai".into()];
    config.audit = AuditTarget::Writer(Box::new(log.clone()));
    config
}

async fn start(config: Config) -> (RunningServer, String) {
    let server = Server::bind(config).await.unwrap();
    let url = format!("http://{}/mcp", server.local_addr());
    (server, url)
}

fn post(
    client: &reqwest::Client,
    url: &str,
    key: &str,
    session: Option<&str>,
    body: Value,
) -> reqwest::RequestBuilder {
    let mut r = client
        .post(url)
        .header("X-API-Key", key)
        .header("Content-Type", "application/json")
        .header("Accept", "application/json, text/event-stream")
        .body(body.to_string());
    if let Some(id) = session {
        r = r
            .header("Mcp-Session-Id", id)
            .header("MCP-Protocol-Version", "2025-06-18");
    }
    r
}

fn initialize() -> Value {
    json!({"jsonrpc":"2.0","id":1,"method":"initialize","params":{
        "protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"0"}}})
}

/// The JSON-RPC message of a JSON or SSE response body.
fn message_of(body: &str) -> Value {
    if let Ok(v) = serde_json::from_str(body) {
        return v;
    }
    body.lines()
        .filter_map(|l| l.strip_prefix("data: "))
        .filter_map(|d| serde_json::from_str::<Value>(d).ok())
        .find(|v| v.get("jsonrpc").is_some())
        .unwrap_or_else(|| panic!("no JSON-RPC message in {body}"))
}

async fn open_session(client: &reqwest::Client, url: &str, key: &str) -> String {
    let r = post(client, url, key, None, initialize())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let id = r.headers()["mcp-session-id"].to_str().unwrap().to_owned();
    let init = message_of(&r.text().await.unwrap());
    assert_eq!(init["result"]["protocolVersion"], "2025-06-18");
    let done = post(
        client,
        url,
        key,
        Some(&id),
        json!({"jsonrpc":"2.0","method":"notifications/initialized"}),
    )
    .send()
    .await
    .unwrap();
    assert_eq!(done.status(), 202);
    id
}

#[tokio::test]
async fn http_sessions_are_created_bound_to_their_key_and_deleted() {
    let log = Lines::default();
    let (server, url) = start(config(&log)).await;
    let client = reqwest::Client::new();

    // HTTP-2: 128-bit hex session id at initialize.
    let id = open_session(&client, &url, KEY).await;
    assert_eq!(id.len(), 32);
    assert!(
        id.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    );

    // HTTP-1: a tool call answers with the result.
    let call = json!({"jsonrpc":"2.0","id":2,"method":"tools/call","params":{
        "name":"search_complaints","arguments":{"state":"CA","size":2}}});
    let r = post(&client, &url, KEY, Some(&id), call)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let result = message_of(&r.text().await.unwrap());
    assert_eq!(result["id"], 2);
    assert_ne!(result["result"]["isError"], true);

    // AUTH-7: a key posted inside a message is never echoed back, not even in
    // "Unknown tool: <name>" or a search that repeats its term.
    for call in [
        json!({"jsonrpc":"2.0","id":20,"method":"tools/call","params":{"name":KEY,"arguments":{}}}),
        json!({"jsonrpc":"2.0","id":21,"method":"tools/call","params":{
            "name":"search_complaints","arguments":{"search_term":KEY,"size":1}}}),
        json!({"jsonrpc":"2.0","id":22,"method":"tools/call","params":{
            "name":"search_complaints","arguments":{"company":[OTHER],"size":1}}}),
    ] {
        let r = post(&client, &url, KEY, Some(&id), call)
            .send()
            .await
            .unwrap();
        let body = r.text().await.unwrap();
        assert!(
            !body.contains(KEY) && !body.contains(OTHER),
            "key echoed: {body}"
        );
    }

    // HTTP-3: another key's session is an unknown session; so is a made-up id.
    let ping = json!({"jsonrpc":"2.0","id":3,"method":"ping"});
    let unknown = r#"{"error":{"type":"not_found","message":"Unknown session"}}"#;
    for (key, session) in [
        (OTHER, id.as_str()),
        (KEY, "0123456789abcdef0123456789abcdef"),
        (KEY, "not-hex"),
    ] {
        let r = post(&client, &url, key, Some(session), ping.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 404, "{key} {session}");
        assert_eq!(r.text().await.unwrap(), unknown);
    }
    // HTTP-3: no session id after initialize -> 400 JSON.
    let r = post(&client, &url, KEY, None, ping.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert!(
        r.text()
            .await
            .unwrap()
            .starts_with(r#"{"error":{"type":"bad_request""#)
    );

    // HTTP-4: GET opens the server-to-client stream, with the proxy headers.
    let stream = client
        .get(&url)
        .header("X-API-Key", KEY)
        .header("Accept", "text/event-stream")
        .header("Mcp-Session-Id", &id)
        .header("MCP-Protocol-Version", "2025-06-18")
        .send()
        .await
        .unwrap();
    assert_eq!(stream.status(), 200);
    assert_eq!(stream.headers()["content-type"], "text/event-stream");
    assert_eq!(stream.headers()["x-accel-buffering"], "no");
    assert_eq!(stream.headers()["cache-control"], "no-cache, no-transform");
    drop(stream);

    // HTTP-5: an unsupported MCP-Protocol-Version header is a 400 JSON error.
    let r = client
        .post(&url)
        .header("X-API-Key", KEY)
        .header("Content-Type", "application/json")
        .header("Accept", "application/json, text/event-stream")
        .header("Mcp-Session-Id", &id)
        .header("MCP-Protocol-Version", "1999-01-01")
        .body(ping.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert_eq!(r.headers()["content-type"], "application/json");

    // HTTP-4: DELETE ends it; afterwards it is unknown.
    let r = client
        .delete(&url)
        .header("X-API-Key", OTHER)
        .header("Mcp-Session-Id", &id)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404, "another key can't delete it");
    let r = client
        .delete(&url)
        .header("X-API-Key", KEY)
        .header("Mcp-Session-Id", &id)
        .send()
        .await
        .unwrap();
    // HTTP-4: 200, as the SDKs' servers answer (the Python SDK logs a 202 as
    // "Session termination failed").
    assert_eq!(r.status(), 200);
    let r = post(&client, &url, KEY, Some(&id), ping)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);

    // HTTP-7 / MSG-3: a body that is not JSON, or not a JSON-RPC message, is a 400 JSON error.
    for bad in ["{not json", "[]", "42"] {
        let r = client
            .post(&url)
            .header("X-API-Key", KEY)
            .header("Content-Type", "application/json")
            .header("Accept", "application/json, text/event-stream")
            .body(bad)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 400, "{bad}");
        assert!(
            r.text()
                .await
                .unwrap()
                .starts_with(r#"{"error":{"type":"bad_request""#)
        );
    }

    // HTTP-7: other methods.
    let r = client
        .put(&url)
        .header("X-API-Key", KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 405);
    assert_eq!(r.headers()["allow"], "GET, POST, DELETE");

    server.shutdown().await;
    // HTTP-6 / LOG-1: one line per request, path /mcp, tool and arguments logged.
    let text = String::from_utf8(log.0.lock().unwrap().clone()).unwrap();
    let tool_line = text
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .find(|v| v["tool"] == "search_complaints")
        .expect("a tools/call line");
    assert_eq!(tool_line["path"], "/mcp");
    assert_eq!(tool_line["session"], &id[..8]);
    // LOG-1: `arguments` is the JSON object itself (jq .arguments.state reads it).
    assert_eq!(tool_line["arguments"]["state"], "CA");
    assert!(!text.contains(KEY) && !text.contains(OTHER) && !text.contains(&id));
}

#[tokio::test]
async fn http_6_the_guard_applies_unchanged() {
    let log = Lines::default();
    let mut c = config(&log);
    c.rate_limit_rps = 0.5;
    c.rate_limit_burst = 4;
    let (server, url) = start(c).await;
    let client = reqwest::Client::new();
    // AUTH-3: the exact 401.
    let r = client
        .post(&url)
        .body(initialize().to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(
        r.text().await.unwrap(),
        r#"{"error":{"type":"auth","message":"Missing or invalid API key"}}"#
    );
    // NET-2: a foreign Origin.
    let r = post(&client, &url, KEY, None, initialize())
        .header("Origin", "https://evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    // RATE: one limiter for both transports: 4 cells, spent across /mcp and /mcp/sse.
    let id = open_session(&client, &url, KEY).await; // 2 cells
    let sse = format!("{}/sse", url);
    let r = client
        .post(&sse)
        .header("X-API-Key", KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 405); // 3rd cell
    let r = client
        .post(&sse)
        .header("X-API-Key", KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 405); // 4th
    let r = post(
        &client,
        &url,
        KEY,
        Some(&id),
        json!({"jsonrpc":"2.0","id":9,"method":"ping"}),
    )
    .send()
    .await
    .unwrap();
    assert_eq!(r.status(), 429);
    assert!(r.headers().contains_key("retry-after"));
    server.shutdown().await;
}

#[tokio::test]
async fn rate_7_and_auth_8_sessions_are_capped_per_key_and_revoked_keys_lose_them() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("keys");
    std::fs::write(&path, format!("{KEY}\n{OTHER}\n")).unwrap();
    let log = Lines::default();
    let mut c = config(&log);
    c.api_keys = Vec::new();
    c.api_keys_file = Some(path.clone());
    let (server, url) = start(c).await;
    let client = reqwest::Client::new();
    let first = open_session(&client, &url, OTHER).await;
    let _second = open_session(&client, &url, OTHER).await;
    let r = post(&client, &url, OTHER, None, initialize())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 429, "a third session over the cap of 2");
    let _mine = open_session(&client, &url, KEY).await;
    assert_eq!(server.sessions(), 3);

    let mut f = std::fs::File::create(&path).unwrap();
    writeln!(f, "{KEY}").unwrap();
    drop(f);
    server.reload_keys().await.unwrap();
    assert_eq!(server.sessions(), 1, "OTHER's sessions closed");
    let r = post(
        &client,
        &url,
        KEY,
        Some(&first),
        json!({"jsonrpc":"2.0","id":1,"method":"ping"}),
    )
    .send()
    .await
    .unwrap();
    assert_eq!(r.status(), 404);
    tokio::time::timeout(Duration::from_secs(10), server.shutdown())
        .await
        .unwrap();
}
