//! Long-lived streams, counted (RATE-7, NET-3 in docs/contract.md): one
//! budget per caller across every transport (an HTTP+SSE stream, a `/mcp`
//! standalone GET stream, a `/mcp` POST answered as an event stream), and a
//! total for the server below its connection cap, so that `/health` and
//! plain POSTs always find a connection however many streams are open.
//!
//! A stream holds a [`StreamSlot`] for as long as it is open; dropping the
//! slot gives it back. Nothing here knows what a stream carries.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use dashmap::DashMap;
use http_body_util::BodyExt;

use crate::http::response::Body;
use crate::identity::keys::KeyDigest;

/// Why no stream could be opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StreamsFull {
    /// The caller holds its budget of streams (RATE-7).
    Caller,
    /// The server holds its total: the rest of the connections are kept for
    /// requests that end (NET-3).
    Server,
}

/// The stream budgets: per caller, and for the whole server.
#[derive(Debug)]
pub struct Streams {
    per_caller: DashMap<KeyDigest, u32>,
    total: AtomicUsize,
    max_per_caller: u32,
    max_total: usize,
}

/// The total stream cap for a connection cap: a quarter of the connections
/// (at least one) stays free for requests that end (`/health`, POSTs).
pub fn max_total_for(max_connections: usize) -> usize {
    max_connections.saturating_sub((max_connections / 4).max(1))
}

impl Streams {
    pub fn new(max_per_caller: u32, max_total: usize) -> Arc<Self> {
        Arc::new(Self {
            per_caller: DashMap::new(),
            total: AtomicUsize::new(0),
            max_per_caller,
            max_total,
        })
    }

    /// A slot for one more stream of `caller`, if both budgets allow it.
    pub fn open(self: &Arc<Self>, caller: KeyDigest) -> Result<StreamSlot, StreamsFull> {
        let mut held = self.per_caller.entry(caller).or_insert(0);
        if *held >= self.max_per_caller {
            return Err(StreamsFull::Caller);
        }
        let total = self
            .total
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |t| {
                (t < self.max_total).then_some(t + 1)
            });
        if total.is_err() {
            return Err(StreamsFull::Server);
        }
        *held += 1;
        Ok(StreamSlot {
            streams: self.clone(),
            caller,
        })
    }

    /// A slot counted whatever the budgets say: for a POST whose answer
    /// turned out to be an event stream (the request was already served;
    /// refusing its answer would lose it). It still counts, so the caller's
    /// next stream is refused while it is open.
    pub fn open_anyway(self: &Arc<Self>, caller: KeyDigest) -> StreamSlot {
        *self.per_caller.entry(caller).or_insert(0) += 1;
        self.total.fetch_add(1, Ordering::AcqRel);
        StreamSlot {
            streams: self.clone(),
            caller,
        }
    }

    /// Streams `caller` holds now.
    #[cfg(test)]
    pub fn held_by(&self, caller: &KeyDigest) -> u32 {
        self.per_caller.get(caller).map_or(0, |h| *h)
    }

    /// Streams open now, every caller's.
    #[cfg(test)]
    pub fn total(&self) -> usize {
        self.total.load(Ordering::Acquire)
    }

    fn release(&self, caller: &KeyDigest) {
        self.total
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |t| {
                Some(t.saturating_sub(1))
            })
            .ok();
        let now_zero = match self.per_caller.get_mut(caller) {
            Some(mut held) => {
                *held = held.saturating_sub(1);
                *held == 0
            }
            None => false,
        };
        if now_zero {
            self.per_caller.remove_if(caller, |_, held| *held == 0);
        }
    }
}

/// One open stream's place in the budgets; given back when dropped.
#[derive(Debug)]
#[must_use = "a stream slot is given back when dropped"]
pub struct StreamSlot {
    streams: Arc<Streams>,
    caller: KeyDigest,
}

impl StreamSlot {
    /// `body`, holding this slot until the body is dropped (the stream ends
    /// when the connection stops reading it or the server ends it).
    pub fn hold(self, body: Body) -> Body {
        body.map_frame(move |frame| {
            let _slot = &self;
            frame
        })
        .boxed_unsync()
    }
}

impl Drop for StreamSlot {
    fn drop(&mut self) {
        self.streams.release(&self.caller);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rate_7_one_budget_per_caller() {
        let streams = Streams::new(2, 100);
        let (a, b) = (KeyDigest::of(b"a"), KeyDigest::of(b"b"));
        let s1 = streams.open(a).unwrap();
        let _s2 = streams.open(a).unwrap();
        assert_eq!(streams.open(a).unwrap_err(), StreamsFull::Caller);
        let _b1 = streams.open(b).unwrap();
        drop(s1);
        let _s3 = streams.open(a).unwrap();
        assert_eq!((streams.held_by(&a), streams.total()), (2, 3));
    }

    #[test]
    fn net_3_the_total_stays_below_the_connection_cap() {
        assert_eq!(max_total_for(1024), 768);
        assert_eq!(max_total_for(8), 6);
        assert_eq!(max_total_for(1), 0);
        let streams = Streams::new(10, 3);
        let slots: Vec<_> = (0u8..3)
            .map(|i| streams.open(KeyDigest::of(&[i])).unwrap())
            .collect();
        assert_eq!(
            streams.open(KeyDigest::of(b"late")).unwrap_err(),
            StreamsFull::Server
        );
        drop(slots);
        assert_eq!(streams.total(), 0);
        assert!(streams.open(KeyDigest::of(b"late")).is_ok());
    }

    #[test]
    fn rate_7_a_streamed_answer_counts_without_being_refused() {
        let streams = Streams::new(1, 1);
        let a = KeyDigest::of(b"a");
        let _held = streams.open(a).unwrap();
        let anyway = streams.open_anyway(a);
        assert_eq!((streams.held_by(&a), streams.total()), (2, 2));
        drop(anyway);
        assert_eq!(streams.held_by(&a), 1);
    }

    #[tokio::test]
    async fn a_held_body_gives_its_slot_back_when_dropped() {
        let streams = Streams::new(1, 1);
        let a = KeyDigest::of(b"a");
        let body = streams
            .open(a)
            .unwrap()
            .hold(http_body_util::Empty::new().boxed_unsync());
        assert_eq!(streams.total(), 1);
        drop(body);
        assert_eq!(streams.total(), 0);
        assert_eq!(streams.held_by(&a), 0);
    }
}
