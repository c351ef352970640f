//! TLS trust (`--ca-file`, `MCP_CONFORMANCE_CA_FILE`, the system store via `SSL_CERT_FILE`):
//! the CLI binary against the stub behind a TLS front whose certificate a test CA signed.
//! Trusted, the checks pass over TLS (a raw-socket probe included); not trusted, the run
//! stops at once (exit 2) with a TLS trust error naming the fix; a CA file that holds no
//! certificate, or a different CA, is refused too.

mod support;

use std::path::Path;
use std::process::Output;
use support::stub::{self, Fault};
use support::tls::{TestCa, TlsFront};

/// The stub's health, and the near-miss keys (some sent on a raw TLS socket).
const ONLY: &str = "EP-health,AUTH-3.near-miss";

async fn cli(url: &str, args: &[&str], env: &[(&str, &Path)]) -> Output {
    let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_mcp-conformance"));
    cmd.args([
        "--url",
        url,
        "--only",
        ONLY,
        "--timeout",
        "5",
        "--color",
        "never",
    ])
    .args(args)
    .env(
        "MCP_CONFORMANCE_KEYS",
        format!("{},{}", stub::KEY1, stub::KEY2),
    )
    .env_remove("MCP_CONFORMANCE_CA_FILE")
    .env_remove("SSL_CERT_FILE")
    .env_remove("SSL_CERT_DIR");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().await.unwrap()
}

fn text(o: &Output) -> String {
    format!(
        "exit {:?}\nstdout:\n{}\nstderr:\n{}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trusted_by_ca_file_env_or_system_store_and_refused_otherwise() {
    let s = stub::start(Fault::None).await;
    let ca = TestCa::generate("mcp-conformance test CA");
    let front = TlsFront::start(s.addr, ca.server_config()).await;
    let url = format!("https://127.0.0.1:{}", front.addr.port());
    let dir = tempfile::tempdir().unwrap();
    let ca_file = dir.path().join("ca.pem");
    std::fs::write(&ca_file, &ca.ca_pem).unwrap();
    let ca_arg = ca_file.to_str().unwrap();

    // --ca-file: trusted, and the checks pass over TLS.
    let o = cli(&url, &["--ca-file", ca_arg], &[]).await;
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("2 passed"),
        "{}",
        text(&o)
    );
    // The same from the environment, and from the system store (SSL_CERT_FILE).
    for var in ["MCP_CONFORMANCE_CA_FILE", "SSL_CERT_FILE"] {
        let o = cli(&url, &[], &[(var, &ca_file)]).await;
        assert_eq!(o.status.code(), Some(0), "{var}: {}", text(&o));
    }

    // Not trusted: exit 2 before any check, naming the fix.
    let o = cli(&url, &[], &[]).await;
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        err.contains("cannot reach")
            && err.contains("not trusted")
            && err.contains("--ca-file PATH")
            && err.contains("SSL_CERT_FILE"),
        "{}",
        text(&o)
    );
    // Another CA's certificate doesn't make it trusted.
    let other = dir.path().join("other.pem");
    std::fs::write(&other, TestCa::generate("another CA").ca_pem).unwrap();
    let o = cli(&url, &["--ca-file", other.to_str().unwrap()], &[]).await;
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(String::from_utf8_lossy(&o.stderr).contains("--ca-file PATH"));

    // A CA file without a certificate, or missing: exit 2 naming the file.
    let empty = dir.path().join("empty.pem");
    std::fs::write(&empty, "no certificate here\n").unwrap();
    let missing = dir.path().join("missing.pem");
    for (path, why) in [(&empty, "no PEM certificate"), (&missing, "No such file")] {
        let o = cli(&url, &["--ca-file", path.to_str().unwrap()], &[]).await;
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{}", text(&o));
        assert!(
            err.contains("--ca-file") && err.contains(why),
            "{}",
            text(&o)
        );
    }
}
