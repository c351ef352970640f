//! The guard: everything that stands between the internet and the MCP session.
//!
//! Each step is a pure function or a small type, run in this order for every
//! request to a guarded route (ARCHITECTURE.md, "one request's path"):
//! [`origin`] (NET-2) -> [`extract`] (AUTH-1/3) -> [`keys`] verification
//! (AUTH-5) -> [`limit`] (RATE-1..6). A presented key never leaves this module
//! in clear: past the guard a caller is known by its [`keys::KeyDigest`] and
//! its loggable [`keys::KeyId`].

pub mod extract;
pub mod keys;
pub mod limit;
pub mod origin;
pub mod redact;
