//! A real `redis-server` (the Debian package) on a loopback port the test
//! picks, with no persistence and its files in a tempdir; stoppable and
//! restartable on the same port (to test the server's fallback, CLUSTER-5).
//! Its users are docker-compose.yml's (CLUSTER-10): the replicas log in as
//! `cfpb-mcp` (its keys and channels only, no admin command), the default
//! user may only PING; the test itself looks and acts as `admin`.

use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// `redis-server` on `PATH` or in Debian's place; `None` when not installed.
pub fn redis_binary() -> Option<PathBuf> {
    let on_path = std::env::var_os("PATH").into_iter().flat_map(|p| {
        std::env::split_paths(&p)
            .map(|d| d.join("redis-server"))
            .collect::<Vec<_>>()
    });
    on_path
        .chain([PathBuf::from("/usr/bin/redis-server")])
        .find(|p| p.is_file())
}

/// The password of the `cfpb-mcp` user.
pub const PASSWORD: &str = "replicas-test-redis-password-83c1f0";
const ADMIN_PASSWORD: &str = "replicas-test-admin-password-5b2e97";

/// A running Redis, killed on drop.
pub struct Redis {
    bin: PathBuf,
    child: Option<Child>,
    pub port: u16,
    dir: tempfile::TempDir,
}

impl Redis {
    pub fn start(bin: PathBuf) -> Self {
        let mut redis = Self {
            bin,
            child: None,
            port: crate::free_port(),
            dir: tempfile::tempdir().expect("tempdir for redis"),
        };
        redis.run();
        redis
    }

    /// The replicas' URL: `redis://cfpb-mcp:PASSWORD@127.0.0.1:PORT/0`.
    pub fn url(&self) -> String {
        format!("redis://cfpb-mcp:{PASSWORD}@127.0.0.1:{}/0", self.port)
    }

    /// A plain (blocking) connection as `admin`, to look into Redis or act
    /// on it.
    pub fn connection(&self) -> redis::Connection {
        let url = format!("redis://admin:{ADMIN_PASSWORD}@127.0.0.1:{}/0", self.port);
        redis::Client::open(url)
            .and_then(|c| c.get_connection())
            .expect("a connection to the test's redis-server")
    }

    fn run(&mut self) {
        let child = Command::new(&self.bin)
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1"])
            .args([
                "--save",
                "",
                "--appendonly",
                "no",
                "--protected-mode",
                "yes",
            ])
            .arg("--dir")
            .arg(self.dir.path())
            // docker-compose.yml's ACL, and an admin for the test.
            .args([
                "--user",
                "default",
                "on",
                "nopass",
                "resetchannels",
                "-@all",
                "+ping",
            ])
            .args([
                "--user",
                "cfpb-mcp",
                "on",
                &format!(">{PASSWORD}"),
                "resetchannels",
            ])
            .args(["~cfpb-mcp:*", "&cfpb-mcp:*", "+@all", "-@dangerous"])
            .args(["--user", "admin", "on", &format!(">{ADMIN_PASSWORD}")])
            .args(["~*", "&*", "+@all"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start redis-server");
        self.child = Some(child);
        let addr = SocketAddr::from(([127, 0, 0, 1], self.port));
        let deadline = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_err() {
            assert!(Instant::now() < deadline, "redis-server did not listen");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Kill it (its data is gone: nothing is persisted).
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Start it again on the same port, empty.
    pub fn restart(&mut self) {
        self.stop();
        self.run();
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        self.stop();
    }
}
