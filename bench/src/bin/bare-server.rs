//! `bare-server`: the machine's limit for this job (issue 25), a bare hyper
//! 1.x server with the routes the bench drives and none of the guard, MCP
//! machinery or audit log.
//!
//! `bare-server [--workers N] [--keepalive-secs S] [--tools-list FILE] [--tools-call FILE]`
//!
//! Binds `127.0.0.1:0`, prints `PORT <port>` on stdout, and serves until its
//! standard input closes, like `bench-server`, so `loadgen` runs it in the
//! same sitting and with the same pinning. Routes:
//!
//! - any request whose `X-API-Key` is not the bench key: the exact 401 of
//!   AUTH-3 (same body, same headers);
//! - `GET /mcp/sse`: `200 text/event-stream`, the `endpoint` event, then
//!   `: ping` every keep-alive interval and whatever is posted to it;
//! - `POST /mcp/messages?session_id=..`: `404` for an unknown id, else `202`
//!   and a canned answer `{"jsonrpc":"2.0","id":<id>,"result":{}}` pushed onto
//!   that stream (nothing for a notification);
//! - `POST /mcp`: `200 application/json` with the bytes of `--tools-list` or
//!   `--tools-call` (as `Mcp-Method` says), which `loadgen` took from the
//!   guarded server's own answer, so both send the same bytes.
//!
//! Not a server to learn from: no body limit, no origin check, a string
//! compare for the key. It is the floor the real server is measured against.

use std::collections::HashMap;
use std::convert::Infallible;
use std::io::{Read, Write};
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderValue, Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full, combinators::UnsyncBoxBody};
use hyper::body::{Frame, Incoming};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::sync::mpsc;

const KEY: &[u8] = b"bench-key-7Qm2Xr9Lp4Tz8Wc1Nv6Hb3Jd5Kf0Gs2Yaq";
const UNAUTHORIZED: &str = r#"{"error":{"type":"auth","message":"Missing or invalid API key"}}"#;
const UNKNOWN_SESSION: &str = r#"{"error":{"type":"not_found","message":"Unknown session"}}"#;

type Body = UnsyncBoxBody<Bytes, Infallible>;

/// Open streams by session id: where a POST pushes its answer.
#[derive(Default)]
struct Streams {
    next: AtomicU64,
    open: Mutex<HashMap<u64, mpsc::Sender<Bytes>>>,
}

struct State {
    streams: Streams,
    keepalive: Duration,
    tools_list: Bytes,
    tools_call: Bytes,
}

/// An SSE stream: the endpoint event, then pushed messages and keep-alives.
/// Leaves the session table when hyper drops it (the client went away).
struct SseBody {
    first: Option<Bytes>,
    messages: mpsc::Receiver<Bytes>,
    tick: tokio::time::Interval,
    id: u64,
    state: Arc<State>,
}

impl hyper::body::Body for SseBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        if let Some(first) = self.first.take() {
            return Poll::Ready(Some(Ok(Frame::data(first))));
        }
        if let Poll::Ready(message) = self.messages.poll_recv(cx) {
            return Poll::Ready(message.map(|m| Ok(Frame::data(m))));
        }
        if self.tick.poll_tick(cx).is_ready() {
            return Poll::Ready(Some(Ok(Frame::data(Bytes::from_static(b": ping\n\n")))));
        }
        Poll::Pending
    }
}

impl Drop for SseBody {
    fn drop(&mut self) {
        if let Ok(mut open) = self.state.streams.open.lock() {
            open.remove(&self.id);
        }
    }
}

fn full(status: StatusCode, body: Bytes) -> Response<Body> {
    let mut r = Response::new(Full::new(body).boxed_unsync());
    *r.status_mut() = status;
    r
}

fn json(status: StatusCode, body: Bytes) -> Response<Body> {
    let mut r = full(status, body);
    let h = r.headers_mut();
    h.insert("content-type", HeaderValue::from_static("application/json"));
    h.insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    h.insert("cache-control", HeaderValue::from_static("no-store"));
    r
}

fn unauthorized() -> Response<Body> {
    let mut r = json(
        StatusCode::UNAUTHORIZED,
        Bytes::from_static(UNAUTHORIZED.as_bytes()),
    );
    r.headers_mut().insert(
        "www-authenticate",
        HeaderValue::from_static("Bearer realm=\"cfpb-mcp\""),
    );
    r
}

/// An event stream registered under a new id (where a POST pushes its
/// answer): `first(id)`, then pushed messages and keep-alives.
fn sse_stream(state: &Arc<State>, first: impl FnOnce(u64) -> Option<Bytes>) -> Response<Body> {
    let id = state.streams.next.fetch_add(1, Ordering::Relaxed);
    let (tx, rx) = mpsc::channel(32);
    if let Ok(mut open) = state.streams.open.lock() {
        open.insert(id, tx);
    }
    let mut tick = tokio::time::interval(state.keepalive);
    tick.reset(); // the first tick one interval from now
    let body = SseBody {
        first: first(id),
        messages: rx,
        tick,
        id,
        state: state.clone(),
    };
    let mut r = full(StatusCode::OK, Bytes::new());
    *r.body_mut() = body.boxed_unsync();
    let h = r.headers_mut();
    h.insert(
        "content-type",
        HeaderValue::from_static("text/event-stream"),
    );
    h.insert(
        "cache-control",
        HeaderValue::from_static("no-cache, no-transform"),
    );
    h.insert("x-accel-buffering", HeaderValue::from_static("no"));
    h.insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    r
}

