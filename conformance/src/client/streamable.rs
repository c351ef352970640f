//! The harness's Streamable HTTP client (`/mcp`, docs/contract.md HTTP-1..7): probes that carry
//! `Accept: application/json, text/event-stream`, `Mcp-Session-Id` and
//! `MCP-Protocol-Version`; responses read as JSON or as an SSE body through the harness's
//! own parser; sessions that are always deleted again (the target caps open `/mcp`
//! sessions per key); and the one-time detection of whether the target offers `/mcp`.
//! Uses only the harness's HTTP client, never the server's code. A session id is not a
//! secret, but reproductions print it as `$SESSION_ID` with how to get one.

use super::ctx::Ctx;
use super::error::ClientError;
use super::facts::Offer;
use super::pacer::Pace;
use super::probe::{HeaderSpec, Probe};
use super::rpc::{initialize_params, rpc};
use crate::wire::response::Resp;
use crate::wire::sse::{SseItem, SseParser};
use serde_json::{Value, json};

pub const SESSION_HEADER: &str = "Mcp-Session-Id";
pub const VERSION_HEADER: &str = "MCP-Protocol-Version";
pub const ACCEPT_BOTH: &str = "application/json, text/event-stream";
/// The protocol version the harness's sessions negotiate.
pub const SESSION_VERSION: &str = "2025-06-18";
/// The reason the HTTP checks skip when the default detection finds no `/mcp`.
pub const NOT_OFFERED: &str = "target does not offer Streamable HTTP on /mcp";

