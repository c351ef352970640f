//! `loadgen`: the load bench of issues 7 and 25, in one run.
//!
//! `loadgen [--quick] [--server PATH] [--server-cpus LIST] [--out FILE]`
//!
//! Spawns two `bench-server` processes (one guarded, one `--unguarded`) and
//! the reference `bare-server` (a bare hyper server with the same routes and
//! the guarded server's own tools/list and tools/call bytes), as separate
//! processes so that each RSS is its own, then runs every scenario against
//! the three, rotating which goes first round by round, so that noise on this
//! shared machine hits all alike, and prints a markdown table of absolute
//! numbers, guarded/bare ratios (against the machine's limit) and
//! guarded/unguarded ratios (the guard's own cost). Loopback only; every loop
//! is bounded in count and in time. See docs/performance.md.

use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use hdrhistogram::Histogram;
use http::{Method, Request, StatusCode};
use http_body_util::{BodyExt, Empty, Full};
use hyper::body::Incoming;
use hyper::client::conn::http1::{self, SendRequest};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;
use tokio::sync::mpsc;

const KEY: &str = "bench-key-7Qm2Xr9Lp4Tz8Wc1Nv6Hb3Jd5Kf0Gs2Yaq";
const WRONG_KEY: &str = "bench-key-7Qm2Xr9Lp4Tz8Wc1Nv6Hb3Jd5Kf0Gs2Yaw";
const KEEPALIVE_SECS: u64 = 2;
/// Hard ceiling on any single request or wait in the bench.
const STEP_TIMEOUT: Duration = Duration::from_secs(10);

type Error = Box<dyn std::error::Error + Send + Sync>;
type Result<T> = std::result::Result<T, Error>;

// ---------------------------------------------------------------- settings

#[derive(Clone, Debug)]
struct Plan {
    rounds: usize,
    window: Duration,
    reject_conns: usize,
    stateless_conns: usize,
    accept_sessions: usize,
    accept_conns_per_session: usize,
    closed_sessions: usize,
    stream_levels: Vec<usize>,
    /// Levels of the `sessions` scenario (initialized legacy sessions and
    /// `/mcp` GET streams, three requests each to open).
    session_levels: Vec<usize>,
    observe: Duration,
}

impl Plan {
    fn full() -> Self {
        Plan {
            rounds: 3,
            window: Duration::from_secs(6),
            reject_conns: 32,
            stateless_conns: 32,
            accept_sessions: 4,
            accept_conns_per_session: 8,
            closed_sessions: 4,
            stream_levels: vec![1_000, 5_000, 10_000],
            session_levels: vec![1_000, 5_000],
            observe: Duration::from_secs(2 * KEEPALIVE_SECS + 1),
        }
    }

    fn quick() -> Self {
        Plan {
            rounds: 1,
            window: Duration::from_secs(3),
            stream_levels: vec![1_000, 5_000],
            session_levels: vec![1_000],
            observe: Duration::from_secs(KEEPALIVE_SECS + 1),
            ..Plan::full()
        }
    }
}

// ---------------------------------------------------------------- servers

struct BenchServer {
    name: &'static str,
    child: Child,
    addr: SocketAddr,
}

impl BenchServer {
    fn spawn(path: &str, name: &'static str, unguarded: bool, cpus: Option<&str>) -> Result<Self> {
        Self::spawn_with(path, name, unguarded, cpus, &[])
    }

    fn spawn_with(
        path: &str,
        name: &'static str,
        unguarded: bool,
        cpus: Option<&str>,
        extra: &[&str],
    ) -> Result<Self> {
        let mut command = match cpus {
            Some(cpus) => {
                let mut c = Command::new("taskset");
                c.args(["-c", cpus, path]);
                c
            }
            None => Command::new(path),
        };
        command.args(["--keepalive-secs", &KEEPALIVE_SECS.to_string()]);
        if cpus.is_some_and(|c| !c.contains(',') && !c.contains('-')) {
            command.args(["--workers", "1"]);
        }
        if unguarded {
            command.arg("--unguarded");
        }
        command.args(extra);
        let mut child = command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()?;
        let stdout = child.stdout.take().ok_or("no stdout")?;
        let mut line = String::new();
        std::io::BufRead::read_line(&mut std::io::BufReader::new(stdout), &mut line)?;
        let port: u16 = line
            .strip_prefix("PORT ")
            .and_then(|p| p.trim().parse().ok())
            .ok_or_else(|| format!("{name}: unexpected first line {line:?}"))?;
        Ok(BenchServer {
            name,
            child,
            addr: SocketAddr::from(([127, 0, 0, 1], port)),
        })
    }

    /// Resident set size of the server process, in KiB (VmRSS; with
    /// `taskset` in front, exec replaces it, so the pid is the server's).
    fn rss_kib(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .unwrap_or_default();
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.split_whitespace().next()?.parse().ok())
            .unwrap_or(0)
    }

    fn stop(mut self) {
        drop(self.child.stdin.take()); // EOF: graceful shutdown
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

// ---------------------------------------------------------------- HTTP client

type Sender = SendRequest<Full<Bytes>>;

async fn connect(addr: SocketAddr) -> Result<Sender> {
    let stream = tokio::time::timeout(STEP_TIMEOUT, TcpStream::connect(addr)).await??;
    stream.set_nodelay(true)?;
    let (sender, connection) = http1::handshake(TokioIo::new(stream)).await?;
    tokio::spawn(async move {
        let _ = connection.await;
    });
    Ok(sender)
}

fn post(addr: SocketAddr, path: &str, key: &str, body: Bytes) -> Request<Full<Bytes>> {
    Request::builder()
        .method(Method::POST)
        .uri(path)
        .header("host", addr.to_string())
        .header("x-api-key", key)
        .header("content-type", "application/json")
        .body(Full::new(body))
        .expect("valid request")
}

/// Send and drain the response body (so the connection can be reused).
async fn send(sender: &mut Sender, request: Request<Full<Bytes>>) -> Result<StatusCode> {
    let exchange = async {
        sender.ready().await?;
        let response = sender.send_request(request).await?;
        let status = response.status();
        response.into_body().collect().await?;
        Ok::<_, Error>(status)
    };
    tokio::time::timeout(STEP_TIMEOUT, exchange).await?
}

/// An open `GET /mcp/sse`: its body, and the connection's sender, held so
/// the connection lives as long as the stream is read.
type Stream = (Incoming, SendRequest<Empty<Bytes>>);

/// Open `GET /mcp/sse` on a fresh connection.
async fn open_stream(addr: SocketAddr) -> Result<Stream> {
    let stream = tokio::time::timeout(STEP_TIMEOUT, TcpStream::connect(addr)).await??;
    stream.set_nodelay(true)?;
    let (mut sender, connection) =
        http1::handshake::<_, Empty<Bytes>>(TokioIo::new(stream)).await?;
    tokio::spawn(async move {
        let _ = connection.await;
    });
    let request = Request::builder()
        .uri("/mcp/sse")
        .header("host", addr.to_string())
        .header("x-api-key", KEY)
        .header("accept", "text/event-stream")
        .body(Empty::new())?;
    let response = tokio::time::timeout(STEP_TIMEOUT, sender.send_request(request)).await??;
    if response.status() != StatusCode::OK {
        return Err(format!("GET /mcp/sse: {}", response.status()).into());
    }
    Ok((response.into_body(), sender))
}

/// Read a stream's SSE events until it ends, on a task of its own that
/// holds the connection's `sender` (the connection lives as long as it).
fn read_events<S: Send + 'static>(
    mut body: Incoming,
    sender: S,
    mut on_event: impl FnMut(Event) + Send + 'static,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let _sender = sender;
        let mut parser = SseParser::default();
        while let Some(Ok(frame)) = body.frame().await {
            let Ok(data) = frame.into_data() else {
                continue;
            };
            parser.feed(&data, &mut on_event);
        }
    })
}

