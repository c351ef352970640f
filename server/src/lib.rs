//! cfpb-mcp-server: a guarded MCP endpoint for the CFPB Consumer Complaint
//! Database, built to face the internet through a Cloudflare Tunnel.
//!
//! # Layout
//!
//! - [`server`]: `Server::bind(config)` -> [`RunningServer`]; the accept loop,
//!   key reloads and graceful shutdown.
//! - [`http`]: routing, the guard on every guarded route, error bodies, the
//!   audit line of each request.
//! - [`guard`]: origin allowlist, key extraction and verification, limiters,
//!   key redaction. The key never leaves it in clear.
//! - [`session`], [`sse`], [`messages`]: the MCP HTTP+SSE transport.
//! - [`streamable`]: the MCP Streamable HTTP transport on `/mcp` (rmcp's).
//! - [`mcp`]: JSON-RPC framing and the rmcp `ServerHandler`.
//! - [`tools`], [`data`]: `search_complaints`, `get_complaint_document`, and
//!   the live CCDB5 / bundled fixtures data sources.
//! - [`audit`]: JSON lines on stderr via a non-blocking writer.
//! - [`config`], [`cli`]: the typed configuration and the `cfpb-mcp` command line.
//!
//! The contract every module cites is `docs/contract.md`.

pub mod audit;
pub mod cli;
pub mod config;
pub mod data;
pub mod fuzzing;
pub mod guard;
pub mod http;
pub mod mcp;
pub mod messages;
pub mod server;
pub mod session;
pub mod sse;
pub mod streamable;
pub mod tools;

pub use audit::AuditTarget;
pub use config::Config;
pub use server::{ReloadError, RunningServer, Server, StartError};
