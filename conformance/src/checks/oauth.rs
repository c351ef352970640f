//! The `oauth` profile (`--profile oauth`): what a client like Claude needs of ANY
//! OAuth-protected MCP server before and after it holds a token (the MCP authorization
//! spec, RFC 9728, RFC 8414, RFC 6750, RFC 8707; docs/contract.md OAUTH-2, OAUTH-3), the
//! part the official conformance suite does not check:
//! - OAUTH-2.metadata: the Protected Resource Metadata is served where clients look
//!   (path-inserted first, then the root) and names this MCP URL as its `resource`;
//! - OAUTH-2.authorization-server: every authorization server it lists publishes its
//!   metadata (RFC 8414 or OpenID), with `issuer` character for character as listed,
//!   PKCE S256, and a way to register (DCR or a client id metadata document);
//! - OAUTH-2.challenge: a request without a credential gets 401 with a `Bearer`
//!   challenge whose `resource_metadata` serves that same document;
//! - OAUTH-3.garbage: a token-shaped garbage bearer is refused with a `Bearer` challenge;
//! - OAUTH-3.query: a token in the query string (no header) is not served;
//! - OAUTH-3.token / OAUTH-3.audience: with `--oauth-token`, the token is served; with
//!   `--oauth-foreign-token` (minted for another resource), it is refused (RFC 8707).
//!
//! The token travels as key 1 in the `Authorization: Bearer` style; it is never printed
//! (reproductions say `$MCP_KEY`).

use serde_json::Value;
use url::Url;

use crate::client::streamable::{SESSION_VERSION, initialize_body};
use crate::client::{Ctx, HeaderSpec, Pace, Probe};
use crate::engine::table::check_table;
use crate::engine::{Check, CheckResult, Outcome};
use crate::wire::{Resp, challenge, prm};

pub fn checks() -> Vec<Check> {
    check_table! {
        "OAUTH-2.metadata", Oauth, metadata,
            "GET /.well-known/oauth-protected-resource<mcp-path> (else the root form) -> 200 JSON: resource = the MCP URL, authorization_servers (https), bearer_methods_supported with header if given";
        "OAUTH-2.authorization-server", Oauth, authorization_servers,
            "each listed authorization server's RFC 8414 (or OpenID) metadata -> 200 JSON with issuer exactly as listed, authorization and token endpoints, code_challenge_methods_supported with S256, and registration_endpoint or client_id_metadata_document_supported";
        "OAUTH-2.challenge", Oauth, challenge_points_to_metadata,
            "POST <mcp-path> initialize without a credential -> 401, WWW-Authenticate: Bearer with resource_metadata, which serves the same resource's metadata";
        "OAUTH-3.garbage", Oauth, garbage,
            "a JWT-shaped garbage bearer -> 401 with a Bearer challenge";
        "OAUTH-3.query", Oauth, in_query,
            "the token (or garbage without --oauth-token) as ?access_token= and no header -> not served (400 or 401)";
        "OAUTH-3.token", Oauth, token_served,
            "with --oauth-token: POST <mcp-path> initialize with Authorization: Bearer <token> -> 200";
        "OAUTH-3.audience", Oauth, foreign_refused,
            "with --oauth-foreign-token (a token of the same issuer for another resource): -> 401 with a Bearer challenge";
    }
}

/// The MCP URL as the client was given it.
fn mcp_url(ctx: &Ctx) -> Url {
    ctx.url(&ctx.target.mcp_path)
}

fn get(url: Url) -> Probe {
    Probe::new("GET", url).header(HeaderSpec::plain("Accept", "application/json"))
}

async fn get_json(ctx: &Ctx, url: &Url) -> Result<(Resp, Option<Value>), Outcome> {
    let resp = ctx
        .send(&get(url.clone()), Pace::Free)
        .await
        .map_err(|e| Outcome::skip(format!("GET {url}: {e}")))?;
    let json = (resp.status == 200)
        .then(|| serde_json::from_slice(&resp.body).ok())
        .flatten();
    Ok((resp, json))
}

/// The metadata where clients look first; the URL and document, or the failure.
async fn fetch_metadata(ctx: &Ctx) -> Result<(Url, Value), Outcome> {
    let urls = prm::metadata_urls(&mcp_url(ctx));
    let mut seen = Vec::new();
    for url in &urls {
        let (resp, json) = get_json(ctx, url).await?;
        if let Some(doc) = json {
            return Ok((url.clone(), doc));
        }
        seen.push(format!("{url}: {}", resp.summary()));
    }
    Err(Outcome::fail(
        "Protected Resource Metadata (RFC 9728) at one of the well-known URLs",
        seen.join("; "),
        get(urls[0].clone()).curl(),
    ))
}

async fn metadata(ctx: &Ctx) -> CheckResult {
    let (url, doc) = fetch_metadata(ctx).await?;
    let problems = prm::problems(&doc, &mcp_url(ctx));
    if problems.is_empty() {
        return Ok(());
    }
    Err(Outcome::fail(
        format!("metadata a client can follow for {}", mcp_url(ctx)),
        problems.join("; "),
        get(url).curl(),
    ))
}

