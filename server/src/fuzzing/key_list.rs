//! The `key_list` fuzz target's check (docs/contract.md AUTH-2, AUTH-9): the key list
//! and keys-file parsers against a reference model.
//! See `crate::fuzzing` for what every check asserts.

use crate::identity::keys::{
    ApiKey, MAX_KEY_LEN, MIN_KEY_BITS, estimated_bits, parse_key_file, parse_key_list,
    render_key_file, render_key_list,
};

/// The key alphabet, spelled out (independently of `keys::is_key_char`).
const KEY_ALPHABET: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~+/=";

/// AUTH-2 as a reference model: `Ok(keys)` or `Err(1-based entry)`.
fn model_key_entries<'a>(
    entries: impl Iterator<Item = (usize, &'a str)>,
) -> Result<Vec<String>, usize> {
    let mut keys: Vec<String> = Vec::new();
    for (number, entry) in entries {
        if entry.is_empty() {
            continue;
        }
        if entry.len() > MAX_KEY_LEN || !entry.chars().all(|c| KEY_ALPHABET.contains(c)) {
            return Err(number);
        }
        // AUTH-9: a weak key is refused like a malformed one.
        if estimated_bits(entry) < MIN_KEY_BITS {
            return Err(number);
        }
        if !keys.iter().any(|k| k == entry) {
            keys.push(entry.to_owned());
        }
    }
    Ok(keys)
}

fn model_key_list(text: &str) -> Result<Vec<String>, usize> {
    model_key_entries(
        text.split(',')
            .enumerate()
            .map(|(i, e)| (i + 1, e.trim_matches(char::is_whitespace))),
    )
}

fn model_key_file(text: &str) -> Result<Vec<String>, usize> {
    model_key_entries(
        text.split('\n')
            .enumerate()
            .map(|(i, l)| (i + 1, l.trim_matches(char::is_whitespace)))
            .filter(|(_, l)| !l.starts_with('#')),
    )
}

fn clear(keys: &[ApiKey]) -> Vec<String> {
    keys.iter().map(|k| k.expose_secret().to_owned()).collect()
}

/// AUTH-2: both key-list formats agree with the model and round-trip.
pub fn check_key_list(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    for (format, parsed, model) in [
        ("list", parse_key_list(&text), model_key_list(&text)),
        ("file", parse_key_file(&text), model_key_file(&text)),
    ] {
        let got = parsed.as_ref().map(|k| clear(k)).map_err(|e| e.entry);
        assert_eq!(got, model, "{format} parser differs from the AUTH-2 model");
        let Ok(keys) = parsed else { continue };
        for key in clear(&keys) {
            assert!(!key.is_empty() && key.len() <= MAX_KEY_LEN);
            assert!(
                !key.contains(|c: char| c == ',' || c == '#' || c.is_whitespace()),
                "a key holds a separator or whitespace"
            );
            assert!(key.chars().all(|c| KEY_ALPHABET.contains(c)));
        }
        let list = render_key_list(&keys);
        let file = render_key_file(&keys);
        for (again, how) in [
            (parse_key_list(&list), "list"),
            (parse_key_file(&file), "file"),
        ] {
            assert_eq!(
                again.as_ref().map(|k| clear(k)).ok(),
                Some(clear(&keys)),
                "{format} → render {how} → parse is not stable"
            );
        }
        assert_eq!(
            parse_key_list(&list).map(|k| render_key_list(&k)).ok(),
            Some(list)
        );
        assert_eq!(
            parse_key_file(&file).map(|k| render_key_file(&k)).ok(),
            Some(file)
        );
    }
}
