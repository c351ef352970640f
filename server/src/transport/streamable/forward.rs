//! 2025-era `/mcp` sessions across replicas (CLUSTER-7 in docs/contract.md):
//! the pieces on both sides of a forwarded request, without the session
//! logic itself (that stays in `handler`).
//!
//! The replica a request landed on sends the scrubbed body over Redis
//! ([`crate::cluster::Cluster::forward`]); the owner rebuilds the request
//! with [`owner_request`], runs it through the same path as a local one,
//! and sends back the whole answer, read by [`collect`] (bounded in size and
//! time); the first replica turns it into its response with [`response`].

use std::time::Duration;

use bytes::Bytes;
use http::header::{ACCEPT, CONTENT_TYPE, HOST};
use http::{HeaderValue, Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Empty, Full, Limited};

use crate::cluster::{Forward, ForwardKind};
use crate::http::response::{
    Body, ErrorBody, ErrorKind, error_response, json_response, messages_text, method_not_allowed,
    not_found, sse_headers,
};
use crate::sessions::SessionId;
use crate::transport::streamable::era::{SESSION_HEADER, VERSION_HEADER};

/// The largest answer an owner sends back (a 100-complaint page is well
/// under 1 MiB); past it the answer is a 502.
pub const MAX_FORWARDED_ANSWER: usize = 8 * 1024 * 1024;

/// What the owner sends back: status, body, and the content type when the
/// body is an event stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    pub status: u16,
    pub body: String,
    pub content_type: Option<String>,
}

impl Answer {
    /// The contract's 404 for a session the owner does not hold for this
    /// key (MSG-2 across replicas).
    pub fn unknown_session() -> Self {
        Self {
            status: StatusCode::NOT_FOUND.as_u16(),
            body: ErrorBody::new(ErrorKind::NotFound, messages_text::UNKNOWN_SESSION).to_json(),
            content_type: None,
        }
    }
}

/// The `MCP-Protocol-Version` a client sent, to carry to the owner.
pub fn protocol_version(request: &Request<impl Sized>) -> Option<String> {
    let value = request.headers().get(VERSION_HEADER)?;
    value.to_str().ok().map(str::to_owned)
}

/// The request heads the owner runs a forwarded POST with: what a client
/// of this session would have sent (rmcp checks `Accept` and the version).
pub fn owner_request(id: &SessionId, protocol_version: Option<&str>) -> http::request::Parts {
    let (mut parts, ()) = Request::new(()).into_parts();
    parts.method = Method::POST;
    parts.uri = http::Uri::from_static("/mcp");
    let headers = &mut parts.headers;
    // rmcp wants a Host; it checks none (the guard did NET-2 on the
    // replica the client reached).
    headers.insert(HOST, HeaderValue::from_static("localhost"));
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    headers.insert(
        ACCEPT,
        HeaderValue::from_static("application/json, text/event-stream"),
    );
    if let Ok(value) = HeaderValue::from_str(&id.to_string()) {
        headers.insert(SESSION_HEADER, value);
    }
    if let Some(value) = protocol_version.and_then(|v| HeaderValue::from_str(v).ok()) {
        headers.insert(VERSION_HEADER, value);
    }
    parts
}

/// The request an owner runs for a forwarded DELETE or GET: the same heads
/// with that method.
pub fn owner_request_for(kind: &ForwardKind, id: &SessionId) -> http::request::Parts {
    let mut parts = owner_request(id, None);
    parts.method = match kind {
        ForwardKind::McpDelete => Method::DELETE,
        _ => Method::POST,
    };
    parts
}

/// An empty request body for rmcp.
pub fn no_body() -> Full<Bytes> {
    Full::new(Bytes::new())
}

/// GET on a session another replica holds: that replica alone could stream
/// for it, so this one offers no stream (the spec's 405 for GET, which
/// clients take as "no standalone stream"; every answer still comes back
/// on its POST).
pub fn no_stream_here() -> Response<Body> {
    method_not_allowed("POST, DELETE")
}

/// Read the owner's whole response (an event stream ends with the answer):
/// within `max` bytes and `wait`, else 502 / 504 as the answer.
pub async fn collect(response: Response<Body>, max: usize, wait: Duration) -> Answer {
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .filter(|t| t.starts_with("text/event-stream"))
        .map(str::to_owned);
    let read = tokio::time::timeout(wait, Limited::new(response.into_body(), max).collect());
    let (status, body) = match read.await {
        Ok(Ok(collected)) => (
            status,
            String::from_utf8_lossy(&collected.to_bytes()).into_owned(),
        ),
        Ok(Err(_)) => (StatusCode::BAD_GATEWAY.as_u16(), String::new()),
        Err(_) => (StatusCode::GATEWAY_TIMEOUT.as_u16(), String::new()),
    };
    let content_type = content_type.filter(|_| !body.is_empty());
    Answer {
        status,
        body,
        content_type,
    }
}

