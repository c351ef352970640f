//! What the COMPAT checks share: Claude-shaped request bodies (a stateless body naming
//! 2026-07-28 in `_meta`, a session-based one without it) and the judges of "served
//! statelessly" and "answered in a session" (docs/contract.md COMPAT-1..4).

use crate::checks::http2026::common::{no_session_header, result_of, short};
use crate::client::streamable::{SESSION_HEADER, valid_session_id};
use crate::wire::response::Resp;
use serde_json::{Value, json};

/// The `tools/call` of `search_complaints` every replay makes.
pub fn search_params(term: &str) -> Value {
    json!({"name":"search_complaints","arguments":{"search_term":term,"size":1}})
}

/// A JSON-RPC notification.
pub fn notification(method: &str) -> Value {
    json!({"jsonrpc":"2.0","method":method})
}

/// A session-based JSON-RPC request (no `_meta`).
pub fn plain_request(id: u64, method: &str, params: Value) -> Value {
    json!({"jsonrpc":"2.0","id":id,"method":method,"params":params})
}

/// Served statelessly (HTTP-2026-*): `200` with the result of `id`, no `Mcp-Session-Id`.
pub fn stateless_result(r: &Resp, id: u64) -> Result<Value, String> {
    let result = result_of(r, id)?;
    no_session_header(r)?;
    Ok(result)
}

/// A non-empty `tools` list with `search_complaints`.
pub fn lists_tools(result: &Value) -> Result<(), String> {
    let named = result
        .get("tools")
        .and_then(Value::as_array)
        .is_some_and(|t| {
            t.iter()
                .any(|t| t.get("name") == Some(&json!("search_complaints")))
        });
    if named {
        Ok(())
    } else {
        Err(format!(
            "no search_complaints in result.tools: {}",
            short(result)
        ))
    }
}

/// A tool result with non-empty `content` and no `isError: true`.
pub fn tool_succeeded(result: &Value) -> Result<(), String> {
    let content = result
        .get("content")
        .and_then(Value::as_array)
        .is_some_and(|c| !c.is_empty());
    if content && result.get("isError") != Some(&json!(true)) {
        Ok(())
    } else {
        Err(format!("not a successful tool result: {}", short(result)))
    }
}

/// An `initialize` answered session-based (HTTP-1/2): `200`, a valid `Mcp-Session-Id`, a
/// negotiated revision before 2026-07-28. Returns the session id and the revision.
pub fn session_opened(r: &Resp, id: u64) -> Result<(String, String), String> {
    let result = result_of(r, id)?;
    let sid = r
        .header(SESSION_HEADER)
        .ok_or("no Mcp-Session-Id in the response")?;
    if !valid_session_id(&sid) {
        return Err("the Mcp-Session-Id is not 32 lower-case hex characters".into());
    }
    let version = result
        .get("protocolVersion")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    if version.is_empty() || version.as_str() >= crate::client::stateless::STATELESS_VERSION {
        return Err(format!(
            "result.protocolVersion is not a session-based revision: {}",
            short(&result)
        ));
    }
    Ok((sid, version))
}
