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
    let mut calls = key_bearing_calls_of(
        ctx,
        marker,
        &ToolArgument {
            tool: "search_complaints".into(),
            argument: "search_term".into(),
        },
        "",
    );
    if let Some(args) = calls[0].1.get_mut("arguments") {
        args["size"] = json!(1);
    }
    calls
}

/// What starts every key-bearing string the `mcp` profile puts in a request body (the
/// tool argument, the tool names): a log line or answer holding it next to a key holds
/// what the harness sent in a body, not a credential from a header.
pub const BODY_MARKER: &str = "mcp-conformance-body";

/// A tool of the target and one of its string arguments, to carry the keys.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ToolArgument {
    pub tool: String,
    pub argument: String,
}

/// The tool of a `tools/list` result whose argument the key-bearing call fills: the first
/// tool with a required string argument (the call then reaches the tool, not only the
/// argument validation), else the first with any string argument. `None` when no tool
/// takes a string.
pub fn pick_string_argument(tools_list: &Value) -> Option<ToolArgument> {
    let tools = tools_list.pointer("/result/tools")?.as_array()?;
    let strings = |t: &Value| -> Vec<String> {
        t.pointer("/inputSchema/properties")
            .and_then(Value::as_object)
            .map(|p| {
                p.iter()
                    .filter(|(_, s)| s.get("type") == Some(&json!("string")))
                    .map(|(n, _)| n.clone())
                    .collect()
            })
            .unwrap_or_default()
    };
    let required = |t: &Value| -> Vec<String> {
        t.pointer("/inputSchema/required")
            .and_then(Value::as_array)
            .map(|r| {
                r.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default()
    };
    let named = |t: &Value, argument: String| {
        Some(ToolArgument {
            tool: t.get("name")?.as_str()?.to_string(),
            argument,
        })
    };
    tools
        .iter()
        .find_map(|t| {
            let req = required(t);
            let arg = strings(t).into_iter().find(|a| req.contains(a))?;
            named(t, arg)
        })
        .or_else(|| {
            tools
                .iter()
                .find_map(|t| named(t, strings(t).into_iter().next()?))
        })
}

/// The key-bearing requests for `target`'s tool: a `tools/call` whose string argument is
/// `marker` followed by every key in every form, then a `tools/call` of a tool named
/// after each key (`name_prefix` before it).
pub fn key_bearing_calls_of(
    ctx: &Ctx,
    marker: &str,
    target: &ToolArgument,
    name_prefix: &str,
) -> Vec<(&'static str, Value)> {
    let mut term = marker.to_string();
    for key in &ctx.target.keys {
        for form in key_forms(key) {
            term.push(' ');
            term.push_str(&form);
        }
    }
    let mut arguments = serde_json::Map::new();
    arguments.insert(target.argument.clone(), json!(term));
    let mut calls = vec![(
        "tools/call",
        json!({"name":target.tool,"arguments":arguments}),
    )];
    for key in &ctx.target.keys {
        let name = format!("{name_prefix}{}", key.expose());
        calls.push(("tools/call", json!({"name":name,"arguments":{}})));
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_goes_into_a_required_string_argument_of_a_real_tool() {
        let list = json!({"result":{"tools":[
            {"name":"add","inputSchema":{"type":"object","properties":{"a":{"type":"integer"}},"required":["a"]}},
            {"name":"note","inputSchema":{"type":"object","properties":{"tag":{"type":"string"},"text":{"type":"string"}},"required":["text"]}},
        ]}});
        let want = ToolArgument {
            tool: "note".into(),
            argument: "text".into(),
        };
        assert_eq!(pick_string_argument(&list), Some(want));
        let optional = json!({"result":{"tools":[
            {"name":"echo","inputSchema":{"type":"object","properties":{"msg":{"type":"string"}}}},
        ]}});
        assert_eq!(pick_string_argument(&optional).unwrap().argument, "msg");
        let none = json!({"result":{"tools":[{"name":"add","inputSchema":{"type":"object"}}]}});
        assert_eq!(pick_string_argument(&none), None);
    }
}
