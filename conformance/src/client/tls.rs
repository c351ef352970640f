//! Which TLS servers the harness trusts, the same for both of its clients (reqwest and the
//! raw sender): the compiled-in web roots, the system trust store (`rustls-native-certs`,
//! which honours `SSL_CERT_FILE` and `SSL_CERT_DIR`), and the CA certificates of
//! `--ca-file` (a local TLS front, a corporate proxy's CA). Also the one wording of a
//! trust failure, naming the fix. Never turns verification off.

use super::error::ClientError;
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;
use std::path::Path;
use std::sync::Arc;

/// What a failed certificate check is told to do.
pub const TRUST_FIX: &str = "the target's TLS certificate is not trusted: pass --ca-file PATH (or MCP_CONFORMANCE_CA_FILE) with the PEM of the CA that signed it, or add that CA to the system trust store (SSL_CERT_FILE is honoured)";

/// The certificates in a PEM file (`--ca-file`); an error when it can't be read or holds
/// none.
pub fn load_ca_file(path: &Path) -> Result<Vec<CertificateDer<'static>>, ClientError> {
    let what = format!("--ca-file {}", path.display());
    let bytes = std::fs::read(path).map_err(|e| ClientError::Setup(format!("{what}: {e}")))?;
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(&bytes)
        .collect::<Result<_, _>>()
        .map_err(|e| ClientError::Setup(format!("{what}: not PEM certificates: {e:?}")))?;
    if certs.is_empty() {
        return Err(ClientError::Setup(format!(
            "{what}: no PEM certificate (-----BEGIN CERTIFICATE-----) in it"
        )));
    }
    Ok(certs)
}

/// The raw sender's TLS configuration: web roots, system roots, and `extra`.
pub fn raw_tls_config(
    extra: &[CertificateDer<'static>],
) -> Result<Arc<rustls::ClientConfig>, ClientError> {
    let mut roots = rustls::RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    // An unreadable system store leaves the other roots (reqwest does the same).
    let native = rustls_native_certs::load_native_certs();
    let _ = roots.add_parsable_certificates(native.certs);
    for cert in extra {
        roots
            .add(cert.clone())
            .map_err(|e| ClientError::Setup(format!("--ca-file: {e}")))?;
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map(|b| Arc::new(b.with_root_certificates(roots).with_no_client_auth()))
        .map_err(|e| ClientError::Setup(format!("TLS setup: {e}")))
}

/// `extra` as reqwest root certificates (its web and system roots are on by feature).
pub fn reqwest_roots(
    extra: &[CertificateDer<'static>],
) -> Result<Vec<reqwest::Certificate>, ClientError> {
    extra
        .iter()
        .map(|c| {
            reqwest::Certificate::from_der(c.as_ref())
                .map_err(|e| ClientError::Setup(format!("--ca-file: {e}")))
        })
        .collect()
}

/// `text` (a transport error) with the fix appended when it is a certificate failure.
pub fn with_trust_hint(text: String) -> String {
    let t = text.to_ascii_lowercase();
    let untrusted = [
        "unknownissuer",
        "invalid peer certificate",
        "certificate verify failed",
        "badsignature",
        "unknown ca",
    ]
    .iter()
    .any(|m| t.contains(m));
    if untrusted {
        format!("{text} ({TRUST_FIX})")
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_certificate_failure_names_the_fix_and_others_do_not() {
        let e = with_trust_hint(
            "error sending request: invalid peer certificate: UnknownIssuer".into(),
        );
        assert!(
            e.contains("--ca-file") && e.contains("SSL_CERT_FILE"),
            "{e}"
        );
        let e = with_trust_hint("connection refused".into());
        assert!(!e.contains("--ca-file"), "{e}");
    }

    #[test]
    fn a_ca_file_without_certificates_is_refused() {
        let dir = std::env::temp_dir().join(format!("mcp-conformance-ca-{}", std::process::id()));
        std::fs::write(&dir, "not a certificate\n").unwrap();
        let e = load_ca_file(&dir).unwrap_err().to_string();
        let _ = std::fs::remove_file(&dir);
        assert!(e.contains("no PEM certificate"), "{e}");
        let e = load_ca_file(Path::new("/nonexistent/ca.pem"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("--ca-file /nonexistent/ca.pem"), "{e}");
    }
}
