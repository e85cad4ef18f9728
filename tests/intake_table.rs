//! A table of invalid events: each names the exact JSON pointer and reason intake reports, and
//! whether the published JSON Schema rejects it too (structural rules) or only intake can
//! (semantic rules the schema cannot express). Every case appends nothing (intake refuses it
//! before the ledger is touched; tests/cli.rs checks that end to end).

use sanctions_ledger::intake::event_from_json;
use sanctions_ledger::schemas;
use serde_json::{Value, json};

fn base() -> Value {
    json!({"kind": "designation", "id": "eu-1", "effective_on": "2021-03-22",
           "sources": [{"publisher": "Official Journal of the EU", "title": "OJ L 99I", "url": "https://eur-lex.europa.eu/"}],
           "authority": "EU-COUNCIL", "programme": "EU-GHR", "legal_basis": ["Council Implementing Regulation (EU) 2021/478"],
           "subjects": [{"id": "xj-wang-junzheng", "kind": "person", "names": ["WANG Junzheng", "王君正"],
                         "identifiers": [{"scheme": "date-of-birth", "value": "May 1963"}]}],
           "measures": ["asset_freeze", "travel_ban"], "until": "2021-12-08"})
}

fn kind(kind: &str, fields: Value) -> Value {
    let mut event = json!({"kind": kind, "id": "ev-1", "effective_on": "2021-03-22",
                           "sources": [{"publisher": "MFA", "title": "Statement", "url": "https://www.fmprc.gov.cn/"}]});
    for (key, value) in fields.as_object().unwrap() {
        event[key] = value.clone();
    }
    event
}

fn with(path: &[&str], value: Value) -> Value {
    let mut event = base();
    let mut target = &mut event;
    for (depth, step) in path.iter().enumerate() {
        if depth + 1 == path.len() {
            break;
        }
        target = match step.parse::<usize>() {
            Ok(index) => &mut target[index],
            Err(_) => &mut target[*step],
        };
    }
    let last = path.last().unwrap();
    match last.parse::<usize>() {
        Ok(index) if target.as_array().is_some_and(|items| items.len() == index) => {
            target.as_array_mut().unwrap().push(value)
        }
        Ok(index) => target[index] = value,
        Err(_) => target[*last] = value,
    }
    event
}

fn without(key: &str) -> Value {
    let mut event = base();
    event.as_object_mut().unwrap().remove(key);
    event
}

struct Case {
    name: &'static str,
    input: Value,
    pointer: &'static str,
    reason: String,
    schema_rejects: bool,
}

fn case(
    name: &'static str,
    input: Value,
    pointer: &'static str,
    reason: impl Into<String>,
    schema_rejects: bool,
) -> Case {
    Case {
        name,
        input,
        pointer,
        reason: reason.into(),
        schema_rejects,
    }
}

