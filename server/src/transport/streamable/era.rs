//! Which era of the MCP Streamable HTTP transport a `/mcp` request belongs
//! to (HTTP-2026-1 in docs/contract.md): the session-based revisions
//! (2024-11-05 .. 2025-11-25, HTTP-1..7) or the stateless 2026-07-28 one.
//!
//! Pure functions over headers; no state. The revision's rules themselves
//! (`server/discover`, `_meta`, `Mcp-Method` / `Mcp-Name`) are rmcp's; this
//! module only decides where a request goes, and answers the two things rmcp
//! answers in plain text for a stateless request: an unsupported version
//! (HTTP-2026-5) and GET / DELETE (HTTP-2026-8). It never reads a session id.

use http::{HeaderMap, Response, StatusCode};
use rmcp::model::{ErrorCode, ErrorData, ProtocolVersion, RequestId, ServerJsonRpcMessage};

use crate::http::response::{Body, json_response, method_not_allowed};
use crate::mcp::PROTOCOL_VERSIONS;

/// The protocol version header.
pub const VERSION_HEADER: &str = "mcp-protocol-version";

/// The session header of the session-based era (HTTP-3).
pub const SESSION_HEADER: &str = "mcp-session-id";

/// The era a request is served in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Era {
    /// `initialize`, `Mcp-Session-Id`: HTTP-1..7.
    Session,
    /// 2026-07-28 and later: no session, every request self-contained.
    Stateless,
}

impl Era {
    /// The era `headers` name: stateless when `MCP-Protocol-Version` names
    /// 2026-07-28 or later (ISO dates compare as strings), session-based
    /// otherwise (an absent header means 2025-03-26, as the revisions say).
    /// A 2026-07-28 request must send the header (rmcp answers -32020 for a
    /// `_meta` version without it), so the header alone decides. A value
    /// that is no date stays session-based (HTTP-5's 400).
    pub fn of(headers: &HeaderMap) -> Self {
        match version_header(headers) {
            Some(v) if is_date(v) && v >= ProtocolVersion::NO_INITIALIZE.as_str() => Era::Stateless,
            _ => Era::Session,
        }
    }
}

/// `YYYY-MM-DD`, digits where digits go: the shape of every MCP revision.
fn is_date(v: &str) -> bool {
    let b = v.as_bytes();
    b.len() == 10
        && b.iter().enumerate().all(|(i, c)| {
            if i == 4 || i == 7 {
                *c == b'-'
            } else {
                c.is_ascii_digit()
            }
        })
}

/// The `MCP-Protocol-Version` header, if present and text.
pub fn version_header(headers: &HeaderMap) -> Option<&str> {
    headers.get(VERSION_HEADER)?.to_str().ok()
}

/// HTTP-2026-5: a stateless request naming a version we don't serve; `None`
/// when we do. rmcp answers a header-only unknown version in plain text; the
/// revision wants `-32022` with the supported list, which rmcp's own
/// `ErrorData` carries.
pub fn unsupported(headers: &HeaderMap, id: Option<RequestId>) -> Option<Response<Body>> {
    let named = version_header(headers)?;
    if PROTOCOL_VERSIONS.iter().any(|v| v.as_str() == named) {
        return None;
    }
    let requested: ProtocolVersion =
        serde_json::from_value(serde_json::Value::String(named.to_owned())).ok()?;
    let error = ErrorData::unsupported_protocol_version(requested, PROTOCOL_VERSIONS);
    let json = serde_json::to_string(&ServerJsonRpcMessage::error(error, id)).ok()?;
    Some(json_response(StatusCode::BAD_REQUEST, json))
}

/// HTTP-2026-6: `initialize` is no method of the stateless revision (rmcp
/// would open a session for it and mint an id, HTTP-2026-7); the revision's
/// unknown-method answer, as rmcp gives any other: 404 with -32601.
pub fn no_initialize(id: Option<RequestId>) -> Response<Body> {
    let error = ErrorData::new(
        ErrorCode::METHOD_NOT_FOUND,
        "Method not found: initialize (use server/discover)",
        None,
    );
    let json = serde_json::to_string(&ServerJsonRpcMessage::error(error, id)).unwrap_or_default();
    json_response(StatusCode::NOT_FOUND, json)
}

/// HTTP-2026-3: JSON that is no valid JSON-RPC request (`mcp::frame`'s
/// -32600 / -32602): 400 with that JSON-RPC error; but an `initialize`,
/// whatever its params, is HTTP-2026-6's unknown method.
pub fn malformed(body: &[u8], reply: &ServerJsonRpcMessage) -> Response<Body> {
    let value: serde_json::Value = serde_json::from_slice(body).unwrap_or_default();
    if value.get("method").and_then(|m| m.as_str()) == Some("initialize") {
        let id = value
            .get("id")
            .and_then(|id| serde_json::from_value::<RequestId>(id.clone()).ok());
        return no_initialize(id);
    }
    let json = serde_json::to_string(reply).unwrap_or_default();
    json_response(StatusCode::BAD_REQUEST, json)
}

/// HTTP-2026-8: GET and DELETE in the stateless era. No subscription stream
/// (`subscriptions/listen`) is offered, so only POST is allowed.
pub fn no_stream() -> Response<Body> {
    method_not_allowed("POST")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(version: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(VERSION_HEADER, version.parse().unwrap());
        h
    }

    #[test]
    fn http_2026_1_the_header_decides_the_era() {
        assert_eq!(Era::of(&HeaderMap::new()), Era::Session);
        for v in [
            "2024-11-05",
            "2025-11-25",
            "junk",
            "zzzz-zz-zz",
            "2026-07-28x",
        ] {
            assert_eq!(Era::of(&with(v)), Era::Session, "{v}");
        }
        for v in ["2026-07-28", "2099-01-01"] {
            assert_eq!(Era::of(&with(v)), Era::Stateless, "{v}");
        }
    }

    #[test]
    fn http_2026_5_unsupported_lists_what_is() {
        assert!(unsupported(&with("2026-07-28"), None).is_none());
        let r = unsupported(&with("2099-01-01"), Some(RequestId::Number(3))).unwrap();
        assert_eq!(r.status(), 400);
    }
}
