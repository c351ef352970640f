//! The live data source (DATA-3): the public CCDB5 API over one shared
//! `reqwest` client (rustls, connect + total timeouts, a User-Agent).
//!
//! It turns a validated [`SearchQuery`] into CCDB5 query parameters, bounds
//! every response body before parsing it, and maps every failure to a short
//! [`DataError`] that never carries the upstream body (MSG-5). At most
//! [`MAX_IN_FLIGHT`] requests are in flight at once, and at most
//! [`MAX_PER_CALLER`] for one caller (DATA-11: a request waits for a slot
//! within its timeout, see `data::slots`), so what upstream bodies can cost
//! in memory is bounded whatever the load: `MAX_IN_FLIGHT` x
//! [`MAX_BODY_BYTES`], and no caller can take every slot. Redirects are
//! followed only on the configured upstream's scheme, host and port (DATA-3).
//! Each request's outcome and time are counted in the metrics (METRICS-2).

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use url::Url;

use crate::data::aggregate::{StateCounts, SuggestQuery, Trends, TrendsQuery};
use crate::data::caller;
use crate::data::complaint::{Complaint, SearchPage};
use crate::data::error::DataError;
use crate::data::query::SearchQuery;
use crate::data::slots::UpstreamSlots;
use crate::data::{ccdb5, ccdb5_aggs};
use crate::metrics::{Metrics, UpstreamOutcome};

/// The largest response body we read (a 100-result page with long narratives
/// is well under 2 MiB).
pub const MAX_BODY_BYTES: usize = 8 * 1024 * 1024;

/// Redirects followed per request, all on the upstream's own origin.
const MAX_REDIRECTS: usize = 3;

/// The longest we wait for a TCP/TLS connection, whatever the total timeout.
const MAX_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

const USER_AGENT: &str = concat!(
    "cfpb-mcp-server/",
    env!("CARGO_PKG_VERSION"),
    " (MCP server for the CFPB Consumer Complaint Database)"
);

/// The CCDB5 API client. Cloning shares the connection pool.
#[derive(Clone)]
pub struct LiveSource {
    /// Shared client: one connection pool for every session.
    client: reqwest::Client,
    /// The API base, always ending in `/`; a document is `<base><id>`.
    base: Url,
    /// Total time allowed per request, reported in timeout errors.
    timeout: Duration,
    /// One slot per request in flight ([`MAX_IN_FLIGHT`], [`MAX_PER_CALLER`]).
    slots: Arc<UpstreamSlots>,
    /// Where each request's outcome is counted.
    metrics: Arc<Metrics>,
}

