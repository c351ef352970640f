//! Why a data source could not answer (DATA-3, MSG-5): short messages that
//! name no secret and never embed an upstream body.

use std::time::Duration;

/// Why a data source could not answer. Every message is short, names no
/// secret, and never embeds an upstream body (MSG-5).
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    /// The upstream did not answer within the configured time.
    #[error("the request timed out after {}", humantime::format_duration(*.0))]
    Timeout(Duration),
    /// No connection could be made (DNS, refused, TLS).
    #[error("could not connect to the upstream API ({0})")]
    Connect(String),
    /// The upstream answered with a non-success status.
    #[error("upstream returned HTTP {0}")]
    Status(u16),
    /// The upstream body was larger than we accept.
    #[error("upstream response is larger than the {limit}-byte limit")]
    TooLarge {
        /// The limit in bytes.
        limit: usize,
    },
    /// The upstream body was not JSON.
    #[error("upstream returned malformed JSON ({0})")]
    BadJson(String),
    /// The upstream body was JSON of an unexpected shape.
    #[error("upstream returned an unexpected response shape ({0})")]
    Shape(String),
    /// Any other transport failure.
    #[error("the request failed ({0})")]
    Request(String),
    /// The HTTP client could not be built (bad TLS setup, ...).
    #[error("could not build the HTTP client ({0})")]
    Client(String),
    /// The bundled dataset could not be loaded.
    #[error("the bundled fixture dataset is invalid ({0})")]
    Fixtures(String),
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn errors_read_clearly() {
        // MSG-5: short, clear messages.
        assert_eq!(
            DataError::Status(503).to_string(),
            "upstream returned HTTP 503"
        );
        assert_eq!(
            DataError::Timeout(Duration::from_millis(1500)).to_string(),
            "the request timed out after 1s 500ms"
        );
    }
}
