//! The `mcp` profile's prerequisite: with key 1, `initialize`, `notifications/initialized`
//! and `tools/list` over Streamable HTTP at the target's MCP path, the session deleted
//! again; tried once per run, so every check that needs it gets the same answer at once.
//! Never judges a clause: MCP-INIT-1 does, from the same round trip.

use super::ctx::Ctx;
use super::error::ClientError;
use serde_json::{Value, json};

impl Ctx {
    /// One round trip: the handshake, then `tools/list` answered with a `tools` array.
    /// Returns the number of tools listed.
    pub async fn mcp_round_trip_once(&self) -> Result<usize, ClientError> {
        let mut s = self.open_http_mcp(0).await?;
        let listed = s.request(self, "tools/list", json!({})).await;
        let _ = s.close(self).await;
        let (msg, _, _) = listed?;
        msg.pointer("/result/tools")
            .and_then(Value::as_array)
            .map(Vec::len)
            .ok_or_else(|| {
                ClientError::Unexpected("the tools/list response has no result.tools array".into())
            })
    }

    /// The prerequisite, memoized for the run.
    pub async fn mcp_round_trip(&self) -> Result<(), ClientError> {
        self.mcp_prereq
            .get_or_init(|| async { self.mcp_round_trip_once().await.map(drop) })
            .await
            .clone()
    }
}
