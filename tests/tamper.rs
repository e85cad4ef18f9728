//! Tamper tests: someone with write access edits a real on-disk ledger with sled, following
//! the documented layout; `verify` must name the kind of damage and the right sequence, the
//! CLI must exit 1, and opening for writing must refuse a damaged tail.

mod common;

use common::{ledger_with, run_cli, stdout};
use sanctions_ledger::ledger::record::{self, Record};
use sanctions_ledger::ledger::{FailureKind, Ledger, LedgerError};
use std::path::Path;

const RECORDS: u64 = 20;

fn with_tree(path: &Path, tree: &str, edit: impl FnOnce(&sled::Tree)) {
    common::with_db(path, |db| edit(&db.open_tree(tree).expect("tree")));
}

fn key(sequence: u64) -> [u8; 8] {
    sequence.to_be_bytes()
}

fn value(tree: &sled::Tree, sequence: u64) -> Vec<u8> {
    tree.get(key(sequence))
        .expect("get")
        .expect("present")
        .to_vec()
}

/// Decodes a stored record, lets `change` edit it, and stores it back; with `rehash` the
/// stored hash is recomputed (a careful attacker), else the old one is kept.
fn rewrite_record(
    tree: &sled::Tree,
    sequence: u64,
    rehash: bool,
    change: impl FnOnce(&mut Record),
) {
    let stored = value(tree, sequence);
    let split = record::split_value(&stored).expect("split");
    let mut record = Record::from_bytes(split.record_bytes).expect("decode");
    change(&mut record);
    let bytes = record.to_bytes().expect("encode");
    let new_value = if rehash {
        record::stored_value(&bytes).0
    } else {
        [bytes.as_slice(), &split.stored_hash.0].concat()
    };
    tree.insert(key(sequence), new_value).expect("insert");
}

fn verify_failure(path: &Path) -> (FailureKind, u64, String) {
    let ledger = Ledger::open_unchecked(path).expect("open for audit");
    let failure = ledger.verify(&mut |_| {}).expect_err("verify must fail");
    (failure.kind, failure.sequence, failure.to_string())
}

fn assert_detected(edit: impl FnOnce(&Path), kind: FailureKind, sequence: u64) {
    let ledger = ledger_with(RECORDS, 7);
    edit(&ledger.path);
    let (found_kind, found_sequence, text) = verify_failure(&ledger.path);
    assert_eq!((found_kind, found_sequence), (kind, sequence), "{text}");
    // The CLI says the same, exits 1, and names kind and sequence in its JSON.
    let output = run_cli(
        ledger.dir.path(),
        &["--ledger", "ledger", "--json", "verify"],
        None,
    );
    assert_eq!(output.status.code(), Some(1), "{}", stdout(&output));
    let report: serde_json::Value = serde_json::from_str(&stdout(&output)).expect("json");
    assert_eq!(report["error"]["verify"]["kind"], kind.as_str());
    assert_eq!(report["error"]["verify"]["sequence"], sequence);
}

#[test]
fn an_untouched_ledger_verifies() {
    let ledger = ledger_with(RECORDS, 7);
    let verified = Ledger::open(&ledger.path)
        .unwrap()
        .verify(&mut |_| {})
        .unwrap();
    assert_eq!(verified.records, RECORDS);
    let output = run_cli(ledger.dir.path(), &["--ledger", "ledger", "verify"], None);
    assert_eq!(output.status.code(), Some(3));
    assert!(stdout(&output).starts_with(&format!(
        "UNANCHORED: internally consistent: {RECORDS} records from genesis {}, head {}",
        verified.genesis_hash, verified.head_hash
    )));
}

#[test]
fn one_flipped_byte_in_a_record_is_a_hash_mismatch() {
    assert_detected(
        |path| {
            with_tree(path, "records", |tree| {
                let mut bytes = value(tree, 7);
                let middle = bytes.len() / 2;
                bytes[middle] ^= 0x01;
                tree.insert(key(7), bytes).unwrap();
            })
        },
        FailureKind::HashMismatch,
        7,
    );
}

#[test]
fn one_flipped_byte_in_a_stored_hash_is_a_hash_mismatch() {
    assert_detected(
        |path| {
            with_tree(path, "records", |tree| {
                let mut bytes = value(tree, 7);
                let last = bytes.len() - 1;
                bytes[last] ^= 0x80;
                tree.insert(key(7), bytes).unwrap();
            })
        },
        FailureKind::HashMismatch,
        7,
    );
}

#[test]
fn a_deleted_record_is_a_gap() {
    assert_detected(
        |path| with_tree(path, "records", |tree| drop(tree.remove(key(7)).unwrap())),
        FailureKind::Gap,
        7,
    );
}

#[test]
fn a_deleted_last_record_disagrees_with_the_head() {
    assert_detected(
        |path| {
            with_tree(path, "records", |tree| {
                drop(tree.remove(key(RECORDS)).unwrap())
            })
        },
        FailureKind::HeadMismatch,
        RECORDS,
    );
}

#[test]
fn two_swapped_records_are_misplaced() {
    assert_detected(
        |path| {
            with_tree(path, "records", |tree| {
                let (five, nine) = (value(tree, 5), value(tree, 9));
                tree.insert(key(5), nine).unwrap();
                tree.insert(key(9), five).unwrap();
            })
        },
        FailureKind::Misplaced,
        5,
    );
}

