//! Complaint data sources (DATA-3): the live CFPB Consumer Complaint Database
//! (CCDB5) API and the bundled, synthetic offline dataset, behind one
//! interface, [`DataSource`].
//!
//! Both sources speak the CCDB5 response shape (DATA-5) and return the same
//! types: a validated [`SearchQuery`] goes in, a [`SearchPage`] of
//! [`Complaint`]s comes out. This module never formats tool output (that is
//! `tools`), and a [`DataError`] never carries an upstream body or any secret:
//! its messages are short and safe to show to an MCP client (MSG-5).

mod ccdb5;
mod complaint;
pub mod fixtures;
pub mod live;
mod query;

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

pub use complaint::Complaint;
pub use query::{CalendarDate, SearchField, SearchQuery, SortOrder};

/// The public CCDB5 search API (DATA-3); a document lives at `<base><complaint_id>`.
pub const DEFAULT_API_BASE: &str =
    "https://www.consumerfinance.gov/data-research/consumer-complaints/search/api/v1/";

/// The public page of one complaint on the CFPB site (DATA-4): append the id.
pub const COMPLAINT_DETAIL_BASE: &str =
    "https://www.consumerfinance.gov/data-research/consumer-complaints/search/detail/";

/// Which data source the server uses (`CFPB_MCP_DATA`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum DataMode {
    /// The public CCDB5 API at `CFPB_API_BASE`.
    Live,
    /// The bundled synthetic dataset (`fixtures/complaints.json`), searched in memory.
    Fixtures,
}

impl DataMode {
    /// The name used in configuration and in tool results (`"source"`).
    pub fn as_str(self) -> &'static str {
        match self {
            DataMode::Live => "live",
            DataMode::Fixtures => "fixtures",
        }
    }
}

impl fmt::Display for DataMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a data source could not answer. Every message is short, names no
/// secret, and never embeds an upstream body (MSG-5).
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    /// The upstream did not answer within the configured time.
    #[error("the request timed out after {}", humantime::format_duration(*.0))]
    Timeout(Duration),
    /// No connection could be made (DNS, refused, TLS).
    #[error("could not connect to the upstream API ({0})")]
    Connect(String),
    /// The upstream answered with a non-success status.
    #[error("upstream returned HTTP {0}")]
    Status(u16),
    /// The upstream body was larger than we accept.
    #[error("upstream response is larger than the {limit}-byte limit")]
    TooLarge {
        /// The limit in bytes.
        limit: usize,
    },
    /// The upstream body was not JSON.
    #[error("upstream returned malformed JSON ({0})")]
    BadJson(String),
    /// The upstream body was JSON of an unexpected shape.
    #[error("upstream returned an unexpected response shape ({0})")]
    Shape(String),
    /// Any other transport failure.
    #[error("the request failed ({0})")]
    Request(String),
    /// The HTTP client could not be built (bad TLS setup, ...).
    #[error("could not build the HTTP client ({0})")]
    Client(String),
    /// The bundled dataset could not be loaded.
    #[error("the bundled fixture dataset is invalid ({0})")]
    Fixtures(String),
}

/// One page of search results, in CCDB5 terms.
#[derive(Clone, Debug, PartialEq)]
pub struct SearchPage {
    /// How many complaints match (`hits.total.value`).
    pub total: u64,
    /// False when the upstream reports the total as a lower bound
    /// (`hits.total.relation == "gte"`).
    pub total_is_exact: bool,
    /// The complaints of this page, in result order.
    pub complaints: Vec<Complaint>,
}

/// The data source the tools query. Cheap to clone: both variants share
/// their state (one HTTP client, one parsed dataset).
#[derive(Clone)]
pub enum DataSource {
    /// The public CCDB5 API.
    Live(live::LiveSource),
    /// The bundled synthetic dataset.
    Fixtures(Arc<fixtures::FixtureSource>),
}

impl fmt::Debug for DataSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DataSource::Live(live) => f.debug_tuple("Live").field(live).finish(),
            DataSource::Fixtures(fixtures) => {
                f.debug_tuple("Fixtures").field(&fixtures.len()).finish()
            }
        }
    }
}

impl DataSource {
    /// The live CCDB5 API at `api_base`, through one shared `reqwest` client
    /// (rustls) with a connect timeout, a total per-request `timeout`, and a
    /// User-Agent.
    pub fn live(api_base: url::Url, timeout: Duration) -> Result<Self, DataError> {
        Ok(DataSource::Live(live::LiveSource::new(api_base, timeout)?))
    }

    /// The bundled dataset (`fixtures/complaints.json`, embedded in the
    /// binary), parsed and indexed once per process and shared afterwards.
    pub fn fixtures() -> Result<Self, DataError> {
        Ok(DataSource::Fixtures(fixtures::FixtureSource::bundled()?))
    }

    /// Which kind of source this is.
    pub fn mode(&self) -> DataMode {
        match self {
            DataSource::Live(_) => DataMode::Live,
            DataSource::Fixtures(_) => DataMode::Fixtures,
        }
    }

    /// One page of complaints matching `q` (DATA-1).
    pub async fn search(&self, q: &SearchQuery) -> Result<SearchPage, DataError> {
        match self {
            DataSource::Live(live) => live.search(q).await,
            DataSource::Fixtures(fixtures) => Ok(fixtures.search(q)),
        }
    }

    /// The complaint with this id, or `None` when there is none (DATA-2).
    pub async fn document(&self, complaint_id: u64) -> Result<Option<Complaint>, DataError> {
        match self {
            DataSource::Live(live) => live.document(complaint_id).await,
            DataSource::Fixtures(fixtures) => Ok(fixtures.document(complaint_id)),
        }
    }
}

/// The CFPB page of a complaint (DATA-4).
pub fn complaint_url(complaint_id: u64) -> String {
    format!("{COMPLAINT_DETAIL_BASE}{complaint_id}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_mode_names_match_configuration_values() {
        // DATA-3: `CFPB_MCP_DATA` is `live` or `fixtures`.
        assert_eq!(DataMode::Live.to_string(), "live");
        assert_eq!(DataMode::Fixtures.as_str(), "fixtures");
        use clap::ValueEnum;
        assert_eq!(DataMode::from_str("fixtures", true), Ok(DataMode::Fixtures));
    }

    #[test]
    fn errors_read_clearly() {
        // MSG-5: short, clear messages.
        assert_eq!(
            DataError::Status(503).to_string(),
            "upstream returned HTTP 503"
        );
        assert_eq!(
            DataError::Timeout(Duration::from_millis(1500)).to_string(),
            "the request timed out after 1s 500ms"
        );
    }

    #[test]
    fn complaint_url_points_at_the_cfpb_detail_page() {
        // DATA-4
        assert_eq!(
            complaint_url(1234567),
            "https://www.consumerfinance.gov/data-research/consumer-complaints/search/detail/1234567"
        );
    }

    #[tokio::test]
    async fn fixtures_source_reports_its_mode() {
        let source = DataSource::fixtures().expect("bundled fixtures load");
        assert_eq!(source.mode(), DataMode::Fixtures);
    }
}
