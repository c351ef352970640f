//! `/mcp`: the MCP Streamable HTTP transport (HTTP-*), behind the same guard.
//!
//! The transport itself is rmcp's `StreamableHttpService` (sessions,
//! JSON-or-SSE responses, `MCP-Protocol-Version` checks, resumable streams).
//! This module adds what the guard and the contract need around it, and
//! nothing else:
//!
//! - session ids are 128 CSPRNG bits in hex ([`CfpbSessions`]), and each is
//!   bound to the key that created it: another key's session id gets the same
//!   404 as an unknown one (HTTP-3, like MSG-2);
//! - open sessions per key are capped like SSE streams (RATE-7);
//! - bodies are size-limited (413) and `tools/call` lines carry `tool` and
//!   `arguments` in the audit log (LOG-1), as on `/mcp/messages`;
//! - every error is the contract's JSON error body; event streams carry the
//!   no-buffering, no-transform headers proxies need (SSE-1);
//! - revoked keys' sessions are closed (AUTH-8) and shutdown ends them all.

use std::sync::Arc;

use bytes::Bytes;
use dashmap::DashMap;
use futures::Stream;
use http::header::{CACHE_CONTROL, CONTENT_LENGTH, CONTENT_TYPE, HeaderValue};
use http::{Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use rmcp::model::{ClientJsonRpcMessage, ServerJsonRpcMessage};
use rmcp::transport::WorkerTransport;
use rmcp::transport::common::server_side_http::ServerSseMessage;
use rmcp::transport::streamable_http_server::session::local::{
    LocalSessionManager, LocalSessionManagerError, LocalSessionWorker, create_local_session,
};
use rmcp::transport::streamable_http_server::{
    SessionId as RmcpSessionId, SessionManager, StreamableHttpServerConfig, StreamableHttpService,
};
use tokio_util::sync::CancellationToken;

use crate::data::DataSource;
use crate::guard::keys::{KeyDigest, KeySet};
use crate::http::{
    Body, ErrorKind, RequestLog, bad_request, error_response, messages_text, not_found, read_body,
    scrub_body, too_many_requests,
};
use crate::mcp::{self, CfpbMcp, Framed};
use crate::messages::AuditFields;
use crate::server::AppState;
use crate::session::SessionId;

/// The session header of the Streamable HTTP transport.
pub const SESSION_HEADER: &str = "mcp-session-id";

/// A session nobody used for this long is closed (rmcp's idle timeout).
pub const SESSION_IDLE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(15 * 60);

/// rmcp's local session manager, with our session ids (128 CSPRNG bits, hex).
#[derive(Debug, Default)]
pub struct CfpbSessions {
    inner: LocalSessionManager,
}

impl SessionManager for CfpbSessions {
    type Error = LocalSessionManagerError;
    type Transport = WorkerTransport<LocalSessionWorker>;

    async fn create_session(&self) -> Result<(RmcpSessionId, Self::Transport), Self::Error> {
        let id: RmcpSessionId = SessionId::random().to_string().into();
        let (handle, worker) = create_local_session(id.clone(), self.inner.session_config.clone());
        self.inner.sessions.write().await.insert(id.clone(), handle);
        Ok((id, WorkerTransport::spawn(worker)))
    }

    async fn initialize_session(
        &self,
        id: &RmcpSessionId,
        message: ClientJsonRpcMessage,
    ) -> Result<ServerJsonRpcMessage, Self::Error> {
        self.inner.initialize_session(id, message).await
    }

    async fn has_session(&self, id: &RmcpSessionId) -> Result<bool, Self::Error> {
        self.inner.has_session(id).await
    }

    async fn close_session(&self, id: &RmcpSessionId) -> Result<(), Self::Error> {
        self.inner.close_session(id).await
    }

    async fn create_stream(
        &self,
        id: &RmcpSessionId,
        message: ClientJsonRpcMessage,
    ) -> Result<impl Stream<Item = ServerSseMessage> + Send + Sync + 'static, Self::Error> {
        self.inner.create_stream(id, message).await
    }

    async fn accept_message(
        &self,
        id: &RmcpSessionId,
        message: ClientJsonRpcMessage,
    ) -> Result<(), Self::Error> {
        self.inner.accept_message(id, message).await
    }

    async fn create_standalone_stream(
        &self,
        id: &RmcpSessionId,
    ) -> Result<impl Stream<Item = ServerSseMessage> + Send + Sync + 'static, Self::Error> {
        self.inner.create_standalone_stream(id).await
    }

    async fn resume(
        &self,
        id: &RmcpSessionId,
        last_event_id: String,
    ) -> Result<impl Stream<Item = ServerSseMessage> + Send + Sync + 'static, Self::Error> {
        self.inner.resume(id, last_event_id).await
    }
}

