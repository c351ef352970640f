//! `/mcp`, Streamable HTTP: the session-based revisions (initialize, sessions, the
//! version header, the tolerances of COMPAT-*), and which era a request speaks.

use super::*;

pub(super) const SUPPORTED_VERSIONS: &[&str] =
    &["2024-11-05", "2025-03-26", "2025-06-18", "2025-11-25"];

pub(super) fn bad_request(message: &str) -> Response<Body> {
    json_resp(
        400,
        &json!({"error":{"type":"bad_request","message":message}}).to_string(),
    )
}

pub(super) type Handled = (Response<Body>, Option<String>, Option<(String, Value)>);

/// A minimal Streamable HTTP transport on `/mcp` (contract HTTP-1..7, HTTP-2026-*,
/// COMPAT-1..6), with the faults that break one clause each. Runs after the guard and the
/// limiter. A tolerated request's quirks go to the audit line (COMPAT-6).
pub(super) async fn streamable(
    state: &Arc<State>,
    key: usize,
    req: Request<Incoming>,
    method: &str,
) -> Handled {
    let mut quirks = Vec::new();
    let (mut r, session, tool) = streamable_inner(state, key, req, method, &mut quirks).await;
    if !quirks.is_empty() {
        r.extensions_mut().insert(Quirks(quirks));
    }
    (r, session, tool)
}

