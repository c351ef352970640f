//! The HTTP contract of the embedded server, over real loopback sockets:
//! every refusal's exact head and body (insta snapshots), the first SSE event,
//! key reloads and revocation (AUTH-2/8), origins (NET-2), and the property
//! that any presented value other than a configured key gets the exact 401.

use std::io::Write as _;
use std::time::Duration;

use cfpb_mcp_server::data::DataMode;
use cfpb_mcp_server::{AuditTarget, Config, RunningServer, Server};
use futures::StreamExt;
use proptest::prelude::*;

const KEY: &str = "test-key-0123456789abcdef";
const OTHER: &str = "other-key-0123456789abcdef";

fn config() -> Config {
    let mut config = Config::with_keys([KEY, OTHER]);
    config.data = DataMode::Fixtures;
    config.auth_fail_rps = 0.0; // off: these tests send many wrong keys on purpose
    config.rate_limit_rps = 1000.0;
    config.rate_limit_burst = 1000;
    config.allowed_origins = vec!["https://claude.ai".into()];
    config.audit = AuditTarget::Writer(Box::new(std::io::sink()));
    config
}

async fn start(config: Config) -> (RunningServer, String) {
    let server = Server::bind(config).await.expect("server starts");
    let base = format!("http://{}", server.local_addr());
    (server, base)
}

/// Status, the headers that matter, and the body, as one snapshot-able string.
async fn head_and_body(response: reqwest::Response) -> String {
    let mut out = format!("{}\n", response.status().as_u16());
    for name in ["content-type", "www-authenticate", "retry-after", "allow"] {
        if let Some(v) = response.headers().get(name) {
            out.push_str(&format!("{name}: {}\n", v.to_str().unwrap()));
        }
    }
    out.push('\n');
    out.push_str(&response.text().await.unwrap());
    out
}

type ByteStream = futures::stream::BoxStream<'static, reqwest::Result<bytes::Bytes>>;

/// Open a stream; return it (kept open by the caller) and its endpoint path.
async fn open_stream(client: &reqwest::Client, base: &str, key: &str) -> (ByteStream, String) {
    let response = client
        .get(format!("{base}/mcp/sse"))
        .header("X-API-Key", key)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let mut stream = response.bytes_stream().boxed();
    let mut text = String::new();
    while !text.contains("\n\n") {
        let chunk = tokio::time::timeout(Duration::from_secs(5), stream.next())
            .await
            .expect("endpoint event in time")
            .expect("stream open")
            .unwrap();
        text.push_str(std::str::from_utf8(&chunk).unwrap());
    }
    let endpoint = text
        .lines()
        .find_map(|l| l.strip_prefix("data: "))
        .unwrap()
        .to_owned();
    (stream, endpoint)
}

