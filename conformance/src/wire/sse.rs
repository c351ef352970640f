//! A byte-level Server-Sent-Events parser (WHATWG `text/event-stream` rules) that also
//! reports comment lines, so keep-alive `: ping` comments are visible to the checks.
//! Pure: `SseParser::feed` takes bytes and returns items; no I/O, no panics on any input
//! (it is fuzzed), bounded memory per line (`MAX_LINE`).

/// Longest line kept; longer lines are cut (the rest is dropped) and flagged.
pub const MAX_LINE: usize = 1 << 20;
/// Longest `id:` kept (longer ones are ignored): ids are copied into every event.
pub const MAX_ID_LEN: usize = 1024;

/// One thing seen on the stream.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SseItem {
    /// A comment line (`:` then text); `text` has the single leading space removed.
    Comment(String),
    /// A dispatched event.
    Event(SseEvent),
}

/// A dispatched event: `event` defaults to `message`; `data` joins data lines with `\n`.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct SseEvent {
    pub event: String,
    pub data: String,
    pub id: Option<String>,
    /// How many `data:` lines made up this event (SSE-3 wants exactly one).
    pub data_lines: usize,
    /// A line of this event was longer than `MAX_LINE` and was cut.
    pub truncated: bool,
}

/// Incremental parser: feed it bytes as they arrive, in chunks of any size.
#[derive(Debug, Default)]
pub struct SseParser {
    line: Vec<u8>,
    line_truncated: bool,
    /// The previous chunk ended with `\r`: a leading `\n` in the next chunk belongs to it.
    after_cr: bool,
    /// Still at the very start of the stream (a UTF-8 BOM is skipped there).
    at_start: bool,
    started: bool,
    event_type: String,
    data: String,
    data_lines: usize,
    id: Option<String>,
    truncated: bool,
}

impl SseParser {
    pub fn new() -> Self {
        Self::default()
    }

    /// Parses `bytes`, returning every comment and every event completed by them.
    pub fn feed(&mut self, bytes: &[u8]) -> Vec<SseItem> {
        let mut items = Vec::new();
        let mut bytes = bytes;
        if !self.started {
            self.at_start = true;
            self.started = true;
        }
        if self.at_start {
            // Skip a UTF-8 BOM, possibly split over chunks, only at the stream start.
            const BOM: &[u8] = b"\xEF\xBB\xBF";
            let have = self.line.len();
            let take = bytes.len().min(3 - have.min(3));
            let mut candidate = self.line.clone();
            candidate.extend_from_slice(&bytes[..take]);
            if BOM.starts_with(&candidate) {
                if candidate.len() == 3 {
                    self.line.clear();
                    self.at_start = false;
                    bytes = &bytes[take..];
                } else {
                    self.line = candidate;
                    return items;
                }
            } else {
                self.at_start = false;
            }
        }
        for &b in bytes {
            if self.after_cr {
                self.after_cr = false;
                if b == b'\n' {
                    continue;
                }
            }
            match b {
                b'\n' => self.end_line(&mut items),
                b'\r' => {
                    self.end_line(&mut items);
                    self.after_cr = true;
                }
                _ => {
                    if self.line.len() < MAX_LINE {
                        self.line.push(b);
                    } else {
                        self.line_truncated = true;
                    }
                }
            }
        }
        items
    }

    fn end_line(&mut self, items: &mut Vec<SseItem>) {
        let line = std::mem::take(&mut self.line);
        if std::mem::take(&mut self.line_truncated) {
            self.truncated = true;
        }
        if line.is_empty() {
            self.dispatch(items);
            return;
        }
        let text = String::from_utf8_lossy(&line);
        if let Some(comment) = text.strip_prefix(':') {
            items.push(SseItem::Comment(
                comment.strip_prefix(' ').unwrap_or(comment).to_string(),
            ));
            return;
        }
        let (field, value) = match text.find(':') {
            Some(i) => {
                let v = &text[i + 1..];
                (&text[..i], v.strip_prefix(' ').unwrap_or(v))
            }
            None => (&text[..], ""),
        };
        match field {
            "event" => self.event_type = value.to_string(),
            "data" => {
                if self.data_lines > 0 {
                    self.data.push('\n');
                }
                self.data.push_str(value);
                self.data_lines += 1;
            }
            // Bounded: the id is copied into every later event, so a hostile
            // target's huge id must not multiply memory.
            "id" if !value.contains('\0') && value.len() <= MAX_ID_LEN => {
                self.id = Some(value.to_string())
            }
            _ => {} // `retry` and unknown fields are ignored
        }
    }

    fn dispatch(&mut self, items: &mut Vec<SseItem>) {
        let event_type = std::mem::take(&mut self.event_type);
        let data = std::mem::take(&mut self.data);
        let data_lines = std::mem::take(&mut self.data_lines);
        let truncated = std::mem::take(&mut self.truncated);
        if data_lines == 0 {
            return; // per the spec, an event with no data is not dispatched
        }
        items.push(SseItem::Event(SseEvent {
            event: if event_type.is_empty() {
                "message".to_string()
            } else {
                event_type
            },
            data,
            id: self.id.clone(),
            data_lines,
            truncated,
        }));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(event: &str, data: &str) -> SseItem {
        SseItem::Event(SseEvent {
            event: event.into(),
            data: data.into(),
            id: None,
            data_lines: data.split('\n').count(),
            truncated: false,
        })
    }

    #[test]
    fn endpoint_then_ping_then_message() {
        let mut p = SseParser::new();
        let input = b"event: endpoint\ndata: /mcp/messages?session_id=ab\n\n: ping\n\nevent: message\r\ndata: {\"a\":1}\r\n\r\n";
        assert_eq!(
            p.feed(input),
            vec![
                ev("endpoint", "/mcp/messages?session_id=ab"),
                SseItem::Comment("ping".into()),
                ev("message", "{\"a\":1}"),
            ]
        );
    }

    #[test]
    fn byte_by_byte_equals_whole() {
        let input = b"\xEF\xBB\xBFdata: a\r\ndata:b\r\r: c\n\nevent:x\ndata\n\n";
        let whole = SseParser::new().feed(input);
        let mut p = SseParser::new();
        let mut split = Vec::new();
        for b in input {
            split.extend(p.feed(std::slice::from_ref(b)));
        }
        assert_eq!(whole, split);
        assert_eq!(
            whole,
            vec![
                ev("message", "a\nb"),
                SseItem::Comment("c".into()),
                ev("x", "")
            ]
        );
    }
}
