//! The run context every check gets: the target, the HTTP client, the pacer, and the
//! facts learned once per run (measured limits, the stream cap, the `/mcp` offer, the
//! 2026-07-28 offer, the session prerequisite, the LOG capture, the response scan). The operations on it live beside it in `client/` (sending, pacing, SSE and
//! `/mcp` sessions, limit discovery, the log). Must never print or return a key in an
//! error message (errors describe what happened, not what was sent).

use super::error::ClientError;
use super::facts::{Capture, Limits, Offer};
use super::pacer::{Pace, Pacer};
use super::probe::HeaderSpec;
use super::scan::ResponseScan;
use crate::key::ApiKey;
use crate::target::{LogSource, Target};
use std::sync::Arc;
use std::time::Duration;
use url::Url;

/// The run context shared by all checks.
pub struct Ctx {
    pub target: Target,
    pub(super) client: reqwest::Client,
    /// The raw sender's TLS configuration (the same trust as `client`'s).
    pub(super) tls: Arc<rustls::ClientConfig>,
    pub(super) pacer: Pacer,
    pub(super) limits: tokio::sync::OnceCell<Result<Limits, ClientError>>,
    pub(super) log_start: u64,
    /// The LOG checks' traffic and log text, gathered once per run.
    pub(super) capture: tokio::sync::OnceCell<Result<Capture, ClientError>>,
    /// Whether the target offers Streamable HTTP on `/mcp`, detected once per run.
    pub(super) offer: tokio::sync::OnceCell<Offer>,
    /// Whether the target speaks MCP 2026-07-28 on `/mcp` (`server/discover`), detected
    /// once per run.
    pub(super) stateless: tokio::sync::OnceCell<Offer>,
    /// Whether an SSE session opens with key 1 (the prerequisite of the checks that need
    /// one), tried once per run.
    pub(super) session_prereq: tokio::sync::OnceCell<Result<(), ClientError>>,
    /// Whether answers arrive in that session (the `initialize` answer as a `message`
    /// event): the prerequisite of the checks that need a round trip, tried once per run.
    pub(super) answers_prereq: tokio::sync::OnceCell<Result<(), ClientError>>,
    /// Whether `initialize` + `tools/list` over Streamable HTTP work with key 1 (the
    /// `mcp` profile's prerequisite), tried once per run.
    pub(super) mcp_prereq: tokio::sync::OnceCell<Result<(), ClientError>>,
    /// The per-key stream cap as RATE-7 counted it (streams open when the 429 came), for
    /// RATE-7.expect-max-streams.
    pub(super) stream_cap: std::sync::OnceLock<u32>,
    /// Every response of the run, scanned for the keys as it arrives (AUTH-7.run).
    pub(super) scan: Arc<ResponseScan>,
}

impl Ctx {
    pub fn new(target: Target) -> Result<Self, ClientError> {
        let s = &target.settings;
        let mut builder = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(s.timeout)
            .pool_max_idle_per_host(4)
            .user_agent(concat!("mcp-conformance/", env!("CARGO_PKG_VERSION")));
        if target
            .base
            .host_str()
            .is_some_and(|h| h == "localhost" || h.starts_with("127.") || h == "[::1]")
        {
            builder = builder.no_proxy();
        }
        let extra = match &target.ca_file {
            Some(path) => super::tls::load_ca_file(path)?,
            None => Vec::new(),
        };
        for cert in super::tls::reqwest_roots(&extra)? {
            builder = builder.add_root_certificate(cert);
        }
        let tls = super::tls::raw_tls_config(&extra)?;
        let client = builder
            .build()
            .map_err(|e| ClientError::Setup(e.to_string()))?;
        let pacer = Pacer::new(s, target.keys.len());
        let log_start = match &target.log {
            LogSource::File(p) => std::fs::metadata(p).map(|m| m.len()).unwrap_or(0),
            _ => 0,
        };
        Ok(Self {
            client,
            tls,
            pacer,
            limits: tokio::sync::OnceCell::new(),
            log_start,
            capture: tokio::sync::OnceCell::new(),
            offer: tokio::sync::OnceCell::new(),
            stateless: tokio::sync::OnceCell::new(),
            session_prereq: tokio::sync::OnceCell::new(),
            answers_prereq: tokio::sync::OnceCell::new(),
            mcp_prereq: tokio::sync::OnceCell::new(),
            stream_cap: std::sync::OnceLock::new(),
            scan: Arc::new(ResponseScan::new(&target.keys)),
            target,
        })
    }

    /// Records the per-key stream cap counted (the first count of the run stays).
    pub fn record_stream_cap(&self, open: u32) {
        let _ = self.stream_cap.set(open);
    }

    /// The per-key stream cap counted so far in this run, if any.
    pub fn stream_cap(&self) -> Option<u32> {
        self.stream_cap.get().copied()
    }

    /// What the run-wide response scan has found so far.
    pub fn response_scan(&self) -> super::scan::ScanFindings {
        self.scan.findings()
    }

    pub fn timeout(&self) -> Duration {
        self.target.settings.timeout
    }

    /// Key `slot`, if configured.
    pub fn key(&self, slot: usize) -> Option<&ApiKey> {
        self.target.keys.get(slot)
    }

    /// The primary key's header in the configured style.
    pub fn auth(&self, slot: usize) -> Option<HeaderSpec> {
        self.key(slot)
            .map(|k| HeaderSpec::key(self.target.style, k))
    }

    pub fn url(&self, path: &str) -> Url {
        self.target.url(path)
    }

    /// Waits until the pacer says one request of this kind may go, and reserves it.
    pub async fn pace(&self, pace: Pace) {
        self.pacer.pace(pace).await;
    }

    /// Marks a bucket empty (after a check drained it on purpose) for `for_at_least`.
    pub fn drained(&self, pace: Pace, for_at_least: Duration) {
        self.pacer.drained(pace, for_at_least);
    }

    /// Waits until the pacer expects key `slot`'s bucket to be full.
    pub async fn wait_full(&self, slot: usize) {
        self.pacer.wait_full(slot).await;
    }
}
