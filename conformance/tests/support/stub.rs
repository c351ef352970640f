//! A small hyper server that implements the contract (just enough of it) and can break
//! exactly one clause on purpose (`Fault`). The broken-target table runs the harness
//! against it to show each check can fail. Test code: keys are test constants.

#![allow(dead_code)]

use bytes::Bytes;
use futures::StreamExt;
use http_body_util::{BodyExt, Full, StreamBody, combinators::BoxBody};
use hyper::body::{Frame, Incoming};
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};
use sha2::Digest;
use std::collections::HashMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

pub const KEY1: &str = "stubKey1-AbCdEfGhIjKlMnOpQrStUv";
pub const KEY2: &str = "stubKey2-ZyXwVuTsRqPoNmLkJiHgFe";
pub const ALLOWED_ORIGIN: &str = "https://claude.ai";
pub const BURST: f64 = 10.0;
pub const RPS: f64 = 10.0;
/// The refill the HTTP group runs against alone (`start_with`): its checks are many small
/// paced requests, and the limit's semantics don't depend on the rate.
pub const FAST_RPS: f64 = 40.0;
pub const MAX_STREAMS: usize = 4;
/// Keep-alive interval of the stub's SSE streams.
pub const KEEPALIVE: Duration = Duration::from_millis(500);
/// The Cloudflare Access service token the `CloudflareAccess*` faults let through.
pub const CF_CLIENT_ID: &str = "0123456789abcdef.access";
pub const CF_CLIENT_SECRET: &str = "stub-cf-secret-0123456789abcdef";

const AUTH_BODY: &str = r#"{"error":{"type":"auth","message":"Missing or invalid API key"}}"#;
const RATE_BODY: &str = r#"{"error":{"type":"rate_limit","message":"Too many requests"}}"#;
const NOT_FOUND_BODY: &str = r#"{"error":{"type":"not_found","message":"Unknown session"}}"#;
const FORBIDDEN_BODY: &str = r#"{"error":{"type":"forbidden","message":"Origin not allowed"}}"#;

/// The one clause the stub breaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    None,
    HealthExtra,
    PostSse200,
    OauthServed,
    XApiKeyIgnored,
    BearerIgnored,
    MissingKeyOtherBody,
    EmptyKey400,
    WrongKey403,
    CaseInsensitiveKey,
    DuplicateFirstWins,
    XApiKeyWinsOverBearer,
    NonAsciiStripped,
    NoWwwAuthenticate,
    EchoKeyHeader,
    OriginIgnored,
    AllOriginsRejected,
    NoAccelBuffering,
    AbsoluteEndpoint,
    MultiLineData,
    NoKeepalive,
    SessionNeverRemoved,
    Post200WithBody,
    NoSession404,
    Malformed404,
    UnknownOtherMessage,
    SessionNotBoundToKey,
    BadJson500,
    NoSizeLimit,
    ContentTypeIgnored,
    UnknownMethod500,
    WrongProtocolVersion,
    NewerVersionError,
    PingError,
    MissingTool,
    /// search_complaints' structuredContent breaks its outputSchema (MSG-4.structured).
    StructuredMismatch,
    ToolCallError,
    ToolErrorAsRpcError,
    SseFree,
    RateOtherBody,
    NoRetryAfter,
    SharedBucket,
    RacyLimiter,
    NoStreamCap,
    LogNoDuration,
    LogWrongKeyId,
    LogNoToolCall,
    LogFullSession,
    /// Not a fault: `session` omitted (rather than null) on lines without a session.
    LogOmitsNullSession,
    /// `session` is the 8-char prefix of some other session, not of the request's.
    LogOtherSessionPrefix,
    LogNoStreamEnd,
    LogAuthBase64,
    /// Tool arguments and names are logged as posted: a key in them reaches the log.
    LogArgsUnscrubbed,
    /// The posted body is not scrubbed: a key posted as a tool name comes back in the
    /// tool error ("Unknown tool: <key>").
    ToolErrorEchoesKey,
    /// A 401 quotes the credential presented (`Invalid token: <value>`): a near miss that
    /// holds the key (the key plus one character) reflects it from a request header.
    UnauthorizedQuotesKey,
    /// `get_complaint_document` is listed without a description (both transports).
    ToolNoDescription,
    /// Answers on the legacy SSE stream go out as `event: response`, not `message`: the
    /// session opens, but no answer ever arrives as a client expects it.
    WrongEventName,
    /// `GET /mcp` without a credential is not guarded (auth wraps the POSTs only): `400`
    /// "Missing Mcp-Session-Id".
    HttpGetUnguarded,
    /// `DELETE /mcp` without a credential is not guarded: `404` for an unknown session.
    HttpDeleteUnguarded,
    /// `GET /mcp/sse` answers 200 but never sends the `endpoint` event (a broken
    /// handshake: the session prerequisite fails).
    NoEndpointEvent,
    /// Cloudflare Access in front: without the service token headers every request gets
    /// a 302 to the Access login page.
    CloudflareAccess302,
    /// Cloudflare Access in front: without the service token, a 403 HTML page.
    CloudflareAccess403,
    /// The bucket holds twice the configured burst.
    DoubleBurst,
    /// The bucket refills at half the configured rate.
    HalfRate,
    /// Keep-alive comments three times as far apart as configured (still within SSE-4's wait).
    SlowKeepalive,
    /// One more stream per key than configured.
    ExtraStream,
    /// No `/mcp` at all (404): for the transport detection.
    NoStreamable,
    HttpPingAs202,
    HttpNotification200,
    HttpToolCallError,
    HttpSessionIdUuid,
    HttpVersionFixed,
    HttpMissingSession404,
    HttpUnknownOtherBody,
    HttpSessionNotBoundToKey,
    HttpStreamNoAccelBuffering,
    HttpDeleteKeepsSession,
    HttpVersionHeaderIgnored,
    HttpAuthPlainText,
    HttpOriginIgnored,
    HttpOwnBucket,
    HttpLogNoTool,
    HttpNoAllow,
    /// `/mcp` without the stateless revision (2026-07-28 is an unsupported version).
    NoStateless,
    /// Any sessionless request with an `MCP-Protocol-Version` header is served statelessly.
    Http2026EraAnyVersion,
    Http2026NoServerInfo,
    Http2026MetaNotValidated,
    Http2026ToolCallError,
    Http2026NameNotChecked,
    Http2026UnsupportedNoList,
    /// `ping` with the 2026-07-28 headers is answered (the revision has no ping).
    Http2026PingServed,
    Http2026EchoSessionId,
    Http2026GetAllowsAll,
    Http2026NoCacheHints,
    /// `rpc_method` and `tool` logged from the mirrored headers, not the body.
    Http2026LogFromHeaders,
    Http2026AuthPlainText,
    Http2026OriginIgnored,
    Http2026OwnBucket,
    /// `/mcp` session ids are base64url of JSON state (`{"key":0,"n":counter,...}`).
    HttpSessionIdEncodesState,
    /// `/mcp` `tools/list` answers a JSON-RPC error (the round trip of MCP-INIT-1 breaks).
    HttpToolsListError,
    /// No legacy HTTP+SSE on `/mcp/sse` (404), like a Streamable-HTTP-only SDK server.
    NoLegacySse,
    /// `/mcp` as the strict 2026-07-28 server of before COMPAT (`--strict-protocol`): a
    /// `_meta` version decides the era, the header must match it, a repeated header is
    /// refused, `initialize` with a 2026-07-28 header is -32601, nothing logged as a quirk.
    StrictProtocol,
    /// COMPAT-1 off: a stale or missing header with a 2026-07-28 `_meta` is -32020.
    CompatBodyIgnored,
    /// COMPAT-2 off: a repeated version header is a 400.
    CompatRepeatRefused,
    /// COMPAT-3 off: `initialize` with a 2026-07-28 header is 404 -32601.
    CompatInitializeRefused,
    /// COMPAT-4 broken: an unknown session id is a 400 bad_request.
    CompatStale400,
    /// COMPAT-5 broken: on the COMPAT-1 path `Mcp-Method` / `Mcp-Name` are not checked.
    CompatMirrorsIgnored,
    /// COMPAT-6 broken: tolerated requests are not logged as quirks.
    CompatNoQuirkLogged,
    /// A WAF / bot rule in front: `User-Agent: Claude-User` gets a 403 Cloudflare
    /// challenge (`cf-mitigated: challenge`).
    WafChallengesClaude,
}

