//! The legacy HTTP+SSE client (protocol 2024-11-05): `GET /mcp/sse`, the `endpoint`
//! event, JSON-RPC posted to `/mcp/messages?session_id=...` with the response read off
//! the stream (docs/contract.md SSE-2, SSE-3, MSG-1, MSG-4). Uses only the harness's
//! HTTP client, never the server's code.

use super::ctx::Ctx;
use super::error::ClientError;
use super::pacer::Pace;
use super::probe::Probe;
use super::rpc::initialize_params;
use super::stream::SseConn;
use crate::wire::response::Resp;
use crate::wire::sse::SseEvent;
use serde_json::{Value, json};
use std::time::Instant;
use url::Url;

impl Ctx {
    /// The SSE probe for key `slot` in the configured header style.
    pub fn sse_probe(&self, slot: usize) -> Probe {
        let mut p = Probe::new("GET", self.url(&self.target.sse_path)).stream();
        if let Some(h) = self.auth(slot) {
            p = p.header(h);
        }
        p
    }

    /// Opens an MCP session for key `slot`: GET /mcp/sse, read the endpoint event, resolve
    /// its URL against the base. Errors describe what went wrong (for a skip or a fail).
    pub async fn open_session(&self, slot: usize) -> Result<Session, ClientError> {
        self.open_session_with(self.sse_probe(slot), slot).await
    }

    /// `open_session` with this `GET` probe (e.g. with another user agent) for key `slot`.
    pub async fn open_session_with(
        &self,
        probe: Probe,
        slot: usize,
    ) -> Result<Session, ClientError> {
        let mut conn = match self.open_stream(&probe, Pace::Key(slot), true).await? {
            Ok(c) => c,
            Err(resp) => {
                return Err(ClientError::Unexpected(format!(
                    "GET /mcp/sse answered {}",
                    resp.summary()
                )));
            }
        };
        let ev = conn
            .next_event(self.timeout())
            .await?
            .ok_or_else(|| ClientError::Ended("any event".into()))?;
        if ev.event != "endpoint" {
            return Err(ClientError::Unexpected(format!(
                "first event was `{}`, not `endpoint`",
                ev.event
            )));
        }
        let post_url = self
            .target
            .base
            .join(ev.data.trim())
            .map_err(|e| ClientError::Unexpected(format!("endpoint data is not a URL: {e}")))?;
        Ok(Session {
            conn,
            post_url,
            endpoint: ev.data,
            slot,
            next_id: 1,
            seen: Vec::new(),
        })
    }

    /// The prerequisite of every check that needs an SSE session: tried once per run (open
    /// a session with key 1, read its `endpoint` event, close it); every later caller gets
    /// the same answer at once.
    pub async fn session_opens(&self) -> Result<(), ClientError> {
        self.session_prereq
            .get_or_init(|| async { self.open_session(0).await.map(drop) })
            .await
            .clone()
    }

    /// The prerequisite of the checks that need a round trip in an SSE session: the
    /// handshake's answers arrive (as `message` events, in this session), tried once per
    /// run. A target that sends them under another event name, or into another session,
    /// fails it once instead of once per check.
    pub async fn answers_arrive(&self) -> Result<(), ClientError> {
        self.answers_prereq
            .get_or_init(|| async { self.open_mcp(0).await.map(drop) })
            .await
            .clone()
    }

    /// A session with the MCP handshake done (`initialize` 2024-11-05 + `initialized`).
    pub async fn open_mcp(&self, slot: usize) -> Result<Session, ClientError> {
        let mut s = self.open_session(slot).await?;
        let init = s
            .request(self, "initialize", initialize_params("2024-11-05"))
            .await?;
        if init.get("result").is_none() {
            return Err(ClientError::Unexpected(format!(
                "initialize got no result: {init}"
            )));
        }
        let resp = s
            .post(
                self,
                &json!({"jsonrpc":"2.0","method":"notifications/initialized"}).to_string(),
            )
            .await?;
        if resp.status != 202 {
            return Err(ClientError::Unexpected(format!(
                "notifications/initialized answered {}",
                resp.summary()
            )));
        }
        Ok(s)
    }
}

/// An MCP session over one SSE stream.
pub struct Session {
    pub conn: SseConn,
    /// The endpoint event's URL resolved against the base.
    pub post_url: Url,
    /// The endpoint event's data as sent.
    pub endpoint: String,
    pub slot: usize,
    next_id: u64,
    /// Every event seen while waiting for responses.
    pub seen: Vec<SseEvent>,
}

impl Session {
    /// The POST probe for a JSON body into this session, with this session's key.
    pub fn post_probe(&self, ctx: &Ctx, body: &str) -> Probe {
        let mut p = Probe::new("POST", self.post_url.clone()).in_session();
        if let Some(h) = ctx.auth(self.slot) {
            p = p.header(h);
        }
        p.json(body)
    }

    /// Posts a JSON body into the session (paced, retrying on 429).
    pub async fn post(&mut self, ctx: &Ctx, body: &str) -> Result<Resp, ClientError> {
        ctx.send(&self.post_probe(ctx, body), Pace::Key(self.slot))
            .await
    }

    /// Sends a JSON-RPC request, expects `202`, and waits for the response with its id on
    /// the stream. Returns the whole response message.
    pub async fn request(
        &mut self,
        ctx: &Ctx,
        method: &str,
        params: Value,
    ) -> Result<Value, ClientError> {
        let id = self.next_id;
        self.next_id += 1;
        let body = json!({"jsonrpc":"2.0","id":id,"method":method,"params":params}).to_string();
        let resp = self.post(ctx, &body).await?;
        if resp.status != 202 {
            return Err(ClientError::Unexpected(format!(
                "posting `{method}` answered {} (expected 202)",
                resp.summary()
            )));
        }
        self.wait_response(ctx, id).await
    }

    /// Waits for the response with `id` on the stream.
    pub async fn wait_response(&mut self, ctx: &Ctx, id: u64) -> Result<Value, ClientError> {
        let deadline = Instant::now() + ctx.timeout();
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let ev = self
                .conn
                .next_event(left)
                .await
                .map_err(|e| e.during(format!("waiting for the response to request {id}")))?
                .ok_or_else(|| ClientError::Ended(format!("the response to request {id}")))?;
            self.seen.push(ev.clone());
            if ev.event != "message" {
                continue;
            }
            let Ok(msg) = serde_json::from_str::<Value>(&ev.data) else {
                continue;
            };
            if msg.get("id") == Some(&json!(id)) {
                return Ok(msg);
            }
        }
    }

    /// The session id from the endpoint URL.
    pub fn session_id(&self) -> Option<String> {
        self.post_url
            .query_pairs()
            .find(|(k, _)| k == "session_id")
            .map(|(_, v)| v.into_owned())
    }
}
