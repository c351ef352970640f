//! [`Streamable`]: `/mcp`, the MCP Streamable HTTP transport (HTTP-* in
//! docs/contract.md), behind the same guard.
//!
//! The transport itself is rmcp's `StreamableHttpService` (sessions,
//! JSON-or-SSE responses, `MCP-Protocol-Version` checks, resumable streams).
//! This module adds what the guard and the contract need around it, and
//! nothing else:
//!
//! - session ids are ours (`manager`), and each is bound to the key that
//!   created it by the same [`Owners`] as SSE sessions: another key's session
//!   id gets the same 404 as an unknown one (HTTP-3, like MSG-2);
//! - open sessions per key are capped like SSE streams (RATE-7);
//! - bodies are size-limited (413) and `tools/call` lines carry `tool` and
//!   `arguments` in the audit log (LOG-1), as on `/mcp/messages`;
//! - every error is the contract's JSON error body; event streams carry the
//!   no-buffering, no-transform headers proxies need (SSE-1);
//! - revoked keys' sessions are closed (AUTH-8) and shutdown ends them all;
//! - a 2026-07-28 request (HTTP-2026-*, `era`) takes rmcp's stateless path:
//!   it never looks up, mints or echoes a session, and keeps nothing after
//!   its answer;
//! - unless `--strict-protocol`, the shapes Claude's clients really send
//!   are served on purpose (COMPAT-*, `compat`), each noted in the request's
//!   audit line.

use std::sync::Arc;
use std::time::Duration;

use crate::http::body::BodySlot;
use bytes::Bytes;
use http::header::{CONTENT_LENGTH, CONTENT_TYPE};
use http::{Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Empty, Full, Limited};
use rmcp::model::ClientJsonRpcMessage;
use rmcp::transport::streamable_http_server::{
    SessionManager, StreamableHttpServerConfig, StreamableHttpService,
};

use crate::audit::{Quirk, Reason, RequestLog};
use crate::cluster::{Cluster, Forward, ForwardKind, Forwarded, Scope};
use crate::data::CallerTag;
use crate::guard::{Admitted, Guard};
use crate::http::response::{
    Body, ErrorKind, bad_request, error_response, messages_text, method_not_allowed, not_found,
    sse_headers, too_many_requests,
};
use crate::identity::keys::{KeyDigest, KeySet};
use crate::mcp::{self, CfpbMcp, Framed};
use crate::sessions::{Owners, SessionId};
use crate::transport::context::Context;
use crate::transport::streamable::compat::{self, CONFLICTING_VERSIONS};
use crate::transport::streamable::era::{self, Era, SESSION_HEADER, VERSION_HEADER};
use crate::transport::streamable::forward::{self, Answer, MAX_FORWARDED_ANSWER};
use crate::transport::streamable::in_flight::{DUPLICATE_ID, InFlight};
use crate::transport::streamable::listening::{Listening, ONE_STREAM};
use crate::transport::streamable::manager::CfpbSessions;
use crate::transport::streamable::{called, listed};

/// The `/mcp` endpoint: rmcp's service plus the session-to-key binding.
pub struct Streamable {
    service: StreamableHttpService<CfpbMcp, CfpbSessions>,
    sessions: Arc<CfpbSessions>,
    /// Session id -> the key that created it, and the per-key cap.
    owners: Owners,
    /// Request ids being answered, per session (MSG-6).
    in_flight: InFlight,
    /// Sessions with their one GET stream open (RATE-7).
    listening: Listening,
    cx: Context,
}

impl Streamable {
    pub fn new(cx: Context) -> Self {
        let sessions = Arc::new(CfpbSessions::new());
        let config = StreamableHttpServerConfig::default()
            // The guard checks Origin (NET-2); behind a tunnel the Host is the
            // public hostname, so no Host allowlist (docs/contract.md NET-2).
            .disable_allowed_hosts()
            .with_sse_keep_alive(Some(cx.keepalive))
            .with_legacy_session_mode(true)
            // 2026-07-28 answers as one JSON body unless the tool streams.
            .with_json_response(true)
            .with_max_request_body_bytes(cx.max_body_bytes)
            .with_cancellation_token(cx.shutdown.child_token());
        let (source, metrics) = (cx.source.clone(), cx.metrics.clone());
        let service = StreamableHttpService::new(
            move || Ok(CfpbMcp::new(source.clone(), metrics.clone())),
            sessions.clone(),
            config,
        );
        Self {
            service,
            sessions,
            owners: Owners::new(cx.max_sessions_per_key),
            in_flight: InFlight::default(),
            listening: Listening::default(),
            cx,
        }
    }

