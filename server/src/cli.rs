//! The `cfpb-mcp` command line: `serve` (the default), `keygen`, `health`.
//!
//! Every setting is a flag and the same-named environment variable, exactly as
//! docs/contract.md's Configuration table names them (`CFPB_MCP_RATE_LIMIT_RPS` <->
//! `--rate-limit-rps`); deployment files rely on these names. `--help` is the
//! reference. Values are read and validated once, into a [`Config`].

use crate::config::AuthSettings;
use crate::http::proxy::{BadProxy, TrustedProxies};
use crate::identity::AuthMethod;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};
use url::Url;

use crate::cluster::{ClusterSecret, RedisUrl, RedisUrlError, SecretSettingError, SecretText};
use crate::config::{Config, defaults};
use crate::data::{DEFAULT_API_BASE, DataMode};
use crate::identity::keys::{KeyListError, parse_key_list};

/// A command-line value that may hold a secret (the API keys, a Redis URL
/// with its password): `Debug` never shows it, so the derived `Debug` of
/// [`Cli`] and [`ServeArgs`] holds none (issue 23, finding 10).
#[derive(Clone)]
pub struct SecretArg(String);

impl From<String> for SecretArg {
    fn from(text: String) -> Self {
        Self(text)
    }
}

impl SecretArg {
    /// The value in clear, to parse it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for SecretArg {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretArg([REDACTED])")
    }
}

/// A setting the command line could not turn into a [`Config`]. Neither
/// variant quotes the value (it may be a secret).
#[derive(Debug, thiserror::Error)]
pub enum ArgsError {
    #[error(transparent)]
    Keys(#[from] KeyListError),
    #[error("CFPB_MCP_REDIS_URL: {0}")]
    Redis(#[from] RedisUrlError),
    #[error("CFPB_MCP_TRUSTED_PROXIES: {0}")]
    TrustedProxies(#[from] BadProxy),
    #[error("CFPB_MCP_AUTH: {0:?} is no method (keys, oauth, access), or the list is empty")]
    AuthMethod(String),
    #[error(transparent)]
    ClusterSecret(#[from] SecretSettingError),
}

/// `CFPB_MCP_AUTH`: a comma list of methods, at least one, each once.
fn parse_methods(list: &str) -> Result<Vec<AuthMethod>, ArgsError> {
    let mut methods = Vec::new();
    for word in list.split(',').map(str::trim).filter(|w| !w.is_empty()) {
        let method =
            AuthMethod::from_word(word).ok_or_else(|| ArgsError::AuthMethod(word.to_owned()))?;
        if !methods.contains(&method) {
            methods.push(method);
        }
    }
    if methods.is_empty() {
        return Err(ArgsError::AuthMethod(list.to_owned()));
    }
    Ok(methods)
}

#[derive(Debug, Parser)]
#[command(
    name = "cfpb-mcp",
    version,
    about = "A guarded MCP server (HTTP+SSE) for the CFPB Consumer Complaint Database",
    long_about = "A guarded MCP server (HTTP+SSE) for the CFPB Consumer Complaint Database.\n\n\
        Serves GET /mcp/sse and POST /mcp/messages behind API-key auth, per-key rate limits \
        and an audit log (JSON lines on stderr). Meant to sit behind a Cloudflare Tunnel.\n\n\
        Every option is also an environment variable (shown in brackets).",
    args_conflicts_with_subcommands = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    #[command(flatten)]
    pub serve: ServeArgs,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the server (the default when no subcommand is given).
    Serve(Box<ServeArgs>),
    /// Print a fresh 256-bit API key (base64url) on stdout.
    Keygen,
    /// Check a running server's /health; exit 0 iff it answers 200 {"status":"ok"}.
    Health(HealthArgs),
}

#[derive(Debug, Clone, Args)]
pub struct HealthArgs {
    /// URL of the health endpoint.
    #[arg(
        long,
        env = "CFPB_MCP_HEALTH_URL",
        default_value = "http://127.0.0.1:8000/health"
    )]
    pub url: Url,
    /// Give up after this many seconds.
    #[arg(long, default_value_t = 3)]
    pub timeout_secs: u64,
}

#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// Listen address; port 0 picks a free port (printed in the server_start line).
    #[arg(long, env = "CFPB_MCP_BIND", default_value = defaults::BIND)]
    pub bind: SocketAddr,

