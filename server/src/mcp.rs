//! The MCP core: JSON-RPC framing of posted bodies, and the rmcp
//! `ServerHandler` that answers `initialize`, `ping`, `tools/list` and
//! `tools/call` (MSG-3, MSG-4), and `server/discover` (HTTP-2026-2).
//!
//! The protocol layer is the official SDK, `rmcp`: one [`CfpbMcp`] is served
//! per session over a pair of bounded channels (see `transport::legacy`), so
//! the same core can serve any transport. What rmcp can't see, because it never
//! becomes a typed message, is handled here by [`frame`]: a body that is JSON
//! but not a JSON-RPC message gets its JSON-RPC error (-32600 / -32602)
//! produced here, to be sent on the stream by the caller.

use std::borrow::Cow;
use std::sync::Arc;

use rmcp::model::{
    CacheScope, CallToolRequestParams, CallToolResponse, ClientJsonRpcMessage, ClientNotification,
    ClientRequest, ErrorData, Implementation, InitializeResult, JsonRpcRequest, ListToolsResult,
    PaginatedRequestParams, ProtocolVersion, RequestId, ServerCapabilities, ServerConfig,
    ServerJsonRpcMessage,
};
use rmcp::service::RequestContext;
use rmcp::{RoleServer, ServerHandler};
use serde_json::Value;

use crate::data::CallerTag;
use crate::data::DataSource;
use crate::metrics::{Metrics, ToolOutcome};
use crate::tools;

/// The protocol versions this server serves: the HTTP+SSE transport's
/// 2024-11-05, every newer revision with the `initialize` handshake, and the
/// stateless 2026-07-28 (HTTP-2026-*; `server/discover` lists them all, and
/// `initialize` never agrees to 2026-07-28, which has no handshake).
pub const PROTOCOL_VERSIONS: &[ProtocolVersion] = &[
    ProtocolVersion::V_2024_11_05,
    ProtocolVersion::V_2025_03_26,
    ProtocolVersion::V_2025_06_18,
    ProtocolVersion::V_2025_11_25,
    ProtocolVersion::V_2026_07_28,
];

const INSTRUCTIONS: &str = "Search the CFPB Consumer Complaint Database. Use search_complaints \
to find complaints by text, company, product, issue, state, dates and more (paged with size/frm), \
then get_complaint_document for one complaint's full record by complaint_id.";

/// How long a 2026-07-28 client may treat `tools/list` as fresh (`ttlMs`,
/// HTTP-2026-9): an hour. The list never changes while a process runs; a
/// new release may change it, and clients see that within the hour.
pub const TOOLS_LIST_TTL_MS: u64 = 3_600_000;

/// The `tools/list` result. HTTP-2026-9: the list is the same for every
/// caller and for the process's life, so a 2026-07-28 (`modern`) client may
/// keep it (the request not sent is the cheapest); older revisions keep the
/// older shape. The stateless transport answers the plain 2026-07-28 request
/// from this result serialized once.
pub fn tools_list_result(modern: bool) -> ListToolsResult {
    let mut result = ListToolsResult::with_all_items(tools::list());
    if modern {
        result.ttl_ms = Some(TOOLS_LIST_TTL_MS);
        result.cache_scope = Some(CacheScope::Public);
    }
    result
}

/// The MCP server: one per session, cheap to clone.
#[derive(Clone)]
pub struct CfpbMcp {
    source: DataSource,
    metrics: Arc<Metrics>,
    /// Whom this session's tool calls are for, when the transport knows it
    /// at the start (a legacy SSE session); else each request's HTTP parts
    /// may carry it (`/mcp`). Upstream slots are shared per caller (DATA-11).
    caller: Option<CallerTag>,
}

impl CfpbMcp {
    pub fn new(source: DataSource, metrics: Arc<Metrics>) -> Self {
        Self {
            source,
            metrics,
            caller: None,
        }
    }

    /// The MCP server of a session whose every request is `caller`'s.
    pub fn for_caller(source: DataSource, metrics: Arc<Metrics>, caller: CallerTag) -> Self {
        Self {
            caller: Some(caller),
            ..Self::new(source, metrics)
        }
    }

