//! CLI tests: the built binary in a temporary folder; output, exit codes, nothing appended on
//! bad input.

mod common;

use common::{run_cli, stderr, stdout};
use serde_json::Value;
use std::path::Path;

fn init(dir: &Path) {
    let output = run_cli(dir, &["init", "ledger", "--origin", "cli test"], None);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
}

fn head_sequence(dir: &Path) -> u64 {
    let output = run_cli(dir, &["--json", "head"], None);
    assert_eq!(output.status.code(), Some(0), "{}", stdout(&output));
    let head: Value = serde_json::from_str(&stdout(&output)).unwrap();
    head["sequence"].as_u64().unwrap()
}

const GOOD: &str = r#"{"kind":"designation","id":"eu-1","effective_on":"2021-03-22","sources":[{"publisher":"EU","title":"OJ L 99I","url":"https://eur-lex.europa.eu/"}],"authority":"EU-COUNCIL","programme":"EU-GHR","legal_basis":["Council Implementing Regulation (EU) 2021/478"],"subjects":[{"id":"xj-wang-junzheng","kind":"person","names":["WANG Junzheng","王君正"]}],"measures":["asset_freeze","travel_ban"],"until":"2021-12-08"}"#;

/// Appends `input` (JSON Lines on stdin) and returns the output; asserts nothing was appended
/// when the exit code is not 0.
fn append_stdin(dir: &Path, input: &str) -> std::process::Output {
    let before = head_sequence(dir);
    let output = run_cli(dir, &["append", "-"], Some(input.as_bytes()));
    if output.status.code() != Some(0) {
        assert_eq!(
            head_sequence(dir),
            before,
            "a rejected batch appended something"
        );
    }
    output
}

#[test]
fn a_good_batch_is_appended_and_shown() {
    let dir = tempfile::tempdir().unwrap();
    init(dir.path());
    let output = append_stdin(dir.path(), &format!("{GOOD}\n"));
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(stdout(&output).starts_with("appended 1 event(s) durably (0 already recorded"));
    let show = run_cli(dir.path(), &["--json", "show", "1"], None);
    let record: Value = serde_json::from_str(&stdout(&show)).unwrap();
    assert_eq!(
        record["record"]["event"]["subjects"][0]["names"][1],
        "王君正"
    );
    assert_eq!(record["record"]["appended_by"], "cli");
    let log = run_cli(dir.path(), &["log"], None);
    assert!(
        stdout(&log)
            .contains("designation  2021-03-22  eu-1  EU-COUNCIL EU-GHR: 1 subject(s) designated"),
        "{}",
        stdout(&log)
    );
    assert_eq!(
        run_cli(dir.path(), &["show", "2"], None).status.code(),
        Some(2)
    );
}

#[test]
fn malformed_json_names_the_line_and_appends_nothing() {
    let dir = tempfile::tempdir().unwrap();
    init(dir.path());
    let output = append_stdin(
        dir.path(),
        &format!("{GOOD}\n{{\"kind\": \"designation\",\n"),
    );
    assert_eq!(output.status.code(), Some(2));
    let text = stderr(&output);
    assert!(text.contains("nothing was appended"), "{text}");
    assert!(
        text.contains("<stdin>:2: not valid JSON: EOF while parsing a value"),
        "{text}"
    );
}

#[test]
fn a_missing_field_names_the_line_and_pointer() {
    let dir = tempfile::tempdir().unwrap();
    init(dir.path());
    let without_programme = GOOD.replace(r#""programme":"EU-GHR","#, "");
    let output = append_stdin(dir.path(), &format!("\n{without_programme}\n"));
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output)
            .contains("<stdin>:2: /programme: missing; the field \"programme\" is required here"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn an_unknown_kind_lists_the_valid_ones() {
    let dir = tempfile::tempdir().unwrap();
    init(dir.path());
    let output = append_stdin(
        dir.path(),
        &GOOD.replace("\"designation\"", "\"designaton\""),
    );
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains(
            "<stdin>:1: /kind: unknown event kind \"designaton\"; expected one of designation, delisting, renewal, amendment, retaliation, statement, correction, snapshot, observation"
        ),
        "{}",
        stderr(&output)
    );
}

#[test]
fn an_invalid_date_says_why_and_what_is_valid() {
    let dir = tempfile::tempdir().unwrap();
    init(dir.path());
    let input = format!(
        "{GOOD}\n{}\n",
        GOOD.replace("eu-1", "eu-2")
            .replace("2021-03-22", "2021-02-30")
    );
    let output = append_stdin(dir.path(), &input);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains(
            "<stdin>:2: /effective_on: \"2021-02-30\" is not a real date: day 30 does not exist in 2021-02 (it has 28 days); expected YYYY-MM-DD"
        ),
        "{}",
        stderr(&output)
    );
}

