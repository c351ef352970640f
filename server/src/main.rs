//! `cfpb-mcp`: the command line. Parses flags, then runs the server until
//! SIGTERM/SIGINT (graceful, exit 0), reloading keys on SIGHUP; or prints a
//! key (`keygen`); or probes `/health` (`health`, for container health checks).

use std::process::ExitCode;
use std::time::Duration;

use cfpb_mcp_server::cli::{ArgsError, Cli, Command, HealthArgs, ServeArgs};
use cfpb_mcp_server::config::ConfigError;
use cfpb_mcp_server::identity::keys::ApiKey;
use cfpb_mcp_server::{Server, StartError};
use clap::Parser;

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Some(Command::Keygen) => {
            println!("{}", ApiKey::generate().expose_secret());
            ExitCode::SUCCESS
        }
        Some(Command::Health(args)) => health(args),
        Some(Command::Serve(args)) => serve(*args),
        None => serve(cli.serve),
    }
}

fn fail(message: &str) -> ExitCode {
    eprintln!(
        "{}",
        serde_json::json!({ "event": "server_error", "error": message })
    );
    ExitCode::from(2)
}

fn runtime() -> std::io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
}

fn serve(args: ServeArgs) -> ExitCode {
    let config = match args.into_config() {
        Ok(c) => c,
        Err(ArgsError::Keys(e)) => {
            return fail(&StartError::from(ConfigError::Keys(e)).to_string());
        }
        Err(e) => return fail(&e.to_string()),
    };
    let runtime = match runtime() {
        Ok(r) => r,
        Err(e) => return fail(&format!("could not start the runtime: {e}")),
    };
    runtime.block_on(async move {
        let server = match Server::bind(config).await {
            Ok(server) => server,
            Err(e) => return fail(&e.to_string()),
        };
        if let Err(e) = server.wait_for_signals().await {
            return fail(&format!("could not install signal handlers: {e}"));
        }
        server.shutdown().await;
        ExitCode::SUCCESS
    })
}

fn health(args: HealthArgs) -> ExitCode {
    let Ok(runtime) = runtime() else {
        return ExitCode::FAILURE;
    };
    let ok = runtime.block_on(async move {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(args.timeout_secs))
            .build()
            .ok()?;
        let response = client.get(args.url).send().await.ok()?;
        let status = response.status();
        let body = response.text().await.ok()?;
        Some(status == reqwest::StatusCode::OK && body == r#"{"status":"ok"}"#)
    });
    if ok == Some(true) {
        ExitCode::SUCCESS
    } else {
        eprintln!("unhealthy");
        ExitCode::FAILURE
    }
}
