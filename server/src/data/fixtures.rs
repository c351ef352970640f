//! The offline data source (DATA-3, DATA-5): the bundled synthetic dataset
//! `fixtures/complaints.json`, embedded in the binary, parsed and indexed
//! once, and searched in memory with the CCDB5 filters (DATA-1).
//!
//! Matching rules (documented in `fixtures/README.md`):
//! - list filters: case-insensitive exact match, any value of a list (OR),
//!   all filters together (AND); `product` / `issue` values may also be
//!   `Product•Sub-product` / `Issue•Sub-issue`, as in CCDB5;
//! - `search_term`: every word (letters and digits, case-insensitive) must
//!   occur in `field`; the relevance score is the sum of the words' counts;
//! - dates: `date_received_min` / `_max` inclusive, by calendar day;
//! - `relevance_desc`: score descending, ties by `complaint_id` ascending;
//!   `created_date_desc`: `date_received` descending, ties by `complaint_id`
//!   descending (newest first).
//!
//! This data is invented; it must never be presented as real CFPB data (the
//! tools mark every result `"source": "fixtures"`).

use std::cmp::Reverse;
use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use crate::data::ccdb5;
use crate::data::complaint::{Complaint, SearchPage};
use crate::data::error::DataError;
use crate::data::query::{CalendarDate, SearchField, SearchQuery, SortOrder};

mod aggregate;
mod terms;

use terms::{Terms, Vocabulary, WordId};

/// The bundled dataset, compiled into the binary.
pub static BUNDLED_JSON: &str = include_str!("../../../fixtures/complaints.json");

/// CCDB5 separates a product from its sub-product (and an issue from its
/// sub-issue) with a bullet in filter values.
const HIERARCHY_SEPARATOR: char = '•';

/// One complaint and its words, computed at load (what its filters read is
/// its [`Keys`]).
struct Entry {
    complaint: Complaint,
    day: Option<CalendarDate>,
    narrative: Terms,
    company_terms: Terms,
    /// Product, sub-product, issue, sub-issue, public response, state, tags.
    other_terms: Terms,
}

/// What the filters of one complaint read, kept apart from its [`Entry`] in
/// a compact array (issue 25): a search scans every complaint's keys, and
/// 56 bytes each in a row scan far faster than the whole complaints. The
/// list-filtered fields, lower-cased and trimmed, are their numbers in the
/// dataset's [`Values`]: a filter compares numbers, not strings.
struct Keys {
    day: Option<CalendarDate>,
    product: ValueId,
    sub_product: ValueId,
    issue: ValueId,
    sub_issue: ValueId,
    company: ValueId,
    state: ValueId,
    submitted_via: ValueId,
    company_response: ValueId,
    tags: Box<[ValueId]>,
    has_narrative: bool,
}

/// A filtered field's value's number in [`Values`].
type ValueId = u32;

/// Every distinct value of the list-filtered fields (lower-cased, trimmed),
/// numbered at load (issue 25: a filter over 10,070 complaints compared
/// strings; numbers compare in a fraction of the time).
#[derive(Default)]
struct Values(HashMap<Box<str>, ValueId>);

impl Values {
    /// The number of `value` (normalized here), numbering it if new.
    fn number(&mut self, value: &str) -> ValueId {
        let value = value.trim().to_lowercase();
        if let Some(id) = self.0.get(value.as_str()) {
            return *id;
        }
        let id = ValueId::try_from(self.0.len()).unwrap_or(ValueId::MAX);
        self.0.insert(value.into(), id);
        id
    }

    /// The number of an already normalized `value`, if the dataset has it.
    fn find(&self, value: &str) -> Option<ValueId> {
        self.0.get(value).copied()
    }
}

