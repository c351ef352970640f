//! mcp-conformance: checks a guarded MCP endpoint (HTTP+SSE and Streamable HTTP) against
//! its contract (`docs/contract.md`), clause by clause, from the outside.
//!
//! Layout: `checks` (one module per clause family; a check is data: ID, profile, what it
//! sends and expects, and an async run function), `ctx` (HTTP client, pacing within the
//! target's rate limits, SSE streams, MCP sessions), `streamable` (the Streamable HTTP
//! client: `/mcp` sessions, JSON-or-SSE responses, transport detection), `runner`
//! (selection, baseline, redaction), `report` (human, JSON, JUnit), `cli`, `embedded` (the server as a library).
//! Pure, fuzzable parts: `sse` (SSE parser), `leak` (key leak scanner), `nearmiss`
//! (near-miss key generator), `raw::parse_response`.
//! The harness never depends on the server's code for checking, and no key ever reaches
//! an output: keys are `ApiKey` (redacting Debug) and all report text is redacted.

pub mod check;
pub mod checks;
pub mod cli;
pub mod ctx;
pub mod embedded;
pub mod fuzzing;
pub mod key;
pub mod leak;
pub mod nearmiss;
pub mod probe;
pub mod raw;
pub mod report;
pub mod runner;
pub mod sse;
pub mod streamable;
pub mod target;

pub use check::{Check, Outcome, Profile};
pub use ctx::Ctx;
pub use key::{ApiKey, HeaderStyle};
pub use leak::{Encoding, Leak, find_key_leaks};
pub use nearmiss::{NearMiss, NearMissKind, near_misses};
pub use runner::{Report, Selection, Verdict};
pub use sse::{SseEvent, SseItem, SseParser};
pub use target::{LogSource, Settings, SharedBuf, Target, Transport};
