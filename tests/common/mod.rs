//! Shared test helpers: deterministic events of every kind, temporary ledgers, the CLI binary.
#![allow(dead_code)]

use sanctions_ledger::domain::{Event, Timestamp};
use sanctions_ledger::intake::event_from_json;
use sanctions_ledger::ledger::{AppendOptions, FixedClock, Ledger};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// 2021-03-22T12:00:00Z in microseconds.
pub const MARCH_22_NOON_MICROS: i64 = 1_616_414_400_000_000;

pub fn clock(offset_seconds: i64) -> FixedClock {
    FixedClock(Timestamp::from_unix_micros(
        MARCH_22_NOON_MICROS + offset_seconds * 1_000_000,
    ))
}

pub fn options() -> AppendOptions {
    AppendOptions {
        appended_by: "test-operator".to_owned(),
        recorded_at: None,
    }
}

pub fn source() -> Value {
    json!({"publisher": "Test Gazette", "title": "A notice", "url": "https://example.org/notice"})
}

pub fn event(value: Value) -> Event {
    event_from_json(&value)
        .unwrap_or_else(|problems| panic!("test event invalid: {problems:?}\n{value}"))
}

fn subject(index: u64) -> Value {
    json!({"id": format!("subject-{index}"), "kind": if index % 3 == 0 { "entity" } else { "person" },
           "names": [format!("Subject {index}"), "王君正"], "aliases": [format!("S. {index}")],
           "identifiers": [{"scheme": "list-id", "value": format!("{index}")}]})
}

/// The `index`-th event of a deterministic synthetic history: every kind appears, and every
/// reference names an earlier event.
pub fn synthetic_event(index: u64) -> Event {
    let id = format!("event-{index}");
    let day = 1 + (index % 28);
    let effective_on = format!("2021-03-{day:02}");
    let designation_of = |earlier: u64| format!("event-{}", earlier - earlier % 7);
    let value = match index % 7 {
        0 => {
            json!({"kind": "designation", "id": id, "effective_on": effective_on, "sources": [source()],
                    "authority": "EU-COUNCIL", "programme": "EU-GHR", "legal_basis": ["Regulation 2020/1998"],
                    "subjects": [subject(index), subject(index + 1)], "measures": ["asset_freeze", "travel_ban"],
                    "until": "2021-12-08"})
        }
        1 => {
            json!({"kind": "retaliation", "id": id, "effective_on": effective_on, "sources": [source()],
                    "authority": "CN-MFA", "programme": "CN-COUNTERMEASURES", "subjects": [subject(index + 100)],
                    "measures": ["entry_ban"], "in_response_to": [designation_of(index)]})
        }
        2 => {
            json!({"kind": "statement", "id": id, "effective_on": effective_on, "sources": [source()],
                    "speaker": "Šakalienė", "text": format!("Statement number {index}.\nSecond line."),
                    "about_events": [designation_of(index)], "about_subjects": [format!("subject-{}", index - 2)]})
        }
        3 => {
            json!({"kind": "renewal", "id": id, "effective_on": effective_on, "sources": [source()],
                    "authority": "EU-COUNCIL", "programme": "EU-GHR", "until": "2022-12-08"})
        }
        4 => {
            json!({"kind": "amendment", "id": id, "effective_on": effective_on, "sources": [source()],
                    "subject": subject(index - 4), "authority": "EU-COUNCIL", "programme": "EU-GHR",
                    "measures": ["asset_freeze"], "reason": "Updated statement of reasons."})
        }
        5 => {
            json!({"kind": "delisting", "id": id, "effective_on": effective_on, "sources": [source()],
                    "authority": "EU-COUNCIL", "programme": "EU-GHR", "subject_ids": [format!("subject-{}", index - 5)]})
        }
        _ => {
            json!({"kind": "correction", "id": id, "effective_on": effective_on, "sources": [source()],
                    "corrects": format!("event-{}", index - 4), "reason": "Recorded with the wrong date.",
                    "replacement": {"kind": "renewal", "effective_on": effective_on, "authority": "EU-COUNCIL",
                                    "programme": "EU-GHR", "until": "2022-12-09"}})
        }
    };
    event(value)
}

pub fn synthetic_events(from: u64, count: u64) -> Vec<Event> {
    (from..from + count).map(synthetic_event).collect()
}

pub struct TempLedger {
    pub dir: tempfile::TempDir,
    pub path: PathBuf,
}

/// A new ledger holding `count` synthetic events, appended in batches of `batch`.
pub fn ledger_with(count: u64, batch: u64) -> TempLedger {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("ledger");
    let mut ledger = Ledger::init(&path, "test ledger", &clock(0)).expect("init");
    let mut next = 0;
    while next < count {
        let size = batch.min(count - next);
        append_synthetic(&mut ledger, next, size);
        next += size;
    }
    TempLedger { dir, path }
}

/// Appends synthetic events `from..from + count`, recorded `from` seconds after the test epoch.
pub fn append_synthetic(ledger: &mut Ledger, from: u64, count: u64) {
    ledger
        .append(
            &synthetic_events(from, count),
            &options(),
            &clock(from as i64),
        )
        .expect("append");
}

/// Runs the built binary in `dir`.
pub fn run_cli(dir: &Path, args: &[&str], stdin: Option<&[u8]>) -> Output {
    use std::io::Write;
    let mut command = Command::new(env!("CARGO_BIN_EXE_sanctions-ledger"));
    command
        .current_dir(dir)
        .args(args)
        .env_remove("SANCTIONS_LEDGER_DIR")
        .env_remove("SANCTIONS_LEDGER_OPERATOR")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let mut child = command.spawn().expect("spawn the CLI");
    let mut input = child.stdin.take().expect("stdin");
    if let Some(bytes) = stdin {
        // The CLI may stop reading early (a bounded read); a broken pipe is fine then.
        let _ = input.write_all(bytes);
    }
    drop(input);
    child.wait_with_output().expect("wait for the CLI")
}

pub fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

pub fn json_lines(events: &[Event]) -> String {
    events
        .iter()
        .map(|event| format!("{}\n", sanctions_ledger::intake::event_to_json(event)))
        .collect()
}

/// Opens a real ledger's sled database directly (as someone with write access could, following
/// the documented layout), lets `edit` change it, and flushes.
pub fn with_db(path: &Path, edit: impl FnOnce(&sled::Db)) {
    // sled releases its lock a moment after the last handle is dropped.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    let db = loop {
        match sled::open(path) {
            Ok(db) => break db,
            Err(_) if std::time::Instant::now() < deadline => {
                std::thread::sleep(std::time::Duration::from_millis(10));
            }
            Err(error) => panic!("sled cannot open the ledger: {error}"),
        }
    };
    edit(&db);
    db.flush().expect("flush");
}
