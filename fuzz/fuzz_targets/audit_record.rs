//! LOG-1/LOG-2: input is `<key>\n<posted body>`; the audit line built for it is
//! one valid JSON object and holds no encoding of the key (raw, percent, base64,
//! hex) beyond what the line's fixed text holds anyway.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| cfpb_mcp_server::fuzzing::check_audit_record_bytes(data));
