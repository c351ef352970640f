//! The `oauth` profile (OAUTH-* checks) against OAuth-protected targets:
//! - our own server in-process with `--auth oauth`, its issuer's metadata and keys served
//!   by wiremock and tokens signed here: every OAUTH check passes, with a real token and
//!   one minted for another resource;
//! - a wiremock target that plays a correct OAuth-protected MCP server, and one broken
//!   variant per defect, each failing the check named for it (and only the checks the
//!   table names).

use std::collections::BTreeSet;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};
use mcp_conformance::engine::{Baseline, run, select};
use mcp_conformance::{
    ApiKey, Ctx, HeaderStyle, Outcome, Profile, Report, Selection, Settings, Target,
};
use serde_json::{Value, json};
use wiremock::matchers::{header, method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

const GOOD: &str = "good-token-0123456789abcdefghij";
const FOREIGN: &str = "foreign-token-0123456789abcdefgh";

const ALL: [&str; 7] = [
    "OAUTH-2.metadata",
    "OAUTH-2.authorization-server",
    "OAUTH-2.challenge",
    "OAUTH-3.garbage",
    "OAUTH-3.query",
    "OAUTH-3.token",
    "OAUTH-3.audience",
];

async fn run_oauth(base: &str, token: Option<&str>, foreign: Option<&str>) -> Report {
    let mut t = Target::new(
        url::Url::parse(base).unwrap(),
        token.map(|t| ApiKey::new(t, 0)).into_iter().collect(),
    );
    t.style = HeaderStyle::Bearer;
    t.foreign_token = foreign.map(|f| ApiKey::named(f, "MCP_OAUTH_FOREIGN_TOKEN"));
    t.settings = Settings {
        timeout: std::time::Duration::from_secs(3),
        ..Settings::default()
    };
    let ctx = Ctx::new(t).unwrap();
    let sel = Selection {
        profile: Profile::Oauth,
        ..Selection::default()
    };
    let checks = select(mcp_conformance::checks::all(), &sel);
    run(
        &ctx,
        &checks,
        &Baseline::default(),
        "oauth",
        Profile::Oauth,
        &mut |_, _, _| {},
    )
    .await
}

fn failed(r: &Report) -> BTreeSet<String> {
    r.results
        .iter()
        .filter(|c| c.outcome.is_fail())
        .map(|c| c.id.clone())
        .collect()
}

fn describe(r: &Report) -> String {
    r.results
        .iter()
        .map(|c| format!("{} {:?}", c.id, c.outcome))
        .collect::<Vec<_>>()
        .join("\n")
}

/// One defect of an OAuth-protected MCP server.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Defect {
    None,
    NoMetadata,
    WrongResource,
    IssuerSlash,
    NoS256,
    NoRegistration,
    NoResourceMetadataInChallenge,
    GarbageAccepted,
    QueryAccepted,
    ForeignAccepted,
    TokenRefused,
}

