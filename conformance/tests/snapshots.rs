//! Snapshots of the reports (human, JSON, JUnit) built from a fixed report, the curl
//! reproductions of representative probes, and the check list.

use mcp_conformance::ApiKey;
use mcp_conformance::client::{BodySpec, HeaderSpec, Probe};
use mcp_conformance::engine::{CheckReport, Report, Verdict};
use mcp_conformance::engine::{Outcome, Profile};
use mcp_conformance::report;
use mcp_conformance::wire::nearmiss::near_misses;
mod support;

use std::time::Duration;
use url::Url;

fn sample() -> Report {
    let r = |id: &str, profile, title: &str, outcome: Outcome, verdict| CheckReport {
        id: id.into(),
        clause: id.split('.').next().unwrap().into(),
        family: id.split('-').next().unwrap().into(),
        profile,
        title: title.into(),
        outcome,
        verdict,
        duration: Duration::from_millis(123),
    };
    Report {
        target: "https://mcp.example.com".into(),
        profile: Profile::Strict,
        notes: vec!["measured per-key limits: burst 10, refill 2.0/s".into()],
        elapsed: Duration::from_millis(4567),
        results: vec![
            r(
                "AUTH-3.missing",
                Profile::Seed,
                "no key -> exact 401 JSON on both endpoints",
                Outcome::Pass,
                Verdict::Pass,
            ),
            r(
                "AUTH-4",
                Profile::Strict,
                "a 401 carries WWW-Authenticate: Bearer realm=\"cfpb-mcp\"",
                Outcome::fail(
                    "GET /mcp/sse: 401 with WWW-Authenticate: Bearer realm=\"cfpb-mcp\"",
                    "GET /mcp/sse: WWW-Authenticate: (none)",
                    "curl -sS -i -N \"https://mcp.example.com/mcp/sse\"",
                ),
                Verdict::Fail,
            ),
            r(
                "RATE-4",
                Profile::Seed,
                "with key 1 exhausted, key 2 is still accepted",
                Outcome::skip("needs a second key"),
                Verdict::Skip,
            ),
            r(
                "LOG-2",
                Profile::Seed,
                "no log line contains a key",
                Outcome::fail(
                    "no key in any log line",
                    "line 3: $MCP_KEY as base64 (std, alignment 0)",
                    "docker compose logs server",
                ),
                Verdict::XFail,
            ),
        ],
    }
}

#[test]
fn human_report() {
    insta::assert_snapshot!(report::human(&sample(), false));
}

#[test]
fn json_report() {
    insta::assert_snapshot!(report::json(&sample()));
}

#[test]
fn junit_report() {
    insta::assert_snapshot!(report::junit(&sample()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn human_and_json_reports_of_a_real_failing_run() {
    let r = support::run_against(
        support::stub::Fault::NoWwwAuthenticate,
        &["AUTH-4", "AUTH-3.missing"],
    )
    .await;
    let filters = vec![
        (r"\d+\.\ds", "[time]"),
        (r"127\.0\.0\.1:\d+", "127.0.0.1:[port]"),
        (r#""(duration|elapsed)_ms": \d+"#, r#""$1": "[ms]""#),
    ];
    insta::with_settings!({filters => filters}, {
        insta::assert_snapshot!("real_human", report::human(&r, false));
        insta::assert_snapshot!("real_json", report::json(&r));
    });
}

#[test]
fn curl_reproductions() {
    let key = ApiKey::new("real-secret-key-0123456789", 0);
    let key2 = ApiKey::new("second-secret-key-987654321", 1);
    let base = Url::parse("https://mcp.example.com").unwrap();
    let u = |p: &str| base.join(p).unwrap();
    let mut out = vec![
        Probe::new("GET", u("/mcp/sse"))
            .stream()
            .header(HeaderSpec::x_api_key(&key))
            .curl(),
        Probe::new(
            "POST",
            u("/mcp/messages?session_id=0123456789abcdef0123456789abcdef"),
        )
        .in_session()
        .header(HeaderSpec::bearer(&key2))
        .json(r#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#)
        .curl(),
        Probe::new(
            "POST",
            u("/mcp/messages?session_id=0123456789abcdef0123456789abcdef"),
        )
        .in_session()
        .header(HeaderSpec::x_api_key(&key))
        .header(HeaderSpec::plain("Content-Type", "application/json"))
        .body(BodySpec::JsonPad { len: (1 << 20) + 1 })
        .raw()
        .curl(),
        // A probe into a live Streamable HTTP session (`/mcp`), as key 2.
        Probe::new("POST", u("/mcp"))
            .header(HeaderSpec::x_api_key(&key2))
            .header(HeaderSpec::plain(
                "Accept",
                mcp_conformance::client::streamable::ACCEPT_BOTH,
            ))
            .header(mcp_conformance::client::streamable::session_header(
                "0123456789abcdef0123456789abcdef",
            ))
            .header(HeaderSpec::plain("MCP-Protocol-Version", "2025-06-18"))
            .json(r#"{"jsonrpc":"2.0","id":7,"method":"ping"}"#)
            .in_http_session()
            .curl(),
    ];
    // Claude-shaped requests (the claude group): shape 1 with its mirrors, and shape 2 in a
    // live session, as Claude sends them (User-Agent: Claude-User).
    {
        use mcp_conformance::client::claude::{SessionRef, VersionHeader};
        use mcp_conformance::client::stateless::search_call;
        let ctx = mcp_conformance::Ctx::new(mcp_conformance::Target::new(
            base.clone(),
            vec![key.clone()],
        ))
        .unwrap();
        out.push(
            ctx.claude_post(
                &search_call(102, "mortgage servicing"),
                &VersionHeader::one("2025-11-25"),
                true,
                &SessionRef::None,
            )
            .curl(),
        );
        out.push(
            ctx.claude_post(
                &serde_json::json!({"jsonrpc":"2.0","id":2,"method":"tools/list","params":{}}),
                &VersionHeader::repeated("2025-11-25"),
                false,
                &SessionRef::Live("0123456789abcdef0123456789abcdef".into()),
            )
            .curl(),
        );
    }
    for v in near_misses(key.expose(), key.var()) {
        let mut h = HeaderSpec::secret(
            "X-API-Key",
            v.value.clone(),
            v.shell.clone().unwrap_or_else(|| "$MCP_KEY".into()),
        );
        let mut p =
            Probe::new("GET", Url::parse("http://127.0.0.1:8000/mcp/sse").unwrap()).stream();
        if v.shell.is_none() {
            h.raw_suffix = "\\000";
            p = p.raw();
        }
        out.push(format!("# {}\n{}", v.kind.name(), p.header(h).curl()));
    }
    let text = out.join("\n\n");
    assert!(!text.contains(key.expose()) && !text.contains(key2.expose()));
    insta::assert_snapshot!(text);
}

#[test]
fn check_list() {
    let list: Vec<String> = mcp_conformance::checks::all()
        .iter()
        .map(|c| format!("{:<26} {:<6} {}", c.id, c.profile, c.title))
        .collect();
    insta::assert_snapshot!(list.join("\n"));
}
