//! The command line: parses flags, loads keys (environment or file by default, so they stay
//! out of `ps` and shell history), builds the target (a URL, or the embedded server), runs
//! the selected checks with a progress line, and writes the report. Exit codes: 0 nothing
//! failed, 1 a check failed, 2 bad invocation or unreachable target.
//! Must never print a key or an extra header's value: messages name keys only as
//! `$MCP_KEY` / `$MCP_KEY2`, and extra headers by name.

use crate::client::{Ctx, Pace, Probe};
use crate::embedded::Embedded;
use crate::engine::{
    Baseline, Check, Profile, Report, Selection, Verdict, parse_baseline, select, unknown_patterns,
};
use crate::key::{ApiKey, ExtraHeader, HeaderStyle, parse_key_list};
use crate::report::Format;
use crate::target::{DEFAULT_MCP_PATH, DEFAULT_SSE_PATH, LogSource, Settings, Target, Transport};
use clap::Parser;
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::time::Duration;

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

/// Where the CLI writes, so tests can capture it.
pub struct Io<'a> {
    pub out: &'a mut (dyn Write + Send),
    pub err: &'a mut (dyn Write + Send),
    /// stdout / stderr are terminals (colours, progress line).
    pub out_tty: bool,
    pub err_tty: bool,
}

/// Runs the CLI with the process's stdout/stderr.
pub async fn main_with_args(args: Vec<std::ffi::OsString>) -> i32 {
    let mut out = std::io::stdout();
    let mut err = std::io::stderr();
    let out_tty = out.is_terminal();
    let err_tty = err.is_terminal();
    run(
        args,
        Io {
            out: &mut out,
            err: &mut err,
            out_tty,
            err_tty,
        },
    )
    .await
}

fn fail2(io: &mut Io<'_>, msg: &str) -> i32 {
    let _ = writeln!(io.err, "mcp-conformance: {msg}");
    2
}

/// Loads keys from --key, --key-file, or MCP_CONFORMANCE_KEYS (in that order).
fn load_keys(args: &Args, io: &mut Io<'_>) -> Result<Vec<String>, String> {
    if !args.key.is_empty() {
        let _ = writeln!(
            io.err,
            "mcp-conformance: warning: --key puts the key in `ps` output and shell history; prefer MCP_CONFORMANCE_KEYS or --key-file"
        );
        return Ok(args.key.iter().flat_map(|k| parse_key_list(k)).collect());
    }
    if let Some(path) = &args.key_file {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("reading --key-file {}: {e}", path.display()))?;
        return Ok(parse_key_list(&text));
    }
    Ok(std::env::var("MCP_CONFORMANCE_KEYS")
        .map(|v| parse_key_list(&v))
        .unwrap_or_default())
}

/// Loads the extra headers from --header, or MCP_CONFORMANCE_HEADERS (one `Name: value`
/// per line, `#` comments). Errors name a header, never its value.
fn load_headers(args: &Args) -> Result<Vec<ExtraHeader>, String> {
    let lines: Vec<String> = if args.headers.is_empty() {
        std::env::var("MCP_CONFORMANCE_HEADERS")
            .unwrap_or_default()
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .map(str::to_string)
            .collect()
    } else {
        args.headers.clone()
    };
    lines
        .iter()
        .enumerate()
        .map(|(i, l)| ExtraHeader::parse(l, i + 1))
        .collect()
}

/// Runs the CLI; returns the exit code. One step after the other: parse the flags, list
/// the checks (`--list`), validate the flags into a plan, build the target, connect, run,
/// write the report.
pub async fn run(argv: Vec<std::ffi::OsString>, mut io: Io<'_>) -> i32 {
    let args = match parse(argv, &mut io) {
        Ok(a) => a,
        Err(code) => return code,
    };
    let all = crate::checks::all();
    let unknown = unknown_patterns(&all, &[args.only.clone(), args.skip.clone()].concat());
    if !unknown.is_empty() {
        return fail2(
            &mut io,
            &format!("no check matches {} (see --list)", unknown.join(", ")),
        );
    }
    if args.list {
        return list(&args, all, &mut io);
    }
    let plan = match plan(&args, all, &mut io) {
        Ok(p) => p,
        Err(e) => return fail2(&mut io, &e),
    };
    let (target, label, embedded) = match build_target(&args, &plan, &mut io).await {
        Ok(t) => t,
        Err(e) => return fail2(&mut io, &e),
    };
    let ctx = match connect(
        target,
        &label,
        embedded.as_ref(),
        &args,
        plan.profile,
        &mut io,
    )
    .await
    {
        Ok(c) => c,
        Err(e) => {
            if let Some(e) = embedded {
                e.stop().await;
            }
            return fail2(&mut io, &e);
        }
    };
    let report = run_checks(ctx, &plan, &label, &mut io).await;
    if let Some(e) = embedded {
        e.stop().await;
    }
    write_report(&args, &report, &mut io)
}

