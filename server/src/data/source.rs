//! The data source the tools query (DATA-3): the live CCDB5 API or the
//! bundled synthetic dataset, chosen once at start by [`DataMode`].

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use crate::data::aggregate::{StateCounts, SuggestQuery, Trends, TrendsQuery};
use crate::data::complaint::{Complaint, SearchPage};
use crate::data::error::DataError;
use crate::data::query::SearchQuery;
use crate::data::{fixtures, live};

/// The public CCDB5 search API (DATA-3); a document lives at `<base><complaint_id>`.
pub const DEFAULT_API_BASE: &str =
    "https://www.consumerfinance.gov/data-research/consumer-complaints/search/api/v1/";

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

    /// The same source, its upstream requests counted in `metrics` (only the
    /// live source makes any).
    pub fn with_metrics(self, metrics: Arc<crate::metrics::Metrics>) -> Self {
        match self {
            DataSource::Live(live) => DataSource::Live(live.with_metrics(metrics)),
            fixtures => fixtures,
        }
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

    /// Counts over time with the search filters (DATA-6).
    pub async fn trends(&self, q: &TrendsQuery) -> Result<Trends, DataError> {
        match self {
            DataSource::Live(live) => live.trends(q).await,
            DataSource::Fixtures(fixtures) => Ok(fixtures.trends(q)),
        }
    }

    /// Counts by US state with the search filters (DATA-7).
    pub async fn states(&self, filters: &SearchQuery) -> Result<StateCounts, DataError> {
        match self {
            DataSource::Live(live) => live.states(filters).await,
            DataSource::Fixtures(fixtures) => Ok(fixtures.states(filters)),
        }
    }

    /// Company or ZIP code values starting with the typed text (DATA-8).
    pub async fn suggest(&self, q: &SuggestQuery) -> Result<Vec<String>, DataError> {
        match self {
            DataSource::Live(live) => live.suggest(q).await,
            DataSource::Fixtures(fixtures) => Ok(fixtures.suggest(q)),
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

    #[tokio::test]
    async fn fixtures_source_reports_its_mode() {
        let source = DataSource::fixtures().expect("bundled fixtures load");
        assert_eq!(source.mode(), DataMode::Fixtures);
    }
}
