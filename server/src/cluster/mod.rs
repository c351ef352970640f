//! State shared between replicas through Redis (CLUSTER-* in
//! docs/contract.md), on only when `CFPB_MCP_REDIS_URL` is set; without it
//! nothing here runs and every limit and session is in-process as before.
//!
//! [`Cluster`] is its one door: [`Cluster::spend`] (the shared GCRA limiter,
//! CLUSTER-1), [`Cluster::claim`] / [`Cluster::release`] (a key's session
//! slots cluster-wide, CLUSTER-2, and which replica owns a session),
//! [`Cluster::forward`] and [`Cluster::reply`] (a request that landed on
//! the wrong replica, CLUSTER-3 and CLUSTER-7), [`Cluster::broadcast_reload`]
//! (AUTH-8 everywhere, CLUSTER-4). What other replicas send arrives in the
//! [`Inbox`], which the server hands to the router. Every call is bounded in
//! time and answers `None`/[`Forward::Unavailable`] while Redis is down, so
//! callers fall back to local state (CLUSTER-5): [`link`] owns that state.
//!
//! This module knows no transport and no guard: sessions and keys are hex
//! strings here.

mod gcra;
mod link;
mod slots;
mod url;
pub mod wire;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use dashmap::DashMap;
use futures::StreamExt;
use tokio::sync::{mpsc, oneshot};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

pub use gcra::{Gcra, SCRIPT as GCRA_SCRIPT, Spend};
pub use link::{COMMAND_TIMEOUT, Unreachable};
pub use url::{RedisUrl, RedisUrlError};

use crate::audit::AuditLog;
use link::Link;
pub use wire::{ForwardKind, Scope};
use wire::{ForwardReply, ForwardRequest, Reload};

/// How long an owner entry lives without a heartbeat: a replica that died
/// stops owning its sessions after this.
pub const OWNER_TTL: Duration = Duration::from_secs(30);
/// How often the owner entries of live sessions are renewed.
pub const HEARTBEAT: Duration = Duration::from_secs(10);
/// Forwarded requests waiting for this replica's transport, at most.
const INBOX_DEPTH: usize = 256;

/// Sessions renewed per script call.
const RENEW_BATCH: usize = 256;

/// The link to the other replicas. Cheap to clone.
#[derive(Clone)]
pub struct Cluster {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Cluster {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Cluster({}, replica {})",
            self.inner.link.url(),
            self.inner.replica
        )
    }
}

struct Inner {
    link: Link,
    /// This process's id among the replicas: random, fresh at each start.
    replica: String,
    gcra: redis::Script,
    claim: redis::Script,
    release: redis::Script,
    renew: redis::Script,
    forget_owner: redis::Script,
    /// Sessions this replica owns (id -> transport and key digest hex):
    /// renewed by the heartbeat.
    owned: DashMap<String, (Scope, String)>,
    /// Forwarded requests waiting for their owner's reply, by number.
    pending: DashMap<u64, oneshot::Sender<ForwardReply>>,
    next_id: AtomicU64,
}

/// What other replicas sent this one.
pub struct Inbox {
    /// POSTs for legacy sessions this replica owns; answer each with
    /// [`Cluster::reply`].
    pub forwarded: mpsc::Receiver<Forwarded>,
    /// Another replica re-read its keys: re-read ours.
    pub reloads: mpsc::Receiver<()>,
}

/// A request another replica received for a session this one owns.
#[derive(Debug)]
pub struct Forwarded {
    pub session: String,
    pub key: String,
    pub body: String,
    pub kind: ForwardKind,
    from: String,
    id: u64,
}

/// How a forwarded POST went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Forward {
    /// The owner answered: give this response.
    Answered {
        status: u16,
        body: String,
        error: Option<String>,
        /// Set when the body is not the contract's JSON (an event stream).
        content_type: Option<String>,
    },
    /// No live replica owns the session: it is unknown (404).
    NoOwner,
    /// The owner did not answer in time (503), or Redis is down (then the
    /// session can't be found: 404 as for any unknown session).
    Unavailable { redis_down: bool },
}

