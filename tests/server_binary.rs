//! End to end: the real `cfpb-mcp` binary on an ephemeral loopback port, spoken
//! to over real sockets. Covers the connect path Claude takes (SSE-1/2/3,
//! MSG-1/4, DATA-1/5), the exact refusals (AUTH-3/4, RATE-2/3), the
//! Streamable-HTTP fallback probe (POST /mcp/sse -> 405), graceful shutdown on
//! SIGTERM (LOG-3) and the audit log (LOG-1/2).

use std::time::Duration;

use e2e::{ServerProcess, SseItem, SseStream, key_prefix, post, random_key};
use serde_json::{Value, json};

const WAIT: Duration = Duration::from_secs(10);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn claude_connect_path_search_and_clean_shutdown() {
    let key = random_key();
    let other = random_key();
    let keys = format!("{key},{other}");
    let server = ServerProcess::start(
        &["--data", "fixtures", "--sse-keepalive-secs", "1"],
        &[("CFPB_MCP_API_KEYS", keys.as_str())],
    );
    let client = reqwest::Client::new();
    let base = server.base.clone();

    // Claude first tries Streamable HTTP: a POST to the connector URL must be 405.
    let probe = client
        .post(format!("{base}/mcp/sse"))
        .header("X-API-Key", &key)
        .header("Content-Type", "application/json")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(probe.status(), 405);
    assert_eq!(probe.headers()["allow"], "GET");

    // SSE-1: headers; SSE-2: the endpoint event.
    let mut sse = SseStream::open(&client, &format!("{base}/mcp/sse"), &key).await;
    assert_eq!(sse.status, 200);
    assert_eq!(sse.response_headers["content-type"], "text/event-stream");
    assert_eq!(
        sse.response_headers["cache-control"],
        "no-cache, no-transform"
    );
    assert_eq!(sse.response_headers["x-accel-buffering"], "no");
    assert!(sse.response_headers.get("content-length").is_none());
    assert!(sse.response_headers.get("content-encoding").is_none());
    let Some(SseItem::Event {
        event,
        data: endpoint,
    }) = sse.next(WAIT).await
    else {
        panic!("no endpoint event");
    };
    assert_eq!(event, "endpoint");
    let id = endpoint
        .strip_prefix("/mcp/messages?session_id=")
        .expect("endpoint shape");
    assert_eq!(id.len(), 32);
    assert!(
        id.bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
    );
    let messages = format!("{base}{endpoint}");

    // MSG-4: the handshake, negotiated at the old transport's version.
    let init = json!({"jsonrpc":"2.0","id":1,"method":"initialize","params":{
        "protocolVersion":"2024-11-05","capabilities":{},
        "clientInfo":{"name":"e2e","version":"0"}}});
    assert_eq!(
        post(&client, &messages, &key, &init).await,
        (202, String::new())
    );
    let reply = sse.next_message(WAIT).await.expect("initialize result");
    assert_eq!(reply["id"], 1);
    assert_eq!(reply["result"]["protocolVersion"], "2024-11-05");
    assert!(reply["result"]["capabilities"]["tools"].is_object());
    let initialized = json!({"jsonrpc":"2.0","method":"notifications/initialized"});
    assert_eq!(post(&client, &messages, &key, &initialized).await.0, 202);

    let list = json!({"jsonrpc":"2.0","id":2,"method":"tools/list"});
    assert_eq!(post(&client, &messages, &key, &list).await.0, 202);
    let tools = sse.next_message(WAIT).await.expect("tools/list result");
    let names: Vec<&str> = tools["result"]["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert!(names.contains(&"search_complaints") && names.contains(&"get_complaint_document"));

    // DATA-1/5: a real search over the bundled dataset.
    let call = json!({"jsonrpc":"2.0","id":3,"method":"tools/call","params":{
        "name":"search_complaints","arguments":{"product":"Mortgage","size":3}}});
    assert_eq!(post(&client, &messages, &key, &call).await.0, 202);
    let result = loop {
        let m = sse.next_message(WAIT).await.expect("tools/call result");
        if m["id"] == 3 {
            break m;
        }
    };
    assert_ne!(result["result"]["isError"], true, "{result}");
    let text = result["result"]["content"][0]["text"].as_str().unwrap();
    assert!(
        text.contains("fixtures"),
        "results are marked as synthetic: {text}"
    );

    // MSG-3: an unknown method is a JSON-RPC error on the stream, not an HTTP error.
    let unknown = json!({"jsonrpc":"2.0","id":4,"method":"no/such"});
    assert_eq!(post(&client, &messages, &key, &unknown).await.0, 202);
    let err = sse.next_message(WAIT).await.expect("error reply");
    assert_eq!(err["id"], 4);
    assert_eq!(err["error"]["code"], -32601);

    // SSE-4: a keep-alive comment arrives on an idle stream.
    let mut saw_ping = false;
    for _ in 0..5 {
        if let Some(SseItem::Comment(c)) = sse.next(Duration::from_secs(3)).await {
            saw_ping = c == "ping";
            break;
        }
    }
    assert!(saw_ping, "no keep-alive comment");

    // MSG-2: another key can't post into this session, and can't tell it exists.
    let foreign = post(&client, &messages, &other, &list).await;
    assert_eq!(
        foreign,
        (
            404,
            r#"{"error":{"type":"not_found","message":"Unknown session"}}"#.to_owned()
        )
    );

    // AUTH-3/4: the exact 401.
    let denied = client.get(format!("{base}/mcp/sse")).send().await.unwrap();
    assert_eq!(denied.status(), 401);
    assert_eq!(
        denied.headers()["www-authenticate"],
        "Bearer realm=\"cfpb-mcp\""
    );
    assert_eq!(
        denied.text().await.unwrap(),
        r#"{"error":{"type":"auth","message":"Missing or invalid API key"}}"#
    );

    // RATE-2/3: exhaust `other`'s burst (10 by default) with cheap requests.
    let mut limited = None;
    for _ in 0..30 {
        let r = client
            .post(format!("{base}/mcp/messages?session_id={id}"))
            .header("Authorization", format!("Bearer {other}"))
            .header("Content-Type", "application/json")
            .body("{}")
            .send()
            .await
            .unwrap();
        if r.status() == 429 {
            limited = Some(r);
            break;
        }
    }
    let limited = limited.expect("a 429 within 30 requests");
    let retry_after: u64 = limited.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(retry_after >= 1);
    assert_eq!(
        limited.text().await.unwrap(),
        r#"{"error":{"type":"rate_limit","message":"Too many requests"}}"#
    );

    // LOG-3: SIGTERM ends the stream and the process exits 0 with every line flushed.
    drop(sse);
    let (code, lines) = server.stop();
    assert_eq!(code, Some(0), "exit code; stderr: {lines:#?}");

    // LOG-1/2: every line JSON, required fields, no key anywhere.
    let mut requests = 0;
    let mut saw_tool_line = false;
    for line in &lines {
        assert!(
            !line.contains(&key) && !line.contains(&other),
            "key leaked: {line}"
        );
        let v: Value = serde_json::from_str(line).unwrap_or_else(|_| panic!("not JSON: {line}"));
        assert!(v["ts"].as_str().is_some_and(|t| t.ends_with('Z')), "{line}");
        if v["event"] == "mcp_request" {
            requests += 1;
            for field in ["method", "path", "status", "duration_ms", "key", "session"] {
                assert!(v.get(field).is_some(), "{field} missing: {line}");
            }
            assert!(!v["path"].as_str().unwrap().contains('?'));
            if v["tool"] == "search_complaints" {
                saw_tool_line = true;
                assert_eq!(v["key"], key_prefix(&key).as_str());
                // LOG-1: the arguments object itself.
                assert!(v["arguments"].is_object(), "{line}");
                assert!(v["arguments"].to_string().contains("Mortgage"));
            }
        }
    }
    assert!(saw_tool_line, "no tools/call line: {lines:#?}");
    // LOG-1, exactly one line per request: 1 probe + 1 GET + 5 posts + 1 foreign
    // + 1 denied + the rate-limit loop (`other` spent 1 cell on the foreign post,
    // so 9 more pass and the 10th is the 429).
    assert_eq!(requests, 19, "request lines: {lines:#?}");
    assert!(lines.iter().any(|l| l.contains("\"mcp_stream_end\"")));
    assert!(lines.last().unwrap().contains("server_stop"));
}

#[test]
fn auth_6_refuses_to_start_without_keys() {
    let out = std::process::Command::new(e2e::binary("cfpb-mcp"))
        .args(["serve", "--bind", "127.0.0.1:0", "--data", "fixtures"])
        .env_remove("CFPB_MCP_API_KEYS")
        .env_remove("CFPB_MCP_API_KEYS_FILE")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("no API keys configured"), "{stderr}");
}

