//! Property checks for the parsers that read client-controlled bytes, shared by
//! the cargo-fuzz targets in `fuzz/` and the stable replay test
//! (`server/tests/fuzz_corpus_replay.rs`), so a crash found once stays a
//! regression test forever. Built only with the `fuzzing` feature: none of
//! this ships in the server.
//!
//! Each `check_*` function runs one parser on arbitrary input and panics if a
//! property is violated (that is its job; nothing else in the crate calls
//! these). What each asserts:
//!
//! - [`check_auth_headers`] (AUTH-1, AUTH-3, AUTH-5): key extraction plus
//!   verification against [`FUZZ_KEYS`] never panics, and accepts a request iff
//!   exactly one configured key was presented, exactly as the independent
//!   reference model [`model_auth`] of the contract's rules decides.
//! - [`check_key_list`] (AUTH-2): the `CFPB_MCP_API_KEYS` and keys-file parsers
//!   agree with a reference model (trim, empty entries, `#` comments, which
//!   entry is wrong); parse → render → parse is stable in both formats; no
//!   key contains a separator, whitespace or anything outside the key alphabet.
//! - [`check_jsonrpc_message`] (MSG-3, MSG-4, DATA-1, DATA-2): every body yields
//!   either the contract's `400 bad_request` (not JSON) or something for the
//!   stream: a well-formed JSON-RPC error (-32600 / -32602) with the right id,
//!   an ignored invalid notification, or a message the service takes; the
//!   audit helpers and tool-argument validation (everything before tool I/O)
//!   accept it without panicking.
//! - [`check_session_query`] (MSG-2): `session_id` query parsing agrees with a
//!   reference model (exactly one parameter, 32 lower-case hex characters).
//! - [`check_audit_record`] (LOG-1, LOG-2): for any key and any posted message
//!   (and path), the audit line is one valid JSON object and contains no
//!   encoding of the key, unless that encoding is part of the line's fixed
//!   text anyway (a key such as `mcp_request`).
//!
//! The keys used here are fixed test values, never real ones.

mod audit_record;
mod auth_headers;
mod jsonrpc_message;
mod key_list;
mod session_query;

pub use audit_record::*;
pub use auth_headers::*;
pub use jsonrpc_message::*;
pub use key_list::*;
pub use session_query::*;
