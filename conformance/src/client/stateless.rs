//! The harness's client for MCP 2026-07-28 on `/mcp` (docs/contract.md HTTP-2026-1..11),
//! the stateless revision: every request carries its protocol version and capabilities in
//! `params._meta`, mirrored in the `MCP-Protocol-Version`, `Mcp-Method` and (for
//! `tools/call`) `Mcp-Name` headers; no `initialize`, no session. Builds those requests
//! (with the mirrored headers as data a check can change, to send a mismatch on purpose)
//! and detects once whether the target speaks the revision (`server/discover`). Never
//! judges a clause; uses only the harness's HTTP client.

use super::ctx::Ctx;
use super::facts::Offer;
use super::pacer::Pace;
use super::probe::{HeaderSpec, Probe};
use super::streamable::{VERSION_HEADER, response_with_id};
use serde_json::{Value, json};

/// The stateless revision.
pub const STATELESS_VERSION: &str = "2026-07-28";
pub const METHOD_HEADER: &str = "Mcp-Method";
pub const NAME_HEADER: &str = "Mcp-Name";
/// The `_meta` keys of the revision.
pub const META_VERSION: &str = "io.modelcontextprotocol/protocolVersion";
pub const META_CAPABILITIES: &str = "io.modelcontextprotocol/clientCapabilities";
pub const META_CLIENT: &str = "io.modelcontextprotocol/clientInfo";
pub const META_SERVER: &str = "io.modelcontextprotocol/serverInfo";
/// The reason the HTTP-2026 checks skip when the default detection finds no such revision.
pub const NOT_SPOKEN: &str = "target does not speak MCP 2026-07-28 on /mcp";

/// The per-request `_meta` naming `version`.
pub fn meta(version: &str) -> Value {
    json!({
        META_VERSION: version,
        META_CLIENT: {"name": "mcp-conformance", "version": env!("CARGO_PKG_VERSION")},
        META_CAPABILITIES: {}
    })
}

/// A stateless JSON-RPC request: `params` with the revision's `_meta` added.
pub fn stateless_request(id: u64, method: &str, mut params: Value) -> Value {
    if !params.is_object() {
        params = json!({});
    }
    params["_meta"] = meta(STATELESS_VERSION);
    json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params})
}

/// A stateless `tools/call` of `search_complaints` with `search_term` (size 1).
pub fn search_call(id: u64, search_term: &str) -> Value {
    stateless_request(
        id,
        "tools/call",
        json!({"name":"search_complaints","arguments":{"search_term":search_term,"size":1}}),
    )
}

/// The headers a stateless request mirrors from its body; `None` leaves one out. A check
/// changes a field to send a mismatch on purpose.
#[derive(Clone, Debug, Default)]
pub struct Mirror {
    pub version: Option<String>,
    pub method: Option<String>,
    pub name: Option<String>,
}

impl Mirror {
    /// The headers `body` calls for: the revision's version, its method, its tool name.
    pub fn of(body: &Value) -> Self {
        Self {
            version: Some(
                body.pointer(&format!(
                    "/params/_meta/{}",
                    META_VERSION.replace('/', "~1")
                ))
                .and_then(Value::as_str)
                .unwrap_or(STATELESS_VERSION)
                .to_string(),
            ),
            method: body.get("method").and_then(Value::as_str).map(Into::into),
            name: (body.get("method") == Some(&json!("tools/call")))
                .then(|| body.pointer("/params/name").and_then(Value::as_str))
                .flatten()
                .map(Into::into),
        }
    }
}

impl Ctx {
    /// `POST /mcp` of a stateless request with key `slot` (none when `None`) and the
    /// headers `mirror` names.
    pub fn stateless_probe(&self, slot: Option<usize>, body: &str, mirror: &Mirror) -> Probe {
        let mut p = self.mcp_post(slot, body);
        if let Some(v) = &mirror.version {
            p = p.header(HeaderSpec::plain(VERSION_HEADER, v));
        }
        if let Some(m) = &mirror.method {
            p = p.header(HeaderSpec::plain(METHOD_HEADER, m));
        }
        if let Some(n) = &mirror.name {
            p = p.header(HeaderSpec::plain(NAME_HEADER, n));
        }
        p
    }

    /// `POST /mcp` of `body` with key 1 and the headers it calls for.
    pub fn stateless_post(&self, body: &Value) -> Probe {
        self.stateless_probe(Some(0), &body.to_string(), &Mirror::of(body))
    }

    /// Detects (once) whether the target speaks 2026-07-28: `server/discover` with key 1.
    /// A `200` whose result lists the revision in `supportedVersions` is offered; a `4xx`
    /// other than 401/403/429, or a `200` without the revision, is not; anything else is
    /// unclear (the checks run and say what is wrong).
    pub async fn stateless_offer(&self) -> &Offer {
        self.stateless
            .get_or_init(|| async {
                let probe =
                    self.stateless_post(&stateless_request(1, "server/discover", json!({})));
                let r = match self.send(&probe, Pace::Key(0)).await {
                    Err(e) => return Offer::Unclear(format!("no response: {e}")),
                    Ok(r) => r,
                };
                let lists = response_with_id(&r, 1).ok().is_some_and(|m| {
                    m.pointer("/result/supportedVersions")
                        .and_then(Value::as_array)
                        .is_some_and(|v| v.contains(&json!(STATELESS_VERSION)))
                });
                let what = format!("POST /mcp server/discover answered {}", r.summary());
                match r.status {
                    200 if lists => Offer::Offered,
                    200 => Offer::NotOffered(format!(
                        "{what}, without {STATELESS_VERSION} in supportedVersions"
                    )),
                    401 | 403 | 429 => Offer::Unclear(what),
                    400..=499 => Offer::NotOffered(what),
                    _ => Offer::Unclear(what),
                }
            })
            .await
    }
}

/// The line the report starts with, for the 2026-07-28 detection.
pub fn stateless_note(offer: &Offer) -> String {
    match offer {
        Offer::Offered => format!("MCP {STATELESS_VERSION} on /mcp: spoken"),
        Offer::NotOffered(o) => format!("MCP {STATELESS_VERSION} on /mcp: not spoken ({o})"),
        Offer::Unclear(o) => {
            format!("MCP {STATELESS_VERSION} on /mcp: unclear ({o}); checked anyway")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_mirror_follows_the_body() {
        let m = Mirror::of(&search_call(3, "x"));
        assert_eq!(m.version.as_deref(), Some(STATELESS_VERSION));
        assert_eq!(m.method.as_deref(), Some("tools/call"));
        assert_eq!(m.name.as_deref(), Some("search_complaints"));
        let m = Mirror::of(&stateless_request(4, "tools/list", json!({})));
        assert_eq!((m.method.as_deref(), m.name), (Some("tools/list"), None));
    }
}