/// One SSE event, as far as the bench cares.
#[derive(Debug)]
enum Event {
    Endpoint(String),
    /// A `message` event; the JSON-RPC id if it is a number.
    Message(Option<i64>),
    Ping,
}

/// Incremental SSE parser over body frames.
#[derive(Default)]
struct SseParser {
    buf: Vec<u8>,
}

impl SseParser {
    fn feed(&mut self, data: &[u8], mut on_event: impl FnMut(Event)) {
        self.buf.extend_from_slice(data);
        let mut start = 0;
        while let Some(end) = find(&self.buf[start..], b"\n\n") {
            let block = &self.buf[start..start + end];
            if let Some(event) = parse_block(block) {
                on_event(event);
            }
            start += end + 2;
        }
        self.buf.drain(..start);
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn parse_block(block: &[u8]) -> Option<Event> {
    if block.starts_with(b":") {
        return Some(Event::Ping);
    }
    let text = std::str::from_utf8(block).ok()?;
    let mut kind = "message";
    let mut data = "";
    for line in text.lines() {
        if let Some(v) = line.strip_prefix("event: ") {
            kind = v;
        } else if let Some(v) = line.strip_prefix("data: ") {
            data = v;
        }
    }
    match kind {
        "endpoint" => Some(Event::Endpoint(data.to_owned())),
        "message" => Some(Event::Message(json_id(data))),
        _ => None,
    }
}

/// The numeric `"id"` of a one-line JSON-RPC message, without a full parse.
fn json_id(data: &str) -> Option<i64> {
    let at = data.find("\"id\":")? + 5;
    let digits: String = data[at..]
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == '-')
        .collect();
    digits.parse().ok()
}

/// A live MCP session: its messages URL, a count of `message` events
/// delivered on its stream, and the ids of answers as they arrive.
struct Session {
    url: String,
    delivered: Arc<AtomicU64>,
    answers: mpsc::UnboundedReceiver<i64>,
    reader: tokio::task::JoinHandle<()>,
}

impl Drop for Session {
    fn drop(&mut self) {
        self.reader.abort(); // drops the body: the stream closes
    }
}

static NEXT_ID: AtomicU64 = AtomicU64::new(1);

fn ping_body(id: u64) -> Bytes {
    Bytes::from(format!(r#"{{"jsonrpc":"2.0","id":{id},"method":"ping"}}"#))
}

/// Open a stream, initialize the session, and keep draining its stream.
async fn open_session(addr: SocketAddr) -> Result<Session> {
    let (body, sender) = open_stream(addr).await?;
    let (endpoint_tx, mut endpoint_rx) = mpsc::unbounded_channel::<String>();
    let (answer_tx, answers) = mpsc::unbounded_channel::<i64>();
    let delivered = Arc::new(AtomicU64::new(0));
    let counter = delivered.clone();
    let reader = read_events(body, sender, move |event| match event {
        Event::Endpoint(url) => {
            let _ = endpoint_tx.send(url);
        }
        Event::Message(id) => {
            counter.fetch_add(1, Ordering::Relaxed);
            if let Some(id) = id {
                let _ = answer_tx.send(id);
            }
        }
        Event::Ping => {}
    });
    let url = tokio::time::timeout(STEP_TIMEOUT, endpoint_rx.recv())
        .await?
        .ok_or("stream ended before its endpoint event")?;
    let mut session = Session {
        url,
        delivered,
        answers,
        reader,
    };
    let mut sender = connect(addr).await?;
    let init = Bytes::from_static(
        br#"{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2024-11-05","capabilities":{},"clientInfo":{"name":"bench","version":"0"}}}"#,
    );
    let status = send(&mut sender, post(addr, &session.url, KEY, init)).await?;
    if status != StatusCode::ACCEPTED {
        return Err(format!("initialize: {status}").into());
    }
    let answered = tokio::time::timeout(STEP_TIMEOUT, session.answers.recv()).await?;
    if answered != Some(0) {
        return Err("initialize was not answered".into());
    }
    let note = Bytes::from_static(br#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#);
    send(&mut sender, post(addr, &session.url, KEY, note)).await?;
    session.delivered.store(0, Ordering::Relaxed);
    Ok(session)
}

// ---------------------------------------------------------------- results

fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 60_000_000, 3).expect("histogram bounds")
}

#[derive(Clone, Debug, Default)]
struct Throughput {
    /// Requests (or round trips) per second, one per round.
    rates: Vec<f64>,
    /// Delivered message events per second, one per round (accepted only).
    delivered: Vec<f64>,
    /// Responses other than the expected status (all rounds).
    unexpected: u64,
    /// Latency in microseconds, all rounds merged.
    latency: Option<Histogram<u64>>,
    /// Delivered after the window closed (backlog), worst round.
    backlog: u64,
}

impl Throughput {
    fn add_latency(&mut self, h: &Histogram<u64>) {
        match &mut self.latency {
            Some(all) => {
                let _ = all.add(h);
            }
            None => self.latency = Some(h.clone()),
        }
    }
    fn rate(&self) -> f64 {
        median(&self.rates)
    }
    fn delivered_rate(&self) -> f64 {
        median(&self.delivered)
    }
    fn pct(&self, q: f64) -> f64 {
        self.latency
            .as_ref()
            .map_or(0.0, |h| h.value_at_quantile(q) as f64 / 1000.0)
    }
}

fn median(v: &[f64]) -> f64 {
    if v.is_empty() {
        return 0.0;
    }
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    s[s.len() / 2]
}

// ---------------------------------------------------------------- scenarios

/// Wrong key on `POST /mcp/messages` (an unknown session id): guarded
/// answers 401 at the guard; unguarded has no guard and answers 404 at the
/// session lookup, the cheapest refusal past the guard.
async fn rejected(
    addr: SocketAddr,
    plan: &Plan,
    expect: StatusCode,
    out: &mut Throughput,
) -> Result<()> {
    let path = "/mcp/messages?session_id=00000000000000000000000000000000".to_owned();
    let body = Bytes::from_static(br#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#);
    let deadline = Instant::now() + plan.window;
    let mut tasks = Vec::new();
    for _ in 0..plan.reject_conns {
        let (path, body) = (path.clone(), body.clone());
        tasks.push(tokio::spawn(async move {
            let mut sender = connect(addr).await?;
            let mut hist = histogram();
            let (mut ok, mut other) = (0u64, 0u64);
            while Instant::now() < deadline {
                let started = Instant::now();
                let status = send(&mut sender, post(addr, &path, WRONG_KEY, body.clone())).await?;
                let _ = hist.record(started.elapsed().as_micros().max(1) as u64);
                if status == expect {
                    ok += 1
                } else {
                    other += 1
                }
            }
            Ok::<_, Error>((ok, other, hist))
        }));
    }
    let started = Instant::now();
    let mut total = 0;
    for task in tasks {
        let (ok, other, hist) = task.await??;
        total += ok;
        out.unexpected += other;
        out.add_latency(&hist);
    }
    out.rates.push(
        total as f64
            / started
                .elapsed()
                .as_secs_f64()
                .max(plan.window.as_secs_f64()),
    );
    Ok(())
}

/// A stateless (MCP 2026-07-28) `POST /mcp`, `Mcp-Method` and `Mcp-Name`
/// mirrored from `body`. One fixed id: HTTP-2026-7 answers repeated ids, and
/// so every answer is the same bytes.
fn stateless_request(addr: SocketAddr, method: &str, body: &'static [u8]) -> Request<Full<Bytes>> {
    let mut r = post(addr, "/mcp", KEY, Bytes::from_static(body));
    let h = r.headers_mut();
    h.insert(
        "accept",
        http::HeaderValue::from_static("application/json, text/event-stream"),
    );
    h.insert(
        "mcp-protocol-version",
        http::HeaderValue::from_static("2026-07-28"),
    );
    if let Ok(v) = http::HeaderValue::from_str(method) {
        h.insert("mcp-method", v);
    }
    if method == "tools/call" {
        h.insert(
            "mcp-name",
            http::HeaderValue::from_static("search_complaints"),
        );
    }
    r
}

const TOOLS_LIST: &[u8] = br#"{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientInfo":{"name":"bench","version":"0"},"io.modelcontextprotocol/clientCapabilities":{}}}}"#;
const TOOLS_CALL: &[u8] = br#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"search_complaints","arguments":{"state":"CA","size":2},"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientInfo":{"name":"bench","version":"0"},"io.modelcontextprotocol/clientCapabilities":{}}}}"#;

/// The stateless scenarios: what is posted, under which `Mcp-Method`.
#[derive(Clone, Copy)]
enum Stateless {
    List,
    Call,
}

impl Stateless {
    fn method(self) -> &'static str {
        match self {
            Stateless::List => "tools/list",
            Stateless::Call => "tools/call",
        }
    }
    fn body(self) -> &'static [u8] {
        match self {
            Stateless::List => TOOLS_LIST,
            Stateless::Call => TOOLS_CALL,
        }
    }
}

/// One stateless answer, status 200 and its body (what `bare-server` is
/// given to send, so both servers send the same bytes).
async fn stateless_answer(addr: SocketAddr, kind: Stateless) -> Result<Bytes> {
    let mut sender = connect(addr).await?;
    sender.ready().await?;
    let response = tokio::time::timeout(
        STEP_TIMEOUT,
        sender.send_request(stateless_request(addr, kind.method(), kind.body())),
    )
    .await??;
    if response.status() != StatusCode::OK {
        return Err(format!("{}: {}", kind.method(), response.status()).into());
    }
    Ok(response.into_body().collect().await?.to_bytes())
}

/// Stateless `tools/list` or `tools/call` as fast as answers come back; an
/// answer that is not 200 with `expect_len` bytes is unexpected.
async fn stateless(
    addr: SocketAddr,
    plan: &Plan,
    kind: Stateless,
    expect_len: usize,
    out: &mut Throughput,
) -> Result<()> {
    let deadline = Instant::now() + plan.window;
    let mut tasks = Vec::new();
    for _ in 0..plan.stateless_conns {
        tasks.push(tokio::spawn(async move {
            let mut sender = connect(addr).await?;
            let mut hist = histogram();
            let (mut ok, mut other) = (0u64, 0u64);
            while Instant::now() < deadline {
                let started = Instant::now();
                let exchange = async {
                    sender.ready().await?;
                    let request = stateless_request(addr, kind.method(), kind.body());
                    let response = sender.send_request(request).await?;
                    let status = response.status();
                    let len = response.into_body().collect().await?.to_bytes().len();
                    Ok::<_, Error>(status == StatusCode::OK && len == expect_len)
                };
                let good = tokio::time::timeout(STEP_TIMEOUT, exchange).await??;
                let _ = hist.record(started.elapsed().as_micros().max(1) as u64);
                if good { ok += 1 } else { other += 1 }
            }
            Ok::<_, Error>((ok, other, hist))
        }));
    }
    let started = Instant::now();
    let mut total = 0;
    for task in tasks {
        let (ok, other, hist) = task.await??;
        total += ok;
        out.unexpected += other;
        out.add_latency(&hist);
    }
    out.rates.push(
        total as f64
            / started
                .elapsed()
                .as_secs_f64()
                .max(plan.window.as_secs_f64()),
    );
    Ok(())
}

/// `ping` posted to live sessions whose streams are drained; 202s per second
/// and, in the same window, answers delivered on the streams per second.
async fn accepted(addr: SocketAddr, plan: &Plan, out: &mut Throughput) -> Result<()> {
    let mut sessions = Vec::new();
    for _ in 0..plan.accept_sessions {
        sessions.push(open_session(addr).await?);
    }
    let start = Instant::now();
    let deadline = start + plan.window;
    let mut tasks = Vec::new();
    for session in &sessions {
        for _ in 0..plan.accept_conns_per_session {
            let url = session.url.clone();
            tasks.push(tokio::spawn(async move {
                let mut sender = connect(addr).await?;
                let mut hist = histogram();
                let (mut ok, mut other) = (0u64, 0u64);
                while Instant::now() < deadline {
                    let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
                    let started = Instant::now();
                    let status = send(&mut sender, post(addr, &url, KEY, ping_body(id))).await?;
                    let _ = hist.record(started.elapsed().as_micros().max(1) as u64);
                    if status == StatusCode::ACCEPTED {
                        ok += 1
                    } else {
                        other += 1
                    }
                }
                Ok::<_, Error>((ok, other, hist))
            }));
        }
    }
    let mut total = 0;
    let mut results = Vec::new();
    for task in tasks {
        results.push(task.await?);
    }
    let window = start.elapsed().as_secs_f64();
    let delivered_in_window: u64 = sessions
        .iter()
        .map(|s| s.delivered.load(Ordering::Relaxed))
        .sum();
    for r in results {
        let (ok, other, hist) = r?;
        total += ok;
        out.unexpected += other;
        out.add_latency(&hist);
    }
    // What was accepted but not yet delivered when the last post returned.
    let settle = Instant::now() + Duration::from_secs(2);
    let mut delivered_total = delivered_in_window;
    while Instant::now() < settle {
        delivered_total = sessions
            .iter()
            .map(|s| s.delivered.load(Ordering::Relaxed))
            .sum();
        if delivered_total >= total {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    out.backlog = out.backlog.max(total.saturating_sub(delivered_in_window));
    out.unexpected += total.saturating_sub(delivered_total); // accepted, never delivered
    out.rates.push(total as f64 / window);
    out.delivered.push(delivered_in_window as f64 / window);
    Ok(())
}

/// Closed loop: each session posts a ping and waits for its answer on the
/// stream before posting the next.
async fn closed_loop(addr: SocketAddr, plan: &Plan, out: &mut Throughput) -> Result<()> {
    let mut tasks = Vec::new();
    for _ in 0..plan.closed_sessions {
        let window = plan.window;
        tasks.push(tokio::spawn(async move {
            let mut session = open_session(addr).await?;
            let mut sender = connect(addr).await?;
            let mut hist = histogram();
            let (mut trips, mut other) = (0u64, 0u64);
            let window_start = Instant::now();
            let window_end = window_start + window;
            while Instant::now() < window_end {
                let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
                let started = Instant::now();
                let status =
                    send(&mut sender, post(addr, &session.url, KEY, ping_body(id))).await?;
                if status != StatusCode::ACCEPTED {
                    other += 1;
                    continue;
                }
                loop {
                    match tokio::time::timeout(STEP_TIMEOUT, session.answers.recv()).await? {
                        Some(got) if got == id as i64 => break,
                        Some(_) => continue,
                        None => return Err::<_, Error>("stream closed".into()),
                    }
                }
                let _ = hist.record(started.elapsed().as_micros().max(1) as u64);
                trips += 1;
            }
            Ok((trips, other, hist, window_start.elapsed()))
        }));
    }
    let mut rate = 0.0;
    for task in tasks {
        let (trips, other, hist, took) = task.await??;
        rate += trips as f64 / took.as_secs_f64();
        out.unexpected += other;
        out.add_latency(&hist);
    }
    out.rates.push(rate);
    Ok(())
}

/// Idle SSE streams: open up to each level, RSS per stream, time to open,
/// keep-alives on time.
#[derive(Debug, Default, Clone)]
struct StreamLevel {
    streams: usize,
    open_secs: f64,
    rss_per_stream_kib: f64,
    failed: usize,
}

#[derive(Debug, Default, Clone)]
struct StreamResult {
    levels: Vec<StreamLevel>,
    on_time: usize,
    observed: usize,
    worst_gap_ms: u64,
    /// RSS above the level before the first stream, once every stream has
    /// closed and the server had 2 s to reap them.
    rss_after_close_kib: u64,
}

struct IdleStream {
    pings: Arc<std::sync::Mutex<Vec<Instant>>>,
    task: tokio::task::JoinHandle<()>,
}

async fn idle_stream(addr: SocketAddr) -> Result<IdleStream> {
    let (body, sender) = open_stream(addr).await?;
    let (ready_tx, mut ready_rx) = mpsc::unbounded_channel::<()>();
    let pings = Arc::new(std::sync::Mutex::new(Vec::new()));
    let log = pings.clone();
    let task = read_events(body, sender, move |event| match event {
        Event::Endpoint(_) => {
            let _ = ready_tx.send(());
        }
        Event::Ping => {
            if let Ok(mut log) = log.lock() {
                log.push(Instant::now());
            }
        }
        Event::Message(_) => {}
    });
    tokio::time::timeout(STEP_TIMEOUT, ready_rx.recv())
        .await?
        .ok_or("stream ended before its endpoint event")?;
    Ok(IdleStream { pings, task })
}

async fn idle_streams(server: &BenchServer, plan: &Plan) -> Result<StreamResult> {
    const OPENING_AT_ONCE: usize = 64;
    let addr = server.addr;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let rss_before = server.rss_kib();
    let mut streams: Vec<IdleStream> = Vec::new();
    let mut result = StreamResult::default();
    for &level in &plan.stream_levels {
        let started = Instant::now();
        let mut failed = 0;
        while streams.len() + failed < level && started.elapsed() < Duration::from_secs(120) {
            let batch = OPENING_AT_ONCE.min(level - streams.len() - failed);
            let opened = futures_join((0..batch).map(|_| idle_stream(addr))).await;
            for stream in opened {
                match stream {
                    Ok(s) => streams.push(s),
                    Err(_) => failed += 1,
                }
            }
        }
        let open_secs = started.elapsed().as_secs_f64();
        tokio::time::sleep(Duration::from_millis(500)).await;
        let rss = server.rss_kib();
        result.levels.push(StreamLevel {
            streams: streams.len(),
            open_secs,
            rss_per_stream_kib: (rss.saturating_sub(rss_before)) as f64
                / streams.len().max(1) as f64,
            failed,
        });
    }
    // Keep-alives at the highest level: every stream must see a ping at least
    // every keep-alive interval (+1 s of slack) through the observation window.
    let from = Instant::now();
    tokio::time::sleep(plan.observe).await;
    let to = Instant::now();
    let limit = Duration::from_secs(KEEPALIVE_SECS) + Duration::from_secs(1);
    for stream in &streams {
        let pings = stream.pings.lock().map(|p| p.clone()).unwrap_or_default();
        let mut marks: Vec<Instant> = pings
            .into_iter()
            .filter(|t| *t >= from && *t <= to)
            .collect();
        marks.insert(0, from);
        marks.push(to);
        let worst = marks
            .windows(2)
            .map(|w| w[1] - w[0])
            .max()
            .unwrap_or_default();
        result.observed += 1;
        result.worst_gap_ms = result.worst_gap_ms.max(worst.as_millis() as u64);
        if worst <= limit {
            result.on_time += 1;
        }
    }
    for stream in streams {
        stream.task.abort();
    }
    tokio::time::sleep(Duration::from_secs(2)).await; // let the server reap them
    result.rss_after_close_kib = server.rss_kib().saturating_sub(rss_before);
    Ok(result)
}

/// What the `sessions` scenario holds open on each connection.
#[derive(Clone, Copy, Debug)]
enum Held {
    /// `GET /mcp/sse` whose session was initialized (`initialize` answered
    /// on the stream, `notifications/initialized` posted), then left idle.
    SseSession,
    /// A 2025-11-25 `/mcp` session (initialize, initialized) and its
    /// `GET /mcp` stream, left idle. The bare server has no sessions: its
    /// `GET /mcp` is a stream of keep-alives.
    McpGet,
}

const INITIALIZE: &str = r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"bench","version":"0"}}}"#;
const INITIALIZED: &str = r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#;
const SESSION_VERSION: &str = "2025-11-25";

