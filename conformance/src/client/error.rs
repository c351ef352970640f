//! `ClientError`: what went wrong on the client side of a step, typed by kind. Its
//! `Display` is the text a check reports (as a skip or as the observed side of a
//! failure), so it describes what happened and never what was sent: no header value, no
//! key. Judging a clause is not its job (that is `engine::Outcome`).

use crate::wire::response::ResponseError;
use std::time::Duration;

/// A failed client step.
#[derive(Clone, Debug, thiserror::Error)]
pub enum ClientError {
    /// The HTTP client could not be built.
    #[error("HTTP client: {0}")]
    Setup(String),
    /// The probe can't be sent as given (a method or header the HTTP client refuses).
    #[error("{0}")]
    Unsendable(String),
    /// No answer in time; `what` is the part awaited ("complete response", "response head").
    #[error("no {what} within {}s", .after.as_secs_f32())]
    Timeout { what: &'static str, after: Duration },
    /// An open stream carried nothing in time.
    #[error("nothing on the stream within {:.1}s", .0.as_secs_f32())]
    Idle(Duration),
    /// The exchange failed: connect, TLS, write, read, as the HTTP client describes it
    /// (the URL at most, never a header).
    #[error("{0}")]
    Transport(String),
    /// An open stream broke.
    #[error("stream error: {0}")]
    Stream(String),
    /// The raw client's bytes are not an HTTP response.
    #[error(transparent)]
    Response(#[from] ResponseError),
    /// The stream ended before what the step waits for.
    #[error("the stream ended before {0}")]
    Ended(String),
    /// The target answered, but not what the step needs to go on.
    #[error("{0}")]
    Unexpected(String),
    /// The step needs a key and none is configured.
    #[error("no key")]
    NoKey,
    /// The log source could not be read.
    #[error("{0}")]
    Log(String),
    /// A log line is not a JSON object.
    #[error("{0}")]
    LogLine(&'static str),
    /// A step of a larger operation failed.
    #[error("{step}: {source}")]
    During {
        step: String,
        source: Box<ClientError>,
    },
}

impl ClientError {
    /// This error as the failure of `step` of a larger operation.
    pub fn during(self, step: impl Into<String>) -> Self {
        ClientError::During {
            step: step.into(),
            source: Box::new(self),
        }
    }
}

/// Report text: checks put an error into an `Outcome` as its `Display`.
impl From<ClientError> for String {
    fn from(e: ClientError) -> String {
        e.to_string()
    }
}
