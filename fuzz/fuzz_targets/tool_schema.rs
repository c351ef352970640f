//! MSG-4.structured: the harness's checks of a target's tool schemas and
//! structured results, over any JSON (`[tool, result]`): never a panic, a
//! fetch or an unbounded report.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| mcp_conformance::fuzzing::check_tool_schema(data));