    /// Number of live Streamable HTTP sessions.
    pub fn len(&self) -> usize {
        self.owners.len()
    }

    /// Close every session whose key is no longer configured (AUTH-8).
    pub async fn revoke_missing(&self, keys: &KeySet) -> usize {
        let revoked = self.owners.revoked(keys);
        for id in &revoked {
            self.forget(id).await;
        }
        revoked.len()
    }

    /// Does `caller` own a live session `id`?
    async fn owns(&self, id: &SessionId, caller: &KeyDigest) -> bool {
        if !self.owners.owned_by(id, caller) {
            return false;
        }
        let live = self
            .sessions
            .has_session(&rmcp_id(id))
            .await
            .unwrap_or(false);
        if !live {
            self.forget(id).await; // expired inside rmcp (idle timeout)
        }
        live
    }

    /// Room for one more session for `caller`? Forgets expired sessions first.
    async fn reserve(&self, caller: &KeyDigest) -> Option<crate::sessions::Reservation<'_>> {
        if self.owners.held_by(caller) >= self.owners.max_per_key() {
            for id in self.owners.of(caller) {
                if !self
                    .sessions
                    .has_session(&rmcp_id(&id))
                    .await
                    .unwrap_or(false)
                {
                    self.forget(&id).await;
                }
            }
        }
        self.owners.reserve(*caller).ok()
    }
}

/// rmcp's name for one of our session ids.
fn rmcp_id(id: &SessionId) -> Arc<str> {
    Arc::from(id.to_string())
}

fn session_header(request: &Request<BodySlot>) -> Option<Result<SessionId, ()>> {
    let value = request.headers().get(SESSION_HEADER)?;
    Some(value.to_str().ok().and_then(SessionId::parse).ok_or(()))
}

impl Streamable {
    /// Handle one guarded `/mcp` request from `who`.
    pub async fn handle(
        &self,
        guard: &Guard,
        who: Admitted,
        mut request: Request<BodySlot>,
        log: &mut RequestLog,
    ) -> Response<Body> {
        let caller = who.key;
        let tolerate = !self.cx.strict_protocol;
        match compat::collapse_repeated(request.headers_mut(), tolerate) {
            Ok(Some(quirk)) => log.quirk(quirk),
            Ok(None) => {}
            Err(compat::ConflictingVersions) => return bad_request(CONFLICTING_VERSIONS),
        }
        if Era::of(request.headers()) == Era::Stateless {
            return self.stateless(guard, &who, request, log).await;
        }
        if tolerate && request.method() == Method::POST && session_header(&request).is_none() {
            return self.sessionless_post(guard, &who, request, log).await;
        }
        let session = match session_header(&request) {
            None => None,
            // A malformed id can't be one we issued: the same 404 as unknown.
            Some(Err(())) => return not_found(messages_text::UNKNOWN_SESSION),
            Some(Ok(id)) => {
                if !self.owns(&id, &caller).await {
                    return match &self.cx.cluster {
                        Some(cluster) => {
                            self.elsewhere(cluster, guard, &who, id, request, log).await
                        }
                        None => not_found(messages_text::UNKNOWN_SESSION),
                    };
                }
                // Logged only once known to be ours (a made-up id could hold anything).
                log.session = Some(id.log_prefix());
                Some(id)
            }
        };
        match *request.method() {
            Method::POST => {
                let (parts, body) = request.into_parts();
                let bytes = match self
                    .cx
                    .read_message(guard, &who, &parts.headers, body, log)
                    .await
                {
                    Ok(bytes) => bytes,
                    Err(refusal) => return refusal,
                };
                let framed = self.cx.frame(&bytes, log);
                self.post(&caller, session, parts, bytes, framed, log).await
            }
            Method::GET => {
                let Some(id) = session else {
                    return bad_request("Missing Mcp-Session-Id");
                };
                // RATE-7: one GET stream per session, and each one counts
                // against the caller's stream budget (and the server's).
                let Some(listening) = self.listening.enter(id) else {
                    return error_response(StatusCode::CONFLICT, ErrorKind::BadRequest, ONE_STREAM);
                };
                let Ok(slot) = self.cx.streams.open(caller) else {
                    log.error = Some(Reason::StreamCap);
                    return too_many_requests(self.cx.cap_retry_after_secs());
                };
                let response = self
                    .service
                    .handle(request.map(|_| forward::no_body()))
                    .await;
                finish(response)
                    .await
                    .map(|body| listening.hold(slot.hold(body)))
            }
            Method::DELETE => {
                let Some(id) = session else {
                    return bad_request("Missing Mcp-Session-Id");
                };
                let (parts, _) = request.into_parts();
                self.delete(&id, parts).await
            }
            _ => method_not_allowed("GET, POST, DELETE"),
        }
    }

