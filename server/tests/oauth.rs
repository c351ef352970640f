//! OAuth 2.1 resource server and Cloudflare Access (OAUTH-1..5 in
//! docs/contract.md), over real loopback sockets: an authorization server's
//! metadata and JWKS served by wiremock, tokens minted here with a P-256 key
//! (rcgen) and signed by jsonwebtoken. The acceptance path, the Protected
//! Resource Metadata and challenge, and the rejection matrix, one test each.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use cfpb_mcp_server::config::AuthSettings;
use cfpb_mcp_server::data::DataMode;
use cfpb_mcp_server::identity::AuthMethod;
use cfpb_mcp_server::{AuditTarget, Config, RunningServer, Server};
use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};
use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const RESOURCE: &str = "https://mcp.example/mcp";
const SCOPE: &str = "cfpb:read";

/// The authorization server: its metadata, its keys, and a signing key.
struct Issuer {
    mock: MockServer,
    signer: rcgen::KeyPair,
}

impl Issuer {
    async fn start() -> Self {
        let mock = MockServer::start().await;
        let signer = rcgen::KeyPair::generate().expect("a P-256 key");
        let issuer = Self { mock, signer };
        Mock::given(method("GET"))
            .and(path("/.well-known/oauth-authorization-server"))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({
                "issuer": issuer.url(),
                "jwks_uri": format!("{}/jwks", issuer.url()),
            })))
            .mount(&issuer.mock)
            .await;
        issuer
    }

    fn url(&self) -> String {
        self.mock.uri()
    }

    /// The public key as a JWK.
    fn jwk(&self, kid: &str) -> Value {
        let raw = self.signer.public_key_raw(); // 0x04 || x || y
        json!({"kty": "EC", "crv": "P-256", "kid": kid, "use": "sig",
            "x": URL_SAFE_NO_PAD.encode(&raw[1..33]), "y": URL_SAFE_NO_PAD.encode(&raw[33..65])})
    }

    async fn serve_keys(&self, body: ResponseTemplate) {
        Mock::given(method("GET"))
            .and(path("/jwks"))
            .respond_with(body)
            .mount(&self.mock)
            .await;
    }

    /// A token with `claims` over the defaults, signed ES256 with `kid`.
    fn token(&self, kid: &str, claims: Value) -> String {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs();
        let mut all = json!({"iss": self.url(), "aud": RESOURCE, "sub": "alice",
            "exp": now + 300, "iat": now, "scope": SCOPE});
        for (k, v) in claims.as_object().unwrap() {
            if v.is_null() {
                all.as_object_mut().unwrap().remove(k);
            } else {
                all[k] = v.clone();
            }
        }
        let mut header = Header::new(Algorithm::ES256);
        header.kid = Some(kid.to_owned());
        let key = EncodingKey::from_ec_der(&self.signer.serialize_der());
        encode(&header, &all, &key).unwrap()
    }
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

async fn start(issuer: &Issuer) -> (RunningServer, String) {
    let mut config = Config::default();
    config.bind = "127.0.0.1:0".parse().unwrap();
    config.data = DataMode::Fixtures;
    config.auth_fail_rps = 0.0;
    config.rate_limit_rps = 1000.0;
    config.rate_limit_burst = 1000;
    config.audit = AuditTarget::Writer(Box::new(std::io::sink()));
    config.auth = AuthSettings {
        methods: vec![AuthMethod::Oauth],
        oauth_issuer: Some(issuer.url()),
        oauth_resource: Some(RESOURCE.into()),
        oauth_scopes: vec![SCOPE.into()],
        ..AuthSettings::default()
    };
    let server = Server::bind(config).await.expect("server starts");
    let base = format!("http://{}", server.local_addr());
    (server, base)
}

