//! The `WWW-Authenticate` header's challenges (RFC 9110 §11.6.1): scheme and auth-params,
//! for the OAUTH checks (RFC 6750 §3 `Bearer` with `error`, `scope`; RFC 9728 §5.1
//! `resource_metadata`). Pure and total: any header text gives a list (possibly empty),
//! never a panic; parameter names are lower-cased, values unquoted.

/// One challenge: `Bearer realm="x", resource_metadata="https://…"`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Challenge {
    /// The auth-scheme, as sent (compare case-insensitively).
    pub scheme: String,
    /// The auth-params in order, names lower-cased, quoted values unescaped.
    pub params: Vec<(String, String)>,
}

impl Challenge {
    /// The value of the parameter `name` (case-insensitive), if present.
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Is this a `Bearer` challenge?
    pub fn is_bearer(&self) -> bool {
        self.scheme.eq_ignore_ascii_case("bearer")
    }
}

/// Every challenge in one `WWW-Authenticate` value. A token68 (`Basic abc=`) is kept as a
/// parameter with an empty name.
pub fn parse(header: &str) -> Vec<Challenge> {
    let mut out: Vec<Challenge> = Vec::new();
    let mut rest = header;
    loop {
        rest = rest.trim_start_matches([' ', '\t', ',']);
        if rest.is_empty() {
            return out;
        }
        let (token, after) = take_token(rest);
        if token.is_empty() {
            // Not a token character: skip it, so odd input still ends.
            let mut chars = rest.chars();
            chars.next();
            rest = chars.as_str();
            continue;
        }
        let after_ws = after.trim_start_matches([' ', '\t']);
        if let Some(value) = after_ws.strip_prefix('=')
            && let Some(current) = out.last_mut()
        {
            // `name=value` continues the current challenge.
            let value = value.trim_start_matches([' ', '\t']);
            let (v, next) = take_value(value);
            current.params.push((token.to_ascii_lowercase(), v));
            rest = next;
            continue;
        }
        // A new scheme, perhaps followed by a token68.
        let mut challenge = Challenge {
            scheme: token.to_owned(),
            params: Vec::new(),
        };
        rest = after_ws;
        let (word, next) = take_token68(rest);
        if !word.is_empty() {
            let next_ws = next.trim_start_matches([' ', '\t']);
            if next_ws.is_empty() || next_ws.starts_with(',') {
                challenge.params.push((String::new(), word.to_owned()));
                rest = next_ws;
            }
        }
        out.push(challenge);
    }
}

fn is_tchar(c: char) -> bool {
    c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c)
}

fn take_token(s: &str) -> (&str, &str) {
    let end = s.find(|c: char| !is_tchar(c)).unwrap_or(s.len());
    s.split_at(end)
}

/// A token68 (`abc+/=`): only when not followed by `=` and more (then it's a param).
fn take_token68(s: &str) -> (&str, &str) {
    let end = s
        .find(|c: char| !(c.is_ascii_alphanumeric() || "-._~+/".contains(c)))
        .unwrap_or(s.len());
    let mut end2 = end;
    while s[end2..].starts_with('=') {
        end2 += 1;
    }
    // `name=value` is a parameter, not a token68.
    if end2 > end && end2 < s.len() && !s[end2..].trim_start().starts_with(',') {
        return ("", s);
    }
    s.split_at(end2)
}

/// A quoted-string (unescaped) or a token.
fn take_value(s: &str) -> (String, &str) {
    let Some(quoted) = s.strip_prefix('"') else {
        let (t, rest) = take_token(s);
        return (t.to_owned(), rest);
    };
    let mut value = String::new();
    let mut chars = quoted.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => return (value, &quoted[i + 1..]),
            '\\' => {
                if let Some((_, escaped)) = chars.next() {
                    value.push(escaped);
                }
            }
            c => value.push(c),
        }
    }
    (value, "") // unterminated: what there was
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn bearer_with_resource_metadata_scope_and_error() {
        let h = r#"Bearer resource_metadata="https://h/.well-known/oauth-protected-resource/mcp", scope="a b", error="invalid_token""#;
        let c = parse(h);
        assert_eq!(c.len(), 1);
        assert!(c[0].is_bearer());
        assert_eq!(
            c[0].param("resource_metadata"),
            Some("https://h/.well-known/oauth-protected-resource/mcp")
        );
        assert_eq!(c[0].param("SCOPE"), Some("a b"));
        assert_eq!(c[0].param("error"), Some("invalid_token"));
    }

    #[test]
    fn several_challenges_token68_and_escapes() {
        let c =
            parse(r#"Basic YWxhZGRpbjpvcGVuc2VzYW1l, Bearer realm="a \"q\"", error=invalid_token"#);
        assert_eq!(c.len(), 2, "{c:?}");
        assert_eq!(c[0].scheme, "Basic");
        assert_eq!(c[0].param(""), Some("YWxhZGRpbjpvcGVuc2VzYW1l"));
        assert_eq!(c[1].param("realm"), Some(r#"a "q""#));
        assert_eq!(c[1].param("error"), Some("invalid_token"));
        assert_eq!(
            parse("Bearer"),
            vec![Challenge {
                scheme: "Bearer".into(),
                params: vec![]
            }]
        );
        assert!(parse("").is_empty());
    }

    proptest! {
        #[test]
        fn any_text_parses_without_panicking(s in ".{0,200}") {
            let _ = parse(&s);
        }

        #[test]
        fn a_rendered_bearer_challenge_parses_back(
            names in proptest::collection::vec("[a-z_]{1,12}", 0..5),
            values in proptest::collection::vec("[ -~]{0,30}", 0..5),
        ) {
            let params: Vec<(String, String)> = names.into_iter().zip(values).collect();
            let rendered = params
                .iter()
                .map(|(n, v)| format!("{n}=\"{}\"", v.replace('\\', "\\\\").replace('"', "\\\"")))
                .collect::<Vec<_>>()
                .join(", ");
            let header = format!("Bearer {rendered}");
            let c = parse(&header);
            prop_assert_eq!(c.len(), 1);
            prop_assert_eq!(&c[0].params, &params);
        }
    }
}
