//! At most one standalone GET stream per `/mcp` session (RATE-7 in
//! docs/contract.md): the revisions let a server refuse a second one, and
//! rmcp alone would keep one plus 32 more per session, each a connection
//! held for as long as the session lives. A second GET while one is open
//! gets `409`, as the official TypeScript SDK's server answers.

use std::sync::Arc;

use dashmap::DashSet;
use http_body_util::BodyExt;

use crate::http::response::Body;
use crate::sessions::SessionId;

/// The refusal of a second GET stream.
pub const ONE_STREAM: &str = "Conflict: only one GET stream per session";

/// The sessions with a GET stream open now.
#[derive(Debug, Default, Clone)]
pub struct Listening(Arc<DashSet<SessionId>>);

impl Listening {
    /// Mark `session` as listening; `None` if it already is.
    pub fn enter(&self, session: SessionId) -> Option<ListeningEntry> {
        self.0.insert(session).then(|| ListeningEntry {
            set: self.clone(),
            session,
        })
    }
}

/// One session's GET stream; the session may open another once it is dropped.
#[derive(Debug)]
pub struct ListeningEntry {
    set: Listening,
    session: SessionId,
}

impl ListeningEntry {
    /// The stream's body, which keeps the session marked until it is dropped.
    pub fn hold(self, body: Body) -> Body {
        body.map_frame(move |frame| {
            let _entry = &self;
            frame
        })
        .boxed_unsync()
    }
}

impl Drop for ListeningEntry {
    fn drop(&mut self) {
        self.set.0.remove(&self.session);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rate_7_one_get_stream_per_session() {
        let listening = Listening::default();
        let (a, b) = (SessionId::random(), SessionId::random());
        let first = listening.enter(a).expect("the first");
        assert!(listening.enter(a).is_none(), "a second one");
        let _other = listening.enter(b).expect("another session's");
        drop(first);
        assert!(listening.enter(a).is_some(), "again once the first ended");
    }
}
