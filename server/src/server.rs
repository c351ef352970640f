//! The server: binding, the accept loop, key reloads, graceful shutdown.
//!
//! Modelled on mini-redis's `Listener`: the accept loop owns the connection
//! cap (a semaphore, NET-3) and the shutdown signal; each connection is served
//! by hyper's HTTP/1.1 connection with a header read timeout, and is told to
//! shut down gracefully when the server stops. [`RunningServer::shutdown`]
//! ends every stream, lets in-flight requests finish within the grace period,
//! and flushes the audit log (LOG-3).

use std::net::SocketAddr;
use std::num::NonZeroU32;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use arc_swap::ArcSwap;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use serde_json::json;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::audit::{AuditLog, Timestamp};
use crate::config::Config;
use crate::data::{DataError, DataMode, DataSource};
use crate::guard::keys::{ApiKey, KeyListError, KeySet, parse_key_file};
use crate::guard::limit::{AuthFailLimiter, BadRate, KeyLimiter};
use crate::guard::origin::normalize_origin;
use crate::http;
use crate::session::SessionRegistry;
use crate::streamable::Streamable;

/// Shared state of a running server: what every request handler can see.
pub(crate) struct AppState {
    /// Verified against on every guarded request; swapped whole on reload.
    pub keys: ArcSwap<KeySet>,
    /// Inline keys (kept across reloads) and the file re-read on reload.
    pub inline_keys: Vec<ApiKey>,
    pub keys_file: Option<PathBuf>,
    /// `--allow-no-auth` with no keys: every request is the anonymous caller.
    pub keyless: bool,
    /// Bench builds only: no guard at all (see `Config::bench_unguarded`).
    #[cfg(feature = "bench-unguarded")]
    pub unguarded: bool,
    pub limiter: KeyLimiter,
    pub auth_fail: AuthFailLimiter,
    pub sessions: Arc<SessionRegistry>,
    /// The Streamable HTTP transport on `/mcp` and its sessions.
    pub streamable: Streamable,
    pub audit: AuditLog,
    pub source: DataSource,
    pub allowed_origins: Vec<String>,
    pub sse_keepalive: Duration,
    pub max_body_bytes: usize,
    pub body_read_timeout: Duration,
    pub overload_timeout: Duration,
    /// Cancelled once, at shutdown; every session's token is a child of it.
    pub shutdown: CancellationToken,
    /// Connection, stream and MCP service tasks, awaited at shutdown.
    pub tasks: TaskTracker,
}

