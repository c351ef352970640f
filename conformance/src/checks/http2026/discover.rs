//! HTTP-2026-2: `server/discover` answers 200 with `supportedVersions` (2026-07-28 and the
//! session-based revisions), `capabilities.tools` and `_meta` serverInfo
//! (docs/contract.md HTTP-2026-2).

use super::common::{Case, result_of, run_cases, short};
use crate::client::Ctx;
use crate::client::stateless::{META_SERVER, STATELESS_VERSION, stateless_request};
use crate::engine::table::check_table;
use crate::engine::{Check, CheckResult};
use serde_json::{Value, json};

pub fn checks() -> Vec<Check> {
    check_table! {
        "HTTP-2026-2", Strict, discover, needs(stateless),
            "POST /mcp server/discover (2026-07-28) -> 200, supportedVersions with 2026-07-28 and a session-based revision, capabilities.tools, _meta io.modelcontextprotocol/serverInfo with a name";
    }
}

async fn discover(ctx: &Ctx) -> CheckResult {
    let body = stateless_request(4, "server/discover", json!({}));
    run_cases(
        ctx,
        vec![Case::new(
            "POST /mcp server/discover",
            ctx.stateless_post(&body),
            format!(
                "200, result.supportedVersions with {STATELESS_VERSION} and an older revision, result.capabilities.tools an object, result._meta[\"{META_SERVER}\"].name a string"
            ),
            |r| {
                let result = result_of(r, 4)?;
                let versions: Vec<&str> = result
                    .get("supportedVersions")
                    .and_then(Value::as_array)
                    .map(|v| v.iter().filter_map(Value::as_str).collect())
                    .unwrap_or_default();
                let mut p = Vec::new();
                if !versions.contains(&STATELESS_VERSION) {
                    p.push(format!("supportedVersions {versions:?} without {STATELESS_VERSION}"));
                }
                if !versions.iter().any(|v| *v < STATELESS_VERSION) {
                    p.push(format!("supportedVersions {versions:?} without a session-based revision"));
                }
                if !result.pointer("/capabilities/tools").is_some_and(Value::is_object) {
                    p.push("no capabilities.tools object".into());
                }
                let server = result.get("_meta").and_then(|m| m.get(META_SERVER));
                if !server.and_then(|s| s.get("name")).is_some_and(Value::is_string) {
                    p.push(format!("no _meta \"{META_SERVER}\" with a name"));
                }
                if p.is_empty() {
                    Ok(())
                } else {
                    Err(format!("{}: {}", p.join("; "), short(&result)))
                }
            },
        )],
    )
    .await
}
