//! One complaint: the CCDB5 `_source` document (DATA-5), read leniently.
//!
//! The live API has changed value types over the years (ids as strings or
//! numbers, `tags` as a string, a list or null, booleans as strings), so every
//! field accepts any reasonable JSON form and unknown fields are ignored.
//! Only a `_source` that is not an object at all is a shape error.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;

/// A consumer complaint with the CCDB field names (DATA-5).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Complaint {
    /// The CFPB complaint id (written as a string of digits, like `_id`).
    #[serde(default, deserialize_with = "de_id", serialize_with = "ser_id")]
    pub complaint_id: u64,
    /// When the CFPB received it (`YYYY-MM-DD`, or CCDB5's `YYYY-MM-DDT12:00:00-05:00`).
    #[serde(default, deserialize_with = "de_text")]
    pub date_received: Option<String>,
    /// Product, e.g. "Debt collection".
    #[serde(default, deserialize_with = "de_text")]
    pub product: Option<String>,
    /// Sub-product, e.g. "Medical debt".
    #[serde(default, deserialize_with = "de_text")]
    pub sub_product: Option<String>,
    /// Issue, e.g. "Attempts to collect debt not owed".
    #[serde(default, deserialize_with = "de_text")]
    pub issue: Option<String>,
    /// Sub-issue, e.g. "Debt is not yours".
    #[serde(default, deserialize_with = "de_text")]
    pub sub_issue: Option<String>,
    /// The consumer's narrative (empty when not published).
    #[serde(default, deserialize_with = "de_text")]
    pub complaint_what_happened: Option<String>,
    /// The company's optional public response.
    #[serde(default, deserialize_with = "de_text")]
    pub company_public_response: Option<String>,
    /// The company the complaint was sent to.
    #[serde(default, deserialize_with = "de_text")]
    pub company: Option<String>,
    /// Two-letter state code.
    #[serde(default, deserialize_with = "de_text")]
    pub state: Option<String>,
    /// ZIP code, usually masked (`941XX`).
    #[serde(default, deserialize_with = "de_text")]
    pub zip_code: Option<String>,
    /// Tags: `Older American`, `Servicemember`.
    #[serde(default, deserialize_with = "de_tags")]
    pub tags: Vec<String>,
    /// Whether the consumer consented to publishing the narrative.
    #[serde(default, deserialize_with = "de_text")]
    pub consumer_consent_provided: Option<String>,
    /// How the complaint was submitted.
    #[serde(default, deserialize_with = "de_text")]
    pub submitted_via: Option<String>,
    /// When the CFPB sent it to the company.
    #[serde(default, deserialize_with = "de_text")]
    pub date_sent_to_company: Option<String>,
    /// The company's response to the consumer.
    #[serde(default, deserialize_with = "de_text")]
    pub company_response: Option<String>,
    /// Whether the company responded in time (`Yes`/`No`).
    #[serde(default, deserialize_with = "de_text")]
    pub timely: Option<String>,
    /// Whether the consumer disputed the response (`Yes`/`No`/`N/A`).
    #[serde(default, deserialize_with = "de_text")]
    pub consumer_disputed: Option<String>,
    /// Whether a narrative is published. `None` while reading; filled from the
    /// narrative by `Complaint::normalize` when the upstream omits it.
    #[serde(default, deserialize_with = "de_bool")]
    pub has_narrative: Option<bool>,
}

impl Complaint {
    /// The CCDB field names, in the order the struct (and its JSON) has them.
    pub const FIELDS: [&'static str; 19] = [
        "complaint_id",
        "date_received",
        "product",
        "sub_product",
        "issue",
        "sub_issue",
        "complaint_what_happened",
        "company_public_response",
        "company",
        "state",
        "zip_code",
        "tags",
        "consumer_consent_provided",
        "submitted_via",
        "date_sent_to_company",
        "company_response",
        "timely",
        "consumer_disputed",
        "has_narrative",
    ];

    /// Fills what the upstream may leave out: the id from the hit's `_id`,
    /// and `has_narrative` from the narrative.
    pub(crate) fn normalize(mut self, hit_id: Option<u64>) -> Self {
        if self.complaint_id == 0
            && let Some(id) = hit_id
        {
            self.complaint_id = id;
        }
        if self.has_narrative.is_none() {
            self.has_narrative = Some(
                self.complaint_what_happened
                    .as_deref()
                    .is_some_and(|text| !text.trim().is_empty()),
            );
        }
        self
    }

    /// `YYYY-MM-DD` of `date_received`, when it has that form.
    pub fn date_received_day(&self) -> Option<&str> {
        let date = self.date_received.as_deref()?;
        let day = date.get(..10)?;
        crate::data::query::CalendarDate::parse(day).map(|_| day)
    }
}

/// Reads an id: digits in a string, a non-negative integer, or null (0).
pub(crate) fn id_from_value(value: &Value) -> Option<u64> {
    match value {
        Value::Number(number) => number.as_u64(),
        Value::String(text) => {
            let text = text.trim();
            if text.is_empty() || text.len() > 20 || !text.bytes().all(|b| b.is_ascii_digit()) {
                None
            } else {
                text.parse().ok()
            }
        }
        _ => None,
    }
}

fn de_id<'de, D: Deserializer<'de>>(deserializer: D) -> Result<u64, D::Error> {
    let value = Value::deserialize(deserializer)?;
    match value {
        Value::Null => Ok(0),
        other => id_from_value(&other)
            .ok_or_else(|| serde::de::Error::custom("complaint_id is not a non-negative integer")),
    }
}