    /// Whom a tool call is for: the session's caller, else the tag the
    /// transport put in the request's HTTP parts (DATA-11).
    fn caller_of(&self, context: &RequestContext<RoleServer>) -> Option<CallerTag> {
        self.caller.or_else(|| {
            context
                .extensions
                .get::<http::request::Parts>()
                .and_then(CallerTag::of_parts)
        })
    }

    /// One `tools/call`, its upstream fetches counted against `caller`'s
    /// share (DATA-11) and its outcome counted (METRICS-2): what every
    /// transport's `tools/call` comes to, through rmcp or not.
    pub async fn call(
        &self,
        caller: Option<CallerTag>,
        request: CallToolRequestParams,
    ) -> Result<CallToolResponse, ErrorData> {
        let call = tools::call(&self.source, &request.name, request.arguments);
        let result = CallerTag::scope(caller, call).await;
        // Only the server's own names become a label (METRICS-3); an
        // unknown tool is a JSON-RPC error, not a tool call.
        if let (Ok(result), Some(tool)) = (&result, tools::known_name(&request.name)) {
            let outcome = if result.is_error == Some(true) {
                ToolOutcome::ToolError
            } else {
                ToolOutcome::Ok
            };
            self.metrics.tool_call(tool, outcome);
        }
        result.map(Into::into)
    }
}

impl ServerHandler for CfpbMcp {
    fn get_info(&self) -> ServerConfig {
        let mut info = InitializeResult::new(ServerCapabilities::builder().enable_tools().build());
        info.protocol_version = ProtocolVersion::V_2025_11_25;
        info.server_info = Implementation::new("cfpb-mcp", env!("CARGO_PKG_VERSION"));
        info.instructions = Some(INSTRUCTIONS.to_owned());
        info
    }

    fn supported_protocol_versions(&self) -> Cow<'static, [ProtocolVersion]> {
        Cow::Borrowed(PROTOCOL_VERSIONS)
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, ErrorData> {
        let modern = context
            .protocol_version()
            .is_some_and(|v| v.as_str() >= ProtocolVersion::V_2026_07_28.as_str());
        Ok(tools_list_result(modern))
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        self.call(self.caller_of(&context), request).await
    }
}

/// The request methods this server serves (MSG-4).
pub const SERVED_METHODS: &[&str] = &[
    "initialize",
    "ping",
    "tools/list",
    "tools/call",
    "server/discover",
];

/// What a posted body turned out to be.
#[derive(Debug)]
pub enum Framed {
    /// A JSON-RPC message for the session's MCP service.
    Message(Box<ClientJsonRpcMessage>),
    /// JSON, but not a valid JSON-RPC message: this error response goes on the
    /// stream, and the post is still accepted (MSG-3).
    Reply(Box<ServerJsonRpcMessage>),
    /// An invalid notification: JSON-RPC never answers notifications.
    Ignore,
}

/// The longest request id (a string) taken: every answer echoes its
/// request's id, so an id is bounded like everything else a client sends
/// (a longer one gets -32600 with a null id, MSG-3).
pub const MAX_ID_BYTES: usize = 256;

/// The body is not JSON at all: an HTTP 400 (MSG-3).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("Body is not valid JSON")]
pub struct NotJson;

/// Turn a posted body into a [`Framed`] message. Pure; never panics.
pub fn frame(body: &[u8]) -> Result<Framed, NotJson> {
    // The usual body, a well-formed request, is read straight into rmcp's
    // type (issue 25: reading it as a `Value` first was a third of the
    // parse). Anything else, a request this reading refuses included, takes
    // the path below, which tells the errors apart; a body read both ways is
    // framed the same (a property test holds them equal).
    if let Some(request) = read_request(body)
        && !matches!(&request.id, RequestId::String(id) if id.len() > MAX_ID_BYTES)
    {
        return Ok(framed_request(request));
    }
    frame_by_value(body)
}

/// What [`read_request`] looks at first: the method, and which of the keys
/// that tell a JSON-RPC message's kind are present (as rmcp tells them: a
/// request has `method` and `id`, and neither `result` nor `error`).
#[derive(serde::Deserialize)]
struct Head<'a> {
    #[serde(borrow)]
    method: Cow<'a, str>,
    #[serde(default)]
    id: Present,
    #[serde(default)]
    result: Present,
    #[serde(default)]
    error: Present,
}

