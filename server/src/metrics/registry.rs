//! Every metric family, behind typed methods (METRICS-1..3): a caller says
//! what happened (`request`, `refusal`, `tool_call`, ...); only this file
//! knows metric names, labels and buckets. Label values come from closed
//! sets (routes, refusal reasons, the server's own tool names, status codes),
//! so no label is client-controlled and none carries a key or a session.

use std::sync::atomic::AtomicI64;
use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::{Registry, Unit};

/// A route, as a metric label. `/health` is not counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    Sse,
    Messages,
    Mcp,
    /// Any other path (404s, probes): one label, whatever was asked.
    Other,
}

impl Route {
    /// The route of a logged path (LOG-1's `path`: fixed for known routes).
    pub fn of_logged_path(path: &str) -> Route {
        match path {
            "/mcp/sse" => Route::Sse,
            "/mcp/messages" => Route::Messages,
            "/mcp" => Route::Mcp,
            _ => Route::Other,
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            Route::Sse => "/mcp/sse",
            Route::Messages => "/mcp/messages",
            Route::Mcp => "/mcp",
            Route::Other => "other",
        }
    }
}

/// How a `tools/call` ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ToolOutcome {
    /// A result without `isError`.
    Ok,
    /// A tool result with `isError: true` (bad arguments, upstream failure).
    ToolError,
}

/// How one upstream (CCDB5) request ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UpstreamOutcome {
    Ok,
    /// 404: "no such complaint", not a failure of the upstream.
    NotFound,
    Timeout,
    Connect,
    /// Any other status than 2xx/404.
    Status,
    /// A body past the size cap.
    TooLarge,
    /// Any other transport error.
    Request,
}

impl UpstreamOutcome {
    fn as_str(self) -> &'static str {
        match self {
            UpstreamOutcome::Ok => "ok",
            UpstreamOutcome::NotFound => "not_found",
            UpstreamOutcome::Timeout => "timeout",
            UpstreamOutcome::Connect => "connect",
            UpstreamOutcome::Status => "status",
            UpstreamOutcome::TooLarge => "too_large",
            UpstreamOutcome::Request => "request",
        }
    }
}

