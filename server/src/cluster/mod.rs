//! State shared between replicas through Redis (CLUSTER-* in
//! docs/contract.md), on only when `CFPB_MCP_REDIS_URL` is set; without it
//! nothing here runs and every limit and session is in-process as before.
//!
//! [`Cluster`] is its one door: [`Cluster::spend`] (the shared GCRA limiter,
//! CLUSTER-1), [`Cluster::claim`] / [`Cluster::release`] (a key's session
//! slots cluster-wide, CLUSTER-2, and which replica owns a session),
//! [`Cluster::forward`] and [`Cluster::reply`] (a request that landed on
//! the wrong replica, CLUSTER-3 and CLUSTER-7),
//! [`Cluster::announce_reload`] and [`Cluster::keys_installed`] (AUTH-8
//! everywhere, CLUSTER-4, and a reload that reaches every replica even one
//! that missed the broadcast, CLUSTER-11). What other replicas send arrives
//! in the [`Inbox`], which the server hands to the router. Every call is
//! bounded in time and answers `None`/[`Forward::Unavailable`] while Redis
//! is down, so callers fall back to local state (CLUSTER-5): `link` owns
//! that state.
//!
//! Redis is not trusted (CLUSTER-8..10): every message on pub/sub is sealed
//! with the cluster secret (`seal`) and what does not open is dropped and
//! counted (`drops`); every name and payload holds keyed digests
//! (`secret`), never a key's plain hash, a session id or a client address;
//! whatever is read back is parsed as untrusted input.
//!
//! This module knows no transport and no guard: sessions and keys are hex
//! strings here.

mod drops;
mod gcra;
mod keyset;
mod link;
mod seal;
mod secret;
mod slots;
mod url;
mod wire;

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use dashmap::DashMap;
use futures::StreamExt;
use subtle::ConstantTimeEq;
use tokio::sync::{Notify, mpsc, oneshot};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

pub use gcra::{Gcra, SCRIPT as GCRA_SCRIPT, Spend};
pub use keyset::{ANNOUNCE as KEYSET_ANNOUNCE_SCRIPT, RESTORE as KEYSET_RESTORE_SCRIPT};
pub use link::{COMMAND_TIMEOUT, Unreachable};
pub use secret::{
    ClusterSecret, MIN_SECRET_BYTES, SECRET_FILE_VAR, SECRET_VAR, SecretError, SecretSettingError,
    SecretText,
};
pub use url::{RedisUrl, RedisUrlError};

use crate::audit::{AuditLog, Event};
use crate::identity::AuthMethod;
use crate::metrics::Metrics;
use drops::Drops;
use keyset::{FileWatch, Record, Step};
use link::Link;
use seal::{Dropped, Replays, now_ms};
pub use wire::{ForwardKind, Scope, auth_fail_bucket, key_bucket};
use wire::{ForwardReply, ForwardRequest, Reload};

/// How long an owner entry lives without a heartbeat: a replica that died
/// stops owning its sessions after this.
pub const OWNER_TTL: Duration = Duration::from_secs(30);
/// How often the owner entries of live sessions are renewed.
pub const HEARTBEAT: Duration = Duration::from_secs(10);
/// How often each replica compares its key set with the cluster's record
/// and polls its keys file (CLUSTER-11): with Redis reachable, a replica
/// that missed a reload re-reads its keys within this plus one command
/// timeout.
pub const KEYS_CHECK: Duration = Duration::from_secs(1);
/// Forwarded requests waiting for this replica's transport, at most.
const INBOX_DEPTH: usize = 256;

/// Sessions renewed per script call.
const RENEW_BATCH: usize = 256;

