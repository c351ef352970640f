//! The harness's client side: the run context (`Ctx`), the pacer, sending probes (via
//! `reqwest` or the raw sender), event streams, the legacy HTTP+SSE, the Streamable
//! HTTP and the stateless 2026-07-28 clients, Claude-shaped requests (COMPAT), DNS, RATE limit discovery, the log source and the run-wide response scan. Speaks HTTP to the target and
//! nothing else: never uses the server's code, never judges a clause (no `Outcome` here).

pub mod claude;
mod ctx;
mod dns;
mod era;
mod error;
mod facts;
mod keyed;
mod legacy;
mod limits;
mod log;
mod pacer;
mod probe;
mod random;
mod raw;
mod roundtrip;
mod rpc;
mod scan;
mod send;
pub mod stateless;
mod stream;
pub mod streamable;
pub mod tls;

pub use ctx::Ctx;
pub use era::{Era, call_line_differences};
pub use error::ClientError;
pub use facts::{Capture, Limits, Offer};
pub(crate) use keyed::{
    BODY_MARKER, key_bearing_calls, key_bearing_calls_of, pick_string_argument,
};
pub use legacy::Session;
pub(crate) use limits::{cheap_probe, drain};
pub(crate) use log::{Seen, log_repro, objects, parse_lines};
pub use pacer::Pace;
pub use probe::{BodySpec, HeaderSpec, Probe};
pub(crate) use random::{random_session_id, wrong_key};
pub(crate) use rpc::{initialize_params, rpc};
pub use scan::{ResponseScan, ScanFindings, SeenLeak};
pub(crate) use send::retry_after;
pub use stream::SseConn;
