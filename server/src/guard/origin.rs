//! Origin allowlist (NET-2, strict): DNS-rebinding protection.
//!
//! A request with no `Origin` passes (server-side clients send none); one with
//! an `Origin` passes only if it is in the configured list. Comparison is
//! ASCII case-insensitive and ignores one trailing `/` in the configuration.

use http::HeaderMap;
use http::header::ORIGIN;

/// Normalize a configured origin: trimmed, without a trailing `/`.
pub fn normalize_origin(origin: &str) -> String {
    origin.trim().trim_end_matches('/').to_ascii_lowercase()
}

/// Is this request's `Origin` (if any) allowed by `allowed` (normalized)?
pub fn origin_allowed(headers: &HeaderMap, allowed: &[String]) -> bool {
    let mut values = headers.get_all(ORIGIN).iter();
    let Some(origin) = values.next() else {
        return true;
    };
    if values.next().is_some() {
        return false; // two Origin headers: refuse rather than guess
    }
    match origin.to_str() {
        Ok(origin) => allowed.iter().any(|a| a.eq_ignore_ascii_case(origin)),
        Err(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    fn with_origin(values: &[&str]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for v in values {
            headers.append(ORIGIN, HeaderValue::from_str(v).unwrap());
        }
        headers
    }

    #[test]
    fn net_2_origin_rules() {
        let allowed = vec![normalize_origin("https://claude.ai/")];
        assert!(origin_allowed(&HeaderMap::new(), &allowed));
        assert!(origin_allowed(
            &with_origin(&["https://claude.ai"]),
            &allowed
        ));
        assert!(origin_allowed(
            &with_origin(&["https://Claude.AI"]),
            &allowed
        ));
        assert!(!origin_allowed(
            &with_origin(&["https://evil.example"]),
            &allowed
        ));
        assert!(!origin_allowed(&with_origin(&["null"]), &allowed));
        assert!(!origin_allowed(
            &with_origin(&["https://claude.ai.evil.example"]),
            &allowed
        ));
        assert!(!origin_allowed(
            &with_origin(&["https://claude.ai", "https://claude.ai"]),
            &allowed
        ));
        assert!(!origin_allowed(&with_origin(&["https://claude.ai"]), &[]));
    }
}
