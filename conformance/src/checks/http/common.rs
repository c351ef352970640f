//! What the HTTP-* checks share: a handshaken `/mcp` session or a skip (every check
//! first asks `need_streamable`), a ping body, and how an answer to a JSON-RPC request
//! differs from docs/contract.md HTTP-1 (200, JSON or SSE, the response with its id).

use crate::checks::prereq::{need_streamable, setup};
use crate::client::streamable::{HttpSession, messages, response_with_id};
use crate::client::{ClientError, Ctx, Probe};
use crate::engine::Outcome;
use crate::wire::response::Resp;
use serde_json::Value;

/// A ping in a session (id 7).
pub const PING: &str = r#"{"jsonrpc":"2.0","id":7,"method":"ping"}"#;

/// A handshaken session of key `slot`, or a skip.
pub async fn session(ctx: &Ctx, slot: usize) -> Result<HttpSession, Outcome> {
    need_streamable(ctx).await?;
    ctx.open_http_mcp(slot)
        .await
        .map_err(setup("opening a /mcp session"))
}

pub fn no_response(expected: &str, probe: &Probe) -> impl FnOnce(ClientError) -> Outcome {
    let expected = expected.to_string();
    let repro = probe.curl();
    move |e| Outcome::fail(expected, format!("no response: {e}"), repro)
}

/// Problems with the answer to a JSON-RPC request (`id`): 200, JSON or SSE, the response.
pub fn response_problems(resp: &Resp, id: u64) -> Result<Value, String> {
    if resp.status != 200 {
        return Err(resp.summary());
    }
    messages(resp).map_err(|e| format!("{e}: {}", resp.summary()))?;
    let msg = response_with_id(resp, id).map_err(|e| format!("{e}: {}", resp.summary()))?;
    if msg.get("result").is_none() && msg.get("error").is_none() {
        return Err(format!("the response has neither result nor error: {msg}"));
    }
    Ok(msg)
}