    /// One posted message (`bytes`, read and scrubbed, and `framed` by
    /// [`Context::frame`]) in `session`, or an `initialize` that opens one.
    async fn post(
        &self,
        caller: &KeyDigest,
        session: Option<SessionId>,
        parts: http::request::Parts,
        bytes: Bytes,
        framed: Result<Framed, mcp::NotJson>,
        log: &mut RequestLog,
    ) -> Response<Body> {
        let mut request_id = None;
        let initialize = match framed {
            Ok(Framed::Message(message)) => {
                if let ClientJsonRpcMessage::Request(r) = message.as_ref() {
                    request_id = Some(r.id.clone());
                }
                mcp::is_initialize(&message)
            }
            Ok(Framed::Ignore) => false, // an invalid notification: rmcp answers 202
            // Not JSON, or JSON that is no JSON-RPC message (batches included):
            // a 400 as on /mcp/messages (MSG-3), not rmcp's 415.
            Err(e) => return bad_request(&e.to_string()),
            Ok(Framed::Reply(_)) => return bad_request("Not a JSON-RPC message"),
        };
        let reservation = if initialize && session.is_none() {
            let Some(reservation) = self.reserve(caller).await else {
                log.error = Some(Reason::StreamCap);
                return too_many_requests(self.cx.cap_retry_after_secs());
            };
            Some(reservation)
        } else {
            None
        };
        // MSG-6 on /mcp: an id already in flight in this session is
        // refused, so every 200 carries its own answer.
        let in_flight = match (session, request_id) {
            (Some(session), Some(id)) => match self.in_flight.enter(session, id) {
                Some(entry) => Some(entry),
                None => {
                    log.error = Some(Reason::DuplicateId);
                    return bad_request(DUPLICATE_ID);
                }
            },
            _ => None,
        };
        // DATA-11: the tools' upstream calls count against this caller's share.
        let mut parts = parts;
        CallerTag::new(*caller.as_bytes()).tag_parts(&mut parts);
        let request = Request::from_parts(parts, Full::new(bytes));
        let response = self.service.handle(request).await;
        if let Some(entry) = in_flight {
            let response = self.counted(caller, finish(response).await);
            return response.map(|body| entry.hold(body));
        }
        if let Some(reservation) = reservation
            && let Some(id) = response
                .headers()
                .get(SESSION_HEADER)
                .and_then(|v| v.to_str().ok())
                .and_then(SessionId::parse)
        {
            log.session = Some(id.log_prefix());
            reservation.bind(id);
            if !self.claim(&id, caller).await {
                log.error = Some(Reason::StreamCap);
                return too_many_requests(self.cx.cap_retry_after_secs());
            }
        }
        self.counted(caller, finish(response).await)
    }

    /// A POST's answer that turned out to be an event stream (a tool that
    /// sends progress first) counts against `caller`'s stream budget while
    /// it is open (RATE-7); it is never refused, its request was served.
    fn counted(&self, caller: &KeyDigest, response: Response<Body>) -> Response<Body> {
        if !is_event_stream(&response) {
            return response;
        }
        let slot = self.cx.streams.open_anyway(*caller);
        response.map(|body| slot.hold(body))
    }

    /// With Redis, a new session takes one of its key's slots cluster-wide
    /// (CLUSTER-2) and names this replica its owner (CLUSTER-7). `false`:
    /// the key is at its cap on the cluster, and the session is closed again.
    async fn claim(&self, id: &SessionId, caller: &KeyDigest) -> bool {
        let Some(cluster) = &self.cx.cluster else {
            return true;
        };
        let key = hex::encode(caller.as_bytes());
        let max = self.owners.max_per_key();
        if cluster
            .claim(Scope::Streamable, &id.to_string(), &key, max)
            .await
            == Some(false)
        {
            self.forget(id).await;
            return false;
        }
        true
    }