/// Whether a key is present, whatever its value.
#[derive(Default)]
struct Present(bool);

impl<'de> serde::Deserialize<'de> for Present {
    fn deserialize<D: serde::Deserializer<'de>>(value: D) -> Result<Self, D::Error> {
        serde::de::IgnoredAny::deserialize(value).map(|_| Present(true))
    }
}

/// A request, read into rmcp's type. rmcp reads a message by trying each
/// kind of message, then each of its twenty-odd kinds of request, in turn,
/// over a buffered copy of the body; for the methods clients send all the
/// time, the method is read first and the body goes straight to that
/// method's type (issue 25: 4.0 -> 2.1 µs for a `tools/call`). Only that
/// type could have read it: every other kind of request names another
/// method. `None`: not a request this reading takes.
fn read_request(body: &[u8]) -> Option<JsonRpcRequest<ClientRequest>> {
    fn typed<'a, R: serde::Deserialize<'a>>(
        body: &'a [u8],
        kind: impl FnOnce(R) -> ClientRequest,
    ) -> Option<JsonRpcRequest<ClientRequest>> {
        let request: JsonRpcRequest<R> = serde_json::from_slice(body).ok()?;
        Some(JsonRpcRequest::new(request.id, kind(request.request)))
    }
    let head: Head = serde_json::from_slice(body).ok()?;
    if !head.id.0 || head.result.0 || head.error.0 {
        return None;
    }
    match head.method.as_ref() {
        "tools/call" => typed(body, ClientRequest::CallToolRequest),
        "tools/list" => typed(body, ClientRequest::ListToolsRequest),
        "ping" => typed(body, ClientRequest::PingRequest),
        _ => match serde_json::from_slice(body).ok()? {
            ClientJsonRpcMessage::Request(request) => Some(request),
            _ => None,
        },
    }
}

/// [`frame`] for every body: read as JSON first, so that what is wrong
/// with it can be told apart (not JSON, not an object, an id too long,
/// params that don't fit, an invalid notification).
fn frame_by_value(body: &[u8]) -> Result<Framed, NotJson> {
    let value: Value = serde_json::from_slice(body).map_err(|_| NotJson)?;
    let Value::Object(object) = &value else {
        let why = if value.is_array() {
            "Batch requests are not supported"
        } else {
            "A JSON-RPC message must be an object"
        };
        return Ok(reply(None, ErrorData::invalid_request(why, None)));
    };
    if let Some(Value::String(id)) = object.get("id")
        && id.len() > MAX_ID_BYTES
    {
        return Ok(reply(
            None,
            ErrorData::invalid_request("Request id too long", None),
        ));
    }
    let id = object.get("id").and_then(request_id);
    let has_id = object.contains_key("id");
    let has_method = object.get("method").is_some_and(Value::is_string);
    let is_v2 = object.get("jsonrpc").and_then(Value::as_str) == Some("2.0");

    // What the errors below need is read above, so the value is moved into
    // rmcp's type, not copied (issue 25: the copy was a fifth of the parse).
    match serde_json::from_value::<ClientJsonRpcMessage>(value) {
        Ok(ClientJsonRpcMessage::Request(request)) => Ok(framed_request(request)),
        Ok(message) => Ok(Framed::Message(Box::new(message))),
        Err(_) if has_method && is_v2 && has_id && id.is_some() => Ok(reply(
            id,
            ErrorData::invalid_params("Invalid params for this method", None),
        )),
        Err(_) if has_method && is_v2 && !has_id => Ok(Framed::Ignore),
        Err(_) => Ok(reply(
            id,
            ErrorData::invalid_request("Not a valid JSON-RPC 2.0 message", None),
        )),
    }
}

/// A request rmcp could read, for its service, unless it names a method
/// this server serves with params that don't fit: rmcp reads those as a
/// custom request, which would be answered "method not found".
fn framed_request(request: JsonRpcRequest<ClientRequest>) -> Framed {
    if matches!(&request.request, ClientRequest::CustomRequest(c)
        if SERVED_METHODS.contains(&c.method.as_str()))
    {
        return reply(
            Some(request.id),
            ErrorData::invalid_params("Invalid params for this method", None),
        );
    }
    Framed::Message(Box::new(ClientJsonRpcMessage::Request(request)))
}

