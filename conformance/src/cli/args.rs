//! The flags (`Args`, parsed by clap): what each one means, its environment variable and
//! default. Plain data; the steps in `plan.rs` and `connect.rs` validate and use them.

use crate::engine::Profile;
use crate::key::HeaderStyle;
use crate::report::Format;
use crate::target::{DEFAULT_SSE_PATH, Transport};
use clap::Parser;
use std::path::PathBuf;

/// Checks an auth-gated MCP endpoint from the outside. Any MCP server: --profile mcp
/// --url BASE (the MCP path from the URL or --mcp-path; the credential style from its 401
/// challenge). The cfpb-mcp server's full contract (AUTH, RATE, SSE, MSG, LOG, NET, HTTP,
/// HTTP-2026, COMPAT, CLAUDE): the default profile; with no --url it starts that server
/// embedded, offline, and checks it.
#[derive(Debug, Parser)]
#[command(name = "mcp-conformance", version, long_about = None)]
pub struct Args {
    /// The target, e.g. https://mcp.example.com or http://127.0.0.1:8000. With --profile
    /// mcp a path in it (http://127.0.0.1:8000/mcp) is the MCP endpoint unless --mcp-path
    /// says otherwise; with the other profiles it is the base of the cfpb-mcp paths.
    /// Without it, the cfpb-mcp server is embedded on a loopback port with generated keys
    /// and the fixtures data.
    #[arg(long, value_name = "BASE")]
    pub url: Option<String>,

    /// File with the credential(s) (API keys or bearer tokens), one per line (`#`
    /// comments); a second one enables the checks across credentials (MCP-SESSION-1;
    /// RATE-4, MSG-2.foreign). Default source: the MCP_CONFORMANCE_KEYS environment
    /// variable (comma-separated).
    #[arg(long, value_name = "PATH")]
    pub key_file: Option<PathBuf>,

    /// A key on the command line (repeatable). Visible in `ps` and shell history: prefer
    /// MCP_CONFORMANCE_KEYS or --key-file.
    #[arg(long, value_name = "KEY")]
    pub key: Vec<String>,

    /// A header added to every request, `Name: value` (repeatable), e.g. a Cloudflare
    /// Access service token: --header 'CF-Access-Client-Id: ID' --header
    /// 'CF-Access-Client-Secret: SECRET'. Default source: MCP_CONFORMANCE_HEADERS (one
    /// per line). Values are never printed (redacted like keys).
    #[arg(long = "header", value_name = "NAME: VALUE")]
    pub headers: Vec<String>,

    /// A PEM file of CA certificates to trust for an https target, beside the compiled-in
    /// web roots and the system trust store (which honours SSL_CERT_FILE): a local TLS
    /// front's test CA, or a corporate proxy's.
    #[arg(long, value_name = "PATH", env = "MCP_CONFORMANCE_CA_FILE")]
    pub ca_file: Option<PathBuf>,

    /// Header that carries the credential: x-api-key (`X-API-Key: KEY`) or bearer
    /// (`Authorization: Bearer KEY`). Default: with --profile mcp, what the target's 401
    /// challenge asks for (`WWW-Authenticate: Bearer` -> bearer), else x-api-key.
    #[arg(long, value_enum)]
    pub header_style: Option<HeaderStyle>,

    /// The server's log file (its stderr), for the LOG checks (MCP-LOG-1: no credential
    /// in it), read from where it ended when the run started.
    #[arg(long, value_name = "PATH", conflicts_with = "log_command")]
    pub log_file: Option<PathBuf>,

    /// A shell command printing the server's log, e.g. 'docker compose logs server'.
    #[arg(long, value_name = "CMD")]
    pub log_command: Option<String>,

    /// An origin the target allows (for the cfpb-mcp server: one of
    /// CFPB_MCP_ALLOWED_ORIGINS), for NET-2.allowed. Not used by --profile mcp.
    #[arg(long, value_name = "ORIGIN")]
    pub allowed_origin: Option<String>,

    /// Which transports to check: sse = HTTP+SSE (/mcp/sse, every family but HTTP,
    /// HTTP-2026 and COMPAT; the CLAUDE surfaces over /mcp skip); streamable = Streamable HTTP with sessions (/mcp, the HTTP checks);
    /// mcp-2026 = MCP 2026-07-28, stateless, on /mcp (the HTTP-2026 checks); both = all of
    /// them. Default: all, the HTTP checks skipping when the target doesn't offer /mcp and
    /// the HTTP-2026 checks when it doesn't answer server/discover for 2026-07-28. Asked
    /// for by name (or both), a missing transport fails its checks. Refused with --profile
    /// mcp (it speaks Streamable HTTP at --mcp-path).
    #[arg(long, value_enum, value_name = "TRANSPORT")]
    pub transport: Option<Transport>,

    /// seed = the contract's MUST clauses; strict = seed plus the (strict) clauses and the
    /// claude group; mcp = a separate set: what the MCP spec and common sense require of any
    /// auth-gated MCP endpoint (no exact bodies; paths from --mcp-path and --sse-path);
    /// claude = the claude group alone: the COMPAT clauses, a replay of each Claude surface
    /// (CLAUDE-AI, CLAUDE-CODE, CLAUDE-SSE) and, for https URLs, Claude's network facts;
    /// oauth = what any OAuth-protected MCP server owes a client (the OAUTH checks: its
    /// Protected Resource Metadata, its authorization server's metadata, the 401
    /// challenge, refused tokens; --oauth-token and --oauth-foreign-token for the rest).
    /// Default: strict (with --list: every check).
    #[arg(long, value_enum)]
    pub profile: Option<Profile>,

