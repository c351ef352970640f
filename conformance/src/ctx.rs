//! The run context: the HTTP client, the pacer that keeps the harness inside the target's
//! rate limits, SSE streams and MCP sessions, the discovered limits, and the log source.
//! Every network step here has a timeout. Must never print or return a key in an error
//! message (errors describe what happened, not what was sent).

use crate::check::Outcome;
use crate::key::ApiKey;
use crate::probe::{HeaderSpec, Probe, Resp};
use crate::sse::{SseEvent, SseItem, SseParser};
use crate::target::{LogSource, Target};
use bytes::Bytes;
use futures::StreamExt;
use futures::stream::BoxStream;
use serde_json::{Value, json};
use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::{Duration, Instant};
use url::Url;

/// Which limiter a request draws from, so the pacer can wait before sending it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pace {
    /// A request with valid key `slot`: costs one cell of that key's bucket.
    Key(usize),
    /// A request the target will reject as unauthenticated: the failed-auth limiter.
    AuthFail,
    /// Free (e.g. `/health`).
    Free,
}

/// A local GCRA model of one server-side bucket, kept a little pessimistic.
#[derive(Debug)]
struct Bucket {
    interval: Duration,
    tau: Duration,
    tat: Instant,
}

impl Bucket {
    fn new(burst: u32, rps: f64) -> Self {
        let mut b = Self {
            interval: Duration::from_secs(1),
            tau: Duration::ZERO,
            tat: Instant::now(),
        };
        b.set(burst, rps);
        b
    }

    fn set(&mut self, burst: u32, rps: f64) {
        let rps = (rps * 0.85).max(0.05);
        let burst = burst.saturating_sub(1).max(1);
        self.interval = Duration::from_secs_f64(1.0 / rps);
        self.tau = self.interval * (burst - 1);
    }

    /// Reserves one cell; returns when it may be used.
    fn reserve(&mut self, now: Instant) -> Instant {
        let allowed = self.tat.checked_sub(self.tau).unwrap_or(now);
        let t = allowed.max(now);
        self.tat = self.tat.max(t) + self.interval;
        t
    }

    /// The server said "wait `d`": assume the bucket empty until then.
    fn empty_until(&mut self, until: Instant) {
        self.tat = until + self.tau;
    }

    /// When the model expects the bucket to be full again.
    fn full_at(&self) -> Instant {
        self.tat
    }
}

/// The rate limits measured from outside (RATE discovery).
#[derive(Clone, Debug)]
pub struct Limits {
    /// Requests accepted from a (presumed) full bucket before the first 429.
    pub burst: u32,
    /// Measured refill rate, cells per second.
    pub rps: f64,
    /// The first 429 and the probe that got it.
    pub first_429: Resp,
    pub probe_429: Probe,
    /// After waiting the first 429's `Retry-After`, the next request's status.
    pub after_retry_after: Option<u16>,
    /// Key 2's status right after key 1 got its 429 (RATE-4); `None` with one key.
    pub other_key_status: Option<(u16, Probe)>,
}

/// The run context shared by all checks.
pub struct Ctx {
    pub target: Target,
    client: reqwest::Client,
    buckets: Vec<Mutex<Bucket>>,
    auth_bucket: Mutex<Bucket>,
    limits: tokio::sync::OnceCell<Result<Limits, String>>,
    log_start: u64,
    /// The LOG checks' traffic and log text, gathered once per run.
    pub log_capture: tokio::sync::OnceCell<Result<crate::checks::log::Capture, String>>,
    /// Whether the target offers Streamable HTTP on `/mcp`, detected once per run.
    pub(crate) offer: tokio::sync::OnceCell<crate::streamable::Offer>,
}

impl Ctx {
    pub fn new(target: Target) -> Result<Self, String> {
        let s = &target.settings;
        let mut builder = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(s.timeout)
            .pool_max_idle_per_host(4)
            .user_agent(concat!("mcp-conformance/", env!("CARGO_PKG_VERSION")));
        if target
            .base
            .host_str()
            .is_some_and(|h| h == "localhost" || h.starts_with("127.") || h == "[::1]")
        {
            builder = builder.no_proxy();
        }
        let client = builder.build().map_err(|e| format!("HTTP client: {e}"))?;
        let buckets = (0..target.keys.len().max(1))
            .map(|_| Mutex::new(Bucket::new(s.assume_burst, s.assume_rps)))
            .collect();
        let auth_bucket = Mutex::new(Bucket::new(s.auth_fail_burst, s.auth_fail_rps));
        let log_start = match &target.log {
            LogSource::File(p) => std::fs::metadata(p).map(|m| m.len()).unwrap_or(0),
            _ => 0,
        };
        Ok(Self {
            target,
            client,
            buckets,
            auth_bucket,
            limits: tokio::sync::OnceCell::new(),
            log_start,
            log_capture: tokio::sync::OnceCell::new(),
            offer: tokio::sync::OnceCell::new(),
        })
    }

