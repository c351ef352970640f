//! A validated CCDB5 search (DATA-1): the typed query both data sources
//! accept. Building one from client input (and rejecting bad input) is the
//! job of `tools`; this module only defines the types and their wire names.

use std::fmt;

/// Which field `search_term` searches (CCDB5 `field`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum SearchField {
    /// The consumer's narrative (the CCDB5 default).
    #[default]
    ComplaintWhatHappened,
    /// The company name.
    Company,
    /// Every text field.
    All,
}

impl SearchField {
    /// The CCDB5 parameter value.
    pub fn as_str(self) -> &'static str {
        match self {
            SearchField::ComplaintWhatHappened => "complaint_what_happened",
            SearchField::Company => "company",
            SearchField::All => "all",
        }
    }
}

/// Result order (CCDB5 `sort`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum SortOrder {
    /// Best match first (the CCDB5 default).
    #[default]
    RelevanceDesc,
    /// Newest `date_received` first.
    CreatedDateDesc,
}

impl SortOrder {
    /// The CCDB5 parameter value.
    pub fn as_str(self) -> &'static str {
        match self {
            SortOrder::RelevanceDesc => "relevance_desc",
            SortOrder::CreatedDateDesc => "created_date_desc",
        }
    }
}

/// A calendar date, `YYYY-MM-DD`, checked to exist (no 2023-02-30).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CalendarDate {
    year: u16,
    month: u8,
    day: u8,
}

impl CalendarDate {
    /// Parses exactly `YYYY-MM-DD` (ASCII digits, a real calendar day).
    pub fn parse(text: &str) -> Option<Self> {
        let bytes = text.as_bytes();
        if bytes.len() != 10 || bytes[4] != b'-' || bytes[7] != b'-' {
            return None;
        }
        let digits = |range: std::ops::Range<usize>| -> Option<u16> {
            let part = &bytes[range];
            if !part.iter().all(u8::is_ascii_digit) {
                return None;
            }
            part.iter()
                .try_fold(0u16, |acc, d| Some(acc * 10 + u16::from(d - b'0')))
        };
        let year = digits(0..4)?;
        let month = u8::try_from(digits(5..7)?).ok()?;
        let day = u8::try_from(digits(8..10)?).ok()?;
        if year == 0 || !(1..=12).contains(&month) || day == 0 || day > days_in_month(year, month) {
            return None;
        }
        Some(CalendarDate { year, month, day })
    }
}

impl CalendarDate {
    /// The year.
    pub fn year(self) -> u16 {
        self.year
    }

    /// The month, 1 to 12.
    pub fn month(self) -> u8 {
        self.month
    }

    /// The day of the month.
    pub fn day(self) -> u8 {
        self.day
    }

    /// The first day of `month` in `year` (`month` 1 to 12, else `None`).
    pub fn first_of(year: u16, month: u8) -> Option<Self> {
        (year > 0 && (1..=12).contains(&month)).then_some(CalendarDate {
            year,
            month,
            day: 1,
        })
    }

    /// Days since 1970-01-01 (negative before), proleptic Gregorian.
    pub fn days_since_epoch(self) -> i64 {
        // Howard Hinnant's days_from_civil.
        let month = i64::from(self.month);
        let year = i64::from(self.year) - i64::from(month <= 2);
        let era = year.div_euclid(400);
        let yoe = year - era * 400;
        let mp = (month + 9) % 12;
        let doy = (153 * mp + 2) / 5 + i64::from(self.day) - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        era * 146_097 + doe - 719_468
    }

    /// The day `days` after 1970-01-01; `None` outside years 1..=9999.
    pub fn from_days_since_epoch(days: i64) -> Option<Self> {
        // Howard Hinnant's civil_from_days.
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z - era * 146_097;
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = doy - (153 * mp + 2) / 5 + 1;
        let month = if mp < 10 { mp + 3 } else { mp - 9 };
        let year = yoe + era * 400 + i64::from(month <= 2);
        Some(CalendarDate {
            year: u16::try_from(year)
                .ok()
                .filter(|y| (1..=9999).contains(y))?,
            month: u8::try_from(month).ok()?,
            day: u8::try_from(day).ok()?,
        })
    }

    /// Monday = 0 ... Sunday = 6.
    pub fn weekday_from_monday(self) -> i64 {
        // 1970-01-01 was a Thursday (3).
        (self.days_since_epoch() + 3).rem_euclid(7)
    }
}

