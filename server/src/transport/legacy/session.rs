//! One HTTP+SSE session's state (SSE-5, MSG-2, MSG-6, RATE-7, AUTH-8 in
//! docs/contract.md) and the registry of live ones.
//!
//! A session is a pair of bounded channels into and out of one rmcp service,
//! which the first message posted starts (an idle stream holds no service
//! task and no inbound queue: issue 25), plus two bounds on what a client
//! that stops reading can make the server hold (MSG-6): requests not yet
//! answered on its stream, and bytes of answers written to the stream but
//! not yet taken by the connection. Which key owns it, and how many a key
//! may hold, is [`Owners`]'s job; this registry keeps the sessions
//! themselves beside it.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use dashmap::DashMap;
use rmcp::model::{ClientJsonRpcMessage, RequestId};
use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore, mpsc};
use tokio_util::sync::CancellationToken;

use crate::audit::EndReason;
use crate::identity::keys::{KeyDigest, KeySet};
use crate::sessions::{Owners, SessionCapReached, SessionId};

/// Messages a session's MCP service may have waiting to be handled (MSG-6).
pub const INBOUND_CAPACITY: usize = 16;
/// Responses a session may have waiting to be written to its stream (MSG-6).
pub const OUTBOUND_CAPACITY: usize = 16;
/// Requests a session may have between "posted" and "answered on the stream"
/// (MSG-6). rmcp handles each request in a task of its own, so the inbound
/// queue alone would not bound the work a fast poster can pile up: this does.
pub const MAX_IN_FLIGHT: usize = 32;
/// Bytes of stream frames a session may have queued that its connection has
/// not taken yet (MSG-6). Over it, new requests (and the JSON-RPC errors a
/// malformed post gets on the stream) wait for the client to read, then get
/// `503`: a client that never reads its stream holds about this much (plus
/// the answers already in flight, at most [`OUTBOUND_CAPACITY`] of them
/// queued, the MCP service held back behind them), whatever it posts.
pub const MAX_UNSENT_BYTES: usize = 256 * 1024;

/// A message into a session's MCP service, boxed: a tokio channel allocates
/// its slots 32 at a time when it is made, so an idle session's queues hold
/// 32 pointers each instead of 32 messages of ~500 bytes (issue 25).
pub type Inbound = Box<ClientJsonRpcMessage>;
/// A message onto a session's stream, framed when queued (its bytes count
/// from then, MSG-6), boxed for the same reason.
pub type Outbound = Box<Outgoing>;

/// One server message as its stream's frame.
pub struct Outgoing {
    /// The SSE event, as the connection will take it.
    pub frame: Bytes,
    /// The request it answers, if it is an answer: its room is freed when
    /// the frame is on the stream (MSG-6).
    pub answers: Option<RequestId>,
}

/// The frame's length only: what it says is the client's business.
impl std::fmt::Debug for Outgoing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Outgoing({} bytes)", self.frame.len())
    }
}

/// Starts a session's MCP service reading the queue it is handed.
pub type Start = Box<dyn FnOnce(&Arc<Session>, mpsc::Receiver<Inbound>) + Send>;

/// A session's MCP service: not started until a message is posted, then
/// the queue into it.
enum Service {
    Waiting(Start),
    Running(mpsc::Sender<Inbound>),
}

/// One live session.
pub struct Session {
    pub id: SessionId,
    /// Into the session's MCP service, once a message started it.
    service: Mutex<Service>,
    /// Onto the session's stream: the MCP service's messages, and replies
    /// it never sees.
    pub outbound: mpsc::Sender<Outbound>,
    /// Cancelled when the session must end (revocation, shutdown, MCP exit).
    pub cancel: CancellationToken,
    /// Set once `initialize` was forwarded; notifications before it are dropped.
    pub initialized: AtomicBool,
    end_reason: AtomicU8,
    /// One permit per request not yet answered on the stream (MSG-6).
    in_flight: Arc<Semaphore>,
    pending: Mutex<HashMap<RequestId, OwnedSemaphorePermit>>,
    /// Bytes queued for the stream and not yet taken by the connection.
    unsent: AtomicUsize,
    /// Signalled when `unsent` falls back under [`MAX_UNSENT_BYTES`].
    drained: Notify,
}

impl Session {
    /// The queue into the session's MCP service, which the first call starts
    /// (`None` only if the lock was poisoned).
    pub fn inbound(self: &Arc<Self>) -> Option<mpsc::Sender<Inbound>> {
        let mut service = self.service.lock().ok()?;
        if let Service::Running(queue) = &*service {
            return Some(queue.clone());
        }
        let (queue, receiver) = mpsc::channel(INBOUND_CAPACITY);
        if let Service::Waiting(start) =
            std::mem::replace(&mut *service, Service::Running(queue.clone()))
        {
            start(self, receiver);
        }
        Some(queue)
    }

