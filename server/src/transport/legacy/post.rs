//! `POST /mcp/messages?session_id=ID`: one JSON-RPC message into a session
//! (MSG-1..3, MSG-6 in docs/contract.md).
//!
//! Checks run cheapest first: the query (400), the session and its owner
//! (404, the same for unknown and foreign sessions), the content type (415),
//! the size (413), the JSON (400). An accepted message gets `202` once it is
//! in the session's bounded inbound queue; if the queue stays full past the
//! overload timeout, `503` (MSG-6). Responses go out on the stream, never in
//! this response.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use crate::http::body::BodySlot;
use http::{Request, Response, StatusCode};
use rmcp::model::ClientJsonRpcMessage;

use crate::audit::{Reason, RequestLog};
use crate::cluster::{Cluster, Forward, ForwardKind};
use crate::guard::{Admitted, Guard};
use crate::http::body::is_json_content_type;
use crate::http::response::{
    Body, ErrorKind, accepted, bad_request, error_response, json_response, messages_text, not_found,
};
use crate::identity::keys::KeyDigest;
use crate::mcp::{self, Framed};
use crate::sessions::SessionId;
use crate::transport::context::Context;
use crate::transport::legacy::session::{Admission, Inbound, Registry, Session};
use crate::transport::legacy::stream;
use bytes::Bytes;
use http_body_util::BodyExt;

/// Why the `session_id` query was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum QueryError {
    #[error("Missing session_id")]
    Missing,
    #[error("Malformed session_id")]
    Malformed,
    #[error("Repeated session_id")]
    Repeated,
}

/// Parse the `session_id` from a query string. Pure; never panics.
/// Exactly one `session_id` parameter holding 32 lower-case hex characters;
/// other parameters are ignored.
pub fn parse_session_query(query: Option<&str>) -> Result<SessionId, QueryError> {
    let mut found = None;
    for (name, value) in url::form_urlencoded::parse(query.unwrap_or_default().as_bytes()) {
        if name == "session_id" {
            if found.is_some() {
                return Err(QueryError::Repeated);
            }
            found = Some(SessionId::parse(&value).ok_or(QueryError::Malformed)?);
        }
    }
    found.ok_or(QueryError::Missing)
}

/// MSG-6: the message is refused, not accepted and then lost.
pub const DUPLICATE_ID: &str =
    "Duplicate request id: a request with this id is still in flight in this session";

fn overloaded() -> Response<Body> {
    error_response(
        StatusCode::SERVICE_UNAVAILABLE,
        ErrorKind::Overloaded,
        "Session is not reading its stream; retry later",
    )
}

/// Take one posted message from `who` into its session.
pub async fn post(
    registry: &Registry,
    cx: &Context,
    guard: &Guard,
    who: Admitted,
    request: Request<BodySlot>,
    log: &mut RequestLog,
) -> Response<Body> {
    let id = match parse_session_query(request.uri().query()) {
        Ok(id) => id,
        Err(e) => return bad_request(&e.to_string()),
    };
    let Some(session) = registry.get(&id, &who.key) else {
        return match &cx.cluster {
            Some(cluster) => forward(cluster, cx, guard, who, id, request, log).await,
            None => not_found(messages_text::UNKNOWN_SESSION),
        };
    };
    // Only a session this server issued is logged: an id the client made up
    // could carry anything, a fragment of a key included (LOG-2).
    log.session = Some(id.log_prefix());
    let body = match read_json(cx, guard, &who, request, log).await {
        Ok(bytes) => bytes,
        Err(refusal) => return refusal,
    };
    accept(cx, &session, &body, log).await
}

/// The body of a POST: JSON (415 otherwise), within the bounds, scrubbed.
async fn read_json(
    cx: &Context,
    guard: &Guard,
    who: &Admitted,
    request: Request<BodySlot>,
    log: &mut RequestLog,
) -> Result<Bytes, Response<Body>> {
    if !is_json_content_type(request.headers()) {
        return Err(error_response(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ErrorKind::UnsupportedMediaType,
            "Content-Type must be application/json",
        ));
    }
    let (parts, body) = request.into_parts();
    cx.read_message(guard, who, &parts.headers, body, log).await
}