impl Cluster {
    /// Connect (refusing to start if Redis can't be reached) and start the
    /// heartbeat and the subscriber on `tasks`, until `shutdown`.
    pub async fn connect(
        url: RedisUrl,
        audit: AuditLog,
        shutdown: CancellationToken,
        tasks: &TaskTracker,
    ) -> Result<(Self, Inbox), Unreachable> {
        let link = Link::connect(url.clone(), audit).await?;
        let cluster = Self {
            inner: Arc::new(Inner {
                link,
                replica: hex::encode(rand::random::<[u8; 8]>()),
                gcra: redis::Script::new(GCRA_SCRIPT),
                claim: redis::Script::new(slots::CLAIM),
                release: redis::Script::new(slots::RELEASE),
                renew: redis::Script::new(slots::RENEW),
                forget_owner: redis::Script::new(slots::FORGET_OWNER),
                owned: DashMap::new(),
                pending: DashMap::new(),
                next_id: AtomicU64::new(1),
            }),
        };
        let (forwarded_tx, forwarded) = mpsc::channel(INBOX_DEPTH);
        let (reloads_tx, reloads) = mpsc::channel(4);
        tasks.spawn(cluster.clone().heartbeat(shutdown.clone()));
        tasks.spawn(
            cluster
                .clone()
                .subscribe(url, forwarded_tx, reloads_tx, shutdown),
        );
        Ok((cluster, Inbox { forwarded, reloads }))
    }

    /// This replica's id.
    pub fn replica(&self) -> &str {
        &self.inner.replica
    }

    /// Is Redis reachable now?
    pub fn is_up(&self) -> bool {
        self.inner.link.is_up()
    }

    /// Spend one cell of the shared bucket `bucket` (CLUSTER-1): `None` when
    /// Redis is down, and the caller decides locally.
    pub async fn spend(&self, bucket: &str, quota: Gcra) -> Option<Spend> {
        let mut invocation = self.inner.gcra.prepare_invoke();
        invocation
            .key(bucket)
            .arg(quota.interval_us)
            .arg(quota.tau_us);
        let (allowed, wait_us): (u8, u64) = self.inner.link.eval(&invocation).await?;
        Some(if allowed == 1 {
            Spend::Allowed { tat_us: 0 }
        } else {
            Spend::Denied { wait_us }
        })
    }

    /// A session of `scope` of the key `key` (digest hex) opens here: take
    /// one of the key's `max` slots of that transport cluster-wide
    /// (CLUSTER-2) and own the session (CLUSTER-3, CLUSTER-7).
    /// `Some(false)`: the key is at its cap on the cluster; `None`: Redis is
    /// down, the local cap alone decides (and the next heartbeat after Redis
    /// returns records the session).
    pub async fn claim(&self, scope: Scope, session: &str, key: &str, max: u32) -> Option<bool> {
        self.inner
            .owned
            .insert(session.to_owned(), (scope, key.to_owned()));
        let mut invocation = self.inner.claim.prepare_invoke();
        invocation
            .key(wire::slots_key(scope, key))
            .key(wire::owner_key(scope, session))
            .arg(OWNER_TTL.as_millis() as u64)
            .arg(max)
            .arg(wire::session_member(session))
            .arg(&self.inner.replica);
        let taken: u8 = self.inner.link.eval(&invocation).await?;
        if taken == 0 {
            self.inner.owned.remove(session);
        }
        Some(taken == 1)
    }

    /// A session claimed here ended: free its slot and ownership.
    pub async fn release(&self, session: &str) {
        let Some((_, (scope, key))) = self.inner.owned.remove(session) else {
            return;
        };
        let mut invocation = self.inner.release.prepare_invoke();
        invocation
            .key(wire::slots_key(scope, &key))
            .key(wire::owner_key(scope, session))
            .arg(wire::session_member(session))
            .arg(&self.inner.replica);
        let _: Option<i64> = self.inner.link.eval(&invocation).await;
    }