    /// Comma-separated API keys.
    #[arg(
        long,
        env = "CFPB_MCP_API_KEYS",
        hide_env_values = true,
        value_name = "KEYS"
    )]
    pub api_keys: Option<SecretArg>,

    /// File of API keys, one per line, '#' comments; re-read on SIGHUP.
    #[arg(long, env = "CFPB_MCP_API_KEYS_FILE", value_name = "PATH")]
    pub api_keys_file: Option<PathBuf>,

    /// Allow starting with no keys (local development on a loopback address only).
    #[arg(long, env = "CFPB_MCP_ALLOW_NO_AUTH", value_parser = clap::builder::BoolishValueParser::new())]
    pub allow_no_auth: bool,

    /// Data source: the live CCDB5 API, or the bundled offline (synthetic) dataset.
    #[arg(long, env = "CFPB_MCP_DATA", value_enum, default_value = "live")]
    pub data: DataMode,

    /// Base URL of the CCDB5 search API (for --data live).
    #[arg(long, env = "CFPB_API_BASE", default_value = DEFAULT_API_BASE)]
    pub api_base: Url,

    /// Timeout of each upstream API request, in seconds.
    #[arg(long, env = "CFPB_MCP_UPSTREAM_TIMEOUT_SECS", default_value_t = defaults::UPSTREAM_TIMEOUT_SECS)]
    pub upstream_timeout_secs: u64,

    /// Per-key refill rate, requests per second (fractions allowed).
    #[arg(long, env = "CFPB_MCP_RATE_LIMIT_RPS", default_value_t = defaults::RATE_LIMIT_RPS)]
    pub rate_limit_rps: f64,

    /// Per-key burst.
    #[arg(long, env = "CFPB_MCP_RATE_LIMIT_BURST", default_value_t = defaults::RATE_LIMIT_BURST)]
    pub rate_limit_burst: u32,

    /// Failed authentications allowed per client address per second (0 = limiter off).
    #[arg(long, env = "CFPB_MCP_AUTH_FAIL_RPS", default_value_t = defaults::AUTH_FAIL_RPS)]
    pub auth_fail_rps: f64,

    /// Burst of failed authentications per client address (0 = limiter off).
    #[arg(long, env = "CFPB_MCP_AUTH_FAIL_BURST", default_value_t = defaults::AUTH_FAIL_BURST)]
    pub auth_fail_burst: u32,

    /// Open SSE streams allowed per key.
    #[arg(long, env = "CFPB_MCP_MAX_STREAMS_PER_KEY", default_value_t = defaults::MAX_STREAMS_PER_KEY)]
    pub max_streams_per_key: u32,

    /// Seconds between keep-alive comments on SSE streams.
    #[arg(long, env = "CFPB_MCP_SSE_KEEPALIVE_SECS", default_value_t = defaults::SSE_KEEPALIVE_SECS)]
    pub sse_keepalive_secs: u64,

    /// Comma-separated origins allowed when a request sends Origin (others get 403).
    #[arg(
        long,
        env = "CFPB_MCP_ALLOWED_ORIGINS",
        value_delimiter = ',',
        value_name = "ORIGINS"
    )]
    pub allowed_origins: Vec<String>,

    /// Maximum simultaneous connections.
    #[arg(long, env = "CFPB_MCP_MAX_CONNECTIONS", default_value_t = defaults::MAX_CONNECTIONS)]
    pub max_connections: usize,

    /// Seconds a client has to send its request headers.
    #[arg(long, env = "CFPB_MCP_HEADER_READ_TIMEOUT_SECS", default_value_t = defaults::HEADER_READ_TIMEOUT_SECS)]
    pub header_read_timeout_secs: u64,

    /// Largest accepted message body, in bytes.
    #[arg(long, env = "CFPB_MCP_MAX_BODY_BYTES", default_value_t = defaults::MAX_BODY_BYTES)]
    pub max_body_bytes: usize,

    /// Seconds graceful shutdown waits for in-flight requests.
    #[arg(long, env = "CFPB_MCP_SHUTDOWN_GRACE_SECS", default_value_t = defaults::SHUTDOWN_GRACE_SECS)]
    pub shutdown_grace_secs: u64,

    /// Serve Prometheus metrics at http://ADDR/metrics (a loopback address; off when unset).
    #[arg(long, env = "CFPB_MCP_METRICS_BIND", value_name = "ADDR")]
    pub metrics_bind: Option<SocketAddr>,

    /// Share rate limits, session owners and key reloads with other replicas
    /// through this Redis (redis://HOST:PORT/DB); in-process when unset.
    /// Parsed in `into_config`, not by clap, whose errors quote the value (a
    /// Redis URL may hold a password).
    #[arg(
        long,
        env = "CFPB_MCP_REDIS_URL",
        value_name = "URL",
        hide_env_values = true
    )]
    pub redis_url: Option<SecretArg>,

    /// Serve /mcp to the letter of the MCP revisions, without the
    /// client-compatibility policy (COMPAT-1..3: the request shapes Claude's
    /// clients send that the revisions do not allow; docs/connector.md).
    #[arg(long, env = "CFPB_MCP_STRICT_PROTOCOL", value_parser = clap::builder::BoolishValueParser::new())]
    pub strict_protocol: bool,

    /// Proxies (IP addresses or CIDR blocks, comma-separated) whose
    /// CF-Connecting-IP header names the client for the failed-auth limiter:
    /// the tunnel's cloudflared (e.g. the compose network's block). Unset:
    /// the TCP peer is the client and the header is ignored.
    #[arg(long, env = "CFPB_MCP_TRUSTED_PROXIES", value_name = "LIST")]
    pub trusted_proxies: Option<String>,

    /// How callers authenticate, a comma list of: keys (API keys, the
    /// default), oauth (bearer JWTs from --oauth-issuer), access (the
    /// Cf-Access-Jwt-Assertion of a Cloudflare Access application).
    #[arg(
        long,
        env = "CFPB_MCP_AUTH",
        value_name = "LIST",
        default_value = "keys"
    )]
    pub auth: String,

    /// oauth: the authorization server's issuer URL, exactly as its metadata
    /// says (https; http only on loopback).
    #[arg(long, env = "CFPB_MCP_OAUTH_ISSUER", value_name = "URL")]
    pub oauth_issuer: Option<String>,

    /// oauth: this server's public MCP URL (e.g. https://host/mcp); tokens
    /// must name it in `aud`.
    #[arg(long, env = "CFPB_MCP_OAUTH_RESOURCE", value_name = "URL")]
    pub oauth_resource: Option<String>,

    /// oauth: scopes every token must carry (space or comma separated).
    #[arg(long, env = "CFPB_MCP_OAUTH_SCOPES", value_name = "LIST")]
    pub oauth_scopes: Option<String>,

    /// access: the Cloudflare Access team domain (`<team>.cloudflareaccess.com`).
    #[arg(long, env = "CFPB_MCP_ACCESS_TEAM_DOMAIN", value_name = "DOMAIN")]
    pub access_team_domain: Option<String>,

    /// access: the Access application's AUD tag.
    #[arg(long, env = "CFPB_MCP_ACCESS_AUD", value_name = "TAG")]
    pub access_aud: Option<String>,
    // CLUSTER-8: the cluster secret (issue 23).
    /// With CFPB_MCP_REDIS_URL (required then): the secret that signs every
    /// message between replicas and keys every digest in Redis; 32+ bytes,
    /// the same on every replica (`cfpb-mcp keygen` makes one). Parsed in
    /// `into_config`, never quoted.
    #[arg(
        long,
        env = "CFPB_MCP_CLUSTER_SECRET",
        value_name = "SECRET",
        hide_env_values = true
    )]
    pub cluster_secret: Option<SecretText>,

    /// A file holding the cluster secret (instead of CFPB_MCP_CLUSTER_SECRET),
    /// read once at start, e.g. beside the keys file.
    #[arg(long, env = "CFPB_MCP_CLUSTER_SECRET_FILE", value_name = "PATH")]
    pub cluster_secret_file: Option<PathBuf>,
}