/// Whether `id` is 32 lower-case hex characters (128 bits).
pub fn valid_session_id(id: &str) -> bool {
    id.len() == 32 && id.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// The JSON-RPC messages of a response body: one JSON value (or a batch array), or the
/// `data` of every SSE event when the body is `text/event-stream`.
pub fn messages(resp: &Resp) -> Result<Vec<Value>, ClientError> {
    let ct = resp
        .header("content-type")
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    if ct.starts_with("text/event-stream") {
        let mut p = SseParser::new();
        let mut items = p.feed(&resp.body);
        items.extend(p.feed(b"\n\n")); // a last event without its blank line
        let out: Vec<Value> = items
            .into_iter()
            .filter_map(|i| match i {
                SseItem::Event(e) => serde_json::from_str::<Value>(&e.data).ok(),
                SseItem::Comment(_) => None,
            })
            .collect();
        return Ok(out);
    }
    if ct.starts_with("application/json") {
        return match serde_json::from_slice::<Value>(&resp.body) {
            Ok(Value::Array(v)) => Ok(v),
            Ok(v) => Ok(vec![v]),
            Err(_) => Err(ClientError::Unexpected(
                "the application/json body is not JSON".into(),
            )),
        };
    }
    Err(ClientError::Unexpected(format!(
        "content-type is `{}`, neither application/json nor text/event-stream",
        if ct.is_empty() { "-" } else { &ct }
    )))
}

/// The JSON-RPC response with `id` in a response body.
pub fn response_with_id(resp: &Resp, id: u64) -> Result<Value, ClientError> {
    let msgs = messages(resp)?;
    msgs.into_iter()
        .find(|m| m.get("id") == Some(&json!(id)) && m.get("jsonrpc").is_some())
        .ok_or_else(|| {
            ClientError::Unexpected(format!("no JSON-RPC response with id {id} in the body"))
        })
}

/// An `initialize` request (id 1) asking for `version`.
pub fn initialize_body(version: &str) -> String {
    rpc(1, "initialize", initialize_params(version))
}

impl Ctx {
    /// `POST /mcp` with key `slot` (none when `None`), the JSON body and the Accept header
    /// the transport requires.
    pub fn mcp_post(&self, slot: Option<usize>, body: &str) -> Probe {
        let mut p = Probe::new("POST", self.url(&self.target.mcp_path));
        if let Some(h) = slot.and_then(|s| self.auth(s)) {
            p = p.header(h);
        }
        p.header(HeaderSpec::plain("Accept", ACCEPT_BOTH))
            .json(body)
    }

    /// Detects (once) whether the target offers `/mcp`: a `POST /mcp` `initialize` with
    /// key 1; the session it opens is deleted again.
    pub async fn offer(&self) -> &Offer {
        self.offer
            .get_or_init(|| async {
                let probe = self.mcp_post(Some(0), &initialize_body(SESSION_VERSION));
                match self.send(&probe, Pace::Key(0)).await {
                    Err(e) => Offer::Unclear(format!("no response: {e}")),
                    Ok(r) if r.status == 404 || r.status == 405 => {
                        Offer::NotOffered(format!("POST /mcp initialize answered {}", r.status))
                    }
                    Ok(r) => match r.header(SESSION_HEADER) {
                        Some(id) if r.status == 200 => {
                            let _ = self.delete_http_session(0, &id).await;
                            Offer::Offered
                        }
                        _ => {
                            Offer::Unclear(format!("POST /mcp initialize answered {}", r.summary()))
                        }
                    },
                }
            })
            .await
    }

    /// `DELETE /mcp` of session `id` with key `slot`, paced.
    pub async fn delete_http_session(&self, slot: usize, id: &str) -> Result<Resp, ClientError> {
        self.send(&self.http_delete_probe(slot, id), Pace::Key(slot))
            .await
    }

    /// The `DELETE /mcp` probe of a live session.
    pub fn http_delete_probe(&self, slot: usize, id: &str) -> Probe {
        let mut p = Probe::new("DELETE", self.url(&self.target.mcp_path)).in_http_session();
        if let Some(h) = self.auth(slot) {
            p = p.header(h);
        }
        p.header(session_header(id))
    }

    /// Opens a Streamable HTTP session for key `slot`: `initialize` asking for `version`
    /// (no `notifications/initialized`). Returns the session and the initialize answer.
    pub async fn open_http(
        &self,
        slot: usize,
        version: &str,
    ) -> Result<(HttpSession, Resp), ClientError> {
        let probe = self.mcp_post(Some(slot), &initialize_body(version));
        let resp = self.send(&probe, Pace::Key(slot)).await?;
        if resp.status != 200 {
            return Err(ClientError::Unexpected(format!(
                "POST /mcp initialize answered {}",
                resp.summary()
            )));
        }
        let Some(id) = resp.header(SESSION_HEADER) else {
            return Err(ClientError::Unexpected(
                "the initialize response carries no Mcp-Session-Id".into(),
            ));
        };
        let cleanup = self.build(&self.http_delete_probe(slot, &id)).ok();
        let negotiated = response_with_id(&resp, 1)
            .ok()
            .and_then(|m| {
                m.pointer("/result/protocolVersion")
                    .and_then(Value::as_str)
                    .map(str::to_string)
            })
            .unwrap_or_else(|| version.to_string());
        Ok((
            HttpSession {
                id,
                slot,
                version: negotiated,
                next_id: 2,
                cleanup,
            },
            resp,
        ))
    }

    /// A session with the handshake done (`initialize` 2025-06-18, then
    /// `notifications/initialized`, which must be accepted with a 2xx).
    pub async fn open_http_mcp(&self, slot: usize) -> Result<HttpSession, ClientError> {
        let (s, _) = self.open_http(slot, SESSION_VERSION).await?;
        let r = s
            .notify(self, "notifications/initialized")
            .await
            .map_err(|e| e.during("notifications/initialized"))?;
        if !(200..300).contains(&r.status) {
            return Err(ClientError::Unexpected(format!(
                "notifications/initialized answered {}",
                r.summary()
            )));
        }
        Ok(s)
    }
}

/// The `Mcp-Session-Id` header of a live session (printed as `$SESSION_ID`).
pub fn session_header(id: &str) -> HeaderSpec {
    HeaderSpec::secret(SESSION_HEADER, id.as_bytes().to_vec(), "$SESSION_ID".into())
}

/// A live Streamable HTTP session. Delete it with `close`; if a check ends without, the
/// drop sends the `DELETE` in the background (the target caps open sessions per key).
pub struct HttpSession {
    pub id: String,
    pub slot: usize,
    /// The negotiated protocol version (sent as `MCP-Protocol-Version`).
    pub version: String,
    next_id: u64,
    cleanup: Option<reqwest::RequestBuilder>,
}

impl std::fmt::Debug for HttpSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "HttpSession({}, key {})", self.id, self.slot + 1)
    }
}