/// What is open right now, read when the metrics are scraped.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Open {
    /// HTTP+SSE streams (`GET /mcp/sse`).
    pub streams: usize,
    /// Streamable HTTP sessions (`/mcp`, the 2025 revisions).
    pub sessions: usize,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    route: &'static str,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    route: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ReasonLabels {
    reason: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct QuirkLabels {
    quirk: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct MethodLabels {
    method: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ToolLabels {
    tool: &'static str,
    outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutcomeLabels {
    outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StateLabels {
    state: &'static str,
}

/// Latency buckets, in seconds: 1 ms to 10 s.
const LATENCY_BUCKETS: [f64; 12] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
];

fn latency_histogram() -> Histogram {
    Histogram::new(LATENCY_BUCKETS)
}

/// The server's metrics. Cheap to update from any task; shared as an `Arc`.
pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    request_duration: Family<RouteLabels, Histogram, fn() -> Histogram>,
    refusals: Family<ReasonLabels, Counter>,
    client_quirks: Family<QuirkLabels, Counter>,
    admitted: Family<MethodLabels, Counter>,
    streams_ended: Family<ReasonLabels, Counter>,
    unanswered: Counter,
    audit_lines_dropped: Counter,
    key_reloads: Family<OutcomeLabels, Counter>,
    tool_calls: Family<ToolLabels, Counter>,
    upstream_requests: Family<OutcomeLabels, Counter>,
    upstream_duration: Histogram,
    open_streams: Gauge<i64, AtomicI64>,
    open_sessions: Gauge<i64, AtomicI64>,
    redis_up: Gauge<i64, AtomicI64>,
    redis_state_changes: Family<StateLabels, Counter>,
    /// CLUSTER-9: messages from Redis refused (unsigned, forged, stale, replayed).
    cluster_messages_dropped: Family<ReasonLabels, Counter>,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Metrics")
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("cfpb_mcp");
        let requests = Family::<RequestLabels, Counter>::default();
        registry.register(
            "requests",
            "Requests answered, by route and HTTP status (one per audit line)",
            requests.clone(),
        );
        let request_duration =
            Family::<RouteLabels, Histogram, fn() -> Histogram>::new_with_constructor(
                latency_histogram,
            );
        registry.register_with_unit(
            "request_duration",
            "Time to the response head, by route (an SSE stream counts until it opens)",
            Unit::Seconds,
            request_duration.clone(),
        );
        let refusals = Family::<ReasonLabels, Counter>::default();
        registry.register(
            "refusals",
            "Requests refused or failed, by the audit line's error reason",
            refusals.clone(),
        );
        let client_quirks = Family::<QuirkLabels, Counter>::default();
        registry.register(
            "client_quirks",
            "Requests to which a tolerance for a known client departure from the MCP revisions was applied, by quirk (COMPAT-6)",
            client_quirks.clone(),
        );
        let admitted = Family::<MethodLabels, Counter>::default();
        registry.register(
            "admitted_requests",
            "Requests the guard admitted, by how the caller authenticated: keys, oauth, access (OAUTH-5)",
            admitted.clone(),
        );
        let streams_ended = Family::<ReasonLabels, Counter>::default();
        registry.register(
            "streams_ended",
            "HTTP+SSE streams ended, by reason (mcp_stream_end)",
            streams_ended.clone(),
        );
        let unanswered = Counter::default();
        registry.register(
            "unanswered",
            "Accepted requests whose stream ended before their answer (MSG-6)",
            unanswered.clone(),
        );
        let audit_lines_dropped = Counter::default();
        registry.register(
            "audit_lines_dropped",
            "Audit lines dropped because the writer fell behind (LOG-3)",
            audit_lines_dropped.clone(),
        );
        let key_reloads = Family::<OutcomeLabels, Counter>::default();
        registry.register(
            "key_reloads",
            "Key file reloads (SIGHUP), by outcome",
            key_reloads.clone(),
        );
        let tool_calls = Family::<ToolLabels, Counter>::default();
        registry.register(
            "tool_calls",
            "tools/call results, by tool and outcome",
            tool_calls.clone(),
        );
        let upstream_requests = Family::<OutcomeLabels, Counter>::default();
        registry.register(
            "upstream_requests",
            "Requests to the CCDB5 API, by outcome",
            upstream_requests.clone(),
        );
        let upstream_duration = latency_histogram();
        registry.register_with_unit(
            "upstream_request_duration",
            "Time of each request to the CCDB5 API, whatever its outcome",
            Unit::Seconds,
            upstream_duration.clone(),
        );
        let open_streams = Gauge::default();
        registry.register(
            "open_streams",
            "HTTP+SSE streams open now",
            open_streams.clone(),
        );
        let open_sessions = Gauge::default();
        registry.register(
            "open_sessions",
            "Streamable HTTP sessions open now",
            open_sessions.clone(),
        );
        let redis_up = Gauge::default();
        registry.register(
            "redis_up",
            "1 while the link to Redis (CFPB_MCP_REDIS_URL) works, 0 when it is down or not configured",
            redis_up.clone(),
        );
        let redis_state_changes = Family::<StateLabels, Counter>::default();
        registry.register(
            "redis_state_changes",
            "Changes of the Redis link's state, by the new state (redis_state lines)",
            redis_state_changes.clone(),
        );
        let cluster_messages_dropped = Family::<ReasonLabels, Counter>::default();
        registry.register(
            "cluster_messages_dropped",
            "Messages from Redis pub/sub refused, by reason (CLUSTER-9)",
            cluster_messages_dropped.clone(),
        );
        Metrics {
            cluster_messages_dropped,
            registry,
            requests,
            request_duration,
            refusals,
            client_quirks,
            admitted,
            streams_ended,
            unanswered,
            audit_lines_dropped,
            key_reloads,
            tool_calls,
            upstream_requests,
            upstream_duration,
            open_streams,
            open_sessions,
            redis_up,
            redis_state_changes,
        }
    }

    /// Redis is configured and reachable (`true`) or lost (`false`).
    pub fn redis_state(&self, up: bool) {
        self.redis_up.set(i64::from(up));
        self.redis_state_changes
            .get_or_create(&StateLabels {
                state: if up { "up" } else { "down" },
            })
            .inc();
    }

    /// A message from Redis was refused for `reason` (CLUSTER-9).
    pub fn cluster_message_dropped(&self, reason: &'static str) {
        self.cluster_messages_dropped
            .get_or_create(&ReasonLabels { reason })
            .inc();
    }

    /// A request was answered (its audit line was written).
    pub fn request(&self, route: Route, status: u16, took: Duration) {
        let route = route.as_str();
        self.requests
            .get_or_create(&RequestLabels { route, status })
            .inc();
        self.request_duration
            .get_or_create(&RouteLabels { route })
            .observe(took.as_secs_f64());
    }

    /// A request was refused or failed for `reason` (the audit log's word).
    pub fn refusal(&self, reason: &'static str) {
        self.refusals.get_or_create(&ReasonLabels { reason }).inc();
    }

    /// A request was served with a tolerated client quirk (COMPAT-6).
    pub fn client_quirk(&self, quirk: &'static str) {
        self.client_quirks
            .get_or_create(&QuirkLabels { quirk })
            .inc();
    }

    /// The guard admitted a request whose caller authenticated by `method`
    /// (OAUTH-5: `keys`, `oauth`, `access`).
    pub fn admitted(&self, method: &'static str) {
        self.admitted.get_or_create(&MethodLabels { method }).inc();
    }

    /// A stream ended for `reason`, leaving `unanswered` requests unanswered.
    pub fn stream_end(&self, reason: &'static str, unanswered: u64) {
        self.streams_ended
            .get_or_create(&ReasonLabels { reason })
            .inc();
        self.unanswered.inc_by(unanswered);
    }

    /// `count` audit lines could not be queued.
    pub fn audit_lines_dropped(&self, count: u64) {
        self.audit_lines_dropped.inc_by(count);
    }

    /// A key reload finished.
    pub fn key_reload(&self, ok: bool) {
        let outcome = if ok { "ok" } else { "failed" };
        self.key_reloads
            .get_or_create(&OutcomeLabels { outcome })
            .inc();
    }

    /// A `tools/call` of one of the server's tools (`tool` must be one of its
    /// names, never the client's string) ended with `outcome`.
    pub fn tool_call(&self, tool: &'static str, outcome: ToolOutcome) {
        let outcome = match outcome {
            ToolOutcome::Ok => "ok",
            ToolOutcome::ToolError => "tool_error",
        };
        self.tool_calls
            .get_or_create(&ToolLabels { tool, outcome })
            .inc();
    }

    /// One upstream request ended with `outcome` after `took`.
    pub fn upstream(&self, outcome: UpstreamOutcome, took: Duration) {
        self.upstream_requests
            .get_or_create(&OutcomeLabels {
                outcome: outcome.as_str(),
            })
            .inc();
        self.upstream_duration.observe(took.as_secs_f64());
    }

    /// The OpenMetrics text exposition, with the gauges set to `open`.
    pub fn render(&self, open: Open) -> String {
        self.open_streams
            .set(i64::try_from(open.streams).unwrap_or(i64::MAX));
        self.open_sessions
            .set(i64::try_from(open.sessions).unwrap_or(i64::MAX));
        let mut text = String::with_capacity(8 * 1024);
        // Writing into a String cannot fail.
        let _ = encode(&mut text, &self.registry);
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metrics_1_counts_are_rendered_with_bounded_labels() {
        let m = Metrics::new();
        m.request(Route::Mcp, 200, Duration::from_millis(3));
        m.request(
            Route::of_logged_path("/x/secret-looking-path"),
            404,
            Duration::ZERO,
        );
        m.refusal("auth");
        m.admitted("oauth");
        m.stream_end("client_closed", 2);
        m.tool_call("search_complaints", ToolOutcome::ToolError);
        m.upstream(UpstreamOutcome::Timeout, Duration::from_secs(1));
        let text = m.render(Open {
            streams: 3,
            sessions: 1,
        });
        for line in [
            r#"cfpb_mcp_requests_total{route="/mcp",status="200"} 1"#,
            r#"cfpb_mcp_requests_total{route="other",status="404"} 1"#,
            r#"cfpb_mcp_refusals_total{reason="auth"} 1"#,
            r#"cfpb_mcp_admitted_requests_total{method="oauth"} 1"#,
            r#"cfpb_mcp_streams_ended_total{reason="client_closed"} 1"#,
            "cfpb_mcp_unanswered_total 2",
            r#"cfpb_mcp_tool_calls_total{tool="search_complaints",outcome="tool_error"} 1"#,
            r#"cfpb_mcp_upstream_requests_total{outcome="timeout"} 1"#,
            "cfpb_mcp_open_streams 3",
            "cfpb_mcp_open_sessions 1",
        ] {
            assert!(text.lines().any(|l| l == line), "{line} missing in\n{text}");
        }
        assert!(!text.contains("secret-looking-path"));
        assert!(text.ends_with("# EOF\n"));
    }
}
