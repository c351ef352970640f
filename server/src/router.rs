//! The router: [`App`] owns the guard, both transports and the audit log,
//! and is the hyper service of every connection. For each request it picks
//! the route (a `match` on the path with a 404 fall-through), runs the guard
//! on guarded routes, hands the admitted caller to the transport, and writes
//! the request's one `mcp_request` line (LOG-1 in docs/contract.md).
//!
//! Routes: `/health` (unguarded, unlogged), `/mcp/sse` and `/mcp/messages`
//! (HTTP+SSE), `/mcp` (Streamable HTTP), with OAuth on the Protected
//! Resource Metadata under `/.well-known/oauth-protected-resource`
//! (unguarded, OAUTH-2), anything else 404, including `/.well-known/oauth-*`
//! with keys alone: serving OAuth metadata would make Claude insist on OAuth.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use http::{Method, Request, Response, StatusCode};
use hyper::body::Incoming;

use crate::cluster::{Cluster, ForwardKind, Forwarded, Inbox, KeysChanged};
use crate::http::body::{BodySlot, REFUSAL_DRAIN_BYTES, REFUSAL_DRAIN_TIMEOUT, close_after, drain};
use crate::metrics::Open;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::audit::{
    Arguments, AuditLog, Caller, Event, MAX_PATH_LEN, RequestLine, RequestLog, millis,
    scrub_and_truncate,
};
use crate::guard::{Guard, ReloadError};
use crate::http::response::{
    Body, ErrorBody, ErrorKind, bad_request, json_response, messages_text, method_not_allowed,
    not_found,
};
use crate::identity::AuthMethod;
use crate::identity::keys::KeySet;
use crate::transport::legacy::{Endpoint, Legacy};
use crate::transport::streamable::Streamable;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Route {
    Health,
    Legacy(Endpoint),
    Streamable,
    /// RFC 9728 metadata, with OAuth on (OAUTH-2).
    ResourceMetadata,
    NotFound,
}

impl Route {
    fn of(path: &str, guard: &Guard) -> Self {
        match path {
            "/health" => Route::Health,
            "/mcp/sse" => Route::Legacy(Endpoint::Sse),
            "/mcp/messages" => Route::Legacy(Endpoint::Messages),
            "/mcp" => Route::Streamable,
            _ if guard.is_metadata_path(path) => Route::ResourceMetadata,
            _ => Route::NotFound,
        }
    }

    /// The path as logged: fixed for known routes; for anything else the
    /// client's path, scrubbed and bounded (LOG-2).
    fn logged_path(self) -> Option<&'static str> {
        match self {
            Route::Legacy(Endpoint::Sse) => Some("/mcp/sse"),
            Route::Legacy(Endpoint::Messages) => Some("/mcp/messages"),
            Route::Streamable => Some("/mcp"),
            Route::ResourceMetadata => Some("/.well-known/oauth-protected-resource"),
            Route::Health | Route::NotFound => None,
        }
    }
}

/// The application: everything a request can reach.
pub struct App {
    guard: Guard,
    legacy: Legacy,
    streamable: Streamable,
    audit: AuditLog,
    /// The other replicas, with `CFPB_MCP_REDIS_URL`: told of each reload.
    cluster: Option<Cluster>,
}

impl App {
    pub fn new(
        guard: Guard,
        legacy: Legacy,
        streamable: Streamable,
        audit: AuditLog,
        cluster: Option<Cluster>,
    ) -> Self {
        Self {
            guard,
            legacy,
            streamable,
            audit,
            cluster,
        }
    }

