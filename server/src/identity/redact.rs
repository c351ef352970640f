//! Scrubbing keys out of text before it is logged (LOG-2).
//!
//! The audit log records a few client-controlled strings (tool arguments, an
//! unknown path). A client may paste a key into them, raw or encoded; this
//! module finds every configured key in the encodings the conformance harness
//! scans for (raw, percent-encoded, base64 standard/url at all three
//! alignments, hex lower/upper) and replaces it with `[REDACTED]`.

use std::borrow::Cow;

use aho_corasick::{AhoCorasick, MatchKind};
use base64::engine::general_purpose::{STANDARD_NO_PAD, URL_SAFE_NO_PAD};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

/// What a scrubbed key is replaced with.
pub const REDACTED: &str = "[REDACTED]";

/// Encoded forms shorter than this are not scrubbed (they would match
/// ordinary text; a key that short has no secrecy to protect anyway).
const MIN_NEEDLE: usize = 4;

/// Rounds of percent-decoding a loggable string gets before it is taken as
/// holding no key (LOG-2): each round shrinks the text, and a key escaped
/// more often than this is logged as the escapes, which hold no key.
pub const MAX_PERCENT_DECODES: usize = 4;

/// Characters a URL's query encoder typically escapes in a key.
const RESERVED: &AsciiSet = &percent_encoding::CONTROLS
    .add(b' ')
    .add(b'+')
    .add(b'/')
    .add(b'=')
    .add(b'%');

/// Every searchable encoding of `key`: the strings whose presence in text
/// means the key leaked.
pub fn encodings(key: &[u8]) -> Vec<String> {
    let mut out = Vec::new();
    if let Ok(raw) = std::str::from_utf8(key) {
        out.push(raw.to_owned());
        for set in [NON_ALPHANUMERIC, RESERVED] {
            let upper = utf8_percent_encode(raw, set).to_string();
            out.push(lower_percent_hex(&upper));
            out.push(upper);
        }
    }
    for engine in [STANDARD_NO_PAD, URL_SAFE_NO_PAD] {
        for align in 0..3 {
            out.push(base64_core(&engine, key, align));
        }
    }
    out.push(hex::encode(key));
    out.push(hex::encode_upper(key));
    out.retain(|needle| needle.len() >= MIN_NEEDLE);
    out.sort();
    out.dedup();
    out
}

/// The part of the base64 encoding of `key`, placed `align` bytes into a
/// larger buffer, that depends only on the key's bytes: the characters whose
/// 6 bits all fall inside the key. Whatever surrounds the key in the encoded
/// data, these characters appear verbatim.
pub fn base64_core<E: base64::Engine>(engine: &E, key: &[u8], align: usize) -> String {
    let mut buf = vec![0u8; align];
    buf.extend_from_slice(key);
    let encoded = engine.encode(&buf);
    let first_bit = align * 8;
    let end_bit = (align + key.len()) * 8;
    let start_char = first_bit.div_ceil(6);
    let end_char = end_bit / 6; // exclusive: chars fully inside [first_bit, end_bit)
    encoded
        .get(start_char..end_char.max(start_char))
        .unwrap_or_default()
        .to_owned()
}

fn lower_percent_hex(encoded: &str) -> String {
    let mut out = String::with_capacity(encoded.len());
    let mut chars = encoded.chars();
    while let Some(c) = chars.next() {
        out.push(c);
        if c == '%' {
            out.extend(chars.by_ref().take(2).map(|h| h.to_ascii_lowercase()));
        }
    }
    out
}

/// Scrubs a fixed set of keys out of text, in one pass over it (an
/// Aho-Corasick automaton of every encoding of every key): cheap enough to run
/// on every posted body (AUTH-7) as well as on logged strings (LOG-2).
#[derive(Default, Clone)]
pub struct Redactor {
    /// `None` when there is nothing to scrub (no keys).
    matcher: Option<AhoCorasick>,
    needles: usize,
}

