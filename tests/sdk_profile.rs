//! `--profile mcp` against MCP servers no one here wrote: the official Python SDK's
//! (`mcp` 2.3.0 from PyPI, `MCPServer` over Streamable HTTP with its bearer-token auth,
//! tests/clients/sdk_server.py) and the official TypeScript SDK's
//! (`@modelcontextprotocol/sdk` from npm, `StreamableHTTPServerTransport` behind a small
//! API-key check, tests/clients/sdk_server.cjs), each on a loopback port with two
//! generated keys and its stderr as the log. The harness binary runs against each, and the
//! test asserts exactly which check IDs pass, fail, warn and skip (docs/conformance.md says
//! why each failure is a real finding, and why an SDK's echo of what the caller sent is
//! only a warning). A correct server (the Python one) fails nothing. Then broken variants
//! of both servers (`SDK_FAULT`, each breaking one thing: `TS_VARIANTS`, `PY_VARIANTS`)
//! must each be failed by its check ID, the harness run on that check's family. Without
//! PyPI or npm: a loud SKIP, or a failure where CI is set (`e2e::skip`).

use e2e::nginx::{HarnessRun, run_harness};
use e2e::npm::{install, target_dir};
use e2e::python::python_with_mcp;
use e2e::{free_port, random_key};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The TypeScript SDK pin (the newest release when this was written; Node.js >= 18).
const TS_SDK: &str = "@modelcontextprotocol/sdk@1.32.2";

/// One SDK's expected verdicts, by check ID.
struct Expected {
    pass: &'static [&'static str],
    fail: &'static [&'static str],
    warn: &'static [&'static str],
    skip: &'static [&'static str],
}

const PYTHON: Expected = Expected {
    pass: &[
        "MCP-INIT-1",
        "MCP-AUTH-1.missing",
        "MCP-AUTH-1.wrong",
        "MCP-AUTH-2",
        "MCP-AUTH-1.get",
        "MCP-AUTH-1.delete",
        "MCP-ORIGIN-1",
        "MCP-SESSION-1",
        "MCP-SESSION-2",
        "MCP-TOOLS-1",
    ],
    fail: &[],
    // `Unknown tool: <name>` answers and logs the name the caller sent
    warn: &["MCP-AUTH-3", "MCP-LOG-1"],
    skip: &["MCP-AUTH-1.sse", "MCP-RATE-1"],
};

const TYPESCRIPT: Expected = Expected {
    pass: &[
        "MCP-INIT-1",
        "MCP-AUTH-1.missing",
        "MCP-AUTH-1.wrong",
        "MCP-AUTH-2",
        "MCP-AUTH-1.get",
        "MCP-AUTH-1.delete",
        "MCP-SESSION-2",
        "MCP-TOOLS-1",
        "MCP-LOG-1",
    ],
    fail: &["MCP-ORIGIN-1", "MCP-SESSION-1"],
    // `Tool <name> not found` (and the echo tool) return what the caller sent
    warn: &["MCP-AUTH-3"],
    skip: &["MCP-AUTH-1.sse", "MCP-RATE-1"],
};

/// An SDK server process, killed on drop; its stderr goes to `log`.
struct SdkServer {
    child: Child,
    base: String,
    log: PathBuf,
}

