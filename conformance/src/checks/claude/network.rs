//! CLAUDE-NET: Claude's network facts about a public (https) target (docs/connector.md
//! "Network facts"): Claude's connectors connect only on port 443, only over IPv4 (the
//! hostname needs an A record) and only to public addresses; and a WAF or bot rule must not
//! answer `User-Agent: Claude-User` with a `403` or a challenge. Skipped for http targets
//! (a loopback or LAN URL is not what Claude connects to).

use crate::checks::prereq::need_key;
use crate::client::claude::claude_user_agent;
use crate::client::stateless::stateless_request;
use crate::client::streamable::ACCEPT_BOTH;
use crate::client::{Ctx, HeaderSpec, Pace, Probe};
use crate::engine::table::check_table;
use crate::engine::{Check, CheckResult, Outcome};
use crate::wire::addr::{CLAUDE_PORT, dns_problems};
use crate::wire::waf::{WAF_FIX, waf_block};
use serde_json::json;

pub fn checks() -> Vec<Check> {
    check_table! {
        "CLAUDE-NET.port", Claude, port,
            "an https target is on port 443, the only port Claude connects to (skip for http targets)";
        "CLAUDE-NET.dns", Claude, dns,
            "the hostname has an A record (Claude is IPv4-only) and resolves to no private, loopback, link-local or reserved address (skip for http targets)";
        "CLAUDE-NET.waf", Claude, waf,
            "GET /health, POST /mcp (server/discover, with the key) and POST /mcp/sse with User-Agent: Claude-User -> no 403 and no Cloudflare challenge (cf-mitigated: challenge, the challenge page) (skip for http targets)";
    }
}

/// `Ok` for an https target, else the skip.
fn need_https(ctx: &Ctx) -> Result<(), Outcome> {
    if ctx.target.base.scheme() == "https" {
        Ok(())
    } else {
        Err(Outcome::skip(
            "http target: Claude connects only to public https URLs; run against the public https URL to check its network facts",
        ))
    }
}

fn host(ctx: &Ctx) -> String {
    ctx.target
        .base
        .host_str()
        .unwrap_or("localhost")
        .to_string()
}

async fn port(ctx: &Ctx) -> CheckResult {
    need_https(ctx)?;
    let port = ctx.target.base.port_or_known_default().unwrap_or(0);
    if port == CLAUDE_PORT {
        return Ok(());
    }
    let h = host(ctx);
    Err(Outcome::fail(
        "port 443: Claude's connectors connect to https URLs on port 443 only",
        format!(
            "the URL names port {port}: Claude would not connect (serve it on 443, e.g. behind the Cloudflare tunnel, and register https://{h}/mcp)"
        ),
        format!("curl -sS -i \"https://{h}:{port}/health\"   # reachable here, but not by Claude"),
    ))
}

async fn dns(ctx: &Ctx) -> CheckResult {
    need_https(ctx)?;
    let h = host(ctx);
    let addrs = ctx
        .resolve_target()
        .await
        .map_err(|e| Outcome::skip(format!("resolving {h}: {e}")))?;
    let problems = dns_problems(&addrs);
    if problems.is_empty() {
        return Ok(());
    }
    Err(Outcome::fail(
        "an A record, and only public addresses (Claude connects from Anthropic's cloud, over IPv4)",
        format!("{h}: {}", problems.join("; ")),
        format!("dig +short A {h}; dig +short AAAA {h}"),
    ))
}

async fn waf(ctx: &Ctx) -> CheckResult {
    need_https(ctx)?;
    need_key(ctx, 0)?;
    let health = Probe::new("GET", ctx.url("/health")).header(claude_user_agent());
    let body = stateless_request(120, "server/discover", json!({}));
    let mcp = ctx.as_claude(ctx.stateless_post(&body));
    let mut sse = Probe::new("POST", ctx.url(&ctx.target.sse_path)).header(claude_user_agent());
    if let Some(h) = ctx.auth(0) {
        sse = sse.header(h);
    }
    let sse = sse
        .header(HeaderSpec::plain("Accept", ACCEPT_BOTH))
        .json(&body.to_string());
    for (label, probe) in [
        ("GET /health", health),
        ("POST /mcp server/discover", mcp),
        ("POST /mcp/sse", sse),
    ] {
        let resp = match ctx.send(&probe, Pace::Key(0)).await {
            Ok(r) => r,
            Err(e) => return Err(Outcome::skip(format!("{label}: {e}"))),
        };
        if let Some(what) = waf_block(&resp) {
            return Err(Outcome::fail(
                format!(
                    "{label} with User-Agent: Claude-User answered by the server (not a 403, not a challenge)"
                ),
                format!(
                    "{label} with User-Agent: Claude-User got {what}: Claude's connector can't pass it. Fix: {WAF_FIX}"
                ),
                probe.curl(),
            ));
        }
    }
    Ok(())
}