impl std::fmt::Debug for Redactor {
    // The needles are the keys themselves: never print them.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Redactor({} needles)", self.needles)
    }
}

impl Redactor {
    /// A redactor for these secrets (the configured keys, in clear: it is the
    /// one place besides verification that must know them).
    pub fn new<'a>(secrets: impl IntoIterator<Item = &'a str>) -> Self {
        let mut needles: Vec<String> = secrets
            .into_iter()
            .flat_map(|k| encodings(k.as_bytes()))
            .collect();
        needles.sort();
        needles.dedup();
        // Leftmost-longest: where encodings overlap, the longest is replaced whole.
        let matcher = AhoCorasick::builder()
            .match_kind(MatchKind::LeftmostLongest)
            .build(&needles)
            .ok()
            .filter(|_| !needles.is_empty());
        Self {
            matcher,
            needles: needles.len(),
        }
    }

    /// For loggable text only (LOG-2): when `text` percent-decodes, once or
    /// up to [`MAX_PERCENT_DECODES`] times over, to something that holds a
    /// key (a key written with any mix of escaped and plain bytes,
    /// `%41b%43…`, or escaped again, `%2541b…`, which no fixed list of
    /// encodings can match), the decoded text with the key redacted; else
    /// `None`. Not for bodies: decoding would change what a client sent.
    pub fn redact_percent_decoded(&self, text: &str) -> Option<String> {
        self.percent_decoded_with_key(text)
            .map(|decoded| self.redact(&decoded).into_owned())
    }

    /// Does `text`, percent-decoded once or up to [`MAX_PERCENT_DECODES`]
    /// times over, hold a key? (A check for what a client sent, AUTH-7.)
    pub fn holds_percent_decoded_key(&self, text: &str) -> bool {
        self.percent_decoded_with_key(text).is_some()
    }

    /// The first decoding of `text` (of up to [`MAX_PERCENT_DECODES`]) that
    /// holds a key.
    fn percent_decoded_with_key(&self, text: &str) -> Option<String> {
        let matcher = self.matcher.as_ref()?;
        let mut current = Cow::Borrowed(text);
        for _ in 0..MAX_PERCENT_DECODES {
            if !current.contains('%') {
                return None;
            }
            let decoded = percent_encoding::percent_decode_str(&current)
                .decode_utf8_lossy()
                .into_owned();
            if decoded == current {
                return None;
            }
            if matcher.is_match(decoded.as_str()) {
                return Some(decoded);
            }
            current = Cow::Owned(decoded);
        }
        None
    }

    /// Does `haystack` hold any encoding of any key?
    pub fn is_match(&self, haystack: &[u8]) -> bool {
        self.matcher.as_ref().is_some_and(|m| m.is_match(haystack))
    }

    /// `data` with every encoding of every key replaced by [`REDACTED`]:
    /// for what leaves the server (AUTH-7), frame by frame. The same bytes
    /// when nothing matched.
    pub fn redact_bytes(&self, data: bytes::Bytes) -> bytes::Bytes {
        match &self.matcher {
            Some(matcher) if matcher.is_match(data.as_ref()) => {
                let mut out = Vec::with_capacity(data.len());
                matcher.replace_all_with_bytes(&data, &mut out, |_, _, out| {
                    out.extend_from_slice(REDACTED.as_bytes());
                    true
                });
                bytes::Bytes::from(out)
            }
            _ => data,
        }
    }

    /// `text` with every encoding of every key replaced by [`REDACTED`].
    pub fn redact<'a>(&self, text: &'a str) -> Cow<'a, str> {
        match &self.matcher {
            Some(matcher) if matcher.is_match(text) => {
                let mut out = String::with_capacity(text.len());
                matcher.replace_all_with(text, &mut out, |_, _, out| {
                    out.push_str(REDACTED);
                    true
                });
                Cow::Owned(out)
            }
            _ => Cow::Borrowed(text),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::identity::keys::ApiKey;
    use base64::Engine as _;
    use base64::engine::general_purpose::{STANDARD, URL_SAFE};
    use proptest::prelude::*;

    fn redactor(key: &str) -> Redactor {
        Redactor::new([ApiKey::new(key).unwrap().expose_secret()])
    }

    #[test]
    fn log_2_raw_percent_hex_are_scrubbed() {
        let key = "k3y+with/slash=";
        let r = redactor(key);
        assert_eq!(r.redact(&format!("a{key}b")), "a[REDACTED]b");
        assert!(!r.redact("x=k3y%2Bwith%2Fslash%3D").contains("k3y%2B"));
        assert!(!r.redact("x=k3y%2bwith%2fslash%3d").contains("k3y%2b"));
        let hex = hex::encode(key);
        assert!(!r.redact(&hex).contains(&hex[..]));
        assert_eq!(r.redact("nothing here"), "nothing here");
    }

    proptest! {
        /// LOG-2: a key base64-encoded at any alignment inside any bytes is found.
        #[test]
        fn log_2_base64_at_every_alignment(
            key in "[A-Za-z0-9_-]{12,48}",
            prefix in proptest::collection::vec(any::<u8>(), 0..5),
            suffix in proptest::collection::vec(any::<u8>(), 0..5),
            url_safe in any::<bool>(),
            pad in any::<bool>(),
        ) {
            let mut data = prefix.clone();
            data.extend_from_slice(key.as_bytes());
            data.extend_from_slice(&suffix);
            let encoded = match (url_safe, pad) {
                (false, true) => STANDARD.encode(&data),
                (false, false) => STANDARD_NO_PAD.encode(&data),
                (true, true) => URL_SAFE.encode(&data),
                (true, false) => URL_SAFE_NO_PAD.encode(&data),
            };
            let r = redactor(&key);
            let text = format!("{{\"q\":\"{encoded}\"}}");
            let redacted = r.redact(&text);
            prop_assert!(redacted.contains(REDACTED));
            let engine_core = if url_safe {
                base64_core(&URL_SAFE_NO_PAD, key.as_bytes(), prefix.len() % 3)
            } else {
                base64_core(&STANDARD_NO_PAD, key.as_bytes(), prefix.len() % 3)
            };
            prop_assert!(!redacted.contains(&engine_core));
        }
    }

    #[test]
    fn log_2_a_key_in_any_mix_of_percent_escapes_is_found_for_logs() {
        let r = redactor("Key-abc123");
        // Every byte escaped, mixed case, some bytes plain.
        let mixed = "q=%4B%65y-%61bc%3123 and more";
        assert_eq!(r.redact(mixed), mixed, "no fixed encoding matches it");
        assert_eq!(
            r.redact_percent_decoded(mixed).as_deref(),
            Some("q=[REDACTED] and more")
        );
        assert_eq!(r.redact_percent_decoded("100%25 sure"), None);
        assert_eq!(r.redact_percent_decoded("no escapes"), None);
    }

    #[test]
    fn log_2_a_key_escaped_twice_or_more_is_found_for_logs() {
        let key = "Key-abc123";
        let r = redactor(key);
        let mut escaped = key.to_owned();
        for rounds in 1..=MAX_PERCENT_DECODES {
            // Every byte escaped (`%` itself escaped from the second round on).
            escaped = escaped.bytes().map(|b| format!("%{b:02X}")).collect();
            let path = format!("/x/{escaped}/y");
            assert_eq!(r.redact(&path), path, "round {rounds}: no fixed encoding");
            assert_eq!(
                r.redact_percent_decoded(&path).as_deref(),
                Some("/x/[REDACTED]/y"),
                "escaped {rounds} times"
            );
            assert!(r.holds_percent_decoded_key(&path));
        }
        assert_eq!(r.redact_percent_decoded("%2525252525 plain"), None);
        assert!(!r.holds_percent_decoded_key("%4B%65y-%61bc%3124"));
    }
}