impl SdkServer {
    /// Starts `cmd` (which reads `SDK_PORT` and `SDK_KEYS`) and waits until its port accepts
    /// connections (at most 60 s; an early exit fails with its log).
    fn start(mut cmd: Command, keys: &str, dir: &Path, name: &str) -> Self {
        let port = free_port();
        let log = dir.join(format!("{name}.log"));
        let child = cmd
            .env("SDK_PORT", port.to_string())
            .env("SDK_KEYS", keys)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).expect("log file"))
            .spawn()
            .unwrap_or_else(|e| panic!("start the {name} server: {e}"));
        let mut server = SdkServer {
            child,
            base: format!("http://127.0.0.1:{port}"),
            log,
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        let addr = std::net::SocketAddr::from(([127, 0, 0, 1], port));
        while TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_err() {
            if let Ok(Some(status)) = server.child.try_wait() {
                panic!(
                    "the {name} server exited ({status}):\n{}",
                    server.log_text()
                );
            }
            assert!(
                Instant::now() < deadline,
                "the {name} server did not listen within 60 s:\n{}",
                server.log_text()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        server
    }

    fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for SdkServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs `--profile mcp` against `server` and checks the verdicts against `want`, by ID.
fn check(name: &str, server: &SdkServer, keys: &[&str], dir: &Path, want: &Expected) {
    let log = server.log.to_string_lossy().into_owned();
    let run: HarnessRun = run_harness(
        &server.base,
        keys,
        dir,
        name,
        &[
            "--profile",
            "mcp",
            "--mcp-path",
            "/mcp",
            "--header-style",
            "bearer",
            "--log-file",
            &log,
        ],
        Duration::from_secs(240),
    );
    eprintln!(
        "{name}: {} in {:.1}s",
        run.report["summary"],
        run.elapsed.as_secs_f64()
    );
    let summary = run.summary();
    let ids = |status: &str| -> Vec<String> {
        let mut v: Vec<String> = run.report["checks"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|c| c["status"] == status)
            .filter_map(|c| c["id"].as_str().map(str::to_string))
            .collect();
        v.sort();
        v
    };
    let sorted = |l: &[&str]| {
        let mut v: Vec<String> = l.iter().map(|s| s.to_string()).collect();
        v.sort();
        v
    };
    assert_eq!(ids("pass"), sorted(want.pass), "{name} passes\n{summary}");
    assert_eq!(ids("fail"), sorted(want.fail), "{name} failures\n{summary}");
    assert_eq!(ids("warn"), sorted(want.warn), "{name} warnings\n{summary}");
    assert_eq!(ids("skip"), sorted(want.skip), "{name} skips\n{summary}");
    let expected_code = if want.fail.is_empty() { 0 } else { 1 };
    assert_eq!(run.code, Some(expected_code), "{summary}");
    // The report never holds a key, whatever the target echoed.
    let report = run.report.to_string();
    for key in keys {
        assert!(!report.contains(key), "{name}: a key in the report");
    }
}

fn two_keys() -> (String, String) {
    (random_key(), random_key())
}

#[test]
fn mcp_profile_against_the_python_sdk_server() {
    let started = Instant::now();
    let Some(python) = python_with_mcp() else {
        e2e::skip("sdk_profile (Python): no Python with the mcp SDK (see above)");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let (k1, k2) = two_keys();
    let mut cmd = Command::new(python);
    cmd.arg(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/clients/sdk_server.py"
    ));
    let server = SdkServer::start(cmd, &format!("{k1},{k2}"), dir.path(), "python-sdk");
    check("python-sdk", &server, &[&k1, &k2], dir.path(), &PYTHON);
    eprintln!(
        "mcp_profile_against_the_python_sdk_server: {:.1}s",
        started.elapsed().as_secs_f64()
    );
}

#[test]
fn mcp_profile_against_the_typescript_sdk_server() {
    let started = Instant::now();
    if Command::new("node").arg("--version").output().is_err() {
        e2e::skip("sdk_profile (TypeScript): node is not installed");
        return;
    }
    let prefix = target_dir("sdk-server");
    if install(&prefix, &[TS_SDK]).is_none() {
        e2e::skip(&format!(
            "sdk_profile (TypeScript): {TS_SDK} could not be installed (see above)"
        ));
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (k1, k2) = two_keys();
    let mut cmd = Command::new("node");
    cmd.arg(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/clients/sdk_server.cjs"
    ))
    .env("NODE_PATH", prefix.join("node_modules"));
    let server = SdkServer::start(cmd, &format!("{k1},{k2}"), dir.path(), "typescript-sdk");
    check(
        "typescript-sdk",
        &server,
        &[&k1, &k2],
        dir.path(),
        &TYPESCRIPT,
    );
    eprintln!(
        "mcp_profile_against_the_typescript_sdk_server: {:.1}s",
        started.elapsed().as_secs_f64()
    );
}

/// The broken variants on the TypeScript SDK's server (`SDK_FAULT`, see
/// tests/clients/sdk_server.cjs): each breaks one thing, and the harness catches it by
/// check ID (run on the check's family, with what the correct server already fails
/// allowed beside it).
const TS_VARIANTS: &[(&str, &str, &[&str])] = &[
    ("quote-401", "MCP-AUTH-3", &["MCP-AUTH"]),
    ("open-get", "MCP-AUTH-1.get", &["MCP-AUTH-1"]),
    ("open-delete", "MCP-AUTH-1.delete", &["MCP-AUTH-1"]),
    ("no-challenge", "MCP-AUTH-1.missing", &["MCP-AUTH-1"]),
    ("prefix-key", "MCP-AUTH-2", &["MCP-AUTH-2"]),
    ("log-key", "MCP-LOG-1", &["MCP-AUTH-1", "MCP-LOG"]),
    ("counter-ids", "MCP-SESSION-2", &["MCP-SESSION-2"]),
    ("no-description", "MCP-TOOLS-1", &["MCP-TOOLS"]),
];

#[test]
fn broken_typescript_sdk_variants_are_caught_by_check_id() {
    let started = Instant::now();
    if Command::new("node").arg("--version").output().is_err() {
        e2e::skip("sdk_profile (TypeScript variants): node is not installed");
        return;
    }
    let prefix = target_dir("sdk-server");
    if install(&prefix, &[TS_SDK]).is_none() {
        e2e::skip(&format!(
            "sdk_profile (TypeScript variants): {TS_SDK} could not be installed"
        ));
        return;
    }
    variants_caught("typescript-sdk", TS_VARIANTS, |fault| {
        let mut cmd = Command::new("node");
        cmd.arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/clients/sdk_server.cjs"
        ))
        .env("NODE_PATH", prefix.join("node_modules"))
        .env("SDK_FAULT", fault);
        cmd
    });
    eprintln!(
        "broken_typescript_sdk_variants_are_caught_by_check_id: {:.1}s",
        started.elapsed().as_secs_f64()
    );
}

