//! Random values the harness sends: session ids no server has issued (docs/contract.md
//! MSG-2, HTTP-3), wrong keys (AUTH-3, HTTP-6, HTTP-2026-11) and markers that find the
//! harness's own lines in a log.

/// A random 32-hex session id no server has issued.
pub fn random_session_id() -> String {
    use rand::Rng;
    let mut b = [0u8; 16];
    rand::rng().fill(&mut b);
    hex::encode(b)
}

/// A wrong key: the alphabet of a real one, `len` long (at least 8), random.
pub fn wrong_key(len: usize) -> String {
    use rand::Rng;
    const A: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    let mut rng = rand::rng();
    (0..len.max(8))
        .map(|_| A[rng.random_range(0..A.len())] as char)
        .collect()
}
