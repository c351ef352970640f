//! Pure parsers and generators over bytes and strings, no I/O: the SSE parser, the
//! HTTP/1.1 response (`Resp`) and its parser, the key-leak scanner (docs/contract.md
//! AUTH-7, LOG-2), the near-miss key generator (AUTH-3), the recognizer of Cloudflare
//! Access answers, and tool schema validation (MSG-4). The fuzz target and the
//! property tests exercise these.

pub mod access;
pub mod leak;
pub mod nearmiss;
pub mod response;
pub mod session_id;
pub mod sse;
pub mod tool_schema;

pub use response::{Resp, ResponseError};