    pub fn timeout(&self) -> Duration {
        self.target.settings.timeout
    }

    /// Key `slot`, if configured.
    pub fn key(&self, slot: usize) -> Option<&ApiKey> {
        self.target.keys.get(slot)
    }

    /// The primary key's header in the configured style.
    pub fn auth(&self, slot: usize) -> Option<HeaderSpec> {
        self.key(slot)
            .map(|k| HeaderSpec::key(self.target.style, k))
    }

    pub fn url(&self, path: &str) -> Url {
        self.target.url(path)
    }

    fn bucket(&self, pace: Pace) -> Option<&Mutex<Bucket>> {
        match pace {
            Pace::Key(slot) => self.buckets.get(slot),
            Pace::AuthFail => Some(&self.auth_bucket),
            Pace::Free => None,
        }
    }

    /// Waits until the model says one request of this kind may go, and reserves it.
    pub async fn pace(&self, pace: Pace) {
        let Some(b) = self.bucket(pace) else { return };
        let at = match b.lock() {
            Ok(mut g) => g.reserve(Instant::now()),
            Err(_) => Instant::now(),
        };
        tokio::time::sleep_until(at.into()).await;
    }

    /// Marks a bucket empty (after a check drained it on purpose) for `for_at_least`.
    pub fn drained(&self, pace: Pace, for_at_least: Duration) {
        if let Some(b) = self.bucket(pace)
            && let Ok(mut g) = b.lock()
        {
            g.empty_until(Instant::now() + for_at_least);
        }
    }

    /// Waits until the model expects key `slot`'s bucket to be full.
    pub async fn wait_full(&self, slot: usize) {
        let at = match self.buckets.get(slot).map(|b| b.lock()) {
            Some(Ok(g)) => g.full_at(),
            _ => Instant::now(),
        };
        tokio::time::sleep_until((at + Duration::from_millis(100)).into()).await;
    }

    /// After RATE discovery: model every key's bucket with the measured limits.
    fn learn(&self, limits: &Limits) {
        for b in &self.buckets {
            if let Ok(mut g) = b.lock() {
                g.set(limits.burst, limits.rps);
            }
        }
    }

    /// Sends a probe, paced, retrying up to 3 times on a 429 (after its `Retry-After`).
    pub async fn send(&self, probe: &Probe, pace: Pace) -> Result<Resp, String> {
        self.send_opts(probe, pace, true).await
    }

    /// Sends a probe, paced; `retry_429: false` returns a 429 as is (for RATE checks).
    pub async fn send_opts(
        &self,
        probe: &Probe,
        pace: Pace,
        retry_429: bool,
    ) -> Result<Resp, String> {
        let mut attempt = 0;
        loop {
            self.pace(pace).await;
            let resp = self.send_once(probe).await?;
            if resp.status == 429 && retry_429 && attempt < 3 {
                attempt += 1;
                self.back_off(&resp, pace).await;
                continue;
            }
            return Ok(resp);
        }
    }

    async fn back_off(&self, resp: &Resp, pace: Pace) {
        let wait = retry_after(resp)
            .unwrap_or(Duration::from_secs(1))
            .min(Duration::from_secs(30))
            + Duration::from_millis(50);
        self.drained(pace, wait);
        tokio::time::sleep(wait).await;
    }

