//! [`Config::validate`]: every check a configuration can fail on its own,
//! before anything is bound, read or connected, in one place; each failure
//! a [`ConfigError`] naming the setting. What needs the world (the keys
//! file, the issuer's keys, a port, Redis) is checked where it is used.
//! Never quotes a key or a secret.

use crate::cluster::{MIN_SECRET_BYTES, SECRET_FILE_VAR, SECRET_VAR};
use crate::config::settings::Config;
use crate::identity::keys::KeyListError;

/// Why the server refuses a configuration: the setting, and what is wrong.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ConfigError {
    /// An inline key list that did not parse: which entry, and why (AUTH-2,
    /// AUTH-9).
    #[error("CFPB_MCP_API_KEYS: {0}")]
    Keys(KeyListError),
    /// An authentication setting missing, malformed or contradicting
    /// another (OAUTH-1..5).
    #[error("{name}: {why}")]
    Auth { name: &'static str, why: String },
    /// A count, size or interval that must not be 0.
    #[error("{0}: must be greater than 0")]
    Zero(&'static str),
    /// A per-key limiter lets at least one request through (RATE-1).
    #[error("CFPB_MCP_RATE_LIMIT_BURST: must be at least 1")]
    NoBurst,
    /// A rate that is no positive, finite number of requests per second
    /// (`CFPB_MCP_AUTH_FAIL_RPS` may also be 0: its limiter off, RATE-6).
    #[error("{name}: must be a positive number of requests per second (got {rps})")]
    BadRate { name: &'static str, rps: f64 },
    /// CLUSTER-8: Redis is not trusted; without the secret that signs what
    /// crosses it, no cluster.
    #[error(
        "{SECRET_VAR}: required with CFPB_MCP_REDIS_URL: it signs every message between \
         replicas (at least {MIN_SECRET_BYTES} bytes, e.g. from `cfpb-mcp keygen`; or \
         {SECRET_FILE_VAR} naming a file that holds it)"
    )]
    NoClusterSecret,
}

