//! MSG-2: `session_id` query parsing never panics and agrees with a reference
//! model (exactly one `session_id`, 32 lower-case hex characters); ids round-trip.
#![no_main]
libfuzzer_sys::fuzz_target!(|query: &[u8]| cfpb_mcp_server::fuzzing::check_session_query(query));