fn days_in_month(year: u16, month: u8) -> u8 {
    match month {
        2 if (year.is_multiple_of(4) && !year.is_multiple_of(100)) || year.is_multiple_of(400) => {
            29
        }
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

impl fmt::Display for CalendarDate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

/// A search over the complaint database, already validated (DATA-1).
/// List filters match any of their values (OR); different filters combine
/// with AND. An empty list means "no filter".
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SearchQuery {
    /// Words to look for in `field`.
    pub search_term: Option<String>,
    /// The field `search_term` searches.
    pub field: SearchField,
    /// Company names.
    pub company: Vec<String>,
    /// Products (CCDB5 also accepts `Product•Sub-product`).
    pub product: Vec<String>,
    /// Issues (CCDB5 also accepts `Issue•Sub-issue`).
    pub issue: Vec<String>,
    /// Two-letter state codes.
    pub state: Vec<String>,
    /// How the complaint was submitted (`Web`, `Phone`, ...).
    pub submitted_via: Vec<String>,
    /// Tags (`Older American`, `Servicemember`).
    pub tags: Vec<String>,
    /// The company's response (`Closed with explanation`, ...).
    pub company_response: Vec<String>,
    /// Received on or after this day.
    pub date_received_min: Option<CalendarDate>,
    /// Received on or before this day.
    pub date_received_max: Option<CalendarDate>,
    /// Only complaints with (true) or without (false) a published narrative.
    pub has_narrative: Option<bool>,
    /// Page size, 1 to [`SearchQuery::MAX_SIZE`].
    pub size: u32,
    /// Offset of the first result.
    pub frm: u32,
    /// Result order.
    pub sort: SortOrder,
}

impl SearchQuery {
    /// Default page size (DATA-1).
    pub const DEFAULT_SIZE: u32 = 10;
    /// Largest page size (DATA-1).
    pub const MAX_SIZE: u32 = 100;
    /// Largest offset: the CCDB5 search index serves at most 10,000 results.
    pub const MAX_FRM: u32 = 10_000;
}

impl Default for SearchQuery {
    fn default() -> Self {
        SearchQuery {
            search_term: None,
            field: SearchField::default(),
            company: Vec::new(),
            product: Vec::new(),
            issue: Vec::new(),
            state: Vec::new(),
            submitted_via: Vec::new(),
            tags: Vec::new(),
            company_response: Vec::new(),
            date_received_min: None,
            date_received_max: None,
            has_narrative: None,
            size: Self::DEFAULT_SIZE,
            frm: 0,
            sort: SortOrder::default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calendar_dates_parse_only_real_days() {
        // DATA-1: date_received_min / _max are YYYY-MM-DD.
        assert_eq!(
            CalendarDate::parse("2024-02-29").map(|d| d.to_string()),
            Some("2024-02-29".to_owned())
        );
        for bad in [
            "2023-02-29",
            "2023-13-01",
            "2023-00-10",
            "2023-04-31",
            "2023-4-01",
            "20230401",
            "2023/04/01",
            "２０２３-04-01",
            "0000-01-01",
            "2023-04-01T00:00:00",
            "",
        ] {
            assert_eq!(CalendarDate::parse(bad), None, "{bad}");
        }
        assert_eq!(
            CalendarDate::parse("1900-02-29"),
            None,
            "1900 is not a leap year"
        );
        assert!(CalendarDate::parse("2000-02-29").is_some());
    }

    #[test]
    fn day_numbers_round_trip() {
        for text in [
            "1970-01-01",
            "2000-02-29",
            "2016-06-01",
            "2024-12-31",
            "1969-12-31",
        ] {
            let day = CalendarDate::parse(text).expect("valid");
            let back = CalendarDate::from_days_since_epoch(day.days_since_epoch());
            assert_eq!(back, Some(day), "{text}");
        }
        assert_eq!(
            CalendarDate::parse("1970-01-02").map(|d| d.days_since_epoch()),
            Some(1)
        );
        // 2024-01-01 was a Monday.
        assert_eq!(
            CalendarDate::parse("2024-01-01").map(|d| d.weekday_from_monday()),
            Some(0)
        );
    }

    #[test]
    fn dates_order_chronologically() {
        let a = CalendarDate::parse("2023-12-31");
        let b = CalendarDate::parse("2024-01-01");
        assert!(a < b);
    }

    #[test]
    fn wire_names_match_ccdb5() {
        assert_eq!(
            SearchField::ComplaintWhatHappened.as_str(),
            "complaint_what_happened"
        );
        assert_eq!(SearchField::All.as_str(), "all");
        assert_eq!(SortOrder::CreatedDateDesc.as_str(), "created_date_desc");
        assert_eq!(SearchQuery::default().size, 10);
    }
}
