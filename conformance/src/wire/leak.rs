//! The leak scanner (docs/contract.md AUTH-7, LOG-2): finds a key inside arbitrary text in every encoding a careless
//! server might write it in (raw, percent-encoded, base64 std/url at any alignment with or
//! without padding, hex lower/upper, and the full sha256 hex digest).
//! Pure functions only: no I/O, and never returns or prints the key itself (a `Leak` holds
//! the encoding and the byte span in the scanned text, nothing else).

use base64::Engine;
use sha2::Digest;

/// How a key was written where it was found.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
pub enum Encoding {
    Raw,
    /// Percent-encoded (any mix of escaped and plain bytes, upper or lower hex).
    PercentEncoded,
    /// Base64, standard alphabet, key starting at byte offset `alignment` mod 3 of the blob.
    Base64Std {
        alignment: u8,
    },
    /// Base64, url-safe alphabet.
    Base64Url {
        alignment: u8,
    },
    HexLower,
    HexUpper,
    /// The full (64 hex chars) sha256 of the key, lower or upper case.
    Sha256Hex,
}

impl std::fmt::Display for Encoding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Encoding::Raw => f.write_str("raw"),
            Encoding::PercentEncoded => f.write_str("percent-encoded"),
            Encoding::Base64Std { alignment } => write!(f, "base64 (std, alignment {alignment})"),
            Encoding::Base64Url { alignment } => write!(f, "base64 (url, alignment {alignment})"),
            Encoding::HexLower => f.write_str("hex (lower)"),
            Encoding::HexUpper => f.write_str("hex (upper)"),
            Encoding::Sha256Hex => f.write_str("full sha256 hex"),
        }
    }
}

/// One occurrence of the key: its encoding and the byte range `start..end` in the text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Leak {
    pub encoding: Encoding,
    pub start: usize,
    pub end: usize,
}

/// Every place `key` occurs in `text`, in any supported encoding. An empty key finds nothing.
/// Spans of different encodings may overlap; identical spans are reported once.
pub fn find_key_leaks(text: &str, key: &str) -> Vec<Leak> {
    find_key_leaks_bytes(text.as_bytes(), key.as_bytes())
}

/// Byte-level version of [`find_key_leaks`], for response bodies that need not be UTF-8.
pub fn find_key_leaks_bytes(text: &[u8], key: &[u8]) -> Vec<Leak> {
    let mut leaks: Vec<Leak> = Vec::new();
    if key.is_empty() {
        return leaks;
    }
    let mut push = |encoding, start, end| {
        if !leaks.iter().any(|l| l.start == start && l.end == end) {
            leaks.push(Leak {
                encoding,
                start,
                end,
            });
        }
    };

    for start in find_all(text, key) {
        push(Encoding::Raw, start, start + key.len());
    }

    // Percent-encoding: decode the text leniently, remembering where each decoded byte came
    // from, and look for the raw key in the decoded bytes.
    let (decoded, origin) = percent_decode_mapped(text);
    if decoded.len() != text.len() {
        for d in find_all(&decoded, key) {
            let (start, _) = origin[d];
            let (last, width) = origin[d + key.len() - 1];
            let end = last + width;
            if end - start != key.len() {
                push(Encoding::PercentEncoded, start, end);
            }
        }
    }

    for alignment in 0..3u8 {
        for (std_alphabet, engine) in [
            (true, &base64::engine::general_purpose::STANDARD_NO_PAD),
            (false, &base64::engine::general_purpose::URL_SAFE_NO_PAD),
        ] {
            let Some(core) = base64_core(key, alignment as usize, engine) else {
                continue;
            };
            let encoding = if std_alphabet {
                Encoding::Base64Std { alignment }
            } else {
                Encoding::Base64Url { alignment }
            };
            for start in find_all(text, core.as_bytes()) {
                push(encoding, start, start + core.len());
            }
        }
    }

    let hex_lower = hex::encode(key);
    for start in find_all(text, hex_lower.as_bytes()) {
        push(Encoding::HexLower, start, start + hex_lower.len());
    }
    let hex_upper = hex::encode_upper(key);
    for start in find_all(text, hex_upper.as_bytes()) {
        push(Encoding::HexUpper, start, start + hex_upper.len());
    }

    let digest = sha2::Sha256::digest(key);
    for h in [hex::encode(digest), hex::encode_upper(digest)] {
        for start in find_all(text, h.as_bytes()) {
            push(Encoding::Sha256Hex, start, start + h.len());
        }
    }
    leaks.sort_by_key(|l| (l.start, l.end));
    leaks
}

/// The base64 characters that depend only on the key's bytes when the key starts at byte
/// `alignment` of a blob, whatever precedes or follows it. `None` when the key is too short
/// to give a distinctive core (fewer than 4 characters), which would only find noise.
fn base64_core(
    key: &[u8],
    alignment: usize,
    engine: &base64::engine::GeneralPurpose,
) -> Option<String> {
    let mut blob = vec![0u8; alignment];
    blob.extend_from_slice(key);
    let encoded = engine.encode(&blob);
    let first_bit = 8 * alignment;
    let end_bit = 8 * (alignment + key.len());
    let first_char = first_bit.div_ceil(6);
    let end_char = end_bit / 6; // chars [first_char, end_char) are fully inside the key
    if end_char <= first_char || end_char - first_char < 4 {
        return None;
    }
    encoded.get(first_char..end_char).map(str::to_string)
}

