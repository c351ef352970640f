//! A real nginx (the Debian package) in front of the real server, as a stand-in
//! for the Cloudflare Tunnel or any reverse proxy an operator adds: started by
//! the test on loopback with everything (pid, logs, temp paths) inside a
//! tempdir, so it never touches /etc or /var. The server's log for the
//! harness's `--log-file` comes from [`crate::ServerProcess::start_with_log`].
//! A TLS variant terminates TLS with a certificate of a test CA generated here
//! (rcgen) and speaks HTTP/2 to clients that offer it, as the Cloudflare edge
//! does; the origin side stays HTTP/1.1.

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use futures::StreamExt;
use serde_json::Value;

use crate::SseStream;

/// The nginx binary: on `PATH`, or Debian's `/usr/sbin/nginx` (not on a
/// non-root `PATH`). `None` when nginx is not installed.
pub fn nginx_binary() -> Option<PathBuf> {
    let on_path = std::env::var_os("PATH").into_iter().flat_map(|p| {
        std::env::split_paths(&p)
            .map(|d| d.join("nginx"))
            .collect::<Vec<_>>()
    });
    on_path
        .chain([PathBuf::from("/usr/sbin/nginx")])
        .find(|p| p.is_file())
}

/// What varies between the proxies the tests put in front of the server.
#[derive(Clone, Debug)]
pub struct ProxyConfig {
    /// `gzip_types` (gzip is on, for proxied responses too, from 1 byte).
    pub gzip_types: String,
    /// Extra directives in the proxying `location`.
    pub location_extra: String,
    /// Terminate TLS with this certificate and speak HTTP/2 (ALPN `h2`, HTTP/1.1 for
    /// clients that don't offer it); `None` = plain HTTP/1.1.
    pub tls: Option<TlsFiles>,
    /// Spread requests round-robin (no affinity) over these `HOST:PORT`s
    /// instead of the one upstream `Nginx::start` is given.
    pub round_robin: Vec<String>,
}

/// A test CA and a server certificate for `127.0.0.1` / `localhost` it signed, as
/// PEM files in a directory.
#[derive(Clone, Debug)]
pub struct TlsFiles {
    /// The CA certificate (what the harness's `--ca-file` is given).
    pub ca: PathBuf,
    pub cert: PathBuf,
    pub key: PathBuf,
}

impl TlsFiles {
    /// Generates a CA named `name` and a server certificate into `dir`.
    pub fn generate(dir: &Path, name: &str) -> Self {
        use rcgen::{
            BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair,
            KeyUsagePurpose,
        };
        let mut ca = CertificateParams::new(Vec::<String>::new()).expect("CA params");
        ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        ca.distinguished_name.push(DnType::CommonName, name);
        let ca = CertifiedIssuer::self_signed(ca, KeyPair::generate().expect("CA key"))
            .expect("self-signed CA");
        let key = KeyPair::generate().expect("server key");
        let mut leaf =
            CertificateParams::new(vec!["localhost".to_string(), "127.0.0.1".to_string()])
                .expect("server params");
        leaf.distinguished_name
            .push(DnType::CommonName, "localhost");
        let cert = leaf.signed_by(&key, &ca).expect("server certificate");
        let files = Self {
            ca: dir.join("ca.pem"),
            cert: dir.join("server.pem"),
            key: dir.join("server.key"),
        };
        std::fs::write(&files.ca, ca.pem()).expect("write CA");
        std::fs::write(&files.cert, cert.pem()).expect("write certificate");
        std::fs::write(&files.key, key.serialize_pem()).expect("write key");
        files
    }
}

impl ProxyConfig {
    /// What a careful operator writes: HTTP/1.1 to the origin (as cloudflared
    /// speaks it), proxy buffering left at its default (on), gzip on for text
    /// types, room for the server's own 1 MiB body limit to answer, and the
    /// server's `X-Accel-Buffering` forwarded (nginx acts on it and, unless
    /// told otherwise, removes it from the response).
    pub fn operator() -> Self {
        Self {
            gzip_types: "text/plain application/json".into(),
            location_extra: "proxy_pass_header X-Accel-Buffering;".into(),
            tls: None,
            round_robin: Vec::new(),
        }
    }

    /// The operator's proxy as a TLS front speaking HTTP/2, with `files`.
    pub fn operator_tls(files: TlsFiles) -> Self {
        Self {
            tls: Some(files),
            ..Self::operator()
        }
    }