    /// One unpaced send.
    pub async fn send_once(&self, probe: &Probe) -> Result<Resp, String> {
        if probe.raw || !reqwest_can_send(probe) {
            return crate::raw::send(probe, self.timeout()).await;
        }
        let req = self.build(probe)?;
        let timeout = self.timeout();
        let fut = async {
            let resp = req.send().await.map_err(describe_reqwest)?;
            let mut out = head_of(&resp);
            let mut stream = resp.bytes_stream();
            while let Some(chunk) = stream.next().await {
                let chunk = chunk.map_err(describe_reqwest)?;
                out.body.extend_from_slice(&chunk);
                if out.body.len() > 1 << 20 {
                    break;
                }
            }
            Ok::<Resp, String>(out)
        };
        tokio::time::timeout(timeout, fut)
            .await
            .map_err(|_| format!("no complete response within {}s", timeout.as_secs_f32()))?
    }

    pub(crate) fn build(&self, probe: &Probe) -> Result<reqwest::RequestBuilder, String> {
        let method =
            reqwest::Method::from_bytes(probe.method.as_bytes()).map_err(|e| e.to_string())?;
        let mut headers = reqwest::header::HeaderMap::new();
        for h in &probe.headers {
            let name = reqwest::header::HeaderName::from_bytes(h.name.as_bytes())
                .map_err(|e| e.to_string())?;
            let value = reqwest::header::HeaderValue::from_bytes(&h.value)
                .map_err(|_| "header value not sendable".to_string())?;
            headers.append(name, value);
        }
        let mut rb = self
            .client
            .request(method, probe.url.clone())
            .headers(headers);
        let body = probe.body.bytes();
        if !body.is_empty() {
            rb = rb.body(body);
        }
        Ok(rb)
    }

    /// Opens a stream (GET), paced, retrying on 429. `Ok(Err(resp))` when it answered
    /// anything but 200.
    pub async fn open_stream(
        &self,
        probe: &Probe,
        pace: Pace,
        retry_429: bool,
    ) -> Result<Result<SseConn, Resp>, String> {
        let mut attempt = 0;
        loop {
            self.pace(pace).await;
            let req = self.build(probe)?;
            let resp = tokio::time::timeout(self.timeout(), req.send())
                .await
                .map_err(|_| format!("no response head within {}s", self.timeout().as_secs_f32()))?
                .map_err(describe_reqwest)?;
            let head = head_of(&resp);
            if head.status == 200 {
                return Ok(Ok(SseConn {
                    head,
                    stream: resp.bytes_stream().boxed(),
                    parser: SseParser::new(),
                    pending: VecDeque::new(),
                    raw: Vec::new(),
                    opened: Instant::now(),
                }));
            }
            let mut head = head;
            if let Ok(Ok(body)) = tokio::time::timeout(self.timeout(), resp.bytes()).await {
                head.body = body.to_vec();
            }
            if head.status == 429 && retry_429 && attempt < 3 {
                attempt += 1;
                self.back_off(&head, pace).await;
                continue;
            }
            return Ok(Err(head));
        }
    }

    /// The SSE probe for key `slot` in the configured header style.
    pub fn sse_probe(&self, slot: usize) -> Probe {
        let mut p = Probe::new("GET", self.url("/mcp/sse")).stream();
        if let Some(h) = self.auth(slot) {
            p = p.header(h);
        }
        p
    }

    /// Opens an MCP session for key `slot`: GET /mcp/sse, read the endpoint event, resolve
    /// its URL against the base. Errors describe what went wrong (for a skip or a fail).
    pub async fn open_session(&self, slot: usize) -> Result<Session, String> {
        let probe = self.sse_probe(slot);
        let mut conn = match self.open_stream(&probe, Pace::Key(slot), true).await? {
            Ok(c) => c,
            Err(resp) => return Err(format!("GET /mcp/sse answered {}", resp.summary())),
        };
        let ev = conn
            .next_event(self.timeout())
            .await?
            .ok_or("the stream ended before any event")?;
        if ev.event != "endpoint" {
            return Err(format!("first event was `{}`, not `endpoint`", ev.event));
        }
        let post_url = self
            .target
            .base
            .join(ev.data.trim())
            .map_err(|e| format!("endpoint data is not a URL: {e}"))?;
        Ok(Session {
            conn,
            post_url,
            endpoint: ev.data,
            slot,
            next_id: 1,
            seen: Vec::new(),
        })
    }

