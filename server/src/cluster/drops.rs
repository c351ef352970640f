//! [`Drops`]: the cluster messages this replica refused (CLUSTER-9 in
//! docs/contract.md), counted and summarised.
//!
//! Each one is counted at once in
//! `cfpb_mcp_cluster_messages_dropped_total{reason}` (the exact total). The
//! audit log gets at most one `cluster_messages_dropped` line per reason per
//! [`LOG_INTERVAL`], with the count since the previous line: the first drop
//! of a quiet period is logged at once, the rest of a flood as one line a
//! minute, so someone publishing junk into Redis can't flush the audit
//! trail. Never logs the message itself.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::seal::Dropped;
use crate::audit::{AuditLog, Event};
use crate::metrics::Metrics;

/// The least time between two lines for one reason.
pub const LOG_INTERVAL: Duration = Duration::from_secs(60);

pub struct Drops {
    metrics: Arc<Metrics>,
    audit: AuditLog,
    /// Per reason (in [`Dropped::ALL`]'s order): drops not yet in a line,
    /// and when the last line for it was written.
    state: Mutex<[(u64, Option<Instant>); Dropped::ALL.len()]>,
}

impl Drops {
    pub fn new(metrics: Arc<Metrics>, audit: AuditLog) -> Self {
        Self {
            metrics,
            audit,
            state: Mutex::new([(0, None); Dropped::ALL.len()]),
        }
    }

    /// One message dropped for `reason`.
    pub fn record(&self, reason: Dropped) {
        self.metrics.cluster_message_dropped(reason.as_str());
        let Ok(mut state) = self.state.lock() else {
            return;
        };
        let slot = &mut state[reason as usize];
        slot.0 += 1;
        let now = Instant::now();
        if slot
            .1
            .is_none_or(|last| now.duration_since(last) >= LOG_INTERVAL)
        {
            let count = std::mem::take(&mut slot.0);
            slot.1 = Some(now);
            drop(state);
            self.line(reason, count);
        }
    }

    /// Write the summary lines that are due (called every heartbeat tick).
    pub fn flush(&self) {
        let now = Instant::now();
        let mut due = Vec::new();
        if let Ok(mut state) = self.state.lock() {
            for (reason, slot) in Dropped::ALL.into_iter().zip(state.iter_mut()) {
                if slot.0 > 0
                    && slot
                        .1
                        .is_none_or(|last| now.duration_since(last) >= LOG_INTERVAL)
                {
                    due.push((reason, std::mem::take(&mut slot.0)));
                    slot.1 = Some(now);
                }
            }
        }
        for (reason, count) in due {
            self.line(reason, count);
        }
    }

    fn line(&self, reason: Dropped, count: u64) {
        self.audit.write(&Event::ClusterMessagesDropped {
            reason: reason.as_str(),
            count,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::AuditTarget;

    #[test]
    fn reasons_index_their_own_slot() {
        for (i, reason) in Dropped::ALL.into_iter().enumerate() {
            assert_eq!(reason as usize, i);
        }
    }

    #[tokio::test]
    async fn cluster_9_a_flood_is_counted_exactly_and_logged_once_per_reason() {
        let out = crate::audit::MemorySink::default();
        let metrics = Arc::new(Metrics::new());
        let audit =
            AuditLog::start(AuditTarget::Writer(Box::new(out.clone())), metrics.clone()).unwrap();
        let drops = Drops::new(metrics.clone(), audit.clone());
        for _ in 0..1000 {
            drops.record(Dropped::Unsigned);
        }
        drops.record(Dropped::Stale);
        drops.flush(); // nothing due within the interval
        audit.close().await;
        let text = out.text();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 2, "{text}");
        assert!(
            lines[0]
                .contains(r#""event":"cluster_messages_dropped","reason":"unsigned","count":1}"#),
            "{text}"
        );
        assert!(lines[1].contains(r#""reason":"stale","count":1"#), "{text}");
        let rendered = metrics.render(crate::metrics::Open::default());
        assert!(
            rendered.contains(r#"cfpb_mcp_cluster_messages_dropped_total{reason="unsigned"} 1000"#),
            "{rendered}"
        );
    }
}