    /// End session `id` (DELETE): HTTP-4's 200.
    async fn delete(&self, id: &SessionId, parts: http::request::Parts) -> Response<Body> {
        let request = Request::from_parts(parts, forward::no_body());
        let response = self.service.handle(request).await;
        if response.status().is_success() {
            self.forget(id).await;
        }
        // HTTP-4: 200, as the MCP SDKs' servers answer (rmcp says 202,
        // which the Python SDK logs as a failed termination).
        if response.status() == StatusCode::ACCEPTED {
            let mut ended = Response::new(Empty::new().boxed_unsync());
            *ended.status_mut() = StatusCode::OK;
            return ended;
        }
        finish(response).await
    }

    /// How long a request forwarded to the owner may take: a tool call's
    /// upstream fetches (each within the upstream timeout, a queue wait
    /// included) plus a margin.
    fn forward_wait(&self) -> Duration {
        self.cx.upstream_timeout * 4 + FORWARD_MARGIN
    }

    /// CLUSTER-7: a request for a session this replica does not hold goes
    /// to the replica that does (POST, DELETE; a GET learns there whether to
    /// answer 405), and its answer is this response. No live owner, a
    /// foreign key, or Redis down: 404, as for any unknown session.
    async fn elsewhere(
        &self,
        cluster: &Cluster,
        guard: &Guard,
        who: &Admitted,
        id: SessionId,
        request: Request<BodySlot>,
        log: &mut RequestLog,
    ) -> Response<Body> {
        let caller = &who.key;
        let kind = match *request.method() {
            Method::POST => ForwardKind::McpPost {
                protocol_version: forward::protocol_version(&request),
            },
            Method::DELETE => ForwardKind::McpDelete,
            Method::GET => ForwardKind::McpGet,
            _ => return method_not_allowed("GET, POST, DELETE"),
        };
        let body = if matches!(kind, ForwardKind::McpPost { .. }) {
            let (parts, body) = request.into_parts();
            let bytes = match self
                .cx
                .read_message(guard, who, &parts.headers, body, log)
                .await
            {
                Ok(bytes) => bytes,
                Err(refusal) => return refusal,
            };
            match self.cx.frame(&bytes, log) {
                Ok(Framed::Message(_) | Framed::Ignore) => {}
                Err(e) => return bad_request(&e.to_string()),
                Ok(Framed::Reply(_)) => return bad_request("Not a JSON-RPC message"),
            }
            match String::from_utf8(bytes.to_vec()) {
                Ok(text) => text,
                Err(_) => return bad_request("Invalid JSON"),
            }
        } else {
            String::new()
        };
        let key = hex::encode(caller.as_bytes());
        let outcome = cluster
            .forward(
                kind,
                &id.to_string(),
                (who.method, &key),
                body,
                self.forward_wait(),
            )
            .await;
        if let Forward::Answered { status, error, .. } = &outcome {
            if *status != StatusCode::NOT_FOUND.as_u16() {
                log.session = Some(id.log_prefix());
            }
            log.error = error.as_deref().and_then(Reason::from_word).or(log.error);
        }
        forward::response(outcome).unwrap_or_else(|| not_found(messages_text::UNKNOWN_SESSION))
    }

    /// Answer a request another replica received for a session of ours
    /// (CLUSTER-7): the same checks and outcome as the request made here.
    pub async fn answer_forwarded(&self, forwarded: Forwarded) {
        let Some(cluster) = &self.cx.cluster else {
            return;
        };
        let mut log = RequestLog::default();
        let answer = self.answer(&forwarded, &mut log).await;
        let error = log.error.map(Reason::as_str);
        cluster
            .reply(
                &forwarded,
                answer.status,
                answer.body,
                error,
                answer.content_type,
            )
            .await;
    }