impl HttpSession {
    /// `POST /mcp` of `body` in this session, as key `slot`, with the session's headers.
    pub fn probe_as(&self, ctx: &Ctx, slot: usize, body: &str) -> Probe {
        ctx.mcp_post(Some(slot), body)
            .header(session_header(&self.id))
            .header(HeaderSpec::plain(VERSION_HEADER, &self.version))
            .in_http_session()
    }

    /// `POST /mcp` of `body` in this session with its own key.
    pub fn probe(&self, ctx: &Ctx, body: &str) -> Probe {
        self.probe_as(ctx, self.slot, body)
    }

    /// The next request id.
    pub fn next_id(&mut self) -> u64 {
        let id = self.next_id;
        self.next_id += 1;
        id
    }

    /// Sends a JSON-RPC request; expects `200` and the response with its id in the body
    /// (JSON or SSE). Returns the response message, the HTTP response and the probe.
    pub async fn request(
        &mut self,
        ctx: &Ctx,
        method: &str,
        params: Value,
    ) -> Result<(Value, Resp, Probe), ClientError> {
        let id = self.next_id();
        let probe = self.probe(ctx, &rpc(id, method, params));
        let resp = ctx.send(&probe, Pace::Key(self.slot)).await?;
        if resp.status != 200 {
            return Err(ClientError::Unexpected(format!(
                "`{method}` answered {} (expected 200)",
                resp.summary()
            )));
        }
        let msg = response_with_id(&resp, id).map_err(|e| e.during(format!("`{method}`")))?;
        Ok((msg, resp, probe))
    }

    /// Sends a JSON-RPC notification; returns the HTTP response.
    pub async fn notify(&self, ctx: &Ctx, method: &str) -> Result<Resp, ClientError> {
        let body = json!({"jsonrpc":"2.0","method":method}).to_string();
        ctx.send(&self.probe(ctx, &body), Pace::Key(self.slot))
            .await
    }

    /// Deletes the session (paced); returns the DELETE's response.
    pub async fn close(mut self, ctx: &Ctx) -> Result<Resp, ClientError> {
        self.cleanup = None;
        ctx.delete_http_session(self.slot, &self.id).await
    }
}

impl Drop for HttpSession {
    fn drop(&mut self) {
        if let Some(rb) = self.cleanup.take()
            && let Ok(rt) = tokio::runtime::Handle::try_current()
        {
            rt.spawn(async move {
                let _ = tokio::time::timeout(std::time::Duration::from_secs(5), rb.send()).await;
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resp(ct: &str, body: &str) -> Resp {
        Resp {
            status: 200,
            headers: vec![("content-type".into(), ct.as_bytes().to_vec())],
            body: body.as_bytes().to_vec(),
        }
    }

    #[test]
    fn reads_json_and_sse_bodies() {
        let j = resp(
            "application/json",
            r#"{"jsonrpc":"2.0","id":3,"result":{}}"#,
        );
        assert_eq!(response_with_id(&j, 3).unwrap()["result"], json!({}));
        let s = resp(
            "text/event-stream",
            "id: 0\nevent: message\ndata: {\"jsonrpc\":\"2.0\",\"method\":\"x\"}\n\n: ping\n\ndata: {\"jsonrpc\":\"2.0\",\"id\":3,\"result\":{\"a\":1}}",
        );
        assert_eq!(response_with_id(&s, 3).unwrap()["result"]["a"], 1);
        assert!(response_with_id(&resp("text/plain", "{}"), 3).is_err());
        assert!(valid_session_id("0123456789abcdef0123456789abcdef"));
        assert!(!valid_session_id("0123456789ABCDEF0123456789abcdef"));
    }
}
