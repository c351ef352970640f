//! The plain 2026-07-28 request (HTTP-2026-*; docs/performance.md, issue 25):
//! the shape that `listed` and `called` answer without a per-request rmcp
//! service, and the JSON answer they give.
//!
//! A plain request is one that rmcp would take and answer on its stateless
//! path with nothing but the method's result: every header rmcp checks is
//! there once with the value it wants, the body's `_meta` names 2026-07-28
//! and carries every key that version requires. The test is conservative:
//! anything it cannot read as plainly right (a quality value in `Accept`, a
//! Base64-encoded `Mcp-Name`, a repeated header) is not plain and goes on to
//! rmcp, which answers or refuses it as before. Pure: headers and a framed
//! message in, a request or a response out.

use bytes::Bytes;
use http::header::{ACCEPT, CONTENT_TYPE};
use http::{HeaderMap, HeaderValue, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use rmcp::model::{
    ClientJsonRpcMessage, ClientRequest, GetMeta, JsonRpcRequest, ProtocolVersion, RequestId,
};

use crate::http::response::Body;
use crate::transport::streamable::era::VERSION_HEADER;

/// The header a 2026-07-28 request names its method in (SEP-2243).
pub const METHOD_HEADER: &str = "mcp-method";

/// The header a 2026-07-28 `tools/call` names its tool in (SEP-2243).
pub const NAME_HEADER: &str = "mcp-name";

/// `message` when it is a 2026-07-28 request for `method` in the plain shape:
/// `Accept` names JSON and event streams, `Content-Type` is JSON, the
/// `MCP-Protocol-Version` and `Mcp-Method` headers are one line each naming
/// 2026-07-28 and `method`, and the body's `_meta` names the same version
/// and carries every key it requires. Every condition is one rmcp checks
/// before it would call the method's handler.
pub fn request<'m>(
    headers: &HeaderMap,
    message: &'m ClientJsonRpcMessage,
    method: &str,
) -> Option<&'m JsonRpcRequest<ClientRequest>> {
    let ClientJsonRpcMessage::Request(request) = message else {
        return None;
    };
    let modern = ProtocolVersion::V_2026_07_28;
    if single(headers, VERSION_HEADER)? != modern.as_str()
        || single(headers, METHOD_HEADER)? != method
        || !accepts_json_and_events(headers)
        || !is_json(single(headers, CONTENT_TYPE.as_str())?)
    {
        return None;
    }
    let meta = request.request.get_meta();
    if meta.protocol_version()? != modern || !meta.missing_required_keys(&modern).is_empty() {
        return None;
    }
    Some(request)
}

/// The value of header `name` when it is sent on exactly one line, as text.
pub fn single<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    let mut lines = headers.get_all(name).iter();
    let value = lines.next()?;
    if lines.next().is_some() {
        return None;
    }
    value.to_str().ok()
}

/// One `Accept` line listing `application/json` and `text/event-stream`
/// with no parameters anywhere (a quality value, a quoted string: rmcp
/// reads those, not us).
fn accepts_json_and_events(headers: &HeaderMap) -> bool {
    let Some(accept) = single(headers, ACCEPT.as_str()) else {
        return false;
    };
    if accept.contains([';', '"']) {
        return false;
    }
    let mut json = false;
    let mut events = false;
    for essence in accept.split(',').map(str::trim) {
        json |= essence.eq_ignore_ascii_case("application/json");
        events |= essence.eq_ignore_ascii_case("text/event-stream");
    }
    json && events
}

/// `Content-Type` whose media type is JSON (parameters such as a charset
/// allowed, as rmcp allows them).
fn is_json(content_type: &str) -> bool {
    let essence = content_type
        .split_once(';')
        .map_or(content_type, |(essence, _)| essence);
    essence.trim().eq_ignore_ascii_case("application/json")
}

