//! The derived store (sled) holds only what the log can give again: deleted, or damaged by a
//! flipped bit anywhere in its files, it is reported (never trusted into a wrong answer) and
//! `rebuild` restores answers byte for byte; a projection entry deleted or edited is named by
//! the default `verify`; a ledger in use is an error (exit 2), not damage. The head views file
//! (`views/head.views`, the state at the head in a file of ours) likewise: a flipped bit is
//! refused by questions or harmless, named by `verify`, and `rebuild` writes it again.

mod common;

use common::{run_cli, stderr, stdout};
use std::path::{Path, PathBuf};

/// The questions whose answers must survive anything done to the derived store.
const QUESTIONS: [&[&str]; 5] = [
    &["state", "--as-of", "2021-03-22", "--format", "json"],
    &["state", "--as-of", "2021-12-10", "--format", "json"],
    &[
        "history",
        "xj-wang-junzheng",
        "--today",
        "2026-12-01",
        "--format",
        "json",
    ],
    &[
        "diff",
        "--from",
        "2021-03-21",
        "--to",
        "2021-03-28",
        "--format",
        "json",
    ],
    &["subjects", "wang", "--format", "json"],
];

fn quickstart() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let output = run_cli(dir.path(), &["quickstart"], None);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    dir
}

fn answers(dir: &Path) -> Vec<String> {
    QUESTIONS
        .iter()
        .map(|args| {
            let output = run_cli(dir, args, None);
            assert_eq!(
                output.status.code(),
                Some(0),
                "{args:?}: {}",
                stderr(&output)
            );
            assert!(!stderr(&output).contains("panicked"), "{}", stderr(&output));
            stdout(&output)
        })
        .collect()
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

fn files_under(dir: &Path) -> Vec<(PathBuf, u64)> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let entry = entry.unwrap();
        if entry.file_type().unwrap().is_dir() {
            files.extend(files_under(&entry.path()));
        } else {
            let len = entry.metadata().unwrap().len();
            if len > 0 {
                files.push((entry.path(), len));
            }
        }
    }
    files.sort();
    files
}

fn verify(dir: &Path) -> (Option<i32>, String) {
    let output = run_cli(dir, &["verify"], None);
    let text = format!("{}{}", stdout(&output), stderr(&output));
    assert!(!text.contains("panicked"), "{text}");
    (output.status.code(), text)
}

#[test]
fn a_deleted_derived_store_is_rebuilt_from_the_log_and_said_so() {
    let dir = quickstart();
    let before = answers(dir.path());
    std::fs::remove_dir_all(dir.path().join("ledger/derived")).unwrap();
    // Without the head views file too, the state question needs sled.
    std::fs::remove_dir_all(dir.path().join("ledger/views")).unwrap();
    let output = run_cli(dir.path(), QUESTIONS[0], None);
    assert_eq!(output.status.code(), Some(0));
    assert!(
        stderr(&output).contains("note: the derived store was rebuilt from the log"),
        "{}",
        stderr(&output)
    );
    assert_eq!(answers(dir.path()), before);
    assert_eq!(verify(dir.path()).0, Some(3));
}