    async fn answer(&self, forwarded: &Forwarded, log: &mut RequestLog) -> Answer {
        let Some((id, caller)) =
            SessionId::parse(&forwarded.session).zip(KeyDigest::from_hex(&forwarded.key))
        else {
            return Answer::unknown_session();
        };
        if !self.owns(&id, &caller).await {
            return Answer::unknown_session();
        }
        let response = match &forwarded.kind {
            ForwardKind::McpPost { protocol_version } => {
                let parts = forward::owner_request(&id, protocol_version.as_deref());
                let bytes = Bytes::from(forwarded.body.clone());
                let framed = self.cx.frame(&bytes, log);
                self.post(&caller, Some(id), parts, bytes, framed, log)
                    .await
            }
            ForwardKind::McpDelete => {
                let parts = forward::owner_request_for(&forwarded.kind, &id);
                self.delete(&id, parts).await
            }
            ForwardKind::McpGet => forward::no_stream_here(),
            ForwardKind::Legacy => return Answer::unknown_session(),
        };
        forward::collect(response, MAX_FORWARDED_ANSWER, self.forward_wait()).await
    }

    /// Close every session rmcp already ended (its idle timeout) and free
    /// their slots, here and on the cluster.
    pub async fn sweep(&self) {
        for id in self.owners.ids() {
            let live = self
                .sessions
                .has_session(&rmcp_id(&id))
                .await
                .unwrap_or(false);
            if !live {
                self.forget(&id).await;
            }
        }
    }

    /// Session `id` is over: forget its owner and slot (here and on the
    /// cluster) and close it in rmcp if it is still open.
    async fn forget(&self, id: &SessionId) {
        self.owners.release(id);
        let _ = self.sessions.close_session(&rmcp_id(id)).await;
        if let Some(cluster) = &self.cx.cluster {
            cluster.release(&id.to_string()).await;
        }
    }
}

/// Beyond the forwarded request's own bound, how long its sender waits.
const FORWARD_MARGIN: Duration = Duration::from_secs(1);

impl Streamable {
    /// A POST without `Mcp-Session-Id` in the session-based era, the
    /// compatibility policy on: a request whose body `_meta` names
    /// 2026-07-28 is served statelessly (COMPAT-1, the body wins over a
    /// missing or older version header); anything else (`initialize`, a
    /// notification, a request without `_meta`) takes the session-based
    /// path as before.
    async fn sessionless_post(
        &self,
        guard: &Guard,
        who: &Admitted,
        request: Request<BodySlot>,
        log: &mut RequestLog,
    ) -> Response<Body> {
        let caller = &who.key;
        let (mut parts, body) = request.into_parts();
        let bytes = match self
            .cx
            .read_message(guard, who, &parts.headers, body, log)
            .await
        {
            Ok(bytes) => bytes,
            Err(refusal) => return refusal,
        };
        let framed = self.cx.frame(&bytes, log);
        if let Ok(Framed::Message(message)) = &framed
            && let Some((quirk, version)) = compat::body_wins(&parts.headers, message)
        {
            log.quirk(quirk);
            compat::set_version(&mut parts.headers, &version);
            return self.serve_stateless(caller, parts, bytes, framed).await;
        }
        self.post(caller, None, parts, bytes, framed, log).await
    }

    /// HTTP-2026-*: one self-contained 2026-07-28 request. rmcp serves it
    /// (`server/discover`, `_meta`, `Mcp-Method` / `Mcp-Name`, the status
    /// mapping); no session is looked up, minted or echoed, and nothing
    /// outlives the request but the guard's limiter state. An `initialize`
    /// is COMPAT-3's: answered session-based unless the protocol is strict.
    async fn stateless(
        &self,
        guard: &Guard,
        who: &Admitted,
        request: Request<BodySlot>,
        log: &mut RequestLog,
    ) -> Response<Body> {
        if request.method() != Method::POST {
            return era::no_stream();
        }
        let caller = &who.key;
        let (mut parts, body) = request.into_parts();
        let bytes = match self
            .cx
            .read_message(guard, who, &parts.headers, body, log)
            .await
        {
            Ok(bytes) => bytes,
            Err(refusal) => return refusal,
        };
        let framed = self.cx.frame(&bytes, log);
        let initialize = matches!(&framed, Ok(Framed::Message(m)) if mcp::is_initialize(m));
        if initialize && !self.cx.strict_protocol {
            // COMPAT-3: the handshake exists only in the session-based
            // revisions; a 2026-07-28 header on it is dropped, and the
            // handshake negotiates a session-based version as HTTP-1 says.
            log.quirk(Quirk::InitializeModernHeader);
            parts.headers.remove(VERSION_HEADER);
            parts.headers.remove(SESSION_HEADER);
            return self.post(caller, None, parts, bytes, framed, log).await;
        }
        self.serve_stateless(caller, parts, bytes, framed).await
    }

