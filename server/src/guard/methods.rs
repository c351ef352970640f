//! The authentication methods in force (OAUTH-1..5 in docs/contract.md):
//! built once at start from [`AuthSettings`], refusing anything missing or
//! contradictory by name, and what each method tells a client that failed:
//! the `WWW-Authenticate` challenge, and for OAuth the Protected Resource
//! Metadata (RFC 9728) that lets Claude find the authorization server.
//!
//! The verification itself is `identity`'s; this module only decides which
//! verifier a credential goes to and how a refusal reads.

use http::HeaderValue;

use crate::config::{AccessSettings, AuthSettings, ConfigError, OauthSettings};
use crate::identity::{AuthMethod, JwtRules, JwtVerifier};

/// The path of the Protected Resource Metadata (RFC 9728 section 3.1: the
/// well-known prefix, then the resource's path).
pub const PRM_PREFIX: &str = "/.well-known/oauth-protected-resource";

/// The Cloudflare Access assertion header.
pub const ACCESS_HEADER: &str = "cf-access-jwt-assertion";

/// A setting that is missing, malformed or contradicts another.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{name}: {why}")]
pub struct BadAuthSetting {
    pub name: &'static str,
    pub why: String,
}

impl From<ConfigError> for BadAuthSetting {
    fn from(error: ConfigError) -> Self {
        match error {
            ConfigError::Auth { name, why } => Self { name, why },
            // Not an authentication setting: named by its whole message.
            other => Self {
                name: "CFPB_MCP_AUTH",
                why: other.to_string(),
            },
        }
    }
}

fn bad(name: &'static str, why: impl Into<String>) -> BadAuthSetting {
    BadAuthSetting {
        name,
        why: why.into(),
    }
}

/// OAuth as a resource server: the verifier and what a 401 says.
#[derive(Debug)]
pub struct Oauth {
    pub verifier: JwtVerifier,
    /// The resource, as configured (tokens' `aud`, PRM's `resource`).
    pub resource: String,
    /// Where the PRM is served, absolute.
    pub metadata_url: String,
    pub scopes: Vec<String>,
}

/// The methods in force.
#[derive(Debug)]
pub struct Methods {
    pub keys: bool,
    pub oauth: Option<Oauth>,
    pub access: Option<JwtVerifier>,
}

impl Methods {
    /// Keys only: everything as before OAuth existed.
    #[cfg(test)]
    pub fn keys_only() -> Self {
        Self {
            keys: true,
            oauth: None,
            access: None,
        }
    }

    /// The methods `settings` name, validated ([`AuthSettings::validate`]).
    pub fn from_settings(settings: &AuthSettings) -> Result<Self, BadAuthSetting> {
        let oauth = match settings.oauth().map_err(BadAuthSetting::from)? {
            Some(checked) => Some(oauth(checked)?),
            None => None,
        };
        let access = match settings.access().map_err(BadAuthSetting::from)? {
            Some(checked) => Some(access(checked)?),
            None => None,
        };
        Ok(Self {
            keys: settings.has(AuthMethod::Keys),
            oauth,
            access,
        })
    }

    /// Is `method` one of the methods in force?
    pub fn accepts(&self, method: AuthMethod) -> bool {
        match method {
            AuthMethod::Keys => self.keys,
            AuthMethod::Oauth => self.oauth.is_some(),
            AuthMethod::Access => self.access.is_some(),
        }
    }

    /// The `WWW-Authenticate` of a 401 (AUTH-4; with OAuth, RFC 9728's
    /// `resource_metadata` and the scopes, and `error="invalid_token"` when
    /// a token was presented and refused).
    pub fn challenge(&self, token_refused: bool) -> HeaderValue {
        let Some(oauth) = &self.oauth else {
            return HeaderValue::from_static("Bearer realm=\"cfpb-mcp\"");
        };
        let mut value = String::from("Bearer realm=\"cfpb-mcp\"");
        if token_refused {
            value.push_str(", error=\"invalid_token\"");
        }
        value.push_str(&format!(", resource_metadata=\"{}\"", oauth.metadata_url));
        if !oauth.scopes.is_empty() {
            value.push_str(&format!(", scope=\"{}\"", oauth.scopes.join(" ")));
        }
        HeaderValue::from_str(&value)
            .unwrap_or_else(|_| HeaderValue::from_static("Bearer realm=\"cfpb-mcp\""))
    }

    /// The `WWW-Authenticate` of a 403 for a token without a required scope.
    pub fn insufficient_scope(&self) -> HeaderValue {
        let scopes = self
            .oauth
            .as_ref()
            .map(|o| o.scopes.join(" "))
            .unwrap_or_default();
        HeaderValue::from_str(&format!(
            "Bearer error=\"insufficient_scope\", scope=\"{scopes}\""
        ))
        .unwrap_or_else(|_| HeaderValue::from_static("Bearer error=\"insufficient_scope\""))
    }

    /// The Protected Resource Metadata document (RFC 9728), when OAuth is on.
    pub fn resource_metadata(&self) -> Option<String> {
        let oauth = self.oauth.as_ref()?;
        let document = serde_json::json!({
            "resource": oauth.resource,
            "authorization_servers": [oauth.verifier.rules().issuer],
            "scopes_supported": oauth.scopes,
            "bearer_methods_supported": ["header"],
            "resource_name": "CFPB Consumer Complaint Database (MCP)",
        });
        Some(document.to_string())
    }

