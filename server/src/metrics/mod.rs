//! Prometheus metrics (METRICS-1..4 in docs/contract.md): what the server
//! counts, and the listener that serves it.
//!
//! `registry` holds every metric family behind typed methods (nothing else
//! names a metric); `text` turns its OpenMetrics into the older Prometheus
//! text format for scrapers that don't ask for OpenMetrics; `endpoint`
//! serves `GET /metrics` on its own loopback listener, off unless
//! `CFPB_MCP_METRICS_BIND` is set. Requests, refusals and stream ends are
//! counted from the audit events as they are written, so the metrics and
//! the log can't disagree. No label carries a key, a key id
//! or a session id. The rooms are private: what the rest of the server
//! uses is re-exported here, at the door.

mod endpoint;
mod registry;
mod text;

pub use endpoint::MetricsEndpoint;
pub use registry::{Metrics, Open, Route, ToolOutcome, UpstreamOutcome};