#[tokio::test]
async fn error_responses_are_exact() {
    let (server, base) = start(config()).await;
    let client = reqwest::Client::new();
    let mut cases = Vec::new();

    let r = client.get(format!("{base}/mcp/sse")).send().await.unwrap();
    cases.push(("AUTH-3 GET /mcp/sse without a key", head_and_body(r).await));
    let r = client
        .post(format!("{base}/mcp/messages?session_id=00"))
        .header("X-API-Key", "wrong")
        .send()
        .await
        .unwrap();
    cases.push((
        "AUTH-3 POST /mcp/messages with a wrong key",
        head_and_body(r).await,
    ));
    let r = client
        .get(format!("{base}/mcp/sse"))
        .header("X-API-Key", KEY)
        .header("Origin", "https://evil.example")
        .send()
        .await
        .unwrap();
    cases.push(("NET-2 foreign Origin", head_and_body(r).await));
    let r = client
        .post(format!("{base}/mcp/sse"))
        .header("X-API-Key", KEY)
        .send()
        .await
        .unwrap();
    cases.push((
        "POST /mcp/sse (Streamable HTTP probe)",
        head_and_body(r).await,
    ));
    let r = client
        .get(format!("{base}/mcp/messages"))
        .header("X-API-Key", KEY)
        .send()
        .await
        .unwrap();
    cases.push(("GET /mcp/messages", head_and_body(r).await));
    let r = client
        .get(format!("{base}/.well-known/oauth-authorization-server"))
        .send()
        .await
        .unwrap();
    cases.push((
        "/.well-known/oauth-authorization-server",
        head_and_body(r).await,
    ));
    let r = client.get(format!("{base}/health")).send().await.unwrap();
    cases.push(("GET /health", head_and_body(r).await));

    let post = |query: &str, content_type: &str, body: Vec<u8>| {
        client
            .post(format!("{base}/mcp/messages{query}"))
            .header("X-API-Key", KEY)
            .header("Content-Type", content_type)
            .body(body)
            .send()
    };
    let r = post("", "application/json", b"{}".to_vec()).await.unwrap();
    cases.push(("MSG-2 no session_id", head_and_body(r).await));
    let r = post("?session_id=xyz", "application/json", b"{}".to_vec())
        .await
        .unwrap();
    cases.push(("MSG-2 malformed session_id", head_and_body(r).await));
    let r = post(
        &format!("?session_id={}", "ab".repeat(16)),
        "application/json",
        b"{}".to_vec(),
    )
    .await
    .unwrap();
    cases.push(("MSG-2 unknown session", head_and_body(r).await));

    let (_stream, endpoint) = open_stream(&client, &base, KEY).await;
    let query = endpoint.trim_start_matches("/mcp/messages");
    let (_stream2, endpoint2) = open_stream(&client, &base, KEY).await;
    let query2 = endpoint2.trim_start_matches("/mcp/messages");
    let r = post(query, "text/plain", b"{}".to_vec()).await.unwrap();
    cases.push(("MSG-3 wrong content type", head_and_body(r).await));
    let r = post(query, "application/json", b"{not json".to_vec())
        .await
        .unwrap();
    cases.push(("MSG-3 not JSON", head_and_body(r).await));
    let r = post(query, "application/json", vec![b' '; 1024 * 1024 + 1])
        .await
        .unwrap();
    cases.push(("MSG-3 over 1 MiB", head_and_body(r).await));
    let r = post(
        query2,
        "application/json",
        br#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#.to_vec(),
    )
    .await
    .unwrap();
    cases.push(("MSG-1 accepted", head_and_body(r).await));

    let snapshot: String = cases
        .iter()
        .map(|(name, text)| format!("== {name}\n{text}\n\n"))
        .collect();
    insta::assert_snapshot!(snapshot);
    server.shutdown().await;
}

