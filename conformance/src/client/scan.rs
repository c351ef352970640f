//! The run-wide response scan (docs/contract.md AUTH-7): every response head and body the
//! harness receives during the run, the events of its SSE streams included, is scanned as
//! it arrives for the configured keys in every encoding the leak scanner knows. Observes
//! only: keeps what was found (which key, which encoding, where, how to reproduce), never
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
    /// Where: `POST /mcp/messages: response head and body`, `GET /mcp/sse: stream event`.
    pub place: String,
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
        self.scan(probe, "response head and body", resp.all_text().as_bytes());
    }

    /// Scans one item (event or comment) of the stream `probe` opened.
    pub fn stream_item(&self, probe: &Probe, text: &[u8]) {
        self.scan(probe, "stream event", text);
    }

    fn scan(&self, probe: &Probe, what: &str, text: &[u8]) {
        let found: Vec<(&'static str, Encoding)> = self
            .keys
            .iter()
            .filter_map(|k| {
                find_key_leaks_bytes(text, k.expose().as_bytes())
                    .first()
                    .map(|l| (k.var(), l.encoding))
            })
            .collect();
        let Ok(mut f) = self.findings.lock() else {
            return;
        };
        f.scanned += 1;
        for (var, encoding) in found {
            f.found += 1;
            if f.leaks.len() < KEEP {
                f.leaks.push(SeenLeak {
                    var,
                    encoding,
                    place: format!("{} {}: {what}", probe.method, probe.url.path()),
                    reproduce: probe.curl(),
                });
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
        assert!(!format!("{f:?}").contains(key.expose()));
    }
}
