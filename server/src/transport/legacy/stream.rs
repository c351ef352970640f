//! `GET /mcp/sse`: the event stream of one MCP session (SSE-1..5 in
//! docs/contract.md).
//!
//! Opening a stream registers a session (whose rmcp service the first posted
//! message starts, over the session's channels) and spawns the stream task that writes, in order: the
//! `endpoint` event (SSE-2), then each server message as an `event: message`
//! (SSE-3), with a `: ping` comment every keep-alive interval (SSE-4). The
//! stream ends when the client leaves, the key is revoked, the MCP service
//! stops, or the server shuts down; the session is then unregistered and one
//! `mcp_stream_end` line is logged (SSE-5, LOG-1).

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures::{SinkExt, StreamExt};
use http::Response;
use http_body_util::{BodyExt, StreamBody};
use hyper::body::Frame;
use rmcp::ServiceExt;
use rmcp::model::ServerJsonRpcMessage;
use tokio::sync::mpsc;
use tokio::time::MissedTickBehavior;
use tokio_stream::wrappers::ReceiverStream;
use tokio_util::sync::{PollSendError, PollSender};

use crate::audit::{AuditLog, Caller, EndReason, Event, Reason, RequestLog, StreamEnd, millis};
use crate::cluster::{Cluster, Scope};
use crate::guard::Admitted;
use crate::http::response::{Body, event_stream, too_many_requests};
use crate::mcp::CfpbMcp;
use crate::transport::context::Context;
use crate::transport::legacy::session::{
    Inbound, MAX_BACKLOG_BYTES, Outbound, Registry, Session, SessionGuard, Start,
};

/// Frames waiting for the connection to take them. Small; what waits behind
/// them is held by the stream task and counted in bytes (MSG-6).
const BODY_CAPACITY: usize = 8;

/// A frame on its way to the connection, boxed: a tokio channel allocates
/// its slots 32 at a time when it is made, so an idle stream's body channel
/// holds 32 pointers instead of 32 `Bytes` (1 KiB; issue 25).
type Queued = Box<Bytes>;

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

/// The client request a server message answers, if it is an answer.
fn answered_request(message: &ServerJsonRpcMessage) -> Option<&rmcp::model::RequestId> {
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

    // The stream task, writing into the response body. Every frame is
    // counted against the session's byte budget until the connection takes
    // it (MSG-6).
    let (body_tx, body_rx) = mpsc::channel::<Queued>(BODY_CAPACITY);
    let reader = session.clone();
    cx.tasks.spawn(stream_task(
        guard,
        outbound,
        body_tx,
        cx.keepalive,
        cx.audit.clone(),
        who.caller,
        cx.cluster.clone(),
    ));

    let body = StreamBody::new(ReceiverStream::new(body_rx).map(move |frame| {
        reader.taken(frame.len());
        Ok(Frame::data(*frame))
    }));
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
            // The session's queues carry boxes (see `session::Inbound`); rmcp
            // sees messages.
            let transport = (
                PollSender::new(session.outbound.clone()).with(|m: ServerJsonRpcMessage| {
                    std::future::ready(Ok::<_, PollSendError<Outbound>>(Box::new(m)))
                }),
                ReceiverStream::new(inbound).map(|m| *m),
            );
            let session = session.clone();
            tasks.spawn(async move {
                let cancel = session.cancel.clone();
                if let Ok(running) = handler.serve_with_ct(transport, cancel).await {
                    let _ = running.waiting().await;
                }
                session.end(EndReason::McpClosed);
            });
        },
    )
}

async fn stream_task(
    guard: SessionGuard,
    outbound: mpsc::Receiver<Outbound>,
    body: mpsc::Sender<Queued>,
    keepalive: Duration,
    audit: AuditLog,
    caller: Caller,
    cluster: Option<Cluster>,
) {
    let opened = Instant::now();
    let session = guard.session.clone();
    let mut sent = 0u64;
    let reason = pump(&session, outbound, body, keepalive, &mut sent).await;
    session.end(reason);
    let session_prefix = session.id.log_prefix();
    let unanswered = u64::try_from(session.unanswered()).unwrap_or(u64::MAX);
    drop(guard); // unregister now (SSE-5)
    if let Some(cluster) = &cluster {
        // Boxed: the release's wait is larger than the whole stream's, and
        // an unboxed one would be room every open stream keeps (issue 25).
        Box::pin(cluster.release(&session.id.to_string())).await;
    }
    audit.write(&Event::StreamEnd(StreamEnd {
        key: caller,
        session: session_prefix,
        duration_ms: millis(opened.elapsed()),
        reason,
        messages_sent: sent,
        unanswered,
    }));
}

