//! What the harness points at: base URL, keys, header style, extra headers, log source,
//! and the timing settings. Plain data, built once by the CLI (or the embedded mode) before any check runs.
//! Must never print a key: `Target`'s Debug goes through `ApiKey`'s redacting Debug.

use crate::key::{ApiKey, ExtraHeader, HeaderStyle};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use url::Url;

/// Where the target's audit log (LOG-1) can be read.
#[derive(Clone, Debug, Default)]
pub enum LogSource {
    /// No log available: LOG checks skip.
    #[default]
    None,
    /// A file the server's stderr goes to; read from where it ended when the run started.
    File(PathBuf),
    /// A shell command that prints the log (e.g. `docker compose logs server`).
    Command(String),
    /// An in-memory buffer the embedded server writes to.
    Memory(SharedBuf),
}

/// A cloneable in-memory `Write` sink (the embedded server's audit writer).
#[derive(Clone, Debug, Default)]
pub struct SharedBuf(pub Arc<Mutex<Vec<u8>>>);

impl SharedBuf {
    pub fn contents(&self) -> Vec<u8> {
        match self.0.lock() {
            Ok(g) => g.clone(),
            Err(p) => p.into_inner().clone(),
        }
    }
}

impl std::io::Write for SharedBuf {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self.0.lock() {
            Ok(mut g) => g.extend_from_slice(buf),
            Err(p) => p.into_inner().extend_from_slice(buf),
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Which MCP transports a run checks (`--transport`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Transport {
    /// HTTP+SSE (`/mcp/sse` + `/mcp/messages`): every check family but HTTP, HTTP-2026 and
    /// COMPAT (the CLAUDE surfaces over `/mcp` skip).
    Sse,
    /// Streamable HTTP (`/mcp`), the session-based revisions: the HTTP checks only; `/mcp`
    /// is required.
    Streamable,
    /// MCP 2026-07-28 on `/mcp`, the stateless revision: the HTTP-2026 checks only; the
    /// revision is required.
    #[value(name = "mcp-2026")]
    #[serde(rename = "mcp-2026")]
    Mcp2026,
    /// Every group; `/mcp` and the 2026-07-28 revision are required.
    Both,
}

impl Transport {
    /// Whether a check in the group of `group` (its family's row in `checks::families`)
    /// belongs to this transport's run: its own group, or every group for `Both`.
    pub fn includes(self, group: Transport) -> bool {
        self == Transport::Both || self == group
    }
}

/// Timing and probing limits.
#[derive(Clone, Debug)]
pub struct Settings {
    /// Timeout of every network step (connect, request, waiting for one SSE event).
    pub timeout: Duration,
    /// How long SSE-4 waits for a keep-alive comment (contract default interval is 15 s).
    pub keepalive_wait: Duration,
    /// Rate limit assumed until RATE discovery has measured it (contract defaults).
    pub assume_burst: u32,
    pub assume_rps: f64,
    /// Failed-auth limiter assumed per client address (half the server's generous default).
    pub auth_fail_burst: u32,
    pub auth_fail_rps: f64,
    /// Most requests RATE discovery sends looking for the first 429.
    pub max_burst_probe: u32,
    /// Most SSE streams RATE-7 opens looking for the cap.
    pub max_streams_probe: u32,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(10),
            keepalive_wait: Duration::from_secs(20),
            assume_burst: 10,
            assume_rps: 2.0,
            auth_fail_burst: 40,
            auth_fail_rps: 5.0,
            max_burst_probe: 200,
            max_streams_probe: 32,
        }
    }
}

/// The limits the operator configured (`--expect-*`), which the discovered ones must match
/// within the tolerances of the `*.expect-*` checks; `None` = discovery only (that check
/// skips).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Expected {
    /// `CFPB_MCP_RATE_LIMIT_BURST` (RATE-1.expect-burst).
    pub burst: Option<u32>,
    /// `CFPB_MCP_RATE_LIMIT_RPS` (RATE-1.expect-rps).
    pub rps: Option<f64>,
    /// `CFPB_MCP_SSE_KEEPALIVE_SECS` (SSE-4.expect-keepalive).
    pub keepalive: Option<Duration>,
    /// `CFPB_MCP_MAX_STREAMS_PER_KEY` (RATE-7.expect-max-streams).
    pub max_streams: Option<u32>,
}

