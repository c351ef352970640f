//! The audit log (LOG-1..3 in docs/contract.md): one JSON line per request
//! on stderr, and one per stream end, start, stop and key reload.
//!
//! `event` is the schema (one enum, [`Event`]); `fields` collects and
//! scrubs what a request contributes; `refusals` keeps a flood of refused
//! requests from flushing the trail (LOG-4); `writer` renders and queues
//! lines for a writer thread that never blocks a request. A line holds no
//! key, only a key id. The rooms are private: what the rest of the server
//! (and `bench/`) uses is re-exported here, at the door.

mod event;
mod fields;
mod refusals;
mod writer;

pub use event::{
    Arguments, Caller, EndReason, Event, Quirk, Quirks, Reason, RequestLine, StreamEnd, Timestamp,
    millis,
};
pub use fields::{
    AuditFields, MAX_ARGUMENTS_LEN, MAX_PATH_LEN, RequestLog, scrub_and_truncate, scrub_arguments,
};
#[cfg(test)]
pub use writer::MemorySink;
pub use writer::{AuditLog, AuditTarget, Clock, render};
