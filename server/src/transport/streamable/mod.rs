//! The Streamable HTTP transport on `/mcp` (HTTP-* in docs/contract.md):
//! rmcp's service behind our guard. [`Streamable`] (in `handler`) is its one
//! door; `manager` gives rmcp our session ids. This file only lists them.

mod handler;
mod manager;

pub use handler::Streamable;
