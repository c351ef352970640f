//! AUTH-1/3/5: any list of header names/values goes through key extraction and
//! verification against a fixed key set without panicking, and is accepted iff
//! exactly one configured key was presented, as the reference model in
//! `cfpb_mcp_server::fuzzing::model_auth` decides. Structured input (`arbitrary`).
#![no_main]
use cfpb_mcp_server::fuzzing::{AuthInput, check_auth_headers};

libfuzzer_sys::fuzz_target!(|input: AuthInput| check_auth_headers(&input));
