//! Rate limiting (RATE-1..6): one GCRA limiter per valid key, and a separate,
//! bounded limiter for failed authentications per client address.
//!
//! Only a key that verified creates per-key state (RATE-6): the per-key map is
//! keyed by [`KeyDigest`] and can hold no more entries than there are
//! configured keys (plus keys revoked since start). The failed-auth map is
//! capped in size. Both are generic over the clock so tests use governor's
//! `FakeRelativeClock` instead of sleeping.

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::middleware::NoOpMiddleware;
use governor::state::keyed::DashMapStateStore;
use governor::{Quota, RateLimiter};

use crate::identity::keys::KeyDigest;

/// Outcome of one limiter check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Allow,
    /// Over the limit; try again after this many whole seconds (RATE-3:
    /// the ceiling of the true wait, at least 1).
    Deny {
        retry_after_secs: u64,
    },
}

/// An invalid rate: not a positive, finite number of cells per second.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("must be a positive number of requests per second (got {0})")]
pub struct BadRate(pub f64);

/// Build a GCRA quota from "cells per second" (fractions allowed) and a burst.
pub fn quota(rps: f64, burst: NonZeroU32) -> Result<Quota, BadRate> {
    if !(rps.is_finite() && rps > 0.0) {
        return Err(BadRate(rps));
    }
    let period = Duration::try_from_secs_f64(1.0 / rps).map_err(|_| BadRate(rps))?;
    Ok(Quota::with_period(period)
        .ok_or(BadRate(rps))?
        .allow_burst(burst))
}

/// Whole seconds to wait, rounded up, at least 1 (RATE-3).
pub fn retry_after_secs(wait: Duration) -> u64 {
    let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    secs.max(1)
}

type Keyed<K, C> = RateLimiter<K, DashMapStateStore<K>, C, NoOpMiddleware<<C as Clock>::Instant>>;

/// The per-key limiter (RATE-1, RATE-4, RATE-5).
pub struct KeyLimiter<C: Clock = DefaultClock> {
    limiter: Keyed<KeyDigest, C>,
    clock: C,
}

impl KeyLimiter<DefaultClock> {
    pub fn new(rps: f64, burst: NonZeroU32) -> Result<Self, BadRate> {
        Self::with_clock(rps, burst, DefaultClock::default())
    }
}

impl<C: Clock + Clone> KeyLimiter<C> {
    pub fn with_clock(rps: f64, burst: NonZeroU32, clock: C) -> Result<Self, BadRate> {
        let limiter = RateLimiter::new(
            quota(rps, burst)?,
            DashMapStateStore::default(),
            clock.clone(),
        );
        Ok(Self { limiter, clock })
    }

    /// Spend one cell of `key`'s budget.
    pub fn check(&self, key: &KeyDigest) -> Verdict {
        match self.limiter.check_key(key) {
            Ok(()) => Verdict::Allow,
            Err(not_until) => Verdict::Deny {
                retry_after_secs: retry_after_secs(not_until.wait_time_from(self.clock.now())),
            },
        }
    }

    /// Number of keys holding limiter state.
    #[cfg(test)]
    pub fn tracked_keys(&self) -> usize {
        self.limiter.len()
    }
}

/// How many client addresses the failed-auth limiter remembers at most.
pub const AUTH_FAIL_MAX_ADDRESSES: usize = 65_536;

/// Slows down failed authentications per client address (RATE-6, strict).
/// Bounded: past [`AUTH_FAIL_MAX_ADDRESSES`] it first forgets addresses whose
/// budget has fully refilled, then treats unknown addresses as throttled.
/// Valid keys never reach it.
pub struct AuthFailLimiter<C: Clock = DefaultClock> {
    limiter: Option<Keyed<IpAddr, C>>,
    clock: C,
    max_addresses: usize,
}

impl AuthFailLimiter<DefaultClock> {
    /// `rps == 0` or `burst == 0` turns the limiter off.
    pub fn new(rps: f64, burst: u32) -> Result<Self, BadRate> {
        Self::with_clock(rps, burst, DefaultClock::default(), AUTH_FAIL_MAX_ADDRESSES)
    }
}

impl<C: Clock + Clone> AuthFailLimiter<C> {
    pub fn with_clock(
        rps: f64,
        burst: u32,
        clock: C,
        max_addresses: usize,
    ) -> Result<Self, BadRate> {
        let limiter = match NonZeroU32::new(burst) {
            Some(burst) if rps != 0.0 => Some(RateLimiter::new(
                quota(rps, burst)?,
                DashMapStateStore::default(),
                clock.clone(),
            )),
            _ => None,
        };
        Ok(Self {
            limiter,
            clock,
            max_addresses,
        })
    }

    /// Record one failed authentication from `addr`.
    pub fn check(&self, addr: IpAddr) -> Verdict {
        let Some(limiter) = &self.limiter else {
            return Verdict::Allow;
        };
        if limiter.len() >= self.max_addresses {
            limiter.retain_recent();
            if limiter.len() >= self.max_addresses {
                // Memory stays bounded; a distributed flood gets throttled as a whole.
                return Verdict::Deny {
                    retry_after_secs: 1,
                };
            }
        }
        match limiter.check_key(&addr) {
            Ok(()) => Verdict::Allow,
            Err(not_until) => Verdict::Deny {
                retry_after_secs: retry_after_secs(not_until.wait_time_from(self.clock.now())),
            },
        }
    }