#[test]
fn a_bit_flipped_anywhere_in_the_derived_store_is_reported_or_harmless_and_rebuild_restores_it() {
    let dir = quickstart();
    let before = answers(dir.path());
    let derived = dir.path().join("ledger/derived");
    let pristine = dir.path().join("pristine-derived");
    copy_dir(&derived, &pristine);
    let files = files_under(&pristine);
    let total: u64 = files.iter().map(|(_, len)| len).sum();
    let mut random = common::fault::Lcg(0x51ED);
    let (mut reported, mut harmless) = (0, 0);
    for round in 0..30 {
        std::fs::remove_dir_all(&derived).unwrap();
        copy_dir(&pristine, &derived);
        // Every file once (sled's `conf`, its snapshot, its data file), then at random.
        let (file, offset) = if round < files.len() {
            let (file, len) = &files[round];
            (file.clone(), random.below(0, *len))
        } else {
            let mut at = random.below(0, total);
            let (file, len) = files
                .iter()
                .find(|(_, len)| {
                    if at < *len {
                        true
                    } else {
                        at -= len;
                        false
                    }
                })
                .unwrap();
            (file.clone(), at.min(len - 1))
        };
        let target = derived.join(file.strip_prefix(&pristine).unwrap());
        let mut bytes = std::fs::read(&target).unwrap();
        bytes[offset as usize] ^= 1 << random.below(0, 8);
        std::fs::write(&target, bytes).unwrap();
        let (code, text) = verify(dir.path());
        match code {
            // Verified: then every answer must be the one before (no wrong answer passes).
            Some(3) => {
                harmless += 1;
                assert_eq!(answers(dir.path()), before, "{}: {text}", target.display());
            }
            Some(1) => {
                reported += 1;
                assert!(text.contains("rebuild"), "{text}");
                let output = run_cli(dir.path(), &["rebuild"], None);
                assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
                assert_eq!(answers(dir.path()), before);
                assert_eq!(verify(dir.path()).0, Some(3));
            }
            other => panic!("{}: verify exited {other:?}: {text}", target.display()),
        }
    }
    eprintln!("30 flips in the derived store: {reported} reported, {harmless} harmless");
}

#[test]
fn an_unopenable_derived_store_is_moved_aside_by_rebuild_never_deleted() {
    let dir = quickstart();
    let before = answers(dir.path());
    let derived = dir.path().join("ledger/derived");
    std::fs::write(derived.join("conf"), b"not sled's configuration").unwrap();
    std::fs::remove_dir_all(dir.path().join("ledger/views")).unwrap();
    let output = run_cli(dir.path(), QUESTIONS[0], None);
    assert_eq!(output.status.code(), Some(2), "{}", stdout(&output));
    let text = stderr(&output);
    assert!(text.contains("rebuild"), "{text}");
    assert_eq!(text.trim().lines().count(), 1, "one line: {text}");
    let output = run_cli(dir.path(), &["rebuild"], None);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(
        stdout(&output).contains("moved aside"),
        "{}",
        stdout(&output)
    );
    assert!(dir.path().join("ledger/derived.damaged-1/conf").is_file());
    assert_eq!(answers(dir.path()), before);
}

fn edit_tree(dir: &Path, tree: &str, edit: impl FnOnce(&sled::Tree)) {
    common::with_db(&dir.join("ledger"), |db| edit(&db.open_tree(tree).unwrap()));
}

#[test]
fn a_deleted_projection_fact_is_named_by_the_default_verify() {
    let dir = quickstart();
    edit_tree(dir.path(), "proj_listing_facts", |tree| {
        let (key, _) = tree.first().unwrap().unwrap();
        tree.remove(key).unwrap();
    });
    let (code, text) = verify(dir.path());
    assert_eq!(code, Some(1), "{text}");
    assert!(text.contains("proj_listing_facts entry"), "{text}");
    assert!(text.contains("missing from the store"), "{text}");
}

#[test]
fn an_edited_current_view_is_named_by_the_default_verify_even_against_a_checkpoint() {
    let dir = quickstart();
    let key_output = run_cli(dir.path(), &["keygen", "--name", "ops"], None);
    assert_eq!(key_output.status.code(), Some(0));
    let output = run_cli(
        dir.path(),
        &["checkpoint", "--key", "ops.key", "--out", "cp.txt"],
        None,
    );
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    // The finding: deleting a listing's current view made `state` drop a sanctioned listing,
    // while `verify --checkpoint` said OK.
    edit_tree(dir.path(), "proj_current", |tree| {
        let (key, _) = tree.first().unwrap().unwrap();
        tree.remove(key).unwrap();
    });
    let output = run_cli(
        dir.path(),
        &["verify", "--checkpoint", "cp.txt", "--key", "ops.pub"],
        None,
    );
    let text = format!("{}{}", stdout(&output), stderr(&output));
    assert_eq!(output.status.code(), Some(1), "{text}");
    assert!(
        text.contains("missing from the stored current view"),
        "{text}"
    );
    // An edited value, too.
    let output = run_cli(dir.path(), &["rebuild"], None);
    assert_eq!(output.status.code(), Some(0));
    edit_tree(dir.path(), "proj_current", |tree| {
        let (key, value) = tree.first().unwrap().unwrap();
        let mut value = value.to_vec();
        let last = value.len() - 1;
        value[last] ^= 1;
        tree.insert(key, value).unwrap();
    });
    let (code, text) = verify(dir.path());
    assert_eq!(code, Some(1), "{text}");
    assert!(text.contains("projection mismatch"), "{text}");
    // --log-only does not look, and says so.
    let output = run_cli(dir.path(), &["verify", "--log-only"], None);
    assert_eq!(output.status.code(), Some(3));
    assert!(stdout(&output).contains("only the log was checked"));
}

