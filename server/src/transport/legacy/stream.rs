//! `GET /mcp/sse`: the event stream of one MCP session (SSE-1..5 in
//! docs/contract.md).
//!
//! Opening a stream registers a session (whose rmcp service the first posted
//! message starts, over the session's channels) and answers with the
//! session's [`SseBody`], which hyper polls for the next frame whenever the
//! connection can take one: the `endpoint` event (SSE-2), then each server
//! message as an `event: message` (SSE-3), with a `: ping` comment every
//! keep-alive interval while there is nothing else to send (SSE-4). The
//! stream ends when the client leaves (hyper drops the body), the key is
//! revoked, the MCP service stops, or the server shuts down; the session is
//! then unregistered and one `mcp_stream_end` line is logged (SSE-5, LOG-1).
//!
//! An open stream is its body and nothing else: no task of its own, no
//! channel between a task and the connection (issue 25). A message is
//! framed, and its bytes counted against the session's budget (MSG-6), when
//! it is queued; the count falls when the connection takes the frame.

use std::convert::Infallible;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context as TaskContext, Poll};
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures::{SinkExt, StreamExt};
use http::Response;
use http_body_util::BodyExt;
use hyper::body::Frame;
use rmcp::ServiceExt;
use rmcp::model::{RequestId, ServerJsonRpcMessage};
use tokio::sync::mpsc;
use tokio::time::{Interval, MissedTickBehavior};
use tokio_stream::wrappers::ReceiverStream;
use tokio_util::sync::{PollSendError, PollSender, WaitForCancellationFutureOwned};
use tokio_util::task::TaskTracker;

use crate::audit::{AuditLog, Caller, EndReason, Event, Reason, RequestLog, StreamEnd, millis};
use crate::cluster::{Cluster, Scope};
use crate::guard::Admitted;
use crate::http::response::{Body, event_stream, too_many_requests};
use crate::mcp::CfpbMcp;
use crate::transport::context::Context;
use crate::transport::legacy::session::{
    Inbound, Outbound, Outgoing, Registry, Session, SessionGuard, Start,
};

/// The `endpoint` event: where the client posts its messages (SSE-2).
pub fn endpoint_event(session_id: &str) -> String {
    format!("event: endpoint\ndata: /mcp/messages?session_id={session_id}\n\n")
}

/// One server message as an SSE `message` event, its JSON on one line (SSE-3).
pub fn message_event(message: &ServerJsonRpcMessage) -> Option<Bytes> {
    // Serialized straight into the frame: one buffer, no copy.
    const PREFIX: &[u8] = b"event: message\ndata: ";
    let mut frame = Vec::with_capacity(256);
    frame.extend_from_slice(PREFIX);
    serde_json::to_writer(&mut frame, message).ok()?;
    frame.extend_from_slice(b"\n\n");
    Some(Bytes::from(frame))
}

/// `message` framed for `session`'s stream, its bytes counted as queued
/// (MSG-6): whoever fails to queue it must give them back
/// ([`Session::taken`]).
pub fn outgoing(session: &Session, message: &ServerJsonRpcMessage) -> Outbound {
    // rmcp's types always serialize; an empty frame would carry nothing.
    let frame = message_event(message).unwrap_or_default();
    session.queued(frame.len());
    Box::new(Outgoing {
        frame,
        answers: answered_request(message).cloned(),
    })
}

/// The client request a server message answers, if it is an answer.
fn answered_request(message: &ServerJsonRpcMessage) -> Option<&RequestId> {
    match message {
        ServerJsonRpcMessage::Response(r) => Some(&r.id),
        ServerJsonRpcMessage::Error(e) => e.id.as_ref(),
        _ => None,
    }
}

/// The keep-alive comment (SSE-4).
pub const KEEPALIVE: &[u8] = b": ping\n\n";

