//! The replicas' wire format as docs/contract.md states it (CLUSTER-9,
//! CLUSTER-10), written again here from the text, not taken from the
//! server: keyed digests, and sealed pub/sub messages, so a test can forge
//! (or correctly sign) what an attacker with Redis access (or the secret)
//! would publish, and check what the replicas put into Redis.

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// The cluster secret the replicas of tests/replicas.rs share.
pub const SECRET: &str = "replicas-test-secret-4f9c2a7e1b83d6054ca1e9b7f3d2068a";

/// HMAC-SHA256 keyed with `secret` over `parts`, each prefixed with its
/// length as 8 big-endian bytes.
pub fn mac(secret: &str, parts: &[&[u8]]) -> [u8; 32] {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("any key length");
    for part in parts {
        mac.update(&(part.len() as u64).to_be_bytes());
        mac.update(part);
    }
    mac.finalize().into_bytes().into()
}

/// A keyed digest: the first 16 bytes of `mac(domain, data)`, hex.
pub fn digest(secret: &str, domain: &str, data: &str) -> String {
    hex::encode(&mac(secret, &[domain.as_bytes(), data.as_bytes()])[..16])
}

/// The digest of an API key as the server names it in-process (sha256 hex).
pub fn key_digest(key: &str) -> String {
    use sha2::Digest;
    hex::encode(Sha256::digest(key.as_bytes()))
}

/// `body` sealed for `channel`: `v1.<mac hex>.<{"ts","nonce","body"}>`.
pub fn seal(secret: &str, channel: &str, body: &serde_json::Value, ts_ms: u64) -> String {
    let json = serde_json::json!({
        "ts": ts_ms,
        "nonce": hex::encode(rand::random::<[u8; 16]>()),
        "body": body,
    })
    .to_string();
    let tag = mac(secret, &[channel.as_bytes(), json.as_bytes()]);
    format!("v1.{}.{json}", hex::encode(tag))
}

/// Milliseconds since the epoch.
pub fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}
