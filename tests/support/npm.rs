//! npm packages for the tests that run Node.js programs (the official conformance suite,
//! the official TypeScript SDK's server): installed once under a `target/` prefix with a
//! marker file, reused by later runs. Without npm, or when the npm registry can't be
//! reached, the caller gets `None` and prints a loud SKIP (a failure where CI is set,
//! `crate::skip`); any other install failure
//! fails the test.

use std::path::{Path, PathBuf};
use std::process::Command;

/// `target/<name>` of the workspace.
pub fn target_dir(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../target")
        .join(name)
}

/// `packages` installed under `prefix` (once; later runs reuse it), or `None` without
/// npm or without the registry (the reason printed).
pub fn install(prefix: &Path, packages: &[&str]) -> Option<()> {
    let _installing = crate::install_lock(prefix);
    let marker = prefix.join(format!(
        "installed-{}",
        packages.join("+").replace('/', "_")
    ));
    if marker.exists() {
        return Some(());
    }
    if Command::new("npm").arg("--version").output().is_err() {
        crate::skip(&format!(
            "npm is not installed, cannot install {packages:?}"
        ));
        return None;
    }
    std::fs::create_dir_all(prefix).ok()?;
    let status = Command::new("npm")
        .args([
            "install",
            "--no-audit",
            "--no-fund",
            "--loglevel=error",
            "--prefix",
        ])
        .arg(prefix)
        .args(packages)
        .status()
        .ok()?;
    if !status.success() {
        if !crate::reachable("registry.npmjs.org", 443) {
            crate::skip(&format!(
                "the npm registry (registry.npmjs.org:443) is unreachable, cannot install {packages:?}"
            ));
            return None;
        }
        panic!("npm install {packages:?} failed although the registry is reachable");
    }
    std::fs::write(&marker, b"").ok()?;
    Some(())
}