    /// Is `path` one of the PRM's paths (the resource's, the root form, and
    /// the HTTP+SSE endpoint's)?
    pub fn is_metadata_path(&self, path: &str) -> bool {
        // No allocation: this runs for every path no route knows (404 probes).
        self.oauth.is_some()
            && path
                .strip_prefix(PRM_PREFIX)
                .is_some_and(|rest| matches!(rest, "" | "/mcp" | "/mcp/sse"))
    }
}

/// Does `token` have a JWT's shape (three base64url parts)? Only then does
/// it go to the OAuth verifier; anything else is an API key attempt.
pub fn looks_like_jwt(token: &[u8]) -> bool {
    token.iter().filter(|b| **b == b'.').count() == 2
        && token
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'='))
}

fn oauth(checked: OauthSettings<'_>) -> Result<Oauth, BadAuthSetting> {
    let OauthSettings {
        issuer,
        resource,
        resource_url: url,
        scopes,
    } = checked;
    let mut metadata = url.clone();
    let path = url.path().trim_end_matches('/');
    metadata.set_path(&format!("{PRM_PREFIX}{path}"));
    let verifier = JwtVerifier::discovering(JwtRules {
        issuer: issuer.to_owned(),
        audience: resource.to_owned(),
        required_scopes: scopes.to_vec(),
        method: AuthMethod::Oauth,
    })
    .map_err(|e| bad("CFPB_MCP_OAUTH_ISSUER", format!("not a URL ({e})")))?;
    Ok(Oauth {
        verifier,
        resource: resource.to_owned(),
        metadata_url: metadata.to_string(),
        scopes: scopes.to_vec(),
    })
}

fn access(checked: AccessSettings<'_>) -> Result<JwtVerifier, BadAuthSetting> {
    let AccessSettings { team, aud } = checked;
    let issuer = team.as_str().trim_end_matches('/').to_owned();
    let certs = team
        .join("/cdn-cgi/access/certs")
        .map_err(|e| bad("CFPB_MCP_ACCESS_TEAM_DOMAIN", e.to_string()))?;
    Ok(JwtVerifier::with_jwks(
        JwtRules {
            issuer,
            audience: aud.to_owned(),
            required_scopes: Vec::new(),
            method: AuthMethod::Access,
        },
        certs,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(methods: &[AuthMethod]) -> AuthSettings {
        AuthSettings {
            methods: methods.to_vec(),
            ..AuthSettings::default()
        }
    }

    #[test]
    fn auth_9_missing_or_contradictory_settings_are_named() {
        let oauth = settings(&[AuthMethod::Oauth]);
        let e = Methods::from_settings(&oauth).unwrap_err();
        assert_eq!(e.name, "CFPB_MCP_OAUTH_ISSUER");
        let mut s = oauth.clone();
        s.oauth_issuer = Some("http://auth.example".into());
        s.oauth_resource = Some("https://mcp.example/mcp".into());
        assert_eq!(
            Methods::from_settings(&s).unwrap_err().name,
            "CFPB_MCP_OAUTH_ISSUER",
            "http off loopback"
        );
        s.oauth_issuer = Some("http://127.0.0.1:9/".into());
        let methods = Methods::from_settings(&s).unwrap();
        assert!(!methods.keys);
        let mut keys = settings(&[AuthMethod::Keys]);
        keys.access_aud = Some("tag".into());
        assert_eq!(
            Methods::from_settings(&keys).unwrap_err().name,
            "CFPB_MCP_ACCESS_AUD"
        );
        let mut access = settings(&[AuthMethod::Access]);
        access.access_team_domain = Some("team.cloudflareaccess.com".into());
        assert_eq!(
            Methods::from_settings(&access).unwrap_err().name,
            "CFPB_MCP_ACCESS_AUD"
        );
        access.access_aud = Some("tag".into());
        let methods = Methods::from_settings(&access).unwrap();
        let rules = methods.access.unwrap().rules().clone();
        assert_eq!(rules.issuer, "https://team.cloudflareaccess.com");
    }

    #[test]
    fn auth_10_the_challenge_points_to_the_resource_metadata() {
        let mut s = settings(&[AuthMethod::Keys, AuthMethod::Oauth]);
        s.oauth_issuer = Some("https://auth.example".into());
        s.oauth_resource = Some("https://mcp.example/mcp".into());
        s.oauth_scopes = vec!["mcp:read".into()];
        let methods = Methods::from_settings(&s).unwrap();
        assert_eq!(
            methods.challenge(false),
            "Bearer realm=\"cfpb-mcp\", resource_metadata=\"https://mcp.example/.well-known/oauth-protected-resource/mcp\", scope=\"mcp:read\""
        );
        assert!(
            methods
                .challenge(true)
                .to_str()
                .unwrap()
                .contains("error=\"invalid_token\"")
        );
        let prm: serde_json::Value =
            serde_json::from_str(&methods.resource_metadata().unwrap()).unwrap();
        assert_eq!(prm["resource"], "https://mcp.example/mcp");
        assert_eq!(prm["authorization_servers"][0], "https://auth.example");
        assert!(methods.is_metadata_path("/.well-known/oauth-protected-resource/mcp"));
        assert!(!Methods::keys_only().is_metadata_path("/.well-known/oauth-protected-resource"));
        assert_eq!(
            Methods::keys_only().challenge(true),
            "Bearer realm=\"cfpb-mcp\""
        );
    }

    #[test]
    fn only_jwt_shaped_tokens_go_to_the_oauth_verifier() {
        assert!(looks_like_jwt(b"eyJhbGciOi.eyJzdWIiOi.c2ln"));
        assert!(!looks_like_jwt(b"plain-api-key_0123456789"));
        assert!(!looks_like_jwt(b"a.b"));
        assert!(!looks_like_jwt(b"a.b.c d"));
    }
}