/// A stateless tools/list with `token` as the bearer; status, challenge, body.
async fn list(base: &str, token: &str) -> (u16, String, String) {
    let body = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {"_meta": {
        "io.modelcontextprotocol/protocolVersion": "2026-07-28",
        "io.modelcontextprotocol/clientCapabilities": {}}}});
    let r = reqwest::Client::new()
        .post(format!("{base}/mcp"))
        .header("Authorization", format!("Bearer {token}"))
        .header("Content-Type", "application/json")
        .header("Accept", "application/json, text/event-stream")
        .header("MCP-Protocol-Version", "2026-07-28")
        .header("Mcp-Method", "tools/list")
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    let challenge = r
        .headers()
        .get("www-authenticate")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (status, challenge, r.text().await.unwrap())
}

async fn with_keys() -> (Issuer, RunningServer, String) {
    let issuer = Issuer::start().await;
    issuer
        .serve_keys(ResponseTemplate::new(200).set_body_json(json!({"keys": [issuer.jwk("k1")]})))
        .await;
    let (server, base) = start(&issuer).await;
    (issuer, server, base)
}

/// A refused token: 401, `error="invalid_token"` and the metadata pointer.
async fn refused(base: &str, token: &str) {
    let (status, challenge, body) = list(base, token).await;
    assert_eq!(status, 401, "{body}");
    assert!(challenge.contains("error=\"invalid_token\""), "{challenge}");
    assert!(challenge.contains(
        "resource_metadata=\"https://mcp.example/.well-known/oauth-protected-resource/mcp\""
    ));
    assert!(!body.contains(token) && !challenge.contains(token));
}

#[tokio::test]
async fn oauth_3_a_valid_token_is_served() {
    let (issuer, server, base) = with_keys().await;
    let (status, _, body) = list(&base, &issuer.token("k1", json!({}))).await;
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("search_complaints"));
    // An audience list that contains the resource is fine too.
    let token = issuer.token("k1", json!({"aud": ["other", RESOURCE]}));
    assert_eq!(list(&base, &token).await.0, 200);
    server.shutdown().await;
}

#[tokio::test]
async fn oauth_2_no_token_gets_the_challenge_and_the_metadata_is_served() {
    let (issuer, server, base) = with_keys().await;
    let r = reqwest::get(format!("{base}/mcp/sse")).await.unwrap();
    assert_eq!(r.status(), 401);
    let challenge = r.headers()["www-authenticate"].to_str().unwrap().to_owned();
    assert_eq!(
        challenge,
        "Bearer realm=\"cfpb-mcp\", resource_metadata=\"https://mcp.example/.well-known/oauth-protected-resource/mcp\", scope=\"cfpb:read\""
    );
    for p in ["/mcp", "", "/mcp/sse"] {
        let r = reqwest::get(format!("{base}/.well-known/oauth-protected-resource{p}"))
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{p}");
        let prm: Value = r.json().await.unwrap();
        assert_eq!(prm["resource"], RESOURCE);
        assert_eq!(prm["authorization_servers"], json!([issuer.url()]));
        assert_eq!(prm["scopes_supported"], json!([SCOPE]));
        assert_eq!(prm["bearer_methods_supported"], json!(["header"]));
    }
    server.shutdown().await;
}

#[tokio::test]
async fn oauth_2_a_token_without_the_scope_is_403_insufficient_scope() {
    let (issuer, server, base) = with_keys().await;
    let (status, challenge, _) = list(&base, &issuer.token("k1", json!({"scope": "other"}))).await;
    assert_eq!(status, 403);
    assert_eq!(
        challenge,
        "Bearer error=\"insufficient_scope\", scope=\"cfpb:read\""
    );
    server.shutdown().await;
}

#[tokio::test]
async fn oauth_3_expired() {
    let (issuer, server, base) = with_keys().await;
    refused(&base, &issuer.token("k1", json!({"exp": now() - 120}))).await;
    server.shutdown().await;
}

