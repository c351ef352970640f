//! The exact error bodies the contract fixes (docs/contract.md "Error bodies": AUTH-3,
//! RATE-2, MSG-2 and HTTP-3, NET-2), byte for byte as the server must send them.

pub const AUTH_BODY: &str = r#"{"error":{"type":"auth","message":"Missing or invalid API key"}}"#;
pub const RATE_BODY: &str = r#"{"error":{"type":"rate_limit","message":"Too many requests"}}"#;
pub const NOT_FOUND_BODY: &str = r#"{"error":{"type":"not_found","message":"Unknown session"}}"#;
pub const FORBIDDEN_BODY: &str = r#"{"error":{"type":"forbidden","message":"Origin not allowed"}}"#;
