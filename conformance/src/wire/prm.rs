//! OAuth Protected Resource Metadata (RFC 9728) as a client like Claude reads it, judged
//! against the URL the client was given (OAUTH checks; docs/oauth.md). Pure: the JSON
//! document and the target's MCP URL in, the problems found out (empty: a client can
//! follow it), and the URLs where a client looks for the document.

use serde_json::Value;
use url::Url;

/// Where a client looks for the metadata of the resource `mcp_url` (RFC 9728 §3.1): the
/// path-inserted form first (`/.well-known/oauth-protected-resource/mcp`), then the root.
pub fn metadata_urls(mcp_url: &Url) -> Vec<Url> {
    let mut out = Vec::new();
    let path = mcp_url.path().trim_end_matches('/');
    let mut base = mcp_url.clone();
    base.set_query(None);
    base.set_fragment(None);
    if !path.is_empty() {
        let mut inserted = base.clone();
        inserted.set_path(&format!("/.well-known/oauth-protected-resource{path}"));
        out.push(inserted);
    }
    let mut root = base;
    root.set_path("/.well-known/oauth-protected-resource");
    out.push(root);
    out
}

/// Where a client looks for an authorization server's metadata (RFC 8414 §3.1, path
/// inserted; then OpenID Connect Discovery, path appended).
pub fn authorization_server_metadata_urls(issuer: &Url) -> Vec<Url> {
    let path = issuer.path().trim_end_matches('/');
    let mut rfc8414 = issuer.clone();
    rfc8414.set_path(&format!("/.well-known/oauth-authorization-server{path}"));
    let mut oidc = issuer.clone();
    oidc.set_path(&format!("{path}/.well-known/openid-configuration"));
    vec![rfc8414, oidc]
}

/// Is `url` one a client would use for OAuth: https, or http on loopback (tests)?
pub fn secure_or_loopback(url: &Url) -> bool {
    match url.scheme() {
        "https" => true,
        "http" => match url.host() {
            Some(url::Host::Domain(d)) => d == "localhost",
            Some(url::Host::Ipv4(a)) => a.is_loopback(),
            Some(url::Host::Ipv6(a)) => a.is_loopback(),
            None => false,
        },
        _ => false,
    }
}

/// What a client needs of the document, checked; each problem one sentence.
pub fn problems(doc: &Value, mcp_url: &Url) -> Vec<String> {
    let mut out = Vec::new();
    let Some(obj) = doc.as_object() else {
        return vec!["the metadata is not a JSON object".into()];
    };
    match obj.get("resource").and_then(Value::as_str) {
        None => out.push("no \"resource\" string".into()),
        Some(resource) if !same_resource(resource, mcp_url) => out.push(format!(
            "\"resource\" is {resource:?}, not the MCP URL {:?} (clients compare them, RFC 9728 §3.3)",
            mcp_url.as_str()
        )),
        Some(_) => {}
    }
    match obj.get("authorization_servers").and_then(Value::as_array) {
        None => out.push("no \"authorization_servers\" array".into()),
        Some(list) if list.is_empty() => out.push("\"authorization_servers\" is empty".into()),
        Some(list) => {
            for server in list {
                match server.as_str().map(Url::parse) {
                    Some(Ok(url)) if secure_or_loopback(&url) => {}
                    Some(Ok(url)) => out.push(format!(
                        "authorization server {:?} is not https",
                        url.as_str()
                    )),
                    _ => out.push(format!("authorization server {server} is not a URL")),
                }
            }
        }
    }
    if let Some(methods) = obj.get("bearer_methods_supported") {
        let has_header = methods
            .as_array()
            .is_some_and(|m| m.iter().any(|v| v == "header"));
        if !has_header {
            out.push(format!(
                "\"bearer_methods_supported\" is {methods}, without \"header\""
            ));
        }
    }
    if let Some(scopes) = obj.get("scopes_supported")
        && !scopes
            .as_array()
            .is_some_and(|s| s.iter().all(Value::is_string))
    {
        out.push(format!(
            "\"scopes_supported\" is {scopes}, not an array of strings"
        ));
    }
    out
}

