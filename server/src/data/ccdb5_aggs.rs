//! Parsing CCDB5 aggregation responses (DATA-6, DATA-7, DATA-8): `trends`,
//! `geo/states` and the `_suggest_*` endpoints.
//!
//! Shapes, from the ccdb5-api test fixtures and its consumers (docs/tools.md):
//! - trends: `aggregations.dateRangeArea.dateRangeArea.buckets[]` (the overall
//!   series; `dateRangeBrush` as a fallback) and, for a lens,
//!   `aggregations.<lens>.<lens>.buckets[]`, each `{key, doc_count,
//!   trend_period.buckets[]}` plus an optional nested sub-lens aggregation;
//!   a time bucket is `{key: epoch-ms, key_as_string: ISO time, doc_count}`;
//! - geo/states: `aggregations.state.state.buckets[] {key, doc_count}`;
//! - suggest: a JSON array of strings.
//!
//! Pure functions over bytes. Errors say what is missing, never echo the body (MSG-5).

use serde_json::{Map, Value};

use crate::data::aggregate::{StateCount, StateCounts, TrendGroup, TrendPoint, Trends};
use crate::data::ccdb5::bounded;
use crate::data::error::DataError;
use crate::data::query::CalendarDate;

/// The most groups or points we keep from one response (a day-interval
/// series over the whole database is about 5,000 buckets).
const MAX_ITEMS: usize = 20_000;

fn parse_value(body: &[u8]) -> Result<Value, DataError> {
    serde_json::from_slice(body).map_err(|error| DataError::BadJson(bounded(&error.to_string())))
}

fn count(value: Option<&Value>) -> u64 {
    value.and_then(Value::as_u64).unwrap_or(0)
}

/// `hits.total` as a number or `{value}`.
fn hits_total(root: &Value) -> Option<u64> {
    let total = root.pointer("/hits/total")?;
    total
        .as_u64()
        .or_else(|| total.get("value").and_then(Value::as_u64))
}

/// `aggregations.<name>.<name>.buckets`.
fn named_buckets<'a>(aggregations: &'a Map<String, Value>, name: &str) -> Option<&'a Vec<Value>> {
    aggregations
        .get(name)?
        .get(name)?
        .get("buckets")?
        .as_array()
}

/// The period a time bucket starts: `key_as_string`'s date, else `key` in ms.
fn period(bucket: &Value) -> Option<CalendarDate> {
    if let Some(text) = bucket.get("key_as_string").and_then(Value::as_str)
        && let Some(day) = text.get(..10).and_then(CalendarDate::parse)
    {
        return Some(day);
    }
    let millis = bucket.get("key").and_then(Value::as_i64)?;
    CalendarDate::from_days_since_epoch(millis.div_euclid(86_400_000))
}

/// Time buckets, oldest first; buckets without a readable period are skipped.
fn points(buckets: &[Value]) -> Vec<TrendPoint> {
    let mut points: Vec<TrendPoint> = buckets
        .iter()
        .take(MAX_ITEMS)
        .filter_map(|bucket| {
            Some(TrendPoint {
                period: period(bucket)?,
                count: count(bucket.get("doc_count")),
            })
        })
        .collect();
    points.sort_by_key(|point| point.period);
    points
}

/// Group buckets: `{key, doc_count, trend_period.buckets, <nested>.buckets}`.
fn groups(buckets: &[Value], depth: u8) -> Vec<TrendGroup> {
    buckets
        .iter()
        .take(MAX_ITEMS)
        .filter_map(|bucket| {
            let object = bucket.as_object()?;
            let key = match object.get("key")? {
                Value::String(text) => text.clone(),
                other => other.to_string(),
            };
            let series = object
                .get("trend_period")
                .and_then(|t| t.get("buckets"))
                .and_then(Value::as_array)
                .map(|b| points(b))
                .unwrap_or_default();
            // A nested aggregation (the sub-lens) is any other member with buckets.
            let sub_groups = if depth == 0 {
                Vec::new()
            } else {
                object
                    .iter()
                    .filter(|(name, _)| name.as_str() != "trend_period")
                    .find_map(|(_, value)| value.get("buckets").and_then(Value::as_array))
                    .map(|nested| groups(nested, depth - 1))
                    .unwrap_or_default()
            };
            Some(TrendGroup {
                key,
                count: count(object.get("doc_count")),
                points: series,
                sub_groups,
            })
        })
        .collect()
}

/// A CCDB5 trends response for `lens` (`None` for the overview).
pub(crate) fn parse_trends(body: &[u8], lens: Option<&str>) -> Result<Trends, DataError> {
    let root = parse_value(body)?;
    let Some(aggregations) = root.get("aggregations").and_then(Value::as_object) else {
        return Err(DataError::Shape("expected `aggregations`".to_owned()));
    };
    let overall = named_buckets(aggregations, "dateRangeArea")
        .or_else(|| named_buckets(aggregations, "dateRangeBrush"))
        .map(|b| points(b))
        .unwrap_or_default();
    let mut groups = match lens {
        Some(name) => named_buckets(aggregations, name)
            .map(|b| groups(b, 1))
            .unwrap_or_default(),
        None => Vec::new(),
    };
    groups.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.key.cmp(&b.key)));
    let total = hits_total(&root).unwrap_or_else(|| overall.iter().map(|p| p.count).sum());
    Ok(Trends {
        total,
        overall,
        groups,
    })
}