/// POST `body` to `path` on a connection of its own (closed after), with the
/// headers a Streamable HTTP client sends; the status and the session id.
async fn post_once(
    addr: SocketAddr,
    path: &str,
    session: Option<&str>,
    body: &'static str,
) -> Result<(StatusCode, Option<String>)> {
    let mut sender = connect(addr).await?;
    let mut request = post(addr, path, KEY, Bytes::from_static(body.as_bytes()));
    let headers = request.headers_mut();
    headers.insert(
        "accept",
        http::HeaderValue::from_static("application/json, text/event-stream"),
    );
    headers.insert(
        "mcp-protocol-version",
        http::HeaderValue::from_static(SESSION_VERSION),
    );
    if let Some(id) = session {
        headers.insert("mcp-session-id", http::HeaderValue::from_str(id)?);
    }
    let exchange = async {
        sender.ready().await?;
        let response = sender.send_request(request).await?;
        let status = response.status();
        let id = response
            .headers()
            .get("mcp-session-id")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        response.into_body().collect().await?;
        Ok::<_, Error>((status, id))
    };
    tokio::time::timeout(STEP_TIMEOUT, exchange).await?
}

/// Open one connection holding `kind`, ready and idle; the task draining it.
async fn held(addr: SocketAddr, kind: Held) -> Result<tokio::task::JoinHandle<()>> {
    match kind {
        Held::SseSession => {
            let (body, sender) = open_stream(addr).await?;
            let (event_tx, mut events) = mpsc::unbounded_channel::<Option<String>>();
            let task = read_events(body, sender, move |event| match event {
                Event::Endpoint(url) => {
                    let _ = event_tx.send(Some(url));
                }
                Event::Message(_) => {
                    let _ = event_tx.send(None);
                }
                Event::Ping => {}
            });
            let endpoint = tokio::time::timeout(STEP_TIMEOUT, events.recv())
                .await?
                .flatten()
                .ok_or("no endpoint event")?;
            let (status, _) = post_once(addr, &endpoint, None, INITIALIZE).await?;
            if status != StatusCode::ACCEPTED {
                return Err(format!("initialize: {status}").into());
            }
            // The answer to initialize, on the stream.
            tokio::time::timeout(STEP_TIMEOUT, events.recv()).await?;
            post_once(addr, &endpoint, None, INITIALIZED).await?;
            Ok(task)
        }
        Held::McpGet => {
            let (status, session) = post_once(addr, "/mcp", None, INITIALIZE).await?;
            if status != StatusCode::OK {
                return Err(format!("initialize: {status}").into());
            }
            if let Some(id) = &session {
                post_once(addr, "/mcp", Some(id), INITIALIZED).await?;
            }
            let stream = tokio::time::timeout(STEP_TIMEOUT, TcpStream::connect(addr)).await??;
            stream.set_nodelay(true)?;
            let (mut sender, connection) =
                http1::handshake::<_, Empty<Bytes>>(TokioIo::new(stream)).await?;
            tokio::spawn(async move {
                let _ = connection.await;
            });
            let mut request = Request::builder()
                .uri("/mcp")
                .header("host", addr.to_string())
                .header("x-api-key", KEY)
                .header("accept", "text/event-stream")
                .header("mcp-protocol-version", SESSION_VERSION);
            if let Some(id) = &session {
                request = request.header("mcp-session-id", id);
            }
            let request = request.body(Empty::new())?;
            let response =
                tokio::time::timeout(STEP_TIMEOUT, sender.send_request(request)).await??;
            if response.status() != StatusCode::OK {
                return Err(format!("GET /mcp: {}", response.status()).into());
            }
            Ok(read_events(response.into_body(), sender, |_| {}))
        }
    }
}

