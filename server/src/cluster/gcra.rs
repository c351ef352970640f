//! The shared limiter's arithmetic: GCRA (the generic cell rate algorithm,
//! the one governor implements) over a "theoretical arrival time" in whole
//! microseconds, as a pure function and as the Lua script Redis runs
//! atomically (RATE-1/3/5 across replicas, CLUSTER-1 in docs/contract.md).
//!
//! State per bucket: one integer, the TAT. A cell is allowed when
//! `max(tat, now) + interval - now <= tau`, with `tau = interval * burst`;
//! then `tat = max(tat, now) + interval`. So `burst` cells pass at once and
//! one more per `interval` after that, exactly governor's quota (a test
//! compares the two on random timings). The script is the same three lines
//! in Lua; it reads the time from Redis (`TIME`), so replicas with skewed
//! clocks still share one clock, unless a test passes `now` itself.

use std::num::NonZeroU32;
use std::time::Duration;

/// One bucket's quota, in microseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Gcra {
    /// Time to earn one cell (`1 / rps`).
    pub interval_us: u64,
    /// How far the TAT may run ahead of now: `interval * burst`.
    pub tau_us: u64,
}

/// The outcome of spending one cell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Spend {
    /// Allowed; the bucket's TAT is now this.
    Allowed { tat_us: u64 },
    /// Over the limit: the cell is earned after this wait.
    Denied { wait_us: u64 },
}

impl Gcra {
    /// The quota of `rps` cells per second (fractions allowed) with `burst`.
    /// `None` for a rate that is not positive and finite, or rounds to an
    /// interval under a microsecond or over a year.
    pub fn new(rps: f64, burst: NonZeroU32) -> Option<Self> {
        if !(rps.is_finite() && rps > 0.0) {
            return None;
        }
        let interval_us = (1e6 / rps).round();
        if !(1.0..=3.2e13).contains(&interval_us) {
            return None;
        }
        let interval_us = interval_us as u64;
        Some(Self {
            interval_us,
            tau_us: interval_us.checked_mul(u64::from(burst.get()))?,
        })
    }

    /// The interval as a `Duration`, for a local limiter that must match.
    pub fn interval(&self) -> Duration {
        Duration::from_micros(self.interval_us)
    }

    /// Spend one cell of a bucket whose TAT is `tat_us` (`None`: never used
    /// or expired) at `now_us`. Pure; the Lua [`SCRIPT`] does the same.
    pub fn spend(&self, tat_us: Option<u64>, now_us: u64) -> Spend {
        let start = tat_us.unwrap_or(now_us).max(now_us);
        let next = start.saturating_add(self.interval_us);
        let ahead = next - now_us;
        if ahead > self.tau_us {
            Spend::Denied {
                wait_us: ahead - self.tau_us,
            }
        } else {
            Spend::Allowed { tat_us: next }
        }
    }

    /// How long a bucket's state must live: until its TAT, after which a
    /// fresh bucket is the same as the stored one.
    pub fn ttl_ms(tat_us: u64, now_us: u64) -> u64 {
        tat_us.saturating_sub(now_us) / 1000 + 1
    }
}

/// `KEYS[1]`: the bucket; `ARGV[1]`: interval_us; `ARGV[2]`: tau_us; `ARGV[3]`
/// (tests only): now in microseconds, instead of Redis's `TIME`.
/// Returns `{1, 0}` when allowed, `{0, wait_us}` when denied. Microseconds
/// since the epoch fit a Lua double exactly (< 2^53).
pub const SCRIPT: &str = r#"
local now
if ARGV[3] then
  now = tonumber(ARGV[3])
else
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000000 + tonumber(t[2])
end
local interval = tonumber(ARGV[1])
local tau = tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
if tat < now then tat = now end
local nxt = tat + interval
local ahead = nxt - now
if ahead > tau then
  return {0, ahead - tau}
end
redis.call('SET', KEYS[1], string.format('%d', nxt), 'PX', math.floor(ahead / 1000) + 1)
return {1, 0}
"#;

#[cfg(test)]
mod tests {
    use super::*;
    use governor::clock::FakeRelativeClock;
    use governor::{Quota, RateLimiter};
    use proptest::prelude::*;

    fn nz(n: u32) -> NonZeroU32 {
        NonZeroU32::new(n).unwrap()
    }

    #[test]
    fn rate_1_burst_then_one_per_interval() {
        let g = Gcra::new(2.0, nz(10)).unwrap();
        assert_eq!((g.interval_us, g.tau_us), (500_000, 5_000_000));
        let mut tat = None;
        for _ in 0..10 {
            match g.spend(tat, 0) {
                Spend::Allowed { tat_us } => tat = Some(tat_us),
                Spend::Denied { .. } => panic!("within the burst"),
            }
        }
        assert_eq!(g.spend(tat, 0), Spend::Denied { wait_us: 500_000 });
        assert!(matches!(g.spend(tat, 500_000), Spend::Allowed { .. }));
        assert_eq!(Gcra::ttl_ms(5_000_000, 0), 5_001);
    }

    #[test]
    fn bad_rates_have_no_quota() {
        for rps in [0.0, -1.0, f64::NAN, f64::INFINITY, 1e-300, 1e9] {
            assert_eq!(Gcra::new(rps, nz(1)), None, "{rps}");
        }
    }

    proptest! {
        /// The shared limiter decides exactly as governor (the in-process
        /// limiter) does, for any timing: same allowed cells, same waits.
        #[test]
        fn cluster_1_matches_governor(
            rps in 0.1f64..50.0,
            burst in 1u32..40,
            gaps_ms in proptest::collection::vec(0u64..400, 1..200),
        ) {
            let g = Gcra::new(rps, nz(burst)).unwrap();
            let quota = Quota::with_period(g.interval()).unwrap().allow_burst(nz(burst));
            let clock = FakeRelativeClock::default();
            let governor = RateLimiter::direct_with_clock(quota, clock.clone());
            let (mut now, mut tat) = (0u64, None);
            for gap in gaps_ms {
                clock.advance(Duration::from_millis(gap));
                now += gap * 1000;
                let ours = g.spend(tat, now);
                let theirs = governor.check();
                match (ours, theirs) {
                    (Spend::Allowed { tat_us }, Ok(())) => tat = Some(tat_us),
                    (Spend::Denied { wait_us }, Err(not_until)) => {
                        use governor::clock::Clock;
                        let wait = not_until.wait_time_from(clock.now());
                        prop_assert_eq!(Duration::from_micros(wait_us), wait);
                    }
                    (ours, theirs) => prop_assert!(false, "at {now}us: ours {ours:?}, governor {theirs:?}"),
                }
            }
        }
    }
}
