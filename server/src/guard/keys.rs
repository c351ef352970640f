//! API keys: parsing the configured key lists (AUTH-2), generating fresh keys,
//! and verifying a presented key in constant time (AUTH-5).
//!
//! A key never leaves this module in clear except through
//! [`ApiKey::expose_secret`], which only the redactor and `keygen` call.
//! `ApiKey`'s `Debug` is redacted, and no error message names a key: errors
//! say which entry (1-based) was wrong, never what it held.

use base64::Engine as _;
use sha2::{Digest, Sha256};

use crate::guard::redact::Redactor;
use subtle::{ConditionallySelectable, ConstantTimeEq};

/// Longest key we accept in configuration (bytes).
pub const MAX_KEY_LEN: usize = 256;

/// One configured API key. `Debug` never shows it; there is no `Display`.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiKey(String);

impl std::fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ApiKey(<redacted>)")
    }
}

impl ApiKey {
    /// Validate one key: 1..=256 characters from `A-Z a-z 0-9 - . _ ~ + / =`
    /// (base64, base64url, hex and UUID keys all fit; no separators, no
    /// whitespace, nothing a log line or a header would have to escape).
    pub fn new(key: &str) -> Result<Self, KeyFormatError> {
        if key.is_empty() {
            return Err(KeyFormatError::Empty);
        }
        if key.len() > MAX_KEY_LEN {
            return Err(KeyFormatError::TooLong);
        }
        if !key.bytes().all(is_key_char) {
            return Err(KeyFormatError::BadCharacter);
        }
        Ok(Self(key.to_owned()))
    }

    /// A fresh random key: 256 bits from the OS CSPRNG, base64url without padding.
    pub fn generate() -> Self {
        let bytes: [u8; 32] = rand::random();
        Self(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes))
    }

    /// The key in clear. Call sites: the redactor (to know what to scrub) and
    /// `keygen` (to print a new key for its owner). Nothing else.
    pub fn expose_secret(&self) -> &str {
        &self.0
    }

    pub fn digest(&self) -> KeyDigest {
        KeyDigest::of(self.0.as_bytes())
    }
}

/// The characters a configured key may contain.
pub fn is_key_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'+' | b'/' | b'=')
}

/// Why a configured key was refused. Never carries the key itself.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyFormatError {
    #[error("is empty")]
    Empty,
    #[error("is longer than {MAX_KEY_LEN} characters")]
    TooLong,
    #[error("contains a character outside A-Z a-z 0-9 - . _ ~ + / =")]
    BadCharacter,
}

/// A key list that could not be parsed: which entry, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("key #{entry} {reason}")]
pub struct KeyListError {
    /// 1-based position of the entry (comma-separated item or file line).
    pub entry: usize,
    pub reason: KeyFormatError,
}

/// Parse `CFPB_MCP_API_KEYS`: comma-separated, each entry trimmed, empty
/// entries dropped, duplicates removed (AUTH-2).
pub fn parse_key_list(list: &str) -> Result<Vec<ApiKey>, KeyListError> {
    collect_keys(list.split(',').map(str::trim).enumerate())
}

/// Parse a keys file: one key per line, surrounding whitespace trimmed, blank
/// lines and lines starting with `#` ignored (AUTH-2).
pub fn parse_key_file(text: &str) -> Result<Vec<ApiKey>, KeyListError> {
    collect_keys(
        text.lines()
            .map(str::trim)
            .enumerate()
            .filter(|(_, line)| !line.starts_with('#')),
    )
}

fn collect_keys<'a>(
    entries: impl Iterator<Item = (usize, &'a str)>,
) -> Result<Vec<ApiKey>, KeyListError> {
    let mut keys: Vec<ApiKey> = Vec::new();
    for (index, entry) in entries {
        if entry.is_empty() {
            continue;
        }
        let key = ApiKey::new(entry).map_err(|reason| KeyListError {
            entry: index + 1,
            reason,
        })?;
        if !keys.contains(&key) {
            keys.push(key);
        }
    }
    Ok(keys)
}

/// Render keys in the `CFPB_MCP_API_KEYS` format (the inverse of [`parse_key_list`]).
pub fn render_key_list(keys: &[ApiKey]) -> String {
    keys.iter()
        .map(ApiKey::expose_secret)
        .collect::<Vec<_>>()
        .join(",")
}

/// Render keys in the keys-file format (the inverse of [`parse_key_file`]).
pub fn render_key_file(keys: &[ApiKey]) -> String {
    keys.iter()
        .map(|k| format!("{}\n", k.expose_secret()))
        .collect()
}