/// Idle sessions of `kind`: open up to each level, RSS per connection, time
/// to open; then close them all and see what is given back. Clean only on
/// a fresh server (`--only sessions`): after the `streams` scenario the bare
/// server reuses the heap its closed streams left (it does not trim).
async fn held_levels(server: &BenchServer, plan: &Plan, kind: Held) -> Result<StreamResult> {
    const OPENING_AT_ONCE: usize = 64;
    let addr = server.addr;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let rss_before = server.rss_kib();
    let mut open: Vec<tokio::task::JoinHandle<()>> = Vec::new();
    let mut result = StreamResult::default();
    for &level in &plan.session_levels {
        let started = Instant::now();
        let mut failed = 0;
        while open.len() + failed < level && started.elapsed() < Duration::from_secs(120) {
            let batch = OPENING_AT_ONCE.min(level - open.len() - failed);
            for opened in futures_join((0..batch).map(|_| held(addr, kind))).await {
                match opened {
                    Ok(task) => open.push(task),
                    Err(e) => {
                        if failed == 0 {
                            eprintln!("{kind:?} on {}: {e}", server.name);
                        }
                        failed += 1;
                    }
                }
            }
        }
        let open_secs = started.elapsed().as_secs_f64();
        tokio::time::sleep(Duration::from_millis(500)).await;
        let rss = server.rss_kib();
        result.levels.push(StreamLevel {
            streams: open.len(),
            open_secs,
            rss_per_stream_kib: (rss.saturating_sub(rss_before)) as f64 / open.len().max(1) as f64,
            failed,
        });
    }
    for task in open {
        task.abort();
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    result.rss_after_close_kib = server.rss_kib().saturating_sub(rss_before);
    Ok(result)
}

async fn futures_join<F, T>(futures: impl Iterator<Item = F>) -> Vec<T>
where
    F: std::future::Future<Output = T> + Send + 'static,
    T: Send + 'static,
{
    let handles: Vec<_> = futures.map(tokio::spawn).collect();
    let mut out = Vec::with_capacity(handles.len());
    for h in handles {
        if let Ok(v) = h.await {
            out.push(v);
        }
    }
    out
}

// ---------------------------------------------------------------- report

#[derive(Default)]
struct Side {
    rejected: Throughput,
    accepted: Throughput,
    closed: Throughput,
    listed: Throughput,
    called: Throughput,
    streams: StreamResult,
    sse_sessions: StreamResult,
    mcp_streams: StreamResult,
}

fn ratio(g: f64, u: f64) -> String {
    if u == 0.0 {
        "n/a".into()
    } else {
        format!("{:.2}×", g / u)
    }
}

/// The three servers' results: the bare reference, guarded, unguarded.
struct Sides<'a> {
    b: &'a Side,
    g: &'a Side,
    u: &'a Side,
}

