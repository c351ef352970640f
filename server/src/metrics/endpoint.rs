//! The metrics listener (METRICS-4): `GET /metrics` on its own address,
//! loopback only, off unless `CFPB_MCP_METRICS_BIND` is set. It is not the
//! MCP port and is never behind the tunnel: a Prometheus on the same host
//! (or a sidecar in the same network namespace) scrapes it. No auth, so it
//! must not leave loopback; the server refuses to start otherwise.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{Method, Request, Response, StatusCode, header};
use http_body_util::Full;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::metrics::registry::{Metrics, Open};
use crate::metrics::text;

/// The content type of the OpenMetrics text format.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// Reads what is open now, at each scrape.
pub type OpenNow = Arc<dyn Fn() -> Open + Send + Sync>;

/// Connections the metrics listener serves at once; a scraper needs one.
const MAX_CONNECTIONS: usize = 8;

/// A bound metrics listener.
pub struct MetricsEndpoint {
    listener: TcpListener,
    addr: SocketAddr,
}

impl MetricsEndpoint {
    /// Bind `addr`, which must be a loopback address.
    pub async fn bind(addr: SocketAddr) -> std::io::Result<MetricsEndpoint> {
        if !addr.ip().is_loopback() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                "the metrics listener has no auth: it must bind a loopback address",
            ));
        }
        let listener = TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        Ok(MetricsEndpoint { listener, addr })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Serve until `shutdown`; connection tasks are tracked by `tasks`.
    pub async fn serve(
        self,
        metrics: Arc<Metrics>,
        open: OpenNow,
        shutdown: CancellationToken,
        tasks: TaskTracker,
    ) {
        let cap = Arc::new(tokio::sync::Semaphore::new(MAX_CONNECTIONS));
        loop {
            let accepted = tokio::select! {
                _ = shutdown.cancelled() => return,
                accepted = self.listener.accept() => accepted,
            };
            let Ok((stream, _)) = accepted else {
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            };
            let Ok(permit) = cap.clone().try_acquire_owned() else {
                continue;
            };
            let (metrics, open, shutdown) = (metrics.clone(), open.clone(), shutdown.clone());
            tasks.spawn(async move {
                let service = service_fn(move |request| {
                    let response = answer(&request, &metrics, &open);
                    async move { Ok::<_, Infallible>(response) }
                });
                let connection = http1::Builder::new()
                    .timer(TokioTimer::new())
                    .header_read_timeout(Duration::from_secs(5))
                    .serve_connection(TokioIo::new(stream), service);
                tokio::select! {
                    _ = connection => {}
                    _ = shutdown.cancelled() => {}
                }
                drop(permit);
            });
        }
    }
}

/// `GET /metrics`: the exposition, OpenMetrics when asked for (Prometheus
/// does), else the Prometheus text format; anything else: 404 or 405.
fn answer<B>(request: &Request<B>, metrics: &Metrics, open: &OpenNow) -> Response<Full<Bytes>> {
    let (status, content_type, body) = match (request.method(), request.uri().path()) {
        (&Method::GET | &Method::HEAD, "/metrics") => {
            let accept = request
                .headers()
                .get(header::ACCEPT)
                .and_then(|v| v.to_str().ok());
            let openmetrics = metrics.render(open());
            if text::wants_openmetrics(accept) {
                (StatusCode::OK, CONTENT_TYPE, openmetrics)
            } else {
                (
                    StatusCode::OK,
                    text::CONTENT_TYPE,
                    text::from_openmetrics(&openmetrics),
                )
            }
        }
        (_, "/metrics") => (
            StatusCode::METHOD_NOT_ALLOWED,
            "text/plain; charset=utf-8",
            "GET only\n".to_owned(),
        ),
        _ => (
            StatusCode::NOT_FOUND,
            "text/plain; charset=utf-8",
            "metrics are at /metrics\n".to_owned(),
        ),
    };
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = status;
    if let Ok(value) = header::HeaderValue::from_str(content_type) {
        response.headers_mut().insert(header::CONTENT_TYPE, value);
    }
    if status == StatusCode::METHOD_NOT_ALLOWED {
        response
            .headers_mut()
            .insert(header::ALLOW, header::HeaderValue::from_static("GET, HEAD"));
    }
    response
}
