//! The plain 2026-07-28 `tools/call` answered without a per-request rmcp
//! service (HTTP-2026-* in docs/contract.md; docs/performance.md, issue 25).
//!
//! Claude's 2026-07-28 clients send every tool call as one stateless POST,
//! and rmcp's stateless path starts a whole service for each (a task, a
//! one-shot transport, cancellation tokens, the body parsed a second time,
//! the server built twice to look up the tool's schema). A call in the plain
//! shape ([`plain::request`]) whose `Mcp-Name` header is the tool's name as
//! written goes to the same [`CfpbMcp::call`] that rmcp's handler calls, and
//! its answer is the same message serialized by the same serde types, with
//! the status rmcp gives it: byte for byte rmcp's (the tests below ask
//! rmcp). Every other shape (a Base64-encoded `Mcp-Name`, input responses
//! from an earlier incomplete result, a header rmcp would refuse) goes on to
//! rmcp. A client that goes away drops the call with the request's future,
//! as rmcp cancels its handler.

use http::{HeaderMap, Response, StatusCode};
use rmcp::model::{
    CallToolRequestParams, ClientJsonRpcMessage, ClientRequest, ErrorCode, RequestId,
    ServerJsonRpcMessage, ServerResult,
};

use crate::data::CallerTag;
use crate::http::response::{Body, ErrorKind, error_response};
use crate::mcp::CfpbMcp;
use crate::transport::streamable::plain::{self, NAME_HEADER};

/// The request's id and parameters when `message` is a plain 2026-07-28
/// `tools/call` (see the module's doc); `None` sends it on to rmcp.
pub fn plain_call<'m>(
    headers: &HeaderMap,
    message: &'m ClientJsonRpcMessage,
) -> Option<(&'m RequestId, &'m CallToolRequestParams)> {
    let request = plain::request(headers, message, "tools/call")?;
    let ClientRequest::CallToolRequest(call) = &request.request else {
        return None;
    };
    let params = &call.params;
    if plain::single(headers, NAME_HEADER)? != params.name
        || params.name.starts_with(BASE64_PREFIX)
        || params.input_responses.is_some()
        || params.request_state.is_some()
    {
        return None;
    }
    Some((&request.id, params))
}

/// How SEP-2243 marks a Base64-encoded header value; rmcp decodes it.
const BASE64_PREFIX: &str = "=?base64?";

/// Runs the plain call for `caller` and answers it as rmcp would.
pub async fn answer(
    mcp: &CfpbMcp,
    caller: CallerTag,
    id: &RequestId,
    params: CallToolRequestParams,
) -> Response<Body> {
    let (message, status) = match mcp.call(Some(caller), params).await {
        Ok(response) => (
            ServerJsonRpcMessage::response(ServerResult::from(response), id.clone()),
            StatusCode::OK,
        ),
        Err(error) => {
            let status = error_status(error.code);
            (ServerJsonRpcMessage::error(error, Some(id.clone())), status)
        }
    };
    match serde_json::to_vec(&message) {
        Ok(body) => plain::json(status, body),
        Err(_) => error_response(
            StatusCode::INTERNAL_SERVER_ERROR,
            ErrorKind::Internal,
            "the answer could not be written",
        ),
    }
}

