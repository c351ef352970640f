//! [`Link`]: the command connection to Redis and whether it works now.
//!
//! Every command runs within [`COMMAND_TIMEOUT`]; the first failure marks the
//! link down (one `redis_state` line), and while it is down no request waits
//! on Redis at all: callers get `None` at once and fall back to local state.
//! A background probe ([`Link::probe`], once a second) marks it up again. So
//! a lost Redis costs one timeout per in-flight request, then nothing: never
//! a 5xx storm (CLUSTER-5 in docs/contract.md).

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};

use super::url::RedisUrl;
use crate::audit::{AuditLog, Event};

/// The longest one Redis command may take before the link counts as down.
pub const COMMAND_TIMEOUT: Duration = Duration::from_millis(250);
/// How long connecting may take (at start, and on each reconnect).
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);

/// Redis could not be reached at start.
#[derive(Debug, thiserror::Error)]
#[error("CFPB_MCP_REDIS_URL: cannot reach Redis at {url}: {why}")]
pub struct Unreachable {
    pub url: RedisUrl,
    pub why: String,
}

pub struct Link {
    url: RedisUrl,
    conn: ConnectionManager,
    up: AtomicBool,
    audit: AuditLog,
}

impl Link {
    /// Connect and `PING` once, or fail naming the URL without credentials.
    pub async fn connect(url: RedisUrl, audit: AuditLog) -> Result<Self, Unreachable> {
        let fail = |url: &RedisUrl, why: String| Unreachable {
            why: scrub(url, why),
            url: url.clone(),
        };
        let client = redis::Client::open(url.expose()).map_err(|e| fail(&url, e.to_string()))?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(CONNECT_TIMEOUT))
            .set_response_timeout(Some(COMMAND_TIMEOUT))
            .set_number_of_retries(1);
        let conn = tokio::time::timeout(
            CONNECT_TIMEOUT * 2,
            client.get_connection_manager_with_config(config),
        )
        .await
        .map_err(|_| fail(&url, "timed out".into()))?
        .map_err(|e| fail(&url, e.to_string()))?;
        let link = Self {
            url,
            conn,
            up: AtomicBool::new(true),
            audit,
        };
        let pong: Result<String, String> = link.raw(redis::cmd("PING")).await;
        pong.map_err(|why| fail(&link.url, why))?;
        Ok(link)
    }

    pub fn url(&self) -> &RedisUrl {
        &self.url
    }

    pub fn is_up(&self) -> bool {
        self.up.load(Ordering::Acquire)
    }

    /// Run `cmd` if the link is up: `None` when it is down or the command
    /// fails (which marks it down).
    pub async fn run<T: redis::FromRedisValue>(&self, cmd: redis::Cmd) -> Option<T> {
        if !self.is_up() {
            return None;
        }
        match self.raw(cmd).await {
            Ok(value) => Some(value),
            Err(why) => {
                self.mark(false, Some(why));
                None
            }
        }
    }

    /// Run a script invocation if the link is up (as [`Link::run`]).
    pub async fn eval<T: redis::FromRedisValue>(
        &self,
        invocation: &redis::ScriptInvocation<'_>,
    ) -> Option<T> {
        if !self.is_up() {
            return None;
        }
        let mut conn = self.conn.clone();
        let result =
            tokio::time::timeout(COMMAND_TIMEOUT, invocation.invoke_async(&mut conn)).await;
        match result {
            Ok(Ok(value)) => Some(value),
            Ok(Err(e)) => {
                self.mark(false, Some(scrub(&self.url, e.to_string())));
                None
            }
            Err(_) => {
                self.mark(false, Some("timed out".into()));
                None
            }
        }
    }

    /// While down: one `PING`; marks the link up when it answers.
    pub async fn probe(&self) {
        if self.is_up() {
            return;
        }
        if self.raw::<String>(redis::cmd("PING")).await.is_ok() {
            self.mark(true, None);
        }
    }

    /// The command, bounded in time, whatever the link's state.
    async fn raw<T: redis::FromRedisValue>(&self, cmd: redis::Cmd) -> Result<T, String> {
        let mut conn = self.conn.clone();
        match tokio::time::timeout(COMMAND_TIMEOUT, cmd.query_async(&mut conn)).await {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(e)) => Err(scrub(&self.url, e.to_string())),
            Err(_) => Err("timed out".into()),
        }
    }

    /// Record a state change: one `redis_state` line per change, never more.
    pub fn mark(&self, up: bool, error: Option<String>) {
        if self.up.swap(up, Ordering::AcqRel) != up {
            self.audit.write(&Event::RedisState {
                state: if up { "up" } else { "down" },
                url: self.url.to_string(),
                error,
            });
        }
    }
}

/// A client error with the URL's password taken out, should it quote it.
fn scrub(url: &RedisUrl, text: String) -> String {
    match url.password() {
        Some(password) => text.replace(password, "***"),
        None => text,
    }
}
