//! What the checks share before and around their probes: the prerequisites that turn
//! into a skip (a key, a second key for AUTH/MSG-2/RATE-4/HTTP-3 isolation, Streamable
//! HTTP offered for HTTP-*, MCP 2026-07-28 spoken for HTTP-2026-*), setup errors as skips, and the key-less probe of each
//! guarded endpoint (docs/contract.md AUTH-1, AUTH-3, NET-2).

use crate::client::stateless::{NOT_SPOKEN, STATELESS_VERSION, stateless_request};
use crate::client::streamable::{NOT_OFFERED, SESSION_VERSION, initialize_body};
use crate::client::{ClientError, Ctx, Offer, Probe, random_session_id};
use crate::engine::Outcome;
use crate::key::ApiKey;
use crate::target::Transport;
use serde_json::json;

/// A key-less probe of each guarded endpoint: GET /mcp/sse and POST /mcp/messages (to an
/// unknown session, with a JSON ping).
pub fn guarded_endpoints(ctx: &Ctx) -> Vec<(&'static str, Probe)> {
    let sid = random_session_id();
    vec![
        (
            "GET /mcp/sse",
            Probe::new("GET", ctx.url("/mcp/sse")).stream(),
        ),
        (
            "POST /mcp/messages",
            Probe::new("POST", ctx.url(&format!("/mcp/messages?session_id={sid}")))
                .json(r#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#),
        ),
    ]
}

/// The primary key, or a skip.
pub fn need_key(ctx: &Ctx, slot: usize) -> Result<&ApiKey, Outcome> {
    ctx.key(slot).ok_or_else(|| {
        Outcome::skip(if slot == 0 {
            "no key given".to_string()
        } else {
            "needs a second key (--key-file with two lines, or two entries in MCP_CONFORMANCE_KEYS)"
                .to_string()
        })
    })
}

/// The gate of every HTTP check: `Ok` when `/mcp` is to be checked. Against a target
/// without `/mcp`, a skip by default, a failure when `--transport` asks for it.
pub async fn need_streamable(ctx: &Ctx) -> Result<(), Outcome> {
    if ctx.target.transport == Some(Transport::Sse) {
        return Err(Outcome::skip("--transport sse"));
    }
    need_key(ctx, 0)?;
    match ctx.offer().await {
        Offer::Offered | Offer::Unclear(_) => Ok(()),
        Offer::NotOffered(observed) => {
            let probe = ctx.mcp_post(Some(0), &initialize_body(SESSION_VERSION));
            if ctx.target.transport.is_some() {
                Err(Outcome::fail(
                    "POST /mcp initialize with the key -> 200 with Mcp-Session-Id (--transport asks for Streamable HTTP)",
                    observed.clone(),
                    probe.curl(),
                ))
            } else {
                Err(Outcome::skip(format!("{NOT_OFFERED} ({observed})")))
            }
        }
    }
}

/// The gate of every HTTP-2026 check: `Ok` when MCP 2026-07-28 on `/mcp` is to be
/// checked. Against a target that doesn't speak it, a skip by default, a failure when
/// `--transport mcp-2026` or `both` asks for it.
pub async fn need_stateless(ctx: &Ctx) -> Result<(), Outcome> {
    if matches!(
        ctx.target.transport,
        Some(Transport::Sse | Transport::Streamable)
    ) {
        return Err(Outcome::skip("--transport excludes MCP 2026-07-28"));
    }
    need_key(ctx, 0)?;
    match ctx.stateless_offer().await {
        Offer::Offered | Offer::Unclear(_) => Ok(()),
        Offer::NotOffered(observed) => {
            let probe = ctx.stateless_post(&stateless_request(1, "server/discover", json!({})));
            if ctx.target.transport.is_some() {
                Err(Outcome::fail(
                    format!(
                        "POST /mcp server/discover with the key -> 200 listing {STATELESS_VERSION} (--transport asks for it)"
                    ),
                    observed.clone(),
                    probe.curl(),
                ))
            } else {
                Err(Outcome::skip(format!("{NOT_SPOKEN} ({observed})")))
            }
        }
    }
}

/// Turns a setup error into a skip: the check could not observe its clause.
pub fn setup(what: &str) -> impl FnOnce(ClientError) -> Outcome + '_ {
    move |e| Outcome::skip(format!("{what}: {e}"))
}