/// Write the stream until it must end: the `endpoint` event, then each
/// message of `outbound` in order, with keep-alives while idle. `sent` counts
/// the messages handed to the connection.
///
/// Messages are taken off `outbound` as they come and held, counted in bytes
/// against the session's budget, until the body channel has room; past
/// [`MAX_BACKLOG_BYTES`] none is taken until the client has read (the
/// outbound channel then fills and holds the MCP service back): what a slow
/// reader makes the server hold is bounded in bytes (MSG-6).
async fn pump(
    session: &Session,
    mut outbound: mpsc::Receiver<Outbound>,
    body: mpsc::Sender<Queued>,
    keepalive: Duration,
    sent: &mut u64,
) -> EndReason {
    let first = Bytes::from(endpoint_event(&session.id.to_string()));
    session.queued(first.len());
    // The channel is empty: this does not wait.
    if body.send(Box::new(first)).await.is_err() {
        return EndReason::ClientClosed;
    }
    let mut backlog: VecDeque<Bytes> = VecDeque::new();
    let mut ticks = tokio::time::interval_at(tokio::time::Instant::now() + keepalive, keepalive);
    ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
    // Three states, each waiting on what it needs, so that the task keeps
    // room for the largest of the three sets of waits, not for all of them
    // at once (issue 25: an idle stream's task is mostly this room). A
    // backlog is sent as the body takes it; the body refusing means the
    // client left.
    loop {
        let taken = if backlog.is_empty() {
            // Idle: a message, the keep-alive, or the end.
            tokio::select! {
                biased;
                _ = session.cancel.cancelled() => return session.end_reason(),
                _ = body.closed() => return EndReason::ClientClosed,
                message = outbound.recv() => message,
                _ = ticks.tick() => {
                    session.queued(KEEPALIVE.len());
                    if body.try_send(Box::new(Bytes::from_static(KEEPALIVE))).is_err() {
                        session.taken(KEEPALIVE.len());
                    }
                    None
                }
            }
        } else if session.unsent() >= MAX_BACKLOG_BYTES {
            // Full: nothing more is taken off `outbound` until the client
            // reads. A reader that is behind needs no keep-alive.
            tokio::select! {
                biased;
                _ = session.cancel.cancelled() => return session.end_reason(),
                _ = session.drained() => None,
                room = body.reserve() => {
                    if let Err(end) = send(room, &mut backlog, sent) {
                        return end;
                    }
                    None
                }
            }
        } else {
            tokio::select! {
                biased;
                _ = session.cancel.cancelled() => return session.end_reason(),
                room = body.reserve() => {
                    if let Err(end) = send(room, &mut backlog, sent) {
                        return end;
                    }
                    None
                }
                message = outbound.recv() => message,
            }
        };
        // The session holds a sender, so `recv` never gives `None` for good.
        if let Some(message) = taken {
            if let Some(id) = answered_request(&message) {
                session.settle(id);
            }
            if let Some(frame) = message_event(&message) {
                session.queued(frame.len());
                backlog.push_back(frame);
            }
        }
    }
}

/// Hand the oldest frame of `backlog` to the body, which made `room`.
fn send(
    room: Result<mpsc::Permit<'_, Queued>, mpsc::error::SendError<()>>,
    backlog: &mut VecDeque<Bytes>,
    sent: &mut u64,
) -> Result<(), EndReason> {
    match (room, backlog.pop_front()) {
        (Ok(room), Some(frame)) => {
            *sent += 1;
            room.send(Box::new(frame));
            Ok(())
        }
        _ => Err(EndReason::ClientClosed),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What keeps an idle stream small (issue 25): its task keeps room for
    /// the largest of its waits, and the cluster release at its end is
    /// boxed. It was 968 bytes with all of the pump's waits side by side
    /// and the release inline; 760 now.
    #[tokio::test]
    async fn an_idle_streams_task_keeps_room_for_one_state_at_a_time() {
        use crate::identity::keys::KeyDigest;
        let registry = Registry::new(1);
        let (guard, outbound) = registry
            .open(
                KeyDigest::of(b"a"),
                &tokio_util::sync::CancellationToken::new(),
                Box::new(|_, _| {}),
            )
            .unwrap();
        let audit = AuditLog::start(
            crate::audit::AuditTarget::Writer(Box::new(std::io::sink())),
            Arc::new(crate::metrics::Metrics::new()),
        )
        .unwrap();
        let (body, _taken) = mpsc::channel::<Queued>(BODY_CAPACITY);
        let task = stream_task(
            guard,
            outbound,
            body,
            Duration::from_secs(1),
            audit,
            Caller::None,
            None,
        );
        assert!(size_of_val(&task) <= 800, "{} bytes", size_of_val(&task));
    }

    #[test]
    fn an_idle_streams_body_channel_holds_pointers_not_frames() {
        // Issue 25: the channel's first 32 slots are made with it.
        assert_eq!(size_of::<Queued>(), size_of::<usize>());
        assert!(size_of::<Bytes>() >= 4 * size_of::<usize>());
    }
}