    #[cfg(test)]
    pub fn tracked_addresses(&self) -> usize {
        self.limiter.as_ref().map_or(0, |l| l.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use governor::clock::FakeRelativeClock;
    use proptest::prelude::*;

    fn nz(n: u32) -> NonZeroU32 {
        NonZeroU32::new(n).unwrap()
    }

    #[test]
    fn rate_1_burst_then_refill_at_rps() {
        let clock = FakeRelativeClock::default();
        let limiter = KeyLimiter::with_clock(2.0, nz(10), clock.clone()).unwrap();
        let key = KeyDigest::of(b"k");
        for _ in 0..10 {
            assert_eq!(limiter.check(&key), Verdict::Allow);
        }
        assert_eq!(
            limiter.check(&key),
            Verdict::Deny {
                retry_after_secs: 1
            }
        );
        clock.advance(Duration::from_millis(500));
        assert_eq!(limiter.check(&key), Verdict::Allow);
        assert!(matches!(limiter.check(&key), Verdict::Deny { .. }));
    }

    #[test]
    fn rate_3_retry_after_is_the_ceiling_of_the_wait() {
        assert_eq!(retry_after_secs(Duration::from_millis(1)), 1);
        assert_eq!(retry_after_secs(Duration::from_secs(2)), 2);
        assert_eq!(retry_after_secs(Duration::from_millis(2001)), 3);
        assert_eq!(retry_after_secs(Duration::ZERO), 1);
        let clock = FakeRelativeClock::default();
        let slow = KeyLimiter::with_clock(0.25, nz(1), clock).unwrap();
        let key = KeyDigest::of(b"k");
        assert_eq!(slow.check(&key), Verdict::Allow);
        assert_eq!(
            slow.check(&key),
            Verdict::Deny {
                retry_after_secs: 4
            }
        );
    }

    #[test]
    fn rate_4_keys_are_isolated() {
        let limiter = KeyLimiter::with_clock(1.0, nz(2), FakeRelativeClock::default()).unwrap();
        let (a, b) = (KeyDigest::of(b"a"), KeyDigest::of(b"b"));
        while limiter.check(&a) == Verdict::Allow {}
        assert_eq!(limiter.check(&b), Verdict::Allow);
        assert_eq!(limiter.tracked_keys(), 2);
    }

    #[test]
    fn rate_6_failed_auth_limiter_is_bounded_and_can_be_off() {
        let clock = FakeRelativeClock::default();
        let limiter = AuthFailLimiter::with_clock(1.0, 2, clock.clone(), 3).unwrap();
        let ip = |n: u8| IpAddr::from([10, 0, 0, n]);
        assert_eq!(limiter.check(ip(1)), Verdict::Allow);
        assert_eq!(limiter.check(ip(1)), Verdict::Allow);
        assert!(matches!(limiter.check(ip(1)), Verdict::Deny { .. }));
        limiter.check(ip(2));
        limiter.check(ip(3));
        // full and nothing refilled yet: a new address is throttled, the map does not grow
        assert!(matches!(limiter.check(ip(4)), Verdict::Deny { .. }));
        assert_eq!(limiter.tracked_addresses(), 3);
        // once budgets refill, old entries are forgotten and room is made
        clock.advance(Duration::from_secs(10));
        assert_eq!(limiter.check(ip(4)), Verdict::Allow);
        assert!(limiter.tracked_addresses() <= 3);

        let off = AuthFailLimiter::new(0.0, 100).unwrap();
        for _ in 0..1000 {
            assert_eq!(off.check(ip(9)), Verdict::Allow);
        }
        assert_eq!(off.tracked_addresses(), 0);
    }

    #[test]
    fn bad_rates_are_refused() {
        for rps in [0.0, -1.0, f64::NAN, f64::INFINITY, 1e-300] {
            assert!(KeyLimiter::new(rps, nz(1)).is_err(), "{rps}");
        }
    }

    proptest! {
        /// RATE-5: for any request timing, accepted <= burst + rps * T (+1 for rounding).
        #[test]
        fn rate_5_accepted_never_exceeds_burst_plus_rate_times_t(
            rps in 0.1f64..50.0,
            burst in 1u32..40,
            gaps_ms in proptest::collection::vec(0u64..400, 1..300),
        ) {
            let clock = FakeRelativeClock::default();
            let limiter = KeyLimiter::with_clock(rps, nz(burst), clock.clone()).unwrap();
            let key = KeyDigest::of(b"k");
            let mut elapsed = Duration::ZERO;
            let mut accepted = 0u64;
            for gap in gaps_ms {
                clock.advance(Duration::from_millis(gap));
                elapsed += Duration::from_millis(gap);
                if limiter.check(&key) == Verdict::Allow {
                    accepted += 1;
                }
                let bound = f64::from(burst) + rps * elapsed.as_secs_f64() + 1.0;
                prop_assert!(accepted as f64 <= bound, "accepted {accepted} > bound {bound}");
            }
        }
    }
}
