//! An OAuth authorization server reduced to what a resource server reads of
//! it (OAUTH-3): its RFC 8414 metadata and its JWKS served by wiremock on
//! loopback, and ES256 access tokens for `resource` signed here with a P-256
//! key made for the run (rcgen). For tests that need tokens without the
//! whole authorization flow (`oauth_flow.rs` runs the real one).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header, encode};
use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const KID: &str = "test-1";

/// The issuer: metadata and keys served, a signing key kept.
pub struct TestIssuer {
    mock: MockServer,
    signer: rcgen::KeyPair,
    resource: String,
}

impl TestIssuer {
    /// Serves the metadata and the one public key for tokens naming `resource`.
    pub async fn start(resource: &str) -> Self {
        let mock = MockServer::start().await;
        let signer = rcgen::KeyPair::generate().expect("a P-256 key");
        let raw = signer.public_key_raw(); // 0x04 || x || y
        let jwk = json!({"kty": "EC", "crv": "P-256", "kid": KID, "use": "sig",
            "x": URL_SAFE_NO_PAD.encode(&raw[1..33]), "y": URL_SAFE_NO_PAD.encode(&raw[33..65])});
        Mock::given(method("GET"))
            .and(path("/.well-known/oauth-authorization-server"))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({
                "issuer": mock.uri(),
                "jwks_uri": format!("{}/jwks", mock.uri()),
            })))
            .mount(&mock)
            .await;
        Mock::given(method("GET"))
            .and(path("/jwks"))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({"keys": [jwk]})))
            .mount(&mock)
            .await;
        Self {
            mock,
            signer,
            resource: resource.to_owned(),
        }
    }

    /// The issuer URL (`http://127.0.0.1:PORT`), as its metadata says it.
    pub fn url(&self) -> String {
        self.mock.uri()
    }

    /// A valid access token for `subject`, for five minutes.
    pub fn token(&self, subject: &str) -> String {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or_default();
        let claims: Value = json!({"iss": self.url(), "aud": self.resource, "sub": subject,
            "exp": now + 300, "iat": now});
        let mut header = Header::new(Algorithm::ES256);
        header.kid = Some(KID.to_owned());
        let key = EncodingKey::from_ec_der(&self.signer.serialize_der());
        encode(&header, &claims, &key).expect("sign the token")
    }
}
