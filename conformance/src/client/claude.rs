//! Requests shaped as Claude's clients send them (docs/contract.md COMPAT-1..4,
//! docs/connector.md "Claude's surfaces"): every one with `User-Agent: Claude-User`, the
//! version header as the client sets it (absent, stale, repeated on one line or on two),
//! the 2026-07-28 `Mcp-Method` / `Mcp-Name` mirrors where the body is stateless, and a
//! session id (live, printed as `$SESSION_ID`, or made up). Builds probes only: never
//! judges a clause; uses only the harness's HTTP client.

use super::ctx::Ctx;
use super::probe::{HeaderSpec, Probe};
use super::stateless::{METHOD_HEADER, Mirror, NAME_HEADER};
use super::streamable::{SESSION_HEADER, VERSION_HEADER, session_header};
use serde_json::Value;

/// The user agent of Claude's connector requests (what a WAF rule would match).
pub const CLAUDE_USER_AGENT: &str = "Claude-User";
/// The session-based revision Claude's clients name in a stale header.
pub const STALE_VERSION: &str = "2025-11-25";

/// How a request carries `MCP-Protocol-Version`.
#[derive(Clone, Debug)]
pub enum VersionHeader {
    /// No header (COMPAT-1, quirk `version_header_missing`).
    Absent,
    /// One header, one value.
    One(String),
    /// One header, the value twice, comma-joined: `v, v` (COMPAT-2).
    Repeated(String),
    /// Two header lines with these values (COMPAT-2 when equal).
    Lines(String, String),
}

impl VersionHeader {
    pub fn one(v: &str) -> Self {
        VersionHeader::One(v.to_string())
    }

    pub fn repeated(v: &str) -> Self {
        VersionHeader::Repeated(v.to_string())
    }

    fn headers(&self) -> Vec<HeaderSpec> {
        let h = |v: &str| HeaderSpec::plain(VERSION_HEADER, v);
        match self {
            VersionHeader::Absent => vec![],
            VersionHeader::One(v) => vec![h(v)],
            VersionHeader::Repeated(v) => vec![h(&format!("{v}, {v}"))],
            VersionHeader::Lines(a, b) => vec![h(a), h(b)],
        }
    }
}

/// Which session a request names.
#[derive(Clone, Debug)]
pub enum SessionRef {
    None,
    /// A live session's id (printed as `$SESSION_ID`).
    Live(String),
    /// An id the server never issued or has forgotten (printed as is).
    Stale(String),
}

impl Ctx {
    /// `POST /mcp` of `body` as Claude sends it: key 1 in the configured style,
    /// `User-Agent: Claude-User`, the version header `version`, the `Mcp-Method` /
    /// `Mcp-Name` mirrors of the body when `mirror`, and the session `session`.
    pub fn claude_post(
        &self,
        body: &Value,
        version: &VersionHeader,
        mirror: bool,
        session: &SessionRef,
    ) -> Probe {
        let mut p = self
            .mcp_post(Some(0), &body.to_string())
            .header(claude_user_agent());
        for h in version.headers() {
            p = p.header(h);
        }
        if mirror {
            let m = Mirror::of(body);
            if let Some(method) = &m.method {
                p = p.header(HeaderSpec::plain(METHOD_HEADER, method));
            }
            if let Some(name) = &m.name {
                p = p.header(HeaderSpec::plain(NAME_HEADER, name));
            }
        }
        match session {
            SessionRef::None => p,
            SessionRef::Live(id) => p.header(session_header(id)).in_http_session(),
            SessionRef::Stale(id) => p.header(HeaderSpec::plain(SESSION_HEADER, id)),
        }
    }

    /// `probe` with `User-Agent: Claude-User` added.
    pub fn as_claude(&self, probe: Probe) -> Probe {
        probe.header(claude_user_agent())
    }
}

/// The `User-Agent: Claude-User` header.
pub fn claude_user_agent() -> HeaderSpec {
    HeaderSpec::plain("User-Agent", CLAUDE_USER_AGENT)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_headers_are_sent_as_claude_sends_them() {
        let names = |v: VersionHeader| -> Vec<String> {
            v.headers()
                .iter()
                .map(|h| String::from_utf8_lossy(&h.value).into_owned())
                .collect()
        };
        assert!(names(VersionHeader::Absent).is_empty());
        assert_eq!(
            names(VersionHeader::repeated("2025-11-25")),
            ["2025-11-25, 2025-11-25"]
        );
        assert_eq!(
            names(VersionHeader::Lines("a".into(), "b".into())),
            ["a", "b"]
        );
    }
}
