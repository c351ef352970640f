//! The server: binding, the accept loop, graceful shutdown, signals. It
//! knows no route: every request goes to the router's `App`.
//!
//! Modelled on mini-redis's `Listener`: the accept loop owns the connection
//! cap (a semaphore, NET-3 in docs/contract.md) and the shutdown signal; each
//! connection is served by hyper's HTTP/1.1 connection with a header read
//! timeout, and is told to shut down gracefully when the server stops.
//! [`RunningServer::shutdown`] ends every stream, lets in-flight requests
//! finish within the grace period, and flushes the audit log (LOG-3).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::audit::{AuditLog, AuditTarget, Event};
use crate::cluster::{self, Cluster, Inbox, Unreachable};
use crate::config::{Config, ConfigError};
use crate::data::{DataError, DataMode, DataSource};
use crate::guard::{Guard, GuardError, ReloadError};
use crate::memory::Trimmer;
use crate::metrics::{Metrics, MetricsEndpoint};
use crate::router::App;
use crate::transport::context::{Context, Handles};
use crate::transport::legacy::Legacy;
use crate::transport::streamable::Streamable;

/// Why the server would not start. Messages name the setting, never a key.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// Keys, `--allow-no-auth`, or a limiter setting.
    #[error(transparent)]
    Guard(#[from] GuardError),
    /// A setting that is wrong on its own ([`Config::validate`]).
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("CFPB_MCP_DATA: {0}")]
    Data(#[from] DataError),
    #[error("could not bind {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("could not start the audit writer: {0}")]
    Audit(std::io::Error),
    /// `CFPB_MCP_REDIS_URL` given but Redis unreachable (named without credentials).
    #[error(transparent)]
    Redis(#[from] Unreachable),
    #[error("CFPB_MCP_METRICS_BIND: could not listen on {addr}: {source}")]
    Metrics {
        addr: SocketAddr,
        source: std::io::Error,
    },
}

/// Entry point: `Server::bind(config)`.
pub struct Server;

impl Server {
    /// Validate `config`, bind its address, and start serving in the
    /// background. Writes the `server_start` line (with the real port).
    pub async fn bind(mut config: Config) -> Result<RunningServer, StartError> {
        config.validate()?;
        let guard = Guard::new(&config)?;
        let metrics = Arc::new(Metrics::new());
        let source = data_source(&config, &metrics)?;
        let (listener, addr) = listen(config.bind).await?;
        let metrics_endpoint = metrics_endpoint(config.metrics_bind).await?;
        let target = std::mem::replace(&mut config.audit, AuditTarget::Stderr);
        let audit = AuditLog::start(target, metrics.clone()).map_err(StartError::Audit)?;
        let handles = Handles {
            shutdown: CancellationToken::new(),
            tasks: TaskTracker::new(),
            audit,
            metrics,
            cluster: None,
        };
        let (guard, handles, inbox) = join_cluster(&config, guard, handles).await?;
        let metrics_addr = metrics_endpoint.as_ref().map(MetricsEndpoint::local_addr);
        announce(&config, &handles.audit, addr, &guard, metrics_addr);
        let app = build_app(&config, source, guard, handles.clone());
        let Handles {
            shutdown,
            tasks,
            audit,
            metrics,
            ..
        } = handles;
        spawn_services(&app, inbox, metrics_endpoint, metrics, &shutdown, &tasks);
        let accept = start_accepting(&config, listener, app.clone(), &shutdown, &tasks);
        Ok(RunningServer {
            addr,
            metrics_addr,
            app,
            audit,
            shutdown,
            tasks,
            accept,
            grace: config.shutdown_grace,
        })
    }
}

/// Where the tools get their data (DATA-*), counted in `metrics`.
fn data_source(config: &Config, metrics: &Arc<Metrics>) -> Result<DataSource, StartError> {
    let source = match config.data {
        DataMode::Live => DataSource::live(config.api_base.clone(), config.upstream_timeout)?,
        DataMode::Fixtures => DataSource::fixtures()?,
    };
    Ok(source.with_metrics(metrics.clone()))
}

/// The listener on `bind`, and the address it really has (port 0 picks one).
async fn listen(bind: SocketAddr) -> Result<(TcpListener, SocketAddr), StartError> {
    let failed = |source| StartError::Bind { addr: bind, source };
    let listener = TcpListener::bind(bind).await.map_err(failed)?;
    let addr = listener.local_addr().map_err(failed)?;
    Ok((listener, addr))
}

/// The metrics listener (METRICS-4), when `CFPB_MCP_METRICS_BIND` is set.
async fn metrics_endpoint(bind: Option<SocketAddr>) -> Result<Option<MetricsEndpoint>, StartError> {
    let Some(addr) = bind else {
        return Ok(None);
    };
    MetricsEndpoint::bind(addr)
        .await
        .map(Some)
        .map_err(|source| StartError::Metrics { addr, source })
}

/// With `CFPB_MCP_REDIS_URL`: connect to the other replicas (CLUSTER-*),
/// note Redis up in the audit log, and rebuild the guard on the shared
/// limiters; `handles` then carry the cluster, and its inbox comes back.
/// Without it, everything as given. On failure the audit log is closed.
async fn join_cluster(
    config: &Config,
    guard: Guard,
    mut handles: Handles,
) -> Result<(Guard, Handles, Option<Inbox>), StartError> {
    let Some(url) = config.redis_url.clone() else {
        return Ok((guard, handles, None));
    };
    // `Config::validate` made sure of the secret (CLUSTER-8).
    let Some(secret) = config.cluster_secret.clone() else {
        handles.audit.close().await;
        return Err(ConfigError::NoClusterSecret.into());
    };
    let settings = cluster::Settings {
        url: url.clone(),
        secret,
        keys_file: config.api_keys_file.clone(),
    };
    let connected = Cluster::connect(
        settings,
        handles.audit.clone(),
        handles.metrics.clone(),
        handles.shutdown.clone(),
        &handles.tasks,
    )
    .await;
    let (cluster, inbox) = match connected {
        Ok(connected) => connected,
        Err(e) => {
            handles.audit.close().await;
            return Err(e.into());
        }
    };
    handles.audit.write(&Event::RedisState {
        state: "up",
        url: url.to_string(),
        error: None,
    });
    let guard = Guard::with_cluster(config, Some(cluster.clone()))?;
    handles.cluster = Some(cluster);
    Ok((guard, handles, Some(inbox)))
}

/// The `server_start` line, and the warning of a server without keys.
fn announce(
    config: &Config,
    audit: &AuditLog,
    addr: SocketAddr,
    guard: &Guard,
    metrics_addr: Option<SocketAddr>,
) {
    audit.write(&Event::ServerStart {
        listen: addr.to_string(),
        data: config.data.as_str(),
        keys: guard.keys().len(),
        metrics: metrics_addr.map(|addr| addr.to_string()),
    });
    if guard.is_keyless() {
        audit.write(&Event::ServerWarning {
            message: "AUTHENTICATION IS DISABLED (--allow-no-auth): anyone who can reach this \
                      loopback port can use the server. Never expose it through a tunnel.",
        });
    }
}

/// The router's [`App`] over both transports, which share one [`Context`].
fn build_app(config: &Config, source: DataSource, guard: Guard, handles: Handles) -> Arc<App> {
    let (audit, cluster) = (handles.audit.clone(), handles.cluster.clone());
    let cx = Context::new(config, source, guard.keys_in_force(), handles);
    Arc::new(App::new(
        guard,
        Legacy::new(cx.clone()),
        Streamable::new(cx),
        audit,
        cluster,
    ))
}

/// The app's background services: the cluster's inbox (CLUSTER-*) and the
/// metrics listener (METRICS-4), each when configured.
fn spawn_services(
    app: &Arc<App>,
    inbox: Option<Inbox>,
    metrics_endpoint: Option<MetricsEndpoint>,
    metrics: Arc<Metrics>,
    shutdown: &CancellationToken,
    tasks: &TaskTracker,
) {
    if let Some(inbox) = inbox {
        tasks.spawn(
            app.clone()
                .serve_inbox(inbox, shutdown.clone(), tasks.clone()),
        );
    }
    if let Some(endpoint) = metrics_endpoint {
        let open_app = app.clone();
        tasks.spawn(endpoint.serve(
            metrics,
            Arc::new(move || open_app.open_now()),
            shutdown.clone(),
            tasks.clone(),
        ));
    }
}

/// Start the accept loop under the connection cap (NET-3), with the
/// trimmer that gives memory back as connections close.
fn start_accepting(
    config: &Config,
    listener: TcpListener,
    app: Arc<App>,
    shutdown: &CancellationToken,
    tasks: &TaskTracker,
) -> JoinHandle<()> {
    let cap = Arc::new(Semaphore::new(config.max_connections));
    let trimmer = Arc::new(Trimmer::default());
    tasks.spawn(
        trimmer
            .clone()
            .run(cap.clone(), config.max_connections, shutdown.clone()),
    );
    tokio::spawn(accept_loop(
        listener,
        app,
        Connections {
            max: config.max_connections,
            trimmer,
            cap,
            header_read_timeout: config.header_read_timeout,
            grace: config.shutdown_grace,
            shutdown: shutdown.clone(),
            tasks: tasks.clone(),
        },
    ))
}

/// How connections are served: the cap (NET-3), timeouts, and the handles
/// that end them.
struct Connections {
    cap: Arc<Semaphore>,
    /// The cap's size, so that open connections can be counted.
    max: usize,
    /// Gives freed memory back once many connections have closed.
    trimmer: Arc<Trimmer>,
    header_read_timeout: Duration,
    grace: Duration,
    shutdown: CancellationToken,
    tasks: TaskTracker,
}

async fn accept_loop(listener: TcpListener, app: Arc<App>, connections: Connections) {
    loop {
        let accepted = tokio::select! {
            _ = connections.shutdown.cancelled() => return,
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
        let Ok(permit) = connections.cap.clone().try_acquire_owned() else {
            drop(stream);
            continue;
        };
        connections
            .trimmer
            .saw(connections.max - connections.cap.available_permits());
        let _ = stream.set_nodelay(true);
        let app = app.clone();
        let shutdown = connections.shutdown.clone();
        let (header_read_timeout, grace) = (connections.header_read_timeout, connections.grace);
        connections.tasks.spawn(async move {
            let service = connection_service(app, peer);
            let connection = http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(header_read_timeout)
                .keep_alive(true)
                .serve_connection(TokioIo::new(stream), service);
            tokio::pin!(connection);
            tokio::select! {
                _ = connection.as_mut() => {}
                _ = shutdown.cancelled() => {
                    connection.as_mut().graceful_shutdown();
                    let _ = tokio::time::timeout(grace, connection).await;
                }
            }
            drop(permit);
        });
    }
}

/// The service of one connection from `peer`. The request's future is
/// boxed: hyper keeps a slot of the service future's size for the
/// connection's whole life, and ours (the router and every transport below
/// it) is kilobytes; boxed, an idle connection or stream holds a pointer and
/// a request allocates its future while it runs (issue 25).
fn connection_service(
    app: Arc<App>,
    peer: SocketAddr,
) -> impl hyper::service::Service<
    http::Request<hyper::body::Incoming>,
    Response = http::Response<crate::http::response::Body>,
    Error = std::convert::Infallible,
    Future = std::pin::Pin<Box<impl Future<Output = RequestResult> + Send>>,
> {
    service_fn(move |request| Box::pin(serve_request(app.clone(), peer, request)))
}

/// One request through the app, as the connection's service runs it.
async fn serve_request(
    app: Arc<App>,
    peer: SocketAddr,
    request: http::Request<hyper::body::Incoming>,
) -> RequestResult {
    app.handle(peer, request).await
}

/// What a request's future gives hyper.
type RequestResult = Result<http::Response<crate::http::response::Body>, std::convert::Infallible>;

/// A server that is running; dropping it does not stop it: call
/// [`RunningServer::shutdown`].
pub struct RunningServer {
    addr: SocketAddr,
    metrics_addr: Option<SocketAddr>,
    app: Arc<App>,
    audit: AuditLog,
    /// Cancelled once, at shutdown; every session's token is a child of it.
    shutdown: CancellationToken,
    /// Connection, stream and MCP service tasks, awaited at shutdown.
    tasks: TaskTracker,
    accept: JoinHandle<()>,
    grace: Duration,
}

impl RunningServer {
    /// The address actually bound (the real port when port 0 was asked).
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// The metrics listener's address, when `metrics_bind` was set.
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics_addr
    }

    /// Number of live MCP sessions (both transports).
    pub fn sessions(&self) -> usize {
        self.app.sessions()
    }

    /// Re-read the keys file (SIGHUP, AUTH-2/8): new keys work at once, removed
    /// keys fail at once and their open streams close. On error the previous
    /// keys stay in force. Returns the number of keys now configured.
    pub async fn reload_keys(&self) -> Result<usize, ReloadError> {
        self.app.reload_keys().await
    }

    /// Serve until SIGTERM or SIGINT, re-reading the keys file on each SIGHUP
    /// (its outcome is in the audit log: `keys_reloaded` / `keys_reload_failed`).
    /// Returns once a stop signal arrived; then call [`RunningServer::shutdown`].
    #[cfg(unix)]
    pub async fn wait_for_signals(&self) -> std::io::Result<()> {
        use tokio::signal::unix::{SignalKind, signal};
        let mut term = signal(SignalKind::terminate())?;
        let mut int = signal(SignalKind::interrupt())?;
        let mut hup = signal(SignalKind::hangup())?;
        loop {
            tokio::select! {
                _ = term.recv() => return Ok(()),
                _ = int.recv() => return Ok(()),
                _ = hup.recv() => {
                    let _ = self.reload_keys().await;
                }
            }
        }
    }

    /// Serve until Ctrl-C.
    #[cfg(not(unix))]
    pub async fn wait_for_signals(&self) -> std::io::Result<()> {
        tokio::signal::ctrl_c().await
    }

    /// Graceful shutdown: stop accepting, end every stream, let in-flight
    /// requests finish (bounded by the grace period), flush the audit log.
    pub async fn shutdown(self) {
        self.app.end_all();
        self.shutdown.cancel();
        let _ = self.accept.await;
        self.tasks.close();
        let drained = tokio::time::timeout(self.grace, self.tasks.wait())
            .await
            .is_ok();
        self.audit.write(&Event::ServerStop { drained });
        self.audit.close().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The size of the future `serve` returns.
    fn future_size<F, Fut>(_serve: F) -> usize
    where
        F: FnOnce(Arc<App>, SocketAddr, http::Request<hyper::body::Incoming>) -> Fut,
    {
        size_of::<Fut>()
    }

    /// The size of the future a connection's service hands hyper.
    fn service_future_size<F, S>(_service: F) -> usize
    where
        F: Fn(Arc<App>, SocketAddr) -> S,
        S: hyper::service::Service<http::Request<hyper::body::Incoming>>,
    {
        size_of::<S::Future>()
    }

    /// What keeps an idle connection small (issue 25): hyper keeps a slot of
    /// the service future's size for the connection's whole life; the
    /// request's future is kilobytes, so the service boxes it and the slot
    /// is one pointer (RSS per idle stream 26.9 -> 15.8 KiB).
    #[test]
    fn an_idle_connection_holds_a_pointer_not_the_request_future() {
        let request = future_size(serve_request);
        assert!(request > 2048, "the request future is {request} bytes");
        assert_eq!(service_future_size(connection_service), size_of::<usize>());
    }
}