    /// An OAuth access token for the target (sent as Authorization: Bearer): with
    /// --profile oauth, OAUTH-3.token checks it is served and OAUTH-3.query that it is not
    /// taken from the query string; with the other profiles it is the credential every
    /// check uses (instead of keys). Prefer the environment variable (not in `ps`).
    #[arg(
        long,
        value_name = "TOKEN",
        env = "MCP_OAUTH_TOKEN",
        hide_env_values = true
    )]
    pub oauth_token: Option<String>,

    /// A token the same authorization server issued for another resource (another
    /// audience): OAUTH-3.audience checks the target refuses it (RFC 8707).
    #[arg(
        long,
        value_name = "TOKEN",
        env = "MCP_OAUTH_FOREIGN_TOKEN",
        hide_env_values = true
    )]
    pub oauth_foreign_token: Option<String>,

    /// The target's Streamable HTTP endpoint path (the mcp profile, and the HTTP checks).
    /// Default: /mcp, or with --profile mcp the path of --url when it has one.
    #[arg(long, value_name = "PATH", env = "MCP_CONFORMANCE_MCP_PATH")]
    pub mcp_path: Option<String>,

    /// The target's legacy HTTP+SSE stream path (the mcp profile; the seed/strict SSE checks).
    #[arg(long, value_name = "PATH", env = "MCP_CONFORMANCE_SSE_PATH", default_value = DEFAULT_SSE_PATH)]
    pub sse_path: String,

    /// Run only these checks: IDs, clauses or families, comma-separated (AUTH-3.missing, AUTH-3, AUTH).
    #[arg(long, value_delimiter = ',', value_name = "IDS")]
    pub only: Vec<String>,

    /// Skip these checks (same syntax as --only).
    #[arg(long, value_delimiter = ',', value_name = "IDS")]
    pub skip: Vec<String>,

    /// Report format.
    #[arg(long, value_enum, default_value = "human")]
    pub format: Format,

    /// Write the report to this file instead of stdout.
    #[arg(long, value_name = "PATH")]
    pub output: Option<PathBuf>,

    /// File of known failures, one per line as the report prints them under `baseline:`
    /// (`CHECK-ID finding`). A failure all of whose findings are listed doesn't fail the
    /// run; a new failure, or a new kind of finding in a listed check, does, and so does a
    /// listed check that now passes.
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,

    /// How long SSE-4 waits for a keep-alive comment (and SSE-5/RATE-7/LOG wait for the
    /// server to notice a closed stream), in seconds.
    #[arg(long, value_name = "SECS", default_value_t = 20.0)]
    pub keepalive_wait: f64,

    /// Timeout of every network step, in seconds.
    #[arg(long, value_name = "SECS", default_value_t = 10.0)]
    pub timeout: f64,

    /// Most requests sent in a row looking for the first 429.
    #[arg(long, value_name = "N", default_value_t = 200)]
    pub max_burst_probe: u32,

    /// Most SSE streams opened looking for the per-key stream cap.
    #[arg(long, value_name = "N", default_value_t = 32)]
    pub max_streams_probe: u32,

    /// The target's configured per-credential burst (for the cfpb-mcp server:
    /// CFPB_MCP_RATE_LIMIT_BURST): RATE-1.expect-burst checks the measured one against it
    /// (without it that check skips); with --profile mcp, MCP-RATE-1 then requires a 429.
    #[arg(long, value_name = "N", env = "MCP_CONFORMANCE_EXPECT_BURST")]
    pub expect_burst: Option<u32>,

    /// The target's configured per-credential refill, cells per second (for the cfpb-mcp
    /// server: CFPB_MCP_RATE_LIMIT_RPS): RATE-1.expect-rps checks the measured one against it.
    #[arg(long, value_name = "RPS", env = "MCP_CONFORMANCE_EXPECT_RPS")]
    pub expect_rps: Option<f64>,

    /// The target's configured keep-alive interval in seconds (for the cfpb-mcp server:
    /// CFPB_MCP_SSE_KEEPALIVE_SECS): SSE-4.expect-keepalive checks the measured one against it.
    #[arg(long, value_name = "SECS", env = "MCP_CONFORMANCE_EXPECT_KEEPALIVE")]
    pub expect_keepalive: Option<f64>,

    /// The target's configured SSE streams per credential (for the cfpb-mcp server:
    /// CFPB_MCP_MAX_STREAMS_PER_KEY): RATE-7.expect-max-streams checks the counted cap.
    #[arg(long, value_name = "N", env = "MCP_CONFORMANCE_EXPECT_MAX_STREAMS")]
    pub expect_max_streams: Option<u32>,

    /// Colours: auto (only on a terminal, and not with NO_COLOR), always, never.
    #[arg(long, value_enum, default_value = "auto")]
    pub color: ColorChoice,

    /// List the checks (ID, profile, what it sends and expects) and exit; --profile,
    /// --only and --skip filter the list.
    #[arg(long)]
    pub list: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}
