//! The `auth_headers` fuzz target's check (docs/contract.md AUTH-1, AUTH-3,
//! AUTH-5): key extraction and verification against a reference model.
//! See `crate::fuzzing` for what every check asserts.

use std::sync::OnceLock;

use arbitrary::{Arbitrary, Unstructured};

use crate::guard::extract::{Presented, bearer_token, extract_key, is_key_token};
use crate::identity::keys::{ApiKey, KeyDigest, KeySet};

/// The configured keys of the `auth_headers` check. `dev-abc` is a prefix of
/// `dev-abc123` and `k` is one character, so near misses are easy to reach.
pub const FUZZ_KEYS: &[&str] = &["dev-abc123", "dev-abc", "Prod~Key+/=_9", "k"];

fn fuzz_key_set() -> &'static KeySet {
    static SET: OnceLock<KeySet> = OnceLock::new();
    SET.get_or_init(|| {
        KeySet::new(
            FUZZ_KEYS
                .iter()
                .filter_map(|k| ApiKey::new(k).ok())
                .collect(),
        )
    })
}

/// A request's headers, structured so the fuzzer reaches the interesting
/// cases (the two key headers in any case, configured keys and their near
/// misses) while still able to send any bytes at all.
#[derive(Arbitrary, Debug, Clone)]
pub struct AuthInput {
    pub headers: Vec<Header>,
}

#[derive(Arbitrary, Debug, Clone)]
pub struct Header {
    pub name: HeaderName,
    pub value: HeaderValue,
}

#[derive(Arbitrary, Debug, Clone)]
pub enum HeaderName {
    /// `x-api-key`, letters upper-cased where the mask's bits are set.
    ApiKey(u16),
    /// `authorization`, likewise.
    Authorization(u16),
    Other(Vec<u8>),
}

#[derive(Arbitrary, Debug, Clone)]
pub enum HeaderValue {
    Raw(Vec<u8>),
    Token(Token),
    /// `<scheme><spaces><token>`.
    Bearer {
        scheme: Scheme,
        spaces: u8,
        token: Token,
    },
}

#[derive(Arbitrary, Debug, Clone)]
pub enum Scheme {
    /// `bearer`, letters upper-cased where the mask's bits are set.
    Bearer(u8),
    Raw(Vec<u8>),
}

#[derive(Arbitrary, Debug, Clone)]
pub enum Token {
    Raw(Vec<u8>),
    /// Configured key number `index` (modulo their count), then `edit`.
    Key {
        index: u8,
        edit: Edit,
    },
}

/// The near misses of AUTH-3, and a few more.
#[derive(Arbitrary, Debug, Clone)]
pub enum Edit {
    Exact,
    Prefix(u8),
    Suffix(u8),
    Append(Vec<u8>),
    Prepend(Vec<u8>),
    Insert { at: u8, byte: u8 },
    Replace { at: u8, byte: u8 },
    FlipCase(u8),
    PercentEncode(u8),
    TrailingNul,
    Concat(u8),
}

fn cased(word: &[u8], mask: u32) -> Vec<u8> {
    word.iter()
        .enumerate()
        .map(|(i, &b)| {
            if mask & (1 << (i % 32)) != 0 {
                b.to_ascii_uppercase()
            } else {
                b
            }
        })
        .collect()
}

impl Token {
    fn bytes(&self) -> Vec<u8> {
        let (index, edit) = match self {
            Token::Raw(bytes) => return bytes.clone(),
            Token::Key { index, edit } => (index, edit),
        };
        let key = FUZZ_KEYS[usize::from(*index) % FUZZ_KEYS.len()].as_bytes();
        let mut out = key.to_vec();
        let at = |n: u8| usize::from(n) % (key.len() + 1);
        match edit {
            Edit::Exact => {}
            Edit::Prefix(n) => out.truncate(at(*n)),
            Edit::Suffix(n) => out = key[at(*n)..].to_vec(),
            Edit::Append(extra) => out.extend_from_slice(extra),
            Edit::Prepend(extra) => out = [extra.as_slice(), key].concat(),
            Edit::Insert { at: n, byte } => out.insert(at(*n), *byte),
            Edit::Replace { at: n, byte } => {
                let i = usize::from(*n) % key.len();
                out[i] = *byte;
            }
            Edit::FlipCase(n) => {
                let i = usize::from(*n) % key.len();
                out[i] = if out[i].is_ascii_uppercase() {
                    out[i].to_ascii_lowercase()
                } else {
                    out[i].to_ascii_uppercase()
                };
            }
            Edit::PercentEncode(n) => {
                let i = usize::from(*n) % key.len();
                let escaped = format!("%{:02X}", key[i]);
                out.splice(i..=i, escaped.bytes());
            }
            Edit::TrailingNul => out.push(0),
            Edit::Concat(other) => {
                out.extend_from_slice(FUZZ_KEYS[usize::from(*other) % FUZZ_KEYS.len()].as_bytes())
            }
        }
        out
    }
}

