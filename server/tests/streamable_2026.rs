//! `/mcp` speaking MCP 2026-07-28, the stateless revision, beside the
//! session-based ones (HTTP-2026-1..11 in docs/contract.md): one test per
//! clause, against a real server on an ephemeral loopback port.

use std::sync::{Arc, Mutex};

use cfpb_mcp_server::data::DataMode;
use cfpb_mcp_server::{AuditTarget, Config, RunningServer, Server};
use serde_json::{Value, json};

const KEY: &str = "stateless-key-0123456789abcdef";
const V: &str = "2026-07-28";

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

impl Lines {
    fn parsed(&self) -> Vec<Value> {
        let text = String::from_utf8(self.0.lock().unwrap().clone()).unwrap();
        assert!(!text.contains(KEY), "a key in the audit log");
        text.lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }
}

fn config(log: &Lines) -> Config {
    let mut config = Config::with_keys([KEY]);
    config.data = DataMode::Fixtures;
    config.rate_limit_rps = 1000.0;
    config.rate_limit_burst = 1000;
    config.allowed_origins = vec!["https://claude.ai".into()];
    config.audit = AuditTarget::Writer(Box::new(log.clone()));
    config
}

async fn start(config: Config) -> (RunningServer, String) {
    let server = Server::bind(config).await.unwrap();
    let url = format!("http://{}/mcp", server.local_addr());
    (server, url)
}

/// The per-request `_meta` of the revision.
fn meta(version: &str) -> Value {
    json!({
        "io.modelcontextprotocol/protocolVersion": version,
        "io.modelcontextprotocol/clientInfo": {"name": "t", "version": "0"},
        "io.modelcontextprotocol/clientCapabilities": {}
    })
}

fn request(id: u64, method: &str, mut params: Value) -> Value {
    params["_meta"] = meta(V);
    json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params})
}

fn call(id: u64) -> Value {
    request(
        id,
        "tools/call",
        json!({"name": "search_complaints", "arguments": {"state": "CA", "size": 2}}),
    )
}

/// A POST with the guard's key and the revision's headers, mirrored from `body`.
fn post(client: &reqwest::Client, url: &str, body: &Value) -> reqwest::RequestBuilder {
    let mut r = client
        .post(url)
        .header("X-API-Key", KEY)
        .header("Content-Type", "application/json")
        .header("Accept", "application/json, text/event-stream")
        .header("MCP-Protocol-Version", V)
        .body(body.to_string());
    if let Some(method) = body["method"].as_str() {
        r = r.header("Mcp-Method", method);
    }
    if let Some(name) = body["params"]["name"].as_str() {
        r = r.header("Mcp-Name", name);
    }
    r
}

/// Status, the session header if any, and the JSON-RPC message (JSON or SSE).
async fn send(r: reqwest::RequestBuilder) -> (u16, Option<String>, Value) {
    let r = r.send().await.unwrap();
    let status = r.status().as_u16();
    let session = r
        .headers()
        .get("mcp-session-id")
        .map(|v| v.to_str().unwrap().to_owned());
    let body = r.text().await.unwrap();
    (status, session, message_of(&body))
}

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

#[tokio::test]
async fn http_2026_2_server_discover_lists_versions_and_capabilities() {
    let (server, url) = start(config(&Lines::default())).await;
    let client = reqwest::Client::new();
    let (status, session, m) = send(post(
        &client,
        &url,
        &request(1, "server/discover", json!({})),
    ))
    .await;
    assert_eq!(status, 200, "{m}");
    assert_eq!(session, None);
    assert_eq!(m["id"], 1);
    let versions = m["result"]["supportedVersions"].as_array().unwrap();
    for v in ["2024-11-05", "2025-06-18", "2025-11-25", V] {
        assert!(versions.contains(&json!(v)), "{v} in {m}");
    }
    assert!(m["result"]["capabilities"]["tools"].is_object(), "{m}");
    assert_eq!(
        m["result"]["_meta"]["io.modelcontextprotocol/serverInfo"]["name"],
        "cfpb-mcp"
    );
    server.shutdown().await;
}

