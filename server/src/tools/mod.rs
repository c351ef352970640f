//! MCP tools (placeholder until the tools land).