struct Bucket {
    tokens: f64,
    at: Instant,
}

struct Session {
    key: usize,
    tx: mpsc::Sender<Bytes>,
}

struct State {
    fault: Fault,
    log: Arc<Mutex<Vec<u8>>>,
    buckets: Mutex<HashMap<usize, Bucket>>,
    sessions: Mutex<HashMap<String, Session>>,
    streams: Mutex<HashMap<usize, usize>>,
    /// Streamable HTTP sessions: id -> the key that created it.
    http_sessions: Mutex<HashMap<String, usize>>,
    keepalive: Duration,
    /// Per-key refill, cells per second.
    rps: f64,
}

type Body = BoxBody<Bytes, Infallible>;

fn full(s: impl Into<Bytes>) -> Body {
    Full::new(s.into()).boxed()
}

fn json_resp(status: u16, body: &str) -> Response<Body> {
    Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .body(full(body.to_string()))
        .unwrap_or_default()
}

/// A running stub.
pub struct Stub {
    pub addr: SocketAddr,
    pub log: Arc<Mutex<Vec<u8>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Stub {
    fn drop(&mut self) {
        self.task.abort();
    }
}

pub async fn start(fault: Fault) -> Stub {
    start_with(fault, RPS).await
}

/// A stub whose per-key limiter refills at `rps`.
pub async fn start_with(fault: Fault, rps: f64) -> Stub {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let log = Arc::new(Mutex::new(Vec::new()));
    let state = Arc::new(State {
        fault,
        log: log.clone(),
        buckets: Mutex::new(HashMap::new()),
        sessions: Mutex::new(HashMap::new()),
        streams: Mutex::new(HashMap::new()),
        http_sessions: Mutex::new(HashMap::new()),
        // Three times the interval: 1 s off the expected 0.5 s, twice the check's
        // 0.5 s tolerance, so scheduling jitter on a loaded machine cannot bring
        // the measured gap back inside it (at twice, the gap sat on the boundary).
        keepalive: if fault == Fault::SlowKeepalive {
            KEEPALIVE * 3
        } else {
            KEEPALIVE
        },
        rps,
    });
    let task = tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            let state = state.clone();
            tokio::spawn(async move {
                let svc = hyper::service::service_fn(move |req| {
                    let state = state.clone();
                    async move { Ok::<_, Infallible>(handle(state, req).await) }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), svc)
                    .await;
            });
        }
    });
    Stub { addr, log, task }
}

fn sha8(key: &[u8]) -> String {
    hex::encode(sha2::Sha256::digest(key))[..8].to_string()
}

fn now_ts() -> String {
    // RFC 3339 UTC, second precision, from the Unix time.
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let (days, rem) = (secs / 86400, secs % 86400);
    let (y, m, d) = civil(days as i64);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60
    )
}

fn civil(z: i64) -> (i64, u32, u32) {
    let z = z + 719468;
    let era = z.div_euclid(146097);
    let doe = z - era * 146097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

impl State {
    fn log_line(&self, mut v: Value) {
        let obj = v.as_object_mut().unwrap();
        obj.insert("ts".into(), json!(now_ts()));
        let mut line = v.to_string();
        line.push('\n');
        self.log.lock().unwrap().extend_from_slice(line.as_bytes());
    }

    fn take_cell(&self, key: usize) -> bool {
        let slot = if self.fault == Fault::SharedBucket {
            0
        } else {
            key
        };
        let mut b = self.buckets.lock().unwrap();
        let now = Instant::now();
        let (burst, rps) = self.limits();
        let bucket = b.entry(slot).or_insert(Bucket {
            tokens: burst,
            at: now,
        });
        bucket.tokens = (bucket.tokens + rps * (now - bucket.at).as_secs_f64()).min(burst);
        bucket.at = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            true
        } else {
            false
        }
    }

    /// The bucket's size and refill, as configured or as a fault breaks them.
    fn limits(&self) -> (f64, f64) {
        match self.fault {
            Fault::DoubleBurst => (BURST * 2.0, self.rps),
            Fault::HalfRate => (BURST, self.rps / 2.0),
            _ => (BURST, self.rps),
        }
    }

    fn peek(&self, key: usize) -> f64 {
        let mut b = self.buckets.lock().unwrap();
        let now = Instant::now();
        let bucket = b.entry(key).or_insert(Bucket {
            tokens: BURST,
            at: now,
        });
        bucket.tokens = (bucket.tokens + self.rps * (now - bucket.at).as_secs_f64()).min(BURST);
        bucket.at = now;
        bucket.tokens
    }

    fn force_take(&self, key: usize) {
        if let Some(b) = self.buckets.lock().unwrap().get_mut(&key) {
            b.tokens -= 1.0;
        }
    }

    fn retry_after(&self, key: usize) -> u64 {
        let slot = if self.fault == Fault::SharedBucket {
            0
        } else {
            key
        };
        let b = self.buckets.lock().unwrap();
        let tokens = b.get(&slot).map(|b| b.tokens).unwrap_or(0.0);
        (((1.0 - tokens) / self.rps).ceil() as u64).max(1)
    }
}

fn rate_limited(state: &State, key: usize) -> Response<Body> {
    let body = if state.fault == Fault::RateOtherBody {
        r#"{"error":"too many requests"}"#
    } else {
        RATE_BODY
    };
    let mut r = json_resp(429, body);
    if state.fault != Fault::NoRetryAfter {
        r.headers_mut().insert(
            "retry-after",
            state.retry_after(key).to_string().parse().unwrap(),
        );
    }
    r
}

fn unauthorized(state: &State) -> Response<Body> {
    let mut r = json_resp(401, AUTH_BODY);
    if state.fault != Fault::NoWwwAuthenticate {
        r.headers_mut().insert(
            "www-authenticate",
            "Bearer realm=\"cfpb-mcp\"".parse().unwrap(),
        );
    }
    r
}

