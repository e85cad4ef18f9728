//! Regression tests for what a hostile audit of the sled-era ledger found (issue 11, "also on
//! the way"), each named after what it pins: reads bounded by what is read, `validate` applying
//! every limit `append` applies, names refusing invisible and bidirectional characters, and the
//! exit codes of a full disk and a damaged derived store.

mod common;

use common::{run_cli, stderr, stdout};
use serde_json::json;
use std::path::Path;
use std::time::{Duration, Instant};

fn quickstart() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let output = run_cli(dir.path(), &["quickstart"], None);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    dir
}

#[test]
fn a_checkpoint_read_from_dev_zero_is_bounded_by_what_is_read() {
    // It grew to 23.5 GB and was killed, because the size came from `stat`.
    let dir = quickstart();
    let keygen = run_cli(dir.path(), &["keygen", "--name", "ops"], None);
    assert_eq!(keygen.status.code(), Some(0));
    for args in [
        &["verify", "--checkpoint", "/dev/zero"][..],
        &["verify-proof", "/dev/zero", "--key", "ops.pub"][..],
        &[
            "compare-checkpoints",
            "/dev/zero",
            "/dev/zero",
            "--key",
            "ops.pub",
        ][..],
    ] {
        let started = Instant::now();
        let output = run_cli(dir.path(), args, None);
        assert_eq!(
            output.status.code(),
            Some(2),
            "{args:?}: {}",
            stderr(&output)
        );
        assert!(
            stderr(&output).contains("bytes; ") && stderr(&output).contains("at most"),
            "{args:?}: {}",
            stderr(&output)
        );
        assert!(started.elapsed() < Duration::from_secs(30), "{args:?}");
    }
}

/// A statement whose encoded event is a little over `EVENT_BYTES_MAX` (51,066 bytes in the
/// finding), though every field is within its own limit: 25 sources with long URLs.
fn oversized_statement() -> String {
    let sources: Vec<_> = (0..25)
        .map(|n| {
            json!({"publisher": "Gazette", "title": format!("Notice {n}"),
                   "url": format!("https://example.org/{}", "x".repeat(2_000))})
        })
        .collect();
    let event = json!({"kind": "statement", "id": "too-large", "effective_on": "2021-03-22",
        "sources": sources, "speaker": "A spokesperson", "text": "Sanctions remain in force."});
    format!("{event}\n")
}

#[test]
fn validate_applies_every_limit_append_applies() {
    let dir = quickstart();
    let input = oversized_statement();
    let validate = run_cli(dir.path(), &["validate", "-"], Some(input.as_bytes()));
    let append = run_cli(dir.path(), &["append", "-"], Some(input.as_bytes()));
    for output in [&validate, &append] {
        assert_eq!(output.status.code(), Some(2), "{}", stderr(output));
        let text = stderr(output);
        assert!(text.contains("<stdin>:1"), "{text}");
        assert!(text.contains("at most 49152 are allowed"), "{text}");
    }
    let head = run_cli(dir.path(), &["head"], None);
    assert!(stdout(&head).starts_with("30 "), "nothing was appended");
}

#[test]
fn names_with_bidi_overrides_or_invisible_characters_are_refused_naming_the_character() {
    let dir = quickstart();
    for (name, code) in [
        ("ZHU\u{202E}nulia", "U+202E"),
        ("\u{200D}", "U+200D"),
        ("ZHU\u{200B}Hailun", "U+200B"),
        ("ZHU\u{2028}Hailun", "U+2028"),
    ] {
        let event = json!({"kind": "designation", "id": "bidi", "effective_on": "2021-03-22",
            "sources": [common::source()], "authority": "EU-COUNCIL", "programme": "EU-GHR",
            "legal_basis": ["Regulation 2020/1998"], "measures": ["asset_freeze"],
            "subjects": [{"id": "s", "kind": "person", "names": [name]}]});
        let output = run_cli(
            dir.path(),
            &["validate", "-"],
            Some(format!("{event}\n").as_bytes()),
        );
        assert_eq!(output.status.code(), Some(2));
        let text = stderr(&output);
        assert!(text.contains("/subjects/0/names/0"), "{text}");
        assert!(text.contains(code), "{text}");
    }
}

#[test]
fn a_derived_store_damaged_beyond_opening_is_reported_in_one_line_with_the_way_out() {
    // sled's data file overwritten: sled either refuses it (one line naming `rebuild`, exit 2)
    // or opens it as an empty store, which is then rebuilt from the log and said so.
    let dir = quickstart();
    let before = stdout(&run_cli(
        dir.path(),
        &["state", "--as-of", "2021-03-22"],
        None,
    ));
    std::fs::write(dir.path().join("ledger/derived/db"), vec![0xA5; 4096]).unwrap();
    // Without the head views file the state question needs sled.
    std::fs::remove_dir_all(dir.path().join("ledger/views")).unwrap();
    let output = run_cli(dir.path(), &["state", "--as-of", "2021-03-22"], None);
    let text = stderr(&output);
    assert!(
        !text.contains("panicked") && !text.contains("backtrace"),
        "{text}"
    );
    match output.status.code() {
        Some(2) => {
            assert!(text.contains("rebuild"), "{text}");
            assert_eq!(text.trim().lines().count(), 1, "{text}");
            let output = run_cli(dir.path(), &["rebuild"], None);
            assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
        }
        Some(0) => {
            assert!(text.contains("rebuilt from the log"), "{text}");
            assert_eq!(stdout(&output), before);
        }
        other => panic!("exit {other:?}: {text}"),
    }
    assert_eq!(
        stdout(&run_cli(
            dir.path(),
            &["state", "--as-of", "2021-03-22"],
            None
        )),
        before
    );
    assert_eq!(
        run_cli(dir.path(), &["verify"], None).status.code(),
        Some(3)
    );
}