/// Parses the flags; `Err` is the exit code once clap's message (or `--help`) is written.
fn parse(argv: Vec<std::ffi::OsString>, io: &mut Io<'_>) -> Result<Args, i32> {
    Args::try_parse_from(argv).map_err(|e| {
        let code = if e.use_stderr() { 2 } else { 0 };
        let target: &mut (dyn Write + Send) = if e.use_stderr() {
            &mut *io.err
        } else {
            &mut *io.out
        };
        let _ = write!(target, "{}", e.render());
        code
    })
}

/// `--list`: the checks `--profile`, `--only` and `--skip` select (every profile's without
/// `--profile`), one line each; exit 0.
fn list(args: &Args, all: Vec<Check>, io: &mut Io<'_>) -> i32 {
    let listed: Vec<Check> = match args.profile {
        Some(profile) => select(
            all,
            &Selection {
                profile,
                only: args.only.clone(),
                skip: args.skip.clone(),
                transport: args.transport,
            },
        ),
        None => all
            .into_iter()
            .filter(|c| args.only.is_empty() || args.only.iter().any(|p| c.matches(p)))
            .filter(|c| !args.skip.iter().any(|p| c.matches(p)))
            .collect(),
    };
    for c in &listed {
        let _ = writeln!(io.out, "{:<26} {:<6} {}", c.id, c.profile, c.title);
    }
    0
}

/// What the flags ask for, validated: everything but the target itself.
struct Plan {
    profile: Profile,
    baseline: Baseline,
    settings: Settings,
    /// The selected checks, in run order (never empty).
    checks: Vec<Check>,
    mcp_path: String,
    /// `--url` names the MCP endpoint itself (its path becomes `mcp_path`).
    url_is_endpoint: bool,
    extra_headers: Vec<ExtraHeader>,
}

/// Validates the flags into a `Plan`, in the order the messages have always come in;
/// `Err` is the message of exit 2. Writes notes (the MCP path chosen, unused flags).
fn plan(args: &Args, all: Vec<Check>, io: &mut Io<'_>) -> Result<Plan, String> {
    let profile = args.profile.unwrap_or(Profile::Strict);
    if profile == Profile::Mcp && args.transport.is_some() {
        return Err("--transport does not apply to --profile mcp: it speaks Streamable HTTP at --mcp-path, and MCP-AUTH-1.sse checks the legacy stream at --sse-path when the target offers it; drop --transport".into());
    }
    let baseline = load_baseline(args)?;
    let settings = settings(args)?;
    let sel = Selection {
        profile,
        only: args.only.clone(),
        skip: args.skip.clone(),
        transport: args.transport,
    };
    let (mcp_path, url_is_endpoint) = mcp_path(args, profile, io)?;
    if profile == Profile::Mcp {
        note_unused_by_mcp(args, io);
    }
    if [&mcp_path, &args.sse_path]
        .iter()
        .any(|p| !p.starts_with('/') || p.bytes().any(|b| !(0x21..0x7f).contains(&b)))
    {
        return Err("--mcp-path and --sse-path must start with / and be visible ASCII".into());
    }
    let checks = select_checks(all, &sel)?;
    if args.expect_rps.is_some_and(|r| !(r > 0.0 && r < 1e6))
        || args
            .expect_keepalive
            .is_some_and(|k| !(k > 0.0 && k < 3600.0))
    {
        return Err(
            "--expect-rps must be above 0, --expect-keepalive between 0 and 3600 seconds".into(),
        );
    }
    let extra_headers = load_headers(args)?;
    Ok(Plan {
        profile,
        baseline,
        settings,
        checks,
        mcp_path,
        url_is_endpoint,
        extra_headers,
    })
}

/// `--baseline`: the accepted failures (none without it).
fn load_baseline(args: &Args) -> Result<Baseline, String> {
    match &args.baseline {
        Some(p) => std::fs::read_to_string(p)
            .map_err(|e| e.to_string())
            .and_then(|t| parse_baseline(&t))
            .map_err(|e| format!("--baseline {}: {e}", p.display())),
        None => Ok(Default::default()),
    }
}

