//! Who a request is (AUTH-2/5, LOG-2, OAUTH-1..5 in docs/contract.md): the
//! credentials and the one caller identity every method comes down to.
//!
//! - [`keys`]: API keys (parsing, digests, constant-time verification, the
//!   key set) and [`keys::KeyDigest`] / [`keys::KeyId`], how a caller is
//!   named past the guard;
//! - `redact`: every encoding of every key, scrubbed from text (LOG-2);
//! - `jwt`: an OAuth 2.1 access token (a JWT from the configured issuer,
//!   RFC 9068 / RFC 8707) or a Cloudflare Access assertion
//!   (`Cf-Access-Jwt-Assertion`), checked against the issuer's published
//!   keys; never our own crypto (`jsonwebtoken`), never `none` or HMAC.
//!
//! A leaf: it imports nothing of the server's, so the guard, the cluster,
//! the configuration and the audit log can all depend on it. A token
//! never leaves it: what comes out is a [`Verified`] (a digest of the
//! issuer and subject, the method, the scopes), never the token.

mod caller;
mod jwt;
pub mod keys;
pub(crate) mod redact;

pub use caller::{AuthMethod, Verified, subject_digest};
pub use jwt::{JwtRules, JwtVerifier, TokenError};
