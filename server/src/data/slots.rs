//! Upstream slots (DATA-11 in docs/contract.md; issue 23, finding 8): at most
//! [`MAX_IN_FLIGHT`] live requests at once across the server (what upstream
//! bodies can cost in memory stays bounded), and at most [`MAX_PER_CALLER`]
//! of them for one caller, so one key with a slow upstream cannot take every
//! slot and queue everyone else behind it.
//!
//! A caller's requests past its share wait on its own queue, never in the
//! server-wide one: the server-wide FIFO only ever holds requests that are
//! within their caller's share. Requests with no caller (none is set outside
//! a tool call) only take a server-wide slot.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::data::caller::CallerTag;

/// Upstream requests in flight at once, across every session: bounds the
/// memory bodies can take (8 x 8 MiB) and is gentle with the public API.
pub const MAX_IN_FLIGHT: usize = 8;

/// Upstream requests one caller may have in flight at once: half of
/// [`MAX_IN_FLIGHT`], so a single caller always leaves half the slots to the
/// others.
pub const MAX_PER_CALLER: usize = MAX_IN_FLIGHT / 2;

/// The server's upstream slots and each caller's share of them.
#[derive(Debug)]
pub struct UpstreamSlots {
    /// One permit per request in flight, server-wide (FIFO).
    total: Arc<Semaphore>,
    /// One semaphore per caller with a request in flight or waiting; idle
    /// callers are forgotten, so this holds at most the callers active now.
    shares: Mutex<HashMap<CallerTag, Arc<Semaphore>>>,
    /// Permits in each caller's semaphore.
    share: usize,
}

/// A held slot: released when dropped.
#[derive(Debug)]
pub struct Slot {
    _total: OwnedSemaphorePermit,
    _share: Option<OwnedSemaphorePermit>,
}

impl Default for UpstreamSlots {
    fn default() -> Self {
        Self::new(MAX_IN_FLIGHT, MAX_PER_CALLER)
    }
}

impl UpstreamSlots {
    /// `total` slots, at most `share` of them per caller.
    pub fn new(total: usize, share: usize) -> Self {
        Self {
            total: Arc::new(Semaphore::new(total)),
            shares: Mutex::new(HashMap::new()),
            share: share.clamp(1, total.max(1)),
        }
    }

    /// Wait for a slot for `caller`: first within its share, then
    /// server-wide. `None` only if the semaphores were closed (never).
    pub async fn acquire(&self, caller: Option<CallerTag>) -> Option<Slot> {
        let share = match caller {
            Some(tag) => Some(self.share_of(tag).acquire_owned().await.ok()?),
            None => None,
        };
        let total = self.total.clone().acquire_owned().await.ok()?;
        Some(Slot {
            _total: total,
            _share: share,
        })
    }

    /// `tag`'s semaphore, created on first use. Callers nobody holds or
    /// waits for (only the map refers to them) are forgotten on the way.
    fn share_of(&self, tag: CallerTag) -> Arc<Semaphore> {
        let mut shares = self.shares.lock().unwrap_or_else(|e| e.into_inner());
        shares.retain(|other, semaphore| *other == tag || Arc::strong_count(semaphore) > 1);
        shares
            .entry(tag)
            .or_insert_with(|| Arc::new(Semaphore::new(self.share)))
            .clone()
    }

    /// Callers remembered now (tests: idle ones are forgotten).
    #[cfg(test)]
    fn callers(&self) -> usize {
        self.shares.lock().map(|s| s.len()).unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    const A: CallerTag = CallerTag::from_byte(1);
    const B: CallerTag = CallerTag::from_byte(2);

    async fn try_acquire(slots: &UpstreamSlots, caller: Option<CallerTag>) -> Option<Slot> {
        // Resolved at once or never: nothing else runs on this test's runtime.
        tokio::time::timeout(Duration::from_millis(1), slots.acquire(caller))
            .await
            .ok()
            .flatten()
    }

    #[tokio::test]
    async fn data_11_one_caller_holds_at_most_its_share() {
        let slots = UpstreamSlots::new(8, 4);
        let mut held = Vec::new();
        for _ in 0..4 {
            held.push(
                try_acquire(&slots, Some(A))
                    .await
                    .expect("within A's share"),
            );
        }
        assert!(
            try_acquire(&slots, Some(A)).await.is_none(),
            "past A's share"
        );
        for _ in 0..4 {
            held.push(
                try_acquire(&slots, Some(B))
                    .await
                    .expect("B is not behind A"),
            );
        }
        assert!(try_acquire(&slots, None).await.is_none(), "all 8 taken");
        held.truncate(3);
        assert!(
            try_acquire(&slots, Some(A)).await.is_some(),
            "A's share freed"
        );
        drop(held);
        let _one = try_acquire(&slots, Some(B)).await;
        assert_eq!(slots.callers(), 1, "idle callers are forgotten");
    }
}