impl Entry {
    fn new(complaint: Complaint, vocabulary: &mut Vocabulary, values: &mut Values) -> (Self, Keys) {
        let mut number = |field: &Option<String>| values.number(field.as_deref().unwrap_or(""));
        let others = [
            &complaint.product,
            &complaint.sub_product,
            &complaint.issue,
            &complaint.sub_issue,
            &complaint.company_public_response,
            &complaint.state,
        ]
        .into_iter()
        .flatten()
        .map(String::as_str)
        .chain(complaint.tags.iter().map(String::as_str));
        let other_terms = vocabulary.terms(others);
        let day = complaint.date_received_day().and_then(CalendarDate::parse);
        let keys = Keys {
            day,
            product: number(&complaint.product),
            sub_product: number(&complaint.sub_product),
            issue: number(&complaint.issue),
            sub_issue: number(&complaint.sub_issue),
            company: number(&complaint.company),
            state: number(&complaint.state),
            submitted_via: number(&complaint.submitted_via),
            company_response: number(&complaint.company_response),
            tags: complaint
                .tags
                .iter()
                .map(|tag| values.number(tag))
                .collect(),
            has_narrative: complaint.has_narrative.unwrap_or(false),
        };
        let entry = Entry {
            day,
            narrative: vocabulary.terms(complaint.complaint_what_happened.as_deref()),
            company_terms: vocabulary.terms(complaint.company.as_deref()),
            other_terms,
            complaint,
        };
        (entry, keys)
    }

    /// The relevance of `words` in `field`: `None` unless every word occurs.
    fn score(&self, words: &[WordId], field: SearchField) -> Option<u32> {
        let mut total = 0u32;
        for word in words.iter().copied() {
            let found = match field {
                SearchField::ComplaintWhatHappened => self.narrative.count(word),
                SearchField::Company => self.company_terms.count(word),
                SearchField::All => {
                    self.narrative.count(word)
                        + self.company_terms.count(word)
                        + self.other_terms.count(word)
                }
            };
            if found == 0 {
                return None;
            }
            total = total.saturating_add(found);
        }
        Some(total)
    }
}

/// A list filter, its values lower-cased and looked up once per query: a
/// value the dataset does not have can match nothing and is dropped, so a
/// filter whose values are all unknown accepts nothing (not everything).
struct ListFilter {
    /// No value given: every entry passes.
    open: bool,
    /// A value alone (`None`), or for a hierarchical filter `parent•child`.
    wanted: Vec<(ValueId, Option<ValueId>)>,
}

impl ListFilter {
    /// A filter whose values are compared whole.
    fn plain(given: &[String], values: &Values) -> Self {
        Self::with(given, |value| Some((values.find(value)?, None)))
    }

    /// A filter whose values may also be `parent•child` (product, issue).
    fn hierarchical(given: &[String], values: &Values) -> Self {
        Self::with(given, |value| match value.split_once(HIERARCHY_SEPARATOR) {
            Some((parent, child)) => Some((
                values.find(parent.trim())?,
                Some(values.find(child.trim())?),
            )),
            None => Some((values.find(value)?, None)),
        })
    }

    fn with(given: &[String], find: impl Fn(&str) -> Option<(ValueId, Option<ValueId>)>) -> Self {
        let wanted = given
            .iter()
            .filter_map(|value| find(&value.trim().to_lowercase()))
            .collect();
        ListFilter {
            open: given.is_empty(),
            wanted,
        }
    }

    fn accepts(&self, value: ValueId) -> bool {
        self.open || self.wanted.iter().any(|(wanted, _)| *wanted == value)
    }

    fn accepts_any(&self, values: &[ValueId]) -> bool {
        self.open || values.iter().any(|value| self.accepts(*value))
    }

    /// `parent` alone, or `parent•child`.
    fn accepts_pair(&self, parent: ValueId, child: ValueId) -> bool {
        self.open
            || self.wanted.iter().any(|(want_parent, want_child)| {
                *want_parent == parent && want_child.is_none_or(|c| c == child)
            })
    }
}

