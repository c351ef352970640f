//! Judges a sample of session ids a target issued (the `mcp` profile's MCP-SESSION-2):
//! every id visible ASCII (the MCP spec's 0x21..0x7E), all distinct, an estimated entropy
//! of at least the profile's bits (128 for our strict contract, 122 for any MCP server: a
//! v4 UUID from a CSPRNG, the MCP spec's own example, passes), and no id a decodable encoding of state (JSON, a counter, ids that
//! share a long prefix or count up). Pure: strings in, a finding out; never prints an id
//! whole (ids are capabilities), only its length and what was found.

use base64::Engine;

/// The estimated entropy an id must reach under our contract (the strict profile).
pub const STRICT_MIN_BITS: f64 = 128.0;
/// The estimated entropy an id of any MCP server must reach (the `mcp` profile): a v4
/// UUID (122 random bits from a CSPRNG, estimated at 124 since its version nibble never
/// varies) passes, in either form (`8-4-4-4-12` or the 32 hex of `uuid4().hex`); OWASP asks
/// for 64. Guessable or structured ids still fail on the other rules.
pub const GENERIC_MIN_BITS: f64 = 122.0;
/// The longest common prefix all sampled ids may share (a random 32-hex id shares even one
/// character with 7 others with probability 16^-7).
pub const MAX_SHARED_PREFIX: usize = 4;

/// Character classes, smallest first: an id's alphabet is the first that holds every
/// character seen at a varying position.
const CLASSES: &[(&str, f64)] = &[
    ("0123456789", 10.0),
    ("0123456789abcdef", 16.0),
    ("0123456789ABCDEF", 16.0),
    ("0123456789abcdefABCDEF", 22.0),
    ("0123456789abcdefghijklmnopqrstuvwxyz", 36.0),
    ("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ", 36.0),
    (
        "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ",
        62.0,
    ),
    (
        "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-_",
        64.0,
    ),
    (
        "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ+/=",
        65.0,
    ),
];

/// Estimated entropy of one id in bits, from a sample of ids of the same length: the
/// positions that vary across the sample, times log2 of the smallest character class
/// holding every character seen at them. Positions that never vary (a UUID's dashes and
/// version nibble, a shared prefix) count nothing. Ids of different lengths: the shortest.
pub fn estimated_bits(ids: &[&str]) -> f64 {
    let Some(len) = ids.iter().map(|i| i.len()).min() else {
        return 0.0;
    };
    let varying: Vec<usize> = (0..len)
        .filter(|&p| {
            let first = ids[0].as_bytes()[p];
            ids.iter().any(|i| i.as_bytes()[p] != first)
        })
        .collect();
    let seen: Vec<u8> = ids
        .iter()
        .flat_map(|i| varying.iter().map(move |&p| i.as_bytes()[p]))
        .collect();
    let size = CLASSES
        .iter()
        .find(|(chars, _)| seen.iter().all(|b| chars.as_bytes().contains(b)))
        .map(|c| c.1)
        .unwrap_or(94.0);
    varying.len() as f64 * size.log2()
}

/// The bytes an id decodes to, if it is hex or base64 (standard or URL-safe, padded or
/// not) of at least 4 bytes.
fn decodings(id: &str) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    if id.len().is_multiple_of(2)
        && let Ok(b) = hex::decode(id)
    {
        out.push(b);
    }
    use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
    for engine in [STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD] {
        if let Ok(b) = engine.decode(id)
            && b.len() >= 4
        {
            out.push(b);
        }
    }
    out
}

/// What a decoded id reveals, if anything: JSON (an encoding of state), or a small number
/// (a counter: a decimal id, or decoded bytes whose first half is zero).
fn encodes_state(id: &str) -> Option<&'static str> {
    if id.len() < 20 && id.bytes().all(|b| b.is_ascii_digit()) {
        return Some("a decimal number");
    }
    for b in decodings(id) {
        if serde_json::from_slice::<serde_json::Value>(&b)
            .is_ok_and(|v| v.is_object() || v.is_array())
        {
            return Some("JSON (decoded)");
        }
        if b.len() >= 4 && b[..b.len() / 2].iter().all(|&x| x == 0) {
            return Some("a small number (decoded)");
        }
    }
    None
}

/// Whether the ids, decoded (hex, else base64) and read as big-endian numbers (their last
/// 16 bytes), increase in issue order by less than 2^64 each time: a counter or a clock
/// (random 128-bit ids do that with probability 2^-64 per step).
fn counts_up(ids: &[String]) -> bool {
    let values: Vec<Option<u128>> = ids
        .iter()
        .map(|id| {
            let b = decodings(id).into_iter().next()?;
            let tail = &b[b.len().saturating_sub(16)..];
            Some(tail.iter().fold(0u128, |v, &x| (v << 8) | u128::from(x)))
        })
        .collect();
    values.windows(2).all(|w| match (w[0], w[1]) {
        (Some(a), Some(b)) => b > a && b - a < (1u128 << 64),
        _ => false,
    })
}

