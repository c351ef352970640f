//! MSG checks (docs/contract.md MSG-1..5): posting into a live session (MSG-1), session id errors including another
//! key's session (MSG-2), body errors (MSG-3), the MCP handshake and tools (MSG-4), tool
//! failures as `isError` results (MSG-5).
//! Never posts a key inside a body; sessions are dropped when a check ends.

use super::bodies::NOT_FOUND_BODY;
use super::prereq::{need_key, setup};
use crate::client::{
    BodySpec, Ctx, HeaderSpec, Pace, Probe, Session, initialize_params, random_session_id,
};
use crate::engine::table::check_table;
use crate::engine::{Check, CheckResult, Expect, Outcome, Step, expect_steps};
use crate::wire::tool_schema;
use serde_json::{Value, json};

pub fn checks() -> Vec<Check> {
    check_table! {
        "MSG-1", Seed, accepted, needs(session),
            "a JSON-RPC request posted to a live session -> 202 with an empty body; its response arrives on the stream";
        "MSG-2.no-session", Seed, no_session,
            "POST /mcp/messages without session_id -> 400 bad_request JSON";
        "MSG-2.malformed", Seed, malformed,
            "session_id=not-a-session-id -> 400 bad_request JSON";
        "MSG-2.unknown", Seed, unknown,
            "a well-formed session id never issued -> exact 404 not_found \"Unknown session\"";
        "MSG-2.foreign", Seed, foreign, needs(session),
            "key 2 posting into key 1's live session -> the same exact 404 as an unknown session";
        "MSG-3.bad-json", Seed, bad_json, needs(session),
            "a body that is not JSON, posted to a live session -> 400 bad_request JSON";
        "MSG-3.too-large", Seed, too_large, needs(session),
            "a valid JSON-RPC body of 1 MiB + 1 byte, posted to a live session -> 413 too_large JSON";
        "MSG-3.content-type", Seed, content_type, needs(session),
            "valid JSON sent as text/plain to a live session -> 415 unsupported_media_type JSON";
        "MSG-3.jsonrpc-error", Seed, jsonrpc_error, needs(answers),
            "an unknown JSON-RPC method -> 202, then a JSON-RPC error response on the stream (never HTTP 5xx)";
        "MSG-4.initialize", Seed, initialize, needs(session),
            "initialize with protocolVersion 2024-11-05 -> result with protocolVersion 2024-11-05, serverInfo, capabilities.tools";
        "MSG-4.newer-version", Seed, newer_version, needs(answers),
            "initialize with protocolVersion 2025-06-18 -> a result naming a known protocol version";
        "MSG-4.ping", Seed, ping, needs(answers),
            "after the handshake, ping -> an empty result";
        "MSG-4.tools-list", Seed, tools_list, needs(answers),
            "tools/list -> the nine CFPB tools, each with an object inputSchema and a description; an outputSchema, when present, is an object";
        "MSG-4.tool-shape", Seed, tool_shape, needs(answers),
            "tools/list -> every tool (whatever its name) has a name, a description and an object inputSchema (the MCP spec's rule, apart from our nine tools)";
        "MSG-4.tools-call", Seed, tools_call, needs(answers),
            "tools/call search_complaints {search_term, size: 1} -> a result with content and no isError";
        "MSG-4.structured", Seed, structured, needs(answers),
            "every tool's inputSchema and outputSchema is valid JSON Schema; search_complaints and generate_cfpb_dashboard_url results carry structuredContent conforming to their outputSchema";
        "MSG-5", Seed, tool_error, needs(answers),
            "a failing tool call (search_complaints with size 1000) -> a tool result with isError: true and a message; the server stays healthy (/health 200, ping answered)";
    }
}

fn rpc(id: u64, method: &str, params: Value) -> String {
    json!({"jsonrpc":"2.0","id":id,"method":method,"params":params}).to_string()
}

async fn accepted(ctx: &Ctx) -> CheckResult {
    let mut s = ctx
        .open_session(0)
        .await
        .map_err(setup("opening a session"))?;
    let body = rpc(1, "initialize", initialize_params("2024-11-05"));
    let probe = s.post_probe(ctx, &body);
    let r = s
        .post(ctx, &body)
        .await
        .map_err(|e| Outcome::fail("202", format!("no response: {e}"), probe.curl()))?;
    if r.status != 202 || !r.body.is_empty() {
        return Err(Outcome::fail(
            "202 Accepted, empty body",
            r.summary(),
            probe.curl(),
        ));
    }
    s.wait_response(ctx, 1)
        .await
        .map_err(|e| Outcome::fail("the response on the session's stream", e, probe.curl()))?;
    Ok(())
}

