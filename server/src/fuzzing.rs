//! Property checks for the parsers that read client-controlled bytes, shared by
//! the cargo-fuzz targets in `fuzz/` and the stable replay test
//! (`server/tests/fuzz_corpus_replay.rs`), so a crash found once stays a
//! regression test forever.
//!
//! Each `check_*` function runs one parser on arbitrary input and panics if a
//! property is violated (that is its job; nothing else in the crate calls
//! these). What each asserts:
//!
//! - [`check_auth_headers`] (AUTH-1, AUTH-3, AUTH-5): key extraction plus
//!   verification against [`FUZZ_KEYS`] never panics, and accepts a request iff
//!   exactly one configured key was presented, exactly as the independent
//!   reference model [`model_auth`] of the contract's rules decides.
//! - [`check_key_list`] (AUTH-2): the `CFPB_MCP_API_KEYS` and keys-file parsers
//!   agree with a reference model (trim, empty entries, `#` comments, which
//!   entry is wrong); parse → render → parse is stable in both formats; no
//!   key contains a separator, whitespace or anything outside the key alphabet.
//! - [`check_jsonrpc_message`] (MSG-3, MSG-4, DATA-1, DATA-2): every body yields
//!   either the contract's `400 bad_request` (not JSON) or something for the
//!   stream: a well-formed JSON-RPC error (-32600 / -32602) with the right id,
//!   an ignored invalid notification, or a message the service takes; the
//!   audit helpers and tool-argument validation (everything before tool I/O)
//!   accept it without panicking.
//! - [`check_session_query`] (MSG-2): `session_id` query parsing agrees with a
//!   reference model (exactly one parameter, 32 lower-case hex characters).
//! - [`check_audit_record`] (LOG-1, LOG-2): for any key and any posted message
//!   (and path), the audit line is one valid JSON object and contains no
//!   encoding of the key, unless that encoding is part of the line's fixed
//!   text anyway (a key such as `mcp_request`).
//!
//! The keys used here are fixed test values, never real ones.

use std::sync::OnceLock;

use arbitrary::{Arbitrary, Unstructured};
use serde_json::Value;

use crate::audit::{
    AuditRecord, Caller, MAX_ARGUMENTS_LEN, MAX_PATH_LEN, Timestamp, render, scrub_and_truncate,
};
use crate::guard::extract::{Presented, bearer_token, extract_key, is_key_token};
use crate::guard::keys::{
    ApiKey, KeyDigest, KeySet, MAX_KEY_LEN, parse_key_file, parse_key_list, render_key_file,
    render_key_list,
};
use crate::guard::redact::{REDACTED, Redactor, encodings};
use crate::http::{ErrorBody, ErrorKind};
use crate::mcp::{self, Framed};
use crate::messages::{AuditFields, QueryError, parse_session_query};
use crate::session::SessionId;
use crate::tools;

// ---------------------------------------------------------------------------
// auth_headers

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

// ---------------------------------------------------------------------------
// key_list

/// The key alphabet, spelled out (independently of `keys::is_key_char`).
const KEY_ALPHABET: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~+/=";

/// AUTH-2 as a reference model: `Ok(keys)` or `Err(1-based entry)`.
fn model_key_entries<'a>(
    entries: impl Iterator<Item = (usize, &'a str)>,
) -> Result<Vec<String>, usize> {
    let mut keys: Vec<String> = Vec::new();
    for (number, entry) in entries {
        if entry.is_empty() {
            continue;
        }
        if entry.len() > MAX_KEY_LEN || !entry.chars().all(|c| KEY_ALPHABET.contains(c)) {
            return Err(number);
        }
        if !keys.iter().any(|k| k == entry) {
            keys.push(entry.to_owned());
        }
    }
    Ok(keys)
}

fn model_key_list(text: &str) -> Result<Vec<String>, usize> {
    model_key_entries(
        text.split(',')
            .enumerate()
            .map(|(i, e)| (i + 1, e.trim_matches(char::is_whitespace))),
    )
}

fn model_key_file(text: &str) -> Result<Vec<String>, usize> {
    model_key_entries(
        text.split('\n')
            .enumerate()
            .map(|(i, l)| (i + 1, l.trim_matches(char::is_whitespace)))
            .filter(|(_, l)| !l.starts_with('#')),
    )
}

fn clear(keys: &[ApiKey]) -> Vec<String> {
    keys.iter().map(|k| k.expose_secret().to_owned()).collect()
}