    /// A session with the MCP handshake done (`initialize` 2024-11-05 + `initialized`).
    pub async fn open_mcp(&self, slot: usize) -> Result<Session, String> {
        let mut s = self.open_session(slot).await?;
        let init = s
            .request(self, "initialize", initialize_params("2024-11-05"))
            .await?;
        if init.get("result").is_none() {
            return Err(format!("initialize got no result: {init}"));
        }
        let resp = s
            .post(
                self,
                &json!({"jsonrpc":"2.0","method":"notifications/initialized"}).to_string(),
            )
            .await?;
        if resp.status != 202 {
            return Err(format!(
                "notifications/initialized answered {}",
                resp.summary()
            ));
        }
        Ok(s)
    }

    /// The discovered limits, measured on first use (see `checks::rate::discover`).
    pub async fn limits(&self) -> Result<&Limits, String> {
        self.limits
            .get_or_init(|| async {
                let r = crate::checks::rate::discover(self).await;
                if let Ok(l) = &r {
                    self.learn(l);
                    // discovery left key 1's bucket empty
                    self.drained(Pace::Key(0), Duration::from_secs_f64(1.0 / l.rps));
                }
                r
            })
            .await
            .as_ref()
            .map_err(|e| e.clone())
    }

    /// The log text written since the run started; `Ok(None)` when there is no log source.
    pub async fn read_log(&self) -> Result<Option<String>, String> {
        match &self.target.log {
            LogSource::None => Ok(None),
            LogSource::Memory(buf) => {
                Ok(Some(String::from_utf8_lossy(&buf.contents()).into_owned()))
            }
            LogSource::File(path) => {
                let bytes = tokio::fs::read(path)
                    .await
                    .map_err(|e| format!("reading {}: {e}", path.display()))?;
                let start = if (bytes.len() as u64) >= self.log_start {
                    self.log_start as usize
                } else {
                    0
                };
                Ok(Some(String::from_utf8_lossy(&bytes[start..]).into_owned()))
            }
            LogSource::Command(cmd) => {
                let out = tokio::time::timeout(
                    self.timeout() * 3,
                    tokio::process::Command::new("sh")
                        .arg("-c")
                        .arg(cmd)
                        .kill_on_drop(true)
                        .output(),
                )
                .await
                .map_err(|_| "the log command did not finish in time".to_string())?
                .map_err(|e| format!("running the log command: {e}"))?;
                let mut text = String::from_utf8_lossy(&out.stdout).into_owned();
                text.push_str(&String::from_utf8_lossy(&out.stderr));
                Ok(Some(text))
            }
        }
    }

    /// Whether log lines may carry a prefix before the JSON (docker compose logs).
    pub fn log_lines_prefixed(&self) -> bool {
        matches!(self.target.log, LogSource::Command(_))
    }
}

/// An `initialize` request's params.
pub fn initialize_params(version: &str) -> Value {
    json!({
        "protocolVersion": version,
        "capabilities": {},
        "clientInfo": {"name": "mcp-conformance", "version": env!("CARGO_PKG_VERSION")}
    })
}

/// `Retry-After` in whole seconds, if present and valid.
pub fn retry_after(resp: &Resp) -> Option<Duration> {
    resp.header("retry-after")?
        .trim()
        .parse::<u64>()
        .ok()
        .map(Duration::from_secs)
}

fn reqwest_can_send(probe: &Probe) -> bool {
    probe.headers.iter().all(|h| {
        reqwest::header::HeaderValue::from_bytes(&h.value).is_ok()
            && reqwest::header::HeaderName::from_bytes(h.name.as_bytes()).is_ok()
    })
}

fn head_of(resp: &reqwest::Response) -> Resp {
    Resp {
        status: resp.status().as_u16(),
        headers: resp
            .headers()
            .iter()
            .map(|(n, v)| (n.as_str().to_string(), v.as_bytes().to_vec()))
            .collect(),
        body: Vec::new(),
    }
}

fn describe_reqwest(e: reqwest::Error) -> String {
    // reqwest's Display includes the URL (never a header), which is fine to show.
    let mut s = e.to_string();
    let mut src = std::error::Error::source(&e);
    while let Some(inner) = src {
        s.push_str(": ");
        s.push_str(&inner.to_string());
        src = inner.source();
    }
    s
}

/// An open SSE stream read through the harness's own parser.
pub struct SseConn {
    pub head: Resp,
    stream: BoxStream<'static, reqwest::Result<Bytes>>,
    parser: SseParser,
    pending: VecDeque<SseItem>,
    /// The first bytes received (up to 4 KiB), for checks on the exact wire text.
    pub raw: Vec<u8>,
    pub opened: Instant,
}

