//! cfpb-mcp-server: a guarded MCP endpoint for the CFPB Consumer Complaint Database.

pub mod data;
pub mod tools;