fn ser_id<S: Serializer>(id: &u64, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.collect_str(id)
}

fn de_text<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<String>, D::Error> {
    Ok(match Value::deserialize(deserializer)? {
        Value::String(text) => Some(text),
        Value::Number(number) => Some(number.to_string()),
        Value::Bool(flag) => Some(flag.to_string()),
        Value::Array(items) => {
            let parts: Vec<String> = items
                .into_iter()
                .filter_map(|item| match item {
                    Value::String(text) => Some(text),
                    _ => None,
                })
                .collect();
            (!parts.is_empty()).then(|| parts.join(", "))
        }
        Value::Null | Value::Object(_) => None,
    })
}

fn de_tags<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<String>, D::Error> {
    let split = |text: &str| -> Vec<String> {
        text.split(',')
            .map(str::trim)
            .filter(|tag| !tag.is_empty())
            .map(str::to_owned)
            .collect()
    };
    Ok(match Value::deserialize(deserializer)? {
        Value::String(text) => split(&text),
        Value::Array(items) => items
            .iter()
            .filter_map(Value::as_str)
            .flat_map(split)
            .collect(),
        _ => Vec::new(),
    })
}

fn de_bool<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<bool>, D::Error> {
    Ok(match Value::deserialize(deserializer)? {
        Value::Bool(flag) => Some(flag),
        Value::String(text) => match text.trim().to_ascii_lowercase().as_str() {
            "true" | "yes" | "1" => Some(true),
            "false" | "no" | "0" => Some(false),
            _ => None,
        },
        Value::Number(number) => number.as_u64().map(|n| n != 0),
        _ => None,
    })
}

/// The public page of one complaint on the CFPB site (DATA-4): append the id.
pub const COMPLAINT_DETAIL_BASE: &str =
    "https://www.consumerfinance.gov/data-research/consumer-complaints/search/detail/";

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

/// The CFPB page of a complaint (DATA-4).
pub fn complaint_url(complaint_id: u64) -> String {
    format!("{COMPLAINT_DETAIL_BASE}{complaint_id}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn fields_name_every_serialized_member_in_order() {
        let value = serde_json::to_value(Complaint::default()).unwrap_or_default();
        let names: Vec<&str> = value
            .as_object()
            .map(|object| object.keys().map(String::as_str).collect())
            .unwrap_or_default();
        assert_eq!(names, Complaint::FIELDS);
    }

    #[test]
    fn reads_ccdb5_source_with_string_fields() {
        // DATA-5: the CCDB field names.
        let complaint: Complaint = serde_json::from_value(json!({
            "complaint_id": "3209411",
            "date_received": "2019-04-13T12:00:00-05:00",
            "product": "Debt collection",
            "sub_product": null,
            "issue": "Attempts to collect debt not owed",
            "sub_issue": "Debt is not yours",
            "complaint_what_happened": "",
            "company_public_response": null,
            "company": "Example Co",
            "state": "FL",
            "zip_code": "334XX",
            "tags": "Older American, Servicemember",
            "consumer_consent_provided": "N/A",
            "submitted_via": "Web",
            "date_sent_to_company": "2019-04-13T12:00:00-05:00",
            "company_response": "Closed with explanation",
            "timely": "Yes",
            "consumer_disputed": "N/A",
            "has_narrative": false,
            "something_new": {"ignored": true}
        }))
        .expect("valid source");
        assert_eq!(complaint.complaint_id, 3209411);
        assert_eq!(complaint.tags, vec!["Older American", "Servicemember"]);
        assert_eq!(complaint.sub_product, None);
        assert_eq!(complaint.has_narrative, Some(false));
        assert_eq!(complaint.date_received_day(), Some("2019-04-13"));
    }

    #[test]
    fn reads_lenient_types_and_fills_gaps() {
        let complaint: Complaint = serde_json::from_value(json!({
            "complaint_id": 42,
            "tags": ["Servicemember"],
            "timely": true,
            "complaint_what_happened": "It went wrong.",
        }))
        .expect("valid source");
        let complaint = complaint.normalize(Some(7));
        assert_eq!(complaint.complaint_id, 42, "_source id wins over _id");
        assert_eq!(complaint.tags, vec!["Servicemember"]);
        assert_eq!(complaint.timely.as_deref(), Some("true"));
        assert_eq!(complaint.has_narrative, Some(true));

        let bare: Complaint = serde_json::from_value(json!({})).expect("empty source");
        let bare = bare.normalize(Some(7));
        assert_eq!(bare.complaint_id, 7);
        assert_eq!(bare.has_narrative, Some(false));
        assert_eq!(bare.date_received_day(), None);
    }

    #[test]
    fn rejects_a_non_numeric_id() {
        let result: Result<Complaint, _> = serde_json::from_value(json!({"complaint_id": "12ab"}));
        assert!(result.is_err());
    }

    #[test]
    fn serializes_the_id_as_a_string() {
        let complaint = Complaint {
            complaint_id: 12,
            ..Complaint::default()
        };
        let value = serde_json::to_value(&complaint).expect("serializable");
        assert_eq!(value["complaint_id"], json!("12"));
    }
    #[test]
    fn complaint_url_points_at_the_cfpb_detail_page() {
        // DATA-4
        assert_eq!(
            complaint_url(1234567),
            "https://www.consumerfinance.gov/data-research/consumer-complaints/search/detail/1234567"
        );
    }
}
