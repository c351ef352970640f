//! Test support: the stub target with one fault per check, and a helper that runs the
//! harness against it. Test code only; never used by the harness itself.

#![allow(dead_code)]

pub mod stub;
pub mod tls;

use mcp_conformance::Ctx;
use mcp_conformance::engine::{Selection, run, select};
use mcp_conformance::target::{LogSource, SharedBuf, Target};
use mcp_conformance::{ApiKey, Profile, Report, Settings, Transport};
use std::time::Duration;
use stub::Fault;

/// Runs the checks selected by `only` (all when empty) against a stub with `fault`.
pub async fn run_against(fault: Fault, only: &[&str]) -> Report {
    run_with(fault, only, None).await
}

/// `run_against` with `--transport`.
pub async fn run_with(fault: Fault, only: &[&str], transport: Option<Transport>) -> Report {
    // The HTTP group alone runs against a faster limiter (see `stub::FAST_RPS`).
    let http_only = !only.is_empty() && only.iter().all(|o| o.starts_with("HTTP"));
    // (HTTP-2026 included: its shared-limit check measures the limits like HTTP-6's.)
    let rps = if http_only { stub::FAST_RPS } else { stub::RPS };
    run_with_settings(fault, only, transport, rps, settings(rps)).await
}

/// The short timeouts and probes the stub runs use, for a stub refilling at `rps`.
pub fn settings(rps: f64) -> Settings {
    Settings {
        timeout: Duration::from_secs(3),
        keepalive_wait: Duration::from_secs(2),
        assume_burst: 10,
        assume_rps: rps,
        max_burst_probe: 60,
        max_streams_probe: 12,
        ..Settings::default()
    }
}

/// `run_with` against a stub refilling at `rps`, with these settings (timeouts, probes).
pub async fn run_with_settings(
    fault: Fault,
    only: &[&str],
    transport: Option<Transport>,
    rps: f64,
    settings: Settings,
) -> Report {
    run_configured(fault, only, transport, rps, settings, &|_| {}).await
}

/// `run_with_settings`, with the target adjusted by `configure` (e.g. extra headers).
pub async fn run_configured(
    fault: Fault,
    only: &[&str],
    transport: Option<Transport>,
    rps: f64,
    settings: Settings,
    configure: &(dyn Fn(&mut Target) + Sync),
) -> Report {
    let s = stub::start_with(fault, rps).await;
    let base = url::Url::parse(&format!("http://{}", s.addr)).unwrap();
    let mut t = Target::new(
        base,
        vec![ApiKey::new(stub::KEY1, 0), ApiKey::new(stub::KEY2, 1)],
    );
    t.log = LogSource::Memory(SharedBuf(s.log.clone()));
    t.allowed_origin = Some(stub::ALLOWED_ORIGIN.into());
    t.transport = transport;
    t.settings = settings;
    // The stub's configuration, for the `*.expect-*` checks.
    t.expect = mcp_conformance::Expected {
        burst: Some(stub::BURST as u32),
        rps: Some(rps),
        keepalive: Some(stub::KEEPALIVE),
        max_streams: Some(stub::MAX_STREAMS as u32),
    };
    configure(&mut t);
    let ctx = Ctx::new(t).unwrap();
    // The MCP-* families alone run the `mcp` profile.
    let profile = if !only.is_empty() && only.iter().all(|o| o.starts_with("MCP")) {
        Profile::Mcp
    } else {
        Profile::Strict
    };
    let sel = Selection {
        profile,
        only: only.iter().map(|s| s.to_string()).collect(),
        skip: vec![],
        transport,
    };
    let checks = select(mcp_conformance::checks::all(), &sel);
    let r = run(
        &ctx,
        &checks,
        &Default::default(),
        "stub",
        profile,
        &mut |_, _, _| {},
    )
    .await;
    drop(s);
    r
}
