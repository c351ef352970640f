//! The audit writer (LOG-3 in docs/contract.md): lines are rendered on the
//! request's task and queued for a dedicated writer thread, so writing never
//! blocks a request. The queue is bounded; if the writer falls that far
//! behind, lines are counted as dropped and the count is reported in the next
//! line written, never silently. [`AuditLog::close`] drains the queue and
//! flushes, which graceful shutdown awaits.
//!
//! Every event is also counted in the [`Metrics`] as it is written (requests,
//! refusals, stream ends, reloads, drops), so the two never disagree.

use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use serde::Serialize;
use tokio::sync::mpsc;

use crate::audit::event::{Event, Timestamp};
use crate::metrics::{Metrics, Route};

/// Lines queued for the writer before new ones are counted as dropped.
const QUEUE_CAPACITY: usize = 65_536;

/// Where audit lines go.
pub enum AuditTarget {
    /// Standard error (production).
    Stderr,
    /// Any writer (tests, the embedded conformance harness).
    Writer(Box<dyn Write + Send>),
}

impl std::fmt::Debug for AuditTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AuditTarget::Stderr => f.write_str("Stderr"),
            AuditTarget::Writer(_) => f.write_str("Writer"),
        }
    }
}

/// Render a record as one JSON line (with the trailing newline).
pub fn render<T: Serialize>(record: &T) -> String {
    // Room for a typical line, so that rendering allocates once.
    let mut line = Vec::with_capacity(RENDER_CAPACITY);
    let rendered = serde_json::to_writer(&mut line, record)
        .ok()
        .and_then(|()| String::from_utf8(line).ok());
    match rendered {
        Some(mut line) => {
            line.push('\n');
            line
        }
        // Unreachable for our record types (no maps with non-string keys).
        None => "{\"event\":\"audit_render_error\"}\n".to_owned(),
    }
}

/// Bytes reserved for a rendered line: an `mcp_request` line without tool
/// arguments is about 200.
const RENDER_CAPACITY: usize = 320;

enum AuditMsg {
    Line(String),
    /// Flush, acknowledge, and stop: graceful shutdown (LOG-3).
    Close(std::sync::mpsc::SyncSender<()>),
}

/// Handle to the audit writer. Cheap to clone.
#[derive(Clone)]
pub struct AuditLog {
    tx: mpsc::Sender<AuditMsg>,
    dropped: Arc<AtomicU64>,
    metrics: Arc<Metrics>,
}

impl std::fmt::Debug for AuditLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AuditLog")
    }
}

impl AuditLog {
    /// Start the writer thread; every event written is counted in `metrics`.
    pub fn start(target: AuditTarget, metrics: Arc<Metrics>) -> std::io::Result<AuditLog> {
        let (tx, mut rx) = mpsc::channel::<AuditMsg>(QUEUE_CAPACITY);
        std::thread::Builder::new()
            .name("audit-writer".into())
            .spawn(move || {
                let out: Box<dyn Write + Send> = match target {
                    AuditTarget::Stderr => Box::new(std::io::stderr()),
                    AuditTarget::Writer(w) => w,
                };
                let mut buf = std::io::BufWriter::with_capacity(64 * 1024, out);
                while let Some(msg) = rx.blocking_recv() {
                    match msg {
                        AuditMsg::Line(line) => {
                            // A failing stderr can't be reported anywhere; keep draining.
                            let _ = buf.write_all(line.as_bytes());
                            if rx.is_empty() {
                                let _ = buf.flush();
                            }
                        }
                        AuditMsg::Close(ack) => {
                            let _ = buf.flush();
                            let _ = ack.send(());
                            return;
                        }
                    }
                }
                let _ = buf.flush();
            })?;
        Ok(AuditLog {
            tx,
            dropped: Arc::new(AtomicU64::new(0)),
            metrics,
        })
    }

    /// Stamp `event` with the time now and queue its line. Never blocks.
    pub fn write(&self, event: &Event) {
        tally(&self.metrics, event);
        self.write_line(render(&event.stamped(Timestamp::now())));
    }

    /// Queue an already rendered line. Never blocks.
    pub fn write_line(&self, line: String) {
        let missed = self.dropped.swap(0, Ordering::Relaxed);
        if missed > 0 {
            let dropped = Event::AuditLinesDropped { count: missed };
            let note = render(&dropped.stamped(Timestamp::now()));
            if self.tx.try_send(AuditMsg::Line(note)).is_err() {
                self.dropped.fetch_add(missed, Ordering::Relaxed);
            }
        }
        if self.tx.try_send(AuditMsg::Line(line)).is_err() {
            self.dropped.fetch_add(1, Ordering::Relaxed);
            self.metrics.audit_lines_dropped(1);
        }
    }

    /// Write everything queued so far, flush, and stop the writer (LOG-3).
    /// Lines queued after this are dropped.
    pub async fn close(&self) {
        let (ack_tx, ack_rx) = std::sync::mpsc::sync_channel(1);
        if self.tx.send(AuditMsg::Close(ack_tx)).await.is_ok() {
            let _ = tokio::task::spawn_blocking(move || ack_rx.recv()).await;
        }
    }
}

/// Count `event` in the metrics (METRICS-2).
fn tally(metrics: &Metrics, event: &Event) {
    match event {
        Event::Request(line) => {
            metrics.request(
                Route::of_logged_path(&line.path),
                line.status,
                Duration::from_millis(line.duration_ms),
            );
            if let Some(reason) = line.error {
                metrics.refusal(reason.as_str());
            }
            for quirk in line.client_quirk.iter() {
                metrics.client_quirk(quirk.as_str());
            }
        }
        Event::StreamEnd(end) => metrics.stream_end(end.reason.as_str(), end.unanswered),
        Event::KeysReloaded { .. } => metrics.key_reload(true),
        Event::KeysReloadFailed { .. } => metrics.key_reload(false),
        // Counted where they are dropped, one by one.
        Event::AuditLinesDropped { .. } | Event::ClusterMessagesDropped { .. } => {}
        Event::RedisState { state, .. } => metrics.redis_state(*state == "up"),
        Event::ServerStart { .. } | Event::ServerWarning { .. } | Event::ServerStop { .. } => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::event::tests::record;

    #[derive(Clone, Default)]
    struct Shared(Arc<std::sync::Mutex<Vec<u8>>>);
    impl Write for Shared {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn log_3_every_line_is_written_when_the_log_closes() {
        let sink = Shared::default();
        let log = AuditLog::start(
            AuditTarget::Writer(Box::new(sink.clone())),
            Arc::new(Metrics::new()),
        )
        .unwrap();
        for _ in 0..1000 {
            log.write(&record());
        }
        tokio::runtime::Runtime::new()
            .unwrap()
            .block_on(log.close());
        let text = String::from_utf8(sink.0.lock().unwrap().clone()).unwrap();
        assert_eq!(text.lines().count(), 1000);
    }
}