fn keyed_post(ctx: &Ctx, slot: usize, path: &str) -> Result<Probe, Outcome> {
    let key = need_key(ctx, slot)?;
    Ok(Probe::new("POST", ctx.url(path))
        .header(HeaderSpec::key(ctx.target.style, key))
        .json(r#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#))
}

async fn no_session(ctx: &Ctx) -> CheckResult {
    let p = keyed_post(ctx, 0, "/mcp/messages")?;
    expect_steps(
        ctx,
        vec![Step::new(
            "POST /mcp/messages",
            p,
            Pace::Key(0),
            Expect::Shape(400, "bad_request"),
        )],
    )
    .await
}

async fn malformed(ctx: &Ctx) -> CheckResult {
    let p = keyed_post(ctx, 0, "/mcp/messages?session_id=not-a-session-id")?;
    expect_steps(
        ctx,
        vec![Step::new(
            "POST /mcp/messages?session_id=not-a-session-id",
            p,
            Pace::Key(0),
            Expect::Shape(400, "bad_request"),
        )],
    )
    .await
}

async fn unknown(ctx: &Ctx) -> CheckResult {
    let p = keyed_post(
        ctx,
        0,
        &format!("/mcp/messages?session_id={}", random_session_id()),
    )?;
    expect_steps(
        ctx,
        vec![Step::new(
            "unknown session",
            p,
            Pace::Key(0),
            Expect::Exact(404, NOT_FOUND_BODY),
        )],
    )
    .await
}

async fn foreign(ctx: &Ctx) -> CheckResult {
    let key2 = need_key(ctx, 1)?;
    let s = ctx
        .open_session(0)
        .await
        .map_err(setup("opening a session with key 1"))?;
    let p = Probe::new("POST", s.post_url.clone())
        .in_session()
        .header(HeaderSpec::key(ctx.target.style, key2))
        .json(r#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#);
    let r = expect_steps(
        ctx,
        vec![Step::new(
            "key 2 into key 1's session",
            p,
            Pace::Key(1),
            Expect::Exact(404, NOT_FOUND_BODY),
        )],
    )
    .await;
    drop(s);
    r
}

async fn live_post(
    ctx: &Ctx,
    label: &str,
    content_type: &str,
    body: BodySpec,
    raw: bool,
    expect: Expect,
) -> CheckResult {
    let s = ctx
        .open_session(0)
        .await
        .map_err(setup("opening a session"))?;
    let mut p = Probe::new("POST", s.post_url.clone())
        .in_session()
        .header(ctx.auth(0).ok_or_else(|| Outcome::skip("no key"))?)
        .header(HeaderSpec::plain("Content-Type", content_type))
        .body(body);
    if raw {
        p = p.raw();
    }
    let r = expect_steps(ctx, vec![Step::new(label, p, Pace::Key(0), expect)]).await;
    drop(s);
    r
}

async fn bad_json(ctx: &Ctx) -> CheckResult {
    live_post(
        ctx,
        "not JSON",
        "application/json",
        BodySpec::Text("{this is not json".into()),
        false,
        Expect::Shape(400, "bad_request"),
    )
    .await
}

async fn too_large(ctx: &Ctx) -> CheckResult {
    live_post(
        ctx,
        "1 MiB + 1 byte",
        "application/json",
        BodySpec::JsonPad { len: (1 << 20) + 1 },
        true,
        Expect::Shape(413, "too_large"),
    )
    .await
}

async fn content_type(ctx: &Ctx) -> CheckResult {
    live_post(
        ctx,
        "text/plain",
        "text/plain",
        BodySpec::Text(r#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#.into()),
        false,
        Expect::Shape(415, "unsupported_media_type"),
    )
    .await
}

/// Runs `method` in a fresh MCP session; returns the response message and the probe.
async fn call(ctx: &Ctx, method: &str, params: Value) -> Result<(Value, Probe, Session), Outcome> {
    let mut s = ctx
        .open_mcp(0)
        .await
        .map_err(setup("opening an MCP session"))?;
    let probe = s.post_probe(ctx, &rpc(1, method, params.clone()));
    let v = s
        .request(ctx, method, params)
        .await
        .map_err(|e| Outcome::fail(format!("a response to `{method}`"), e, probe.curl()))?;
    Ok((v, probe, s))
}

async fn jsonrpc_error(ctx: &Ctx) -> CheckResult {
    let (v, probe, _s) = call(ctx, "no_such/method", json!({})).await?;
    if v.get("error")
        .and_then(|e| e.get("code"))
        .is_some_and(Value::is_i64)
    {
        Ok(())
    } else {
        Err(Outcome::fail(
            "a JSON-RPC error response (error.code)",
            v.to_string(),
            probe.curl(),
        ))
    }
}

const KNOWN_VERSIONS: &[&str] = &["2024-11-05", "2025-03-26", "2025-06-18", "2025-11-25"];

async fn init_with(ctx: &Ctx, version: &str) -> Result<(Value, Probe), Outcome> {
    let mut s = ctx
        .open_session(0)
        .await
        .map_err(setup("opening a session"))?;
    let params = initialize_params(version);
    let probe = s.post_probe(ctx, &rpc(1, "initialize", params.clone()));
    let v = s
        .request(ctx, "initialize", params)
        .await
        .map_err(|e| Outcome::fail("an initialize result", e, probe.curl()))?;
    Ok((v, probe))
}

async fn initialize(ctx: &Ctx) -> CheckResult {
    let (v, probe) = init_with(ctx, "2024-11-05").await?;
    let r = v.get("result");
    let ok = r.and_then(|r| r.get("protocolVersion")) == Some(&json!("2024-11-05"))
        && r.and_then(|r| r.get("serverInfo"))
            .and_then(|s| s.get("name"))
            .is_some_and(Value::is_string)
        && r.and_then(|r| r.get("capabilities"))
            .and_then(|c| c.get("tools"))
            .is_some();
    if ok {
        Ok(())
    } else {
        Err(Outcome::fail(
            "result.protocolVersion 2024-11-05, result.serverInfo.name, result.capabilities.tools",
            v.to_string(),
            probe.curl(),
        ))
    }
}

async fn newer_version(ctx: &Ctx) -> CheckResult {
    let (v, probe) = init_with(ctx, "2025-06-18").await?;
    let got = v
        .get("result")
        .and_then(|r| r.get("protocolVersion"))
        .and_then(Value::as_str);
    if got.is_some_and(|g| KNOWN_VERSIONS.contains(&g)) {
        Ok(())
    } else {
        Err(Outcome::fail(
            format!(
                "result.protocolVersion one of {}",
                KNOWN_VERSIONS.join(", ")
            ),
            v.to_string(),
            probe.curl(),
        ))
    }
}

async fn ping(ctx: &Ctx) -> CheckResult {
    let (v, probe, _s) = call(ctx, "ping", json!({})).await?;
    if v.get("result").is_some_and(Value::is_object) {
        Ok(())
    } else {
        Err(Outcome::fail("result: {}", v.to_string(), probe.curl()))
    }
}

/// The tools MSG-4 names (issue 14: the full toolset of the server replaced).
pub const TOOL_NAMES: [&str; 9] = [
    "search_complaints",
    "get_complaint_document",
    "list_complaint_trends",
    "get_state_aggregations",
    "suggest_filter_values",
    "generate_cfpb_dashboard_url",
    "get_overall_trend_signals",
    "rank_group_spikes",
    "rank_company_spikes",
];

/// Problems with a tools/list result (empty when it is fine).
pub fn tools_list_problems(v: &Value) -> Vec<String> {
    let mut problems = Vec::new();
    let Some(tools) = v.pointer("/result/tools").and_then(Value::as_array) else {
        return vec!["no result.tools array".into()];
    };
    for name in TOOL_NAMES {
        if !tools.iter().any(|t| t.get("name") == Some(&json!(name))) {
            problems.push(format!("no `{name}` tool"));
        }
    }
    for t in tools {
        let name = t.get("name").and_then(Value::as_str).unwrap_or("?");
        let schema = t.get("inputSchema");
        if schema.and_then(|s| s.get("type")) != Some(&json!("object"))
            || !schema
                .and_then(|s| s.get("properties"))
                .is_some_and(Value::is_object)
        {
            problems.push(format!(
                "`{name}` has no object inputSchema with properties"
            ));
        }
        if !t.get("description").is_some_and(Value::is_string) {
            problems.push(format!("`{name}` has no description"));
        }
        if let Some(output) = t.get("outputSchema")
            && output.get("type") != Some(&json!("object"))
        {
            problems.push(format!(
                "`{name}` has an outputSchema that is not an object schema"
            ));
        }
    }
    if let Some(props) = tools
        .iter()
        .find(|t| t.get("name") == Some(&json!("search_complaints")))
        .and_then(|t| t.pointer("/inputSchema/properties"))
    {
        for p in ["search_term", "size"] {
            if props.get(p).is_none() {
                problems.push(format!("search_complaints has no `{p}` parameter"));
            }
        }
    }
    problems
}

async fn tools_list(ctx: &Ctx) -> CheckResult {
    let (v, probe, _s) = call(ctx, "tools/list", json!({})).await?;
    no_problems(
        "the nine CFPB tools with object inputSchemas",
        tools_list_problems(&v),
        &probe,
    )
}

/// Pass when `problems` is empty, else a failure listing them all.
fn no_problems(expected: &str, problems: Vec<String>, probe: &Probe) -> CheckResult {
    if problems.is_empty() {
        Ok(())
    } else {
        Err(Outcome::fail(expected, problems.join("; "), probe.curl()))
    }
}

async fn tool_shape(ctx: &Ctx) -> CheckResult {
    let (v, probe, _s) = call(ctx, "tools/list", json!({})).await?;
    no_problems(
        "every tool with a name, a description and an object inputSchema",
        crate::wire::tool_schema::generic_tool_problems(&v),
        &probe,
    )
}

async fn tools_call(ctx: &Ctx) -> CheckResult {
    let params =
        json!({"name":"search_complaints","arguments":{"search_term":"credit card","size":1}});
    let (v, probe, _s) = call(ctx, "tools/call", params).await?;
    let content_ok = v
        .pointer("/result/content")
        .and_then(Value::as_array)
        .is_some_and(|c| !c.is_empty());
    let is_error = v.pointer("/result/isError") == Some(&json!(true));
    if content_ok && !is_error {
        Ok(())
    } else {
        let mut s = v.to_string();
        s.truncate(600);
        Err(Outcome::fail(
            "result.content non-empty, isError absent or false",
            s,
            probe.curl(),
        ))
    }
}

async fn structured(ctx: &Ctx) -> CheckResult {
    let (v, probe, mut s) = call(ctx, "tools/list", json!({})).await?;
    let Some(tools) = v.pointer("/result/tools").and_then(Value::as_array) else {
        return Err(Outcome::fail("result.tools", v.to_string(), probe.curl()));
    };
    let mut problems: Vec<String> = tools
        .iter()
        .flat_map(tool_schema::schema_problems)
        .collect();
    // A search (upstream data) and the pure dashboard link (no upstream).
    let calls = [
        (
            "search_complaints",
            json!({"search_term": "credit card", "size": 1}),
        ),
        (
            "generate_cfpb_dashboard_url",
            json!({"tab": "trends", "product": "Mortgage"}),
        ),
    ];
    for (name, arguments) in calls {
        let Some(tool) = tools.iter().find(|t| t.get("name") == Some(&json!(name))) else {
            continue; // MSG-4.tools-list reports a missing tool
        };
        let params = json!({"name": name, "arguments": arguments});
        let response = s.request(ctx, "tools/call", params).await.map_err(|e| {
            Outcome::fail(format!("a response to tools/call {name}"), e, probe.curl())
        })?;
        match response.get("result") {
            Some(result) => problems.extend(tool_schema::result_problems(tool, result)),
            None => problems.push(format!("tools/call {name}: no result")),
        }
    }
    no_problems(
        "valid schemas; structuredContent conforming to each outputSchema",
        problems,
        &probe,
    )
}

async fn tool_error(ctx: &Ctx) -> CheckResult {
    let params = json!({"name":"search_complaints","arguments":{"search_term":"x","size":1000}});
    let (v, probe, mut s) = call(ctx, "tools/call", params).await?;
    let is_error = v.pointer("/result/isError") == Some(&json!(true));
    let text = v
        .pointer("/result/content/0/text")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    if !is_error || text.is_empty() {
        return Err(Outcome::fail(
            "a tool result with isError: true and a text message",
            v.to_string(),
            probe.curl(),
        ));
    }
    let health = Probe::new("GET", ctx.url("/health"));
    match ctx.send(&health, Pace::Free).await {
        Ok(r) if r.status == 200 => {}
        Ok(r) => {
            return Err(Outcome::fail(
                "/health 200 after the tool error",
                r.summary(),
                health.curl(),
            ));
        }
        Err(e) => {
            return Err(Outcome::fail(
                "/health 200 after the tool error",
                e,
                health.curl(),
            ));
        }
    }
    let ping = s.request(ctx, "ping", json!({})).await;
    match ping {
        Ok(v) if v.get("result").is_some() => Ok(()),
        Ok(v) => Err(Outcome::fail(
            "ping answered after the tool error",
            v.to_string(),
            probe.curl(),
        )),
        Err(e) => Err(Outcome::fail(
            "ping answered after the tool error",
            e,
            probe.curl(),
        )),
    }
}
