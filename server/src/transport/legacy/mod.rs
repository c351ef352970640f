//! The HTTP+SSE transport (MCP 2024-11-05): `GET /mcp/sse` and
//! `POST /mcp/messages?session_id=ID` (SSE-*, MSG-* in docs/contract.md).
//!
//! [`Legacy`] (in `handler`) is its one door; `session` holds one session's
//! state and the registry, `stream` writes a session's event stream, `post`
//! takes a posted message in. This file only lists them.

mod handler;
pub(crate) mod post;
mod session;
pub(crate) mod stream;

pub use handler::{Endpoint, Legacy};