    /// Serve what the other replicas send (CLUSTER-3, CLUSTER-4, CLUSTER-7)
    /// until `shutdown`: forwarded requests, each on its own task once the
    /// caller is re-checked against this replica's keys (CLUSTER-10), and
    /// reloads (CLUSTER-11); and every heartbeat, free the slots of `/mcp`
    /// sessions rmcp ended on its own (idle), so the cluster's count stays
    /// true.
    pub async fn serve_inbox(
        self: Arc<Self>,
        mut inbox: Inbox,
        shutdown: CancellationToken,
        tasks: TaskTracker,
    ) {
        if let Some(cluster) = &self.cluster {
            cluster.keys_installed(key_digests(&self.guard.keys()));
        }
        let mut sweep = tokio::time::interval(crate::cluster::HEARTBEAT);
        sweep.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = sweep.tick() => self.streamable.sweep().await,
                forwarded = inbox.forwarded.recv() => {
                    let Some(forwarded) = forwarded else { return };
                    let app = self.clone();
                    tasks.spawn(async move { app.answer_forwarded(forwarded).await });
                }
                reload = inbox.reloads.recv() => {
                    let _ = match reload {
                        None => return,
                        Some(KeysChanged::Elsewhere) => self.reload_local().await,
                        Some(KeysChanged::OnDisk) => self.reload_keys().await,
                    };
                }
            }
        }
    }

    /// A request another replica forwarded: CLUSTER-10, the caller's key
    /// must be in this replica's key set now (a replica that missed a
    /// reload can't get a revoked key served here), else `401`; then the
    /// transport answers as for a local request.
    async fn answer_forwarded(&self, forwarded: Forwarded) {
        if !self
            .guard
            .admits_forwarded(forwarded.method, &forwarded.key)
        {
            if let Some(cluster) = &self.cluster {
                let body = ErrorBody::new(ErrorKind::Auth, messages_text::AUTH).to_json();
                let reason = crate::audit::Reason::Auth.as_str();
                cluster
                    .reply(&forwarded, 401, body, Some(reason), None)
                    .await;
            }
            return;
        }
        match forwarded.kind {
            ForwardKind::Legacy => self.legacy.answer_forwarded(forwarded).await,
            _ => self.streamable.answer_forwarded(forwarded).await,
        }
    }

    /// Handle one request. Never fails: every outcome is a response.
    pub async fn handle(
        &self,
        peer: SocketAddr,
        request: Request<Incoming>,
    ) -> Result<Response<Body>, Infallible> {
        let started = Instant::now();
        let (parts, body) = request.into_parts();
        let unread = BodySlot::new(body);
        let request = Request::from_parts(parts, unread.clone());
        let route = Route::of(request.uri().path(), &self.guard);
        if route == Route::Health {
            let response = health(request.method());
            return Ok(finish(response, &unread).await);
        }
        let method = loggable_method(request.method());
        let path = match route.logged_path() {
            Some(path) => path.to_owned(),
            None => scrub_and_truncate(
                self.guard.keys().redactor(),
                request.uri().path(),
                MAX_PATH_LEN,
            ),
        };
        let mut log = RequestLog::default();
        let response = self.route(peer, route, request, &mut log).await;
        let response = finish(response, &unread).await;
        self.audit.write(&Event::Request(RequestLine {
            method,
            path,
            status: response.status().as_u16(),
            duration_ms: millis(started.elapsed()),
            key: log.caller.unwrap_or(Caller::None),
            session: log.session,
            rpc_method: log.rpc_method,
            tool: log.tool,
            arguments_truncated: log.arguments.as_ref().and_then(Arguments::truncated),
            arguments: log.arguments,
            error: log.error,
            auth_method: log.auth_method,
            client_quirk: log.quirks,
        }));
        Ok(response)
    }

    async fn route(
        &self,
        peer: SocketAddr,
        route: Route,
        request: Request<BodySlot>,
        log: &mut RequestLog,
    ) -> Response<Body> {
        if route == Route::NotFound {
            return not_found(messages_text::NOT_FOUND);
        }
        if route == Route::ResourceMetadata {
            return match (
                request.method(),
                self.guard.resource_metadata(request.uri().path()),
            ) {
                (&Method::GET | &Method::HEAD, Some(document)) => {
                    json_response(StatusCode::OK, document)
                }
                (&Method::GET | &Method::HEAD, None) => not_found(messages_text::NOT_FOUND),
                _ => method_not_allowed("GET, HEAD"),
            };
        }
        // OAUTH-3: a token travels in the Authorization header only (RFC
        // 6750's query form puts it in every log on its way).
        if self.guard.oauth_enabled() && has_query_token(request.uri().query()) {
            log.error = Some(crate::audit::Reason::Auth);
            return bad_request(QUERY_TOKEN);
        }
        let who = match self.guard.check(request.headers(), peer.ip()).await {
            Ok(who) => who,
            Err(refusal) => {
                log.caller = refusal.caller;
                log.error = Some(refusal.reason);
                return refusal.response();
            }
        };
        if let Caller::Key(_) = who.caller {
            log.caller = Some(who.caller);
        }
        if who.method != AuthMethod::Keys || matches!(who.caller, Caller::Key(_)) {
            log.auth_method = Some(who.method);
        }
        let response = match route {
            Route::Legacy(endpoint) => {
                self.legacy
                    .handle(endpoint, &self.guard, who, request, log)
                    .await
            }
            Route::Streamable => self.streamable.handle(&self.guard, who, request, log).await,
            Route::Health | Route::NotFound | Route::ResourceMetadata => {
                not_found(messages_text::NOT_FOUND)
            }
        };
        // AUTH-7: nothing that leaves holds a configured key.
        self.guard.scrub_response(response).await
    }

    /// Re-read the keys file (SIGHUP, AUTH-2/8): new keys work at once, removed
    /// keys fail at once and their open streams and sessions close. On error
    /// the previous keys stay in force. Returns the number of keys now
    /// configured; the outcome is also logged. With Redis, every other
    /// replica re-reads its keys file too (CLUSTER-4, CLUSTER-11).
    pub async fn reload_keys(&self) -> Result<usize, ReloadError> {
        let outcome = self.reload_local().await;
        if let Some(cluster) = &self.cluster
            && outcome.is_ok()
        {
            cluster.announce_reload().await;
        }
        outcome
    }

    async fn reload_local(&self) -> Result<usize, ReloadError> {
        let keys = match self.guard.reread() {
            Ok(keys) => keys,
            Err(ReloadError::NoFile) => return Err(ReloadError::NoFile),
            Err(e) => {
                self.audit.write(&Event::KeysReloadFailed {
                    error: e.to_string(),
                });
                return Err(e);
            }
        };
        let count = keys.len();
        if let Some(cluster) = &self.cluster {
            cluster.keys_installed(key_digests(&keys));
        }
        // In force first, then the revoked keys' streams and sessions ended
        // (AUTH-8): a client whose stream ends finds its key refused, and no
        // stream opened with a removed key while streams are being ended
        // outlives the reload.
        self.guard.install(keys);
        let keys = arc_swap::Guard::into_inner(self.guard.keys());
        let ended = self.legacy.revoke_missing(&keys) + self.streamable.revoke_missing(&keys).await;
        self.audit.write(&Event::KeysReloaded {
            keys: count,
            streams_closed: ended,
        });
        Ok(count)
    }

    /// What is open now, for the metrics' gauges.
    pub fn open_now(&self) -> Open {
        Open {
            streams: self.legacy.len(),
            sessions: self.streamable.len(),
        }
    }

    /// Live MCP sessions, both transports.
    pub fn sessions(&self) -> usize {
        self.legacy.len() + self.streamable.len()
    }

    /// End every HTTP+SSE stream (shutdown; Streamable HTTP sessions end with
    /// the shutdown token).
    pub fn end_all(&self) {
        self.legacy.end_all();
    }
}

