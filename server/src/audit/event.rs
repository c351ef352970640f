//! The audit schema (LOG-1 in docs/contract.md): every line this server logs
//! is one [`Event`], stamped with its time. Field names and order are the
//! contract's; a new kind of line is a new variant here, nowhere else.
//!
//! An event holds no key: a caller is a [`Caller`] (the 8-hex [`KeyId`]), a
//! session its 8-character prefix, and every client-controlled string was
//! scrubbed and bounded before it got here (LOG-2, see `audit::fields`).

use std::io::Write;
use std::time::{Duration, SystemTime};

use serde::Serialize;

use crate::identity::AuthMethod;
use crate::identity::keys::KeyId;

/// One line of the audit log.
#[derive(Debug, Serialize)]
#[serde(untagged)]
pub enum Event {
    /// `mcp_request`: one per request, `/health` excepted.
    Request(RequestLine),
    /// `mcp_stream_end`: an SSE stream closed.
    StreamEnd(StreamEnd),
    /// `server_start`: bound and serving.
    ServerStart {
        listen: String,
        data: &'static str,
        keys: usize,
        /// The metrics listener (METRICS-4), when one is configured.
        #[serde(skip_serializing_if = "Option::is_none")]
        metrics: Option<String>,
    },
    /// `server_warning`: a setting an operator must not miss.
    ServerWarning { message: &'static str },
    /// `server_stop`: graceful shutdown finished (`drained`: within the grace).
    ServerStop { drained: bool },
    /// `keys_reloaded` (AUTH-2, AUTH-8).
    KeysReloaded { keys: usize, streams_closed: usize },
    /// `keys_reload_failed`: the previous keys stay in force.
    KeysReloadFailed { error: String },
    /// `audit_lines_dropped`: the writer fell behind (LOG-3); never silent.
    AuditLinesDropped { count: u64 },
    /// `refusals_summarized` (LOG-4): in the window that opened at `since`,
    /// `count` refused requests of one kind (`reason`, or `status` for a
    /// refusal without one) were counted but not written one by one, after
    /// `written` that were.
    RefusalsSummarized {
        #[serde(skip_serializing_if = "Option::is_none")]
        reason: Option<Reason>,
        #[serde(skip_serializing_if = "Option::is_none")]
        status: Option<u16>,
        count: u64,
        written: u64,
        since: Timestamp,
        window_secs: u64,
    },
    /// `redis_state`: the link to Redis went `up` or `down` (CLUSTER-5); one
    /// line per change. `url` is shown without credentials.
    RedisState {
        state: &'static str,
        url: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        error: Option<String>,
    },
    /// `cluster_messages_dropped`: messages from Redis that were unsigned,
    /// forged, stale or replayed (CLUSTER-9), at most one line per reason a
    /// minute, with the count since the last one.
    ClusterMessagesDropped { reason: &'static str, count: u64 },
}

impl Event {
    /// The `event` field.
    pub fn name(&self) -> &'static str {
        match self {
            Event::Request(_) => "mcp_request",
            Event::StreamEnd(_) => "mcp_stream_end",
            Event::ServerStart { .. } => "server_start",
            Event::ServerWarning { .. } => "server_warning",
            Event::ServerStop { .. } => "server_stop",
            Event::KeysReloaded { .. } => "keys_reloaded",
            Event::KeysReloadFailed { .. } => "keys_reload_failed",
            Event::AuditLinesDropped { .. } => "audit_lines_dropped",
            Event::RefusalsSummarized { .. } => "refusals_summarized",
            Event::RedisState { .. } => "redis_state",
            Event::ClusterMessagesDropped { .. } => "cluster_messages_dropped",
        }
    }

    /// The line as written: `{"ts":..,"event":..,<fields>}`.
    pub fn stamped(&self, ts: Timestamp) -> Stamped<'_> {
        Stamped {
            ts,
            event: self.name(),
            fields: self,
        }
    }
}

/// An [`Event`] with its time, ready to render.
#[derive(Debug, Serialize)]
pub struct Stamped<'a> {
    ts: Timestamp,
    event: &'static str,
    #[serde(flatten)]
    fields: &'a Event,
}

/// The fields of an `mcp_request` line.
#[derive(Debug, Serialize)]
pub struct RequestLine {
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
    pub arguments: Option<Arguments>,
    /// `true` when `arguments` is a string cut at its bound.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub arguments_truncated: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<Reason>,
    /// OAUTH-5: how the guard admitted the caller; written only for
    /// `oauth` or `access` (absent for API keys, so a keys-only deployment's
    /// lines are as before), counted for every method (METRICS-2).
    #[serde(skip_serializing_if = "not_a_token")]
    pub auth_method: Option<AuthMethod>,
    /// COMPAT-6: the tolerances this request needed, in the order applied;
    /// absent when it needed none.
    #[serde(skip_serializing_if = "Quirks::is_empty")]
    pub client_quirk: Quirks,
}