#[tokio::test]
async fn http_2026_3_a_tools_call_with_its_headers_and_meta_is_answered() {
    let (server, url) = start(config(&Lines::default())).await;
    let client = reqwest::Client::new();
    let (status, session, m) = send(post(&client, &url, &call(2))).await;
    assert_eq!(status, 200, "{m}");
    assert_eq!(session, None);
    assert_eq!(m["id"], 2);
    assert_ne!(m["result"]["isError"], true, "{m}");
    assert!(m["result"]["content"][0]["text"].is_string(), "{m}");

    // The same id twice at once: no session, so MSG-6 does not apply.
    let (a, b) = tokio::join!(
        send(post(&client, &url, &call(7))),
        send(post(&client, &url, &call(7)))
    );
    assert_eq!((a.0, b.0), (200, 200));
    assert_eq!((&a.2["id"], &b.2["id"]), (&json!(7), &json!(7)));

    // Per-request _meta is validated: without it, 400 invalid params.
    let bare = json!({"jsonrpc":"2.0","id":3,"method":"tools/list","params":{}});
    let (status, _, m) = send(post(&client, &url, &bare)).await;
    assert_eq!(status, 400, "{m}");
    assert_eq!(m["error"]["code"], -32602, "{m}");
    // Params that don't fit the method: the same, as a JSON-RPC error.
    let mut wrong = call(4);
    wrong["params"]["arguments"] = json!(3);
    let (status, _, m) = send(post(&client, &url, &wrong)).await;
    assert_eq!((status, &m["error"]["code"]), (400, &json!(-32602)), "{m}");
    server.shutdown().await;
}

#[tokio::test]
async fn http_2026_4_headers_that_contradict_the_body_are_32020() {
    let (server, url) = start(config(&Lines::default())).await;
    let client = reqwest::Client::new();
    let body = call(4);
    // (An older MCP-Protocol-Version than the body's is COMPAT-1's, served:
    // see `http_2026_4_strict_protocol_refuses_an_older_header` and
    // tests/claude_compat.rs.)
    let cases = [
        ("Mcp-Method", "tools/list"),
        ("Mcp-Name", "get_complaint_document"),
    ];
    for (name, value) in cases {
        // The one header replaced, the others as mirrored.
        let mut built = post(&client, &url, &body).build().unwrap();
        built
            .headers_mut()
            .insert(name, reqwest::header::HeaderValue::from_static(value));
        let r = client.execute(built).await.unwrap();
        assert_eq!(r.status(), 400, "{name}: {value}");
        let m = message_of(&r.text().await.unwrap());
        assert_eq!(m["error"]["code"], -32020, "{name}: {m}");
        assert_eq!(m["id"], 4);
    }
    // A missing Mcp-Method is a mismatch too.
    let r = client
        .post(&url)
        .header("X-API-Key", KEY)
        .header("Content-Type", "application/json")
        .header("Accept", "application/json, text/event-stream")
        .header("MCP-Protocol-Version", V)
        .body(body.to_string());
    let (status, _, m) = send(r).await;
    assert_eq!((status, &m["error"]["code"]), (400, &json!(-32020)), "{m}");
    server.shutdown().await;
}

#[tokio::test]
async fn http_2026_4_strict_protocol_refuses_an_older_header() {
    let mut strict = config(&Lines::default());
    strict.strict_protocol = true;
    let (server, url) = start(strict).await;
    let client = reqwest::Client::new();
    let mut built = post(&client, &url, &call(4)).build().unwrap();
    built.headers_mut().insert(
        "MCP-Protocol-Version",
        reqwest::header::HeaderValue::from_static("2025-11-25"),
    );
    let r = client.execute(built).await.unwrap();
    assert_eq!(r.status(), 400);
    let m = message_of(&r.text().await.unwrap());
    assert_eq!((&m["error"]["code"], &m["id"]), (&json!(-32020), &json!(4)));
    server.shutdown().await;
}

#[tokio::test]
async fn http_2026_5_an_unsupported_version_is_32022_with_the_supported_list() {
    let (server, url) = start(config(&Lines::default())).await;
    let client = reqwest::Client::new();
    // In _meta and the header alike (what a newer client sends).
    let mut body = request(5, "tools/list", json!({}));
    body["params"]["_meta"] = meta("2099-01-01");
    let mut r = post(&client, &url, &body).build().unwrap();
    r.headers_mut().insert(
        "MCP-Protocol-Version",
        reqwest::header::HeaderValue::from_static("2099-01-01"),
    );
    let r = client.execute(r).await.unwrap();
    assert_eq!(r.status(), 400);
    let m = message_of(&r.text().await.unwrap());
    assert_eq!(m["error"]["code"], -32022, "{m}");
    assert_eq!(m["id"], 5);
    let supported = m["error"]["data"]["supported"].as_array().unwrap();
    assert!(supported.contains(&json!(V)) && supported.contains(&json!("2025-11-25")));
    assert_eq!(m["error"]["data"]["requested"], "2099-01-01");

    // The header alone (rmcp would answer in plain text).
    let mut r = post(&client, &url, &request(6, "tools/list", json!({})))
        .build()
        .unwrap();
    r.headers_mut().insert(
        "MCP-Protocol-Version",
        reqwest::header::HeaderValue::from_static("2027-01-01"),
    );
    let r = client.execute(r).await.unwrap();
    assert_eq!(r.status(), 400);
    let m = message_of(&r.text().await.unwrap());
    assert_eq!(m["error"]["code"], -32022, "{m}");
    server.shutdown().await;
}

