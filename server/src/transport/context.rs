//! What a transport is given when it is built: the settings it enforces
//! (MSG-3, MSG-6, SSE-4, RATE-7 in docs/contract.md) and the runtime handles
//! its tasks need, and the keys in force (shared with the guard) that what
//! it logs is scrubbed with. Read-only after start; each transport keeps
//! its own copy.

use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use bytes::Bytes;
use http::{HeaderMap, Response};

use crate::audit::{AuditFields, AuditLog, RequestLog};
use crate::cluster::Cluster;
use crate::config::Config;
use crate::data::DataSource;
use crate::guard::{Admitted, Guard};
use crate::http::body::{BodySlot, read_body};
use crate::http::response::Body;
use crate::identity::keys::KeysInForce;
use crate::mcp::{self, Framed, NotJson};
use crate::metrics::Metrics;
use crate::streams::{Streams, max_total_for};

/// Settings and runtime handles shared by a transport's handlers.
#[derive(Debug, Clone)]
pub struct Context {
    /// Where the tools get their data.
    pub source: DataSource,
    /// The keys in force, shared with the guard (a reload is seen at once):
    /// what the audit fields are scrubbed with (LOG-2).
    pub keys: KeysInForce,
    /// SSE keep-alive interval (SSE-4); also the `Retry-After` of RATE-7.
    pub keepalive: Duration,
    /// Largest request body (MSG-3).
    pub max_body_bytes: usize,
    /// How long a body may take to arrive (NET-3).
    pub body_read_timeout: Duration,
    /// How long one upstream fetch may take (a tool call makes a few).
    pub upstream_timeout: Duration,
    /// How long a post may wait for room in a busy session before 503 (MSG-6).
    pub overload_timeout: Duration,
    /// Open streams / sessions per key (RATE-7).
    pub max_sessions_per_key: u32,
    /// Cancelled once, at shutdown; every session's token is a child of it.
    pub shutdown: CancellationToken,
    /// Stream and MCP service tasks, awaited at shutdown.
    pub tasks: TaskTracker,
    /// For lines that belong to no request (`mcp_stream_end`).
    pub audit: AuditLog,
    /// Where tool outcomes are counted (METRICS-2).
    pub metrics: Arc<Metrics>,
    /// The other replicas, with `CFPB_MCP_REDIS_URL` (CLUSTER-3).
    pub cluster: Option<Cluster>,
    /// No COMPAT-1..3 tolerances on `/mcp` (`--strict-protocol`).
    pub strict_protocol: bool,
    /// Long-lived streams per caller and in all, shared by both transports
    /// (RATE-7, NET-3).
    pub streams: Arc<Streams>,
}

/// The runtime handles a transport shares with the server that builds it.
#[derive(Debug, Clone)]
pub struct Handles {
    pub shutdown: CancellationToken,
    pub tasks: TaskTracker,
    pub audit: AuditLog,
    pub metrics: Arc<Metrics>,
    pub cluster: Option<Cluster>,
}

impl Context {
    /// The settings of `config`, the tools' `source`, the `keys` in force
    /// (the guard's own handle, so reloads are seen) and the server's
    /// runtime `handles`.
    pub fn new(config: &Config, source: DataSource, keys: KeysInForce, handles: Handles) -> Self {
        let Handles {
            shutdown,
            tasks,
            audit,
            metrics,
            cluster,
        } = handles;
        Self {
            source,
            keys,
            keepalive: config.sse_keepalive,
            max_body_bytes: config.max_body_bytes,
            body_read_timeout: config.body_read_timeout,
            upstream_timeout: config.upstream_timeout,
            overload_timeout: config.overload_timeout,
            max_sessions_per_key: config.max_streams_per_key,
            shutdown,
            tasks,
            audit,
            metrics,
            cluster,
            strict_protocol: config.strict_protocol,
            streams: Streams::new(
                config.max_streams_per_key,
                max_total_for(config.max_connections),
            ),
        }
    }

    /// `Retry-After` for a key at its stream cap (RATE-7): one keep-alive.
    pub fn cap_retry_after_secs(&self) -> u64 {
        self.keepalive.as_secs().max(1)
    }

    /// A posted body within this transport's bounds (MSG-3, NET-3) that
    /// holds no configured key (AUTH-7: such a body is refused and counted
    /// as a failed authentication, its reason in `log`); or the refusal to
    /// send.
    pub async fn read_message(
        &self,
        guard: &Guard,
        who: &Admitted,
        headers: &HeaderMap,
        body: BodySlot,
        log: &mut RequestLog,
    ) -> Result<Bytes, Response<Body>> {
        let bytes = read_body(headers, body, self.max_body_bytes, self.body_read_timeout).await?;
        guard.inspect(who, bytes).await.map_err(|refusal| {
            log.error = Some(refusal.reason);
            refusal.response()
        })
    }

    /// A posted body framed as one JSON-RPC message (MSG-3); a message's
    /// method, tool and arguments are noted in `log`, scrubbed of every key
    /// in force (LOG-1, LOG-2).
    pub fn frame(&self, bytes: &[u8], log: &mut RequestLog) -> Result<Framed, NotJson> {
        let framed = mcp::frame(bytes);
        if let Ok(Framed::Message(message)) = &framed {
            log.note(AuditFields::of(message, self.keys.load().redactor()));
        }
        framed
    }
}