/// The `arguments` of a `tools/call` line (LOG-1): the JSON object itself,
/// so that `jq '.arguments.search_term'` reads it; or, when it is over its
/// bound (or scrubbing a key out left no JSON), the scrubbed text as a string.
#[derive(Debug, Clone, PartialEq)]
pub enum Arguments {
    Json(serde_json::Value),
    Text { text: String, truncated: bool },
}

impl Arguments {
    /// The line's `arguments_truncated` field: present only when cut.
    pub fn truncated(&self) -> Option<bool> {
        matches!(
            self,
            Arguments::Text {
                truncated: true,
                ..
            }
        )
        .then_some(true)
    }
}

impl Serialize for Arguments {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Arguments::Json(value) => value.serialize(s),
            Arguments::Text { text, .. } => s.serialize_str(text),
        }
    }
}

/// The fields of an `mcp_stream_end` line.
#[derive(Debug, Serialize)]
pub struct StreamEnd {
    pub key: Caller,
    pub session: String,
    pub duration_ms: u64,
    pub reason: EndReason,
    pub messages_sent: u64,
    /// Requests accepted (202) whose answer the stream ended before it could
    /// carry (MSG-6: never dropped silently).
    pub unanswered: u64,
}

/// Why a request was refused or failed: the `error` field of its line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    /// NET-2: an `Origin` not on the allowlist.
    Origin,
    /// AUTH-1/3/5: no key, a malformed one, or a wrong one.
    Auth,
    /// RATE-1/2 and RATE-6: the key's (or the address's) bucket is empty.
    RateLimit,
    /// RATE-7: the key holds its maximum of streams or sessions.
    StreamCap,
    /// MSG-4: JSON that is not a JSON-RPC message (answered on the stream).
    InvalidJsonrpc,
    /// MSG-6: the session is not reading its stream.
    Overloaded,
    /// MSG-6: a request id already in flight in the session.
    DuplicateId,
}

impl Reason {
    /// Every reason.
    pub const ALL: [Reason; 7] = [
        Reason::Origin,
        Reason::Auth,
        Reason::RateLimit,
        Reason::StreamCap,
        Reason::InvalidJsonrpc,
        Reason::Overloaded,
        Reason::DuplicateId,
    ];

    /// The reason [`Reason::as_str`] names (the word another replica
    /// reports for a forwarded request, CLUSTER-3/7).
    pub fn from_word(word: &str) -> Option<Reason> {
        Reason::ALL.into_iter().find(|r| r.as_str() == word)
    }

    /// The word logged (and the metrics' `reason` label).
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::Origin => "origin",
            Reason::Auth => "auth",
            Reason::RateLimit => "rate_limit",
            Reason::StreamCap => "stream_cap",
            Reason::InvalidJsonrpc => "invalid_jsonrpc",
            Reason::Overloaded => "overloaded",
            Reason::DuplicateId => "duplicate_id",
        }
    }
}

/// A departure from the MCP revisions that `/mcp` serves on purpose
/// (COMPAT-1..3 in docs/contract.md): a closed set of words, logged in
/// `client_quirk` and counted by `cfpb_mcp_client_quirks_total{quirk}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Quirk {
    /// COMPAT-1: a sessionless 2026-07-28 body without the version header.
    VersionHeaderMissing,
    /// COMPAT-1: a sessionless 2026-07-28 body whose header names a
    /// session-based revision.
    VersionHeaderStale,
    /// COMPAT-2: the version header's values repeated (`V, V`).
    VersionHeaderRepeated,
    /// COMPAT-3: `initialize` sent with a 2026-07-28 header.
    InitializeModernHeader,
}

impl Quirk {
    /// Every quirk.
    pub const ALL: [Quirk; 4] = [
        Quirk::VersionHeaderMissing,
        Quirk::VersionHeaderStale,
        Quirk::VersionHeaderRepeated,
        Quirk::InitializeModernHeader,
    ];

    /// The word logged (and the metric's `quirk` label).
    pub fn as_str(self) -> &'static str {
        match self {
            Quirk::VersionHeaderMissing => "version_header_missing",
            Quirk::VersionHeaderStale => "version_header_stale",
            Quirk::VersionHeaderRepeated => "version_header_repeated",
            Quirk::InitializeModernHeader => "initialize_modern_header",
        }
    }
}

/// The quirks one request needed, in the order they were applied; each at
/// most once (there are four), so no allocation.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Quirks {
    applied: [Option<Quirk>; 4],
}

impl Quirks {
    /// Note that `quirk` was tolerated (a second time changes nothing).
    pub fn add(&mut self, quirk: Quirk) {
        if self.iter().any(|q| q == quirk) {
            return;
        }
        if let Some(slot) = self.applied.iter_mut().find(|s| s.is_none()) {
            *slot = Some(quirk);
        }
    }

