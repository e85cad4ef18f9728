//! Answers a journalist can rely on (issue 12), through the built binary: measures per subject,
//! "no decision recorded" instead of a guessed lapse, names found as screeners type them, and
//! the rough edges an auditor hit, one test each.

mod common;

use common::{run_cli, stderr, stdout};
use serde_json::{Value, json};

fn quickstart() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let output = run_cli(dir.path(), &["quickstart"], None);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    dir
}

fn json_of(dir: &std::path::Path, args: &[&str]) -> Value {
    let output = run_cli(dir, &[&["--json"], args].concat(), None);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{args:?}: {}",
        stdout(&output)
    );
    serde_json::from_str(&stdout(&output)).unwrap()
}

fn head(dir: &std::path::Path) -> String {
    stdout(&run_cli(dir, &["head"], None))
}

fn init(dir: &std::path::Path) {
    let output = run_cli(dir, &["init"], None);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
}

/// Text with its line wrapping undone.
fn words(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn source() -> Value {
    json!([{"publisher": "Gazette", "url": "https://example.org/"}])
}

#[test]
fn measures_per_subject_must_name_a_subject_of_the_event_and_nothing_is_appended_otherwise() {
    let dir = tempfile::tempdir().unwrap();
    init(dir.path());
    let event = json!({"kind": "designation", "id": "d", "effective_on": "2021-03-22", "sources": source(),
        "authority": "EU-COUNCIL", "programme": "EU-GHR", "legal_basis": ["Act"],
        "subjects": [{"id": "p", "kind": "person", "names": ["A Person"]}, {"id": "e", "kind": "entity", "names": ["A Body"]}],
        "measures": ["asset_freeze", "funds_ban", "travel_ban"],
        "measures_by_subject": [{"subject": "e", "measures": ["asset_freeze", "funds_ban"]},
                                {"subject": "q", "measures": ["asset_freeze"]}]});
    let before = head(dir.path());
    let output = run_cli(
        dir.path(),
        &["append", "-"],
        Some(format!("{event}\n").as_bytes()),
    );
    assert_eq!(output.status.code(), Some(2));
    let text = stderr(&output);
    assert!(
        text.contains("<stdin>:1") && text.contains("/measures_by_subject/1/subject"),
        "{text}"
    );
    assert!(
        text.contains("\"q\" is not one of the event's subjects"),
        "{text}"
    );
    assert_eq!(head(dir.path()), before, "nothing appended");
    // Valid, the entity is under its own measures and the person under the event's.
    let mut good = event.clone();
    good["measures_by_subject"] =
        json!([{"subject": "e", "measures": ["asset_freeze", "funds_ban"]}]);
    let output = run_cli(
        dir.path(),
        &["append", "-"],
        Some(format!("{good}\n").as_bytes()),
    );
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let state = json_of(dir.path(), &["state", "--as-of", "2021-03-22"]);
    let measures: Vec<(String, Value)> = state["listings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                l["subject"].as_str().unwrap().to_owned(),
                l["measures"].clone(),
            )
        })
        .collect();
    assert_eq!(
        measures,
        vec![
            ("e".to_owned(), json!(["asset_freeze", "funds_ban"])),
            (
                "p".to_owned(),
                json!(["asset_freeze", "funds_ban", "travel_ban"])
            ),
        ]
    );
}

