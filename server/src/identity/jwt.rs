//! [`JwtVerifier`]: a bearer JWT checked against its issuer's published keys
//! (OAUTH-2..4 in docs/contract.md), for OAuth access tokens and Cloudflare
//! Access assertions alike.
//!
//! What a token must be: at most [`MAX_TOKEN_BYTES`]; signed by a key of the
//! issuer's JWKS, found by `kid`, with an algorithm the key's type allows
//! (RSA: RS*/PS*, EC P-256: ES256, P-384: ES384, Ed25519: EdDSA; never
//! `none`, never HMAC, so a public key can't be used as a shared secret);
//! `iss` exactly the configured issuer; `aud` containing the configured
//! audience (RFC 8707's resource, or the Access application's AUD tag);
//! `exp` in the future and `nbf` in the past, with [`LEEWAY_SECS`]; a
//! subject; every required scope.
//!
//! The keys are fetched once and cached; a token naming a `kid` the cache
//! lacks refetches them, at most once per [`REFETCH_INTERVAL`] (a forged
//! `kid` can't make us hammer the issuer). A fetch is bounded in time
//! ([`FETCH_TIMEOUT`]) and size ([`MAX_DOCUMENT_BYTES`]); when the keys
//! can't be had, every token is refused (fail closed).

use std::collections::HashMap;
use std::time::{Duration, Instant};

use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, Jwk, JwkSet};
use jsonwebtoken::{Algorithm, DecodingKey, Validation, decode, decode_header};
use serde::Deserialize;
use tokio::sync::Mutex;
use url::Url;

use super::caller::{AuthMethod, Verified, subject_digest};

/// The longest token looked at (bytes); a longer one is refused unparsed.
pub const MAX_TOKEN_BYTES: usize = 8 * 1024;
/// The longest metadata or JWKS document read from the issuer.
pub const MAX_DOCUMENT_BYTES: usize = 256 * 1024;
/// How long one fetch from the issuer may take.
pub const FETCH_TIMEOUT: Duration = Duration::from_secs(5);
/// The least time between two fetches of the keys.
pub const REFETCH_INTERVAL: Duration = Duration::from_secs(30);
/// Clock skew allowed on `exp` and `nbf`, in seconds.
pub const LEEWAY_SECS: u64 = 30;

/// Why a token was refused. Never holds the token or a claim's value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("not a well-formed token")]
    Malformed,
    #[error("signed by a key the issuer does not publish")]
    UnknownKey,
    #[error("signature, algorithm, issuer, audience or lifetime check failed")]
    Invalid,
    #[error("the token lacks a required scope")]
    InsufficientScope,
    #[error("the issuer's keys can't be fetched")]
    KeysUnavailable,
}

/// What a token must say, besides its signature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JwtRules {
    /// `iss`, character for character.
    pub issuer: String,
    /// A value `aud` must contain.
    pub audience: String,
    /// Scopes the token must all carry (may be empty).
    pub required_scopes: Vec<String>,
    /// The identity method these tokens stand for.
    pub method: AuthMethod,
}

/// Where the keys come from.
#[derive(Debug, Clone)]
enum KeySource {
    /// The JWKS at this URL (Cloudflare Access: the team's certs).
    Jwks(Url),
    /// The issuer's RFC 8414 / OpenID metadata names the JWKS.
    Discover(Url),
}

/// The issuer's usable keys, by `kid`.
type Keys = HashMap<String, (DecodingKey, Vec<Algorithm>)>;

/// What fetching needs to remember; held (async) only while fetching, so a
/// slow issuer delays only tokens whose `kid` is not known yet.
#[derive(Default)]
struct Cache {
    jwks_uri: Option<Url>,
    last_fetch: Option<Instant>,
}

/// Verifies bearer JWTs for one issuer and audience.
pub struct JwtVerifier {
    rules: JwtRules,
    source: KeySource,
    client: reqwest::Client,
    /// Read on every token without waiting on a fetch in progress.
    keys: std::sync::RwLock<Keys>,
    cache: Mutex<Cache>,
}

impl std::fmt::Debug for JwtVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JwtVerifier")
            .field("rules", &self.rules)
            .finish_non_exhaustive()
    }
}

/// The issuer metadata fields we read.
#[derive(Deserialize)]
struct Metadata {
    issuer: String,
    jwks_uri: String,
}

/// The claims we read; the rest of the token is ignored.
#[derive(Deserialize)]
struct Claims {
    sub: Option<String>,
    #[serde(default)]
    scope: Option<String>,
    #[serde(default)]
    scp: Option<Vec<String>>,
}

