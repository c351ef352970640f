//! What replicas say to each other over Redis pub/sub, and the names of the
//! keys and channels they use. Pure: serde types and name builders.
//!
//! A forwarded POST (CLUSTER-3) carries the full session id, because the
//! owner looks its session up by it; it travels only between replicas, and
//! Redis's keys hold a hash of it instead ([`legacy_owner_key`]), so listing
//! Redis's keys yields no usable session id.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Every key and channel starts with this.
pub const PREFIX: &str = "cfpb-mcp";

/// A POST for a session another replica owns.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ForwardRequest {
    /// The sender's replica id: where the reply goes.
    pub from: String,
    /// The sender's correlation number.
    pub id: u64,
    /// The session id (32 hex characters).
    pub session: String,
    /// The caller's key digest (64 hex characters): the owner checks that
    /// the session is this key's (MSG-2).
    pub key: String,
    /// The posted JSON-RPC message, already scrubbed of keys (AUTH-7).
    pub body: String,
    /// Which transport's session, and what to do with it.
    #[serde(default)]
    pub kind: ForwardKind,
}

/// What a forwarded request asks of the owner.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "type")]
pub enum ForwardKind {
    /// A POST to `/mcp/messages` (CLUSTER-3).
    #[default]
    Legacy,
    /// A POST to a 2025-era `/mcp` session (CLUSTER-7), with the
    /// `MCP-Protocol-Version` header the client sent.
    McpPost { protocol_version: Option<String> },
    /// A DELETE of a 2025-era `/mcp` session (CLUSTER-7).
    McpDelete,
    /// A GET of a 2025-era `/mcp` session's stream (CLUSTER-7): the owner
    /// says whether the session is the caller's (405) or unknown (404).
    McpGet,
}

/// Which transport a session belongs to: its slots and its owner entry are
/// kept apart, as each transport has its own cap (RATE-7).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scope {
    /// `/mcp/sse` streams.
    Legacy,
    /// 2025-era `/mcp` sessions.
    Streamable,
}

impl Scope {
    fn word(self) -> &'static str {
        match self {
            Scope::Legacy => "legacy",
            Scope::Streamable => "mcp",
        }
    }
}

/// The owner's answer to a [`ForwardRequest`]: the response to give.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ForwardReply {
    pub id: u64,
    pub status: u16,
    /// The response body (a contract error JSON, or empty for 202).
    pub body: String,
    /// The audit line's `error` the owner found (`duplicate_id`, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The body's `Content-Type` when it is not the contract's JSON
    /// (a `/mcp` answer may be an event stream).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
}

/// A broadcast: re-read the keys file (AUTH-8 on every replica).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reload {
    pub from: String,
}

/// Which replica holds the session `session` of `scope` (value: its
/// replica id).
pub fn owner_key(scope: Scope, session: &str) -> String {
    format!("{PREFIX}:{}:{}", scope.word(), session_member(session))
}

/// A session as a member of its key's slot set: the same hash, never the id.
pub fn session_member(session: &str) -> String {
    let digest = Sha256::digest(session.as_bytes());
    hex::encode(&digest[..16])
}

/// The open sessions of `scope` of one key, cluster-wide (CLUSTER-2).
pub fn slots_key(scope: Scope, key_hex: &str) -> String {
    match scope {
        Scope::Legacy => format!("{PREFIX}:slots:{key_hex}"),
        Scope::Streamable => format!("{PREFIX}:mcp-slots:{key_hex}"),
    }
}

/// The per-key limiter's bucket.
pub fn key_bucket(key_hex: &str) -> String {
    format!("{PREFIX}:rate:{key_hex}")
}

/// The failed-auth limiter's bucket for one client address.
pub fn auth_fail_bucket(addr: std::net::IpAddr) -> String {
    format!("{PREFIX}:authfail:{addr}")
}

/// Where a replica hears forwarded requests.
pub fn forward_channel(replica: &str) -> String {
    format!("{PREFIX}:fwd:{replica}")
}

/// Where a replica hears replies to what it forwarded.
pub fn reply_channel(replica: &str) -> String {
    format!("{PREFIX}:reply:{replica}")
}

/// Where every replica hears reload broadcasts.
pub fn reload_channel() -> String {
    format!("{PREFIX}:reload")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn owner_keys_hold_no_session_id() {
        let session = "0123456789abcdef0123456789abcdef";
        for (scope, prefix) in [
            (Scope::Legacy, "cfpb-mcp:legacy:"),
            (Scope::Streamable, "cfpb-mcp:mcp:"),
        ] {
            let key = owner_key(scope, session);
            assert!(key.starts_with(prefix), "{key}");
            assert!(!key.contains(session) && !key.contains(&session[..8]));
            assert_eq!(key, owner_key(scope, session), "stable across replicas");
        }
        assert_ne!(
            slots_key(Scope::Legacy, "k"),
            slots_key(Scope::Streamable, "k"),
            "each transport has its own cap"
        );
    }

    #[test]
    fn messages_round_trip() {
        let request = ForwardRequest {
            from: "r1".into(),
            id: 7,
            session: "s".into(),
            key: "k".into(),
            body: r#"{"jsonrpc":"2.0"}"#.into(),
            kind: ForwardKind::McpPost {
                protocol_version: Some("2025-11-25".into()),
            },
        };
        let text = serde_json::to_string(&request).unwrap();
        assert_eq!(
            serde_json::from_str::<ForwardRequest>(&text).unwrap(),
            request
        );
        // A request from a replica that predates `kind` is a legacy POST.
        let old = r#"{"from":"r1","id":1,"session":"s","key":"k","body":"{}"}"#;
        let old: ForwardRequest = serde_json::from_str(old).unwrap();
        assert_eq!(old.kind, ForwardKind::Legacy);
    }
}
