//! Property checks for the harness's own parsers of bytes a target sends, shared
//! by the cargo-fuzz targets `sse_reader` and `tool_schema` (`fuzz/`) and the
//! stable replay test (`conformance/tests/fuzz_corpus_replay.rs`). Each check panics on a violated
//! property; nothing else calls them. Compiled only with the `fuzzing` feature.
//!
//! [`check_sse_reader`] asserts, for any bytes: [`SseParser`] never panics; the
//! items it yields don't depend on how the bytes are split into chunks (whole,
//! byte by byte, and in chunks of input-derived sizes all agree); a comment, an
//! event type or an id never holds a line break; an event has at least one data
//! line and its data holds exactly `data_lines - 1` line breaks; a line longer
//! than `MAX_LINE` is cut and flagged, never kept whole.

use crate::wire::sse::{MAX_LINE, SseItem, SseParser};
use crate::wire::tool_schema::{self, MAX_PROBLEMS, MAX_QUOTED};

fn feed_in_chunks(data: &[u8], sizes: impl Iterator<Item = usize>) -> Vec<SseItem> {
    let mut parser = SseParser::new();
    let mut items = Vec::new();
    let mut rest = data;
    for size in sizes {
        if rest.is_empty() {
            break;
        }
        let (chunk, tail) = rest.split_at(size.clamp(1, rest.len()));
        items.extend(parser.feed(chunk));
        rest = tail;
    }
    items
}

/// The SSE reader over arbitrary bytes: see the module comment.
pub fn check_sse_reader(data: &[u8]) {
    let whole = SseParser::new().feed(data);
    let bytewise = feed_in_chunks(data, std::iter::repeat(1));
    assert_eq!(whole, bytewise, "byte-by-byte parse differs from whole");
    // Chunk sizes taken from the input itself, so the fuzzer explores splits.
    let sizes = data.iter().map(|&b| usize::from(b % 17) + 1).cycle();
    let chunked = feed_in_chunks(data, sizes);
    assert_eq!(whole, chunked, "chunked parse differs from whole");
    let breaks = |s: &str| s.contains(['\n', '\r']);
    for item in &whole {
        match item {
            SseItem::Comment(text) => {
                assert!(!breaks(text), "a comment holds a line break");
                assert!(text.len() <= 3 * MAX_LINE);
            }
            SseItem::Event(event) => {
                assert!(!event.event.is_empty() && !breaks(&event.event));
                assert!(
                    event.data_lines >= 1,
                    "an event without data was dispatched"
                );
                assert_eq!(event.data.matches('\n').count(), event.data_lines - 1);
                assert!(!event.data.contains('\r'));
                if let Some(id) = &event.id {
                    assert!(!breaks(id) && !id.contains('\0'));
                }
            }
        }
    }
}

/// The tool schema checks (MSG-4.structured) over any JSON a target could
/// send: input `[tool, result]` (anything else is used as both). Never
/// panics, fetches nothing, reports at most [`MAX_PROBLEMS`] problems for a
/// result and two for a tool's schemas, and every problem line stays short
/// whatever the target's names, paths and messages are.
pub fn check_tool_schema(data: &[u8]) {
    let Ok(value) = serde_json::from_slice::<serde_json::Value>(data) else {
        return;
    };
    let (tool, result) = match &value {
        serde_json::Value::Array(pair) if pair.len() == 2 => (&pair[0], &pair[1]),
        other => (other, other),
    };
    let line_limit = 3 * MAX_QUOTED + 120;
    let schemas = tool_schema::schema_problems(tool);
    assert!(schemas.len() <= 2, "{} schema problems", schemas.len());
    let results = tool_schema::result_problems(tool, result);
    assert!(
        results.len() <= MAX_PROBLEMS,
        "{} result problems",
        results.len()
    );
    for line in schemas.iter().chain(&results) {
        assert!(
            line.chars().count() <= line_limit,
            "a problem line of {} characters",
            line.chars().count()
        );
    }
}
