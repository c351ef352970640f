//! `/mcp` on MCP 2026-07-28, the stateless revision: `server/discover`, the mirrored
//! headers, and its JSON-RPC errors.

use super::*;

/// The JSON-RPC method of a stateless request as the stub audits it (`rpc_method`).
#[derive(Clone, Debug)]
pub(super) struct RpcMethod(pub(super) String);

pub(super) const STATELESS_VERSION: &str = "2026-07-28";

/// `MCP-Protocol-Version` names 2026-07-28 or a later date.
pub(super) fn stateless_header(h: &hyper::HeaderMap) -> bool {
    h.get("mcp-protocol-version")
        .and_then(|v| v.to_str().ok())
        .is_some_and(stateless_version)
}

pub(super) fn rpc_error(
    status: u16,
    id: &Value,
    code: i64,
    message: &str,
    data: Option<Value>,
) -> Response<Body> {
    let mut error = json!({"code": code, "message": message});
    if let Some(d) = data {
        error["data"] = d;
    }
    json_resp(
        status,
        &json!({"jsonrpc":"2.0","id":id,"error":error}).to_string(),
    )
}

/// MCP 2026-07-28 on `/mcp` (contract HTTP-2026-2..9): no session, `_meta` and the
/// mirrored headers checked, `server/discover`, cache hints on lists. Runs after the guard.
pub(super) fn stateless(
    f: Fault,
    headers: &hyper::HeaderMap,
    method: &str,
    body: &[u8],
    era: &Era,
) -> Handled {
    let echo = |mut r: Response<Body>| {
        if f == Fault::Http2026EchoSessionId
            && let Some(v) = headers.get("mcp-session-id")
        {
            r.headers_mut().insert("mcp-session-id", v.clone());
        }
        r
    };
    if method != "POST" {
        let mut r = json_resp(
            405,
            r#"{"error":{"type":"method_not_allowed","message":"Use POST"}}"#,
        );
        let allow = if f == Fault::Http2026GetAllowsAll {
            "GET, POST, DELETE"
        } else {
            "POST"
        };
        r.headers_mut().insert("allow", allow.parse().unwrap());
        return (echo(r), None, None);
    }
    let Ok(msg) = serde_json::from_slice::<Value>(body) else {
        return (
            rpc_error(400, &Value::Null, -32700, "Parse error", None),
            None,
            None,
        );
    };
    let id = msg.get("id").cloned().unwrap_or(Value::Null);
    let rpc_method = msg
        .get("method")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let name = msg
        .pointer("/params/name")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let all = |n: &str| -> Vec<String> {
        headers
            .get_all(n)
            .iter()
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
            .collect()
    };
    let (versions, methods, names) = (era.versions.clone(), all("mcp-method"), all("mcp-name"));
    let mirrors_checked = !(era.body_won && f == Fault::CompatMirrorsIgnored);
    let (logged_method, logged_tool) = if f == Fault::Http2026LogFromHeaders {
        (
            methods.first().cloned().unwrap_or_default(),
            names.first().cloned().unwrap_or_default(),
        )
    } else {
        (rpc_method.clone(), name.clone())
    };
    let tool = (logged_method == "tools/call").then(|| {
        (
            logged_tool,
            msg.pointer("/params/arguments")
                .cloned()
                .unwrap_or(Value::Null),
        )
    });
    let done = |r: Response<Body>| {
        let mut r = echo(r);
        r.extensions_mut().insert(RpcMethod(logged_method.clone()));
        (r, None, tool.clone())
    };
    let mut known: Vec<&str> = SUPPORTED_VERSIONS.to_vec();
    known.push(STATELESS_VERSION);
    let unsupported = |v: &str| {
        let data = if f == Fault::Http2026UnsupportedNoList {
            json!({"requested": v})
        } else {
            json!({"requested": v, "supported": known})
        };
        rpc_error(400, &id, -32022, "Unsupported protocol version", Some(data))
    };
    let meta = msg.pointer("/params/_meta");
    let mv = meta
        .and_then(|m| m.get("io.modelcontextprotocol/protocolVersion"))
        .and_then(Value::as_str);
    let mismatch = || rpc_error(400, &id, -32020, "Header mismatch", None);
    match versions.as_slice() {
        [v] if !known.contains(&v.as_str()) => return done(unsupported(v)),
        [_] => {}
        _ => return done(mismatch()),
    }
    if let Some(m) = mv
        && !known.contains(&m)
    {
        return done(unsupported(m));
    }
    let caps = meta.is_some_and(|m| {
        m.get("io.modelcontextprotocol/clientCapabilities")
            .is_some()
    });
    if (mv.is_none() || !caps) && f != Fault::Http2026MetaNotValidated {
        return done(rpc_error(400, &id, -32602, "Missing _meta", None));
    }
    if mv.is_some_and(|m| m != versions[0]) || (mirrors_checked && methods != [rpc_method.clone()])
    {
        return done(mismatch());
    }
    if rpc_method == "tools/call"
        && f != Fault::Http2026NameNotChecked
        && mirrors_checked
        && names != [name.clone()]
    {
        return done(mismatch());
    }
    let ok = |result: Value| {
        json_resp(
            200,
            &json!({"jsonrpc":"2.0","id":id,"result":result}).to_string(),
        )
    };
    let r = match rpc_method.as_str() {
        "server/discover" => {
            let mut result = json!({"supportedVersions": known, "capabilities": {"tools": {}}});
            if f != Fault::Http2026NoServerInfo {
                result["_meta"] =
                    json!({"io.modelcontextprotocol/serverInfo": {"name": "stub", "version": "0"}});
            }
            ok(result)
        }
        "tools/list" | "tools/call" => {
            let mut reply = mcp(f, &msg).unwrap_or(Value::Null);
            if rpc_method == "tools/list" && f != Fault::Http2026NoCacheHints {
                reply["result"]["ttlMs"] = json!(0);
                reply["result"]["cacheScope"] = json!("private");
            }
            if rpc_method == "tools/call" && f == Fault::Http2026ToolCallError {
                reply["result"] =
                    json!({"content":[{"type":"text","text":"upstream failed"}],"isError":true});
            }
            json_resp(200, &reply.to_string())
        }
        "ping" if f == Fault::Http2026PingServed => ok(json!({})),
        _ => rpc_error(404, &id, -32601, "Method not found", None),
    };
    done(r)
}
