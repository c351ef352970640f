//! Responses: the one body type, the one error body shape
//! (`{"error":{"type":T,"message":M}}`, docs/contract.md "Error bodies") with
//! the messages the contract fixes (AUTH-3, RATE-2/3, NET-2, MSG-2), and the
//! one event-stream response head both transports use (SSE-1).
//!
//! Every "no" this server says is built here; nothing here knows a route.

use std::convert::Infallible;

use bytes::Bytes;
use http::header::{
    ALLOW, CACHE_CONTROL, CONTENT_TYPE, HeaderName, HeaderValue, RETRY_AFTER, WWW_AUTHENTICATE,
};
use http::{HeaderMap, Response, StatusCode};
use http_body_util::combinators::UnsyncBoxBody;
use http_body_util::{BodyExt, Empty, Full};
use serde::Serialize;

/// Every response body this server sends.
pub type Body = UnsyncBoxBody<Bytes, Infallible>;

/// The `type` of an error body (docs/contract.md, "Error bodies").
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

/// `202 Accepted` with no body: a message taken in (MSG-1).
pub fn accepted() -> Response<Body> {
    let mut response = Response::new(Empty::new().boxed_unsync());
    *response.status_mut() = StatusCode::ACCEPTED;
    response
}

/// The headers of every event stream (SSE-1): no caching, no transformation
/// and no buffering by proxies (nginx honours `X-Accel-Buffering`).
pub fn sse_headers(headers: &mut HeaderMap) {
    headers.insert(
        CACHE_CONTROL,
        HeaderValue::from_static("no-cache, no-transform"),
    );
    headers.insert("x-accel-buffering", HeaderValue::from_static("no"));
}

/// `200 text/event-stream` over `body`, with the [`sse_headers`] (SSE-1).
pub fn event_stream(body: Body) -> Response<Body> {
    let mut response = Response::new(body);
    *response.status_mut() = StatusCode::OK;
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("text/event-stream"));
    sse_headers(headers);
    headers.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    response
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
