//! AUTH-2: the `CFPB_MCP_API_KEYS` and keys-file parsers agree with a reference
//! model (trim, empty entries, `#` comments, odd bytes, which entry is wrong);
//! parse → render → parse is stable; no key holds a separator or whitespace.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| cfpb_mcp_server::fuzzing::check_key_list(data));