impl fmt::Debug for LiveSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LiveSource")
            .field("base", &self.base.as_str())
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl LiveSource {
    /// A client for the API at `api_base` (an http or https URL; a missing
    /// trailing `/` is added) with a total per-request `timeout`.
    pub fn new(api_base: Url, timeout: Duration) -> Result<Self, DataError> {
        if !matches!(api_base.scheme(), "http" | "https") || api_base.cannot_be_a_base() {
            return Err(DataError::Client(
                "the API base must be an http:// or https:// URL".to_owned(),
            ));
        }
        if timeout.is_zero() {
            return Err(DataError::Client(
                "the request timeout must be positive".to_owned(),
            ));
        }
        let mut base = api_base;
        base.set_fragment(None);
        if !base.path().ends_with('/') {
            let path = format!("{}/", base.path());
            base.set_path(&path);
        }
        let client = reqwest::Client::builder()
            .user_agent(USER_AGENT)
            .connect_timeout(timeout.min(MAX_CONNECT_TIMEOUT))
            .timeout(timeout)
            .redirect(same_origin_redirects(&base))
            .build()
            .map_err(|error| DataError::Client(error_chain(&error)))?;
        Ok(LiveSource {
            client,
            base,
            timeout,
            slots: Arc::new(UpstreamSlots::default()),
            // Counted nowhere until the server hands its own (`with_metrics`).
            metrics: Arc::new(Metrics::new()),
        })
    }

    /// The API base this source queries.
    pub fn base(&self) -> &Url {
        &self.base
    }

    /// The CCDB5 search URL for `q` (DATA-1): list filters repeat their
    /// parameter once per value; `field` is sent only with a `search_term`.
    pub fn search_url(&self, q: &SearchQuery) -> Url {
        let mut url = self.base.clone();
        {
            let mut pairs = url.query_pairs_mut();
            append_filters(&mut pairs, q);
            pairs.append_pair("size", &q.size.to_string());
            pairs.append_pair("frm", &q.frm.to_string());
            pairs.append_pair("sort", q.sort.as_str());
            pairs.append_pair("no_aggs", "true");
        }
        url
    }

    /// `<base><path>` with no query.
    fn endpoint(&self, path: &str) -> Url {
        let mut url = self.base.clone();
        url.set_query(None);
        if let Ok(mut segments) = url.path_segments_mut() {
            segments.pop_if_empty();
            for segment in path.split('/') {
                segments.push(segment);
            }
        }
        url
    }

    /// The CCDB5 trends URL (DATA-6): `<base>trends` with the filters, `lens`,
    /// `trend_interval`, `trend_depth`, and `sub_lens` / `sub_lens_depth` /
    /// `focus` when given (CCDB5 rejects `sub_lens_depth` without `sub_lens`).
    pub fn trends_url(&self, q: &TrendsQuery) -> Url {
        let mut url = self.endpoint("trends");
        {
            let mut pairs = url.query_pairs_mut();
            append_filters(&mut pairs, &q.filters);
            pairs.append_pair("lens", q.lens.as_str());
            pairs.append_pair("trend_interval", q.interval.as_str());
            pairs.append_pair("trend_depth", &q.trend_depth.to_string());
            if let Some(sub_lens) = q.sub_lens {
                pairs.append_pair("sub_lens", sub_lens.as_str());
                pairs.append_pair("sub_lens_depth", &q.sub_lens_depth.to_string());
            }
            if let Some(focus) = &q.focus {
                pairs.append_pair("focus", focus);
            }
        }
        url
    }

    /// The CCDB5 state aggregation URL (DATA-7): `<base>geo/states` with the filters.
    pub fn states_url(&self, filters: &SearchQuery) -> Url {
        let mut url = self.endpoint("geo/states");
        append_filters(&mut url.query_pairs_mut(), filters);
        url
    }

    /// The CCDB5 autocomplete URL (DATA-8): `<base>_suggest_company` or
    /// `<base>_suggest_zip` with `text` and `size`.
    pub fn suggest_url(&self, q: &SuggestQuery) -> Url {
        let mut url = self.endpoint(q.field.endpoint());
        url.query_pairs_mut()
            .append_pair("text", &q.text)
            .append_pair("size", &q.size.to_string());
        url
    }

    /// The CCDB5 document URL: `<base><complaint_id>` (DATA-5).
    pub fn document_url(&self, complaint_id: u64) -> Url {
        self.endpoint(&complaint_id.to_string())
    }

    /// One page of results (DATA-1, DATA-5).
    pub async fn search(&self, q: &SearchQuery) -> Result<SearchPage, DataError> {
        let body = self.fetch_found(self.search_url(q)).await?;
        ccdb5::parse_search(&body)
    }

    /// Counts over time (DATA-6).
    pub async fn trends(&self, q: &TrendsQuery) -> Result<Trends, DataError> {
        let body = self.fetch_found(self.trends_url(q)).await?;
        ccdb5_aggs::parse_trends(&body, q.lens.field().map(|_| q.lens.as_str()))
    }

    /// Counts by state (DATA-7).
    pub async fn states(&self, filters: &SearchQuery) -> Result<StateCounts, DataError> {
        let body = self.fetch_found(self.states_url(filters)).await?;
        ccdb5_aggs::parse_states(&body)
    }

    /// Autocomplete values (DATA-8).
    pub async fn suggest(&self, q: &SuggestQuery) -> Result<Vec<String>, DataError> {
        let body = self.fetch_found(self.suggest_url(q)).await?;
        ccdb5_aggs::parse_suggestions(&body, q.size as usize)
    }

    /// [`LiveSource::fetch`], a 404 being an error.
    async fn fetch_found(&self, url: Url) -> Result<Vec<u8>, DataError> {
        self.fetch(url)
            .await?
            .ok_or(DataError::Status(StatusCode::NOT_FOUND.as_u16()))
    }

    /// One complaint; `Ok(None)` on 404 or a response without it (DATA-2).
    pub async fn document(&self, complaint_id: u64) -> Result<Option<Complaint>, DataError> {
        match self.fetch(self.document_url(complaint_id)).await? {
            Some(body) => ccdb5::parse_document(&body, complaint_id),
            None => Ok(None),
        }
    }

    /// Count this source's requests in `metrics` (the server's).
    pub fn with_metrics(mut self, metrics: Arc<Metrics>) -> Self {
        self.metrics = metrics;
        self
    }

    /// GET `url`: the body of a 2xx response (at most [`MAX_BODY_BYTES`]),
    /// `None` for a 404, an error otherwise. Waits within the request
    /// timeout for a slot: one of the caller's [`MAX_PER_CALLER`], then one
    /// of the server's [`MAX_IN_FLIGHT`] (DATA-11).
    async fn fetch(&self, url: Url) -> Result<Option<Vec<u8>>, DataError> {
        let started = Instant::now();
        let slot = self.slots.acquire(caller::current());
        let result = match tokio::time::timeout(self.timeout, slot).await {
            Ok(Some(_slot)) => self.fetch_now(url).await,
            _ => Err(DataError::Timeout(self.timeout)),
        };
        let outcome = match &result {
            Ok(Some(_)) => UpstreamOutcome::Ok,
            Ok(None) => UpstreamOutcome::NotFound,
            Err(DataError::Timeout(_)) => UpstreamOutcome::Timeout,
            Err(DataError::Connect(_)) => UpstreamOutcome::Connect,
            Err(DataError::Status(_)) => UpstreamOutcome::Status,
            Err(DataError::TooLarge { .. }) => UpstreamOutcome::TooLarge,
            Err(_) => UpstreamOutcome::Request,
        };
        self.metrics.upstream(outcome, started.elapsed());
        result
    }

    /// [`LiveSource::fetch`] once a slot is held.
    async fn fetch_now(&self, url: Url) -> Result<Option<Vec<u8>>, DataError> {
        let mut response = self
            .client
            .get(url)
            .header(reqwest::header::ACCEPT, "application/json")
            .send()
            .await
            .map_err(|error| self.map_error(&error))?;
        let status = response.status();
        if status == StatusCode::NOT_FOUND {
            return Ok(None);
        }
        if !status.is_success() {
            return Err(DataError::Status(status.as_u16()));
        }
        if response
            .content_length()
            .is_some_and(|length| length > MAX_BODY_BYTES as u64)
        {
            return Err(DataError::TooLarge {
                limit: MAX_BODY_BYTES,
            });
        }
        let mut body = Vec::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|error| self.map_error(&error))?
        {
            if body.len() + chunk.len() > MAX_BODY_BYTES {
                return Err(DataError::TooLarge {
                    limit: MAX_BODY_BYTES,
                });
            }
            body.extend_from_slice(&chunk);
        }
        Ok(Some(body))
    }

    fn map_error(&self, error: &reqwest::Error) -> DataError {
        if error.is_timeout() {
            DataError::Timeout(self.timeout)
        } else if error.is_connect() {
            DataError::Connect(error_chain(error))
        } else {
            DataError::Request(error_chain(error))
        }
    }
}