impl SseConn {
    /// The next comment or event; `Ok(None)` at end of stream; `Err` on timeout or error.
    pub async fn next_item(&mut self, wait: Duration) -> Result<Option<SseItem>, String> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            if let Some(item) = self.pending.pop_front() {
                return Ok(Some(item));
            }
            match tokio::time::timeout_at(deadline, self.stream.next()).await {
                Err(_) => {
                    return Err(format!(
                        "nothing on the stream within {:.1}s",
                        wait.as_secs_f32()
                    ));
                }
                Ok(None) => return Ok(None),
                Ok(Some(Err(e))) => return Err(format!("stream error: {}", describe_reqwest(e))),
                Ok(Some(Ok(chunk))) => {
                    if self.raw.len() < 4096 {
                        self.raw
                            .extend_from_slice(&chunk[..chunk.len().min(4096 - self.raw.len())]);
                    }
                    self.pending.extend(self.parser.feed(&chunk));
                }
            }
        }
    }

    /// The next event, skipping comments.
    pub async fn next_event(&mut self, wait: Duration) -> Result<Option<SseEvent>, String> {
        let deadline = Instant::now() + wait;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.next_item(left).await? {
                Some(SseItem::Event(e)) => return Ok(Some(e)),
                Some(SseItem::Comment(_)) => continue,
                None => return Ok(None),
            }
        }
    }
}

/// An MCP session over one SSE stream.
pub struct Session {
    pub conn: SseConn,
    /// The endpoint event's URL resolved against the base.
    pub post_url: Url,
    /// The endpoint event's data as sent.
    pub endpoint: String,
    pub slot: usize,
    next_id: u64,
    /// Every event seen while waiting for responses.
    pub seen: Vec<SseEvent>,
}

impl Session {
    /// The POST probe for a JSON body into this session, with this session's key.
    pub fn post_probe(&self, ctx: &Ctx, body: &str) -> Probe {
        let mut p = Probe::new("POST", self.post_url.clone()).in_session();
        if let Some(h) = ctx.auth(self.slot) {
            p = p.header(h);
        }
        p.json(body)
    }

    /// Posts a JSON body into the session (paced, retrying on 429).
    pub async fn post(&mut self, ctx: &Ctx, body: &str) -> Result<Resp, String> {
        ctx.send(&self.post_probe(ctx, body), Pace::Key(self.slot))
            .await
    }

    /// Sends a JSON-RPC request, expects `202`, and waits for the response with its id on
    /// the stream. Returns the whole response message.
    pub async fn request(
        &mut self,
        ctx: &Ctx,
        method: &str,
        params: Value,
    ) -> Result<Value, String> {
        let id = self.next_id;
        self.next_id += 1;
        let body = json!({"jsonrpc":"2.0","id":id,"method":method,"params":params}).to_string();
        let resp = self.post(ctx, &body).await?;
        if resp.status != 202 {
            return Err(format!(
                "posting `{method}` answered {} (expected 202)",
                resp.summary()
            ));
        }
        self.wait_response(ctx, id).await
    }

    /// Waits for the response with `id` on the stream.
    pub async fn wait_response(&mut self, ctx: &Ctx, id: u64) -> Result<Value, String> {
        let deadline = Instant::now() + ctx.timeout();
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let ev = self
                .conn
                .next_event(left)
                .await
                .map_err(|e| format!("waiting for the response to request {id}: {e}"))?
                .ok_or_else(|| format!("the stream ended before the response to request {id}"))?;
            self.seen.push(ev.clone());
            if ev.event != "message" {
                continue;
            }
            let Ok(msg) = serde_json::from_str::<Value>(&ev.data) else {
                continue;
            };
            if msg.get("id") == Some(&json!(id)) {
                return Ok(msg);
            }
        }
    }

    /// The session id from the endpoint URL.
    pub fn session_id(&self) -> Option<String> {
        self.post_url
            .query_pairs()
            .find(|(k, _)| k == "session_id")
            .map(|(_, v)| v.into_owned())
    }
}

/// Turns a setup error into a skip: the check could not observe its clause.
pub fn setup(what: &str) -> impl FnOnce(String) -> Outcome + '_ {
    move |e| Outcome::skip(format!("{what}: {e}"))
}
