//! Benchmarks of the ledger core against baselines measured in the same run on the same bytes.
//!
//! - `append_1000`: one acknowledged batch of 1,000 events through `Ledger::append` (checks,
//!   idempotency lookups, encoding, hash chain, frames, segment fsync, head-marker fsync),
//!   against a raw `write` + `fdatasync` of the same frame bytes to a file, and against the
//!   ledger's own floor (that write + fsync, then the head marker's write + fsync). Also the same
//!   append with the derived store written at once (`ledger_append_and_derive`), which an
//!   acknowledgement does not wait for.
//! - `append_one`: the latency of a one-event append against one raw `write` + `fdatasync` of
//!   its frame (p50 and p99 over many runs, printed; criterion's mean beside them).
//! - `verify_log`: `verify --log-only` of 100,000 records (every core), against raw BLAKE3 over
//!   the same record bytes in memory on one thread, beside the canonical decoding of their events.
//! - `open`: opening a ledger of `SANCTIONS_LEDGER_BENCH_OPEN_RECORDS` records (default 100,000;
//!   1,000,000 for the figure) after a clean close: the log alone (what `head` does), and
//!   with the derived store attached. Also prints the folder's size against the records' bytes.
//!
//! Run by hand: `cargo bench --bench ledger` (figures go in BENCHMARKS.md). CI only builds it.

// criterion_group! generates public functions without documentation.
#![allow(missing_docs)]

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use sanctions_ledger::domain::{EVENT_SCHEMA_VERSION, Event, Timestamp};
use sanctions_ledger::intake::event_from_json;
use sanctions_ledger::ledger::chain;
use sanctions_ledger::ledger::log::format;
use sanctions_ledger::ledger::record::{self, Record};
use sanctions_ledger::ledger::{AppendOptions, FixedClock, Ledger, VerifyOptions};
use serde_json::json;
use std::fs::File;
use std::hint::black_box;
use std::os::unix::fs::FileExt;
use std::path::Path;
use std::time::{Duration, Instant};

const BATCH: u64 = 1_000;
const VERIFY_RECORDS: u64 = 100_000;

/// A realistic designation of about 500 bytes encoded (two subjects, names in two scripts).
fn event(index: u64) -> Event {
    let value = json!({
        "kind": "designation", "id": format!("bench-{index}"), "effective_on": "2021-03-22",
        "sources": [{"publisher": "Official Journal of the European Union", "title": "OJ L 99I, 22.3.2021",
                     "url": "https://eur-lex.europa.eu/legal-content/EN/TXT/?uri=CELEX:32021R0478"}],
        "authority": "EU-COUNCIL", "programme": "EU-GHR",
        "legal_basis": ["Council Implementing Regulation (EU) 2021/478"],
        "subjects": [
            {"id": format!("subject-{index}"), "kind": "person", "names": ["WANG Junzheng", "王君正"],
             "aliases": ["Wang Jun Zheng"], "identifiers": [{"scheme": "date-of-birth", "value": "May 1963"}]},
            {"id": format!("subject-{index}-b"), "kind": "entity", "names": ["Xinjiang Production and Construction Corps Public Security Bureau", "新疆生产建设兵团公安局"]}
        ],
        "measures": ["asset_freeze", "funds_ban", "travel_ban"], "until": "2021-12-08"
    });
    event_from_json(&value).expect("bench event")
}

fn events(from: u64, count: u64) -> Vec<Event> {
    (from..from + count).map(event).collect()
}

fn options() -> AppendOptions {
    AppendOptions {
        appended_by: "bench".to_owned(),
        recorded_at: None,
    }
}

fn clock() -> FixedClock {
    FixedClock(Timestamp::from_unix_micros(1_616_414_400_000_000))
}

