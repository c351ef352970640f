//! JSON-RPC bodies the clients send: the `initialize` params (MCP handshake,
//! docs/contract.md MSG-4, HTTP-2) and a request message.

use serde_json::{Value, json};

/// An `initialize` request's params.
pub fn initialize_params(version: &str) -> Value {
    json!({
        "protocolVersion": version,
        "capabilities": {},
        "clientInfo": {"name": "mcp-conformance", "version": env!("CARGO_PKG_VERSION")}
    })
}

/// A JSON-RPC request message.
pub fn rpc(id: u64, method: &str, params: Value) -> String {
    json!({"jsonrpc":"2.0","id":id,"method":method,"params":params}).to_string()
}