/// Follow at most [`MAX_REDIRECTS`] redirects, and only to the scheme, host
/// and port of `base` (DATA-3): the upstream may move a path, never send
/// the server elsewhere. A redirect off it is not followed, and its 3xx
/// status is the request's error.
fn same_origin_redirects(base: &Url) -> reqwest::redirect::Policy {
    let origin = base.origin();
    reqwest::redirect::Policy::custom(move |attempt| {
        if attempt.previous().len() > MAX_REDIRECTS || attempt.url().origin() != origin {
            attempt.stop()
        } else {
            attempt.follow()
        }
    })
}

/// The search filters of `q` as CCDB5 parameters (DATA-1), shared by the
/// search, trends and states endpoints.
fn append_filters(
    pairs: &mut url::form_urlencoded::Serializer<'_, url::UrlQuery<'_>>,
    q: &SearchQuery,
) {
    if let Some(term) = &q.search_term {
        pairs.append_pair("search_term", term);
        pairs.append_pair("field", q.field.as_str());
    }
    let lists: [(&str, &Vec<String>); 7] = [
        ("company", &q.company),
        ("product", &q.product),
        ("issue", &q.issue),
        ("state", &q.state),
        ("submitted_via", &q.submitted_via),
        ("tags", &q.tags),
        ("company_response", &q.company_response),
    ];
    for (name, values) in lists {
        for value in values {
            pairs.append_pair(name, value);
        }
    }
    if let Some(day) = q.date_received_min {
        pairs.append_pair("date_received_min", &day.to_string());
    }
    if let Some(day) = q.date_received_max {
        pairs.append_pair("date_received_max", &day.to_string());
    }
    if let Some(has_narrative) = q.has_narrative {
        pairs.append_pair(
            "has_narrative",
            if has_narrative { "true" } else { "false" },
        );
    }
}

/// The error and its causes, without the URL, bounded.
fn error_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut parts = Vec::new();
    let mut current = Some(error);
    while let Some(error) = current {
        let text = match error.downcast_ref::<reqwest::Error>() {
            // reqwest's Display names the URL; its kind is what matters.
            Some(reqwest_error) => strip_url(&reqwest_error.to_string()),
            _ => error.to_string(),
        };
        if !text.is_empty() && parts.last() != Some(&text) {
            parts.push(text);
        }
        current = error.source();
    }
    ccdb5::bounded(&parts.join(": "))
}

