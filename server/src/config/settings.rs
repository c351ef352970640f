//! [`Config`], the settings as given, and their defaults; see the module
//! above for how they are read and judged.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use url::Url;

use crate::audit::AuditTarget;
use crate::cluster::{ClusterSecret, RedisUrl};
use crate::data::{DEFAULT_API_BASE, DataMode};
use crate::http::proxy::TrustedProxies;
use crate::identity::AuthMethod;
use crate::identity::keys::{ApiKey, KeyListError, parse_key_list};

/// Defaults, as docs/contract.md's Configuration table states them.
pub mod defaults {
    pub const BIND: &str = "127.0.0.1:8000";
    pub const RATE_LIMIT_RPS: f64 = 2.0;
    pub const RATE_LIMIT_BURST: u32 = 10;
    pub const AUTH_FAIL_RPS: f64 = 10.0;
    pub const AUTH_FAIL_BURST: u32 = 100;
    pub const MAX_STREAMS_PER_KEY: u32 = 8;
    pub const SSE_KEEPALIVE_SECS: u64 = 15;
    pub const MAX_CONNECTIONS: usize = 1024;
    pub const HEADER_READ_TIMEOUT_SECS: u64 = 10;
    pub const BODY_READ_TIMEOUT_SECS: u64 = 30;
    pub const MAX_BODY_BYTES: usize = 1024 * 1024;
    pub const UPSTREAM_TIMEOUT_SECS: u64 = 20;
    pub const SHUTDOWN_GRACE_SECS: u64 = 10;
    pub const OVERLOAD_TIMEOUT_MS: u64 = 5_000;
}

/// Everything the server needs to run.
#[derive(Debug)]
pub struct Config {
    /// Listen address (NET-1). Port 0 picks a free port.
    pub bind: SocketAddr,
    /// Keys given inline (`CFPB_MCP_API_KEYS`).
    pub api_keys: Vec<ApiKey>,
    /// Keys file (`CFPB_MCP_API_KEYS_FILE`), re-read on reload (AUTH-2).
    pub api_keys_file: Option<PathBuf>,
    /// Run with no keys at all: loopback development only (AUTH-6).
    pub allow_no_auth: bool,
    pub data: DataMode,
    pub api_base: Url,
    pub upstream_timeout: Duration,
    pub rate_limit_rps: f64,
    pub rate_limit_burst: u32,
    /// 0 turns the failed-auth limiter off (RATE-6).
    pub auth_fail_rps: f64,
    pub auth_fail_burst: u32,
    pub max_streams_per_key: u32,
    pub sse_keepalive: Duration,
    /// Origins allowed when a request sends `Origin` (NET-2).
    pub allowed_origins: Vec<String>,
    pub max_connections: usize,
    pub header_read_timeout: Duration,
    pub body_read_timeout: Duration,
    pub max_body_bytes: usize,
    /// How long a post may wait for room in a busy session before 503 (MSG-6).
    pub overload_timeout: Duration,
    pub shutdown_grace: Duration,
    /// Where `GET /metrics` listens (METRICS-4): off when `None`; loopback only.
    pub metrics_bind: Option<SocketAddr>,
    /// Share limits, session owners and reloads with other replicas through
    /// this Redis (CLUSTER-* in docs/contract.md); in-process when `None`.
    pub redis_url: Option<RedisUrl>,
    /// How callers authenticate (OAUTH-1..5): API keys, OAuth access
    /// tokens, Cloudflare Access assertions.
    pub auth: AuthSettings,
    /// Proxies whose `CF-Connecting-IP` names the client for the failed-auth
    /// limiter (RATE-6); empty: the TCP peer is the client.
    pub trusted_proxies: TrustedProxies,
    /// Serve `/mcp` to the letter of the revisions: none of COMPAT-1..3's
    /// tolerances for the request shapes Claude's clients really send.
    pub strict_protocol: bool,
    /// Signs what replicas send each other and keys what Redis sees;
    /// required with `redis_url` (CLUSTER-8).
    pub cluster_secret: Option<ClusterSecret>,
    pub audit: AuditTarget,
    /// An inline key list that failed to parse (reported by `Server::bind`).
    pub(crate) key_error: Option<KeyListError>,
    /// Bench builds only: skip the guard (origin, key, limits) entirely, to
    /// measure what it costs. Never compiled into the shipped binary.
    #[cfg(feature = "bench-unguarded")]
    pub bench_unguarded: bool,
}

