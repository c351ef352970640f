//! A check is data: an ID tied to a docs/contract.md clause (`AUTH-3.missing` checks
//! AUTH-3), its profile, a one-line description of what it sends and expects, and the
//! async function that runs it against the run context. Knows no check family: the
//! families (`checks/`) build their lists with `check_table!`.

use super::outcome::CheckResult;
use crate::client::Ctx;
use crate::target::Transport;
use futures::future::BoxFuture;
use std::sync::Arc;

/// `seed` = the contract's MUST clauses; `strict` adds the (strict) clauses; `mcp` is a
/// separate set (not above or below `strict`): what the MCP specification and common
/// sense require of any auth-gated MCP endpoint, without this contract's bodies or paths;
/// `claude` = the COMPAT clauses and the replays of Claude's clients (CLAUDE-*), which
/// `strict` runs too; `oauth` = what any OAuth-protected MCP server owes a client before
/// and after it holds a token (OAUTH-*), a separate set like `mcp`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Profile {
    Seed,
    Strict,
    Mcp,
    Claude,
    Oauth,
}

impl Profile {
    /// Whether running this profile runs a check of profile `check`: `seed` its own,
    /// `strict` seed, strict and claude, `mcp` and `claude` only their own.
    pub fn selects(self, check: Profile) -> bool {
        match self {
            Profile::Seed => check == Profile::Seed,
            Profile::Strict => matches!(check, Profile::Seed | Profile::Strict | Profile::Claude),
            Profile::Mcp => check == Profile::Mcp,
            Profile::Claude => check == Profile::Claude,
            Profile::Oauth => check == Profile::Oauth,
        }
    }
}

impl std::fmt::Display for Profile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.pad(match self {
            Profile::Seed => "seed",
            Profile::Strict => "strict",
            Profile::Mcp => "mcp",
            Profile::Claude => "claude",
            Profile::Oauth => "oauth",
        })
    }
}

/// The function a check runs.
pub type RunFn = Arc<dyn for<'a> Fn(&'a Ctx) -> BoxFuture<'a, CheckResult> + Send + Sync>;

/// What the runner measures once, up front, before the first check that needs it runs
/// (so every later check sees the same facts, and the report starts with them).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Needs {
    /// The per-key rate limits, measured from outside (the pacer then uses them).
    pub limits: bool,
    /// Whether the target offers Streamable HTTP on `/mcp`.
    pub offer: bool,
    /// Whether the target speaks MCP 2026-07-28 on `/mcp` (`server/discover`).
    pub stateless: bool,
    /// A prerequisite: an SSE session can be opened with the key (`GET /mcp/sse` answers
    /// 200 and its first event is `endpoint`). Established once per run; when it fails,
    /// the check skips at once naming it, instead of waiting out its own timeouts.
    pub session: bool,
    /// A prerequisite: in that SSE session, the answer to `initialize` arrives (a
    /// `message` event within `--timeout`). Established once per run, like `session`.
    pub answers: bool,
    /// A prerequisite of the `mcp` profile: `initialize` + `tools/list` over Streamable
    /// HTTP at the target's MCP path work with the key. Established once per run, like
    /// `session`.
    pub mcp: bool,
}

impl Needs {
    /// Nothing measured up front.
    pub const NONE: Needs = Needs {
        limits: false,
        offer: false,
        stateless: false,
        session: false,
        answers: false,
        mcp: false,
    };

    /// Also the measured rate limits.
    pub const fn limits(self) -> Self {
        Needs {
            limits: true,
            ..self
        }
    }

    /// Also the `/mcp` offer.
    pub const fn offer(self) -> Self {
        Needs {
            offer: true,
            ..self
        }
    }

    /// Also the 2026-07-28 offer.
    pub const fn stateless(self) -> Self {
        Needs {
            stateless: true,
            ..self
        }
    }

    /// Also the Streamable HTTP round-trip prerequisite (`mcp` profile).
    pub const fn mcp(self) -> Self {
        Needs { mcp: true, ..self }
    }

    /// Also the round-trip prerequisite (answers arrive in the SSE session); implies the
    /// session prerequisite.
    pub const fn answers(self) -> Self {
        Needs {
            answers: true,
            session: true,
            ..self
        }
    }

    /// Also the SSE session prerequisite.
    pub const fn session(self) -> Self {
        Needs {
            session: true,
            ..self
        }
    }
}

/// One check of one clause.
#[derive(Clone)]
pub struct Check {
    /// `AUTH-3.missing`: the clause ID, then a probe name where the clause needs several.
    pub id: String,
    /// The clause ID alone (`AUTH-3`), for grouping.
    pub clause: String,
    pub profile: Profile,
    /// What it sends and what it expects, one sentence.
    pub title: String,
    /// What the runner measures before this check runs.
    pub needs: Needs,
    /// The `--transport` whose group it belongs to (`Both`: only a run of every group runs
    /// it); HTTP+SSE unless its family says otherwise (`checks::all` sets it).
    pub transport: Transport,
    pub run: RunFn,
}

impl std::fmt::Debug for Check {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Check({} [{}])", self.id, self.profile)
    }
}

impl Check {
    pub fn new<F>(id: &str, profile: Profile, title: &str, run: F) -> Self
    where
        F: for<'a> Fn(&'a Ctx) -> BoxFuture<'a, CheckResult> + Send + Sync + 'static,
    {
        let clause = id.split('.').next().unwrap_or(id).to_string();
        Self {
            id: id.to_string(),
            clause,
            profile,
            title: title.to_string(),
            needs: Needs::NONE,
            transport: Transport::Sse,
            run: Arc::new(run),
        }
    }

    /// The same check, with what the runner must measure before it runs.
    pub fn needing(mut self, needs: Needs) -> Self {
        self.needs = needs;
        self
    }

    /// The same check, in the group of `--transport transport`.
    pub fn in_transport(mut self, transport: Transport) -> Self {
        self.transport = transport;
        self
    }

    /// The clause family: the clause without its number (`AUTH` of `AUTH-3`,
    /// `HTTP-2026` of `HTTP-2026-4`), or its first word when it has none (`EP` of
    /// `EP-health`).
    pub fn family(&self) -> &str {
        match self.clause.rsplit_once('-') {
            Some((family, n)) if !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()) => family,
            _ => self.clause.split('-').next().unwrap_or(&self.clause),
        }
    }

    /// Whether `pattern` selects this check: an exact ID, a clause (`AUTH-3` selects
    /// `AUTH-3.*`), or a family (`AUTH`; `HTTP` is not `HTTP-2026`). Case-insensitive.
    pub fn matches(&self, pattern: &str) -> bool {
        let p = pattern.trim().to_ascii_uppercase();
        let id = self.id.to_ascii_uppercase();
        !p.is_empty()
            && (id == p
                || id.starts_with(&format!("{p}."))
                || self.clause.eq_ignore_ascii_case(&p)
                || self.family().eq_ignore_ascii_case(&p))
    }
}
