//! Helpers for the end-to-end tests: find and start the real `cfpb-mcp`
//! binary on an ephemeral loopback port, capture its stderr (the audit log),
//! and speak MCP over HTTP+SSE with a minimal client of our own (never the
//! server's code, so a bug can't hide in shared code).

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::StreamExt;
use serde_json::Value;

pub mod cluster;
pub mod issuer;
pub mod nginx;
pub mod npm;
pub mod python;
pub mod redis;

/// Path of a workspace binary, building it first if needed.
pub fn binary(name: &str) -> PathBuf {
    // target/<profile>/deps/<test-exe> -> target/<profile>/<name>
    let exe = std::env::current_exe().expect("test executable path");
    let dir = exe.parent().and_then(|d| d.parent()).expect("target dir");
    let path = dir.join(name);
    if !path.exists() {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let status = Command::new(cargo)
            .args(["build", "--bin", name])
            .status()
            .expect("run cargo build");
        assert!(status.success(), "cargo build --bin {name} failed");
    }
    path
}

/// Held while one process installs packages into `dir` (an npm prefix, a
/// Python venv) and checks its marker: the test binaries run side by side
/// (`tests/run.sh`) and threads within one do too, and two installs into one
/// folder at once break it. An exclusive lock on `<dir>.lock` (flock),
/// released when the file is dropped.
pub fn install_lock(dir: &std::path::Path) -> std::fs::File {
    let mut name = dir.as_os_str().to_owned();
    name.push(".lock");
    if let Some(parent) = dir.parent() {
        std::fs::create_dir_all(parent).expect("create the install folder's parent");
    }
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&name)
        .expect("open the install lock file");
    file.lock().expect("lock the install folder");
    file
}

/// A loopback port that was free a moment ago (for a server whose other
/// settings must name its port before it starts).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

/// A test's external part (nginx, Redis, promtool, Node.js, Python, a package
/// registry) is missing. Where CI is set (the `CI` variable; `.ci/run` sets
/// it) that is a failure, so a CI run never passes by checking less; elsewhere
/// a loud `SKIP` line and the caller returns.
pub fn skip(reason: &str) {
    if std::env::var_os("CI").is_some() {
        panic!("{reason}: CI is set, so this test may not skip (.ci/run installs what it needs)");
    }
    eprintln!("SKIP {reason}");
}

/// Whether `host:port` accepts a TCP connection within 5 s (is a package registry there?).
pub fn reachable(host: &str, port: u16) -> bool {
    use std::net::{TcpStream, ToSocketAddrs};
    (host, port)
        .to_socket_addrs()
        .ok()
        .and_then(|mut addrs| addrs.next())
        .is_some_and(|addr| TcpStream::connect_timeout(&addr, Duration::from_secs(5)).is_ok())
}

/// A fresh random key, the way `cfpb-mcp keygen` makes them.
pub fn random_key() -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(rand::random::<[u8; 32]>())
}

/// A running `cfpb-mcp serve` process.
pub struct ServerProcess {
    child: Child,
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    /// `127.0.0.1:PORT`, as the `server_start` line gave it.
    pub listen: String,
    stderr: Arc<Mutex<Vec<String>>>,
    reader: Option<std::thread::JoinHandle<()>>,
}

impl ServerProcess {
    /// Start the binary with `args` and `env`, wait for its `server_start` line.
    pub fn start(args: &[&str], env: &[(&str, &str)]) -> Self {
        Self::start_with_log(args, env, None)
    }

