//! The signed envelope of every message crossing Redis pub/sub (CLUSTER-9
//! in docs/contract.md): forwarded requests, their replies, reload
//! broadcasts.
//!
//! On the wire a message is `v1.<HMAC-SHA256 hex>.<JSON>`, the JSON being
//! `{"ts":<unix ms>,"nonce":<128-bit hex>,"body":<message>}`. The MAC covers
//! the channel's name and the JSON, so a message can't be altered, nor moved
//! to another replica's channel or to a channel of another kind. [`open`]
//! takes a message only when it is signed with the cluster secret, its time
//! is within [`WINDOW`] of this replica's clock, and its nonce was not seen
//! within that window ([`Replays`]); anything else is a [`Dropped`] reason,
//! never an error anyone answers. Pure but for the clock the caller passes.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::secret::ClusterSecret;

/// How far a message's time may be from the receiver's clock, either way:
/// replicas' clocks must agree within it (NTP does far better).
pub const WINDOW: Duration = Duration::from_secs(30);
/// Nonces remembered at most; past it (only reachable by someone holding the
/// secret) messages are dropped as `overflow` rather than risk a replay.
pub const MAX_NONCES: usize = 100_000;

const VERSION: &str = "v1.";
const TAG_HEX: usize = 64;

/// Why a message from Redis was not taken: the metrics' `reason` label.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dropped {
    /// No `v1.<tag>.` envelope at all.
    Unsigned,
    /// An envelope whose MAC is not the cluster secret's for this channel.
    BadSignature,
    /// Signed, but its time is outside [`WINDOW`].
    Stale,
    /// Signed and fresh, but its nonce was already seen.
    Replayed,
    /// Signed, but not a message of this channel's kind.
    Malformed,
    /// The nonce memory is full.
    Overflow,
}

impl Dropped {
    pub const ALL: [Dropped; 6] = [
        Dropped::Unsigned,
        Dropped::BadSignature,
        Dropped::Stale,
        Dropped::Replayed,
        Dropped::Malformed,
        Dropped::Overflow,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Dropped::Unsigned => "unsigned",
            Dropped::BadSignature => "bad_signature",
            Dropped::Stale => "stale",
            Dropped::Replayed => "replayed",
            Dropped::Malformed => "malformed",
            Dropped::Overflow => "overflow",
        }
    }
}

#[derive(Serialize)]
struct Sealed<'a, T> {
    ts: u64,
    nonce: String,
    body: &'a T,
}

#[derive(Deserialize)]
struct Opened<T> {
    ts: u64,
    nonce: String,
    body: T,
}

/// Milliseconds since the epoch on this replica's clock.
pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// `body` for `channel`, signed, stamped `now_ms` and a fresh nonce.
pub fn seal<T: Serialize>(
    secret: &ClusterSecret,
    channel: &str,
    body: &T,
    now_ms: u64,
) -> Option<String> {
    let json = serde_json::to_string(&Sealed {
        ts: now_ms,
        nonce: hex::encode(rand::random::<[u8; 16]>()),
        body,
    })
    .ok()?;
    let tag = secret.sign(&[channel.as_bytes(), json.as_bytes()]);
    Some(format!("{VERSION}{}.{json}", hex::encode(tag)))
}

/// The message in `payload` heard on `channel`, if it is signed, fresh and
/// new (its nonce then remembered in `replays`).
pub fn open<T: DeserializeOwned>(
    secret: &ClusterSecret,
    channel: &str,
    payload: &[u8],
    now_ms: u64,
    replays: &Replays,
) -> Result<T, Dropped> {
    let rest = payload
        .strip_prefix(VERSION.as_bytes())
        .ok_or(Dropped::Unsigned)?;
    if rest.len() < TAG_HEX + 1 || rest[TAG_HEX] != b'.' {
        return Err(Dropped::Unsigned);
    }
    let (tag_hex, json) = (&rest[..TAG_HEX], &rest[TAG_HEX + 1..]);
    let tag = hex::decode(tag_hex).map_err(|_| Dropped::BadSignature)?;
    if !secret.verify(&[channel.as_bytes(), json], &tag) {
        return Err(Dropped::BadSignature);
    }
    let opened: Opened<T> = serde_json::from_slice(json).map_err(|_| Dropped::Malformed)?;
    if opened.ts.abs_diff(now_ms) > WINDOW.as_millis() as u64 {
        return Err(Dropped::Stale);
    }
    let nonce: [u8; 16] = hex::decode(&opened.nonce)
        .ok()
        .and_then(|n| n.try_into().ok())
        .ok_or(Dropped::Malformed)?;
    replays.first_time(nonce, opened.ts, now_ms)?;
    Ok(opened.body)
}

/// The nonces of the messages taken within the last [`WINDOW`] (older ones
/// are stale anyway): a message seen twice is taken once.
#[derive(Default)]
pub struct Replays {
    /// Nonce -> the message's own time.
    seen: Mutex<HashMap<[u8; 16], u64>>,
}

