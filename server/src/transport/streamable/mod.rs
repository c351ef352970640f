//! The Streamable HTTP transport on `/mcp` (HTTP-* in docs/contract.md):
//! rmcp's service behind our guard. [`Streamable`] (in `handler`) is its one
//! door; `manager` gives rmcp our session ids; `in_flight` is MSG-6; `era`
//! tells a session-based request from a stateless 2026-07-28 one
//! (HTTP-2026-*); `compat` recognises the shapes Claude's clients send
//! that the revisions do not allow (COMPAT-*); `plain` recognises the plain
//! 2026-07-28 request, whose `tools/list` `listed` answers from bytes
//! serialized once and whose `tools/call` `called` answers without a
//! per-request rmcp service; `forward` carries a session's requests to the
//! replica holding it (CLUSTER-7). This file only lists them.

mod called;
mod compat;
mod era;
mod forward;
mod handler;
mod in_flight;
mod listed;
mod listening;
mod manager;
mod plain;

pub use handler::Streamable;