    fn render(&self, dir: &Path, listen: u16, upstream: &str) -> String {
        let d = dir.display();
        let (listen_flags, tls) = match &self.tls {
            Some(t) => (
                " ssl http2",
                format!(
                    "ssl_certificate {};\n        ssl_certificate_key {};",
                    t.cert.display(),
                    t.key.display()
                ),
            ),
            None => ("", String::new()),
        };
        let (upstream_block, upstream) = if self.round_robin.is_empty() {
            (String::new(), upstream.to_owned())
        } else {
            let servers: String = self
                .round_robin
                .iter()
                .map(|s| format!("server {s};\n        "))
                .collect();
            (
                format!("upstream replicas {{\n        {servers}}}"),
                "replicas".to_owned(),
            )
        };
        format!(
            r#"daemon off;
master_process off;
worker_processes 1;
pid {d}/nginx.pid;
error_log {d}/error.log info;
events {{ worker_connections 256; }}
http {{
    # The protocol each request came in with (HTTP/2.0 through the TLS front).
    log_format proto '$server_protocol $request_method $uri $status';
    access_log {d}/access.log proto;
    client_body_temp_path {d}/client_body;
    proxy_temp_path {d}/proxy;
    fastcgi_temp_path {d}/fastcgi;
    uwsgi_temp_path {d}/uwsgi;
    scgi_temp_path {d}/scgi;
    default_type application/octet-stream;

    gzip on;
    gzip_types {gzip_types};
    gzip_proxied any;
    gzip_min_length 1;

    # nginx's default (1m) would answer the server's own 1 MiB + 1 byte check
    # (MSG-3) with an HTML 413 before the request reaches the server.
    client_max_body_size 2m;

    {upstream_block}

    server {{
        listen 127.0.0.1:{listen}{listen_flags};
        {tls}
        location / {{
            proxy_pass http://{upstream};
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            {extra}
        }}
    }}
}}
"#,
            gzip_types = self.gzip_types,
            extra = self.location_extra,
        )
    }
}

/// A running nginx, killed (and its tempdir removed) on drop.
pub struct Nginx {
    child: Child,
    pub base: String,
    dir: tempfile::TempDir,
}

impl Nginx {
    /// Starts `bin` proxying to `upstream` (`127.0.0.1:PORT`) on a free
    /// loopback port; waits until the port accepts connections.
    pub fn start(bin: &Path, upstream: &str, config: &ProxyConfig) -> Self {
        let mut last_error = String::new();
        for _attempt in 0..5 {
            let dir = tempfile::tempdir().expect("tempdir for nginx");
            let port = free_port();
            let conf = dir.path().join("nginx.conf");
            std::fs::write(&conf, config.render(dir.path(), port, upstream)).expect("write conf");
            let stderr = std::fs::File::create(dir.path().join("stderr.log")).expect("stderr");
            let mut child = Command::new(bin)
                .arg("-c")
                .arg(&conf)
                .arg("-p")
                .arg(dir.path())
                .arg("-e")
                .arg(dir.path().join("error.log"))
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(stderr)
                .spawn()
                .expect("start nginx");
            let deadline = Instant::now() + Duration::from_secs(10);
            let addr = SocketAddr::from(([127, 0, 0, 1], port));
            loop {
                if let Some(status) = child.try_wait().expect("wait nginx") {
                    last_error = format!(
                        "nginx exited ({status}): {}{}",
                        read(dir.path().join("stderr.log")),
                        read(dir.path().join("error.log"))
                    );
                    break;
                }
                if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
                    let scheme = if config.tls.is_some() {
                        "https"
                    } else {
                        "http"
                    };
                    return Self {
                        child,
                        base: format!("{scheme}://127.0.0.1:{port}"),
                        dir,
                    };
                }
                if Instant::now() > deadline {
                    let _ = child.kill();
                    let _ = child.wait();
                    panic!(
                        "nginx did not accept on 127.0.0.1:{port} within 10 s: {}",
                        read(dir.path().join("error.log"))
                    );
                }
                std::thread::sleep(Duration::from_millis(25));
            }
            if !last_error.contains("Address already in use") {
                break;
            }
        }
        panic!("nginx did not start: {last_error}");
    }

    /// nginx's access log so far: `PROTOCOL METHOD URI STATUS` per line.
    pub fn access_log(&self) -> String {
        read(self.dir.path().join("access.log"))
    }

    /// nginx's error log so far (for failure messages).
    pub fn error_log(&self) -> String {
        read(self.dir.path().join("error.log"))
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn read(path: PathBuf) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

/// A port that was free a moment ago (bind 127.0.0.1:0, then release it).
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("bind 127.0.0.1:0")
        .port()
}

