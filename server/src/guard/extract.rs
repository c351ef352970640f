//! Key extraction (AUTH-1, AUTH-3): which key, if any, did a request present?
//!
//! A pure function over header name/value pairs, so that the fuzz target and
//! the HTTP layer run exactly the same code. The rules:
//!
//! - the key comes from `X-API-Key: <key>` or `Authorization: Bearer <key>`;
//! - more than one `X-API-Key`, or more than one `Authorization`, is ambiguous;
//! - an `Authorization` header that is not `Bearer <token>` is invalid;
//! - when both headers are present they must carry the same key;
//! - a key is one or more visible ASCII characters (0x21..=0x7E); anything
//!   else (empty, spaces, controls, non-ASCII, non-UTF-8) is invalid.
//!
//! This module never verifies a key and never logs or formats one.

use http::HeaderMap;

/// What a request presented, before verification.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Presented<'a> {
    /// Neither `X-API-Key` nor `Authorization` was sent.
    Missing,
    /// Something was sent, but not one unambiguous, well-formed key.
    Invalid,
    /// Exactly one well-formed key (the raw header bytes).
    Key(&'a [u8]),
}

impl std::fmt::Debug for Presented<'_> {
    // A presented key may be a real key: never print it (AUTH-7, LOG-2).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Presented::Missing => f.write_str("Missing"),
            Presented::Invalid => f.write_str("Invalid"),
            Presented::Key(_) => f.write_str("Key(<redacted>)"),
        }
    }
}

/// The `X-API-Key` header name (lower case, as HTTP/2 and `http` store it).
pub const API_KEY_HEADER: &str = "x-api-key";

/// Extract the presented key from any sequence of header (name, value) pairs.
/// Header names compare ASCII case-insensitively.
pub fn extract_key<'a, I>(headers: I) -> Presented<'a>
where
    I: IntoIterator<Item = (&'a [u8], &'a [u8])>,
{
    let mut api_key: Option<&'a [u8]> = None;
    let mut authorization: Option<&'a [u8]> = None;
    for (name, value) in headers {
        let slot = if name.eq_ignore_ascii_case(API_KEY_HEADER.as_bytes()) {
            &mut api_key
        } else if name.eq_ignore_ascii_case(b"authorization") {
            &mut authorization
        } else {
            continue;
        };
        if slot.replace(value).is_some() {
            return Presented::Invalid; // a second header of the same name: ambiguous
        }
    }

    let from_api_key = match api_key {
        None => None,
        Some(value) if is_key_token(value) => Some(value),
        Some(_) => return Presented::Invalid,
    };
    let from_bearer = match authorization {
        None => None,
        Some(value) => match bearer_token(value) {
            Some(token) => Some(token),
            None => return Presented::Invalid,
        },
    };
    match (from_api_key, from_bearer) {
        (None, None) => Presented::Missing,
        (Some(key), None) | (None, Some(key)) => Presented::Key(key),
        (Some(a), Some(b)) if a == b => Presented::Key(a),
        (Some(_), Some(_)) => Presented::Invalid,
    }
}

/// [`extract_key`] over an `http` header map.
pub fn extract_from_headers(headers: &HeaderMap) -> Presented<'_> {
    extract_key(
        headers
            .iter()
            .map(|(name, value)| (name.as_str().as_bytes(), value.as_bytes())),
    )
}

/// `Bearer <token>`: the scheme is case-insensitive (RFC 9110 §11.1), then one
/// or more spaces, then a token of visible ASCII. Returns the token.
pub fn bearer_token(value: &[u8]) -> Option<&[u8]> {
    const SCHEME: &[u8] = b"bearer";
    if value.len() <= SCHEME.len() || !value[..SCHEME.len()].eq_ignore_ascii_case(SCHEME) {
        return None;
    }
    let rest = &value[SCHEME.len()..];
    let start = rest.iter().position(|&b| b != b' ')?;
    if start == 0 {
        return None; // "Bearerabc": no separating space
    }
    let token = &rest[start..];
    is_key_token(token).then_some(token)
}

/// A well-formed presented key: non-empty, every byte visible ASCII.
pub fn is_key_token(value: &[u8]) -> bool {
    !value.is_empty() && value.iter().all(|b| (0x21..=0x7e).contains(b))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(pairs: &[(&str, &[u8])]) -> Presented<'static> {
        let owned: Vec<(Vec<u8>, Vec<u8>)> = pairs
            .iter()
            .map(|(n, v)| (n.as_bytes().to_vec(), v.to_vec()))
            .collect();
        let leaked: &'static [(Vec<u8>, Vec<u8>)] = Box::leak(owned.into_boxed_slice());
        extract_key(leaked.iter().map(|(n, v)| (n.as_slice(), v.as_slice())))
    }

    #[test]
    fn auth_1_x_api_key_and_bearer_are_both_accepted_sources() {
        assert_eq!(run(&[("X-API-Key", b"abc")]), Presented::Key(b"abc"));
        assert_eq!(
            run(&[("authorization", b"Bearer abc")]),
            Presented::Key(b"abc")
        );
        assert_eq!(
            run(&[("Authorization", b"bearer   abc")]),
            Presented::Key(b"abc")
        );
        assert_eq!(
            run(&[("x-api-key", b"abc"), ("Authorization", b"Bearer abc")]),
            Presented::Key(b"abc")
        );
    }

    #[test]
    fn auth_3_missing_and_invalid_shapes() {
        assert_eq!(run(&[]), Presented::Missing);
        assert_eq!(run(&[("accept", b"*/*")]), Presented::Missing);
        for bad in [
            &[("x-api-key", &b""[..])][..],
            &[("x-api-key", b"a b")],
            &[("x-api-key", b"abc\0")],
            &[("x-api-key", "ключ".as_bytes())],
            &[("x-api-key", b"abc"), ("X-Api-Key", b"abc")],
            &[("x-api-key", b"abc"), ("authorization", b"Bearer abd")],
            &[("authorization", b"Basic YWJjOmRlZg==")],
            &[("authorization", b"Bearer")],
            &[("authorization", b"Bearer ")],
            &[("authorization", b"Bearerabc")],
            &[("authorization", b"Bearer a b")],
            &[
                ("authorization", b"Bearer abc"),
                ("authorization", b"Bearer abc"),
            ],
        ] {
            assert_eq!(run(bad), Presented::Invalid, "{bad:?}");
        }
    }

    #[test]
    fn debug_never_prints_the_key() {
        assert_eq!(
            format!("{:?}", Presented::Key(b"secret")),
            "Key(<redacted>)"
        );
    }
}
