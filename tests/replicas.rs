//! Several replicas sharing state through a real Redis (CLUSTER-1..7 in
//! docs/contract.md): `redis-server` from Debian and the `cfpb-mcp` binary,
//! all on loopback ports picked here, with nginx round-robin (no affinity)
//! in front where a test needs one entry point.
//!
//! Run with `cargo build --bins` first (as `cargo test --workspace` does).
//! Every loop is bounded in count and time; the tests run one at a time (a
//! static lock) so each has the machine's two cores.

use std::num::NonZeroU32;
use std::time::{Duration, Instant};

use cfpb_mcp_server::cluster::{
    GCRA_SCRIPT, Gcra, KEYSET_ANNOUNCE_SCRIPT, KEYSET_RESTORE_SCRIPT, Spend,
};
use e2e::cluster;
use e2e::issuer::TestIssuer;
use e2e::nginx::{Nginx, ProxyConfig, nginx_binary, run_harness};
use e2e::redis::{Redis, redis_binary};
use e2e::{ServerProcess, SseItem, SseStream, free_port, post, random_key};
use serde_json::{Value, json};

static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

const WAIT: Duration = Duration::from_secs(10);
const BURST: u32 = 10;

/// redis-server, or skip (`e2e::skip`: a failure where CI is set).
fn redis_or_skip() -> Option<Redis> {
    match redis_binary() {
        Some(bin) => Some(Redis::start(bin)),
        None => {
            e2e::skip("redis-server is not installed (apt-get install redis-server)");
            None
        }
    }
}

/// Start `n` replicas on one Redis, in parallel (each loads the dataset),
/// sharing the cluster secret, each with a metrics listener.
fn replicas(
    n: usize,
    redis: &Redis,
    env: &[(&str, &str)],
    log: Option<&std::path::Path>,
) -> Vec<ServerProcess> {
    let envs: Vec<Vec<(&str, &str)>> = (0..n).map(|_| env.to_vec()).collect();
    replicas_each(redis, &envs, log)
}

/// As [`replicas`], one replica per entry of `envs`, with that environment.
fn replicas_each(
    redis: &Redis,
    envs: &[Vec<(&str, &str)>],
    log: Option<&std::path::Path>,
) -> Vec<ServerProcess> {
    let url = redis.url();
    let burst = BURST.to_string();
    std::thread::scope(|scope| {
        let handles: Vec<_> = envs
            .iter()
            .map(|env| {
                let (url, burst) = (&url, &burst);
                let mut env = env.clone();
                env.push(("CFPB_MCP_CLUSTER_SECRET", cluster::SECRET));
                scope.spawn(move || {
                    ServerProcess::start_with_log(
                        &[
                            "--data",
                            "fixtures",
                            "--redis-url",
                            url,
                            "--rate-limit-rps",
                            "2",
                            "--rate-limit-burst",
                            burst,
                            "--sse-keepalive-secs",
                            "1",
                            "--metrics-bind",
                            "127.0.0.1:0",
                        ],
                        &env,
                        log,
                    )
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("replica start"))
            .collect()
    })
}

/// A guarded request that reaches no session: `400` once the guard let it
/// through, `429` when the key's bucket is empty.
async fn spend_one(client: &reqwest::Client, base: &str, key: &str) -> u16 {
    client
        .post(format!("{base}/mcp/messages"))
        .header("X-API-Key", key)
        .header("Content-Type", "application/json")
        .body("{}")
        .send()
        .await
        .map(|r| r.status().as_u16())
        .unwrap_or(0)
}

/// `count` guarded requests spread round-robin over `bases`: how many got
/// through, and every status seen.
async fn spend_round_robin(
    client: &reqwest::Client,
    bases: &[String],
    key: &str,
    count: usize,
) -> (u32, Vec<u16>) {
    let mut statuses = Vec::new();
    for i in 0..count {
        statuses.push(spend_one(client, &bases[i % bases.len()], key).await);
    }
    let through = statuses.iter().filter(|s| **s == 400).count() as u32;
    (through, statuses)
}

/// Open an HTTP+SSE session at `base` and return its stream and messages URL.
async fn open_session(client: &reqwest::Client, base: &str, key: &str) -> (SseStream, String) {
    let mut sse = SseStream::open(client, &format!("{base}/mcp/sse"), key).await;
    let Some(SseItem::Event { data: endpoint, .. }) = sse.next(WAIT).await else {
        panic!("no endpoint event from {base}");
    };
    (sse, endpoint)
}

/// The answer with `id` among the next messages of `sse` (bounded).
async fn answer(sse: &mut SseStream, id: u64) -> Option<Value> {
    for _ in 0..64 {
        let message = sse.next_message(WAIT).await?;
        if message["id"] == id {
            return Some(message);
        }
    }
    None
}

const MCP_VERSION: &str = "2025-11-25";

fn initialize(id: u64) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "method": "initialize", "params": {
        "protocolVersion": MCP_VERSION,
        "capabilities": {},
        "clientInfo": {"name": "replicas-test", "version": "1"}
    }})
}

/// A POST to `/mcp` at `base` (in `session` when given): status, headers, body.
async fn mcp_post(
    client: &reqwest::Client,
    base: &str,
    key: &str,
    session: Option<&str>,
    message: &Value,
) -> (u16, reqwest::header::HeaderMap, String) {
    let mut request = client
        .post(format!("{base}/mcp"))
        .header("X-API-Key", key)
        .header("Content-Type", "application/json")
        .header("Accept", "application/json, text/event-stream")
        .header("mcp-protocol-version", MCP_VERSION)
        .json(message);
    if let Some(session) = session {
        request = request.header("mcp-session-id", session);
    }
    let response = tokio::time::timeout(WAIT, request.send())
        .await
        .expect("a /mcp answer in time")
        .expect("a /mcp response");
    let (status, headers) = (response.status().as_u16(), response.headers().clone());
    let body = tokio::time::timeout(WAIT, response.text())
        .await
        .expect("the whole body in time")
        .unwrap_or_default();
    (status, headers, body)
}