    /// Which other replica owns the session `session` of `scope`:
    /// `Some(None)` when none does, `None` when Redis is down.
    pub async fn owner(&self, scope: Scope, session: &str) -> Option<Option<String>> {
        let mut get = redis::cmd("GET");
        get.arg(wire::owner_key(scope, session));
        let owner: Option<String> = self.inner.link.run(get).await?;
        Some(owner.filter(|o| *o != self.inner.replica))
    }

    /// Send a request for `session` to the replica that owns it and wait (at
    /// most `wait`) for its answer.
    pub async fn forward(
        &self,
        kind: ForwardKind,
        session: &str,
        key: &str,
        body: String,
        wait: Duration,
    ) -> Forward {
        let scope = match kind {
            ForwardKind::Legacy => Scope::Legacy,
            ForwardKind::McpPost { .. } | ForwardKind::McpDelete | ForwardKind::McpGet => {
                Scope::Streamable
            }
        };
        let owner_key = wire::owner_key(scope, session);
        let Some(owner) = self.owner(scope, session).await else {
            return Forward::Unavailable { redis_down: true };
        };
        let Some(owner) = owner else {
            return Forward::NoOwner;
        };
        let id = self.inner.next_id.fetch_add(1, Ordering::Relaxed);
        let request = ForwardRequest {
            from: self.inner.replica.clone(),
            id,
            session: session.to_owned(),
            key: key.to_owned(),
            body,
            kind,
        };
        let Ok(payload) = serde_json::to_string(&request) else {
            return Forward::NoOwner;
        };
        let (tx, rx) = oneshot::channel();
        self.inner.pending.insert(id, tx);
        let mut publish = redis::cmd("PUBLISH");
        publish.arg(wire::forward_channel(&owner)).arg(payload);
        let heard: Option<u64> = self.inner.link.run(publish).await;
        let outcome = match heard {
            None => Forward::Unavailable { redis_down: true },
            // No one listens on the owner's channel: it died; its entry is stale.
            Some(0) => {
                let mut invocation = self.inner.forget_owner.prepare_invoke();
                invocation.key(&owner_key).arg(&owner);
                let _: Option<i64> = self.inner.link.eval(&invocation).await;
                Forward::NoOwner
            }
            Some(_) => match tokio::time::timeout(wait, rx).await {
                Ok(Ok(reply)) => Forward::Answered {
                    status: reply.status,
                    body: reply.body,
                    error: reply.error,
                    content_type: reply.content_type,
                },
                _ => Forward::Unavailable { redis_down: false },
            },
        };
        self.inner.pending.remove(&id);
        outcome
    }

    /// Answer a forwarded request; `content_type` only when the body is not
    /// the contract's JSON.
    pub async fn reply(
        &self,
        to: &Forwarded,
        status: u16,
        body: String,
        error: Option<&str>,
        content_type: Option<String>,
    ) {
        let reply = ForwardReply {
            id: to.id,
            status,
            body,
            error: error.map(str::to_owned),
            content_type,
        };
        let Ok(payload) = serde_json::to_string(&reply) else {
            return;
        };
        let mut publish = redis::cmd("PUBLISH");
        publish.arg(wire::reply_channel(&to.from)).arg(payload);
        let _: Option<u64> = self.inner.link.run(publish).await;
    }

    /// Tell every other replica to re-read its keys (CLUSTER-4).
    pub async fn broadcast_reload(&self) {
        let Ok(payload) = serde_json::to_string(&Reload {
            from: self.inner.replica.clone(),
        }) else {
            return;
        };
        let mut publish = redis::cmd("PUBLISH");
        publish.arg(wire::reload_channel()).arg(payload);
        let _: Option<u64> = self.inner.link.run(publish).await;
    }

