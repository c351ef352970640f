//! Complaint data sources (placeholder until the data layer lands).
