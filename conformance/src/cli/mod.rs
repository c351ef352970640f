//! The command line: parses flags, loads keys (environment or file by default, so they stay
//! out of `ps` and shell history), builds the target (a URL, or the embedded server), runs
//! the selected checks with a progress line, and writes the report. Exit codes: 0 nothing
//! failed, 1 a check failed, 2 bad invocation or unreachable target.
//! Must never print a key or an extra header's value: messages name keys only as
//! `$MCP_KEY` / `$MCP_KEY2`, and extra headers by name.

mod args;
mod connect;
mod io;
mod plan;

pub use args::{Args, ColorChoice};
pub use io::Io;

use crate::client::Ctx;
use crate::engine::{Check, Report, Selection, Verdict, select, unknown_patterns};
use crate::report::Format;
use clap::Parser;
use connect::{build_target, connect};
use io::fail2;
use plan::{Plan, plan};
use std::io::{IsTerminal, Write};

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
