//! Refusal summaries (LOG-4 in docs/contract.md; issue 23, finding 7): a
//! flood of refused requests must not flush the audit trail out of a
//! rotating log. Per kind of refusal (the line's `error` reason, or its
//! 4xx/5xx status when it has neither reason nor caller), the first [`LINES_PER_WINDOW`]
//! lines of a [`WINDOW`] are written one by one; the rest of that window are
//! counted, and one `refusals_summarized` line per window and kind says how
//! many were not written. Accepted requests are always written, and the
//! metrics keep exact totals (they are counted before this decides anything).
//!
//! [`RefusalBudget`] is pure bookkeeping over the instants it is given, so
//! tests drive it with an injected clock; the writer owns one behind a mutex.

use std::time::{Duration, Instant, SystemTime};

use crate::audit::event::{Caller, Event, Reason, RequestLine, Timestamp};

/// The interval a budget of refusal lines covers (per kind of refusal).
pub const WINDOW: Duration = Duration::from_secs(10);

/// Refusal lines of one kind written one by one per [`WINDOW`]; the rest of
/// the window's are only counted (and summarised).
pub const LINES_PER_WINDOW: u64 = 100;

/// Kinds of refusal tracked at once. The server produces a handful of
/// statuses and seven reasons, so this is never reached in practice; past it
/// a new kind is written one by one (never silently dropped).
const MAX_KINDS: usize = 32;

/// What makes a request line a refusal, and the key its budget is kept under.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The line's `error` reason (LOG-1).
    Reason(Reason),
    /// A 4xx/5xx status without a reason and without a caller (an unknown
    /// path's 404: answered before any key is checked).
    Status(u16),
}

impl Refusal {
    /// The kind of refusal `line` is, or `None` for a request that is
    /// always written: accepted, or failed for a verified caller (whose
    /// rate limit bounds its lines already).
    pub fn of(line: &RequestLine) -> Option<Refusal> {
        match line.error {
            Some(reason) => Some(Refusal::Reason(reason)),
            None if line.status >= 400 && line.key == Caller::None => {
                Some(Refusal::Status(line.status))
            }
            None => None,
        }
    }
}

/// Whether one refusal's line is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Write,
    /// Counted in the window's summary instead.
    Summarize,
}

/// One `refusals_summarized` line's content: a window of one kind of refusal
/// in which `count` lines were not written (after `written` that were).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Summary {
    pub kind: Refusal,
    pub count: u64,
    pub written: u64,
    /// Wall-clock time the window opened.
    pub since: SystemTime,
}

impl Summary {
    /// The audit event for this summary.
    pub fn event(&self) -> Event {
        let (reason, status) = match self.kind {
            Refusal::Reason(reason) => (Some(reason), None),
            Refusal::Status(status) => (None, Some(status)),
        };
        Event::RefusalsSummarized {
            reason,
            status,
            count: self.count,
            written: self.written,
            since: Timestamp(self.since),
            window_secs: WINDOW.as_secs(),
        }
    }
}

/// One kind's current window.
#[derive(Debug, Clone, Copy)]
struct Window {
    kind: Refusal,
    opened: Instant,
    since: SystemTime,
    written: u64,
    summarized: u64,
}

impl Window {
    fn summary(&self) -> Option<Summary> {
        (self.summarized > 0).then_some(Summary {
            kind: self.kind,
            count: self.summarized,
            written: self.written,
            since: self.since,
        })
    }
}

/// The open windows, one per kind of refusal seen in the last [`WINDOW`].
#[derive(Debug, Default)]
pub struct RefusalBudget {
    windows: Vec<Window>,
}

impl RefusalBudget {
    /// Decide whether a refusal of `kind` at `now` is written. Windows that
    /// ended by `now` are closed first; their summaries are pushed onto
    /// `summaries`, to be written before this refusal's line.
    pub fn admit(&mut self, kind: Refusal, now: Instant, summaries: &mut Vec<Summary>) -> Verdict {
        self.close_ended(now, summaries);
        let index = match self.windows.iter().position(|w| w.kind == kind) {
            Some(index) => index,
            None if self.windows.len() >= MAX_KINDS => return Verdict::Write,
            None => {
                self.windows.push(Window {
                    kind,
                    opened: now,
                    since: SystemTime::now(),
                    written: 0,
                    summarized: 0,
                });
                self.windows.len() - 1
            }
        };
        let Some(window) = self.windows.get_mut(index) else {
            return Verdict::Write;
        };
        if window.written < LINES_PER_WINDOW {
            window.written += 1;
            Verdict::Write
        } else {
            window.summarized += 1;
            Verdict::Summarize
        }
    }

