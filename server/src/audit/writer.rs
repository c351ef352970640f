//! The audit writer (LOG-3 in docs/contract.md): lines are rendered on the
//! request's task and queued for a dedicated writer thread, so writing never
//! blocks a request. The queue is bounded; if the writer falls that far
//! behind, lines are counted as dropped and the count is reported in the next
//! line written, never silently. [`AuditLog::close`] drains the queue and
//! flushes, which graceful shutdown awaits.
//!
//! Every event is also counted in the [`Metrics`] as it is written (requests,
//! refusals, stream ends, reloads, drops), so the two never disagree.
//!
//! Refused requests past a budget are summarised rather than written one by
//! one (LOG-4, `audit::refusals`): counted in the metrics all the same, and
//! reported by one `refusals_summarized` line per window and kind, which a
//! ticker thread writes within [`TICK`] of the window's end (and
//! [`AuditLog::close`] for the windows still open).

use std::io::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use serde::Serialize;
use tokio::sync::mpsc;

use crate::audit::event::{Event, Timestamp};
use crate::audit::refusals::{Refusal, RefusalBudget, Summary, Verdict};
use crate::metrics::{Metrics, Route};

/// Lines queued for the writer before new ones are counted as dropped.
const QUEUE_CAPACITY: usize = 65_536;

/// How long the writer lets lines gather after a write (issue 25). A line
/// queued while the writer waits on an empty queue wakes it (a futex call
/// on the request's thread, ~10 % of a stateless `tools/call`'s time when
/// every line did it); queued during the pause, it wakes no one. So a busy
/// server pays one wake-up and one write per pause, not per line, and a
/// line reaches the log at most this much later. 65,536 queued lines hold
/// far more than a pause's worth at any rate this server reaches.
const GATHER: Duration = Duration::from_millis(5);

/// How often the ticker closes ended refusal windows (LOG-4): a summary is
/// written at most this long after its window ends.
pub const TICK: Duration = Duration::from_secs(1);

/// The instant now, as the writer sees it (tests inject a manual clock).
pub type Clock = Arc<dyn Fn() -> Instant + Send + Sync>;

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
    /// Refusal lines written per window and kind (LOG-4).
    refusals: Arc<Mutex<RefusalBudget>>,
    /// What `refusals` measures windows with.
    clock: Clock,
}

impl std::fmt::Debug for AuditLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AuditLog")
    }
}

impl AuditLog {
    /// Start the writer thread; every event written is counted in `metrics`.
    /// A ticker thread writes the summaries of ended refusal windows (LOG-4).
    pub fn start(target: AuditTarget, metrics: Arc<Metrics>) -> std::io::Result<AuditLog> {
        let log = Self::start_with_clock(target, metrics, Arc::new(Instant::now))?;
        log.spawn_ticker()?;
        Ok(log)
    }

    /// [`AuditLog::start`] measuring refusal windows with `clock`, and with no
    /// ticker: summaries are written by later refusals,
    /// [`AuditLog::flush_ended`] and [`AuditLog::close`] (deterministic tests).
    pub fn start_with_clock(
        target: AuditTarget,
        metrics: Arc<Metrics>,
        clock: Clock,
    ) -> std::io::Result<AuditLog> {
        let (tx, mut rx) = mpsc::channel::<AuditMsg>(QUEUE_CAPACITY);
        std::thread::Builder::new()
            .name("audit-writer".into())
            .spawn(move || {
                let out: Box<dyn Write + Send> = match target {
                    AuditTarget::Stderr => Box::new(std::io::stderr()),
                    AuditTarget::Writer(w) => w,
                };
                let mut buf = std::io::BufWriter::with_capacity(64 * 1024, out);
                while let Some(first) = rx.blocking_recv() {
                    // Everything queued, then one write, then a pause in
                    // which lines gather without waking this thread.
                    let mut next = Some(first);
                    while let Some(msg) = next.take().or_else(|| rx.try_recv().ok()) {
                        match msg {
                            // A failing stderr can't be reported anywhere; keep draining.
                            AuditMsg::Line(line) => {
                                let _ = buf.write_all(line.as_bytes());
                            }
                            AuditMsg::Close(ack) => {
                                let _ = buf.flush();
                                let _ = ack.send(());
                                return;
                            }
                        }
                    }
                    let _ = buf.flush();
                    std::thread::sleep(GATHER);
                }
                let _ = buf.flush();
            })?;
        Ok(AuditLog {
            tx,
            dropped: Arc::new(AtomicU64::new(0)),
            metrics,
            refusals: Arc::new(Mutex::new(RefusalBudget::default())),
            clock,
        })
    }

