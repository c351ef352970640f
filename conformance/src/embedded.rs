//! Embedded mode: starts the server library on an ephemeral loopback port with generated
//! keys and the fixtures data, captures its audit log in memory, and stops it afterwards.
//! The harness only embeds the server here; no check ever calls the server's code.

use crate::key::HeaderStyle;
use crate::target::{Settings, Target};

/// A running embedded server and the target that points at it.
pub struct Embedded {
    pub target: Target,
}

/// Starts the embedded server.
pub async fn start(_settings: Settings, _style: HeaderStyle) -> Result<Embedded, String> {
    Err("this build has no embedded server yet: pass --url".into())
}

impl Embedded {
    /// Stops the server gracefully (ends streams, flushes the log).
    pub async fn stop(self) {}
}