/// Open a session for `who` and answer with its event stream.
pub async fn open(
    registry: &Arc<Registry>,
    cx: &Context,
    who: Admitted,
    log: &mut RequestLog,
) -> Response<Body> {
    // One budget of streams per caller across both transports (RATE-7),
    // and a total below the connection cap (NET-3).
    let Ok(slot) = cx.streams.open(who.key) else {
        log.error = Some(Reason::StreamCap);
        return too_many_requests(cx.cap_retry_after_secs());
    };
    let Ok((guard, outbound)) = registry.open(who.key, &cx.shutdown, service_start(cx, &who))
    else {
        log.error = Some(Reason::StreamCap);
        return too_many_requests(cx.cap_retry_after_secs());
    };
    let session = guard.session.clone();
    // With Redis, the cap counts on every replica (CLUSTER-2), and the claim
    // lands before the `endpoint` event: a POST to any replica finds the owner.
    if let Some(cluster) = &cx.cluster {
        let key = hex::encode(who.key.as_bytes());
        let id = session.id.to_string();
        if cluster
            .claim(Scope::Legacy, &id, &key, cx.max_sessions_per_key)
            .await
            == Some(false)
        {
            drop(guard);
            log.error = Some(Reason::StreamCap);
            return too_many_requests(cx.cap_retry_after_secs());
        }
    }
    log.session = Some(session.id.log_prefix());
    let body = SseBody::new(
        guard,
        outbound,
        cx.keepalive,
        Ending {
            opened: Instant::now(),
            audit: cx.audit.clone(),
            caller: who.caller,
            cluster: cx.cluster.clone(),
            tasks: cx.tasks.clone(),
        },
    );
    event_stream(slot.hold(BodyExt::boxed_unsync(body)))
}

/// How the session's MCP service starts when its first message is posted
/// (until then an idle stream runs no service task: issue 25).
fn service_start(cx: &Context, who: &Admitted) -> Start {
    let handler = CfpbMcp::for_caller(
        cx.source.clone(),
        cx.metrics.clone(),
        crate::data::CallerTag::new(*who.key.as_bytes()),
    );
    let tasks = cx.tasks.clone();
    Box::new(
        move |session: &Arc<Session>, inbound: mpsc::Receiver<Inbound>| {
            tasks.spawn(serve(handler, session.clone(), inbound));
        },
    )
}

/// The session's MCP service: rmcp's, reading `inbound` and answering onto
/// the session's outbound queue, until it stops or the session ends.
async fn serve(handler: CfpbMcp, session: Arc<Session>, inbound: mpsc::Receiver<Inbound>) {
    // The session's queues carry boxes (see `session::Inbound`); rmcp sees
    // messages. Each answer is framed as it is queued, so its bytes count
    // against the session's budget from then (MSG-6).
    let framing = session.clone();
    let transport = (
        PollSender::new(session.outbound.clone()).with(move |m: ServerJsonRpcMessage| {
            std::future::ready(Ok::<_, PollSendError<Outbound>>(outgoing(&framing, &m)))
        }),
        ReceiverStream::new(inbound).map(|m| *m),
    );
    let cancel = session.cancel.clone();
    // The handshake's future is boxed: unboxed, this task would keep room
    // for it (~11 KB) for the whole session, long after the handshake
    // (issue 25).
    let serving = Box::pin(handler.serve_with_ct(transport, cancel)).await;
    if let Ok(running) = serving {
        let _ = running.waiting().await;
    }
    session.end(EndReason::McpClosed);
}

/// What a stream's end needs: its `mcp_stream_end` line, and the release
/// of its cluster claim.
struct Ending {
    opened: Instant,
    audit: AuditLog,
    caller: Caller,
    cluster: Option<Cluster>,
    tasks: TaskTracker,
}