/// AUTH-2: both key-list formats agree with the model and round-trip.
pub fn check_key_list(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    for (format, parsed, model) in [
        ("list", parse_key_list(&text), model_key_list(&text)),
        ("file", parse_key_file(&text), model_key_file(&text)),
    ] {
        let got = parsed.as_ref().map(|k| clear(k)).map_err(|e| e.entry);
        assert_eq!(got, model, "{format} parser differs from the AUTH-2 model");
        let Ok(keys) = parsed else { continue };
        for key in clear(&keys) {
            assert!(!key.is_empty() && key.len() <= MAX_KEY_LEN);
            assert!(
                !key.contains(|c: char| c == ',' || c == '#' || c.is_whitespace()),
                "a key holds a separator or whitespace"
            );
            assert!(key.chars().all(|c| KEY_ALPHABET.contains(c)));
        }
        let list = render_key_list(&keys);
        let file = render_key_file(&keys);
        for (again, how) in [
            (parse_key_list(&list), "list"),
            (parse_key_file(&file), "file"),
        ] {
            assert_eq!(
                again.as_ref().map(|k| clear(k)).ok(),
                Some(clear(&keys)),
                "{format} → render {how} → parse is not stable"
            );
        }
        assert_eq!(
            parse_key_list(&list).map(|k| render_key_list(&k)).ok(),
            Some(list)
        );
        assert_eq!(
            parse_key_file(&file).map(|k| render_key_file(&k)).ok(),
            Some(file)
        );
    }
}

// ---------------------------------------------------------------------------
// jsonrpc_message