/// The timing settings from `--timeout`, `--keepalive-wait` and the probe limits.
fn settings(args: &Args) -> Result<Settings, String> {
    if !(args.keepalive_wait > 0.0
        && args.keepalive_wait < 3600.0
        && args.timeout > 0.0
        && args.timeout < 3600.0)
    {
        return Err("--keepalive-wait and --timeout must be between 0 and 3600 seconds".into());
    }
    Ok(Settings {
        timeout: Duration::from_secs_f64(args.timeout),
        keepalive_wait: Duration::from_secs_f64(args.keepalive_wait),
        max_burst_probe: args.max_burst_probe.max(1),
        max_streams_probe: args.max_streams_probe.max(1),
        ..Settings::default()
    })
}

/// The MCP path (`--mcp-path`, else the path of `--url` for the generic profiles, else
/// `/mcp`) and whether `--url` names the endpoint; refuses an endpoint URL where the
/// profile wants a base.
fn mcp_path(args: &Args, profile: Profile, io: &mut Io<'_>) -> Result<(String, bool), String> {
    let url_path = args
        .url
        .as_deref()
        .and_then(|u| url::Url::parse(u).ok())
        .map(|u| u.path().trim_end_matches('/').to_string())
        .unwrap_or_default();
    let mcp_path = match (&args.mcp_path, profile) {
        (Some(p), _) => p.clone(),
        // any MCP server: a path in --url is its MCP endpoint
        (None, Profile::Mcp | Profile::Oauth) if !url_path.is_empty() => {
            let _ = writeln!(
                io.err,
                "mcp-conformance: note: checking the MCP endpoint {url_path} (the path of --url; --mcp-path PATH to choose another)"
            );
            url_path.clone()
        }
        (None, _) => DEFAULT_MCP_PATH.to_string(),
    };
    let generic = matches!(profile, Profile::Mcp | Profile::Oauth);
    let url_is_endpoint = !url_path.is_empty()
        && (url_path == mcp_path
            || (!generic
                && ["/mcp", "/mcp/sse", "/mcp/messages"]
                    .iter()
                    .any(|p| url_path.ends_with(p))));
    if url_is_endpoint && !generic {
        let origin = args
            .url
            .as_deref()
            .and_then(|u| url::Url::parse(u).ok())
            .map(|u| u.origin().ascii_serialization())
            .unwrap_or_default();
        return Err(format!(
            "--url names an endpoint ({url_path}), but with --profile {profile} it is the base the paths /mcp, /mcp/sse and /mcp/messages are added to (a path is kept as a proxy prefix): use --url {origin}, or --profile mcp to check {url_path} as any MCP server's endpoint"
        ));
    }
    Ok((mcp_path, url_is_endpoint))
}

/// Notes the flags given that no check of `--profile mcp` reads.
fn note_unused_by_mcp(args: &Args, io: &mut Io<'_>) {
    let unused: Vec<&str> = [
        ("--allowed-origin", args.allowed_origin.is_some()),
        ("--expect-rps", args.expect_rps.is_some()),
        ("--expect-keepalive", args.expect_keepalive.is_some()),
        ("--expect-max-streams", args.expect_max_streams.is_some()),
        ("--max-streams-probe", args.max_streams_probe != 32),
    ]
    .into_iter()
    .filter_map(|(f, given)| given.then_some(f))
    .collect();
    if !unused.is_empty() {
        let _ = writeln!(
            io.err,
            "mcp-conformance: note: {} not used by --profile mcp (no check of it reads them)",
            unused.join(", ")
        );
    }
}

/// The checks `sel` selects; refuses an empty run (it would pass), naming the profiles
/// where the same flags select checks.
fn select_checks(all: Vec<Check>, sel: &Selection) -> Result<Vec<Check>, String> {
    let checks = select(all, sel);
    if !checks.is_empty() {
        return Ok(checks);
    }
    let profile = sel.profile;
    let elsewhere: Vec<String> = [
        Profile::Seed,
        Profile::Strict,
        Profile::Mcp,
        Profile::Claude,
        Profile::Oauth,
    ]
    .into_iter()
    .filter(|p| {
        *p != profile
            && !select(
                crate::checks::all(),
                &Selection {
                    profile: *p,
                    ..sel.clone()
                },
            )
            .is_empty()
    })
    .map(|p| format!("--profile {p}"))
    .collect();
    let hint = if elsewhere.is_empty() {
        String::new()
    } else {
        format!(" (they select checks with {})", elsewhere.join(" or "))
    };
    Err(format!(
        "no check to run: --profile {profile} with --only/--skip/--transport as given selects none{hint}; a run that checks nothing would pass (see --list --profile {profile})"
    ))
}

