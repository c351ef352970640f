//! `guard-profile PHASE N`: a small deterministic driver of the guard's hot
//! path, for `valgrind --tool=callgrind` (instruction counts are stable on a
//! noisy machine, wall time is not). `bench/profile.sh` runs every phase
//! under callgrind, collecting only inside `phase_*`, and prints Ir per call.
//!
//! Phases are the pieces a request pays for, run N times each, plus two
//! composites that run the guard's one door, `Guard::check`, as the router
//! does for a rejected (wrong key) and an accepted request, with the
//! response and the audit line rendered and queued to the writer thread.

use std::hint::black_box;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::time::{Duration, Instant};

use cfpb_mcp_server::audit::{
    AuditLog, Caller, Event, Reason, RequestLine, Timestamp, millis, render,
};
use cfpb_mcp_server::bench::{AuthFailLimiter, KeyLimiter, extract_from_headers, origin_allowed};
use cfpb_mcp_server::bench::{message_event, unauthorized};
use cfpb_mcp_server::guard::Guard;
use cfpb_mcp_server::identity::keys::{ApiKey, KeyDigest, KeySet};
use cfpb_mcp_server::{AuditTarget, Config};
use http::{HeaderMap, HeaderValue};
use rmcp::model::ServerJsonRpcMessage;

const KEYS: [&str; 2] = [
    "bench-key-7Qm2Xr9Lp4Tz8Wc1Nv6Hb3Jd5Kf0Gs2Yaq",
    "bench-key-4Rt8Yp1Mn7Bc4Hd6Gf0Js2Ae8Ku3Wx9Pz5",
];
const WRONG: &str = "bench-key-7Qm2Xr9Lp4Tz8Wc1Nv6Hb3Jd5Kf0Gs2Yaw";

struct Fixture {
    headers_wrong: HeaderMap,
    headers_right: HeaderMap,
    keys: KeySet,
    guard: Guard,
    limiter: KeyLimiter,
    auth_fail: AuthFailLimiter,
    audit: AuditLog,
    peer: IpAddr,
    message: ServerJsonRpcMessage,
}

fn headers(key: &str) -> HeaderMap {
    // What the load generator (and a typical MCP client) sends.
    let mut h = HeaderMap::new();
    h.insert("host", HeaderValue::from_static("127.0.0.1:8000"));
    h.insert(
        "x-api-key",
        HeaderValue::from_str(key).expect("visible ASCII"),
    );
    h.insert("content-type", HeaderValue::from_static("application/json"));
    h.insert("content-length", HeaderValue::from_static("40"));
    h
}

