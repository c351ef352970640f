//! What the run learns about the target once and keeps: the measured rate limits (RATE
//! discovery, docs/contract.md RATE-1..4), whether `/mcp` is offered (HTTP-*), and the
//! LOG capture (LOG-1, LOG-2). Plain data; the operations that produce them live in
//! `limits.rs`, `streamable.rs` and `log.rs`.

use super::probe::Probe;
use crate::wire::response::Resp;

/// The rate limits measured from outside (RATE discovery).
#[derive(Clone, Debug)]
pub struct Limits {
    /// Requests accepted from a (presumed) full bucket before the first 429.
    pub burst: u32,
    /// Measured refill rate, cells per second.
    pub rps: f64,
    /// The first 429 and the probe that got it.
    pub first_429: Resp,
    pub probe_429: Probe,
    /// After waiting the first 429's `Retry-After`, the next request's status.
    pub after_retry_after: Option<u16>,
    /// Key 2's status right after key 1 got its 429 (RATE-4); `None` with one key.
    pub other_key_status: Option<(u16, Probe)>,
}

/// What the transport detection found.
#[derive(Clone, Debug)]
pub enum Offer {
    /// `POST /mcp` `initialize` with the key: 200 with `Mcp-Session-Id`.
    Offered,
    /// 404 or 405: no `/mcp` here. Carries the observed answer.
    NotOffered(String),
    /// Something else answered (the checks run and say what is wrong).
    Unclear(String),
}

impl Offer {
    /// The line the report starts with.
    pub fn note(&self) -> String {
        match self {
            Offer::Offered => "Streamable HTTP on /mcp: offered".into(),
            Offer::NotOffered(o) => format!("Streamable HTTP on /mcp: not offered ({o})"),
            Offer::Unclear(o) => format!("Streamable HTTP on /mcp: unclear ({o}); checked anyway"),
        }
    }
}

/// The traffic the LOG checks look for, and the log read after it.
#[derive(Clone, Debug)]
pub struct Capture {
    pub marker: String,
    pub session_id: String,
    pub log: String,
}