/// The authorization servers the document lists (strings only, as written).
pub fn authorization_servers(doc: &Value) -> Vec<String> {
    doc.get("authorization_servers")
        .and_then(Value::as_array)
        .map(|l| {
            l.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

/// RFC 9728 §3.3 / RFC 8707: the resource identifier is the MCP URL, compared as URLs
/// (scheme and host case, default port), with no fragment; a trailing slash differs.
fn same_resource(resource: &str, mcp_url: &Url) -> bool {
    let Ok(resource) = Url::parse(resource) else {
        return false;
    };
    let mut target = mcp_url.clone();
    target.set_query(None);
    target.set_fragment(None);
    resource.fragment().is_none() && resource.query().is_none() && resource == target
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn url(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    #[test]
    fn where_clients_look() {
        let got: Vec<String> = metadata_urls(&url("https://h.example/mcp"))
            .iter()
            .map(|u| u.to_string())
            .collect();
        assert_eq!(
            got,
            [
                "https://h.example/.well-known/oauth-protected-resource/mcp",
                "https://h.example/.well-known/oauth-protected-resource"
            ]
        );
        assert_eq!(metadata_urls(&url("https://h.example/")).len(), 1);
        let got: Vec<String> =
            authorization_server_metadata_urls(&url("https://a.example/realms/x"))
                .iter()
                .map(|u| u.to_string())
                .collect();
        assert_eq!(
            got,
            [
                "https://a.example/.well-known/oauth-authorization-server/realms/x",
                "https://a.example/realms/x/.well-known/openid-configuration"
            ]
        );
    }

    #[test]
    fn a_good_document_has_no_problem() {
        let doc = json!({"resource": "https://H.example:443/mcp",
            "authorization_servers": ["https://auth.example"],
            "bearer_methods_supported": ["header"], "scopes_supported": ["mcp"]});
        assert_eq!(
            problems(&doc, &url("https://h.example/mcp")),
            Vec::<String>::new()
        );
        let loopback = json!({"resource": "http://127.0.0.1:8/mcp",
            "authorization_servers": ["http://127.0.0.1:9"]});
        assert!(problems(&loopback, &url("http://127.0.0.1:8/mcp")).is_empty());
    }

    #[test]
    fn each_defect_is_named() {
        let target = url("https://h.example/mcp");
        for (doc, says) in [
            (json!([]), "not a JSON object"),
            (
                json!({"authorization_servers": ["https://a"]}),
                "no \"resource\"",
            ),
            (
                json!({"resource": "https://h.example/mcp/", "authorization_servers": ["https://a"]}),
                "not the MCP URL",
            ),
            (
                json!({"resource": "https://other.example/mcp", "authorization_servers": ["https://a"]}),
                "not the MCP URL",
            ),
            (
                json!({"resource": "https://h.example/mcp"}),
                "no \"authorization_servers\"",
            ),
            (
                json!({"resource": "https://h.example/mcp", "authorization_servers": []}),
                "is empty",
            ),
            (
                json!({"resource": "https://h.example/mcp", "authorization_servers": ["http://a.example"]}),
                "not https",
            ),
            (
                json!({"resource": "https://h.example/mcp", "authorization_servers": [3]}),
                "not a URL",
            ),
            (
                json!({"resource": "https://h.example/mcp", "authorization_servers": ["https://a"],
                "bearer_methods_supported": ["body"]}),
                "without \"header\"",
            ),
            (
                json!({"resource": "https://h.example/mcp", "authorization_servers": ["https://a"],
                "scopes_supported": "mcp"}),
                "not an array of strings",
            ),
        ] {
            let found = problems(&doc, &target);
            assert!(found.iter().any(|p| p.contains(says)), "{doc}: {found:?}");
        }
    }
}
