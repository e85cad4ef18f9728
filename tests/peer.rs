//! The SQLite peer of issue 17 (`benches/peer_sqlite.py`, Python's standard library only) agrees
//! with the ledger: built from `log --json` of a generated ledger, it answers 60 random questions
//! (states as of a date for everyone, one authority or one subject, and diffs) exactly as the
//! ledger's CLI does, from sled on the first state question and from the head views file after.
//! The timing itself (`bench`, at 10,000 and 1,000,000 events) is run by hand: BENCHMARKS.md.

mod common;

use common::{run_cli, stderr};
use std::process::Command;

#[test]
fn the_sqlite_peer_answers_every_random_question_as_the_ledger_does() {
    let dir = tempfile::tempdir().unwrap();
    let output = run_cli(
        dir.path(),
        &["gen", "--events", "3000", "--seed", "17", "ledger"],
        None,
    );
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/benches/peer_sqlite.py");
    let binary = env!("CARGO_BIN_EXE_sanctions-ledger");
    let ledger = dir.path().join("ledger");
    let db = dir.path().join("peer.db");
    let python = |args: &[&str]| {
        Command::new("python3")
            .arg(script)
            .args(args)
            .output()
            .expect("python3 runs")
    };
    let ledger_text = ledger.to_str().unwrap();
    let db_text = db.to_str().unwrap();
    let built = python(&["build", binary, ledger_text, db_text]);
    assert!(
        built.status.success(),
        "{}",
        String::from_utf8_lossy(&built.stderr)
    );
    let built: serde_json::Value = serde_json::from_slice(&built.stdout).unwrap();
    assert!(built["stretches"].as_u64().unwrap() > 500, "{built}");
    // Without the head views file, then with it (written by the first state question).
    std::fs::remove_dir_all(ledger.join("views")).unwrap();
    let check = || {
        python(&[
            "check",
            binary,
            ledger_text,
            db_text,
            "--questions",
            "60",
            "--seed",
            "5",
        ])
    };
    let checked = check();
    let text = String::from_utf8_lossy(&checked.stderr);
    assert!(checked.status.success(), "{text}");
    assert!(
        text.contains("both answer the 60 questions identically"),
        "{text}"
    );
    assert!(ledger.join("views/head.views").is_file());
    // A peer that disagrees is caught: one stored row changed, the check fails naming it.
    let edit = Command::new("python3")
        .args([
            "-c",
            "import sqlite3,sys; db=sqlite3.connect(sys.argv[1]); \
             db.execute(\"UPDATE stretch SET measures='[\\\"travel_ban\\\"]' WHERE rowid IN \
             (SELECT rowid FROM stretch WHERE hi > 10000000 - 1 LIMIT 400)\"); db.commit()",
            db_text,
        ])
        .output()
        .unwrap();
    assert!(
        edit.status.success(),
        "{}",
        String::from_utf8_lossy(&edit.stderr)
    );
    let checked = check();
    let text = String::from_utf8_lossy(&checked.stderr);
    assert_eq!(checked.status.code(), Some(1), "{text}");
    assert!(text.contains("answers differ at $."), "{text}");
}
