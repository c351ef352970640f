//! The `jsonrpc_message` fuzz target's check (docs/contract.md MSG-3, MSG-4,
//! DATA-1, DATA-2): framing of any posted body, the audit helpers and tool-
//! argument validation.
//! See `crate::fuzzing` for what every check asserts.

use serde_json::Value;

use crate::http::response::{ErrorBody, ErrorKind};
use crate::mcp::{self, Framed};
use crate::tools;

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
