//! The tail every data tool shares (DATA-4, MSG-5): bad arguments are an
//! `isError` result before the data source is asked anything; otherwise the
//! source is asked once and its answer is filled into the [`envelope`], or
//! its failure becomes an `isError` result. Never shapes a tool's fields.

use rmcp::model::{CallToolResult, JsonObject};

use super::args::ArgError;
use super::output::{envelope, error, success, upstream_error};
use crate::data::{DataError, DataSource};

/// Runs a tool whose arguments `parsed` to a query `Q`: `fetch` asks
/// `source`, `fill` writes the answer's fields after the envelope's.
pub async fn answer<Q, T>(
    source: &DataSource,
    parsed: Result<Q, ArgError>,
    fetch: impl AsyncFnOnce(&DataSource, &Q) -> Result<T, DataError>,
    fill: impl FnOnce(&Q, T, &mut JsonObject),
) -> CallToolResult {
    let query = match parsed {
        Ok(query) => query,
        Err(invalid) => return error(invalid.to_string()),
    };
    match fetch(source, &query).await {
        Ok(data) => {
            let mut result = envelope(source.mode());
            fill(&query, data, &mut result);
            success(result)
        }
        Err(failure) => upstream_error(source.mode(), &failure),
    }
}