fn report(plan: &Plan, sides: Sides<'_>, machine: &str, took: Duration) -> String {
    let Sides { b, g, u } = sides;
    let mut s = String::new();
    let mut row = |name: &str, vals: [f64; 3], fmt: &dyn Fn(f64) -> String, target: &str| {
        let [bv, gv, uv] = vals;
        s.push_str(&format!(
            "| {name} | {} | {} | {} | {} | {} | {target} |\n",
            fmt(bv),
            fmt(gv),
            fmt(uv),
            ratio(gv, bv),
            ratio(gv, uv)
        ));
    };
    let n0 = |v: f64| format!("{v:.0}");
    let ms = |v: f64| format!("{v:.2} ms");
    let kib = |v: f64| format!("{v:.1} KiB");
    let mib = |v: f64| format!("{v:.1} MiB");
    let secs = |v: f64| format!("{v:.2} s");
    let each = |f: &dyn Fn(&Side) -> f64| [f(b), f(g), f(u)];
    let throughput = [
        (
            "rejected req/s (wrong key; B, G 401, U 404)",
            "rejected",
            "≥ 0.90× B",
        ),
        ("accepted req/s (ping → 202)", "accepted", "≥ 0.85× B"),
        ("closed-loop round trips/s", "closed", ""),
        (
            "stateless tools/list req/s (2026-07-28)",
            "listed",
            "≥ 0.70× B",
        ),
        (
            "stateless tools/call req/s (fixtures)",
            "called",
            "≥ 0.70× B",
        ),
    ];
    let pick = |side: &Side, which: &str| -> Throughput {
        match which {
            "rejected" => side.rejected.clone(),
            "accepted" => side.accepted.clone(),
            "closed" => side.closed.clone(),
            "listed" => side.listed.clone(),
            _ => side.called.clone(),
        }
    };
    for (name, which, target) in throughput {
        if [b, g, u]
            .iter()
            .all(|side| pick(side, which).rates.is_empty())
        {
            continue;
        }
        row(name, each(&|sd| pick(sd, which).rate()), &n0, target);
        if which == "accepted" {
            row(
                "delivered msg/s (same window)",
                each(&|sd| sd.accepted.delivered_rate()),
                &n0,
                "≈ accepted",
            );
        }
        let p99_target = if which == "listed" || which == "called" {
            "≤ 1.5× B"
        } else {
            ""
        };
        row(
            &format!("{which} p50"),
            each(&|sd| pick(sd, which).pct(0.5)),
            &ms,
            "",
        );
        row(
            &format!("{which} p99"),
            each(&|sd| pick(sd, which).pct(0.99)),
            &ms,
            p99_target,
        );
    }
    for (i, gl) in g.streams.levels.iter().enumerate() {
        let at =
            |sd: &Side, f: &dyn Fn(&StreamLevel) -> f64| sd.streams.levels.get(i).map_or(0.0, f);
        row(
            &format!("RSS per idle SSE stream @ {}", gl.streams),
            each(&|sd| at(sd, &|l| l.rss_per_stream_kib)),
            &kib,
            "≤ 1.10× B",
        );
        row(
            &format!("time to open {} streams", gl.streams),
            each(&|sd| at(sd, &|l| l.open_secs)),
            &secs,
            "",
        );
    }
    if !g.streams.levels.is_empty() {
        row(
            "RSS left after every stream closed (+2 s)",
            each(&|sd| sd.streams.rss_after_close_kib as f64 / 1024.0),
            &mib,
            "given back or bounded",
        );
    }
    type Pick = fn(&Side) -> &StreamResult;
    let held: [(&str, Pick); 2] = [
        ("idle SSE session after initialize", |sd| &sd.sse_sessions),
        ("idle /mcp GET stream (2025-11-25 session)", |sd| {
            &sd.mcp_streams
        }),
    ];
    for (what, pick) in held {
        for (i, gl) in pick(g).levels.iter().enumerate() {
            let at =
                |sd: &Side, f: &dyn Fn(&StreamLevel) -> f64| pick(sd).levels.get(i).map_or(0.0, f);
            row(
                &format!("RSS per {what} @ {}", gl.streams),
                each(&|sd| at(sd, &|l| l.rss_per_stream_kib)),
                &kib,
                "≤ 1.10× B",
            );
        }
    }
    let mut out = String::new();
    out.push_str(&format!(
        "Machine: {machine}. Plan: {} round(s) × {:.0} s windows, rotating order; {} rejecting connections, {} stateless connections, {} sessions × {} posting connections, {} closed loops. Run took {:.0} s.\n\n",
        plan.rounds,
        plan.window.as_secs_f64(),
        plan.reject_conns,
        plan.stateless_conns,
        plan.accept_sessions,
        plan.accept_conns_per_session,
        plan.closed_sessions,
        took.as_secs_f64()
    ));
    out.push_str(
        "| measure | bare hyper (B) | guarded (G) | unguarded (U) | G/B | G/U | target |\n|---|---:|---:|---:|---:|---:|---|\n",
    );
    out.push_str(&s);
    let on_time = |r: &StreamResult| {
        format!(
            "{}/{} (worst gap {} ms)",
            r.on_time, r.observed, r.worst_gap_ms
        )
    };
    out.push_str(&format!(
        "| keep-alives on time (every {KEEPALIVE_SECS} s, +1 s slack) | {} | {} | {} | | | all |\n",
        on_time(&b.streams),
        on_time(&g.streams),
        on_time(&u.streams)
    ));
    let faults = |sd: &Side| {
        sd.rejected.unexpected
            + sd.accepted.unexpected
            + sd.closed.unexpected
            + sd.listed.unexpected
            + sd.called.unexpected
            + sd.streams
                .levels
                .iter()
                .map(|l| l.failed as u64)
                .sum::<u64>()
    };
    out.push_str(&format!(
        "| unexpected statuses / bodies / undelivered / failed opens | {} | {} | {} | | | 0 |\n",
        faults(b),
        faults(g),
        faults(u)
    ));
    out.push_str(&format!(
        "| backlog at window end (accepted − delivered, worst round) | {} | {} | {} | | | bounded (≤ sessions × 32) |\n",
        b.accepted.backlog, g.accepted.backlog, u.accepted.backlog
    ));
    out
}

