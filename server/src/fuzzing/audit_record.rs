//! The `audit_record` fuzz target's check (docs/contract.md LOG-1, LOG-2): the
//! audit line of any posted message holds no encoding of the key.
//! See `crate::fuzzing` for what every check asserts.

use serde_json::Value;

use crate::audit::{
    AuditFields, Caller, Event, MAX_ARGUMENTS_LEN, MAX_PATH_LEN, RequestLine, Timestamp, render,
    scrub_and_truncate,
};
use crate::identity::keys::{ApiKey, KeyDigest, KeySet};
use crate::identity::redact::{REDACTED, Redactor, encodings};
use crate::mcp::{self, Framed};

/// The audit line the server writes for a `POST /mcp/messages` carrying
/// `body`, built from [`AuditFields::of`] as the transports' `Context::frame` does; `path`
/// stands for the scrubbed path of an unknown route.
fn audit_line(redactor: &Redactor, caller: Caller, body: &[u8], path: &str) -> String {
    let fields = match mcp::frame(body) {
        Ok(Framed::Message(message)) => AuditFields::of(&message, redactor),
        _ => AuditFields::default(),
    };
    let line = Event::Request(RequestLine {
        method: "POST",
        path: scrub_and_truncate(redactor, path, MAX_PATH_LEN),
        status: 202,
        duration_ms: 1,
        key: caller,
        session: Some("0123abcd".to_owned()),
        rpc_method: fields.rpc_method,
        tool: fields.tool,
        arguments_truncated: fields.arguments.as_ref().and_then(|a| a.truncated()),
        arguments: fields.arguments,
        error: None,
        auth_method: None,
        client_quirk: Default::default(),
    });
    render(&line.stamped(Timestamp(std::time::SystemTime::UNIX_EPOCH)))
}

/// LOG-1/LOG-2 for `key` and a posted `body`: one valid JSON line, no key.
pub fn check_audit_record(key: &str, body: &[u8]) {
    let Ok(api_key) = ApiKey::new(key) else {
        return; // not a key the server would ever be configured with
    };
    let set = KeySet::new(vec![api_key]);
    let caller = Caller::Key(KeyDigest::of(key.as_bytes()).id());
    // A path as a client may send one: visible ASCII only (what a URI allows).
    let path: String = String::from_utf8_lossy(body)
        .chars()
        .filter(|c| c.is_ascii_graphic())
        .collect();
    let line = audit_line(set.redactor(), caller, body, &format!("/{path}"));
    assert!(
        line.ends_with('\n') && line.matches('\n').count() == 1,
        "{line}"
    );
    let value: Value = serde_json::from_str(&line).expect("an audit line is JSON"); // ok: a check asserts by panicking
    let record = value.as_object().expect("an audit line is a JSON object"); // ok: a check asserts by panicking
    for field in [
        "ts",
        "event",
        "method",
        "path",
        "status",
        "duration_ms",
        "key",
        "session",
    ] {
        assert!(record.contains_key(field), "LOG-1: {field} missing: {line}");
    }
    if let Some(arguments) = record.get("arguments") {
        // LOG-1: the JSON itself within the bound, or a string cut at it.
        let len = match arguments.as_str() {
            Some(text) => text.len(),
            None => arguments.to_string().len(),
        };
        assert!(len <= MAX_ARGUMENTS_LEN + "…[truncated]".len());
    }
    // The text a line holds whatever the client sent; a key inside it (say
    // `mcp_request`, or `REDACT`) can't be kept out of the log.
    let fixed = format!(
        "{}{REDACTED}…[truncated]",
        audit_line(set.redactor(), caller, b"", "/")
    );
    for needle in encodings(key.as_bytes()) {
        if fixed.contains(&needle) {
            continue;
        }
        assert!(!line.contains(&needle), "LOG-2: the key leaked into {line}");
    }
}

/// [`check_audit_record`] on fuzz bytes: the first line is the key, the rest
/// the posted body.
pub fn check_audit_record_bytes(data: &[u8]) {
    let (key, body) = match data.iter().position(|&b| b == b'\n') {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &[][..]),
    };
    if let Ok(key) = std::str::from_utf8(key) {
        check_audit_record(key, body);
    }
}
