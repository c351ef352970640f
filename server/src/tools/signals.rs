//! Spike / velocity signals from a series of trend buckets (DATA-10): the
//! latest bucket against a baseline window of the buckets before it.
//!
//! Formula (docs/tools.md), for buckets `c[0..n]` oldest first, `n >= 2`:
//! - latest `L = c[n-1]`, previous `P = c[n-2]`;
//! - `last_vs_prev.abs = L - P`, `.pct = L / P - 1` (null when `P = 0`);
//! - baseline `B` = the `w` buckets before `L` (fewer when the series is
//!   shorter), mean `m`, sample standard deviation `s` (n - 1; null with
//!   fewer than 2 baseline buckets);
//! - when `m >= min_baseline_mean` (and `m > 0`): `ratio = L / m` and, when
//!   `s > 0`, `z = (L - m) / s`; otherwise both are null, so a series too
//!   small to judge never ranks as a spike.
//!
//! Pure arithmetic, no clock: the same buckets always give the same numbers.
//! Ranking: `z` descending (null last), then `ratio` descending, then the
//! group name ascending. Output numbers are rounded to 4 decimals.

use std::cmp::Ordering;

use serde_json::{Value, json};

use crate::data::TrendPoint;

/// How the baseline is taken.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Baseline {
    /// Buckets before the latest one.
    pub window: usize,
    /// The smallest baseline mean for which `ratio` and `z` are computed.
    pub min_mean: f64,
}

/// The signals of one series.
#[derive(Clone, Debug, PartialEq)]
pub struct Signals {
    /// Buckets in the series.
    pub num_points: usize,
    /// The latest bucket.
    pub last: TrendPoint,
    /// The one before it.
    pub prev: TrendPoint,
    /// `last - prev`.
    pub abs_change: i64,
    /// `last / prev - 1`.
    pub pct_change: Option<f64>,
    /// Buckets in the baseline.
    pub baseline_points: usize,
    /// Baseline mean.
    pub baseline_mean: Option<f64>,
    /// Baseline sample standard deviation.
    pub baseline_sd: Option<f64>,
    /// `last / mean`.
    pub ratio: Option<f64>,
    /// `(last - mean) / sd`.
    pub z: Option<f64>,
}

/// The signals of `points` (oldest first), or `None` with fewer than 2 buckets.
pub fn compute(points: &[TrendPoint], baseline: Baseline) -> Option<Signals> {
    let n = points.len();
    if n < 2 {
        return None;
    }
    let last = points[n - 1].clone();
    let prev = points[n - 2].clone();
    let values: Vec<f64> = points[n - 1 - baseline.window.min(n - 1)..n - 1]
        .iter()
        .map(|p| p.count as f64)
        .collect();
    let mean = (!values.is_empty()).then(|| values.iter().sum::<f64>() / values.len() as f64);
    let sd = match (mean, values.len()) {
        (Some(m), len) if len >= 2 => {
            Some((values.iter().map(|v| (v - m) * (v - m)).sum::<f64>() / (len - 1) as f64).sqrt())
        }
        _ => None,
    };
    let latest = last.count as f64;
    let judged = mean.filter(|m| *m >= baseline.min_mean && *m > 0.0);
    let ratio = judged.map(|m| latest / m);
    let z = match (judged, sd) {
        (Some(m), Some(s)) if s > 0.0 => Some((latest - m) / s),
        _ => None,
    };
    Some(Signals {
        num_points: n,
        abs_change: i64::try_from(last.count).unwrap_or(i64::MAX)
            - i64::try_from(prev.count).unwrap_or(i64::MAX),
        pct_change: (prev.count > 0).then(|| latest / prev.count as f64 - 1.0),
        last,
        prev,
        baseline_points: values.len(),
        baseline_mean: mean,
        baseline_sd: sd,
        ratio,
        z,
    })
}

fn round(value: Option<f64>) -> Value {
    match value {
        Some(v) if v.is_finite() => json!((v * 10_000.0).round() / 10_000.0),
        _ => Value::Null,
    }
}

/// The signals as JSON.
pub fn to_json(signals: &Signals, baseline: Baseline) -> Value {
    json!({
        "num_points": signals.num_points,
        "last_bucket": {"period": signals.last.period.to_string(), "count": signals.last.count},
        "prev_bucket": {"period": signals.prev.period.to_string(), "count": signals.prev.count},
        "last_vs_prev": {"abs": signals.abs_change, "pct": round(signals.pct_change)},
        "last_vs_baseline": {
            "baseline_window": baseline.window,
            "baseline_points": signals.baseline_points,
            "baseline_mean": round(signals.baseline_mean),
            "baseline_sd": round(signals.baseline_sd),
            "min_baseline_mean": baseline.min_mean,
            "ratio": round(signals.ratio),
            "z": round(signals.z),
        }
    })
}

