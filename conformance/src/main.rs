//! The `mcp-conformance` binary: a thin wrapper over `mcp_conformance::cli`.
//! Must stay free of logic; everything testable lives in the library.

fn main() {
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("mcp-conformance: cannot start the async runtime: {e}");
            std::process::exit(2);
        }
    };
    let code = runtime.block_on(mcp_conformance::cli::main_with_args(
        std::env::args_os().collect(),
    ));
    std::process::exit(code);
}
