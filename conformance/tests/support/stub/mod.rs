//! A small hyper server that implements the contract (just enough of it) and can break
//! exactly one clause on purpose (`Fault`). The broken-target table runs the harness
//! against it to show each check can fail. Test code: keys are test constants.

#![allow(dead_code)]

mod fault;
mod guard;
mod mcp2026;
mod messages;
mod route;
mod rpc;
mod sse;
mod streamable;

pub use fault::Fault;
use guard::*;
use mcp2026::*;
use messages::*;
use route::*;
use rpc::*;
use sse::*;
use streamable::*;

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
