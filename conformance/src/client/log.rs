//! The log source: the audit log text written since the run started (embedded buffer,
//! file, or a command such as `docker compose logs`), its lines as JSON objects, and the
//! LOG capture: the traffic the LOG checks look for (docs/contract.md LOG-1, LOG-2),
//! generated once per run, with the log read after it. Never prints a line that may hold
//! a key; the traffic carries the key where a careless server might log it (headers, the
//! query string, and in every encoding inside a tool argument and as a tool name).

use super::ctx::Ctx;
use super::error::ClientError;
use super::facts::Capture;
use super::pacer::Pace;
use super::probe::{HeaderSpec, Probe};
use super::random::random_session_id;
use crate::target::LogSource;
use serde_json::{Value, json};
use std::time::{Duration, Instant};

impl Ctx {
    /// The log text written since the run started; `Ok(None)` when there is no log source.
    pub async fn read_log(&self) -> Result<Option<String>, ClientError> {
        match &self.target.log {
            LogSource::None => Ok(None),
            LogSource::Memory(buf) => {
                Ok(Some(String::from_utf8_lossy(&buf.contents()).into_owned()))
            }
            LogSource::File(path) => {
                let bytes = tokio::fs::read(path)
                    .await
                    .map_err(|e| ClientError::Log(format!("reading {}: {e}", path.display())))?;
                let start = if (bytes.len() as u64) >= self.log_start {
                    self.log_start as usize
                } else {
                    0
                };
                Ok(Some(String::from_utf8_lossy(&bytes[start..]).into_owned()))
            }
            LogSource::Command(cmd) => {
                let out = tokio::time::timeout(
                    self.timeout() * 3,
                    tokio::process::Command::new("sh")
                        .arg("-c")
                        .arg(cmd)
                        .kill_on_drop(true)
                        .output(),
                )
                .await
                .map_err(|_| ClientError::Log("the log command did not finish in time".into()))?
                .map_err(|e| ClientError::Log(format!("running the log command: {e}")))?;
                let mut text = String::from_utf8_lossy(&out.stdout).into_owned();
                text.push_str(&String::from_utf8_lossy(&out.stderr));
                Ok(Some(text))
            }
        }
    }

    /// Whether log lines may carry a prefix before the JSON (docker compose logs).
    pub fn log_lines_prefixed(&self) -> bool {
        matches!(self.target.log, LogSource::Command(_))
    }