impl JwtVerifier {
    /// An OAuth resource server's verifier: keys from the metadata of
    /// `rules.issuer` (an `https` URL, or `http` on loopback).
    pub fn discovering(rules: JwtRules) -> Result<Self, url::ParseError> {
        let issuer = Url::parse(&rules.issuer)?;
        Ok(Self::with(rules, KeySource::Discover(issuer)))
    }

    /// A verifier whose keys are the JWKS at `jwks` (Cloudflare Access:
    /// `https://<team>.cloudflareaccess.com/cdn-cgi/access/certs`).
    pub fn with_jwks(rules: JwtRules, jwks: Url) -> Self {
        Self::with(rules, KeySource::Jwks(jwks))
    }

    fn with(rules: JwtRules, source: KeySource) -> Self {
        let client = reqwest::Client::builder()
            .timeout(FETCH_TIMEOUT)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap_or_default();
        Self {
            rules,
            source,
            client,
            keys: std::sync::RwLock::new(Keys::new()),
            cache: Mutex::new(Cache::default()),
        }
    }

    pub fn rules(&self) -> &JwtRules {
        &self.rules
    }

    /// Check `token`; who it is, or why not.
    pub async fn verify(&self, token: &str) -> Result<Verified, TokenError> {
        if token.len() > MAX_TOKEN_BYTES {
            return Err(TokenError::Malformed);
        }
        let header = decode_header(token).map_err(|_| TokenError::Malformed)?;
        let kid = header.kid.ok_or(TokenError::UnknownKey)?;
        let (key, algorithms) = self.key(&kid).await?;
        if !algorithms.contains(&header.alg) {
            return Err(TokenError::Invalid);
        }
        let mut validation = Validation::new(header.alg);
        validation.algorithms = algorithms;
        validation.leeway = LEEWAY_SECS;
        validation.validate_nbf = true;
        validation.set_issuer(&[&self.rules.issuer]);
        validation.set_audience(&[&self.rules.audience]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        let claims = decode::<Claims>(token, &key, &validation)
            .map_err(|_| TokenError::Invalid)?
            .claims;
        let subject = claims
            .sub
            .filter(|s| !s.is_empty())
            .ok_or(TokenError::Invalid)?;
        let mut scopes: Vec<String> = claims
            .scope
            .as_deref()
            .unwrap_or_default()
            .split_whitespace()
            .map(str::to_owned)
            .collect();
        scopes.extend(claims.scp.unwrap_or_default());
        if !self
            .rules
            .required_scopes
            .iter()
            .all(|s| scopes.contains(s))
        {
            return Err(TokenError::InsufficientScope);
        }
        Ok(Verified {
            digest: subject_digest(self.rules.method, &self.rules.issuer, &subject),
            method: self.rules.method,
            scopes,
        })
    }

    /// The key `kid` names, refetching the set when it is unknown (at most
    /// once per [`REFETCH_INTERVAL`]).
    async fn key(&self, kid: &str) -> Result<(DecodingKey, Vec<Algorithm>), TokenError> {
        if let Some(found) = self.known(kid) {
            return Ok(found);
        }
        // One fetch at a time; whoever waited here may find the key fetched.
        let mut cache = self.cache.lock().await;
        if let Some(found) = self.known(kid) {
            return Ok(found);
        }
        let due = cache
            .last_fetch
            .is_none_or(|at| at.elapsed() >= REFETCH_INTERVAL);
        if !due {
            return Err(if self.has_keys() {
                TokenError::UnknownKey
            } else {
                TokenError::KeysUnavailable
            });
        }
        cache.last_fetch = Some(Instant::now());
        match self.fetch_keys(&mut cache).await {
            Some(keys) => {
                if let Ok(mut known) = self.keys.write() {
                    *known = keys;
                }
            }
            None if !self.has_keys() => return Err(TokenError::KeysUnavailable),
            None => {}
        }
        self.known(kid).ok_or(TokenError::UnknownKey)
    }

    /// The cached key `kid` names, if any.
    fn known(&self, kid: &str) -> Option<(DecodingKey, Vec<Algorithm>)> {
        self.keys.read().ok()?.get(kid).cloned()
    }

    fn has_keys(&self) -> bool {
        self.keys.read().is_ok_and(|k| !k.is_empty())
    }

    /// The issuer's keys now, usable ones only; `None` if they can't be had.
    async fn fetch_keys(&self, cache: &mut Cache) -> Option<Keys> {
        let jwks_uri = match (&self.source, &cache.jwks_uri) {
            (KeySource::Jwks(url), _) | (KeySource::Discover(_), Some(url)) => url.clone(),
            (KeySource::Discover(issuer), None) => {
                let url = self.discover(issuer).await?;
                cache.jwks_uri = Some(url.clone());
                url
            }
        };
        let set: JwkSet = self.fetch_json(&jwks_uri).await?;
        let keys: HashMap<_, _> = set
            .keys
            .iter()
            .filter_map(|jwk| {
                let kid = jwk.common.key_id.clone()?;
                let algorithms = algorithms_for(jwk);
                if algorithms.is_empty() {
                    return None;
                }
                let key = DecodingKey::from_jwk(jwk).ok()?;
                Some((kid, (key, algorithms)))
            })
            .collect();
        Some(keys)
    }

    /// The JWKS URL from the issuer's metadata: RFC 8414's
    /// `/.well-known/oauth-authorization-server` (inserted before the
    /// issuer's path), then OpenID's `/.well-known/openid-configuration`
    /// (appended). The metadata's `issuer` must be ours exactly.
    async fn discover(&self, issuer: &Url) -> Option<Url> {
        for url in metadata_urls(issuer) {
            if let Some(metadata) = self.fetch_json::<Metadata>(&url).await
                && metadata.issuer == self.rules.issuer
            {
                return Url::parse(&metadata.jwks_uri).ok();
            }
        }
        None
    }

    /// GET `url` as JSON, within [`FETCH_TIMEOUT`] and [`MAX_DOCUMENT_BYTES`].
    async fn fetch_json<T: serde::de::DeserializeOwned>(&self, url: &Url) -> Option<T> {
        let mut response = self.client.get(url.clone()).send().await.ok()?;
        if !response.status().is_success() {
            return None;
        }
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.ok()? {
            if body.len() + chunk.len() > MAX_DOCUMENT_BYTES {
                return None;
            }
            body.extend_from_slice(&chunk);
        }
        serde_json::from_slice(&body).ok()
    }
}

/// Where an issuer's metadata may be (RFC 8414 section 3, OpenID Discovery).
pub fn metadata_urls(issuer: &Url) -> Vec<Url> {
    let path = issuer.path().trim_end_matches('/');
    let mut urls = Vec::new();
    let mut rfc8414 = issuer.clone();
    rfc8414.set_path(&format!("/.well-known/oauth-authorization-server{path}"));
    urls.push(rfc8414);
    let mut oidc = issuer.clone();
    oidc.set_path(&format!("{path}/.well-known/openid-configuration"));
    urls.push(oidc);
    urls
}

/// The algorithms a key's type allows (and its `alg`, when it names one of
/// them): never `none`, never HMAC.
pub fn algorithms_for(jwk: &Jwk) -> Vec<Algorithm> {
    let by_type: Vec<Algorithm> = match &jwk.algorithm {
        AlgorithmParameters::RSA(_) => vec![
            Algorithm::RS256,
            Algorithm::RS384,
            Algorithm::RS512,
            Algorithm::PS256,
            Algorithm::PS384,
            Algorithm::PS512,
        ],
        AlgorithmParameters::EllipticCurve(ec) => match ec.curve {
            EllipticCurve::P256 => vec![Algorithm::ES256],
            EllipticCurve::P384 => vec![Algorithm::ES384],
            _ => vec![],
        },
        AlgorithmParameters::OctetKeyPair(okp) if okp.curve == EllipticCurve::Ed25519 => {
            vec![Algorithm::EdDSA]
        }
        _ => vec![],
    };
    match jwk.common.key_algorithm {
        Some(named) => {
            let named = format!("{named:?}");
            by_type
                .into_iter()
                .filter(|a| format!("{a:?}") == named)
                .collect()
        }
        None => by_type,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metadata_is_looked_for_where_the_rfcs_say() {
        let urls = metadata_urls(&Url::parse("https://auth.example/tenant").unwrap());
        assert_eq!(
            urls[0].as_str(),
            "https://auth.example/.well-known/oauth-authorization-server/tenant"
        );
        assert_eq!(
            urls[1].as_str(),
            "https://auth.example/tenant/.well-known/openid-configuration"
        );
        let root = metadata_urls(&Url::parse("https://auth.example").unwrap());
        assert_eq!(
            root[0].as_str(),
            "https://auth.example/.well-known/oauth-authorization-server"
        );
    }

    #[test]
    fn no_hmac_and_no_none_from_any_key() {
        let oct: Jwk = serde_json::from_value(serde_json::json!({
            "kty": "oct", "kid": "s", "k": "c2VjcmV0"
        }))
        .unwrap();
        assert!(algorithms_for(&oct).is_empty());
        let ec: Jwk = serde_json::from_value(serde_json::json!({
            "kty": "EC", "kid": "e", "crv": "P-256",
            "x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",
            "y": "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"
        }))
        .unwrap();
        assert_eq!(algorithms_for(&ec), vec![Algorithm::ES256]);
    }
}