    /// Whether a message has started the session's MCP service yet.
    #[cfg(test)]
    pub fn started(&self) -> bool {
        self.service
            .lock()
            .is_ok_and(|s| matches!(*s, Service::Running(_)))
    }

    /// End the session for `reason` (the first reason given wins).
    pub fn end(&self, reason: EndReason) {
        let _ = self.end_reason.compare_exchange(
            EndReason::ClientClosed as u8,
            reason as u8,
            Ordering::AcqRel,
            Ordering::Acquire,
        );
        self.cancel.cancel();
    }

    pub fn end_reason(&self) -> EndReason {
        EndReason::from_u8(self.end_reason.load(Ordering::Acquire))
    }

    /// Reserve room for request `id` until its answer is on the stream; wait at
    /// most `wait` (MSG-6) for a free slot and for the client to have read
    /// what is queued for it. An id already in flight in this session is
    /// refused: its answer could not be told from the first one's, and rmcp
    /// would answer only one of them.
    pub async fn admit(&self, id: RequestId, wait: Duration) -> Admission {
        if self.is_pending(&id) {
            return Admission::Duplicate;
        }
        let deadline = tokio::time::Instant::now() + wait;
        if !self.wait_for_reader(deadline).await {
            return Admission::Overloaded;
        }
        let permit =
            tokio::time::timeout_at(deadline, self.in_flight.clone().acquire_owned()).await;
        let Ok(Ok(permit)) = permit else {
            return Admission::Overloaded;
        };
        let Ok(mut pending) = self.pending.lock() else {
            return Admission::Overloaded;
        };
        match pending.entry(id) {
            std::collections::hash_map::Entry::Occupied(_) => Admission::Duplicate,
            std::collections::hash_map::Entry::Vacant(slot) => {
                slot.insert(permit);
                Admission::Admitted
            }
        }
    }

    /// Room on the stream for a reply that answers no admitted request (the
    /// JSON-RPC error of a malformed post): the same byte budget as a
    /// request's answer, waited for at most `wait` (MSG-6).
    pub async fn admit_reply(&self, wait: Duration) -> bool {
        self.wait_for_reader(tokio::time::Instant::now() + wait)
            .await
    }

    /// Wait until the queued bytes are under the budget; false at `deadline`.
    async fn wait_for_reader(&self, deadline: tokio::time::Instant) -> bool {
        loop {
            let drained = self.drained.notified();
            tokio::pin!(drained);
            // Registered before the check, so a drain in between is not missed.
            drained.as_mut().enable();
            if self.unsent() < MAX_UNSENT_BYTES {
                return true;
            }
            if tokio::time::timeout_at(deadline, drained).await.is_err() {
                return false;
            }
        }
    }

    /// `bytes` more were queued for the stream.
    pub fn queued(&self, bytes: usize) {
        self.unsent.fetch_add(bytes, Ordering::AcqRel);
    }

    /// The connection took `bytes` of what was queued.
    pub fn taken(&self, bytes: usize) {
        let before = self
            .unsent
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |u| {
                Some(u.saturating_sub(bytes))
            })
            .unwrap_or(0);
        if before >= MAX_UNSENT_BYTES && before.saturating_sub(bytes) < MAX_UNSENT_BYTES {
            self.drained.notify_waiters();
        }
    }

    /// Bytes queued for the stream and not yet taken by the connection.
    pub fn unsent(&self) -> usize {
        self.unsent.load(Ordering::Acquire)
    }

    fn is_pending(&self, id: &RequestId) -> bool {
        self.pending.lock().is_ok_and(|p| p.contains_key(id))
    }

    /// Requests admitted and not yet answered: when the stream ends, these
    /// answers can no longer be delivered (counted in `mcp_stream_end`).
    pub fn unanswered(&self) -> usize {
        self.pending.lock().map_or(0, |p| p.len())
    }

    /// Request `id` was answered (or cancelled, or never delivered): free its room.
    pub fn settle(&self, id: &RequestId) {
        if let Ok(mut pending) = self.pending.lock() {
            pending.remove(id);
        }
    }
}

/// The outcome of [`Session::admit`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admission {
    /// Room reserved until the answer is on the stream.
    Admitted,
    /// A request with this id is still in flight in this session (MSG-6).
    Duplicate,
    /// No room within the wait: the client is not reading its stream (MSG-6).
    Overloaded,
}

/// Keeps a session registered; dropping it removes the session and frees its
/// stream slot (SSE-5).
pub struct SessionGuard {
    registry: Arc<Registry>,
    pub session: Arc<Session>,
}

impl Drop for SessionGuard {
    fn drop(&mut self) {
        self.registry.remove(&self.session);
    }
}

