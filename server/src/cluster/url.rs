//! [`RedisUrl`]: `CFPB_MCP_REDIS_URL`, validated at start. Its `Display` and
//! `Debug` never show credentials (a Redis URL may carry a password), so it
//! can go into an error message or a log line as it is.

use std::str::FromStr;

use url::Url;

/// A `redis://` or `rediss://` URL.
#[derive(Clone, PartialEq, Eq)]
pub struct RedisUrl(Url);

/// Why a Redis URL was refused. Never quotes the URL (it may hold a password).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RedisUrlError {
    #[error("not a URL (expected redis://HOST:PORT/DB or rediss://...)")]
    NotAUrl,
    #[error("scheme must be redis:// or rediss://")]
    Scheme,
    #[error("no host")]
    NoHost,
}

impl FromStr for RedisUrl {
    type Err = RedisUrlError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let url = Url::parse(text.trim()).map_err(|_| RedisUrlError::NotAUrl)?;
        if !matches!(url.scheme(), "redis" | "rediss") {
            return Err(RedisUrlError::Scheme);
        }
        if url.host_str().is_none_or(str::is_empty) {
            return Err(RedisUrlError::NoHost);
        }
        Ok(Self(url))
    }
}

impl RedisUrl {
    /// The full URL, credentials included: for the Redis client only.
    pub fn expose(&self) -> &str {
        self.0.as_str()
    }

    /// The password, if the URL has one (to scrub it out of client errors).
    pub fn password(&self) -> Option<&str> {
        self.0.password().filter(|p| !p.is_empty())
    }
}

impl std::fmt::Display for RedisUrl {
    /// `scheme://host:port/path`, with `***@` where credentials were.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let u = &self.0;
        let creds = if u.username().is_empty() && u.password().is_none() {
            ""
        } else {
            "***@"
        };
        write!(f, "{}://{creds}{}", u.scheme(), u.host_str().unwrap_or(""))?;
        if let Some(port) = u.port() {
            write!(f, ":{port}")?;
        }
        f.write_str(u.path())
    }
}

impl std::fmt::Debug for RedisUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "RedisUrl({self})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cluster_6_credentials_are_never_shown() {
        let url: RedisUrl = "redis://user:s3cret-pass@redis.internal:6380/2"
            .parse()
            .unwrap();
        for shown in [url.to_string(), format!("{url:?}")] {
            assert!(
                !shown.contains("s3cret-pass") && !shown.contains("user"),
                "{shown}"
            );
            assert!(
                shown.contains("redis://***@redis.internal:6380/2"),
                "{shown}"
            );
        }
        assert_eq!(url.password(), Some("s3cret-pass"));
        let plain: RedisUrl = "redis://127.0.0.1:6379".parse().unwrap();
        assert_eq!(plain.to_string(), "redis://127.0.0.1:6379");
        assert_eq!(plain.password(), None);
    }

    #[test]
    fn only_redis_urls_are_accepted() {
        assert_eq!("http://x".parse::<RedisUrl>(), Err(RedisUrlError::Scheme));
        assert_eq!("nonsense".parse::<RedisUrl>(), Err(RedisUrlError::NotAUrl));
        assert_eq!("redis://".parse::<RedisUrl>(), Err(RedisUrlError::NoHost));
        assert!("rediss://h:1/0".parse::<RedisUrl>().is_ok());
    }
}