/// The numeric `"id"` of a JSON-RPC message, without a parse.
fn json_id(body: &[u8]) -> Option<&[u8]> {
    let at = body.windows(5).position(|w| w == b"\"id\":")? + 5;
    let len = body[at..]
        .iter()
        .take_while(|c| c.is_ascii_digit() || **c == b'-')
        .count();
    (len > 0).then(|| &body[at..at + len])
}

async fn serve(
    state: Arc<State>,
    request: Request<Incoming>,
) -> Result<Response<Body>, Infallible> {
    if request.headers().get("x-api-key").map(|v| v.as_bytes()) != Some(KEY) {
        return Ok(unauthorized());
    }
    let response = match (request.method(), request.uri().path()) {
        (&Method::GET, "/mcp/sse") => sse_stream(&state, |id| {
            Some(Bytes::from(format!(
                "event: endpoint\ndata: /mcp/messages?session_id={id:032x}\n\n"
            )))
        }),
        // A Streamable HTTP GET stream: keep-alives until the client leaves
        // (no sessions here; nothing is ever pushed on it).
        (&Method::GET, "/mcp") => sse_stream(&state, |_| None),
        (&Method::POST, "/mcp/messages") => {
            let session = request
                .uri()
                .query()
                .and_then(|q| q.strip_prefix("session_id="))
                .and_then(|id| u64::from_str_radix(id, 16).ok());
            let sender = session.and_then(|id| {
                state
                    .streams
                    .open
                    .lock()
                    .ok()
                    .and_then(|open| open.get(&id).cloned())
            });
            let Some(sender) = sender else {
                return Ok(json(
                    StatusCode::NOT_FOUND,
                    Bytes::from_static(UNKNOWN_SESSION.as_bytes()),
                ));
            };
            let body = request
                .into_body()
                .collect()
                .await
                .map(|b| b.to_bytes())
                .unwrap_or_default();
            if let Some(id) = json_id(&body) {
                let mut frame = Vec::with_capacity(64);
                frame.extend_from_slice(b"event: message\ndata: {\"jsonrpc\":\"2.0\",\"id\":");
                frame.extend_from_slice(id);
                frame.extend_from_slice(b",\"result\":{}}\n\n");
                let _ = sender.send(Bytes::from(frame)).await;
            }
            full(StatusCode::ACCEPTED, Bytes::new())
        }
        (&Method::POST, "/mcp") => {
            let answer = match request.headers().get("mcp-method").map(|v| v.as_bytes()) {
                Some(b"tools/call") => state.tools_call.clone(),
                _ => state.tools_list.clone(),
            };
            let _ = request.into_body().collect().await;
            let mut r = full(StatusCode::OK, answer);
            r.headers_mut()
                .insert("content-type", HeaderValue::from_static("application/json"));
            r
        }
        _ => full(StatusCode::NOT_FOUND, Bytes::new()),
    };
    Ok(response)
}

fn main() {
    let mut workers = 0usize;
    let mut keepalive = 2u64;
    let mut tools_list = Bytes::new();
    let mut tools_call = Bytes::new();
    let mut args = std::env::args().skip(1);
    let read = |path: Option<String>| {
        path.and_then(|p| std::fs::read(p).ok())
            .map(Bytes::from)
            .unwrap_or_default()
    };
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--workers" => workers = args.next().and_then(|v| v.parse().ok()).unwrap_or(0),
            "--keepalive-secs" => keepalive = args.next().and_then(|v| v.parse().ok()).unwrap_or(2),
            "--tools-list" => tools_list = read(args.next()),
            "--tools-call" => tools_call = read(args.next()),
            other => {
                eprintln!("bare-server: unknown argument {other}");
                std::process::exit(2);
            }
        }
    }
    let mut builder = tokio::runtime::Builder::new_multi_thread();
    if workers > 0 {
        builder.worker_threads(workers);
    }
    let runtime = builder.enable_all().build().expect("tokio runtime");
    runtime.block_on(async move {
        let state = Arc::new(State {
            streams: Streams::default(),
            keepalive: Duration::from_secs(keepalive),
            tools_list,
            tools_call,
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let mut out = std::io::stdout();
        let _ = writeln!(out, "PORT {}", listener.local_addr().expect("addr").port());
        let _ = out.flush();
        let accept = async {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                };
                let _ = stream.set_nodelay(true);
                let state = state.clone();
                tokio::spawn(async move {
                    let service = service_fn(move |r| serve(state.clone(), r));
                    let _ = http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        };
        // Serve until stdin closes.
        let stdin_closed = tokio::task::spawn_blocking(|| {
            let mut sink = Vec::new();
            let _ = std::io::stdin().read_to_end(&mut sink);
        });
        tokio::select! {
            _ = accept => {}
            _ = stdin_closed => {}
        }
    });
}