/// CLUSTER-3: a POST for a session this replica does not hold goes to the
/// replica that does, and its answer is this response: 202 only once the
/// owner took the message in (MSG-6); 404 when no live replica owns it, or
/// Redis is down (the session can't be found); 503 when the owner is silent.
async fn forward(
    cluster: &Cluster,
    cx: &Context,
    guard: &Guard,
    who: Admitted,
    id: SessionId,
    request: Request<BodySlot>,
    log: &mut RequestLog,
) -> Response<Body> {
    let body = match read_json(cx, guard, &who, request, log).await {
        Ok(bytes) => bytes,
        Err(refusal) => return refusal,
    };
    // A body that is no UTF-8 frames as no message: nothing is noted.
    let framed = cx.frame(&body, log);
    let Ok(text) = String::from_utf8(body.to_vec()) else {
        return match framed {
            Err(e) => bad_request(&e.to_string()),
            Ok(_) => bad_request("Invalid JSON"),
        };
    };
    let key = hex::encode(who.key.as_bytes());
    let wait = cx.overload_timeout + FORWARD_MARGIN;
    match cluster
        .forward(
            ForwardKind::Legacy,
            &id.to_string(),
            (who.method, &key),
            text,
            wait,
        )
        .await
    {
        Forward::Answered {
            status,
            body,
            error,
            ..
        } => {
            if status != StatusCode::NOT_FOUND.as_u16() {
                log.session = Some(id.log_prefix());
            }
            log.error = error.as_deref().and_then(Reason::from_word).or(log.error);
            forwarded_response(status, body)
        }
        Forward::NoOwner | Forward::Unavailable { redis_down: true } => {
            not_found(messages_text::UNKNOWN_SESSION)
        }
        Forward::Unavailable { redis_down: false } => {
            log.session = Some(id.log_prefix());
            log.error = Some(Reason::Overloaded);
            overloaded()
        }
    }
}

/// Beyond the owner's own overload timeout, how long a forwarded POST waits.
const FORWARD_MARGIN: std::time::Duration = std::time::Duration::from_secs(1);

/// The owner's answer as this replica's response.
fn forwarded_response(status: u16, body: String) -> Response<Body> {
    match StatusCode::from_u16(status) {
        Ok(StatusCode::ACCEPTED) => accepted(),
        Ok(StatusCode::SERVICE_UNAVAILABLE) if body.is_empty() => overloaded(),
        Ok(status) if !body.is_empty() => json_response(status, body),
        _ => overloaded(),
    }
}

/// Answer a POST another replica forwarded for `session` (CLUSTER-3): the
/// status, the body and the audit reason to send back.
pub async fn answer_forwarded(
    registry: &Registry,
    cx: &Context,
    session: &str,
    key: &str,
    body: &[u8],
) -> (u16, String, Option<&'static str>) {
    let found = SessionId::parse(session)
        .zip(KeyDigest::from_hex(key))
        .and_then(|(id, key)| registry.get(&id, &key));
    let Some(session) = found else {
        return (
            StatusCode::NOT_FOUND.as_u16(),
            crate::http::response::ErrorBody::new(
                ErrorKind::NotFound,
                messages_text::UNKNOWN_SESSION,
            )
            .to_json(),
            None,
        );
    };
    let mut log = RequestLog::default();
    let response = accept(cx, &session, body, &mut log).await;
    let status = response.status().as_u16();
    let body = match response.into_body().collect().await {
        Ok(collected) => String::from_utf8_lossy(&collected.to_bytes()).into_owned(),
        Err(never) => match never {},
    };
    (status, body, log.error.map(Reason::as_str))
}

