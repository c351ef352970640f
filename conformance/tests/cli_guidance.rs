//! The CLI as a newcomer meets it on a server we did not write (issue 26), as snapshots of
//! the binary's exit code, stdout and stderr: `--list` honours `--profile`/`--only`; a
//! selection of no check exits 2 and says why; `--transport` is refused with `--profile
//! mcp`; a `--url` with a path is refused with the fix (strict) or taken as the MCP path
//! (`mcp`, no `/mcp/mcp`); the credential style comes from the 401 challenge; a baseline
//! line naming a check alone is refused; the help speaks of any server.

mod support;

use support::stub::{self, Fault};

/// Runs the binary with `args` (and `keys` in MCP_CONFORMANCE_KEYS when given), and
/// renders what it did: exit code, stdout, stderr, the stub's port replaced by `PORT`.
async fn cli(args: &[&str], keys: Option<&str>) -> String {
    let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_mcp-conformance"));
    cmd.args(args)
        .env_remove("MCP_CONFORMANCE_KEYS")
        .env_remove("MCP_CONFORMANCE_HEADERS")
        .env_remove("MCP_CONFORMANCE_MCP_PATH")
        .env_remove("MCP_CONFORMANCE_SSE_PATH")
        .env("NO_COLOR", "1")
        .kill_on_drop(true);
    if let Some(k) = keys {
        cmd.env("MCP_CONFORMANCE_KEYS", k);
    }
    let out = cmd.output().await.expect("run the binary");
    let port = regex_free_port(&String::from_utf8_lossy(&out.stderr));
    let text = format!(
        "exit: {}\n--- stdout\n{}--- stderr\n{}",
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    match port {
        Some(p) => text.replace(&p, "PORT"),
        None => text,
    }
}

/// The loopback port named in a text (`127.0.0.1:NNNN`), if any.
fn regex_free_port(text: &str) -> Option<String> {
    let at = text.find("127.0.0.1:")? + "127.0.0.1:".len();
    let port: String = text[at..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    (!port.is_empty()).then_some(port)
}

#[tokio::test]
async fn list_honours_profile_and_only() {
    insta::assert_snapshot!(cli(&["--list", "--profile", "mcp", "--only", "MCP-AUTH"], None).await);
}

#[tokio::test]
async fn a_selection_of_no_check_exits_2_and_says_why() {
    insta::assert_snapshot!(cli(&["--only", "MCP-AUTH-3"], None).await);
}

#[tokio::test]
async fn transport_is_refused_with_the_mcp_profile() {
    insta::assert_snapshot!(cli(&["--profile", "mcp", "--transport", "sse"], None).await);
}

#[tokio::test]
async fn a_url_with_an_endpoint_path_is_refused_with_the_fix_outside_the_mcp_profile() {
    insta::assert_snapshot!(cli(&["--url", "http://127.0.0.1:9/mcp"], None).await);
}

#[tokio::test]
async fn a_baseline_line_naming_a_check_alone_is_refused() {
    let dir = std::env::temp_dir().join(format!("cli-guidance-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("baseline.txt");
    std::fs::write(&file, "# accepted\nMCP-AUTH-3\n").unwrap();
    let path = file.to_string_lossy().into_owned();
    let text = cli(&["--profile", "mcp", "--baseline", &path], None).await;
    insta::assert_snapshot!(text.replace(&path, "BASELINE"));
}

/// `--url http://host:port/mcp` under `--profile mcp`: the path is the endpoint, the 401
/// challenge (`Bearer`) chooses the header, and the checks pass against the stub (which
/// takes either header).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_mcp_profile_takes_the_url_path_and_the_challenged_credential_style() {
    let s = stub::start(Fault::None).await;
    let url = format!("http://{}/mcp", s.addr);
    let text = cli(
        &[
            "--profile",
            "mcp",
            "--url",
            &url,
            "--only",
            "MCP-INIT-1,MCP-AUTH-1.missing,MCP-AUTH-1.get",
            "--format",
            "json",
        ],
        Some(stub::KEY1),
    )
    .await;
    let (head, json) = text.split_once("--- stdout\n").unwrap();
    let (json, stderr) = json.split_once("--- stderr\n").unwrap();
    let v: serde_json::Value = serde_json::from_str(json).unwrap();
    assert_eq!(v["summary"]["passed"], 3, "{json}");
    assert!(v["checks"][0]["reproduce"].is_null(), "{json}");
    insta::assert_snapshot!(format!("{head}--- stderr\n{stderr}"));
}

#[tokio::test]
async fn help_speaks_of_any_server() {
    insta::assert_snapshot!(cli(&["--help"], None).await);
}
