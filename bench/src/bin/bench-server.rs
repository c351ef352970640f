//! `bench-server`: the embedded cfpb-mcp server, configured for load benches.
//!
//! `bench-server [--unguarded] [--workers N] [--keepalive-secs S] [--redis-url URL]`
//!
//! Binds `127.0.0.1:0`, prints `PORT <port>` on stdout, and serves until its
//! standard input closes (the load generator that spawned it exits or closes
//! the pipe); then it shuts down gracefully. Bench-only settings, so that the
//! limits being measured are the guard's work and not its refusals:
//!
//! - per-key rate limit 1e6 rps, burst 2^31: every valid request still costs a
//!   limiter cell (lookup + GCRA update), none is refused (1e6, not more: the
//!   shared limiter counts in whole microseconds, so it takes at most 1e6);
//! - failed-auth limiter ON at 1e6 rps, burst 2^31: every wrong key pays its
//!   per-address lookup, none is throttled (so a flood measures 401s, not 429s);
//! - 20,000 streams per key and 20,000 connections (the idle-stream bench);
//! - fixtures data; audit lines rendered and written to `/dev/null` by the
//!   real writer thread (real `write(2)` calls, no terminal in the way).
//!
//! `--redis-url` shares the limiters and stream slots through that Redis
//! (CLUSTER-*), for the replicas scenario of `loadgen --replicas`.
//!
//! `--unguarded` sets `Config::bench_unguarded` (cargo feature
//! `bench-unguarded`, enabled only in this bench workspace): the guard returns
//! the anonymous caller without looking at origin, key or limits.

use std::io::{Read, Write};
use std::time::Duration;

use cfpb_mcp_server::cluster::ClusterSecret;
use cfpb_mcp_server::data::DataMode;
use cfpb_mcp_server::{AuditTarget, Config, Server};

/// The keys every bench run uses (the load generator sends the first).
pub const BENCH_KEYS: [&str; 2] = [
    "bench-key-7Qm2Xr9Lp4Tz8Wc1Nv6Hb3Jd5Kf0Gs2Yaq",
    "bench-key-4Rt8Yp1Mn7Bc4Hd6Gf0Js2Ae8Ku3Wx9Pz5",
];

fn main() {
    let mut unguarded = false;
    let mut workers = 0usize;
    let mut keepalive = 2u64;
    let mut redis_url = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--unguarded" => unguarded = true,
            "--workers" => workers = args.next().and_then(|v| v.parse().ok()).unwrap_or(0),
            "--keepalive-secs" => keepalive = args.next().and_then(|v| v.parse().ok()).unwrap_or(2),
            "--redis-url" => redis_url = args.next().and_then(|v| v.parse().ok()),
            other => {
                eprintln!("bench-server: unknown argument {other}");
                std::process::exit(2);
            }
        }
    }
    let mut builder = tokio::runtime::Builder::new_multi_thread();
    if workers > 0 {
        builder.worker_threads(workers);
    }
    let runtime = builder.enable_all().build().expect("tokio runtime");
    runtime.block_on(async move {
        let mut config = Config::with_keys(BENCH_KEYS);
        config.data = DataMode::Fixtures;
        config.rate_limit_rps = 1e6;
        config.rate_limit_burst = 1 << 31;
        config.auth_fail_rps = 1e6;
        config.auth_fail_burst = 1 << 31;
        config.max_streams_per_key = 20_000;
        config.max_connections = 20_000;
        config.sse_keepalive = Duration::from_secs(keepalive);
        config.bench_unguarded = unguarded;
        // CLUSTER-8: replicas need one shared secret; every bench replica
        // gets this one.
        config.cluster_secret = redis_url
            .is_some()
            .then(|| ClusterSecret::new("bench-cluster-secret-6c1f0e9a83b27d45f0aa19c3").ok())
            .flatten();
        config.redis_url = redis_url;
        let sink = std::fs::OpenOptions::new()
            .write(true)
            .open("/dev/null")
            .expect("/dev/null");
        config.audit = AuditTarget::Writer(Box::new(sink));
        let server = Server::bind(config).await.expect("server starts");
        let mut out = std::io::stdout();
        let _ = writeln!(out, "PORT {}", server.local_addr().port());
        let _ = out.flush();
        // Serve until stdin closes.
        let _ = tokio::task::spawn_blocking(|| {
            let mut sink = Vec::new();
            let _ = std::io::stdin().read_to_end(&mut sink);
        })
        .await;
        server.shutdown().await;
    });
}