struct Filters {
    company: ListFilter,
    product: ListFilter,
    issue: ListFilter,
    state: ListFilter,
    submitted_via: ListFilter,
    tags: ListFilter,
    company_response: ListFilter,
    min: Option<CalendarDate>,
    max: Option<CalendarDate>,
    has_narrative: Option<bool>,
}

impl Filters {
    fn new(q: &SearchQuery, values: &Values) -> Self {
        Filters {
            company: ListFilter::plain(&q.company, values),
            product: ListFilter::hierarchical(&q.product, values),
            issue: ListFilter::hierarchical(&q.issue, values),
            state: ListFilter::plain(&q.state, values),
            submitted_via: ListFilter::plain(&q.submitted_via, values),
            tags: ListFilter::plain(&q.tags, values),
            company_response: ListFilter::plain(&q.company_response, values),
            min: q.date_received_min,
            max: q.date_received_max,
            has_narrative: q.has_narrative,
        }
    }

    fn accepts(&self, entry: &Keys) -> bool {
        let in_range = match (self.min, self.max) {
            (None, None) => true,
            _ => entry.day.is_some_and(|day| {
                self.min.is_none_or(|min| day >= min) && self.max.is_none_or(|max| day <= max)
            }),
        };
        in_range
            && self
                .has_narrative
                .is_none_or(|wanted| entry.has_narrative == wanted)
            && self.company.accepts(entry.company)
            && self.product.accepts_pair(entry.product, entry.sub_product)
            && self.issue.accepts_pair(entry.issue, entry.sub_issue)
            && self.state.accepts(entry.state)
            && self.submitted_via.accepts(entry.submitted_via)
            && self.tags.accepts_any(&entry.tags)
            && self.company_response.accepts(entry.company_response)
    }
}

/// The in-memory dataset and its indexes.
pub struct FixtureSource {
    entries: Vec<Entry>,
    /// `keys[i]` is what the filters read of `entries[i]`.
    keys: Vec<Keys>,
    by_id: HashMap<u64, usize>,
    vocabulary: Vocabulary,
    values: Values,
}

impl FixtureSource {
    /// The dataset compiled into the binary, parsed on first use and shared.
    pub fn bundled() -> Result<Arc<Self>, DataError> {
        static BUNDLED: OnceLock<Result<Arc<FixtureSource>, String>> = OnceLock::new();
        BUNDLED
            .get_or_init(|| {
                FixtureSource::from_json(BUNDLED_JSON.as_bytes())
                    .map(Arc::new)
                    .map_err(|error| error.to_string())
            })
            .clone()
            .map_err(DataError::Fixtures)
    }

    /// A dataset from a CCDB5 search response body (`hits.hits[]._source`).
    pub fn from_json(body: &[u8]) -> Result<Self, DataError> {
        let page =
            ccdb5::parse_search(body).map_err(|error| DataError::Fixtures(error.to_string()))?;
        Ok(Self::from_complaints(page.complaints))
    }

    /// A dataset from complaints; the first of duplicate ids wins lookups.
    pub fn from_complaints(complaints: Vec<Complaint>) -> Self {
        let mut vocabulary = Vocabulary::default();
        let mut values = Values::default();
        let (entries, keys): (Vec<Entry>, Vec<Keys>) = complaints
            .into_iter()
            .map(|complaint| Entry::new(complaint, &mut vocabulary, &mut values))
            .unzip();
        let mut by_id = HashMap::with_capacity(entries.len());
        for (index, entry) in entries.iter().enumerate() {
            by_id.entry(entry.complaint.complaint_id).or_insert(index);
        }
        FixtureSource {
            entries,
            keys,
            by_id,
            vocabulary,
            values,
        }
    }

    /// How many complaints the dataset holds.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the dataset is empty.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Every complaint, in file order.
    pub fn complaints(&self) -> impl Iterator<Item = &Complaint> {
        self.entries.iter().map(|entry| &entry.complaint)
    }