#[test]
fn every_problem_is_reported_at_once_in_json() {
    let dir = tempfile::tempdir().unwrap();
    init(dir.path());
    let bad = GOOD
        .replace("\"2021-12-08\"", "\"2021-01-01\"")
        .replace("\"travel_ban\"", "\"travel_ban\",\"asset_freeze\"");
    let bad_types = GOOD
        .replace("eu-1", "eu-3")
        .replace(r#""authority":"EU-COUNCIL""#, r#""authority":7"#)
        .replace(r#""measures""#, r#""measurez""#);
    let output = run_cli(
        dir.path(),
        &["--json", "append"],
        Some(format!("{bad}\n{bad_types}\n").as_bytes()),
    );
    assert_eq!(output.status.code(), Some(2));
    let report: Value = serde_json::from_str(&stdout(&output)).unwrap();
    assert_eq!(report["error"]["kind"], "invalid_input");
    let problems: Vec<(u64, String)> = report["error"]["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["line"].as_u64().unwrap(),
                p["pointer"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        problems,
        vec![
            (1, "/measures/2".to_owned()),
            (1, "/until".to_owned()),
            (2, "/authority".to_owned()),
            (2, "/measures".to_owned()),
            (2, "/measurez".to_owned()),
        ],
        "{report:#}"
    );
    assert_eq!(head_sequence(dir.path()), 0);
}

#[test]
fn an_unknown_reference_is_refused_with_its_line() {
    let dir = tempfile::tempdir().unwrap();
    init(dir.path());
    let retaliation = r#"{"kind":"retaliation","id":"cn-1","effective_on":"2021-03-22","sources":[{"publisher":"MFA","title":"Statement","url":"https://www.fmprc.gov.cn/"}],"authority":"CN-MFA","programme":"CN-COUNTERMEASURES","subjects":[{"id":"de-adrian-zenz","kind":"person","names":["Adrian Zenz"]}],"measures":["entry_ban"],"in_response_to":["eu-404"]}"#;
    let output = append_stdin(dir.path(), &format!("{GOOD}\n{retaliation}\n"));
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("<stdin>:2: /in_response_to/0: names \"eu-404\", which is neither in the ledger nor earlier in the batch"), "{}", stderr(&output));
    // Named earlier in the same batch, the reference is fine.
    let fixed = retaliation.replace("eu-404", "eu-1");
    assert_eq!(
        append_stdin(dir.path(), &format!("{GOOD}\n{fixed}\n"))
            .status
            .code(),
        Some(0)
    );
    assert_eq!(head_sequence(dir.path()), 2);
}

#[test]
fn the_same_batch_twice_leaves_one_copy() {
    let dir = tempfile::tempdir().unwrap();
    init(dir.path());
    let batch = common::json_lines(&common::synthetic_events(0, 12));
    assert_eq!(append_stdin(dir.path(), &batch).status.code(), Some(0));
    let again = append_stdin(dir.path(), &batch);
    assert_eq!(again.status.code(), Some(0));
    assert!(
        stdout(&again).starts_with("appended 0 event(s) durably (12 already recorded, unchanged)"),
        "{}",
        stdout(&again)
    );
    assert_eq!(head_sequence(dir.path()), 12);
    // A batch mixing known and new events appends only the new ones.
    let more = common::json_lines(&common::synthetic_events(6, 10));
    let output = run_cli(dir.path(), &["--json", "append"], Some(more.as_bytes()));
    let report: Value = serde_json::from_str(&stdout(&output)).unwrap();
    assert_eq!(
        (
            report["appended"].as_u64(),
            report["already_recorded"].as_u64()
        ),
        (Some(4), Some(6))
    );
    assert_eq!(report["events"][0]["sequence"], 7);
    assert_eq!(head_sequence(dir.path()), 16);
}

#[test]
fn a_conflicting_reuse_of_an_id_is_refused_and_appends_nothing() {
    let dir = tempfile::tempdir().unwrap();
    init(dir.path());
    assert_eq!(append_stdin(dir.path(), GOOD).status.code(), Some(0));
    let changed = GOOD.replace("2021-12-08", "2022-12-08");
    let fresh = GOOD.replace("eu-1", "eu-9");
    let output = append_stdin(dir.path(), &format!("{fresh}\n{changed}\n"));
    assert_eq!(output.status.code(), Some(2));
    let text = stderr(&output);
    assert!(text.contains("<stdin>:2: /id: the id \"eu-1\" is already recorded at sequence 1 with different content"), "{text}");
    assert_eq!(
        head_sequence(dir.path()),
        1,
        "the fresh event of the rejected batch must not be appended"
    );
    let twice = append_stdin(dir.path(), &format!("{fresh}\n{fresh}\n"));
    assert_eq!(twice.status.code(), Some(2));
    assert!(
        stderr(&twice).contains(
            "<stdin>:2: /id: reuses the id \"eu-9\" of line 1; ids must be unique within a batch"
        ),
        "{}",
        stderr(&twice)
    );
}

#[test]
fn recorded_time_never_goes_back() {
    let dir = tempfile::tempdir().unwrap();
    init(dir.path());
    let at = |time: &str, input: &str| {
        run_cli(
            dir.path(),
            &["append", "--recorded-at", time, "--operator", "archivist"],
            Some(input.as_bytes()),
        )
    };
    assert_eq!(at("2021-03-22T18:00:00Z", GOOD).status.code(), Some(0));
    let earlier = at("2021-03-22T17:59:59Z", &GOOD.replace("eu-1", "eu-2"));
    assert_eq!(earlier.status.code(), Some(2));
    assert!(
        stderr(&earlier).contains("is earlier than the head's"),
        "{}",
        stderr(&earlier)
    );
    let bad_time = at("yesterday", &GOOD.replace("eu-1", "eu-2"));
    assert_eq!(bad_time.status.code(), Some(2));
    assert!(
        stderr(&bad_time)
            .contains("--recorded-at \"yesterday\" is neither an RFC 3339 time nor a date")
    );
    assert_eq!(
        at("2021-03-22T18:00:00Z", &GOOD.replace("eu-1", "eu-2"))
            .status
            .code(),
        Some(0)
    );
    let show: Value = serde_json::from_str(&stdout(&run_cli(
        dir.path(),
        &["--json", "show", "2"],
        None,
    )))
    .unwrap();
    assert_eq!(show["record"]["recorded_at"], "2021-03-22T18:00:00Z");
    assert_eq!(show["record"]["appended_by"], "archivist");
}

#[test]
fn hostile_bytes_get_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    init(dir.path());
    let cases: Vec<(Vec<u8>, &str)> = vec![
        (b"\xff\xfe{}\n".to_vec(), "<stdin>:1: not valid UTF-8"),
        ("\u{feff}{}\n".as_bytes().to_vec(), "byte-order mark"),
        (b"".to_vec(), "holds no event"),
        (format!("{GOOD} {{}}\n").into_bytes(), "trailing characters"),
        (
            br#"{"kind":"statement","kind":"designation"}"#.to_vec(),
            "duplicate key \"kind\"",
        ),
        (
            format!("{}{}\n", "[".repeat(100_000), "]".repeat(100_000)).into_bytes(),
            "nested deeper than 16 levels",
        ),
        (
            GOOD.replace(r#""eu-1""#, "17").into_bytes(),
            "/id: expected a string, found a number",
        ),
    ];
    for (input, expected) in cases {
        let output = run_cli(dir.path(), &["append"], Some(&input));
        assert_eq!(output.status.code(), Some(2), "{expected}");
        assert!(
            stderr(&output).contains(expected),
            "expected {expected:?} in {}",
            stderr(&output)
        );
    }
    assert_eq!(head_sequence(dir.path()), 0);
}

#[test]
fn validate_checks_without_appending() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("one.json"), format!("{GOOD}\n")).unwrap();
    let output = run_cli(dir.path(), &["validate", "one.json"], None);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(
        stdout(&output),
        "one.json: 1 valid event(s), references resolved in the file (no ledger to look in); nothing was appended\n"
    );
    std::fs::write(dir.path().join("bad.jsonl"), "{}\n").unwrap();
    let output = run_cli(dir.path(), &["validate", "bad.jsonl"], None);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("bad.jsonl:1: /kind: missing"),
        "{}",
        stderr(&output)
    );
    assert!(!dir.path().join("ledger").exists());
}

