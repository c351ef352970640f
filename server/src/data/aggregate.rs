//! Aggregation queries and results (DATA-6, DATA-7, DATA-8): counts over
//! time (CCDB5 `trends`), counts by state (CCDB5 `geo/states`) and filter
//! autocomplete (CCDB5 `_suggest_company` / `_suggest_zip`).
//!
//! Types only, with their CCDB5 wire names; both data sources take these
//! queries and return these results, so no tool knows which source answered.
//! Building a query from client input is the job of `tools`.

use crate::data::query::{CalendarDate, SearchQuery};

/// What a trends query breaks the counts down by (CCDB5 `lens`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Lens {
    /// All matching complaints as one series (the CCDB5 default).
    #[default]
    Overview,
    /// One series per product.
    Product,
    /// One series per issue.
    Issue,
    /// One series per company.
    Company,
}

impl Lens {
    /// The CCDB5 parameter value.
    pub fn as_str(self) -> &'static str {
        match self {
            Lens::Overview => "overview",
            Lens::Product => "product",
            Lens::Issue => "issue",
            Lens::Company => "company",
        }
    }

    /// The complaint field this lens groups by (`None` for the overview).
    pub fn field(self) -> Option<GroupField> {
        match self {
            Lens::Overview => None,
            Lens::Product => Some(GroupField::Product),
            Lens::Issue => Some(GroupField::Issue),
            Lens::Company => Some(GroupField::Company),
        }
    }
}

/// A complaint field a trend series can be grouped by (`sub_lens` values).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GroupField {
    /// `product`.
    Product,
    /// `sub_product`.
    SubProduct,
    /// `issue`.
    Issue,
    /// `sub_issue`.
    SubIssue,
    /// `company`.
    Company,
}

impl GroupField {
    /// The CCDB5 field name (and `sub_lens` value).
    pub fn as_str(self) -> &'static str {
        match self {
            GroupField::Product => "product",
            GroupField::SubProduct => "sub_product",
            GroupField::Issue => "issue",
            GroupField::SubIssue => "sub_issue",
            GroupField::Company => "company",
        }
    }
}

/// The width of one trend bucket (CCDB5 `trend_interval`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum TrendInterval {
    /// Calendar days.
    Day,
    /// Weeks starting on Monday (Elasticsearch's `date_histogram` weeks).
    Week,
    /// Calendar months (the default here).
    #[default]
    Month,
    /// Calendar quarters.
    Quarter,
    /// Calendar years.
    Year,
}

impl TrendInterval {
    /// The CCDB5 parameter value.
    pub fn as_str(self) -> &'static str {
        match self {
            TrendInterval::Day => "day",
            TrendInterval::Week => "week",
            TrendInterval::Month => "month",
            TrendInterval::Quarter => "quarter",
            TrendInterval::Year => "year",
        }
    }

    /// The first day of the bucket that holds `day`.
    pub fn bucket_start(self, day: CalendarDate) -> CalendarDate {
        let first = |month: u8| CalendarDate::first_of(day.year(), month).unwrap_or(day);
        match self {
            TrendInterval::Day => day,
            TrendInterval::Week => CalendarDate::from_days_since_epoch(
                day.days_since_epoch() - day.weekday_from_monday(),
            )
            .unwrap_or(day),
            TrendInterval::Month => first(day.month()),
            TrendInterval::Quarter => first((day.month() - 1) / 3 * 3 + 1),
            TrendInterval::Year => first(1),
        }
    }

    /// The first day of the bucket after the one starting at `start`.
    pub fn next_start(self, start: CalendarDate) -> CalendarDate {
        let months = |n: u8| {
            let index = u32::from(start.month()) - 1 + u32::from(n);
            let year = start
                .year()
                .saturating_add(u16::try_from(index / 12).unwrap_or(0));
            let month = u8::try_from(index % 12).unwrap_or(0) + 1;
            CalendarDate::first_of(year, month).unwrap_or(start)
        };
        let days = |n: i64| {
            CalendarDate::from_days_since_epoch(start.days_since_epoch() + n).unwrap_or(start)
        };
        match self {
            TrendInterval::Day => days(1),
            TrendInterval::Week => days(7),
            TrendInterval::Month => months(1),
            TrendInterval::Quarter => months(3),
            TrendInterval::Year => months(12),
        }
    }
}