    /// Every entry that `q`'s filters and `search_term` accept, with its
    /// relevance score, in file order.
    fn matching(&self, q: &SearchQuery) -> Vec<(u32, &Entry)> {
        let filters = Filters::new(q, &self.values);
        let query_words = match q.search_term.as_deref() {
            None => Vec::new(),
            Some(term) => match self.vocabulary.lookup(term) {
                Some(ids) => ids,
                None => return Vec::new(), // a word no complaint has
            },
        };
        self.keys
            .iter()
            .zip(&self.entries)
            .filter(|(keys, _)| filters.accepts(keys))
            .filter_map(|(_, entry)| {
                if query_words.is_empty() {
                    Some((0, entry))
                } else {
                    entry
                        .score(&query_words, q.field)
                        .map(|score| (score, entry))
                }
            })
            .collect()
    }

    /// One page of matches (DATA-1); `total` counts every match.
    pub fn search(&self, q: &SearchQuery) -> SearchPage {
        let mut matches = self.matching(q);
        match q.sort {
            SortOrder::RelevanceDesc => matches
                .sort_by_key(|(score, entry)| (Reverse(*score), entry.complaint.complaint_id)),
            SortOrder::CreatedDateDesc => {
                matches.sort_by_key(|(_, entry)| Reverse((entry.day, entry.complaint.complaint_id)))
            }
        }
        let total = matches.len() as u64;
        let complaints = matches
            .into_iter()
            .skip(q.frm as usize)
            .take(q.size as usize)
            .map(|(_, entry)| entry.complaint.clone())
            .collect();
        SearchPage {
            total,
            total_is_exact: true,
            complaints,
        }
    }

