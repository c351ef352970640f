//! The aggregation tools on the bundled dataset, each checked against an
//! independent computation over the same complaints in this test (DATA-6,
//! DATA-7, DATA-8, DATA-10), and the planted spikes found (fixtures/README.md).

use std::collections::BTreeMap;

use cfpb_mcp_server::data::DataSource;
use cfpb_mcp_server::tools;
use serde_json::{Value, json};

async fn call(source: &DataSource, name: &str, arguments: Value) -> Value {
    let result = tools::call(source, name, arguments.as_object().cloned())
        .await
        .expect("a known tool");
    assert_eq!(result.is_error, Some(false), "{name}");
    result.structured_content.expect("structured")
}

fn complaints() -> Vec<cfpb_mcp_server::data::Complaint> {
    let DataSource::Fixtures(fixtures) = DataSource::fixtures().expect("fixtures load") else {
        panic!("fixtures");
    };
    fixtures.complaints().cloned().collect()
}

#[tokio::test]
async fn monthly_trends_match_a_recount() {
    // DATA-6: overall and product series equal a plain recount by month.
    let source = DataSource::fixtures().expect("fixtures load");
    let s = call(
        &source,
        "list_complaint_trends",
        json!({"lens": "product", "trend_depth": 3, "state": "CA"}),
    )
    .await;
    let mut overall: BTreeMap<String, u64> = BTreeMap::new();
    let mut by_product: BTreeMap<String, BTreeMap<String, u64>> = BTreeMap::new();
    for c in complaints()
        .iter()
        .filter(|c| c.state.as_deref() == Some("CA"))
    {
        let day = c.date_received.clone().unwrap_or_default();
        let period = format!("{}-01", &day[..7]);
        *overall.entry(period.clone()).or_default() += 1;
        *by_product
            .entry(c.product.clone().unwrap_or_default())
            .or_default()
            .entry(period)
            .or_default() += 1;
    }
    let got: BTreeMap<String, u64> = s["overall"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|p| p["count"].as_u64() != Some(0))
        .map(|p| {
            (
                p["period"].as_str().unwrap_or("").to_owned(),
                p["count"].as_u64().unwrap_or(0),
            )
        })
        .collect();
    assert_eq!(got, overall);
    assert_eq!(s["total"], overall.values().sum::<u64>());
    let mut sizes: Vec<(u64, String)> = by_product
        .iter()
        .map(|(k, v)| (v.values().sum(), k.clone()))
        .collect();
    sizes.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    let first = &s["groups"][0];
    assert_eq!(first["key"], json!(sizes[0].1));
    assert_eq!(first["count"], sizes[0].0);
    assert_eq!(s["groups"].as_array().map(Vec::len), Some(3));
}

#[tokio::test]
async fn states_match_a_recount() {
    // DATA-7
    let source = DataSource::fixtures().expect("fixtures load");
    let s = call(
        &source,
        "get_state_aggregations",
        json!({"product": "Mortgage"}),
    )
    .await;
    let mut counts: BTreeMap<String, u64> = BTreeMap::new();
    for c in complaints()
        .iter()
        .filter(|c| c.product.as_deref() == Some("Mortgage"))
    {
        *counts
            .entry(c.state.clone().unwrap_or_default())
            .or_default() += 1;
    }
    let got: BTreeMap<String, u64> = s["states"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|e| {
            (
                e["state"].as_str().unwrap_or("").to_owned(),
                e["count"].as_u64().unwrap_or(0),
            )
        })
        .collect();
    assert_eq!(got, counts);
    assert_eq!(s["total"], counts.values().sum::<u64>());
}

#[tokio::test]
async fn suggestions_are_real_values() {
    // DATA-8
    let source = DataSource::fixtures().expect("fixtures load");
    let s = call(
        &source,
        "suggest_filter_values",
        json!({"field": "company", "text": "tyr"}),
    )
    .await;
    assert_eq!(
        s["suggestions"],
        json!(["Tyrell Fictional Credit Bureau, Inc."])
    );
    let s = call(
        &source,
        "suggest_filter_values",
        json!({"field": "zip_code", "text": "94", "size": 50}),
    )
    .await;
    let all = complaints();
    for zip in s["suggestions"].as_array().into_iter().flatten() {
        assert!(zip.as_str().is_some_and(|z| z.starts_with("94")));
        assert!(all.iter().any(|c| c.zip_code.as_deref() == zip.as_str()));
    }
}

#[tokio::test]
async fn planted_spikes_are_found() {
    // DATA-10: the last month (2026-10) spikes overall, for Mortgage / the
    // credit-report issue, and for Tyrell's bureau; recomputed here by hand.
    let source = DataSource::fixtures().expect("fixtures load");
    let s = call(&source, "get_overall_trend_signals", json!({})).await;
    assert_eq!(s["signals"]["last_bucket"]["period"], "2026-10-01");
    let mut monthly: BTreeMap<String, f64> = BTreeMap::new();
    for c in complaints() {
        let day = c.date_received.clone().unwrap_or_default();
        *monthly.entry(day[..7].to_owned()).or_default() += 1.0;
    }
    let values: Vec<f64> = monthly.values().copied().collect();
    let (last, base) = values.split_last().expect("months");
    let base = &base[base.len() - 8..];
    let mean = base.iter().sum::<f64>() / 8.0;
    let sd = (base.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / 7.0).sqrt();
    let z = s["signals"]["last_vs_baseline"]["z"]
        .as_f64()
        .unwrap_or(0.0);
    assert!((z - (last - mean) / sd).abs() < 1e-3, "{z}");
    assert!(z > 3.0, "the planted spike stands out: z = {z}");

    let products = call(&source, "rank_group_spikes", json!({"group": "product"})).await;
    assert_eq!(products["results"][0]["key"], "Mortgage");
    let issues = call(&source, "rank_group_spikes", json!({"group": "issue"})).await;
    assert_eq!(
        issues["results"][0]["key"],
        "Incorrect information on your report"
    );
    let companies = call(&source, "rank_company_spikes", json!({})).await;
    assert_eq!(
        companies["results"][0]["key"],
        "Tyrell Fictional Credit Bureau, Inc."
    );
    let forbearance = call(
        &source,
        "search_complaints",
        json!({"search_term": "forbearance", "size": 1}),
    )
    .await;
    assert!(
        forbearance["total"].as_u64().is_some_and(|t| t > 20),
        "issue 14: forbearance is found"
    );
    let after = call(
        &source,
        "search_complaints",
        json!({"has_narrative": true, "date_received_min": "2026-09-01"}),
    )
    .await;
    assert_eq!(after["total"], 0, "no narratives from September 2026 on");
}
