//! Expectations on one response, as data: an exact error body (docs/contract.md "Error
//! bodies": AUTH-3, RATE-2, MSG-2, NET-2, ...), the error shape `{"error":{"type":T,
//! "message":M}}`, a set of statuses, "accepted", or a 401 challenge. `meets` says how a response differs;
//! it never looks at anything but the response.

use crate::wire::response::Resp;

/// What a probe's response must be.
#[derive(Clone, Debug)]
pub enum Expect {
    /// This status, `application/json`, and exactly this body.
    Exact(u16, &'static str),
    /// This status, `application/json`, body `{"error":{"type":T,"message":<string>}}`.
    Shape(u16, &'static str),
    /// Any of these statuses.
    StatusIn(&'static [u16]),
    /// Not rejected as unauthenticated: anything but 401/403/429/5xx.
    Accepted,
    /// `401` with a non-empty `WWW-Authenticate` header, any scheme, any body (the `mcp`
    /// profile: RFC 9110 §15.5.2, the MCP authorization spec).
    Challenge,
    /// `Challenge`, or `405` (the method is not served at all: nothing to guard).
    ChallengeOr405,
}

impl std::fmt::Display for Expect {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Expect::Exact(s, b) => write!(f, "{s}, application/json, body exactly {b}"),
            Expect::Shape(s, t) => write!(
                f,
                "{s}, application/json, body {{\"error\":{{\"type\":\"{t}\",\"message\":...}}}}"
            ),
            Expect::StatusIn(s) => write!(
                f,
                "status {}",
                s.iter()
                    .map(|s| s.to_string())
                    .collect::<Vec<_>>()
                    .join(" or ")
            ),
            Expect::Accepted => f.write_str("accepted (not 401/403/429/5xx)"),
            Expect::Challenge => f.write_str("401 with a WWW-Authenticate header (any scheme)"),
            Expect::ChallengeOr405 => f.write_str(
                "401 with a WWW-Authenticate header (any scheme), or 405 (method not served)",
            ),
        }
    }
}

pub fn is_json(resp: &Resp) -> bool {
    resp.header("content-type").is_some_and(|c| {
        c.trim()
            .to_ascii_lowercase()
            .starts_with("application/json")
    })
}

/// `Ok(())` when `resp` meets `expect`, else a description of how it differs.
pub fn meets(resp: &Resp, expect: &Expect) -> Result<(), String> {
    match expect {
        Expect::Exact(status, body) => {
            if resp.status != *status {
                return Err(format!("status {}", resp.status));
            }
            if !is_json(resp) {
                return Err("content-type is not application/json".into());
            }
            if resp.body != body.as_bytes() {
                return Err("body differs".into());
            }
            Ok(())
        }
        Expect::Shape(status, ty) => {
            if resp.status != *status {
                return Err(format!("status {}", resp.status));
            }
            if !is_json(resp) {
                return Err("content-type is not application/json".into());
            }
            error_shape(&resp.body, ty)
        }
        Expect::StatusIn(statuses) => {
            if statuses.contains(&resp.status) {
                Ok(())
            } else {
                Err(format!("status {}", resp.status))
            }
        }
        Expect::Accepted => {
            if matches!(resp.status, 401 | 403 | 429) || resp.status >= 500 {
                Err(format!("status {}", resp.status))
            } else {
                Ok(())
            }
        }
        Expect::ChallengeOr405 if resp.status == 405 => Ok(()),
        Expect::Challenge | Expect::ChallengeOr405 => {
            if resp.status != 401 {
                return Err(format!("status {}", resp.status));
            }
            match resp.header("www-authenticate") {
                Some(v) if !v.trim().is_empty() => Ok(()),
                _ => Err("no WWW-Authenticate header".into()),
            }
        }
    }
}

/// Checks `{"error":{"type":ty,"message":<string>}}` with no other members.
pub fn error_shape(body: &[u8], ty: &str) -> Result<(), String> {
    let v: serde_json::Value =
        serde_json::from_slice(body).map_err(|_| "body is not JSON".to_string())?;
    let obj = v.as_object().ok_or("body is not a JSON object")?;
    let err = obj
        .get("error")
        .and_then(|e| e.as_object())
        .ok_or("no `error` object")?;
    if obj.len() != 1 || err.len() != 2 {
        return Err("extra members in the error body".into());
    }
    if err.get("type").and_then(|t| t.as_str()) != Some(ty) {
        return Err(format!("error.type is not `{ty}`"));
    }
    if !err.get("message").is_some_and(|m| m.is_string()) {
        return Err("error.message is not a string".into());
    }
    Ok(())
}