    pub fn is_empty(&self) -> bool {
        self.applied[0].is_none()
    }

    pub fn iter(&self) -> impl Iterator<Item = Quirk> + '_ {
        self.applied.iter().map_while(|q| *q)
    }
}

impl Serialize for Quirks {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.iter())
    }
}

/// Why a stream ended (SSE-5), the `reason` of `mcp_stream_end`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[repr(u8)]
pub enum EndReason {
    ClientClosed = 0,
    KeyRevoked = 1,
    Shutdown = 2,
    McpClosed = 3,
}

impl EndReason {
    pub fn as_str(self) -> &'static str {
        match self {
            EndReason::ClientClosed => "client_closed",
            EndReason::KeyRevoked => "key_revoked",
            EndReason::Shutdown => "shutdown",
            EndReason::McpClosed => "mcp_closed",
        }
    }

    /// The inverse of `as u8` (unknown values read as `ClientClosed`).
    pub fn from_u8(v: u8) -> Self {
        match v {
            1 => EndReason::KeyRevoked,
            2 => EndReason::Shutdown,
            3 => EndReason::McpClosed,
            _ => EndReason::ClientClosed,
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

/// The audit line names the method only for tokens (OAUTH-5).
fn not_a_token(method: &Option<AuthMethod>) -> bool {
    !matches!(method, Some(AuthMethod::Oauth | AuthMethod::Access))
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

/// Milliseconds, saturating.
pub fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::audit::writer::render;
    use crate::identity::keys::KeyDigest;

    pub(crate) fn record() -> Event {
        Event::Request(RequestLine {
            method: "POST",
            path: "/mcp/messages".into(),
            status: 202,
            duration_ms: 3,
            key: Caller::Key(KeyDigest::of(b"abc").id()),
            session: Some("0123abcd".into()),
            rpc_method: Some("tools/call".into()),
            tool: Some("search_complaints".into()),
            arguments: Some(Arguments::Json(serde_json::json!({"size": 1}))),
            arguments_truncated: None,
            error: None,
            auth_method: None,
            client_quirk: Quirks::default(),
        })
    }

    pub(crate) const EPOCH: Timestamp = Timestamp(SystemTime::UNIX_EPOCH);

    #[test]
    fn log_1_record_renders_as_one_json_line_with_required_fields() {
        let line = render(&record().stamped(EPOCH));
        assert!(line.ends_with('\n') && line.matches('\n').count() == 1);
        insta::assert_snapshot!(line.trim_end(), @r#"{"ts":"1970-01-01T00:00:00.000Z","event":"mcp_request","method":"POST","path":"/mcp/messages","status":202,"duration_ms":3,"key":"ba7816bf","session":"0123abcd","rpc_method":"tools/call","tool":"search_complaints","arguments":{"size":1}}"#);
    }

    #[test]
    fn log_1_every_event_puts_ts_and_event_first() {
        let start = Event::ServerStart {
            listen: "127.0.0.1:8000".into(),
            data: "fixtures",
            keys: 2,
            metrics: None,
        };
        insta::assert_snapshot!(render(&start.stamped(EPOCH)).trim_end(), @r#"{"ts":"1970-01-01T00:00:00.000Z","event":"server_start","listen":"127.0.0.1:8000","data":"fixtures","keys":2}"#);
        let end = Event::StreamEnd(StreamEnd {
            key: Caller::None,
            session: "0123abcd".into(),
            duration_ms: 5,
            reason: EndReason::KeyRevoked,
            messages_sent: 1,
            unanswered: 0,
        });
        insta::assert_snapshot!(render(&end.stamped(EPOCH)).trim_end(), @r#"{"ts":"1970-01-01T00:00:00.000Z","event":"mcp_stream_end","key":"none","session":"0123abcd","duration_ms":5,"reason":"key_revoked","messages_sent":1,"unanswered":0}"#);
        let dropped = Event::AuditLinesDropped { count: 7 };
        assert_eq!(
            render(&dropped.stamped(EPOCH)),
            "{\"ts\":\"1970-01-01T00:00:00.000Z\",\"event\":\"audit_lines_dropped\",\"count\":7}\n"
        );
        for reason in [
            EndReason::ClientClosed,
            EndReason::KeyRevoked,
            EndReason::Shutdown,
            EndReason::McpClosed,
        ] {
            assert_eq!(EndReason::from_u8(reason as u8), reason);
            assert_eq!(serde_json::to_value(reason).unwrap(), reason.as_str());
        }
        // The metrics' `reason` label is the log's word (METRICS-2, LOG-1).
        for reason in Reason::ALL {
            assert_eq!(serde_json::to_value(reason).unwrap(), reason.as_str());
            assert_eq!(Reason::from_word(reason.as_str()), Some(reason));
        }
        assert_eq!(Reason::from_word("no_such_reason"), None);
    }
}
