//! Faults and load against the real `cfpb-mcp` binary on loopback
//! (docs/reliability.md). Every loop is bounded in count and in time; each
//! scenario prints its figure. `RELIABILITY_LONG=1` runs the long variants.
//!
//! - NET-4: keep-alive clients over every refusal path see no connection
//!   closed or reset under them.
//! - MSG-6: every `202` is answered on the stream, even when a client reuses
//!   a request id that is still in flight (that post is refused instead).
//! - AUTH-3 / RATE-6 / NET-3: an invalid-key flood leaves valid keys served
//!   and memory flat.

use std::time::{Duration, Instant};

use e2e::{ServerProcess, SseItem, SseStream, post, random_key};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

const WAIT: Duration = Duration::from_secs(10);

/// One scenario at a time: each measures the server alone (its figures and
/// its latency bounds mean nothing with another scenario's load beside it).
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

fn long() -> bool {
    std::env::var_os("RELIABILITY_LONG").is_some()
}

/// Limits high enough that each request reaches the refusal it is aimed at
/// (not the rate limiter's 429).
const UNLIMITED: &[&str] = &[
    "--data",
    "fixtures",
    "--rate-limit-rps",
    "1000000",
    "--rate-limit-burst",
    "1000000",
    "--auth-fail-rps",
    "1000000",
    "--auth-fail-burst",
    "1000000",
];

/// One HTTP/1.1 keep-alive connection, spoken to byte by byte.
struct KeepAlive {
    addr: String,
    conn: BufReader<TcpStream>,
}

/// How one request on a keep-alive connection went.
#[derive(Debug, PartialEq, Eq)]
enum Exchange {
    /// A whole response; `close` if it said `Connection: close`.
    Answered { status: u16, close: bool },
    /// The connection broke (reset, or closed before a whole response).
    Broken,
}

impl KeepAlive {
    async fn connect(addr: &str) -> Self {
        let stream = TcpStream::connect(addr).await.expect("connect");
        stream.set_nodelay(true).expect("nodelay");
        Self {
            addr: addr.to_owned(),
            conn: BufReader::new(stream),
        }
    }

    async fn reconnect(&mut self) {
        *self = Self::connect(&self.addr).await;
    }

    /// Send `head` and then, in a separate write after `gap`, `body` (as
    /// Python's http.client does), and read the response.
    async fn exchange(&mut self, head: &str, body: &[u8], gap: Duration) -> Exchange {
        let sent = async {
            self.conn.get_mut().write_all(head.as_bytes()).await?;
            if !body.is_empty() {
                tokio::time::sleep(gap).await;
                self.conn.get_mut().write_all(body).await?;
            }
            std::io::Result::Ok(())
        };
        if sent.await.is_err() {
            return Exchange::Broken;
        }
        match tokio::time::timeout(WAIT, read_response(&mut self.conn)).await {
            Ok(Ok((status, close))) => Exchange::Answered { status, close },
            _ => Exchange::Broken,
        }
    }
}

/// Read one response: status, headers, a `Content-Length` body.
async fn read_response(conn: &mut BufReader<TcpStream>) -> std::io::Result<(u16, bool)> {
    let broken = || std::io::Error::from(std::io::ErrorKind::UnexpectedEof);
    let mut line = String::new();
    if conn.read_line(&mut line).await? == 0 {
        return Err(broken());
    }
    let status: u16 = line
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(broken)?;
    let (mut length, mut close) = (0usize, false);
    loop {
        line.clear();
        if conn.read_line(&mut line).await? == 0 {
            return Err(broken());
        }
        let header = line.trim_end();
        if header.is_empty() {
            break;
        }
        let (name, value) = header.split_once(':').ok_or_else(broken)?;
        let (name, value) = (name.to_ascii_lowercase(), value.trim());
        if name == "content-length" {
            length = value.parse().map_err(|_| broken())?;
        } else if name == "connection" && value.eq_ignore_ascii_case("close") {
            close = true;
        }
    }
    let mut body = vec![0; length];
    conn.read_exact(&mut body).await?;
    Ok((status, close))
}

/// Open an HTTP+SSE session and post its `initialize` (id 0): the stream
/// (whose next message is the initialize result) and the messages URL.
async fn open_session(client: &reqwest::Client, base: &str, key: &str) -> (SseStream, String) {
    let mut sse = SseStream::open(client, &format!("{base}/mcp/sse"), key).await;
    let Some(SseItem::Event { data: endpoint, .. }) = sse.next(WAIT).await else {
        panic!("no endpoint event");
    };
    let messages = format!("{base}{endpoint}");
    let init = json!({"jsonrpc":"2.0","id":0,"method":"initialize","params":{
        "protocolVersion":"2024-11-05","capabilities":{},
        "clientInfo":{"name":"reliability","version":"0"}}});
    assert_eq!(post(client, &messages, key, &init).await.0, 202);
    (sse, messages)
}

fn head(method: &str, path: &str, headers: &[(&str, &str)], body_len: usize) -> String {
    let mut head = format!("{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n");
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    if body_len > 0 {
        head.push_str(&format!(
            "Content-Type: application/json\r\nContent-Length: {body_len}\r\n"
        ));
    }
    head.push_str("\r\n");
    head
}