#[tokio::test]
async fn http_2026_6_an_unknown_method_is_404_with_32601() {
    let (server, url) = start(config(&Lines::default())).await;
    let client = reqwest::Client::new();
    let init = json!({"protocolVersion": V, "capabilities": {},
        "clientInfo": {"name": "t", "version": "0"}});
    // A well-formed initialize is COMPAT-3's unless the protocol is strict.
    let cases = [
        ("no/such/method", json!({}), false),
        ("ping", json!({}), false),
        ("initialize", json!({}), false),
        ("initialize", init, true),
    ];
    let mut strict = config(&Lines::default());
    strict.strict_protocol = true;
    let (strict_server, strict_url) = start(strict).await;
    for (method, params, strict_only) in cases {
        let url = if strict_only { &strict_url } else { &url };
        let (status, session, m) = send(post(&client, url, &request(8, method, params))).await;
        assert_eq!(status, 404, "{method}: {m}");
        assert_eq!(m["error"]["code"], -32601, "{method}: {m}");
        assert_eq!(m["id"], 8);
        assert_eq!(session, None, "{method}");
    }
    strict_server.shutdown().await;
    server.shutdown().await;
}

#[tokio::test]
async fn http_2026_7_a_session_id_is_never_minted_or_echoed() {
    let log = Lines::default();
    let (server, url) = start(config(&log)).await;
    let client = reqwest::Client::new();
    // A made-up id, and a session-based client's real one.
    let init = json!({"jsonrpc":"2.0","id":1,"method":"initialize","params":{
        "protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"t","version":"0"}}});
    let r = client
        .post(&url)
        .header("X-API-Key", KEY)
        .header("Content-Type", "application/json")
        .header("Accept", "application/json, text/event-stream")
        .body(init.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let real = r.headers()["mcp-session-id"].to_str().unwrap().to_owned();
    for id in [
        "0123456789abcdef0123456789abcdef",
        "not-a-session",
        real.as_str(),
    ] {
        for body in [request(9, "server/discover", json!({})), call(10)] {
            let (status, session, m) =
                send(post(&client, &url, &body).header("Mcp-Session-Id", id)).await;
            assert_eq!(status, 200, "{id}: {m}");
            assert_eq!(session, None, "{id}");
        }
    }
    server.shutdown().await;
    let lines = log.parsed();
    let stateless: Vec<_> = lines
        .iter()
        .filter(|l| l["rpc_method"] == "server/discover" || l["rpc_method"] == "tools/call")
        .collect();
    assert_eq!(stateless.len(), 6);
    assert!(
        stateless.iter().all(|l| l["session"].is_null()),
        "{stateless:?}"
    );
}

#[tokio::test]
async fn http_2026_8_get_and_delete_are_405_with_allow_post() {
    let (server, url) = start(config(&Lines::default())).await;
    let client = reqwest::Client::new();
    for method in [reqwest::Method::GET, reqwest::Method::DELETE] {
        let r = client
            .request(method.clone(), &url)
            .header("X-API-Key", KEY)
            .header("Accept", "text/event-stream")
            .header("MCP-Protocol-Version", V)
            .header("Mcp-Session-Id", "0123456789abcdef0123456789abcdef")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 405, "{method}");
        assert_eq!(r.headers()["allow"], "POST", "{method}");
        assert!(!r.headers().contains_key("mcp-session-id"));
        assert_eq!(
            r.text().await.unwrap(),
            r#"{"error":{"type":"method_not_allowed","message":"Method not allowed"}}"#
        );
    }
    server.shutdown().await;
}

#[tokio::test]
async fn http_2026_9_list_results_carry_ttl_ms_and_cache_scope() {
    let (server, url) = start(config(&Lines::default())).await;
    let client = reqwest::Client::new();
    let (status, _, m) = send(post(&client, &url, &request(11, "tools/list", json!({})))).await;
    assert_eq!(status, 200, "{m}");
    let result = &m["result"];
    // The list is static for the process's life and the same for every
    // caller: a client may keep it for an hour (issue 25), not refetch it.
    assert_eq!(result["ttlMs"], 3_600_000, "{m}");
    assert_eq!(result["cacheScope"], "public", "{m}");
    let names: Vec<_> = result["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(names.len(), 9, "MSG-4: all nine tools");
    assert_eq!(names[..2], ["search_complaints", "get_complaint_document"]);

    // A session-based tools/list keeps the older shape.
    let legacy = |body: Value, session: Option<&str>| {
        let mut r = client
            .post(&url)
            .header("X-API-Key", KEY)
            .header("Content-Type", "application/json")
            .header("Accept", "application/json, text/event-stream")
            .body(body.to_string());
        if let Some(id) = session {
            r = r
                .header("Mcp-Session-Id", id)
                .header("MCP-Protocol-Version", "2025-11-25");
        }
        r
    };
    let init = json!({"jsonrpc":"2.0","id":1,"method":"initialize","params":{
        "protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"t","version":"0"}}});
    let (_, id, _) = send(legacy(init, None)).await;
    let id = id.expect("a session id");
    let done = json!({"jsonrpc":"2.0","method":"notifications/initialized"});
    assert_eq!(legacy(done, Some(&id)).send().await.unwrap().status(), 202);
    let list = json!({"jsonrpc":"2.0","id":2,"method":"tools/list"});
    let (status, _, m) = send(legacy(list, Some(&id))).await;
    assert_eq!(status, 200);
    assert!(m["result"]["tools"].is_array(), "{m}");
    assert!(m["result"].get("ttlMs").is_none(), "{m}");
    assert!(m["result"].get("cacheScope").is_none(), "{m}");
    server.shutdown().await;
}

#[tokio::test]
async fn http_2026_10_audit_lines_read_the_body_and_carry_no_session() {
    let log = Lines::default();
    let (server, url) = start(config(&log)).await;
    let client = reqwest::Client::new();
    let (status, _, _) = send(post(&client, &url, &call(12))).await;
    assert_eq!(status, 200);
    // Headers that lie about the body: refused, and logged as what the body is.
    let mut lying = post(&client, &url, &call(13)).build().unwrap();
    lying.headers_mut().insert(
        "Mcp-Method",
        reqwest::header::HeaderValue::from_static("tools/list"),
    );
    lying.headers_mut().insert(
        "Mcp-Name",
        reqwest::header::HeaderValue::from_static("nothing"),
    );
    assert_eq!(client.execute(lying).await.unwrap().status(), 400);
    server.shutdown().await;
    let lines = log.parsed();
    let calls: Vec<_> = lines.iter().filter(|l| l["path"] == "/mcp").collect();
    assert_eq!(calls.len(), 2, "{calls:?}");
    for line in calls {
        assert_eq!(line["rpc_method"], "tools/call", "{line}");
        assert_eq!(line["tool"], "search_complaints", "{line}");
        assert_eq!(line["arguments"]["state"], "CA", "{line}");
        assert!(line["session"].is_null(), "{line}");
    }
}

#[tokio::test]
async fn http_2026_11_the_guard_applies_unchanged() {
    let log = Lines::default();
    let mut c = config(&log);
    c.rate_limit_rps = 0.5;
    c.rate_limit_burst = 3;
    let (server, url) = start(c).await;
    let client = reqwest::Client::new();
    let discover = request(14, "server/discover", json!({}));
    // AUTH-3: the exact 401, whatever the revision.
    let r = client
        .post(&url)
        .header("MCP-Protocol-Version", V)
        .header("Mcp-Method", "server/discover")
        .body(discover.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(
        r.text().await.unwrap(),
        r#"{"error":{"type":"auth","message":"Missing or invalid API key"}}"#
    );
    // NET-2: a foreign Origin.
    let r = post(&client, &url, &discover)
        .header("Origin", "https://evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    // RATE: one limiter across the revisions and transports: 3 cells.
    assert_eq!(send(post(&client, &url, &discover)).await.0, 200);
    let sse = client
        .post(format!("{url}/sse"))
        .header("X-API-Key", KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(sse.status(), 405);
    assert_eq!(send(post(&client, &url, &call(15))).await.0, 200);
    let r = post(&client, &url, &discover).send().await.unwrap();
    assert_eq!(r.status(), 429);
    assert!(r.headers().contains_key("retry-after"));
    assert_eq!(
        r.text().await.unwrap(),
        r#"{"error":{"type":"rate_limit","message":"Too many requests"}}"#
    );
    server.shutdown().await;
}
