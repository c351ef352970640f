//! The run-wide response scan (docs/contract.md AUTH-7): every response head and body the
//! harness receives during the run, the events of its SSE streams included, is scanned as
//! it arrives for the configured keys in every encoding the leak scanner knows. Observes
//! only: keeps what was found (which key, which encoding, where, whether the request that
//! got it carried that key in its own body, how to reproduce), never
//! the scanned text and never a key (a finding names the key by its shell variable).
//! Judging the clause is AUTH-7.run's job.

use super::probe::Probe;
use crate::key::ApiKey;
use crate::wire::leak::{Encoding, find_key_leaks_bytes};
use crate::wire::response::Resp;
use std::sync::Mutex;

/// Most findings kept (the first ones; the count goes on).
const KEEP: usize = 16;

/// One key found in a response.
#[derive(Clone, Debug)]
pub struct SeenLeak {
    /// The key's shell variable (`MCP_KEY`, `MCP_KEY2`).
    pub var: &'static str,
    pub encoding: Encoding,
    /// Where: `POST /mcp/messages: response body`, `GET /mcp/sse: stream event`.
    pub place: String,
    /// Found in a response head (a header), not a body or stream event.
    pub in_head: bool,
    /// The request that got it carried this key in its own body (any encoding): a string
    /// the caller sent, returned to that caller, not a credential reflected from a header.
    pub echoed: bool,
    /// The probe that got it, as a shell command (keys as `$MCP_KEY`).
    pub reproduce: String,
}

/// What the scan has seen so far.
#[derive(Clone, Debug, Default)]
pub struct ScanFindings {
    /// Responses and stream items scanned.
    pub scanned: usize,
    /// Keys found (at most `KEEP`).
    pub leaks: Vec<SeenLeak>,
    /// How many were found in all.
    pub found: usize,
}

/// The scanner every response goes through.
#[derive(Debug)]
pub struct ResponseScan {
    keys: Vec<ApiKey>,
    findings: Mutex<ScanFindings>,
}

impl ResponseScan {
    pub fn new(keys: &[ApiKey]) -> Self {
        Self {
            keys: keys.to_vec(),
            findings: Mutex::new(ScanFindings::default()),
        }
    }

    /// Scans a response (head and whatever body was read) to `probe`.
    pub fn response(&self, probe: &Probe, resp: &Resp) {
        let head: String = resp
            .headers
            .iter()
            .map(|(n, v)| format!("{n}: {}\n", String::from_utf8_lossy(v)))
            .collect();
        let mut found = self.find(probe, "response head", true, head.as_bytes());
        found.extend(self.find(probe, "response body", false, &resp.body));
        self.record(found);
    }

    /// Scans one item (event or comment) of the stream `probe` opened.
    pub fn stream_item(&self, probe: &Probe, text: &[u8]) {
        let found = self.find(probe, "stream event", false, text);
        self.record(found);
    }

    fn find(&self, probe: &Probe, what: &str, in_head: bool, text: &[u8]) -> Vec<SeenLeak> {
        let sent = probe.body.bytes();
        self.keys
            .iter()
            .filter_map(|k| {
                let l = find_key_leaks_bytes(text, k.expose().as_bytes());
                let first = l.first()?;
                Some(SeenLeak {
                    var: k.var(),
                    encoding: first.encoding,
                    place: format!("{} {}: {what}", probe.method, probe.url.path()),
                    in_head,
                    echoed: !in_head
                        && !find_key_leaks_bytes(&sent, k.expose().as_bytes()).is_empty(),
                    reproduce: probe.curl(),
                })
            })
            .collect()
    }

    fn record(&self, found: Vec<SeenLeak>) {
        let Ok(mut f) = self.findings.lock() else {
            return;
        };
        f.scanned += 1;
        for leak in found {
            f.found += 1;
            // keep the first of each kind (reflected or echoed) even past KEEP
            let new_kind = !f.leaks.iter().any(|l| l.echoed == leak.echoed);
            if f.leaks.len() < KEEP || new_kind {
                f.leaks.push(leak);
            }
        }
    }

    /// What was seen so far.
    pub fn findings(&self) -> ScanFindings {
        match self.findings.lock() {
            Ok(f) => f.clone(),
            Err(p) => p.into_inner().clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_a_key_in_any_encoding_and_keeps_no_text() {
        let key = ApiKey::new("a-key-of-some-length-0123", 0);
        let scan = ResponseScan::new(std::slice::from_ref(&key));
        let probe = Probe::new("GET", url::Url::parse("http://h/mcp/sse?x=1").unwrap());
        let clean = Resp {
            status: 200,
            headers: vec![("x".into(), b"nothing".to_vec())],
            body: b"{}".to_vec(),
        };
        scan.response(&probe, &clean);
        assert_eq!(scan.findings().found, 0);
        scan.stream_item(&probe, hex::encode(key.expose()).as_bytes());
        let f = scan.findings();
        assert_eq!((f.scanned, f.found), (2, 1));
        assert_eq!(f.leaks[0].encoding, Encoding::HexLower);
        assert_eq!(f.leaks[0].place, "GET /mcp/sse: stream event");
        assert!(!f.leaks[0].echoed && !f.leaks[0].in_head);
        assert!(!format!("{f:?}").contains(key.expose()));
        // the key the request itself carried in its body, returned in the body: echoed
        let call = Probe::new("POST", url::Url::parse("http://h/mcp").unwrap())
            .json(&format!("{{\"name\":\"{}\"}}", key.expose()));
        let echo = Resp {
            status: 200,
            headers: vec![("x-key".into(), key.expose().as_bytes().to_vec())],
            body: format!("Unknown tool: {}", key.expose()).into_bytes(),
        };
        scan.response(&call, &echo);
        let f = scan.findings();
        assert_eq!((f.scanned, f.found), (3, 3));
        assert!(f.leaks[1].in_head && !f.leaks[1].echoed, "{:?}", f.leaks[1]);
        assert_eq!(f.leaks[2].place, "POST /mcp: response body");
        assert!(f.leaks[2].echoed);
    }
}