/// Take one scrubbed, bounded message into `session` (MSG-1, MSG-6).
async fn accept(
    cx: &Context,
    session: &Arc<Session>,
    body: &[u8],
    log: &mut RequestLog,
) -> Response<Body> {
    match cx.frame(body, log) {
        Err(e) => bad_request(&e.to_string()),
        Ok(Framed::Ignore) => accepted(),
        Ok(Framed::Reply(reply)) => {
            log.error = Some(Reason::InvalidJsonrpc);
            // The error goes on the stream like an answer, so it waits for
            // the same byte budget (MSG-6): a client that posts bad JSON and
            // never reads its stream gets 503s, not an unbounded backlog.
            let started = tokio::time::Instant::now();
            if !session.admit_reply(cx.overload_timeout).await {
                log.error = Some(Reason::Overloaded);
                return overloaded();
            }
            let remaining = cx.overload_timeout.saturating_sub(started.elapsed());
            let out = stream::outgoing(session, &reply);
            let bytes = out.frame.len();
            let sent = tokio::time::timeout(remaining, session.outbound.send(out)).await;
            if !matches!(sent, Ok(Ok(()))) {
                session.taken(bytes); // never queued after all
            }
            match sent {
                Ok(Ok(())) => accepted(),
                Ok(Err(_)) => not_found(messages_text::UNKNOWN_SESSION),
                Err(_) => overloaded(),
            }
        }
        Ok(Framed::Message(message)) => deliver(cx, session, message, log).await,
    }
}

/// Deliver one framed `message` (its audit fields already noted) into
/// `session`'s inbound queue.
async fn deliver(
    cx: &Context,
    session: &Arc<Session>,
    message: Inbound,
    log: &mut RequestLog,
) -> Response<Body> {
    if mcp::is_initialize(&message) {
        session.initialized.store(true, Ordering::Release);
    } else if !session.initialized.load(Ordering::Acquire)
        && !matches!(*message, ClientJsonRpcMessage::Request(_))
    {
        // A notification or response before `initialize` would end rmcp's
        // handshake; JSON-RPC never answers those, so drop it.
        return accepted();
    }
    let started = tokio::time::Instant::now();
    let request_id = match &*message {
        ClientJsonRpcMessage::Request(request) => Some(request.id.clone()),
        _ => None,
    };
    if let Some(id) = &request_id {
        match session.admit(id.clone(), cx.overload_timeout).await {
            Admission::Admitted => {}
            Admission::Duplicate => {
                log.error = Some(Reason::DuplicateId);
                return bad_request(DUPLICATE_ID);
            }
            Admission::Overloaded => {
                log.error = Some(Reason::Overloaded);
                return overloaded();
            }
        }
    }
    if let Some(cancelled) = cancelled_request(&message) {
        session.settle(&cancelled);
    }
    let remaining = cx.overload_timeout.saturating_sub(started.elapsed());
    let Some(inbound) = session.inbound() else {
        if let Some(id) = &request_id {
            session.settle(id);
        }
        return not_found(messages_text::UNKNOWN_SESSION);
    };
    let sent = tokio::time::timeout(remaining, inbound.send(message)).await;
    if !matches!(sent, Ok(Ok(())))
        && let Some(id) = &request_id
    {
        session.settle(id);
    }
    match sent {
        Ok(Ok(())) => accepted(),
        Ok(Err(_)) => not_found(messages_text::UNKNOWN_SESSION),
        Err(_) => {
            log.error = Some(Reason::Overloaded);
            overloaded()
        }
    }
}

/// The request a `notifications/cancelled` names: it will get no answer.
fn cancelled_request(message: &ClientJsonRpcMessage) -> Option<rmcp::model::RequestId> {
    let ClientJsonRpcMessage::Notification(n) = message else {
        return None;
    };
    match &n.notification {
        rmcp::model::ClientNotification::CancelledNotification(c) => c.params.request_id.clone(),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn msg_2_session_query_parsing() {
        let id = SessionId::random().to_string();
        assert!(parse_session_query(Some(&format!("session_id={id}"))).is_ok());
        assert!(parse_session_query(Some(&format!("x=1&session_id={id}&y"))).is_ok());
        assert_eq!(parse_session_query(None), Err(QueryError::Missing));
        assert_eq!(parse_session_query(Some("")), Err(QueryError::Missing));
        assert_eq!(
            parse_session_query(Some("session_id=zz")),
            Err(QueryError::Malformed)
        );
        assert_eq!(
            parse_session_query(Some("session_id=")),
            Err(QueryError::Malformed)
        );
        assert_eq!(
            parse_session_query(Some(&format!("session_id={id}&session_id={id}"))),
            Err(QueryError::Repeated)
        );
    }
}