async fn authorization_servers(ctx: &Ctx) -> CheckResult {
    let (_, doc) = fetch_metadata(ctx).await?;
    let servers = prm::authorization_servers(&doc);
    if servers.is_empty() {
        return Err(Outcome::skip("the metadata lists no authorization server"));
    }
    for listed in servers {
        let Ok(issuer) = Url::parse(&listed) else {
            return Err(Outcome::skip(format!(
                "{listed:?} is not a URL (OAUTH-2.metadata)"
            )));
        };
        let mut tried = Vec::new();
        let mut found = None;
        for url in prm::authorization_server_metadata_urls(&issuer) {
            let (resp, json) = get_json(ctx, &url).await?;
            match json {
                Some(doc) => {
                    found = Some((url, doc));
                    break;
                }
                None => tried.push(format!("{url}: {}", resp.summary())),
            }
        }
        let Some((url, as_doc)) = found else {
            return Err(Outcome::fail(
                format!("the metadata of {listed} (RFC 8414 or OpenID Connect Discovery)"),
                tried.join("; "),
                get(prm::authorization_server_metadata_urls(&issuer)[0].clone()).curl(),
            ));
        };
        let problems = authorization_server_problems(&listed, &as_doc);
        if !problems.is_empty() {
            return Err(Outcome::fail(
                format!("authorization server metadata a client can use, for {listed}"),
                problems.join("; "),
                get(url).curl(),
            ));
        }
    }
    Ok(())
}

/// What an MCP client needs of an authorization server's metadata.
fn authorization_server_problems(listed: &str, doc: &Value) -> Vec<String> {
    let mut out = Vec::new();
    match doc.get("issuer").and_then(Value::as_str) {
        Some(issuer) if issuer == listed => {}
        Some(issuer) => out.push(format!(
            "issuer is {issuer:?}, the resource lists {listed:?} (clients compare them exactly)"
        )),
        None => out.push("no issuer".into()),
    }
    for field in ["authorization_endpoint", "token_endpoint"] {
        if doc.get(field).and_then(Value::as_str).is_none() {
            out.push(format!("no {field}"));
        }
    }
    let s256 = doc
        .get("code_challenge_methods_supported")
        .and_then(Value::as_array)
        .is_some_and(|m| m.iter().any(|v| v == "S256"));
    if !s256 {
        out.push("code_challenge_methods_supported does not list S256 (MCP clients refuse to proceed without it)".into());
    }
    let registers = doc.get("registration_endpoint").is_some()
        || doc.get("client_id_metadata_document_supported") == Some(&Value::Bool(true));
    if !registers {
        out.push("neither registration_endpoint (DCR) nor client_id_metadata_document_supported: a client like Claude cannot register".into());
    }
    out
}

fn init_probe(ctx: &Ctx, credential: Option<HeaderSpec>) -> Probe {
    let mut p = ctx.mcp_post(None, &initialize_body(SESSION_VERSION));
    if let Some(h) = credential {
        p = p.header(h);
    }
    p
}

/// The `Bearer` challenge of a 401, or what was wrong.
fn bearer_challenge(resp: &Resp) -> Result<challenge::Challenge, String> {
    if resp.status != 401 {
        return Err(resp.summary());
    }
    let Some(header) = resp.header("www-authenticate") else {
        return Err("401 without WWW-Authenticate".into());
    };
    challenge::parse(&header)
        .into_iter()
        .find(challenge::Challenge::is_bearer)
        .ok_or_else(|| format!("401 with WWW-Authenticate: {header} (no Bearer challenge)"))
}

async fn challenge_points_to_metadata(ctx: &Ctx) -> CheckResult {
    let probe = init_probe(ctx, None);
    let resp = ctx
        .send(&probe, Pace::AuthFail)
        .await
        .map_err(|e| Outcome::skip(e.to_string()))?;
    let expected =
        "401 with WWW-Authenticate: Bearer resource_metadata=\"<absolute URL of the metadata>\"";
    let bearer = bearer_challenge(&resp).map_err(|e| Outcome::fail(expected, e, probe.curl()))?;
    let Some(pointer) = bearer.param("resource_metadata") else {
        return Err(Outcome::fail(
            expected,
            "a Bearer challenge without resource_metadata (clients then guess the well-known URL)",
            probe.curl(),
        ));
    };
    let Ok(url) = Url::parse(pointer) else {
        return Err(Outcome::fail(
            expected,
            format!("resource_metadata={pointer:?} is not an absolute URL"),
            probe.curl(),
        ));
    };
    let (resp, json) = get_json(ctx, &url).await?;
    let Some(doc) = json else {
        return Err(Outcome::fail(
            "resource_metadata serves the metadata (200 JSON)",
            format!("GET {url}: {}", resp.summary()),
            get(url).curl(),
        ));
    };
    let problems = prm::problems(&doc, &mcp_url(ctx));
    if problems.is_empty() {
        Ok(())
    } else {
        Err(Outcome::fail(
            "the metadata resource_metadata points to is this MCP URL's",
            problems.join("; "),
            get(url).curl(),
        ))
    }
}

