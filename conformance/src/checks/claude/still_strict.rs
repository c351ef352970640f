//! COMPAT-5: nothing else is tolerated (docs/contract.md COMPAT-5): on the COMPAT-1 path
//! `Mcp-Method` / `Mcp-Name` that differ from the body still get `-32020` (they steer
//! intermediaries' policies); a 2026-07-28 header whose `_meta` names another revision
//! gets `-32020`; a body `_meta` version with an `Mcp-Session-Id` is not served
//! statelessly (an unknown id: HTTP-3's `404`, or HTTP-2026-4's `-32020`); a request with neither the header nor `_meta` is
//! session-based (no session: HTTP-3's `400`).

use crate::checks::bodies::NOT_FOUND_BODY;
use crate::checks::http2026::common::{Case, error_of, run_cases};
use crate::client::claude::{STALE_VERSION, SessionRef, VersionHeader};
use crate::client::stateless::{
    META_VERSION, METHOD_HEADER, NAME_HEADER, STATELESS_VERSION, search_call, stateless_request,
};
use crate::client::{Ctx, HeaderSpec, random_session_id};
use crate::engine::table::check_table;
use crate::engine::{Check, CheckResult, Expect, meets};
use serde_json::json;

pub fn checks() -> Vec<Check> {
    check_table! {
        "COMPAT-5", Claude, still_strict, needs(stateless),
            "still refused: tools/call with no version header and Mcp-Method: tools/list, or 2025-11-25 and Mcp-Name: get_complaint_document -> 400 -32020; header 2026-07-28 with _meta 2025-11-25 -> 400 -32020; _meta 2026-07-28 and 2025-11-25 with a made-up Mcp-Session-Id -> exact 404 or -32020; no header and no _meta -> 400 bad_request";
    }
}

async fn still_strict(ctx: &Ctx) -> CheckResult {
    let call = search_call(70, "credit card");
    let lying_method = ctx
        .claude_post(&call, &VersionHeader::Absent, false, &SessionRef::None)
        .header(HeaderSpec::plain(METHOD_HEADER, "tools/list"))
        .header(HeaderSpec::plain(NAME_HEADER, "search_complaints"));
    let call2 = search_call(71, "credit card");
    let lying_name = ctx
        .claude_post(
            &call2,
            &VersionHeader::one(STALE_VERSION),
            false,
            &SessionRef::None,
        )
        .header(HeaderSpec::plain(METHOD_HEADER, "tools/call"))
        .header(HeaderSpec::plain(NAME_HEADER, "get_complaint_document"));
    let mut old_meta = stateless_request(72, "tools/list", json!({}));
    old_meta["params"]["_meta"][META_VERSION] = json!(STALE_VERSION);
    let old_meta_probe = ctx.claude_post(
        &old_meta,
        &VersionHeader::one(STATELESS_VERSION),
        true,
        &SessionRef::None,
    );
    let with_session = ctx.claude_post(
        &stateless_request(73, "tools/list", json!({})),
        &VersionHeader::one(STALE_VERSION),
        true,
        &SessionRef::Stale(random_session_id()),
    );
    let bare = ctx.claude_post(
        &json!({"jsonrpc":"2.0","id":74,"method":"tools/list","params":{}}),
        &VersionHeader::Absent,
        true,
        &SessionRef::None,
    );
    run_cases(
        ctx,
        vec![
            Case::new(
                "POST /mcp tools/call, no version header, Mcp-Method: tools/list",
                lying_method,
                "400 with the JSON-RPC error -32020 (header mismatch, id 70)",
                |r| error_of(r, 400, -32020, 70).map(drop),
            ),
            Case::new(
                "POST /mcp tools/call, MCP-Protocol-Version: 2025-11-25, Mcp-Name: get_complaint_document",
                lying_name,
                "400 with the JSON-RPC error -32020 (header mismatch, id 71)",
                |r| error_of(r, 400, -32020, 71).map(drop),
            ),
            Case::new(
                "POST /mcp tools/list, MCP-Protocol-Version: 2026-07-28, _meta names 2025-11-25",
                old_meta_probe,
                "400 with the JSON-RPC error -32020 (header mismatch, id 72)",
                |r| error_of(r, 400, -32020, 72).map(drop),
            ),
            Case::new(
                "POST /mcp tools/list, _meta 2026-07-28, MCP-Protocol-Version: 2025-11-25, a made-up Mcp-Session-Id",
                with_session,
                format!("not served: 404, exactly {NOT_FOUND_BODY} (HTTP-3), or 400 with the JSON-RPC error -32020 (HTTP-2026-4; id 73)"),
                |r| {
                    meets(r, &Expect::Exact(404, NOT_FOUND_BODY))
                        .or_else(|e| error_of(r, 400, -32020, 73).map(drop).map_err(|_| e))
                },
            ),
            Case::new(
                "POST /mcp tools/list, no version header, no _meta, no session",
                bare,
                "400 bad_request JSON (session-based without a session: HTTP-3)",
                |r| meets(r, &Expect::Shape(400, "bad_request")),
            ),
        ],
    )
    .await
}
