//! Interop with the official MCP Python SDK (`mcp` 2.x from PyPI) over
//! Streamable HTTP at `/mcp`, through the guard with `X-API-Key`:
//! - the SDK's default mode lists the nine tools and calls every one on the
//!   fixtures data (MSG-4, DATA-1, DATA-2, DATA-6 to DATA-10);
//! - issue 12: `mode="2026-07-28"` (the SDK's stateless revision) lists the
//!   tools and calls `search_complaints` (HTTP-2026-*);
//! - and over HTTP+SSE at `/mcp/sse` (the SDK's `sse_client`, the
//!   initialize handshake): lists the tools and calls every one, through a
//!   session whose MCP service starts with the first message posted (MSG-1,
//!   SSE-2, SSE-3; issue 25's lazy start).
//!
//! The client is `tests/clients/call_every_tool.py`; the venv comes from
//! `e2e::python` (skips with a message only when PyPI is unreachable).

use std::path::PathBuf;
use std::process::Command;

use e2e::{ServerProcess, random_key};

fn run_client(mode: &str, path: &str) {
    let Some(python) = e2e::python::python_with_mcp() else {
        return;
    };
    let key = random_key();
    // Eleven requests in a row (handshake, tools/list, nine calls): above the
    // default burst of 10 (RATE-1), so this test allows more.
    let server = ServerProcess::start(
        &["--data", "fixtures"],
        &[
            ("CFPB_MCP_API_KEYS", key.as_str()),
            ("CFPB_MCP_RATE_LIMIT_BURST", "50"),
        ],
    );
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("clients/call_every_tool.py");
    let output = Command::new(python)
        .arg(script)
        .arg(format!("{}{path}", server.base))
        .arg(&key)
        .arg(mode)
        .output()
        .expect("run the Python client");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "client failed\nstdout:\n{stdout}\nstderr:\n{stderr}"
    );
    assert!(stdout.lines().any(|l| l == "{\"ok\": true}"), "{stdout}");
    assert!(
        !stdout.contains(&key) && !stderr.contains(&key),
        "AUTH-7: no echo of the key"
    );
}

#[test]
fn python_sdk_calls_every_tool_on_fixtures() {
    run_client("auto", "/mcp");
}

#[test]
fn python_sdk_stateless_2026_07_28_calls_search_through_the_guard() {
    run_client("2026-07-28", "/mcp");
}

#[test]
fn python_sdk_over_http_sse_calls_every_tool() {
    run_client("sse", "/mcp/sse");
}