/// The target (from `--url`, or the embedded server), its label in the report, and the
/// embedded server to stop afterwards; then what every target takes from the flags.
async fn build_target(
    args: &Args,
    plan: &Plan,
    io: &mut Io<'_>,
) -> Result<(Target, String, Option<Embedded>), String> {
    let (mut target, label, embedded) = match &args.url {
        Some(url) => (url_target(args, url, plan, io)?, url.clone(), None),
        None => {
            let e = embedded_target(args, plan, io).await?;
            let label = format!("the embedded server at {}", e.target.base);
            let mut t = e.target.clone();
            t.transport = args.transport;
            (t, label, Some(e))
        }
    };
    target.extra_headers = plan.extra_headers.clone();
    target.ca_file = args.ca_file.clone();
    target.mcp_path = plan.mcp_path.clone();
    target.sse_path = args.sse_path.clone();
    // The embedded server's limits are expected unless a flag says otherwise.
    let e = &mut target.expect;
    e.burst = args.expect_burst.or(e.burst);
    e.rps = args.expect_rps.or(e.rps);
    e.keepalive = args
        .expect_keepalive
        .map(Duration::from_secs_f64)
        .or(e.keepalive);
    e.max_streams = args.expect_max_streams.or(e.max_streams);
    Ok((target, label, embedded))
}

/// The target at `--url`, with its keys (or OAuth token), header style, origin and log.
fn url_target(args: &Args, url: &str, plan: &Plan, io: &mut Io<'_>) -> Result<Target, String> {
    let profile = plan.profile;
    let mut base = match url::Url::parse(url) {
        Ok(u) if matches!(u.scheme(), "http" | "https") && u.host_str().is_some() => u,
        _ => return Err(format!("--url {url:?} is not an http(s) URL")),
    };
    // The key flags are read (and warned about) even when an OAuth token replaces them.
    let keys = match (&args.oauth_token, load_keys(args, io)) {
        (Some(token), _) => vec![token.clone()],
        (None, keys) => keys?,
    };
    if keys.is_empty() && profile != Profile::Oauth {
        return Err(
            "no key: set MCP_CONFORMANCE_KEYS (comma-separated) or pass --key-file PATH".into(),
        );
    }
    if keys.len() > 2 {
        let _ = writeln!(
            io.err,
            "mcp-conformance: note: using the first two of {} keys",
            keys.len()
        );
    }
    let keys: Vec<ApiKey> = keys
        .into_iter()
        .take(2)
        .enumerate()
        .map(|(i, k)| match args.oauth_token {
            // Reproductions name it by the variable it came from.
            Some(_) => ApiKey::named(k, "MCP_OAUTH_TOKEN"),
            None => ApiKey::new(k, i),
        })
        .collect();
    if plan.url_is_endpoint {
        base.set_path("/"); // the endpoint's path is --mcp-path now
    }
    let mut t = Target::new(base, keys);
    t.style = match (&args.oauth_token, profile) {
        (Some(_), _) | (None, Profile::Oauth) => HeaderStyle::Bearer,
        _ => args.header_style.unwrap_or_default(),
    };
    t.foreign_token = args
        .oauth_foreign_token
        .clone()
        .map(|f| ApiKey::named(f, "MCP_OAUTH_FOREIGN_TOKEN"));
    t.allowed_origin = args.allowed_origin.clone();
    t.transport = args.transport;
    t.settings = plan.settings.clone();
    t.log = match (&args.log_file, &args.log_command) {
        (Some(p), _) => LogSource::File(p.clone()),
        (None, Some(c)) => LogSource::Command(c.clone()),
        _ => LogSource::None,
    };
    Ok(t)
}

/// Without `--url`: the cfpb-mcp server embedded (not for `--profile oauth`).
async fn embedded_target(args: &Args, plan: &Plan, io: &mut Io<'_>) -> Result<Embedded, String> {
    if plan.profile == Profile::Oauth {
        return Err("--profile oauth checks an OAuth-protected server: pass its --url (the embedded server runs with API keys)".into());
    }
    if !args.key.is_empty()
        || args.key_file.is_some()
        || args.log_file.is_some()
        || args.log_command.is_some()
    {
        let _ = writeln!(
            io.err,
            "mcp-conformance: note: without --url the embedded server uses generated keys and its own log; key and log flags are ignored"
        );
    }
    crate::embedded::start(plan.settings.clone(), args.header_style.unwrap_or_default())
        .await
        .map_err(|e| format!("starting the embedded server: {e}"))
}

