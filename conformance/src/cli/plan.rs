//! The flags validated into a `Plan` (profile, baseline, settings, the selected checks,
//! the MCP path, the extra headers), each refusal a message for exit 2, in the order they
//! have always come in. Reads files and the environment (the baseline, the headers);
//! never touches the network, never prints a header's value.

use super::args::Args;
use super::io::Io;
use crate::engine::{Baseline, Check, Profile, Selection, parse_baseline, select};
use crate::key::ExtraHeader;
use crate::target::{DEFAULT_MCP_PATH, Settings};
use std::time::Duration;

/// What the flags ask for, validated: everything but the target itself.
pub(super) struct Plan {
    pub(super) profile: Profile,
    pub(super) baseline: Baseline,
    pub(super) settings: Settings,
    /// The selected checks, in run order (never empty).
    pub(super) checks: Vec<Check>,
    pub(super) mcp_path: String,
    /// `--url` names the MCP endpoint itself (its path becomes `mcp_path`).
    pub(super) url_is_endpoint: bool,
    pub(super) extra_headers: Vec<ExtraHeader>,
}

/// Validates the flags into a `Plan`, in the order the messages have always come in;
/// `Err` is the message of exit 2. Writes notes (the MCP path chosen, unused flags).
pub(super) fn plan(args: &Args, all: Vec<Check>, io: &mut Io<'_>) -> Result<Plan, String> {
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
pub(super) fn load_baseline(args: &Args) -> Result<Baseline, String> {
    match &args.baseline {
        Some(p) => std::fs::read_to_string(p)
            .map_err(|e| e.to_string())
            .and_then(|t| parse_baseline(&t))
            .map_err(|e| format!("--baseline {}: {e}", p.display())),
        None => Ok(Default::default()),
    }
}

/// The timing settings from `--timeout`, `--keepalive-wait` and the probe limits.
pub(super) fn settings(args: &Args) -> Result<Settings, String> {
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
pub(super) fn mcp_path(
    args: &Args,
    profile: Profile,
    io: &mut Io<'_>,
) -> Result<(String, bool), String> {
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
pub(super) fn note_unused_by_mcp(args: &Args, io: &mut Io<'_>) {
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
pub(super) fn select_checks(all: Vec<Check>, sel: &Selection) -> Result<Vec<Check>, String> {
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

/// Loads the extra headers from --header, or MCP_CONFORMANCE_HEADERS (one `Name: value`
/// per line, `#` comments). Errors name a header, never its value.
pub(super) fn load_headers(args: &Args) -> Result<Vec<ExtraHeader>, String> {
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
