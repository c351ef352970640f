//! HTTP-6.shared-limit: one per-key budget for both transports (docs/contract.md
//! HTTP-6, RATE-1, RATE-2): with the burst spent on one, the other gets the exact 429.
//! Drains the key's bucket on purpose and tells the pacer; waits for the refill after.

use super::common::{PING, session};
use crate::checks::bodies::RATE_BODY;
use crate::checks::prereq::{need_key, need_streamable};
use crate::client::{Ctx, Limits, Pace, Probe, cheap_probe, drain};
use crate::engine::table::check_table;
use crate::engine::{Check, CheckResult, Expect, Outcome, meets};
use crate::wire::response::Resp;
use std::time::{Duration, Instant};

pub fn checks() -> Vec<Check> {
    check_table! {
        "HTTP-6.shared-limit", Strict, shared_limit, needs(limits, offer),
            "one per-key budget for both transports: with the key's burst spent on /mcp/messages, POST /mcp gets the exact 429, and the other way round";
    }
}

/// Requests sent on the other transport right after the budget is spent: a shared bucket
/// accepts at most 1 + rps x (their time) of them (a cell may just have refilled), a
/// separate one (full) accepts them all.
const SHARED_PROBES: u32 = 3;

async fn shared_limit(ctx: &Ctx) -> CheckResult {
    need_streamable(ctx).await?;
    need_key(ctx, 0)?;
    let l = ctx
        .limits()
        .await
        .map_err(|e| Outcome::skip(format!("the per-key limit can't be measured: {e}")))?
        .clone();
    let cheap = cheap_probe(ctx, 0).ok_or_else(|| Outcome::skip("no key"))?;
    let s = session(ctx, 0).await?;
    let ping = s.probe(ctx, PING);
    let outcome = shared_legs(ctx, &l, &cheap, &ping, "POST /mcp", true).await;
    ctx.wait_full(0).await;
    let _ = s.close(ctx).await;
    outcome
}

/// Spends key 1's budget on `/mcp/messages` (`cheap`), then sends `other` (named `name`)
/// at once, and (`both_ways`) the other way round: a shared budget limits both (also
/// HTTP-2026-11). Skips when the measured burst is too small to tell one budget from two.
pub async fn shared_legs(
    ctx: &Ctx,
    l: &Limits,
    cheap: &Probe,
    other: &Probe,
    name: &str,
    both_ways: bool,
) -> CheckResult {
    if l.burst < SHARED_PROBES {
        return Err(Outcome::skip(format!(
            "the measured burst ({}) is too small to tell one budget from two",
            l.burst
        )));
    }
    let max = ctx.target.settings.max_burst_probe;
    let legs = [
        ("POST /mcp/messages", cheap, name, other),
        (name, other, "POST /mcp/messages", cheap),
    ];
    let legs = if both_ways { &legs[..] } else { &legs[..1] };
    for &(spent_on, spend, other_name, other) in legs {
        ctx.wait_full(0).await;
        let drained = drain(ctx, spend, max).await;
        let t0 = Instant::now();
        let mut answers = Vec::new();
        if let Ok((_, Some(_))) = &drained {
            for _ in 0..SHARED_PROBES {
                match ctx.send_once(other).await {
                    Ok(r) => {
                        let limited = r.status == 429;
                        answers.push(r);
                        if limited {
                            break;
                        }
                    }
                    Err(e) => {
                        ctx.drained(Pace::Key(0), Duration::from_secs_f64(1.0 / l.rps));
                        return Err(Outcome::skip(format!("{other_name}: no response: {e}")));
                    }
                }
            }
        }
        let gap = t0.elapsed();
        ctx.drained(Pace::Key(0), Duration::from_secs_f64(1.0 / l.rps));
        let spent = match drained {
            Ok((n, Some(_))) => n,
            Ok((n, None)) => {
                return Err(Outcome::skip(format!(
                    "no 429 after {n} requests on {spent_on}"
                )));
            }
            Err(e) => {
                return Err(Outcome::skip(format!(
                    "spending the budget on {spent_on}: {e}"
                )));
            }
        };
        let expected = format!(
            "with the key's budget spent on {spent_on} ({spent} accepted, then a 429), {other_name} is limited too: a 429 with body exactly {RATE_BODY} within {SHARED_PROBES} immediate requests"
        );
        let repro = format!(
            "for i in $(seq 1 {}); do {} ; echo; done
for i in $(seq 1 {SHARED_PROBES}); do {} ; echo; done",
            spent + 1,
            spend.curl().replace('\n', "\n  "),
            other.curl().replace('\n', "\n  ")
        );
        match answers.last() {
            Some(r) if r.status == 429 => {
                if let Err(why) = meets(r, &Expect::Exact(429, RATE_BODY)) {
                    return Err(Outcome::fail(
                        expected,
                        format!("{} ({why})", r.summary()),
                        repro,
                    ));
                }
            }
            // all accepted: only a budget of its own, or a refill during them, explains it
            _ if gap.as_secs_f64() * l.rps >= 1.5 => {
                return Err(Outcome::skip(format!(
                    "{SHARED_PROBES} requests on {other_name} took {:.0} ms, long enough for the bucket to refill at {:.1}/s: the shared limit can't be observed from here",
                    gap.as_secs_f64() * 1000.0,
                    l.rps
                )));
            }
            last => {
                return Err(Outcome::fail(
                    expected,
                    format!(
                        "{} requests on {other_name} accepted in {:.0} ms (last: {}): it has a budget of its own",
                        answers.len(),
                        gap.as_secs_f64() * 1000.0,
                        last.map(Resp::summary).unwrap_or_default()
                    ),
                    repro,
                ));
            }
        }
    }
    Ok(())
}