#[test]
fn init_refuses_an_existing_ledger_and_help_explains_exit_codes() {
    let dir = tempfile::tempdir().unwrap();
    init(dir.path());
    let again = run_cli(dir.path(), &["init", "ledger"], None);
    assert_eq!(again.status.code(), Some(2));
    assert!(stderr(&again).contains("already exists"));
    let help = run_cli(dir.path(), &["--help"], None);
    assert_eq!(help.status.code(), Some(0));
    let text = stdout(&help)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    for code in [
        "Exit codes: 0 success",
        "1 a negative answer",
        "2 an error",
        "3 UNANCHORED",
        "4 TRUNCATED",
        "5 DIVERGED or FORKED",
    ] {
        assert!(text.contains(code), "--help explains \"{code}\": {text}");
    }
    assert_eq!(
        run_cli(dir.path(), &["frobnicate"], None).status.code(),
        Some(2)
    );
}

#[test]
fn quickstart_builds_verifies_and_is_idempotent() {
    let dir = tempfile::tempdir().unwrap();
    let first = run_cli(dir.path(), &["quickstart"], None);
    assert_eq!(first.status.code(), Some(0), "{}", stderr(&first));
    let text = stdout(&first);
    let lines: Vec<&str> = sanctions_ledger::cli::BUNDLED_DATASET
        .lines()
        .filter(|l| !l.trim().is_empty())
        .collect();
    assert!(
        text.contains(&format!(
            "({} events; {} appended now, 0 already recorded)",
            lines.len(),
            lines.len()
        )),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "Verified: {} records chain from the genesis to head",
            lines.len()
        )),
        "{text}"
    );
    let second = run_cli(dir.path(), &["quickstart"], None);
    assert!(
        stdout(&second).contains(&format!("0 appended now, {} already recorded", lines.len())),
        "{}",
        stdout(&second)
    );
    assert_eq!(head_sequence(dir.path()), lines.len() as u64);
    let verify = run_cli(dir.path(), &["verify"], None);
    // Internally consistent, but no checkpoint was given to anchor it: exit 3, never a bare OK.
    assert_eq!(verify.status.code(), Some(3));
    assert!(stdout(&verify).starts_with("UNANCHORED: internally consistent"));
}

#[test]
fn a_ledger_in_use_by_another_process_is_reported_as_such() {
    let dir = tempfile::tempdir().unwrap();
    init(dir.path());
    let holder = sanctions_ledger::ledger::Ledger::open(&dir.path().join("ledger")).unwrap();
    let output = run_cli(dir.path(), &["append"], Some(GOOD.as_bytes()));
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("the ledger is in use by another process"),
        "{}",
        stderr(&output)
    );
    drop(holder);
}

#[test]
fn a_closed_pipe_ends_the_output_quietly_without_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    assert_eq!(
        run_cli(dir.path(), &["quickstart"], None).status.code(),
        Some(0)
    );
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_sanctions-ledger"))
        .current_dir(dir.path())
        .args(["state", "--as-of", "2021-03-22"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take()); // The reader goes away before the answer is printed.
    let output = child.wait_with_output().unwrap();
    assert!(
        !String::from_utf8_lossy(&output.stderr).contains("panicked"),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(output.status.code(), Some(0));
}