#[tokio::test]
async fn rate_2_and_7_limits_answer_429_with_retry_after() {
    let mut c = config();
    c.rate_limit_rps = 0.5;
    c.rate_limit_burst = 3;
    c.max_streams_per_key = 1;
    let (server, base) = start(c).await;
    let client = reqwest::Client::new();
    // RATE-7: one stream allowed, the second is refused.
    let first = client
        .get(format!("{base}/mcp/sse"))
        .header("X-API-Key", KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(first.status(), 200);
    let second = client
        .get(format!("{base}/mcp/sse"))
        .header("X-API-Key", KEY)
        .send()
        .await
        .unwrap();
    let stream_cap = head_and_body(second).await;
    // RATE-2/3: the third cell is spent; the fourth request is over the limit.
    let third = client
        .post(format!("{base}/mcp/sse"))
        .header("X-API-Key", KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(third.status(), 405);
    let over = client
        .post(format!("{base}/mcp/sse"))
        .header("X-API-Key", KEY)
        .send()
        .await
        .unwrap();
    let over = head_and_body(over).await;
    insta::assert_snapshot!(format!(
        "== RATE-7 stream cap\n{stream_cap}\n\n== RATE-2 over the limit\n{over}"
    ));
    // RATE-4: the other key is untouched.
    let b = client
        .post(format!("{base}/mcp/sse"))
        .header("X-API-Key", OTHER)
        .send()
        .await
        .unwrap();
    assert_eq!(b.status(), 405);
    drop(first);
    server.shutdown().await;
}

#[tokio::test]
async fn sse_2_first_event_is_the_endpoint() {
    let (server, base) = start(config()).await;
    let response = reqwest::Client::new()
        .get(format!("{base}/mcp/sse"))
        .header("Authorization", format!("Bearer {KEY}"))
        .send()
        .await
        .unwrap();
    let mut stream = response.bytes_stream();
    let chunk = stream.next().await.unwrap().unwrap();
    let text = String::from_utf8(chunk.to_vec()).unwrap();
    insta::with_settings!({filters => vec![(r"session_id=[0-9a-f]{32}", "session_id=[SESSION_ID]")]}, {
        insta::assert_snapshot!(text);
    });
    server.shutdown().await;
}

#[tokio::test]
async fn auth_8_reload_revokes_keys_and_closes_their_streams() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("keys");
    std::fs::write(&path, format!("# keys\n{KEY}\n{OTHER}\n")).unwrap();
    let mut c = config();
    c.api_keys = Vec::new();
    c.api_keys_file = Some(path.clone());
    let (server, base) = start(c).await;
    let client = reqwest::Client::new();
    let stream = client
        .get(format!("{base}/mcp/sse"))
        .header("X-API-Key", OTHER)
        .send()
        .await
        .unwrap();
    assert_eq!(stream.status(), 200);
    let mut body = stream.bytes_stream();
    body.next().await.unwrap().unwrap(); // endpoint event

    // Rotate: drop OTHER, add a new key.
    let mut f = std::fs::File::create(&path).unwrap();
    writeln!(f, "{KEY}\nnew-key-0123456789abcdefghij").unwrap();
    drop(f);
    assert_eq!(server.reload_keys().await.unwrap(), 2);

    // The revoked key's stream ends promptly.
    let ended = tokio::time::timeout(Duration::from_secs(5), async {
        while let Some(Ok(_)) = body.next().await {}
    })
    .await;
    assert!(ended.is_ok(), "revoked stream still open");
    let status = |key: &'static str| {
        let client = client.clone();
        let base = base.clone();
        async move {
            client
                .post(format!("{base}/mcp/sse"))
                .header("X-API-Key", key)
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    assert_eq!(status(OTHER).await, 401);
    assert_eq!(status("new-key-0123456789abcdefghij").await, 405);
    assert_eq!(status(KEY).await, 405);

    // A broken file keeps the previous keys.
    std::fs::write(&path, "bad key with spaces\n").unwrap();
    assert!(server.reload_keys().await.is_err());
    assert_eq!(status(KEY).await, 405);
    server.shutdown().await;
}

#[tokio::test]
async fn auth_6_no_keys_fails_closed() {
    let mut c = config();
    c.api_keys = Vec::new();
    let err = Server::bind(c).await.err().expect("refuses to start");
    assert!(err.to_string().contains("no API keys configured"));

    let mut dev = config();
    dev.api_keys = Vec::new();
    dev.allow_no_auth = true;
    dev.bind = "0.0.0.0:0".parse().unwrap();
    assert!(Server::bind(dev).await.is_err(), "keyless only on loopback");
}

/// AUTH-3: any presented value that is not a configured key gets the exact 401.
#[test]
fn auth_3_any_non_key_value_gets_the_exact_401() {
    use proptest::test_runner::{Config as RunnerConfig, TestRunner};
    let rt = tokio::runtime::Runtime::new().unwrap();
    let (server, base) = rt.block_on(start(config()));
    let client = reqwest::Client::new();
    let values = prop_oneof![
        "[ -~]{0,80}",
        Just(KEY[..KEY.len() - 1].to_owned()),
        Just(format!("{KEY}x")),
        Just(KEY.to_uppercase()),
        Just(format!("{} {}", &KEY[..4], &KEY[4..])),
        Just(format!("{KEY}%00")),
    ];
    let mut runner = TestRunner::new(RunnerConfig {
        cases: 96,
        ..RunnerConfig::default()
    });
    runner
        .run(&(values, any::<bool>()), |(value, bearer)| {
            if value.trim() == KEY || value.trim() == OTHER {
                return Ok(());
            }
            let (name, header) = if bearer {
                ("Authorization", format!("Bearer {value}"))
            } else {
                ("X-API-Key", value.clone())
            };
            let (status, body) = rt.block_on(async {
                let r = client
                    .get(format!("{base}/mcp/sse"))
                    .header(name, header)
                    .send()
                    .await
                    .unwrap();
                (r.status().as_u16(), r.text().await.unwrap())
            });
            prop_assert_eq!(status, 401);
            prop_assert_eq!(
                body,
                r#"{"error":{"type":"auth","message":"Missing or invalid API key"}}"#
            );
            Ok(())
        })
        .unwrap();
    rt.block_on(server.shutdown());
}

/// MSG-6: a client that posts but never reads its stream is slowed down and
/// then refused with 503 `overloaded`, instead of being acknowledged forever.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn msg_6_a_client_that_never_reads_its_stream_gets_503() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut c = config();
    c.rate_limit_rps = 100_000.0;
    c.rate_limit_burst = 100_000;
    c.overload_timeout = Duration::from_millis(200);
    let (server, base) = start(c).await;
    let addr = server.local_addr();

    // A raw stream with a tiny receive buffer, read once for the endpoint, then never again.
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(2048).unwrap();
    let mut stream = socket.connect(addr).await.unwrap();
    let request = format!("GET /mcp/sse HTTP/1.1\r\nHost: {addr}\r\nX-API-Key: {KEY}\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut head = vec![0u8; 1024];
    let mut seen = String::new();
    while !seen.contains("session_id=") || !seen.ends_with("\n\n") && !seen.contains("\n\n\r\n") {
        let n = stream.read(&mut head).await.unwrap();
        assert!(n > 0, "stream closed early");
        seen.push_str(&String::from_utf8_lossy(&head[..n]));
        if seen.contains("session_id=") && seen.contains("\n\n") {
            break;
        }
    }
    let id: String = seen
        .split("session_id=")
        .nth(1)
        .unwrap()
        .chars()
        .take(32)
        .collect();
    let url = format!("{base}/mcp/messages?session_id={id}");
    let client = reqwest::Client::new();
    let post = |body: String| {
        client
            .post(&url)
            .header("X-API-Key", KEY)
            .header("Content-Type", "application/json")
            .body(body)
            .send()
    };
    assert_eq!(
        post(r#"{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2024-11-05","capabilities":{},"clientInfo":{"name":"t","version":"0"}}}"#.into()).await.unwrap().status(),
        202
    );

    // tools/list answers are several KB each: the socket buffers fill quickly.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    let mut accepted = 0u32;
    let refused = loop {
        assert!(
            tokio::time::Instant::now() < deadline,
            "no 503 within 60 s ({accepted} accepted)"
        );
        assert!(accepted < 20_000, "no 503 after {accepted} accepted posts");
        let r = post(format!(
            r#"{{"jsonrpc":"2.0","id":{},"method":"tools/list"}}"#,
            accepted + 1
        ))
        .await
        .unwrap();
        match r.status().as_u16() {
            202 => accepted += 1,
            503 => break r.text().await.unwrap(),
            other => panic!("unexpected status {other}"),
        }
    };
    eprintln!("MSG-6: 503 after {accepted} accepted posts");
    assert_eq!(
        refused,
        r#"{"error":{"type":"overloaded","message":"Session is not reading its stream; retry later"}}"#
    );
    drop(stream);
    server.shutdown().await;
}

/// NET-3: a client that never finishes its headers is disconnected, and
/// connections over the cap are closed at once.
#[tokio::test]
async fn net_3_slow_headers_time_out_and_connections_are_capped() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut c = config();
    c.header_read_timeout = Duration::from_millis(300);
    c.max_connections = 2;
    let (server, _base) = start(c).await;
    let addr = server.local_addr();

    // Slowloris: half a request line, then silence. The server hangs up.
    let mut slow = tokio::net::TcpStream::connect(addr).await.unwrap();
    slow.write_all(b"GET /health HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    let mut buf = [0u8; 256];
    let closed = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            match slow.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(_) => continue, // a 408 may come first
            }
        }
    })
    .await;
    assert!(closed.is_ok(), "slow client still connected after 5 s");

    // Cap of 2: two idle connections held open, a third is closed unanswered.
    let _a = tokio::net::TcpStream::connect(addr).await.unwrap();
    let _b = tokio::net::TcpStream::connect(addr).await.unwrap();
    // (The accept loop takes connections in order, so these two hold the permits.)
    let mut third = tokio::net::TcpStream::connect(addr).await.unwrap();
    let _ = third
        .write_all(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        .await;
    let read = tokio::time::timeout(Duration::from_secs(5), third.read(&mut buf)).await;
    assert!(
        matches!(read, Ok(Ok(0)) | Ok(Err(_))),
        "third connection was served: {read:?}"
    );
    server.shutdown().await;
}