/// `GET url` with exactly these extra headers (the key header among them),
/// read as an SSE stream by the crate's minimal reader. Panics if the
/// response head takes more than 10 s (a proxy may hold it back with the body).
pub async fn open_sse_with(
    client: &reqwest::Client,
    url: &str,
    headers: &[(&str, &str)],
) -> SseStream {
    let mut request = client.get(url).header("Accept", "text/event-stream");
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = tokio::time::timeout(Duration::from_secs(10), request.send())
        .await
        .expect("no response head to GET /mcp/sse within 10 s")
        .expect("GET /mcp/sse");
    SseStream {
        status: response.status(),
        response_headers: response.headers().clone(),
        stream: response.bytes_stream().boxed(),
        buffer: String::new(),
    }
}

/// The outcome of one `mcp-conformance` run.
#[derive(Debug)]
pub struct HarnessRun {
    pub code: Option<i32>,
    /// The JSON report (`--format json --output`); `Null` if none was written.
    pub report: Value,
    pub stderr: String,
    pub elapsed: Duration,
}

impl HarnessRun {
    /// The status (`pass`, `fail`, `skip`, ...) of check `id`, if it ran.
    pub fn status(&self, id: &str) -> Option<&str> {
        self.report["checks"]
            .as_array()?
            .iter()
            .find(|c| c["id"] == id)?["status"]
            .as_str()
    }

    /// A human summary: the totals, and every check that did not pass with
    /// what it expected and observed (the report never holds a key).
    pub fn summary(&self) -> String {
        let mut s = format!(
            "mcp-conformance exit code {:?} after {:.1}s; summary {}\nstderr: {}\n",
            self.code,
            self.elapsed.as_secs_f64(),
            self.report["summary"],
            self.stderr.trim()
        );
        for c in self.report["checks"].as_array().into_iter().flatten() {
            if c["status"] != "pass" {
                s.push_str(&format!(
                    "  {:<5} {:<20} {}\n",
                    c["status"].as_str().unwrap_or("?"),
                    c["id"].as_str().unwrap_or("?"),
                    c["title"].as_str().unwrap_or("")
                ));
                for field in ["expected", "observed", "why"] {
                    if let Some(v) = c[field].as_str() {
                        s.push_str(&format!("        {field}: {v}\n"));
                    }
                }
            }
        }
        s
    }
}

/// Runs the `mcp-conformance` binary against `url` with `keys` (passed in
/// `MCP_CONFORMANCE_KEYS`, never on the command line), `extra` flags, and a
/// JSON report in `dir`. Killed if it runs longer than `limit`.
pub fn run_harness(
    url: &str,
    keys: &[&str],
    dir: &Path,
    name: &str,
    extra: &[&str],
    limit: Duration,
) -> HarnessRun {
    let report_path = dir.join(format!("{name}.json"));
    let stderr_path = dir.join(format!("{name}.stderr"));
    let start = Instant::now();
    let mut child = Command::new(crate::binary("mcp-conformance"))
        .args([
            "--url", url, "--format", "json", "--color", "never", "--output",
        ])
        .arg(&report_path)
        .args(extra)
        .env("MCP_CONFORMANCE_KEYS", keys.join(","))
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&stderr_path).expect("stderr file"))
        .spawn()
        .expect("start mcp-conformance");
    let deadline = start + limit;
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait mcp-conformance") {
            break Some(status);
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    HarnessRun {
        code: status.and_then(|s| s.code()),
        report: std::fs::read_to_string(&report_path)
            .ok()
            .and_then(|t| serde_json::from_str(&t).ok())
            .unwrap_or(Value::Null),
        stderr: read(stderr_path),
        elapsed: start.elapsed(),
    }
}

impl SseStream {
    /// The next body chunk as it came off the wire (compressed or not), or
    /// `None` when the stream ended or failed.
    pub async fn next_raw_chunk(&mut self) -> Option<bytes::Bytes> {
        self.stream.next().await?.ok()
    }
}
