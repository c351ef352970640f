//! HTTP: routing, the guard applied to every guarded route, the one error
//! body shape, and the one audit line per request (LOG-1).
//!
//! Routing is a `match` on (method, path) with a 404 fall-through. Guarded
//! routes (`/mcp/sse`, `/mcp/messages`) run the guard first, in the order of
//! ARCHITECTURE.md: origin (NET-2) -> key (AUTH-1/3/5) -> per-key limit
//! (RATE-1..2). Every error this server produces goes through
//! [`error_response`]: `application/json`, `{"error":{"type":T,"message":M}}`.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use http::header::{
    ALLOW, CACHE_CONTROL, CONTENT_TYPE, HeaderName, HeaderValue, RETRY_AFTER, WWW_AUTHENTICATE,
};
use http::{Method, Request, Response, StatusCode};
use http_body_util::combinators::UnsyncBoxBody;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use serde::Serialize;

use crate::audit::{AuditRecord, Caller, MAX_PATH_LEN, Timestamp, millis, scrub_and_truncate};
use crate::guard::extract::{Presented, extract_from_headers};
use crate::guard::keys::KeyDigest;
use crate::guard::limit::Verdict;
use crate::guard::origin::origin_allowed;
use crate::server::AppState;
use crate::{messages, sse, streamable};

/// Every response body this server sends.
pub type Body = UnsyncBoxBody<Bytes, Infallible>;

/// The `type` of an error body (CONTRACT.md, "Error bodies").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    Auth,
    RateLimit,
    BadRequest,
    NotFound,
    MethodNotAllowed,
    TooLarge,
    UnsupportedMediaType,
    Forbidden,
    Overloaded,
    Internal,
}

/// `{"error":{"type":T,"message":M}}`, serialized deterministically.
#[derive(Debug, Serialize)]
pub struct ErrorBody<'a> {
    error: ErrorInner<'a>,
}

#[derive(Debug, Serialize)]
struct ErrorInner<'a> {
    #[serde(rename = "type")]
    kind: ErrorKind,
    message: &'a str,
}

impl<'a> ErrorBody<'a> {
    pub fn new(kind: ErrorKind, message: &'a str) -> Self {
        Self {
            error: ErrorInner { kind, message },
        }
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|_| {
            r#"{"error":{"type":"internal","message":"Internal error"}}"#.to_owned()
        })
    }
}

/// The exact messages the contract fixes.
pub mod messages_text {
    pub const AUTH: &str = "Missing or invalid API key";
    pub const RATE_LIMIT: &str = "Too many requests";
    pub const FORBIDDEN_ORIGIN: &str = "Origin not allowed";
    pub const UNKNOWN_SESSION: &str = "Unknown session";
    pub const NOT_FOUND: &str = "Not found";
    pub const METHOD_NOT_ALLOWED: &str = "Method not allowed";
}

/// The bodies of the errors whose message the contract fixes, serialized once
/// (a wrong-key flood gets its 401 without a serializer run or an
/// allocation); `fixed_bodies_are_the_serialized_ones` checks them.
const FIXED_BODIES: &[(ErrorKind, &str, &str)] = &[
    (
        ErrorKind::Auth,
        messages_text::AUTH,
        r#"{"error":{"type":"auth","message":"Missing or invalid API key"}}"#,
    ),
    (
        ErrorKind::RateLimit,
        messages_text::RATE_LIMIT,
        r#"{"error":{"type":"rate_limit","message":"Too many requests"}}"#,
    ),
    (
        ErrorKind::Forbidden,
        messages_text::FORBIDDEN_ORIGIN,
        r#"{"error":{"type":"forbidden","message":"Origin not allowed"}}"#,
    ),
    (
        ErrorKind::NotFound,
        messages_text::UNKNOWN_SESSION,
        r#"{"error":{"type":"not_found","message":"Unknown session"}}"#,
    ),
    (
        ErrorKind::NotFound,
        messages_text::NOT_FOUND,
        r#"{"error":{"type":"not_found","message":"Not found"}}"#,
    ),
    (
        ErrorKind::MethodNotAllowed,
        messages_text::METHOD_NOT_ALLOWED,
        r#"{"error":{"type":"method_not_allowed","message":"Method not allowed"}}"#,
    ),
];