/// sha256 of a key: what the server keeps to compare against and to key the
/// per-key limiter by.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct KeyDigest([u8; 32]);

impl std::fmt::Debug for KeyDigest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "KeyDigest({})", self.id())
    }
}

impl KeyDigest {
    pub fn of(bytes: &[u8]) -> Self {
        Self(Sha256::digest(bytes).into())
    }

    /// The loggable identity: the first 8 hex characters (LOG-1).
    pub fn id(&self) -> KeyId {
        KeyId([self.0[0], self.0[1], self.0[2], self.0[3]])
    }

    /// The 32 bytes (the shared limiter's bucket and a forwarded POST's owner
    /// check name a key by them; they are not the key).
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// The digest from its 64 hex characters (a forwarded POST's). Pure.
    pub fn from_hex(text: &str) -> Option<Self> {
        let mut bytes = [0u8; 32];
        hex::decode_to_slice(text, &mut bytes).ok()?;
        Some(Self(bytes))
    }

    /// A caller identity that is no key: an OAuth or Access subject's
    /// digest (`identity::subject_digest`).
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// The digest of the one anonymous caller of a `--allow-no-auth` server.
    pub fn anonymous() -> Self {
        Self([0; 32])
    }
}

/// First 32 bits of a key's sha256, shown as 8 lower-case hex characters.
/// Safe to log: it identifies a key to its owner and reveals nothing usable.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct KeyId([u8; 4]);

impl KeyId {
    /// The 8 hex characters, without a formatter run (the audit log renders
    /// one per request).
    pub fn hex(&self) -> KeyIdHex {
        const DIGITS: &[u8; 16] = b"0123456789abcdef";
        let mut out = [0u8; 8];
        for (pair, byte) in out.chunks_exact_mut(2).zip(self.0) {
            pair[0] = DIGITS[usize::from(byte >> 4)];
            pair[1] = DIGITS[usize::from(byte & 0x0f)];
        }
        KeyIdHex(out)
    }
}

/// A [`KeyId`] as its 8 lower-case hex characters.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct KeyIdHex([u8; 8]);

impl KeyIdHex {
    pub fn as_str(&self) -> &str {
        // Always ASCII hex digits.
        std::str::from_utf8(&self.0).unwrap_or("????????")
    }
}

impl std::fmt::Display for KeyId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.hex().as_str())
    }
}

/// The configured keys, as digests (AUTH-5), plus the clear keys kept only so
/// the audit log can scrub them (LOG-2).
#[derive(Debug, Default)]
pub struct KeySet {
    digests: Vec<[u8; 32]>,
    keys: Vec<ApiKey>,
    redactor: Redactor,
}

impl KeySet {
    pub fn new(keys: Vec<ApiKey>) -> Self {
        let digests = keys.iter().map(|k| k.digest().0).collect();
        let redactor = Redactor::new(keys.iter().map(ApiKey::expose_secret));
        Self {
            digests,
            keys,
            redactor,
        }
    }

    pub fn len(&self) -> usize {
        self.digests.len()
    }

    pub fn is_empty(&self) -> bool {
        self.digests.is_empty()
    }

    pub fn keys(&self) -> &[ApiKey] {
        &self.keys
    }

    /// Scrubs every configured key, in any encoding, out of loggable text.
    pub fn redactor(&self) -> &Redactor {
        &self.redactor
    }

    pub fn contains(&self, digest: &KeyDigest) -> bool {
        self.digests.iter().any(|d| d == &digest.0)
    }

    /// Verify a presented key (AUTH-5): hash it to a fixed length, then compare
    /// against every configured digest in constant time, touching them all,
    /// so timing reveals neither which key matched nor how much of it did.
    pub fn verify(&self, presented: &[u8]) -> Option<KeyDigest> {
        self.verify_digest(&KeyDigest::of(presented))
    }

    /// [`KeySet::verify`] for a key already hashed (the guard hashes once,
    /// for both verification and the audit log's key id).
    pub fn verify_digest(&self, presented: &KeyDigest) -> Option<KeyDigest> {
        // Compared and selected as four 64-bit words rather than 32 bytes:
        // the same constant-time primitives, an eighth of the steps.
        let candidate = words(&presented.0);
        let mut found = subtle::Choice::from(0);
        let mut matched = [0u64; 4];
        for digest in &self.digests {
            let digest = words(digest);
            let equal = digest[..].ct_eq(&candidate[..]);
            found |= equal;
            for (out, word) in matched.iter_mut().zip(&digest) {
                out.conditional_assign(word, equal);
            }
        }
        let mut bytes = [0u8; 32];
        for (chunk, word) in bytes.chunks_exact_mut(8).zip(matched) {
            chunk.copy_from_slice(&word.to_le_bytes());
        }
        bool::from(found).then_some(KeyDigest(bytes))
    }
}