/// reqwest formats "error sending request for url (URL)"; keep the words.
fn strip_url(text: &str) -> String {
    match text.find(" for url (") {
        Some(index) => text[..index].to_owned(),
        None => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::{CalendarDate, SearchField, SortOrder};

    fn source(base: &str) -> LiveSource {
        let base = Url::parse(base).expect("valid url");
        LiveSource::new(base, Duration::from_secs(5)).expect("client builds")
    }

    #[test]
    fn search_url_carries_every_ccdb5_parameter() {
        // DATA-1 / DATA-3: CCDB5 parameter names, lists repeated.
        let live = source("https://example.test/api/v1/");
        let q = SearchQuery {
            search_term: Some("late fee".to_owned()),
            field: SearchField::All,
            company: vec!["A & B".to_owned(), "C".to_owned()],
            product: vec!["Mortgage".to_owned()],
            issue: vec!["Fees".to_owned()],
            state: vec!["CA".to_owned()],
            submitted_via: vec!["Web".to_owned()],
            tags: vec!["Older American".to_owned()],
            company_response: vec!["Closed".to_owned()],
            date_received_min: CalendarDate::parse("2020-01-01"),
            date_received_max: CalendarDate::parse("2020-12-31"),
            has_narrative: Some(true),
            size: 25,
            frm: 50,
            sort: SortOrder::CreatedDateDesc,
        };
        let url = live.search_url(&q);
        assert_eq!(url.path(), "/api/v1/");
        let pairs: Vec<(String, String)> = url.query_pairs().into_owned().collect();
        let expected: Vec<(String, String)> = [
            ("search_term", "late fee"),
            ("field", "all"),
            ("company", "A & B"),
            ("company", "C"),
            ("product", "Mortgage"),
            ("issue", "Fees"),
            ("state", "CA"),
            ("submitted_via", "Web"),
            ("tags", "Older American"),
            ("company_response", "Closed"),
            ("date_received_min", "2020-01-01"),
            ("date_received_max", "2020-12-31"),
            ("has_narrative", "true"),
            ("size", "25"),
            ("frm", "50"),
            ("sort", "created_date_desc"),
            ("no_aggs", "true"),
        ]
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
        assert_eq!(pairs, expected);
    }

    #[test]
    fn default_search_sends_paging_and_sort_only() {
        let live = source("https://example.test/api/v1/");
        let url = live.search_url(&SearchQuery::default());
        assert_eq!(
            url.query(),
            Some("size=10&frm=0&sort=relevance_desc&no_aggs=true")
        );
    }

    #[test]
    fn document_url_appends_the_id_to_the_base() {
        // DATA-5: a document is fetched at <CFPB_API_BASE><complaint_id>.
        assert_eq!(
            source("https://example.test/api/v1/")
                .document_url(123)
                .as_str(),
            "https://example.test/api/v1/123"
        );
        assert_eq!(
            source("https://example.test/api/v1")
                .document_url(123)
                .as_str(),
            "https://example.test/api/v1/123",
            "a missing trailing slash is added"
        );
    }

    #[test]
    fn aggregation_urls_carry_their_parameters() {
        // DATA-6 / DATA-7 / DATA-8: CCDB5 endpoint paths and parameter names.
        use crate::data::aggregate::{GroupField, Lens, SuggestField, TrendInterval};
        let live = source("https://example.test/api/v1/");
        let filters = SearchQuery {
            product: vec!["Mortgage".to_owned()],
            ..SearchQuery::default()
        };
        let mut q = TrendsQuery::overview(filters.clone(), TrendInterval::Week);
        q.lens = Lens::Product;
        q.sub_lens = Some(GroupField::SubProduct);
        q.focus = Some("Mortgage".to_owned());
        assert_eq!(
            live.trends_url(&q).as_str(),
            "https://example.test/api/v1/trends?product=Mortgage&lens=product&trend_interval=week\
             &trend_depth=5&sub_lens=sub_product&sub_lens_depth=5&focus=Mortgage"
        );
        assert_eq!(
            live.states_url(&filters).as_str(),
            "https://example.test/api/v1/geo/states?product=Mortgage"
        );
        let suggest = SuggestQuery {
            field: SuggestField::ZipCode,
            text: "94".to_owned(),
            size: 3,
        };
        assert_eq!(
            live.suggest_url(&suggest).as_str(),
            "https://example.test/api/v1/_suggest_zip?text=94&size=3"
        );
    }

    #[test]
    fn rejects_non_http_bases_and_zero_timeouts() {
        let base = Url::parse("ftp://example.test/").expect("valid url");
        assert!(LiveSource::new(base, Duration::from_secs(1)).is_err());
        let base = Url::parse("https://example.test/").expect("valid url");
        assert!(LiveSource::new(base, Duration::ZERO).is_err());
    }

    /// The mock upstream's requests for `path` so far.
    async fn requests_for(upstream: &wiremock::MockServer, path: &str) -> usize {
        let received = upstream.received_requests().await.unwrap_or_default();
        received.iter().filter(|r| r.url.path() == path).count()
    }

    #[tokio::test]
    async fn data_11_a_caller_holding_its_share_cannot_block_another() {
        use crate::data::caller::CallerTag;
        use crate::data::slots::{MAX_IN_FLIGHT, MAX_PER_CALLER};
        use wiremock::matchers::path;
        use wiremock::{Mock, MockServer, ResponseTemplate};
        let upstream = MockServer::start().await;
        // Caller A's documents hang upstream (well past the test); B's don't.
        Mock::given(path("/api/1"))
            .respond_with(ResponseTemplate::new(404).set_delay(Duration::from_secs(60)))
            .mount(&upstream)
            .await;
        Mock::given(path("/api/2"))
            .respond_with(ResponseTemplate::new(404))
            .mount(&upstream)
            .await;
        let base = Url::parse(&format!("{}/api/", upstream.uri())).expect("valid url");
        let live = LiveSource::new(base, Duration::from_secs(120)).expect("client builds");
        let a = CallerTag::from_byte(1);
        let hogs: Vec<_> = (0..2 * MAX_IN_FLIGHT)
            .map(|_| {
                let live = live.clone();
                tokio::spawn(CallerTag::scope(
                    Some(a),
                    async move { live.document(1).await },
                ))
            })
            .collect();
        // A holds every slot it may: its share has reached the upstream.
        let deadline = Instant::now() + Duration::from_secs(10);
        while requests_for(&upstream, "/api/1").await < MAX_PER_CALLER {
            assert!(Instant::now() < deadline, "A's requests never arrived");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        // B is answered without waiting for any of A's (on a FIFO for the
        // whole server it would queue behind all sixteen, a minute each).
        let b = CallerTag::scope(Some(CallerTag::from_byte(2)), live.document(2));
        let asked = Instant::now();
        let answer = tokio::time::timeout(Duration::from_secs(10), b).await;
        println!("DATA-11: B answered in {:?} beside A's 16", asked.elapsed());
        assert!(matches!(answer, Ok(Ok(None))), "{answer:?}");
        assert_eq!(requests_for(&upstream, "/api/1").await, MAX_PER_CALLER);
        for hog in hogs {
            hog.abort();
        }
    }

    #[tokio::test]
    async fn data_3_redirects_off_the_upstream_are_not_followed() {
        use wiremock::matchers::{any, path};
        use wiremock::{Mock, MockServer, ResponseTemplate};
        let elsewhere = MockServer::start().await;
        Mock::given(any())
            .respond_with(ResponseTemplate::new(200).set_body_string("{}"))
            .mount(&elsewhere)
            .await;
        let upstream = MockServer::start().await;
        let off = format!("{}/api/1", elsewhere.uri());
        Mock::given(path("/api/1"))
            .respond_with(ResponseTemplate::new(302).insert_header("Location", off.as_str()))
            .mount(&upstream)
            .await;
        Mock::given(path("/api/2"))
            .respond_with(ResponseTemplate::new(301).insert_header("Location", "/api/moved/2"))
            .mount(&upstream)
            .await;
        Mock::given(path("/api/moved/2"))
            .respond_with(ResponseTemplate::new(404))
            .mount(&upstream)
            .await;
        let live = source(&format!("{}/api/", upstream.uri()));
        let off_host = live.document(1).await;
        assert!(
            matches!(off_host, Err(DataError::Status(302))),
            "{off_host:?}"
        );
        assert_eq!(
            requests_for(&elsewhere, "/api/1").await,
            0,
            "never sent elsewhere"
        );
        // A redirect on the upstream's own origin is followed.
        assert!(matches!(live.document(2).await, Ok(None)));
        assert_eq!(requests_for(&upstream, "/api/moved/2").await, 1);
    }

    #[test]
    fn strip_url_removes_the_url() {
        assert_eq!(
            strip_url("error sending request for url (http://x/?q=1)"),
            "error sending request"
        );
    }
}