fn cases() -> Vec<Case> {
    let subject = json!({"id": "s", "kind": "person", "names": ["S"]});
    let kinds = "designation, delisting, renewal, amendment, retaliation, statement, correction, snapshot, observation";
    vec![
        case(
            "not an object",
            json!(["designation"]),
            "",
            "expected an object, found an array",
            true,
        ),
        case(
            "kind missing",
            without("kind"),
            "/kind",
            "missing; the field \"kind\" is required here",
            true,
        ),
        case(
            "kind misspelt",
            with(&["kind"], json!("designaton")),
            "/kind",
            format!("unknown event kind \"designaton\"; expected one of {kinds}"),
            true,
        ),
        case(
            "kind a number",
            with(&["kind"], json!(1)),
            "/kind",
            "expected a string, found a number",
            true,
        ),
        case(
            "id missing",
            without("id"),
            "/id",
            "missing; the field \"id\" is required here",
            true,
        ),
        case(
            "id with a space",
            with(&["id"], json!("eu 1")),
            "/id",
            "an identifier that may hold only ASCII letters, digits and . _ : / - and must start with a letter or digit",
            true,
        ),
        case(
            "id too long",
            with(&["id"], json!("a".repeat(129))),
            "/id",
            "an identifier that is 129 characters long; at most 128 are allowed",
            true,
        ),
        case(
            "id null",
            with(&["id"], Value::Null),
            "/id",
            "expected a string, found null",
            true,
        ),
        case(
            "date that does not exist",
            with(&["effective_on"], json!("2021-02-30")),
            "/effective_on",
            "\"2021-02-30\" is not a real date: day 30 does not exist in 2021-02 (it has 28 days); expected YYYY-MM-DD",
            true,
        ),
        case(
            "date in another format",
            with(&["effective_on"], json!("22.03.2021")),
            "/effective_on",
            "\"22.03.2021\" is not a real date: not a date of the form YYYY-MM-DD; expected YYYY-MM-DD",
            true,
        ),
        case(
            "month 13",
            with(&["effective_on"], json!("2021-13-01")),
            "/effective_on",
            "\"2021-13-01\" is not a real date: month 13 is outside 1..=12; expected YYYY-MM-DD",
            true,
        ),
        case(
            "sources missing",
            without("sources"),
            "/sources",
            "missing; the field \"sources\" is required here",
            true,
        ),
        case(
            "sources empty",
            with(&["sources"], json!([])),
            "/sources",
            "needs at least 1 item(s), has 0",
            true,
        ),
        case(
            "sources an object",
            with(&["sources"], json!({})),
            "/sources",
            "expected an array, found an object",
            true,
        ),
        case(
            "too many sources",
            with(&["sources"], json!(vec![base()["sources"][0].clone(); 33])),
            "/sources",
            "has 33 items; at most 32 are allowed",
            true,
        ),
        case(
            "ftp url",
            with(&["sources", "0", "url"], json!("ftp://example.org/x")),
            "/sources/0/url",
            "a URL that must be an http:// or https:// URL without white space",
            true,
        ),
        case(
            "uppercase digest",
            with(&["sources", "0", "sha256"], json!("AB".repeat(32))),
            "/sources/0/sha256",
            "a SHA-256 digest that must be 64 lowercase hexadecimal digits",
            true,
        ),
        case(
            "unknown source field",
            with(&["sources", "0", "link"], json!("x")),
            "/sources/0/link",
            "unknown field \"link\"; the fields allowed here are as_reported_by, published_on, publisher, sha256, title, url",
            true,
        ),
        case(
            "empty publisher",
            with(&["sources", "0", "publisher"], json!("")),
            "/sources/0/publisher",
            "a single-line text that must not be empty",
            true,
        ),
        case(
            "newline in a title",
            with(&["sources", "0", "title"], json!("OJ\nL 99I")),
            "/sources/0/title",
            "a single-line text that holds the control character U+000A",
            true,
        ),
        case(
            "leading space in a title",
            with(&["sources", "0", "title"], json!(" OJ")),
            "/sources/0/title",
            "a single-line text that must not start or end with white space",
            true,
        ),
        case(
            "caveat a number",
            with(&["caveats"], json!([7])),
            "/caveats/0",
            "expected a string, found a number",
            true,
        ),
        case(
            "no subjects",
            with(&["subjects"], json!([])),
            "/subjects",
            "needs at least 1 item(s), has 0",
            true,
        ),
        case(
            "unknown subject kind",
            with(&["subjects", "0", "kind"], json!("company")),
            "/subjects/0/kind",
            "unknown subject kind \"company\"; expected one of person, entity, vessel, aircraft",
            true,
        ),
        case(
            "subject without names",
            with(&["subjects", "0", "names"], json!([])),
            "/subjects/0/names",
            "needs at least 1 item(s), has 0",
            true,
        ),
        case(
            "identifier without value",
            with(
                &["subjects", "0", "identifiers", "0"],
                json!({"scheme": "dob"}),
            ),
            "/subjects/0/identifiers/0/value",
            "missing; the field \"value\" is required here",
            true,
        ),
        case(
            "duplicate subject",
            with(&["subjects", "1"], base()["subjects"][0].clone()),
            "/subjects/1",
            "duplicates item 0 (\"xj-wang-junzheng\"); each may appear once",
            false,
        ),
        case(
            "duplicate measure",
            with(&["measures", "1"], json!("asset_freeze")),
            "/measures/1",
            "duplicates item 0 (\"asset_freeze\"); each may appear once",
            true,
        ),
        case(
            "unknown measure",
            with(&["measures", "0"], json!("freeze")),
            "/measures/0",
            "unknown measure \"freeze\"; expected one of asset_freeze, funds_ban, travel_ban, entry_ban, visa_restriction, dealings_prohibition, business_ban, transaction_ban, exchanges_ban, unspecified",
            true,
        ),
        case(
            "end before start",
            with(&["until"], json!("2021-01-01")),
            "/until",
            "end date 2021-01-01 is before the effective date 2021-03-22; it must be on or after it",
            false,
        ),
        case(
            "no legal basis",
            with(&["legal_basis"], json!([])),
            "/legal_basis",
            "needs at least 1 item(s), has 0",
            true,
        ),
        case(
            "unknown field",
            with(&["measurez"], json!([])),
            "/measurez",
            "unknown field \"measurez\"; the fields allowed here are authority, caveats, effective_on, id, kind, legal_basis, measures, measures_by_subject, observed, programme, reason, sources, subjects, until",
            true,
        ),
        case(
            "delisting of nobody",
            kind(
                "delisting",
                json!({"authority": "EU-COUNCIL", "programme": "EU-GHR", "subject_ids": []}),
            ),
            "/subject_ids",
            "needs at least 1 item(s), has 0",
            true,
        ),
        case(
            "renewal without end",
            kind(
                "renewal",
                json!({"authority": "EU-COUNCIL", "programme": "EU-GHR"}),
            ),
            "/until",
            "missing; the field \"until\" is required here",
            true,
        ),
        case(
            "retaliation answering nothing",
            kind(
                "retaliation",
                json!({"authority": "CN-MFA", "programme": "CN-CM", "subjects": [subject.clone()], "measures": ["entry_ban"]}),
            ),
            "/in_response_to",
            "missing; the field \"in_response_to\" is required here",
            true,
        ),
        case(
            "retaliation answering itself",
            kind(
                "retaliation",
                json!({"authority": "CN-MFA", "programme": "CN-CM", "subjects": [subject.clone()], "measures": ["entry_ban"], "in_response_to": ["ev-1"]}),
            ),
            "/in_response_to/0",
            "an event cannot refer to itself",
            false,
        ),
        case(
            "amendment of half a listing",
            kind(
                "amendment",
                json!({"subject": subject.clone(), "authority": "EU-COUNCIL"}),
            ),
            "/programme",
            "authority and programme name one listing: give both or neither",
            false,
        ),
        case(
            "amendment measures without a listing",
            kind(
                "amendment",
                json!({"subject": subject.clone(), "measures": ["asset_freeze"]}),
            ),
            "/measures",
            "new measures need the listing they apply to (authority and programme)",
            false,
        ),
        case(
            "statement without words",
            kind(
                "statement",
                json!({"speaker": "Antony Blinken", "text": ""}),
            ),
            "/text",
            "a text that must not be empty",
            true,
        ),
        case(
            "statement too long",
            kind(
                "statement",
                json!({"speaker": "Antony Blinken", "text": "x".repeat(20_001)}),
            ),
            "/text",
            "a text that is 20001 characters long; at most 20000 are allowed",
            true,
        ),
        case(
            "correction of itself",
            kind(
                "correction",
                json!({"corrects": "ev-1", "reason": "Wrong."}),
            ),
            "/corrects",
            "an event cannot correct itself",
            false,
        ),
        case(
            "correction replaced by a correction",
            kind(
                "correction",
                json!({"corrects": "eu-1", "reason": "Wrong.", "replacement": {"kind": "correction", "effective_on": "2021-03-22", "corrects": "x", "reason": "y"}}),
            ),
            "/replacement/kind",
            "a replacement cannot itself be a correction; expected another kind",
            true,
        ),
        case(
            "replacement ending before it starts",
            kind(
                "correction",
                json!({"corrects": "eu-1", "reason": "Wrong.", "replacement": {"kind": "renewal", "effective_on": "2022-01-01", "authority": "EU-COUNCIL", "programme": "EU-GHR", "until": "2021-12-08"}}),
            ),
            "/replacement/until",
            "end date 2021-12-08 is before the effective date 2022-01-01; it must be on or after it",
            false,
        ),
    ]
}

