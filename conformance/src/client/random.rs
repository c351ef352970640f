//! Random values the harness sends: session ids no server has issued (docs/contract.md
//! MSG-2, HTTP-3) and markers that find the harness's own lines in a log.

/// A random 32-hex session id no server has issued.
pub fn random_session_id() -> String {
    use rand::Rng;
    let mut b = [0u8; 16];
    rand::rng().fill(&mut b);
    hex::encode(b)
}
