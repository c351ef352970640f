//! What a request contributes to its audit line (LOG-1, LOG-2 in
//! docs/contract.md): [`RequestLog`] collects it while the request is
//! handled, and every client-controlled string in it has been through
//! [`scrub_and_truncate`]: control characters replaced, every configured key
//! in every encoding redacted, then cut to a bound.

use rmcp::model::ClientJsonRpcMessage;

use crate::audit::event::{Arguments, Caller, Quirk, Quirks, Reason};
use crate::identity::AuthMethod;
use crate::identity::redact::Redactor;
use crate::mcp;

/// Longest `arguments` string kept in a line (bytes, before the marker).
pub const MAX_ARGUMENTS_LEN: usize = 512;
/// Longest `path` kept in a line.
pub const MAX_PATH_LEN: usize = 256;

/// What a handler learned that belongs in the request's audit line.
#[derive(Debug, Default)]
pub struct RequestLog {
    pub caller: Option<Caller>,
    pub session: Option<String>,
    pub rpc_method: Option<String>,
    pub tool: Option<String>,
    pub arguments: Option<Arguments>,
    pub error: Option<Reason>,
    /// COMPAT-6: the tolerances applied to this request.
    pub quirks: Quirks,
    /// OAUTH-5: how the guard admitted the caller (none when refused, or
    /// when the server runs without authentication).
    pub auth_method: Option<AuthMethod>,
}

impl RequestLog {
    /// Note a tolerated departure from the revisions (COMPAT-6).
    pub fn quirk(&mut self, quirk: Quirk) {
        self.quirks.add(quirk);
    }

    /// Take a posted message's audit fields (method, tool, arguments).
    pub fn note(&mut self, fields: AuditFields) {
        self.rpc_method = fields.rpc_method;
        self.tool = fields.tool;
        self.arguments = fields.arguments;
    }
}

/// What a message contributes to its request's audit line (LOG-1), with every
/// client-controlled string scrubbed of keys and bounded (LOG-2). Pure.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct AuditFields {
    pub rpc_method: Option<String>,
    pub tool: Option<String>,
    pub arguments: Option<Arguments>,
}

impl AuditFields {
    pub fn of(message: &ClientJsonRpcMessage, redactor: &Redactor) -> Self {
        let mut fields = AuditFields {
            // A custom method name is client text like any other.
            rpc_method: mcp::rpc_method(message).map(|m| scrub_and_truncate(redactor, m, 128)),
            ..AuditFields::default()
        };
        if let Some((tool, arguments)) = mcp::tool_call(message) {
            fields.tool = Some(scrub_and_truncate(redactor, tool, 128));
            fields.arguments = arguments.map(|a| scrub_arguments(redactor, &a));
        }
        fields
    }
}

/// The `arguments` of a line from their JSON text: scrubbed of keys, then
/// the JSON itself when it fits [`MAX_ARGUMENTS_LEN`], else a truncated
/// string (LOG-1, LOG-2).
pub fn scrub_arguments(redactor: &Redactor, json: &str) -> Arguments {
    let scrubbed = scrub_and_truncate(redactor, json, usize::MAX);
    if scrubbed.len() <= MAX_ARGUMENTS_LEN
        && let Ok(value) = serde_json::from_str(&scrubbed)
    {
        return Arguments::Json(value);
    }
    Arguments::Text {
        truncated: scrubbed.len() > MAX_ARGUMENTS_LEN,
        text: scrub_and_truncate(redactor, json, MAX_ARGUMENTS_LEN),
    }
}

/// Scrub keys out of `text`, then cut it to at most `max` bytes on a char
/// boundary, marking the cut. Scrubbing comes first so that a cut can't split
/// a key into an unrecognizable prefix.
///
/// Control characters become U+FFFD first: JSON writes them as escapes made of
/// letters and hex digits (`\n`, `\u001f`), which would otherwise join the
/// client text after them into a key once the line is rendered (LOG-2).
pub fn scrub_and_truncate(redactor: &Redactor, text: &str, max: usize) -> String {
    // A key hidden in percent escapes: log the decoded text, key redacted.
    let text: std::borrow::Cow<'_, str> = match redactor.redact_percent_decoded(text) {
        Some(decoded) => decoded.into(),
        None => text.into(),
    };
    let text: std::borrow::Cow<'_, str> = if text.contains(|c: char| c < ' ') {
        text.replace(|c: char| c < ' ', "\u{fffd}").into()
    } else {
        text
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::event::Event;
    use crate::audit::event::tests::{EPOCH, record};
    use crate::audit::writer::render;
    use crate::identity::keys::ApiKey;

    #[test]
    fn log_2_arguments_are_scrubbed_before_truncation() {
        let key = ApiKey::new("sekrit-key-123456").unwrap();
        let redactor = Redactor::new([key.expose_secret()]);
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
        let redactor = Redactor::new([ApiKey::new("nabcdefgh").unwrap().expose_secret()]);
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
            let needles = crate::identity::redact::encodings(key.as_bytes());
            let embedded = &needles[encoding % needles.len()];
            let arguments = serde_json::json!({ "search_term": format!("{before}{embedded}{after}") }).to_string();
            let redactor = Redactor::new([api_key.expose_secret()]);
            let mut r = record();
            if let Event::Request(line) = &mut r {
                line.arguments = Some(scrub_arguments(&redactor, &arguments));
            }
            let line = render(&r.stamped(EPOCH));
            let parsed: serde_json::Value = serde_json::from_str(&line).unwrap();
            proptest::prop_assert_eq!(&parsed["event"], "mcp_request");
            for needle in &needles {
                proptest::prop_assert!(!line.contains(needle.as_str()), "leaked {} in {}", needle.len(), line.len());
            }
        }
    }

    #[test]
    fn log_1_arguments_are_the_json_object_or_a_flagged_truncated_string() {
        let redactor = Redactor::new(["sekrit-key-123456"]);
        let small = r#"{"search_term":"sekrit-key-123456 escrow","size":2}"#;
        assert_eq!(
            scrub_arguments(&redactor, small),
            Arguments::Json(serde_json::json!({"search_term": "[REDACTED] escrow", "size": 2}))
        );
        let big = format!(r#"{{"search_term":"{}"}}"#, "x".repeat(MAX_ARGUMENTS_LEN));
        let cut = scrub_arguments(&redactor, &big);
        assert_eq!(cut.truncated(), Some(true));
        let Arguments::Text { text, .. } = &cut else {
            panic!("over the bound: a string")
        };
        assert!(text.ends_with("…[truncated]"));
        assert_eq!(Arguments::Json(serde_json::json!({})).truncated(), None);
    }
}