/// Why the server would not start. Messages name the setting, never a key.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("CFPB_MCP_API_KEYS: {0}")]
    Keys(KeyListError),
    #[error("CFPB_MCP_API_KEYS_FILE ({path}): {source}")]
    KeysFile {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("CFPB_MCP_API_KEYS_FILE ({path}): {source}")]
    KeysFileFormat { path: PathBuf, source: KeyListError },
    #[error(
        "no API keys configured: set CFPB_MCP_API_KEYS or CFPB_MCP_API_KEYS_FILE \
         (generate one with `cfpb-mcp keygen`); refusing to start without authentication"
    )]
    NoKeys,
    #[error("--allow-no-auth is for local development only: bind a loopback address, not {0}")]
    NoAuthNotLoopback(SocketAddr),
    #[error("{name}: {why}")]
    Setting { name: &'static str, why: String },
    #[error("CFPB_MCP_DATA: {0}")]
    Data(#[from] DataError),
    #[error("could not bind {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("could not start the audit writer: {0}")]
    Audit(std::io::Error),
}

/// Why a key reload failed; the previous keys stay in force.
#[derive(Debug, thiserror::Error)]
pub enum ReloadError {
    #[error("no keys file configured")]
    NoFile,
    #[error(transparent)]
    Load(#[from] StartError),
}

fn setting(name: &'static str) -> impl Fn(BadRate) -> StartError {
    move |e| StartError::Setting {
        name,
        why: e.to_string(),
    }
}

fn read_keys_file(path: &PathBuf) -> Result<Vec<ApiKey>, StartError> {
    let text = std::fs::read_to_string(path).map_err(|source| StartError::KeysFile {
        path: path.clone(),
        source,
    })?;
    parse_key_file(&text).map_err(|source| StartError::KeysFileFormat {
        path: path.clone(),
        source,
    })
}

fn load_keys(inline: &[ApiKey], file: Option<&PathBuf>) -> Result<KeySet, StartError> {
    let mut keys = inline.to_vec();
    if let Some(path) = file {
        for key in read_keys_file(path)? {
            if !keys.contains(&key) {
                keys.push(key);
            }
        }
    }
    Ok(KeySet::new(keys))
}

/// Entry point: `Server::bind(config)`.
pub struct Server;

impl Server {
    /// Validate `config`, bind its address, and start serving in the
    /// background. Writes the `server_start` line (with the real port).
    pub async fn bind(config: Config) -> Result<RunningServer, StartError> {
        if let Some(e) = config.key_error {
            return Err(StartError::Keys(e));
        }
        let keys = load_keys(&config.api_keys, config.api_keys_file.as_ref())?;
        let keyless = keys.is_empty();
        if keyless && !config.allow_no_auth {
            return Err(StartError::NoKeys);
        }
        if keyless && !config.bind.ip().is_loopback() {
            return Err(StartError::NoAuthNotLoopback(config.bind));
        }
        let burst = NonZeroU32::new(config.rate_limit_burst).ok_or(StartError::Setting {
            name: "CFPB_MCP_RATE_LIMIT_BURST",
            why: "must be at least 1".into(),
        })?;
        let limiter = KeyLimiter::new(config.rate_limit_rps, burst)
            .map_err(setting("CFPB_MCP_RATE_LIMIT_RPS"))?;
        if config.auth_fail_rps < 0.0 || !config.auth_fail_rps.is_finite() {
            return Err(setting("CFPB_MCP_AUTH_FAIL_RPS")(BadRate(
                config.auth_fail_rps,
            )));
        }
        let auth_fail = AuthFailLimiter::new(config.auth_fail_rps, config.auth_fail_burst)
            .map_err(setting("CFPB_MCP_AUTH_FAIL_RPS"))?;
        for (name, value) in [
            (
                "CFPB_MCP_MAX_STREAMS_PER_KEY",
                config.max_streams_per_key as u64,
            ),
            (
                "CFPB_MCP_SSE_KEEPALIVE_SECS",
                config.sse_keepalive.as_millis() as u64,
            ),
            ("CFPB_MCP_MAX_CONNECTIONS", config.max_connections as u64),
            ("CFPB_MCP_MAX_BODY_BYTES", config.max_body_bytes as u64),
            (
                "CFPB_MCP_HEADER_READ_TIMEOUT_SECS",
                config.header_read_timeout.as_millis() as u64,
            ),
        ] {
            if value == 0 {
                return Err(StartError::Setting {
                    name,
                    why: "must be greater than 0".into(),
                });
            }
        }
        let source = match config.data {
            DataMode::Live => DataSource::live(config.api_base.clone(), config.upstream_timeout)?,
            DataMode::Fixtures => DataSource::fixtures()?,
        };
        let listener = TcpListener::bind(config.bind)
            .await
            .map_err(|source| StartError::Bind {
                addr: config.bind,
                source,
            })?;
        let addr = listener.local_addr().map_err(|source| StartError::Bind {
            addr: config.bind,
            source,
        })?;
        let audit = AuditLog::start(config.audit).map_err(StartError::Audit)?;

        audit.write(&json!({
            "ts": Timestamp::now(),
            "event": "server_start",
            "listen": addr.to_string(),
            "data": config.data.to_string(),
            "keys": keys.len(),
        }));
        if keyless {
            audit.write(&json!({
                "ts": Timestamp::now(),
                "event": "server_warning",
                "message": "AUTHENTICATION IS DISABLED (--allow-no-auth): anyone who can reach this \
                            loopback port can use the server. Never expose it through a tunnel.",
            }));
        }

        let shutdown = CancellationToken::new();
        let streamable = Streamable::new(
            source.clone(),
            config.sse_keepalive,
            config.max_body_bytes,
            config.max_streams_per_key,
            &shutdown,
        );
        let state = Arc::new(AppState {
            keys: ArcSwap::from_pointee(keys),
            inline_keys: config.api_keys,
            keys_file: config.api_keys_file,
            keyless,
            #[cfg(feature = "bench-unguarded")]
            unguarded: config.bench_unguarded,
            limiter,
            auth_fail,
            sessions: SessionRegistry::new(config.max_streams_per_key),
            streamable,
            audit,
            source,
            allowed_origins: config
                .allowed_origins
                .iter()
                .map(|o| normalize_origin(o))
                .collect(),
            sse_keepalive: config.sse_keepalive,
            max_body_bytes: config.max_body_bytes,
            body_read_timeout: config.body_read_timeout,
            overload_timeout: config.overload_timeout,
            shutdown,
            tasks: TaskTracker::new(),
        });
        let accept = tokio::spawn(accept_loop(
            listener,
            state.clone(),
            Arc::new(Semaphore::new(config.max_connections)),
            config.header_read_timeout,
            config.shutdown_grace,
        ));
        Ok(RunningServer {
            addr,
            state,
            accept,
            grace: config.shutdown_grace,
        })
    }
}

async fn accept_loop(
    listener: TcpListener,
    state: Arc<AppState>,
    connections: Arc<Semaphore>,
    header_read_timeout: Duration,
    grace: Duration,
) {
    loop {
        let accepted = tokio::select! {
            _ = state.shutdown.cancelled() => return,
            accepted = listener.accept() => accepted,
        };
        let (stream, peer) = match accepted {
            Ok(conn) => conn,
            // Out of file descriptors and the like: back off briefly, don't spin.
            Err(_) => {
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        // NET-3: at the cap, a new connection is closed at once.
        let Ok(permit) = connections.clone().try_acquire_owned() else {
            drop(stream);
            continue;
        };
        let _ = stream.set_nodelay(true);
        let state = state.clone();
        let tasks = state.tasks.clone();
        tasks.spawn(async move {
            let service_state = state.clone();
            let service =
                service_fn(move |request| http::handle(service_state.clone(), peer, request));
            let connection = http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(header_read_timeout)
                .keep_alive(true)
                .serve_connection(TokioIo::new(stream), service);
            tokio::pin!(connection);
            tokio::select! {
                _ = connection.as_mut() => {}
                _ = state.shutdown.cancelled() => {
                    connection.as_mut().graceful_shutdown();
                    let _ = tokio::time::timeout(grace, connection).await;
                }
            }
            drop(permit);
        });
    }
}

/// A server that is running; dropping it does not stop it: call
/// [`RunningServer::shutdown`].
pub struct RunningServer {
    addr: SocketAddr,
    state: Arc<AppState>,
    accept: JoinHandle<()>,
    grace: Duration,
}

impl RunningServer {
    /// The address actually bound (the real port when port 0 was asked).
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Number of live MCP sessions (both transports).
    pub fn sessions(&self) -> usize {
        self.state.sessions.len() + self.state.streamable.len()
    }

    /// Re-read the keys file (SIGHUP, AUTH-2/8): new keys work at once, removed
    /// keys fail at once and their open streams close. On error the previous
    /// keys stay in force. Returns the number of keys now configured.
    pub async fn reload_keys(&self) -> Result<usize, ReloadError> {
        let state = &self.state;
        let Some(path) = &state.keys_file else {
            return Err(ReloadError::NoFile);
        };
        let result = load_keys(&state.inline_keys, Some(path));
        let keys = match result {
            Ok(keys) if keys.is_empty() && !state.keyless => Err(StartError::NoKeys),
            other => other,
        };
        match keys {
            Ok(keys) => {
                let count = keys.len();
                let ended = state.sessions.revoke_missing(&keys)
                    + state.streamable.revoke_missing(&keys).await;
                state.keys.store(Arc::new(keys));
                state.audit.write(&json!({
                    "ts": Timestamp::now(),
                    "event": "keys_reloaded",
                    "keys": count,
                    "streams_closed": ended,
                }));
                Ok(count)
            }
            Err(e) => {
                state.audit.write(&json!({
                    "ts": Timestamp::now(),
                    "event": "keys_reload_failed",
                    "error": e.to_string(),
                }));
                Err(e.into())
            }
        }
    }

    /// Graceful shutdown: stop accepting, end every stream, let in-flight
    /// requests finish (bounded by the grace period), flush the audit log.
    pub async fn shutdown(self) {
        let state = self.state;
        state.sessions.end_all();
        state.shutdown.cancel();
        let _ = self.accept.await;
        state.tasks.close();
        let drained = tokio::time::timeout(self.grace, state.tasks.wait())
            .await
            .is_ok();
        state.audit.write(&json!({
            "ts": Timestamp::now(),
            "event": "server_stop",
            "drained": drained,
        }));
        state.audit.close().await;
    }
}
