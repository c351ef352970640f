//! mcp-conformance: checks a guarded MCP endpoint (HTTP+SSE and Streamable HTTP) against
//! its contract (`docs/contract.md`), clause by clause, from the outside.
//!
//! Layout (arrows are imports, one way only):
//! `cli`, `embedded`, `report` on top -> `checks` (the families, one file per family or
//! clause; a check is data: ID, profile, what it sends and expects, an async run
//! function) -> `engine` (`Check`, `Outcome`, `Profile`, expectations, runner, `Report`;
//! never names a family) -> `client` (`Ctx`, pacer, limit discovery, legacy and
//! Streamable HTTP clients, log source, raw sender, probes) -> `wire` (pure parsers:
//! SSE, `Resp` and `parse_response`, leak scan, near misses). `target` and `key` are
//! shared leaves.
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
pub use key::{ApiKey, HeaderStyle};
pub use target::{LogSource, Settings, SharedBuf, Target, Transport};
pub use wire::leak::{Encoding, Leak, find_key_leaks};
pub use wire::nearmiss::{NearMiss, NearMissKind, near_misses};
pub use wire::sse::{SseEvent, SseItem, SseParser};
