//! A minimal raw HTTP/1.1 client over TCP (and TLS for https) for the probes ordinary
//! clients refuse to send: duplicate or non-ASCII headers, a NUL byte, an oversize body that
//! the server may cut off. Sends exactly the bytes given; never logs them (they may carry a
//! key) and never follows redirects. Trusts what `tls.rs` says (the run's configuration).

use super::error::ClientError;
use super::probe::{BodySpec, Probe};
use super::tls::with_trust_hint;
use crate::wire::response::{Resp, parse_head, parse_response};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;

/// Most response bytes read.
const MAX_READ: usize = 1 << 20;

trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

/// The exact request bytes for a probe.
pub fn request_bytes(probe: &Probe) -> Vec<u8> {
    let url = &probe.url;
    let host = match (url.host_str(), url.port()) {
        (Some(h), Some(p)) => format!("{h}:{p}"),
        (Some(h), None) => h.to_string(),
        _ => "localhost".to_string(),
    };
    let path = match url.query() {
        Some(q) => format!("{}?{}", url.path(), q),
        None => url.path().to_string(),
    };
    let body = probe.body.bytes();
    let mut out = format!("{} {} HTTP/1.1\r\nHost: {}\r\n", probe.method, path, host).into_bytes();
    for h in &probe.headers {
        out.extend_from_slice(h.name.as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(&h.value);
        out.extend_from_slice(b"\r\n");
    }
    if !matches!(probe.body, BodySpec::None) {
        out.extend_from_slice(format!("Content-Length: {}\r\n", body.len()).as_bytes());
    }
    out.extend_from_slice(b"Connection: close\r\n\r\n");
    out.extend_from_slice(&body);
    out
}

/// Sends a probe over a fresh connection and reads the response (bounded by `timeout`
/// overall and `MAX_READ` bytes). Write errors after the head are ignored: a server may
/// answer (e.g. 413) and close before reading a large body.
pub async fn send(
    probe: &Probe,
    timeout: Duration,
    tls: &Arc<rustls::ClientConfig>,
) -> Result<Resp, ClientError> {
    tokio::time::timeout(timeout, send_inner(probe, tls))
        .await
        .map_err(|_| ClientError::Timeout {
            what: "complete response",
            after: timeout,
        })?
}

async fn send_inner(probe: &Probe, tls: &Arc<rustls::ClientConfig>) -> Result<Resp, ClientError> {
    let url = &probe.url;
    let host = url
        .host_str()
        .ok_or_else(|| ClientError::Unsendable("URL has no host".into()))?
        .to_string();
    let port = url
        .port_or_known_default()
        .ok_or_else(|| ClientError::Unsendable("URL has no port".into()))?;
    let tcp = TcpStream::connect((host.trim_matches(['[', ']']), port))
        .await
        .map_err(|e| ClientError::Transport(format!("connect {host}:{port}: {e}")))?;
    let _ = tcp.set_nodelay(true);
    let mut io: Box<dyn Io> = if url.scheme() == "https" {
        let name = rustls::pki_types::ServerName::try_from(host.clone())
            .map_err(|e| ClientError::Unsendable(format!("bad TLS server name {host}: {e}")))?;
        let connector = tokio_rustls::TlsConnector::from(tls.clone());
        Box::new(connector.connect(name, tcp).await.map_err(|e| {
            ClientError::Transport(with_trust_hint(format!("TLS handshake with {host}: {e}")))
        })?)
    } else {
        Box::new(tcp)
    };
    let bytes = request_bytes(probe);
    let body_len = probe.body.bytes().len();
    let head_len = bytes.len() - body_len;
    io.write_all(&bytes[..head_len])
        .await
        .map_err(|e| ClientError::Transport(format!("write: {e}")))?;
    // The body may be refused part-way; keep reading the answer regardless.
    let _ = io.write_all(&bytes[head_len..]).await;
    let _ = io.flush().await;

    let mut buf = Vec::new();
    let mut chunk = vec![0u8; 16 * 1024];
    loop {
        match io.read(&mut chunk).await {
            Ok(0) => break,
            Ok(n) => {
                buf.extend_from_slice(&chunk[..n]);
                if buf.len() >= MAX_READ || response_complete(&buf) {
                    break;
                }
            }
            Err(e) => {
                if buf.is_empty() {
                    return Err(ClientError::Transport(format!("read: {e}")));
                }
                break;
            }
        }
    }
    Ok(parse_response(&buf)?)
}

fn response_complete(buf: &[u8]) -> bool {
    match parse_head(buf) {
        Some((resp, _))
            if resp.status / 100 == 2
                && resp
                    .header("content-type")
                    .is_some_and(|c| c.starts_with("text/event-stream")) =>
        {
            true // an open event stream never completes: its head is the answer
        }
        Some((resp, head_len)) => match resp
            .header("content-length")
            .and_then(|v| v.trim().parse::<usize>().ok())
        {
            Some(n) => buf.len() >= head_len + n,
            None => false,
        },
        None => false,
    }
}
