//! The check families as data: one row per family (its ID, the title the report groups it
//! under, the `--transport` that runs it, what the runner measures for its checks), in run
//! order. Adding a family is one row here (plus its module with its `check_table!`); the
//! runner's `--transport` selection, the report's titles and the tests read this table and
//! match no family string themselves. Decides nothing and touches nothing: plain data.

use crate::engine::Needs;
use crate::target::Transport;

/// One check family: the clause ID without its number (`AUTH` of `AUTH-3`).
#[derive(Clone, Copy, Debug)]
pub struct Family {
    /// As `Check::family` says it (`HTTP-2026`, `MCP-AUTH`, `EP`).
    pub id: &'static str,
    /// The heading the human report groups its checks under.
    pub title: &'static str,
    /// The `--transport` whose group it belongs to; `Both`: only a run of every group runs it.
    pub transport: Transport,
    /// What the runner measures or establishes before each of its checks (limits, offer,
    /// stateless, session; the exceptions are listed in `checks::tests`); `None`: each
    /// check says (the claude group replays both transports).
    pub needs: Option<Needs>,
}

const NONE: Option<Needs> = Some(Needs::NONE);

/// Every family, in run order.
pub const FAMILIES: &[Family] = &[
    Family {
        id: "EP",
        title: "endpoints",
        transport: Transport::Sse,
        needs: NONE,
    },
    Family {
        id: "AUTH",
        title: "authentication",
        transport: Transport::Sse,
        needs: NONE,
    },
    Family {
        id: "NET",
        title: "network posture",
        transport: Transport::Sse,
        needs: NONE,
    },
    Family {
        id: "SSE",
        title: "the event stream",
        transport: Transport::Sse,
        needs: Some(Needs::NONE.session()),
    },
    Family {
        id: "MSG",
        title: "the messages endpoint",
        transport: Transport::Sse,
        needs: Some(Needs::NONE.session()),
    },
    Family {
        id: "RATE",
        title: "rate limiting",
        transport: Transport::Sse,
        needs: Some(Needs::NONE.limits()),
    },
    Family {
        id: "LOG",
        title: "audit log",
        transport: Transport::Sse,
        needs: Some(Needs::NONE.session()),
    },
    Family {
        id: "HTTP",
        title: "Streamable HTTP on /mcp",
        transport: Transport::Streamable,
        needs: Some(Needs::NONE.offer()),
    },
    Family {
        id: "HTTP-2026",
        title: "MCP 2026-07-28 on /mcp (stateless)",
        transport: Transport::Mcp2026,
        needs: Some(Needs::NONE.stateless()),
    },
    Family {
        id: "COMPAT",
        title: "Claude's clients as they are: the tolerances on /mcp",
        transport: Transport::Both,
        needs: None,
    },
    Family {
        id: "CLAUDE",
        title: "Claude's surfaces: would each connect",
        transport: Transport::Sse,
        needs: None,
    },
    Family {
        id: "MCP-INIT",
        title: "mcp profile: the Streamable HTTP round trip",
        transport: Transport::Sse,
        needs: NONE,
    },
    Family {
        id: "MCP-AUTH",
        title: "mcp profile: credentials",
        transport: Transport::Sse,
        needs: NONE,
    },
    Family {
        id: "MCP-ORIGIN",
        title: "mcp profile: Origin validation",
        transport: Transport::Sse,
        needs: NONE,
    },
    Family {
        id: "MCP-SESSION",
        title: "mcp profile: sessions",
        transport: Transport::Sse,
        needs: NONE,
    },
    // The report has always titled this one and OAUTH `other`; kept so its output does not
    // change.
    Family {
        id: "MCP-TOOLS",
        title: "other",
        transport: Transport::Sse,
        needs: NONE,
    },
    Family {
        id: "MCP-RATE",
        title: "mcp profile: rate limiting",
        transport: Transport::Sse,
        needs: NONE,
    },
    Family {
        id: "MCP-LOG",
        title: "mcp profile: the server's log",
        transport: Transport::Sse,
        needs: NONE,
    },
    Family {
        id: "OAUTH",
        title: "other",
        transport: Transport::Sse,
        needs: NONE,
    },
];

/// The row of family `id` (exact, as `Check::family` says it).
pub fn family(id: &str) -> Option<&'static Family> {
    FAMILIES.iter().find(|f| f.id == id)
}

/// The heading the report groups family `id` under (`other` for a family without a row).
pub fn title(id: &str) -> &'static str {
    family(id).map_or("other", |f| f.title)
}

/// The `--transport` group of family `id` (HTTP+SSE for a family without a row).
pub fn transport(id: &str) -> Transport {
    family(id).map_or(Transport::Sse, |f| f.transport)
}
