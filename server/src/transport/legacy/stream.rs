//! `GET /mcp/sse`: the event stream of one MCP session (SSE-1..5 in
//! docs/contract.md).
//!
//! Opening a stream registers a session, starts its rmcp service over the
//! session's channels, and spawns the stream task that writes, in order: the
//! `endpoint` event (SSE-2), then each server message as an `event: message`
//! (SSE-3), with a `: ping` comment every keep-alive interval (SSE-4). The
//! stream ends when the client leaves, the key is revoked, the MCP service
//! stops, or the server shuts down; the session is then unregistered and one
//! `mcp_stream_end` line is logged (SSE-5, LOG-1).

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures::StreamExt;
use http::Response;
use http_body_util::{BodyExt, StreamBody};
use hyper::body::Frame;
use rmcp::ServiceExt;
use rmcp::model::ServerJsonRpcMessage;
use tokio::sync::mpsc;
use tokio::time::MissedTickBehavior;
use tokio_stream::wrappers::ReceiverStream;
use tokio_util::sync::PollSender;

use crate::audit::{AuditLog, Caller, EndReason, Event, Reason, RequestLog, StreamEnd, millis};
use crate::guard::Admitted;
use crate::http::response::{Body, event_stream, too_many_requests};
use crate::mcp::CfpbMcp;
use crate::transport::context::Context;
use crate::transport::legacy::session::{Registry, SessionGuard};

/// Frames waiting to be written to the socket. Small: a client that stops
/// reading its stream stops its session's MCP service (MSG-6).
const BODY_CAPACITY: usize = 8;

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
pub fn open(
    registry: &Arc<Registry>,
    cx: &Context,
    who: Admitted,
    log: &mut RequestLog,
) -> Response<Body> {
    let Ok((guard, channels)) = registry.open(who.key, &cx.shutdown) else {
        log.error = Some(Reason::StreamCap);
        return too_many_requests(cx.cap_retry_after_secs());
    };
    let session = guard.session.clone();
    log.session = Some(session.id.log_prefix());

    // The MCP service of this session.
    let handler = CfpbMcp::new(cx.source.clone());
    let transport = (
        PollSender::new(channels.outbound_tx),
        ReceiverStream::new(channels.inbound),
    );
    let service_session = session.clone();
    cx.tasks.spawn(async move {
        let cancel = service_session.cancel.clone();
        if let Ok(running) = handler.serve_with_ct(transport, cancel).await {
            let _ = running.waiting().await;
        }
        service_session.end(EndReason::McpClosed);
    });

    // The stream task, writing into the response body.
    let (body_tx, body_rx) = mpsc::channel::<Bytes>(BODY_CAPACITY);
    cx.tasks.spawn(stream_task(
        guard,
        channels.outbound,
        body_tx,
        cx.keepalive,
        cx.audit.clone(),
        who.caller,
    ));

    let body = StreamBody::new(ReceiverStream::new(body_rx).map(|b| Ok(Frame::data(b))));
    event_stream(BodyExt::boxed_unsync(body))
}

async fn stream_task(
    guard: SessionGuard,
    mut outbound: mpsc::Receiver<ServerJsonRpcMessage>,
    body: mpsc::Sender<Bytes>,
    keepalive: Duration,
    audit: AuditLog,
    caller: Caller,
) {
    let opened = Instant::now();
    let session = guard.session.clone();
    let mut sent = 0u64;
    let first = Bytes::from(endpoint_event(&session.id.to_string()));
    let reason = 'stream: {
        if body.send(first).await.is_err() {
            break 'stream EndReason::ClientClosed;
        }
        let mut ticks =
            tokio::time::interval_at(tokio::time::Instant::now() + keepalive, keepalive);
        ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
        loop {
            let frame = tokio::select! {
                biased;
                _ = session.cancel.cancelled() => break 'stream session.end_reason(),
                _ = body.closed() => break 'stream EndReason::ClientClosed,
                message = outbound.recv() => {
                    let Some(message) = message else { continue };
                    if let Some(id) = answered_request(&message) {
                        session.settle(id);
                    }
                    match message_event(&message) {
                        Some(frame) => { sent += 1; frame }
                        None => continue,
                    }
                }
                _ = ticks.tick() => Bytes::from_static(KEEPALIVE),
            };
            tokio::select! {
                biased;
                _ = session.cancel.cancelled() => break 'stream session.end_reason(),
                sent = body.send(frame) => if sent.is_err() { break 'stream EndReason::ClientClosed },
            }
        }
    };
    session.end(reason);
    let session_prefix = session.id.log_prefix();
    let unanswered = u64::try_from(session.unanswered()).unwrap_or(u64::MAX);
    drop(guard); // unregister now (SSE-5)
    audit.write(&Event::StreamEnd(StreamEnd {
        key: caller,
        session: session_prefix,
        duration_ms: millis(opened.elapsed()),
        reason,
        messages_sent: sent,
        unanswered,
    }));
}
