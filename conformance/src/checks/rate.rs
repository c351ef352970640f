//! RATE checks. The limits are discovered from outside (burst: requests accepted from a
//! full bucket before the first 429; refill: cells accepted per second after it), never
//! assumed. Every check here drains the bucket on purpose and then tells the pacer, so the
//! next check waits for the refill. Sends at most `max_burst_probe` requests in a row.

use super::{Expect, RATE_BODY, meets, need_key};
use crate::check::{Check, CheckResult, Outcome, Profile};
use crate::ctx::{Ctx, Limits, Pace, retry_after};
use crate::probe::Probe;
use std::time::{Duration, Instant};

pub fn checks() -> Vec<Check> {
    vec![
        Check::new(
            "RATE-1",
            Profile::Seed,
            "a per-key limit exists (a 429 after a finite burst), the burst fits an MCP handshake (>= 4), and GET /mcp/sse costs a cell",
            |c| Box::pin(limit_exists(c)),
        ),
        Check::new(
            "RATE-2",
            Profile::Seed,
            "requests past the burst -> exact 429 {\"error\":{\"type\":\"rate_limit\",...}}",
            |c| Box::pin(too_many(c)),
        ),
        Check::new(
            "RATE-3",
            Profile::Strict,
            "a 429 carries Retry-After in whole seconds (>= 1); after waiting it, a request is accepted",
            |c| Box::pin(retry_after_check(c)),
        ),
        Check::new(
            "RATE-4",
            Profile::Seed,
            "with key 1 exhausted, key 2 is still accepted",
            |c| Box::pin(isolation(c)),
        ),
        Check::new(
            "RATE-5",
            Profile::Seed,
            "from a full bucket, N concurrent requests: accepted <= burst + rps x T (+ rounding)",
            |c| Box::pin(concurrency(c)),
        ),
        Check::new(
            "RATE-7",
            Profile::Seed,
            "opening SSE streams for one key (paced under the rate limit) eventually gets the exact RATE-2 429; it persists while the streams stay open; closing one lets a new one open",
            |c| Box::pin(stream_cap(c)),
        ),
    ]
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
pub(crate) async fn drain(
    ctx: &Ctx,
    probe: &Probe,
    max: u32,
) -> Result<(u32, Option<crate::probe::Resp>), String> {
    let mut accepted = 0;
    while accepted < max {
        let r = ctx.send_once(probe).await?;
        match r.status {
            429 => return Ok((accepted, Some(r))),
            401 | 403 => return Err(format!("the key was rejected: {}", r.summary())),
            _ => accepted += 1,
        }
    }
    Ok((accepted, None))
}

/// Measures the per-key limits of key 1 (and checks key 2's isolation on the way).
pub async fn discover(ctx: &Ctx) -> Result<Limits, String> {
    let probe = cheap_probe(ctx, 0).ok_or("no key")?;
    let max = ctx.target.settings.max_burst_probe;
    ctx.wait_full(0).await;
    let t0 = Instant::now();
    let (accepted, first) = drain(ctx, &probe, max).await?;
    let Some(first_429) = first else {
        return Err(format!(
            "no 429 after {accepted} requests in {:.1}s with one key",
            t0.elapsed().as_secs_f32()
        ));
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
            return Err(format!(
                "no 429 while measuring the refill ({got} accepted)"
            ));
        }
        let elapsed = empty_at.elapsed().as_secs_f64();
        empty_at = Instant::now();
        let estimate = f64::from(got) / elapsed;
        rps = Some(estimate);
        if f64::from(got) >= 0.7 * f64::from(accepted) && wait > Duration::from_millis(100) {
            wait /= 2; // the bucket may have filled up: measure over a shorter time
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

async fn limits(ctx: &Ctx) -> Result<&Limits, Outcome> {
    need_key(ctx, 0)?;
    ctx.limits().await.map_err(|e| {
        let repro = cheap_probe(ctx, 0)
            .map(|p| format!("for i in $(seq 1 30); do {} ; echo; done", p.curl()))
            .unwrap_or_default();
        Outcome::fail("a 429 once the key's burst is used up", e, repro)
    })
}

async fn limit_exists(ctx: &Ctx) -> CheckResult {
    let l = limits(ctx).await?;
    let probe = cheap_probe(ctx, 0).ok_or_else(|| Outcome::skip("no key"))?;
    if l.burst < 4 {
        return Err(Outcome::fail(
            "a burst of at least 4 (GET + initialize + initialized + tools/list)",
            format!("burst {} (refill {:.2}/s)", l.burst, l.rps),
            probe.curl(),
        ));
    }
    // SSE GET costs a cell: open k streams from a full bucket, then count what is left.
    ctx.wait_full(0).await;
    let k = (l.burst / 2).min(4);
    let t0 = Instant::now();
    let sse = ctx.sse_probe(0);
    for _ in 0..k {
        match ctx.open_stream(&sse, Pace::Free, false).await {
            Ok(Ok(conn)) => drop(conn),
            Ok(Err(r)) => {
                return Err(Outcome::skip(format!(
                    "GET /mcp/sse answered {}",
                    r.summary()
                )));
            }
            Err(e) => return Err(Outcome::skip(format!("GET /mcp/sse: {e}"))),
        }
    }
    let (left, _) = drain(ctx, &probe, ctx.target.settings.max_burst_probe)
        .await
        .map_err(Outcome::skip)?;
    let refill = l.rps * t0.elapsed().as_secs_f64();
    ctx.drained(Pace::Key(0), Duration::from_secs_f64(1.0 / l.rps));
    let bound = f64::from(l.burst) - f64::from(k) + refill.ceil() + 1.0;
    if f64::from(left) > bound {
        return Err(Outcome::fail(
            format!(
                "after {k} SSE GETs from a full bucket (burst {}), at most {bound:.0} more requests accepted",
                l.burst
            ),
            format!("{left} accepted: the SSE GETs did not cost a cell"),
            sse.curl(),
        ));
    }
    Ok(())
}

async fn too_many(ctx: &Ctx) -> CheckResult {
    let l = limits(ctx).await?;
    meets(&l.first_429, &Expect::Exact(429, RATE_BODY)).map_err(|why| {
        Outcome::fail(
            format!("429, application/json, body exactly {RATE_BODY}"),
            format!("{} ({why})", l.first_429.summary()),
            format!(
                "for i in $(seq 1 {}); do {} ; echo; done",
                l.burst + 2,
                l.probe_429.curl()
            ),
        )
    })
}

async fn retry_after_check(ctx: &Ctx) -> CheckResult {
    let l = limits(ctx).await?;
    let repro = format!(
        "for i in $(seq 1 {}); do {} ; echo; done",
        l.burst + 2,
        l.probe_429.curl()
    );
    let raw = l.first_429.header("retry-after");
    let Some(d) = retry_after(&l.first_429).filter(|d| *d >= Duration::from_secs(1)) else {
        return Err(Outcome::fail(
            "Retry-After: <whole seconds >= 1>",
            format!("Retry-After: {}", raw.unwrap_or_else(|| "(none)".into())),
            repro,
        ));
    };
    if d > Duration::from_secs(30) {
        return Err(Outcome::fail(
            "Retry-After <= 30 s",
            format!("Retry-After: {}", d.as_secs()),
            repro,
        ));
    }
    match l.after_retry_after {
        Some(s) if s != 429 => Ok(()),
        Some(s) => Err(Outcome::fail(
            format!(
                "after waiting Retry-After ({}s), a request is accepted",
                d.as_secs()
            ),
            format!("status {s}"),
            repro,
        )),
        None => Err(Outcome::skip("the request after Retry-After was not sent")),
    }
}

async fn isolation(ctx: &Ctx) -> CheckResult {
    need_key(ctx, 1)?;
    let l = limits(ctx).await?;
    match &l.other_key_status {
        Some((s, p)) if *s == 429 || *s == 401 || *s == 403 => Err(Outcome::fail(
            "key 2 accepted while key 1 is exhausted",
            format!("key 2 got status {s}"),
            p.curl().replace("$MCP_KEY\"", "$MCP_KEY2\""),
        )),
        Some(_) => Ok(()),
        None => Err(Outcome::skip("key 2 was not probed")),
    }
}

async fn concurrency(ctx: &Ctx) -> CheckResult {
    let l = limits(ctx).await?.clone();
    let probe = cheap_probe(ctx, 0).ok_or_else(|| Outcome::skip("no key"))?;
    ctx.wait_full(0).await;
    let n = (l.burst * 3).clamp(20, 50) as usize;
    let t0 = Instant::now();
    let results = futures::future::join_all((0..n).map(|_| ctx.send_once(&probe))).await;
    let window = t0.elapsed().as_secs_f64();
    ctx.drained(Pace::Key(0), Duration::from_secs_f64(1.0 / l.rps));
    let errors = results.iter().filter(|r| r.is_err()).count();
    if errors * 2 > n {
        return Err(Outcome::skip(format!(
            "{errors} of {n} concurrent requests got no response"
        )));
    }
    let accepted = results
        .iter()
        .filter(|r| matches!(r, Ok(r) if r.status != 429))
        .count();
    let bound = f64::from(l.burst) + l.rps * 1.2 * window + 2.0;
    if accepted as f64 > bound {
        return Err(Outcome::fail(
            format!(
                "at most burst {} + {:.2}/s x {window:.2}s + rounding = {bound:.0} accepted",
                l.burst, l.rps
            ),
            format!("{accepted} of {n} concurrent requests accepted"),
            format!(
                "seq 1 {n} | xargs -P {n} -I{{}} {}",
                probe
                    .curl()
                    .replace("curl -sS -i", "curl -sS -o /dev/null -w '%{http_code}\\n'")
            ),
        ));
    }
    Ok(())
}

async fn stream_cap(ctx: &Ctx) -> CheckResult {
    let l = limits(ctx).await?.clone();
    let sse = ctx.sse_probe(0);
    ctx.wait_full(0).await;
    let max = ctx.target.settings.max_streams_probe;
    let mut streams = Vec::new();
    let mut refused = None;
    while (streams.len() as u32) < max {
        match ctx.open_stream(&sse, Pace::Key(0), false).await {
            Ok(Ok(conn)) => streams.push(conn),
            Ok(Err(r)) if r.status == 429 => {
                refused = Some(r);
                break;
            }
            Ok(Err(r)) => {
                return Err(Outcome::skip(format!(
                    "GET /mcp/sse answered {}",
                    r.summary()
                )));
            }
            Err(e) => return Err(Outcome::skip(format!("GET /mcp/sse: {e}"))),
        }
    }
    let repro = format!(
        "for i in $(seq 1 {}); do {} --max-time 30 & sleep 1; done",
        streams.len() + 1,
        sse.curl()
    );
    let Some(refused) = refused else {
        return Err(Outcome::fail(
            "a 429 once the key's stream cap is reached",
            format!("{} streams open for one key, none refused", streams.len()),
            repro,
        ));
    };
    if let Err(why) = meets(&refused, &Expect::Exact(429, RATE_BODY)) {
        return Err(Outcome::fail(
            format!("429 body exactly {RATE_BODY}"),
            format!("{} ({why})", refused.summary()),
            repro,
        ));
    }
    if streams.is_empty() {
        return Err(Outcome::fail(
            "at least one stream opens",
            "the first stream was refused",
            repro,
        ));
    }
    // Still refused after the bucket had time to refill: it's the cap, not the rate limit.
    tokio::time::sleep(Duration::from_secs_f64((2.0 / l.rps).min(5.0))).await;
    match ctx.open_stream(&sse, Pace::Key(0), false).await {
        Ok(Err(r)) if r.status == 429 => {}
        Ok(Ok(_)) => {
            return Err(Outcome::fail(
                format!("still refused with {} streams open", streams.len()),
                "a new stream opened after a pause: the 429 came from the rate limit, not a stream cap",
                repro,
            ));
        }
        Ok(Err(r)) => {
            return Err(Outcome::skip(format!(
                "GET /mcp/sse answered {}",
                r.summary()
            )));
        }
        Err(e) => return Err(Outcome::skip(format!("GET /mcp/sse: {e}"))),
    }
    let open = streams.len();
    streams.pop();
    let deadline = Instant::now() + ctx.target.settings.keepalive_wait + ctx.timeout();
    let mut last = String::from("nothing");
    while Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(500)).await;
        match ctx.open_stream(&sse, Pace::Key(0), false).await {
            Ok(Ok(_)) => {
                drop(streams);
                ctx.drained(Pace::Key(0), Duration::from_secs_f64(1.0 / l.rps));
                return Ok(());
            }
            Ok(Err(r)) => last = r.summary(),
            Err(e) => last = e,
        }
    }
    Err(Outcome::fail(
        format!("after closing one of {open} streams, a new stream opens"),
        format!("still refused: {last}"),
        repro,
    ))
}