/// Key verification per the contract, with the faults that break it. Ok(Some(i)) valid key
/// i; Ok(None) no key at all; Err(resp) rejection.
#[allow(clippy::result_large_err)] // test stub: the rejection is the response
fn guard(state: &State, req: &Request<Incoming>) -> Result<usize, (Response<Body>, String)> {
    let f = state.fault;
    let keys = [KEY1.as_bytes(), KEY2.as_bytes()];
    let xs: Vec<&[u8]> = req
        .headers()
        .get_all("x-api-key")
        .iter()
        .map(|v| v.as_bytes())
        .collect();
    let auths: Vec<&[u8]> = req
        .headers()
        .get_all("authorization")
        .iter()
        .map(|v| v.as_bytes())
        .collect();
    let bearer: Vec<Vec<u8>> = auths
        .iter()
        .map(|a| {
            a.strip_prefix(b"Bearer ")
                .map(|t| t.to_vec())
                .unwrap_or_else(|| {
                    if *a == b"Bearer" {
                        Vec::new()
                    } else {
                        a.to_vec()
                    }
                })
        })
        .collect();
    let id = |k: &[u8]| sha8(k);
    let mut presented: Vec<Vec<u8>> = Vec::new();
    if f != Fault::XApiKeyIgnored {
        presented.extend(xs.iter().map(|x| x.to_vec()));
    }
    if f != Fault::BearerIgnored {
        presented.extend(bearer.iter().cloned());
    }
    if f == Fault::DuplicateFirstWins || f == Fault::XApiKeyWinsOverBearer {
        presented.truncate(1);
    }
    let key_id = presented
        .first()
        .map(|p| id(p))
        .unwrap_or_else(|| "none".into());
    if presented.is_empty() {
        let r = if f == Fault::MissingKeyOtherBody {
            json_resp(401, r#"{"error":"unauthorized"}"#)
        } else {
            unauthorized(state)
        };
        return Err((r, key_id));
    }
    let first = presented[0].clone();
    if presented.iter().any(|p| *p != first) || (xs.len() > 1 && f != Fault::DuplicateFirstWins) {
        return Err((unauthorized(state), key_id));
    }
    if first.is_empty() && f == Fault::EmptyKey400 {
        return Err((
            json_resp(
                400,
                r#"{"error":{"type":"bad_request","message":"empty key"}}"#,
            ),
            key_id,
        ));
    }
    let mut candidate = first.clone();
    if f == Fault::NonAsciiStripped {
        candidate.retain(|b| b.is_ascii());
    }
    let found = keys.iter().position(|k| {
        if f == Fault::CaseInsensitiveKey {
            k.eq_ignore_ascii_case(&candidate)
        } else {
            *k == candidate.as_slice()
        }
    });
    match found {
        Some(i) if candidate.iter().all(|b| (0x21..0x7f).contains(b)) => Ok(i),
        _ => {
            if f == Fault::WrongKey403 && !first.is_empty() {
                return Err((
                    json_resp(403, r#"{"error":{"type":"forbidden","message":"nope"}}"#),
                    key_id,
                ));
            }
            Err((unauthorized(state), key_id))
        }
    }
}

/// Cloudflare Access's answer to a request without its service token, for the
/// `CloudflareAccess*` faults (the request never reaches the server: nothing is logged).
fn cloudflare_access(state: &State, req: &Request<Incoming>) -> Option<Response<Body>> {
    let has = |name: &str, want: &str| {
        req.headers()
            .get(name)
            .is_some_and(|v| v.as_bytes() == want.as_bytes())
    };
    if has("cf-access-client-id", CF_CLIENT_ID) && has("cf-access-client-secret", CF_CLIENT_SECRET)
    {
        return None;
    }
    match state.fault {
        Fault::CloudflareAccess302 => Response::builder()
            .status(302)
            .header(
                "location",
                "https://stub-team.cloudflareaccess.com/cdn-cgi/access/login/127.0.0.1?kid=0123&redirect_url=%2Fmcp%2Fsse",
            )
            .header("cf-ray", "0123456789abcdef-AMS")
            .body(full(""))
            .ok(),
        Fault::CloudflareAccess403 => Response::builder()
            .status(403)
            .header("content-type", "text/html; charset=UTF-8")
            .header("cf-ray", "0123456789abcdef-AMS")
            .body(full(
                "<!DOCTYPE html><html><head><title>Forbidden | Cloudflare Access</title></head><body>You don't have permission to view this application.</body></html>",
            ))
            .ok(),
        _ => None,
    }
}

/// A WAF's challenge of Claude's user agent, for `WafChallengesClaude` (the request never
/// reaches the server: nothing is logged).
fn waf_challenge(state: &State, req: &Request<Incoming>) -> Option<Response<Body>> {
    let claude = req
        .headers()
        .get("user-agent")
        .is_some_and(|v| v.as_bytes() == b"Claude-User");
    (state.fault == Fault::WafChallengesClaude && claude).then(|| {
        Response::builder()
            .status(403)
            .header("content-type", "text/html; charset=UTF-8")
            .header("cf-mitigated", "challenge")
            .header("server", "cloudflare")
            .body(full(
                "<!DOCTYPE html><html><head><title>Just a moment...</title></head><body><script>window._cf_chl_opt={}</script></body></html>",
            ))
            .unwrap_or_default()
    })
}

async fn handle(state: Arc<State>, req: Request<Incoming>) -> Response<Body> {
    if let Some(r) = cloudflare_access(&state, &req) {
        return r;
    }
    if let Some(r) = waf_challenge(&state, &req) {
        return r;
    }
    let started = Instant::now();
    let method = req.method().to_string();
    let path = req.uri().path().to_string();
    let query = req.uri().query().unwrap_or("").to_string();
    let auth_header = req
        .headers()
        .get("authorization")
        .map(|v| v.as_bytes().to_vec())
        .or_else(|| {
            req.headers()
                .get("x-api-key")
                .map(|v| v.as_bytes().to_vec())
        });
    let echo = req.headers().get("x-api-key").cloned();
    let guarded = path == "/mcp" || path.starts_with("/mcp/");
    let (mut resp, key_id, session, tool) = route(&state, req, &method, &path, &query).await;
    let rpc_method = resp.extensions().get::<RpcMethod>().cloned();
    let quirks = resp.extensions().get::<Quirks>().cloned();
    if state.fault == Fault::EchoKeyHeader
        && let Some(e) = echo
    {
        resp.headers_mut().insert("x-debug-key", e);
    }
    if guarded {
        let mut line = json!({
            "event": "mcp_request",
            "method": method,
            "path": path,
            "status": resp.status().as_u16(),
            "duration_ms": started.elapsed().as_millis() as u64,
            "key": key_id,
            "session": session.as_ref().map(|s| if state.fault == Fault::LogFullSession { s.clone() } else { s[..8.min(s.len())].to_string() }),
        });
        if let Some(RpcMethod(m)) = rpc_method {
            line["rpc_method"] = json!(m);
        }
        if let Some(Quirks(q)) = quirks
            && state.fault != Fault::CompatNoQuirkLogged
        {
            line["client_quirk"] = json!(q);
        }
        if state.fault == Fault::LogOmitsNullSession && session.is_none() {
            line.as_object_mut().unwrap().remove("session");
        }
        if state.fault == Fault::LogOtherSessionPrefix && session.is_some() {
            line["session"] = json!(hex::encode(rand::random::<[u8; 4]>()));
        }
        if state.fault == Fault::LogNoDuration {
            line.as_object_mut().unwrap().remove("duration_ms");
        }
        if state.fault == Fault::LogWrongKeyId && line["key"] != json!("none") {
            line["key"] = json!("deadbeef");
        }
        if let Some((t, a)) = tool
            && state.fault != Fault::LogNoToolCall
            && !(state.fault == Fault::HttpLogNoTool && path == "/mcp")
        {
            line["tool"] = json!(t);
            line["arguments"] = a;
        }
        if state.fault == Fault::LogAuthBase64
            && let Some(h) = auth_header
        {
            use base64::Engine;
            line["auth"] = json!(base64::engine::general_purpose::STANDARD.encode(h));
        }
        state.log_line(line);
    }
    resp
}

type Routed = (
    Response<Body>,
    String,
    Option<String>,
    Option<(String, Value)>,
);

async fn route(
    state: &Arc<State>,
    req: Request<Incoming>,
    method: &str,
    path: &str,
    query: &str,
) -> Routed {
    let f = state.fault;
    match (method, path) {
        ("GET", "/health") => {
            let body = if f == Fault::HealthExtra {
                r#"{"status":"ok","keys":2}"#
            } else {
                r#"{"status":"ok"}"#
            };
            return (json_resp(200, body), "none".into(), None, None);
        }
        (_, p) if p.starts_with("/.well-known/oauth") => {
            let r = if f == Fault::OauthServed {
                json_resp(200, r#"{"issuer":"x"}"#)
            } else {
                json_resp(
                    404,
                    r#"{"error":{"type":"not_found","message":"Not found"}}"#,
                )
            };
            return (r, "none".into(), None, None);
        }
        (_, p)
            if (p == "/mcp" && f == Fault::NoStreamable)
                || (p == "/mcp/sse" && f == Fault::NoLegacySse) =>
        {
            return (
                json_resp(
                    404,
                    r#"{"error":{"type":"not_found","message":"Not found"}}"#,
                ),
                "none".into(),
                None,
                None,
            );
        }
        (_, "/mcp/sse") | (_, "/mcp/messages") | (_, "/mcp") => {}
        _ => {
            return (
                json_resp(
                    404,
                    r#"{"error":{"type":"not_found","message":"Not found"}}"#,
                ),
                "none".into(),
                None,
                None,
            );
        }
    }
    if let Some(origin) = req.headers().get("origin") {
        let ok = origin.as_bytes() == ALLOWED_ORIGIN.as_bytes();
        let reject = match f {
            Fault::OriginIgnored => false,
            Fault::HttpOriginIgnored if path == "/mcp" => false,
            Fault::Http2026OriginIgnored if path == "/mcp" && stateless_header(req.headers()) => {
                false
            }
            Fault::AllOriginsRejected => true,
            _ => !ok,
        };
        if reject {
            return (json_resp(403, FORBIDDEN_BODY), "none".into(), None, None);
        }
    }
    let keyless =
        req.headers().get("authorization").is_none() && req.headers().get("x-api-key").is_none();
    if path == "/mcp" && keyless {
        match (f, method) {
            (Fault::HttpGetUnguarded, "GET") => {
                return (
                    bad_request("Missing Mcp-Session-Id"),
                    "none".into(),
                    None,
                    None,
                );
            }
            (Fault::HttpDeleteUnguarded, "DELETE") => {
                return (json_resp(404, NOT_FOUND_BODY), "none".into(), None, None);
            }
            _ => {}
        }
    }
    let presented = req
        .headers()
        .get("authorization")
        .or_else(|| req.headers().get("x-api-key"))
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
    let key = match guard(state, &req) {
        Ok(k) => k,
        Err((r, id)) if r.status() == 401 && f == Fault::UnauthorizedQuotesKey => {
            let (parts, _) = r.into_parts();
            let body =
                json!({"error": format!("Invalid token: {}", presented.unwrap_or_default())});
            return (
                Response::from_parts(parts, full(body.to_string())),
                id,
                None,
                None,
            );
        }
        Err((r, id))
            if r.status() == 401
                && path == "/mcp"
                && (f == Fault::HttpAuthPlainText
                    || (f == Fault::Http2026AuthPlainText && stateless_header(req.headers()))) =>
        {
            let r = Response::builder()
                .status(401)
                .header("content-type", "text/plain")
                .body(full("Unauthorized"))
                .unwrap_or_default();
            return (r, id, None, None);
        }
        Err((r, id)) => return (r, id, None, None),
    };
    let key_id = sha8([KEY1, KEY2][key].as_bytes());
    let free = f == Fault::SseFree && method == "GET" && path == "/mcp/sse";
    // the bucket this request draws from (HttpOwnBucket: /mcp has one of its own)
    let slot = if f == Fault::HttpOwnBucket && path == "/mcp" {
        key + 10
    } else if f == Fault::Http2026OwnBucket && path == "/mcp" && stateless_header(req.headers()) {
        key + 20
    } else {
        key
    };
    if !free {
        if f == Fault::RacyLimiter {
            // check, then act: concurrent requests all see the same full bucket
            let ok = state.peek(slot) >= 1.0;
            tokio::time::sleep(Duration::from_millis(50)).await;
            if !ok {
                return (rate_limited(state, slot), key_id, None, None);
            }
            state.force_take(slot);
        } else if !state.take_cell(slot) {
            return (rate_limited(state, slot), key_id, None, None);
        }
    }
    match (method, path) {
        ("GET", "/mcp/sse") => (sse(state, key), key_id, None, None),
        (_, "/mcp/sse") => {
            if f == Fault::PostSse200 {
                return (json_resp(200, "{}"), key_id, None, None);
            }
            let mut r = json_resp(
                405,
                r#"{"error":{"type":"method_not_allowed","message":"Use GET"}}"#,
            );
            r.headers_mut().insert("allow", "GET".parse().unwrap());
            (r, key_id, None, None)
        }
        ("POST", "/mcp/messages") => {
            let (r, session, tool) = messages(state, key, req, query).await;
            (r, key_id, session, tool)
        }
        (_, "/mcp") => {
            let (r, session, tool) = streamable(state, key, req, method).await;
            (r, key_id, session, tool)
        }
        _ => (
            json_resp(
                405,
                r#"{"error":{"type":"method_not_allowed","message":"Use POST"}}"#,
            ),
            key_id,
            None,
            None,
        ),
    }
}

fn sse(state: &Arc<State>, key: usize) -> Response<Body> {
    let f = state.fault;
    {
        let mut s = state.streams.lock().unwrap();
        let n = s.entry(key).or_insert(0);
        let cap = if f == Fault::ExtraStream {
            MAX_STREAMS + 1
        } else {
            MAX_STREAMS
        };
        if *n >= cap && f != Fault::NoStreamCap {
            return rate_limited_plain();
        }
        *n += 1;
    }
    let id = hex::encode(rand::random::<[u8; 16]>());
    let (tx, mut rx) = mpsc::channel::<Bytes>(64);
    state.sessions.lock().unwrap().insert(
        id.clone(),
        Session {
            key,
            tx: tx.clone(),
        },
    );
    let endpoint = if f == Fault::AbsoluteEndpoint {
        format!("http://127.0.0.1/mcp/messages?session_id={id}")
    } else {
        format!("/mcp/messages?session_id={id}")
    };
    if f != Fault::NoEndpointEvent {
        let _ = tx.try_send(Bytes::from(format!(
            "event: endpoint\ndata: {endpoint}\n\n"
        )));
    }
    // keep-alive and close detection
    let st = state.clone();
    let sid = id.clone();
    let opened = Instant::now();
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(st.keepalive).await;
            let ping = if st.fault == Fault::NoKeepalive {
                Bytes::new()
            } else {
                Bytes::from_static(b": ping\n\n")
            };
            if tx.send(ping).await.is_err() {
                break;
            }
        }
        if st.fault != Fault::SessionNeverRemoved {
            st.sessions.lock().unwrap().remove(&sid);
        }
        if let Some(n) = st.streams.lock().unwrap().get_mut(&key) {
            *n = n.saturating_sub(1);
        }
        if st.fault != Fault::LogNoStreamEnd {
            st.log_line(json!({"event":"mcp_stream_end","session":&sid[..8],"duration_ms":opened.elapsed().as_millis() as u64}));
        }
    });
    let stream = futures::stream::poll_fn(move |cx| rx.poll_recv(cx))
        .map(|b| Ok::<_, Infallible>(Frame::data(b)));
    let mut b = Response::builder()
        .status(200)
        .header("content-type", "text/event-stream")
        .header("cache-control", "no-cache, no-transform");
    if f != Fault::NoAccelBuffering {
        b = b.header("x-accel-buffering", "no");
    }
    b.body(BodyExt::boxed(StreamBody::new(stream)))
        .unwrap_or_default()
}