/// What [`Cluster::connect`] needs besides the server's own handles.
#[derive(Debug)]
pub struct Settings {
    pub url: RedisUrl,
    /// Signs every message and keys every digest (CLUSTER-8..10).
    pub secret: ClusterSecret,
    /// The keys file, polled for changes on disk (CLUSTER-11).
    pub keys_file: Option<PathBuf>,
}

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
    secret: ClusterSecret,
    gcra: redis::Script,
    claim: redis::Script,
    release: redis::Script,
    renew: redis::Script,
    forget_owner: redis::Script,
    announce: redis::Script,
    restore: redis::Script,
    /// Sessions this replica owns, by their keyed digest (the name other
    /// replicas use for them): renewed by the heartbeat, and how a forwarded
    /// request finds its session and checks its caller.
    owned: DashMap<String, Owned>,
    /// Forwarded requests waiting for their owner's reply, by correlation id.
    pending: DashMap<String, oneshot::Sender<ForwardReply>>,
    /// Nonces of the messages taken lately (CLUSTER-9).
    replays: Replays,
    drops: Drops,
    audit: AuditLog,
    keys: KeysState,
    /// Tells the router to re-read the keys.
    reloads: mpsc::Sender<KeysChanged>,
    /// Wakes the heartbeat at once (after a resubscribe).
    check_now: Notify,
    /// The keys file as last seen on disk (CLUSTER-11).
    watch: Mutex<FileWatch>,
}

/// One session this replica owns.
#[derive(Clone)]
struct Owned {
    session: String,
    scope: Scope,
    /// The key's digest (hex), as the transports name it.
    key: String,
    /// Its keyed digest, as Redis and other replicas see it.
    keyed: String,
}

/// Where this replica stands on the cluster's key-set record (CLUSTER-11).
#[derive(Default)]
struct KeysState {
    /// The version (keyed digest) of the key set installed here.
    local: Mutex<Option<String>>,
    /// The newest reload generation this replica has acted on.
    known: AtomicU64,
    /// A reload here could not be recorded in Redis yet: retry.
    announce_pending: AtomicBool,
    /// The version of the reload being followed, to warn if our keys file
    /// gives another key set.
    following: Mutex<Option<String>>,
}

/// Why the keys must be re-read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeysChanged {
    /// Another replica reloaded (broadcast, or the record in Redis says we
    /// missed it): re-read the keys here only.
    Elsewhere,
    /// The keys file changed on disk: a reload like SIGHUP's, announced to
    /// the other replicas.
    OnDisk,
}

/// What other replicas sent this one.
pub struct Inbox {
    /// POSTs for legacy sessions this replica owns; answer each with
    /// [`Cluster::reply`].
    pub forwarded: mpsc::Receiver<Forwarded>,
    /// Re-read the keys, and why.
    pub reloads: mpsc::Receiver<KeysChanged>,
}

/// A request another replica received for a session this one owns, its
/// session and caller already resolved against this replica's own sessions:
/// `session` and `key` are empty when the session is not owned here or is
/// not the caller's (the transports answer 404).
pub struct Forwarded {
    /// The session id.
    pub session: String,
    /// The caller's key digest (hex), when it is the session's key.
    pub key: String,
    pub body: String,
    pub kind: ForwardKind,
    /// How the sender admitted the caller (CLUSTER-10).
    pub method: AuthMethod,
    from: String,
    id: String,
}