#[test]
fn a_changed_previous_hash_is_a_hash_mismatch() {
    assert_detected(
        |path| {
            with_tree(path, "records", |tree| {
                rewrite_record(tree, 7, false, |record| record.previous_hash[0] ^= 1)
            })
        },
        FailureKind::HashMismatch,
        7,
    );
}

#[test]
fn a_changed_previous_hash_with_a_recomputed_hash_is_a_broken_link() {
    assert_detected(
        |path| {
            with_tree(path, "records", |tree| {
                rewrite_record(tree, 7, true, |record| record.previous_hash[0] ^= 1)
            })
        },
        FailureKind::BrokenLink,
        7,
    );
}

#[test]
fn a_rewritten_record_with_a_recomputed_hash_breaks_the_next_link() {
    assert_detected(
        |path| {
            with_tree(path, "records", |tree| {
                rewrite_record(tree, 7, true, |record| {
                    record.appended_by = "mallory".into()
                })
            })
        },
        FailureKind::BrokenLink,
        8,
    );
}

#[test]
fn a_non_canonical_encoding_with_a_recomputed_hash_is_undecodable() {
    assert_detected(
        |path| {
            with_tree(path, "records", |tree| {
                let stored = value(tree, 7);
                let split = record::split_value(&stored).unwrap();
                // Byte 0 is the format version, byte 1 the sequence (7) as a one-byte varint.
                assert_eq!(&split.record_bytes[..2], &[1, 7]);
                // 0xfb announces a two-byte integer: 7 in three bytes decodes, but is not minimal.
                let forged = [&[1u8, 0xfb, 7, 0][..], &split.record_bytes[2..]].concat();
                assert_eq!(
                    Record::from_bytes(&forged).unwrap_err().to_string(),
                    "not the canonical encoding of the value it decodes to"
                );
                tree.insert(key(7), record::stored_value(&forged).0)
                    .unwrap();
            })
        },
        FailureKind::Undecodable,
        7,
    );
}

#[test]
fn a_recorded_time_moved_back_is_caught() {
    assert_detected(
        |path| {
            with_tree(path, "records", |tree| {
                rewrite_record(tree, 7, true, |record| {
                    record.recorded_at = sanctions_ledger::domain::Timestamp::from_unix_micros(0)
                })
            })
        },
        FailureKind::TimeWentBack,
        7,
    );
}

#[test]
fn a_removed_index_entry_is_an_index_mismatch() {
    assert_detected(
        |path| {
            with_tree(path, "event_ids", |tree| {
                drop(tree.remove("event-6").unwrap())
            })
        },
        FailureKind::IndexMismatch,
        7,
    );
}

#[test]
fn an_extra_index_entry_is_an_index_mismatch() {
    assert_detected(
        |path| {
            with_tree(path, "event_ids", |tree| {
                drop(tree.insert("forged", &key(3)).unwrap())
            })
        },
        FailureKind::IndexMismatch,
        RECORDS + 1,
    );
}

#[test]
fn a_moved_head_is_a_head_mismatch() {
    assert_detected(
        |path| {
            with_tree(path, "meta", |tree| {
                let mut head = tree.get("head").unwrap().unwrap().to_vec();
                head[39] ^= 1;
                tree.insert("head", head).unwrap();
            })
        },
        FailureKind::HeadMismatch,
        RECORDS,
    );
}

#[test]
fn opening_for_writing_refuses_a_damaged_tail() {
    let ledger = ledger_with(RECORDS, 7);
    with_tree(&ledger.path, "records", |tree| {
        let mut bytes = value(tree, RECORDS - 1);
        bytes[10] ^= 0x01;
        tree.insert(key(RECORDS - 1), bytes).unwrap();
    });
    match Ledger::open(&ledger.path) {
        Err(LedgerError::Damaged(failure)) => {
            assert_eq!(
                (failure.kind, failure.sequence),
                (FailureKind::HashMismatch, RECORDS - 1)
            )
        }
        other => panic!(
            "expected a damaged-ledger error, got {:?}",
            other.map(|_| ())
        ),
    }
    // The CLI refuses to append (exit 2) and appends nothing.
    let input = common::json_lines(&common::synthetic_events(RECORDS, 1));
    let output = run_cli(
        ledger.dir.path(),
        &["--ledger", "ledger", "append"],
        Some(input.as_bytes()),
    );
    assert_eq!(output.status.code(), Some(2));
    assert!(
        common::stderr(&output).contains("the ledger is damaged (hash_mismatch at sequence 19"),
        "{}",
        common::stderr(&output)
    );
}

#[test]
fn unreadable_store_files_fail_verification_without_a_panic() {
    let ledger = ledger_with(5, 5);
    let db_file = ledger.path.join("db");
    let length = std::fs::metadata(&db_file).unwrap().len() as usize;
    std::fs::write(&db_file, vec![0xA5; length]).unwrap();
    let output = run_cli(ledger.dir.path(), &["--ledger", "ledger", "verify"], None);
    let text = common::stderr(&output);
    assert_eq!(output.status.code(), Some(1), "{text}");
    assert!(text.contains("FAILED"), "{text}");
}

#[test]
fn a_folder_without_a_ledger_is_an_error_not_a_verdict() {
    let dir = tempfile::tempdir().unwrap();
    let output = run_cli(dir.path(), &["--ledger", "nothing-here", "verify"], None);
    assert_eq!(output.status.code(), Some(2));
    assert!(common::stderr(&output).contains("no ledger here"));
    assert!(
        !dir.path().join("nothing-here").exists(),
        "verify must not create a ledger"
    );
}
