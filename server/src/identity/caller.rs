//! The caller identity every authentication method comes down to
//! (OAUTH-5 in docs/contract.md): the method, and one digest of who.

use sha2::{Digest, Sha256};

/// How a caller authenticated (the audit line's `auth_method`; a forwarded
/// request's `method` between replicas, CLUSTER-10).
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum AuthMethod {
    /// An API key (`X-API-Key` or `Authorization: Bearer <key>`).
    #[default]
    Keys,
    /// An OAuth access token from the configured issuer.
    Oauth,
    /// A Cloudflare Access assertion.
    Access,
}

impl AuthMethod {
    /// Every method, in the order `CFPB_MCP_AUTH` lists them.
    pub const ALL: [AuthMethod; 3] = [AuthMethod::Keys, AuthMethod::Oauth, AuthMethod::Access];

    /// The word in `CFPB_MCP_AUTH`, the audit log and the metrics.
    pub fn as_str(self) -> &'static str {
        match self {
            AuthMethod::Keys => "keys",
            AuthMethod::Oauth => "oauth",
            AuthMethod::Access => "access",
        }
    }

    /// The method `word` names.
    pub fn from_word(word: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|m| m.as_str() == word)
    }
}

/// A token that verified: who it is, never the token itself.
#[derive(Clone, PartialEq, Eq)]
pub struct Verified {
    /// SHA-256 of the method, the issuer and the subject ([`subject_digest`]):
    /// the caller's identity for limits, sessions and the log.
    pub digest: [u8; 32],
    pub method: AuthMethod,
    /// The token's scopes (`scope`, space-separated, or `scp`).
    pub scopes: Vec<String>,
}

impl std::fmt::Debug for Verified {
    // The digest is an identity, not a secret, but keep Debug short and
    // free of anything a token carried.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Verified({} {})",
            self.method.as_str(),
            hex::encode(&self.digest[..4])
        )
    }
}

/// The identity of `subject` at `issuer` by `method`: one digest, so two
/// issuers' equal subjects (or a key that happens to spell a subject) are
/// never the same caller.
pub fn subject_digest(method: AuthMethod, issuer: &str, subject: &str) -> [u8; 32] {
    let mut hash = Sha256::new();
    hash.update(b"cfpb-mcp identity v1\0");
    hash.update(method.as_str().as_bytes());
    hash.update([0]);
    hash.update(issuer.as_bytes());
    hash.update([0]);
    hash.update(subject.as_bytes());
    hash.finalize().into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identities_are_separated_by_method_and_issuer() {
        let a = subject_digest(AuthMethod::Oauth, "https://a", "alice");
        assert_ne!(a, subject_digest(AuthMethod::Oauth, "https://b", "alice"));
        assert_ne!(a, subject_digest(AuthMethod::Access, "https://a", "alice"));
        assert_ne!(a, subject_digest(AuthMethod::Oauth, "https://a\0alice", ""));
        assert_eq!(a, subject_digest(AuthMethod::Oauth, "https://a", "alice"));
        for m in AuthMethod::ALL {
            assert_eq!(AuthMethod::from_word(m.as_str()), Some(m));
        }
    }
}
