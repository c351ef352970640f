//! The two eras of `/mcp` as one parameter, so a check that asks the same of both (the
//! guard of HTTP-6 and HTTP-2026-11, the audit line of HTTP-6.log and HTTP-2026-10) is
//! written once: the session-based revisions (`initialize` opens a session; the audit line
//! carries its 8-char prefix) and MCP 2026-07-28 (stateless `server/discover`; the line
//! carries `rpc_method` and no session). Builds probes and reads parsed log lines; never
//! sends a request, never judges a clause.

use super::ctx::Ctx;
use super::probe::Probe;
use super::stateless::{Mirror, stateless_request};
use super::streamable::{SESSION_VERSION, initialize_body};
use serde_json::{Value, json};

/// Which revisions of `/mcp` a probe speaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Era {
    /// The session-based revisions (2025-11-25 and before).
    Session,
    /// MCP 2026-07-28, stateless.
    Stateless,
}

impl Era {
    /// The era's first request as a step names it.
    pub fn first_request_name(self) -> &'static str {
        match self {
            Era::Session => "POST /mcp initialize",
            Era::Stateless => "POST /mcp server/discover",
        }
    }
}

impl Ctx {
    /// The era's first request with key `slot` (`None`: no key): `initialize`
    /// (session-based), or `server/discover` with its mirrored headers (2026-07-28, id 50).
    pub fn first_request(&self, era: Era, slot: Option<usize>) -> Probe {
        match era {
            Era::Session => self.mcp_post(slot, &initialize_body(SESSION_VERSION)),
            Era::Stateless => {
                let body = stateless_request(50, "server/discover", json!({}));
                self.stateless_probe(slot, &body.to_string(), &Mirror::of(&body))
            }
        }
    }
}

/// How the audit line of the `tools/call` of `search_complaints` whose arguments contain
/// `marker` differs from what `era` logs for it, each difference as `field value`, in
/// this order: `event` (mcp_request), `path` (/mcp), `rpc_method` (tools/call; stateless
/// only), `tool`, `key` (`key_id`), `session` (`session_prefix`; stateless: absent or
/// null, and `session_prefix` unused). `None`: no line with those arguments.
pub fn call_line_differences(
    objs: &[Value],
    marker: &str,
    key_id: &str,
    era: Era,
    session_prefix: &str,
) -> Option<Vec<String>> {
    let o = objs.iter().find(|o| {
        o.get("arguments")
            .is_some_and(|a| a.to_string().contains(marker))
    })?;
    let field = |name: &str| o.get(name).cloned().unwrap_or(Value::Null);
    let mut wanted = vec![("event", json!("mcp_request")), ("path", json!("/mcp"))];
    if era == Era::Stateless {
        wanted.push(("rpc_method", json!("tools/call")));
    }
    wanted.push(("tool", json!("search_complaints")));
    wanted.push(("key", json!(key_id)));
    let mut p: Vec<String> = wanted
        .into_iter()
        .filter(|(name, want)| field(name) != *want)
        .map(|(name, _)| format!("{name} {}", field(name)))
        .collect();
    let session_differs = match era {
        Era::Session => field("session") != json!(session_prefix),
        Era::Stateless => !field("session").is_null(),
    };
    if session_differs {
        p.push(format!("session {}", field("session")));
    }
    Some(p)
}

#[cfg(test)]
mod tests {
    use super::{Era, call_line_differences};
    use serde_json::json;

    #[test]
    fn a_line_differs_field_by_field_in_order() {
        let line = json!({"event":"mcp_request","path":"/x","tool":"search_complaints",
            "arguments":{"search_term":"m-1"},"key":"k","session":"abcd1234"});
        let objs = [line];
        let d = |era| call_line_differences(&objs, "m-1", "k", era, "abcd1234");
        assert_eq!(d(Era::Session), Some(vec!["path \"/x\"".to_string()]));
        assert_eq!(
            d(Era::Stateless),
            Some(vec![
                "path \"/x\"".to_string(),
                "rpc_method null".to_string(),
                "session \"abcd1234\"".to_string()
            ])
        );
        assert_eq!(
            call_line_differences(&objs, "m-2", "k", Era::Session, ""),
            None
        );
    }
}