#[test]
fn every_invalid_input_is_named_exactly() {
    let schema = schemas::all()
        .into_iter()
        .find(|(name, _)| name == "event.schema.json")
        .unwrap()
        .1;
    let validator = jsonschema::options()
        .should_validate_formats(true)
        .build(&schema)
        .unwrap();
    let cases = cases();
    assert!(cases.len() >= 30, "at least 30 distinct invalid inputs");
    let mut names = std::collections::BTreeSet::new();
    for case in &cases {
        assert!(names.insert(case.name), "duplicate case name {}", case.name);
        let problems = event_from_json(&case.input)
            .err()
            .unwrap_or_else(|| panic!("{}: accepted", case.name));
        let found: Vec<(&str, &str)> = problems
            .iter()
            .map(|p| (p.pointer.as_str(), p.reason.as_str()))
            .collect();
        assert_eq!(
            found,
            vec![(case.pointer, case.reason.as_str())],
            "{}",
            case.name
        );
        assert_eq!(
            !validator.is_valid(&case.input),
            case.schema_rejects,
            "{}: the schema's verdict",
            case.name
        );
    }
    // The base event itself is valid both ways, so each case fails for its one change.
    assert!(event_from_json(&base()).is_ok());
    assert!(validator.is_valid(&base()));
}

#[test]
fn several_problems_in_one_event_are_all_reported() {
    let mut event = base();
    event["effective_on"] = json!("2021-02-30");
    event["authority"] = json!(7);
    event["subjects"][0]["kind"] = json!("company");
    event["extra"] = json!(true);
    let problems = event_from_json(&event).unwrap_err();
    let pointers: Vec<&str> = problems.iter().map(|p| p.pointer.as_str()).collect();
    assert_eq!(
        pointers,
        vec!["/effective_on", "/authority", "/subjects/0/kind", "/extra"]
    );
}