#[test]
fn past_its_end_date_with_nothing_recorded_an_answer_warns_in_json_and_in_the_table() {
    let dir = quickstart();
    let table = stdout(&run_cli(
        dir.path(),
        &[
            "state",
            "--as-of",
            "2026-12-09",
            "--authority",
            "EU-COUNCIL",
        ],
        None,
    ));
    assert!(table.contains("0 listing(s)"), "{table}");
    assert_eq!(
        table
            .matches("warning, no decision recorded: EU-COUNCIL/EU-GHR/")
            .count(),
        5,
        "{table}"
    );
    let answer = json_of(
        dir.path(),
        &[
            "state",
            "--as-of",
            "2026-12-09",
            "--authority",
            "EU-COUNCIL",
        ],
    );
    let warnings = answer["warnings"].as_array().unwrap();
    assert_eq!(warnings.len(), 5);
    assert!(
        warnings
            .iter()
            .all(|w| w["kind"] == "no_decision_recorded" && w["date"] == "2026-12-08")
    );
    // The history row is no longer "in effect", and the period says why it ended.
    let history = json_of(
        dir.path(),
        &["history", "xj-wang-junzheng", "--today", "2027-01-01"],
    );
    let row = history["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .find(|row| row["kind"] == "end_date_passed")
        .unwrap()
        .clone();
    assert_eq!(row["status"], "no decision recorded");
    assert_eq!(row["effective_on"], "2026-12-09");
    let table = stdout(&run_cli(
        dir.path(),
        &["history", "xj-wang-junzheng", "--today", "2027-01-01"],
        None,
    ));
    assert!(
        table.contains(
            "EU-COUNCIL/EU-GHR: 2021-03-22 .. 2026-12-08 (past its end date, no decision recorded)"
        ),
        "{table}"
    );
    let diff = stdout(&run_cli(
        dir.path(),
        &[
            "diff",
            "--from",
            "2026-12-01",
            "--to",
            "2026-12-31",
            "--authority",
            "EU-COUNCIL",
        ],
        None,
    ));
    assert_eq!(
        diff.matches("end date passed, no decision recorded")
            .count(),
        5,
        "{diff}"
    );
    assert!(diff.contains("warning, no decision recorded"), "{diff}");
}

#[test]
fn names_are_found_as_screeners_type_them_exact_matches_first_with_the_name_that_matched() {
    let dir = quickstart();
    for (query, subject, matched) in [
        ("Shohrat Zakir", "xj-shohrat-zakir", "ZAKIR, Shohrat"),
        ("Erken Tuniyaz", "xj-erken-tuniyaz", "TUNIYAZ, Erken"),
        ("Gao Qi", "xj-gao-qi", "GAO, Qi"),
        ("qi, GAO", "xj-gao-qi", "GAO, Qi"),
        (
            "DOVILE SAKALIENE",
            "lt-dovile-sakaliene",
            "Dovilė Šakalienė",
        ),
        ("朱海崙", "xj-zhu-hailun", "朱海仑"),
    ] {
        let answer = json_of(dir.path(), &["subjects", query]);
        let first = &answer["subjects"][0];
        assert_eq!(first["subject"], subject, "{query}: {answer}");
        assert_eq!(first["matched_name"], matched, "{query}");
        assert_eq!(first["match"], "exact", "{query}");
    }
    let table = stdout(&run_cli(dir.path(), &["subjects", "Shohrat Zakir"], None));
    assert!(table.contains("ZAKIR, Shohrat  exact"), "{table}");
    // Ranking: exact before every-word before word-prefix matches.
    let dir = tempfile::tempdir().unwrap();
    init(dir.path());
    let subjects = json!([{"id": "a", "kind": "person", "names": ["WANG Li Ming"]},
                          {"id": "b", "kind": "person", "names": ["WANG, Li"]},
                          {"id": "c", "kind": "person", "names": ["Wangari Lin"]}]);
    let event = json!({"kind": "designation", "id": "d", "effective_on": "2021-03-22", "sources": source(),
        "authority": "EU-COUNCIL", "programme": "EU-GHR", "legal_basis": ["Act"],
        "subjects": subjects, "measures": ["asset_freeze"]});
    let output = run_cli(
        dir.path(),
        &["append", "-"],
        Some(format!("{event}\n").as_bytes()),
    );
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let answer = json_of(dir.path(), &["subjects", "Li Wang"]);
    let ranked: Vec<(&str, &str)> = answer["subjects"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["subject"].as_str().unwrap(), s["match"].as_str().unwrap()))
        .collect();
    assert_eq!(
        ranked,
        [("b", "exact"), ("a", "all_words"), ("c", "word_prefixes")]
    );
}

