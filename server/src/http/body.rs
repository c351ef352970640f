//! Request bodies: bounded reading (MSG-3, NET-3), the content type rule of
//! posted messages, and draining what a refused request left unread (NET-4),
//! so a refusal never breaks a keep-alive connection. A body is never read
//! past its bound in bytes or time.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http::header::{CONNECTION, CONTENT_TYPE, HeaderValue};
use http::{HeaderMap, Response};
use http_body_util::BodyExt;
use hyper::body::{Body as _, Incoming};

use crate::http::response::{Body, bad_request, too_large};

/// How much of an oversized body is read and thrown away before the 413, so
/// that the connection closes cleanly instead of being reset with unread data
/// (a reset can destroy the 413 in flight, and proxies turn it into a 502).
pub const OVERSIZE_DRAIN_BYTES: usize = 8 * 1024 * 1024;

/// What of a refused request's unread body is read and thrown away so that
/// the connection stays usable (NET-4): at most this many bytes...
pub const REFUSAL_DRAIN_BYTES: usize = 64 * 1024;
/// ...within this long. Past either, the response says `Connection: close`.
pub const REFUSAL_DRAIN_TIMEOUT: Duration = Duration::from_secs(1);

/// A request's body, which a handler may take to read. What no handler took
/// is still here when the response is ready, for the router to drain.
#[derive(Debug, Clone)]
pub struct BodySlot(Arc<Mutex<Option<Incoming>>>);

impl BodySlot {
    pub fn new(body: Incoming) -> Self {
        Self(Arc::new(Mutex::new(Some(body))))
    }

    /// The body, if nobody took it yet.
    pub fn take(&self) -> Option<Incoming> {
        self.0.lock().ok().and_then(|mut b| b.take())
    }
}

/// Read and discard the rest of a body nobody read, at most `max` bytes
/// within `timeout`. `true` if the body ended within the bounds, so the
/// connection can be reused.
pub async fn drain(mut body: Incoming, max: usize, timeout: Duration) -> bool {
    if body.is_end_stream() {
        return true;
    }
    let read = async {
        let mut seen = 0usize;
        while let Some(frame) = body.frame().await {
            let Ok(frame) = frame else { return false };
            if let Ok(data) = frame.into_data() {
                seen = seen.saturating_add(data.len());
                if seen > max {
                    return false;
                }
            }
        }
        true
    };
    tokio::time::timeout(timeout, read).await.unwrap_or(false)
}

/// Mark `response` as the connection's last (a body was left unread).
pub fn close_after(response: &mut Response<Body>) {
    response
        .headers_mut()
        .insert(CONNECTION, HeaderValue::from_static("close"));
}

/// Read a request body of at most `max` bytes within `timeout` (MSG-3,
/// NET-3): a declared or actual size over `max` is a 413 (after draining up
/// to [`OVERSIZE_DRAIN_BYTES`] more), a body that stalls or breaks is a 400.
/// A refusal that leaves body unread closes the connection after it.
pub async fn read_body(
    headers: &HeaderMap,
    slot: BodySlot,
    max: usize,
    timeout: std::time::Duration,
) -> Result<Bytes, Response<Body>> {
    let Some(mut body) = slot.take() else {
        return Err(bad_request("Could not read the request body"));
    };
    let declared = headers
        .get(http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let read = async {
        let mut kept = bytes::BytesMut::new();
        let mut oversized = declared.is_some_and(|n| n > max as u64);
        let mut seen = 0usize;
        while let Some(frame) = body.frame().await {
            let Ok(data) = frame.map(|f| f.into_data()) else {
                return Err(bad_request("Could not read the request body"));
            };
            let Ok(data) = data else { continue }; // trailers
            seen = seen.saturating_add(data.len());
            if seen > max {
                oversized = true;
            }
            if oversized {
                if seen > max.saturating_add(OVERSIZE_DRAIN_BYTES) {
                    // Enough politeness: answer now, and close after.
                    let mut refused = too_large(max);
                    close_after(&mut refused);
                    return Err(refused);
                }
            } else {
                kept.extend_from_slice(&data);
            }
        }
        if oversized {
            Err(too_large(max))
        } else {
            Ok(kept.freeze())
        }
    };
    let mut refused = match tokio::time::timeout(timeout, read).await {
        Ok(result) => return result,
        Err(_) if declared.is_some_and(|n| n > max as u64) => too_large(max),
        Err(_) => bad_request("Timed out reading the request body"),
    };
    close_after(&mut refused); // the rest of the body is still on its way
    Err(refused)
}

/// `application/json`, any case, parameters (such as `charset`) allowed (MSG-3).
pub fn is_json_content_type(headers: &HeaderMap) -> bool {
    let Some(value) = headers.get(CONTENT_TYPE).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let essence = value.split(';').next().unwrap_or_default().trim();
    essence.eq_ignore_ascii_case("application/json")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn msg_3_content_type() {
        let mut h = HeaderMap::new();
        assert!(!is_json_content_type(&h));
        for (v, ok) in [
            ("application/json", true),
            ("Application/JSON; charset=utf-8", true),
            ("text/plain", false),
            ("application/jsonx", false),
        ] {
            h.insert(CONTENT_TYPE, v.parse().unwrap());
            assert_eq!(is_json_content_type(&h), ok, "{v}");
        }
    }
}