    /// The thread that writes the summaries of ended refusal windows every
    /// [`TICK`]; it holds the queue weakly, so it stops with the log.
    fn spawn_ticker(&self) -> std::io::Result<()> {
        let weak = self.tx.downgrade();
        let (dropped, metrics) = (self.dropped.clone(), self.metrics.clone());
        let (refusals, clock) = (self.refusals.clone(), self.clock.clone());
        std::thread::Builder::new()
            .name("audit-ticker".into())
            .spawn(move || {
                loop {
                    std::thread::sleep(TICK);
                    let Some(tx) = weak.upgrade().filter(|tx| !tx.is_closed()) else {
                        return;
                    };
                    AuditLog {
                        tx,
                        dropped: dropped.clone(),
                        metrics: metrics.clone(),
                        refusals: refusals.clone(),
                        clock: clock.clone(),
                    }
                    .flush_ended();
                }
            })
            .map(drop)
    }

    /// Stamp `event` with the time now and queue its line. Never blocks. A
    /// refused request past its window's budget is counted, not written
    /// (LOG-4).
    pub fn write(&self, event: &Event) {
        tally(&self.metrics, event);
        if let Event::Request(line) = event
            && let Some(kind) = Refusal::of(line)
        {
            let mut summaries = Vec::new();
            let mut budget = self.budget();
            let verdict = budget.admit(kind, (self.clock)(), &mut summaries);
            // Under the lock: a window's summary precedes the next window's lines.
            self.write_summaries(&summaries);
            drop(budget);
            if verdict == Verdict::Summarize {
                return;
            }
        }
        self.write_line(render(&event.stamped(Timestamp::now())));
    }

    /// Write the summaries of the refusal windows that have ended (LOG-4).
    pub fn flush_ended(&self) {
        let mut summaries = Vec::new();
        let mut budget = self.budget();
        budget.close_ended((self.clock)(), &mut summaries);
        self.write_summaries(&summaries);
    }

    fn budget(&self) -> MutexGuard<'_, RefusalBudget> {
        // Nothing panics while holding it; a poisoned budget is still counts.
        self.refusals.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn write_summaries(&self, summaries: &[Summary]) {
        for summary in summaries {
            self.write_line(render(&summary.event().stamped(Timestamp::now())));
        }
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
        {
            let mut summaries = Vec::new();
            let mut budget = self.budget();
            budget.close_all(&mut summaries);
            self.write_summaries(&summaries);
        }
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
            if let Some(method) = line.auth_method {
                metrics.admitted(method.as_str());
            }
        }
        Event::StreamEnd(end) => metrics.stream_end(end.reason.as_str(), end.unanswered),
        Event::KeysReloaded { .. } => metrics.key_reload(true),
        Event::KeysReloadFailed { .. } => metrics.key_reload(false),
        // Counted where they are dropped, one by one.
        Event::AuditLinesDropped { .. } | Event::ClusterMessagesDropped { .. } => {}
        // Each refusal it summarises was counted as it happened.
        Event::RefusalsSummarized { .. } => {}
        Event::RedisState { state, .. } => metrics.redis_state(*state == "up"),
        Event::ServerStart { .. } | Event::ServerWarning { .. } | Event::ServerStop { .. } => {}
    }
}

/// Where a test's audit log writes: memory it reads back.
#[cfg(test)]
#[derive(Clone, Default)]
pub struct MemorySink(Arc<std::sync::Mutex<Vec<u8>>>);

#[cfg(test)]
impl Write for MemorySink {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
impl MemorySink {
    /// Everything written so far.
    pub fn text(&self) -> String {
        String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::event::Reason;
    use crate::audit::event::tests::record;

    type Shared = MemorySink;

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
        let text = sink.text();
        assert_eq!(text.lines().count(), 1000);
    }

    /// A wrong-key refusal's line, as the router writes it.
    fn refusal() -> Event {
        let Event::Request(mut line) = record() else {
            unreachable!()
        };
        (line.status, line.error, line.session) = (401, Some(Reason::Auth), None);
        (line.rpc_method, line.tool, line.arguments) = (None, None, None);
        Event::Request(line)
    }

    /// A log writing into memory, its windows measured by a manual clock.
    fn manual() -> (AuditLog, Shared, Arc<Metrics>, Arc<Mutex<Instant>>) {
        let sink = Shared::default();
        let metrics = Arc::new(Metrics::new());
        let now = Arc::new(Mutex::new(Instant::now()));
        let clock = now.clone();
        let log = AuditLog::start_with_clock(
            AuditTarget::Writer(Box::new(sink.clone())),
            metrics.clone(),
            Arc::new(move || *clock.lock().unwrap()),
        )
        .unwrap();
        (log, sink, metrics, now)
    }