fn reply(id: Option<RequestId>, error: ErrorData) -> Framed {
    Framed::Reply(Box::new(ServerJsonRpcMessage::error(error, id)))
}

fn request_id(value: &Value) -> Option<RequestId> {
    match value {
        Value::Number(n) => n.as_i64().map(RequestId::Number),
        Value::String(s) => Some(RequestId::String(s.as_str().into())),
        _ => None,
    }
}

/// The JSON-RPC method of a message, for the audit log.
pub fn rpc_method(message: &ClientJsonRpcMessage) -> Option<&str> {
    match message {
        ClientJsonRpcMessage::Request(r) => Some(r.request.method()),
        ClientJsonRpcMessage::Notification(n) => Some(match &n.notification {
            ClientNotification::CancelledNotification(_) => "notifications/cancelled",
            ClientNotification::ProgressNotification(_) => "notifications/progress",
            ClientNotification::InitializedNotification(_) => "notifications/initialized",
            ClientNotification::RootsListChangedNotification(_) => {
                "notifications/roots/list_changed"
            }
            ClientNotification::CustomNotification(c) => c.method.as_str(),
            _ => "notifications/other",
        }),
        _ => None,
    }
}

/// The tool name and arguments of a `tools/call`, for the audit log.
pub fn tool_call(message: &ClientJsonRpcMessage) -> Option<(&str, Option<String>)> {
    let ClientJsonRpcMessage::Request(request) = message else {
        return None;
    };
    let ClientRequest::CallToolRequest(call) = &request.request else {
        return None;
    };
    let arguments = call
        .params
        .arguments
        .as_ref()
        .and_then(|a| serde_json::to_string(a).ok());
    Some((call.params.name.as_ref(), arguments))
}

/// Is this the `initialize` request?
pub fn is_initialize(message: &ClientJsonRpcMessage) -> bool {
    matches!(message, ClientJsonRpcMessage::Request(r) if matches!(r.request, ClientRequest::InitializeRequest(_)))
}

