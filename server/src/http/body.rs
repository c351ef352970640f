//! Request bodies: bounded reading (MSG-3, NET-3) and the content type rule
//! of posted messages. A body is never read past its bound in bytes or time.

use bytes::Bytes;
use http::HeaderMap;
use http::Response;
use http::header::CONTENT_TYPE;
use http_body_util::BodyExt;
use hyper::body::Incoming;

use crate::http::response::{Body, bad_request, too_large};

/// How much of an oversized body is read and thrown away before the 413, so
/// that the connection closes cleanly instead of being reset with unread data
/// (a reset can destroy the 413 in flight, and proxies turn it into a 502).
pub const OVERSIZE_DRAIN_BYTES: usize = 8 * 1024 * 1024;

/// Read a request body of at most `max` bytes within `timeout` (MSG-3,
/// NET-3): a declared or actual size over `max` is a 413 (after draining up
/// to [`OVERSIZE_DRAIN_BYTES`] more), a body that stalls or breaks is a 400.
pub async fn read_body(
    headers: &HeaderMap,
    mut body: Incoming,
    max: usize,
    timeout: std::time::Duration,
) -> Result<Bytes, Response<Body>> {
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
                    break; // enough politeness: answer now
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
    match tokio::time::timeout(timeout, read).await {
        Ok(result) => result,
        Err(_) if declared.is_some_and(|n| n > max as u64) => Err(too_large(max)),
        Err(_) => Err(bad_request("Timed out reading the request body")),
    }
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
