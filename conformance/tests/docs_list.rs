//! docs/conformance.md lists every check the binary has, and nothing else:
//! the first cell of each table row under "## The checks" (its subsections
//! included) is a check ID, and the set of those IDs is the set of
//! `checks::all()`. A check added without its row, or a row left behind by a
//! renamed check, fails here with the IDs.

use std::collections::BTreeSet;

/// The IDs in the first column of the check tables of docs/conformance.md.
fn documented() -> BTreeSet<String> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/conformance.md");
    let text = std::fs::read_to_string(path).expect("docs/conformance.md is readable");
    let section = text
        .split("\n## The checks")
        .nth(1)
        .expect("docs/conformance.md has a \"## The checks\" section");
    let section = section.split("\n## ").next().unwrap_or_default();
    section
        .lines()
        .filter_map(|line| line.strip_prefix('|'))
        .filter_map(|row| row.split('|').next())
        .map(|cell| cell.trim().trim_matches('`').to_string())
        .filter(|id| is_check_id(id))
        .collect()
}

/// `AUTH-3.near-miss`, `MCP-AUTH-1.get`, `EP-health`: capitals, a dash, then
/// anything of ID characters (header rows and `---` separators are not).
fn is_check_id(cell: &str) -> bool {
    let Some((family, rest)) = cell.split_once('-') else {
        return false;
    };
    !family.is_empty()
        && family.chars().all(|c| c.is_ascii_uppercase())
        && !rest.is_empty()
        && rest
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_'))
}

#[test]
fn the_docs_list_every_check_and_nothing_else() {
    let binary: BTreeSet<String> = mcp_conformance::checks::all()
        .iter()
        .map(|c| c.id.to_string())
        .collect();
    let documented = documented();
    let missing: Vec<_> = binary.difference(&documented).collect();
    let extra: Vec<_> = documented.difference(&binary).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "docs/conformance.md's check tables and the binary's checks differ:\n\
         checks with no row: {missing:?}\nrows with no check: {extra:?}"
    );
}

#[test]
fn the_id_shape_is_what_the_tables_hold() {
    for id in [
        "EP-health",
        "AUTH-3.near-miss",
        "MCP-AUTH-1.get",
        "HTTP-2026-9",
    ] {
        assert!(is_check_id(id), "{id}");
    }
    for cell in ["ID", "---", "flag", "`--url BASE`", "seed", ""] {
        assert!(!is_check_id(cell), "{cell}");
    }
}
