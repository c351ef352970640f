//! RATE checks (docs/contract.md RATE-1..5, RATE-7) on the limits measured from outside
//! once per run (`client`'s RATE discovery: burst and refill, never assumed), plus the
//! stream cap, and (`*.expect-*`) whether the measured limits are the configured ones
//! (`--expect-burst`, `--expect-rps`, `--expect-max-streams`, within stated tolerances).
//! Every check here drains the bucket on purpose and then tells the pacer, so
//! the next check waits for the refill. Sends at most `max_burst_probe` requests in a row.

use super::bodies::RATE_BODY;
use super::prereq::need_key;
use crate::client::{Ctx, Limits, Pace, SseConn, cheap_probe, drain, retry_after};
use crate::engine::table::check_table;
use crate::engine::{Check, CheckResult, Expect, Outcome, meets};
use crate::wire::response::Resp;
use std::time::{Duration, Instant};

pub fn checks() -> Vec<Check> {
    check_table! {
        "RATE-1", Seed, limit_exists, needs(limits),
            "a per-key limit exists (a 429 after a finite burst), the burst fits an MCP handshake (>= 4), and GET /mcp/sse costs a cell";
        "RATE-1.expect-burst", Seed, expect_burst, needs(limits),
            "the measured burst matches --expect-burst within max(1, 10%) (skip without it)";
        "RATE-1.expect-rps", Seed, expect_rps, needs(limits),
            "the measured refill matches --expect-rps within max(25%, 0.2/s) (skip without it)";
        "RATE-2", Seed, too_many, needs(limits),
            "requests past the burst -> exact 429 {\"error\":{\"type\":\"rate_limit\",...}}";
        "RATE-3", Strict, retry_after_check, needs(limits),
            "a 429 carries Retry-After in whole seconds (>= 1); after waiting it, a request is accepted";
        "RATE-4", Seed, isolation, needs(limits),
            "with key 1 exhausted, key 2 is still accepted";
        "RATE-5", Seed, concurrency, needs(limits),
            "from a full bucket, N concurrent requests: accepted <= burst + rps x T (+ rounding)";
        "RATE-7", Seed, stream_cap, needs(limits),
            "opening SSE streams for one key (paced under the rate limit) eventually gets the exact RATE-2 429; it persists while the streams stay open; closing one lets a new one open";
        "RATE-7.expect-max-streams", Seed, expect_max_streams, needs(limits),
            "the streams one key could open before the 429 equal --expect-max-streams exactly (skip without it)";
    }
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
    // Open until refused; then, after a pause long enough for the bucket to refill, one
    // more: still refused is the cap. A stream that opens after the pause means the 429
    // was the rate limit, or streams closed earlier (by this run's other checks) were
    // still counted when it came: keep it and go on, up to `max` streams in all.
    loop {
        let refused = open_more_until_refused(ctx, &mut streams, max).await?;
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
        tokio::time::sleep(Duration::from_secs_f64((2.0 / l.rps).min(5.0))).await;
        match ctx.open_stream(&sse, Pace::Key(0), false).await {
            Ok(Err(r)) if r.status == 429 => break,
            Ok(Ok(conn)) => {
                streams.push(conn);
                if streams.len() as u32 >= max {
                    return Err(Outcome::fail(
                        format!("a stream cap below {max} streams for one key"),
                        format!(
                            "{} streams open for one key: each 429 was the rate limit, not a stream cap (a new stream opened after a pause)",
                            streams.len()
                        ),
                        repro,
                    ));
                }
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
    ctx.record_stream_cap(streams.len() as u32);
    let repro = format!(
        "for i in $(seq 1 {}); do {} --max-time 30 & sleep 1; done",
        streams.len() + 1,
        sse.curl()
    );
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
            Err(e) => last = e.to_string(),
        }
    }
    Err(Outcome::fail(
        format!("after closing one of {open} streams, a new stream opens"),
        format!("still refused: {last}"),
        repro,
    ))
}

/// Opens SSE streams for key 1, paced under the rate limit, until one is refused with a
/// 429 (or `max` are open). Returns the open streams and the refusal.
async fn open_until_refused(ctx: &Ctx, max: u32) -> Result<(Vec<SseConn>, Option<Resp>), Outcome> {
    let mut streams = Vec::new();
    let refused = open_more_until_refused(ctx, &mut streams, max).await?;
    Ok((streams, refused))
}

/// Adds SSE streams for key 1 to `streams`, paced under the rate limit, until one is
/// refused with a 429 (returned) or `max` are open (`None`).
async fn open_more_until_refused(
    ctx: &Ctx,
    streams: &mut Vec<SseConn>,
    max: u32,
) -> Result<Option<Resp>, Outcome> {
    let sse = ctx.sse_probe(0);
    while (streams.len() as u32) < max {
        match ctx.open_stream(&sse, Pace::Key(0), false).await {
            Ok(Ok(conn)) => streams.push(conn),
            Ok(Err(r)) if r.status == 429 => return Ok(Some(r)),
            Ok(Err(r)) => {
                return Err(Outcome::skip(format!(
                    "GET /mcp/sse answered {}",
                    r.summary()
                )));
            }
            Err(e) => return Err(Outcome::skip(format!("GET /mcp/sse: {e}"))),
        }
    }
    Ok(None)
}

/// Counts the streams key 1 can open before the 429 (then closes them all).
async fn count_streams(ctx: &Ctx, l: &Limits, want: u32) -> Result<u32, Outcome> {
    ctx.wait_full(0).await;
    let max = ctx.target.settings.max_streams_probe.max(want + 1);
    let (streams, refused) = open_until_refused(ctx, max).await?;
    let n = streams.len() as u32;
    drop(streams);
    ctx.drained(Pace::Key(0), Duration::from_secs_f64(1.0 / l.rps));
    if refused.is_none() {
        return Err(Outcome::fail(
            format!("a 429 once {want} streams are open for one key, as configured"),
            format!("{n} streams open for one key, none refused"),
            ctx.sse_probe(0).curl(),
        ));
    }
    Ok(n)
}

/// The tolerance of RATE-1.expect-burst: max(1, 10% of the expected burst), in cells.
pub fn burst_tolerance(expected: u32) -> u32 {
    (expected / 10).max(1)
}

/// The tolerance of RATE-1.expect-rps: max(25% of the expected refill, 0.2 cells/s).
pub fn rps_tolerance(expected: f64) -> f64 {
    (expected * 0.25).max(0.2)
}

async fn expect_burst(ctx: &Ctx) -> CheckResult {
    let Some(want) = ctx.target.expect.burst else {
        return Err(Outcome::skip(
            "no expected burst: pass --expect-burst N (CFPB_MCP_RATE_LIMIT_BURST) to verify it",
        ));
    };
    let l = limits(ctx).await?;
    let tol = burst_tolerance(want);
    if l.burst.abs_diff(want) <= tol {
        return Ok(());
    }
    Err(Outcome::fail(
        format!("a burst of {want} (± {tol}), as configured"),
        format!(
            "measured burst {} (requests accepted from a full bucket before the first 429, less the refill meanwhile)",
            l.burst
        ),
        format!(
            "for i in $(seq 1 {}); do {} ; echo; done",
            want * 2 + 2,
            l.probe_429.curl()
        ),
    ))
}

async fn expect_rps(ctx: &Ctx) -> CheckResult {
    let Some(want) = ctx.target.expect.rps else {
        return Err(Outcome::skip(
            "no expected refill: pass --expect-rps R (CFPB_MCP_RATE_LIMIT_RPS) to verify it",
        ));
    };
    let l = limits(ctx).await?;
    let tol = rps_tolerance(want);
    if (l.rps - want).abs() <= tol {
        return Ok(());
    }
    Err(Outcome::fail(
        format!("a refill of {want}/s (± {tol:.2}/s), as configured"),
        format!(
            "measured refill {:.2}/s (cells accepted per second from an empty bucket)",
            l.rps
        ),
        format!(
            "for i in $(seq 1 {}); do {} ; echo; done; sleep 2; # then count the 2xx/4xx other than 429 again",
            l.burst + 2,
            l.probe_429.curl()
        ),
    ))
}

async fn expect_max_streams(ctx: &Ctx) -> CheckResult {
    let Some(want) = ctx.target.expect.max_streams else {
        return Err(Outcome::skip(
            "no expected stream cap: pass --expect-max-streams N (CFPB_MCP_MAX_STREAMS_PER_KEY) to verify it",
        ));
    };
    let l = limits(ctx).await?.clone();
    // RATE-7 counted it already in this run; else count here.
    let mut open = match ctx.stream_cap() {
        Some(n) => n,
        None => count_streams(ctx, &l, want).await?,
    };
    // Streams of earlier checks the server hasn't noticed closed yet lower the count (never
    // raise it): below the expected cap, count again once the server has had the time to
    // notice (its keep-alive write, at the latest).
    if open < want {
        let notice = match ctx.target.expect.keepalive {
            Some(k) => k * 2 + Duration::from_secs(1),
            None => ctx.target.settings.keepalive_wait,
        };
        tokio::time::sleep(notice).await;
        open = open.max(count_streams(ctx, &l, want).await?);
    }
    if open == want {
        return Ok(());
    }
    Err(Outcome::fail(
        format!("exactly {want} streams open for one key before the 429, as configured"),
        format!("{open} streams opened before the 429"),
        format!(
            "for i in $(seq 1 {}); do {} --max-time 30 & sleep 1; done",
            want + 1,
            ctx.sse_probe(0).curl()
        ),
    ))
}