    /// Reads the log every 200 ms and shows it to `look` until `look` is `Done`, or
    /// `--timeout` has passed since the watch began (then what it said last).
    pub async fn watch_log<T>(
        &self,
        mut look: impl FnMut(&str) -> Seen<T>,
    ) -> Result<T, ClientError> {
        let deadline = Instant::now() + self.timeout();
        loop {
            let text = self.read_log().await?.unwrap_or_default();
            match look(&text) {
                Seen::Done(t) => return Ok(t),
                Seen::NotYet(t) if Instant::now() >= deadline => return Ok(t),
                Seen::NotYet(_) => {}
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
}

/// What one look at the log found: `Done` ends the watch; `NotYet` is what stands if the
/// time runs out before the next look.
pub enum Seen<T> {
    Done(T),
    NotYet(T),
}

/// The log lines as (line number, JSON value or the parse problem).
pub fn parse_lines(ctx: &Ctx, log: &str) -> Vec<(usize, Result<Value, ClientError>)> {
    let prefixed = ctx.log_lines_prefixed();
    log.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .filter_map(|(i, l)| {
            let text = if prefixed {
                &l[l.find('{')?..] // e.g. `server-1  | {...}`: lines without JSON are skipped
            } else {
                l
            };
            let v = serde_json::from_str::<Value>(text)
                .map_err(|_| ClientError::LogLine("not JSON"))
                .and_then(|v| {
                    if v.is_object() {
                        Ok(v)
                    } else {
                        Err(ClientError::LogLine("not a JSON object"))
                    }
                });
            Some((i + 1, v))
        })
        .collect()
}

/// The lines that parse as JSON objects.
pub fn objects(ctx: &Ctx, log: &str) -> Vec<Value> {
    parse_lines(ctx, log)
        .into_iter()
        .filter_map(|(_, v)| v.ok())
        .collect()
}

impl Ctx {
    /// The LOG capture: generated on first use (the traffic, then the log read after it),
    /// the same for every later caller.
    pub async fn log_capture(&self) -> Result<Capture, ClientError> {
        self.capture.get_or_init(|| generate(self)).await.clone()
    }
}

async fn generate(ctx: &Ctx) -> Result<Capture, ClientError> {
    let key = ctx.key(0).ok_or(ClientError::NoKey)?;
    let marker = format!("conformance-{}", &random_session_id()[..12]);
    let mut s = ctx
        .open_mcp(0)
        .await
        .map_err(|e| e.during("opening an MCP session"))?;
    let session_id = s.session_id().unwrap_or_default();
    s.request(
        ctx,
        "tools/call",
        json!({"name":"search_complaints","arguments":{"search_term":marker,"size":1}}),
    )
    .await
    .map_err(|e| e.during("tools/call"))?;
    // The keys (in every encoding) in a tool argument and as a tool name (LOG-2).
    let key_marker = format!("conformance-{}", &random_session_id()[..12]);
    s.tool_calls_with_keys(ctx, &key_marker).await;
    drop(s);
    // Requests that carry the key where a careless server might log it.
    let sid = random_session_id();
    let path = format!("/mcp/messages?session_id={sid}");
    let ping = r#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#;
    let basic = {
        use base64::Engine;
        base64::engine::general_purpose::STANDARD.encode(format!("user:{}", key.expose()))
    };
    let pct: String = key.expose().bytes().map(|b| format!("%{b:02X}")).collect();
    let probes = [
        (
            Probe::new("POST", ctx.url(&path)).json(ping),
            Pace::AuthFail,
        ),
        (
            Probe::new("POST", ctx.url(&path))
                .header(HeaderSpec::bearer(key))
                .json(ping),
            Pace::Key(0),
        ),
        (
            Probe::new("POST", ctx.url(&format!("{path}&api_key={}", key.expose())))
                .header(HeaderSpec::x_api_key(key))
                .json(ping),
            Pace::Key(0),
        ),
        (
            Probe::new("POST", ctx.url(&path))
                .header(HeaderSpec::secret(
                    "Authorization",
                    format!("Basic {basic}").into_bytes(),
                    "Basic ...".into(),
                ))
                .json(ping),
            Pace::AuthFail,
        ),
        (
            Probe::new("POST", ctx.url(&path))
                .header(HeaderSpec::secret(
                    "X-API-Key",
                    pct.into_bytes(),
                    "...".into(),
                ))
                .json(ping),
            Pace::AuthFail,
        ),
    ];
    for (p, pace) in &probes {
        let _ = ctx.send(p, *pace).await;
    }
    // Wait for the lines (the audit writer is asynchronous; the stream end is noticed at
    // the server's next keep-alive write at the latest).
    let deadline = Instant::now() + ctx.target.settings.keepalive_wait + ctx.timeout();
    let mut log = String::new();
    while Instant::now() < deadline {
        log = ctx.read_log().await?.unwrap_or_default();
        let objs = objects(ctx, &log);
        let has_call = objs.iter().any(|o| o.to_string().contains(&marker))
            && objs.iter().any(|o| o.to_string().contains(&key_marker));
        let has_end = objs.iter().any(|o| {
            o.get("event") == Some(&json!("mcp_stream_end"))
                && o.to_string()
                    .contains(&session_id[..8.min(session_id.len())])
        });
        let has_none = objs.iter().any(|o| o.get("key") == Some(&json!("none")));
        if has_call && has_end && has_none {
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    Ok(Capture {
        marker,
        session_id,
        log,
    })
}

/// How to look at the log source yourself (a reproduction).
pub fn log_repro(ctx: &Ctx) -> String {
    match &ctx.target.log {
        LogSource::File(p) => format!("tail -n 50 '{}'", p.display()),
        LogSource::Command(c) => c.clone(),
        _ => "# the embedded server's audit log (run with --format json to see the lines)".into(),
    }
}