/// `CFPB_MCP_AUTH` and the settings of each method (OAUTH-1..5), as given;
/// the guard validates them at start and names what is missing or
/// contradictory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthSettings {
    /// The methods in force (default: keys only).
    pub methods: Vec<AuthMethod>,
    /// `CFPB_MCP_OAUTH_ISSUER`: the authorization server, exactly as its
    /// metadata's `issuer` says it.
    pub oauth_issuer: Option<String>,
    /// `CFPB_MCP_OAUTH_RESOURCE`: this server's public MCP URL, which
    /// tokens must name in `aud` (RFC 8707).
    pub oauth_resource: Option<String>,
    /// `CFPB_MCP_OAUTH_SCOPES`: scopes every token must carry.
    pub oauth_scopes: Vec<String>,
    /// `CFPB_MCP_ACCESS_TEAM_DOMAIN`: `<team>.cloudflareaccess.com`.
    pub access_team_domain: Option<String>,
    /// `CFPB_MCP_ACCESS_AUD`: the Access application's AUD tag.
    pub access_aud: Option<String>,
}

impl Default for AuthSettings {
    fn default() -> Self {
        Self {
            methods: vec![AuthMethod::Keys],
            oauth_issuer: None,
            oauth_resource: None,
            oauth_scopes: Vec::new(),
            access_team_domain: None,
            access_aud: None,
        }
    }
}

impl AuthSettings {
    pub fn has(&self, method: AuthMethod) -> bool {
        self.methods.contains(&method)
    }
}

impl Config {
    /// A configuration with the given keys and every other setting at its
    /// docs/contract.md default, except `bind`, which is `127.0.0.1:0` (tests and
    /// embedding want a free port). Invalid keys make `Server::bind` fail.
    pub fn with_keys<I, S>(keys: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut config = Self {
            bind: SocketAddr::from(([127, 0, 0, 1], 0)),
            ..Self::default()
        };
        let joined = keys
            .into_iter()
            .map(|k| k.as_ref().to_owned())
            .collect::<Vec<_>>()
            .join(",");
        match parse_key_list(&joined) {
            Ok(keys) => config.api_keys = keys,
            Err(e) => config.key_error = Some(e),
        }
        config
    }
}

/// The public CCDB5 API (DATA-3).
fn default_api_base() -> Url {
    Url::parse(DEFAULT_API_BASE).expect("a valid URL") // ok: a constant, checked by a test
}

impl Default for Config {
    /// docs/contract.md's defaults, no keys, audit to stderr.
    fn default() -> Self {
        use defaults::*;
        Self {
            bind: SocketAddr::from(([127, 0, 0, 1], 8000)),
            api_keys: Vec::new(),
            api_keys_file: None,
            allow_no_auth: false,
            data: DataMode::Live,
            api_base: default_api_base(),
            upstream_timeout: Duration::from_secs(UPSTREAM_TIMEOUT_SECS),
            rate_limit_rps: RATE_LIMIT_RPS,
            rate_limit_burst: RATE_LIMIT_BURST,
            auth_fail_rps: AUTH_FAIL_RPS,
            auth_fail_burst: AUTH_FAIL_BURST,
            max_streams_per_key: MAX_STREAMS_PER_KEY,
            sse_keepalive: Duration::from_secs(SSE_KEEPALIVE_SECS),
            allowed_origins: Vec::new(),
            max_connections: MAX_CONNECTIONS,
            header_read_timeout: Duration::from_secs(HEADER_READ_TIMEOUT_SECS),
            body_read_timeout: Duration::from_secs(BODY_READ_TIMEOUT_SECS),
            max_body_bytes: MAX_BODY_BYTES,
            overload_timeout: Duration::from_millis(OVERLOAD_TIMEOUT_MS),
            shutdown_grace: Duration::from_secs(SHUTDOWN_GRACE_SECS),
            metrics_bind: None,
            redis_url: None,
            auth: AuthSettings::default(),
            trusted_proxies: TrustedProxies::default(),
            strict_protocol: false,
            cluster_secret: None,
            audit: AuditTarget::Stderr,
            key_error: None,
            #[cfg(feature = "bench-unguarded")]
            bench_unguarded: false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn net_1_defaults_match_the_contract() {
        let c = Config::default();
        assert_eq!(c.bind.to_string(), defaults::BIND);
        assert_eq!(c.api_base.as_str(), DEFAULT_API_BASE);
        assert_eq!((c.rate_limit_rps, c.rate_limit_burst), (2.0, 10));
        assert_eq!(c.max_streams_per_key, 8);
        assert_eq!(c.sse_keepalive, Duration::from_secs(15));
    }

    #[test]
    fn with_keys_validates_without_echoing() {
        let good = [
            "dev-Q7rT2mX9kL4pW8zN5vB3hJ6c",
            "dev-H4kP9sW2xR7mZ5qN8tL3vB6y",
        ];
        let c = Config::with_keys([good[0], "bad key"]);
        let err = c.key_error.unwrap();
        assert_eq!(err.entry, 2);
        assert!(!format!("{err} {err:?}").contains("bad key"));
        assert_eq!(Config::with_keys(good).api_keys.len(), 2);
        // AUTH-9: a weak key stops the server, unquoted.
        let err = Config::with_keys([good[0], "weak-key"]).key_error.unwrap();
        assert_eq!(err.entry, 2);
        assert!(!format!("{err} {err:?}").contains("weak-key"));
    }
}
