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
    json!({"id": format!("subject-{index}"), "kind": if index.is_multiple_of(3) { "entity" } else { "person" },
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

/// Opens a real ledger's derived store (sled) directly (as someone with write access could,
/// following the documented layout), lets `edit` change it, and flushes.
pub fn with_db(path: &Path, edit: impl FnOnce(&sled::Db)) {
    let path = &path.join("derived");
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

/// An attacker's (or a crash's) view of a ledger folder's log files, written from the layout
/// ARCHITECTURE.md documents: segment files of frames, and the durable head marker.
pub mod fault;

/// A genesis's bytes, created at the Unix epoch.
pub fn genesis_bytes(origin: &str) -> Vec<u8> {
    use sanctions_ledger::ledger::record::{self, Genesis};
    Genesis {
        format_version: record::GENESIS_FORMAT_VERSION,
        origin: origin.into(),
        created_at: Timestamp::from_unix_micros(0),
    }
    .to_bytes()
    .unwrap()
}

/// The records (bytes and hash) of synthetic events after `head` (sequence, hash), chained: for
/// tests that write the log through its storage seam.
pub fn chained_records(
    head: (u64, sanctions_ledger::ledger::chain::Hash),
    count: u64,
) -> Vec<(Vec<u8>, sanctions_ledger::ledger::chain::Hash)> {
    use sanctions_ledger::ledger::chain;
    use sanctions_ledger::ledger::record::{self, Record};
    let (mut sequence, mut previous) = head;
    let mut records = Vec::new();
    for event in synthetic_events(sequence, count) {
        sequence += 1;
        let bytes = Record {
            format_version: record::RECORD_FORMAT_VERSION,
            sequence,
            recorded_at: Timestamp::from_unix_micros(sequence as i64),
            appended_by: "tests".into(),
            previous_hash: previous.0,
            schema_version: sanctions_ledger::domain::EVENT_SCHEMA_VERSION,
            event_bytes: record::encode_event(&event).unwrap(),
        }
        .to_bytes()
        .unwrap();
        let hash = chain::record_hash(&bytes);
        records.push((bytes, hash));
        previous = hash;
    }
    records
}

pub mod log_files {
    use sanctions_ledger::ledger::chain::{Hash, record_hash};
    use sanctions_ledger::ledger::log::format::{self, HeadMarker};
    use sanctions_ledger::ledger::record::Record;
    use std::path::{Path, PathBuf};

    /// One frame of a segment.
    #[derive(Clone, Debug)]
    pub struct Frame {
        /// The segment (its first sequence).
        pub segment: u64,
        /// The record bytes.
        pub record: Vec<u8>,
        /// The hash stored after them.
        pub hash: [u8; 32],
    }

    pub fn log_dir(ledger: &Path) -> PathBuf {
        ledger.join("log")
    }

    pub fn segment_path(ledger: &Path, first: u64) -> PathBuf {
        log_dir(ledger).join(format::segment_name(first))
    }

    /// The segments' first sequences, ascending.
    pub fn segments(ledger: &Path) -> Vec<u64> {
        let mut firsts: Vec<u64> = std::fs::read_dir(log_dir(ledger))
            .unwrap()
            .filter_map(|entry| format::segment_first(entry.unwrap().file_name().to_str()?))
            .collect();
        firsts.sort_unstable();
        firsts
    }

    /// Every frame of every segment, in order, with the byte offset of each (whole files).
    pub fn frames_with_offsets(ledger: &Path) -> Vec<(Frame, u64)> {
        let mut frames = Vec::new();
        for first in segments(ledger) {
            let bytes = std::fs::read(segment_path(ledger, first)).unwrap();
            let mut at = format::SEGMENT_HEADER_BYTES as usize;
            while at + 4 <= bytes.len() {
                let len = (u32::from_be_bytes(bytes[at..at + 4].try_into().unwrap())
                    & !format::FRAME_END_OF_APPEND) as usize;
                if at + 36 + len > bytes.len() {
                    break;
                }
                frames.push((
                    Frame {
                        segment: first,
                        record: bytes[at + 4..at + 4 + len].to_vec(),
                        hash: bytes[at + 4 + len..at + 36 + len].try_into().unwrap(),
                    },
                    at as u64,
                ));
                at += 36 + len;
            }
        }
        frames
    }

    pub fn frames(ledger: &Path) -> Vec<Frame> {
        frames_with_offsets(ledger)
            .into_iter()
            .map(|(frame, _)| frame)
            .collect()
    }

    /// The current head marker (the valid slot with the larger generation).
    pub fn marker(ledger: &Path) -> HeadMarker {
        let bytes = std::fs::read(log_dir(ledger).join("head")).unwrap();
        format::HEAD_SLOT_OFFSETS
            .iter()
            .filter_map(|at| HeadMarker::from_bytes(&bytes[*at as usize..]))
            .max_by_key(|marker| marker.generation)
            .expect("a valid head marker")
    }

    /// Writes a new marker into the next slot, with its checksum.
    pub fn write_marker(ledger: &Path, marker: HeadMarker) {
        use std::os::unix::fs::FileExt;
        let marker = HeadMarker {
            generation: self::marker(ledger).generation + 1,
            ..marker
        };
        let file = std::fs::OpenOptions::new()
            .write(true)
            .open(log_dir(ledger).join("head"))
            .unwrap();
        file.write_all_at(&marker.to_bytes(), marker.slot_offset())
            .unwrap();
    }

    /// Rewrites the segments from `edit`ed frames (each written to the segment it names) and,
    /// with `fix_marker`, a marker that names the last frame (its decoded sequence, its stored
    /// hash and its place): what an attacker who follows the layout does.
    pub fn rewrite(ledger: &Path, fix_marker: bool, edit: impl FnOnce(&mut Vec<Frame>)) {
        let mut frames = frames(ledger);
        edit(&mut frames);
        let genesis = Hash(marker_genesis(ledger));
        let mut last = None;
        for first in segments(ledger) {
            let mut bytes = format::segment_header(first, &genesis);
            for frame in frames.iter().filter(|frame| frame.segment == first) {
                let offset = bytes.len() as u64;
                format::put_frame(&mut bytes, &frame.record, &Hash(frame.hash), true);
                last = Some((frame.clone(), offset, bytes.len() as u64));
            }
            std::fs::write(segment_path(ledger, first), bytes).unwrap();
        }
        if fix_marker {
            let old = marker(ledger);
            let marker = match last {
                Some((frame, offset, end)) => HeadMarker {
                    sequence: Record::from_bytes(&frame.record)
                        .map(|record| record.sequence)
                        .unwrap_or(frames.len() as u64),
                    segment: frame.segment,
                    frame_offset: offset,
                    end_offset: end,
                    hash: Hash(frame.hash),
                    ..old
                },
                None => HeadMarker {
                    sequence: 0,
                    segment: 1,
                    frame_offset: 0,
                    end_offset: format::SEGMENT_HEADER_BYTES,
                    hash: genesis,
                    ..old
                },
            };
            write_marker(ledger, marker);
        }
    }

    /// The genesis hash the first segment's header names.
    fn marker_genesis(ledger: &Path) -> [u8; 32] {
        let bytes = std::fs::read(segment_path(ledger, 1)).unwrap();
        bytes[20..52].try_into().unwrap()
    }

    /// A frame whose record was re-encoded after `change`, with its hash recomputed (`rehash`)
    /// or the old one kept.
    pub fn changed(frame: &Frame, rehash: bool, change: impl FnOnce(&mut Record)) -> Frame {
        let mut record = Record::from_bytes(&frame.record).unwrap();
        change(&mut record);
        let bytes = record.to_bytes().unwrap();
        Frame {
            segment: frame.segment,
            hash: if rehash {
                record_hash(&bytes).0
            } else {
                frame.hash
            },
            record: bytes,
        }
    }

    /// The kept checkpoints' file cut back to its header, and the marker told so.
    pub fn drop_checkpoints(ledger: &Path) {
        let path = log_dir(ledger).join("checkpoints");
        let bytes = std::fs::read(&path).unwrap();
        std::fs::write(&path, &bytes[..format::CHECKPOINTS_HEADER_BYTES as usize]).unwrap();
        let old = marker(ledger);
        write_marker(
            ledger,
            HeadMarker {
                checkpoints_len: format::CHECKPOINTS_HEADER_BYTES,
                ..old
            },
        );
    }

    /// A checkpoint text appended to the kept checkpoints' file, and the marker told so.
    pub fn add_checkpoint(ledger: &Path, text: &[u8]) {
        let path = log_dir(ledger).join("checkpoints");
        let mut bytes = std::fs::read(&path).unwrap();
        bytes.extend(format::checkpoint_frame(text));
        std::fs::write(&path, &bytes).unwrap();
        let old = marker(ledger);
        write_marker(
            ledger,
            HeadMarker {
                checkpoints_len: bytes.len() as u64,
                ..old
            },
        );
    }
}
