//! MCP sessions (SSE-2, SSE-5, MSG-2, MSG-6, RATE-7, AUTH-8): the registry of
//! live sessions, each bound to the key that opened it.
//!
//! A session is a pair of bounded channels into and out of one rmcp service.
//! Its id is 128 bits from the OS-seeded CSPRNG, shown as 32 lower-case hex
//! characters; a full id is a capability and is never logged (only an 8-char
//! prefix). Looking a session up requires the caller's key: another key's
//! session is indistinguishable from an unknown one.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use dashmap::DashMap;
use rmcp::model::{ClientJsonRpcMessage, RequestId, ServerJsonRpcMessage};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc};
use tokio_util::sync::CancellationToken;

use crate::guard::keys::{KeyDigest, KeySet};

/// Messages a session's MCP service may have waiting to be handled (MSG-6).
pub const INBOUND_CAPACITY: usize = 16;
/// Responses a session may have waiting to be written to its stream (MSG-6).
pub const OUTBOUND_CAPACITY: usize = 16;
/// Requests a session may have between "posted" and "answered on the stream"
/// (MSG-6). rmcp handles each request in a task of its own, so the inbound
/// queue alone would not bound the work a fast poster can pile up: this does.
pub const MAX_IN_FLIGHT: usize = 32;

/// A session id: 128 random bits.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct SessionId([u8; 16]);

impl SessionId {
    pub fn random() -> Self {
        Self(rand::random())
    }

    /// Parse the 32 lower-case hex characters of a session id. Pure.
    pub fn parse(text: &str) -> Option<Self> {
        if text.len() != 32 || !text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
            return None;
        }
        let mut bytes = [0u8; 16];
        hex::decode_to_slice(text, &mut bytes).ok()?;
        Some(Self(bytes))
    }

    /// The 8-character prefix that may be logged.
    pub fn log_prefix(&self) -> String {
        hex::encode(&self.0[..4])
    }
}

impl std::fmt::Display for SessionId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&hex::encode(self.0))
    }
}

impl std::fmt::Debug for SessionId {
    // The full id is a capability: Debug shows the loggable prefix only.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SessionId({}…)", self.log_prefix())
    }
}

/// Why a session ended, for the `mcp_stream_end` line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum EndReason {
    ClientClosed = 0,
    KeyRevoked = 1,
    Shutdown = 2,
    McpClosed = 3,
}

impl EndReason {
    pub fn as_str(self) -> &'static str {
        match self {
            EndReason::ClientClosed => "client_closed",
            EndReason::KeyRevoked => "key_revoked",
            EndReason::Shutdown => "shutdown",
            EndReason::McpClosed => "mcp_closed",
        }
    }

    fn from_u8(v: u8) -> Self {
        match v {
            1 => EndReason::KeyRevoked,
            2 => EndReason::Shutdown,
            3 => EndReason::McpClosed,
            _ => EndReason::ClientClosed,
        }
    }
}

/// One live session.
pub struct Session {
    pub id: SessionId,
    /// The key that opened it; only that key may post to it.
    pub owner: KeyDigest,
    /// Into the session's MCP service.
    pub inbound: mpsc::Sender<ClientJsonRpcMessage>,
    /// Onto the session's stream, for replies the MCP service never sees.
    pub outbound: mpsc::Sender<ServerJsonRpcMessage>,
    /// Cancelled when the session must end (revocation, shutdown, MCP exit).
    pub cancel: CancellationToken,
    /// Set once `initialize` was forwarded; notifications before it are dropped.
    pub initialized: AtomicBool,
    end_reason: AtomicU8,
    /// One permit per request not yet answered on the stream (MSG-6).
    in_flight: Arc<Semaphore>,
    pending: Mutex<HashMap<RequestId, OwnedSemaphorePermit>>,
}