/// The frames (length, record bytes, hash) of a batch, as the ledger writes them.
fn frames(from: u64, count: u64) -> Vec<u8> {
    let mut previous = [0u8; 32];
    let mut out = Vec::new();
    for (offset, event) in events(from, count).iter().enumerate() {
        let bytes = Record {
            format_version: record::RECORD_FORMAT_VERSION,
            sequence: from + offset as u64 + 1,
            recorded_at: Timestamp::from_unix_micros(1_616_414_400_000_000),
            appended_by: "bench".to_owned(),
            previous_hash: previous,
            schema_version: EVENT_SCHEMA_VERSION,
            event_bytes: record::encode_event(event).unwrap(),
        }
        .to_bytes()
        .unwrap();
        let hash = chain::record_hash(&bytes);
        format::put_frame(&mut out, &bytes, &hash, offset as u64 + 1 == count);
        previous = hash.0;
    }
    out
}

/// A raw append-only file: write at its end, then fdatasync.
struct RawFile {
    file: File,
    end: u64,
}

impl RawFile {
    fn new(path: &Path) -> RawFile {
        RawFile {
            file: File::create(path).unwrap(),
            end: 0,
        }
    }
    fn append_sync(&mut self, bytes: &[u8]) {
        self.file.write_all_at(bytes, self.end).unwrap();
        self.end += bytes.len() as u64;
        self.file.sync_data().unwrap();
    }
}

/// The ledger's floor: the raw append, then a 120-byte marker overwritten in place and synced.
fn marker_sync(marker: &File, generation: &mut u64) {
    *generation += 1;
    marker
        .write_all_at(&[*generation as u8; 120], (*generation % 2) * 4096)
        .unwrap();
    marker.sync_data().unwrap();
}

fn append(c: &mut Criterion) {
    let mut group = c.benchmark_group("append_1000");
    group.throughput(Throughput::Elements(BATCH));
    group
        .sample_size(30)
        .measurement_time(Duration::from_secs(20));

    let dir = tempfile::tempdir().unwrap();
    let mut ledger = Ledger::init(&dir.path().join("ledger"), "bench", &clock()).unwrap();
    let mut next = 0;
    // The acknowledged path: the derived data of earlier batches is written in the setup
    // (untimed); `ledger_append_and_derive` times both.
    group.bench_function("ledger_append", |b| {
        b.iter_custom(|iterations| {
            let mut timed = Duration::ZERO;
            for _ in 0..iterations {
                ledger.flush_derived().unwrap();
                next += BATCH;
                let batch = events(next, BATCH);
                let started = Instant::now();
                let report = ledger.append(&batch, &options(), &clock()).unwrap();
                timed += started.elapsed();
                drop((batch, report));
            }
            timed
        })
    });
    // A floor under any append of these events: encoding them and their records, and hashing
    // the records, in memory (no checks, no I/O).
    group.bench_function("encode_and_hash_in_memory", |b| {
        b.iter_batched(
            || events(0, BATCH),
            |batch| {
                let mut previous = [0u8; 32];
                for (offset, event) in batch.iter().enumerate() {
                    let bytes = Record {
                        format_version: record::RECORD_FORMAT_VERSION,
                        sequence: offset as u64 + 1,
                        recorded_at: Timestamp::from_unix_micros(1_616_414_400_000_000),
                        appended_by: "bench".to_owned(),
                        previous_hash: previous,
                        schema_version: EVENT_SCHEMA_VERSION,
                        event_bytes: record::encode_event(event).unwrap(),
                    }
                    .to_bytes()
                    .unwrap();
                    previous = chain::record_hash(&bytes).0;
                }
                (batch, previous)
            },
            BatchSize::PerIteration,
        )
    });
    group.bench_function("ledger_append_and_derive", |b| {
        b.iter_batched(
            || {
                next += BATCH;
                events(next, BATCH)
            },
            |batch| {
                let report = ledger.append(&batch, &options(), &clock()).unwrap();
                ledger.flush_derived().unwrap();
                (batch, report)
            },
            BatchSize::PerIteration,
        )
    });
    drop(ledger);

    let raw_dir = tempfile::tempdir().unwrap();
    let mut raw = RawFile::new(&raw_dir.path().join("raw.seg"));
    let mut raw_next = 0;
    group.bench_function("raw_write_fdatasync", |b| {
        b.iter_batched(
            || {
                raw_next += BATCH;
                frames(raw_next, BATCH)
            },
            |bytes| raw.append_sync(&bytes),
            BatchSize::PerIteration,
        )
    });
    let marker = File::create(raw_dir.path().join("head")).unwrap();
    marker.set_len(8192).unwrap();
    let mut generation = 0;
    group.bench_function("raw_write_fdatasync_then_marker_fdatasync", |b| {
        b.iter_batched(
            || {
                raw_next += BATCH;
                frames(raw_next, BATCH)
            },
            |bytes| {
                raw.append_sync(&bytes);
                marker_sync(&marker, &mut generation);
            },
            BatchSize::PerIteration,
        )
    });
    group.finish();
}

