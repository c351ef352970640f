//! Recognizes Cloudflare Access in front of the target (docs/contract.md AUTH-3, the
//! Endpoints table: where the contract says `401` JSON, Access answers a `302` to its
//! login page, or a `403` HTML page), so a failure says what it is and how to fix it
//! instead of a bare body mismatch. Pure: looks at one response's status, headers and
//! body (as `wire::response::Resp` holds them; it calls this, so no import back), never at
//! a key or a header the harness sent.

/// What to do about it, appended to the observed side of a failure.
pub const ACCESS_FIX: &str = "give the harness an Access service token: --header 'CF-Access-Client-Id: <id>' --header 'CF-Access-Client-Secret: <secret>' (or MCP_CONFORMANCE_HEADERS, one per line), or add a Bypass policy for /mcp/*, /mcp and /health to the Access application (the server's own key check then guards it)";

/// Why a response looks like Cloudflare Access rather than the server, if it does.
pub fn cloudflare_access(
    status: u16,
    headers: &[(String, Vec<u8>)],
    body: &[u8],
) -> Option<&'static str> {
    let values = |name: &str| -> Vec<String> {
        headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| String::from_utf8_lossy(v).to_ascii_lowercase())
            .collect()
    };
    let first = |name: &str| values(name).into_iter().next().unwrap_or_default();
    let location = first("location");
    if (300..400).contains(&status)
        && (location.contains(".cloudflareaccess.com") || location.contains("/cdn-cgi/access/"))
    {
        return Some("a redirect to the Cloudflare Access login page");
    }
    if values("set-cookie")
        .iter()
        .any(|c| c.starts_with("cf_authorization=") || c.starts_with("cf_appsession="))
    {
        return Some("a Cloudflare Access session cookie");
    }
    if status == 403 && first("content-type").trim_start().starts_with("text/html") {
        let body = String::from_utf8_lossy(body).to_ascii_lowercase();
        if body.contains("cloudflare access") || body.contains("cloudflareaccess.com") {
            return Some("a 403 HTML page from Cloudflare Access");
        }
    }
    None
}

/// The note a failure's observed text gets when a response looks like Cloudflare Access.
pub fn access_note(status: u16, headers: &[(String, Vec<u8>)], body: &[u8]) -> Option<String> {
    cloudflare_access(status, headers, body).map(|why| {
        format!(
            "this looks like Cloudflare Access in front of the target ({why}), not the server's answer: {ACCESS_FIX}"
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    struct R(u16, Vec<(String, Vec<u8>)>, Vec<u8>);

    fn resp(status: u16, headers: &[(&str, &str)], body: &str) -> R {
        R(
            status,
            headers
                .iter()
                .map(|(n, v)| (n.to_string(), v.as_bytes().to_vec()))
                .collect(),
            body.as_bytes().to_vec(),
        )
    }

    fn check(r: &R) -> Option<&'static str> {
        cloudflare_access(r.0, &r.1, &r.2)
    }

    #[test]
    fn recognizes_the_login_redirect_and_the_html_403() {
        let r = resp(
            302,
            &[(
                "Location",
                "https://team.cloudflareaccess.com/cdn-cgi/access/login/mcp.example.com?kid=1",
            )],
            "",
        );
        assert!(check(&r).is_some());
        let r = resp(
            403,
            &[("Content-Type", "text/html; charset=utf-8")],
            "<html><title>Forbidden | Cloudflare Access</title></html>",
        );
        assert!(access_note(r.0, &r.1, &r.2).is_some_and(|n| n.contains("CF-Access-Client-Id")));
    }

    #[test]
    fn the_servers_own_answers_are_not_access() {
        let auth = r#"{"error":{"type":"auth","message":"Missing or invalid API key"}}"#;
        assert!(check(&resp(401, &[("Content-Type", "application/json")], auth)).is_none());
        assert!(check(&resp(302, &[("Location", "https://example.com/")], "")).is_none());
        assert!(check(&resp(403, &[("Content-Type", "text/html")], "<p>WAF</p>")).is_none());
    }
}