#[test]
fn a_ledger_in_use_is_an_error_not_damage() {
    let dir = quickstart();
    let held = sanctions_ledger::ledger::Ledger::open(&dir.path().join("ledger")).unwrap();
    let input = common::json_lines(&common::synthetic_events(0, 1));
    let output = run_cli(dir.path(), &["append"], Some(input.as_bytes()));
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("in use by another process"),
        "{}",
        stderr(&output)
    );
    let output = run_cli(dir.path(), &["verify"], None);
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert!(stderr(&output).contains("in use by another process"));
    drop(held);
}

#[test]
fn a_bit_flipped_in_the_head_views_file_never_gives_a_wrong_answer_and_verify_names_it() {
    let dir = quickstart();
    let before = answers(dir.path());
    let file = dir.path().join("ledger/views/head.views");
    let pristine = std::fs::read(&file).expect("the first state question wrote the file");
    assert_eq!(verify(dir.path()).0, Some(3));
    let mut random = common::fault::Lcg(0x7E17);
    let (mut refused, mut harmless) = (0, 0);
    for round in 0..40u64 {
        let mut bytes = pristine.clone();
        // The first rounds flip bytes of the footer (its last 137 bytes), then anywhere.
        let at = if round < 10 {
            bytes.len() as u64 - 1 - random.below(0, 137)
        } else {
            random.below(0, bytes.len() as u64)
        } as usize;
        bytes[at] ^= 1 << random.below(0, 8);
        std::fs::write(&file, &bytes).unwrap();
        let output = run_cli(dir.path(), QUESTIONS[0], None);
        let text = stderr(&output);
        assert!(!text.contains("panicked"), "{text}");
        match output.status.code() {
            // Answered: then it is the answer before (from the file, or from sled when the
            // damaged file looked stale or foreign and was written again).
            Some(0) => assert_eq!(stdout(&output), before[0], "byte {at}"),
            Some(2) => {
                assert!(
                    text.contains("head.views") && text.contains("rebuild"),
                    "{text}"
                );
            }
            other => panic!("byte {at}: the state question exited {other:?}: {text}"),
        }
        std::fs::write(&file, &bytes).unwrap();
        let (code, text) = verify(dir.path());
        match code {
            Some(1) => {
                refused += 1;
                assert!(text.contains("views/head.views"), "byte {at}: {text}");
                let output = run_cli(dir.path(), &["rebuild"], None);
                assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
                assert_eq!(
                    std::fs::read(&file).unwrap(),
                    pristine,
                    "rebuild writes it again"
                );
            }
            // The flip made it look bound to another head or layout: ignored, not wrong.
            Some(3) => harmless += 1,
            other => panic!("byte {at}: verify exited {other:?}: {text}"),
        }
        assert_eq!(answers(dir.path()), before, "byte {at}");
        std::fs::write(&file, &pristine).unwrap();
    }
    eprintln!("40 flips in the head views file: {refused} named by verify, {harmless} harmless");
    assert!(refused >= 30, "{refused} of 40 named");
}

