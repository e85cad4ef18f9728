//! The query commands through the built binary, on the bundled dataset: formats, known-at,
//! filters, and clear errors with exit code 2.

mod common;

use common::{run_cli, stderr, stdout};
use serde_json::Value;

fn quickstart() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let output = run_cli(dir.path(), &["quickstart"], None);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    dir
}

fn json(dir: &std::path::Path, args: &[&str]) -> Value {
    let output = run_cli(dir, &[&["--json"], args].concat(), None);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{args:?}: {}",
        stdout(&output)
    );
    serde_json::from_str(&stdout(&output)).unwrap()
}

#[test]
fn state_in_every_format() {
    let dir = quickstart();
    let table = stdout(&run_cli(
        dir.path(),
        &[
            "state",
            "--as-of",
            "2021-03-22",
            "--subject",
            "xj-wang-junzheng",
        ],
        None,
    ));
    assert!(
        table.starts_with("In force on 2021-03-22, as known at the head"),
        "{table}"
    );
    assert!(table.contains("EU-COUNCIL  EU-GHR"), "{table}");
    let answer = json(
        dir.path(),
        &[
            "state",
            "--as-of",
            "2021-03-22",
            "--subject",
            "xj-wang-junzheng",
        ],
    );
    let authorities: Vec<&str> = answer["listings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["authority"].as_str().unwrap())
        .collect();
    assert_eq!(
        authorities,
        vec!["CA-GAC", "EU-COUNCIL", "UK-FCDO", "US-OFAC"]
    );
    let csv = stdout(&run_cli(
        dir.path(),
        &[
            "state",
            "--as-of",
            "2021-03-22",
            "--authority",
            "EU-COUNCIL",
            "--format",
            "csv",
        ],
        None,
    ));
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(
        lines[0],
        "authority,programme,subject,names,measures,since,until,counter_sanction,why"
    );
    assert_eq!(lines.len(), 6, "{csv}");
    assert!(lines.iter().any(|l| l.starts_with("EU-COUNCIL,EU-GHR,xj-wang-junzheng,WANG Junzheng / 王君正,asset_freeze funds_ban travel_ban,2021-03-22,2021-12-08,,5")), "{csv}");
}

#[test]
fn known_at_before_anything_was_recorded_knows_nothing() {
    let dir = quickstart();
    let answer = json(
        dir.path(),
        &[
            "state",
            "--as-of",
            "2021-03-22",
            "--known-at",
            "2000-01-01T00:00:00Z",
        ],
    );
    assert_eq!(answer["known_at"]["sequence"], 0);
    assert_eq!(answer["listings"].as_array().unwrap().len(), 0);
}

#[test]
fn history_diff_links_and_subjects() {
    let dir = quickstart();
    let history = json(dir.path(), &["history", "xj-wang-junzheng"]);
    let designations: Vec<&str> = history["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "designation")
        .map(|e| e["effective_on"].as_str().unwrap())
        .collect();
    assert_eq!(designations, vec!["2021-03-22"; 4]);
    let diff = json(
        dir.path(),
        &[
            "diff",
            "--from",
            "2021-03-21",
            "--to",
            "2021-03-22",
            "--authority",
            "CN-MFA",
        ],
    );
    assert_eq!(diff["came_into_force"].as_array().unwrap().len(), 14);
    let links = json(dir.path(), &["links", "eu-council-2021-03-22-ghr-xinjiang"]);
    assert!(
        links["referred_to_by"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["event_id"] == "cn-mfa-2021-03-22-eu")
    );
    let dot = stdout(&run_cli(
        dir.path(),
        &[
            "links",
            "eu-council-2021-03-22-ghr-xinjiang",
            "--format",
            "dot",
        ],
        None,
    ));
    assert!(dot.starts_with("digraph links {") && dot.contains("\"cn-mfa-2021-03-22-eu\" -> \"eu-council-2021-03-22-ghr-xinjiang\" [label=\"in_response_to\"];"), "{dot}");
    let found = json(dir.path(), &["subjects", "SAKALIENE"]);
    assert_eq!(found["subjects"][0]["subject"], "lt-dovile-sakaliene");
}

#[test]
fn bad_questions_get_clear_errors_and_exit_2() {
    let dir = quickstart();
    let cases: [(&[&str], &str); 5] = [
        (
            &["state", "--as-of", "2021-02-30"],
            "--as-of \"2021-02-30\" is not a date: day 30 does not exist in 2021-02",
        ),
        (
            &["state", "--as-of", "2021-03-22", "--known-at", "yesterday"],
            "--known-at \"yesterday\" is neither an RFC 3339 time nor a date",
        ),
        (
            &["state", "--as-of", "2021-03-22", "--kind", "company"],
            "--kind \"company\" is not a subject kind",
        ),
        (
            &["history", "nobody"],
            "no subject \"nobody\" is in the ledger",
        ),
        (
            &["links", "no-such-event"],
            "no event \"no-such-event\" is recorded",
        ),
    ];
    for (args, expected) in cases {
        let output = run_cli(dir.path(), args, None);
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        assert!(
            stderr(&output).contains(expected),
            "{args:?}: {}",
            stderr(&output)
        );
    }
}

#[test]
fn rebuild_and_verify_projections() {
    let dir = quickstart();
    let output = run_cli(dir.path(), &["rebuild"], None);
    assert_eq!(output.status.code(), Some(0));
    assert_eq!(
        stdout(&output).trim(),
        format!(
            "rebuilt the derived store (event-id index, record places, Merkle tree, projections) from the {} records of the log",
            common_dataset_len()
        )
    );
    let output = run_cli(dir.path(), &["verify"], None);
    assert_eq!(output.status.code(), Some(3), "{}", stderr(&output));
    assert!(
        stdout(&output)
            .contains("the derived index, places, Merkle nodes and projections match the log")
    );
}

fn common_dataset_len() -> usize {
    sanctions_ledger::cli::BUNDLED_DATASET
        .lines()
        .filter(|l| !l.trim().is_empty())
        .count()
}

#[test]
fn every_answer_says_which_records_and_head_it_reflects() {
    let dir = quickstart();
    let head = json(dir.path(), &["head"]);
    let head_hash = head["hash"].as_str().unwrap().to_owned();
    for args in [
        &["state", "--as-of", "2021-03-22"][..],
        &["history", "xj-wang-junzheng"][..],
        &["diff", "--from", "2021-03-21", "--to", "2021-03-28"][..],
        &["links", "eu-council-2021-03-22-ghr-xinjiang"][..],
        &["subjects", "wang"][..],
    ] {
        let answer = json(dir.path(), args);
        let known = &answer["known_at"];
        assert_eq!(known["hash"], head_hash.as_str(), "{args:?}");
        assert_eq!(known["head_hash"], head_hash.as_str(), "{args:?}");
        let table = stdout(&run_cli(dir.path(), args, None));
        assert!(
            table
                .trim_end()
                .ends_with(&format!("of the log, head {head_hash})")),
            "{args:?}: {table}"
        );
    }
    // Known at an earlier time: the record it stops at, with its hash, and the head beside it.
    let shown = json(dir.path(), &["show", "3"]);
    let time = shown["record"]["recorded_at"].as_str().unwrap().to_owned();
    let answer = json(
        dir.path(),
        &["state", "--as-of", "2021-03-22", "--known-at", &time],
    );
    let known = &answer["known_at"];
    let sequence = known["sequence"].as_u64().unwrap();
    let record = json(dir.path(), &["show", &sequence.to_string()]);
    assert_eq!(known["hash"], record["record"]["hash"]);
    assert_eq!(known["head_hash"], head_hash.as_str());
}