#[tokio::test]
async fn oauth_3_not_yet_valid() {
    let (issuer, server, base) = with_keys().await;
    refused(&base, &issuer.token("k1", json!({"nbf": now() + 600}))).await;
    server.shutdown().await;
}

#[tokio::test]
async fn oauth_3_wrong_audience() {
    let (issuer, server, base) = with_keys().await;
    refused(
        &base,
        &issuer.token("k1", json!({"aud": "https://other.example/mcp"})),
    )
    .await;
    server.shutdown().await;
}

#[tokio::test]
async fn oauth_3_wrong_issuer() {
    let (issuer, server, base) = with_keys().await;
    let wrong = format!("{}/", issuer.url()); // a trailing slash is another issuer
    refused(&base, &issuer.token("k1", json!({"iss": wrong}))).await;
    server.shutdown().await;
}

#[tokio::test]
async fn oauth_3_no_subject() {
    let (issuer, server, base) = with_keys().await;
    refused(&base, &issuer.token("k1", json!({"sub": null}))).await;
    server.shutdown().await;
}

#[tokio::test]
async fn oauth_3_alg_none() {
    let (issuer, server, base) = with_keys().await;
    let good = issuer.token("k1", json!({}));
    let payload = good.split('.').nth(1).unwrap();
    let header = URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT","kid":"k1"}"#);
    refused(&base, &format!("{header}.{payload}.")).await;
    refused(&base, &format!("{header}.{payload}.c2ln")).await;
    server.shutdown().await;
}

#[tokio::test]
async fn oauth_3_hs256_signed_with_the_public_key() {
    let (issuer, server, base) = with_keys().await;
    let mut header = Header::new(Algorithm::HS256);
    header.kid = Some("k1".into());
    let claims = json!({"iss": issuer.url(), "aud": RESOURCE, "sub": "mallory",
        "exp": now() + 300, "scope": SCOPE});
    let public = issuer.signer.public_key_raw().to_vec();
    let token = encode(
        &header,
        &claims,
        &EncodingKey::from_secret(&public).unwrap(),
    )
    .unwrap();
    refused(&base, &token).await;
    server.shutdown().await;
}

#[tokio::test]
async fn oauth_3_unknown_kid() {
    let (issuer, server, base) = with_keys().await;
    refused(&base, &issuer.token("k9", json!({}))).await;
    server.shutdown().await;
}

#[tokio::test]
async fn oauth_3_tampered_payload() {
    let (issuer, server, base) = with_keys().await;
    let good = issuer.token("k1", json!({}));
    let parts: Vec<&str> = good.split('.').collect();
    let mut claims: Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap();
    claims["sub"] = json!("admin");
    let forged = URL_SAFE_NO_PAD.encode(claims.to_string());
    refused(&base, &format!("{}.{forged}.{}", parts[0], parts[2])).await;
    server.shutdown().await;
}

#[tokio::test]
async fn oauth_3_oversized_token() {
    let (issuer, server, base) = with_keys().await;
    let token = issuer.token("k1", json!({"pad": "x".repeat(10_000)}));
    refused(&base, &token).await;
    server.shutdown().await;
}