/// The problem with a sample of issued session ids, if any, given the entropy they must
/// reach (`STRICT_MIN_BITS` or `GENERIC_MIN_BITS`).
pub fn judge(ids: &[String], min_bits: f64) -> Option<String> {
    if ids.len() < 2 {
        return Some(format!(
            "{} id(s) to judge; at least 2 are needed",
            ids.len()
        ));
    }
    for (n, id) in ids.iter().enumerate() {
        if id.is_empty() || !id.bytes().all(|b| (0x21..=0x7e).contains(&b)) {
            return Some(format!(
                "id {} ({} bytes) has a character outside visible ASCII (0x21..0x7E)",
                n + 1,
                id.len()
            ));
        }
        if let Some(what) = encodes_state(id) {
            return Some(format!("id {} ({} chars) is {what}", n + 1, id.len()));
        }
    }
    let mut distinct: Vec<&String> = ids.iter().collect();
    distinct.sort();
    distinct.dedup();
    if distinct.len() != ids.len() {
        return Some(format!(
            "{} distinct ids in {} sessions",
            distinct.len(),
            ids.len()
        ));
    }
    if counts_up(ids) {
        return Some(format!(
            "the {} ids, decoded as numbers, count up in small steps in issue order",
            ids.len()
        ));
    }
    let shared = (0..ids.iter().map(String::len).min().unwrap_or(0))
        .take_while(|&p| ids.iter().all(|i| i.as_bytes()[p] == ids[0].as_bytes()[p]))
        .count();
    if shared > MAX_SHARED_PREFIX {
        return Some(format!(
            "all {} ids share a prefix of {shared} characters",
            ids.len()
        ));
    }
    let refs: Vec<&str> = ids.iter().map(String::as_str).collect();
    let bits = estimated_bits(&refs);
    if bits < min_bits {
        return Some(format!(
            "estimated entropy {bits:.0} bits (ids of {} chars; positions that never vary count nothing), below {min_bits:.0}",
            ids[0].len()
        ));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn judge_strict(ids: &[String]) -> Option<String> {
        judge(ids, STRICT_MIN_BITS)
    }

    fn hex_ids(n: usize) -> Vec<String> {
        (0..n)
            .map(|_| hex::encode(rand::random::<[u8; 16]>()))
            .collect()
    }

    #[test]
    fn random_128_bit_ids_pass_and_state_fails() {
        assert_eq!(judge_strict(&hex_ids(8)), None);
        let b64: Vec<String> = (0..8)
            .map(|_| {
                base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(rand::random::<[u8; 24]>())
            })
            .collect();
        assert_eq!(judge_strict(&b64), None);
        // UUIDv4: 122 random bits; the version nibble never varies
        let uuid4: Vec<String> = hex_ids(8)
            .into_iter()
            .map(|h| format!("{}4{}", &h[..12], &h[13..]))
            .collect();
        assert!(judge_strict(&uuid4).unwrap().contains("below 128"));
        // ... which any MCP server may issue (the `mcp` profile), dashed or not
        assert_eq!(judge(&uuid4, GENERIC_MIN_BITS), None);
        let dashed: Vec<String> = uuid4
            .iter()
            .map(|h| {
                format!(
                    "{}-{}-{}-{}-{}",
                    &h[..8],
                    &h[8..12],
                    &h[12..16],
                    &h[16..20],
                    &h[20..]
                )
            })
            .collect();
        assert_eq!(judge(&dashed, GENERIC_MIN_BITS), None);
        // 120 random bits (30 hex) are too few even there; structure still fails
        let short: Vec<String> = hex_ids(8)
            .into_iter()
            .map(|h| h[..30].to_string())
            .collect();
        assert!(
            judge(&short, GENERIC_MIN_BITS)
                .unwrap()
                .contains("below 122")
        );
        let counter: Vec<String> = (1..9u128).map(|n| format!("{n:032x}")).collect();
        assert!(judge(&counter, GENERIC_MIN_BITS).is_some());
        let json: Vec<String> = (0..8)
            .map(|n| {
                base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!(
                    "{{\"key\":0,\"n\":{n},\"pad\":\"{}\"}}",
                    hex_ids(1)[0]
                ))
            })
            .collect();
        assert!(judge_strict(&json).unwrap().contains("JSON"));
        let counter: Vec<String> = (1..9u128).map(|n| format!("{n:032x}")).collect();
        assert!(judge_strict(&counter).unwrap().contains("small number"));
        let decimal: Vec<String> = (1..9).map(|n| n.to_string()).collect();
        assert!(judge_strict(&decimal).unwrap().contains("decimal"));
        let prefixed: Vec<String> = hex_ids(8)
            .into_iter()
            .map(|h| format!("sess-{h}"))
            .collect();
        assert!(judge_strict(&prefixed).unwrap().contains("prefix"));
        let clock: Vec<String> = (0..8u128)
            .map(|n| format!("{:032x}", (0x0123_4567_89ab_cdefu128 << 64) + n * 977))
            .collect();
        assert!(judge_strict(&clock).unwrap().contains("count up"));
        assert!(
            judge_strict(&["a b".into(), "cd".into()])
                .unwrap()
                .contains("visible ASCII")
        );
        let same = vec![hex_ids(1)[0].clone(); 3];
        assert!(judge_strict(&same).unwrap().contains("distinct"));
    }
}
