//! A probe is one HTTP request described as data: what to send (method, URL, exact header
//! bytes, body) plus how to show it as a copy-pasteable shell command (what comes back is
//! a `wire::response::Resp`). Rendering must never print a key: every key-derived header carries a shell form
//! (`$MCP_KEY`, `${MCP_KEY%?}`, ...) that is printed instead of its bytes.

use crate::key::{ApiKey, HeaderStyle};
use url::Url;

/// One request header: the exact bytes to send, and the text to print for it.
#[derive(Clone)]
pub struct HeaderSpec {
    pub name: String,
    pub value: Vec<u8>,
    /// Printable stand-in for the value, placed inside double quotes in a shell command
    /// (may reference `$MCP_KEY`). For raw probes it is a printf argument.
    pub shell: String,
    /// Extra printf escape appended after the value in raw reproductions (e.g. `\000`).
    pub raw_suffix: &'static str,
}

impl std::fmt::Debug for HeaderSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.name, self.shell)
    }
}

impl HeaderSpec {
    /// A header whose value is not secret: printed as is (shell-escaped).
    pub fn plain(name: &str, value: &str) -> Self {
        Self {
            name: name.to_string(),
            value: value.as_bytes().to_vec(),
            shell: shell_escape_dq(value),
            raw_suffix: "",
        }
    }

    /// A header built from a secret: `shell` must not contain the secret.
    pub fn secret(name: &str, value: Vec<u8>, shell: String) -> Self {
        Self {
            name: name.to_string(),
            value,
            shell,
            raw_suffix: "",
        }
    }

    /// The key in the given header style.
    pub fn key(style: HeaderStyle, key: &ApiKey) -> Self {
        match style {
            HeaderStyle::XApiKey => Self::x_api_key(key),
            HeaderStyle::Bearer => Self::bearer(key),
        }
    }

    pub fn x_api_key(key: &ApiKey) -> Self {
        Self::secret(
            "X-API-Key",
            key.expose().as_bytes().to_vec(),
            format!("${}", key.var()),
        )
    }

    pub fn bearer(key: &ApiKey) -> Self {
        Self::secret(
            "Authorization",
            format!("Bearer {}", key.expose()).into_bytes(),
            format!("Bearer ${}", key.var()),
        )
    }
}

/// The request body.
#[derive(Clone, Debug)]
pub enum BodySpec {
    None,
    /// A literal body (never secret).
    Text(String),
    /// A valid JSON-RPC `ping` padded with `a`s to exactly `len` bytes (for size limits).
    JsonPad {
        len: usize,
    },
}

impl BodySpec {
    pub fn bytes(&self) -> Vec<u8> {
        match self {
            BodySpec::None => Vec::new(),
            BodySpec::Text(t) => t.as_bytes().to_vec(),
            BodySpec::JsonPad { len } => {
                let (head, tail) = JSON_PAD;
                let pad = len.saturating_sub(head.len() + tail.len());
                let mut v = Vec::with_capacity(*len);
                v.extend_from_slice(head.as_bytes());
                v.resize(head.len() + pad, b'a');
                v.extend_from_slice(tail.as_bytes());
                v
            }
        }
    }
}

/// The `initialize` a Streamable HTTP reproduction opens its session with.
pub const INITIALIZE_2025: &str = r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"curl","version":"0"}}}"#;

const JSON_PAD: (&str, &str) = (
    r#"{"jsonrpc":"2.0","id":1,"method":"ping","params":{"pad":""#,
    r#""}}"#,
);

fn json_pad_shell(len: usize) -> String {
    let (head, tail) = JSON_PAD;
    let pad = len.saturating_sub(head.len() + tail.len());
    format!("printf %s '{head}'; head -c {pad} /dev/zero | tr '\\0' a; printf %s '{tail}'")
}

