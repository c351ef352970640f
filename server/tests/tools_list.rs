//! A snapshot of `tools/list` (MSG-4): all nine tools, their titles,
//! descriptions, annotations and JSON Schema `inputSchema`s. A change to the
//! advertised interface shows up as a snapshot diff to review.

use cfpb_mcp_server::tools;

#[test]
fn tools_list_snapshot() {
    // MSG-4: all nine tools, each with an inputSchema (and an outputSchema where structured).
    insta::assert_json_snapshot!("tools_list", tools::list());
}

#[test]
fn every_search_argument_is_in_the_schema() {
    // DATA-1: the schema advertises every CCDB5 parameter.
    let list = tools::list();
    let search = list
        .iter()
        .find(|t| t.name == "search_complaints")
        .expect("listed");
    let properties = search
        .input_schema
        .get("properties")
        .and_then(|p| p.as_object())
        .cloned()
        .unwrap_or_default();
    for name in [
        "search_term",
        "field",
        "company",
        "product",
        "issue",
        "state",
        "submitted_via",
        "tags",
        "company_response",
        "date_received_min",
        "date_received_max",
        "has_narrative",
        "size",
        "frm",
        "sort",
    ] {
        assert!(properties.contains_key(name), "missing {name}");
    }
    assert_eq!(
        properties["field"]["enum"],
        serde_json::json!(["complaint_what_happened", "company", "all"])
    );
    assert_eq!(
        properties["sort"]["enum"],
        serde_json::json!(["relevance_desc", "created_date_desc"])
    );
    assert_eq!(properties["size"]["minimum"], 1);
    assert_eq!(properties["size"]["maximum"], 100);
}