/// A JSON answer: `body` with `status`, as rmcp sends a terminal message.
pub fn json(status: StatusCode, body: Vec<u8>) -> Response<Body> {
    let mut response = Response::new(Full::new(Bytes::from(body)).boxed_unsync());
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

/// `{"jsonrpc":"2.0","id":<id>,"result":<result>}` for a result already
/// written as JSON: byte for byte what serde writes for rmcp's response.
pub fn response_bytes(id: &RequestId, result: &str) -> Option<Vec<u8>> {
    let id = serde_json::to_string(id).ok()?;
    let mut json = Vec::with_capacity(result.len() + id.len() + 32);
    json.extend_from_slice(b"{\"jsonrpc\":\"2.0\",\"id\":");
    json.extend_from_slice(id.as_bytes());
    json.extend_from_slice(b",\"result\":");
    json.extend_from_slice(result.as_bytes());
    json.push(b'}');
    Some(json)
}

#[cfg(test)]
pub mod tests {
    use super::*;
    use crate::data::DataSource;
    use crate::mcp::CfpbMcp;
    use crate::metrics::Metrics;
    use crate::transport::streamable::manager::CfpbSessions;
    use rmcp::transport::streamable_http_server::{
        StreamableHttpServerConfig, StreamableHttpService,
    };
    use serde_json::{Value, json};
    use std::sync::Arc;

    pub const V: &str = "2026-07-28";

    /// A `_meta` with every key 2026-07-28 requires.
    pub fn meta() -> Value {
        json!({
            "io.modelcontextprotocol/protocolVersion": V,
            "io.modelcontextprotocol/clientInfo": {"name": "t", "version": "0"},
            "io.modelcontextprotocol/clientCapabilities": {}
        })
    }

    /// The headers of a plain request for `method` (as the official SDKs
    /// send them).
    pub fn headers(version: &str, method: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(VERSION_HEADER, version.parse().unwrap());
        h.insert(METHOD_HEADER, method.parse().unwrap());
        h.insert(
            ACCEPT,
            "application/json, text/event-stream".parse().unwrap(),
        );
        h.insert(CONTENT_TYPE, "application/json".parse().unwrap());
        h
    }

    pub fn framed(body: &str) -> ClientJsonRpcMessage {
        serde_json::from_str(body).unwrap()
    }

    pub async fn bytes_of(response: Response<Body>) -> Bytes {
        response.into_body().collect().await.unwrap().to_bytes()
    }

    /// What rmcp itself answers to `body` with `headers`: the service as
    /// `Streamable` configures it, over the bundled dataset.
    pub async fn rmcp_answer(headers: &HeaderMap, body: &str) -> (StatusCode, Bytes) {
        let source = DataSource::fixtures().unwrap();
        let metrics = Arc::new(Metrics::new());
        let config = StreamableHttpServerConfig::default()
            .disable_allowed_hosts()
            .with_legacy_session_mode(true)
            .with_json_response(true);
        let service = StreamableHttpService::new(
            move || Ok(CfpbMcp::new(source.clone(), metrics.clone())),
            Arc::new(CfpbSessions::new()),
            config,
        );
        let mut request = http::Request::post("/mcp")
            .header("host", "127.0.0.1")
            .body(Full::new(Bytes::from(body.to_owned())))
            .unwrap();
        request.headers_mut().extend(headers.clone());
        let response = service.handle(request).await;
        let status = response.status();
        (
            status,
            response.into_body().collect().await.unwrap().to_bytes(),
        )
    }

    fn ping() -> ClientJsonRpcMessage {
        framed(
            &json!({"jsonrpc": "2.0", "id": 1, "method": "ping", "params": {"_meta": meta()}})
                .to_string(),
        )
    }

    #[test]
    fn http_2026_4_the_plain_shape_needs_every_header_rmcp_checks() {
        let message = ping();
        assert!(request(&headers(V, "ping"), &message, "ping").is_some());
        let with = |name: http::header::HeaderName, value: &str| {
            let mut h = headers(V, "ping");
            h.insert(name, value.parse().unwrap());
            h
        };
        let without = |name: &str| {
            let mut h = headers(V, "ping");
            h.remove(name);
            h
        };
        let twice = |name: http::header::HeaderName| {
            let mut h = headers(V, "ping");
            let value = h[&name].clone();
            h.append(name, value);
            h
        };
        let refused = [
            ("no Accept", without("accept")),
            ("Accept without events", with(ACCEPT, "application/json")),
            ("Accept without JSON", with(ACCEPT, "text/event-stream")),
            (
                "Accept with a quality value",
                with(ACCEPT, "application/json;q=0, text/event-stream"),
            ),
            ("Accept twice", twice(ACCEPT)),
            ("no Content-Type", without("content-type")),
            ("Content-Type text", with(CONTENT_TYPE, "text/plain")),
            ("Content-Type twice", twice(CONTENT_TYPE)),
            ("no version header", without(VERSION_HEADER)),
            ("an older version header", headers("2025-11-25", "ping")),
            ("no Mcp-Method", without(METHOD_HEADER)),
            ("another Mcp-Method", headers(V, "tools/list")),
        ];
        for (what, h) in refused {
            assert!(request(&h, &message, "ping").is_none(), "{what}");
        }
        let accepted = [
            (
                "Content-Type with a charset",
                with(CONTENT_TYPE, "application/json; charset=utf-8"),
            ),
            (
                "Accept in another order and case",
                with(ACCEPT, "Text/Event-Stream,application/JSON"),
            ),
        ];
        for (what, h) in accepted {
            assert!(request(&h, &message, "ping").is_some(), "{what}");
        }
    }

    #[test]
    fn http_2026_3_the_plain_shape_needs_a_complete_modern_meta() {
        let h = headers(V, "ping");
        let mut no_caps = meta();
        no_caps
            .as_object_mut()
            .unwrap()
            .remove("io.modelcontextprotocol/clientCapabilities");
        let mut other_version = meta();
        other_version["io.modelcontextprotocol/protocolVersion"] = json!("2025-11-25");
        for (what, params) in [
            ("no _meta", json!({})),
            ("no params", Value::Null),
            ("_meta without capabilities", json!({"_meta": no_caps})),
            (
                "_meta naming another version",
                json!({"_meta": other_version}),
            ),
        ] {
            let mut body = json!({"jsonrpc": "2.0", "id": 1, "method": "ping"});
            if !params.is_null() {
                body["params"] = params;
            }
            let message = framed(&body.to_string());
            assert!(request(&h, &message, "ping").is_none(), "{what}");
        }
        let notification =
            framed(&json!({"jsonrpc": "2.0", "method": "notifications/initialized"}).to_string());
        assert!(
            request(&h, &notification, "ping").is_none(),
            "a notification"
        );
    }
}