/// One request, as data.
#[derive(Clone, Debug)]
pub struct Probe {
    pub method: String,
    pub url: Url,
    pub headers: Vec<HeaderSpec>,
    pub body: BodySpec,
    /// Send over a raw socket (exact bytes; for what ordinary clients refuse to send).
    pub raw: bool,
    /// A streaming response (curl `-N`).
    pub stream: bool,
    /// The session id in the URL is from a live session: the reproduction says how to get one.
    pub session: bool,
    /// The `Mcp-Session-Id` header is from a live Streamable HTTP session (`/mcp`): the
    /// reproduction says how to get one (its value prints as `$SESSION_ID`).
    pub http_session: bool,
}

impl Probe {
    pub fn new(method: &str, url: Url) -> Self {
        Self {
            method: method.to_string(),
            url,
            headers: Vec::new(),
            body: BodySpec::None,
            raw: false,
            stream: false,
            session: false,
            http_session: false,
        }
    }

    pub fn header(mut self, h: HeaderSpec) -> Self {
        self.headers.push(h);
        self
    }

    pub fn json(mut self, body: &str) -> Self {
        self.headers
            .push(HeaderSpec::plain("Content-Type", "application/json"));
        self.body = BodySpec::Text(body.to_string());
        self
    }

    pub fn body(mut self, body: BodySpec) -> Self {
        self.body = body;
        self
    }

    pub fn raw(mut self) -> Self {
        self.raw = true;
        self
    }

    pub fn stream(mut self) -> Self {
        self.stream = true;
        self
    }

    pub fn in_session(mut self) -> Self {
        self.session = true;
        self
    }

    pub fn in_http_session(mut self) -> Self {
        self.http_session = true;
        self
    }

    /// The live session id in the URL, when this probe is `in_session`.
    fn session_id_in_url(&self) -> Option<String> {
        if !self.session {
            return None;
        }
        let q = self.url.query()?;
        q.split('&')
            .find_map(|p| p.strip_prefix("session_id="))
            .filter(|id| !id.is_empty())
            .map(str::to_string)
    }

    /// The URL as printed: a live session id becomes `$SESSION_ID`.
    fn shown_url(&self) -> String {
        let s = self.url.to_string();
        match self.session_id_in_url() {
            Some(id) => s.replace(&id, "$SESSION_ID"),
            None => s,
        }
    }

    /// A copy-pasteable shell reproduction. Keys appear only as `$MCP_KEY` / `$MCP_KEY2`.
    pub fn curl(&self) -> String {
        let mut out = String::new();
        if self.session {
            let sse = self
                .url
                .join("/mcp/sse")
                .map(|u| u.to_string())
                .unwrap_or_default();
            out.push_str(&format!(
                "# open a session first (another terminal) and copy the session_id of its endpoint event:\n#   curl -sS -N \"{sse}\" -H \"X-API-Key: $MCP_KEY\"\nSESSION_ID=...\n"
            ));
        }
        if self.http_session {
            // the session is opened on the probe's own endpoint, with key 1 in the header
            // style the probe uses
            let mut mcp = self.url.clone();
            mcp.set_query(None);
            let bearer = self
                .headers
                .iter()
                .any(|h| h.name.eq_ignore_ascii_case("authorization"));
            let cred = if bearer {
                "Authorization: Bearer $MCP_KEY"
            } else {
                "X-API-Key: $MCP_KEY"
            };
            out.push_str(&format!(
                "# open a session first and copy the Mcp-Session-Id header of the response:\n#   curl -sS -i -X POST \"{mcp}\" -H \"{cred}\" -H \"Content-Type: application/json\" -H \"Accept: application/json, text/event-stream\" --data-binary '{INITIALIZE_2025}'\nSESSION_ID=...\n"
            ));
        }
        if self.raw {
            out.push_str(&self.raw_repro());
            return out;
        }
        let mut cmd = String::from("curl -sS -i");
        if self.stream {
            cmd.push_str(" -N");
        }
        if self.method != "GET" || !matches!(self.body, BodySpec::None) {
            cmd.push_str(&format!(" -X {}", self.method));
        }
        cmd.push_str(&format!(" \"{}\"", shell_escape_url(&self.shown_url())));
        for h in &self.headers {
            cmd.push_str(&format!(" -H \"{}: {}\"", h.name, h.shell));
        }
        match &self.body {
            BodySpec::None => {}
            BodySpec::Text(t) => {
                cmd.push_str(&format!(" --data-binary '{}'", t.replace('\'', "'\\''")))
            }
            BodySpec::JsonPad { len } => {
                cmd.push_str(&format!(" --data-binary @<({})", json_pad_shell(*len)))
            }
        }
        out.push_str(&cmd);
        out
    }

