//! The guard: everything that stands between the internet and the MCP session
//! (NET-2, AUTH-*, RATE-1..6 in docs/contract.md).
//!
//! [`Guard`] (in `gate`) is its one door: `check(headers, peer)`, body
//! scrubbing (AUTH-7) and key reload. Its steps are pure functions or small
//! types, each in its own file: `origin` (NET-2), `extract` (AUTH-1/3),
//! `methods` (OAUTH-1..5: which verifier a credential goes to, the OAuth
//! challenge and resource metadata), `limit` (RATE-1..6). What it uses of
//! the layers below: the keys, their digests and the redactor
//! (`crate::identity`), the client's address behind the tunnel
//! (`crate::http::proxy`, RATE-6). A presented key never leaves this
//! module in clear: past the guard a caller is known by its
//! [`KeyDigest`](crate::identity::keys::KeyDigest) and its loggable
//! [`KeyId`](crate::identity::keys::KeyId).

pub(crate) mod extract;
mod gate;
pub(crate) mod limit;
pub(crate) mod methods;
pub(crate) mod origin;

pub use gate::{Admitted, Guard, GuardError, MISPLACED_KEY, Refusal, ReloadError, body_holds_key};