/// The run context, once the target answers `GET /health` (an unreachable target is exit
/// 2 before any check runs); with `--profile mcp` against a URL and no `--header-style`,
/// the credential style its 401 challenge asks for.
async fn connect(
    target: Target,
    label: &str,
    embedded: Option<&Embedded>,
    args: &Args,
    profile: Profile,
    io: &mut Io<'_>,
) -> Result<Ctx, String> {
    let mut ctx = Ctx::new(target).map_err(|e| e.to_string())?;
    let health = Probe::new("GET", ctx.url("/health"));
    if let Err(e) = ctx.send(&health, Pace::Free).await {
        return Err(format!("cannot reach {label}: {e}"));
    }
    if profile == Profile::Mcp && args.header_style.is_none() && embedded.is_none() {
        let note = detect_style(&mut ctx).await;
        let _ = writeln!(io.err, "mcp-conformance: note: {note}");
    }
    Ok(ctx)
}

/// Runs the plan's checks, with a progress line on a terminal's stderr.
async fn run_checks(ctx: Ctx, plan: &Plan, label: &str, io: &mut Io<'_>) -> Report {
    let err_tty = io.err_tty;
    let err = &mut *io.err;
    let mut progress = |i: usize, n: usize, id: &str| {
        if err_tty {
            if id.is_empty() {
                let _ = write!(err, "\r\x1b[2K");
            } else {
                let _ = write!(err, "\r\x1b[2K[{}/{}] {id}", i + 1, n);
            }
            let _ = err.flush();
        }
    };
    crate::engine::run(
        &ctx,
        &plan.checks,
        &plan.baseline,
        label,
        plan.profile,
        &mut progress,
    )
    .await
}

/// Writes the report (`--format`, to `--output` or stdout); returns the exit code.
fn write_report(args: &Args, report: &Report, io: &mut Io<'_>) -> i32 {
    let color = match args.color {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => std::env::var_os("NO_COLOR").is_none(),
    };
    let text = match args.format {
        Format::Human => {
            let tty = if args.output.is_some() {
                false
            } else {
                io.out_tty
            };
            crate::report::human(report, color && tty || args.color == ColorChoice::Always)
        }
        Format::Json => crate::report::json(report),
        Format::Junit => crate::report::junit(report),
    };
    match &args.output {
        Some(path) => {
            if let Err(e) = std::fs::write(path, text) {
                return fail2(io, &format!("writing {}: {e}", path.display()));
            }
            let _ = writeln!(
                io.err,
                "mcp-conformance: {} passed, {} failed, {} skipped; report in {}",
                report.count(Verdict::Pass),
                report.count(Verdict::Fail) + report.count(Verdict::XPass),
                report.count(Verdict::Skip),
                path.display()
            );
        }
        None => {
            let _ = io.out.write_all(text.as_bytes());
            let _ = io.out.flush();
        }
    }
    report.exit_code()
}

/// Sets the credential style from the target's 401 challenge to a keyless `initialize`
/// at the MCP path (`WWW-Authenticate: Bearer ...` -> bearer, else x-api-key); returns the
/// note saying what was chosen and the flag that overrides it.
async fn detect_style(ctx: &mut Ctx) -> String {
    use crate::client::streamable::{SESSION_VERSION, initialize_body};
    let probe = ctx.mcp_post(None, &initialize_body(SESSION_VERSION));
    let challenge = match ctx.send(&probe, Pace::AuthFail).await {
        Ok(r) if r.status == 401 => r.header("www-authenticate"),
        _ => None,
    };
    let bearer = challenge
        .as_deref()
        .is_some_and(|c| c.trim_start().to_ascii_lowercase().starts_with("bearer"));
    ctx.target.style = if bearer {
        HeaderStyle::Bearer
    } else {
        HeaderStyle::XApiKey
    };
    match (bearer, challenge.is_some()) {
        (true, _) => "credential sent as `Authorization: Bearer` (the 401 challenge asks for Bearer; --header-style x-api-key to override)".into(),
        (false, true) => "credential sent as `X-API-Key` (the 401 challenge names no Bearer scheme; --header-style bearer if the target takes `Authorization: Bearer`)".into(),
        (false, false) => "credential sent as `X-API-Key` (no 401 challenge to a keyless initialize to learn from; --header-style bearer if the target takes `Authorization: Bearer`)".into(),
    }
}