impl Config {
    /// Check every setting that can be judged on its own, in the order the
    /// server used to meet them: the inline keys, the authentication
    /// methods, the limits, the rates, the cluster secret. The first problem found is the answer.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if let Some(e) = &self.key_error {
            return Err(ConfigError::Keys(e.clone()));
        }
        self.auth.validate()?;
        self.check_limits()?;
        self.check_rates()?;
        if self.redis_url.is_some() && self.cluster_secret.is_none() {
            return Err(ConfigError::NoClusterSecret);
        }
        Ok(())
    }

    /// The counts, sizes and intervals that must not be 0 (NET-3, MSG-3,
    /// SSE-4, RATE-7); an interval under a millisecond counts as 0.
    fn check_limits(&self) -> Result<(), ConfigError> {
        let limits = [
            (
                "CFPB_MCP_MAX_STREAMS_PER_KEY",
                self.max_streams_per_key == 0,
            ),
            (
                "CFPB_MCP_SSE_KEEPALIVE_SECS",
                self.sse_keepalive.as_millis() == 0,
            ),
            ("CFPB_MCP_MAX_CONNECTIONS", self.max_connections == 0),
            ("CFPB_MCP_MAX_BODY_BYTES", self.max_body_bytes == 0),
            (
                "CFPB_MCP_HEADER_READ_TIMEOUT_SECS",
                self.header_read_timeout.as_millis() == 0,
            ),
        ];
        match limits.into_iter().find(|(_, zero)| *zero) {
            Some((name, _)) => Err(ConfigError::Zero(name)),
            None => Ok(()),
        }
    }

    /// The limiters' rates and burst (RATE-1, RATE-6).
    fn check_rates(&self) -> Result<(), ConfigError> {
        if self.rate_limit_burst == 0 {
            return Err(ConfigError::NoBurst);
        }
        let positive = |rps: f64| rps.is_finite() && rps > 0.0;
        if !positive(self.rate_limit_rps) {
            return Err(ConfigError::BadRate {
                name: "CFPB_MCP_RATE_LIMIT_RPS",
                rps: self.rate_limit_rps,
            });
        }
        if !(self.auth_fail_rps == 0.0 || positive(self.auth_fail_rps)) {
            return Err(ConfigError::BadRate {
                name: "CFPB_MCP_AUTH_FAIL_RPS",
                rps: self.auth_fail_rps,
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::cluster::RedisUrl;
    use crate::identity::AuthMethod;

    const KEY: &str = "dev-Q7rT2mX9kL4pW8zN5vB3hJ6c";

    #[test]
    fn each_bad_setting_is_named() {
        type Change = fn(&mut Config);
        let table: [(Change, &str); 18] = [
            (
                |c| c.max_streams_per_key = 0,
                "CFPB_MCP_MAX_STREAMS_PER_KEY: must be greater than 0",
            ),
            (
                |c| c.sse_keepalive = Duration::ZERO,
                "CFPB_MCP_SSE_KEEPALIVE_SECS: must be greater than 0",
            ),
            (
                |c| c.max_connections = 0,
                "CFPB_MCP_MAX_CONNECTIONS: must be greater than 0",
            ),
            (
                |c| c.max_body_bytes = 0,
                "CFPB_MCP_MAX_BODY_BYTES: must be greater than 0",
            ),
            (
                |c| c.header_read_timeout = Duration::ZERO,
                "CFPB_MCP_HEADER_READ_TIMEOUT_SECS: must be greater than 0",
            ),
            (
                |c| c.rate_limit_burst = 0,
                "CFPB_MCP_RATE_LIMIT_BURST: must be at least 1",
            ),
            (
                |c| c.rate_limit_rps = 0.0,
                "CFPB_MCP_RATE_LIMIT_RPS: must be a positive number of requests per second (got 0)",
            ),
            (
                |c| c.rate_limit_rps = f64::NAN,
                "CFPB_MCP_RATE_LIMIT_RPS: must be a positive number of requests per second (got NaN)",
            ),
            (
                |c| c.auth_fail_rps = -1.0,
                "CFPB_MCP_AUTH_FAIL_RPS: must be a positive number of requests per second (got -1)",
            ),
            (
                |c| c.auth_fail_rps = f64::INFINITY,
                "CFPB_MCP_AUTH_FAIL_RPS: must be a positive number of requests per second (got inf)",
            ),
            (
                |c| c.redis_url = Some("redis://127.0.0.1:6379/0".parse::<RedisUrl>().unwrap()),
                "CFPB_MCP_CLUSTER_SECRET: required with CFPB_MCP_REDIS_URL: it signs every message \
                 between replicas (at least 32 bytes, e.g. from `cfpb-mcp keygen`; or \
                 CFPB_MCP_CLUSTER_SECRET_FILE naming a file that holds it)",
            ),
            (
                |c| c.auth.methods = vec![AuthMethod::Oauth],
                "CFPB_MCP_OAUTH_ISSUER: required with CFPB_MCP_AUTH=oauth",
            ),
            (
                |c| {
                    c.auth.methods = vec![AuthMethod::Oauth];
                    c.auth.oauth_issuer = Some("http://auth.example".into());
                },
                "CFPB_MCP_OAUTH_ISSUER: must be an https URL (http only on loopback, for tests)",
            ),
            (
                |c| {
                    c.auth.methods = vec![AuthMethod::Oauth];
                    c.auth.oauth_issuer = Some("http://127.0.0.1:9/".into());
                    c.auth.oauth_resource = Some("https://mcp.example/mcp?x=1".into());
                },
                "CFPB_MCP_OAUTH_RESOURCE: a resource URI has no query or fragment (RFC 8707)",
            ),
            (
                |c| c.auth.oauth_scopes = vec!["read".into()],
                "CFPB_MCP_OAUTH_SCOPES: set, but CFPB_MCP_AUTH does not list oauth",
            ),
            (
                |c| c.auth.access_aud = Some("tag".into()),
                "CFPB_MCP_ACCESS_AUD: set, but CFPB_MCP_AUTH does not list access",
            ),
            (
                |c| {
                    c.auth.methods = vec![AuthMethod::Access];
                    c.auth.access_team_domain = Some("team.cloudflareaccess.com".into());
                },
                "CFPB_MCP_ACCESS_AUD: required with CFPB_MCP_AUTH=access",
            ),
            (
                |c| *c = Config::with_keys([KEY, "bad key"]),
                "CFPB_MCP_API_KEYS: key #2 contains a character outside A-Z a-z 0-9 - . _ ~ + / =",
            ),
        ];
        for (change, expected) in table {
            let mut config = Config::with_keys([KEY]);
            change(&mut config);
            let error = config.validate().unwrap_err();
            assert_eq!(error.to_string(), expected, "{error:?}");
        }
    }

    #[test]
    fn the_defaults_with_a_key_and_an_off_auth_fail_limiter_pass() {
        let mut config = Config::with_keys([KEY]);
        assert_eq!(config.validate(), Ok(()));
        config.auth_fail_rps = 0.0;
        assert_eq!(config.validate(), Ok(()));
        // Keyless is the guard's to judge (it needs the keys file).
        assert_eq!(Config::default().validate(), Ok(()));
    }
}