/// A validated trends query (DATA-6).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TrendsQuery {
    /// The search filters (`size`, `frm` and `sort` are not used).
    pub filters: SearchQuery,
    /// What the series are grouped by.
    pub lens: Lens,
    /// Bucket width.
    pub interval: TrendInterval,
    /// How many groups (the largest by count) the lens returns.
    pub trend_depth: u32,
    /// A second grouping inside each group.
    pub sub_lens: Option<GroupField>,
    /// How many sub-groups each group returns.
    pub sub_lens_depth: u32,
    /// One value of the lens field to focus on (CCDB5 `focus`).
    pub focus: Option<String>,
}

impl TrendsQuery {
    /// Default `trend_depth` (as CCDB5).
    pub const DEFAULT_DEPTH: u32 = 5;
    /// Largest `trend_depth` / `sub_lens_depth`.
    pub const MAX_DEPTH: u32 = 100;

    /// An overview query with these filters.
    pub fn overview(filters: SearchQuery, interval: TrendInterval) -> Self {
        TrendsQuery {
            filters,
            lens: Lens::Overview,
            interval,
            trend_depth: Self::DEFAULT_DEPTH,
            sub_lens: None,
            sub_lens_depth: Self::DEFAULT_DEPTH,
            focus: None,
        }
    }
}

/// One bucket of a series: the first day of the period and its count.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TrendPoint {
    /// First day of the bucket.
    pub period: CalendarDate,
    /// Complaints received in it.
    pub count: u64,
}

/// One group's series (a product, an issue, a company, ...).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TrendGroup {
    /// The field value.
    pub key: String,
    /// All its matching complaints.
    pub count: u64,
    /// Its buckets, oldest first.
    pub points: Vec<TrendPoint>,
    /// Its `sub_lens` breakdown, largest first.
    pub sub_groups: Vec<TrendGroup>,
}

/// A trends result (DATA-6): the overall series and, for a lens other than
/// the overview, the largest groups.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Trends {
    /// Every matching complaint.
    pub total: u64,
    /// All matches per bucket, oldest first.
    pub overall: Vec<TrendPoint>,
    /// The lens groups, largest first.
    pub groups: Vec<TrendGroup>,
}

/// Complaints from one state.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StateCount {
    /// Two-letter code as CCDB5 stores it.
    pub state: String,
    /// Matching complaints.
    pub count: u64,
}

/// Counts by state (DATA-7), largest first.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StateCounts {
    /// Every matching complaint (with or without a state).
    pub total: u64,
    /// One entry per state with at least one match.
    pub states: Vec<StateCount>,
}

/// Which filter an autocomplete suggests values for (DATA-8).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SuggestField {
    /// Company names (`_suggest_company`).
    Company,
    /// Masked ZIP codes (`_suggest_zip`).
    ZipCode,
}

impl SuggestField {
    /// The complaint field.
    pub fn as_str(self) -> &'static str {
        match self {
            SuggestField::Company => "company",
            SuggestField::ZipCode => "zip_code",
        }
    }

    /// The CCDB5 endpoint, relative to the API base.
    pub fn endpoint(self) -> &'static str {
        match self {
            SuggestField::Company => "_suggest_company",
            SuggestField::ZipCode => "_suggest_zip",
        }
    }
}

/// A validated autocomplete query (DATA-8).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SuggestQuery {
    /// Which values.
    pub field: SuggestField,
    /// What the user typed so far.
    pub text: String,
    /// At most this many suggestions.
    pub size: u32,
}

impl SuggestQuery {
    /// Default number of suggestions.
    pub const DEFAULT_SIZE: u32 = 10;
    /// Largest number of suggestions.
    pub const MAX_SIZE: u32 = 50;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(text: &str) -> CalendarDate {
        CalendarDate::parse(text).expect("valid date")
    }

    #[test]
    fn buckets_start_where_elasticsearch_starts_them() {
        // DATA-6: day / week (Monday) / month / quarter / year buckets.
        let d = day("2024-05-16"); // a Thursday
        assert_eq!(TrendInterval::Day.bucket_start(d), d);
        assert_eq!(TrendInterval::Week.bucket_start(d), day("2024-05-13"));
        assert_eq!(TrendInterval::Month.bucket_start(d), day("2024-05-01"));
        assert_eq!(TrendInterval::Quarter.bucket_start(d), day("2024-04-01"));
        assert_eq!(TrendInterval::Year.bucket_start(d), day("2024-01-01"));
        assert_eq!(
            TrendInterval::Month.next_start(day("2024-12-01")),
            day("2025-01-01")
        );
        assert_eq!(
            TrendInterval::Quarter.next_start(day("2024-10-01")),
            day("2025-01-01")
        );
        assert_eq!(
            TrendInterval::Week.next_start(day("2024-12-30")),
            day("2025-01-06")
        );
    }
}
