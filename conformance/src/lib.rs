//! mcp-conformance (in progress).