/// The HTTP status rmcp gives a 2026-07-28 JSON-RPC error whose request's
/// `_meta` was complete (a plain request's always is).
fn error_status(code: ErrorCode) -> StatusCode {
    match code {
        ErrorCode::UNSUPPORTED_PROTOCOL_VERSION
        | ErrorCode::MISSING_REQUIRED_CLIENT_CAPABILITY
        | ErrorCode::HEADER_MISMATCH => StatusCode::BAD_REQUEST,
        ErrorCode::METHOD_NOT_FOUND => StatusCode::NOT_FOUND,
        _ => StatusCode::OK,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::DataSource;
    use crate::metrics::Metrics;
    use crate::tools;
    use crate::transport::streamable::plain::tests::{
        V, bytes_of, framed, headers, meta, rmcp_answer,
    };
    use http::header::CONTENT_TYPE;
    use serde_json::{Value, json};
    use std::sync::Arc;

    fn body(id: Value, name: &str, arguments: Value) -> String {
        json!({
            "jsonrpc": "2.0",
            "id": id,
            "method": "tools/call",
            "params": {"_meta": meta(), "name": name, "arguments": arguments}
        })
        .to_string()
    }

    fn call_headers(name: &str) -> HeaderMap {
        let mut h = headers(V, "tools/call");
        h.insert(NAME_HEADER, name.parse().unwrap());
        h
    }

    async fn ours(h: &HeaderMap, text: &str) -> (StatusCode, bytes::Bytes) {
        let message = framed(text);
        let (id, params) = plain_call(h, &message).expect("the plain shape is taken here");
        let mcp = CfpbMcp::new(DataSource::fixtures().unwrap(), Arc::new(Metrics::new()));
        let response = answer(&mcp, CallerTag::new([7; 32]), id, params.clone()).await;
        assert_eq!(response.headers()[CONTENT_TYPE], "application/json");
        (response.status(), bytes_of(response).await)
    }

    #[tokio::test]
    async fn http_2026_3_a_plain_call_is_rmcps_answer_byte_for_byte() {
        let cases = [
            (
                json!(7),
                "search_complaints",
                json!({"state": ["CA"], "size": 2}),
            ),
            (
                json!("a \"quoted\" id"),
                "search_complaints",
                json!({"search_term": "late fee", "size": 3, "sort": "created_date_desc"}),
            ),
            (json!(-1), "get_state_aggregations", json!({})),
            // A tool error (invalid arguments) is a result with isError.
            (json!(2), "search_complaints", json!({"size": "many"})),
            (
                json!(3),
                "get_complaint_document",
                json!({"complaint_id": 1}),
            ),
            // An unknown tool is a JSON-RPC error, which rmcp answers 200.
            (json!(4), "no_such_tool", json!({})),
        ];
        for (id, name, arguments) in cases {
            let text = body(id.clone(), name, arguments);
            let h = call_headers(name);
            let (status, ours) = ours(&h, &text).await;
            let (their_status, theirs) = rmcp_answer(&h, &text).await;
            assert_eq!(
                (status, &ours),
                (their_status, &theirs),
                "{name} id {id}: ours {} vs rmcp's {}",
                String::from_utf8_lossy(&ours),
                String::from_utf8_lossy(&theirs)
            );
            let parsed: Value = serde_json::from_slice(&ours).unwrap();
            assert_eq!(parsed["id"], id);
        }
    }

    #[test]
    fn every_tool_can_be_called_plainly() {
        // rmcp asks for an Mcp-Param-* header per `x-mcp-header` property;
        // the plain shape sends none, so no tool of ours may declare one.
        for tool in tools::list() {
            let schema = serde_json::to_string(&tool.input_schema).unwrap();
            assert!(!schema.contains("x-mcp-header"), "{}", tool.name);
        }
    }

    #[test]
    fn http_2026_4_every_other_call_goes_on_to_rmcp() {
        let name = "search_complaints";
        let plain = body(json!(1), name, json!({}));
        assert!(plain_call(&call_headers(name), &framed(&plain)).is_some());
        let mut with_state = serde_json::from_str::<Value>(&plain).unwrap();
        with_state["params"]["requestState"] = json!("opaque");
        let encoded = "=?base64?c2VhcmNoX2NvbXBsYWludHM=?=";
        let cases: Vec<(&str, HeaderMap, String)> = vec![
            ("no Mcp-Name", headers(V, "tools/call"), plain.clone()),
            ("another Mcp-Name", call_headers("get_complaint_document"), plain.clone()),
            ("a Base64 Mcp-Name", call_headers(encoded), plain.clone()),
            (
                "Mcp-Name twice",
                {
                    let mut h = call_headers(name);
                    h.append(NAME_HEADER, name.parse().unwrap());
                    h
                },
                plain.clone(),
            ),
            ("request state", call_headers(name), with_state.to_string()),
            ("another Mcp-Method", {
                let mut h = headers(V, "tools/list");
                h.insert(NAME_HEADER, name.parse().unwrap());
                h
            }, plain.clone()),
            (
                "tools/list",
                call_headers(name),
                json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {"_meta": meta()}})
                    .to_string(),
            ),
        ];
        for (what, h, text) in cases {
            assert!(plain_call(&h, &framed(&text)).is_none(), "{what}");
        }
    }
}