#[test]
fn state_answers_from_the_head_views_file_are_those_of_the_projections_in_sled() {
    let dir = quickstart();
    // Written by the first state question, from sled; then read by the next ones.
    let from_sled: Vec<String> = answers(dir.path());
    assert!(dir.path().join("ledger/views/head.views").is_file());
    // sled's folder renamed away: the state and diff questions need only the file.
    let derived = dir.path().join("ledger/derived");
    let away = dir.path().join("derived-away");
    std::fs::rename(&derived, &away).unwrap();
    for (index, question) in QUESTIONS.iter().enumerate() {
        if question[0] == "state" || question[0] == "diff" {
            let output = run_cli(dir.path(), question, None);
            assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
            assert_eq!(stdout(&output), from_sled[index], "{question:?}");
            assert!(!derived.exists(), "{question:?} opened sled");
        }
    }
    std::fs::rename(&away, &derived).unwrap();
    // An append makes the file stale: the next question answers from sled, and writes it.
    let event = r#"{"kind":"statement","id":"views-stale-1","effective_on":"2021-03-23","sources":[{"publisher":"Test","title":"A statement","url":"https://example.org/s"}],"speaker":"A spokesperson","role":"Spokesperson","text":"Noted.","about_subjects":["xj-zhu-hailun"]}"#;
    let output = run_cli(
        dir.path(),
        &["append", "-"],
        Some(format!("{event}\n").as_bytes()),
    );
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let stale = std::fs::read(dir.path().join("ledger/views/head.views")).unwrap();
    let output = run_cli(dir.path(), QUESTIONS[0], None);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(
        stdout(&output).contains(r#""head_sequence":31"#),
        "{}",
        stdout(&output)
    );
    assert_ne!(
        std::fs::read(dir.path().join("ledger/views/head.views")).unwrap(),
        stale
    );
    assert_eq!(verify(dir.path()).0, Some(3));
}

#[test]
fn a_head_views_file_brought_up_to_date_is_the_file_made_whole() {
    let dir = quickstart();
    answers(dir.path());
    let file = dir.path().join("ledger/views/head.views");
    let source =
        r#""sources":[{"publisher":"Test","title":"Notice","url":"https://example.org/n"}]"#;
    // A programme-wide renewal, a designation of a subject already listed and of a new one,
    // an amendment of a subject's names, a correction that retracts an earlier designation.
    let batches = [
        format!(
            r#"{{"kind":"renewal","id":"inc-renewal","effective_on":"2026-12-01",{source},"authority":"EU-COUNCIL","programme":"EU-GHR","until":"2027-12-08"}}"#
        ),
        format!(
            r#"{{"kind":"designation","id":"inc-designation","effective_on":"2026-11-01",{source},"authority":"UK-FCDO","programme":"UK-GHR","legal_basis":["Act"],"subjects":[{{"id":"xj-chen-quanguo","kind":"person","names":["CHEN Quanguo"]}},{{"id":"inc-new-subject","kind":"entity","names":["A New Body"]}}],"measures":["asset_freeze"]}}"#
        ),
        format!(
            r#"{{"kind":"amendment","id":"inc-amendment","effective_on":"2026-11-02",{source},"subject":{{"id":"xj-zhu-hailun","kind":"person","names":["ZHU Hailun","朱海仑","Zhu Hai-lun"]}},"reason":"Names updated."}}"#
        ),
        format!(
            r#"{{"kind":"correction","id":"inc-correction","effective_on":"2026-11-03",{source},"corrects":"us-ofac-2023-12-08-uhrpa-gao-qi","reason":"Recorded in error."}}"#
        ),
    ];
    for batch in &batches {
        let output = run_cli(
            dir.path(),
            &["append", "-"],
            Some(format!("{batch}\n").as_bytes()),
        );
        assert_eq!(
            output.status.code(),
            Some(0),
            "{batch}: {}",
            stderr(&output)
        );
        // Brought up to date from the stale file, one record at a time.
        let output = run_cli(dir.path(), QUESTIONS[0], None);
        assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    }
    let caught_up = std::fs::read(&file).unwrap();
    std::fs::remove_file(&file).unwrap();
    let output = run_cli(dir.path(), QUESTIONS[0], None);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(
        std::fs::read(&file).unwrap(),
        caught_up,
        "made whole, the same bytes"
    );
    assert_eq!(verify(dir.path()).0, Some(3));
    let state = run_cli(
        dir.path(),
        &["state", "--as-of", "2026-11-05", "--json"],
        None,
    );
    let text = stdout(&state);
    assert!(
        text.contains("inc-new-subject") && text.contains("Zhu Hai-lun"),
        "{text}"
    );
}
