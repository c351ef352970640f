//! [`ClusterSecret`]: the secret every replica shares (CLUSTER-8 in
//! docs/contract.md). It signs every message crossing Redis pub/sub
//! ([`ClusterSecret::sign`], [`ClusterSecret::verify`]: HMAC-SHA256, checked
//! in constant time, CLUSTER-9) and keys every digest Redis sees, in key
//! names and in payloads ([`ClusterSecret::digest`], CLUSTER-10), so someone
//! who can read or write Redis can neither forge a message nor link a name to
//! a key or a session.
//!
//! It is read once at start, from `CFPB_MCP_CLUSTER_SECRET` or a file named
//! by `CFPB_MCP_CLUSTER_SECRET_FILE`, and must carry at least 128 bits. It is
//! never shown: its `Debug` is redacted, and no error quotes it.

use std::path::{Path, PathBuf};

use hmac::{Hmac, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// The shortest secret accepted, in bytes.
pub const MIN_SECRET_BYTES: usize = 32;
/// The least estimated entropy accepted, in bits.
pub const MIN_SECRET_BITS: u32 = 128;

/// The environment variable (and, as `--cluster-secret`, the flag).
pub const SECRET_VAR: &str = "CFPB_MCP_CLUSTER_SECRET";
/// The file variant (`--cluster-secret-file`).
pub const SECRET_FILE_VAR: &str = "CFPB_MCP_CLUSTER_SECRET_FILE";

/// The cluster's shared secret, ready to sign and digest with.
#[derive(Clone)]
pub struct ClusterSecret {
    /// HMAC-SHA256 keyed with the secret, cloned for each use.
    mac: HmacSha256,
}

impl std::fmt::Debug for ClusterSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ClusterSecret([REDACTED])")
    }
}

/// The secret as the command line holds it until [`ClusterSecret::from_settings`]
/// checks it: its `Debug` shows nothing (the CLI's structs derive `Debug`).
#[derive(Clone)]
pub struct SecretText(String);

impl From<String> for SecretText {
    fn from(text: String) -> Self {
        Self(text)
    }
}

impl SecretText {
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for SecretText {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretText([REDACTED])")
    }
}

/// Why a secret was refused. Never quotes it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SecretError {
    #[error(
        "too short: {0} bytes; at least 32 (128 bits) are needed (`cfpb-mcp keygen` makes one)"
    )]
    TooShort(usize),
    #[error(
        "too little variety (about {0} bits); at least 128 bits are needed (`cfpb-mcp keygen` makes one)"
    )]
    Weak(u32),
}

/// A secret setting that could not be used, naming the setting.
#[derive(Debug, thiserror::Error)]
pub enum SecretSettingError {
    #[error("{name}: {source}")]
    Refused {
        name: &'static str,
        source: SecretError,
    },
    #[error("{SECRET_FILE_VAR}: cannot read {path}: {why}")]
    Unreadable { path: PathBuf, why: String },
    #[error("set one of {SECRET_VAR} and {SECRET_FILE_VAR}, not both")]
    Both,
}

impl ClusterSecret {
    /// The secret `text` (surrounding whitespace ignored), if it is strong
    /// enough: at least [`MIN_SECRET_BYTES`] bytes and about
    /// `MIN_SECRET_BITS` bits by its length and variety of characters.
    pub fn new(text: &str) -> Result<Self, SecretError> {
        let bytes = text.trim().as_bytes();
        if bytes.len() < MIN_SECRET_BYTES {
            return Err(SecretError::TooShort(bytes.len()));
        }
        let bits = estimated_bits(bytes);
        if bits < MIN_SECRET_BITS {
            return Err(SecretError::Weak(bits));
        }
        let mac = HmacSha256::new_from_slice(bytes).map_err(|_| SecretError::TooShort(0))?;
        Ok(Self { mac })
    }

    /// The secret from the command line: `inline` (`CFPB_MCP_CLUSTER_SECRET`)
    /// or the file `file` (`CFPB_MCP_CLUSTER_SECRET_FILE`), read now; `None`
    /// when neither is set.
    pub fn from_settings(
        inline: Option<&str>,
        file: Option<&Path>,
    ) -> Result<Option<Self>, SecretSettingError> {
        let (text, name) = match (inline, file) {
            (Some(_), Some(_)) => return Err(SecretSettingError::Both),
            (None, None) => return Ok(None),
            (Some(text), None) => (text.to_owned(), SECRET_VAR),
            (None, Some(path)) => {
                let text =
                    std::fs::read_to_string(path).map_err(|e| SecretSettingError::Unreadable {
                        path: path.to_owned(),
                        why: e.to_string(),
                    })?;
                (text, SECRET_FILE_VAR)
            }
        };
        Self::new(&text)
            .map(Some)
            .map_err(|source| SecretSettingError::Refused { name, source })
    }

    /// HMAC-SHA256 of `parts`, each length-prefixed (so no two different
    /// lists of parts sign alike).
    pub fn sign(&self, parts: &[&[u8]]) -> [u8; 32] {
        self.keyed(parts).finalize().into_bytes().into()
    }