    fn events(log: AuditLog, sink: &Shared) -> Vec<serde_json::Value> {
        tokio::runtime::Runtime::new()
            .unwrap()
            .block_on(log.close());
        let text = sink.text();
        text.lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    #[test]
    fn log_4_a_refusal_flood_is_summarised_and_accepted_lines_all_written() {
        use crate::audit::refusals::{LINES_PER_WINDOW, WINDOW};
        let (log, sink, metrics, now) = manual();
        log.write(&record());
        for _ in 0..1_000 {
            log.write(&refusal());
        }
        log.write(&record());
        // The window ends: the tick writes its summary, once.
        *now.lock().unwrap() += WINDOW;
        log.flush_ended();
        log.flush_ended();
        for _ in 0..120 {
            log.write(&refusal());
        }
        log.write(&record());
        let lines = events(log, &sink);
        let kinds: Vec<&str> = lines.iter().map(|l| l["event"].as_str().unwrap()).collect();
        let refused = |from: usize, to: usize| {
            lines[from..to]
                .iter()
                .filter(|l| l["error"] == "auth")
                .count()
        };
        // Accepted, 100 refusals, accepted, the summary of 900, 100 refusals,
        // accepted, and at close the open window's summary of 20.
        let first_summary = kinds
            .iter()
            .position(|k| *k == "refusals_summarized")
            .unwrap();
        assert_eq!(refused(0, first_summary), LINES_PER_WINDOW as usize);
        assert_eq!(kinds.iter().filter(|k| **k == "mcp_request").count(), 203);
        assert_eq!(
            lines
                .iter()
                .filter(|l| l["error"].is_null() && l["event"] == "mcp_request")
                .count(),
            3
        );
        let summaries: Vec<_> = lines
            .iter()
            .filter(|l| l["event"] == "refusals_summarized")
            .collect();
        assert_eq!(summaries.len(), 2);
        for (summary, count) in summaries.iter().zip([900, 20]) {
            assert_eq!(summary["reason"], "auth");
            assert_eq!(summary["count"], count);
            assert_eq!(summary["written"], LINES_PER_WINDOW);
            assert_eq!(summary["window_secs"], WINDOW.as_secs());
            assert!(summary["since"].is_string() && summary.get("status").is_none());
        }
        assert_eq!(kinds.last(), Some(&"refusals_summarized"));
        // The metrics keep the exact totals.
        let text = metrics.render(crate::metrics::Open {
            streams: 0,
            sessions: 0,
        });
        assert!(
            text.contains(r#"cfpb_mcp_refusals_total{reason="auth"} 1120"#),
            "{text}"
        );
    }

    /// docs/reliability.md's figure: one million wrong-key refusals at the
    /// rate issue 23 measured (20,000/s, so 50 s), before and after LOG-4.
    #[test]
    fn log_4_figures_for_a_million_refusals() {
        use crate::audit::refusals::{Refusal, RefusalBudget, Verdict};
        const N: u64 = 1_000_000;
        const RATE: u64 = 20_000;
        let line = render(&refusal().stamped(Timestamp::now())).len() as u64;
        let (mut budget, mut summaries, mut written) = (RefusalBudget::default(), Vec::new(), 0);
        let t0 = Instant::now();
        let kind = Refusal::Reason(Reason::Auth);
        for i in 0..N {
            let now = t0 + Duration::from_micros(i * 1_000_000 / RATE);
            if budget.admit(kind, now, &mut summaries) == Verdict::Write {
                written += 1;
            }
        }
        budget.close_all(&mut summaries);
        let summary_bytes: u64 = summaries
            .iter()
            .map(|s| render(&s.event().stamped(Timestamp::now())).len() as u64)
            .sum();
        let counted: u64 = summaries.iter().map(|s| s.count).sum();
        assert_eq!(written + counted, N, "every refusal is written or counted");
        let after = written * line + summary_bytes;
        println!(
            "1M refusals: before {N} lines, {} bytes; after {} lines, {after} bytes",
            N * line,
            written + summaries.len() as u64,
        );
        assert_eq!((written, summaries.len()), (500, 5));
        assert!(after < 100_000, "{after}");
    }

    #[test]
    fn log_4_a_summary_renders_as_its_line() {
        use crate::audit::event::tests::EPOCH;
        let summary = Event::RefusalsSummarized {
            reason: None,
            status: Some(404),
            count: 7,
            written: 100,
            since: EPOCH,
            window_secs: 10,
        };
        assert_eq!(
            render(&summary.stamped(EPOCH)),
            "{\"ts\":\"1970-01-01T00:00:00.000Z\",\"event\":\"refusals_summarized\",\"status\":404,\"count\":7,\"written\":100,\"since\":\"1970-01-01T00:00:00.000Z\",\"window_secs\":10}\n"
        );
    }
}