/// A session's event stream, as the response's body: hyper polls it when
/// the connection can take a frame, and drops it when the connection goes.
///
/// A client that stops reading stops being polled: its answers wait in the
/// session's bounded outbound queue, which holds the MCP service back when
/// full, and their bytes keep new posts waiting (MSG-6).
struct SseBody {
    /// Keeps the session registered until the stream ends (SSE-5).
    guard: Option<SessionGuard>,
    /// The session's answers and errors, framed.
    outbound: mpsc::Receiver<Outbound>,
    /// The `endpoint` event, until it is sent.
    endpoint: Option<Bytes>,
    keepalive: Interval,
    /// The session's end (revocation, shutdown, the MCP service's exit).
    cancelled: Pin<Box<WaitForCancellationFutureOwned>>,
    /// Set once the stream has ended itself.
    ended: Option<EndReason>,
    /// Messages handed to the connection.
    sent: u64,
    ending: Ending,
}

impl SseBody {
    fn new(
        guard: SessionGuard,
        outbound: mpsc::Receiver<Outbound>,
        keepalive: Duration,
        ending: Ending,
    ) -> Self {
        let session = &guard.session;
        let mut ticks =
            tokio::time::interval_at(tokio::time::Instant::now() + keepalive, keepalive);
        ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
        Self {
            endpoint: Some(Bytes::from(endpoint_event(&session.id.to_string()))),
            cancelled: Box::pin(session.cancel.clone().cancelled_owned()),
            guard: Some(guard),
            outbound,
            keepalive: ticks,
            ended: None,
            sent: 0,
            ending,
        }
    }

    /// The next frame: the endpoint event first, then the end if the session
    /// ended, else a queued message, else the keep-alive when it is due.
    fn next(&mut self, cx: &mut TaskContext<'_>) -> Poll<Option<Bytes>> {
        if self.ended.is_some() {
            return Poll::Ready(None);
        }
        if let Some(endpoint) = self.endpoint.take() {
            return Poll::Ready(Some(endpoint));
        }
        let Some(SessionGuard { session, .. }) = &self.guard else {
            return Poll::Ready(None);
        };
        if self.cancelled.as_mut().poll(cx).is_ready() {
            self.ended = Some(session.end_reason());
            return Poll::Ready(None);
        }
        match self.outbound.poll_recv(cx) {
            Poll::Ready(Some(out)) => {
                let Outgoing { frame, answers } = *out;
                session.taken(frame.len());
                if let Some(id) = &answers {
                    session.settle(id);
                }
                self.sent += 1;
                return Poll::Ready(Some(frame));
            }
            // The session holds a sender: this cannot happen while it lives.
            Poll::Ready(None) => {
                self.ended = Some(EndReason::McpClosed);
                return Poll::Ready(None);
            }
            Poll::Pending => {}
        }
        match self.keepalive.poll_tick(cx) {
            Poll::Ready(_) => Poll::Ready(Some(Bytes::from_static(KEEPALIVE))),
            Poll::Pending => Poll::Pending,
        }
    }
}

impl hyper::body::Body for SseBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut TaskContext<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        self.get_mut()
            .next(cx)
            .map(|frame| frame.map(|bytes| Ok(Frame::data(bytes))))
    }
}