/// A request aimed at one refusal: method, path, headers, the status expected.
type RefusalPath = (&'static str, String, Vec<(&'static str, String)>, u16);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn net_4_refusals_keep_keep_alive_connections_usable() {
    let _serial = SERIAL.lock().await;
    let key = random_key();
    let server = ServerProcess::start(UNLIMITED, &[("CFPB_MCP_API_KEYS", key.as_str())]);
    let total: usize = if long() { 100_000 } else { 10_000 };
    let connections = 16;
    let body = br#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#;
    let unknown = format!("/mcp/messages?session_id={}", "0".repeat(32));
    // Every refusal path a client can hit before its body is read.
    let paths: Vec<RefusalPath> = vec![
        ("POST", unknown, vec![("X-API-Key", key.clone())], 404),
        (
            "POST",
            "/mcp/messages".into(),
            vec![("X-API-Key", key.clone())],
            400,
        ),
        (
            "POST",
            "/mcp/messages".into(),
            vec![("X-API-Key", random_key())],
            401,
        ),
        (
            "POST",
            "/nope".into(),
            vec![("X-API-Key", key.clone())],
            404,
        ),
        (
            "POST",
            "/mcp".into(),
            vec![("X-API-Key", random_key())],
            401,
        ),
        (
            "PUT",
            "/mcp/sse".into(),
            vec![("X-API-Key", key.clone())],
            405,
        ),
        (
            "POST",
            "/mcp/messages".into(),
            vec![
                ("X-API-Key", key.clone()),
                ("Origin", "https://evil.example".into()),
            ],
            403,
        ),
        ("POST", "/health".into(), vec![], 405),
    ];
    let paths = std::sync::Arc::new(paths);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for c in 0..connections {
        let (addr, paths) = (server.listen.clone(), paths.clone());
        tasks.push(tokio::spawn(async move {
            let mut conn = KeepAlive::connect(&addr).await;
            let (mut broken, mut closed, mut wrong) = (0usize, 0usize, 0usize);
            for i in (c..total).step_by(connections) {
                let (method, path, headers, expected) = &paths[i % paths.len()];
                let headers: Vec<(&str, &str)> =
                    headers.iter().map(|(n, v)| (*n, v.as_str())).collect();
                let head = head(method, path, &headers, body.len());
                match conn.exchange(&head, body, Duration::from_millis(2)).await {
                    Exchange::Answered { status, close } => {
                        wrong += usize::from(status != *expected);
                        if close {
                            closed += 1;
                            conn.reconnect().await;
                        }
                    }
                    Exchange::Broken => {
                        broken += 1;
                        conn.reconnect().await;
                    }
                }
            }
            (broken, closed, wrong)
        }));
    }
    let (mut broken, mut closed, mut wrong) = (0, 0, 0);
    for task in tasks {
        let (b, c, w) = task.await.expect("client task");
        (broken, closed, wrong) = (broken + b, closed + c, wrong + w);
    }
    println!(
        "NET-4 figure: {total} refusals over {connections} keep-alive connections in {:?}: \
         {broken} broken, {closed} closed by the server, {wrong} unexpected statuses",
        started.elapsed()
    );
    assert_eq!(wrong, 0, "every request got the refusal it was aimed at");
    assert_eq!(broken, 0, "no connection reset or closed under a client");
    assert_eq!(
        closed, 0,
        "small bodies are drained, never a reason to close"
    );
    server.stop();
}