    /// Close every window that ended by `now`, pushing the summaries of
    /// those that held back lines (the writer's periodic tick).
    pub fn close_ended(&mut self, now: Instant, summaries: &mut Vec<Summary>) {
        self.windows.retain(|w| {
            let ended = now.saturating_duration_since(w.opened) >= WINDOW;
            if ended {
                summaries.extend(w.summary());
            }
            !ended
        });
    }

    /// Close every window now (graceful shutdown: no count is lost).
    pub fn close_all(&mut self, summaries: &mut Vec<Summary>) {
        summaries.extend(self.windows.drain(..).filter_map(|w| w.summary()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const AUTH: Refusal = Refusal::Reason(Reason::Auth);
    const ORIGIN: Refusal = Refusal::Reason(Reason::Origin);

    /// Admit `n` refusals of `kind` at `now`; (written, summarized, summaries).
    fn run(
        budget: &mut RefusalBudget,
        kind: Refusal,
        now: Instant,
        n: u64,
    ) -> (u64, u64, Vec<Summary>) {
        let (mut written, mut summarized, mut summaries) = (0, 0, Vec::new());
        for _ in 0..n {
            match budget.admit(kind, now, &mut summaries) {
                Verdict::Write => written += 1,
                Verdict::Summarize => summarized += 1,
            }
        }
        (written, summarized, summaries)
    }

    #[test]
    fn log_4_past_the_budget_refusals_are_counted_then_summarised_once_per_window() {
        let t0 = Instant::now();
        let mut budget = RefusalBudget::default();
        let (written, summarized, summaries) = run(&mut budget, AUTH, t0, 1_000);
        assert_eq!((written, summarized), (LINES_PER_WINDOW, 900));
        assert!(summaries.is_empty(), "the window is still open");
        // Another kind has its own budget.
        assert_eq!(run(&mut budget, ORIGIN, t0, 5).0, 5);
        // Just before the window ends: still summarised, nothing closed.
        let (w, s, summaries) = run(&mut budget, AUTH, t0 + WINDOW - Duration::from_millis(1), 1);
        assert_eq!((w, s, summaries.len()), (0, 1, 0));
        // The next window: its first lines are written, after the summary of
        // the last one (901 held back after 100 written); the origin window
        // held nothing back, so it closes without a line.
        let (w, s, summaries) = run(&mut budget, AUTH, t0 + WINDOW, 3);
        assert_eq!((w, s), (3, 0));
        assert_eq!(summaries.len(), 1);
        assert_eq!(
            (summaries[0].kind, summaries[0].count, summaries[0].written),
            (AUTH, 901, LINES_PER_WINDOW)
        );
    }

    #[test]
    fn log_4_a_tick_closes_ended_windows_and_shutdown_closes_the_rest() {
        let t0 = Instant::now();
        let mut budget = RefusalBudget::default();
        run(&mut budget, AUTH, t0, 150);
        run(&mut budget, Refusal::Status(404), t0 + WINDOW / 2, 130);
        let mut summaries = Vec::new();
        budget.close_ended(t0 + WINDOW, &mut summaries);
        assert_eq!(summaries.len(), 1);
        assert_eq!((summaries[0].kind, summaries[0].count), (AUTH, 50));
        summaries.clear();
        budget.close_all(&mut summaries);
        assert_eq!(summaries.len(), 1);
        assert_eq!(
            (summaries[0].kind, summaries[0].count),
            (Refusal::Status(404), 30)
        );
        budget.close_all(&mut summaries);
        assert_eq!(summaries.len(), 1, "each window is summarised once");
    }

    #[test]
    fn log_4_accepted_requests_are_no_refusal() {
        let mut line = match crate::audit::event::tests::record() {
            Event::Request(line) => line,
            _ => unreachable!(),
        };
        assert_eq!(Refusal::of(&line), None);
        line.status = 404;
        assert_eq!(Refusal::of(&line), None, "a verified caller's 404");
        line.key = Caller::None;
        assert_eq!(Refusal::of(&line), Some(Refusal::Status(404)));
        line.error = Some(Reason::InvalidJsonrpc);
        line.status = 202;
        assert_eq!(
            Refusal::of(&line),
            Some(Refusal::Reason(Reason::InvalidJsonrpc))
        );
    }
}