impl Drop for SseBody {
    /// The stream's end, however it came: the session ends (the first reason
    /// given wins; a client that left is the default), is unregistered at
    /// once (SSE-5), its cluster claim is released, and its line is logged.
    fn drop(&mut self) {
        let Some(guard) = self.guard.take() else {
            return;
        };
        let session = guard.session.clone();
        session.end(self.ended.unwrap_or(EndReason::ClientClosed));
        let reason = session.end_reason();
        let unanswered = u64::try_from(session.unanswered()).unwrap_or(u64::MAX);
        drop(guard);
        let ending = &self.ending;
        // A release is a Redis call: it runs on the runtime, which a body
        // dropped while the runtime itself shuts down no longer has.
        if let Some(cluster) = ending.cluster.clone()
            && tokio::runtime::Handle::try_current().is_ok()
        {
            let id = session.id.to_string();
            ending
                .tasks
                .spawn(async move { cluster.release(&id).await });
        }
        ending.audit.write(&Event::StreamEnd(StreamEnd {
            key: ending.caller,
            session: session.id.log_prefix(),
            duration_ms: millis(ending.opened.elapsed()),
            reason,
            messages_sent: self.sent,
            unanswered,
        }));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::{AuditTarget, MemorySink};
    use crate::identity::keys::KeyDigest;
    use crate::metrics::Metrics;
    use crate::transport::legacy::session::{Admission, MAX_UNSENT_BYTES};
    use rmcp::model::{EmptyResult, ServerResult};
    use serde_json::Value;
    use tokio_util::sync::CancellationToken;

    const KEEPALIVE_EVERY: Duration = Duration::from_secs(15);

    type Lines = MemorySink;

    /// The `mcp_stream_end` lines of `audit`, once it is closed.
    async fn stream_ends(lines: &Lines, audit: AuditLog) -> Vec<Value> {
        audit.close().await;
        lines
            .text()
            .lines()
            .map(|line| serde_json::from_str::<Value>(line).unwrap())
            .filter(|line| line["event"] == "mcp_stream_end")
            .collect()
    }

    /// A session of `registry`'s, whose service starts nothing.
    fn registered(registry: &Arc<Registry>) -> (SessionGuard, mpsc::Receiver<Outbound>) {
        registry
            .open(
                KeyDigest::of(b"a"),
                &CancellationToken::new(),
                Box::new(|_, _| {}),
            )
            .unwrap()
    }

    /// A registered session and its stream's body, as `open` makes them,
    /// the body's first frame read: the endpoint event (SSE-2).
    async fn stream(registry: &Arc<Registry>, lines: &Lines) -> (SseBody, Arc<Session>, AuditLog) {
        let (guard, outbound) = registered(registry);
        let session = guard.session.clone();
        let audit = AuditLog::start(
            AuditTarget::Writer(Box::new(lines.clone())),
            Arc::new(Metrics::new()),
        )
        .unwrap();
        let ending = Ending {
            opened: Instant::now(),
            audit: audit.clone(),
            caller: Caller::None,
            cluster: None,
            tasks: TaskTracker::new(),
        };
        let mut body = SseBody::new(guard, outbound, KEEPALIVE_EVERY, ending);
        let endpoint = next(&mut body).await.unwrap();
        assert_eq!(endpoint, endpoint_event(&session.id.to_string()));
        (body, session, audit)
    }

    async fn next(body: &mut SseBody) -> Option<String> {
        let frame = body.frame().await?.unwrap();
        Some(String::from_utf8(frame.into_data().unwrap().to_vec()).unwrap())
    }

    /// SSE-2..5, MSG-6: the endpoint event first; an answer queued for the
    /// stream counts against the session's bytes until the connection takes
    /// it, and frees its request's room then; a keep-alive when the stream
    /// has been idle for the interval; the end when the session ends, and
    /// one `mcp_stream_end` line once the connection lets the body go.
    #[tokio::test(start_paused = true)]
    async fn sse_2_to_5_the_body_writes_the_stream_and_logs_its_end() {
        let registry = Registry::new(1);
        let lines = Lines::default();
        let (mut body, session, audit) = stream(&registry, &lines).await;

        let id = RequestId::Number(7);
        let wait = Duration::from_millis(10);
        assert_eq!(session.admit(id.clone(), wait).await, Admission::Admitted);
        let answer = ServerJsonRpcMessage::response(ServerResult::EmptyResult(EmptyResult {}), id);
        let out = outgoing(&session, &answer);
        let bytes = out.frame.len();
        session.outbound.send(out).await.unwrap();
        assert_eq!(
            session.unsent(),
            bytes,
            "counted from the moment it is queued"
        );
        assert_eq!(session.unanswered(), 1);
        let event = next(&mut body).await.unwrap();
        assert_eq!(
            event,
            r#"event: message
data: {"jsonrpc":"2.0","id":7,"result":{}}

"#
        );
        assert_eq!((session.unsent(), session.unanswered()), (0, 0), "taken");

        tokio::time::advance(KEEPALIVE_EVERY).await;
        assert_eq!(next(&mut body).await.unwrap().as_bytes(), KEEPALIVE);

        session.end(EndReason::KeyRevoked);
        assert_eq!(
            next(&mut body).await,
            None,
            "the stream ends with the session"
        );
        assert_eq!(registry.len(), 1, "registered until the connection lets go");
        drop(body);
        assert_eq!(registry.len(), 0);
        let ends = stream_ends(&lines, audit).await;
        assert_eq!(ends.len(), 1);
        assert_eq!(ends[0]["reason"], "key_revoked");
        assert_eq!(ends[0]["messages_sent"], 1);
        assert_eq!(ends[0]["unanswered"], 0);
    }

    /// SSE-5: a client that leaves (hyper drops the body) ends its session
    /// at once: the MCP service is cancelled, the session unregistered, and
    /// the answers it can no longer get counted.
    #[tokio::test(start_paused = true)]
    async fn sse_5_a_client_that_leaves_ends_its_session_at_once() {
        let registry = Registry::new(1);
        let lines = Lines::default();
        let (body, session, audit) = stream(&registry, &lines).await;
        let wait = Duration::from_millis(10);
        assert_eq!(
            session.admit(RequestId::Number(1), wait).await,
            Admission::Admitted
        );
        drop(body);
        assert!(session.cancel.is_cancelled());
        assert_eq!(registry.len(), 0);
        let ends = stream_ends(&lines, audit).await;
        assert_eq!(ends[0]["reason"], "client_closed");
        assert_eq!(ends[0]["unanswered"], 1);
    }

    /// MSG-6: a client that does not read is not polled, so its answers wait
    /// in the bounded queue, counted, and new requests wait on them.
    #[tokio::test(start_paused = true)]
    async fn msg_6_answers_a_client_does_not_read_hold_its_new_requests() {
        let registry = Registry::new(1);
        let lines = Lines::default();
        let (mut body, session, _audit) = stream(&registry, &lines).await;
        let big = ServerJsonRpcMessage::response(
            ServerResult::EmptyResult(EmptyResult {}),
            RequestId::String("x".repeat(MAX_UNSENT_BYTES).into()),
        );
        session
            .outbound
            .send(outgoing(&session, &big))
            .await
            .unwrap();
        let wait = Duration::from_millis(10);
        assert_eq!(
            session.admit(RequestId::Number(2), wait).await,
            Admission::Overloaded
        );
        next(&mut body).await.unwrap();
        assert_eq!(
            session.admit(RequestId::Number(2), wait).await,
            Admission::Admitted,
            "read: room again"
        );
    }

    /// What keeps an initialized session small (issue 25): its service's
    /// task keeps no room for rmcp's handshake (~11 KB), which is over
    /// once the session is initialized.
    #[tokio::test]
    async fn an_initialized_sessions_task_keeps_no_room_for_the_handshake() {
        let registry = Registry::new(1);
        let (guard, _outbound) = registered(&registry);
        let handler = CfpbMcp::new(
            crate::data::DataSource::fixtures().unwrap(),
            Arc::new(Metrics::new()),
        );
        let (_queue, inbound) = mpsc::channel(1);
        let task = serve(handler, guard.session.clone(), inbound);
        assert!(size_of_val(&task) <= 2048, "{} bytes", size_of_val(&task));
    }

    /// What keeps an idle stream small (issue 25): it is its body, held by
    /// the connection, and nothing else: no task of its own, no channel
    /// between a task and the connection (an idle stream's task and body
    /// channel were ~1.5 KiB).
    #[test]
    fn an_idle_stream_is_its_body_alone() {
        assert!(size_of::<SseBody>() <= 256, "{}", size_of::<SseBody>());
    }
}
