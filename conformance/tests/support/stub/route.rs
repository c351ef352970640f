//! The front door: `handle` routes a request (health, well-known, Origin, the guard, the
//! per-key limiter) to its endpoint and writes the audit line of every `/mcp*` request.

use super::*;

pub(super) async fn handle(state: Arc<State>, req: Request<Incoming>) -> Response<Body> {
    if let Some(r) = cloudflare_access(&state, &req) {
        return r;
    }
    if let Some(r) = waf_challenge(&state, &req) {
        return r;
    }
    let started = Instant::now();
    let method = req.method().to_string();
    let path = req.uri().path().to_string();
    let query = req.uri().query().unwrap_or("").to_string();
    let auth_header = req
        .headers()
        .get("authorization")
        .map(|v| v.as_bytes().to_vec())
        .or_else(|| {
            req.headers()
                .get("x-api-key")
                .map(|v| v.as_bytes().to_vec())
        });
    let echo = req.headers().get("x-api-key").cloned();
    let guarded = path == "/mcp" || path.starts_with("/mcp/");
    let (mut resp, key_id, session, tool) = route(&state, req, &method, &path, &query).await;
    let rpc_method = resp.extensions().get::<RpcMethod>().cloned();
    let quirks = resp.extensions().get::<Quirks>().cloned();
    if state.fault == Fault::EchoKeyHeader
        && let Some(e) = echo
    {
        resp.headers_mut().insert("x-debug-key", e);
    }
    if guarded {
        let mut line = json!({
            "event": "mcp_request",
            "method": method,
            "path": path,
            "status": resp.status().as_u16(),
            "duration_ms": started.elapsed().as_millis() as u64,
            "key": key_id,
            "session": session.as_ref().map(|s| if state.fault == Fault::LogFullSession { s.clone() } else { s[..8.min(s.len())].to_string() }),
        });
        if let Some(RpcMethod(m)) = rpc_method {
            line["rpc_method"] = json!(m);
        }
        if let Some(Quirks(q)) = quirks
            && state.fault != Fault::CompatNoQuirkLogged
        {
            line["client_quirk"] = json!(q);
        }
        if state.fault == Fault::LogOmitsNullSession && session.is_none() {
            line.as_object_mut().unwrap().remove("session");
        }
        if state.fault == Fault::LogOtherSessionPrefix && session.is_some() {
            line["session"] = json!(hex::encode(rand::random::<[u8; 4]>()));
        }
        if state.fault == Fault::LogNoDuration {
            line.as_object_mut().unwrap().remove("duration_ms");
        }
        if state.fault == Fault::LogWrongKeyId && line["key"] != json!("none") {
            line["key"] = json!("deadbeef");
        }
        if let Some((t, a)) = tool
            && state.fault != Fault::LogNoToolCall
            && !(state.fault == Fault::HttpLogNoTool && path == "/mcp")
        {
            line["tool"] = json!(t);
            line["arguments"] = a;
        }
        if state.fault == Fault::LogAuthBase64
            && let Some(h) = auth_header
        {
            use base64::Engine;
            line["auth"] = json!(base64::engine::general_purpose::STANDARD.encode(h));
        }
        state.log_line(line);
    }
    resp
}

pub(super) type Routed = (
    Response<Body>,
    String,
    Option<String>,
    Option<(String, Value)>,
);