/// A CCDB5 `geo/states` response.
pub(crate) fn parse_states(body: &[u8]) -> Result<StateCounts, DataError> {
    let root = parse_value(body)?;
    let Some(buckets) = root
        .get("aggregations")
        .and_then(Value::as_object)
        .and_then(|a| named_buckets(a, "state"))
    else {
        return Err(DataError::Shape(
            "expected `aggregations.state.state.buckets`".to_owned(),
        ));
    };
    let mut states: Vec<StateCount> = buckets
        .iter()
        .take(MAX_ITEMS)
        .filter_map(|bucket| {
            Some(StateCount {
                state: bucket.get("key")?.as_str()?.to_owned(),
                count: count(bucket.get("doc_count")),
            })
        })
        .collect();
    states.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.state.cmp(&b.state)));
    let total = hits_total(&root).unwrap_or_else(|| states.iter().map(|s| s.count).sum());
    Ok(StateCounts { total, states })
}

/// A CCDB5 `_suggest_*` response: an array of strings (non-strings skipped).
pub(crate) fn parse_suggestions(body: &[u8], size: usize) -> Result<Vec<String>, DataError> {
    match parse_value(body)? {
        Value::Array(items) => Ok(items
            .into_iter()
            .filter_map(|item| match item {
                Value::String(text) => Some(text),
                _ => None,
            })
            .take(size)
            .collect()),
        _ => Err(DataError::Shape("expected an array of strings".to_owned())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn bytes(value: Value) -> Vec<u8> {
        serde_json::to_vec(&value).expect("serializable")
    }

    #[test]
    fn trends_overall_and_lens_groups() {
        // DATA-6: the ccdb5-api trends shape (trends_default_params__valid.json).
        let body = bytes(json!({
            "hits": {"total": {"value": 30, "relation": "eq"}, "hits": []},
            "aggregations": {
                "dateRangeArea": {"doc_count": 30, "dateRangeArea": {"buckets": [
                    {"key_as_string": "2020-02-01T00:00:00.000Z", "key": 1580515200000_u64, "doc_count": 20},
                    {"key_as_string": "2020-01-01T00:00:00.000Z", "key": 1577836800000_u64, "doc_count": 10}
                ]}},
                "product": {"doc_count": 30, "product": {"buckets": [
                    {"key": "Mortgage", "doc_count": 12, "trend_period": {"buckets": [
                        {"key": 1580515200000_u64, "doc_count": 7, "interval_diff": {"value": 2.0}},
                        {"key": 1577836800000_u64, "doc_count": 5}
                    ]}, "product": {"buckets": [
                        {"key": "FHA mortgage", "doc_count": 4, "trend_period": {"buckets": []}}
                    ]}},
                    {"key": "Credit card", "doc_count": 18, "trend_period": {"buckets": []}}
                ]}}
            }
        }));
        let trends = parse_trends(&body, Some("product")).expect("parses");
        assert_eq!(trends.total, 30);
        let periods: Vec<String> = trends
            .overall
            .iter()
            .map(|p| p.period.to_string())
            .collect();
        assert_eq!(periods, vec!["2020-01-01", "2020-02-01"], "oldest first");
        assert_eq!(trends.groups[0].key, "Credit card", "largest first");
        let mortgage = &trends.groups[1];
        assert_eq!(mortgage.points[0].count, 5);
        assert_eq!(mortgage.points[1].period.to_string(), "2020-02-01");
        assert_eq!(mortgage.sub_groups[0].key, "FHA mortgage");
    }

    #[test]
    fn trends_without_aggregations_is_a_shape_error() {
        assert!(matches!(
            parse_trends(b"{\"hits\":{}}", None),
            Err(DataError::Shape(_))
        ));
        assert!(matches!(
            parse_trends(b"<html>", None),
            Err(DataError::BadJson(_))
        ));
    }

    #[test]
    fn states_and_suggestions() {
        // DATA-7 / DATA-8
        let body = bytes(json!({"aggregations": {"state": {"state": {"buckets": [
            {"key": "TX", "doc_count": 3}, {"key": "CA", "doc_count": 9}
        ]}}}}));
        let states = parse_states(&body).expect("parses");
        assert_eq!(states.total, 12);
        assert_eq!(states.states[0].state, "CA");
        assert!(matches!(parse_states(b"{}"), Err(DataError::Shape(_))));
        let names = parse_suggestions(b"[\"A\", 1, \"B\", \"C\"]", 2).expect("parses");
        assert_eq!(names, vec!["A", "B"]);
        assert!(matches!(
            parse_suggestions(b"{}", 2),
            Err(DataError::Shape(_))
        ));
    }
}
