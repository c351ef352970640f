//! Complaint data sources (DATA-3): the live CFPB Consumer Complaint Database
//! (CCDB5) API and the bundled, synthetic offline dataset, behind one
//! interface, [`DataSource`].
//!
//! Both sources speak the CCDB5 response shape (DATA-5) and return the same
//! types: a validated [`SearchQuery`] goes in, a [`SearchPage`] of
//! [`Complaint`]s comes out. This module never formats tool output (that is
//! `tools`), and a [`DataError`] never carries an upstream body or any secret:
//! its messages are short and safe to show to an MCP client (MSG-5).
//!
//! Layout: [`source`] (the [`DataSource`] and its [`DataMode`]), [`live`]
//! (reqwest over CCDB5), [`fixtures`] (in memory), `ccdb5` (the response
//! shape both parse), `complaint` and `query` (the types that go in and come
//! out), `error` ([`DataError`]). This file only lists them.

mod ccdb5;
mod complaint;
mod error;
pub mod fixtures;
pub mod live;
mod query;
mod source;

pub use complaint::{COMPLAINT_DETAIL_BASE, Complaint, SearchPage, complaint_url};
pub use error::DataError;
pub use query::{CalendarDate, SearchField, SearchQuery, SortOrder};
pub use source::{DEFAULT_API_BASE, DataMode, DataSource};
