//! Parsing CCDB5 response bodies (DATA-5) into complaints: the search shape
//! (`hits.total`, `hits.hits[]._id/_source`) and the document shapes.
//!
//! Pure functions over bytes, shared by the live source and the bundled
//! dataset. Errors say where the shape broke, never echo the body (MSG-5).

use serde::Deserialize;
use serde_json::Value;

use crate::data::complaint::{Complaint, SearchPage, id_from_value};
use crate::data::error::DataError;

/// Longest error detail we pass on (serde messages can quote input).
const MAX_DETAIL: usize = 200;

#[derive(Deserialize)]
struct SearchResponse {
    hits: Hits,
}

#[derive(Deserialize)]
struct Hits {
    #[serde(default)]
    total: Option<Total>,
    hits: Vec<Hit>,
}

/// `hits.total` is `{"value": N, "relation": "eq"}` (Elasticsearch 7+) or a bare number.
#[derive(Deserialize)]
#[serde(untagged)]
enum Total {
    Count(u64),
    Object {
        value: u64,
        #[serde(default)]
        relation: Option<String>,
    },
}

#[derive(Deserialize)]
struct Hit {
    #[serde(rename = "_id", default)]
    id: Option<Value>,
    #[serde(rename = "_source")]
    source: Complaint,
}

impl Hit {
    fn into_complaint(self) -> Complaint {
        let hit_id = self.id.as_ref().and_then(id_from_value);
        self.source.normalize(hit_id)
    }
}

/// A search response. Without `hits.total`, the total is the number of hits.
pub(crate) fn parse_search(body: &[u8]) -> Result<SearchPage, DataError> {
    let response: SearchResponse = from_slice(body)?;
    let complaints: Vec<Complaint> = response
        .hits
        .hits
        .into_iter()
        .map(Hit::into_complaint)
        .collect();
    let (total, total_is_exact) = match response.hits.total {
        Some(Total::Count(value)) => (value, true),
        Some(Total::Object { value, relation }) => (value, relation.as_deref() != Some("gte")),
        None => (complaints.len() as u64, true),
    };
    Ok(SearchPage {
        total,
        total_is_exact,
        complaints,
    })
}

/// A document response for `complaint_id`: a search-shaped body (the hit with
/// that id), a bare hit (`{"_id", "_source"}`), or a bare `_source` object.
/// `Ok(None)` when the body holds no such complaint.
pub(crate) fn parse_document(
    body: &[u8],
    complaint_id: u64,
) -> Result<Option<Complaint>, DataError> {
    let value: Value = from_slice(body)?;
    let Some(object) = value.as_object() else {
        return Err(DataError::Shape("expected a JSON object".to_owned()));
    };
    let candidates: Vec<Complaint> = if object.contains_key("hits") {
        parse_search(body)?.complaints
    } else if object.contains_key("_source") {
        vec![from_value::<Hit>(value)?.into_complaint()]
    } else if object.contains_key("complaint_id") {
        vec![from_value::<Complaint>(value)?.normalize(None)]
    } else {
        return Err(DataError::Shape(
            "expected `hits`, `_source` or `complaint_id`".to_owned(),
        ));
    };
    let mut unnamed = None;
    for complaint in candidates {
        if complaint.complaint_id == complaint_id {
            return Ok(Some(complaint));
        }
        if complaint.complaint_id == 0 && unnamed.is_none() {
            unnamed = Some(complaint);
        }
    }
    // A document without any id is the one we asked for.
    Ok(unnamed.map(|complaint| Complaint {
        complaint_id,
        ..complaint
    }))
}

fn from_slice<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, DataError> {
    let mut deserializer = serde_json::Deserializer::from_slice(body);
    let value = serde_path_to_error::deserialize(&mut deserializer).map_err(classify)?;
    deserializer
        .end()
        .map_err(|error| DataError::BadJson(bounded(&error.to_string())))?;
    Ok(value)
}

fn from_value<T: serde::de::DeserializeOwned>(value: Value) -> Result<T, DataError> {
    serde_path_to_error::deserialize(value).map_err(classify)
}