impl ServeArgs {
    /// The validated configuration (audit to stderr).
    pub fn into_config(self) -> Result<Config, ArgsError> {
        let redis_url = match &self.redis_url {
            Some(text) => Some(text.expose().parse::<RedisUrl>()?),
            None => None,
        };
        let cluster_secret = ClusterSecret::from_settings(
            self.cluster_secret.as_ref().map(SecretText::expose),
            self.cluster_secret_file.as_deref(),
        )?;
        let api_keys = match &self.api_keys {
            Some(list) => parse_key_list(list.expose())?,
            None => Vec::new(),
        };
        Ok(Config {
            bind: self.bind,
            api_keys,
            api_keys_file: self.api_keys_file,
            allow_no_auth: self.allow_no_auth,
            data: self.data,
            api_base: self.api_base,
            upstream_timeout: Duration::from_secs(self.upstream_timeout_secs),
            rate_limit_rps: self.rate_limit_rps,
            rate_limit_burst: self.rate_limit_burst,
            auth_fail_rps: self.auth_fail_rps,
            auth_fail_burst: self.auth_fail_burst,
            max_streams_per_key: self.max_streams_per_key,
            sse_keepalive: Duration::from_secs(self.sse_keepalive_secs),
            allowed_origins: self
                .allowed_origins
                .into_iter()
                .map(|o| o.trim().to_owned())
                .filter(|o| !o.is_empty())
                .collect(),
            max_connections: self.max_connections,
            header_read_timeout: Duration::from_secs(self.header_read_timeout_secs),
            max_body_bytes: self.max_body_bytes,
            shutdown_grace: Duration::from_secs(self.shutdown_grace_secs),
            metrics_bind: self.metrics_bind,
            redis_url,
            strict_protocol: self.strict_protocol,
            auth: AuthSettings {
                methods: parse_methods(&self.auth)?,
                oauth_issuer: self.oauth_issuer,
                oauth_resource: self.oauth_resource,
                oauth_scopes: self
                    .oauth_scopes
                    .as_deref()
                    .unwrap_or_default()
                    .split([' ', ','])
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned)
                    .collect(),
                access_team_domain: self.access_team_domain,
                access_aud: self.access_aud,
            },
            trusted_proxies: match &self.trusted_proxies {
                Some(list) => TrustedProxies::parse(list)?,
                None => TrustedProxies::default(),
            },
            cluster_secret,
            ..Config::default()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_is_well_formed() {
        Cli::command().debug_assert();
    }

    #[test]
    fn every_contract_variable_is_a_flag() {
        let help = Cli::command().render_long_help().to_string();
        for var in [
            "CFPB_MCP_API_KEYS",
            "CFPB_MCP_API_KEYS_FILE",
            "CFPB_MCP_BIND",
            "CFPB_MCP_DATA",
            "CFPB_API_BASE",
            "CFPB_MCP_RATE_LIMIT_RPS",
            "CFPB_MCP_RATE_LIMIT_BURST",
            "CFPB_MCP_AUTH_FAIL_RPS",
            "CFPB_MCP_AUTH_FAIL_BURST",
            "CFPB_MCP_MAX_STREAMS_PER_KEY",
            "CFPB_MCP_SSE_KEEPALIVE_SECS",
            "CFPB_MCP_ALLOWED_ORIGINS",
        ] {
            assert!(help.contains(var), "{var} missing from --help");
        }
    }

    #[test]
    fn debug_of_the_command_line_shows_no_secret() {
        let key = "dev-Q7rT2mX9kL4pW8zN5vB3hJ6c";
        let cli = Cli::try_parse_from([
            "cfpb-mcp",
            "--api-keys",
            key,
            "--redis-url",
            "redis://user:hunter2-password@redis:6379/0",
        ])
        .unwrap();
        let shown = format!("{cli:?} {:?}", cli.serve);
        for secret in [key, "hunter2-password"] {
            assert!(!shown.contains(secret), "{shown}");
        }
        assert!(shown.contains("SecretArg([REDACTED])"));
        let config = cli.serve.into_config().unwrap();
        assert_eq!(config.api_keys.len(), 1);
        let shown = format!("{config:?}");
        assert!(
            !shown.contains(key) && !shown.contains("hunter2-password"),
            "{shown}"
        );
    }

    #[test]
    fn serve_is_the_default_and_flags_parse() {
        let cli =
            Cli::try_parse_from(["cfpb-mcp", "--data", "fixtures", "--rate-limit-rps", "0.5"])
                .unwrap();
        assert!(cli.command.is_none());
        let config = cli.serve.into_config().unwrap();
        assert_eq!(config.data, DataMode::Fixtures);
        assert_eq!(config.rate_limit_rps, 0.5);
        let cli = Cli::try_parse_from([
            "cfpb-mcp",
            "serve",
            "--allowed-origins",
            "https://a.example, https://b.example",
        ])
        .unwrap();
        let Some(Command::Serve(args)) = cli.command else {
            panic!("serve")
        };
        assert_eq!(
            args.into_config().unwrap().allowed_origins,
            ["https://a.example", "https://b.example"]
        );
    }
}
