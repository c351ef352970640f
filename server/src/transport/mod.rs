//! The MCP transports, each owning its own state and exposing one struct
//! with `handle`: [`legacy`] (HTTP+SSE: `GET /mcp/sse` + `POST /mcp/messages`,
//! SSE-*, MSG-*) and [`streamable`] (Streamable HTTP on `/mcp`, HTTP-*).
//! [`context`] holds what both are given by the router: settings and the
//! runtime handles. A transport never sees a key in clear: the router hands
//! it an already admitted caller. This file only lists them.

pub mod context;
pub mod legacy;
pub mod streamable;
