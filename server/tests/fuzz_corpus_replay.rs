//! Replays every committed fuzz corpus file (`fixtures/fuzz/<target>/*`)
//! through the same check functions the cargo-fuzz targets call
//! (`cfpb_mcp_server::fuzzing`), on the stable toolchain, as part of
//! `cargo test`: a crash found once stays a regression test forever.
//!
//! Asserts: each target's corpus directory exists and is non-empty (a missing
//! corpus fails, it never passes silently), and no file makes its check panic.
//! A failure names the target and file.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

use cfpb_mcp_server::fuzzing;

fn corpus(target: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fixtures/fuzz")
        .join(target);
    let entries = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("corpus {} is missing: {e}", dir.display()));
    let mut files: Vec<PathBuf> = entries
        .map(|entry| entry.expect("readable corpus entry").path())
        .filter(|path| path.is_file())
        .collect();
    files.sort();
    assert!(!files.is_empty(), "corpus {} is empty", dir.display());
    files
}

fn replay(target: &str, check: fn(&[u8])) {
    let mut failures = Vec::new();
    for path in corpus(target) {
        let data = std::fs::read(&path).expect("readable corpus file");
        if catch_unwind(AssertUnwindSafe(|| check(&data))).is_err() {
            failures.push(path.display().to_string());
        }
    }
    assert!(
        failures.is_empty(),
        "{target}: {} corpus file(s) fail their check (reproduce with \
         `cargo +nightly fuzz run {target} <file>` in fuzz/): {failures:#?}",
        failures.len()
    );
}

#[test]
fn auth_headers_corpus() {
    replay("auth_headers", fuzzing::check_auth_headers_bytes);
}

#[test]
fn key_list_corpus() {
    replay("key_list", fuzzing::check_key_list);
}

#[test]
fn jsonrpc_message_corpus() {
    replay("jsonrpc_message", fuzzing::check_jsonrpc_message);
}

#[test]
fn session_query_corpus() {
    replay("session_query", fuzzing::check_session_query);
}

#[test]
fn audit_record_corpus() {
    replay("audit_record", fuzzing::check_audit_record_bytes);
}