/// The digests (hex) of a key set's keys: how the cluster knows its version.
fn key_digests(keys: &KeySet) -> Vec<String> {
    keys.keys()
        .iter()
        .map(|k| hex::encode(k.digest().as_bytes()))
        .collect()
}

/// NET-4: a response given before its request's body was read (a refusal,
/// usually) first drains a small body, so the client's next request on the
/// connection finds it open; a larger or slower one closes the connection
/// after the response instead of resetting it under the client.
async fn finish(mut response: Response<Body>, unread: &BodySlot) -> Response<Body> {
    if let Some(body) = unread.take()
        && !drain(body, REFUSAL_DRAIN_BYTES, REFUSAL_DRAIN_TIMEOUT).await
    {
        close_after(&mut response);
    }
    response
}

/// The refusal of an access token in a URL's query (OAUTH-3).
const QUERY_TOKEN: &str = "Access tokens are accepted in the Authorization header only";

/// Does `query` carry an `access_token` parameter (RFC 6750 section 2.3)?
fn has_query_token(query: Option<&str>) -> bool {
    query.is_some_and(|q| {
        url::form_urlencoded::parse(q.as_bytes()).any(|(name, _)| name == "access_token")
    })
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
    use crate::identity::keys::ApiKey;

    #[test]
    fn cluster_11_the_key_set_version_lists_every_key() {
        let (kept, revoked) = (ApiKey::generate(), ApiKey::generate());
        let hex_of = |k: &ApiKey| hex::encode(k.digest().as_bytes());
        let digests = key_digests(&KeySet::new(vec![kept.clone(), revoked.clone()]));
        assert_eq!(digests, [hex_of(&kept), hex_of(&revoked)]);
    }
}
