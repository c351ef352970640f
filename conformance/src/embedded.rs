//! Embedded mode: starts the server library on an ephemeral loopback port with generated
//! keys and the fixtures data, captures its audit log in memory, and stops it afterwards.
//! The harness only embeds the server here; no check ever calls the server's code.
//! Never prints the generated keys.

use crate::key::{ApiKey, HeaderStyle};
use crate::target::{Expected, LogSource, Settings, SharedBuf, Target};
use cfpb_mcp_server::data::DataMode;
use cfpb_mcp_server::{AuditTarget, Config, RunningServer, Server};
use std::time::Duration;

/// The origin the embedded server allows (checked by NET-2.allowed).
pub const ALLOWED_ORIGIN: &str = "https://claude.ai";

/// Limits the embedded server runs with. The refill is faster than the contract default
/// (2/s) so a full run takes seconds; the harness discovers it from outside either way.
pub const EMBEDDED_RPS: f64 = 10.0;
pub const EMBEDDED_BURST: u32 = 10;
/// Keep-alive interval of the embedded server; SSE-4 waits at most `keepalive_wait`.
pub const EMBEDDED_KEEPALIVE: Duration = Duration::from_secs(1);
/// SSE streams per key the embedded server allows.
pub const EMBEDDED_MAX_STREAMS: u32 = 8;

/// A running embedded server and the target that points at it.
pub struct Embedded {
    pub target: Target,
    running: RunningServer,
}

/// Starts the embedded server. `settings.keepalive_wait` is cut to 3 s when longer (the
/// embedded keep-alive interval is 1 s).
pub async fn start(mut settings: Settings, style: HeaderStyle) -> Result<Embedded, String> {
    let keys = vec![ApiKey::generate(0), ApiKey::generate(1)];
    let log = SharedBuf::default();
    let mut config = Config::with_keys(keys.iter().map(|k| k.expose().to_string()));
    config.data = DataMode::Fixtures;
    config.sse_keepalive = EMBEDDED_KEEPALIVE;
    config.rate_limit_rps = EMBEDDED_RPS;
    config.rate_limit_burst = EMBEDDED_BURST;
    config.max_streams_per_key = EMBEDDED_MAX_STREAMS;
    config.allowed_origins = vec![ALLOWED_ORIGIN.into()];
    config.audit = AuditTarget::Writer(Box::new(log.clone()));
    let running = Server::bind(config).await.map_err(|e| e.to_string())?;
    let base =
        url::Url::parse(&format!("http://{}", running.local_addr())).map_err(|e| e.to_string())?;
    settings.keepalive_wait = settings.keepalive_wait.min(Duration::from_secs(3));
    let mut target = Target::new(base, keys);
    target.style = style;
    target.log = LogSource::Memory(log);
    target.allowed_origin = Some(ALLOWED_ORIGIN.into());
    target.settings = settings;
    // What it was configured with is what the `*.expect-*` checks verify.
    target.expect = Expected {
        burst: Some(EMBEDDED_BURST),
        rps: Some(EMBEDDED_RPS),
        keepalive: Some(EMBEDDED_KEEPALIVE),
        max_streams: Some(EMBEDDED_MAX_STREAMS),
    };
    Ok(Embedded { target, running })
}

impl Embedded {
    /// Stops the server gracefully (ends streams, flushes the log).
    pub async fn stop(self) {
        self.running.shutdown().await;
    }
}
