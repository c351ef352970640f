//! The guard in front of every `/mcp*` request: the key (X-API-Key or Bearer), the
//! 401 and 429 answers, and the fronts before it (Cloudflare Access, a WAF challenge).

use super::*;

pub(super) fn rate_limited(state: &State, key: usize) -> Response<Body> {
    let body = if state.fault == Fault::RateOtherBody {
        r#"{"error":"too many requests"}"#
    } else {
        RATE_BODY
    };
    let mut r = json_resp(429, body);
    if state.fault != Fault::NoRetryAfter {
        r.headers_mut().insert(
            "retry-after",
            state.retry_after(key).to_string().parse().unwrap(),
        );
    }
    r
}

pub(super) fn unauthorized(state: &State) -> Response<Body> {
    let mut r = json_resp(401, AUTH_BODY);
    if state.fault != Fault::NoWwwAuthenticate {
        r.headers_mut().insert(
            "www-authenticate",
            "Bearer realm=\"cfpb-mcp\"".parse().unwrap(),
        );
    }
    r
}

/// Key verification per the contract, with the faults that break it. Ok(Some(i)) valid key
/// i; Ok(None) no key at all; Err(resp) rejection.
#[allow(clippy::result_large_err)] // test stub: the rejection is the response
pub(super) fn guard(
    state: &State,
    req: &Request<Incoming>,
) -> Result<usize, (Response<Body>, String)> {
    let f = state.fault;
    let keys = [KEY1.as_bytes(), KEY2.as_bytes()];
    let xs: Vec<&[u8]> = req
        .headers()
        .get_all("x-api-key")
        .iter()
        .map(|v| v.as_bytes())
        .collect();
    let auths: Vec<&[u8]> = req
        .headers()
        .get_all("authorization")
        .iter()
        .map(|v| v.as_bytes())
        .collect();
    let bearer: Vec<Vec<u8>> = auths
        .iter()
        .map(|a| {
            a.strip_prefix(b"Bearer ")
                .map(|t| t.to_vec())
                .unwrap_or_else(|| {
                    if *a == b"Bearer" {
                        Vec::new()
                    } else {
                        a.to_vec()
                    }
                })
        })
        .collect();
    let id = |k: &[u8]| sha8(k);
    let mut presented: Vec<Vec<u8>> = Vec::new();
    if f != Fault::XApiKeyIgnored {
        presented.extend(xs.iter().map(|x| x.to_vec()));
    }
    if f != Fault::BearerIgnored {
        presented.extend(bearer.iter().cloned());
    }
    if f == Fault::DuplicateFirstWins || f == Fault::XApiKeyWinsOverBearer {
        presented.truncate(1);
    }
    let key_id = presented
        .first()
        .map(|p| id(p))
        .unwrap_or_else(|| "none".into());
    if presented.is_empty() {
        let r = if f == Fault::MissingKeyOtherBody {
            json_resp(401, r#"{"error":"unauthorized"}"#)
        } else {
            unauthorized(state)
        };
        return Err((r, key_id));
    }
    let first = presented[0].clone();
    if presented.iter().any(|p| *p != first) || (xs.len() > 1 && f != Fault::DuplicateFirstWins) {
        return Err((unauthorized(state), key_id));
    }
    if first.is_empty() && f == Fault::EmptyKey400 {
        return Err((
            json_resp(
                400,
                r#"{"error":{"type":"bad_request","message":"empty key"}}"#,
            ),
            key_id,
        ));
    }
    let mut candidate = first.clone();
    if f == Fault::NonAsciiStripped {
        candidate.retain(|b| b.is_ascii());
    }
    let found = keys.iter().position(|k| {
        if f == Fault::CaseInsensitiveKey {
            k.eq_ignore_ascii_case(&candidate)
        } else {
            *k == candidate.as_slice()
        }
    });
    match found {
        Some(i) if candidate.iter().all(|b| (0x21..0x7f).contains(b)) => Ok(i),
        _ => {
            if f == Fault::WrongKey403 && !first.is_empty() {
                return Err((
                    json_resp(403, r#"{"error":{"type":"forbidden","message":"nope"}}"#),
                    key_id,
                ));
            }
            Err((unauthorized(state), key_id))
        }
    }
}

/// Cloudflare Access's answer to a request without its service token, for the
/// `CloudflareAccess*` faults (the request never reaches the server: nothing is logged).
pub(super) fn cloudflare_access(state: &State, req: &Request<Incoming>) -> Option<Response<Body>> {
    let has = |name: &str, want: &str| {
        req.headers()
            .get(name)
            .is_some_and(|v| v.as_bytes() == want.as_bytes())
    };
    if has("cf-access-client-id", CF_CLIENT_ID) && has("cf-access-client-secret", CF_CLIENT_SECRET)
    {
        return None;
    }
    match state.fault {
        Fault::CloudflareAccess302 => Response::builder()
            .status(302)
            .header(
                "location",
                "https://stub-team.cloudflareaccess.com/cdn-cgi/access/login/127.0.0.1?kid=0123&redirect_url=%2Fmcp%2Fsse",
            )
            .header("cf-ray", "0123456789abcdef-AMS")
            .body(full(""))
            .ok(),
        Fault::CloudflareAccess403 => Response::builder()
            .status(403)
            .header("content-type", "text/html; charset=UTF-8")
            .header("cf-ray", "0123456789abcdef-AMS")
            .body(full(
                "<!DOCTYPE html><html><head><title>Forbidden | Cloudflare Access</title></head><body>You don't have permission to view this application.</body></html>",
            ))
            .ok(),
        _ => None,
    }
}

/// A WAF's challenge of Claude's user agent, for `WafChallengesClaude` (the request never
/// reaches the server: nothing is logged).
pub(super) fn waf_challenge(state: &State, req: &Request<Incoming>) -> Option<Response<Body>> {
    let claude = req
        .headers()
        .get("user-agent")
        .is_some_and(|v| v.as_bytes() == b"Claude-User");
    (state.fault == Fault::WafChallengesClaude && claude).then(|| {
        Response::builder()
            .status(403)
            .header("content-type", "text/html; charset=UTF-8")
            .header("cf-mitigated", "challenge")
            .header("server", "cloudflare")
            .body(full(
                "<!DOCTYPE html><html><head><title>Just a moment...</title></head><body><script>window._cf_chl_opt={}</script></body></html>",
            ))
            .unwrap_or_default()
    })
}