fn classify(error: serde_path_to_error::Error<serde_json::Error>) -> DataError {
    let path = error.path().to_string();
    let inner = error.into_inner();
    match inner.classify() {
        serde_json::error::Category::Data => {
            let detail = if path == "." {
                inner.to_string()
            } else {
                format!("at {path}: {inner}")
            };
            DataError::Shape(bounded(&detail))
        }
        _ => DataError::BadJson(bounded(&inner.to_string())),
    }
}

/// At most [`MAX_DETAIL`] characters, on a character boundary.
pub(crate) fn bounded(text: &str) -> String {
    match text.char_indices().nth(MAX_DETAIL) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn bytes(value: Value) -> Vec<u8> {
        serde_json::to_vec(&value).expect("serializable")
    }

    #[test]
    fn search_total_as_object_or_number() {
        // DATA-5: hits.total.value, or hits.total as a number.
        let page = parse_search(&bytes(json!({
            "hits": {"total": {"value": 12, "relation": "eq"},
                      "hits": [{"_id": "5", "_source": {"product": "Mortgage"}}]}
        })))
        .expect("parses");
        assert_eq!(page.total, 12);
        assert!(page.total_is_exact);
        assert_eq!(page.complaints[0].complaint_id, 5);

        let page = parse_search(&bytes(json!({"hits": {"total": 3, "hits": []}}))).expect("parses");
        assert_eq!(page.total, 3);

        let page = parse_search(&bytes(json!({
            "hits": {"total": {"value": 10000, "relation": "gte"}, "hits": []}
        })))
        .expect("parses");
        assert!(!page.total_is_exact);
    }

    #[test]
    fn malformed_json_and_wrong_shape_are_told_apart() {
        // MSG-5: "bad JSON" and "unexpected shape" are distinct, bounded errors.
        assert!(matches!(
            parse_search(b"<html>Service Unavailable</html>"),
            Err(DataError::BadJson(_))
        ));
        assert!(matches!(
            parse_search(b"{\"hits\": {\"hits\": [1]}} trailing"),
            Err(DataError::BadJson(_)) | Err(DataError::Shape(_))
        ));
        match parse_search(&bytes(json!({"hits": {"hits": [{"_source": 7}]}}))) {
            Err(DataError::Shape(detail)) => assert!(detail.contains("hits.hits[0]"), "{detail}"),
            other => panic!("expected a shape error, got {other:?}"),
        }
        assert!(matches!(
            parse_search(&bytes(json!({"took": 1}))),
            Err(DataError::Shape(_))
        ));
    }

    #[test]
    fn error_detail_is_bounded() {
        let long = "x".repeat(10_000);
        let text = format!("{{\"hits\": {{\"hits\": \"{long}\"}}}}");
        match parse_search(text.as_bytes()) {
            Err(error) => assert!(error.to_string().len() < 400, "{error}"),
            Ok(_) => panic!("must fail"),
        }
    }

    #[test]
    fn document_in_each_accepted_shape() {
        // DATA-5: a document is fetched at <base><id>; accept the search shape or a bare document.
        let search_shaped = bytes(json!({"hits": {"total": {"value": 1}, "hits": [
            {"_id": "77", "_source": {"complaint_id": "77", "company": "A"}}
        ]}}));
        let found = parse_document(&search_shaped, 77).expect("parses");
        assert_eq!(found.map(|c| c.company), Some(Some("A".to_owned())));

        let bare_hit = bytes(json!({"_id": "77", "_source": {"company": "B"}}));
        let found = parse_document(&bare_hit, 77).expect("parses");
        assert_eq!(found.map(|c| c.complaint_id), Some(77));

        let bare_source = bytes(json!({"complaint_id": 77, "company": "C"}));
        assert!(parse_document(&bare_source, 77).expect("parses").is_some());

        let empty = bytes(json!({"hits": {"total": {"value": 0}, "hits": []}}));
        assert_eq!(parse_document(&empty, 77).expect("parses"), None);

        let other = bytes(json!({"hits": {"hits": [{"_id": "78", "_source": {}}]}}));
        assert_eq!(parse_document(&other, 77).expect("parses"), None);

        assert!(matches!(
            parse_document(b"[]", 77),
            Err(DataError::Shape(_))
        ));
    }
}
