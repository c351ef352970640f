//! The client-compatibility policy of `/mcp` (COMPAT-1..5 in
//! docs/contract.md): the request shapes Claude's clients really send that
//! the MCP revisions do not allow, each recognised narrowly and named by a
//! [`Quirk`], so the handler can serve it and the audit line can say so.
//!
//! Pure functions over headers and a framed message; no state, no I/O. The
//! handler decides whether the policy is on (`--strict-protocol` turns it
//! off); everything this module does not recognise stays as strict as the
//! revisions (COMPAT-5).

use http::{HeaderMap, HeaderValue};
use rmcp::model::{ClientJsonRpcMessage, ClientRequest, GetMeta, ProtocolVersion};

use crate::audit::Quirk;
use crate::mcp::PROTOCOL_VERSIONS;
use crate::transport::streamable::era::VERSION_HEADER;

/// The version header's values differ (`2025-11-25, 2025-06-18`, or two
/// lines that disagree): no version can be taken from it (COMPAT-2's 400).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConflictingVersions;

/// The message the 400 for [`ConflictingVersions`] carries.
pub const CONFLICTING_VERSIONS: &str = "Conflicting MCP-Protocol-Version values";

/// COMPAT-2: every value of `MCP-Protocol-Version` (comma-joined on one
/// line, or on several lines), trimmed.
///
/// - all the same and more than one: the header becomes that one value and
///   the answer is `Ok(Some(VersionHeaderRepeated))` (applied only when
///   `tolerate` is set; strict mode leaves `V, V` for the revision's 400);
/// - one value, or no header: `Ok(None)`, nothing changed;
/// - values that differ, in either mode: `Err(ConflictingVersions)`.
pub fn collapse_repeated(
    headers: &mut HeaderMap,
    tolerate: bool,
) -> Result<Option<Quirk>, ConflictingVersions> {
    let mut first: Option<&str> = None;
    let mut count = 0usize;
    for line in headers.get_all(VERSION_HEADER) {
        // Not text: left for the revision's own 400 (HTTP-5).
        let Ok(text) = line.to_str() else {
            return Ok(None);
        };
        for value in text.split(',').map(str::trim) {
            count += 1;
            match first {
                None => first = Some(value),
                Some(f) if f == value => {}
                Some(_) => return Err(ConflictingVersions),
            }
        }
    }
    let Some(value) = first.filter(|_| count > 1 && tolerate) else {
        return Ok(None);
    };
    if value.is_empty() {
        return Ok(None);
    }
    let Ok(one) = HeaderValue::from_str(value) else {
        return Ok(None);
    };
    headers.insert(VERSION_HEADER, one);
    Ok(Some(Quirk::VersionHeaderRepeated))
}

/// COMPAT-1: a sessionless request (the caller has checked there is no
/// `Mcp-Session-Id`) whose body `_meta` names a stateless revision this
/// server serves, sent with no version header or with a session-based
/// revision's: the body wins. Returns the quirk and the version to put in
/// the header, so the request is served as the revision says it should
/// have been sent. `None` for anything else, `initialize` included
/// (COMPAT-3's), and for a header naming a version we don't serve.
pub fn body_wins(
    headers: &HeaderMap,
    message: &ClientJsonRpcMessage,
) -> Option<(Quirk, ProtocolVersion)> {
    let ClientJsonRpcMessage::Request(request) = message else {
        return None;
    };
    if matches!(request.request, ClientRequest::InitializeRequest(_)) {
        return None;
    }
    let body = request.request.get_meta().protocol_version()?;
    if body.has_initialize() || !serves(body.as_str()) {
        return None;
    }
    let quirk = match headers.get(VERSION_HEADER) {
        None => Quirk::VersionHeaderMissing,
        Some(value) => {
            let named = value.to_str().ok()?;
            let session_based = serves(named)
                && ProtocolVersion::KNOWN_VERSIONS
                    .iter()
                    .any(|v| v.as_str() == named && v.has_initialize());
            if !session_based {
                return None;
            }
            Quirk::VersionHeaderStale
        }
    };
    Some((quirk, body))
}

/// Put `version` in the request's version header (COMPAT-1).
pub fn set_version(headers: &mut HeaderMap, version: &ProtocolVersion) {
    if let Ok(value) = HeaderValue::from_str(version.as_str()) {
        headers.insert(VERSION_HEADER, value);
    }
}

