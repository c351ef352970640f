//! Against the embedded server (the real server library, fixtures data), every check
//! passes in both profiles, and the run takes seconds.

use mcp_conformance::Ctx;
use mcp_conformance::engine::{Selection, Verdict, run, select};
use mcp_conformance::{HeaderStyle, Profile, Settings};
use std::time::{Duration, Instant};

async fn run_embedded(profile: Profile, style: HeaderStyle) {
    let mut settings = Settings {
        keepalive_wait: Duration::from_secs(3),
        ..Settings::default()
    };
    if profile == Profile::Claude {
        // The claude group measures no limits: pace it near the embedded refill (10/s)
        // rather than the contract's default (2/s) it assumes for an unknown target.
        settings.assume_rps = 8.0;
    }
    let started = Instant::now();
    let e = mcp_conformance::embedded::start(settings, style)
        .await
        .expect("embedded server starts");
    let ctx = Ctx::new(e.target.clone()).unwrap();
    let sel = Selection {
        profile,
        ..Selection::default()
    };
    let checks = select(mcp_conformance::checks::all(), &sel);
    let report = run(
        &ctx,
        &checks,
        &Default::default(),
        "embedded",
        profile,
        &mut |_, _, _| {},
    )
    .await;
    drop(ctx);
    e.stop().await;
    let elapsed = started.elapsed();
    println!(
        "embedded run ({profile}, {style:?}): {} checks in {:.1}s",
        report.results.len(),
        elapsed.as_secs_f64()
    );
    let bad: Vec<String> = report
        .results
        .iter()
        .filter(|r| r.verdict != Verdict::Pass)
        // Claude's network facts are about a public https URL; the embedded one is http.
        .filter(|r| !(r.verdict == Verdict::Skip && r.id.starts_with("CLAUDE-NET.")))
        .map(|r| format!("{} {:?}: {:?}", r.id, r.verdict, r.outcome))
        .collect();
    assert!(bad.is_empty(), "{}", bad.join("\n"));
    match profile {
        Profile::Seed | Profile::Mcp | Profile::Claude | Profile::Oauth => {
            assert!(report.results.iter().all(|r| r.profile == profile))
        }
        Profile::Strict => {
            assert!(report.results.iter().any(|r| r.profile == Profile::Strict))
        }
    }
    assert!(elapsed < Duration::from_secs(90), "took {elapsed:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_check_passes_against_the_embedded_server_strict() {
    run_embedded(Profile::Strict, HeaderStyle::XApiKey).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_check_passes_against_the_embedded_server_seed_with_bearer() {
    run_embedded(Profile::Seed, HeaderStyle::Bearer).await;
}

/// `--profile mcp` (Bearer): the embedded server passes every MCP-* check, none skipped
/// (two keys, its log, its configured burst).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_check_passes_against_the_embedded_server_mcp_profile() {
    run_embedded(Profile::Mcp, HeaderStyle::Bearer).await;
}

/// `--profile claude` (Bearer, as Claude's static header): the embedded server passes the
/// claude group (COMPAT-*, CLAUDE-*); only CLAUDE-NET.* skip (its URL is http).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_claude_group_passes_against_the_embedded_server() {
    run_embedded(Profile::Claude, HeaderStyle::Bearer).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_exits_0_embedded_and_2_when_unreachable() {
    use mcp_conformance::cli::{Io, run as cli};
    let mut out = Vec::new();
    let mut err = Vec::new();
    let args = [
        "mcp-conformance",
        "--keepalive-wait",
        "2",
        "--only",
        "AUTH-3,LOG-2",
        "--format",
        "json",
    ];
    let code = cli(
        args.iter().map(Into::into).collect(),
        Io {
            out: &mut out,
            err: &mut err,
            out_tty: false,
            err_tty: false,
        },
    )
    .await;
    let text = String::from_utf8_lossy(&out);
    assert_eq!(code, 0, "{text}\n{}", String::from_utf8_lossy(&err));
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["summary"]["failed"], 0);

    // Nothing listens on port 9 of loopback: exit 2.
    let (mut out, mut err) = (Vec::new(), Vec::new());
    // SAFETY: tests in this binary don't read MCP_CONFORMANCE_KEYS concurrently.
    unsafe { std::env::set_var("MCP_CONFORMANCE_KEYS", "a-test-key-that-is-long-enough") };
    let code = cli(
        [
            "mcp-conformance",
            "--url",
            "http://127.0.0.1:9",
            "--timeout",
            "2",
        ]
        .iter()
        .map(Into::into)
        .collect(),
        Io {
            out: &mut out,
            err: &mut err,
            out_tty: false,
            err_tty: false,
        },
    )
    .await;
    assert_eq!(code, 2, "{}", String::from_utf8_lossy(&err));
    assert!(!String::from_utf8_lossy(&err).contains("a-test-key-that-is-long-enough"));

    // An extra header may not carry the key (and its value is never echoed): exit 2.
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let code = cli(
        [
            "mcp-conformance",
            "--header",
            "Authorization: Bearer s3cr3t-value",
        ]
        .iter()
        .map(Into::into)
        .collect(),
        Io {
            out: &mut out,
            err: &mut err,
            out_tty: false,
            err_tty: false,
        },
    )
    .await;
    assert_eq!(code, 2);
    assert!(!String::from_utf8_lossy(&err).contains("s3cr3t"));

    // Bad invocation: exit 2.
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let code = cli(
        ["mcp-conformance", "--only", "NOPE-9"]
            .iter()
            .map(Into::into)
            .collect(),
        Io {
            out: &mut out,
            err: &mut err,
            out_tty: false,
            err_tty: false,
        },
    )
    .await;
    assert_eq!(code, 2);
}
