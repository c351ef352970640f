//! The target and the connection: from `--url` (keys or an OAuth token, header style,
//! origin, log source) or the embedded server, then the run context once the target
//! answers `GET /health`, and the credential style a `--profile mcp` target's 401 asks
//! for. Keys are read here (flags, file or environment) and never printed.

use super::args::Args;
use super::io::Io;
use super::plan::Plan;
use crate::client::{Ctx, Pace, Probe};
use crate::embedded::Embedded;
use crate::engine::Profile;
use crate::key::{ApiKey, HeaderStyle, parse_key_list};
use crate::target::{LogSource, Target};
use std::time::Duration;

/// The target (from `--url`, or the embedded server), its label in the report, and the
/// embedded server to stop afterwards; then what every target takes from the flags.
pub(super) async fn build_target(
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
pub(super) fn url_target(
    args: &Args,
    url: &str,
    plan: &Plan,
    io: &mut Io<'_>,
) -> Result<Target, String> {
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
pub(super) async fn embedded_target(
    args: &Args,
    plan: &Plan,
    io: &mut Io<'_>,
) -> Result<Embedded, String> {
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
pub(super) async fn connect(
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

/// Sets the credential style from the target's 401 challenge to a keyless `initialize`
/// at the MCP path (`WWW-Authenticate: Bearer ...` -> bearer, else x-api-key); returns the
/// note saying what was chosen and the flag that overrides it.
pub(super) async fn detect_style(ctx: &mut Ctx) -> String {
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

/// Loads keys from --key, --key-file, or MCP_CONFORMANCE_KEYS (in that order).
pub(super) fn load_keys(args: &Args, io: &mut Io<'_>) -> Result<Vec<String>, String> {
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
