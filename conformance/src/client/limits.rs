//! RATE discovery: the per-key limits measured from outside (burst: requests accepted
//! from a full bucket before the first 429; refill: cells accepted per second after it),
//! never assumed, once per run; the pacer then uses them (docs/contract.md RATE-1..4).
//! Sends at most `max_burst_probe` requests in a row.

use super::ctx::Ctx;
use super::error::ClientError;
use super::facts::Limits;
use super::pacer::Pace;
use super::probe::Probe;
use super::send::retry_after;
use crate::wire::response::Resp;
use std::time::{Duration, Instant};

impl Ctx {
    /// The discovered limits, measured on first use (see `discover`).
    pub async fn limits(&self) -> Result<&Limits, ClientError> {
        self.limits
            .get_or_init(|| async {
                let r = discover(self).await;
                if let Ok(l) = &r {
                    self.pacer.learn(l.burst, l.rps);
                    // discovery left key 1's bucket empty
                    self.drained(Pace::Key(0), Duration::from_secs_f64(1.0 / l.rps));
                }
                r
            })
            .await
            .as_ref()
            .map_err(|e| e.clone())
    }
}

/// The cheapest guarded request: POST /mcp/messages without a session id (400 after the
/// guard), costing one cell.
pub fn cheap_probe(ctx: &Ctx, slot: usize) -> Option<Probe> {
    Some(
        Probe::new("POST", ctx.url("/mcp/messages"))
            .header(ctx.auth(slot)?)
            .json(r#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#),
    )
}

/// Sends `probe` unpaced until a 429; returns (accepted count, the 429).
pub async fn drain(ctx: &Ctx, probe: &Probe, max: u32) -> Result<(u32, Option<Resp>), ClientError> {
    let mut accepted = 0;
    while accepted < max {
        let r = ctx.send_once(probe).await?;
        match r.status {
            429 => return Ok((accepted, Some(r))),
            401 | 403 => {
                return Err(ClientError::Unexpected(format!(
                    "the key was rejected: {}",
                    r.summary()
                )));
            }
            _ => accepted += 1,
        }
    }
    Ok((accepted, None))
}

/// Measures the per-key limits of key 1 (and checks key 2's isolation on the way).
pub async fn discover(ctx: &Ctx) -> Result<Limits, ClientError> {
    let probe = cheap_probe(ctx, 0).ok_or(ClientError::NoKey)?;
    let max = ctx.target.settings.max_burst_probe;
    ctx.wait_full(0).await;
    let t0 = Instant::now();
    let (accepted, first) = drain(ctx, &probe, max).await?;
    let Some(first_429) = first else {
        return Err(ClientError::Unexpected(format!(
            "no 429 after {accepted} requests in {:.1}s with one key",
            t0.elapsed().as_secs_f32()
        )));
    };
    let burst_elapsed = t0.elapsed();
    let other_key_status = match cheap_probe(ctx, 1) {
        Some(p) => Some((ctx.send_once(&p).await?.status, p)),
        None => None,
    };
    let mut after_retry_after = None;
    if let Some(d) = retry_after(&first_429)
        && d >= Duration::from_secs(1)
        && d <= Duration::from_secs(30)
    {
        tokio::time::sleep(d + Duration::from_millis(30)).await;
        after_retry_after = Some(ctx.send_once(&probe).await?.status);
    }
    // Refill: from an empty bucket, wait, count what is accepted; adjust the wait until the
    // count is informative (>= 3) without the bucket having filled up.
    let (_, _) = drain(ctx, &probe, max).await?;
    let mut empty_at = Instant::now();
    let mut wait = Duration::from_millis(500);
    let mut rps = None;
    for _ in 0..6 {
        tokio::time::sleep(wait).await;
        let (got, end) = drain(ctx, &probe, max).await?;
        if end.is_none() {
            return Err(ClientError::Unexpected(format!(
                "no 429 while measuring the refill ({got} accepted)"
            )));
        }
        let elapsed = empty_at.elapsed().as_secs_f64();
        empty_at = Instant::now();
        // Nothing refilled in a short wait says little; keep the last real estimate.
        if got > 0 || rps.is_none() {
            rps = Some(f64::from(got) / elapsed);
        }
        // The bucket may have filled up: measure over a shorter time. Only when the
        // burst was measured from a full bucket: one left half-drained by an earlier
        // run (accepted < 3) would make every refill look "full" and the wait shrink
        // to nothing, and the rate come out as zero.
        if accepted >= 3
            && f64::from(got) >= 0.7 * f64::from(accepted)
            && wait > Duration::from_millis(100)
        {
            wait /= 2;
        } else if got < 3 && wait < Duration::from_secs(8) {
            wait *= 2;
        } else {
            break;
        }
    }
    let rps = rps.unwrap_or(1.0).max(0.01);
    let burst = (f64::from(accepted) - rps * burst_elapsed.as_secs_f64())
        .round()
        .max(1.0) as u32;
    Ok(Limits {
        burst,
        rps,
        first_429,
        probe_429: probe,
        after_retry_after,
        other_key_status,
    })
}