    /// Is `tag` the signature of `parts`? Compared in constant time.
    pub fn verify(&self, parts: &[&[u8]], tag: &[u8]) -> bool {
        self.keyed(parts).verify_slice(tag).is_ok()
    }

    /// A keyed digest of `data` in the domain `domain` (`key`, `session`,
    /// `bucket`, `keyset`): 128 bits as 32 hex characters. The same on every
    /// replica; without the secret, not linkable to `data`.
    pub fn digest(&self, domain: &str, data: &str) -> String {
        let tag = self.sign(&[domain.as_bytes(), data.as_bytes()]);
        hex::encode(&tag[..16])
    }

    fn keyed(&self, parts: &[&[u8]]) -> HmacSha256 {
        let mut mac = self.mac.clone();
        for part in parts {
            mac.update(&(part.len() as u64).to_be_bytes());
            mac.update(part);
        }
        mac
    }
}

/// A rough upper bound of the entropy of `bytes`: its length times the bits
/// of its alphabet (the distinct bytes it uses). It refuses the obviously
/// weak (`aaaa...`, `abababab...`); a random 32-byte hex string scores 128.
fn estimated_bits(bytes: &[u8]) -> u32 {
    let mut seen = [false; 256];
    for &b in bytes {
        seen[usize::from(b)] = true;
    }
    let distinct = seen.iter().filter(|s| **s).count().max(1) as f64;
    (bytes.len() as f64 * distinct.log2()).floor() as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = "Zq3v9Lk2Xw8Rt5Yp1Mn7Bc4Hd6Gf0Js2Ae8Ku";

    #[test]
    fn cluster_8_weak_secrets_are_refused_without_quoting_them() {
        assert_eq!(
            ClusterSecret::new("short-secret").unwrap_err(),
            SecretError::TooShort(12)
        );
        assert!(matches!(
            ClusterSecret::new(&"ab".repeat(40)),
            Err(SecretError::Weak(_))
        ));
        // 32 random hex characters: exactly 128 bits.
        assert!(ClusterSecret::new("0123456789abcdef0f1e2d3c4b5a6978").is_ok());
        let secret = ClusterSecret::new(&format!("  {GOOD}\n")).unwrap();
        assert_eq!(format!("{secret:?}"), "ClusterSecret([REDACTED])");
        let text = SecretText::from(GOOD.to_owned());
        assert!(!format!("{text:?}").contains(GOOD));
        for e in [
            SecretError::TooShort(3).to_string(),
            SecretError::Weak(3).to_string(),
        ] {
            assert!(e.contains("128 bits"), "{e}");
        }
    }

    #[test]
    fn cluster_8_settings_name_the_variable() {
        let err = ClusterSecret::from_settings(Some("x"), None).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("CFPB_MCP_CLUSTER_SECRET: too short")
        );
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("cluster_secret");
        std::fs::write(&file, "tiny\n").unwrap();
        let err = ClusterSecret::from_settings(None, Some(&file)).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("CFPB_MCP_CLUSTER_SECRET_FILE: too short")
        );
        assert!(!err.to_string().contains("tiny"));
        std::fs::write(&file, format!("{GOOD}\n")).unwrap();
        assert!(
            ClusterSecret::from_settings(None, Some(&file))
                .unwrap()
                .is_some()
        );
        assert!(ClusterSecret::from_settings(None, None).unwrap().is_none());
        assert!(matches!(
            ClusterSecret::from_settings(Some(GOOD), Some(&file)),
            Err(SecretSettingError::Both)
        ));
        let missing = dir.path().join("missing");
        let err = ClusterSecret::from_settings(None, Some(&missing)).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("CFPB_MCP_CLUSTER_SECRET_FILE: cannot read")
        );
    }

    #[test]
    fn cluster_9_signatures_bind_every_part() {
        let secret = ClusterSecret::new(GOOD).unwrap();
        let other = ClusterSecret::new(&GOOD.replace("Z", "z")).unwrap();
        let tag = secret.sign(&[b"chan", b"body"]);
        assert!(secret.verify(&[b"chan", b"body"], &tag));
        assert!(!secret.verify(&[b"chan", b"bodY"], &tag));
        assert!(
            !secret.verify(&[b"chanb", b"ody"], &tag),
            "parts are framed"
        );
        assert!(!secret.verify(&[b"chan", b"body"], &tag[..31]));
        assert!(!other.verify(&[b"chan", b"body"], &tag));
    }

    #[test]
    fn cluster_10_digests_are_keyed_and_separated_by_domain() {
        use sha2::Digest;
        let secret = ClusterSecret::new(GOOD).unwrap();
        let other = ClusterSecret::new(&GOOD.replace("Z", "z")).unwrap();
        let d = secret.digest("key", "abc");
        assert_eq!(d.len(), 32);
        assert_eq!(d, secret.digest("key", "abc"), "stable across replicas");
        assert_ne!(d, secret.digest("session", "abc"));
        assert_ne!(d, other.digest("key", "abc"));
        let plain = hex::encode(sha2::Sha256::digest(b"abc"));
        assert!(!plain.contains(&d));
    }
}