#[test]
fn known_at_takes_a_plain_date_as_the_start_of_that_day_and_names_the_option_when_wrong() {
    let dir = quickstart();
    let on_the_day = json_of(
        dir.path(),
        &["state", "--as-of", "2021-03-22", "--known-at", "2021-03-22"],
    );
    let at_midnight = json_of(
        dir.path(),
        &[
            "state",
            "--as-of",
            "2021-03-22",
            "--known-at",
            "2021-03-22T00:00:00Z",
        ],
    );
    assert_eq!(on_the_day["known_at"], at_midnight["known_at"]);
    assert_eq!(on_the_day["known_at"]["time"], "2021-03-22T00:00:00Z");
    // The bundled events of 22 March are recorded at 00:00 that day: known on the day.
    assert_eq!(
        on_the_day["listings"].as_array().unwrap().len(),
        5 + 5 + 5 + 10 + 14 + 5
    );
    let before = json_of(
        dir.path(),
        &["state", "--as-of", "2021-03-22", "--known-at", "2021-03-21"],
    );
    assert_eq!(before["listings"].as_array().unwrap().len(), 8 + 5);
    let wrong = run_cli(
        dir.path(),
        &[
            "state",
            "--as-of",
            "2021-03-22",
            "--known-at",
            "2014-03-18 noon",
        ],
        None,
    );
    assert_eq!(wrong.status.code(), Some(2));
    let text = stderr(&wrong);
    assert!(text.contains("--known-at \"2014-03-18 noon\""), "{text}");
    assert!(
        text.contains(
            "expected e.g. 2021-03-22T12:00:00Z, or 2021-03-22 for the start of that day (UTC)"
        ),
        "{text}"
    );
    assert!(!text.contains("--recorded-at"), "{text}");
}

#[test]
fn re_running_an_import_with_its_original_recorded_times_appends_nothing_and_succeeds() {
    let dir = tempfile::tempdir().unwrap();
    init(dir.path());
    let first = json!({"kind": "statement", "id": "s1", "effective_on": "2014-03-17", "sources": source(),
                       "speaker": "Someone", "text": "First."});
    let second = json!({"kind": "statement", "id": "s2", "effective_on": "2014-03-21", "sources": source(),
                        "speaker": "Someone", "text": "Second."});
    let import = |event: &Value, time: &str| {
        run_cli(
            dir.path(),
            &["append", "-", "--recorded-at", time],
            Some(format!("{event}\n").as_bytes()),
        )
    };
    assert_eq!(
        import(&first, "2014-03-17T12:00:00Z").status.code(),
        Some(0)
    );
    assert_eq!(
        import(&second, "2014-03-21T12:00:00Z").status.code(),
        Some(0)
    );
    let before = head(dir.path());
    // The script runs again from the top: the first batch's time is before the head's.
    let again = import(&first, "2014-03-17T12:00:00Z");
    assert_eq!(again.status.code(), Some(0), "{}", stderr(&again));
    assert_eq!(head(dir.path()), before);
    // A batch with anything new at an earlier time is still refused, with RFC 3339 times.
    let third = json!({"kind": "statement", "id": "s3", "effective_on": "2014-03-18", "sources": source(),
                       "speaker": "Someone", "text": "Third."});
    let refused = import(&third, "2014-03-18T00:00:00Z");
    assert_eq!(refused.status.code(), Some(2));
    let text = stderr(&refused);
    assert!(
        text.contains(
            "recorded time 2014-03-18T00:00:00Z is earlier than the head's 2014-03-21T12:00:00Z"
        ),
        "{text}"
    );
    assert!(!text.contains("µs"), "{text}");
    assert_eq!(head(dir.path()), before);
}

