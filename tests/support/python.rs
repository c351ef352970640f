//! A Python virtual environment with the official MCP Python SDK, for tests
//! that drive the server with a real client: created once under
//! `target/python/mcp-<version>/`, `pip install mcp==<version>`, and reused
//! by later runs (a marker file records a finished install; one test at a
//! time sets it up). Without
//! `python3`, or when PyPI can't be reached, the caller gets `None` and the
//! test prints a clear SKIP (a failure where CI is set, `crate::skip`); any other install failure fails the test.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The SDK pin: the newest 2.3.x release on PyPI when this was written.
pub const MCP_SDK_VERSION: &str = "2.3.0";

fn target_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target")
}

/// The venv's `python` with `mcp==MCP_SDK_VERSION` installed, or `None` (with
/// the reason printed) when it can't be had on this machine.
pub fn python_with_mcp() -> Option<PathBuf> {
    let venv = target_dir()
        .join("python")
        .join(format!("mcp-{MCP_SDK_VERSION}"));
    // Tests on parallel threads and test binaries side by side: one creates
    // the venv, the others wait and reuse it (two `venv` runs into one
    // folder at once fail).
    let _one_at_a_time = crate::install_lock(&venv);
    let python = venv.join("bin").join("python");
    let marker = venv.join(".installed");
    if marker.exists() && python.exists() {
        return Some(python);
    }
    if Command::new("python3").arg("--version").output().is_err() {
        crate::skip("python3 is not installed");
        return None;
    }
    if !python.exists() {
        let status = Command::new("python3")
            .args(["-m", "venv"])
            .arg(&venv)
            .status()
            .expect("run python3 -m venv");
        assert!(
            status.success(),
            "python3 -m venv {} failed",
            venv.display()
        );
    }
    let installed = pip_install(&python);
    if !installed {
        if !crate::reachable("pypi.org", 443) {
            crate::skip(&format!(
                "PyPI (pypi.org:443) is unreachable, cannot install mcp=={MCP_SDK_VERSION}"
            ));
            return None;
        }
        panic!("pip install mcp=={MCP_SDK_VERSION} failed although PyPI is reachable");
    }
    std::fs::write(&marker, MCP_SDK_VERSION).expect("write the install marker");
    Some(python)
}

fn pip_install(python: &Path) -> bool {
    Command::new(python)
        .args([
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
        ])
        .arg(format!("mcp=={MCP_SDK_VERSION}"))
        .status()
        .is_ok_and(|status| status.success())
}