impl std::fmt::Debug for Forwarded {
    /// No session id (a capability), key digest or body.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Forwarded")
            .field("from", &self.from)
            .field("kind", &self.kind)
            .field("body_bytes", &self.body.len())
            .finish_non_exhaustive()
    }
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
        settings: Settings,
        audit: AuditLog,
        metrics: Arc<Metrics>,
        shutdown: CancellationToken,
        tasks: &TaskTracker,
    ) -> Result<(Self, Inbox), Unreachable> {
        let Settings {
            url,
            secret,
            keys_file,
        } = settings;
        let link = Link::connect(url.clone(), audit.clone()).await?;
        let (forwarded_tx, forwarded) = mpsc::channel(INBOX_DEPTH);
        let (reloads_tx, reloads) = mpsc::channel(4);
        let cluster = Self {
            inner: Arc::new(Inner {
                link,
                replica: hex::encode(rand::random::<[u8; 16]>()),
                secret,
                gcra: redis::Script::new(GCRA_SCRIPT),
                claim: redis::Script::new(slots::CLAIM),
                release: redis::Script::new(slots::RELEASE),
                renew: redis::Script::new(slots::RENEW),
                forget_owner: redis::Script::new(slots::FORGET_OWNER),
                announce: redis::Script::new(keyset::ANNOUNCE),
                restore: redis::Script::new(keyset::RESTORE),
                owned: DashMap::new(),
                pending: DashMap::new(),
                replays: Replays::default(),
                drops: Drops::new(metrics, audit.clone()),
                audit,
                keys: KeysState::default(),
                reloads: reloads_tx,
                check_now: Notify::new(),
                watch: Mutex::new(FileWatch::new(keys_file)),
            }),
        };
        tasks.spawn(cluster.clone().heartbeat(shutdown.clone()));
        tasks.spawn(cluster.clone().subscribe(url, forwarded_tx, shutdown));
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

    /// A session's name in Redis and between replicas: its keyed digest.
    fn member(&self, session: &str) -> String {
        self.inner.secret.digest("session", session)
    }

    /// A key digest's name in Redis and between replicas.
    fn keyed(&self, key_hex: &str) -> String {
        self.inner.secret.digest("key", key_hex)
    }

    /// Spend one cell of the shared bucket named `bucket` (CLUSTER-1; the
    /// name is keyed before it reaches Redis, CLUSTER-10): `None` when Redis
    /// is down, and the caller decides locally.
    pub async fn spend(&self, bucket: &str, quota: Gcra) -> Option<Spend> {
        let key = wire::bucket_key(&self.inner.secret.digest("bucket", bucket));
        let mut invocation = self.inner.gcra.prepare_invoke();
        invocation.key(key).arg(quota.interval_us).arg(quota.tau_us);
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
        let member = self.member(session);
        let owned = Owned {
            session: session.to_owned(),
            scope,
            key: key.to_owned(),
            keyed: self.keyed(key),
        };
        let mut invocation = self.inner.claim.prepare_invoke();
        invocation
            .key(wire::slots_key(scope, &owned.keyed))
            .key(wire::owner_key(scope, &member))
            .arg(OWNER_TTL.as_millis() as u64)
            .arg(max)
            .arg(&member)
            .arg(&self.inner.replica);
        self.inner.owned.insert(member.clone(), owned);
        let taken: u8 = self.inner.link.eval(&invocation).await?;
        if taken == 0 {
            self.inner.owned.remove(&member);
        }
        Some(taken == 1)
    }

    /// A session claimed here ended: free its slot and ownership.
    pub async fn release(&self, session: &str) {
        let member = self.member(session);
        let Some((_, owned)) = self.inner.owned.remove(&member) else {
            return;
        };
        let mut invocation = self.inner.release.prepare_invoke();
        invocation
            .key(wire::slots_key(owned.scope, &owned.keyed))
            .key(wire::owner_key(owned.scope, &member))
            .arg(&member)
            .arg(&self.inner.replica);
        let _: Option<i64> = self.inner.link.eval(&invocation).await;
    }

    /// Which other replica owns the session `session` of `scope`:
    /// `Some(None)` when none does, `None` when Redis is down.
    pub async fn owner(&self, scope: Scope, session: &str) -> Option<Option<String>> {
        self.owner_of(scope, &self.member(session)).await
    }

    async fn owner_of(&self, scope: Scope, member: &str) -> Option<Option<String>> {
        let mut get = redis::cmd("GET");
        get.arg(wire::owner_key(scope, member));
        let owner: Option<String> = self.inner.link.run(get).await?;
        Some(owner.filter(|o| *o != self.inner.replica && is_replica_id(o)))
    }

    /// Send a request for `session` to the replica that owns it and wait (at
    /// most `wait`) for its answer. The message names the session and the
    /// caller by keyed digests only, and is sealed (CLUSTER-9, CLUSTER-10).
    pub async fn forward(
        &self,
        kind: ForwardKind,
        session: &str,
        (method, key): (AuthMethod, &str),
        body: String,
        wait: Duration,
    ) -> Forward {
        let scope = match kind {
            ForwardKind::Legacy => Scope::Legacy,
            ForwardKind::McpPost { .. } | ForwardKind::McpDelete | ForwardKind::McpGet => {
                Scope::Streamable
            }
        };
        let member = self.member(session);
        let Some(owner) = self.owner_of(scope, &member).await else {
            return Forward::Unavailable { redis_down: true };
        };
        let Some(owner) = owner else {
            return Forward::NoOwner;
        };
        let id = hex::encode(rand::random::<[u8; 16]>());
        let request = ForwardRequest {
            from: self.inner.replica.clone(),
            id: id.clone(),
            session: member.clone(),
            key: self.keyed(key),
            body,
            kind,
            method,
        };
        let channel = wire::forward_channel(&owner);
        let Some(payload) = seal::seal(&self.inner.secret, &channel, &request, now_ms()) else {
            return Forward::NoOwner;
        };
        let (tx, rx) = oneshot::channel();
        self.inner.pending.insert(id.clone(), tx);
        let mut publish = redis::cmd("PUBLISH");
        publish.arg(channel).arg(payload);
        let heard: Option<u64> = self.inner.link.run(publish).await;
        let outcome = match heard {
            None => Forward::Unavailable { redis_down: true },
            // No one listens on the owner's channel: it died; its entry is stale.
            Some(0) => {
                let mut invocation = self.inner.forget_owner.prepare_invoke();
                invocation.key(wire::owner_key(scope, &member)).arg(&owner);
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
            id: to.id.clone(),
            status,
            body,
            error: error.map(str::to_owned),
            content_type,
        };
        let channel = wire::reply_channel(&to.from);
        let Some(payload) = seal::seal(&self.inner.secret, &channel, &reply, now_ms()) else {
            return;
        };
        let mut publish = redis::cmd("PUBLISH");
        publish.arg(channel).arg(payload);
        let _: Option<u64> = self.inner.link.run(publish).await;
    }

    /// The key set now in force here, as its key digests (hex): called at
    /// start and after every reload, so this replica knows its version
    /// (CLUSTER-11).
    pub fn keys_installed(&self, digests: Vec<String>) {
        let version = self
            .inner
            .secret
            .digest("keyset", &keyset::version_input(digests));
        let followed = self
            .inner
            .keys
            .following
            .lock()
            .ok()
            .and_then(|mut f| f.take());
        if followed.is_some_and(|v| v != version) {
            self.inner.audit.write(&Event::ServerWarning {
                message: "after a reload on another replica, this replica's keys file gives \
                          another key set: are the keys files the same? (CLUSTER-11)",
            });
        }
        if let Ok(mut local) = self.inner.keys.local.lock() {
            *local = Some(version);
        }
    }

    /// A reload happened here (SIGHUP, or the keys file changed on disk):
    /// record it in Redis as a new generation and tell every other replica
    /// to re-read its keys (CLUSTER-4). While Redis is down it is retried
    /// from the heartbeat, so a reload made during an outage still reaches
    /// every replica once Redis is back (CLUSTER-11).
    pub async fn announce_reload(&self) {
        let Some(version) = self.local_version() else {
            return;
        };
        let keys = &self.inner.keys;
        let mut invocation = self.inner.announce.prepare_invoke();
        invocation
            .key(keyset::RECORD_KEY)
            .arg(keys.known.load(Ordering::Acquire))
            .arg(&version);
        let Some(generation) = self.inner.link.eval::<u64>(&invocation).await else {
            keys.announce_pending.store(true, Ordering::Release);
            return;
        };
        keys.known.fetch_max(generation, Ordering::AcqRel);
        keys.announce_pending.store(false, Ordering::Release);
        let channel = wire::reload_channel();
        let reload = Reload {
            from: self.inner.replica.clone(),
            generation,
            version,
        };
        let Some(payload) = seal::seal(&self.inner.secret, &channel, &reload, now_ms()) else {
            return;
        };
        let mut publish = redis::cmd("PUBLISH");
        publish.arg(channel).arg(payload);
        let _: Option<u64> = self.inner.link.run(publish).await;
    }

    fn local_version(&self) -> Option<String> {
        self.inner.keys.local.lock().ok().and_then(|l| l.clone())
    }

    /// Re-read the keys here (a reload elsewhere), following `version`.
    fn follow(&self, version: &str) {
        if let Ok(mut following) = self.inner.keys.following.lock() {
            *following = Some(version.to_owned());
        }
        // The re-read below reads the file as it is now: a change already on
        // disk needs no second reload of its own.
        if let Ok(mut watch) = self.inner.watch.lock() {
            watch.changed();
        }
        // Full: a re-read is already queued, and it reads the file as it is then.
        let _ = self.inner.reloads.try_send(KeysChanged::Elsewhere);
    }

    /// CLUSTER-11: compare the cluster's key-set record with ours and act.
    async fn converge(&self) {
        let Some(local) = self.local_version() else {
            return;
        };
        let keys = &self.inner.keys;
        if keys.announce_pending.load(Ordering::Acquire) {
            self.announce_reload().await;
            return;
        }
        let mut get = redis::cmd("GET");
        get.arg(keyset::RECORD_KEY);
        let Some(stored) = self.inner.link.run::<Option<String>>(get).await else {
            return;
        };
        let record = stored.as_deref().and_then(Record::parse);
        let known = keys.known.load(Ordering::Acquire);
        match keyset::decide(record.as_ref(), known, &local) {
            Step::Nothing => {}
            Step::Adopt(generation) => {
                keys.known.fetch_max(generation, Ordering::AcqRel);
            }
            Step::Follow(generation) => {
                keys.known.fetch_max(generation, Ordering::AcqRel);
                if let Some(record) = &record {
                    self.follow(&record.version);
                }
            }
            Step::Restore => {
                let mut invocation = self.inner.restore.prepare_invoke();
                invocation.key(keyset::RECORD_KEY).arg(known).arg(&local);
                let _: Option<i64> = self.inner.link.eval(&invocation).await;
            }
        }
    }

    /// Every [`KEYS_CHECK`] (and at once after a resubscribe): probe Redis
    /// while it is down, poll the keys file, compare the key-set record
    /// (CLUSTER-11); every [`HEARTBEAT`], renew the owner entries of this
    /// replica's sessions (after an outage this re-creates them); write the
    /// dropped-message summaries that are due.
    async fn heartbeat(self, shutdown: CancellationToken) {
        let mut tick = tokio::time::interval(KEYS_CHECK);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut renewed = Instant::now();
        let mut was_up = true;
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = tick.tick() => {}
                _ = self.inner.check_now.notified() => {}
            }
            self.inner.link.probe().await;
            let up = self.inner.link.is_up();
            let came_back = up && !was_up;
            was_up = up;
            let on_disk = self.inner.watch.lock().is_ok_and(|mut w| w.changed());
            if on_disk {
                let _ = self.inner.reloads.try_send(KeysChanged::OnDisk);
            }
            if up {
                self.converge().await;
            }
            if up && (came_back || renewed.elapsed() >= HEARTBEAT) {
                renewed = Instant::now();
                self.renew().await;
            }
            self.inner.drops.flush();
            self.inner.replays.prune(now_ms());
        }
    }

    async fn renew(&self) {
        let owned: Vec<(String, Owned)> = self
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
            for (member, owned) in batch {
                invocation
                    .key(wire::slots_key(owned.scope, &owned.keyed))
                    .key(wire::owner_key(owned.scope, member))
                    .arg(member);
            }
            let _: Option<i64> = self.inner.link.eval(&invocation).await;
        }
    }

    /// Listen on this replica's channels until shutdown, reconnecting (once
    /// a second at most) whenever the subscription drops. Every message is
    /// opened ([`seal::open`]) before anything else looks at it; what does
    /// not open is counted and dropped (CLUSTER-9).
    async fn subscribe(
        self,
        url: RedisUrl,
        forwarded: mpsc::Sender<Forwarded>,
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
                // Anything broadcast while we were not listening is in the
                // key-set record: compare now (CLUSTER-11).
                self.inner.check_now.notify_one();
                let mut messages = pubsub.into_on_message();
                loop {
                    let message = tokio::select! {
                        _ = shutdown.cancelled() => return,
                        message = messages.next() => message,
                    };
                    let Some(message) = message else { break };
                    let payload = message.get_payload_bytes();
                    let channel = message.get_channel_name();
                    let outcome = if channel == fwd {
                        self.take_forwarded(&fwd, payload, &forwarded).await
                    } else if channel == reply {
                        self.take_reply(&reply, payload)
                    } else if channel == reload {
                        self.take_reload(&reload, payload)
                    } else {
                        Ok(())
                    };
                    if let Err(dropped) = outcome {
                        self.inner.drops.record(dropped);
                    }
                }
            }
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = tokio::time::sleep(Duration::from_secs(1)) => {}
            }
        }
    }

    fn open<T: serde::de::DeserializeOwned>(
        &self,
        channel: &str,
        payload: &[u8],
    ) -> Result<T, Dropped> {
        let inner = &self.inner;
        seal::open(&inner.secret, channel, payload, now_ms(), &inner.replays)
    }

    /// A forwarded request, resolved against this replica's own sessions:
    /// the session by its keyed digest, the caller only if it is that
    /// session's key (CLUSTER-10). The router then re-checks that key
    /// against the key set in force here before answering.
    async fn take_forwarded(
        &self,
        channel: &str,
        payload: &[u8],
        inbox: &mpsc::Sender<Forwarded>,
    ) -> Result<(), Dropped> {
        let request: ForwardRequest = self.open(channel, payload)?;
        let (session, key) = match self.inner.owned.get(&request.session) {
            Some(owned) if bool::from(owned.keyed.as_bytes().ct_eq(request.key.as_bytes())) => {
                (owned.session.clone(), owned.key.clone())
            }
            _ => (String::new(), String::new()),
        };
        let forwarded = Forwarded {
            session,
            key,
            body: request.body,
            kind: request.kind,
            method: request.method,
            from: request.from,
            id: request.id,
        };
        if let Err(mpsc::error::TrySendError::Full(forwarded)) = inbox.try_send(forwarded) {
            // The transport is behind: the same answer a busy session gives.
            self.reply(&forwarded, 503, String::new(), Some("overloaded"), None)
                .await;
        }
        Ok(())
    }

    fn take_reply(&self, channel: &str, payload: &[u8]) -> Result<(), Dropped> {
        let reply: ForwardReply = self.open(channel, payload)?;
        // A reply to nothing pending (it came after the wait) is let go.
        if let Some((_, waiter)) = self.inner.pending.remove(&reply.id) {
            let _ = waiter.send(reply);
        }
        Ok(())
    }

    fn take_reload(&self, channel: &str, payload: &[u8]) -> Result<(), Dropped> {
        let reload: Reload = self.open(channel, payload)?;
        if reload.from == self.inner.replica {
            return Ok(());
        }
        let keys = &self.inner.keys;
        keys.known.fetch_max(reload.generation, Ordering::AcqRel);
        if self.local_version().as_deref() != Some(reload.version.as_str()) {
            self.follow(&reload.version);
        }
        Ok(())
    }
}

/// A replica id as this code makes them (32 hex characters): an owner
/// entry holding anything else is not followed (Redis is not trusted).
fn is_replica_id(text: &str) -> bool {
    text.len() == 32 && text.bytes().all(|b| b.is_ascii_hexdigit())
}