#[test]
fn a_diff_from_a_later_to_an_earlier_date_is_refused_and_help_says_so() {
    let dir = quickstart();
    let output = run_cli(
        dir.path(),
        &["diff", "--from", "2014-03-21", "--to", "2014-03-16"],
        None,
    );
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("--from 2014-03-21 is after --to 2014-03-16"),
        "{}",
        stderr(&output)
    );
    assert!(stdout(&output).is_empty());
    let help = words(&stdout(&run_cli(dir.path(), &["diff", "--help"], None)));
    assert!(
        help.contains("--from must not be after --to (refused, exit 2)"),
        "{help}"
    );
}

#[test]
fn history_of_a_subject_not_yet_known_and_of_an_unknown_one_are_both_errors_that_say_which() {
    let dir = quickstart();
    let not_yet = run_cli(
        dir.path(),
        &["history", "xj-zhu-hailun", "--known-at", "2014-03-18"],
        None,
    );
    assert_eq!(not_yet.status.code(), Some(2));
    assert!(
        stderr(&not_yet).contains(
            "subject \"xj-zhu-hailun\" is not yet known at 2014-03-18T00:00:00Z: the ledger first records it in record 1, recorded 2020-07-09T00:00:00Z"
        ),
        "{}",
        stderr(&not_yet)
    );
    let unknown = run_cli(dir.path(), &["history", "xj-nobody"], None);
    assert_eq!(unknown.status.code(), Some(2));
    assert!(stderr(&unknown).contains("no subject \"xj-nobody\" is in the ledger"));
    let help = words(&stdout(&run_cli(dir.path(), &["history", "--help"], None)));
    assert!(help.contains("is an error (exit 2)"), "{help}");
}

#[test]
fn a_retracted_event_stays_in_history_marked_retracted_by_its_correction() {
    let dir = tempfile::tempdir().unwrap();
    init(dir.path());
    let designation = json!({"kind": "designation", "id": "d", "effective_on": "2021-03-22", "sources": source(),
        "authority": "EU-COUNCIL", "programme": "EU-GHR", "legal_basis": ["Act"],
        "subjects": [{"id": "only", "kind": "person", "names": ["Only Once"]}], "measures": ["asset_freeze"]});
    let retraction = json!({"kind": "correction", "id": "c", "effective_on": "2021-03-23", "sources": source(),
        "corrects": "d", "reason": "Listed in error."});
    let input = format!("{designation}\n{retraction}\n");
    let output = run_cli(dir.path(), &["append", "-"], Some(input.as_bytes()));
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let history = json_of(dir.path(), &["history", "only"]);
    let rows: Vec<(Value, Value, Value)> = history["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| {
            (
                row["event_id"].clone(),
                row["kind"].clone(),
                row["status"].clone(),
            )
        })
        .collect();
    assert_eq!(
        rows,
        vec![
            (json!("d"), json!("designation"), json!("retracted by 2")),
            (json!("c"), json!("correction"), json!("in effect")),
        ]
    );
    assert!(
        history["listings"].as_array().unwrap().is_empty(),
        "never in force"
    );
    // The schema's words and the program's agree.
    let schema = std::fs::read_to_string("schemas/output/history.schema.json").unwrap();
    assert!(schema.contains("retracted by N"));
}

#[test]
fn links_name_a_statement_about_an_event_as_such_not_as_an_answer() {
    let dir = quickstart();
    let answer = json_of(dir.path(), &["links", "cn-mfa-2021-03-27-us-ca"]);
    let by: Vec<(&str, &str)> = answer["referred_to_by"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["event_id"].as_str().unwrap(),
                e["relation"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(by, [("stmt-2021-03-27-blinken", "about_events")]);
    let table = stdout(&run_cli(
        dir.path(),
        &["links", "cn-mfa-2021-03-27-us-ca"],
        None,
    ));
    assert!(
        table.contains("spoken about by (statements) (1):"),
        "{table}"
    );
    assert!(!table.contains("answered by"), "{table}");
    assert!(
        table.contains("maintains (says still in effect) (1):"),
        "{table}"
    );
}