fn descending(a: Option<f64>, b: Option<f64>) -> Ordering {
    match (a, b) {
        (Some(a), Some(b)) => b.total_cmp(&a),
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (None, None) => Ordering::Equal,
    }
}

/// The ranking order: `z` desc (null last), `ratio` desc, name asc.
pub fn rank_order(a: (&str, &Signals), b: (&str, &Signals)) -> Ordering {
    descending(a.1.z, b.1.z)
        .then_with(|| descending(a.1.ratio, b.1.ratio))
        .then_with(|| a.0.cmp(b.0))
}

/// `points` re-expressed on `periods` (every period once, 0 where absent):
/// live groups may omit empty buckets; signals need aligned series.
pub fn align(points: &[TrendPoint], periods: &[TrendPoint]) -> Vec<TrendPoint> {
    periods
        .iter()
        .map(|slot| TrendPoint {
            period: slot.period,
            count: points
                .iter()
                .find(|p| p.period == slot.period)
                .map_or(0, |p| p.count),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::{CalendarDate, TrendInterval};

    fn series(counts: &[u64]) -> Vec<TrendPoint> {
        let mut period = CalendarDate::parse("2024-01-01").expect("valid");
        counts
            .iter()
            .map(|count| {
                let point = TrendPoint {
                    period,
                    count: *count,
                };
                period = TrendInterval::Month.next_start(period);
                point
            })
            .collect()
    }

    const BASE: Baseline = Baseline {
        window: 4,
        min_mean: 10.0,
    };

    #[test]
    fn formula_on_a_hand_computed_series() {
        // DATA-10: baseline 10, 12, 14, 12 -> mean 12, sd sqrt(8/3); latest 30.
        let s = compute(&series(&[99, 10, 12, 14, 12, 30]), BASE).expect("enough points");
        assert_eq!(s.baseline_points, 4);
        assert_eq!(s.baseline_mean, Some(12.0));
        let sd = (8.0f64 / 3.0).sqrt();
        assert!((s.baseline_sd.unwrap_or(0.0) - sd).abs() < 1e-12);
        assert_eq!(s.ratio, Some(2.5));
        assert!((s.z.unwrap_or(0.0) - 18.0 / sd).abs() < 1e-12);
        assert_eq!(s.abs_change, 18);
        assert_eq!(s.pct_change, Some(1.5));
        let json = to_json(&s, BASE);
        assert_eq!(json["last_vs_baseline"]["ratio"], 2.5);
        assert_eq!(json["last_bucket"]["period"], "2024-06-01");
    }

    #[test]
    fn small_or_flat_baselines_give_no_score() {
        assert_eq!(compute(&series(&[5]), BASE), None);
        let small = compute(&series(&[1, 2, 1, 2, 9]), BASE).expect("points");
        assert_eq!(
            (small.ratio, small.z),
            (None, None),
            "mean below the minimum"
        );
        let flat = compute(&series(&[20, 20, 20, 20, 40]), BASE).expect("points");
        assert_eq!((flat.ratio, flat.z), (Some(2.0), None), "sd 0: no z");
        let zero_prev = compute(&series(&[0, 3]), BASE).expect("points");
        assert_eq!(zero_prev.pct_change, None);
    }

    #[test]
    fn ranking_is_total_and_deterministic() {
        let high = compute(&series(&[10, 12, 14, 12, 30]), BASE).expect("points");
        let none = compute(&series(&[1, 2]), BASE).expect("points");
        let mut rows = [("b", &none), ("z", &high), ("a", &none)];
        rows.sort_by(|x, y| rank_order(*x, *y));
        let names: Vec<&str> = rows.iter().map(|r| r.0).collect();
        assert_eq!(names, vec!["z", "a", "b"]);
    }

    #[test]
    fn align_fills_missing_buckets_with_zero() {
        let periods = series(&[0, 0, 0]);
        let sparse = [TrendPoint {
            count: 4,
            ..periods[1].clone()
        }];
        let counts: Vec<u64> = align(&sparse, &periods).iter().map(|p| p.count).collect();
        assert_eq!(counts, vec![0, 4, 0]);
    }
}
