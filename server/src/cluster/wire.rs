//! What replicas say to each other over Redis pub/sub, and the names of the
//! keys and channels they use. Pure: serde types and name builders.
//!
//! Every message travels sealed (signed, stamped, single-use: `seal`,
//! CLUSTER-9 in docs/contract.md). None names a key, a session id or a
//! client address: a session is its keyed digest (the same one its Redis
//! names use), a caller the keyed digest of its key's digest, both made with
//! the cluster secret (CLUSTER-10); the owner maps them back to its own
//! sessions. Correlation ids are random 128-bit values.

use serde::{Deserialize, Serialize};

use crate::identity::AuthMethod;

/// Every key and channel starts with this.
pub const PREFIX: &str = "cfpb-mcp";

/// A POST for a session another replica owns.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ForwardRequest {
    /// The sender's replica id: where the reply goes.
    pub from: String,
    /// The sender's correlation id: 128 random bits, hex.
    pub id: String,
    /// The session's keyed digest ([`owner_key`]'s member), never its id.
    pub session: String,
    /// The keyed digest of the caller's key digest: the owner checks that
    /// the session is this key's (MSG-2) and that the key is still in its
    /// key set (CLUSTER-10).
    pub key: String,
    /// The posted JSON-RPC message, already scrubbed of keys (AUTH-7).
    pub body: String,
    /// Which transport's session, and what to do with it.
    #[serde(default)]
    pub kind: ForwardKind,
    /// How the sender admitted the caller (absent: a key): the owner
    /// re-checks a key against its key set, a token identity against the
    /// methods in force (CLUSTER-10).
    #[serde(default)]
    pub method: AuthMethod,
}

impl std::fmt::Debug for ForwardRequest {
    /// The body (a client's message) and the digests stay out.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ForwardRequest")
            .field("from", &self.from)
            .field("kind", &self.kind)
            .field("body_bytes", &self.body.len())
            .finish_non_exhaustive()
    }
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
    /// The request's correlation id.
    pub id: String,
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

/// A broadcast: a replica re-read its keys (AUTH-8 on every replica,
/// CLUSTER-4); the receivers re-read theirs unless they already have this
/// key set (CLUSTER-11).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reload {
    pub from: String,
    /// The reload's generation (`keyset::RECORD_KEY`).
    pub generation: u64,
    /// The keyed digest of the sender's key set now.
    pub version: String,
}

/// Which replica holds the session whose keyed digest is `member`, of
/// `scope` (value: its replica id).
pub fn owner_key(scope: Scope, member: &str) -> String {
    format!("{PREFIX}:{}:{member}", scope.word())
}

/// The open sessions of `scope` of one key, cluster-wide (CLUSTER-2), by
/// the keyed digest of the key's digest.
pub fn slots_key(scope: Scope, keyed: &str) -> String {
    match scope {
        Scope::Legacy => format!("{PREFIX}:slots:{keyed}"),
        Scope::Streamable => format!("{PREFIX}:mcp-slots:{keyed}"),
    }
}

/// The per-key limiter's bucket, by name: `bucket_key` of its keyed
/// digest is what Redis sees (`Cluster::spend` does that).
pub fn key_bucket(key_hex: &str) -> String {
    format!("{PREFIX}:rate:{key_hex}")
}

/// The failed-auth limiter's bucket for one client address, by name (as
/// [`key_bucket`], keyed before it reaches Redis).
pub fn auth_fail_bucket(addr: std::net::IpAddr) -> String {
    format!("{PREFIX}:authfail:{addr}")
}

/// The Redis key of a limiter bucket whose name has the keyed digest `keyed`.
pub fn bucket_key(keyed: &str) -> String {
    format!("{PREFIX}:bucket:{keyed}")
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
    fn names_hold_only_the_digests_they_are_given() {
        let member = "0123456789abcdef0123456789abcdef";
        for (scope, prefix) in [
            (Scope::Legacy, "cfpb-mcp:legacy:"),
            (Scope::Streamable, "cfpb-mcp:mcp:"),
        ] {
            assert_eq!(owner_key(scope, member), format!("{prefix}{member}"));
        }
        assert_ne!(
            slots_key(Scope::Legacy, "k"),
            slots_key(Scope::Streamable, "k"),
            "each transport has its own cap"
        );
        assert_eq!(bucket_key("d"), "cfpb-mcp:bucket:d");
    }

    #[test]
    fn messages_round_trip_and_debug_hides_the_body() {
        let request = ForwardRequest {
            from: "r1".into(),
            id: "00112233445566778899aabbccddeeff".into(),
            session: "s".into(),
            key: "k".into(),
            body: r#"{"jsonrpc":"2.0","params":{"secret":"x"}}"#.into(),
            kind: ForwardKind::McpPost {
                protocol_version: Some("2025-11-25".into()),
            },
            method: AuthMethod::Oauth,
        };
        let text = serde_json::to_string(&request).unwrap();
        assert_eq!(
            serde_json::from_str::<ForwardRequest>(&text).unwrap(),
            request
        );
        let shown = format!("{request:?}");
        assert!(
            !shown.contains("secret") && !shown.contains("0011"),
            "{shown}"
        );
    }
}