/// The client that found the defect: Python's http.client on one keep-alive
/// connection, with the default limits (so 400/401/404 turn into 429s too).
#[test]
fn net_4_a_python_keep_alive_client_is_never_cut_off() {
    let _serial = SERIAL.blocking_lock();
    let key = random_key();
    let server = ServerProcess::start(
        &["--data", "fixtures"],
        &[("CFPB_MCP_API_KEYS", key.as_str())],
    );
    let port = server.listen.rsplit(':').next().expect("a port").to_owned();
    let count = if long() { "2000" } else { "200" };
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/clients/keepalive.py");
    let output = std::process::Command::new("python3")
        .args([script, &port, &key, count])
        .output()
        .expect("python3 runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let report: Value = serde_json::from_slice(&output.stdout).expect("one JSON line");
    println!("NET-4 python figure: {report}");
    for (path, figures) in report.as_object().expect("an object") {
        assert_eq!(figures["broken"], 0, "{path}: {figures}");
    }
    server.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn net_4_an_unread_large_body_closes_cleanly_after_the_refusal() {
    let _serial = SERIAL.lock().await;
    let key = random_key();
    let server = ServerProcess::start(UNLIMITED, &[("CFPB_MCP_API_KEYS", key.as_str())]);
    let mut conn = KeepAlive::connect(&server.listen).await;
    // 256 KiB to a route that refuses before reading: past the drain bound.
    let body = vec![b' '; 256 * 1024];
    let wrong = random_key();
    let head = head(
        "POST",
        "/mcp/messages",
        &[("X-API-Key", &wrong)],
        body.len(),
    );
    let exchange = conn.exchange(&head, &body, Duration::from_millis(2)).await;
    assert_eq!(
        exchange,
        Exchange::Answered {
            status: 401,
            close: true
        }
    );
    server.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn msg_6_every_202_is_answered_even_with_a_reused_request_id() {
    let _serial = SERIAL.lock().await;
    let key = random_key();
    let server = ServerProcess::start(UNLIMITED, &[("CFPB_MCP_API_KEYS", key.as_str())]);
    let client = reqwest::Client::new();
    let base = server.base.clone();
    let (mut sse, messages) = open_session(&client, &base, &key).await;
    assert_eq!(sse.next_message(WAIT).await.expect("initialize")["id"], 0);
    let initialized = json!({"jsonrpc":"2.0","method":"notifications/initialized"});
    assert_eq!(post(&client, &messages, &key, &initialized).await.0, 202);

    let posts = 500;
    let ping = json!({"jsonrpc":"2.0","id":"same","method":"ping"});
    let statuses =
        futures::future::join_all((0..posts).map(|_| post(&client, &messages, &key, &ping))).await;
    let accepted = statuses.iter().filter(|(s, _)| *s == 202).count();
    let refused = statuses.iter().filter(|(s, _)| *s == 400).count();
    assert_eq!(accepted + refused, posts, "only 202 or 400: {statuses:?}");
    let mut answered = 0;
    while answered < accepted {
        let Some(message) = sse.next_message(Duration::from_secs(5)).await else {
            break;
        };
        if message["id"] == "same" {
            answered += 1;
        }
    }
    // Nothing more than one answer per 202 arrives, either.
    let extra = sse.next_message(Duration::from_millis(300)).await;
    println!(
        "MSG-6 figure: {posts} concurrent posts of one id: {accepted} accepted, \
         {refused} refused as duplicates, {answered} answered, lost: {}",
        accepted - answered
    );
    assert_eq!(answered, accepted, "every 202 is answered on the stream");
    assert!(extra.is_none(), "no answer without a 202: {extra:?}");
    server.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn auth_3_an_invalid_key_flood_leaves_valid_keys_served_and_memory_flat() {
    let _serial = SERIAL.lock().await;
    let key = random_key();
    let server = ServerProcess::start(UNLIMITED, &[("CFPB_MCP_API_KEYS", key.as_str())]);
    let total: usize = if long() { 1_000_000 } else { 100_000 };
    let connections = 8;
    let flood = |count: usize| {
        let addr = server.listen.clone();
        async move {
            let mut tasks = Vec::new();
            for c in 0..connections {
                let addr = addr.clone();
                tasks.push(tokio::spawn(async move {
                    let mut conn = KeepAlive::connect(&addr).await;
                    let wrong = random_key();
                    let head = head("GET", "/mcp/sse", &[("X-API-Key", &wrong)], 0);
                    let mut unexpected = 0usize;
                    for _ in (c..count).step_by(connections) {
                        match conn.exchange(&head, b"", Duration::ZERO).await {
                            Exchange::Answered {
                                status: 401,
                                close: false,
                            } => {}
                            _ => {
                                unexpected += 1;
                                conn.reconnect().await;
                            }
                        }
                    }
                    unexpected
                }));
            }
            let mut unexpected = 0;
            for task in tasks {
                unexpected += task.await.expect("flood task");
            }
            unexpected
        }
    };
    // Warm up (allocator pools, the limiter's entry for 127.0.0.1), then measure.
    assert_eq!(flood(10_000).await, 0);
    let before = server.rss_kib();
    let started = Instant::now();
    let valid = {
        let (base, key) = (server.base.clone(), key.clone());
        tokio::spawn(async move {
            let client = reqwest::Client::new();
            let url = format!("{base}/mcp/messages?session_id={}", "0".repeat(32));
            let ping = json!({"jsonrpc":"2.0","id":1,"method":"ping"});
            let mut latencies = Vec::new();
            for _ in 0..200 {
                let sent = Instant::now();
                // 404 Unknown session: the key was verified (a refused key is 401/429).
                let (status, _) = post(&client, &url, &key, &ping).await;
                latencies.push((status, sent.elapsed()));
            }
            latencies
        })
    };
    let unexpected = flood(total).await;
    let valid = valid.await.expect("valid client");
    let after = server.rss_kib();
    let mut served: Vec<Duration> = valid
        .iter()
        .filter(|(s, _)| *s == 404)
        .map(|(_, d)| *d)
        .collect();
    served.sort();
    let p99 = served
        .get(served.len() * 99 / 100)
        .copied()
        .unwrap_or_default();
    println!(
        "AUTH-3 flood figure: {total} wrong-key requests in {:?} ({unexpected} not a \
         keep-alive 401); valid key: {}/{} served meanwhile, p99 {p99:?}; RSS {before} -> {after} KiB",
        started.elapsed(),
        served.len(),
        valid.len()
    );
    assert_eq!(unexpected, 0);
    assert_eq!(
        served.len(),
        valid.len(),
        "valid keys are served during a flood"
    );
    assert!(
        after.saturating_sub(before) < 1024,
        "RSS grew by {} KiB",
        after - before
    );
    let (_, lines) = server.stop();
    let lines: Vec<Value> = lines
        .iter()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    let refused = lines.iter().filter(|v| v["status"] == 401).count();
    let dropped: u64 = lines
        .iter()
        .filter(|v| v["event"] == "audit_lines_dropped")
        .filter_map(|v| v["count"].as_u64())
        .sum();
    // LOG-4: past its budget, a refusal is counted in a summary line.
    let summarized: u64 = lines
        .iter()
        .filter(|v| v["event"] == "refusals_summarized" && v["reason"] == "auth")
        .filter_map(|v| v["count"].as_u64())
        .sum();
    println!(
        "AUTH-3 flood audit: {refused} lines for 401s, {summarized} summarised, \
         {dropped} reported dropped"
    );
    // LOG-3/4: a refusal is written, summarised, or its loss reported, never silent.
    assert!(
        refused as u64 + summarized + dropped >= total as u64,
        "every refusal accounted for ({refused} + {summarized} summarised + {dropped} dropped)"
    );
}

/// Keep-alive load of `count` requests per connection: `head` on each of
/// `connections`, until `stop` says so. Returns the statuses seen.
async fn load_until(
    addr: String,
    head: String,
    connections: usize,
    count: usize,
    stop: tokio::sync::watch::Receiver<bool>,
) -> Vec<u16> {
    let mut tasks = Vec::new();
    for _ in 0..connections {
        let (addr, head, stop) = (addr.clone(), head.clone(), stop.clone());
        tasks.push(tokio::spawn(async move {
            let mut statuses = Vec::new();
            let Ok(stream) = TcpStream::connect(&addr).await else {
                return statuses;
            };
            let mut conn = KeepAlive {
                addr,
                conn: BufReader::new(stream),
            };
            for _ in 0..count {
                if *stop.borrow() {
                    break;
                }
                match conn.exchange(&head, b"", Duration::ZERO).await {
                    Exchange::Answered { status, close } => {
                        statuses.push(status);
                        if close {
                            break;
                        }
                    }
                    Exchange::Broken => break,
                }
            }
            statuses
        }));
    }
    let mut all = Vec::new();
    for task in tasks {
        all.extend(task.await.unwrap_or_default());
    }
    all
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn log_3_sigterm_under_load_exits_cleanly_and_logs_every_answered_request() {
    let _serial = SERIAL.lock().await;
    let key = random_key();
    let server = ServerProcess::start(UNLIMITED, &[("CFPB_MCP_API_KEYS", key.as_str())]);
    let (stop_tx, stop) = tokio::sync::watch::channel(false);
    let unknown = format!("/mcp/messages?session_id={}", "0".repeat(32));
    let head = head("POST", &unknown, &[("X-API-Key", &key)], 0);
    let load = tokio::spawn(load_until(server.listen.clone(), head, 8, 20_000, stop));
    // Let the load reach the server, then stop it under load.
    let mut waited = 0;
    while server.lines().len() < 2_000 && waited < 500 {
        tokio::time::sleep(Duration::from_millis(10)).await;
        waited += 1;
    }
    let stopped = Instant::now();
    let (code, lines) = tokio::task::spawn_blocking(move || server.stop())
        .await
        .expect("stop");
    let took = stopped.elapsed();
    let _ = stop_tx.send(true);
    let answered = load.await.expect("load").len();
    let parsed: Vec<Value> = lines
        .iter()
        .map(|l| serde_json::from_str(l).expect("no torn line"))
        .collect();
    let logged = parsed
        .iter()
        .filter(|v| v["event"] == "mcp_request")
        .count();
    let dropped: u64 = parsed
        .iter()
        .filter(|v| v["event"] == "audit_lines_dropped")
        .filter_map(|v| v["count"].as_u64())
        .sum();
    println!(
        "LOG-3 SIGTERM figure: exit {code:?} after {took:?}; {answered} responses \
         received, {logged} request lines, {dropped} dropped, last event {}",
        parsed
            .last()
            .map(|v| v["event"].to_string())
            .unwrap_or_default()
    );
    assert_eq!(code, Some(0));
    assert_eq!(dropped, 0);
    // Every response a client got has its line; a line may exist for a
    // response that was written as the connection closed.
    assert!(logged >= answered, "{logged} lines < {answered} responses");
    assert_eq!(parsed.last().expect("lines")["event"], "server_stop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn auth_8_sighup_under_load_refuses_no_valid_key_and_ends_the_revoked_ones() {
    let _serial = SERIAL.lock().await;
    let (kept, revoked) = (random_key(), random_key());
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("keys");
    std::fs::write(&file, format!("{kept}\n{revoked}\n")).expect("write keys");
    let mut args = UNLIMITED.to_vec();
    args.extend(["--sse-keepalive-secs", "1"]);
    let server = ServerProcess::start(
        &args,
        &[("CFPB_MCP_API_KEYS_FILE", file.to_str().expect("utf-8 path"))],
    );
    let client = reqwest::Client::new();
    let base = server.base.clone();
    let mut doomed = SseStream::open(&client, &format!("{base}/mcp/sse"), &revoked).await;
    assert!(matches!(
        doomed.next(WAIT).await,
        Some(SseItem::Event { .. })
    ));
    // And a /mcp session of the same key.
    let init = json!({"jsonrpc":"2.0","id":1,"method":"initialize","params":{
        "protocolVersion":"2025-06-18","capabilities":{},
        "clientInfo":{"name":"rotation","version":"0"}}});
    let r = client
        .post(format!("{base}/mcp"))
        .header("X-API-Key", &revoked)
        .header("Accept", "application/json, text/event-stream")
        .json(&init)
        .send()
        .await
        .expect("initialize");
    assert_eq!(r.status(), 200);
    drop(r);

    let (stop_tx, stop) = tokio::sync::watch::channel(false);
    let unknown = format!("/mcp/messages?session_id={}", "0".repeat(32));
    let head = head("POST", &unknown, &[("X-API-Key", &kept)], 0);
    let load = tokio::spawn(load_until(server.listen.clone(), head, 4, 5_000, stop));
    let mut reloads = 0;
    for round in 0..5 {
        // Rotate: the kept key stays, the revoked one goes (then a new one each time).
        let fresh = random_key();
        std::fs::write(&file, format!("{kept}\n{fresh}\n")).expect("rewrite keys");
        server.signal("HUP");
        reloads += 1;
        tokio::time::sleep(Duration::from_millis(50 + round * 10)).await;
    }
    // The revoked key's stream ends (AUTH-8): it reads to its end.
    let mut ended = false;
    for _ in 0..20 {
        match doomed.next(Duration::from_secs(2)).await {
            None => {
                ended = true;
                break;
            }
            Some(_) => continue,
        }
    }
    let _ = stop_tx.send(true);
    let statuses = load.await.expect("load");
    let refused = statuses.iter().filter(|s| **s == 401 || **s == 429).count();
    let (_, lines) = server.stop();
    let reloaded = lines
        .iter()
        .filter(|l| l.contains("\"keys_reloaded\""))
        .count();
    println!(
        "AUTH-8 SIGHUP figure: {reloads} reloads ({reloaded} logged) under {} requests \
         with a kept key: {refused} refused; revoked key's stream ended: {ended}",
        statuses.len()
    );
    assert_eq!(
        refused, 0,
        "a still-valid key is never refused during a reload"
    );
    assert_eq!(reloaded, reloads);
    assert!(ended, "the revoked key's stream ends");
    assert!(
        lines.iter().any(|l| l.contains("\"key_revoked\"")),
        "its mcp_stream_end says why"
    );
    // keys_reloaded counts what it closed: the SSE stream and the /mcp session.
    let closed: u64 = lines
        .iter()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|v| v["event"] == "keys_reloaded")
        .filter_map(|v| v["streams_closed"].as_u64())
        .sum();
    assert_eq!(closed, 2, "one SSE stream and one /mcp session closed");
}

/// Wait (bounded) until the audit log holds `n` lines matching `event`.
async fn wait_for_lines(server: &ServerProcess, event: &str, n: usize) -> usize {
    let needle = format!("\"event\":\"{event}\"");
    let mut seen = 0;
    for _ in 0..500 {
        seen = server
            .lines()
            .iter()
            .filter(|l| l.contains(&needle))
            .count();
        if seen >= n {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    seen
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rate_7_session_churn_leaves_no_session_or_memory_behind() {
    let _serial = SERIAL.lock().await;
    let key = random_key();
    let server = ServerProcess::start(UNLIMITED, &[("CFPB_MCP_API_KEYS", key.as_str())]);
    let cycles: usize = if long() { 10_000 } else { 1_000 };
    let client = reqwest::Client::new();
    let base = server.base.clone();
    let before = server.rss_kib();
    let started = Instant::now();
    // HTTP+SSE: open a stream, read its endpoint event, leave.
    for _ in 0..cycles {
        let mut sse = SseStream::open(&client, &format!("{base}/mcp/sse"), &key).await;
        assert!(matches!(sse.next(WAIT).await, Some(SseItem::Event { .. })));
    }
    let ended = wait_for_lines(&server, "mcp_stream_end", cycles).await;
    // Streamable HTTP: initialize, then DELETE.
    let init = json!({"jsonrpc":"2.0","id":1,"method":"initialize","params":{
        "protocolVersion":"2025-06-18","capabilities":{},
        "clientInfo":{"name":"churn","version":"0"}}});
    let mut deleted = 0;
    for _ in 0..cycles {
        let r = client
            .post(format!("{base}/mcp"))
            .header("X-API-Key", &key)
            .header("Accept", "application/json, text/event-stream")
            .json(&init)
            .send()
            .await
            .expect("initialize");
        let id = r.headers()["mcp-session-id"]
            .to_str()
            .expect("id")
            .to_owned();
        drop(r);
        let r = client
            .delete(format!("{base}/mcp"))
            .header("X-API-Key", &key)
            .header("Mcp-Session-Id", &id)
            .send()
            .await
            .expect("delete");
        deleted += usize::from(r.status() == 200);
    }
    let took = started.elapsed();
    // Back to baseline: the key can hold its full quota of 8 again, on both.
    let mut streams = Vec::new();
    for _ in 0..8 {
        let sse = SseStream::open(&client, &format!("{base}/mcp/sse"), &key).await;
        assert_eq!(sse.status, 200, "a stream slot leaked");
        streams.push(sse);
    }
    for _ in 0..8 {
        let r = client
            .post(format!("{base}/mcp"))
            .header("X-API-Key", &key)
            .header("Accept", "application/json, text/event-stream")
            .json(&init)
            .send()
            .await
            .expect("initialize");
        assert_eq!(r.status(), 200, "a /mcp session slot leaked");
    }
    let after = server.rss_kib();
    println!(
        "RATE-7 churn figure: {cycles} SSE + {cycles} /mcp open/close cycles in {took:?}; \
         {ended} streams ended, {deleted} sessions deleted with 200; full quota again on \
         both; RSS {before} -> {after} KiB"
    );
    assert_eq!(ended, cycles);
    assert_eq!(deleted, cycles);
    assert!(
        after.saturating_sub(before) < 8 * 1024,
        "RSS grew by {} KiB",
        after - before
    );
    drop(streams);
    server.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn msg_6_clients_that_never_read_get_503_and_memory_stays_flat() {
    let _serial = SERIAL.lock().await;
    let key = random_key();
    let server = ServerProcess::start(UNLIMITED, &[("CFPB_MCP_API_KEYS", key.as_str())]);
    let client = reqwest::Client::new();
    let base = server.base.clone();
    let clients = 8; // the key's stream cap
    let before = server.rss_kib();
    let started = Instant::now();
    let mut tasks = Vec::new();
    for c in 0..clients {
        let (client, base, key) = (client.clone(), base.clone(), key.clone());
        tasks.push(tokio::spawn(async move {
            let (sse, messages) = open_session(&client, &base, &key).await;
            // From here on the stream is never read again.
            let (mut accepted, mut overloaded) = (0usize, false);
            // Big answers (a page of 100 complaints), so that the socket
            // buffers between server and client fill up quickly.
            for n in 1..=2_000 {
                let call = json!({"jsonrpc":"2.0","id":format!("{c}-{n}"),"method":"tools/call",
                    "params":{"name":"search_complaints","arguments":{"size":100}}});
                match post(&client, &messages, &key, &call).await.0 {
                    202 => accepted += 1,
                    503 => {
                        overloaded = true;
                        break;
                    }
                    other => panic!("unexpected {other}"),
                }
            }
            (accepted, overloaded, sse)
        }));
    }
    let mut results = Vec::new();
    for task in tasks {
        results.push(task.await.expect("client"));
    }
    let after = server.rss_kib();
    let accepted: Vec<usize> = results.iter().map(|r| r.0).collect();
    println!(
        "MSG-6 never-read figure: {clients} clients that never read: accepted {accepted:?} \
         posts each before 503, in {:?}; RSS {before} -> {after} KiB",
        started.elapsed()
    );
    assert!(results.iter().all(|r| r.1), "every such client gets 503");
    // Flat: a session holds at most MAX_UNSENT_BYTES (256 KiB) of frames the
    // connection has not taken, plus the answers in flight when the budget
    // ran out; the rest of what was accepted sits in the kernel's socket
    // buffers and hyper's write buffer. Before the byte budget: ~60 answers
    // per session, 180 MiB for these 8 sessions.
    assert!(
        after.saturating_sub(before) < 64 * 1024,
        "RSS grew by {} KiB",
        after - before
    );
    drop(results);
    server.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn msg_6_bad_json_from_clients_that_never_read_leaves_memory_flat() {
    // Issue 23 finding 1: JSON that is no JSON-RPC message gets its -32600
    // on the stream; that reply used to skip the byte budget and echo an id
    // of any size, so a client that never read grew the server without
    // bound (+231 MiB in 120 s from one key).
    let _serial = SERIAL.lock().await;
    let key = random_key();
    let server = ServerProcess::start(UNLIMITED, &[("CFPB_MCP_API_KEYS", key.as_str())]);
    let client = reqwest::Client::new();
    let base = server.base.clone();
    let before = server.rss_kib();
    let id = "x".repeat(200 * 1024);
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let (client, base, key, id) = (client.clone(), base.clone(), key.clone(), id.clone());
        tasks.push(tokio::spawn(async move {
            let (sse, messages) = open_session(&client, &base, &key).await;
            // Never read again. Each post: an object with a 200 KiB id and
            // no method (not JSON-RPC).
            let bad = json!({"id": id});
            let mut statuses = Vec::new();
            for _ in 0..60 {
                statuses.push(post(&client, &messages, &key, &bad).await.0);
            }
            (statuses, sse)
        }));
    }
    let mut results = Vec::new();
    for task in tasks {
        results.push(task.await.expect("client"));
    }
    let after = server.rss_kib();
    println!(
        "finding 1 figure: 8 never-reading sessions x 60 posts of a 200 KiB id that is no \
         JSON-RPC: RSS {before} -> {after} KiB"
    );
    for (statuses, _) in &results {
        assert!(
            statuses.iter().all(|s| *s == 202 || *s == 503),
            "{statuses:?}"
        );
    }
    // Before: every reply echoed its 200 KiB id into an unbounded backlog,
    // 8 x 60 x 200 KiB = 94 MiB held. Now the id is not echoed (MSG-3's
    // bound) and the reply waits for the byte budget like any answer.
    assert!(
        after.saturating_sub(before) < 32 * 1024,
        "RSS grew by {} KiB",
        after.saturating_sub(before)
    );
    drop(results);
    server.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rate_7_streams_are_one_budget_per_caller_and_health_always_answers() {
    // Issue 23 finding 2: the /mcp cap counted sessions, not streams, and
    // rmcp kept 1 + 32 GET streams per session, so four keys could hold
    // every connection and /health failed. Now a session has one GET stream
    // (a second gets 409), every stream counts against its key's budget of
    // 8 across both transports, and all streams together stay below three
    // quarters of the connection cap.
    let _serial = SERIAL.lock().await;
    let keys: Vec<String> = (0..5).map(|_| random_key()).collect();
    let mut args = UNLIMITED.to_vec();
    args.extend(["--max-connections", "40"]); // streams in all: 30
    let server = ServerProcess::start(&args, &[("CFPB_MCP_API_KEYS", keys.join(",").as_str())]);
    let client = reqwest::Client::new();
    let mcp = format!("{}/mcp", server.base);
    let mut held = Vec::new();
    let (mut conflicts, mut refused) = (0, 0);
    for key in &keys[..4] {
        // Three /mcp sessions, each asked for two GET streams.
        for _ in 0..3 {
            let init = json!({"jsonrpc":"2.0","id":1,"method":"initialize","params":{
                "protocolVersion":"2025-11-25","capabilities":{},
                "clientInfo":{"name":"streams","version":"0"}}});
            let r = client
                .post(&mcp)
                .header("X-API-Key", key)
                .header("Accept", "application/json, text/event-stream")
                .header("Content-Type", "application/json")
                .body(init.to_string())
                .send()
                .await
                .expect("initialize");
            let session = r.headers()["mcp-session-id"].to_str().unwrap().to_owned();
            for attempt in 0..2 {
                let r = client
                    .get(&mcp)
                    .header("X-API-Key", key)
                    .header("Accept", "text/event-stream")
                    .header("Mcp-Session-Id", &session)
                    .header("MCP-Protocol-Version", "2025-11-25")
                    .send()
                    .await
                    .expect("GET /mcp");
                match (attempt, r.status().as_u16()) {
                    (0, 200) => held.push(r),
                    (1, 409) => conflicts += 1,
                    (_, 429) => refused += 1,
                    other => panic!("GET /mcp: {other:?}"),
                }
            }
        }
        // Then HTTP+SSE streams until the key's budget (or the server's) is spent.
        for _ in 0..10 {
            let r = client
                .get(format!("{}/mcp/sse", server.base))
                .header("X-API-Key", key)
                .send()
                .await
                .expect("GET /mcp/sse");
            match r.status().as_u16() {
                200 => held.push(r),
                429 => refused += 1,
                other => panic!("GET /mcp/sse: {other}"),
            }
        }
    }
    println!(
        "finding 2 figure: 4 keys hold {} streams (409 for {conflicts} second GETs, 429 for \
         {refused} more) with --max-connections 40",
        held.len()
    );
    assert_eq!(conflicts, 12, "one GET stream per session");
    assert_eq!(
        held.len(),
        30,
        "8 per key, 30 in all (3/4 of 40 connections)"
    );
    for _ in 0..10 {
        let r = client
            .get(format!("{}/health", server.base))
            .send()
            .await
            .expect("/health");
        assert_eq!(r.status(), 200);
    }
    // The fifth key is served too (a plain POST ends; only streams are capped).
    let list = json!({"jsonrpc":"2.0","id":2,"method":"tools/list","params":{"_meta":{
        "io.modelcontextprotocol/protocolVersion":"2026-07-28",
        "io.modelcontextprotocol/clientCapabilities":{}}}});
    let r = client
        .post(&mcp)
        .header("X-API-Key", &keys[4])
        .header("Accept", "application/json, text/event-stream")
        .header("Content-Type", "application/json")
        .header("MCP-Protocol-Version", "2026-07-28")
        .header("Mcp-Method", "tools/list")
        .body(list.to_string())
        .send()
        .await
        .expect("tools/list");
    assert_eq!(r.status(), 200);
    drop(held);
    server.stop();
}

/// Dribble `prefix` and then one byte of `drip` every `every`, until the
/// server closes the connection or `limit` passes. Returns how long the
/// server held it open (None: still open at the limit).
async fn dribble(
    addr: String,
    prefix: String,
    every: Duration,
    limit: Duration,
) -> Option<Duration> {
    let started = Instant::now();
    let mut stream = TcpStream::connect(&addr).await.ok()?;
    if stream.write_all(prefix.as_bytes()).await.is_err() {
        return Some(started.elapsed());
    }
    let mut buf = [0u8; 4096];
    while started.elapsed() < limit {
        tokio::select! {
            read = stream.read(&mut buf) => match read {
                Ok(0) | Err(_) => return Some(started.elapsed()),
                Ok(_) => continue, // a response; wait for the close
            },
            _ = tokio::time::sleep(every) => {
                if stream.write_all(b"x").await.is_err() {
                    return Some(started.elapsed());
                }
            }
        }
    }
    None
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn net_3_slowloris_leaves_valid_clients_served_and_is_timed_out() {
    let _serial = SERIAL.lock().await;
    let key = random_key();
    let mut args = UNLIMITED.to_vec();
    args.extend([
        "--header-read-timeout-secs",
        "2",
        "--max-connections",
        "4096",
    ]);
    let server = ServerProcess::start(&args, &[("CFPB_MCP_API_KEYS", key.as_str())]);
    let (headers, bodies) = if long() { (3_000, 600) } else { (1_000, 200) };
    let every = Duration::from_millis(300);
    let limit = Duration::from_secs(15);
    let mut slow = Vec::new();
    for _ in 0..headers {
        let prefix = "POST /mcp/messages HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ".to_owned();
        slow.push(tokio::spawn(dribble(
            server.listen.clone(),
            prefix,
            every,
            limit,
        )));
    }
    let unknown = format!("/mcp/messages?session_id={}", "0".repeat(32));
    for _ in 0..bodies {
        let prefix = head("POST", &unknown, &[("X-API-Key", &key)], 100_000);
        slow.push(tokio::spawn(dribble(
            server.listen.clone(),
            prefix,
            every,
            limit,
        )));
    }
    // Valid clients meanwhile.
    let client = reqwest::Client::new();
    let ping = json!({"jsonrpc":"2.0","id":1,"method":"ping"});
    let url = format!("{}{unknown}", server.base);
    let mut latencies = Vec::new();
    for _ in 0..200 {
        let sent = Instant::now();
        let (status, _) = post(&client, &url, &key, &ping).await;
        assert_eq!(status, 404, "a valid client is served");
        latencies.push(sent.elapsed());
    }
    latencies.sort();
    let p99 = latencies[latencies.len() * 99 / 100];
    let mut held = Vec::new();
    for task in slow {
        held.push(task.await.expect("dribbler"));
    }
    let (head_held, body_held) = held.split_at(headers);
    let longest = |v: &[Option<Duration>]| v.iter().flatten().max().copied().unwrap_or_default();
    let open = held.iter().filter(|h| h.is_none()).count();
    println!(
        "NET-3 slowloris figure: {headers} header and {bodies} body dribblers; 200 valid \
         requests served, p99 {p99:?}; header dribblers closed after at most {:?}, body \
         dribblers after at most {:?}; {open} still open after {limit:?}",
        longest(head_held),
        longest(body_held)
    );
    assert_eq!(open, 0, "the timeouts close every slow connection");
    assert!(
        p99 < Duration::from_secs(1),
        "valid clients are not starved (p99 {p99:?})"
    );
    server.stop();
}

/// What a hand-made upstream does with each connection.
#[derive(Clone, Copy)]
enum RawUpstream {
    /// Close it without a word (a dropped connection, as the live data
    /// source sees it).
    Close,
    /// Answer 200 with a chunked body (no `Content-Length`) of this many
    /// bytes, so only counting the bytes as they come can refuse it.
    Chunked(usize),
}

/// A hand-made upstream on loopback; stops with the returned sender.
async fn raw_upstream(behaviour: RawUpstream) -> (String, tokio::sync::oneshot::Sender<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let (stop_tx, mut stop) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(async move {
        loop {
            tokio::select! {
                _ = &mut stop => return,
                accepted = listener.accept() => match (behaviour, accepted) {
                    (RawUpstream::Chunked(total), Ok((stream, _))) => {
                        tokio::spawn(chunked_answer(stream, total));
                    }
                    (_, accepted) => drop(accepted),
                },
            }
        }
    });
    (format!("http://{addr}/"), stop_tx)
}

/// Read one request head, then answer with `total` bytes of JSON whitespace
/// in 64 KiB chunks, for as long as the client keeps reading.
async fn chunked_answer(mut stream: TcpStream, total: usize) {
    let mut head = Vec::new();
    let mut buf = [0u8; 4096];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < 64 * 1024 {
        match stream.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => head.extend_from_slice(&buf[..n]),
        }
    }
    let start =
        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n";
    if stream.write_all(start.as_bytes()).await.is_err() {
        return;
    }
    let chunk = vec![b' '; 64 * 1024];
    let mut chunk_frame = format!("{:x}\r\n", chunk.len()).into_bytes();
    chunk_frame.extend_from_slice(&chunk);
    chunk_frame.extend_from_slice(b"\r\n");
    let mut sent = 0;
    while sent < total {
        if stream.write_all(&chunk_frame).await.is_err() {
            return;
        }
        sent += chunk.len();
    }
    let _ = stream.write_all(b"0\r\n\r\n").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn msg_5_upstream_faults_are_tool_errors_never_5xx_and_memory_is_bounded() {
    use wiremock::matchers::method;
    use wiremock::{Mock, MockServer, ResponseTemplate};
    let _serial = SERIAL.lock().await;
    let mock = MockServer::start().await;
    let (reset_base, stop_reset) = raw_upstream(RawUpstream::Close).await;
    let (chunked_base, stop_chunked) = raw_upstream(RawUpstream::Chunked(50 * 1024 * 1024)).await;
    // Each fault under its own path prefix of the mock; the server is
    // pointed at one base per run below.
    let faults: Vec<(&str, ResponseTemplate)> = vec![
        (
            "slow",
            ResponseTemplate::new(200).set_delay(Duration::from_secs(3)),
        ),
        (
            "error",
            ResponseTemplate::new(503).set_body_string("upstream down"),
        ),
        (
            "truncated",
            ResponseTemplate::new(200)
                .set_body_raw(r#"{"hits":{"hits":[{"_sou"#, "application/json"),
        ),
        (
            "garbage",
            ResponseTemplate::new(200).set_body_raw("\u{0}\u{1}<html>not json", "application/json"),
        ),
        (
            "huge",
            ResponseTemplate::new(200)
                .set_body_raw(vec![b' '; 50 * 1024 * 1024], "application/json"),
        ),
    ];
    for (prefix, template) in faults {
        Mock::given(method("GET"))
            .and(wiremock::matchers::path_regex(format!("^/{prefix}/")))
            .respond_with(template)
            .mount(&mock)
            .await;
    }
    let key = random_key();
    let mut bases: Vec<(String, String)> = ["slow", "error", "truncated", "garbage", "huge"]
        .iter()
        .map(|p| (p.to_string(), format!("{}/{p}/", mock.uri())))
        .collect();
    bases.push(("closed".into(), reset_base));
    bases.push(("chunked".into(), chunked_base));
    let mut figures = Vec::new();
    const SESSIONS: usize = 2;
    const CALLS: usize = 8;
    for (fault, base) in bases {
        let mut args = UNLIMITED.to_vec();
        args.retain(|a| *a != "fixtures" && *a != "--data");
        args.extend([
            "--data",
            "live",
            "--api-base",
            &base,
            "--upstream-timeout-secs",
            "1",
        ]);
        let server = ServerProcess::start(&args, &[("CFPB_MCP_API_KEYS", key.as_str())]);
        let client = reqwest::Client::new();
        let mut sessions = Vec::new();
        for _ in 0..SESSIONS {
            let (mut sse, messages) = open_session(&client, &server.base, &key).await;
            assert!(sse.next_message(WAIT).await.is_some());
            sessions.push((sse, messages));
        }
        let (before, peak_before) = (server.rss_kib(), server.peak_rss_kib());
        // Every session posts all its calls at once: CALLS x SESSIONS upstream
        // requests in flight together.
        let posts = sessions.iter().flat_map(|(_, messages)| {
            (1..=CALLS).map(|n| {
                let call = json!({"jsonrpc":"2.0","id":n,"method":"tools/call",
                    "params":{"name":"search_complaints","arguments":{"search_term":"escrow"}}});
                let (client, messages, key) = (client.clone(), messages.clone(), key.clone());
                async move { post(&client, &messages, &key, &call).await.0 }
            })
        });
        let statuses: Vec<u16> = futures::future::join_all(posts).await;
        let mut errors = 0;
        for (sse, _) in &mut sessions {
            for _ in 1..=CALLS {
                let answer = sse.next_message(WAIT).await.expect("an answer");
                if answer["result"]["isError"] == true {
                    errors += 1;
                }
            }
        }
        let calls = CALLS * SESSIONS;
        let (after, peak) = (server.rss_kib(), server.peak_rss_kib());
        figures.push(format!(
            "{fault}: {errors}/{calls} tool errors, {} posts 202, RSS {before} -> {after} KiB \
             (peak {peak_before} -> {peak})",
            statuses.iter().filter(|s| **s == 202).count()
        ));
        assert_eq!(errors, calls, "{fault}: every call is a tool error");
        assert!(statuses.iter().all(|s| *s == 202), "{fault}: never a 5xx");
        // The body is capped at 8 MiB as it arrives, and upstream requests
        // are bounded in number: a 50 MB answer costs at most the cap per
        // request in flight, whatever the upstream sends.
        assert!(
            after.saturating_sub(before) < 64 * 1024,
            "{fault}: RSS grew by {} KiB",
            after - before
        );
        // Even at the peak: 8 upstream requests in flight (data::live::
        // MAX_IN_FLIGHT), each body at most 8 MiB in a buffer of at most
        // 16 MiB, whatever the 16 calls ask for at once.
        assert!(
            peak.saturating_sub(peak_before) < (8 * 16 + 16) * 1024,
            "{fault}: peak RSS grew by {} KiB",
            peak - peak_before
        );
        let health = client
            .get(format!("{}/health", server.base))
            .send()
            .await
            .expect("health");
        assert_eq!(health.status(), 200, "{fault}: the server stays healthy");
        server.stop();
    }
    let _ = stop_reset.send(());
    let _ = stop_chunked.send(());
    println!("MSG-5 upstream faults figure: {}", figures.join("; "));
}
