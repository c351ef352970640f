//! Recognizes a WAF or bot rule's answer instead of the server's (docs/connector.md "The
//! WAF exemption", checked by CLAUDE-NET.waf): a `403`, or a Cloudflare challenge (the
//! `cf-mitigated: challenge` header, or the challenge page's markers) given to a request
//! with `User-Agent: Claude-User`. Claude's connector can't solve a challenge and gives up.
//! Pure: looks only at the response.

use super::response::Resp;

/// The fix, named in every failure this recognizes.
pub const WAF_FIX: &str = "exempt Claude's requests on this hostname: \"Block AI bots\" off for it, and a WAF custom rule with the action Skip (remaining custom rules, managed rules, Super Bot Fight Mode, rate limiting) matching ip.src in {160.79.104.0/21} (Anthropic's outbound range) or http.user_agent contains \"Claude-User\"; Bot Fight Mode can't be skipped by a rule: turn it off or allow 160.79.104.0/21 with an IP Access rule (docs/connector.md, \"The WAF exemption\")";

/// Markers of Cloudflare's challenge and block pages.
const CHALLENGE_MARKERS: &[&str] = &[
    "<title>Just a moment...</title>",
    "challenges.cloudflare.com",
    "_cf_chl_opt",
    "cf-chl-",
    "cf_chl_",
];
const BLOCK_MARKERS: &[&str] = &[
    "Attention Required! | Cloudflare",
    "Sorry, you have been blocked",
    "cf-error-details",
];

/// What blocked the request, when the response is a challenge or a `403`; `None` when it
/// is neither (the server answered, whatever it said).
pub fn waf_block(resp: &Resp) -> Option<String> {
    let mitigated = resp
        .header("cf-mitigated")
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("challenge"));
    if mitigated {
        return Some(format!(
            "a Cloudflare challenge (status {}, cf-mitigated: challenge)",
            resp.status
        ));
    }
    let body = String::from_utf8_lossy(&resp.body[..resp.body.len().min(64 * 1024)]);
    if CHALLENGE_MARKERS.iter().any(|m| body.contains(m)) {
        return Some(format!(
            "a Cloudflare challenge page (status {})",
            resp.status
        ));
    }
    if resp.status == 403 {
        let what = if BLOCK_MARKERS.iter().any(|m| body.contains(m)) {
            "a Cloudflare block page (403)"
        } else if resp
            .header("server")
            .is_some_and(|s| s.eq_ignore_ascii_case("cloudflare"))
            || resp.header("cf-ray").is_some()
        {
            "403 from Cloudflare"
        } else {
            "403"
        };
        return Some(what.to_string());
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resp(status: u16, headers: &[(&str, &str)], body: &str) -> Resp {
        Resp {
            status,
            headers: headers
                .iter()
                .map(|(n, v)| (n.to_string(), v.as_bytes().to_vec()))
                .collect(),
            body: body.as_bytes().to_vec(),
        }
    }

    #[test]
    fn recognizes_challenges_and_blocks() {
        let r = resp(403, &[("cf-mitigated", "challenge")], "");
        assert!(waf_block(&r).unwrap().contains("cf-mitigated"));
        let page = "<!DOCTYPE html><html><head><title>Just a moment...</title></head><body><script src=\"/cdn-cgi/challenge-platform/h/b/orchestrate/chl_page/v1\"></script><script>window._cf_chl_opt={}</script></body></html>";
        assert!(
            waf_block(&resp(503, &[], page))
                .unwrap()
                .contains("challenge page")
        );
        let block = "<title>Attention Required! | Cloudflare</title><div id=\"cf-error-details\">Sorry, you have been blocked</div>";
        assert_eq!(
            waf_block(&resp(403, &[("server", "cloudflare")], block)).as_deref(),
            Some("a Cloudflare block page (403)")
        );
        assert_eq!(
            waf_block(&resp(403, &[("cf-ray", "0123-AMS")], "")).as_deref(),
            Some("403 from Cloudflare")
        );
        assert_eq!(waf_block(&resp(403, &[], "{}")).as_deref(), Some("403"));
    }

    #[test]
    fn the_servers_own_answers_pass() {
        for (status, body) in [
            (200, r#"{"jsonrpc":"2.0","id":1,"result":{}}"#),
            (
                401,
                r#"{"error":{"type":"auth","message":"Missing or invalid API key"}}"#,
            ),
            (
                404,
                r#"{"error":{"type":"not_found","message":"Not found"}}"#,
            ),
            (
                429,
                r#"{"error":{"type":"rate_limit","message":"Too many requests"}}"#,
            ),
        ] {
            assert_eq!(
                waf_block(&resp(status, &[("server", "cloudflare")], body)),
                None
            );
        }
        // cf-mitigated with another value is not a challenge
        assert_eq!(waf_block(&resp(200, &[("cf-mitigated", "none")], "")), None);
    }
}