fn percentiles(mut micros: Vec<f64>) -> (f64, f64) {
    micros.sort_by(|a, b| a.partial_cmp(b).unwrap());
    (micros[micros.len() / 2], micros[micros.len() * 99 / 100])
}

fn append_one(c: &mut Criterion) {
    const RUNS: u64 = 3_000;
    let dir = tempfile::tempdir().unwrap();
    let mut ledger = Ledger::init(&dir.path().join("ledger"), "bench", &clock()).unwrap();
    let mut raw = RawFile::new(&dir.path().join("raw.seg"));
    // Interleaved, so that both see the same disk.
    let (mut ours, mut theirs) = (Vec::new(), Vec::new());
    for index in 0..RUNS {
        let batch = events(1_000_000 + index, 1);
        let bytes = frames(2_000_000 + index, 1);
        let started = Instant::now();
        black_box(ledger.append(&batch, &options(), &clock()).unwrap());
        ours.push(started.elapsed().as_secs_f64() * 1e6);
        let started = Instant::now();
        raw.append_sync(&bytes);
        theirs.push(started.elapsed().as_secs_f64() * 1e6);
    }
    let (ours_p50, ours_p99) = percentiles(ours);
    let (raw_p50, raw_p99) = percentiles(theirs);
    eprintln!(
        "append_one over {RUNS} interleaved runs: ledger p50 {ours_p50:.1} µs, p99 {ours_p99:.1} µs; raw write + fdatasync p50 {raw_p50:.1} µs, p99 {raw_p99:.1} µs; p50 ratio {:.2}x",
        ours_p50 / raw_p50
    );
    let mut group = c.benchmark_group("append_one");
    group.sample_size(50);
    let mut next = 5_000_000;
    group.bench_function("ledger_append", |b| {
        b.iter_batched(
            || {
                next += 1;
                events(next, 1)
            },
            |batch| {
                let report = ledger.append(&batch, &options(), &clock()).unwrap();
                (batch, report)
            },
            BatchSize::PerIteration,
        )
    });
    let mut raw_next = 6_000_000;
    group.bench_function("raw_write_fdatasync", |b| {
        b.iter_batched(
            || {
                raw_next += 1;
                frames(raw_next, 1)
            },
            |bytes| raw.append_sync(&bytes),
            BatchSize::PerIteration,
        )
    });
    group.finish();
}

/// A ledger of `records` bench events in `dir/ledger`, closed cleanly.
fn ledger_of(dir: &Path, records: u64) -> std::path::PathBuf {
    let path = dir.join("ledger");
    let mut ledger = Ledger::init(&path, "bench", &clock()).unwrap();
    for start in (0..records).step_by(10 * BATCH as usize) {
        let count = (10 * BATCH).min(records - start);
        ledger
            .append(&events(start, count), &options(), &clock())
            .unwrap();
    }
    ledger.flush_derived().unwrap();
    path
}