impl Header {
    /// The header as the (name, value) bytes a request would carry.
    pub fn to_pair(&self) -> (Vec<u8>, Vec<u8>) {
        let name = match &self.name {
            HeaderName::ApiKey(mask) => cased(b"x-api-key", u32::from(*mask)),
            HeaderName::Authorization(mask) => cased(b"authorization", u32::from(*mask)),
            HeaderName::Other(bytes) => bytes.clone(),
        };
        let value = match &self.value {
            HeaderValue::Raw(bytes) => bytes.clone(),
            HeaderValue::Token(token) => token.bytes(),
            HeaderValue::Bearer {
                scheme,
                spaces,
                token,
            } => {
                let mut v = match scheme {
                    Scheme::Bearer(mask) => cased(b"bearer", u32::from(*mask)),
                    Scheme::Raw(bytes) => bytes.clone(),
                };
                v.extend(std::iter::repeat_n(b' ', usize::from(*spaces % 4)));
                v.extend(token.bytes());
                v
            }
        };
        (name, value)
    }
}

impl AuthInput {
    /// Decode fuzz bytes the way `libfuzzer-sys`'s `fuzz_target!` does.
    pub fn from_fuzz_bytes(data: &[u8]) -> Option<Self> {
        Self::arbitrary_take_rest(Unstructured::new(data)).ok()
    }

    pub fn pairs(&self) -> Vec<(Vec<u8>, Vec<u8>)> {
        self.headers.iter().map(Header::to_pair).collect()
    }
}

/// What the reference model says a request presented.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ModelPresented {
    Missing,
    Invalid,
    Key(Vec<u8>),
}

/// The contract's AUTH-1/AUTH-3 rules, written as plainly as possible and
/// independently of `guard::extract`: the presented value and the index of the
/// configured key it equals, if any.
pub fn model_auth(pairs: &[(Vec<u8>, Vec<u8>)], keys: &[&str]) -> (ModelPresented, Option<usize>) {
    let named = |wanted: &str| -> Vec<&[u8]> {
        pairs
            .iter()
            .filter(|(name, _)| name.to_ascii_lowercase() == wanted.as_bytes())
            .map(|(_, value)| value.as_slice())
            .collect()
    };
    // A key: one or more visible ASCII characters, nothing else.
    let visible = |v: &[u8]| !v.is_empty() && v.iter().all(|&b| b > b' ' && b < 0x7f);
    let api_keys = named("x-api-key");
    let authorizations = named("authorization");
    if api_keys.len() > 1 || authorizations.len() > 1 {
        return (ModelPresented::Invalid, None); // ambiguous
    }
    let from_api_key = match api_keys.first() {
        None => None,
        Some(v) if visible(v) => Some(v.to_vec()),
        Some(_) => return (ModelPresented::Invalid, None),
    };
    let from_bearer = match authorizations.first() {
        None => None,
        Some(v) => {
            // "Bearer" in any case, at least one space, then the token.
            let scheme_ok = v.len() > 7 && v[..7].eq_ignore_ascii_case(b"bearer ");
            let token: Vec<u8> = if scheme_ok {
                v[7..].iter().copied().skip_while(|&b| b == b' ').collect()
            } else {
                Vec::new()
            };
            if !visible(&token) {
                return (ModelPresented::Invalid, None);
            }
            Some(token)
        }
    };
    let presented = match (from_api_key, from_bearer) {
        (None, None) => return (ModelPresented::Missing, None),
        (Some(a), Some(b)) if a != b => return (ModelPresented::Invalid, None),
        (Some(key), _) | (None, Some(key)) => key,
    };
    let accepted = keys
        .iter()
        .position(|k| k.as_bytes() == presented.as_slice());
    (ModelPresented::Key(presented), accepted)
}

/// AUTH-1/3/5: extraction + verification agree with [`model_auth`].
pub fn check_auth_headers(input: &AuthInput) {
    let pairs = input.pairs();
    let set = fuzz_key_set();
    let presented = extract_key(pairs.iter().map(|(n, v)| (n.as_slice(), v.as_slice())));
    let accepted = match presented {
        Presented::Key(key) => set.verify(key),
        Presented::Missing | Presented::Invalid => None,
    };
    let (model, model_accepted) = model_auth(&pairs, FUZZ_KEYS);
    let got = match presented {
        Presented::Missing => ModelPresented::Missing,
        Presented::Invalid => ModelPresented::Invalid,
        Presented::Key(key) => ModelPresented::Key(key.to_vec()),
    };
    assert_eq!(got, model, "extraction differs from the AUTH-1/3 model");
    assert_eq!(
        accepted,
        model_accepted.map(|i| KeyDigest::of(FUZZ_KEYS[i].as_bytes())),
        "verification differs from the model: accepted iff exactly a configured key"
    );
    // The building blocks keep their own promises on every value seen.
    for (_, value) in &pairs {
        if let Some(token) = bearer_token(value) {
            assert!(is_key_token(token) && value.ends_with(token));
        }
    }
}

/// [`check_auth_headers`] on raw fuzz bytes (inputs that don't decode are skipped).
pub fn check_auth_headers_bytes(data: &[u8]) {
    if let Some(input) = AuthInput::from_fuzz_bytes(data) {
        check_auth_headers(&input);
    }
}