/// The system under test.
#[derive(Clone, Debug)]
pub struct Target {
    /// Base URL, e.g. `https://mcp.example.com`; paths are resolved against it.
    pub base: Url,
    /// One or two keys; the second enables RATE-4 and MSG-2.foreign.
    pub keys: Vec<ApiKey>,
    pub style: HeaderStyle,
    pub log: LogSource,
    /// An origin the target allows (NET-2.allowed); `None` skips that probe.
    pub allowed_origin: Option<String>,
    /// `--transport`; `None` = both groups, the HTTP checks skipping when the target
    /// doesn't offer `/mcp` (detected by the first HTTP check).
    pub transport: Option<Transport>,
    /// Headers added to every request (`--header`), e.g. a Cloudflare Access service
    /// token; their values are redacted like keys.
    pub extra_headers: Vec<ExtraHeader>,
    /// The configured limits to verify (`--expect-*`).
    pub expect: Expected,
    /// CA certificates (PEM) trusted beside the web roots and the system store
    /// (`--ca-file`), e.g. a local TLS front's or a corporate proxy's.
    pub ca_file: Option<PathBuf>,
    /// The legacy HTTP+SSE stream's path (`--sse-path`), for the `mcp` profile.
    pub sse_path: String,
    /// The Streamable HTTP endpoint's path (`--mcp-path`), for the `mcp` profile and the
    /// Streamable HTTP client.
    pub mcp_path: String,
    /// An OAuth token of the same issuer for another resource (`--oauth-foreign-token`),
    /// which the target must refuse (OAUTH-3.audience).
    pub foreign_token: Option<ApiKey>,
    pub settings: Settings,
}

/// The default `--sse-path`.
pub const DEFAULT_SSE_PATH: &str = "/mcp/sse";
/// The default `--mcp-path`.
pub const DEFAULT_MCP_PATH: &str = "/mcp";

impl Target {
    pub fn new(base: Url, keys: Vec<ApiKey>) -> Self {
        Self {
            base,
            keys,
            style: HeaderStyle::default(),
            log: LogSource::None,
            allowed_origin: None,
            transport: None,
            extra_headers: Vec::new(),
            expect: Expected::default(),
            ca_file: None,
            sse_path: DEFAULT_SSE_PATH.into(),
            mcp_path: DEFAULT_MCP_PATH.into(),
            foreign_token: None,
            settings: Settings::default(),
        }
    }

    /// `path` (which may carry a query) resolved against the base URL.
    pub fn url(&self, path: &str) -> Url {
        // Keep any path prefix of the base (e.g. behind a reverse proxy at /x/).
        let base = self.base.as_str().trim_end_matches('/');
        Url::parse(&format!("{base}{path}")).unwrap_or_else(|_| self.base.clone())
    }

    /// The key secrets with their shell names, for redaction; and the values of the extra
    /// headers of 8 characters or more (shorter ones would match ordinary report text).
    pub fn secrets(&self) -> Vec<(String, String)> {
        let keys = self
            .keys
            .iter()
            .chain(&self.foreign_token)
            .map(|k| (k.expose().to_string(), k.var().to_string()));
        let headers = self
            .extra_headers
            .iter()
            .filter(|h| h.expose().len() >= 8)
            .map(|h| (h.expose().to_string(), h.var().to_string()));
        keys.chain(headers).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_hold_the_keys_and_the_longer_extra_header_values() {
        let mut t = Target::new(
            Url::parse("http://127.0.0.1:1").unwrap(),
            vec![ApiKey::new("k", 0)],
        );
        t.extra_headers = vec![
            ExtraHeader::parse("CF-Access-Client-Secret: 0123456789abcdef", 1).unwrap(),
            ExtraHeader::parse("X-Short: yes", 2).unwrap(),
        ];
        let vars: Vec<String> = t.secrets().into_iter().map(|(_, v)| v).collect();
        assert_eq!(vars, ["MCP_KEY", "MCP_HEADER_1"]);
        assert!(!format!("{t:?}").contains("0123456789abcdef"));
    }
}