/// The `/mcp` endpoint: rmcp's service plus the session-to-key binding.
pub struct Streamable {
    service: StreamableHttpService<CfpbMcp, CfpbSessions>,
    sessions: Arc<CfpbSessions>,
    /// Session id -> the key that created it.
    owners: DashMap<Arc<str>, KeyDigest>,
    max_sessions_per_key: u32,
}

impl Streamable {
    pub fn new(
        source: DataSource,
        keepalive: std::time::Duration,
        max_body_bytes: usize,
        max_sessions_per_key: u32,
        shutdown: &CancellationToken,
    ) -> Self {
        let mut inner = LocalSessionManager::default();
        inner.session_config.keep_alive = Some(SESSION_IDLE_TIMEOUT);
        let sessions = Arc::new(CfpbSessions { inner });
        let config = StreamableHttpServerConfig::default()
            // The guard checks Origin (NET-2); behind a tunnel the Host is the
            // public hostname, so no Host allowlist (CONTRACT.md NET-2).
            .disable_allowed_hosts()
            .with_sse_keep_alive(Some(keepalive))
            .with_legacy_session_mode(true)
            .with_max_request_body_bytes(max_body_bytes)
            .with_cancellation_token(shutdown.child_token());
        let service = StreamableHttpService::new(
            move || Ok(CfpbMcp::new(source.clone())),
            sessions.clone(),
            config,
        );
        Self {
            service,
            sessions,
            owners: DashMap::new(),
            max_sessions_per_key,
        }
    }

    /// Number of live Streamable HTTP sessions.
    pub fn len(&self) -> usize {
        self.owners.len()
    }

    pub fn is_empty(&self) -> bool {
        self.owners.is_empty()
    }

    /// Close every session whose key is no longer configured (AUTH-8).
    pub async fn revoke_missing(&self, keys: &KeySet) -> usize {
        let revoked: Vec<Arc<str>> = self
            .owners
            .iter()
            .filter(|e| !keys.contains(e.value()) && *e.value() != KeyDigest::anonymous())
            .map(|e| e.key().clone())
            .collect();
        for id in &revoked {
            self.owners.remove(id);
            let _ = self.sessions.close_session(id).await;
        }
        revoked.len()
    }

    /// Does `caller` own a live session `id`?
    async fn owns(&self, id: &str, caller: &KeyDigest) -> bool {
        let Some(owner) = self.owners.get(id).map(|o| *o) else {
            return false;
        };
        if owner != *caller {
            return false;
        }
        let live = self
            .sessions
            .has_session(&Arc::from(id))
            .await
            .unwrap_or(false);
        if !live {
            self.owners.remove(id); // expired inside rmcp (idle timeout)
        }
        live
    }

    /// Room for one more session for `caller`? Forgets expired sessions first.
    async fn has_room(&self, caller: &KeyDigest) -> bool {
        let mine: Vec<Arc<str>> = self
            .owners
            .iter()
            .filter(|e| e.value() == caller)
            .map(|e| e.key().clone())
            .collect();
        if mine.len() < self.max_sessions_per_key as usize {
            return true;
        }
        let mut live = 0;
        for id in mine {
            if self.sessions.has_session(&id).await.unwrap_or(false) {
                live += 1;
            } else {
                self.owners.remove(&id);
            }
        }
        live < self.max_sessions_per_key as usize
    }
}

