//! A replay: the requests one Claude surface sends, in order, each judged as it comes
//! back (docs/contract.md COMPAT-*; the CLAUDE-* checks, and the COMPAT ones whose steps
//! depend on an earlier answer). The first request answered otherwise fails the check as
//! `"<surface> would not connect"`, with that request's reproduction (key as `$MCP_KEY`);
//! a replay that gets through says "would connect" in its title. Sessions it opened are
//! deleted at the end, pass or fail (the target caps open sessions per key).

use crate::client::claude::claude_user_agent;
use crate::client::{Ctx, Pace, Probe};
use crate::engine::Outcome;
use crate::wire::response::Resp;

/// One surface's replay in progress.
pub struct Replay<'a> {
    ctx: &'a Ctx,
    /// "claude.ai", "Claude Code", ...: what would not connect.
    surface: &'static str,
    /// Sessions to delete at the end.
    sessions: Vec<String>,
}

impl<'a> Replay<'a> {
    pub fn new(ctx: &'a Ctx, surface: &'static str) -> Self {
        Self {
            ctx,
            surface,
            sessions: Vec::new(),
        }
    }

    /// Sends `probe` (paced, key 1) and judges the answer; the failure names `label`,
    /// what was `expected`, what came, and reproduces `probe`.
    pub async fn step<T>(
        &mut self,
        label: &str,
        probe: Probe,
        expected: &str,
        judge: impl FnOnce(&Resp) -> Result<T, String>,
    ) -> Result<T, Outcome> {
        let observed = match self.ctx.send(&probe, Pace::Key(0)).await {
            Ok(resp) => match judge(&resp) {
                Ok(t) => return Ok(t),
                Err(why) => format!("{} ({why})", resp.summary()),
            },
            Err(e) => format!("no response: {e}"),
        };
        Err(self.fail(label, expected, &observed, &probe))
    }

    /// The failure of step `label`.
    pub fn fail(&self, label: &str, expected: &str, observed: &str, probe: &Probe) -> Outcome {
        Outcome::fail(
            format!("{label}: {expected} ({} would connect)", self.surface),
            format!(
                "{} would not connect: {label} answered {observed}",
                self.surface
            ),
            probe.curl(),
        )
    }

    /// Remembers a session to delete at the end.
    pub fn opened(&mut self, id: &str) {
        self.sessions.push(id.to_string());
    }

    /// Deletes the session `id` now (as a server restart forgets it), with Claude's user
    /// agent; an error is ignored (a later step shows what the target does with the id).
    pub async fn forget(&mut self, id: &str) {
        self.sessions.retain(|s| s != id);
        let probe = self
            .ctx
            .http_delete_probe(0, id)
            .header(claude_user_agent());
        let _ = self.ctx.send(&probe, Pace::Key(0)).await;
    }

    /// Deletes every session the replay opened.
    pub async fn close(mut self) {
        for id in std::mem::take(&mut self.sessions) {
            self.forget(&id).await;
        }
    }
}
