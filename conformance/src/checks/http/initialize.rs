//! HTTP-2: `initialize` without a session opens one: 200 with a fresh 32-hex
//! `Mcp-Session-Id`, and the protocol version asked for is the one negotiated
//! (docs/contract.md HTTP-2). Every session opened here is deleted again.

use super::common::no_response;
use crate::checks::prereq::need_streamable;
use crate::client::streamable::{
    SESSION_HEADER, SESSION_VERSION, initialize_body, response_with_id, valid_session_id,
};
use crate::client::{Ctx, Pace};
use crate::engine::table::check_table;
use crate::engine::{Check, CheckResult, Outcome};
use serde_json::Value;

pub fn checks() -> Vec<Check> {
    check_table! {
        "HTTP-2.session-id", Strict, session_id, needs(offer),
            "POST /mcp initialize without a session -> 200 with Mcp-Session-Id of 32 lowercase hex, different for two sessions";
        "HTTP-2.version", Strict, version, needs(offer),
            "initialize asking for 2024-11-05, 2025-03-26, 2025-06-18, 2025-11-25 -> result.protocolVersion is the version asked for";
    }
}

async fn session_id(ctx: &Ctx) -> CheckResult {
    need_streamable(ctx).await?;
    let probe = ctx.mcp_post(Some(0), &initialize_body(SESSION_VERSION));
    let expected =
        "200 with Mcp-Session-Id: <32 lowercase hex>, a different id for each initialize";
    let mut ids = Vec::new();
    let mut problem = None;
    for _ in 0..2 {
        let resp = ctx
            .send(&probe, Pace::Key(0))
            .await
            .map_err(no_response(expected, &probe))?;
        let id = resp.header(SESSION_HEADER);
        if let Some(id) = &id {
            ids.push(id.clone());
        }
        match id {
            Some(id) if resp.status == 200 && valid_session_id(&id) => {}
            Some(id) => {
                problem = Some(format!("{}; Mcp-Session-Id: {id}", resp.summary()));
                break;
            }
            None => {
                problem = Some(format!("{}; no Mcp-Session-Id", resp.summary()));
                break;
            }
        }
    }
    if problem.is_none() && ids.len() == 2 && ids[0] == ids[1] {
        problem = Some("the same Mcp-Session-Id twice".into());
    }
    for id in &ids {
        let _ = ctx.delete_http_session(0, id).await;
    }
    match problem {
        None => Ok(()),
        Some(p) => Err(Outcome::fail(expected, p, probe.curl())),
    }
}

async fn version(ctx: &Ctx) -> CheckResult {
    need_streamable(ctx).await?;
    for v in ["2024-11-05", "2025-03-26", "2025-06-18", "2025-11-25"] {
        let probe = ctx.mcp_post(Some(0), &initialize_body(v));
        let expected = format!("initialize asking for {v} -> result.protocolVersion {v}");
        let (s, resp) = ctx
            .open_http(0, v)
            .await
            .map_err(|e| Outcome::fail(&expected, e, probe.curl()))?;
        let got = response_with_id(&resp, 1).map(|m| {
            m.pointer("/result/protocolVersion")
                .map(Value::to_string)
                .unwrap_or_else(|| format!("no result.protocolVersion in {m}"))
        });
        let _ = s.close(ctx).await;
        match got {
            Ok(g) if g == format!("\"{v}\"") => {}
            Ok(g) => {
                return Err(Outcome::fail(
                    expected,
                    format!("protocolVersion {g}"),
                    probe.curl(),
                ));
            }
            Err(e) => return Err(Outcome::fail(expected, e, probe.curl())),
        }
    }
    Ok(())
}