pub(super) async fn route(
    state: &Arc<State>,
    req: Request<Incoming>,
    method: &str,
    path: &str,
    query: &str,
) -> Routed {
    let f = state.fault;
    match (method, path) {
        ("GET", "/health") => {
            let body = if f == Fault::HealthExtra {
                r#"{"status":"ok","keys":2}"#
            } else {
                r#"{"status":"ok"}"#
            };
            return (json_resp(200, body), "none".into(), None, None);
        }
        (_, p) if p.starts_with("/.well-known/oauth") => {
            let r = if f == Fault::OauthServed {
                json_resp(200, r#"{"issuer":"x"}"#)
            } else {
                json_resp(
                    404,
                    r#"{"error":{"type":"not_found","message":"Not found"}}"#,
                )
            };
            return (r, "none".into(), None, None);
        }
        (_, p)
            if (p == "/mcp" && f == Fault::NoStreamable)
                || (p == "/mcp/sse" && f == Fault::NoLegacySse) =>
        {
            return (
                json_resp(
                    404,
                    r#"{"error":{"type":"not_found","message":"Not found"}}"#,
                ),
                "none".into(),
                None,
                None,
            );
        }
        (_, "/mcp/sse") | (_, "/mcp/messages") | (_, "/mcp") => {}
        _ => {
            return (
                json_resp(
                    404,
                    r#"{"error":{"type":"not_found","message":"Not found"}}"#,
                ),
                "none".into(),
                None,
                None,
            );
        }
    }
    if let Some(origin) = req.headers().get("origin") {
        let ok = origin.as_bytes() == ALLOWED_ORIGIN.as_bytes();
        let reject = match f {
            Fault::OriginIgnored => false,
            Fault::HttpOriginIgnored if path == "/mcp" => false,
            Fault::Http2026OriginIgnored if path == "/mcp" && stateless_header(req.headers()) => {
                false
            }
            Fault::AllOriginsRejected => true,
            _ => !ok,
        };
        if reject {
            return (json_resp(403, FORBIDDEN_BODY), "none".into(), None, None);
        }
    }
    let keyless =
        req.headers().get("authorization").is_none() && req.headers().get("x-api-key").is_none();
    if path == "/mcp" && keyless {
        match (f, method) {
            (Fault::HttpGetUnguarded, "GET") => {
                return (
                    bad_request("Missing Mcp-Session-Id"),
                    "none".into(),
                    None,
                    None,
                );
            }
            (Fault::HttpDeleteUnguarded, "DELETE") => {
                return (json_resp(404, NOT_FOUND_BODY), "none".into(), None, None);
            }
            _ => {}
        }
    }
    let presented = req
        .headers()
        .get("authorization")
        .or_else(|| req.headers().get("x-api-key"))
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
    let key = match guard(state, &req) {
        Ok(k) => k,
        Err((r, id)) if r.status() == 401 && f == Fault::UnauthorizedQuotesKey => {
            let (parts, _) = r.into_parts();
            let body =
                json!({"error": format!("Invalid token: {}", presented.unwrap_or_default())});
            return (
                Response::from_parts(parts, full(body.to_string())),
                id,
                None,
                None,
            );
        }
        Err((r, id))
            if r.status() == 401
                && path == "/mcp"
                && (f == Fault::HttpAuthPlainText
                    || (f == Fault::Http2026AuthPlainText && stateless_header(req.headers()))) =>
        {
            let r = Response::builder()
                .status(401)
                .header("content-type", "text/plain")
                .body(full("Unauthorized"))
                .unwrap_or_default();
            return (r, id, None, None);
        }
        Err((r, id)) => return (r, id, None, None),
    };
    let key_id = sha8([KEY1, KEY2][key].as_bytes());
    let free = f == Fault::SseFree && method == "GET" && path == "/mcp/sse";
    // the bucket this request draws from (HttpOwnBucket: /mcp has one of its own)
    let slot = if f == Fault::HttpOwnBucket && path == "/mcp" {
        key + 10
    } else if f == Fault::Http2026OwnBucket && path == "/mcp" && stateless_header(req.headers()) {
        key + 20
    } else {
        key
    };
    if !free {
        if f == Fault::RacyLimiter {
            // check, then act: concurrent requests all see the same full bucket
            let ok = state.peek(slot) >= 1.0;
            tokio::time::sleep(Duration::from_millis(50)).await;
            if !ok {
                return (rate_limited(state, slot), key_id, None, None);
            }
            state.force_take(slot);
        } else if !state.take_cell(slot) {
            return (rate_limited(state, slot), key_id, None, None);
        }
    }
    match (method, path) {
        ("GET", "/mcp/sse") => (sse(state, key), key_id, None, None),
        (_, "/mcp/sse") => {
            if f == Fault::PostSse200 {
                return (json_resp(200, "{}"), key_id, None, None);
            }
            let mut r = json_resp(
                405,
                r#"{"error":{"type":"method_not_allowed","message":"Use GET"}}"#,
            );
            r.headers_mut().insert("allow", "GET".parse().unwrap());
            (r, key_id, None, None)
        }
        ("POST", "/mcp/messages") => {
            let (r, session, tool) = messages(state, key, req, query).await;
            (r, key_id, session, tool)
        }
        (_, "/mcp") => {
            let (r, session, tool) = streamable(state, key, req, method).await;
            (r, key_id, session, tool)
        }
        _ => (
            json_resp(
                405,
                r#"{"error":{"type":"method_not_allowed","message":"Use POST"}}"#,
            ),
            key_id,
            None,
            None,
        ),
    }
}