fn verify_log(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let path = ledger_of(dir.path(), VERIFY_RECORDS);
    let ledger = Ledger::open_read(&path).unwrap();
    // The same record bytes, read once, for the baselines.
    let mut record_bytes = Vec::new();
    let mut event_bytes = Vec::new();
    for view in ledger.records(1, VERIFY_RECORDS) {
        let view = view.unwrap();
        event_bytes.push(view.record.event_bytes.clone());
        record_bytes.push(view.record.to_bytes().unwrap());
    }
    let total_bytes: usize = record_bytes.iter().map(Vec::len).sum();
    eprintln!(
        "verify bench: {VERIFY_RECORDS} records, {:.0} bytes per record on average, {} threads",
        total_bytes as f64 / VERIFY_RECORDS as f64,
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );
    let mut group = c.benchmark_group("verify_log");
    group.throughput(Throughput::Elements(VERIFY_RECORDS));
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(20));
    let log_only = VerifyOptions {
        log_only: true,
        ..VerifyOptions::default()
    };
    group.bench_function("ledger_verify_log_only", |b| {
        b.iter(|| black_box(ledger.verify_with(&log_only, &mut |_| {}).unwrap()))
    });
    group.bench_function("raw_blake3_in_memory_one_thread", |b| {
        b.iter(|| {
            for bytes in &record_bytes {
                black_box(blake3::hash(bytes));
            }
        })
    });
    // What verify must do beside reading and hashing: decode every event canonically (decode,
    // re-encode, compare) and check its rules. In memory, one thread.
    group.bench_function("decode_events_in_memory_one_thread", |b| {
        b.iter(|| {
            for bytes in &event_bytes {
                black_box(record::decode_event(bytes, EVENT_SCHEMA_VERSION).unwrap());
            }
        })
    });
    group.finish();
}

fn folder_bytes(path: &Path) -> u64 {
    let mut total = 0;
    for entry in std::fs::read_dir(path).unwrap() {
        let entry = entry.unwrap();
        let metadata = entry.metadata().unwrap();
        total += if metadata.is_dir() {
            folder_bytes(&entry.path())
        } else {
            metadata.len()
        };
    }
    total
}

fn open(c: &mut Criterion) {
    let records: u64 = std::env::var("SANCTIONS_LEDGER_BENCH_OPEN_RECORDS")
        .ok()
        .and_then(|text| text.parse().ok())
        .unwrap_or(100_000);
    let dir = tempfile::tempdir().unwrap();
    let started = Instant::now();
    let path = ledger_of(dir.path(), records);
    let built = started.elapsed();
    let record_bytes: u64 = {
        let ledger = Ledger::open_read(&path).unwrap();
        ledger
            .records(1, records)
            .map(|view| view.unwrap().record.to_bytes().unwrap().len() as u64)
            .sum()
    };
    let sizes = |stage: &str| {
        let (log, derived) = (
            folder_bytes(&path.join("log")),
            folder_bytes(&path.join("derived")),
        );
        eprintln!(
            "open bench, {stage}: canonical record bytes {record_bytes}; log/ {log} bytes ({:.2}x), derived/ {derived} bytes ({:.2}x), folder {:.2}x",
            log as f64 / record_bytes as f64,
            derived as f64 / record_bytes as f64,
            (log + derived) as f64 / record_bytes as f64
        );
    };
    eprintln!(
        "open bench: {records} records appended in {:.1} s",
        built.as_secs_f64()
    );
    sizes("index, places and Merkle nodes derived");
    let started = Instant::now();
    {
        let ledger = Ledger::open(&path).unwrap();
        sanctions_ledger::projection::rebuild(&ledger, &mut |_| {}).unwrap();
    }
    eprintln!(
        "open bench: projections built in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    sizes("projections built too");
    let mut group = c.benchmark_group("open");
    group.sample_size(20);
    group.bench_function(format!("log_only_{records}"), |b| {
        b.iter(|| black_box(Ledger::open_read(&path).unwrap().head()))
    });
    group.bench_function(format!("with_derived_store_{records}"), |b| {
        b.iter(|| black_box(Ledger::open(&path).unwrap().head()))
    });
    group.finish();
}

criterion_group!(benches, append, append_one, verify_log, open);
criterion_main!(benches);