impl Replays {
    /// Remember `nonce` (of a message stamped `ts`): `Err` if it was seen.
    fn first_time(&self, nonce: [u8; 16], ts: u64, now_ms: u64) -> Result<(), Dropped> {
        let Ok(mut seen) = self.seen.lock() else {
            return Err(Dropped::Overflow);
        };
        if seen.contains_key(&nonce) {
            return Err(Dropped::Replayed);
        }
        if seen.len() >= MAX_NONCES {
            forget_stale(&mut seen, now_ms);
            if seen.len() >= MAX_NONCES {
                return Err(Dropped::Overflow);
            }
        }
        seen.insert(nonce, ts);
        Ok(())
    }

    /// Forget the nonces of messages that are stale by now.
    pub fn prune(&self, now_ms: u64) {
        if let Ok(mut seen) = self.seen.lock() {
            forget_stale(&mut seen, now_ms);
        }
    }

    /// Nonces remembered now.
    #[cfg(test)]
    fn len(&self) -> usize {
        self.seen.lock().map_or(0, |s| s.len())
    }
}

fn forget_stale(seen: &mut HashMap<[u8; 16], u64>, now_ms: u64) {
    let window = WINDOW.as_millis() as u64;
    seen.retain(|_, ts| ts.saturating_add(window) >= now_ms);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secret() -> ClusterSecret {
        ClusterSecret::new("Zq3v9Lk2Xw8Rt5Yp1Mn7Bc4Hd6Gf0Js2Ae8Ku").unwrap()
    }

    const NOW: u64 = 1_800_000_000_000;

    #[test]
    fn cluster_9_a_sealed_message_opens_once() {
        let (s, replays) = (secret(), Replays::default());
        let sealed = seal(&s, "cfpb-mcp:fwd:r1", &"hello", NOW).unwrap();
        assert!(sealed.starts_with("v1."));
        let opened: String = open(&s, "cfpb-mcp:fwd:r1", sealed.as_bytes(), NOW, &replays).unwrap();
        assert_eq!(opened, "hello");
        let again = open::<String>(&s, "cfpb-mcp:fwd:r1", sealed.as_bytes(), NOW + 5, &replays);
        assert_eq!(again, Err(Dropped::Replayed));
        // Two seals of the same body differ (fresh nonce), both open.
        let other = seal(&s, "cfpb-mcp:fwd:r1", &"hello", NOW).unwrap();
        assert_ne!(other, sealed);
        assert!(open::<String>(&s, "cfpb-mcp:fwd:r1", other.as_bytes(), NOW, &replays).is_ok());
    }

    #[test]
    fn cluster_9_forged_moved_stale_and_unsigned_messages_are_dropped() {
        let (s, replays) = (secret(), Replays::default());
        let chan = "cfpb-mcp:fwd:r1";
        let sealed = seal(&s, chan, &"hello", NOW).unwrap();
        let cases: Vec<(Vec<u8>, &str, u64, Dropped)> = vec![
            (br#"{"from":"x"}"#.to_vec(), chan, NOW, Dropped::Unsigned),
            (b"v1.abc".to_vec(), chan, NOW, Dropped::Unsigned),
            (
                sealed.replace("hello", "hellO").into_bytes(),
                chan,
                NOW,
                Dropped::BadSignature,
            ),
            (
                sealed.clone().into_bytes(),
                "cfpb-mcp:fwd:r2",
                NOW,
                Dropped::BadSignature,
            ),
            (
                format!("v1.{}.{{}}", "zz".repeat(32)).into_bytes(),
                chan,
                NOW,
                Dropped::BadSignature,
            ),
            (
                sealed.clone().into_bytes(),
                chan,
                NOW + 31_000,
                Dropped::Stale,
            ),
            (
                sealed.clone().into_bytes(),
                chan,
                NOW - 31_000,
                Dropped::Stale,
            ),
        ];
        for (payload, channel, now, expected) in cases {
            let got = open::<String>(&s, channel, &payload, now, &replays);
            assert_eq!(got, Err(expected), "{}", String::from_utf8_lossy(&payload));
        }
        // Signed by the secret but not this channel's kind of message.
        let number = seal(&s, chan, &7u32, NOW).unwrap();
        assert_eq!(
            open::<String>(&s, chan, number.as_bytes(), NOW, &replays),
            Err(Dropped::Malformed)
        );
        assert_eq!(replays.len(), 0, "nothing dropped is remembered");
    }

    #[test]
    fn cluster_9_nonces_are_forgotten_once_stale() {
        let (s, replays) = (secret(), Replays::default());
        for i in 0..10 {
            let sealed = seal(&s, "c", &i, NOW).unwrap();
            assert!(open::<u32>(&s, "c", sealed.as_bytes(), NOW, &replays).is_ok());
        }
        assert_eq!(replays.len(), 10);
        replays.prune(NOW + 29_000);
        assert_eq!(replays.len(), 10);
        replays.prune(NOW + 31_000);
        assert_eq!(replays.len(), 0);
    }
}
