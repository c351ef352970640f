//! The HTTP response as data (`Resp`: status, header bytes, body) and the pure HTTP/1.1
//! response parser the raw client reads with (`parse_response`: head, then a chunked or
//! sized body). No I/O here: bytes in, a `Resp` out. Checks read every clause off a `Resp`
//! (status, exact body, headers such as `WWW-Authenticate` for AUTH-4 or `Retry-After`
//! for RATE-3), so nothing here may alter what the target sent.

/// A response as the checks see it.
#[derive(Clone, Debug, Default)]
pub struct Resp {
    pub status: u16,
    pub headers: Vec<(String, Vec<u8>)>,
    pub body: Vec<u8>,
}

impl Resp {
    /// The first value of a header (case-insensitive name), lossily decoded.
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| String::from_utf8_lossy(v).into_owned())
    }

    pub fn header_count(&self, name: &str) -> usize {
        self.headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .count()
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// A one-line summary: status, content type, body (cut at 300 chars); on a second line,
    /// when the answer looks like Cloudflare Access, what it is and how to fix it.
    pub fn summary(&self) -> String {
        let mut body = self.text();
        if body.len() > 300 {
            let mut cut = 300;
            while !body.is_char_boundary(cut) {
                cut -= 1;
            }
            body.truncate(cut);
            body.push('…');
        }
        let ct = self.header("content-type").unwrap_or_else(|| "-".into());
        let summary = if body.is_empty() {
            format!("{} (content-type: {ct}, empty body)", self.status)
        } else {
            format!("{} (content-type: {ct}) {body}", self.status)
        };
        // Cloudflare Access answering instead of the server: say so, and how to fix it.
        match super::access::access_note(self.status, &self.headers, &self.body) {
            Some(note) => format!("{summary}\n{note}"),
            None => summary,
        }
    }

    /// All header lines and the body as one text, for leak scanning.
    pub fn all_text(&self) -> String {
        let mut s = String::new();
        for (n, v) in &self.headers {
            s.push_str(n);
            s.push_str(": ");
            s.push_str(&String::from_utf8_lossy(v));
            s.push('\n');
        }
        s.push('\n');
        s.push_str(&self.text());
        s
    }
}

pub(crate) fn parse_head(buf: &[u8]) -> Option<(Resp, usize)> {
    let mut headers = [httparse::EMPTY_HEADER; 64];
    let mut r = httparse::Response::new(&mut headers);
    match r.parse(buf) {
        Ok(httparse::Status::Complete(n)) => Some((
            Resp {
                status: r.code.unwrap_or(0),
                headers: r
                    .headers
                    .iter()
                    .map(|h| (h.name.to_string(), h.value.to_vec()))
                    .collect(),
                body: Vec::new(),
            },
            n,
        )),
        _ => None,
    }
}

/// Bytes that are not an HTTP response.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ResponseError {
    /// No byte came back.
    #[error("connection closed without a response")]
    Closed,
    /// Bytes came back, but no complete HTTP/1.1 response head.
    #[error("malformed HTTP response")]
    Malformed,
}

/// Parses a complete HTTP/1.1 response (head + body, chunked or sized).
pub fn parse_response(buf: &[u8]) -> Result<Resp, ResponseError> {
    let (mut resp, head_len) = parse_head(buf).ok_or(if buf.is_empty() {
        ResponseError::Closed
    } else {
        ResponseError::Malformed
    })?;
    let rest = &buf[head_len..];
    let chunked = resp
        .header("transfer-encoding")
        .is_some_and(|v| v.to_ascii_lowercase().contains("chunked"));
    resp.body = if chunked {
        dechunk(rest)
    } else if let Some(n) = resp
        .header("content-length")
        .and_then(|v| v.trim().parse::<usize>().ok())
    {
        rest[..n.min(rest.len())].to_vec()
    } else {
        rest.to_vec()
    };
    Ok(resp)
}

fn dechunk(mut data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(eol) = data.windows(2).position(|w| w == b"\r\n") {
        let size_text = String::from_utf8_lossy(&data[..eol]);
        let size_text = size_text.split(';').next().unwrap_or("").trim().to_string();
        let Ok(size) = usize::from_str_radix(&size_text, 16) else {
            break;
        };
        data = &data[eol + 2..];
        if size == 0 {
            break;
        }
        let take = size.min(data.len());
        out.extend_from_slice(&data[..take]);
        data = &data[take..];
        data = data.strip_prefix(b"\r\n").unwrap_or(data);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_sized_and_chunked() {
        let r =
            parse_response(b"HTTP/1.1 401 Unauthorized\r\nContent-Length: 2\r\n\r\n{}xx").unwrap();
        assert_eq!((r.status, r.body.as_slice()), (401, &b"{}"[..]));
        let r = parse_response(
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n",
        )
        .unwrap();
        assert_eq!(r.body, b"abcde");
    }
}