/// Is `version` one of the revisions this server serves?
fn serves(version: &str) -> bool {
    PROTOCOL_VERSIONS.iter().any(|v| v.as_str() == version)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn headers(lines: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for line in lines {
            h.append(VERSION_HEADER, line.parse().unwrap());
        }
        h
    }

    fn message(value: serde_json::Value) -> ClientJsonRpcMessage {
        serde_json::from_value(value).unwrap()
    }

    fn list_with_meta(version: &str) -> ClientJsonRpcMessage {
        message(json!({
            "jsonrpc": "2.0", "id": 1, "method": "tools/list",
            "params": {"_meta": {
                "io.modelcontextprotocol/protocolVersion": version,
                "io.modelcontextprotocol/clientCapabilities": {}
            }}
        }))
    }

    #[test]
    fn compat_2_identical_values_collapse_to_one() {
        for lines in [
            &["2025-11-25, 2025-11-25"][..],
            &["2025-11-25", "2025-11-25"],
            &["2026-07-28,2026-07-28", " 2026-07-28 "],
        ] {
            let mut h = headers(lines);
            assert_eq!(
                collapse_repeated(&mut h, true),
                Ok(Some(Quirk::VersionHeaderRepeated)),
                "{lines:?}"
            );
            assert_eq!(h.get_all(VERSION_HEADER).iter().count(), 1);
            let v = h.get(VERSION_HEADER).unwrap().to_str().unwrap();
            assert!(v == "2025-11-25" || v == "2026-07-28", "{v}");
        }
    }

    #[test]
    fn compat_2_one_value_or_none_is_left_alone() {
        for lines in [&[][..], &["2025-11-25"], &["junk"]] {
            let mut h = headers(lines);
            let before = h.clone();
            assert_eq!(collapse_repeated(&mut h, true), Ok(None));
            assert_eq!(h, before);
        }
    }

    #[test]
    fn compat_2_differing_values_conflict_in_both_modes() {
        for tolerate in [true, false] {
            for lines in [
                &["2025-11-25, 2025-06-18"][..],
                &["2025-11-25", "2026-07-28"],
                &["2026-07-28, "],
            ] {
                let mut h = headers(lines);
                assert_eq!(
                    collapse_repeated(&mut h, tolerate),
                    Err(ConflictingVersions),
                    "{lines:?}"
                );
            }
        }
    }

    #[test]
    fn compat_2_strict_mode_changes_nothing() {
        let mut h = headers(&["2025-11-25, 2025-11-25"]);
        assert_eq!(collapse_repeated(&mut h, false), Ok(None));
        assert_eq!(h.get(VERSION_HEADER).unwrap(), "2025-11-25, 2025-11-25");
    }

    #[test]
    fn compat_1_the_body_wins_over_a_missing_or_session_based_header() {
        let body = list_with_meta("2026-07-28");
        let (quirk, v) = body_wins(&headers(&[]), &body).unwrap();
        assert_eq!(
            (quirk, v.as_str()),
            (Quirk::VersionHeaderMissing, "2026-07-28")
        );
        for old in ["2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05"] {
            let (quirk, _) = body_wins(&headers(&[old]), &body).unwrap();
            assert_eq!(quirk, Quirk::VersionHeaderStale, "{old}");
        }
    }

    #[test]
    fn compat_5_everything_else_stays_strict() {
        let modern = list_with_meta("2026-07-28");
        // A header naming the stateless revision, a date we don't serve, junk.
        for header in ["2026-07-28", "2099-01-01", "2024-01-01", "junk"] {
            assert_eq!(body_wins(&headers(&[header]), &modern), None, "{header}");
        }
        // A body naming a session-based or unknown version, or none.
        for meta in ["2025-11-25", "2099-01-01", "junk"] {
            assert_eq!(
                body_wins(&headers(&[]), &list_with_meta(meta)),
                None,
                "{meta}"
            );
        }
        let bare = message(json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list"}));
        assert_eq!(body_wins(&headers(&[]), &bare), None);
        // initialize is COMPAT-3's, and notifications have no _meta version to win.
        let init = message(
            json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
            "protocolVersion": "2026-07-28", "capabilities": {},
            "clientInfo": {"name": "c", "version": "1"},
            "_meta": {"io.modelcontextprotocol/protocolVersion": "2026-07-28"}}}),
        );
        assert_eq!(body_wins(&headers(&[]), &init), None);
        let note = message(json!({"jsonrpc": "2.0", "method": "notifications/initialized"}));
        assert_eq!(body_wins(&headers(&[]), &note), None);
    }
}
