//! The plain 2026-07-28 `tools/list` answered from bytes serialized once
//! (HTTP-2026-9 in docs/contract.md; docs/performance.md, issue 25).
//!
//! The list is the same for every caller and for the process's life, so the
//! result's JSON is written at the first such request and every answer is
//! that result behind the request's own id: no second parse of the body, no
//! per-request rmcp service, no serializer. The answer is byte for byte the
//! one rmcp gives (a test below asks rmcp for it).
//!
//! Only the shape whose answer cannot be anything else is taken here, and
//! nothing is validated differently: a request that is not exactly that
//! shape (a cursor, a header that is missing, repeated or another value,
//! `_meta` without what 2026-07-28 requires) goes on to rmcp, which answers
//! or refuses it as before. Pure: headers and a framed message in, a
//! response out.

use std::sync::OnceLock;

use http::{HeaderMap, Response, StatusCode};
use rmcp::model::{ClientJsonRpcMessage, ClientRequest, RequestId};

use crate::http::response::Body;
use crate::mcp;
use crate::transport::streamable::plain;

/// The answer to `message` when it is the plain 2026-07-28 `tools/list`
/// (see [`plain_list_request`]); `None` sends it on to rmcp.
pub fn answer(headers: &HeaderMap, message: &ClientJsonRpcMessage) -> Option<Response<Body>> {
    let id = plain_list_request(headers, message)?;
    let json = plain::response_bytes(id, modern_result()?)?;
    Some(plain::json(StatusCode::OK, json))
}

/// The request's id when `message` is a plain 2026-07-28 `tools/list`
/// ([`plain::request`]) without a cursor.
fn plain_list_request<'m>(
    headers: &HeaderMap,
    message: &'m ClientJsonRpcMessage,
) -> Option<&'m RequestId> {
    let request = plain::request(headers, message, "tools/list")?;
    let ClientRequest::ListToolsRequest(list) = &request.request else {
        return None;
    };
    if list.params.as_ref().is_some_and(|p| p.cursor.is_some()) {
        return None;
    }
    Some(&request.id)
}

/// The 2026-07-28 `tools/list` result as JSON, serialized once per process.
fn modern_result() -> Option<&'static str> {
    static RESULT: OnceLock<Option<String>> = OnceLock::new();
    RESULT
        .get_or_init(|| serde_json::to_string(&mcp::tools_list_result(true)).ok())
        .as_deref()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transport::streamable::plain::tests::{
        V, bytes_of, framed, headers, meta, rmcp_answer,
    };
    use http::header::CONTENT_TYPE;
    use serde_json::{Value, json};

    fn body(id: Value, params: Value) -> String {
        json!({"jsonrpc": "2.0", "id": id, "method": "tools/list", "params": params}).to_string()
    }

    #[tokio::test]
    async fn http_2026_9_the_plain_list_is_rmcps_answer_byte_for_byte() {
        for id in [json!(7), json!("a \"quoted\" id"), json!(-1)] {
            let text = body(id.clone(), json!({"_meta": meta()}));
            let h = headers(V, "tools/list");
            let ours = answer(&h, &framed(&text)).expect("the plain shape is answered here");
            assert_eq!(ours.status(), StatusCode::OK);
            assert_eq!(ours.headers()[CONTENT_TYPE], "application/json");
            let ours = bytes_of(ours).await;
            let (status, theirs) = rmcp_answer(&h, &text).await;
            assert_eq!(
                status,
                StatusCode::OK,
                "{}",
                String::from_utf8_lossy(&theirs)
            );
            assert_eq!(
                ours,
                theirs,
                "id {id}: ours {} vs rmcp's {}",
                String::from_utf8_lossy(&ours),
                String::from_utf8_lossy(&theirs)
            );
            let parsed: Value = serde_json::from_slice(&ours).unwrap();
            assert_eq!(parsed["id"], id);
            assert_eq!(parsed["result"]["ttlMs"], mcp::TOOLS_LIST_TTL_MS);
        }
    }

    #[test]
    fn http_2026_9_the_result_is_serialized_once() {
        let first = modern_result().unwrap();
        let second = modern_result().unwrap();
        assert!(std::ptr::eq(first, second), "the same bytes, not a copy");
    }

    #[test]
    fn every_other_shape_goes_on_to_rmcp() {
        // What a plain request is (headers, `_meta`) is `plain`'s, and
        // tested there; here, what makes a plain request not the list's.
        let plain = body(json!(1), json!({"_meta": meta()}));
        assert!(answer(&headers(V, "tools/list"), &framed(&plain)).is_some());
        let cases: Vec<(&str, HeaderMap, String)> =
            vec![
            (
                "a cursor",
                headers(V, "tools/list"),
                body(json!(1), json!({"_meta": meta(), "cursor": "x"})),
            ),
            ("no _meta", headers(V, "tools/list"), body(json!(1), json!({}))),
            (
                "an older header",
                headers("2025-11-25", "tools/list"),
                plain.clone(),
            ),
            (
                "another Mcp-Method",
                headers(V, "tools/call"),
                plain.clone(),
            ),
            (
                "another method",
                headers(V, "tools/list"),
                json!({"jsonrpc": "2.0", "id": 1, "method": "ping", "params": {"_meta": meta()}})
                    .to_string(),
            ),
            (
                "a notification",
                headers(V, "tools/list"),
                json!({"jsonrpc": "2.0", "method": "notifications/initialized"}).to_string(),
            ),
        ];
        for (what, h, text) in cases {
            assert!(answer(&h, &framed(&text)).is_none(), "{what}");
        }
    }
}
