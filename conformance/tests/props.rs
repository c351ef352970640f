//! Property tests of the pure parts: the near-miss generator, the leak scanner, the SSE
//! parser.

use base64::Engine;
use mcp_conformance::wire::leak::{find_key_leaks, redact};
use mcp_conformance::wire::nearmiss::near_misses;
use mcp_conformance::wire::sse::SseParser;
use proptest::prelude::*;

fn key() -> impl Strategy<Value = String> {
    "[a-z0-9_-]{16,48}"
}

fn noise() -> impl Strategy<Value = String> {
    // Text with URL, JSON and base64-ish characters, like a log line.
    "[ a-zA-Z0-9{}\":,%=+/_.-]{0,80}"
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn near_misses_differ_from_the_key_and_each_other(k in "[!-~]{1,64}") {
        let v = near_misses(&k, "MCP_KEY");
        for (i, a) in v.iter().enumerate() {
            prop_assert_ne!(&a.value, &k.as_bytes().to_vec());
            for b in &v[i + 1..] {
                prop_assert_ne!(&a.value, &b.value);
            }
        }
        prop_assert!(v.len() >= 6, "{} variants", v.len());
    }

    #[test]
    fn near_miss_shell_forms_never_contain_the_key(k in key()) {
        for v in near_misses(&k, "MCP_KEY") {
            if let Some(s) = &v.shell {
                prop_assert!(!s.contains(&k));
            }
            let dbg = format!("{:?}", v);
            prop_assert!(!dbg.contains(&k));
        }
    }

    #[test]
    fn a_key_in_any_encoding_is_found(
        k in key(),
        before in noise(),
        after in noise(),
        pad in prop::collection::vec(any::<u8>(), 0..3),
        tail in prop::collection::vec(any::<u8>(), 0..3),
        which in 0usize..9,
    ) {
        let mut blob = pad.clone();
        blob.extend_from_slice(k.as_bytes());
        blob.extend_from_slice(&tail);
        use base64::engine::general_purpose::*;
        let encoded = match which {
            0 => k.clone(),
            1 => k.bytes().map(|b| format!("%{b:02X}")).collect(),
            2 => k.bytes().map(|b| format!("%{b:02x}")).collect(),
            3 => STANDARD.encode(&blob),
            4 => STANDARD_NO_PAD.encode(&blob),
            5 => URL_SAFE.encode(&blob),
            6 => URL_SAFE_NO_PAD.encode(&blob),
            7 => hex::encode(k.as_bytes()),
            _ => hex::encode_upper(k.as_bytes()),
        };
        let text = format!("{before}{encoded}{after}");
        prop_assert!(!find_key_leaks(&text, &k).is_empty(), "not found in {text}");
        let redacted = redact(&text, &[(&k, "MCP_KEY")]);
        prop_assert!(find_key_leaks(&redacted, &k).is_empty(), "still in {redacted}");
    }

    #[test]
    fn text_without_the_key_is_clean(k in key(), text in "[ -~]{0,300}") {
        prop_assume!(!text.contains(&k));
        prop_assert!(find_key_leaks(&text, &k).is_empty());
    }

    #[test]
    fn sse_parsing_is_chunking_invariant(bytes in prop::collection::vec(any::<u8>(), 0..400), cut in prop::collection::vec(1usize..20, 1..30)) {
        let whole = SseParser::new().feed(&bytes);
        let mut p = SseParser::new();
        let mut parts = Vec::new();
        let mut rest: &[u8] = &bytes;
        let mut i = 0;
        while !rest.is_empty() {
            let n = cut[i % cut.len()].min(rest.len());
            parts.extend(p.feed(&rest[..n]));
            rest = &rest[n..];
            i += 1;
        }
        prop_assert_eq!(whole, parts);
    }

    #[test]
    fn sse_events_roundtrip(data in "[ -~]{0,60}", name in "[a-z]{1,10}") {
        let wire = format!("event: {name}\ndata: {data}\n\n: ping\n\n");
        let items = SseParser::new().feed(wire.as_bytes());
        prop_assert_eq!(items.len(), 2);
        match &items[0] {
            mcp_conformance::SseItem::Event(e) => {
                prop_assert_eq!(&e.event, &name);
                prop_assert_eq!(&e.data, &data);
                prop_assert_eq!(e.data_lines, 1);
            }
            other => prop_assert!(false, "{other:?}"),
        }
    }
}