    /// [`ServerProcess::start`], also appending every stderr line to
    /// `log_file` as it arrives (a harness given `--log-file` re-reads it
    /// while it runs, so the file must grow live, a whole line per write).
    pub fn start_with_log(
        args: &[&str],
        env: &[(&str, &str)],
        log_file: Option<&std::path::Path>,
    ) -> Self {
        let mut file = log_file.map(|path| {
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
                .expect("open the server log file")
        });
        let mut command = Command::new(binary("cfpb-mcp"));
        command.arg("serve");
        if !args.contains(&"--bind") {
            command.args(["--bind", "127.0.0.1:0"]);
        }
        let mut child = command
            .args(args)
            .env_remove("CFPB_MCP_API_KEYS_FILE")
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start cfpb-mcp");
        let stderr = child.stderr.take().expect("stderr");
        let lines = Arc::new(Mutex::new(Vec::new()));
        let (port_tx, port_rx) = std::sync::mpsc::channel();
        let sink = lines.clone();
        let reader = std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(file) = file.as_mut() {
                    use std::io::Write;
                    let _ = file.write_all(format!("{line}\n").as_bytes());
                }
                let start = serde_json::from_str::<Value>(&line)
                    .ok()
                    .filter(|v| v["event"] == "server_start");
                // Kept before `start` returns, so `lines()` has it.
                sink.lock().unwrap().push(line);
                if let Some(v) = start {
                    let _ = port_tx.send(v["listen"].as_str().unwrap_or_default().to_owned());
                }
            }
        });
        let listen = port_rx
            .recv_timeout(Duration::from_secs(30))
            .unwrap_or_else(|_| {
                panic!("no server_start line; stderr: {:?}", lines.lock().unwrap())
            });
        Self {
            child,
            base: format!("http://{listen}"),
            listen,
            stderr: lines,
            reader: Some(reader),
        }
    }

    /// The server's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The server's resident memory now, in KiB (Linux `/proc`).
    pub fn rss_kib(&self) -> u64 {
        self.status_kib("VmRSS:")
    }

    /// The most the server's resident memory has been, in KiB.
    pub fn peak_rss_kib(&self) -> u64 {
        self.status_kib("VmHWM:")
    }

    fn status_kib(&self, field: &str) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid()))
            .expect("/proc/PID/status");
        status
            .lines()
            .find_map(|l| l.strip_prefix(field))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap_or_else(|| panic!("a {field} line"))
    }

    /// Send a signal by name (`TERM`, `HUP`).
    pub fn signal(&self, name: &str) {
        let status = Command::new("kill")
            .args([format!("-{name}"), self.child.id().to_string()])
            .status()
            .expect("kill");
        assert!(status.success());
    }

    /// SIGTERM, wait for exit (bounded), return the exit code and every stderr line.
    pub fn stop(mut self) -> (Option<i32>, Vec<String>) {
        self.signal("TERM");
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        let status = loop {
            if let Some(status) = self.child.try_wait().expect("wait") {
                break status;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "server did not exit after SIGTERM"
            );
            std::thread::sleep(Duration::from_millis(20));
        };
        if let Some(reader) = self.reader.take() {
            let _ = reader.join();
        }
        let lines = self.stderr.lock().unwrap().clone();
        (status.code(), lines)
    }

    /// Every stderr line so far.
    pub fn lines(&self) -> Vec<String> {
        self.stderr_lines()
    }

    pub fn stderr_lines(&self) -> Vec<String> {
        self.stderr.lock().unwrap().clone()
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One SSE event as our minimal reader sees it.
#[derive(Debug, Clone, PartialEq)]
pub enum SseItem {
    Event { event: String, data: String },
    Comment(String),
}

/// A minimal SSE client over reqwest's byte stream.
pub struct SseStream {
    pub response_headers: reqwest::header::HeaderMap,
    pub status: reqwest::StatusCode,
    stream: futures::stream::BoxStream<'static, reqwest::Result<bytes::Bytes>>,
    buffer: String,
}

impl SseStream {
    pub async fn open(client: &reqwest::Client, url: &str, key: &str) -> Self {
        Self::open_with(client, url, ("X-API-Key", key)).await
    }

    /// [`SseStream::open`] with the credential in `header` (name, value).
    pub async fn open_with(client: &reqwest::Client, url: &str, header: (&str, &str)) -> Self {
        let response = client
            .get(url)
            .header(header.0, header.1)
            .header("Accept", "text/event-stream")
            .send()
            .await
            .expect("GET /mcp/sse");
        Self {
            status: response.status(),
            response_headers: response.headers().clone(),
            stream: response.bytes_stream().boxed(),
            buffer: String::new(),
        }
    }

    /// The next event or comment, waiting at most `within`.
    pub async fn next(&mut self, within: Duration) -> Option<SseItem> {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            if let Some(end) = self.buffer.find("\n\n") {
                let block: String = self.buffer.drain(..end + 2).collect();
                let mut event = String::from("message");
                let mut data = Vec::new();
                let mut comment = None;
                for line in block.lines() {
                    if let Some(c) = line.strip_prefix(':') {
                        comment = Some(c.trim().to_owned());
                    } else if let Some(v) = line.strip_prefix("event:") {
                        event = v.trim().to_owned();
                    } else if let Some(v) = line.strip_prefix("data:") {
                        data.push(v.strip_prefix(' ').unwrap_or(v).to_owned());
                    }
                }
                if data.is_empty() {
                    if let Some(c) = comment {
                        return Some(SseItem::Comment(c));
                    }
                    continue;
                }
                return Some(SseItem::Event {
                    event,
                    data: data.join("\n"),
                });
            }
            let chunk = tokio::time::timeout_at(deadline, self.stream.next())
                .await
                .ok()??
                .ok()?;
            self.buffer.push_str(&String::from_utf8_lossy(&chunk));
        }
    }

    /// Does the server end the stream within `within`? Events and comments
    /// on the way are read and dropped. Unlike [`SseStream::next`] returning
    /// `None`, which also means "nothing within the wait", `true` here is the
    /// end of the body itself (or a broken connection).
    pub async fn ends_within(&mut self, within: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + within;
        self.buffer.clear();
        loop {
            match tokio::time::timeout_at(deadline, self.stream.next()).await {
                Err(_) => return false,
                Ok(None | Some(Err(_))) => return true,
                Ok(Some(Ok(_))) => continue,
            }
        }
    }

    /// The next `message` event's JSON, skipping comments.
    pub async fn next_message(&mut self, within: Duration) -> Option<Value> {
        loop {
            match self.next(within).await? {
                SseItem::Event { event, data } if event == "message" => {
                    return serde_json::from_str(&data).ok();
                }
                _ => continue,
            }
        }
    }
}

/// POST one JSON-RPC message; returns the HTTP status and body.
pub async fn post(client: &reqwest::Client, url: &str, key: &str, body: &Value) -> (u16, String) {
    let response = client
        .post(url)
        .header("X-API-Key", key)
        .header("Content-Type", "application/json")
        .body(body.to_string())
        .send()
        .await
        .expect("POST");
    let status = response.status().as_u16();
    (status, response.text().await.unwrap_or_default())
}

/// The first 8 hex characters of sha256(key), as the audit log names a key.
pub fn key_prefix(key: &str) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(key.as_bytes()))[..8].to_owned()
}
