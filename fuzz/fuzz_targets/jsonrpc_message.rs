//! MSG-3/MSG-4: any body posted to `/mcp/messages` is either the contract's
//! `400 bad_request` (not JSON) or a well-formed JSON-RPC error / an ignored
//! notification / a message for the session; the audit helpers and tool-argument
//! validation (everything before tool I/O) never panic on it.
#![no_main]
libfuzzer_sys::fuzz_target!(|body: &[u8]| cfpb_mcp_server::fuzzing::check_jsonrpc_message(body));
