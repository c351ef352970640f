//! Where the CLI writes (`Io`, so tests can capture it) and the one way a bad invocation
//! ends (`fail2`: the message on stderr, exit 2). Never writes a key.

use std::io::Write;

/// Where the CLI writes, so tests can capture it.
pub struct Io<'a> {
    pub out: &'a mut (dyn Write + Send),
    pub err: &'a mut (dyn Write + Send),
    /// stdout / stderr are terminals (colours, progress line).
    pub out_tty: bool,
    pub err_tty: bool,
}

pub(super) fn fail2(io: &mut Io<'_>, msg: &str) -> i32 {
    let _ = writeln!(io.err, "mcp-conformance: {msg}");
    2
}
