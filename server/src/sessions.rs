//! Session ids and session ownership, shared by both transports (SSE-2,
//! MSG-2, HTTP-3, RATE-7, AUTH-8 in docs/contract.md).
//!
//! A [`SessionId`] is 128 bits from the OS-seeded CSPRNG, shown as 32
//! lower-case hex characters; a full id is a capability and is never logged,
//! only its [`SessionId::log_prefix`] (8 characters, LOG-1/LOG-2).
//!
//! [`Owners`] binds each live session to the key that opened it and caps the
//! sessions a key may hold: looking a session up requires the caller's key,
//! so another key's session is indistinguishable from an unknown one. Each
//! transport has one `Owners` and keeps its own per-session state beside it;
//! this module knows nothing of what a session carries.

use dashmap::DashMap;

use crate::identity::keys::{KeyDigest, KeySet};

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

    /// The 8-character prefix that may be logged: the one way a session is
    /// named in the audit log.
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

/// Too many open sessions for this key (RATE-7).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionCapReached;

/// Which key owns which live session, and how many each key holds.
#[derive(Debug)]
pub struct Owners {
    owners: DashMap<SessionId, KeyDigest>,
    /// Slots taken per key: bound sessions plus reservations not yet bound.
    per_key: DashMap<KeyDigest, u32>,
    max_per_key: u32,
}

/// A slot held for `owner` before its session has an id (the Streamable HTTP
/// transport learns the id only from rmcp's answer). Dropped unbound, the slot
/// is given back.
#[derive(Debug)]
#[must_use = "an unbound reservation gives its slot back when dropped"]
pub struct Reservation<'a> {
    owners: &'a Owners,
    owner: KeyDigest,
    bound: bool,
}

impl Reservation<'_> {
    /// The session `id` now holds this slot.
    pub fn bind(mut self, id: SessionId) {
        self.owners.owners.insert(id, self.owner);
        self.bound = true;
    }
}

impl Drop for Reservation<'_> {
    fn drop(&mut self) {
        if !self.bound {
            self.owners.give_back(&self.owner);
        }
    }
}

impl Owners {
    pub fn new(max_per_key: u32) -> Self {
        Self {
            owners: DashMap::new(),
            per_key: DashMap::new(),
            max_per_key,
        }
    }

    /// Take a slot for `owner`, if the key has one free (RATE-7).
    pub fn reserve(&self, owner: KeyDigest) -> Result<Reservation<'_>, SessionCapReached> {
        let mut open = self.per_key.entry(owner).or_insert(0);
        if *open >= self.max_per_key {
            return Err(SessionCapReached);
        }
        *open += 1;
        Ok(Reservation {
            owners: self,
            owner,
            bound: false,
        })
    }

    /// Open a session with a fresh id for `owner` (reserve and bind at once).
    pub fn open(&self, owner: KeyDigest) -> Result<SessionId, SessionCapReached> {
        let id = SessionId::random();
        self.reserve(owner)?.bind(id);
        Ok(id)
    }

    /// Does `caller` own the live session `id` (MSG-2, HTTP-3)?
    pub fn owned_by(&self, id: &SessionId, caller: &KeyDigest) -> bool {
        self.owners.get(id).is_some_and(|owner| *owner == *caller)
    }

    /// The session ended: forget it and free its slot. `false` if it was
    /// already gone.
    pub fn release(&self, id: &SessionId) -> bool {
        let Some((_, owner)) = self.owners.remove(id) else {
            return false;
        };
        self.give_back(&owner);
        true
    }

    fn give_back(&self, owner: &KeyDigest) {
        if let dashmap::Entry::Occupied(mut open) = self.per_key.entry(*owner) {
            *open.get_mut() = open.get().saturating_sub(1);
            if *open.get() == 0 {
                open.remove();
            }
        }
    }

    /// Sessions whose key is no longer configured (AUTH-8); the caller ends
    /// them and releases each. The anonymous caller (`--allow-no-auth`) is
    /// never revoked.
    pub fn revoked(&self, keys: &KeySet) -> Vec<SessionId> {
        self.owners
            .iter()
            .filter(|e| !keys.contains(e.value()) && *e.value() != KeyDigest::anonymous())
            .map(|e| *e.key())
            .collect()
    }

    /// The live sessions of `owner`.
    pub fn of(&self, owner: &KeyDigest) -> Vec<SessionId> {
        self.owners
            .iter()
            .filter(|e| e.value() == owner)
            .map(|e| *e.key())
            .collect()
    }

    /// Every live session.
    pub fn ids(&self) -> Vec<SessionId> {
        self.owners.iter().map(|e| *e.key()).collect()
    }

    /// Slots `key` holds now.
    pub fn held_by(&self, key: &KeyDigest) -> u32 {
        self.per_key.get(key).map_or(0, |n| *n)
    }

    /// The cap per key.
    pub fn max_per_key(&self) -> u32 {
        self.max_per_key
    }

    pub fn len(&self) -> usize {
        self.owners.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::identity::keys::ApiKey;

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
        let owners = Owners::new(2);
        let (a, b) = (KeyDigest::of(b"a"), KeyDigest::of(b"b"));
        let s1 = owners.open(a).unwrap();
        let s2 = owners.open(a).unwrap();
        assert!(owners.open(a).is_err());
        assert!(owners.owned_by(&s1, &a));
        assert!(!owners.owned_by(&s1, &b));
        assert!(!owners.owned_by(&SessionId::random(), &a));
        assert!(owners.release(&s1));
        assert!(!owners.release(&s1), "released once");
        assert_eq!(owners.held_by(&a), 1);
        let _s3 = owners.open(a).unwrap();
        owners.release(&s2);
        assert_eq!(owners.len(), 1);
        assert_eq!(owners.of(&a).len(), 1);
    }

    #[test]
    fn rate_7_an_unbound_reservation_gives_its_slot_back() {
        let owners = Owners::new(1);
        let a = KeyDigest::of(b"a");
        let held = owners.reserve(a).unwrap();
        assert!(owners.reserve(a).is_err(), "the reservation holds the slot");
        drop(held);
        assert_eq!(owners.held_by(&a), 0);
        let id = SessionId::random();
        owners.reserve(a).unwrap().bind(id);
        assert!(owners.owned_by(&id, &a));
        assert!(owners.reserve(a).is_err());
    }

    #[test]
    fn auth_8_revocation_names_only_that_keys_sessions() {
        let owners = Owners::new(8);
        let (ka, kb) = (ApiKey::new("key-a").unwrap(), ApiKey::new("key-b").unwrap());
        let sa = owners.open(ka.digest()).unwrap();
        let sb = owners.open(kb.digest()).unwrap();
        let _anon = owners.open(KeyDigest::anonymous()).unwrap();
        assert_eq!(owners.revoked(&KeySet::new(vec![kb.clone()])), vec![sa]);
        assert_eq!(owners.len(), 3);
        assert!(owners.owned_by(&sb, &kb.digest()));
    }
}
