//! Sending one probe: through `reqwest` when it can carry the exact bytes, else through
//! the raw client (`raw.rs`); paced, bounded by the target's timeout, retrying a 429
//! after its `Retry-After` unless a RATE check asks for the 429 itself. Opening an
//! event stream (`GET /mcp/sse`, `GET /mcp`) hands back an `SseConn`. Every response, and
//! every item of an opened stream, goes through the run-wide key scan (AUTH-7). Errors describe
//! what happened, never the request's headers (they may carry a key).

use super::ctx::Ctx;
use super::error::ClientError;
use super::pacer::Pace;
use super::probe::{HeaderSpec, Probe};
use super::stream::{SseConn, describe_reqwest};
use crate::wire::response::Resp;
use crate::wire::sse::SseParser;
use futures::StreamExt;
use std::collections::VecDeque;
use std::time::{Duration, Instant};

impl Ctx {
    /// Sends a probe, paced, retrying up to 3 times on a 429 (after its `Retry-After`).
    pub async fn send(&self, probe: &Probe, pace: Pace) -> Result<Resp, ClientError> {
        self.send_opts(probe, pace, true).await
    }

    /// Sends a probe, paced; `retry_429: false` returns a 429 as is (for RATE checks).
    pub async fn send_opts(
        &self,
        probe: &Probe,
        pace: Pace,
        retry_429: bool,
    ) -> Result<Resp, ClientError> {
        let mut attempt = 0;
        loop {
            self.pace(pace).await;
            let resp = self.send_once(probe).await?;
            if resp.status == 429 && retry_429 && attempt < 3 {
                attempt += 1;
                self.back_off(&resp, pace).await;
                continue;
            }
            return Ok(resp);
        }
    }

    async fn back_off(&self, resp: &Resp, pace: Pace) {
        let wait = retry_after(resp)
            .unwrap_or(Duration::from_secs(1))
            .min(Duration::from_secs(30))
            + Duration::from_millis(50);
        self.drained(pace, wait);
        tokio::time::sleep(wait).await;
    }

    /// One unpaced send; the response goes through the run-wide scan (AUTH-7.run).
    pub async fn send_once(&self, probe: &Probe) -> Result<Resp, ClientError> {
        let resp = self.send_unscanned(probe).await?;
        self.scan.response(probe, &resp);
        Ok(resp)
    }

    async fn send_unscanned(&self, probe: &Probe) -> Result<Resp, ClientError> {
        if probe.raw || !reqwest_can_send(probe) {
            return super::raw::send(&self.with_extra_headers(probe), self.timeout(), &self.tls)
                .await;
        }
        let req = self.build(probe)?;
        let timeout = self.timeout();
        let fut = async {
            let resp = req
                .send()
                .await
                .map_err(|e| ClientError::Transport(describe_reqwest(e)))?;
            let mut out = head_of(&resp);
            let mut stream = resp.bytes_stream();
            while let Some(chunk) = stream.next().await {
                let chunk = chunk.map_err(|e| ClientError::Transport(describe_reqwest(e)))?;
                out.body.extend_from_slice(&chunk);
                if out.body.len() > 1 << 20 {
                    break;
                }
            }
            Ok::<Resp, ClientError>(out)
        };
        tokio::time::timeout(timeout, fut)
            .await
            .map_err(|_| ClientError::Timeout {
                what: "complete response",
                after: timeout,
            })?
    }

    /// `probe` with the extra headers (`--header`) it doesn't set itself.
    fn with_extra_headers(&self, probe: &Probe) -> Probe {
        let mut p = probe.clone();
        for h in &self.target.extra_headers {
            if !p
                .headers
                .iter()
                .any(|ph| ph.name.eq_ignore_ascii_case(&h.name))
            {
                p.headers.push(HeaderSpec::secret(
                    &h.name,
                    h.expose().as_bytes().to_vec(),
                    format!("${}", h.var()),
                ));
            }
        }
        p
    }

    /// The reqwest request for `probe`, with the extra headers (`--header`).
    pub(crate) fn build(&self, probe: &Probe) -> Result<reqwest::RequestBuilder, ClientError> {
        let method = reqwest::Method::from_bytes(probe.method.as_bytes())
            .map_err(|e| ClientError::Unsendable(e.to_string()))?;
        let mut headers = reqwest::header::HeaderMap::new();
        let probe = &self.with_extra_headers(probe);
        for h in &probe.headers {
            let name = reqwest::header::HeaderName::from_bytes(h.name.as_bytes())
                .map_err(|e| ClientError::Unsendable(e.to_string()))?;
            let value = reqwest::header::HeaderValue::from_bytes(&h.value)
                .map_err(|_| ClientError::Unsendable("header value not sendable".into()))?;
            headers.append(name, value);
        }
        let mut rb = self
            .client
            .request(method, probe.url.clone())
            .headers(headers);
        let body = probe.body.bytes();
        if !body.is_empty() {
            rb = rb.body(body);
        }
        Ok(rb)
    }

    /// Opens a stream (GET), paced, retrying on 429. `Ok(Err(resp))` when it answered
    /// anything but 200.
    pub async fn open_stream(
        &self,
        probe: &Probe,
        pace: Pace,
        retry_429: bool,
    ) -> Result<Result<SseConn, Resp>, ClientError> {
        let mut attempt = 0;
        loop {
            self.pace(pace).await;
            let req = self.build(probe)?;
            let resp = tokio::time::timeout(self.timeout(), req.send())
                .await
                .map_err(|_| ClientError::Timeout {
                    what: "response head",
                    after: self.timeout(),
                })?
                .map_err(|e| ClientError::Transport(describe_reqwest(e)))?;
            let head = head_of(&resp);
            if head.status == 200 {
                self.scan.response(probe, &head);
                return Ok(Ok(SseConn {
                    head,
                    stream: resp.bytes_stream().boxed(),
                    parser: SseParser::new(),
                    pending: VecDeque::new(),
                    raw: Vec::new(),
                    opened: Instant::now(),
                    scan: Some((self.scan.clone(), probe.clone())),
                }));
            }
            let mut head = head;
            if let Ok(Ok(body)) = tokio::time::timeout(self.timeout(), resp.bytes()).await {
                head.body = body.to_vec();
            }
            self.scan.response(probe, &head);
            if head.status == 429 && retry_429 && attempt < 3 {
                attempt += 1;
                self.back_off(&head, pace).await;
                continue;
            }
            return Ok(Err(head));
        }
    }
}

/// `Retry-After` in whole seconds, if present and valid.
pub fn retry_after(resp: &Resp) -> Option<Duration> {
    resp.header("retry-after")?
        .trim()
        .parse::<u64>()
        .ok()
        .map(Duration::from_secs)
}

fn reqwest_can_send(probe: &Probe) -> bool {
    probe.headers.iter().all(|h| {
        reqwest::header::HeaderValue::from_bytes(&h.value).is_ok()
            && reqwest::header::HeaderName::from_bytes(h.name.as_bytes()).is_ok()
    })
}

pub(super) fn head_of(resp: &reqwest::Response) -> Resp {
    Resp {
        status: resp.status().as_u16(),
        headers: resp
            .headers()
            .iter()
            .map(|(n, v)| (n.as_str().to_string(), v.as_bytes().to_vec()))
            .collect(),
        body: Vec::new(),
    }
}
