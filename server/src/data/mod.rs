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
//! Layout: `source` (the [`DataSource`] and its [`DataMode`]: one method
//! per operation, search / document / trends / states / suggest), `live`
//! (reqwest over CCDB5) with its `slots` (a fair share per `caller`, the
//! [`CallerTag`] the transports put on a request), `fixtures` (in memory,
//! the same aggregations computed from the bundled data), `ccdb5` and
//! `ccdb5_aggs` (the response shapes the live source parses), `complaint`,
//! `query` and `aggregate` (the types that go in and come out), `error`
//! ([`DataError`]). The rooms are private: what the rest of the server uses
//! is re-exported here, at the door.

mod aggregate;
mod caller;
mod ccdb5;
mod ccdb5_aggs;
mod complaint;
mod error;
mod fixtures;
mod live;
mod query;
mod slots;
mod source;

pub use caller::CallerTag;
pub use fixtures::FixtureSource;
pub use live::LiveSource;
pub use slots::{MAX_IN_FLIGHT, MAX_PER_CALLER};

pub use aggregate::{
    GroupField, Lens, StateCount, StateCounts, SuggestField, SuggestQuery, TrendGroup,
    TrendInterval, TrendPoint, Trends, TrendsQuery,
};
pub use complaint::{COMPLAINT_DETAIL_BASE, Complaint, SearchPage, complaint_url};
pub use error::DataError;
pub use query::{CalendarDate, SearchField, SearchQuery, SortOrder};
pub use source::{DEFAULT_API_BASE, DataMode, DataSource};
