//! Traffic that carries the configured keys where a careless server logs or echoes them
//! (docs/contract.md LOG-2, AUTH-7): every key raw, percent-encoded, base64 and hex inside
//! a `tools/call` argument, and each key as a tool name. Sent only into the harness's own
//! session; the probes are never shown with the key in them (every report text goes
//! through the runner's redaction, which knows these encodings).

use super::ctx::Ctx;
use super::legacy::Session;
use crate::key::ApiKey;
use base64::Engine;
use serde_json::{Value, json};

/// A key in the encodings LOG-2 lists: raw, percent-encoded (as a URL encoder writes it:
/// every byte but ASCII letters and digits escaped, upper-case hex), base64 (standard,
/// padded), hex (lower case).
pub fn key_forms(key: &ApiKey) -> [String; 4] {
    let raw = key.expose();
    [
        raw.to_string(),
        percent_encoding::utf8_percent_encode(raw, percent_encoding::NON_ALPHANUMERIC).to_string(),
        base64::engine::general_purpose::STANDARD.encode(raw),
        hex::encode(raw),
    ]
}

/// The key-bearing requests, as (method, params): a `tools/call` of `search_complaints`
/// whose `search_term` is `marker` followed by every key in every form, then a
/// `tools/call` of a tool named after each key.
pub fn key_bearing_calls(ctx: &Ctx, marker: &str) -> Vec<(&'static str, Value)> {
    let mut term = marker.to_string();
    for key in &ctx.target.keys {
        for form in key_forms(key) {
            term.push(' ');
            term.push_str(&form);
        }
    }
    let mut calls = vec![(
        "tools/call",
        json!({"name":"search_complaints","arguments":{"search_term":term,"size":1}}),
    )];
    for key in &ctx.target.keys {
        calls.push(("tools/call", json!({"name":key.expose(),"arguments":{}})));
    }
    calls
}

impl Session {
    /// In this (handshaken) session, the `key_bearing_calls`. Answers are read (so their
    /// events pass the response scan) but not judged; a missing answer is no error here.
    pub async fn tool_calls_with_keys(&mut self, ctx: &Ctx, marker: &str) {
        for (method, params) in key_bearing_calls(ctx, marker) {
            let _ = self.request(ctx, method, params).await;
        }
    }
}
