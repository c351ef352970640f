//! mcp-conformance: checks a guarded MCP endpoint (HTTP+SSE and Streamable HTTP) against
//! its contract (`docs/contract.md`), clause by clause, from the outside.
//!
//! Layout (arrows are imports, one way only; no module import cycle):
//! - `cli`, `embedded`, `report` sit on top.
//! - `checks` -> `engine`, `client`: the families, one file per family (HTTP-* one per
//!   clause); a check is data: ID, profile, what it sends and expects, an async run fn;
//!   a family is data too: a row of `checks::families` (title, transport, needs).
//! - `engine` -> `client`: `Check`, `Outcome`, `Profile`, expectations, the runner,
//!   `Report`; never names a family.
//! - `client` -> `wire`: `Ctx`, pacer, limit discovery, the legacy and Streamable HTTP
//!   clients, log source, raw sender, probes, `ClientError`; never imports `checks` or
//!   `Outcome`.
//! - `wire`: pure parsers (SSE, `Resp` and `parse_response`, leak scan, near misses).
//! - `target` and `key` are shared leaves; `fuzzing` (feature `fuzzing`) serves `fuzz/`.
//!
//! The harness never depends on the server's code for checking, and no key ever reaches
//! an output: keys are `ApiKey` (redacting Debug) and all report text is redacted.

pub mod checks;
pub mod cli;
pub mod client;
pub mod embedded;
pub mod engine;
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzzing;
pub mod key;
pub mod report;
pub mod target;
pub mod wire;

pub use client::Ctx;
pub use engine::{Check, Outcome, Profile, Report, Selection, Verdict};
pub use key::{ApiKey, ExtraHeader, HeaderStyle};
pub use target::{Expected, LogSource, Settings, SharedBuf, Target, Transport};
pub use wire::leak::{Encoding, Leak, find_key_leaks};
pub use wire::nearmiss::{NearMiss, NearMissKind, near_misses};
pub use wire::sse::{SseEvent, SseItem, SseParser};