/// The JSON-RPC error code of a reply, for tests and the audit log.
#[cfg(test)]
pub fn error_code(message: &ServerJsonRpcMessage) -> Option<rmcp::model::ErrorCode> {
    match message {
        ServerJsonRpcMessage::Error(e) => Some(e.error.code),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code_of(body: &str) -> Option<i32> {
        match frame(body.as_bytes()).unwrap() {
            Framed::Reply(r) => error_code(&r).map(|c| c.0),
            _ => None,
        }
    }

    #[test]
    fn msg_3_not_json_is_an_http_error() {
        assert_eq!(frame(b"{nope").unwrap_err(), NotJson);
        assert_eq!(frame(b"").unwrap_err(), NotJson);
        assert_eq!(frame(&[0xff, 0xfe]).unwrap_err(), NotJson);
    }

    #[test]
    fn msg_3_json_that_is_not_json_rpc_gets_a_jsonrpc_error() {
        assert_eq!(code_of("[]"), Some(-32600));
        assert_eq!(code_of("42"), Some(-32600));
        assert_eq!(code_of("{}"), Some(-32600));
        assert_eq!(
            code_of(r#"{"jsonrpc":"1.0","id":1,"method":"ping"}"#),
            Some(-32600)
        );
        assert_eq!(
            code_of(r#"{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"arguments":3}}"#),
            Some(-32602)
        );
    }

    #[test]
    fn msg_3_an_id_too_long_to_echo_is_refused_without_it() {
        let long = "i".repeat(MAX_ID_BYTES + 1);
        for body in [
            format!(r#"{{"jsonrpc":"2.0","id":"{long}","method":"ping"}}"#),
            format!(r#"{{"id":"{long}"}}"#),
        ] {
            let Ok(Framed::Reply(reply)) = frame(body.as_bytes()) else {
                panic!("refused");
            };
            let json = serde_json::to_string(&reply).unwrap();
            assert!(!json.contains(&long) && json.len() < 200, "{json}");
        }
        let fits = "i".repeat(MAX_ID_BYTES);
        let ok = format!(r#"{{"jsonrpc":"2.0","id":"{fits}","method":"ping"}}"#);
        assert!(matches!(frame(ok.as_bytes()), Ok(Framed::Message(_))));
    }

    #[test]
    fn msg_4_valid_messages_reach_the_service() {
        let ok = [
            r#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#,
            r#"{"jsonrpc":"2.0","id":"a","method":"tools/list"}"#,
            r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#,
            r#"{"jsonrpc":"2.0","id":2,"method":"no/such/method"}"#,
            r#"{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"search_complaints","arguments":{"size":1}}}"#,
        ];
        for body in ok {
            assert!(
                matches!(frame(body.as_bytes()), Ok(Framed::Message(_))),
                "{body}"
            );
        }
        let Ok(Framed::Message(m)) = frame(ok[4].as_bytes()) else {
            unreachable!()
        };
        assert_eq!(
            tool_call(&m),
            Some(("search_complaints", Some("{\"size\":1}".to_owned())))
        );
        assert_eq!(rpc_method(&m), Some("tools/call"));
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(2000))]

        /// Issue 25: the request read straight into rmcp's type is framed
        /// exactly as the full path frames it, for every kind of body:
        /// requests, notifications, responses, wrong versions, ids of every
        /// kind and length, repeated keys, params that fit and don't.
        #[test]
        fn msg_3_the_direct_reading_frames_as_the_full_path(
            jsonrpc in proptest::sample::select(vec!["", r#""jsonrpc":"2.0","#, r#""jsonrpc":"1.0","#, r#""jsonrpc":2,"#]),
            id in proptest::sample::select(vec![
                "".to_owned(), r#""id":1,"#.to_owned(), r#""id":-7,"#.to_owned(),
                r#""id":1.5,"#.to_owned(), r#""id":18446744073709551616,"#.to_owned(),
                r#""id":null,"#.to_owned(), r#""id":{"a":1},"#.to_owned(), r#""id":"a\"b","#.to_owned(),
                format!(r#""id":"{}","#, "i".repeat(MAX_ID_BYTES)),
                format!(r#""id":"{}","#, "i".repeat(MAX_ID_BYTES + 1)),
                r#""id":1,"id":"x","#.to_owned(),
            ]),
            method in proptest::sample::select(vec![
                "", r#""method":"ping","#, r#""method":"tools/list","#, r#""method":"tools/call","#,
                r#""method":"initialize","#, r#""method":"server/discover","#,
                r#""method":"notifications/initialized","#, r#""method":"notifications/cancelled","#,
                r#""method":"no/such/method","#, r#""method":7,"#,
            ]),
            params in proptest::sample::select(vec![
                "", r#""params":{},"#, r#""params":null,"#, r#""params":[],"#, r#""params":{"arguments":3},"#,
                r#""params":{"name":"search_complaints","arguments":{"state":"CA","size":2}},"#,
                r#""params":{"name":"search_complaints","arguments":{"a":1,"a":2}},"#,
                r#""params":{"cursor":"c"},"#, r#""params":{"requestId":1},"#,
                r#""params":{"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28"}},"#,
                r#""params":{"name":"search_complaints","_meta":{"progressToken":1},"arguments":{}},"#,
                r#""params":{"name":"x","name":"y"},"#,
                r#""params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"a","version":"1"}},"#,
            ]),
            tail in proptest::sample::select(vec![
                "", r#""result":{},"#, r#""error":{"code":-1,"message":"m"},"#, r#""extra":true,"#,
                r#""method":"ping","#, r#""result":null,"#,
            ]),
            reversed in proptest::bool::ANY,
        ) {
            let mut fields = [jsonrpc, id.as_str(), method, params, tail];
            if reversed {
                fields.reverse();
            }
            let fields = fields.concat();
            let body = format!("{{{}}}", fields.trim_end_matches(','));
            let direct = format!("{:?}", frame(body.as_bytes()));
            let full = format!("{:?}", frame_by_value(body.as_bytes()));
            proptest::prop_assert_eq!(direct, full, "{}", body);
        }
    }
}