fn machine() -> String {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find_map(|l| l.strip_prefix("model name"))
        .map(|l| l.trim_start_matches([' ', '\t', ':']).to_owned())
        .unwrap_or_else(|| "unknown CPU".into());
    // Not available_parallelism(): under `taskset` that is the pinned set.
    let cpus = cpuinfo
        .lines()
        .filter(|l| l.starts_with("processor"))
        .count();
    let mem = std::fs::read_to_string("/proc/meminfo")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .and_then(|v| v.split_whitespace().next()?.parse::<u64>().ok())
        .map_or(0, |kib| kib / 1024 / 1024);
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let load = load.split_whitespace().next().unwrap_or("?");
    // The servers inherit it (bench/run.sh sets the Docker image's).
    let tunables = match std::env::var("GLIBC_TUNABLES") {
        Ok(t) if !t.is_empty() => format!("GLIBC_TUNABLES={t}"),
        _ => "plain glibc (no GLIBC_TUNABLES)".to_owned(),
    };
    format!("{model}, {cpus} CPUs, {mem} GiB, load average {load} at start; {tunables}")
}

// ---------------------------------------------------------------- replicas

/// `--replicas URL`: what sharing the limiter through Redis costs per
/// accepted request. Two guarded servers, one in-process and one with
/// `--redis-url` (each accepted POST then runs the GCRA script in Redis),
/// through the `accepted` scenario, alternating which goes first; the
/// throughput ratio is the inverse of the cost ratio (the servers are pinned
/// to one CPU; Redis's own CPU time is not the server's and is not counted).
fn replicas(path: &str, cpus: Option<&str>, url: &str, plan: &Plan) -> Result<String> {
    let local = BenchServer::spawn(path, "in-process", false, cpus)?;
    let shared = BenchServer::spawn_with(path, "redis", false, cpus, &["--redis-url", url])?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let result = runtime.block_on(async {
        let (mut l, mut s) = (Throughput::default(), Throughput::default());
        for round in 0..plan.rounds {
            let order: [(&BenchServer, bool); 2] = if round % 2 == 0 {
                [(&local, false), (&shared, true)]
            } else {
                [(&shared, true), (&local, false)]
            };
            for (server, is_shared) in order {
                let out = if is_shared { &mut s } else { &mut l };
                accepted(server.addr, plan, out).await?;
                eprintln!(
                    "round {round} replicas  {:<10} {:>8.0}/s",
                    server.name,
                    out.rates.last().unwrap_or(&0.0)
                );
            }
        }
        Ok::<_, Error>((l, s))
    });
    drop(runtime);
    local.stop();
    shared.stop();
    let (l, s) = result?;
    let mut t = String::from(
        "| accepted POST (ping, 202) | in-process limiter | Redis limiter | Redis / in-process |\n|---|---|---|---|\n",
    );
    t.push_str(&format!(
        "| req/s (median of {} rounds) | {:.0} | {:.0} | {} |\n",
        plan.rounds,
        l.rate(),
        s.rate(),
        ratio(s.rate(), l.rate())
    ));
    for (name, q) in [("p50", 0.5), ("p99", 0.99)] {
        t.push_str(&format!(
            "| {name} | {:.2} ms | {:.2} ms | {} |\n",
            l.pct(q),
            s.pct(q),
            ratio(s.pct(q), l.pct(q))
        ));
    }
    if l.rate() > 0.0 && s.rate() > 0.0 {
        t.push_str(&format!(
            "| CPU per accepted request (1 / req/s) | {:.1} µs | {:.1} µs | {} |\n",
            1e6 / l.rate(),
            1e6 / s.rate(),
            ratio(l.rate(), s.rate())
        ));
    }
    t.push_str(&format!(
        "| unexpected statuses | {} | {} | |\n",
        l.unexpected, s.unexpected
    ));
    Ok(t)
}