    /// The complaint with this id (DATA-2).
    pub fn document(&self, complaint_id: u64) -> Option<Complaint> {
        self.by_id
            .get(&complaint_id)
            .and_then(|index| self.entries.get(*index))
            .map(|entry| entry.complaint.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn complaint(id: u64, day: &str, company: &str, product: &str, narrative: &str) -> Complaint {
        Complaint {
            complaint_id: id,
            date_received: Some(format!("{day}T12:00:00-05:00")),
            product: Some(product.to_owned()),
            sub_product: Some("Sub".to_owned()),
            issue: Some("Issue".to_owned()),
            sub_issue: Some("Sub-issue".to_owned()),
            complaint_what_happened: Some(narrative.to_owned()),
            company: Some(company.to_owned()),
            state: Some("CA".to_owned()),
            submitted_via: Some("Web".to_owned()),
            company_response: Some("Closed with explanation".to_owned()),
            tags: Vec::new(),
            ..Complaint::default()
        }
        .normalize(None)
    }

    fn small() -> FixtureSource {
        FixtureSource::from_complaints(vec![
            complaint(
                3,
                "2021-05-01",
                "Acme Fictional Bank, N.A.",
                "Mortgage",
                "late fee late fee",
            ),
            complaint(
                1,
                "2022-01-10",
                "Globex Example Financial",
                "Mortgage",
                "a late fee",
            ),
            complaint(
                2,
                "2022-01-10",
                "Acme Fictional Bank, N.A.",
                "Credit card",
                "",
            ),
            complaint(
                4,
                "2020-12-31",
                "Initech Sample",
                "Debt collection",
                "calls every day",
            ),
        ])
    }

    fn ids(page: &SearchPage) -> Vec<u64> {
        page.complaints.iter().map(|c| c.complaint_id).collect()
    }

    #[test]
    fn bundled_dataset_loads_with_enough_complaints() {
        // DATA-3 / DATA-5: a bundled dataset in the CCDB5 shape, >= 1,000 complaints.
        let source = FixtureSource::bundled().expect("bundled fixtures parse");
        assert!(source.len() >= 1000, "only {} complaints", source.len());
        let again = FixtureSource::bundled().expect("bundled fixtures parse");
        assert!(Arc::ptr_eq(&source, &again), "parsed once and shared");
    }

    #[test]
    fn bundled_dataset_is_marked_synthetic_and_uses_fictional_companies() {
        // DATA-5: fictional company names only.
        let source = FixtureSource::bundled().expect("bundled fixtures parse");
        let fictional = [
            "Fictional",
            "Example",
            "Sample",
            "Demo",
            "Imaginary",
            "Synthetic",
            "Notreal",
            "Pretend",
            "Specimen",
            "Fictitious",
        ];
        for complaint in source.complaints() {
            let company = complaint.company.as_deref().unwrap_or("");
            assert!(
                fictional.iter().any(|word| company.contains(word)),
                "company {company:?} does not look fictional"
            );
            assert!(
                complaint.complaint_id >= 90_000_000,
                "ids stay in the synthetic range"
            );
        }
        assert!(BUNDLED_JSON.contains("SYNTHETIC DATA"));
    }

    #[test]
    fn bundled_dataset_has_every_field_and_a_mix_of_values() {
        // DATA-5: every _source field is present in the file.
        let source = FixtureSource::bundled().expect("bundled fixtures parse");
        let first_hit = BUNDLED_JSON
            .lines()
            .find(|line| line.contains("\"_source\""))
            .unwrap_or("");
        for field in Complaint::FIELDS {
            assert!(
                first_hit.contains(&format!("\"{field}\":")),
                "missing {field}"
            );
        }
        let with_narrative = source
            .complaints()
            .filter(|c| c.has_narrative == Some(true))
            .count();
        let share = with_narrative * 100 / source.len();
        assert!((35..=65).contains(&share), "{share}% have narratives");
        let years: std::collections::BTreeSet<&str> = source
            .complaints()
            .filter_map(|c| c.date_received_day())
            .map(|d| &d[..4])
            .collect();
        assert!(years.len() >= 4, "{years:?}");
        assert!(
            source
                .complaints()
                .any(|c| c.tags.iter().any(|t| t == "Servicemember"))
        );
        assert!(
            source
                .complaints()
                .all(|c| c.zip_code.as_deref().is_some_and(|z| z.ends_with("XX")))
        );
    }

    #[test]
    fn no_filters_returns_everything_paged() {
        // DATA-1: size and frm page through the total.
        let source = small();
        let page = source.search(&SearchQuery {
            size: 2,
            ..SearchQuery::default()
        });
        assert_eq!(page.total, 4);
        assert_eq!(ids(&page), vec![1, 2], "relevance ties by id ascending");
        let page = source.search(&SearchQuery {
            size: 2,
            frm: 2,
            ..SearchQuery::default()
        });
        assert_eq!(ids(&page), vec![3, 4]);
        let page = source.search(&SearchQuery {
            size: 2,
            frm: 10,
            ..SearchQuery::default()
        });
        assert_eq!(page.total, 4);
        assert!(page.complaints.is_empty());
    }

    /// What keeps a search's scan cheap (issue 25): the keys it reads of
    /// every complaint are a small row apart from the complaint.
    #[test]
    fn a_complaints_filter_keys_are_a_small_row() {
        assert!(size_of::<Keys>() <= 64, "{} bytes", size_of::<Keys>());
        assert!(size_of::<Entry>() > 4 * size_of::<Keys>());
    }

    /// The numbered filters (issue 25) agree with comparing the strings, on
    /// the whole bundled dataset: every state, product, product•sub-product
    /// and tag as a filter, mixed case and padded, alone and with an unknown
    /// value beside it; an unknown value alone matches nothing.
    #[test]
    fn data_1_numbered_filters_match_what_the_strings_say() {
        let source = FixtureSource::bundled().expect("bundled fixtures parse");
        let norm = |v: &Option<String>| v.as_deref().unwrap_or("").trim().to_lowercase();
        let everything = SearchQuery {
            size: 1,
            ..SearchQuery::default()
        };
        let count = |q: SearchQuery| source.search(&SearchQuery { size: 1, ..q }).total;
        let reference = |keep: &dyn Fn(&Complaint) -> bool| {
            source.complaints().filter(|c| keep(c)).count() as u64
        };
        let mut states: Vec<String> = source.complaints().map(|c| norm(&c.state)).collect();
        states.sort();
        states.dedup();
        assert!(states.len() > 20, "{} states", states.len());
        for state in &states {
            let expected = reference(&|c| norm(&c.state) == *state);
            let shouted = format!("  {}  ", state.to_uppercase());
            for given in [vec![shouted.clone()], vec![shouted, "zz-none".to_owned()]] {
                let q = SearchQuery {
                    state: given,
                    ..everything.clone()
                };
                assert_eq!(count(q), expected, "state {state}");
            }
        }
        let mut pairs: Vec<(String, String)> = source
            .complaints()
            .map(|c| (norm(&c.product), norm(&c.sub_product)))
            .collect();
        pairs.sort();
        pairs.dedup();
        for (product, sub) in &pairs {
            let q = SearchQuery {
                product: vec![product.to_uppercase()],
                ..everything.clone()
            };
            assert_eq!(count(q), reference(&|c| norm(&c.product) == *product));
            let q = SearchQuery {
                product: vec![format!("{product} • {sub}")],
                ..everything.clone()
            };
            let expected =
                reference(&|c| norm(&c.product) == *product && norm(&c.sub_product) == *sub);
            assert_eq!(count(q), expected, "{product}•{sub}");
        }
        for tag in ["servicemember", "older american"] {
            let q = SearchQuery {
                tags: vec![tag.to_owned()],
                ..everything.clone()
            };
            let expected = reference(&|c| c.tags.iter().any(|t| t.trim().to_lowercase() == tag));
            assert!(expected > 0, "{tag}");
            assert_eq!(count(q), expected, "{tag}");
        }
        let unknown = SearchQuery {
            company: vec!["No Such Company".to_owned()],
            ..everything.clone()
        };
        assert_eq!(count(unknown), 0, "an unknown value matches nothing");
        assert_eq!(count(everything.clone()), source.len() as u64);
    }

    #[test]
    fn list_filters_are_case_insensitive_exact_and_combine() {
        // DATA-1: list filters.
        let source = small();
        let q = SearchQuery {
            company: vec!["acme fictional bank, n.a.".to_owned()],
            ..SearchQuery::default()
        };
        assert_eq!(ids(&source.search(&q)), vec![2, 3]);
        let q = SearchQuery {
            company: vec!["Acme".to_owned()],
            ..SearchQuery::default()
        };
        assert_eq!(source.search(&q).total, 0, "exact, not substring");
        let q = SearchQuery {
            company: vec![
                "Acme Fictional Bank, N.A.".to_owned(),
                "Initech Sample".to_owned(),
            ],
            product: vec!["MORTGAGE".to_owned(), "Debt collection".to_owned()],
            ..SearchQuery::default()
        };
        assert_eq!(ids(&source.search(&q)), vec![3, 4]);
        let q = SearchQuery {
            product: vec!["Mortgage•Sub".to_owned()],
            ..SearchQuery::default()
        };
        assert_eq!(source.search(&q).total, 2, "Product•Sub-product");
        let q = SearchQuery {
            product: vec!["Mortgage•Other".to_owned()],
            ..SearchQuery::default()
        };
        assert_eq!(source.search(&q).total, 0);
        let q = SearchQuery {
            state: vec!["ca".to_owned()],
            submitted_via: vec!["web".to_owned()],
            company_response: vec!["closed with explanation".to_owned()],
            ..SearchQuery::default()
        };
        assert_eq!(source.search(&q).total, 4);
        let q = SearchQuery {
            tags: vec!["Servicemember".to_owned()],
            ..SearchQuery::default()
        };
        assert_eq!(source.search(&q).total, 0);
    }

    #[test]
    fn dates_are_inclusive_and_has_narrative_filters() {
        // DATA-1: date_received_min / _max inclusive; has_narrative.
        let source = small();
        let q = SearchQuery {
            date_received_min: CalendarDate::parse("2021-05-01"),
            date_received_max: CalendarDate::parse("2022-01-10"),
            ..SearchQuery::default()
        };
        assert_eq!(ids(&source.search(&q)), vec![1, 2, 3]);
        let q = SearchQuery {
            date_received_max: CalendarDate::parse("2020-12-31"),
            ..SearchQuery::default()
        };
        assert_eq!(ids(&source.search(&q)), vec![4]);
        let q = SearchQuery {
            has_narrative: Some(false),
            ..SearchQuery::default()
        };
        assert_eq!(ids(&source.search(&q)), vec![2]);
        let q = SearchQuery {
            has_narrative: Some(true),
            ..SearchQuery::default()
        };
        assert_eq!(source.search(&q).total, 3);
    }

    #[test]
    fn search_term_matches_words_in_the_chosen_field_and_ranks() {
        // DATA-1: search_term + field; relevance_desc by term frequency.
        let source = small();
        let q = SearchQuery {
            search_term: Some("Late FEE".to_owned()),
            ..SearchQuery::default()
        };
        let page = source.search(&q);
        assert_eq!(ids(&page), vec![3, 1], "3 mentions it twice");
        assert_eq!(page.total, 2);
        let q = SearchQuery {
            search_term: Some("acme".to_owned()),
            ..SearchQuery::default()
        };
        assert_eq!(
            source.search(&q).total,
            0,
            "company name is not in the narrative"
        );
        let q = SearchQuery {
            search_term: Some("acme".to_owned()),
            field: SearchField::Company,
            ..SearchQuery::default()
        };
        assert_eq!(ids(&source.search(&q)), vec![2, 3]);
        let q = SearchQuery {
            search_term: Some("mortgage late".to_owned()),
            field: SearchField::All,
            ..SearchQuery::default()
        };
        assert_eq!(ids(&source.search(&q)), vec![3, 1]);
        let q = SearchQuery {
            search_term: Some("late nothing".to_owned()),
            ..SearchQuery::default()
        };
        assert_eq!(source.search(&q).total, 0, "every word must occur");
    }

    #[test]
    fn created_date_desc_sorts_newest_first() {
        // DATA-1: sort=created_date_desc.
        let source = small();
        let q = SearchQuery {
            sort: SortOrder::CreatedDateDesc,
            ..SearchQuery::default()
        };
        assert_eq!(
            ids(&source.search(&q)),
            vec![2, 1, 3, 4],
            "same day: higher id first"
        );
    }

    #[test]
    fn document_finds_by_id() {
        // DATA-2
        let source = small();
        assert_eq!(source.document(4).map(|c| c.complaint_id), Some(4));
        assert_eq!(source.document(99), None);
    }

    #[test]
    fn bundled_search_totals_add_up() {
        // DATA-1: hits.total.value = all matches, whatever the page.
        let source = FixtureSource::bundled().expect("bundled fixtures parse");
        let all = source.search(&SearchQuery::default()).total;
        assert_eq!(all as usize, source.len());
        let with = source
            .search(&SearchQuery {
                has_narrative: Some(true),
                ..SearchQuery::default()
            })
            .total;
        let without = source
            .search(&SearchQuery {
                has_narrative: Some(false),
                ..SearchQuery::default()
            })
            .total;
        assert_eq!(with + without, all);
        let frm = source.len() - 50;
        let page = source.search(&SearchQuery {
            size: 100,
            frm: u32::try_from(frm).expect("small"),
            ..SearchQuery::default()
        });
        assert_eq!(page.complaints.len(), 50, "the last page is short");
        assert!(
            source.len() >= 10_000,
            "issue 14: at least 10,000 complaints"
        );
    }
}