/// All live sessions of this transport.
pub struct Registry {
    sessions: DashMap<SessionId, Arc<Session>>,
    owners: Owners,
}

impl Registry {
    pub fn new(max_streams_per_key: u32) -> Arc<Self> {
        Arc::new(Self {
            sessions: DashMap::new(),
            owners: Owners::new(max_streams_per_key),
        })
    }

    /// Open a session for `owner`, if the key has a free stream slot; `start`
    /// starts its MCP service when the first message is posted. The receiver
    /// is the session's outbound queue, for its stream.
    pub fn open(
        self: &Arc<Self>,
        owner: KeyDigest,
        parent: &CancellationToken,
        start: Start,
    ) -> Result<(SessionGuard, mpsc::Receiver<Outbound>), SessionCapReached> {
        let id = self.owners.open(owner)?;
        let (outbound_tx, outbound_rx) = mpsc::channel(OUTBOUND_CAPACITY);
        let session = Arc::new(Session {
            id,
            service: Mutex::new(Service::Waiting(start)),
            outbound: outbound_tx,
            cancel: parent.child_token(),
            initialized: AtomicBool::new(false),
            end_reason: AtomicU8::new(EndReason::ClientClosed as u8),
            in_flight: Arc::new(Semaphore::new(MAX_IN_FLIGHT)),
            pending: Mutex::new(HashMap::new()),
            unsent: AtomicUsize::new(0),
            drained: Notify::new(),
        });
        self.sessions.insert(session.id, session.clone());
        let guard = SessionGuard {
            registry: self.clone(),
            session,
        };
        Ok((guard, outbound_rx))
    }

    /// The session `id`, if it exists and `caller` opened it (MSG-2).
    pub fn get(&self, id: &SessionId, caller: &KeyDigest) -> Option<Arc<Session>> {
        if !self.owners.owned_by(id, caller) {
            return None;
        }
        self.sessions.get(id).map(|s| s.clone())
    }

    fn remove(&self, session: &Session) {
        self.sessions.remove(&session.id);
        self.owners.release(&session.id);
    }

    /// End every session whose key is no longer configured (AUTH-8).
    pub fn revoke_missing(&self, keys: &KeySet) -> usize {
        let mut ended = 0;
        for id in self.owners.revoked(keys) {
            if let Some(session) = self.sessions.get(&id) {
                session.end(EndReason::KeyRevoked);
                ended += 1;
            }
        }
        ended
    }

    /// End every session (graceful shutdown).
    pub fn end_all(&self) {
        for entry in &self.sessions {
            entry.end(EndReason::Shutdown);
        }
    }

    pub fn len(&self) -> usize {
        self.sessions.len()
    }

