//! AUTH-7 through the real binary (issue 23, findings 5 and 6): a configured
//! key written with JSON `\u` escapes, percent escapes, or in a header the
//! server could echo (`Mcp-Name`) never comes back in any response; such a
//! request is refused (400) and counted as a failed authentication, so a
//! body of candidate keys is no oracle: the failed-auth limiter ends it.

use e2e::{ServerProcess, random_key};
use serde_json::{Value, json};

const V: &str = "2026-07-28";

fn start(extra: &[&str], keys: &str) -> ServerProcess {
    let mut args = vec![
        "--data",
        "fixtures",
        "--rate-limit-rps",
        "1000",
        "--rate-limit-burst",
        "1000",
    ];
    args.extend_from_slice(extra);
    ServerProcess::start(&args, &[("CFPB_MCP_API_KEYS", keys)])
}

/// A stateless tools/call of `name` with `arguments`, as raw JSON text (so a
/// test can write escapes itself).
fn call_text(id: &str, name: &str, arguments: &str) -> String {
    format!(
        r#"{{"jsonrpc":"2.0","id":{id},"method":"tools/call","params":{{"name":{name},"arguments":{arguments},"_meta":{{"io.modelcontextprotocol/protocolVersion":"{V}","io.modelcontextprotocol/clientCapabilities":{{}}}}}}}}"#
    )
}

async fn post(server: &ServerProcess, key: &str, body: String, mcp_name: &str) -> (u16, String) {
    let r = reqwest::Client::new()
        .post(format!("{}/mcp", server.base))
        .header("X-API-Key", key)
        .header("Content-Type", "application/json")
        .header("Accept", "application/json, text/event-stream")
        .header("MCP-Protocol-Version", V)
        .header("Mcp-Method", "tools/call")
        .header("Mcp-Name", mcp_name)
        .body(body)
        .send()
        .await
        .expect("POST /mcp");
    let status = r.status().as_u16();
    (status, r.text().await.unwrap_or_default())
}

/// `text` with every character as a JSON `\uXXXX` escape.
fn escaped(text: &str) -> String {
    text.chars()
        .map(|c| format!("\\u{:04x}", c as u32))
        .collect()
}

fn audit_errors(server: &ServerProcess) -> Vec<String> {
    server
        .lines()
        .iter()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|v| v["event"] == "mcp_request")
        .map(|v| v["error"].as_str().unwrap_or("").to_owned())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn auth_7_escaped_and_header_keys_are_refused_never_echoed() {
    let (key, other) = (random_key(), random_key());
    let server = start(&[], &format!("{key},{other}"));
    let hidden = escaped(&other);
    let percent: String = other.bytes().map(|b| format!("%{b:02X}")).collect();
    let cases = [
        // Unknown tool: <name>, the name written in \u escapes.
        (call_text("1", &format!("\"{hidden}\""), "{}"), "x"),
        // The reply id.
        (
            call_text(&format!("\"{hidden}\""), "\"search_complaints\"", "{}"),
            "search_complaints",
        ),
        // An argument error that quotes its value, and a dashboard link.
        (
            call_text(
                "3",
                "\"search_complaints\"",
                &format!(r#"{{"size":"{hidden}"}}"#),
            ),
            "search_complaints",
        ),
        (
            call_text(
                "4",
                "\"generate_cfpb_dashboard_url\"",
                &format!(r#"{{"company":["{percent}"]}}"#),
            ),
            "generate_cfpb_dashboard_url",
        ),
        // A header rmcp's -32020 would quote.
        (
            call_text("5", "\"search_complaints\"", "{}"),
            other.as_str(),
        ),
    ];
    for (body, mcp_name) in cases {
        let (status, text) = post(&server, &key, body.clone(), mcp_name).await;
        assert_eq!(status, 400, "{body}: {text}");
        assert!(text.contains("must not appear"), "{text}");
        for secret in [&key, &other] {
            assert!(!text.contains(secret.as_str()), "echoed: {text}");
        }
    }
    // Escapes that hide no key are served as ever.
    let plain = call_text(
        "6",
        "\"search_complaints\"",
        r#"{"search_term":"\u0063ard","size":1}"#,
    );
    let (status, text) = post(&server, &key, plain, "search_complaints").await;
    assert_eq!(status, 200, "{text}");
    let errors = audit_errors(&server);
    assert_eq!(
        errors.iter().filter(|e| *e == "auth").count(),
        5,
        "{errors:?}"
    );
    server.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn auth_7_a_body_of_candidate_keys_is_no_oracle() {
    let (key, other) = (random_key(), random_key());
    let server = start(
        &["--auth-fail-rps", "0.01", "--auth-fail-burst", "3"],
        &format!("{key},{other}"),
    );
    // 1,000 candidates, one of them a configured key: refused and counted;
    // three such posts spend the address's failed-auth burst, the fourth is
    // throttled whatever it holds.
    let mut candidates: Vec<String> = (0..999).map(|_| random_key()).collect();
    candidates.push(other.clone());
    let arguments = json!({"search_term": candidates.join(" ")}).to_string();
    let body = call_text("7", "\"search_complaints\"", &arguments);
    let mut statuses = Vec::new();
    for _ in 0..4 {
        let (status, text) = post(&server, &key, body.clone(), "search_complaints").await;
        assert!(!text.contains(&other), "echoed");
        statuses.push(status);
    }
    assert_eq!(statuses, [400, 400, 400, 429]);
    // The same address's next wrong key is throttled too: one budget.
    let r = reqwest::Client::new()
        .get(format!("{}/mcp/sse", server.base))
        .header("X-API-Key", random_key())
        .send()
        .await
        .expect("GET");
    assert_eq!(r.status(), 429);
    server.stop();
}
