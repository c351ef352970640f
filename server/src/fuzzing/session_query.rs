//! The `session_query` fuzz target's check (docs/contract.md MSG-2):
//! `session_id` query parsing against a reference model.
//! See `crate::fuzzing` for what every check asserts.

use crate::http::response::{ErrorBody, ErrorKind};
use crate::sessions::SessionId;
use crate::transport::legacy::post::{QueryError, parse_session_query};

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