/// A JSON error response (the only way this server says no).
pub fn error_response(status: StatusCode, kind: ErrorKind, message: &str) -> Response<Body> {
    let fixed = FIXED_BODIES
        .iter()
        .find(|(k, m, _)| *k == kind && *m == message);
    match fixed {
        Some((_, _, body)) => json_body(status, Bytes::from_static(body.as_bytes())),
        None => json_response(status, ErrorBody::new(kind, message).to_json()),
    }
}

pub fn json_response(status: StatusCode, json: String) -> Response<Body> {
    json_body(status, Bytes::from(json))
}

const X_CONTENT_TYPE_OPTIONS: HeaderName = HeaderName::from_static("x-content-type-options");

fn json_body(status: StatusCode, json: Bytes) -> Response<Body> {
    let mut response = Response::new(Full::new(json).boxed_unsync());
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    headers.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// 401 with `WWW-Authenticate` (AUTH-3, AUTH-4).
pub fn unauthorized() -> Response<Body> {
    let mut r = error_response(
        StatusCode::UNAUTHORIZED,
        ErrorKind::Auth,
        messages_text::AUTH,
    );
    r.headers_mut().insert(
        WWW_AUTHENTICATE,
        HeaderValue::from_static("Bearer realm=\"cfpb-mcp\""),
    );
    r
}

/// 429 with `Retry-After` (RATE-2, RATE-3).
pub fn too_many_requests(retry_after_secs: u64) -> Response<Body> {
    let mut r = error_response(
        StatusCode::TOO_MANY_REQUESTS,
        ErrorKind::RateLimit,
        messages_text::RATE_LIMIT,
    );
    r.headers_mut()
        .insert(RETRY_AFTER, HeaderValue::from(retry_after_secs));
    r
}

/// 405 with `Allow`.
pub fn method_not_allowed(allow: &'static str) -> Response<Body> {
    let mut r = error_response(
        StatusCode::METHOD_NOT_ALLOWED,
        ErrorKind::MethodNotAllowed,
        messages_text::METHOD_NOT_ALLOWED,
    );
    r.headers_mut()
        .insert(ALLOW, HeaderValue::from_static(allow));
    r
}

pub fn not_found(message: &str) -> Response<Body> {
    error_response(StatusCode::NOT_FOUND, ErrorKind::NotFound, message)
}

pub fn bad_request(message: &str) -> Response<Body> {
    error_response(StatusCode::BAD_REQUEST, ErrorKind::BadRequest, message)
}

pub fn too_large(max: usize) -> Response<Body> {
    error_response(
        StatusCode::PAYLOAD_TOO_LARGE,
        ErrorKind::TooLarge,
        &format!("Request body exceeds {max} bytes"),
    )
}

/// How much of an oversized body is read and thrown away before the 413, so
/// that the connection closes cleanly instead of being reset with unread data
/// (a reset can destroy the 413 in flight, and proxies turn it into a 502).
pub const OVERSIZE_DRAIN_BYTES: usize = 8 * 1024 * 1024;

/// Read a request body of at most `max` bytes within `timeout` (MSG-3,
/// NET-3): a declared or actual size over `max` is a 413 (after draining up
/// to [`OVERSIZE_DRAIN_BYTES`] more), a body that stalls or breaks is a 400.
pub async fn read_body(
    headers: &http::HeaderMap,
    mut body: Incoming,
    max: usize,
    timeout: std::time::Duration,
) -> Result<Bytes, Response<Body>> {
    let declared = headers
        .get(http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let read = async {
        let mut kept = bytes::BytesMut::new();
        let mut oversized = declared.is_some_and(|n| n > max as u64);
        let mut seen = 0usize;
        while let Some(frame) = body.frame().await {
            let Ok(data) = frame.map(|f| f.into_data()) else {
                return Err(bad_request("Could not read the request body"));
            };
            let Ok(data) = data else { continue }; // trailers
            seen = seen.saturating_add(data.len());
            if seen > max {
                oversized = true;
            }
            if oversized {
                if seen > max.saturating_add(OVERSIZE_DRAIN_BYTES) {
                    break; // enough politeness: answer now
                }
            } else {
                kept.extend_from_slice(&data);
            }
        }
        if oversized {
            Err(too_large(max))
        } else {
            Ok(kept.freeze())
        }
    };
    match tokio::time::timeout(timeout, read).await {
        Ok(result) => result,
        Err(_) if declared.is_some_and(|n| n > max as u64) => Err(too_large(max)),
        Err(_) => Err(bad_request("Timed out reading the request body")),
    }
}

/// AUTH-7: a posted message never carries a configured key onward, into a
/// tool, its result, or an error that would echo it (`Unknown tool: <key>`):
/// every encoding of every key in the body becomes `[REDACTED]` before the
/// body is parsed. Keys are made of characters JSON never escapes, so the
/// body stays the JSON it was.
pub fn scrub_body(keys: &crate::guard::keys::KeySet, body: Bytes) -> Bytes {
    let Ok(text) = std::str::from_utf8(&body) else {
        return body; // not UTF-8, so not JSON: refused as such later
    };
    match keys.redactor().redact(text) {
        std::borrow::Cow::Borrowed(_) => body,
        std::borrow::Cow::Owned(scrubbed) => Bytes::from(scrubbed),
    }
}

/// What a handler learned that belongs in the request's audit line.
#[derive(Debug, Default)]
pub struct RequestLog {
    pub caller: Option<Caller>,
    pub session: Option<String>,
    pub rpc_method: Option<String>,
    pub tool: Option<String>,
    pub arguments: Option<String>,
    pub error: Option<&'static str>,
}

impl RequestLog {
    /// Take a posted message's audit fields (method, tool, arguments).
    pub fn note(&mut self, fields: crate::messages::AuditFields) {
        self.rpc_method = fields.rpc_method;
        self.tool = fields.tool;
        self.arguments = fields.arguments;
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Route {
    Health,
    Sse,
    Messages,
    Streamable,
    NotFound,
}

impl Route {
    fn of(path: &str) -> Self {
        match path {
            "/health" => Route::Health,
            "/mcp/sse" => Route::Sse,
            "/mcp/messages" => Route::Messages,
            "/mcp" => Route::Streamable,
            // `/.well-known/oauth-*` included: serving OAuth metadata would
            // make Claude insist on OAuth.
            _ => Route::NotFound,
        }
    }
}

/// Handle one request. Never fails: every outcome is a response.
pub(crate) async fn handle(
    state: Arc<AppState>,
    peer: SocketAddr,
    request: Request<Incoming>,
) -> Result<Response<Body>, Infallible> {
    let started = Instant::now();
    let route = Route::of(request.uri().path());
    if route == Route::Health {
        return Ok(health(request.method()));
    }
    let method = loggable_method(request.method());
    let path = match route {
        Route::Sse => "/mcp/sse".to_owned(),
        Route::Messages => "/mcp/messages".to_owned(),
        Route::Streamable => "/mcp".to_owned(),
        _ => scrub_and_truncate(
            state.keys.load().redactor(),
            request.uri().path(),
            MAX_PATH_LEN,
        ),
    };
    let mut log = RequestLog::default();
    let response = route_request(&state, peer, route, request, &mut log).await;
    state.audit.write(&AuditRecord {
        ts: Timestamp::now(),
        event: "mcp_request",
        method,
        path,
        status: response.status().as_u16(),
        duration_ms: millis(started.elapsed()),
        key: log.caller.unwrap_or(Caller::None),
        session: log.session,
        rpc_method: log.rpc_method,
        tool: log.tool,
        arguments: log.arguments,
        error: log.error,
    });
    Ok(response)
}

async fn route_request(
    state: &Arc<AppState>,
    peer: SocketAddr,
    route: Route,
    request: Request<Incoming>,
    log: &mut RequestLog,
) -> Response<Body> {
    if route == Route::NotFound {
        return not_found(messages_text::NOT_FOUND);
    }
    let caller = match guard(state, peer, &request, log) {
        Ok(caller) => caller,
        Err(refusal) => return refusal.response(),
    };
    match (route, request.method()) {
        (Route::Sse, &Method::GET) => sse::open(state, caller, log),
        // Claude tries Streamable HTTP first with a POST to the connector URL
        // and falls back to SSE on 405.
        (Route::Sse, _) => method_not_allowed("GET"),
        (Route::Messages, &Method::POST) => messages::post(state, caller, request, log).await,
        (Route::Messages, _) => method_not_allowed("POST"),
        (Route::Streamable, _) => streamable::handle(state, caller, request, log).await,
        (Route::Health | Route::NotFound, _) => not_found(messages_text::NOT_FOUND),
    }
}

/// Why the guard refused a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Refusal {
    Origin,
    Auth,
    Throttled { retry_after_secs: u64 },
}

impl Refusal {
    fn response(self) -> Response<Body> {
        match self {
            Refusal::Origin => error_response(
                StatusCode::FORBIDDEN,
                ErrorKind::Forbidden,
                messages_text::FORBIDDEN_ORIGIN,
            ),
            Refusal::Auth => unauthorized(),
            Refusal::Throttled { retry_after_secs } => too_many_requests(retry_after_secs),
        }
    }
}

/// The guard (NET-2, AUTH-1..5, RATE-1..6): the caller's key digest, or why
/// the request is refused.
fn guard(
    state: &AppState,
    peer: SocketAddr,
    request: &Request<Incoming>,
    log: &mut RequestLog,
) -> Result<KeyDigest, Refusal> {
    #[cfg(feature = "bench-unguarded")]
    if state.unguarded {
        return Ok(KeyDigest::anonymous());
    }
    let headers = request.headers();
    if !origin_allowed(headers, &state.allowed_origins) {
        log.error = Some("origin");
        return Err(Refusal::Origin);
    }
    let verified = if state.keyless {
        Some(KeyDigest::anonymous())
    } else {
        match extract_from_headers(headers) {
            Presented::Missing | Presented::Invalid => None,
            Presented::Key(presented) => {
                let digest = KeyDigest::of(presented);
                log.caller = Some(Caller::Key(digest.id()));
                state.keys.load().verify_digest(&digest)
            }
        }
    };
    let Some(caller) = verified else {
        log.error = Some("auth");
        return Err(match state.auth_fail.check(peer.ip()) {
            Verdict::Allow => Refusal::Auth,
            Verdict::Deny { retry_after_secs } => Refusal::Throttled { retry_after_secs },
        });
    };
    match state.limiter.check(&caller) {
        Verdict::Allow => Ok(caller),
        Verdict::Deny { retry_after_secs } => {
            log.error = Some("rate_limit");
            Err(Refusal::Throttled { retry_after_secs })
        }
    }
}

/// `GET /health`: `200 {"status":"ok"}`, and nothing else.
fn health(method: &Method) -> Response<Body> {
    if method == Method::GET || method == Method::HEAD {
        json_response(StatusCode::OK, r#"{"status":"ok"}"#.to_owned())
    } else {
        method_not_allowed("GET, HEAD")
    }
}

/// Standard methods by name; anything else (a client-chosen token) as OTHER.
fn loggable_method(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        Method::PATCH => "PATCH",
        Method::CONNECT => "CONNECT",
        Method::TRACE => "TRACE",
        _ => "OTHER",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_bodies_are_exact() {
        assert_eq!(
            ErrorBody::new(ErrorKind::Auth, messages_text::AUTH).to_json(),
            r#"{"error":{"type":"auth","message":"Missing or invalid API key"}}"#
        );
        assert_eq!(
            ErrorBody::new(ErrorKind::RateLimit, messages_text::RATE_LIMIT).to_json(),
            r#"{"error":{"type":"rate_limit","message":"Too many requests"}}"#
        );
        assert_eq!(
            ErrorBody::new(ErrorKind::UnsupportedMediaType, "x").to_json(),
            r#"{"error":{"type":"unsupported_media_type","message":"x"}}"#
        );
    }

    #[test]
    fn fixed_bodies_are_the_serialized_ones() {
        for (kind, message, body) in FIXED_BODIES {
            assert_eq!(ErrorBody::new(*kind, message).to_json(), *body);
        }
    }
}