/// A JWT-shaped string no issuer signed: header `{"alg":"RS256","typ":"JWT"}`, a payload
/// of random claims, a random signature.
fn garbage_jwt() -> String {
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let payload = format!(
        r#"{{"sub":"{}","exp":4102444800}}"#,
        hex::encode(rand::random::<[u8; 8]>())
    );
    format!(
        "eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.{}.{}",
        URL_SAFE_NO_PAD.encode(payload),
        URL_SAFE_NO_PAD.encode(rand::random::<[u8; 32]>())
    )
}

async fn refused_with_bearer(ctx: &Ctx, probe: Probe, expected: &str) -> CheckResult {
    let resp = ctx
        .send(&probe, Pace::AuthFail)
        .await
        .map_err(|e| Outcome::skip(e.to_string()))?;
    bearer_challenge(&resp)
        .map(|_| ())
        .map_err(|e| Outcome::fail(expected, e, probe.curl()))
}

async fn garbage(ctx: &Ctx) -> CheckResult {
    let token = garbage_jwt();
    let probe = init_probe(
        ctx,
        Some(HeaderSpec::plain(
            "Authorization",
            &format!("Bearer {token}"),
        )),
    );
    refused_with_bearer(ctx, probe, "401 with a Bearer challenge").await
}

async fn in_query(ctx: &Ctx) -> CheckResult {
    let (token, var) = match ctx.key(0) {
        Some(k) => (k.expose().to_owned(), Some(k.var())),
        None => (garbage_jwt(), None),
    };
    let mut probe = init_probe(ctx, None);
    probe
        .url
        .query_pairs_mut()
        .append_pair("access_token", &token);
    let resp = ctx
        .send(&probe, Pace::AuthFail)
        .await
        .map_err(|e| Outcome::skip(e.to_string()))?;
    if (200..300).contains(&resp.status) {
        // The reproduction names the token by its variable, never its value.
        let shown = match var {
            Some(var) => probe.curl().replace(&token, &format!("${var}")),
            None => probe.curl(),
        };
        return Err(Outcome::fail(
            "a token in the query string is not accepted (400 or 401; RFC 9700, the MCP authorization spec)",
            resp.summary(),
            shown,
        ));
    }
    Ok(())
}

async fn token_served(ctx: &Ctx) -> CheckResult {
    let Some(auth) = ctx.auth(0) else {
        return Err(Outcome::skip(
            "no token: pass --oauth-token (MCP_OAUTH_TOKEN) to check one is served",
        ));
    };
    let probe = init_probe(ctx, Some(auth));
    let resp = ctx
        .send(&probe, Pace::Key(0))
        .await
        .map_err(|e| Outcome::skip(e.to_string()))?;
    if resp.status == 200 {
        return Ok(());
    }
    Err(Outcome::fail(
        "200 to initialize with the token",
        resp.summary(),
        probe.curl(),
    ))
}

async fn foreign_refused(ctx: &Ctx) -> CheckResult {
    let Some(foreign) = ctx.target.foreign_token.as_ref() else {
        return Err(Outcome::skip(
            "no foreign token: pass --oauth-foreign-token (MCP_OAUTH_FOREIGN_TOKEN), one the same issuer minted for another resource",
        ));
    };
    let probe = init_probe(ctx, Some(HeaderSpec::bearer(foreign)));
    refused_with_bearer(
        ctx,
        probe,
        "a token for another resource refused: 401 with a Bearer challenge (RFC 8707)",
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn an_authorization_server_a_client_can_use() {
        let good = json!({"issuer": "https://a.example", "authorization_endpoint": "https://a.example/auth",
            "token_endpoint": "https://a.example/token", "code_challenge_methods_supported": ["S256"],
            "registration_endpoint": "https://a.example/reg"});
        assert!(authorization_server_problems("https://a.example", &good).is_empty());
        let slash = authorization_server_problems("https://a.example/", &good);
        assert!(
            slash.iter().any(|p| p.contains("compare them exactly")),
            "{slash:?}"
        );
        let bare = authorization_server_problems(
            "https://a.example",
            &json!({"issuer": "https://a.example"}),
        );
        for says in [
            "authorization_endpoint",
            "token_endpoint",
            "S256",
            "cannot register",
        ] {
            assert!(bare.iter().any(|p| p.contains(says)), "{says}: {bare:?}");
        }
        let cimd = json!({"issuer": "https://a.example", "authorization_endpoint": "x", "token_endpoint": "y",
            "code_challenge_methods_supported": ["S256"], "client_id_metadata_document_supported": true});
        assert!(authorization_server_problems("https://a.example", &cimd).is_empty());
    }

    #[test]
    fn garbage_is_jwt_shaped() {
        let t = garbage_jwt();
        assert_eq!(t.split('.').count(), 3);
        assert!(t.starts_with("eyJ"));
        assert_ne!(t, garbage_jwt());
    }
}
