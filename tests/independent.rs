//! An independent reader agrees with `verify`: tests/independent/read_ledger.py, written from
//! ARCHITECTURE.md alone (Python's standard library and the `blake3` package, no code of ours),
//! re-hashes and re-links a ledger folder; on good folders it finds the same records and head
//! as `verify`, and on damaged ones it finds damage at the same sequence.
//!
//! The `blake3` package is installed into a virtual environment under `target/` when the
//! system's Python lacks it (from PyPI, pinned).

mod common;

use common::log_files::{self, changed};
use common::{ledger_with, run_cli, stdout};
use std::path::{Path, PathBuf};
use std::process::Command;

const BLAKE3_PACKAGE: &str = "blake3==1.0.11";

/// A Python 3 that can `import blake3` (made once per test run).
fn python() -> PathBuf {
    static PYTHON: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    PYTHON.get_or_init(find_or_make_python).clone()
}

fn find_or_make_python() -> PathBuf {
    let system = PathBuf::from("python3");
    let has_blake3 = |python: &Path| {
        Command::new(python)
            .args(["-c", "import blake3"])
            .output()
            .is_ok_and(|output| output.status.success())
    };
    if has_blake3(&system) {
        return system;
    }
    let venv = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/independent-python");
    let python = venv.join("bin/python");
    if !has_blake3(&python) {
        let created = Command::new("python3")
            .args(["-m", "venv"])
            .arg(&venv)
            .status()
            .expect("python3 -m venv");
        assert!(
            created.success(),
            "cannot create a Python virtual environment"
        );
        let installed = Command::new(&python)
            .args(["-m", "pip", "install", "--quiet", BLAKE3_PACKAGE])
            .status()
            .expect("pip");
        assert!(installed.success(), "cannot install {BLAKE3_PACKAGE}");
    }
    python
}

/// What the independent reader says: Ok((records, head)) or Err(sequence).
fn independent(python: &Path, ledger: &Path) -> Result<(u64, String), u64> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/independent/read_ledger.py");
    let output = Command::new(python)
        .arg(script)
        .arg(ledger)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    let words: Vec<&str> = text.split_whitespace().collect();
    match (output.status.code(), words.as_slice()) {
        (Some(0), ["OK", records, head]) => Ok((records.parse().unwrap(), (*head).to_owned())),
        (Some(1), ["DAMAGED", _, sequence, _, _]) => Err(sequence.parse().unwrap()),
        other => panic!(
            "unexpected answer {other:?}: {text}{}",
            String::from_utf8_lossy(&output.stderr)
        ),
    }
}

/// What `verify` says: Ok((records, head)) or Err(sequence).
fn ours(ledger: &Path) -> Result<(u64, String), u64> {
    let output = run_cli(
        ledger.parent().unwrap(),
        &[
            "--ledger",
            ledger.to_str().unwrap(),
            "--json",
            "verify",
            "--log-only",
        ],
        None,
    );
    let value: serde_json::Value = serde_json::from_str(&stdout(&output)).unwrap();
    match output.status.code() {
        Some(3) => Ok((
            value["records"].as_u64().unwrap(),
            value["head_hash"].as_str().unwrap().to_owned(),
        )),
        Some(1) => Err(value["error"]["verify"]["sequence"].as_u64().unwrap()),
        other => panic!("verify exited {other:?}: {value}"),
    }
}

#[test]
fn the_independent_reader_agrees_with_verify_on_good_and_damaged_folders() {
    let python = python();
    type Damage = Box<dyn Fn(&Path)>;
    let cases: Vec<(&str, Damage)> = vec![
        ("untouched", Box::new(|_: &Path| {})),
        (
            "a flipped byte",
            Box::new(|path: &Path| {
                log_files::rewrite(path, false, |frames| frames[6].record[30] ^= 4)
            }),
        ),
        (
            "two records swapped",
            Box::new(|path: &Path| log_files::rewrite(path, true, |frames| frames.swap(4, 8))),
        ),
        (
            "a link changed, hash recomputed",
            Box::new(|path: &Path| {
                log_files::rewrite(path, true, |frames| {
                    frames[6] = changed(&frames[6], true, |record| record.previous_hash[3] ^= 1)
                })
            }),
        ),
        (
            "a record rewritten, hash recomputed",
            Box::new(|path: &Path| {
                log_files::rewrite(path, true, |frames| {
                    frames[6] = changed(&frames[6], true, |record| {
                        record.appended_by = "mallory".into()
                    })
                })
            }),
        ),
        (
            "a recorded time moved back",
            Box::new(|path: &Path| {
                log_files::rewrite(path, true, |frames| {
                    frames[6] = changed(&frames[6], true, |record| {
                        record.recorded_at =
                            sanctions_ledger::domain::Timestamp::from_unix_micros(0)
                    })
                })
            }),
        ),
        (
            "the last record cut from its file",
            Box::new(|path: &Path| log_files::rewrite(path, false, |frames| drop(frames.pop()))),
        ),
        (
            "the tail cut and the head marker moved back (internally consistent)",
            Box::new(|path: &Path| log_files::rewrite(path, true, |frames| frames.truncate(15))),
        ),
    ];
    for (name, damage) in cases {
        // Small segments: the reader must follow the log across segment files.
        let ledger = ledger_with(40, 7);
        damage(&ledger.path);
        let (theirs, ours) = (independent(&python, &ledger.path), ours(&ledger.path));
        assert_eq!(theirs, ours, "{name}");
        if name == "untouched" {
            assert_eq!(theirs.unwrap().0, 40);
        }
    }
}

#[test]
fn the_independent_reader_follows_many_segments() {
    let python = python();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ledger");
    let options = sanctions_ledger::ledger::LedgerOptions {
        log: sanctions_ledger::ledger::log::LogOptions {
            segment_bytes_max: 4 * 1024,
        },
    };
    let genesis = common::genesis_bytes("many segments");
    let mut ledger =
        sanctions_ledger::ledger::Ledger::init_with_genesis(&path, &genesis, options).unwrap();
    let mut next = 0;
    while next < 300 {
        common::append_synthetic(&mut ledger, next, 9);
        next += 9;
    }
    drop(ledger);
    assert!(log_files::segments(&path).len() > 10);
    let theirs = independent(&python, &path);
    assert_eq!(theirs, ours(&path));
    assert_eq!(theirs.unwrap().0, 306);
}
