//! `POST /mcp/messages`: the legacy transport's messages endpoint; answers go out on the
//! session's event stream.

use super::*;

pub(super) async fn messages(
    state: &Arc<State>,
    key: usize,
    req: Request<Incoming>,
    query: &str,
) -> (Response<Body>, Option<String>, Option<(String, Value)>) {
    let f = state.fault;
    let sid = query
        .split('&')
        .find_map(|p| p.strip_prefix("session_id="))
        .map(str::to_string);
    let Some(sid) = sid else {
        let r = if f == Fault::NoSession404 {
            json_resp(404, NOT_FOUND_BODY)
        } else {
            json_resp(
                400,
                r#"{"error":{"type":"bad_request","message":"Missing session_id"}}"#,
            )
        };
        return (r, None, None);
    };
    if sid.len() != 32 || !sid.bytes().all(|b| b.is_ascii_hexdigit()) {
        let r = if f == Fault::Malformed404 {
            json_resp(404, NOT_FOUND_BODY)
        } else {
            json_resp(
                400,
                r#"{"error":{"type":"bad_request","message":"Malformed session_id"}}"#,
            )
        };
        return (r, None, None);
    }
    let tx = {
        let s = state.sessions.lock().unwrap();
        match s.get(&sid) {
            Some(sess) if sess.key == key || f == Fault::SessionNotBoundToKey => {
                Some(sess.tx.clone())
            }
            _ => None,
        }
    };
    let Some(tx) = tx else {
        let body = if f == Fault::UnknownOtherMessage {
            r#"{"error":{"type":"not_found","message":"No such session"}}"#
        } else {
            NOT_FOUND_BODY
        };
        return (json_resp(404, body), Some(sid), None);
    };
    let ct = req
        .headers()
        .get("content-type")
        .map(|v| v.as_bytes().to_vec())
        .unwrap_or_default();
    if !ct.starts_with(b"application/json") && f != Fault::ContentTypeIgnored {
        return (
            json_resp(
                415,
                r#"{"error":{"type":"unsupported_media_type","message":"Use application/json"}}"#,
            ),
            Some(sid),
            None,
        );
    }
    let limit = if f == Fault::NoSizeLimit {
        8 << 20
    } else {
        1 << 20
    };
    let body = match http_body_util::Limited::new(req.into_body(), limit)
        .collect()
        .await
    {
        Ok(b) => b.to_bytes(),
        Err(_) => {
            return (
                json_resp(
                    413,
                    r#"{"error":{"type":"too_large","message":"Body over 1 MiB"}}"#,
                ),
                Some(sid),
                None,
            );
        }
    };
    // As built: the posted body is scrubbed of every key (in the encodings the harness
    // sends) before it is parsed, so no key reaches the log or a reply.
    let raw_msg = serde_json::from_slice::<Value>(&body).ok();
    let clean = serde_json::from_slice::<Value>(&scrub(&body)).ok();
    let log_msg = if f == Fault::LogArgsUnscrubbed {
        raw_msg.clone()
    } else {
        clean.clone()
    };
    let reply_msg = if f == Fault::ToolErrorEchoesKey {
        raw_msg
    } else {
        clean
    };
    let (Some(msg), Some(log_msg)) = (reply_msg, log_msg) else {
        let r = if f == Fault::BadJson500 {
            json_resp(500, r#"{"error":{"type":"internal","message":"oops"}}"#)
        } else {
            json_resp(
                400,
                r#"{"error":{"type":"bad_request","message":"Body is not JSON"}}"#,
            )
        };
        return (r, Some(sid), None);
    };
    let method = msg
        .get("method")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let tool = (method == "tools/call").then(|| {
        (
            log_msg
                .pointer("/params/name")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string(),
            log_msg
                .pointer("/params/arguments")
                .cloned()
                .unwrap_or(Value::Null),
        )
    });
    if f == Fault::UnknownMethod500 && !KNOWN.contains(&method.as_str()) {
        return (
            json_resp(500, r#"{"error":{"type":"internal","message":"oops"}}"#),
            Some(sid),
            tool,
        );
    }
    if let Some(reply) = mcp(f, &msg) {
        let data = if f == Fault::MultiLineData {
            serde_json::to_string_pretty(&reply)
                .unwrap()
                .replace('\n', "\ndata: ")
        } else {
            reply.to_string()
        };
        let _ = tx
            .send(Bytes::from(if f == Fault::WrongEventName {
                format!("event: response\ndata: {data}\n\n")
            } else {
                format!("event: message\ndata: {data}\n\n")
            }))
            .await;
    }
    let r = if f == Fault::Post200WithBody {
        Response::builder()
            .status(200)
            .body(full("Accepted"))
            .unwrap_or_default()
    } else {
        Response::builder()
            .status(202)
            .body(full(""))
            .unwrap_or_default()
    };
    (r, Some(sid), tool)
}