/// Lenient percent-decoding: `%XX` (either case) becomes one byte, anything else is kept.
/// Returns the decoded bytes and, for each, (offset in the input, width in the input).
fn percent_decode_mapped(text: &[u8]) -> (Vec<u8>, Vec<(usize, usize)>) {
    let mut out = Vec::with_capacity(text.len());
    let mut origin = Vec::with_capacity(text.len());
    let mut i = 0;
    while i < text.len() {
        if text[i] == b'%'
            && i + 2 < text.len()
            && let (Some(h), Some(l)) = (hex_val(text[i + 1]), hex_val(text[i + 2]))
        {
            out.push(h * 16 + l);
            origin.push((i, 3));
            i += 3;
            continue;
        }
        out.push(text[i]);
        origin.push((i, 1));
        i += 1;
    }
    (out, origin)
}

fn hex_val(b: u8) -> Option<u8> {
    (b as char).to_digit(16).map(|d| d as u8)
}

fn find_all(haystack: &[u8], needle: &[u8]) -> Vec<usize> {
    if needle.is_empty() || needle.len() > haystack.len() {
        return Vec::new();
    }
    haystack
        .windows(needle.len())
        .enumerate()
        .filter(|(_, w)| *w == needle)
        .map(|(i, _)| i)
        .collect()
}

/// Replaces every leak of every key in `text` by a placeholder (`$MCP_KEY` for a raw key,
/// `[$MCP_KEY as <encoding>]` otherwise). Keys are `(secret, shell variable name)` pairs.
pub fn redact(text: &str, keys: &[(&str, &str)]) -> String {
    let mut spans: Vec<(usize, usize, String)> = Vec::new();
    for (secret, var) in keys {
        for leak in find_key_leaks(text, secret) {
            let label = match leak.encoding {
                Encoding::Raw => format!("${var}"),
                other => format!("[${var} as {other}]"),
            };
            spans.push((leak.start, leak.end, label));
        }
    }
    if spans.is_empty() {
        return text.to_string();
    }
    spans.sort_by_key(|s| (s.0, std::cmp::Reverse(s.1)));
    let bytes = text.as_bytes();
    let mut out: Vec<u8> = Vec::with_capacity(text.len());
    let mut pos = 0;
    for (start, end, label) in spans {
        if end <= pos {
            continue;
        }
        let start = start.max(pos);
        out.extend_from_slice(&bytes[pos..start]);
        out.extend_from_slice(label.as_bytes());
        pos = end;
    }
    out.extend_from_slice(&bytes[pos..]);
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "k3y-Secret_0123456789abcdefXYZ";

    fn encodings(text: &str) -> Vec<Encoding> {
        find_key_leaks(text, KEY)
            .into_iter()
            .map(|l| l.encoding)
            .collect()
    }

    #[test]
    fn raw() {
        assert_eq!(encodings(&format!("x {KEY} y")), vec![Encoding::Raw]);
    }

    #[test]
    fn percent_encoded_fully_and_partly() {
        let full: String = KEY.bytes().map(|b| format!("%{b:02x}")).collect();
        assert_eq!(
            encodings(&format!("a={full}&b")),
            vec![Encoding::PercentEncoded]
        );
        let partly = KEY.replace('-', "%2D");
        assert_eq!(encodings(&partly), vec![Encoding::PercentEncoded]);
    }

    #[test]
    fn base64_all_alignments_and_alphabets() {
        use base64::engine::general_purpose::*;
        for prefix in ["", "a", "ab", "abc"] {
            let blob = format!("{prefix}{KEY}!");
            for engine in [&STANDARD, &STANDARD_NO_PAD, &URL_SAFE, &URL_SAFE_NO_PAD] {
                let text = format!("Basic {}", engine.encode(blob.as_bytes()));
                assert!(!find_key_leaks(&text, KEY).is_empty(), "{text}");
            }
        }
    }

    #[test]
    fn hex_and_sha256() {
        assert_eq!(encodings(&hex::encode(KEY)), vec![Encoding::HexLower]);
        assert_eq!(encodings(&hex::encode_upper(KEY)), vec![Encoding::HexUpper]);
        let d = hex::encode(sha2::Sha256::digest(KEY.as_bytes()));
        assert_eq!(encodings(&d), vec![Encoding::Sha256Hex]);
        // the 8-char prefix the log is allowed to carry is not a leak
        assert!(encodings(&d[..8]).is_empty());
    }

    #[test]
    fn clean_text_is_clean() {
        assert!(find_key_leaks("nothing to see here %41%42", KEY).is_empty());
        assert!(find_key_leaks("anything", "").is_empty());
    }

    #[test]
    fn redact_replaces_every_form() {
        let text = format!("{KEY} and {}", hex::encode(KEY));
        let r = redact(&text, &[(KEY, "MCP_KEY")]);
        assert_eq!(r, "$MCP_KEY and [$MCP_KEY as hex (lower)]");
    }
}