fn fixture() -> Fixture {
    let keys = KEYS
        .iter()
        .map(|k| ApiKey::new(k).expect("valid key"))
        .collect();
    let burst = NonZeroU32::new(1 << 31).expect("non-zero");
    let sink = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/null")
        .expect("/dev/null");
    let mut config = Config::with_keys(KEYS);
    config.rate_limit_rps = 1e9;
    config.rate_limit_burst = 1 << 31;
    config.auth_fail_rps = 1e9;
    config.auth_fail_burst = 1 << 31;
    Fixture {
        guard: Guard::new(&config).expect("a valid guard configuration"),
        headers_wrong: headers(WRONG),
        headers_right: headers(KEYS[0]),
        keys: KeySet::new(keys),
        limiter: KeyLimiter::new(1e9, burst).expect("rate"),
        auth_fail: AuthFailLimiter::new(1e9, 1 << 31).expect("rate"),
        audit: AuditLog::start(
            AuditTarget::Writer(Box::new(sink)),
            std::sync::Arc::new(cfpb_mcp_server::metrics::Metrics::new()),
        )
        .expect("writer"),
        peer: IpAddr::from([127, 0, 0, 1]),
        message: serde_json::from_str(r#"{"jsonrpc":"2.0","id":12345,"result":{}}"#)
            .expect("a ping response"),
    }
}

fn record(caller: Caller, status: u16, error: Option<Reason>) -> RequestLine {
    RequestLine {
        method: "POST",
        path: "/mcp/messages".into(),
        status,
        duration_ms: millis(Duration::from_micros(30)),
        key: caller,
        session: Some("0123abcd".to_owned()),
        rpc_method: None,
        tool: None,
        arguments: None,
        arguments_truncated: None,
        error,
        auth_method: None,
        client_quirk: Default::default(),
    }
}

#[inline(never)]
fn phase_extract(f: &Fixture, n: usize) {
    for _ in 0..n {
        black_box(extract_from_headers(black_box(&f.headers_wrong)));
    }
}

#[inline(never)]
fn phase_origin(f: &Fixture, n: usize) {
    for _ in 0..n {
        black_box(origin_allowed(black_box(&f.headers_wrong), &[]));
    }
}

#[inline(never)]
fn phase_digest(n: usize) {
    for _ in 0..n {
        black_box(KeyDigest::of(black_box(WRONG.as_bytes())));
    }
}

#[inline(never)]
fn phase_verify(f: &Fixture, n: usize) {
    let digest = KeyDigest::of(WRONG.as_bytes());
    for _ in 0..n {
        black_box(f.keys.verify_digest(black_box(&digest)));
    }
}

#[inline(never)]
fn phase_limiter(f: &Fixture, n: usize) {
    let digest = KeyDigest::of(KEYS[0].as_bytes());
    for _ in 0..n {
        black_box(f.limiter.check(black_box(&digest)));
    }
}

#[inline(never)]
fn phase_auth_fail(f: &Fixture, n: usize) {
    for _ in 0..n {
        black_box(f.auth_fail.check(black_box(f.peer)));
    }
}

#[inline(never)]
fn phase_render(n: usize) {
    let caller = Caller::Key(KeyDigest::of(WRONG.as_bytes()).id());
    for _ in 0..n {
        let line = Event::Request(record(caller, 401, Some(Reason::Auth)));
        black_box(render(&line.stamped(Timestamp::now())));
    }
}

#[inline(never)]
fn phase_response(n: usize) {
    for _ in 0..n {
        black_box(unauthorized());
    }
}

#[inline(never)]
fn phase_sse_frame(f: &Fixture, n: usize) {
    for _ in 0..n {
        black_box(message_event(black_box(&f.message)));
    }
}

/// AUTH-7's scrub of a posted body (`Guard::scrub`): a ping and a
/// `tools/call`, neither holding a key (the common case: one pass, no copy).
#[inline(never)]
fn phase_scrub(f: &Fixture, n: usize) {
    const PING: &[u8] = br#"{"jsonrpc":"2.0","id":12345,"method":"ping"}"#;
    const CALL: &[u8] = br#"{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"search_complaints","arguments":{"search_term":"late fees","product":"Credit card","size":5}}}"#;
    for i in 0..n {
        let body = if i % 2 == 0 { PING } else { CALL };
        black_box(cfpb_mcp_server::guard::body_holds_key(
            &f.guard.keys(),
            black_box(body),
        ));
    }
}

/// The guard and the audit line of a wrong-key request, as the router runs them.
#[inline(never)]
fn phase_reject(f: &Fixture, n: usize) {
    for _ in 0..n {
        let started = Instant::now();
        let headers = black_box(&f.headers_wrong);
        let refusal = ready(f.guard.check(headers, f.peer)).expect_err("a wrong key");
        black_box(refusal.response());
        let mut r = record(
            refusal.caller.unwrap_or(Caller::None),
            401,
            Some(refusal.reason),
        );
        r.duration_ms = millis(started.elapsed());
        f.audit.write(&Event::Request(r));
    }
}

/// The guard and the audit line of an accepted request (the handler's own
/// work, session lookup and body, is not the guard's and is left out).
#[inline(never)]
fn phase_accept(f: &Fixture, n: usize) {
    for _ in 0..n {
        let started = Instant::now();
        let headers = black_box(&f.headers_right);
        let admitted = ready(f.guard.check(headers, f.peer)).expect("a configured key");
        let mut r = record(admitted.caller, 202, None);
        r.duration_ms = millis(started.elapsed());
        f.audit.write(&Event::Request(r));
    }
}

fn main() {
    let mut args = std::env::args().skip(1);
    let phase = args.next().unwrap_or_else(|| "reject".into());
    let n: usize = args.next().and_then(|v| v.parse().ok()).unwrap_or(10_000);
    let f = fixture();
    match phase.as_str() {
        "extract" => phase_extract(&f, n),
        "origin" => phase_origin(&f, n),
        "digest" => phase_digest(n),
        "verify" => phase_verify(&f, n),
        "limiter" => phase_limiter(&f, n),
        "auth_fail" => phase_auth_fail(&f, n),
        "render" => phase_render(n),
        "response" => phase_response(n),
        "sse_frame" => phase_sse_frame(&f, n),
        "scrub" => phase_scrub(&f, n),
        "reject" => phase_reject(&f, n),
        "accept" => phase_accept(&f, n),
        other => {
            eprintln!("unknown phase {other}");
            std::process::exit(2);
        }
    }
    // Let the writer drain before exiting (outside the measured phase).
    std::thread::sleep(Duration::from_millis(100));
}

/// The guard's check without Redis never waits: poll it once, no runtime
/// (so the profile counts the guard's instructions, not an executor's).
fn ready<T>(future: impl std::future::Future<Output = T>) -> T {
    let mut future = std::pin::pin!(future);
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    match future.as_mut().poll(&mut cx) {
        std::task::Poll::Ready(value) => value,
        std::task::Poll::Pending => unreachable!("Guard::check without Redis completes at once"),
    }
}