/// MSG-3/MSG-4: framing, the audit helpers and tool-argument validation.
pub fn check_jsonrpc_message(body: &[u8]) {
    let json: Option<Value> = serde_json::from_slice(body).ok();
    let framed = mcp::frame(body);
    let Ok(framed) = framed else {
        // Not JSON: the contract's 400 bad_request, nothing on the stream.
        assert!(json.is_none(), "valid JSON refused as not JSON");
        let error = mcp::NotJson.to_string();
        let rendered = ErrorBody::new(ErrorKind::BadRequest, &error).to_json();
        assert_eq!(
            rendered,
            format!(r#"{{"error":{{"type":"bad_request","message":"{error}"}}}}"#)
        );
        return;
    };
    let Some(json) = json else {
        panic!("frame accepted a body that is not JSON");
    };
    let object = json.as_object();
    let string_field = |name: &str| object.and_then(|o| o.get(name)).and_then(Value::as_str);
    match framed {
        Framed::Ignore => {
            // Only an invalid JSON-RPC 2.0 notification is silently dropped.
            assert_eq!(string_field("jsonrpc"), Some("2.0"));
            assert!(string_field("method").is_some());
            assert!(object.is_some_and(|o| !o.contains_key("id")));
        }
        Framed::Reply(reply) => {
            let text = serde_json::to_string(&reply).expect("a reply serializes"); // ok: a check asserts by panicking
            let value: Value = serde_json::from_str(&text).expect("a reply is JSON"); // ok: a check asserts by panicking
            assert_eq!(value["jsonrpc"], "2.0", "{text}");
            assert!(value.get("result").is_none(), "{text}");
            let code = value["error"]["code"].as_i64();
            assert!(matches!(code, Some(-32600 | -32602)), "{text}");
            assert!(value["error"]["message"].is_string(), "{text}");
            // The id is echoed when the request had a usable one, else null.
            let id = object.and_then(|o| o.get("id"));
            let expected_id = match id {
                Some(Value::String(s)) => Value::String(s.clone()),
                Some(Value::Number(n)) if n.as_i64().is_some() => Value::Number(n.clone()),
                _ => Value::Null,
            };
            let echoed = value.get("id").unwrap_or(&Value::Null);
            match id {
                // A numeric id is echoed as the same number (`-0` comes back as `0`).
                Some(Value::Number(n)) if echoed.is_number() => {
                    assert_eq!(echoed.as_f64(), n.as_f64(), "{text}");
                }
                _ => assert_eq!(echoed, &expected_id, "{text}"),
            }
            if code == Some(-32602) {
                assert!(string_field("method").is_some() && *echoed != Value::Null);
            }
        }
        Framed::Message(message) => {
            assert!(object.is_some(), "a message must be a JSON object");
            let text = serde_json::to_string(&message).expect("a message serializes"); // ok: a check asserts by panicking
            assert!(serde_json::from_str::<Value>(&text).is_ok());
            let _ = mcp::rpc_method(&message);
            let _ = mcp::is_initialize(&message);
            if let Some((name, arguments)) = mcp::tool_call(&message) {
                let arguments = arguments.and_then(|a| serde_json::from_str(&a).ok());
                // Everything tools/call does before any I/O: validation.
                let problem = match name {
                    tools::search::NAME => tools::search::parse_query(arguments).err(),
                    tools::document::NAME => tools::document::parse_id(arguments).err(),
                    _ => None,
                };
                if let Some(problem) = problem {
                    // A tool error quotes client text, but boundedly.
                    assert!(problem.to_string().len() < 2048);
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------
// session_query

/// `application/x-www-form-urlencoded` decoding, written out for the model.
fn model_form_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let hex = |b: u8| char::from(b).to_digit(16);
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => {
                match (
                    bytes.get(i + 1).copied().and_then(hex),
                    bytes.get(i + 2).copied().and_then(hex),
                ) {
                    (Some(hi), Some(lo)) => {
                        out.push((hi * 16 + lo) as u8);
                        i += 2;
                    }
                    _ => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn model_is_session_id(text: &str) -> bool {
    text.len() == 32 && text.chars().all(|c| "0123456789abcdef".contains(c))
}

/// MSG-2 as a reference model.
fn model_session_query(query: &str) -> Result<String, QueryError> {
    let values: Vec<String> = query
        .split('&')
        .filter(|pair| !pair.is_empty())
        .filter_map(|pair| {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            (model_form_decode(name) == "session_id").then(|| model_form_decode(value))
        })
        .collect();
    match values.as_slice() {
        [] => Err(QueryError::Missing),
        [first, ..] if !model_is_session_id(first) => Err(QueryError::Malformed),
        [only] => Ok(only.clone()),
        _ => Err(QueryError::Repeated),
    }
}

/// MSG-2: the `session_id` query parser agrees with the model; ids round-trip.
pub fn check_session_query(data: &[u8]) {
    let query = String::from_utf8_lossy(data);
    let got = parse_session_query(Some(&query)).map(|id| id.to_string());
    assert_eq!(
        got,
        model_session_query(&query),
        "differs from the MSG-2 model"
    );
    let direct = SessionId::parse(&query);
    assert_eq!(direct.is_some(), model_is_session_id(&query));
    if let Some(id) = direct {
        assert_eq!(id.to_string(), query);
        assert_eq!(id.log_prefix(), query[..8]);
    }
    if let Err(error) = parse_session_query(Some(&query)) {
        // The 400 body never quotes the query.
        let message = error.to_string();
        let body = ErrorBody::new(ErrorKind::BadRequest, &message).to_json();
        assert!(body.starts_with(r#"{"error":{"type":"bad_request","message":""#));
    }
}

// ---------------------------------------------------------------------------
// audit_record

/// The audit line the server writes for a `POST /mcp/messages` carrying
/// `body`, built from [`AuditFields::of`] as `messages::deliver` does; `path`
/// stands for the scrubbed path of an unknown route.
fn audit_line(redactor: &Redactor, caller: Caller, body: &[u8], path: &str) -> String {
    let fields = match mcp::frame(body) {
        Ok(Framed::Message(message)) => AuditFields::of(&message, redactor),
        _ => AuditFields::default(),
    };
    render(&AuditRecord {
        ts: Timestamp(std::time::SystemTime::UNIX_EPOCH),
        event: "mcp_request",
        method: "POST",
        path: scrub_and_truncate(redactor, path, MAX_PATH_LEN),
        status: 202,
        duration_ms: 1,
        key: caller,
        session: Some("0123abcd".to_owned()),
        rpc_method: fields.rpc_method,
        tool: fields.tool,
        arguments: fields.arguments,
        error: None,
    })
}

/// LOG-1/LOG-2 for `key` and a posted `body`: one valid JSON line, no key.
pub fn check_audit_record(key: &str, body: &[u8]) {
    let Ok(api_key) = ApiKey::new(key) else {
        return; // not a key the server would ever be configured with
    };
    let set = KeySet::new(vec![api_key]);
    let caller = Caller::Key(KeyDigest::of(key.as_bytes()).id());
    // A path as a client may send one: visible ASCII only (what a URI allows).
    let path: String = String::from_utf8_lossy(body)
        .chars()
        .filter(|c| c.is_ascii_graphic())
        .collect();
    let line = audit_line(set.redactor(), caller, body, &format!("/{path}"));
    assert!(
        line.ends_with('\n') && line.matches('\n').count() == 1,
        "{line}"
    );
    let value: Value = serde_json::from_str(&line).expect("an audit line is JSON"); // ok: a check asserts by panicking
    let record = value.as_object().expect("an audit line is a JSON object"); // ok: a check asserts by panicking
    for field in [
        "ts",
        "event",
        "method",
        "path",
        "status",
        "duration_ms",
        "key",
        "session",
    ] {
        assert!(record.contains_key(field), "LOG-1: {field} missing: {line}");
    }
    if let Some(arguments) = record.get("arguments").and_then(Value::as_str) {
        assert!(arguments.len() <= MAX_ARGUMENTS_LEN + "…[truncated]".len());
    }
    // The text a line holds whatever the client sent; a key inside it (say
    // `mcp_request`, or `REDACT`) can't be kept out of the log.
    let fixed = format!(
        "{}{REDACTED}…[truncated]",
        audit_line(set.redactor(), caller, b"", "/")
    );
    for needle in encodings(key.as_bytes()) {
        if fixed.contains(&needle) {
            continue;
        }
        assert!(!line.contains(&needle), "LOG-2: the key leaked into {line}");
    }
}

/// [`check_audit_record`] on fuzz bytes: the first line is the key, the rest
/// the posted body.
pub fn check_audit_record_bytes(data: &[u8]) {
    let (key, body) = match data.iter().position(|&b| b == b'\n') {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &[][..]),
    };
    if let Ok(key) = std::str::from_utf8(key) {
        check_audit_record(key, body);
    }
}
