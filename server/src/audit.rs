//! The audit log (LOG-1..3): one JSON line per request on stderr.
//!
//! Request handlers build an [`AuditRecord`] and hand it to [`AuditLog`],
//! which serializes it and queues the line for a dedicated writer thread, so
//! writing never blocks a request (LOG-3). The queue is bounded; if the
//! writer falls that far behind, lines are counted as dropped and the count is
//! reported in the next line written, never silently. [`AuditLog::close`]
//! drains the queue and flushes, which graceful shutdown awaits.
//!
//! A record holds no key: only a [`KeyId`] (8 hex of sha256), and the
//! client-controlled strings it carries are scrubbed by the caller's
//! [`Redactor`] and truncated.

use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

use serde::Serialize;
use tokio::sync::mpsc;

use crate::guard::keys::KeyId;
use crate::guard::redact::Redactor;

/// Longest `arguments` string kept in a line (bytes, before the marker).
pub const MAX_ARGUMENTS_LEN: usize = 512;
/// Longest `path` kept in a line.
pub const MAX_PATH_LEN: usize = 256;
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

/// How the audit log names a caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Caller {
    None,
    Key(KeyId),
}

impl Serialize for Caller {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Caller::None => s.serialize_str("none"),
            Caller::Key(id) => s.serialize_str(id.hex().as_str()),
        }
    }
}

/// One `mcp_request` line (LOG-1).
#[derive(Debug, Serialize)]
pub struct AuditRecord {
    pub ts: Timestamp,
    pub event: &'static str,
    pub method: &'static str,
    pub path: String,
    pub status: u16,
    pub duration_ms: u64,
    pub key: Caller,
    /// First 8 characters of the session id (a full id is a capability).
    pub session: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rpc_method: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tool: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub arguments: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<&'static str>,
}

/// One `mcp_stream_end` line: an SSE stream closed (LOG-1).
#[derive(Debug, Serialize)]
pub struct StreamEndRecord {
    pub ts: Timestamp,
    pub event: &'static str,
    pub key: Caller,
    pub session: String,
    pub duration_ms: u64,
    /// Why it ended: `client_closed`, `key_revoked`, `shutdown`, `mcp_closed`.
    pub reason: &'static str,
    pub messages_sent: u64,
}

/// RFC 3339 UTC with milliseconds.
#[derive(Debug, Clone, Copy)]
pub struct Timestamp(pub SystemTime);

impl Timestamp {
    pub fn now() -> Self {
        Self(SystemTime::now())
    }
}

impl Serialize for Timestamp {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        // `2024-01-02T03:04:05.678Z` is 24 bytes; formatted on the stack and
        // written as one string, not through the serializer's escaping adapter.
        let mut buf = [0u8; 32];
        let mut cursor = std::io::Cursor::new(&mut buf[..]);
        match write!(cursor, "{}", humantime::format_rfc3339_millis(self.0)) {
            Ok(()) => {
                let len = usize::try_from(cursor.position()).unwrap_or(0);
                s.serialize_str(std::str::from_utf8(&buf[..len]).unwrap_or_default())
            }
            Err(_) => s.collect_str(&humantime::format_rfc3339_millis(self.0)),
        }
    }
}

/// The 8-character prefix of a session id that may be logged.
pub fn session_prefix(session_id: &str) -> String {
    session_id.chars().take(8).collect()
}

/// Milliseconds, saturating.
pub fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// Scrub keys out of `text`, then cut it to at most `max` bytes on a char
/// boundary, marking the cut. Scrubbing comes first so that a cut can't split
/// a key into an unrecognizable prefix.
///
/// Control characters become U+FFFD first: JSON writes them as escapes made of
/// letters and hex digits (`\n`, `\u001f`), which would otherwise join the
/// client text after them into a key once the line is rendered (LOG-2).
pub fn scrub_and_truncate(redactor: &Redactor, text: &str, max: usize) -> String {
    let text: std::borrow::Cow<'_, str> = if text.contains(|c: char| c < ' ') {
        text.replace(|c: char| c < ' ', "\u{fffd}").into()
    } else {
        text.into()
    };
    let scrubbed = redactor.redact(&text);
    if scrubbed.len() <= max {
        return scrubbed.into_owned();
    }
    let mut end = max;
    while !scrubbed.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…[truncated]", &scrubbed[..end])
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
}

impl std::fmt::Debug for AuditLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AuditLog")
    }
}

