//! Replays every committed `sse_reader` and `tool_schema` fuzz corpus file
//! (`fixtures/fuzz/<target>/*`) through the `mcp_conformance::fuzzing` check the
//! cargo-fuzz target calls, on stable as part of `cargo test`: a crash
//! found once stays a regression test. Asserts the corpus exists and is non-empty
//! (a missing corpus fails) and that no file makes the check panic.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;

#[test]
fn sse_reader_corpus() {
    replay("sse_reader", mcp_conformance::fuzzing::check_sse_reader);
}

#[test]
fn tool_schema_corpus() {
    replay("tool_schema", mcp_conformance::fuzzing::check_tool_schema);
}

fn replay(target: &str, check: fn(&[u8])) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fixtures/fuzz")
        .join(target);
    let entries = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("corpus {} is missing: {e}", dir.display()));
    let mut files: Vec<_> = entries
        .map(|entry| entry.expect("readable corpus entry").path())
        .filter(|path| path.is_file())
        .collect();
    files.sort();
    assert!(!files.is_empty(), "corpus {} is empty", dir.display());
    let failures: Vec<String> = files
        .iter()
        .filter(|path| {
            let data = std::fs::read(path).expect("readable corpus file");
            catch_unwind(AssertUnwindSafe(|| check(&data))).is_err()
        })
        .map(|path| path.display().to_string())
        .collect();
    assert!(
        failures.is_empty(),
        "{target}: corpus file(s) fail their check: {failures:#?}"
    );
}
