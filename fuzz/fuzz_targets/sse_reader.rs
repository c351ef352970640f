//! The conformance harness's SSE reader over arbitrary bytes (what a hostile or
//! broken target may send): never panics, the same items however the bytes are
//! chunked, no line break inside a comment/event type/id, data lines counted
//! right, over-long lines cut (`mcp_conformance::fuzzing::check_sse_reader`).
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| mcp_conformance::fuzzing::check_sse_reader(data));