/// A statement that names nothing (so any batch of them stands on its own).
fn statement(index: u64) -> sanctions_ledger::domain::Event {
    common::event(
        json!({"kind": "statement", "id": format!("statement-{index}"),
        "effective_on": "2021-03-22", "sources": [common::source()], "speaker": "A spokesperson",
        "text": format!("Statement {index}: {}", "the measures remain in force. ".repeat(20).trim_end())}),
    )
}

/// Mounts a small tmpfs at `dir` if this machine allows it.
fn small_file_system(dir: &Path, bytes: u64) -> bool {
    std::process::Command::new("mount")
        .args(["-t", "tmpfs", "-o", &format!("size={bytes}"), "tmpfs"])
        .arg(dir)
        .output()
        .is_ok_and(|output| output.status.success())
}

struct Unmount<'a>(&'a Path);

impl Drop for Unmount<'_> {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount").arg(self.0).output();
    }
}

#[test]
fn a_full_disk_refuses_appends_whole_and_loses_nothing_then_appends_resume() {
    let outer = tempfile::tempdir().unwrap();
    let mount = outer.path().join("small");
    std::fs::create_dir(&mount).unwrap();
    if !small_file_system(&mount, 16 * 1024 * 1024) {
        eprintln!(
            "skipped: this machine does not allow mounting a tmpfs (the injected-ENOSPC test in tests/power_loss.rs still runs)"
        );
        return;
    }
    let _unmount = Unmount(&mount);
    let output = run_cli(&mount, &["quickstart"], None);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    // Fill the file system to a few kilobytes of its end.
    let filler = mount.join("filler");
    {
        use std::io::Write;
        let mut file = std::fs::File::create(&filler).unwrap();
        let block = vec![0u8; 64 * 1024];
        while file.write_all(&block).is_ok() {}
        let _ = file.sync_all();
    }
    // Leave room for a few appends, so that the disk fills in the middle of the run.
    let full = std::fs::metadata(&filler).unwrap().len();
    std::fs::OpenOptions::new()
        .write(true)
        .open(&filler)
        .unwrap()
        .set_len(full.saturating_sub(2 * 1024 * 1024))
        .unwrap();
    let mut first_refusal = String::new();
    let mut acknowledged = Vec::new();
    let mut refused = 0;
    // Until the disk is full (how fast depends on how sled lays out the derived store, so the
    // bound is generous: 3,000 appends of 20 events would need far more than 2 MiB).
    for index in 0..3_000 {
        let events: Vec<_> = (0..20).map(|n| statement(index * 20 + n)).collect();
        let input = common::json_lines(&events);
        let output = run_cli(&mount, &["--json", "append", "-"], Some(input.as_bytes()));
        let text = format!("{}{}", stdout(&output), stderr(&output));
        assert!(!text.contains("panicked"), "{text}");
        match output.status.code() {
            Some(0) => acknowledged.extend(events.iter().map(|e| e.id().to_string())),
            Some(2) => {
                refused += 1;
                if first_refusal.is_empty() {
                    first_refusal = text.clone();
                }
                assert!(text.contains("no space left on the device"), "{text}");
            }
            other => panic!("append exited {other:?}: {text}"),
        }
        if refused >= 3 {
            break;
        }
    }
    assert!(refused >= 3, "the file system never filled");
    eprintln!(
        "full disk: {} events acknowledged, {refused} appends refused; the first: {first_refusal}",
        acknowledged.len()
    );
    assert!(
        !acknowledged.is_empty(),
        "some appends went through before the disk filled"
    );
    // Space is freed: the ledger opens, verifies, holds every acknowledged event, appends again.
    std::fs::remove_file(&filler).unwrap();
    let output = run_cli(&mount, &["verify"], None);
    assert_eq!(
        output.status.code(),
        Some(3),
        "{}{}",
        stdout(&output),
        stderr(&output)
    );
    let output = run_cli(&mount, &["--json", "log", "--limit", "100000"], None);
    let log = stdout(&output);
    for id in &acknowledged {
        assert!(log.contains(&format!("\"{id}\"")), "{id} is lost");
    }
    let events: Vec<_> = (100_000..100_003).map(statement).collect();
    let input = common::json_lines(&events);
    let output = run_cli(&mount, &["append", "-"], Some(input.as_bytes()));
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(run_cli(&mount, &["verify"], None).status.code(), Some(3));
}
