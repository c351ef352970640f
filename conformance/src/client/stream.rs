//! An open Server-Sent-Events stream read through the harness's own parser
//! (`wire::sse`), item by item with a deadline; keeps the first bytes for checks on the
//! exact wire text (docs/contract.md SSE-1..4, HTTP-4); every item goes through the
//! run-wide key scan (AUTH-7).

use super::error::ClientError;
use super::probe::Probe;
use super::scan::ResponseScan;
use crate::wire::response::Resp;
use crate::wire::sse::{SseEvent, SseItem, SseParser};
use bytes::Bytes;
use futures::StreamExt;
use futures::stream::BoxStream;
use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// An open SSE stream read through the harness's own parser.
pub struct SseConn {
    pub head: Resp,
    pub(super) stream: BoxStream<'static, reqwest::Result<Bytes>>,
    pub(super) parser: SseParser,
    pub(super) pending: VecDeque<SseItem>,
    /// The first bytes received (up to 4 KiB), for checks on the exact wire text.
    pub raw: Vec<u8>,
    pub opened: Instant,
    /// The run-wide response scan and the probe that opened the stream: every item read
    /// is scanned for the keys (AUTH-7.run).
    pub(super) scan: Option<(Arc<ResponseScan>, Probe)>,
}

impl SseConn {
    /// The next comment or event; `Ok(None)` at end of stream; `Err` on timeout or error.
    pub async fn next_item(&mut self, wait: Duration) -> Result<Option<SseItem>, ClientError> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            if let Some(item) = self.pending.pop_front() {
                return Ok(Some(item));
            }
            match tokio::time::timeout_at(deadline, self.stream.next()).await {
                Err(_) => {
                    return Err(ClientError::Idle(wait));
                }
                Ok(None) => return Ok(None),
                Ok(Some(Err(e))) => return Err(ClientError::Stream(describe_reqwest(e))),
                Ok(Some(Ok(chunk))) => {
                    if self.raw.len() < 4096 {
                        self.raw
                            .extend_from_slice(&chunk[..chunk.len().min(4096 - self.raw.len())]);
                    }
                    let items = self.parser.feed(&chunk);
                    if let Some((scan, probe)) = &self.scan {
                        for item in &items {
                            scan.stream_item(probe, item_text(item).as_bytes());
                        }
                    }
                    self.pending.extend(items);
                }
            }
        }
    }

    /// The next event, skipping comments.
    pub async fn next_event(&mut self, wait: Duration) -> Result<Option<SseEvent>, ClientError> {
        let deadline = Instant::now() + wait;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            // An idle stream is reported with the whole wait, not what was left of it.
            let item = self.next_item(left).await.map_err(|e| match e {
                ClientError::Idle(_) => ClientError::Idle(wait),
                e => e,
            })?;
            match item {
                Some(SseItem::Event(e)) => return Ok(Some(e)),
                Some(SseItem::Comment(_)) => continue,
                None => return Ok(None),
            }
        }
    }
}

/// An item's text as it was on the wire, near enough for the key scan.
fn item_text(item: &SseItem) -> String {
    match item {
        SseItem::Comment(c) => c.clone(),
        SseItem::Event(e) => format!(
            "{}\n{}\n{}",
            e.event,
            e.id.as_deref().unwrap_or_default(),
            e.data
        ),
    }
}

pub(super) fn describe_reqwest(e: reqwest::Error) -> String {
    // reqwest's Display includes the URL (never a header), which is fine to show.
    let mut s = e.to_string();
    let mut src = std::error::Error::source(&e);
    while let Some(inner) = src {
        s.push_str(": ");
        s.push_str(&inner.to_string());
        src = inner.source();
    }
    super::tls::with_trust_hint(s)
}