/// The broken variants on the Python SDK's server (`SDK_FAULT`, see
/// tests/clients/sdk_server.py): the TypeScript ones, and `no-origin` (the SDK's
/// DNS-rebinding protection turned off), which only the Python server, passing
/// MCP-ORIGIN-1 when correct, can show.
const PY_VARIANTS: &[(&str, &str, &[&str])] = &[
    ("quote-401", "MCP-AUTH-3", &["MCP-AUTH"]),
    ("open-get", "MCP-AUTH-1.get", &["MCP-AUTH-1"]),
    ("open-delete", "MCP-AUTH-1.delete", &["MCP-AUTH-1"]),
    ("no-challenge", "MCP-AUTH-1.missing", &["MCP-AUTH-1"]),
    ("prefix-key", "MCP-AUTH-2", &["MCP-AUTH-2"]),
    ("log-key", "MCP-LOG-1", &["MCP-AUTH-1", "MCP-LOG"]),
    ("counter-ids", "MCP-SESSION-2", &["MCP-SESSION-2"]),
    ("no-description", "MCP-TOOLS-1", &["MCP-TOOLS"]),
    ("no-origin", "MCP-ORIGIN-1", &["MCP-ORIGIN"]),
];

#[test]
fn broken_python_sdk_variants_are_caught_by_check_id() {
    let started = Instant::now();
    let Some(python) = python_with_mcp() else {
        e2e::skip("sdk_profile (Python variants): no Python with the mcp SDK (see above)");
        return;
    };
    variants_caught("python-sdk", PY_VARIANTS, |fault| {
        let mut cmd = Command::new(&python);
        cmd.arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/clients/sdk_server.py"
        ))
        .env("SDK_FAULT", fault);
        cmd
    });
    eprintln!(
        "broken_python_sdk_variants_are_caught_by_check_id: {:.1}s",
        started.elapsed().as_secs_f64()
    );
}

/// Starts each variant (`command(fault)` starts its server) and runs the harness on the
/// families in `only`: the variant fails its check ID and the harness exits 1; the report
/// holds no key. Every variant runs; the misses are reported together.
fn variants_caught(
    sdk: &str,
    variants: &[(&str, &str, &[&str])],
    command: impl Fn(&str) -> Command,
) {
    let mut problems = Vec::new();
    for &(fault, id, only) in variants {
        let dir = tempfile::tempdir().unwrap();
        let (k1, k2) = two_keys();
        let name = format!("{sdk}-{fault}");
        let server = SdkServer::start(command(fault), &format!("{k1},{k2}"), dir.path(), &name);
        let log = server.log.to_string_lossy().into_owned();
        let only = only.join(",");
        let run = run_harness(
            &server.base,
            &[&k1, &k2],
            dir.path(),
            &name,
            &[
                "--profile",
                "mcp",
                "--mcp-path",
                "/mcp",
                "--header-style",
                "bearer",
                "--log-file",
                &log,
                "--only",
                &only,
            ],
            Duration::from_secs(240),
        );
        let failed: Vec<String> = run.report["checks"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|c| c["status"] == "fail")
            .filter_map(|c| c["id"].as_str().map(str::to_string))
            .collect();
        eprintln!(
            "{name}: failed {failed:?} in {:.1}s",
            run.elapsed.as_secs_f64()
        );
        if !failed.iter().any(|f| f == id) || run.code != Some(1) {
            problems.push(format!("{fault}: {id} not caught\n{}", run.summary()));
        }
        let report = run.report.to_string();
        assert!(
            !report.contains(&k1) && !report.contains(&k2),
            "{name}: a key in the report"
        );
    }
    assert!(problems.is_empty(), "{}", problems.join("\n\n"));
}
