//! The pacer: a local, slightly pessimistic GCRA model of each server-side bucket (one per
//! key, one for failed auths), so the harness stays inside the target's rate limits
//! (docs/contract.md RATE-1, RATE-2) and a check is never refused by a limit another
//! check drained. RATE discovery (`limits.rs`) feeds it the measured limits.

use crate::target::Settings;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Which limiter a request draws from, so the pacer can wait before sending it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pace {
    /// A request with valid key `slot`: costs one cell of that key's bucket.
    Key(usize),
    /// A request the target will reject as unauthenticated: the failed-auth limiter.
    AuthFail,
    /// Free (e.g. `/health`).
    Free,
}

/// A local GCRA model of one server-side bucket, kept a little pessimistic.
#[derive(Debug)]
struct Bucket {
    interval: Duration,
    tau: Duration,
    tat: Instant,
}

impl Bucket {
    fn new(burst: u32, rps: f64) -> Self {
        let mut b = Self {
            interval: Duration::from_secs(1),
            tau: Duration::ZERO,
            tat: Instant::now(),
        };
        b.set(burst, rps);
        b
    }

    fn set(&mut self, burst: u32, rps: f64) {
        let rps = (rps * 0.85).max(0.05);
        let burst = burst.saturating_sub(1).max(1);
        self.interval = Duration::from_secs_f64(1.0 / rps);
        self.tau = self.interval * (burst - 1);
    }

    /// Reserves one cell; returns when it may be used.
    fn reserve(&mut self, now: Instant) -> Instant {
        let allowed = self.tat.checked_sub(self.tau).unwrap_or(now);
        let t = allowed.max(now);
        self.tat = self.tat.max(t) + self.interval;
        t
    }

    /// The server said "wait `d`": assume the bucket empty until then.
    fn empty_until(&mut self, until: Instant) {
        self.tat = until + self.tau;
    }

    /// When the model expects the bucket to be full again.
    fn full_at(&self) -> Instant {
        self.tat
    }
}

/// The buckets the harness models: one per key, one for failed auths.
#[derive(Debug)]
pub struct Pacer {
    keys: Vec<Mutex<Bucket>>,
    auth_fail: Mutex<Bucket>,
}

impl Pacer {
    /// `keys` buckets at the assumed limits, and the failed-auth bucket.
    pub fn new(settings: &Settings, keys: usize) -> Self {
        Self {
            keys: (0..keys.max(1))
                .map(|_| Mutex::new(Bucket::new(settings.assume_burst, settings.assume_rps)))
                .collect(),
            auth_fail: Mutex::new(Bucket::new(
                settings.auth_fail_burst,
                settings.auth_fail_rps,
            )),
        }
    }

    fn bucket(&self, pace: Pace) -> Option<&Mutex<Bucket>> {
        match pace {
            Pace::Key(slot) => self.keys.get(slot),
            Pace::AuthFail => Some(&self.auth_fail),
            Pace::Free => None,
        }
    }

    /// Waits until the model says one request of this kind may go, and reserves it.
    pub async fn pace(&self, pace: Pace) {
        let Some(b) = self.bucket(pace) else { return };
        let at = match b.lock() {
            Ok(mut g) => g.reserve(Instant::now()),
            Err(_) => Instant::now(),
        };
        tokio::time::sleep_until(at.into()).await;
    }

    /// Marks a bucket empty (after a check drained it on purpose) for `for_at_least`.
    pub fn drained(&self, pace: Pace, for_at_least: Duration) {
        if let Some(b) = self.bucket(pace)
            && let Ok(mut g) = b.lock()
        {
            g.empty_until(Instant::now() + for_at_least);
        }
    }

    /// Waits until the model expects key `slot`'s bucket to be full.
    pub async fn wait_full(&self, slot: usize) {
        let at = match self.keys.get(slot).map(|b| b.lock()) {
            Some(Ok(g)) => g.full_at(),
            _ => Instant::now(),
        };
        tokio::time::sleep_until((at + Duration::from_millis(100)).into()).await;
    }

    /// After RATE discovery: model every key's bucket with the measured limits.
    pub fn learn(&self, burst: u32, rps: f64) {
        for b in &self.keys {
            if let Ok(mut g) = b.lock() {
                g.set(burst, rps);
            }
        }
    }
}
