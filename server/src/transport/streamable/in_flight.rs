//! MSG-6 on `/mcp`, for session-based requests only (HTTP-2026-7: a
//! stateless request has no session to be a duplicate in): a request id
//! already in flight in its session is refused, so every 200 carries its own
//! answer. The id leaves the set when its answer is sent or dropped; nothing
//! here outlives a request.

use std::sync::Arc;

use bytes::Bytes;
use dashmap::DashSet;
use http_body_util::BodyExt;
use rmcp::model::RequestId;

use crate::http::response::Body;
use crate::sessions::SessionId;

/// MSG-6: the refusal of a request whose id is already in flight.
pub const DUPLICATE_ID: &str =
    "Duplicate request id: a request with this id is still in flight in this session";

/// The request ids of each session whose answer is still being sent.
#[derive(Debug, Default, Clone)]
pub struct InFlight(Arc<DashSet<(SessionId, RequestId)>>);

impl InFlight {
    /// Mark `id` in flight in `session`; `None` if it already is.
    pub fn enter(&self, session: SessionId, id: RequestId) -> Option<InFlightEntry> {
        let key = (session, id);
        self.0.insert(key.clone()).then(|| InFlightEntry {
            set: self.clone(),
            key,
        })
    }
}

/// One request id in flight; it leaves the set when dropped.
pub struct InFlightEntry {
    set: InFlight,
    key: (SessionId, RequestId),
}

impl InFlightEntry {
    /// The answer's body, which keeps the id in flight until it is sent or dropped.
    pub fn hold(self, body: Body) -> Body {
        BodyExt::boxed_unsync(Answer { body, _entry: self })
    }
}

impl Drop for InFlightEntry {
    fn drop(&mut self) {
        self.set.0.remove(&self.key);
    }
}

/// A response body with the [`InFlightEntry`] it keeps alive.
struct Answer {
    body: Body,
    _entry: InFlightEntry,
}

impl hyper::body::Body for Answer {
    type Data = Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<hyper::body::Frame<Bytes>, Self::Error>>> {
        std::pin::Pin::new(&mut self.body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> hyper::body::SizeHint {
        self.body.size_hint()
    }
}