/// The owner's answer as the response of the replica the client reached.
/// `None`: no live replica holds the session (404, as for any unknown one).
pub fn response(outcome: Forward) -> Option<Response<Body>> {
    match outcome {
        Forward::Answered {
            status,
            body,
            content_type,
            ..
        } => {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_GATEWAY);
            Some(answered(status, body, content_type))
        }
        Forward::NoOwner | Forward::Unavailable { redis_down: true } => None,
        Forward::Unavailable { redis_down: false } => Some(error_response(
            StatusCode::SERVICE_UNAVAILABLE,
            ErrorKind::Overloaded,
            "The replica holding this session did not answer; retry later",
        )),
    }
}

fn answered(status: StatusCode, body: String, content_type: Option<String>) -> Response<Body> {
    if status == StatusCode::METHOD_NOT_ALLOWED {
        return no_stream_here();
    }
    if status == StatusCode::NOT_FOUND {
        return not_found(messages_text::UNKNOWN_SESSION);
    }
    if (status == StatusCode::BAD_GATEWAY || status == StatusCode::GATEWAY_TIMEOUT)
        && body.is_empty()
    {
        return error_response(
            status,
            ErrorKind::Internal,
            "The replica holding this session sent no complete answer",
        );
    }
    if let Some(content_type) = content_type.and_then(|t| HeaderValue::from_str(&t).ok()) {
        let mut response = Response::new(Full::new(Bytes::from(body)).boxed_unsync());
        *response.status_mut() = status;
        response.headers_mut().insert(CONTENT_TYPE, content_type);
        sse_headers(response.headers_mut());
        return response;
    }
    if body.is_empty() {
        let mut response = Response::new(Empty::new().boxed_unsync());
        *response.status_mut() = status;
        return response;
    }
    json_response(status, body)
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn text(response: Response<Body>) -> String {
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        String::from_utf8(bytes.to_vec()).unwrap()
    }

    #[tokio::test]
    async fn cluster_7_an_event_stream_answer_keeps_its_type_and_proxy_headers() {
        let body = "event: message\ndata: {\"jsonrpc\":\"2.0\",\"id\":1,\"result\":{}}\n\n";
        let response = response(Forward::Answered {
            status: 200,
            body: body.into(),
            error: None,
            content_type: Some("text/event-stream".into()),
        })
        .unwrap();
        assert_eq!(response.status(), 200);
        assert_eq!(response.headers()[CONTENT_TYPE], "text/event-stream");
        assert_eq!(response.headers()["x-accel-buffering"], "no");
        assert_eq!(text(response).await, body);
    }

    #[tokio::test]
    async fn cluster_7_owner_refusals_keep_the_contract_bodies() {
        let unknown = Answer::unknown_session();
        let response = response(Forward::Answered {
            status: unknown.status,
            body: unknown.body,
            error: None,
            content_type: None,
        })
        .unwrap();
        assert_eq!(response.status(), 404);
        assert!(
            text(response)
                .await
                .contains(messages_text::UNKNOWN_SESSION)
        );
        let gone = response_of(Forward::NoOwner);
        assert!(gone.is_none(), "no owner: the caller's own 404");
        let silent = response_of(Forward::Unavailable { redis_down: false }).unwrap();
        assert_eq!(silent.status(), 503);
        let deleted = response_of(Forward::Answered {
            status: 200,
            body: String::new(),
            error: None,
            content_type: None,
        })
        .unwrap();
        assert_eq!(deleted.status(), 200);
        assert_eq!(text(deleted).await, "");
    }

    fn response_of(outcome: Forward) -> Option<Response<Body>> {
        response(outcome)
    }

    #[tokio::test]
    async fn cluster_7_collect_is_bounded() {
        let big = json_response(StatusCode::OK, "x".repeat(100));
        let answer = collect(big, 10, Duration::from_secs(1)).await;
        assert_eq!(answer.status, 502);
        let ok = json_response(StatusCode::OK, "{}".into());
        let answer = collect(ok, 10, Duration::from_secs(1)).await;
        assert_eq!((answer.status, answer.body.as_str()), (200, "{}"));
        assert_eq!(answer.content_type, None);
    }

    #[test]
    fn cluster_7_the_owner_sees_what_a_client_would_send() {
        let id = SessionId::random();
        let parts = owner_request(&id, Some("2025-11-25"));
        assert_eq!(parts.method, Method::POST);
        assert_eq!(parts.headers[SESSION_HEADER], id.to_string());
        assert_eq!(parts.headers[VERSION_HEADER], "2025-11-25");
        assert!(
            parts.headers[ACCEPT]
                .to_str()
                .unwrap()
                .contains("text/event-stream")
        );
        let parts = owner_request_for(&ForwardKind::McpDelete, &id);
        assert_eq!(parts.method, Method::DELETE);
    }
}