#[tokio::test]
async fn oauth_3_a_token_in_the_query_is_refused() {
    let (issuer, server, base) = with_keys().await;
    let token = issuer.token("k1", json!({}));
    let r = reqwest::Client::new()
        .get(format!("{base}/mcp/sse?access_token={token}"))
        .header("Authorization", format!("Bearer {token}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert!(!r.text().await.unwrap().contains(&token));
    server.shutdown().await;
}

#[tokio::test]
async fn oauth_3_keys_endpoint_down_fails_closed() {
    let issuer = Issuer::start().await;
    issuer.serve_keys(ResponseTemplate::new(503)).await;
    let (server, base) = start(&issuer).await;
    let (status, _, body) = list(&base, &issuer.token("k1", json!({}))).await;
    assert_eq!(status, 503, "{body}");
    server.shutdown().await;
}

#[tokio::test]
async fn oauth_3_keys_endpoint_serving_garbage_fails_closed() {
    let issuer = Issuer::start().await;
    issuer
        .serve_keys(ResponseTemplate::new(200).set_body_string("{\"keys\": [{\"kty\": 42}]"))
        .await;
    let (server, base) = start(&issuer).await;
    let (status, _, _) = list(&base, &issuer.token("k1", json!({}))).await;
    assert_ne!(status, 200);
    server.shutdown().await;
}

#[tokio::test]
async fn oauth_1_keys_alone_serve_no_oauth_metadata() {
    let mut config = Config::with_keys(["plain-key-0123456789abcdefghijklmn"]);
    config.data = DataMode::Fixtures;
    config.audit = AuditTarget::Writer(Box::new(std::io::sink()));
    let server = Server::bind(config).await.unwrap();
    let base = format!("http://{}", server.local_addr());
    for p in [
        "/.well-known/oauth-protected-resource",
        "/.well-known/oauth-protected-resource/mcp",
    ] {
        assert_eq!(
            reqwest::get(format!("{base}{p}")).await.unwrap().status(),
            404
        );
    }
    let r = reqwest::get(format!("{base}/mcp/sse")).await.unwrap();
    assert_eq!(r.headers()["www-authenticate"], "Bearer realm=\"cfpb-mcp\"");
    server.shutdown().await;
}

#[tokio::test]
async fn oauth_1_missing_or_contradictory_settings_refuse_to_start() {
    let mut config = Config::default();
    config.auth.methods = vec![AuthMethod::Oauth];
    let error = Server::bind(config)
        .await
        .err()
        .expect("refused")
        .to_string();
    assert!(error.contains("CFPB_MCP_OAUTH_ISSUER"), "{error}");
    let mut config = Config::with_keys(["plain-key-0123456789abcdefghijklmn"]);
    config.auth.methods = vec![AuthMethod::Oauth];
    config.auth.oauth_issuer = Some("http://127.0.0.1:9".into());
    config.auth.oauth_resource = Some(RESOURCE.into());
    let error = Server::bind(config)
        .await
        .err()
        .expect("refused")
        .to_string();
    assert!(error.contains("CFPB_MCP_API_KEYS"), "{error}");
}

#[tokio::test]
async fn oauth_4_access_requires_its_assertion() {
    let issuer = Issuer::start().await;
    Mock::given(method("GET"))
        .and(path("/cdn-cgi/access/certs"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"keys": [issuer.jwk("a1")]})))
        .mount(&issuer.mock)
        .await;
    let mut config = Config::default();
    config.bind = "127.0.0.1:0".parse().unwrap();
    config.data = DataMode::Fixtures;
    config.auth_fail_rps = 0.0;
    config.audit = AuditTarget::Writer(Box::new(std::io::sink()));
    config.auth = AuthSettings {
        methods: vec![AuthMethod::Access],
        access_team_domain: Some(issuer.url()),
        access_aud: Some("aud-tag".into()),
        ..AuthSettings::default()
    };
    let server = Server::bind(config).await.expect("server starts");
    let base = format!("http://{}", server.local_addr());
    let client = reqwest::Client::new();
    let sse = |assertion: Option<String>| {
        let mut r = client.get(format!("{base}/mcp/sse"));
        if let Some(a) = assertion {
            r = r.header("Cf-Access-Jwt-Assertion", a);
        }
        r.send()
    };
    assert_eq!(sse(None).await.unwrap().status(), 401, "around the tunnel");
    let good = issuer.token("a1", json!({"aud": "aud-tag", "scope": null}));
    assert_eq!(sse(Some(good)).await.unwrap().status(), 200);
    let wrong_aud = issuer.token("a1", json!({"aud": "other-app"}));
    assert_eq!(sse(Some(wrong_aud)).await.unwrap().status(), 401);
    server.shutdown().await;
}