#[test]
fn keygen_prints_a_256_bit_key() {
    let out = std::process::Command::new(e2e::binary("cfpb-mcp"))
        .arg("keygen")
        .output()
        .unwrap();
    assert!(out.status.success());
    let key = String::from_utf8(out.stdout).unwrap();
    assert_eq!(key.trim_end().len(), 43);
}

/// AUTH-2/8 through the real signal: SIGHUP re-reads the keys file; a removed
/// key is refused at once and its open stream ends.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn auth_8_sighup_rotates_keys_and_closes_revoked_streams() {
    let (old, new) = (random_key(), random_key());
    let dir = std::env::temp_dir().join(format!("cfpb-keys-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("keys");
    std::fs::write(&file, format!("# rotation test\n{old}\n")).unwrap();
    let server = ServerProcess::start(
        &["--data", "fixtures"],
        &[("CFPB_MCP_API_KEYS_FILE", file.to_str().unwrap())],
    );
    let client = reqwest::Client::new();
    let mut sse = SseStream::open(&client, &format!("{}/mcp/sse", server.base), &old).await;
    assert_eq!(sse.status, 200);
    assert!(matches!(sse.next(WAIT).await, Some(SseItem::Event { .. })));

    // Overlap: add the new key, reload; both work.
    std::fs::write(&file, format!("{old}\n{new}\n")).unwrap();
    server.signal("HUP");
    let probe = |key: String| {
        let client = client.clone();
        let url = format!("{}/mcp/sse", server.base);
        async move {
            client
                .post(url)
                .header("X-API-Key", key)
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    let mut both = false;
    for _ in 0..50 {
        if probe(new.clone()).await == 405 {
            both = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(both, "new key not accepted after SIGHUP");
    assert_eq!(probe(old.clone()).await, 405);

    // Retire the old key: its stream ends, and it is refused.
    std::fs::write(&file, format!("{new}\n")).unwrap();
    server.signal("HUP");
    // The stream ends once the reload is in force (AUTH-8 ends a revoked
    // key's streams after installing the new set), so the probes below see
    // the new keys. A quiet second is not an end: wait for the body's end.
    assert!(
        sse.ends_within(Duration::from_secs(10)).await,
        "revoked key's stream still open"
    );
    assert_eq!(probe(old.clone()).await, 401);
    assert_eq!(probe(new.clone()).await, 405);

    let (code, lines) = server.stop();
    assert_eq!(code, Some(0));
    assert!(lines.iter().any(|l| l.contains("\"keys_reloaded\"")));
    assert!(
        lines.iter().any(|l| l.contains("\"key_revoked\"")),
        "{lines:#?}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