impl Session {
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
    /// most `wait`. `false` means the session is overloaded (MSG-6).
    pub async fn admit(&self, id: RequestId, wait: Duration) -> bool {
        let permit = tokio::time::timeout(wait, self.in_flight.clone().acquire_owned()).await;
        match permit {
            Ok(Ok(permit)) => {
                // A reused id replaces (and frees) the earlier reservation.
                if let Ok(mut pending) = self.pending.lock() {
                    pending.insert(id, permit);
                }
                true
            }
            _ => false,
        }
    }

    /// Request `id` was answered (or cancelled, or never delivered): free its room.
    pub fn settle(&self, id: &RequestId) {
        if let Ok(mut pending) = self.pending.lock() {
            pending.remove(id);
        }
    }

    /// Requests admitted and not yet answered.
    pub fn in_flight(&self) -> usize {
        self.pending.lock().map_or(0, |p| p.len())
    }
}

/// The receiving ends of a new session's channels, for its stream task.
pub struct SessionChannels {
    pub inbound: mpsc::Receiver<ClientJsonRpcMessage>,
    pub outbound_tx: mpsc::Sender<ServerJsonRpcMessage>,
    pub outbound: mpsc::Receiver<ServerJsonRpcMessage>,
}

/// Keeps a session registered; dropping it removes the session and frees its
/// stream slot (SSE-5).
pub struct SessionGuard {
    registry: Arc<SessionRegistry>,
    pub session: Arc<Session>,
}

impl Drop for SessionGuard {
    fn drop(&mut self) {
        self.registry.remove(&self.session);
    }
}

/// Too many open streams for this key (RATE-7).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StreamCapReached;

/// All live sessions.
pub struct SessionRegistry {
    sessions: DashMap<SessionId, Arc<Session>>,
    streams_per_key: DashMap<KeyDigest, u32>,
    max_streams_per_key: u32,
}

impl SessionRegistry {
    pub fn new(max_streams_per_key: u32) -> Arc<Self> {
        Arc::new(Self {
            sessions: DashMap::new(),
            streams_per_key: DashMap::new(),
            max_streams_per_key,
        })
    }

    /// Open a session for `owner`, if the key has a free stream slot.
    pub fn open(
        self: &Arc<Self>,
        owner: KeyDigest,
        parent: &CancellationToken,
    ) -> Result<(SessionGuard, SessionChannels), StreamCapReached> {
        {
            let mut open = self.streams_per_key.entry(owner).or_insert(0);
            if *open >= self.max_streams_per_key {
                return Err(StreamCapReached);
            }
            *open += 1;
        }
        let (inbound_tx, inbound_rx) = mpsc::channel(INBOUND_CAPACITY);
        let (outbound_tx, outbound_rx) = mpsc::channel(OUTBOUND_CAPACITY);
        let session = Arc::new(Session {
            id: SessionId::random(),
            owner,
            inbound: inbound_tx,
            outbound: outbound_tx.clone(),
            cancel: parent.child_token(),
            initialized: AtomicBool::new(false),
            end_reason: AtomicU8::new(EndReason::ClientClosed as u8),
            in_flight: Arc::new(Semaphore::new(MAX_IN_FLIGHT)),
            pending: Mutex::new(HashMap::new()),
        });
        self.sessions.insert(session.id, session.clone());
        let guard = SessionGuard {
            registry: self.clone(),
            session,
        };
        let channels = SessionChannels {
            inbound: inbound_rx,
            outbound_tx,
            outbound: outbound_rx,
        };
        Ok((guard, channels))
    }

    /// The session `id`, if it exists and `caller` opened it (MSG-2).
    pub fn get(&self, id: &SessionId, caller: &KeyDigest) -> Option<Arc<Session>> {
        let session = self.sessions.get(id)?;
        (session.owner == *caller).then(|| session.clone())
    }