// ---------------------------------------------------------------- main

fn main() -> Result<()> {
    let mut plan = Plan::full();
    let mut server_path = std::env::current_exe()?
        .with_file_name("bench-server")
        .to_string_lossy()
        .into_owned();
    let mut server_cpus: Option<String> = None;
    let mut out_file: Option<String> = None;
    let mut only: Option<String> = None;
    let mut replicas_url: Option<String> = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--quick" => plan = Plan::quick(),
            "--server" => server_path = args.next().ok_or("--server PATH")?,
            "--server-cpus" => server_cpus = args.next(),
            "--out" => out_file = args.next(),
            "--only" => only = args.next(),
            "--replicas" => replicas_url = Some(args.next().ok_or("--replicas REDIS_URL")?),
            other => return Err(format!("unknown argument {other}").into()),
        }
    }
    if let Some(url) = replicas_url {
        let table = replicas(&server_path, server_cpus.as_deref(), &url, &plan)?;
        println!("{table}");
        if let Some(path) = out_file {
            std::fs::write(path, &table)?;
        }
        return Ok(());
    }
    let runs = |name: &str| {
        only.as_deref()
            .is_none_or(|o| o.split(',').any(|s| s == name))
    };
    let machine = machine();
    let started = Instant::now();
    let cpus = server_cpus.as_deref();
    let guarded = BenchServer::spawn(&server_path, "guarded", false, cpus)?;
    let unguarded = BenchServer::spawn(&server_path, "unguarded", true, cpus)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    // The bare server sends the guarded server's own stateless answers.
    let answers = runtime.block_on(async {
        let list = stateless_answer(guarded.addr, Stateless::List).await?;
        let call = stateless_answer(guarded.addr, Stateless::Call).await?;
        Ok::<_, Error>((list, call))
    });
    let (list, call) = match answers {
        Ok(answers) => answers,
        Err(e) => {
            guarded.stop();
            unguarded.stop();
            return Err(e);
        }
    };
    let dir = std::env::temp_dir().join(format!("loadgen-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let (list_file, call_file) = (dir.join("tools-list.json"), dir.join("tools-call.json"));
    std::fs::write(&list_file, &list)?;
    std::fs::write(&call_file, &call)?;
    let bare_path = std::path::Path::new(&server_path)
        .with_file_name("bare-server")
        .to_string_lossy()
        .into_owned();
    let bare = BenchServer::spawn_with(
        &bare_path,
        "bare",
        false,
        cpus,
        &[
            "--tools-list",
            &list_file.to_string_lossy(),
            "--tools-call",
            &call_file.to_string_lossy(),
        ],
    );
    let _ = std::fs::remove_dir_all(&dir);
    let bare = match bare {
        Ok(bare) => bare,
        Err(e) => {
            guarded.stop();
            unguarded.stop();
            return Err(e);
        }
    };
    eprintln!(
        "stateless answers: tools/list {} bytes, tools/call {} bytes",
        list.len(),
        call.len()
    );
    let result = runtime.block_on(async {
        let mut sides: [Side; 3] = Default::default();
        let servers: [&BenchServer; 3] = [&bare, &guarded, &unguarded];
        for round in 0..plan.rounds {
            // Rotate which server goes first, round by round.
            let order: Vec<usize> = (0..3).map(|i| (i + round) % 3).collect();
            if runs("rejected") {
                for &i in &order {
                    let expect = if i == 2 {
                        StatusCode::NOT_FOUND
                    } else {
                        StatusCode::UNAUTHORIZED
                    };
                    rejected(servers[i].addr, &plan, expect, &mut sides[i].rejected).await?;
                    eprintln!(
                        "round {round} rejected  {:<9} {:>8.0}/s",
                        servers[i].name,
                        sides[i].rejected.rates.last().unwrap_or(&0.0)
                    );
                }
            }
            if runs("accepted") {
                for &i in order.iter().rev() {
                    accepted(servers[i].addr, &plan, &mut sides[i].accepted).await?;
                    eprintln!(
                        "round {round} accepted  {:<9} {:>8.0}/s delivered {:>8.0}/s",
                        servers[i].name,
                        sides[i].accepted.rates.last().unwrap_or(&0.0),
                        sides[i].accepted.delivered.last().unwrap_or(&0.0)
                    );
                }
            }
            if runs("closed") {
                for &i in &order {
                    closed_loop(servers[i].addr, &plan, &mut sides[i].closed).await?;
                    eprintln!(
                        "round {round} closed    {:<9} {:>8.0}/s",
                        servers[i].name,
                        sides[i].closed.rates.last().unwrap_or(&0.0)
                    );
                }
            }
            for (name, kind, len) in [
                ("list", Stateless::List, list.len()),
                ("call", Stateless::Call, call.len()),
            ] {
                if !runs(name) {
                    continue;
                }
                for &i in order.iter().rev() {
                    let out = match kind {
                        Stateless::List => &mut sides[i].listed,
                        Stateless::Call => &mut sides[i].called,
                    };
                    stateless(servers[i].addr, &plan, kind, len, out).await?;
                    eprintln!(
                        "round {round} {name}      {:<9} {:>8.0}/s",
                        servers[i].name,
                        out.rates.last().unwrap_or(&0.0)
                    );
                }
            }
        }
        if runs("streams") {
            for i in [1, 2, 0] {
                sides[i].streams = idle_streams(servers[i], &plan).await?;
                eprintln!("streams   {:<9} {:?}", servers[i].name, sides[i].streams);
            }
        }
        if runs("sessions") {
            for i in [1, 2, 0] {
                sides[i].sse_sessions = held_levels(servers[i], &plan, Held::SseSession).await?;
                sides[i].mcp_streams = held_levels(servers[i], &plan, Held::McpGet).await?;
                eprintln!(
                    "sessions  {:<9} sse {:?} mcp {:?}",
                    servers[i].name, sides[i].sse_sessions, sides[i].mcp_streams
                );
            }
        }
        Ok::<_, Error>(sides)
    });
    drop(runtime);
    bare.stop();
    guarded.stop();
    unguarded.stop();
    let [b, g, u] = result?;
    let table = report(
        &plan,
        Sides {
            b: &b,
            g: &g,
            u: &u,
        },
        &machine,
        started.elapsed(),
    );
    println!("{table}");
    if let Some(path) = out_file {
        std::fs::write(path, &table)?;
    }
    Ok(())
}
