//! Tamper tests: someone with write access edits a real ledger's files, following the documented
//! layout (segment files of frames, the durable head marker, the derived store); `verify` must
//! name the kind of damage, the right sequence and where it is (file and byte), the CLI must exit
//! 1, and opening for writing must refuse a damaged tail.

mod common;

use common::log_files::{self, Frame, changed};
use common::{ledger_with, run_cli, stdout};
use sanctions_ledger::ledger::record::Record;
use sanctions_ledger::ledger::{FailureKind, Ledger, LedgerError};
use std::path::Path;

const RECORDS: u64 = 20;

fn verify_failure(path: &Path) -> (FailureKind, u64, String) {
    let opened = Ledger::open_read(path).and_then(|mut ledger| {
        ledger.attach_derived()?;
        Ok(ledger)
    });
    let failure = match opened {
        Ok(ledger) => ledger.verify(&mut |_| {}).expect_err("verify must fail"),
        Err(LedgerError::Damaged(failure)) => failure,
        Err(other) => panic!("expected damage, got {other}"),
    };
    (failure.kind, failure.sequence, failure.to_string())
}

fn assert_detected(edit: impl FnOnce(&Path), kind: FailureKind, sequence: u64) {
    let ledger = ledger_with(RECORDS, 7);
    edit(&ledger.path);
    let (found_kind, found_sequence, text) = verify_failure(&ledger.path);
    assert_eq!((found_kind, found_sequence), (kind, sequence), "{text}");
    // The CLI says the same, exits 1, and names kind, sequence and file in its JSON.
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

/// Edits the frames of the log; the marker is then made to name the last frame, as an
/// attacker who follows the layout would.
fn edit_frames(edit: impl FnOnce(&mut Vec<Frame>)) -> impl FnOnce(&Path) {
    move |path| log_files::rewrite(path, true, edit)
}

fn at(sequence: u64) -> usize {
    sequence as usize - 1
}

#[test]
fn an_untouched_ledger_verifies() {
    let ledger = ledger_with(RECORDS, 7);
    let verified = Ledger::open(&ledger.path)
        .unwrap()
        .verify(&mut |_| {})
        .unwrap();
    assert_eq!(verified.records, RECORDS);
    assert!(verified.derived_checked);
    let output = run_cli(ledger.dir.path(), &["--ledger", "ledger", "verify"], None);
    assert_eq!(output.status.code(), Some(3));
    assert!(stdout(&output).starts_with(&format!(
        "UNANCHORED: internally consistent: {RECORDS} records from genesis {}, head {}",
        verified.genesis_hash, verified.head_hash
    )));
}

#[test]
fn one_flipped_byte_in_a_record_is_a_hash_mismatch_located_in_its_file() {
    let ledger = ledger_with(RECORDS, 7);
    let (_, offset) = log_files::frames_with_offsets(&ledger.path)[at(7)].clone();
    log_files::rewrite(&ledger.path, false, |frames| {
        let middle = frames[at(7)].record.len() / 2;
        frames[at(7)].record[middle] ^= 0x01;
    });
    let output = run_cli(
        ledger.dir.path(),
        &["--ledger", "ledger", "--json", "verify"],
        None,
    );
    assert_eq!(output.status.code(), Some(1));
    let report: serde_json::Value = serde_json::from_str(&stdout(&output)).unwrap();
    let failure = &report["error"]["verify"];
    assert_eq!(failure["kind"], "hash_mismatch");
    assert_eq!(failure["sequence"], 7);
    assert_eq!(failure["file"], "log/00000000000000000001.seg");
    assert_eq!(failure["offset"], offset);
}

#[test]
fn one_flipped_byte_in_a_stored_hash_is_a_hash_mismatch() {
    assert_detected(
        edit_frames(|frames| frames[at(7)].hash[31] ^= 0x80),
        FailureKind::HashMismatch,
        7,
    );
}

#[test]
fn a_deleted_record_is_found_where_it_was() {
    assert_detected(
        edit_frames(|frames| drop(frames.remove(at(7)))),
        FailureKind::Misplaced,
        7,
    );
}

#[test]
fn a_last_record_cut_from_the_file_is_found_by_the_durable_head() {
    assert_detected(
        |path| log_files::rewrite(path, false, |frames| drop(frames.pop())),
        FailureKind::Gap,
        RECORDS,
    );
}

#[test]
fn two_swapped_records_are_misplaced() {
    assert_detected(
        edit_frames(|frames| frames.swap(at(5), at(9))),
        FailureKind::Misplaced,
        5,
    );
}

#[test]
fn a_changed_previous_hash_is_a_hash_mismatch() {
    assert_detected(
        edit_frames(|frames| {
            frames[at(7)] = changed(&frames[at(7)], false, |record| record.previous_hash[0] ^= 1)
        }),
        FailureKind::HashMismatch,
        7,
    );
}

#[test]
fn a_changed_previous_hash_with_a_recomputed_hash_is_a_broken_link() {
    assert_detected(
        edit_frames(|frames| {
            frames[at(7)] = changed(&frames[at(7)], true, |record| record.previous_hash[0] ^= 1)
        }),
        FailureKind::BrokenLink,
        7,
    );
}

#[test]
fn a_rewritten_record_with_a_recomputed_hash_breaks_the_next_link() {
    assert_detected(
        edit_frames(|frames| {
            frames[at(7)] = changed(&frames[at(7)], true, |record| {
                record.appended_by = "mallory".into()
            })
        }),
        FailureKind::BrokenLink,
        8,
    );
}

#[test]
fn a_non_canonical_encoding_with_a_recomputed_hash_is_undecodable() {
    assert_detected(
        edit_frames(|frames| {
            let bytes = frames[at(7)].record.clone();
            // Byte 0 is the format version, byte 1 the sequence (7) as a one-byte varint.
            assert_eq!(&bytes[..2], &[1, 7]);
            // 0xfb announces a two-byte integer: 7 in three bytes decodes, but is not minimal.
            let forged = [&[1u8, 0xfb, 7, 0][..], &bytes[2..]].concat();
            assert_eq!(
                Record::from_bytes(&forged).unwrap_err().to_string(),
                "not the canonical encoding of the value it decodes to"
            );
            frames[at(7)].hash = sanctions_ledger::ledger::chain::record_hash(&forged).0;
            frames[at(7)].record = forged;
        }),
        FailureKind::Undecodable,
        7,
    );
}

#[test]
fn a_recorded_time_moved_back_is_caught() {
    assert_detected(
        edit_frames(|frames| {
            frames[at(7)] = changed(&frames[at(7)], true, |record| {
                record.recorded_at = sanctions_ledger::domain::Timestamp::from_unix_micros(0)
            })
        }),
        FailureKind::TimeWentBack,
        7,
    );
}

#[test]
fn a_frame_length_that_runs_past_the_segment_is_a_damaged_frame() {
    assert_detected(
        |path| {
            let (_, offset) = log_files::frames_with_offsets(path)[at(12)].clone();
            let file = log_files::segment_path(path, 1);
            let mut bytes = std::fs::read(&file).unwrap();
            bytes[offset as usize] = 0x00;
            bytes[offset as usize + 1] = 0x00;
            bytes[offset as usize + 2] = 0xff;
            std::fs::write(&file, bytes).unwrap();
        },
        FailureKind::FrameDamaged,
        12,
    );
}

#[test]
fn a_removed_index_entry_is_an_index_mismatch() {
    assert_detected(
        |path| {
            common::with_db(path, |db| {
                drop(
                    db.open_tree("event_ids")
                        .unwrap()
                        .remove("event-6")
                        .unwrap(),
                )
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
            common::with_db(path, |db| {
                drop(
                    db.open_tree("event_ids")
                        .unwrap()
                        .insert("forged", &3u64.to_be_bytes())
                        .unwrap(),
                )
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
            let mut marker = log_files::marker(path);
            marker.hash.0[31] ^= 1;
            log_files::write_marker(path, marker);
        },
        FailureKind::HeadMismatch,
        RECORDS,
    );
}

#[test]
fn opening_for_writing_refuses_a_damaged_tail() {
    let ledger = ledger_with(RECORDS, 7);
    log_files::rewrite(&ledger.path, false, |frames| {
        frames[at(RECORDS - 1)].record[10] ^= 0x01
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
    let before = std::fs::read(log_files::segment_path(&ledger.path, 1)).unwrap();
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
    assert_eq!(
        std::fs::read(log_files::segment_path(&ledger.path, 1)).unwrap(),
        before
    );
}

#[test]
fn both_head_marker_slots_damaged_is_reported_not_guessed() {
    let ledger = ledger_with(5, 5);
    let head = log_files::log_dir(&ledger.path).join("head");
    std::fs::write(&head, vec![0xA5; 8192]).unwrap();
    let output = run_cli(ledger.dir.path(), &["--ledger", "ledger", "verify"], None);
    let text = common::stderr(&output);
    assert_eq!(output.status.code(), Some(1), "{text}");
    assert!(
        text.contains("neither slot of the durable head marker"),
        "{text}"
    );
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