/// A digest as four little-endian 64-bit words.
fn words(digest: &[u8; 32]) -> [u64; 4] {
    let mut out = [0u64; 4];
    for (word, chunk) in out.iter_mut().zip(digest.chunks_exact(8)) {
        let mut bytes = [0u8; 8];
        bytes.copy_from_slice(chunk);
        *word = u64::from_le_bytes(bytes);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn keys(list: &str) -> Vec<String> {
        parse_key_list(list)
            .unwrap()
            .iter()
            .map(|k| k.expose_secret().to_owned())
            .collect()
    }

    #[test]
    fn auth_2_env_list_trims_and_drops_empty_entries() {
        assert_eq!(
            keys(" dev-abc123 , ,dev-def456,"),
            ["dev-abc123", "dev-def456"]
        );
        assert_eq!(keys("a,a"), ["a"]);
        assert!(keys("").is_empty());
    }

    #[test]
    fn auth_2_key_file_skips_comments_and_blank_lines() {
        let parsed = parse_key_file("# team keys\n\n  k1  \n#k2\nk3\r\n").unwrap();
        let got: Vec<_> = parsed.iter().map(ApiKey::expose_secret).collect();
        assert_eq!(got, ["k1", "k3"]);
    }

    #[test]
    fn errors_name_the_entry_never_the_key() {
        let err = parse_key_list("good,bad key,x").unwrap_err();
        assert_eq!(err.entry, 2);
        assert!(!err.to_string().contains("bad key"));
        let err = parse_key_file("ok\n# c\nsecret\u{e9}\n").unwrap_err();
        assert_eq!(err.entry, 3);
        assert!(!err.to_string().contains("secret"));
    }

    #[test]
    fn debug_is_redacted() {
        let key = ApiKey::new("super-secret").unwrap();
        assert_eq!(format!("{key:?}"), "ApiKey(<redacted>)");
        let set = KeySet::new(vec![key]);
        assert!(!format!("{set:?}").contains("super-secret"));
    }

    #[test]
    fn auth_5_verify_finds_exactly_the_configured_keys() {
        let set = KeySet::new(parse_key_list("alpha,beta").unwrap());
        assert_eq!(set.verify(b"alpha"), Some(KeyDigest::of(b"alpha")));
        assert_eq!(set.verify(b"beta"), Some(KeyDigest::of(b"beta")));
        for near in [
            "alph", "alphaa", "Alpha", "al pha", "alpha\0", "alph%61", "",
        ] {
            assert_eq!(set.verify(near.as_bytes()), None, "{near}");
        }
        assert_eq!(KeySet::default().verify(b"alpha"), None);
    }

    #[test]
    fn key_id_is_first_eight_hex_of_sha256() {
        // sha256("abc") = ba7816bf...
        assert_eq!(KeyDigest::of(b"abc").id().to_string(), "ba7816bf");
    }

    #[test]
    fn generated_keys_are_256_bit_and_valid() {
        let a = ApiKey::generate();
        assert_eq!(a.expose_secret().len(), 43);
        assert!(ApiKey::new(a.expose_secret()).is_ok());
        assert_ne!(a, ApiKey::generate());
    }

    proptest! {
        #[test]
        fn list_parse_render_parse_is_stable(input in ".{0,200}") {
            if let Ok(parsed) = parse_key_list(&input) {
                let again = parse_key_list(&render_key_list(&parsed)).unwrap();
                prop_assert_eq!(&parsed, &again);
                let from_file = parse_key_file(&render_key_file(&parsed)).unwrap();
                prop_assert_eq!(&parsed, &from_file);
                for key in &parsed {
                    prop_assert!(key.expose_secret().bytes().all(is_key_char));
                }
            }
        }

        #[test]
        fn auth_5_only_exact_keys_verify(key in "[A-Za-z0-9_-]{1,64}", other in ".{0,70}") {
            let set = KeySet::new(vec![ApiKey::new(&key).unwrap()]);
            prop_assert_eq!(set.verify(other.as_bytes()).is_some(), other == key);
        }
    }
}
