//! Pure parsers and generators over bytes and strings, no I/O: the SSE parser, the
//! HTTP/1.1 response (`Resp`) and its parser, the key-leak scanner (docs/contract.md
//! AUTH-7, LOG-2), the near-miss key generator (AUTH-3), the recognizer of Cloudflare
//! Access answers, tool schema validation (MSG-4), and Claude's network facts (the address
//! classes of CLAUDE-NET.dns, the WAF answers of CLAUDE-NET.waf). The fuzz target and the
//! property tests exercise these.

pub mod access;
pub mod addr;
pub mod challenge;
pub mod leak;
pub mod nearmiss;
pub mod prm;
pub mod response;
pub mod session_id;
pub mod sse;
pub mod tool_schema;
pub mod waf;

pub use response::{Resp, ResponseError};
