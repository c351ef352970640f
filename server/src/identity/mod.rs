//! Who a request is (OAUTH-1..5 in docs/contract.md): the verifiers of the
//! bearer credentials that are not API keys, and the one caller identity
//! every method comes down to.
//!
//! - [`jwt`]: an OAuth 2.1 access token (a JWT from the configured issuer,
//!   RFC 9068 / RFC 8707) or a Cloudflare Access assertion
//!   (`Cf-Access-Jwt-Assertion`), checked against the issuer's published
//!   keys; never our own crypto (`jsonwebtoken`), never `none` or HMAC.
//!
//! A leaf: it imports nothing of the server's but the standard crates, so
//! the guard, the cluster and the audit log can all depend on it. A token
//! never leaves it: what comes out is a [`Verified`] (a digest of the
//! issuer and subject, the method, the scopes), never the token.

mod caller;
pub mod jwt;

pub use caller::{AuthMethod, Verified, subject_digest};
pub use jwt::{JwtRules, JwtVerifier, TokenError};