impl AuditLog {
    /// Start the writer thread.
    pub fn start(target: AuditTarget) -> std::io::Result<AuditLog> {
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
        })
    }

    /// Queue a record. Never blocks.
    pub fn write<T: Serialize>(&self, record: &T) {
        self.write_line(render(record));
    }

    /// Queue an already rendered line. Never blocks.
    pub fn write_line(&self, line: String) {
        let missed = self.dropped.swap(0, Ordering::Relaxed);
        if missed > 0 {
            let note = format!(
                "{{\"ts\":\"{}\",\"event\":\"audit_lines_dropped\",\"count\":{missed}}}\n",
                humantime::format_rfc3339_millis(SystemTime::now())
            );
            if self.tx.try_send(AuditMsg::Line(note)).is_err() {
                self.dropped.fetch_add(missed, Ordering::Relaxed);
            }
        }
        if self.tx.try_send(AuditMsg::Line(line)).is_err() {
            self.dropped.fetch_add(1, Ordering::Relaxed);
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::guard::keys::{ApiKey, KeyDigest};

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

    fn record() -> AuditRecord {
        AuditRecord {
            ts: Timestamp(SystemTime::UNIX_EPOCH),
            event: "mcp_request",
            method: "POST",
            path: "/mcp/messages".into(),
            status: 202,
            duration_ms: 3,
            key: Caller::Key(KeyDigest::of(b"abc").id()),
            session: Some("0123abcd".into()),
            rpc_method: Some("tools/call".into()),
            tool: Some("search_complaints".into()),
            arguments: Some("{\"size\":1}".into()),
            error: None,
        }
    }

    #[test]
    fn log_1_record_renders_as_one_json_line_with_required_fields() {
        let line = render(&record());
        assert!(line.ends_with('\n') && line.matches('\n').count() == 1);
        insta::assert_snapshot!(line.trim_end(), @r#"{"ts":"1970-01-01T00:00:00.000Z","event":"mcp_request","method":"POST","path":"/mcp/messages","status":202,"duration_ms":3,"key":"ba7816bf","session":"0123abcd","rpc_method":"tools/call","tool":"search_complaints","arguments":"{\"size\":1}"}"#);
    }

    #[test]
    fn log_3_every_line_is_written_when_the_log_closes() {
        let sink = Shared::default();
        let log = AuditLog::start(AuditTarget::Writer(Box::new(sink.clone()))).unwrap();
        for _ in 0..1000 {
            log.write(&record());
        }
        tokio::runtime::Runtime::new()
            .unwrap()
            .block_on(log.close());
        let text = String::from_utf8(sink.0.lock().unwrap().clone()).unwrap();
        assert_eq!(text.lines().count(), 1000);
    }

    #[test]
    fn log_2_arguments_are_scrubbed_before_truncation() {
        let key = ApiKey::new("sekrit-key-123456").unwrap();
        let redactor = Redactor::new(&[key]);
        let long = format!("{}sekrit-key-123456", "x".repeat(MAX_ARGUMENTS_LEN - 5));
        let out = scrub_and_truncate(&redactor, &long, MAX_ARGUMENTS_LEN);
        assert!(!out.contains("sekrit"), "{out}");
        assert!(out.ends_with("[truncated]"));
        assert_eq!(
            scrub_and_truncate(&redactor, "é".repeat(400).as_str(), 5),
            "éé…[truncated]"
        );
    }

    #[test]
    fn log_2_json_escapes_never_complete_a_key() {
        // Found by the audit_record fuzz target's model: "\n" + "abcdefgh"
        // renders as `\nabcdefgh`, which holds the key `nabcdefgh`.
        let redactor = Redactor::new(&[ApiKey::new("nabcdefgh").unwrap()]);
        let out = scrub_and_truncate(&redactor, "\nabcdefgh\u{1f}", 128);
        assert_eq!(out, "\u{fffd}abcdefgh\u{fffd}");
        assert!(!render(&out).contains("nabcdefgh"));
    }

    proptest::proptest! {
        /// LOG-2: whatever the arguments hold, the rendered line is JSON and holds
        /// no encoding of any configured key.
        #[test]
        fn log_2_no_audit_line_contains_the_key(
            key in "[A-Za-z0-9_~.+/=-]{16,64}",
            before in ".{0,300}",
            after in ".{0,300}",
            encoding in 0usize..64,
        ) {
            let api_key = ApiKey::new(&key).unwrap();
            let needles = crate::guard::redact::encodings(key.as_bytes());
            let embedded = &needles[encoding % needles.len()];
            let arguments = serde_json::json!({ "search_term": format!("{before}{embedded}{after}") }).to_string();
            let redactor = Redactor::new(&[api_key]);
            let mut r = record();
            r.arguments = Some(scrub_and_truncate(&redactor, &arguments, MAX_ARGUMENTS_LEN));
            let line = render(&r);
            let parsed: serde_json::Value = serde_json::from_str(&line).unwrap();
            proptest::prop_assert_eq!(&parsed["event"], "mcp_request");
            for needle in &needles {
                proptest::prop_assert!(!line.contains(needle.as_str()), "leaked {} in {}", needle.len(), line.len());
            }
        }
    }
}