    fn remove(&self, session: &Session) {
        self.sessions.remove(&session.id);
        if let dashmap::Entry::Occupied(mut open) = self.streams_per_key.entry(session.owner) {
            *open.get_mut() = open.get().saturating_sub(1);
            if *open.get() == 0 {
                open.remove();
            }
        }
    }

    /// End every session whose key is no longer configured (AUTH-8).
    pub fn revoke_missing(&self, keys: &KeySet) -> usize {
        let mut ended = 0;
        for entry in &self.sessions {
            if !keys.contains(&entry.owner) && entry.owner != KeyDigest::anonymous() {
                entry.end(EndReason::KeyRevoked);
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

    pub fn is_empty(&self) -> bool {
        self.sessions.is_empty()
    }

    pub fn open_streams(&self, key: &KeyDigest) -> u32 {
        self.streams_per_key.get(key).map_or(0, |n| *n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::guard::keys::ApiKey;

    #[test]
    fn sse_2_ids_are_128_bit_hex_and_parse_back() {
        let id = SessionId::random();
        let text = id.to_string();
        assert_eq!(text.len(), 32);
        assert_eq!(SessionId::parse(&text), Some(id));
        assert_ne!(SessionId::random(), id);
        assert!(!format!("{id:?}").contains(&text));
        for bad in [
            "",
            "abc",
            &text.to_uppercase(),
            &format!("{text}0"),
            &text[1..],
            "g".repeat(32).as_str(),
        ] {
            assert_eq!(SessionId::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn msg_2_sessions_are_bound_to_their_key_and_rate_7_capped() {
        let registry = SessionRegistry::new(2);
        let root = CancellationToken::new();
        let (a, b) = (KeyDigest::of(b"a"), KeyDigest::of(b"b"));
        let (g1, _c1) = registry.open(a, &root).unwrap();
        let (g2, _c2) = registry.open(a, &root).unwrap();
        assert!(registry.open(a, &root).is_err());
        assert!(registry.get(&g1.session.id, &a).is_some());
        assert!(registry.get(&g1.session.id, &b).is_none());
        assert!(registry.get(&SessionId::random(), &a).is_none());
        drop(g1);
        assert_eq!(registry.open_streams(&a), 1);
        let (_g3, _c3) = registry.open(a, &root).unwrap();
        drop(g2);
        assert_eq!(registry.len(), 1);
    }

    #[tokio::test]
    async fn msg_6_in_flight_requests_are_bounded() {
        let registry = SessionRegistry::new(1);
        let (guard, _channels) = registry
            .open(KeyDigest::of(b"a"), &CancellationToken::new())
            .unwrap();
        let session = &guard.session;
        let wait = Duration::from_millis(10);
        for n in 0..MAX_IN_FLIGHT as i64 {
            assert!(session.admit(RequestId::Number(n), wait).await);
        }
        assert!(
            !session.admit(RequestId::Number(999), wait).await,
            "over the bound"
        );
        session.settle(&RequestId::Number(3));
        assert!(
            session.admit(RequestId::Number(999), wait).await,
            "room again once answered"
        );
        assert_eq!(session.in_flight(), MAX_IN_FLIGHT);
    }

    #[test]
    fn auth_8_revocation_ends_only_that_keys_sessions() {
        let registry = SessionRegistry::new(8);
        let root = CancellationToken::new();
        let (ka, kb) = (ApiKey::new("key-a").unwrap(), ApiKey::new("key-b").unwrap());
        let (ga, _) = registry.open(ka.digest(), &root).unwrap();
        let (gb, _) = registry.open(kb.digest(), &root).unwrap();
        assert_eq!(registry.revoke_missing(&KeySet::new(vec![kb])), 1);
        assert!(ga.session.cancel.is_cancelled());
        assert_eq!(ga.session.end_reason(), EndReason::KeyRevoked);
        assert!(!gb.session.cancel.is_cancelled());
        registry.end_all();
        assert_eq!(gb.session.end_reason(), EndReason::Shutdown);
    }
}
