//! Memory that closed connections leave behind is given back to the OS
//! (issue 25; docs/performance.md, docs/operations.md).
//!
//! glibc's allocator keeps what a burst of streams freed: their blocks are
//! scattered between live ones, so the heap's top never shrinks and the
//! process stays at its peak resident size (5,000 idle streams opened and
//! closed left ~250 MiB). `malloc_trim(0)` returns every free page of every
//! arena. It is called off the runtime (a blocking thread), at most once a
//! second, and only when at least [`TRIM_AFTER_CLOSED`] connections have
//! closed since the highest point reached after the last trim: a server
//! whose connections come and go one by one never pays for it.
//!
//! Only on Linux with glibc (the Docker image's distroless `cc` is glibc);
//! elsewhere this is a no-op. It must never run on a runtime worker.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;

/// Connections that must have closed (from the highest count seen since the
/// last trim) before a trim: at ~15-50 KiB each, a few MiB to give back.
pub const TRIM_AFTER_CLOSED: usize = 64;

/// How often the open-connection count is looked at.
const TICK: Duration = Duration::from_secs(1);

/// The highest number of open connections seen since the last trim.
#[derive(Default)]
pub struct Trimmer {
    peak: AtomicUsize,
}

impl Trimmer {
    /// `open` connections are open now (called on every accept).
    pub fn saw(&self, open: usize) {
        self.peak.fetch_max(open, Ordering::Relaxed);
    }

    /// Should the heap be trimmed, with `open` connections open now? If so,
    /// the peak starts again from `open`.
    pub fn due(&self, open: usize) -> bool {
        let peak = self.peak.load(Ordering::Relaxed).max(open);
        if peak - open < TRIM_AFTER_CLOSED {
            return false;
        }
        self.peak.store(open, Ordering::Relaxed);
        true
    }

    /// Watch the connection cap's semaphore (`cap` permits of `max`) until
    /// `shutdown`, trimming when [`Trimmer::due`].
    pub async fn run(
        self: Arc<Self>,
        cap: Arc<Semaphore>,
        max: usize,
        shutdown: CancellationToken,
    ) {
        let mut ticks = tokio::time::interval(TICK);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = ticks.tick() => {}
            }
            let open = max.saturating_sub(cap.available_permits());
            if self.due(open) {
                let _ = tokio::task::spawn_blocking(trim).await;
            }
        }
    }
}

/// Give free heap pages back to the OS.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn trim() {
    // SAFETY: malloc_trim takes no pointer and only walks the allocator's
    // own free lists under its locks; any thread may call it at any time.
    unsafe {
        libc::malloc_trim(0);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn trim() {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_trim_is_due_only_after_a_fall_from_a_peak() {
        let t = Trimmer::default();
        assert!(!t.due(0), "nothing ever opened");
        t.saw(10);
        assert!(!t.due(0), "a few connections closing is no reason");
        t.saw(5_000);
        assert!(!t.due(5_000), "all still open");
        assert!(t.due(100), "4,900 closed");
        assert!(!t.due(100), "once per fall");
        assert!(!t.due(50), "the peak started again at 100");
        t.saw(300);
        assert!(t.due(300 - TRIM_AFTER_CLOSED), "exactly the threshold");
    }
}
