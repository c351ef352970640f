//! cfpb-mcp-server: a guarded MCP endpoint for the CFPB Consumer Complaint
//! Database, built to face the internet through a Cloudflare Tunnel.
//!
//! # Layout
//!
//! Dependencies point one way, down this list; nothing imports a module
//! above it (`.ci/module-cycles.py` checks that no two files, and no two
//! of these top-level modules, import each other in a circle).
//!
//! - [`server`]: `Server::bind(config)` -> [`RunningServer`]; the accept
//!   loop, signals, graceful shutdown. Knows no route. [`cli`]: the
//!   `cfpb-mcp` command line, which builds the [`config`].
//! - `router`: the `App` that owns the guard, the transports and the audit
//!   log; the hyper service; one audit line per request.
//! - `transport`: `legacy` (HTTP+SSE: `GET /mcp/sse`, `POST /mcp/messages`)
//!   and `streamable` (`/mcp`, rmcp's Streamable HTTP), each one struct with
//!   `handle`.
//! - [`guard`]: `Guard::check(headers, peer)`, body scrubbing, key reload;
//!   origin allowlist, credential extraction, the auth methods, limiters.
//!   The key never leaves it in clear.
//! - [`config`]: the typed configuration, validated.
//! - [`cluster`]: state shared between replicas through Redis (the shared
//!   limiter, legacy session owners and forwarding, reload broadcasts and
//!   the key-set record); every message signed and every name keyed with
//!   the cluster secret; only with `CFPB_MCP_REDIS_URL`.
//! - `sessions`: session ids and the key that owns each session (both
//!   transports); `streams`: the long-lived stream budgets (per caller and
//!   in all) both transports count against.
//! - [`audit`]: the audit schema (one `Event` enum) and its non-blocking writer.
//! - `mcp`: JSON-RPC framing and the rmcp `ServerHandler`.
//! - [`tools`], [`data`]: the MCP tools and the live CCDB5 / bundled fixtures
//!   data sources.
//! - `http`: the response body type, the contract's error bodies, the
//!   event-stream head, bounded body reading, the client's address behind
//!   trusted proxies.
//! - [`identity`]: API keys (parsing, digests, the key set, redaction) and
//!   the verifiers of OAuth access tokens and Cloudflare Access assertions:
//!   the one caller identity every method comes down to; a leaf.
//! - [`metrics`]: the Prometheus metrics (counted from the audit events, the
//!   tools and the data source) and their loopback listener; a leaf.
//!
//! The contract every module cites is `docs/contract.md`.

pub mod audit;
pub mod cli;
pub mod cluster;
pub mod config;
pub mod data;
pub mod guard;
mod http;
pub mod identity;
mod mcp;
mod memory;
pub mod metrics;
mod router;
pub mod server;
mod sessions;
mod streams;
pub mod tools;
mod transport;

/// Property checks and reference models for `fuzz/` and the corpus replay
/// test; only with the `fuzzing` feature.
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzzing;

/// What `bench/` measures beyond the public API; only with `bench-unguarded`.
#[cfg(feature = "bench-unguarded")]
#[doc(hidden)]
pub mod bench {
    pub use crate::guard::extract::extract_from_headers;
    pub use crate::guard::limit::{AuthFailLimiter, KeyLimiter};
    pub use crate::guard::origin::origin_allowed;
    pub use crate::http::response::unauthorized;
    pub use crate::transport::legacy::stream::message_event;
}

pub use audit::AuditTarget;
pub use config::Config;
pub use guard::ReloadError;
pub use server::{RunningServer, Server, StartError};