/// A wiremock target: the MCP endpoint at /mcp, its metadata, and (on the same host) the
/// authorization server's metadata, with `defect`.
async fn mock_target(defect: Defect) -> MockServer {
    let m = MockServer::start().await;
    let uri = m.uri();
    let issuer = format!("{uri}/as");
    let resource = if defect == Defect::WrongResource {
        format!("{uri}/mcp/")
    } else {
        format!("{uri}/mcp")
    };
    if defect != Defect::NoMetadata {
        Mock::given(method("GET"))
            .and(path("/.well-known/oauth-protected-resource/mcp"))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({
                "resource": resource, "authorization_servers": [issuer],
                "bearer_methods_supported": ["header"], "scopes_supported": ["mcp"]})))
            .mount(&m)
            .await;
    }
    let mut as_meta = json!({
        "issuer": if defect == Defect::IssuerSlash { format!("{issuer}/") } else { issuer.clone() },
        "authorization_endpoint": format!("{issuer}/authorize"),
        "token_endpoint": format!("{issuer}/token"),
        "registration_endpoint": format!("{issuer}/register"),
        "code_challenge_methods_supported": ["S256"],
    });
    if defect == Defect::NoS256 {
        as_meta["code_challenge_methods_supported"] = json!(["plain"]);
    }
    if defect == Defect::NoRegistration {
        as_meta
            .as_object_mut()
            .unwrap()
            .remove("registration_endpoint");
    }
    Mock::given(method("GET"))
        .and(path("/.well-known/oauth-authorization-server/as"))
        .respond_with(ResponseTemplate::new(200).set_body_json(as_meta))
        .mount(&m)
        .await;
    let served = ResponseTemplate::new(200).set_body_json(json!({"jsonrpc": "2.0", "id": 1,
        "result": {"protocolVersion": "2025-11-25", "capabilities": {},
            "serverInfo": {"name": "mock", "version": "1"}}}));
    let accepted: Vec<wiremock::MockBuilder> = match defect {
        Defect::TokenRefused => vec![],
        Defect::GarbageAccepted => vec![
            Mock::given(method("POST"))
                .and(path("/mcp"))
                .and(wiremock::matchers::header_exists("authorization")),
        ],
        Defect::QueryAccepted => vec![
            Mock::given(method("POST"))
                .and(path("/mcp"))
                .and(header("authorization", format!("Bearer {GOOD}").as_str())),
            Mock::given(method("POST"))
                .and(path("/mcp"))
                .and(query_param("access_token", GOOD)),
        ],
        Defect::ForeignAccepted => vec![
            Mock::given(method("POST"))
                .and(path("/mcp"))
                .and(header("authorization", format!("Bearer {GOOD}").as_str())),
            Mock::given(method("POST")).and(path("/mcp")).and(header(
                "authorization",
                format!("Bearer {FOREIGN}").as_str(),
            )),
        ],
        _ => vec![
            Mock::given(method("POST"))
                .and(path("/mcp"))
                .and(header("authorization", format!("Bearer {GOOD}").as_str())),
        ],
    };
    for mock in accepted {
        mock.respond_with(served.clone())
            .with_priority(1)
            .mount(&m)
            .await;
    }
    let challenge = if defect == Defect::NoResourceMetadataInChallenge {
        r#"Bearer realm="mock""#.to_owned()
    } else {
        format!(r#"Bearer resource_metadata="{uri}/.well-known/oauth-protected-resource/mcp""#)
    };
    Mock::given(method("POST"))
        .and(path("/mcp"))
        .respond_with(
            ResponseTemplate::new(401)
                .insert_header("WWW-Authenticate", challenge.as_str())
                .set_body_json(json!({"error": "invalid_token"})),
        )
        .with_priority(10)
        .mount(&m)
        .await;
    m
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_correct_oauth_target_passes_every_oauth_check() {
    let m = mock_target(Defect::None).await;
    let r = run_oauth(&m.uri(), Some(GOOD), Some(FOREIGN)).await;
    let ids: BTreeSet<String> = r.results.iter().map(|c| c.id.clone()).collect();
    assert_eq!(
        ids,
        ALL.iter().map(|s| s.to_string()).collect(),
        "{}",
        describe(&r)
    );
    assert!(
        r.results.iter().all(|c| c.outcome == Outcome::Pass),
        "{}",
        describe(&r)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_tokens_the_token_checks_skip_naming_the_flag() {
    let m = mock_target(Defect::None).await;
    let r = run_oauth(&m.uri(), None, None).await;
    for c in &r.results {
        match (c.id.as_str(), &c.outcome) {
            ("OAUTH-3.token", Outcome::Skip { why }) => assert!(why.contains("--oauth-token")),
            ("OAUTH-3.audience", Outcome::Skip { why }) => {
                assert!(why.contains("--oauth-foreign-token"))
            }
            (_, o) => assert_eq!(o, &Outcome::Pass, "{}", c.id),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_broken_oauth_target_fails_its_check() {
    let table: &[(Defect, &[&str])] = &[
        (
            Defect::NoMetadata,
            &[
                "OAUTH-2.metadata",
                "OAUTH-2.authorization-server",
                "OAUTH-2.challenge",
            ],
        ),
        (
            Defect::WrongResource,
            &["OAUTH-2.metadata", "OAUTH-2.challenge"],
        ),
        (Defect::IssuerSlash, &["OAUTH-2.authorization-server"]),
        (Defect::NoS256, &["OAUTH-2.authorization-server"]),
        (Defect::NoRegistration, &["OAUTH-2.authorization-server"]),
        (
            Defect::NoResourceMetadataInChallenge,
            &["OAUTH-2.challenge"],
        ),
        (
            Defect::GarbageAccepted,
            &["OAUTH-3.garbage", "OAUTH-3.audience"],
        ),
        (Defect::QueryAccepted, &["OAUTH-3.query"]),
        (Defect::ForeignAccepted, &["OAUTH-3.audience"]),
        (Defect::TokenRefused, &["OAUTH-3.token"]),
    ];
    let mut covered = BTreeSet::new();
    for (defect, fails) in table {
        let m = mock_target(*defect).await;
        let r = run_oauth(&m.uri(), Some(GOOD), Some(FOREIGN)).await;
        let want: BTreeSet<String> = fails.iter().map(|s| s.to_string()).collect();
        assert_eq!(failed(&r), want, "{defect:?}:\n{}", describe(&r));
        // No failure prints a token.
        let text = describe(&r);
        assert!(
            !text.contains(GOOD) && !text.contains(FOREIGN),
            "{defect:?}: {text}"
        );
        covered.extend(want);
    }
    let all: BTreeSet<String> = ALL.iter().map(|s| s.to_string()).collect();
    assert_eq!(covered, all, "every OAUTH check has a broken target");
}

/// Our server with `--auth oauth`: the issuer's metadata and keys by wiremock (the same
/// host, as an authorization server of its own), tokens signed here (ES256).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn our_server_with_oauth_passes_every_oauth_check() {
    use cfpb_mcp_server::config::AuthSettings;
    use cfpb_mcp_server::data::DataMode;
    use cfpb_mcp_server::identity::AuthMethod;
    use cfpb_mcp_server::{AuditTarget, Config, Server};

    let issuer = MockServer::start().await;
    let signer = rcgen::KeyPair::generate().unwrap();
    let raw = signer.public_key_raw();
    let jwk = json!({"kty": "EC", "crv": "P-256", "kid": "k1", "use": "sig",
        "x": URL_SAFE_NO_PAD.encode(&raw[1..33]), "y": URL_SAFE_NO_PAD.encode(&raw[33..65])});
    let iss = issuer.uri();
    Mock::given(method("GET"))
        .and(path("/.well-known/oauth-authorization-server"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "issuer": iss, "jwks_uri": format!("{iss}/jwks"),
            "authorization_endpoint": format!("{iss}/authorize"),
            "token_endpoint": format!("{iss}/token"),
            "registration_endpoint": format!("{iss}/register"),
            "code_challenge_methods_supported": ["S256"]})))
        .mount(&issuer)
        .await;
    Mock::given(method("GET"))
        .and(path("/jwks"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"keys": [jwk]})))
        .mount(&issuer)
        .await;

    // The resource URL names the port, so pick it first.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let resource = format!("http://127.0.0.1:{port}/mcp");
    let mut config = Config::default();
    config.bind = format!("127.0.0.1:{port}").parse().unwrap();
    config.data = DataMode::Fixtures;
    config.rate_limit_rps = 1000.0;
    config.rate_limit_burst = 1000;
    config.audit = AuditTarget::Writer(Box::new(std::io::sink()));
    config.auth = AuthSettings {
        methods: vec![AuthMethod::Oauth],
        oauth_issuer: Some(iss.clone()),
        oauth_resource: Some(resource.clone()),
        ..AuthSettings::default()
    };
    let server = Server::bind(config).await.expect("the server starts");
    let token = |aud: &str| {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs();
        let claims: Value =
            json!({"iss": iss, "aud": aud, "sub": "alice", "exp": now + 300, "iat": now});
        let mut h = Header::new(Algorithm::ES256);
        h.kid = Some("k1".into());
        encode(
            &h,
            &claims,
            &EncodingKey::from_ec_der(&signer.serialize_der()),
        )
        .unwrap()
    };
    let (good, foreign) = (token(&resource), token("https://other.example/mcp"));
    let r = run_oauth(
        &format!("http://127.0.0.1:{port}"),
        Some(&good),
        Some(&foreign),
    )
    .await;
    assert!(
        r.results.iter().all(|c| c.outcome == Outcome::Pass),
        "{}",
        describe(&r)
    );
    assert_eq!(r.results.len(), ALL.len());
    drop(server);
}

/// The binary, as a user runs it: `--profile oauth --url <server>/mcp` with the tokens in
/// the environment: every OAUTH check passes, exit 0, and no token is printed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_binary_runs_the_oauth_profile_with_tokens_from_the_environment() {
    let m = mock_target(Defect::None).await;
    let url = format!("{}/mcp", m.uri());
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_mcp-conformance"))
        .args(["--profile", "oauth", "--url", &url, "--format", "json"])
        .env("MCP_OAUTH_TOKEN", GOOD)
        .env("MCP_OAUTH_FOREIGN_TOKEN", FOREIGN)
        .env_remove("MCP_CONFORMANCE_KEYS")
        .output()
        .await
        .expect("run mcp-conformance");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    let report: Value = serde_json::from_str(&stdout).expect("a JSON report");
    let passed = report["checks"]
        .as_array()
        .map(|c| c.iter().filter(|c| c["status"] == "pass").count())
        .unwrap_or_default();
    assert_eq!(passed, ALL.len(), "{stdout}");
    for text in [&stdout, &stderr] {
        assert!(!text.contains(GOOD) && !text.contains(FOREIGN), "{text}");
    }
}