    fn raw_repro(&self) -> String {
        let host = self.url.host_str().unwrap_or("localhost");
        let port = self.url.port_or_known_default().unwrap_or(80);
        let path = match self.url.query() {
            Some(q) => format!("{}?{}", self.url.path(), q),
            None => self.url.path().to_string(),
        };
        let mut args = Vec::new();
        let path = match self.session_id_in_url() {
            Some(id) => {
                args.push("\"$SESSION_ID\"".to_string());
                path.replace(&id, "%s")
            }
            None => path.replace('%', "%%"),
        };
        let mut fmt = format!(
            "{} {} HTTP/1.1\\r\\nHost: {}\\r\\n",
            self.method, path, host
        );
        for h in &self.headers {
            fmt.push_str(&format!("{}: %s{}\\r\\n", h.name, h.raw_suffix));
            args.push(format!("\"{}\"", h.shell));
        }
        let body_len = match &self.body {
            BodySpec::None => 0,
            BodySpec::Text(t) => t.len(),
            BodySpec::JsonPad { len } => *len,
        };
        if body_len > 0 {
            fmt.push_str(&format!("Content-Length: {body_len}\\r\\n"));
        }
        fmt.push_str("Connection: close\\r\\n\\r\\n");
        let mut cmd = format!("{{ printf '{}' {}", fmt, args.join(" "));
        match &self.body {
            BodySpec::None => {}
            BodySpec::Text(t) => {
                cmd.push_str(&format!("; printf %s '{}'", t.replace('\'', "'\\''")))
            }
            BodySpec::JsonPad { len } => cmd.push_str(&format!("; {}", json_pad_shell(*len))),
        }
        cmd.push_str("; }");
        if self.url.scheme() == "https" {
            cmd.push_str(&format!(
                " | openssl s_client -quiet -connect {host}:{port} -servername {host}"
            ));
        } else {
            cmd.push_str(&format!(" | nc {host} {port}"));
        }
        cmd.replace("  ", " ")
    }
}

/// Escapes text for the inside of a double-quoted shell word.
pub fn shell_escape_dq(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(c, '"' | '\\' | '$' | '`') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

fn shell_escape_url(s: &str) -> String {
    // keep `$SESSION_ID` expandable, escape everything else
    shell_escape_dq(s).replace("\\$SESSION_ID", "$SESSION_ID")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_session_opener_uses_the_probes_endpoint_and_header_style() {
        let key = ApiKey::new("a-key-of-some-length-0123", 0);
        let p = Probe::new("POST", Url::parse("http://h/api/mcp").unwrap())
            .header(HeaderSpec::bearer(&key))
            .in_http_session();
        let c = p.curl();
        assert!(c.contains("# open a session first"), "{c}");
        assert!(
            c.contains(
                "curl -sS -i -X POST \"http://h/api/mcp\" -H \"Authorization: Bearer $MCP_KEY\""
            ),
            "{c}"
        );
        assert!(!c.contains(key.expose()));
    }

    #[test]
    fn curl_shows_the_variable_not_the_key() {
        let key = ApiKey::new("s3cr3t-value", 0);
        let url = Url::parse("http://127.0.0.1:8000/mcp/messages?session_id=abc").unwrap();
        let p = Probe::new("POST", url)
            .header(HeaderSpec::x_api_key(&key))
            .json(r#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#)
            .in_session();
        let c = p.curl();
        assert!(!c.contains("s3cr3t"), "{c}");
        assert!(c.contains("-H \"X-API-Key: $MCP_KEY\""), "{c}");
        assert!(c.contains("session_id=$SESSION_ID"), "{c}");
    }
}