    /// The stateless path proper, for a body already read and framed
    /// (HTTP-2026-*). Its audit fields are the body's, never the mirrored
    /// headers' (LOG-1).
    async fn serve_stateless(
        &self,
        caller: &KeyDigest,
        mut parts: http::request::Parts,
        bytes: Bytes,
        framed: Result<Framed, mcp::NotJson>,
    ) -> Response<Body> {
        let mut request_id = None;
        match framed {
            Ok(Framed::Message(message)) => {
                if let ClientJsonRpcMessage::Request(r) = message.as_ref() {
                    request_id = Some(r.id.clone());
                }
                if mcp::is_initialize(&message) {
                    return era::no_initialize(request_id);
                }
                // The plain tools/list is the same bytes for everyone, and a
                // plain tools/call needs no per-request service: both are
                // answered here without rmcp, with rmcp's answers.
                if let Some(listed) = listed::answer(&parts.headers, &message) {
                    return listed;
                }
                if let Some((id, params)) = called::plain_call(&parts.headers, &message) {
                    let mcp = CfpbMcp::new(self.cx.source.clone(), self.cx.metrics.clone());
                    let caller = CallerTag::new(*caller.as_bytes());
                    return called::answer(&mcp, caller, id, params.clone()).await;
                }
            }
            Ok(Framed::Ignore) => {}
            Err(e) => return bad_request(&e.to_string()),
            // The revision answers a malformed request with its JSON-RPC error.
            Ok(Framed::Reply(reply)) => return era::malformed(&bytes, &reply),
        }
        if let Some(refusal) = era::unsupported(&parts.headers, request_id) {
            return refusal;
        }
        parts.headers.remove(SESSION_HEADER);
        // DATA-11: the tools' upstream calls count against this caller's share.
        CallerTag::new(*caller.as_bytes()).tag_parts(&mut parts);
        let request = Request::from_parts(parts, Full::new(bytes));
        let mut response = finish(self.service.handle(request).await).await;
        response.headers_mut().remove(SESSION_HEADER);
        self.counted(caller, response)
    }
}

/// Is `response` an event stream (`text/event-stream`)?
fn is_event_stream(response: &Response<Body>) -> bool {
    response
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.to_ascii_lowercase().starts_with("text/event-stream"))
}

/// rmcp's response, made to follow the contract: its plain-text errors become
/// the JSON error body; its event streams get the proxy headers (SSE-1).
async fn finish(
    response: Response<http_body_util::combinators::BoxBody<Bytes, std::convert::Infallible>>,
) -> Response<Body> {
    let status = response.status();
    let content_type = response
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_ascii_lowercase();
    if status.is_client_error() || status.is_server_error() {
        if content_type.starts_with("application/json") {
            return response.map(BodyExt::boxed_unsync);
        }
        let (parts, body) = response.into_parts();
        let text = match Limited::new(body, 4096).collect().await {
            Ok(b) => String::from_utf8_lossy(&b.to_bytes()).into_owned(),
            Err(_) => String::new(),
        };
        let message = text.split(": ").last().unwrap_or_default().trim();
        let message = if message.is_empty() {
            status.canonical_reason().unwrap_or("Error")
        } else {
            message
        };
        let kind = match status {
            StatusCode::NOT_FOUND => ErrorKind::NotFound,
            StatusCode::METHOD_NOT_ALLOWED => ErrorKind::MethodNotAllowed,
            StatusCode::PAYLOAD_TOO_LARGE => ErrorKind::TooLarge,
            StatusCode::UNSUPPORTED_MEDIA_TYPE => ErrorKind::UnsupportedMediaType,
            StatusCode::FORBIDDEN => ErrorKind::Forbidden,
            StatusCode::TOO_MANY_REQUESTS => ErrorKind::RateLimit,
            StatusCode::SERVICE_UNAVAILABLE => ErrorKind::Overloaded,
            s if s.is_server_error() => ErrorKind::Internal,
            _ => ErrorKind::BadRequest,
        };
        let mut refused = error_response(status, kind, message);
        for (name, value) in &parts.headers {
            if name != CONTENT_TYPE && name != CONTENT_LENGTH {
                refused.headers_mut().insert(name.clone(), value.clone());
            }
        }
        return refused;
    }
    let mut response = response.map(BodyExt::boxed_unsync);
    if content_type.starts_with("text/event-stream") {
        sse_headers(response.headers_mut());
    }
    response
}
