//! The near-miss key generator: from a real key, the variants that docs/contract.md
//! AUTH-3 says must never pass (prefix, suffix, case change, inner whitespace, trailing
//! NUL, percent-encoding, appended char, one char changed).
//! Pure functions only; a variant's `shell` form refers to the key as `$VAR` and never
//! contains the key (it may contain at most the single replacement character it inserted).

/// Which near miss a variant is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum NearMissKind {
    /// The key without its last character.
    Prefix,
    /// The key without its first character.
    Suffix,
    /// Every ASCII letter's case flipped.
    CaseFlip,
    /// A space inserted in the middle.
    InnerSpace,
    /// A NUL byte appended. Not sendable with an ordinary HTTP client: sent raw, and a
    /// `400` is accepted as "not accepted" as well as the `401` (a front proxy or the HTTP
    /// parser may reject the header before the guard sees it).
    TrailingNul,
    /// Every byte written as `%XX`.
    PercentEncoded,
    /// One extra character appended.
    AppendedChar,
    /// The middle character replaced by another of the same class.
    OneCharChanged,
}

impl NearMissKind {
    pub fn name(self) -> &'static str {
        match self {
            NearMissKind::Prefix => "prefix",
            NearMissKind::Suffix => "suffix",
            NearMissKind::CaseFlip => "case-flip",
            NearMissKind::InnerSpace => "inner-space",
            NearMissKind::TrailingNul => "trailing-nul",
            NearMissKind::PercentEncoded => "percent-encoded",
            NearMissKind::AppendedChar => "appended-char",
            NearMissKind::OneCharChanged => "one-char-changed",
        }
    }
}

/// One near-miss variant of a key.
#[derive(Clone, PartialEq, Eq)]
pub struct NearMiss {
    pub kind: NearMissKind,
    /// The exact bytes to send as the header value.
    pub value: Vec<u8>,
    /// A bash expression producing the same value from `$VAR` (for reproductions);
    /// `None` when a shell argument can't carry it (the NUL byte).
    pub shell: Option<String>,
}

impl std::fmt::Debug for NearMiss {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The value is derived from the key: never print it.
        write!(f, "NearMiss({})", self.kind.name())
    }
}

/// All near-miss variants of `key`, in a fixed order. Variants equal to the key (e.g. a
/// case flip of a key with no letters) or to an earlier variant are left out, so every
/// returned value differs from the key and from the others. `var` is the shell variable
/// name used in the `shell` forms.
pub fn near_misses(key: &str, var: &str) -> Vec<NearMiss> {
    let k = key.as_bytes();
    let n = k.len();
    let mid = n / 2;
    let mut out: Vec<NearMiss> = Vec::new();
    let mut add = |kind, value: Vec<u8>, shell: Option<String>| {
        if value != k && !out.iter().any(|v| v.value == value) {
            out.push(NearMiss { kind, value, shell });
        }
    };
    if n >= 1 {
        add(
            NearMissKind::Prefix,
            k[..n - 1].to_vec(),
            Some(format!("${{{var}%?}}")),
        );
        add(
            NearMissKind::Suffix,
            k[1..].to_vec(),
            Some(format!("${{{var}#?}}")),
        );
    }
    let flipped: Vec<u8> = k
        .iter()
        .map(|b| match b {
            b'a'..=b'z' => b.to_ascii_uppercase(),
            b'A'..=b'Z' => b.to_ascii_lowercase(),
            _ => *b,
        })
        .collect();
    add(
        NearMissKind::CaseFlip,
        flipped,
        Some(format!("$(printf %s \"${var}\" | tr 'a-zA-Z' 'A-Za-z')")),
    );
    let mut spaced = k[..mid].to_vec();
    spaced.push(b' ');
    spaced.extend_from_slice(&k[mid..]);
    add(
        NearMissKind::InnerSpace,
        spaced,
        Some(format!("${{{var}:0:{mid}}} ${{{var}:{mid}}}")),
    );
    let mut nul = k.to_vec();
    nul.push(0);
    add(NearMissKind::TrailingNul, nul, None);
    let pct: String = k.iter().map(|b| format!("%{b:02X}")).collect();
    add(
        NearMissKind::PercentEncoded,
        pct.into_bytes(),
        Some(format!(
            "$(printf %s \"${var}\" | od -An -tx1 -v | tr -d ' \\n' | tr a-f A-F | sed 's/../%&/g')"
        )),
    );
    let extra = if k.last() == Some(&b'x') { b'y' } else { b'x' };
    let mut appended = k.to_vec();
    appended.push(extra);
    add(
        NearMissKind::AppendedChar,
        appended,
        Some(format!("${{{var}}}{}", extra as char)),
    );
    if n >= 1 {
        let i = mid.min(n - 1);
        let c = k[i];
        let replacement = match c {
            b'0'..=b'8' | b'a'..=b'y' | b'A'..=b'Y' => c + 1,
            b'9' => b'0',
            b'z' => b'a',
            b'Z' => b'A',
            _ => {
                if c == b'A' {
                    b'B'
                } else {
                    b'A'
                }
            }
        };
        let mut changed = k.to_vec();
        changed[i] = replacement;
        add(
            NearMissKind::OneCharChanged,
            changed,
            Some(format!(
                "${{{var}:0:{i}}}{}${{{var}:{}}}",
                replacement as char,
                i + 1
            )),
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_kinds_for_an_ordinary_key() {
        let v = near_misses("abcDEF123", "MCP_KEY");
        let kinds: Vec<_> = v.iter().map(|v| v.kind).collect();
        assert_eq!(kinds.len(), 8, "{kinds:?}");
        let get = |k| v.iter().find(|v| v.kind == k).map(|v| v.value.clone());
        assert_eq!(get(NearMissKind::Prefix).unwrap(), b"abcDEF12");
        assert_eq!(get(NearMissKind::Suffix).unwrap(), b"bcDEF123");
        assert_eq!(get(NearMissKind::CaseFlip).unwrap(), b"ABCdef123");
        assert_eq!(get(NearMissKind::InnerSpace).unwrap(), b"abcD EF123");
        assert_eq!(get(NearMissKind::TrailingNul).unwrap(), b"abcDEF123\0");
        assert_eq!(
            get(NearMissKind::PercentEncoded).unwrap(),
            b"%61%62%63%44%45%46%31%32%33"
        );
        assert_eq!(get(NearMissKind::AppendedChar).unwrap(), b"abcDEF123x");
        assert_eq!(get(NearMissKind::OneCharChanged).unwrap(), b"abcDFF123");
    }

    #[test]
    fn debug_hides_the_value() {
        let v = near_misses("topsecret", "MCP_KEY");
        assert!(!format!("{v:?}").contains("topsecret"));
    }
}