/// The JSON-RPC answer with `id` in a `/mcp` response body (JSON or SSE).
fn answer_in(headers: &reqwest::header::HeaderMap, body: &str, id: u64) -> Value {
    let sse = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.starts_with("text/event-stream"));
    let mut messages: Vec<Value> = if sse {
        body.lines()
            .filter_map(|l| l.strip_prefix("data:"))
            .filter_map(|d| serde_json::from_str(d.trim()).ok())
            .collect()
    } else {
        serde_json::from_str(body).into_iter().collect()
    };
    messages.retain(|m| m["id"] == id);
    messages.pop().unwrap_or(Value::Null)
}

/// The status of `GET /mcp` for `session` at `base` (the stream is dropped).
async fn mcp_get(client: &reqwest::Client, base: &str, key: &str, session: &str) -> u16 {
    let request = client
        .get(format!("{base}/mcp"))
        .header("X-API-Key", key)
        .header("Accept", "text/event-stream")
        .header("mcp-session-id", session)
        .header("mcp-protocol-version", MCP_VERSION)
        .send();
    match tokio::time::timeout(WAIT, request).await {
        Ok(Ok(response)) => response.status().as_u16(),
        _ => 0,
    }
}

fn ping(id: u64) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "method": "ping"})
}

/// Lines of `server` with `"event":"redis_state"` and `state`.
fn redis_states(server: &ServerProcess, state: &str) -> usize {
    server
        .lines()
        .iter()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|v| v["event"] == "redis_state" && v["state"] == state)
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cluster_three_replicas_behind_round_robin_nginx() {
    let _one = ONE_AT_A_TIME.lock().await;
    let Some(redis) = redis_or_skip() else { return };
    let nginx = nginx_binary().expect("nginx is installed (.ci/run installs nginx-light)");
    let dir = tempfile::tempdir().unwrap();
    let log_path = dir.path().join("replicas.log");
    let (k1, k2, k3, k4) = (random_key(), random_key(), random_key(), random_key());
    let keys = format!("{k1},{k2},{k3},{k4}");
    let mut servers = replicas(3, &redis, &[("CFPB_MCP_API_KEYS", &keys)], Some(&log_path));
    let bases: Vec<String> = servers.iter().map(|s| s.base.clone()).collect();
    let proxy = Nginx::start(
        &nginx,
        &servers[0].listen,
        &ProxyConfig {
            round_robin: servers.iter().map(|s| s.listen.clone()).collect(),
            ..ProxyConfig::operator()
        },
    );
    let client = reqwest::Client::new();

    // CLUSTER-1: one bucket per key across replicas. 30 requests over the 3
    // replicas within a second or two: about BURST get through (plus what
    // 2 rps refills meanwhile), not 3 x BURST; every replica refuses some.
    let started = Instant::now();
    let (through, statuses) = spend_round_robin(&client, &bases, &k3, 30).await;
    let refill = (2.0 * started.elapsed().as_secs_f64()).ceil() as u32;
    assert!(
        (BURST..=BURST + refill + 1).contains(&through),
        "{through} of 30 through 3 replicas (burst {BURST}, refill {refill}): {statuses:?}"
    );
    for (i, base) in bases.iter().enumerate() {
        let refused = statuses
            .iter()
            .skip(i)
            .step_by(3)
            .filter(|s| **s == 429)
            .count();
        assert!(refused > 0, "replica {base} refused none: {statuses:?}");
    }

    // CLUSTER-3: a session opened through nginx (on some replica); POSTs
    // made to every replica are each answered on its stream, 202 first
    // (1 + 9 requests: within k1's burst of 10, shared by the replicas).
    let (mut sse, endpoint) = open_session(&client, &proxy.base, &k1).await;
    let mut id = 0;
    for base in &bases {
        for _ in 0..3 {
            id += 1;
            let (status, body) = post(&client, &format!("{base}{endpoint}"), &k1, &ping(id)).await;
            assert_eq!(status, 202, "POST {id} to {base}: {body}");
            let pong = answer(&mut sse, id).await;
            assert!(pong.is_some(), "POST {id} to {base} was never answered");
        }
    }
    // MSG-2 across replicas: another key's session is unknown everywhere.
    for base in &bases {
        let (status, _) = post(&client, &format!("{base}{endpoint}"), &k2, &ping(999)).await;
        assert_eq!(status, 404, "a foreign key's POST to {base}");
        let unknown = format!("{base}/mcp/messages?session_id={}", "0".repeat(32));
        assert_eq!(post(&client, &unknown, &k2, &ping(998)).await.0, 404);
    }
    drop(sse);

    // CLUSTER-7: a 2025-era /mcp session opened on one replica is served by
    // all: POSTs answered wherever they land, GET streams only where the
    // session lives (405 elsewhere), DELETE from anywhere ends it everywhere.
    // (k4: 10 requests, its burst.)
    let (status, headers, _) = mcp_post(&client, &bases[0], &k4, None, &initialize(1)).await;
    assert_eq!(status, 200, "initialize on replica 0");
    let session = headers
        .get("mcp-session-id")
        .and_then(|v| v.to_str().ok())
        .expect("a session id")
        .to_owned();
    let initialized = json!({"jsonrpc": "2.0", "method": "notifications/initialized"});
    let (status, _, body) = mcp_post(&client, &bases[1], &k4, Some(&session), &initialized).await;
    assert_eq!(status, 202, "initialized, via replica 1: {body}");
    for (i, base) in bases.iter().enumerate() {
        let id = 10 + i as u64;
        let list = json!({"jsonrpc": "2.0", "id": id, "method": "tools/list"});
        let (status, headers, body) = mcp_post(&client, base, &k4, Some(&session), &list).await;
        assert_eq!(status, 200, "tools/list via {base}: {body}");
        let answer = answer_in(&headers, &body, id);
        let tools = answer["result"]["tools"].as_array().map(Vec::len);
        assert_eq!(tools, Some(9), "tools/list via {base}: {body}");
        let get = mcp_get(&client, base, &k4, &session).await;
        assert_eq!(get, if i == 0 { 200 } else { 405 }, "GET /mcp via {base}");
    }
    // MSG-2 across replicas: another key gets the unknown session's 404.
    let (status, _, _) = mcp_post(&client, &bases[2], &k2, Some(&session), &ping(7)).await;
    assert_eq!(status, 404, "a foreign key's /mcp POST via another replica");
    let deleted = client
        .delete(format!("{}/mcp", bases[2]))
        .header("X-API-Key", &k4)
        .header("mcp-session-id", &session)
        .header("mcp-protocol-version", MCP_VERSION)
        .send()
        .await
        .map(|r| r.status().as_u16())
        .unwrap_or(0);
    assert_eq!(deleted, 200, "DELETE via replica 2");
    let (status, _, _) = mcp_post(&client, &bases[0], &k4, Some(&session), &ping(8)).await;
    assert_eq!(status, 404, "the session is gone on its own replica too");

    // The harness through nginx, the HTTP+SSE transport and the stateless
    // 2026-07-28 one: RATE-5 counted across all replicas, RATE-7 (the stream
    // cap) cluster-wide, every POST answered on its stream wherever it landed.
    tokio::time::sleep(Duration::from_secs(6)).await; // k1's bucket refills (burst / 2 rps)
    // `streamable`: the 2025-era sessions across replicas (CLUSTER-7), bar
    // HTTP-4.get-stream: a GET landing on a replica other than the
    // session's is the 405 checked above.
    for transport in ["sse", "mcp-2026", "streamable"] {
        let (url, log) = (proxy.base.clone(), log_path.to_str().unwrap().to_owned());
        let (a, b, out) = (k1.clone(), k2.clone(), dir.path().to_owned());
        let name = format!("replicas-{transport}");
        let run = tokio::task::spawn_blocking(move || {
            let mut args = vec![
                "--transport",
                transport,
                "--keepalive-wait",
                "3",
                "--log-file",
                &log,
                "--expect-burst",
                "10",
                "--expect-rps",
                "2",
                "--expect-keepalive",
                "1",
                "--expect-max-streams",
                "8",
            ];
            if transport == "streamable" {
                args.extend(["--skip", "HTTP-4.get-stream"]);
            }
            run_harness(
                &url,
                &[&a, &b],
                &out,
                &name,
                &args,
                Duration::from_secs(240),
            )
        })
        .await
        .unwrap();
        eprintln!(
            "harness ({transport}) through nginx over 3 replicas: {} in {:.1}s",
            run.report["summary"],
            run.elapsed.as_secs_f64()
        );
        let summary = run.summary();
        assert_eq!(run.code, Some(0), "{summary}\nnginx: {}", proxy.error_log());
        assert_eq!(run.report["summary"]["failed"], 0, "{summary}");
    }
    for id in [
        "RATE-5",
        "RATE-1.expect-burst",
        "RATE-7",
        "RATE-7.expect-max-streams",
        "MSG-1",
    ] {
        let text = std::fs::read_to_string(dir.path().join("replicas-sse.json")).unwrap();
        let report: Value = serde_json::from_str(&text).unwrap();
        let status = report["checks"]
            .as_array()
            .and_then(|c| c.iter().find(|c| c["id"] == id))
            .map(|c| c["status"].clone());
        assert_eq!(status, Some(json!("pass")), "{id}");
    }

    // One replica killed mid-run loses only its own streams (CLUSTER-3).
    tokio::time::sleep(Duration::from_secs(6)).await;
    let (mut kept, kept_endpoint) = open_session(&client, &bases[1], &k2).await;
    let (_doomed, doomed_endpoint) = open_session(&client, &bases[0], &k2).await;
    drop(servers.remove(0)); // SIGKILL: no goodbye to Redis
    let survivor = &bases[2];
    let (status, body) = post(
        &client,
        &format!("{survivor}{kept_endpoint}"),
        &k2,
        &ping(500),
    )
    .await;
    assert_eq!(
        status, 202,
        "the live replica's session, via another: {body}"
    );
    assert!(
        answer(&mut kept, 500).await.is_some(),
        "answered after the kill"
    );
    let (status, _) = post(
        &client,
        &format!("{survivor}{doomed_endpoint}"),
        &k2,
        &ping(501),
    )
    .await;
    assert_eq!(status, 404, "the dead replica's session is gone");

    for server in &servers {
        for line in server.lines() {
            assert!(
                ![&k1, &k2, &k3].iter().any(|k| line.contains(k.as_str())),
                "key in a log line"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cluster_4_reload_everywhere_and_cluster_5_redis_lost_then_back() {
    let _one = ONE_AT_A_TIME.lock().await;
    let Some(mut redis) = redis_or_skip() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let keys_file = dir.path().join("keys");
    let keys: Vec<String> = (0..5).map(|_| random_key()).collect();
    std::fs::write(&keys_file, keys.join("\n") + "\n").unwrap();
    let file = keys_file.to_str().unwrap().to_owned();
    let servers = replicas(2, &redis, &[("CFPB_MCP_API_KEYS_FILE", &file)], None);
    let bases: Vec<String> = servers.iter().map(|s| s.base.clone()).collect();
    let client = reqwest::Client::new();

    // The Lua script decides as the pure model (and so as governor) does,
    // in a real Redis, for a fixed timeline.
    lua_matches_the_model(&redis.url());

    // Shared while Redis is up.
    let (through, statuses) = spend_round_robin(&client, &bases, &keys[0], 24).await;
    assert!(
        through <= BURST + 3,
        "shared: {through} of 24 through: {statuses:?}"
    );

    // CLUSTER-4: a SIGHUP on one replica revokes on every replica.
    let revoked = keys[4].clone();
    let (mut doomed, _) = open_session(&client, &bases[1], &revoked).await;
    std::fs::write(&keys_file, keys[..4].join("\n") + "\n").unwrap();
    servers[0].signal("HUP");
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if spend_one(&client, &bases[1], &revoked).await == 401 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "replica 1 still accepts the revoked key"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let mut ended = false;
    for _ in 0..32 {
        match doomed.next(WAIT).await {
            None => {
                ended = true;
                break;
            }
            Some(_) => continue,
        }
    }
    assert!(
        ended,
        "the revoked key's stream on the other replica closed"
    );

    // Redis lost: no 5xx, limits fall back to each replica's own, one
    // `redis_state down` line per replica.
    redis.stop();
    let (through, statuses) = spend_round_robin(&client, &bases, &keys[1], 40).await;
    assert!(
        statuses.iter().all(|s| *s == 400 || *s == 429),
        "{statuses:?}"
    );
    assert!(
        through >= 2 * BURST,
        "each replica serves its own burst while Redis is down: {through} of 40: {statuses:?}"
    );
    let (sse, _) = open_session(&client, &bases[0], &keys[2]).await;
    drop(sse);
    for server in &servers {
        assert_eq!(redis_states(server, "down"), 1, "{:?}", server.lines());
    }

    // Redis back (empty): each replica's probe finds it within seconds.
    redis.restart();
    let deadline = Instant::now() + Duration::from_secs(15);
    while servers.iter().any(|s| redis_states(s, "up") < 2) {
        assert!(
            Instant::now() < deadline,
            "no redis_state up after Redis returned"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let (through, statuses) = spend_round_robin(&client, &bases, &keys[3], 24).await;
    assert!(
        through <= BURST + 3,
        "shared again: {through} of 24: {statuses:?}"
    );
}

/// CLUSTER-10 with OAuth (OAUTH-5): a token identity is one caller on every
/// replica. A legacy session opened on replica 0 with alice's bearer token is
/// served from both replicas (the owner takes the forwarding replica's
/// verification, sealed; it re-checks that OAuth is in force there); bob's
/// token finds no such session anywhere (404, MSG-2).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cluster_10_an_oauth_caller_is_one_caller_on_every_replica() {
    let _one = ONE_AT_A_TIME.lock().await;
    let Some(redis) = redis_or_skip() else { return };
    let resource = "https://mcp.example/mcp";
    let issuer = TestIssuer::start(resource).await;
    let issuer_url = issuer.url();
    let servers = replicas(
        2,
        &redis,
        &[
            ("CFPB_MCP_AUTH", "oauth"),
            ("CFPB_MCP_OAUTH_ISSUER", &issuer_url),
            ("CFPB_MCP_OAUTH_RESOURCE", resource),
        ],
        None,
    );
    let (alice, bob) = (
        format!("Bearer {}", issuer.token("alice")),
        format!("Bearer {}", issuer.token("bob")),
    );
    let client = reqwest::Client::new();
    let bearer_post = |url: String, bearer: &str, body: &Value| {
        client
            .post(url)
            .header("Authorization", bearer)
            .header("Content-Type", "application/json")
            .body(body.to_string())
            .send()
    };
    let sse_url = format!("{}/mcp/sse", servers[0].base);
    let mut sse = SseStream::open_with(&client, &sse_url, ("Authorization", &alice)).await;
    assert_eq!(sse.status, 200, "alice's stream on replica 0");
    let Some(SseItem::Event { data: endpoint, .. }) = sse.next(WAIT).await else {
        panic!("no endpoint event");
    };
    let mut id = 0;
    for server in &servers {
        for _ in 0..2 {
            id += 1;
            let r = bearer_post(format!("{}{endpoint}", server.base), &alice, &ping(id))
                .await
                .expect("POST");
            assert_eq!(r.status(), 202, "POST {id} to {}", server.base);
            assert!(answer(&mut sse, id).await.is_some(), "POST {id} unanswered");
        }
    }
    for server in &servers {
        let r = bearer_post(format!("{}{endpoint}", server.base), &bob, &ping(99))
            .await
            .expect("POST");
        assert_eq!(r.status(), 404, "bob's POST to {}", server.base);
    }
    let forwarded: Vec<Value> = servers[1]
        .lines()
        .iter()
        .filter_map(|l| serde_json::from_str(l).ok())
        .filter(|v: &Value| v["path"] == "/mcp/messages" && v["status"] == 202)
        .collect();
    assert_eq!(forwarded.len(), 2, "{forwarded:?}");
    assert!(
        forwarded.iter().all(|v| v["auth_method"] == "oauth"),
        "{forwarded:?}"
    );
}

#[test]
fn cluster_6_an_unreachable_redis_refuses_to_start_without_naming_the_password() {
    let port = free_port();
    let url = format!("redis://:hunter2-not-a-key@127.0.0.1:{port}/0");
    let output = std::process::Command::new(e2e::binary("cfpb-mcp"))
        .args(["serve", "--bind", "127.0.0.1:0", "--data", "fixtures"])
        .env("CFPB_MCP_API_KEYS", random_key())
        .env("CFPB_MCP_REDIS_URL", &url)
        .env("CFPB_MCP_CLUSTER_SECRET", cluster::SECRET)
        .env_remove("CFPB_MCP_API_KEYS_FILE")
        .stdin(std::process::Stdio::null())
        .output()
        .expect("run cfpb-mcp");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "cannot reach Redis at redis://***@127.0.0.1:{port}/0"
        )),
        "{stderr}"
    );
    assert!(!stderr.contains("hunter2"), "{stderr}");
    assert!(!stderr.contains("server_start"), "{stderr}");
}

/// The key-set record's scripts (CLUSTER-11) in a real Redis, on a key of
/// their own, including records that Redis should not hold.
fn keyset_scripts_in_redis(conn: &mut redis::Connection) {
    let key = "cfpb-mcp:test:keyset";
    let announce = redis::Script::new(KEYSET_ANNOUNCE_SCRIPT);
    let restore = redis::Script::new(KEYSET_RESTORE_SCRIPT);
    let set = |conn: &mut redis::Connection, value: Option<&str>| {
        let mut cmd = redis::cmd(if value.is_some() { "SET" } else { "DEL" });
        cmd.arg(key);
        if let Some(value) = value {
            cmd.arg(value);
        }
        let _: () = cmd.query(conn).unwrap();
    };
    let get = |conn: &mut redis::Connection| -> Option<String> {
        redis::cmd("GET").arg(key).query(conn).unwrap()
    };
    for (stored, known, expected) in [
        (None, 0u64, 1u64),
        (Some("1:aa"), 5, 6),
        (Some("7:aa"), 5, 8),
        (Some("zz"), 0, 1),
        (Some("99999999999999999999:aa"), 2, 3),
    ] {
        set(conn, stored);
        let generation: u64 = announce.key(key).arg(known).arg("bb").invoke(conn).unwrap();
        assert_eq!(
            generation, expected,
            "announce over {stored:?}, knowing {known}"
        );
        assert_eq!(get(conn), Some(format!("{expected}:bb")));
    }
    for (stored, known, wrote, after) in [
        (None, 0u64, 1u8, "0:cc"),
        (Some("3:aa"), 2, 0, "3:aa"),
        (Some("3:aa"), 4, 1, "4:cc"),
        (Some("garbage"), 1, 1, "1:cc"),
        (Some("99999999999999999999:aa"), 1, 1, "1:cc"),
    ] {
        set(conn, stored);
        let written: u8 = restore.key(key).arg(known).arg("cc").invoke(conn).unwrap();
        assert_eq!(written, wrote, "restore over {stored:?}, knowing {known}");
        assert_eq!(get(conn).as_deref(), Some(after));
    }
    set(conn, None);
}

/// The GCRA script with `now` given (ARGV[3]) against [`Gcra::spend`].
fn lua_matches_the_model(url: &str) {
    let client = redis::Client::open(url).unwrap();
    let mut conn = client.get_connection().unwrap();
    let script = redis::Script::new(GCRA_SCRIPT);
    let quota = Gcra::new(3.0, NonZeroU32::new(4).unwrap()).unwrap();
    let base = 1_800_000_000_000_000u64; // microseconds, near today's epoch
    let (mut now, mut tat) = (base, None);
    for (step, gap_ms) in [
        0u64, 0, 0, 0, 0, 100, 250, 333, 334, 0, 0, 1000, 5, 2000, 0, 0, 0, 0, 0,
    ]
    .into_iter()
    .enumerate()
    {
        now += gap_ms * 1000;
        let (allowed, wait): (u8, u64) = script
            .key("cfpb-mcp:test:lua")
            .arg(quota.interval_us)
            .arg(quota.tau_us)
            .arg(now)
            .invoke(&mut conn)
            .unwrap();
        let model = quota.spend(tat, now);
        match model {
            Spend::Allowed { tat_us } => {
                assert_eq!((allowed, wait), (1, 0), "step {step}");
                tat = Some(tat_us);
            }
            Spend::Denied { wait_us } => assert_eq!((allowed, wait), (0, wait_us), "step {step}"),
        }
    }
}

// ---------------------------------------------------------------------------
// Issue 23, findings 3 and 4: Redis as a trust boundary (CLUSTER-8..10) and
// revocation that converges (CLUSTER-11).
// ---------------------------------------------------------------------------

/// `GET /metrics` of `server` (its `server_start` line names the listener).
async fn metrics_text(client: &reqwest::Client, server: &ServerProcess) -> String {
    let addr = server
        .lines()
        .iter()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .find(|v| v["event"] == "server_start")
        .and_then(|v| v["metrics"].as_str().map(str::to_owned))
        .expect("a metrics listener");
    client
        .get(format!("http://{addr}/metrics"))
        .send()
        .await
        .expect("GET /metrics")
        .text()
        .await
        .unwrap_or_default()
}

/// The value of `cfpb_mcp_cluster_messages_dropped_total{reason}` in `text`.
fn dropped(text: &str, reason: &str) -> u64 {
    let prefix = format!("cfpb_mcp_cluster_messages_dropped_total{{reason=\"{reason}\"}} ");
    text.lines()
        .find_map(|l| l.strip_prefix(&prefix))
        .and_then(|v| v.trim().parse::<f64>().ok())
        .map_or(0, |v| v as u64)
}

/// `cluster_messages_dropped` lines of `server`, as (reason, count).
fn drop_lines(server: &ServerProcess) -> Vec<(String, u64)> {
    server
        .lines()
        .iter()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|v| v["event"] == "cluster_messages_dropped")
        .map(|v| {
            (
                v["reason"].as_str().unwrap_or_default().to_owned(),
                v["count"].as_u64().unwrap_or(0),
            )
        })
        .collect()
}

fn publish(conn: &mut redis::Connection, channel: &str, payload: &str) -> u64 {
    redis::cmd("PUBLISH")
        .arg(channel)
        .arg(payload)
        .query(conn)
        .expect("PUBLISH")
}

/// The session id of an HTTP+SSE endpoint (`/mcp/messages?session_id=...`).
fn session_of(endpoint: &str) -> String {
    endpoint
        .split("session_id=")
        .nth(1)
        .expect("a session_id in the endpoint")
        .to_owned()
}

#[test]
fn cluster_8_redis_without_a_strong_cluster_secret_refuses_to_start() {
    let url = format!("redis://127.0.0.1:{}/0", free_port());
    let weak = "0123456789-short-secret";
    for (secret, expected) in [
        (
            None,
            "CFPB_MCP_CLUSTER_SECRET: required with CFPB_MCP_REDIS_URL",
        ),
        (Some(weak), "CFPB_MCP_CLUSTER_SECRET: too short: 23 bytes"),
        (
            Some("abababababababababababababababababababab"),
            "CFPB_MCP_CLUSTER_SECRET: too little variety",
        ),
    ] {
        let mut command = std::process::Command::new(e2e::binary("cfpb-mcp"));
        command
            .args(["serve", "--bind", "127.0.0.1:0", "--data", "fixtures"])
            .env("CFPB_MCP_API_KEYS", random_key())
            .env("CFPB_MCP_REDIS_URL", &url)
            .env_remove("CFPB_MCP_CLUSTER_SECRET")
            .env_remove("CFPB_MCP_CLUSTER_SECRET_FILE")
            .env_remove("CFPB_MCP_API_KEYS_FILE")
            .stdin(std::process::Stdio::null());
        if let Some(secret) = secret {
            command.env("CFPB_MCP_CLUSTER_SECRET", secret);
        }
        let output = command.output().expect("run cfpb-mcp");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!output.status.success(), "{stderr}");
        assert!(stderr.contains(expected), "{expected}: {stderr}");
        assert!(!stderr.contains("server_start"), "{stderr}");
        if let Some(secret) = secret {
            assert!(
                !stderr.contains(secret),
                "the secret is never shown: {stderr}"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cluster_9_forged_unsigned_stale_and_replayed_messages_are_dropped_and_counted() {
    let _one = ONE_AT_A_TIME.lock().await;
    let Some(redis) = redis_or_skip() else { return };
    let (k1, k2) = (random_key(), random_key());
    let keys = format!("{k1},{k2}");
    let servers = replicas(2, &redis, &[("CFPB_MCP_API_KEYS", &keys)], None);
    let client = reqwest::Client::new();
    let secret = cluster::SECRET;

    // A session on replica 0; its owner entry is named by the session's
    // keyed digest (CLUSTER-10), which only the secret's holders can make.
    let (mut sse, endpoint) = open_session(&client, &servers[0].base, &k1).await;
    let session = session_of(&endpoint);
    let member = cluster::digest(secret, "session", &session);
    let mut conn = redis.connection();
    let owner_keys: Vec<String> = redis::cmd("KEYS")
        .arg("cfpb-mcp:legacy:*")
        .query(&mut conn)
        .unwrap();
    assert_eq!(owner_keys.len(), 1, "one session, one owner entry");
    let owner: Option<String> = redis::cmd("GET")
        .arg(&owner_keys[0])
        .query(&mut conn)
        .unwrap();
    let r0 = owner.expect("replica 0's id");
    let fwd = format!("cfpb-mcp:fwd:{r0}");

    // A real forward (a POST reaching replica 1), captured off the channel.
    let mut listener = redis.connection();
    let (ready_tx, ready_rx) = std::sync::mpsc::channel();
    let capture = {
        let fwd = fwd.clone();
        std::thread::spawn(move || {
            let mut pubsub = listener.as_pubsub();
            pubsub.subscribe(&fwd).unwrap();
            pubsub.set_read_timeout(Some(WAIT)).unwrap();
            ready_tx.send(()).unwrap();
            pubsub
                .get_message()
                .map(|m| m.get_payload_bytes().to_vec())
                .ok()
        })
    };
    ready_rx.recv().unwrap();
    let messages_url = format!("{}{endpoint}", servers[1].base);
    let (status, body) = post(&client, &messages_url, &k1, &ping(1)).await;
    assert_eq!(status, 202, "forwarded: {body}");
    assert!(
        answer(&mut sse, 1).await.is_some(),
        "forwarded ping answered"
    );
    let captured = capture
        .join()
        .unwrap()
        .expect("the forward was seen on Redis");
    let captured = String::from_utf8(captured).unwrap();
    // What crosses Redis names neither the session nor the key (CLUSTER-10).
    assert!(captured.starts_with("v1."), "sealed: {captured}");
    for secret_thing in [&session, &k1, &cluster::key_digest(&k1)[..16]] {
        assert!(!captured.contains(secret_thing), "{captured}");
    }

    // The forgeries, each one a POST the owner would obey if it took it.
    let keyed_k1 = cluster::digest(secret, "key", &cluster::key_digest(&k1));
    let request = |id: u64| {
        json!({
            "from": "0123456789abcdef0123456789abcdef",
            "id": hex_id(),
            "session": member,
            "key": keyed_k1,
            "body": ping(id).to_string(),
            "kind": {"type": "legacy"},
        })
    };
    let now = cluster::now_ms();
    // The attack of issue 23 as it was: an unsigned request with the full
    // session id and the key's plain digest, on the owner's channel.
    let old_style = json!({
        "from": "0123456789abcdef0123456789abcdef", "id": 2, "session": session,
        "key": cluster::key_digest(&k1), "body": ping(2).to_string(),
    });
    let forged = [
        (captured.clone(), "replayed"),
        (old_style.to_string(), "unsigned"),
        (request(3).to_string(), "unsigned"),
        (
            cluster::seal(
                "another-secret-of-the-same-length-4f9c2a7e1b83d6",
                &fwd,
                &request(4),
                now,
            ),
            "bad_signature",
        ),
        (
            cluster::seal(secret, "cfpb-mcp:fwd:elsewhere", &request(5), now),
            "bad_signature",
        ),
        (
            cluster::seal(secret, &fwd, &request(6), now - 120_000),
            "stale",
        ),
    ];
    for (payload, _) in &forged {
        assert!(publish(&mut conn, &fwd, payload) >= 1, "replica 0 listens");
    }
    // Forged replies and reloads, to both replicas.
    for channel in ["cfpb-mcp:reload".to_owned(), format!("cfpb-mcp:reply:{r0}")] {
        let reload = json!({"from": "x", "generation": 99, "version": "ab"});
        publish(&mut conn, &channel, &reload.to_string());
    }
    // Correctly sealed, but naming another key than the session's: the
    // owner answers as for an unknown session (MSG-2, CLUSTER-10).
    let mut foreign = request(8);
    foreign["key"] = json!(cluster::digest(secret, "key", &cluster::key_digest(&k2)));
    publish(
        &mut conn,
        &fwd,
        &cluster::seal(secret, &fwd, &foreign, cluster::now_ms()),
    );
    // A control: the same message correctly sealed is obeyed (so the
    // forgeries above were refused for their reason, not their format).
    let control = cluster::seal(secret, &fwd, &request(9), cluster::now_ms());
    publish(&mut conn, &fwd, &control);
    let mut seen = Vec::new();
    while let Some(message) = sse.next_message(Duration::from_secs(3)).await {
        seen.push(message["id"].clone());
        if message["id"] == 9 {
            break;
        }
    }
    assert_eq!(
        seen,
        [json!(9)],
        "only the correctly sealed request was answered"
    );
    assert_eq!(
        owner_keys[0],
        format!("cfpb-mcp:legacy:{member}"),
        "the owner entry is named by the session's keyed digest"
    );
    assert!(sse.next_message(Duration::from_millis(500)).await.is_none());
    for server in &servers {
        for line in server.lines() {
            assert!(
                !line.contains(secret) && !line.contains(e2e::redis::PASSWORD),
                "a secret in a log line: {line}"
            );
        }
    }

    // A flood of junk: every one counted, the audit log gets a line a minute.
    let flood = 500;
    let started = Instant::now();
    for i in 0..flood {
        publish(&mut conn, &fwd, &request(1000 + i).to_string());
    }
    let flood_secs = started.elapsed().as_secs_f64();
    let expected = [
        // + the forged reload and the forged reply
        ("unsigned", 2 + flood + 2),
        ("bad_signature", 2),
        ("stale", 1),
        ("replayed", 1),
    ];
    let deadline = Instant::now() + WAIT;
    let text = loop {
        let text = metrics_text(&client, &servers[0]).await;
        if expected.iter().all(|(r, n)| dropped(&text, r) == *n) || Instant::now() > deadline {
            break text;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    for (reason, n) in expected {
        assert_eq!(dropped(&text, reason), n, "{reason}:\n{text}");
    }
    let other = metrics_text(&client, &servers[1]).await;
    assert_eq!(
        dropped(&other, "unsigned"),
        1,
        "the forged reload, on replica 1"
    );
    let lines = drop_lines(&servers[0]);
    for (reason, _) in expected {
        let n = lines.iter().filter(|(r, _)| r == reason).count();
        assert_eq!(n, 1, "one {reason} line so far: {lines:?}");
    }
    for server in &servers {
        let reloads = server
            .lines()
            .iter()
            .filter(|l| l.contains("\"keys_reloaded\""))
            .count();
        assert_eq!(reloads, 0, "a forged reload is not obeyed");
    }
    eprintln!(
        "CLUSTER-9: {} forged, replayed or stale on the owner's channel, 2 forged reload/reply, {flood} junk in {flood_secs:.2}s: \
         0 obeyed, {} counted on replica 0, {} audit lines",
        forged.len(),
        expected.iter().map(|(_, n)| n).sum::<u64>(),
        lines.len()
    );

    // CLUSTER-10: no name or value in Redis holds a key, its plain digest,
    // a session id or a client address (a failed auth makes its bucket).
    spend_one(&client, &servers[0].base, "not-a-key-at-all").await;
    spend_one(&client, &servers[1].base, &k2).await;
    let names: Vec<String> = redis::cmd("KEYS").arg("*").query(&mut conn).unwrap();
    assert!(
        names.iter().any(|n| n.starts_with("cfpb-mcp:bucket:")),
        "{names:?}"
    );
    let mut texts = names.clone();
    for name in &names {
        let kind: String = redis::cmd("TYPE").arg(name).query(&mut conn).unwrap();
        let values: Vec<String> = match kind.as_str() {
            "string" => redis::cmd("GET").arg(name).query(&mut conn).unwrap(),
            "zset" => redis::cmd("ZRANGE")
                .arg(name)
                .arg(0)
                .arg(-1)
                .query(&mut conn)
                .unwrap(),
            _ => Vec::new(),
        };
        texts.extend(values);
    }
    for text in &texts {
        for k in [&k1, &k2] {
            let plain = cluster::key_digest(k);
            assert!(
                !text.contains(k.as_str()) && !text.contains(&plain[..16]),
                "a key or its plain digest in Redis: {text}"
            );
        }
        assert!(!text.contains(&session), "a session id in Redis: {text}");
        assert!(
            !text.contains("127.0.0.1"),
            "a client address in Redis: {text}"
        );
    }
}

/// A fresh 128-bit correlation id, as the replicas make them.
fn hex_id() -> String {
    (0..2)
        .map(|_| format!("{:016x}", rand::random::<u64>()))
        .collect()
}

/// Rewrite `path` with `text` of the same length and put its modification
/// time back: to the keys-file watch nothing changed, so only the cluster's
/// key-set record can tell the replica (CLUSTER-11).
fn rewrite_unnoticed(path: &std::path::Path, text: &str) {
    use std::io::Write;
    let before = std::fs::metadata(path).unwrap();
    assert_eq!(before.len(), text.len() as u64, "same length");
    let mtime = before.modified().unwrap();
    let mut file = std::fs::OpenOptions::new().write(true).open(path).unwrap();
    file.write_all(text.as_bytes()).unwrap();
    file.set_modified(mtime).unwrap();
    drop(file);
    let after = std::fs::metadata(path).unwrap();
    assert_eq!(
        (after.len(), after.modified().unwrap()),
        (before.len(), mtime)
    );
}

/// Poll `base` with `key` until its status satisfies `done`: the time it took.
async fn until_status(
    client: &reqwest::Client,
    base: &str,
    key: &str,
    within: Duration,
    done: impl Fn(u16) -> bool,
    what: &str,
) -> Duration {
    let started = Instant::now();
    loop {
        if done(spend_one(client, base, key).await) {
            return started.elapsed();
        }
        assert!(started.elapsed() < within, "{what}: not within {within:?}");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

/// The generation of the cluster's key-set record (0 when none).
fn record_generation(conn: &mut redis::Connection) -> u64 {
    let record: Option<String> = redis::cmd("GET")
        .arg("cfpb-mcp:keys:version")
        .query(conn)
        .unwrap();
    record
        .and_then(|r| r.split(':').next().and_then(|g| g.parse().ok()))
        .unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cluster_11_a_replica_that_missed_the_reload_refuses_the_revoked_key_within_the_bound() {
    let _one = ONE_AT_A_TIME.lock().await;
    let Some(mut redis) = redis_or_skip() else {
        return;
    };
    // One keys file per replica (as on two hosts), the same keys.
    let dir = tempfile::tempdir().unwrap();
    let (file_a, file_b) = (dir.path().join("keys-a"), dir.path().join("keys-b"));
    let keys: Vec<String> = (0..5).map(|_| random_key()).collect();
    for file in [&file_a, &file_b] {
        std::fs::write(file, keys.join("\n") + "\n").unwrap();
    }
    let (fa, fb) = (
        file_a.to_str().unwrap().to_owned(),
        file_b.to_str().unwrap().to_owned(),
    );
    let servers = replicas_each(
        &redis,
        &[
            vec![("CFPB_MCP_API_KEYS_FILE", fa.as_str())],
            vec![("CFPB_MCP_API_KEYS_FILE", fb.as_str())],
        ],
        None,
    );
    let (a, b) = (&servers[0], &servers[1]);
    let client = reqwest::Client::new();
    let mut conn = redis.connection();
    keyset_scripts_in_redis(&mut conn);
    let accepted = |s: u16| s != 401;
    let refused = |s: u16| s == 401;
    until_status(&client, &b.base, &keys[4], WAIT, accepted, "B takes key 4").await;

    // 1. B misses the broadcast: stopped, its subscription cut (CLIENT
    // KILL), while A revokes key 4. B's keys file gets the same change, but
    // unnoticeably (same length and mtime): only the record in Redis can
    // tell B.
    b.signal("STOP");
    let killed: u64 = redis::cmd("CLIENT")
        .arg("KILL")
        .arg("TYPE")
        .arg("pubsub")
        .query(&mut conn)
        .unwrap();
    assert!(killed >= 2, "both subscriptions cut ({killed})");
    let before = record_generation(&mut conn);
    std::fs::write(&file_a, keys[..4].join("\n") + "\n").unwrap();
    a.signal("HUP");
    let replacement = random_key();
    let b_keys = [&keys[..4], std::slice::from_ref(&replacement)].concat();
    rewrite_unnoticed(&file_b, &(b_keys.join("\n") + "\n"));
    until_status(&client, &a.base, &keys[4], WAIT, refused, "A revokes key 4").await;
    let deadline = Instant::now() + Duration::from_secs(3);
    while record_generation(&mut conn) <= before && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let recorded = record_generation(&mut conn) > before;
    b.signal("CONT");
    let missed = until_status(
        &client,
        &b.base,
        &keys[4],
        Duration::from_secs(5),
        refused,
        "B refuses the revoked key after missing the broadcast",
    )
    .await;
    until_status(
        &client,
        &b.base,
        &replacement,
        WAIT,
        accepted,
        "B re-read its file",
    )
    .await;
    assert!(recorded, "A recorded its reload in Redis");

    // 2. Across a Redis restart: A revokes key 3 while Redis is down (its
    // record can't be written then), Redis comes back empty.
    redis.stop();
    let deadline = Instant::now() + WAIT;
    while servers.iter().any(|s| redis_states(s, "down") < 1) {
        assert!(Instant::now() < deadline, "both replicas see Redis down");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    std::fs::write(&file_a, keys[..3].join("\n") + "\n").unwrap();
    a.signal("HUP");
    let replacement_3 = random_key();
    let b_keys = [
        &keys[..3],
        std::slice::from_ref(&replacement_3),
        std::slice::from_ref(&replacement),
    ]
    .concat();
    rewrite_unnoticed(&file_b, &(b_keys.join("\n") + "\n"));
    until_status(&client, &a.base, &keys[3], WAIT, refused, "A revokes key 3").await;
    assert!(
        !refused(spend_one(&client, &b.base, &keys[3]).await),
        "B can't know while Redis is down"
    );
    redis.restart();
    let restarted = until_status(
        &client,
        &b.base,
        &keys[3],
        Duration::from_secs(8),
        refused,
        "B refuses key 3 once Redis is back",
    )
    .await;

    // 3. A keys file changed on disk is read without SIGHUP (on B), and
    // announced: A re-reads its own (which lacks the key) and says so.
    let added = random_key();
    std::fs::write(
        &file_b,
        [b_keys.clone(), vec![added.clone()]].concat().join("\n") + "\n",
    )
    .unwrap();
    let on_disk = until_status(
        &client,
        &b.base,
        &added,
        Duration::from_secs(5),
        accepted,
        "B reads its changed keys file",
    )
    .await;
    let deadline = Instant::now() + WAIT;
    while !a.lines().iter().any(|l| l.contains("another key set")) {
        assert!(
            Instant::now() < deadline,
            "A warns that its keys differ: {:?}",
            a.lines()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(refused(spend_one(&client, &a.base, &added).await));
    eprintln!(
        "CLUSTER-11: missed broadcast -> revoked key refused {:.0} ms after the replica \
         resumed; reload during a Redis outage -> {:.0} ms after Redis restarted; \
         keys file changed on disk -> read in {:.0} ms",
        missed.as_secs_f64() * 1000.0,
        restarted.as_secs_f64() * 1000.0,
        on_disk.as_secs_f64() * 1000.0,
    );
}