fn rate_limited_plain() -> Response<Body> {
    let mut r = json_resp(429, RATE_BODY);
    r.headers_mut().insert("retry-after", "1".parse().unwrap());
    r
}

async fn messages(
    state: &Arc<State>,
    key: usize,
    req: Request<Incoming>,
    query: &str,
) -> (Response<Body>, Option<String>, Option<(String, Value)>) {
    let f = state.fault;
    let sid = query
        .split('&')
        .find_map(|p| p.strip_prefix("session_id="))
        .map(str::to_string);
    let Some(sid) = sid else {
        let r = if f == Fault::NoSession404 {
            json_resp(404, NOT_FOUND_BODY)
        } else {
            json_resp(
                400,
                r#"{"error":{"type":"bad_request","message":"Missing session_id"}}"#,
            )
        };
        return (r, None, None);
    };
    if sid.len() != 32 || !sid.bytes().all(|b| b.is_ascii_hexdigit()) {
        let r = if f == Fault::Malformed404 {
            json_resp(404, NOT_FOUND_BODY)
        } else {
            json_resp(
                400,
                r#"{"error":{"type":"bad_request","message":"Malformed session_id"}}"#,
            )
        };
        return (r, None, None);
    }
    let tx = {
        let s = state.sessions.lock().unwrap();
        match s.get(&sid) {
            Some(sess) if sess.key == key || f == Fault::SessionNotBoundToKey => {
                Some(sess.tx.clone())
            }
            _ => None,
        }
    };
    let Some(tx) = tx else {
        let body = if f == Fault::UnknownOtherMessage {
            r#"{"error":{"type":"not_found","message":"No such session"}}"#
        } else {
            NOT_FOUND_BODY
        };
        return (json_resp(404, body), Some(sid), None);
    };
    let ct = req
        .headers()
        .get("content-type")
        .map(|v| v.as_bytes().to_vec())
        .unwrap_or_default();
    if !ct.starts_with(b"application/json") && f != Fault::ContentTypeIgnored {
        return (
            json_resp(
                415,
                r#"{"error":{"type":"unsupported_media_type","message":"Use application/json"}}"#,
            ),
            Some(sid),
            None,
        );
    }
    let limit = if f == Fault::NoSizeLimit {
        8 << 20
    } else {
        1 << 20
    };
    let body = match http_body_util::Limited::new(req.into_body(), limit)
        .collect()
        .await
    {
        Ok(b) => b.to_bytes(),
        Err(_) => {
            return (
                json_resp(
                    413,
                    r#"{"error":{"type":"too_large","message":"Body over 1 MiB"}}"#,
                ),
                Some(sid),
                None,
            );
        }
    };
    // As built: the posted body is scrubbed of every key (in the encodings the harness
    // sends) before it is parsed, so no key reaches the log or a reply.
    let raw_msg = serde_json::from_slice::<Value>(&body).ok();
    let clean = serde_json::from_slice::<Value>(&scrub(&body)).ok();
    let log_msg = if f == Fault::LogArgsUnscrubbed {
        raw_msg.clone()
    } else {
        clean.clone()
    };
    let reply_msg = if f == Fault::ToolErrorEchoesKey {
        raw_msg
    } else {
        clean
    };
    let (Some(msg), Some(log_msg)) = (reply_msg, log_msg) else {
        let r = if f == Fault::BadJson500 {
            json_resp(500, r#"{"error":{"type":"internal","message":"oops"}}"#)
        } else {
            json_resp(
                400,
                r#"{"error":{"type":"bad_request","message":"Body is not JSON"}}"#,
            )
        };
        return (r, Some(sid), None);
    };
    let method = msg
        .get("method")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let tool = (method == "tools/call").then(|| {
        (
            log_msg
                .pointer("/params/name")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string(),
            log_msg
                .pointer("/params/arguments")
                .cloned()
                .unwrap_or(Value::Null),
        )
    });
    if f == Fault::UnknownMethod500 && !KNOWN.contains(&method.as_str()) {
        return (
            json_resp(500, r#"{"error":{"type":"internal","message":"oops"}}"#),
            Some(sid),
            tool,
        );
    }
    if let Some(reply) = mcp(f, &msg) {
        let data = if f == Fault::MultiLineData {
            serde_json::to_string_pretty(&reply)
                .unwrap()
                .replace('\n', "\ndata: ")
        } else {
            reply.to_string()
        };
        let _ = tx
            .send(Bytes::from(if f == Fault::WrongEventName {
                format!("event: response\ndata: {data}\n\n")
            } else {
                format!("event: message\ndata: {data}\n\n")
            }))
            .await;
    }
    let r = if f == Fault::Post200WithBody {
        Response::builder()
            .status(200)
            .body(full("Accepted"))
            .unwrap_or_default()
    } else {
        Response::builder()
            .status(202)
            .body(full(""))
            .unwrap_or_default()
    };
    (r, Some(sid), tool)
}

/// The body with every key replaced by `[REDACTED]`: raw, percent-encoded (non-alphanumerics
/// escaped, or every byte), base64 (standard, with or without padding) and hex (either case).
fn scrub(body: &[u8]) -> Vec<u8> {
    use base64::Engine;
    let mut text = String::from_utf8_lossy(body).into_owned();
    for key in [KEY1, KEY2] {
        let b = key.as_bytes();
        let b64 = base64::engine::general_purpose::STANDARD.encode(b);
        let url_encoded: String = b
            .iter()
            .map(|c| {
                if c.is_ascii_alphanumeric() {
                    (*c as char).to_string()
                } else {
                    format!("%{c:02X}")
                }
            })
            .collect();
        let forms = [
            url_encoded,
            b.iter().map(|c| format!("%{c:02X}")).collect::<String>(),
            b.iter().map(|c| format!("%{c:02x}")).collect::<String>(),
            b64.clone(),
            b64.trim_end_matches('=').to_string(),
            hex::encode(b),
            hex::encode_upper(b),
            key.to_string(),
        ];
        for form in forms {
            text = text.replace(&form, "[REDACTED]");
        }
    }
    text.into_bytes()
}

const KNOWN: &[&str] = &[
    "initialize",
    "notifications/initialized",
    "ping",
    "tools/list",
    "tools/call",
];

fn mcp(f: Fault, msg: &Value) -> Option<Value> {
    let id = msg.get("id")?.clone();
    let method = msg.get("method").and_then(Value::as_str).unwrap_or("");
    let ok = |result: Value| Some(json!({"jsonrpc":"2.0","id":id,"result":result}));
    let err = |code: i64, m: &str| {
        Some(json!({"jsonrpc":"2.0","id":id,"error":{"code":code,"message":m}}))
    };
    match method {
        "initialize" => {
            let asked = msg
                .pointer("/params/protocolVersion")
                .and_then(Value::as_str)
                .unwrap_or("");
            if f == Fault::NewerVersionError && asked != "2024-11-05" {
                return err(-32602, "unsupported version");
            }
            let v = if f == Fault::WrongProtocolVersion {
                "2025-06-18"
            } else if f == Fault::HttpVersionFixed {
                "2025-03-26"
            } else if ["2024-11-05", "2025-03-26", "2025-06-18", "2025-11-25"].contains(&asked) {
                asked
            } else {
                "2024-11-05"
            };
            ok(
                json!({"protocolVersion":v,"capabilities":{"tools":{}},"serverInfo":{"name":"stub","version":"0"}}),
            )
        }
        "ping" if f == Fault::PingError => err(-32601, "no ping"),
        "ping" => ok(json!({})),
        "tools/list" => {
            let schema = json!({"type":"object","properties":{"search_term":{"type":"string"},"size":{"type":"integer"}}});
            let output = json!({"type":"object","required":["total"],"properties":{"total":{"type":"integer","minimum":0}}});
            let mut tools = vec![
                json!({"name":"search_complaints","description":"search","inputSchema":schema,"outputSchema":output}),
            ];
            if f != Fault::MissingTool {
                let description = if f == Fault::ToolNoDescription {
                    ""
                } else {
                    "get"
                };
                tools.push(json!({"name":"get_complaint_document","description":description,"inputSchema":{"type":"object","properties":{"complaint_id":{"type":"string"}}}}));
            }
            for name in [
                "list_complaint_trends",
                "get_state_aggregations",
                "suggest_filter_values",
                "generate_cfpb_dashboard_url",
                "get_overall_trend_signals",
                "rank_group_spikes",
                "rank_company_spikes",
            ] {
                tools.push(json!({"name":name,"description":"aggregate","inputSchema":{"type":"object","properties":{}},"outputSchema":{"type":"object"}}));
            }
            ok(json!({"tools":tools}))
        }
        "tools/call" => {
            let name = msg
                .pointer("/params/name")
                .and_then(Value::as_str)
                .unwrap_or("");
            if !["search_complaints", "get_complaint_document"].contains(&name) {
                return ok(
                    json!({"content":[{"type":"text","text":format!("Unknown tool: {name}")}],"isError":true}),
                );
            }
            let size = msg
                .pointer("/params/arguments/size")
                .and_then(Value::as_i64)
                .unwrap_or(10);
            if !(1..=100).contains(&size) {
                if f == Fault::ToolErrorAsRpcError {
                    return err(-32602, "invalid size");
                }
                return ok(
                    json!({"content":[{"type":"text","text":"size must be 1 to 100"}],"isError":true}),
                );
            }
            if f == Fault::ToolCallError {
                return ok(
                    json!({"content":[{"type":"text","text":"upstream failed"}],"isError":true}),
                );
            }
            let total = if f == Fault::StructuredMismatch {
                json!("none")
            } else {
                json!(0)
            };
            let structured = json!({"total": total});
            ok(
                json!({"content":[{"type":"text","text":structured.to_string()}],"structuredContent":structured,"isError":false}),
            )
        }
        _ => err(-32601, "Method not found"),
    }
}

const SUPPORTED_VERSIONS: &[&str] = &["2024-11-05", "2025-03-26", "2025-06-18", "2025-11-25"];

fn bad_request(message: &str) -> Response<Body> {
    json_resp(
        400,
        &json!({"error":{"type":"bad_request","message":message}}).to_string(),
    )
}

type Handled = (Response<Body>, Option<String>, Option<(String, Value)>);

/// A minimal Streamable HTTP transport on `/mcp` (contract HTTP-1..7, HTTP-2026-*,
/// COMPAT-1..6), with the faults that break one clause each. Runs after the guard and the
/// limiter. A tolerated request's quirks go to the audit line (COMPAT-6).
async fn streamable(
    state: &Arc<State>,
    key: usize,
    req: Request<Incoming>,
    method: &str,
) -> Handled {
    let mut quirks = Vec::new();
    let (mut r, session, tool) = streamable_inner(state, key, req, method, &mut quirks).await;
    if !quirks.is_empty() {
        r.extensions_mut().insert(Quirks(quirks));
    }
    (r, session, tool)
}

/// The quirks a tolerated request needed (COMPAT-6), for the audit line.
#[derive(Clone, Debug)]
struct Quirks(Vec<&'static str>);

/// The `MCP-Protocol-Version` header as one version (COMPAT-2): every value of every line,
/// comma-split; `Err` when they differ (or, strict, when there are several).
fn version_header(f: Fault, h: &hyper::HeaderMap) -> Result<Option<(String, bool)>, ()> {
    let mut values = Vec::new();
    for v in h.get_all("mcp-protocol-version") {
        let v = v.to_str().map_err(drop)?;
        values.extend(v.split(',').map(|p| p.trim().to_string()));
    }
    let Some(first) = values.first().cloned() else {
        return Ok(None);
    };
    let repeated = values.len() > 1;
    let refused = matches!(f, Fault::StrictProtocol | Fault::CompatRepeatRefused);
    if values.iter().any(|v| *v != first) || (repeated && refused) {
        return Err(());
    }
    Ok(Some((first, repeated)))
}

/// A version of the stateless era: a date, 2026-07-28 or later.
fn stateless_version(v: &str) -> bool {
    v.len() == 10
        && v.bytes().enumerate().all(|(i, b)| {
            if i == 4 || i == 7 {
                b == b'-'
            } else {
                b.is_ascii_digit()
            }
        })
        && v >= STATELESS_VERSION
}

/// How `/mcp` serves a request (HTTP-2026-1 with COMPAT-1/3, or strict as before).
struct Era {
    stateless: bool,
    /// The versions the stateless path compares with `_meta` (the effective one, or, strict,
    /// every header line as sent).
    versions: Vec<String>,
    /// Served statelessly by COMPAT-1 (the body won).
    body_won: bool,
}

fn era(
    f: Fault,
    h: &hyper::HeaderMap,
    body: &[u8],
    version: &Option<(String, bool)>,
    quirks: &mut Vec<&'static str>,
) -> Era {
    let msg = serde_json::from_slice::<Value>(body).ok();
    let meta = msg
        .as_ref()
        .and_then(|m| m.pointer("/params/_meta/io.modelcontextprotocol~1protocolVersion"))
        .and_then(Value::as_str);
    let init = msg.as_ref().and_then(|m| m.get("method")) == Some(&json!("initialize"));
    let header_modern = version.as_ref().is_some_and(|(v, _)| stateless_version(v));
    let effective: Vec<String> = version.iter().map(|(v, _)| v.clone()).collect();
    if f == Fault::NoStateless {
        return Era {
            stateless: false,
            versions: effective,
            body_won: false,
        };
    }
    let any_version = f == Fault::Http2026EraAnyVersion
        && h.contains_key("mcp-protocol-version")
        && !h.contains_key("mcp-session-id");
    if f == Fault::StrictProtocol
        || (f == Fault::CompatBodyIgnored && meta.is_some() && !header_modern)
    {
        // Before COMPAT: the header, or any `_meta` version, makes it stateless.
        let lines = h
            .get_all("mcp-protocol-version")
            .iter()
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
            .collect();
        return Era {
            stateless: header_modern || meta.is_some() || any_version,
            versions: lines,
            body_won: false,
        };
    }
    if version.as_ref().is_some_and(|(_, repeated)| *repeated) {
        quirks.push("version_header_repeated");
    }
    if init && header_modern && f != Fault::CompatInitializeRefused {
        quirks.push("initialize_modern_header");
        return Era {
            stateless: false,
            versions: effective,
            body_won: false,
        };
    }
    let stale_or_missing = match version {
        None => Some("version_header_missing"),
        Some((v, _)) if SUPPORTED_VERSIONS.contains(&v.as_str()) => Some("version_header_stale"),
        Some(_) => None,
    };
    if !h.contains_key("mcp-session-id")
        && !init
        && meta == Some(STATELESS_VERSION)
        && let Some(q) = stale_or_missing
    {
        quirks.push(q);
        return Era {
            stateless: true,
            versions: vec![STATELESS_VERSION.to_string()],
            body_won: true,
        };
    }
    Era {
        stateless: header_modern || any_version,
        versions: effective,
        body_won: false,
    }
}

async fn streamable_inner(
    state: &Arc<State>,
    key: usize,
    req: Request<Incoming>,
    method: &str,
    quirks: &mut Vec<&'static str>,
) -> Handled {
    let f = state.fault;
    let (parts, body) = req.into_parts();
    let body = if method == "POST" {
        match http_body_util::Limited::new(body, 1 << 20).collect().await {
            Ok(b) => b.to_bytes(),
            Err(_) => {
                return (
                    json_resp(
                        413,
                        r#"{"error":{"type":"too_large","message":"Body over 1 MiB"}}"#,
                    ),
                    None,
                    None,
                );
            }
        }
    } else {
        Bytes::new()
    };
    let version = match version_header(f, &parts.headers) {
        Ok(v) => v,
        Err(()) => {
            return (
                bad_request("MCP-Protocol-Version is not one version"),
                None,
                None,
            );
        }
    };
    let era = era(f, &parts.headers, &body, &version, quirks);
    if era.stateless {
        return stateless(f, &parts.headers, method, &body, &era);
    }
    quirks.retain(|q| *q != "version_header_missing" && *q != "version_header_stale");
    let header = |name: &str| {
        parts
            .headers
            .get(name)
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
    };
    let session = match header("mcp-session-id") {
        None => None,
        Some(id) => {
            let owner = state.http_sessions.lock().unwrap().get(&id).copied();
            match owner {
                Some(k) if k == key || f == Fault::HttpSessionNotBoundToKey => Some(id),
                Some(_) => return (json_resp(404, NOT_FOUND_BODY), Some(id), None),
                None if f == Fault::CompatStale400 => {
                    return (bad_request("Unknown session"), Some(id), None);
                }
                None => {
                    let body = if f == Fault::HttpUnknownOtherBody {
                        r#"{"error":{"type":"not_found","message":"Session not found"}}"#
                    } else {
                        NOT_FOUND_BODY
                    };
                    return (json_resp(404, body), Some(id), None);
                }
            }
        }
    };
    if let Some((v, _)) = &version
        && !SUPPORTED_VERSIONS.contains(&v.as_str())
        && !quirks.contains(&"initialize_modern_header")
        && f != Fault::HttpVersionHeaderIgnored
    {
        return (
            bad_request("Unsupported MCP-Protocol-Version"),
            session,
            None,
        );
    }
    match method {
        "POST" => {}
        "GET" => {
            if session.is_none() {
                return (bad_request("Missing Mcp-Session-Id"), None, None);
            }
            return (http_stream(state), session, None);
        }
        "DELETE" => {
            let Some(id) = session else {
                return (bad_request("Missing Mcp-Session-Id"), None, None);
            };
            if f != Fault::HttpDeleteKeepsSession {
                state.http_sessions.lock().unwrap().remove(&id);
            }
            let r = Response::builder()
                .status(200)
                .body(full(""))
                .unwrap_or_default();
            return (r, Some(id), None);
        }
        _ => {
            let mut r = json_resp(
                405,
                r#"{"error":{"type":"method_not_allowed","message":"Use GET, POST or DELETE"}}"#,
            );
            let allow = if f == Fault::HttpNoAllow {
                "GET, POST"
            } else {
                "GET, POST, DELETE"
            };
            r.headers_mut().insert("allow", allow.parse().unwrap());
            return (r, session, None);
        }
    }
    // As on /mcp/messages: keys scrubbed from the body before it is parsed.
    let body = if f == Fault::ToolErrorEchoesKey {
        body.to_vec()
    } else {
        scrub(&body)
    };
    let Ok(msg) = serde_json::from_slice::<Value>(&body) else {
        return (bad_request("Body is not JSON"), session, None);
    };
    let rpc_method = msg
        .get("method")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let tool = (rpc_method == "tools/call").then(|| {
        (
            msg.pointer("/params/name")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string(),
            msg.pointer("/params/arguments")
                .cloned()
                .unwrap_or(Value::Null),
        )
    });
    if rpc_method == "initialize" && session.is_none() {
        let raw = hex::encode(rand::random::<[u8; 16]>());
        let id = if f == Fault::HttpSessionIdEncodesState {
            use base64::Engine;
            static N: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
            let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            base64::engine::general_purpose::URL_SAFE_NO_PAD
                .encode(format!("{{\"key\":{key},\"n\":{n},\"nonce\":\"{raw}\"}}"))
        } else if f == Fault::HttpSessionIdUuid {
            format!(
                "{}-{}-{}-{}-{}",
                &raw[..8],
                &raw[8..12],
                &raw[12..16],
                &raw[16..20],
                &raw[20..]
            )
        } else {
            raw
        };
        state.http_sessions.lock().unwrap().insert(id.clone(), key);
        let reply = mcp(f, &msg).unwrap_or(Value::Null);
        let mut r = json_resp(200, &reply.to_string());
        r.headers_mut()
            .insert("mcp-session-id", id.parse().unwrap());
        return (r, Some(id), tool);
    }
    let Some(session) = session else {
        let r = if f == Fault::HttpMissingSession404 {
            json_resp(404, NOT_FOUND_BODY)
        } else {
            bad_request("Missing Mcp-Session-Id")
        };
        return (r, None, tool);
    };
    if msg.get("id").is_none() {
        // a notification (or a response)
        let r = if f == Fault::HttpNotification200 {
            json_resp(200, "{}")
        } else {
            Response::builder()
                .status(202)
                .body(full(""))
                .unwrap_or_default()
        };
        return (r, Some(session), tool);
    }
    if rpc_method == "ping" && f == Fault::HttpPingAs202 {
        let r = Response::builder()
            .status(202)
            .body(full(""))
            .unwrap_or_default();
        return (r, Some(session), tool);
    }
    let mut reply = mcp(f, &msg).unwrap_or(Value::Null);
    if rpc_method == "tools/list" && f == Fault::HttpToolsListError {
        reply =
            json!({"jsonrpc":"2.0","id":msg["id"],"error":{"code":-32603,"message":"internal"}});
    }
    if rpc_method == "tools/call" && f == Fault::HttpToolCallError {
        reply["result"] =
            json!({"content":[{"type":"text","text":"upstream failed"}],"isError":true});
    }
    let r = if rpc_method == "tools/call" {
        // as an SSE body, the other form the transport allows
        Response::builder()
            .status(200)
            .header("content-type", "text/event-stream")
            .header("cache-control", "no-cache, no-transform")
            .body(full(format!(
                ": stub\n\nid: 1\nevent: message\ndata: {reply}\n\n"
            )))
            .unwrap_or_default()
    } else {
        json_resp(200, &reply.to_string())
    };
    (r, Some(session), tool)
}

/// The server-to-client stream of a session (`GET /mcp`): keep-alive comments only.
fn http_stream(state: &Arc<State>) -> Response<Body> {
    let (tx, mut rx) = mpsc::channel::<Bytes>(4);
    let keepalive = state.keepalive;
    tokio::spawn(async move {
        while tx.send(Bytes::from_static(b": ping\n\n")).await.is_ok() {
            tokio::time::sleep(keepalive).await;
        }
    });
    let stream = futures::stream::poll_fn(move |cx| rx.poll_recv(cx))
        .map(|b| Ok::<_, Infallible>(Frame::data(b)));
    let mut b = Response::builder()
        .status(200)
        .header("content-type", "text/event-stream")
        .header("cache-control", "no-cache, no-transform");
    if state.fault != Fault::HttpStreamNoAccelBuffering {
        b = b.header("x-accel-buffering", "no");
    }
    b.body(BodyExt::boxed(StreamBody::new(stream)))
        .unwrap_or_default()
}

/// The JSON-RPC method of a stateless request as the stub audits it (`rpc_method`).
#[derive(Clone, Debug)]
struct RpcMethod(String);

const STATELESS_VERSION: &str = "2026-07-28";

/// `MCP-Protocol-Version` names 2026-07-28 or a later date.
fn stateless_header(h: &hyper::HeaderMap) -> bool {
    h.get("mcp-protocol-version")
        .and_then(|v| v.to_str().ok())
        .is_some_and(stateless_version)
}

fn rpc_error(
    status: u16,
    id: &Value,
    code: i64,
    message: &str,
    data: Option<Value>,
) -> Response<Body> {
    let mut error = json!({"code": code, "message": message});
    if let Some(d) = data {
        error["data"] = d;
    }
    json_resp(
        status,
        &json!({"jsonrpc":"2.0","id":id,"error":error}).to_string(),
    )
}

/// MCP 2026-07-28 on `/mcp` (contract HTTP-2026-2..9): no session, `_meta` and the
/// mirrored headers checked, `server/discover`, cache hints on lists. Runs after the guard.
fn stateless(
    f: Fault,
    headers: &hyper::HeaderMap,
    method: &str,
    body: &[u8],
    era: &Era,
) -> Handled {
    let echo = |mut r: Response<Body>| {
        if f == Fault::Http2026EchoSessionId
            && let Some(v) = headers.get("mcp-session-id")
        {
            r.headers_mut().insert("mcp-session-id", v.clone());
        }
        r
    };
    if method != "POST" {
        let mut r = json_resp(
            405,
            r#"{"error":{"type":"method_not_allowed","message":"Use POST"}}"#,
        );
        let allow = if f == Fault::Http2026GetAllowsAll {
            "GET, POST, DELETE"
        } else {
            "POST"
        };
        r.headers_mut().insert("allow", allow.parse().unwrap());
        return (echo(r), None, None);
    }
    let Ok(msg) = serde_json::from_slice::<Value>(body) else {
        return (
            rpc_error(400, &Value::Null, -32700, "Parse error", None),
            None,
            None,
        );
    };
    let id = msg.get("id").cloned().unwrap_or(Value::Null);
    let rpc_method = msg
        .get("method")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let name = msg
        .pointer("/params/name")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let all = |n: &str| -> Vec<String> {
        headers
            .get_all(n)
            .iter()
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
            .collect()
    };
    let (versions, methods, names) = (era.versions.clone(), all("mcp-method"), all("mcp-name"));
    let mirrors_checked = !(era.body_won && f == Fault::CompatMirrorsIgnored);
    let (logged_method, logged_tool) = if f == Fault::Http2026LogFromHeaders {
        (
            methods.first().cloned().unwrap_or_default(),
            names.first().cloned().unwrap_or_default(),
        )
    } else {
        (rpc_method.clone(), name.clone())
    };
    let tool = (logged_method == "tools/call").then(|| {
        (
            logged_tool,
            msg.pointer("/params/arguments")
                .cloned()
                .unwrap_or(Value::Null),
        )
    });
    let done = |r: Response<Body>| {
        let mut r = echo(r);
        r.extensions_mut().insert(RpcMethod(logged_method.clone()));
        (r, None, tool.clone())
    };
    let mut known: Vec<&str> = SUPPORTED_VERSIONS.to_vec();
    known.push(STATELESS_VERSION);
    let unsupported = |v: &str| {
        let data = if f == Fault::Http2026UnsupportedNoList {
            json!({"requested": v})
        } else {
            json!({"requested": v, "supported": known})
        };
        rpc_error(400, &id, -32022, "Unsupported protocol version", Some(data))
    };
    let meta = msg.pointer("/params/_meta");
    let mv = meta
        .and_then(|m| m.get("io.modelcontextprotocol/protocolVersion"))
        .and_then(Value::as_str);
    let mismatch = || rpc_error(400, &id, -32020, "Header mismatch", None);
    match versions.as_slice() {
        [v] if !known.contains(&v.as_str()) => return done(unsupported(v)),
        [_] => {}
        _ => return done(mismatch()),
    }
    if let Some(m) = mv
        && !known.contains(&m)
    {
        return done(unsupported(m));
    }
    let caps = meta.is_some_and(|m| {
        m.get("io.modelcontextprotocol/clientCapabilities")
            .is_some()
    });
    if (mv.is_none() || !caps) && f != Fault::Http2026MetaNotValidated {
        return done(rpc_error(400, &id, -32602, "Missing _meta", None));
    }
    if mv.is_some_and(|m| m != versions[0]) || (mirrors_checked && methods != [rpc_method.clone()])
    {
        return done(mismatch());
    }
    if rpc_method == "tools/call"
        && f != Fault::Http2026NameNotChecked
        && mirrors_checked
        && names != [name.clone()]
    {
        return done(mismatch());
    }
    let ok = |result: Value| {
        json_resp(
            200,
            &json!({"jsonrpc":"2.0","id":id,"result":result}).to_string(),
        )
    };
    let r = match rpc_method.as_str() {
        "server/discover" => {
            let mut result = json!({"supportedVersions": known, "capabilities": {"tools": {}}});
            if f != Fault::Http2026NoServerInfo {
                result["_meta"] =
                    json!({"io.modelcontextprotocol/serverInfo": {"name": "stub", "version": "0"}});
            }
            ok(result)
        }
        "tools/list" | "tools/call" => {
            let mut reply = mcp(f, &msg).unwrap_or(Value::Null);
            if rpc_method == "tools/list" && f != Fault::Http2026NoCacheHints {
                reply["result"]["ttlMs"] = json!(0);
                reply["result"]["cacheScope"] = json!("private");
            }
            if rpc_method == "tools/call" && f == Fault::Http2026ToolCallError {
                reply["result"] =
                    json!({"content":[{"type":"text","text":"upstream failed"}],"isError":true});
            }
            json_resp(200, &reply.to_string())
        }
        "ping" if f == Fault::Http2026PingServed => ok(json!({})),
        _ => rpc_error(404, &id, -32601, "Method not found", None),
    };
    done(r)
}