    #[cfg(test)]
    pub fn open_streams(&self, key: &KeyDigest) -> u32 {
        self.owners.held_by(key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::identity::keys::ApiKey;

    /// A service start that starts nothing.
    fn idle() -> Start {
        Box::new(|_, _| {})
    }

    /// What keeps an idle session small (issue 25): no MCP service and no
    /// inbound queue until a message is posted; the first one starts the
    /// service once, and every message after it goes to the same queue.
    #[tokio::test]
    async fn msg_1_an_idle_session_starts_its_service_with_the_first_message() {
        let registry = Registry::new(1);
        let starts = Arc::new(AtomicUsize::new(0));
        let counted = starts.clone();
        let (received_tx, mut received) = mpsc::unbounded_channel();
        let start: Start = Box::new(move |_, mut queue| {
            counted.fetch_add(1, Ordering::SeqCst);
            tokio::spawn(async move {
                while let Some(message) = queue.recv().await {
                    let _ = received_tx.send(message);
                }
            });
        });
        let (guard, _outbound) = registry
            .open(KeyDigest::of(b"a"), &CancellationToken::new(), start)
            .unwrap();
        let session = &guard.session;
        assert!(!session.started());
        assert_eq!(
            starts.load(Ordering::SeqCst),
            0,
            "an idle stream runs no service"
        );
        for n in 0..3 {
            let ping = serde_json::json!({"jsonrpc": "2.0", "id": n, "method": "ping"});
            let message: ClientJsonRpcMessage = serde_json::from_value(ping).unwrap();
            session
                .inbound()
                .unwrap()
                .send(Box::new(message))
                .await
                .unwrap();
        }
        assert!(session.started());
        assert_eq!(starts.load(Ordering::SeqCst), 1, "started once");
        for _ in 0..3 {
            assert!(received.recv().await.is_some(), "every message reached it");
        }
    }

    #[test]
    fn msg_2_sessions_are_bound_to_their_key_and_rate_7_capped() {
        let registry = Registry::new(2);
        let root = CancellationToken::new();
        let (a, b) = (KeyDigest::of(b"a"), KeyDigest::of(b"b"));
        let (g1, _c1) = registry.open(a, &root, idle()).unwrap();
        let (g2, _c2) = registry.open(a, &root, idle()).unwrap();
        assert!(registry.open(a, &root, idle()).is_err());
        assert!(registry.get(&g1.session.id, &a).is_some());
        assert!(registry.get(&g1.session.id, &b).is_none());
        assert!(registry.get(&SessionId::random(), &a).is_none());
        drop(g1);
        assert_eq!(registry.open_streams(&a), 1);
        let (_g3, _c3) = registry.open(a, &root, idle()).unwrap();
        drop(g2);
        assert_eq!(registry.len(), 1);
    }

    #[tokio::test]
    async fn msg_6_in_flight_requests_are_bounded() {
        let registry = Registry::new(1);
        let (guard, _channels) = registry
            .open(KeyDigest::of(b"a"), &CancellationToken::new(), idle())
            .unwrap();
        let session = &guard.session;
        let wait = Duration::from_millis(10);
        for n in 0..MAX_IN_FLIGHT as i64 {
            assert_eq!(
                session.admit(RequestId::Number(n), wait).await,
                Admission::Admitted
            );
        }
        assert_eq!(
            session.admit(RequestId::Number(999), wait).await,
            Admission::Overloaded,
            "over the bound"
        );
        session.settle(&RequestId::Number(3));
        assert_eq!(
            session.admit(RequestId::Number(999), wait).await,
            Admission::Admitted,
            "room again once answered"
        );
        assert_eq!(session.unanswered(), MAX_IN_FLIGHT);
    }

    #[tokio::test]
    async fn msg_6_unread_bytes_hold_new_requests_until_the_client_reads() {
        let registry = Registry::new(1);
        let (guard, _channels) = registry
            .open(KeyDigest::of(b"a"), &CancellationToken::new(), idle())
            .unwrap();
        let session = guard.session.clone();
        let wait = Duration::from_millis(20);
        session.queued(MAX_UNSENT_BYTES);
        assert_eq!(
            session.admit(RequestId::Number(1), wait).await,
            Admission::Overloaded,
            "the budget is spent and nobody reads"
        );
        let reader = session.clone();
        let waiting = tokio::spawn(async move {
            reader
                .admit(RequestId::Number(2), Duration::from_secs(30))
                .await
        });
        tokio::task::yield_now().await;
        session.taken(1);
        assert_eq!(
            waiting.await.unwrap(),
            Admission::Admitted,
            "woken by the read"
        );
        assert_eq!(session.unsent(), MAX_UNSENT_BYTES - 1);
        session.taken(usize::MAX);
        assert_eq!(session.unsent(), 0, "never below zero");
    }

    /// What keeps an idle session small (issue 25): its queues carry
    /// pointers, so the slots a channel allocates up front are 32 words,
    /// not 32 JSON-RPC messages (~15 KiB per queue unboxed).
    #[test]
    fn an_idle_sessions_queues_hold_pointers_not_messages() {
        assert_eq!(size_of::<Inbound>(), size_of::<usize>());
        assert_eq!(size_of::<Outbound>(), size_of::<usize>());
        assert!(size_of::<ClientJsonRpcMessage>() > 16 * size_of::<usize>());
        assert!(size_of::<Outgoing>() > 4 * size_of::<usize>());
    }

    #[test]
    fn auth_8_revocation_ends_only_that_keys_sessions() {
        let registry = Registry::new(8);
        let root = CancellationToken::new();
        let (ka, kb) = (ApiKey::new("key-a").unwrap(), ApiKey::new("key-b").unwrap());
        let (ga, _) = registry.open(ka.digest(), &root, idle()).unwrap();
        let (gb, _) = registry.open(kb.digest(), &root, idle()).unwrap();
        assert_eq!(registry.revoke_missing(&KeySet::new(vec![kb])), 1);
        assert!(ga.session.cancel.is_cancelled());
        assert_eq!(ga.session.end_reason(), EndReason::KeyRevoked);
        assert!(!gb.session.cancel.is_cancelled());
        registry.end_all();
        assert_eq!(gb.session.end_reason(), EndReason::Shutdown);
    }

    #[tokio::test]
    async fn msg_6_an_id_in_flight_is_refused_until_answered() {
        let registry = Registry::new(1);
        let (guard, _channels) = registry
            .open(KeyDigest::of(b"a"), &CancellationToken::new(), idle())
            .unwrap();
        let session = &guard.session;
        let wait = Duration::from_millis(10);
        let id = RequestId::String("same".into());
        assert_eq!(session.admit(id.clone(), wait).await, Admission::Admitted);
        assert_eq!(session.admit(id.clone(), wait).await, Admission::Duplicate);
        assert_eq!(session.unanswered(), 1);
        session.settle(&id);
        assert_eq!(session.admit(id, wait).await, Admission::Admitted);
    }
}