    /// Once a second: probe Redis while it is down; every [`HEARTBEAT`],
    /// renew the owner entries of this replica's sessions (after an outage
    /// this re-creates them).
    async fn heartbeat(self, shutdown: CancellationToken) {
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let beats_per_renewal = HEARTBEAT.as_secs().max(1);
        let mut ticks = 0u64;
        let mut was_up = true;
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = tick.tick() => {}
            }
            ticks += 1;
            self.inner.link.probe().await;
            let up = self.inner.link.is_up();
            let came_back = up && !was_up;
            was_up = up;
            if up && (came_back || ticks.is_multiple_of(beats_per_renewal)) {
                self.renew().await;
            }
        }
    }

    async fn renew(&self) {
        let owned: Vec<(String, (Scope, String))> = self
            .inner
            .owned
            .iter()
            .map(|e| (e.key().clone(), e.value().clone()))
            .collect();
        // Bounded script size: at most RENEW_BATCH sessions per call.
        for batch in owned.chunks(RENEW_BATCH) {
            let mut invocation = self.inner.renew.prepare_invoke();
            invocation
                .arg(OWNER_TTL.as_millis() as u64)
                .arg(&self.inner.replica);
            for (session, (scope, key)) in batch {
                invocation
                    .key(wire::slots_key(*scope, key))
                    .key(wire::owner_key(*scope, session))
                    .arg(wire::session_member(session));
            }
            let _: Option<i64> = self.inner.link.eval(&invocation).await;
        }
    }

    /// Listen on this replica's channels until shutdown, reconnecting (once
    /// a second at most) whenever the subscription drops.
    async fn subscribe(
        self,
        url: RedisUrl,
        forwarded: mpsc::Sender<Forwarded>,
        reloads: mpsc::Sender<()>,
        shutdown: CancellationToken,
    ) {
        let Ok(client) = redis::Client::open(url.expose()) else {
            return;
        };
        let (fwd, reply, reload) = (
            wire::forward_channel(&self.inner.replica),
            wire::reply_channel(&self.inner.replica),
            wire::reload_channel(),
        );
        loop {
            let connected = tokio::time::timeout(link::CONNECT_TIMEOUT, async {
                let mut pubsub = client.get_async_pubsub().await?;
                pubsub.subscribe(&[&fwd, &reply, &reload]).await?;
                Ok::<_, redis::RedisError>(pubsub)
            })
            .await;
            if let Ok(Ok(pubsub)) = connected {
                let mut messages = pubsub.into_on_message();
                loop {
                    let message = tokio::select! {
                        _ = shutdown.cancelled() => return,
                        message = messages.next() => message,
                    };
                    let Some(message) = message else { break };
                    let payload = message.get_payload_bytes();
                    let channel = message.get_channel_name();
                    if channel == fwd {
                        self.take_forwarded(payload, &forwarded).await;
                    } else if channel == reply {
                        if let Ok(reply) = serde_json::from_slice::<ForwardReply>(payload)
                            && let Some((_, waiter)) = self.inner.pending.remove(&reply.id)
                        {
                            let _ = waiter.send(reply);
                        }
                    } else if channel == reload
                        && let Ok(r) = serde_json::from_slice::<Reload>(payload)
                        && r.from != self.inner.replica
                    {
                        let _ = reloads.try_send(());
                    }
                }
            }
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = tokio::time::sleep(Duration::from_secs(1)) => {}
            }
        }
    }

    async fn take_forwarded(&self, payload: &[u8], inbox: &mpsc::Sender<Forwarded>) {
        let Ok(request) = serde_json::from_slice::<ForwardRequest>(payload) else {
            return;
        };
        let forwarded = Forwarded {
            session: request.session,
            key: request.key,
            body: request.body,
            kind: request.kind,
            from: request.from,
            id: request.id,
        };
        if let Err(mpsc::error::TrySendError::Full(forwarded)) = inbox.try_send(forwarded) {
            // The transport is behind: the same answer a busy session gives.
            self.reply(&forwarded, 503, String::new(), Some("overloaded"), None)
                .await;
        }
    }
}
