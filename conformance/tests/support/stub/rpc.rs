//! The JSON-RPC side both transports share: the answers to the known methods (`mcp`)
//! and the key scrubbing of logged tool arguments (`scrub`).

use super::*;

/// The body with every key replaced by `[REDACTED]`: raw, percent-encoded (non-alphanumerics
/// escaped, or every byte), base64 (standard, with or without padding) and hex (either case).
pub(super) fn scrub(body: &[u8]) -> Vec<u8> {
    use base64::Engine;
    let mut text = String::from_utf8_lossy(body).into_owned();
    for key in [KEY1, KEY2] {
        let b = key.as_bytes();
        let b64 = base64::engine::general_purpose::STANDARD.encode(b);
        let url_encoded: String = b
            .iter()
            .map(|c| {
                if c.is_ascii_alphanumeric() {
                    (*c as char).to_string()
                } else {
                    format!("%{c:02X}")
                }
            })
            .collect();
        let forms = [
            url_encoded,
            b.iter().map(|c| format!("%{c:02X}")).collect::<String>(),
            b.iter().map(|c| format!("%{c:02x}")).collect::<String>(),
            b64.clone(),
            b64.trim_end_matches('=').to_string(),
            hex::encode(b),
            hex::encode_upper(b),
            key.to_string(),
        ];
        for form in forms {
            text = text.replace(&form, "[REDACTED]");
        }
    }
    text.into_bytes()
}

pub(super) const KNOWN: &[&str] = &[
    "initialize",
    "notifications/initialized",
    "ping",
    "tools/list",
    "tools/call",
];

pub(super) fn mcp(f: Fault, msg: &Value) -> Option<Value> {
    let id = msg.get("id")?.clone();
    let method = msg.get("method").and_then(Value::as_str).unwrap_or("");
    let ok = |result: Value| Some(json!({"jsonrpc":"2.0","id":id,"result":result}));
    let err = |code: i64, m: &str| {
        Some(json!({"jsonrpc":"2.0","id":id,"error":{"code":code,"message":m}}))
    };
    match method {
        "initialize" => {
            let asked = msg
                .pointer("/params/protocolVersion")
                .and_then(Value::as_str)
                .unwrap_or("");
            if f == Fault::NewerVersionError && asked != "2024-11-05" {
                return err(-32602, "unsupported version");
            }
            let v = if f == Fault::WrongProtocolVersion {
                "2025-06-18"
            } else if f == Fault::HttpVersionFixed {
                "2025-03-26"
            } else if ["2024-11-05", "2025-03-26", "2025-06-18", "2025-11-25"].contains(&asked) {
                asked
            } else {
                "2024-11-05"
            };
            ok(
                json!({"protocolVersion":v,"capabilities":{"tools":{}},"serverInfo":{"name":"stub","version":"0"}}),
            )
        }
        "ping" if f == Fault::PingError => err(-32601, "no ping"),
        "ping" => ok(json!({})),
        "tools/list" => {
            let schema = json!({"type":"object","properties":{"search_term":{"type":"string"},"size":{"type":"integer"}}});
            let output = json!({"type":"object","required":["total"],"properties":{"total":{"type":"integer","minimum":0}}});
            let mut tools = vec![
                json!({"name":"search_complaints","description":"search","inputSchema":schema,"outputSchema":output}),
            ];
            if f != Fault::MissingTool {
                let description = if f == Fault::ToolNoDescription {
                    ""
                } else {
                    "get"
                };
                tools.push(json!({"name":"get_complaint_document","description":description,"inputSchema":{"type":"object","properties":{"complaint_id":{"type":"string"}}}}));
            }
            for name in [
                "list_complaint_trends",
                "get_state_aggregations",
                "suggest_filter_values",
                "generate_cfpb_dashboard_url",
                "get_overall_trend_signals",
                "rank_group_spikes",
                "rank_company_spikes",
            ] {
                tools.push(json!({"name":name,"description":"aggregate","inputSchema":{"type":"object","properties":{}},"outputSchema":{"type":"object"}}));
            }
            ok(json!({"tools":tools}))
        }
        "tools/call" => {
            let name = msg
                .pointer("/params/name")
                .and_then(Value::as_str)
                .unwrap_or("");
            if !["search_complaints", "get_complaint_document"].contains(&name) {
                return ok(
                    json!({"content":[{"type":"text","text":format!("Unknown tool: {name}")}],"isError":true}),
                );
            }
            let size = msg
                .pointer("/params/arguments/size")
                .and_then(Value::as_i64)
                .unwrap_or(10);
            if !(1..=100).contains(&size) {
                if f == Fault::ToolErrorAsRpcError {
                    return err(-32602, "invalid size");
                }
                return ok(
                    json!({"content":[{"type":"text","text":"size must be 1 to 100"}],"isError":true}),
                );
            }
            if f == Fault::ToolCallError {
                return ok(
                    json!({"content":[{"type":"text","text":"upstream failed"}],"isError":true}),
                );
            }
            let total = if f == Fault::StructuredMismatch {
                json!("none")
            } else {
                json!(0)
            };
            let structured = json!({"total": total});
            ok(
                json!({"content":[{"type":"text","text":structured.to_string()}],"structuredContent":structured,"isError":false}),
            )
        }
        _ => err(-32601, "Method not found"),
    }
}