/// The quirks a tolerated request needed (COMPAT-6), for the audit line.
#[derive(Clone, Debug)]
pub(super) struct Quirks(pub(super) Vec<&'static str>);

/// The `MCP-Protocol-Version` header as one version (COMPAT-2): every value of every line,
/// comma-split; `Err` when they differ (or, strict, when there are several).
pub(super) fn version_header(f: Fault, h: &hyper::HeaderMap) -> Result<Option<(String, bool)>, ()> {
    let mut values = Vec::new();
    for v in h.get_all("mcp-protocol-version") {
        let v = v.to_str().map_err(drop)?;
        values.extend(v.split(',').map(|p| p.trim().to_string()));
    }
    let Some(first) = values.first().cloned() else {
        return Ok(None);
    };
    let repeated = values.len() > 1;
    let refused = matches!(f, Fault::StrictProtocol | Fault::CompatRepeatRefused);
    if values.iter().any(|v| *v != first) || (repeated && refused) {
        return Err(());
    }
    Ok(Some((first, repeated)))
}

/// A version of the stateless era: a date, 2026-07-28 or later.
pub(super) fn stateless_version(v: &str) -> bool {
    v.len() == 10
        && v.bytes().enumerate().all(|(i, b)| {
            if i == 4 || i == 7 {
                b == b'-'
            } else {
                b.is_ascii_digit()
            }
        })
        && v >= STATELESS_VERSION
}

/// How `/mcp` serves a request (HTTP-2026-1 with COMPAT-1/3, or strict as before).
pub(super) struct Era {
    pub(super) stateless: bool,
    /// The versions the stateless path compares with `_meta` (the effective one, or, strict,
    /// every header line as sent).
    pub(super) versions: Vec<String>,
    /// Served statelessly by COMPAT-1 (the body won).
    pub(super) body_won: bool,
}

pub(super) fn era(
    f: Fault,
    h: &hyper::HeaderMap,
    body: &[u8],
    version: &Option<(String, bool)>,
    quirks: &mut Vec<&'static str>,
) -> Era {
    let msg = serde_json::from_slice::<Value>(body).ok();
    let meta = msg
        .as_ref()
        .and_then(|m| m.pointer("/params/_meta/io.modelcontextprotocol~1protocolVersion"))
        .and_then(Value::as_str);
    let init = msg.as_ref().and_then(|m| m.get("method")) == Some(&json!("initialize"));
    let header_modern = version.as_ref().is_some_and(|(v, _)| stateless_version(v));
    let effective: Vec<String> = version.iter().map(|(v, _)| v.clone()).collect();
    if f == Fault::NoStateless {
        return Era {
            stateless: false,
            versions: effective,
            body_won: false,
        };
    }
    let any_version = f == Fault::Http2026EraAnyVersion
        && h.contains_key("mcp-protocol-version")
        && !h.contains_key("mcp-session-id");
    if f == Fault::StrictProtocol
        || (f == Fault::CompatBodyIgnored && meta.is_some() && !header_modern)
    {
        // Before COMPAT: the header, or any `_meta` version, makes it stateless.
        let lines = h
            .get_all("mcp-protocol-version")
            .iter()
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
            .collect();
        return Era {
            stateless: header_modern || meta.is_some() || any_version,
            versions: lines,
            body_won: false,
        };
    }
    if version.as_ref().is_some_and(|(_, repeated)| *repeated) {
        quirks.push("version_header_repeated");
    }
    if init && header_modern && f != Fault::CompatInitializeRefused {
        quirks.push("initialize_modern_header");
        return Era {
            stateless: false,
            versions: effective,
            body_won: false,
        };
    }
    let stale_or_missing = match version {
        None => Some("version_header_missing"),
        Some((v, _)) if SUPPORTED_VERSIONS.contains(&v.as_str()) => Some("version_header_stale"),
        Some(_) => None,
    };
    if !h.contains_key("mcp-session-id")
        && !init
        && meta == Some(STATELESS_VERSION)
        && let Some(q) = stale_or_missing
    {
        quirks.push(q);
        return Era {
            stateless: true,
            versions: vec![STATELESS_VERSION.to_string()],
            body_won: true,
        };
    }
    Era {
        stateless: header_modern || any_version,
        versions: effective,
        body_won: false,
    }
}

pub(super) async fn streamable_inner(
    state: &Arc<State>,
    key: usize,
    req: Request<Incoming>,
    method: &str,
    quirks: &mut Vec<&'static str>,
) -> Handled {
    let f = state.fault;
    let (parts, body) = req.into_parts();
    let body = if method == "POST" {
        match http_body_util::Limited::new(body, 1 << 20).collect().await {
            Ok(b) => b.to_bytes(),
            Err(_) => {
                return (
                    json_resp(
                        413,
                        r#"{"error":{"type":"too_large","message":"Body over 1 MiB"}}"#,
                    ),
                    None,
                    None,
                );
            }
        }
    } else {
        Bytes::new()
    };
    let version = match version_header(f, &parts.headers) {
        Ok(v) => v,
        Err(()) => {
            return (
                bad_request("MCP-Protocol-Version is not one version"),
                None,
                None,
            );
        }
    };
    let era = era(f, &parts.headers, &body, &version, quirks);
    if era.stateless {
        return stateless(f, &parts.headers, method, &body, &era);
    }
    quirks.retain(|q| *q != "version_header_missing" && *q != "version_header_stale");
    let header = |name: &str| {
        parts
            .headers
            .get(name)
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
    };
    let session = match header("mcp-session-id") {
        None => None,
        Some(id) => {
            let owner = state.http_sessions.lock().unwrap().get(&id).copied();
            match owner {
                Some(k) if k == key || f == Fault::HttpSessionNotBoundToKey => Some(id),
                Some(_) => return (json_resp(404, NOT_FOUND_BODY), Some(id), None),
                None if f == Fault::CompatStale400 => {
                    return (bad_request("Unknown session"), Some(id), None);
                }
                None => {
                    let body = if f == Fault::HttpUnknownOtherBody {
                        r#"{"error":{"type":"not_found","message":"Session not found"}}"#
                    } else {
                        NOT_FOUND_BODY
                    };
                    return (json_resp(404, body), Some(id), None);
                }
            }
        }
    };
    if let Some((v, _)) = &version
        && !SUPPORTED_VERSIONS.contains(&v.as_str())
        && !quirks.contains(&"initialize_modern_header")
        && f != Fault::HttpVersionHeaderIgnored
    {
        return (
            bad_request("Unsupported MCP-Protocol-Version"),
            session,
            None,
        );
    }
    match method {
        "POST" => {}
        "GET" => {
            if session.is_none() {
                return (bad_request("Missing Mcp-Session-Id"), None, None);
            }
            return (http_stream(state), session, None);
        }
        "DELETE" => {
            let Some(id) = session else {
                return (bad_request("Missing Mcp-Session-Id"), None, None);
            };
            if f != Fault::HttpDeleteKeepsSession {
                state.http_sessions.lock().unwrap().remove(&id);
            }
            let r = Response::builder()
                .status(200)
                .body(full(""))
                .unwrap_or_default();
            return (r, Some(id), None);
        }
        _ => {
            let mut r = json_resp(
                405,
                r#"{"error":{"type":"method_not_allowed","message":"Use GET, POST or DELETE"}}"#,
            );
            let allow = if f == Fault::HttpNoAllow {
                "GET, POST"
            } else {
                "GET, POST, DELETE"
            };
            r.headers_mut().insert("allow", allow.parse().unwrap());
            return (r, session, None);
        }
    }
    // As on /mcp/messages: keys scrubbed from the body before it is parsed.
    let body = if f == Fault::ToolErrorEchoesKey {
        body.to_vec()
    } else {
        scrub(&body)
    };
    let Ok(msg) = serde_json::from_slice::<Value>(&body) else {
        return (bad_request("Body is not JSON"), session, None);
    };
    let rpc_method = msg
        .get("method")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let tool = (rpc_method == "tools/call").then(|| {
        (
            msg.pointer("/params/name")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string(),
            msg.pointer("/params/arguments")
                .cloned()
                .unwrap_or(Value::Null),
        )
    });
    if rpc_method == "initialize" && session.is_none() {
        let raw = hex::encode(rand::random::<[u8; 16]>());
        let id = if f == Fault::HttpSessionIdEncodesState {
            use base64::Engine;
            static N: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
            let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            base64::engine::general_purpose::URL_SAFE_NO_PAD
                .encode(format!("{{\"key\":{key},\"n\":{n},\"nonce\":\"{raw}\"}}"))
        } else if f == Fault::HttpSessionIdUuid {
            format!(
                "{}-{}-{}-{}-{}",
                &raw[..8],
                &raw[8..12],
                &raw[12..16],
                &raw[16..20],
                &raw[20..]
            )
        } else {
            raw
        };
        state.http_sessions.lock().unwrap().insert(id.clone(), key);
        let reply = mcp(f, &msg).unwrap_or(Value::Null);
        let mut r = json_resp(200, &reply.to_string());
        r.headers_mut()
            .insert("mcp-session-id", id.parse().unwrap());
        return (r, Some(id), tool);
    }
    let Some(session) = session else {
        let r = if f == Fault::HttpMissingSession404 {
            json_resp(404, NOT_FOUND_BODY)
        } else {
            bad_request("Missing Mcp-Session-Id")
        };
        return (r, None, tool);
    };
    if msg.get("id").is_none() {
        // a notification (or a response)
        let r = if f == Fault::HttpNotification200 {
            json_resp(200, "{}")
        } else {
            Response::builder()
                .status(202)
                .body(full(""))
                .unwrap_or_default()
        };
        return (r, Some(session), tool);
    }
    if rpc_method == "ping" && f == Fault::HttpPingAs202 {
        let r = Response::builder()
            .status(202)
            .body(full(""))
            .unwrap_or_default();
        return (r, Some(session), tool);
    }
    let mut reply = mcp(f, &msg).unwrap_or(Value::Null);
    if rpc_method == "tools/list" && f == Fault::HttpToolsListError {
        reply =
            json!({"jsonrpc":"2.0","id":msg["id"],"error":{"code":-32603,"message":"internal"}});
    }
    if rpc_method == "tools/call" && f == Fault::HttpToolCallError {
        reply["result"] =
            json!({"content":[{"type":"text","text":"upstream failed"}],"isError":true});
    }
    let r = if rpc_method == "tools/call" {
        // as an SSE body, the other form the transport allows
        Response::builder()
            .status(200)
            .header("content-type", "text/event-stream")
            .header("cache-control", "no-cache, no-transform")
            .body(full(format!(
                ": stub\n\nid: 1\nevent: message\ndata: {reply}\n\n"
            )))
            .unwrap_or_default()
    } else {
        json_resp(200, &reply.to_string())
    };
    (r, Some(session), tool)
}

/// The server-to-client stream of a session (`GET /mcp`): keep-alive comments only.
pub(super) fn http_stream(state: &Arc<State>) -> Response<Body> {
    let (tx, mut rx) = mpsc::channel::<Bytes>(4);
    let keepalive = state.keepalive;
    tokio::spawn(async move {
        while tx.send(Bytes::from_static(b": ping\n\n")).await.is_ok() {
            tokio::time::sleep(keepalive).await;
        }
    });
    let stream = futures::stream::poll_fn(move |cx| rx.poll_recv(cx))
        .map(|b| Ok::<_, Infallible>(Frame::data(b)));
    let mut b = Response::builder()
        .status(200)
        .header("content-type", "text/event-stream")
        .header("cache-control", "no-cache, no-transform");
    if state.fault != Fault::HttpStreamNoAccelBuffering {
        b = b.header("x-accel-buffering", "no");
    }
    b.body(BodyExt::boxed(StreamBody::new(stream)))
        .unwrap_or_default()
}
