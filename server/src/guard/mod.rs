//! The guard: everything that stands between the internet and the MCP session
//! (NET-2, AUTH-*, RATE-1..6 in docs/contract.md).
//!
//! [`Guard`] (in `gate`) is its one door: `check(headers, peer)`, body
//! scrubbing (AUTH-7) and key reload. Its steps are pure functions or small
//! types, each in its own file: [`origin`] (NET-2), [`extract`] (AUTH-1/3),
//! [`keys`] (AUTH-2/5: parsing, digests, constant-time verification),
//! [`methods`] (OAUTH-1..5: which verifier a credential goes to, the OAuth
//! challenge and resource metadata),
//! [`limit`] (RATE-1..6), [`proxy`] (the client's address behind the
//! tunnel, RATE-6), [`redact`] (LOG-2: every encoding of every key). A
//! presented key never leaves this module in clear: past the guard a caller
//! is known by its [`keys::KeyDigest`] and its loggable [`keys::KeyId`].

pub mod extract;
mod gate;
pub mod keys;
pub mod limit;
pub mod methods;
pub mod origin;
pub mod proxy;
pub mod redact;

pub use gate::{Admitted, Guard, GuardError, MISPLACED_KEY, Refusal, ReloadError, body_holds_key};
