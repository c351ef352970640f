//! The authentication settings judged on their own (OAUTH-1..5, AUTH-9 in
//! docs/contract.md): a method's settings without the method, a method
//! without its settings, an issuer or resource that is not https (http
//! only on loopback, for tests). The guard builds its verifiers from what
//! comes out; nothing here fetches anything.

use url::Url;

use crate::config::settings::AuthSettings;
use crate::config::validate::ConfigError;
use crate::identity::AuthMethod;

/// OAuth's settings, checked.
#[derive(Debug)]
pub struct OauthSettings<'a> {
    pub issuer: &'a str,
    /// The resource as configured (tokens' `aud`), and parsed.
    pub resource: &'a str,
    pub resource_url: Url,
    pub scopes: &'a [String],
}

/// Cloudflare Access's settings, checked.
#[derive(Debug)]
pub struct AccessSettings<'a> {
    /// `https://<team>.cloudflareaccess.com` (or a loopback URL, tests).
    pub team: Url,
    pub aud: &'a str,
}

fn bad(name: &'static str, why: impl Into<String>) -> ConfigError {
    ConfigError::Auth {
        name,
        why: why.into(),
    }
}

/// `http://` only on loopback (tests); otherwise `https://`.
fn secure_url(name: &'static str, text: &str) -> Result<Url, ConfigError> {
    let url = Url::parse(text).map_err(|e| bad(name, format!("not a URL ({e})")))?;
    let loopback = match url.host() {
        Some(url::Host::Domain(d)) => d == "localhost",
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    };
    match url.scheme() {
        "https" => Ok(url),
        "http" if loopback => Ok(url),
        _ => Err(bad(
            name,
            "must be an https URL (http only on loopback, for tests)",
        )),
    }
}

impl AuthSettings {
    /// Every authentication setting, checked: OAuth's, then Access's.
    pub fn validate(&self) -> Result<(), ConfigError> {
        self.oauth()?;
        self.access()?;
        Ok(())
    }

    /// OAuth's settings when `CFPB_MCP_AUTH` lists oauth; none when it
    /// doesn't, and none of them may be set then.
    pub fn oauth(&self) -> Result<Option<OauthSettings<'_>>, ConfigError> {
        if !self.has(AuthMethod::Oauth) {
            for (given, name) in [
                (self.oauth_issuer.is_some(), "CFPB_MCP_OAUTH_ISSUER"),
                (self.oauth_resource.is_some(), "CFPB_MCP_OAUTH_RESOURCE"),
                (!self.oauth_scopes.is_empty(), "CFPB_MCP_OAUTH_SCOPES"),
            ] {
                if given {
                    return Err(bad(name, "set, but CFPB_MCP_AUTH does not list oauth"));
                }
            }
            return Ok(None);
        }
        let issuer = self
            .oauth_issuer
            .as_deref()
            .ok_or_else(|| bad("CFPB_MCP_OAUTH_ISSUER", "required with CFPB_MCP_AUTH=oauth"))?;
        secure_url("CFPB_MCP_OAUTH_ISSUER", issuer)?;
        let resource = self.oauth_resource.as_deref().ok_or_else(|| {
            bad(
                "CFPB_MCP_OAUTH_RESOURCE",
                "required with CFPB_MCP_AUTH=oauth",
            )
        })?;
        let resource_url = secure_url("CFPB_MCP_OAUTH_RESOURCE", resource)?;
        if resource_url.fragment().is_some() || resource_url.query().is_some() {
            return Err(bad(
                "CFPB_MCP_OAUTH_RESOURCE",
                "a resource URI has no query or fragment (RFC 8707)",
            ));
        }
        Ok(Some(OauthSettings {
            issuer,
            resource,
            resource_url,
            scopes: &self.oauth_scopes,
        }))
    }

    /// Access's settings when `CFPB_MCP_AUTH` lists access; none when it
    /// doesn't, and none of them may be set then.
    pub fn access(&self) -> Result<Option<AccessSettings<'_>>, ConfigError> {
        let name = "CFPB_MCP_ACCESS_TEAM_DOMAIN";
        if !self.has(AuthMethod::Access) {
            for (given, name) in [
                (self.access_team_domain.is_some(), name),
                (self.access_aud.is_some(), "CFPB_MCP_ACCESS_AUD"),
            ] {
                if given {
                    return Err(bad(name, "set, but CFPB_MCP_AUTH does not list access"));
                }
            }
            return Ok(None);
        }
        let domain = self
            .access_team_domain
            .as_deref()
            .ok_or_else(|| bad(name, "required with CFPB_MCP_AUTH=access"))?;
        let aud = self
            .access_aud
            .as_deref()
            .filter(|a| !a.is_empty())
            .ok_or_else(|| bad("CFPB_MCP_ACCESS_AUD", "required with CFPB_MCP_AUTH=access"))?;
        // `<team>.cloudflareaccess.com`, or a full URL (tests: http on loopback).
        let team = if domain.contains("://") {
            secure_url(name, domain)?
        } else {
            secure_url(name, &format!("https://{domain}"))?
        };
        Ok(Some(AccessSettings { team, aud }))
    }
}
