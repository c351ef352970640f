//! API keys as the harness holds them: a type whose `Debug`/`Display` never print the
//! secret, the header styles a key can travel in, and the extra headers (`--header`,
//! e.g. a Cloudflare Access service token) held the same way.
//! This module must never expose a key except through `ApiKey::expose`, whose callers put
//! it on the wire and nowhere else.

use std::fmt;

/// A secret API key. Printing it (Debug or Display) shows `$MCP_KEY`-style placeholders only.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiKey {
    secret: String,
    /// Shell variable name that stands for this key in reproductions (`MCP_KEY`, `MCP_KEY2`).
    var: &'static str,
}

impl ApiKey {
    /// Wraps a key; `slot` 0 is the primary key (`$MCP_KEY`), 1 the second (`$MCP_KEY2`).
    pub fn new(secret: impl Into<String>, slot: usize) -> Self {
        let var = if slot == 0 { "MCP_KEY" } else { "MCP_KEY2" };
        Self {
            secret: secret.into(),
            var,
        }
    }

    /// A secret that reproductions name `$var` (e.g. `MCP_OAUTH_FOREIGN_TOKEN`).
    pub fn named(secret: impl Into<String>, var: &'static str) -> Self {
        Self {
            secret: secret.into(),
            var,
        }
    }

    /// The key itself, for putting on the wire (and for the leak scanner/redactor).
    pub fn expose(&self) -> &str {
        &self.secret
    }

    /// The shell variable name (without `$`) used for this key in curl reproductions.
    pub fn var(&self) -> &'static str {
        self.var
    }

    /// First 8 hex chars of sha256 of the key: the `key` field of LOG-1.
    pub fn log_id(&self) -> String {
        use sha2::Digest;
        let digest = sha2::Sha256::digest(self.secret.as_bytes());
        hex::encode(digest)[..8].to_string()
    }

    /// A fresh random key (used by the embedded mode and by tests): 32 url-safe characters.
    pub fn generate(slot: usize) -> Self {
        use rand::Rng;
        const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        let mut rng = rand::rng();
        let secret: String = (0..32)
            .map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char)
            .collect();
        Self::new(secret, slot)
    }
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ApiKey(${})", self.var)
    }
}

impl fmt::Display for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "${}", self.var)
    }
}

/// A header the harness adds to every request (`--header 'Name: value'`), e.g. a
/// Cloudflare Access service token. Its value is a secret like a key: `Debug` shows the
/// name and a placeholder, and the runner redacts the value from every report text.
#[derive(Clone, PartialEq, Eq)]
pub struct ExtraHeader {
    pub name: String,
    value: String,
    /// Shell variable that stands for the value in report text (`MCP_HEADER_1`, ...).
    var: String,
}

/// Header names `--header` may not set: the key travels only in the ways the checks choose.
const RESERVED_HEADERS: &[&str] = &["x-api-key", "authorization"];

impl ExtraHeader {
    /// Parses `Name: value` (the `n`-th extra header, from 1). Errors name the header, never
    /// its value.
    pub fn parse(text: &str, n: usize) -> Result<Self, String> {
        let Some((name, value)) = text.split_once(':') else {
            return Err(format!("--header #{n} is not `Name: value`"));
        };
        let name = name.trim();
        let valid_name = !name.is_empty()
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b));
        if !valid_name {
            return Err(format!("--header #{n}: `{name}` is not a header name"));
        }
        if RESERVED_HEADERS.contains(&name.to_ascii_lowercase().as_str()) {
            return Err(format!(
                "--header {name}: the key is given with MCP_CONFORMANCE_KEYS or --key-file (and --header-style), not as an extra header"
            ));
        }
        let value = value.trim();
        if value.bytes().any(|b| (b < 0x20 && b != b'\t') || b == 0x7f) {
            return Err(format!(
                "--header {name}: the value holds control characters"
            ));
        }
        Ok(Self {
            name: name.to_string(),
            value: value.to_string(),
            var: format!("MCP_HEADER_{n}"),
        })
    }

    /// The value, for putting on the wire (and for the redactor).
    pub fn expose(&self) -> &str {
        &self.value
    }

    /// The shell variable name (without `$`) that stands for the value in report text.
    pub fn var(&self) -> &str {
        &self.var
    }
}

impl fmt::Debug for ExtraHeader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ExtraHeader({}: ${})", self.name, self.var)
    }
}

/// Which header carries the key on ordinary requests.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum HeaderStyle {
    /// `X-API-Key: <key>`
    #[default]
    XApiKey,
    /// `Authorization: Bearer <key>`
    Bearer,
}

/// Parses a key list: comma- or newline-separated, entries trimmed, empty entries and
/// `#` comment lines dropped.
pub fn parse_key_list(text: &str) -> Vec<String> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.starts_with('#'))
        .flat_map(|l| l.split(','))
        .map(str::trim)
        .filter(|k| !k.is_empty())
        .map(str::to_string)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_and_display_never_show_the_key() {
        let k = ApiKey::new("supersecretvalue", 0);
        assert_eq!(format!("{k:?}"), "ApiKey($MCP_KEY)");
        assert_eq!(format!("{k}"), "$MCP_KEY");
        assert_eq!(format!("{}", ApiKey::new("x", 1)), "$MCP_KEY2");
    }

    #[test]
    fn extra_headers_parse_and_never_show_their_value() {
        let h = ExtraHeader::parse("CF-Access-Client-Secret:  s3cr3t-value ", 2).unwrap();
        assert_eq!(
            (h.name.as_str(), h.expose(), h.var()),
            ("CF-Access-Client-Secret", "s3cr3t-value", "MCP_HEADER_2")
        );
        assert!(!format!("{h:?}").contains("s3cr3t"));
        assert!(ExtraHeader::parse("no colon", 1).is_err());
        assert!(ExtraHeader::parse("Bad Name: x", 1).is_err());
        let e = ExtraHeader::parse("X-API-Key: s3cr3t-value", 1).unwrap_err();
        assert!(!e.contains("s3cr3t"), "{e}");
    }

    #[test]
    fn key_lists_parse() {
        assert_eq!(parse_key_list(" a, b ,,\n# c\nd\n"), vec!["a", "b", "d"]);
    }

    #[test]
    fn log_id_is_sha256_prefix() {
        // sha256("abc") = ba7816bf...
        assert_eq!(ApiKey::new("abc", 0).log_id(), "ba7816bf");
    }
}