fn session_header(request: &Request<Incoming>) -> Option<Result<String, ()>> {
    let value = request.headers().get(SESSION_HEADER)?;
    Some(match value.to_str() {
        Ok(v) if SessionId::parse(v).is_some() => Ok(v.to_owned()),
        _ => Err(()),
    })
}

/// Handle one guarded `/mcp` request from `caller`.
pub(crate) async fn handle(
    state: &Arc<AppState>,
    caller: KeyDigest,
    request: Request<Incoming>,
    log: &mut RequestLog,
) -> Response<Body> {
    let streamable = &state.streamable;
    let session = match session_header(&request) {
        None => None,
        // A malformed id can't be one we issued: the same 404 as unknown.
        Some(Err(())) => return not_found(messages_text::UNKNOWN_SESSION),
        Some(Ok(id)) => {
            if !streamable.owns(&id, &caller).await {
                return not_found(messages_text::UNKNOWN_SESSION);
            }
            // Logged only once known to be ours (a made-up id could hold anything).
            log.session = Some(crate::audit::session_prefix(&id));
            Some(id)
        }
    };
    let method = request.method().clone();
    let response = match method {
        Method::POST => {
            let (parts, body) = request.into_parts();
            let bytes = match read_body(
                &parts.headers,
                body,
                state.max_body_bytes,
                state.body_read_timeout,
            )
            .await
            {
                Ok(bytes) => scrub_body(&state.keys.load(), bytes),
                Err(refusal) => return refusal,
            };
            let initialize = match mcp::frame(&bytes) {
                Ok(Framed::Message(message)) => {
                    log.note(AuditFields::of(&message, state.keys.load().redactor()));
                    mcp::is_initialize(&message)
                }
                Ok(Framed::Ignore) => false, // an invalid notification: rmcp answers 202
                // Not JSON, or JSON that is no JSON-RPC message (batches included):
                // a 400 as on /mcp/messages (MSG-3), not rmcp's 415.
                Err(e) => return bad_request(&e.to_string()),
                Ok(Framed::Reply(_)) => return bad_request("Not a JSON-RPC message"),
            };
            if initialize && session.is_none() && !streamable.has_room(&caller).await {
                log.error = Some("stream_cap");
                return too_many_requests(state.sse_keepalive.as_secs().max(1));
            }
            let request = Request::from_parts(parts, Full::new(bytes));
            let response = streamable.service.handle(request).await;
            if initialize
                && session.is_none()
                && let Some(id) = response
                    .headers()
                    .get(SESSION_HEADER)
                    .and_then(|v| v.to_str().ok())
            {
                log.session = Some(crate::audit::session_prefix(id));
                streamable.owners.insert(Arc::from(id), caller);
            }
            response
        }
        Method::GET => {
            if session.is_none() {
                return bad_request("Missing Mcp-Session-Id");
            }
            streamable
                .service
                .handle(request.map(|_| Full::new(Bytes::new())))
                .await
        }
        Method::DELETE => {
            let Some(id) = session else {
                return bad_request("Missing Mcp-Session-Id");
            };
            let response = streamable
                .service
                .handle(request.map(|_| Full::new(Bytes::new())))
                .await;
            if response.status().is_success() {
                streamable.owners.remove(id.as_str());
            }
            response
        }
        _ => return crate::http::method_not_allowed("GET, POST, DELETE"),
    };
    finish(response).await
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
        let headers = response.headers_mut();
        headers.insert(
            CACHE_CONTROL,
            HeaderValue::from_static("no-cache, no-transform"),
        );
        headers.insert("x-accel-buffering", HeaderValue::from_static("no"));
    }
    response
}
