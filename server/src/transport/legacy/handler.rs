//! [`Legacy`]: the HTTP+SSE transport's one door (SSE-*, MSG-* in
//! docs/contract.md). It owns the registry of live sessions and routes its
//! two endpoints: `GET /mcp/sse` opens a session's stream, `POST
//! /mcp/messages` posts into one. Any other method is a 405 with `Allow`
//! (Claude tries Streamable HTTP first with a POST to the connector URL and
//! falls back to SSE on that 405).

use std::sync::Arc;

use crate::http::body::BodySlot;
use http::{Method, Request, Response};

use crate::audit::RequestLog;
use crate::cluster::Forwarded;
use crate::guard::{Admitted, Guard};
use crate::http::response::{Body, method_not_allowed};
use crate::identity::keys::KeySet;
use crate::transport::context::Context;
use crate::transport::legacy::session::Registry;
use crate::transport::legacy::{post, stream};

/// Which of the transport's two endpoints a request is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint {
    /// `/mcp/sse`
    Sse,
    /// `/mcp/messages`
    Messages,
}

/// The HTTP+SSE transport.
pub struct Legacy {
    registry: Arc<Registry>,
    cx: Context,
}

impl Legacy {
    pub fn new(cx: Context) -> Self {
        Self {
            registry: Registry::new(cx.max_sessions_per_key),
            cx,
        }
    }

    /// Handle one guarded request from `who` to `endpoint`.
    pub async fn handle(
        &self,
        endpoint: Endpoint,
        guard: &Guard,
        who: Admitted,
        request: Request<BodySlot>,
        log: &mut RequestLog,
    ) -> Response<Body> {
        match (endpoint, request.method()) {
            (Endpoint::Sse, &Method::GET) => stream::open(&self.registry, &self.cx, who, log).await,
            (Endpoint::Sse, _) => method_not_allowed("GET"),
            (Endpoint::Messages, &Method::POST) => {
                post::post(&self.registry, &self.cx, guard, who, request, log).await
            }
            (Endpoint::Messages, _) => method_not_allowed("POST"),
        }
    }

    /// Answer a POST another replica received for a session of ours
    /// (CLUSTER-3): the same checks and outcome as a POST made here.
    pub async fn answer_forwarded(&self, forwarded: Forwarded) {
        let Some(cluster) = &self.cx.cluster else {
            return;
        };
        let (status, body, error) = post::answer_forwarded(
            &self.registry,
            &self.cx,
            &forwarded.session,
            &forwarded.key,
            forwarded.body.as_bytes(),
        )
        .await;
        cluster.reply(&forwarded, status, body, error, None).await;
    }

    /// End every session whose key is no longer in `keys` (AUTH-8).
    pub fn revoke_missing(&self, keys: &KeySet) -> usize {
        self.registry.revoke_missing(keys)
    }

    /// End every session (graceful shutdown).
    pub fn end_all(&self) {
        self.registry.end_all();
    }

    /// Live sessions.
    pub fn len(&self) -> usize {
        self.registry.len()
    }
}
