//! Benchmarks of the ledger core against baselines measured in the same run on the same bytes.
//!
//! - `append_1000`: one durable batch of 1,000 events through `Ledger::append`, against raw sled
//!   inserts of the same stored record values with the same flush policy (flush + fsync per
//!   batch), against raw inserts of the records and their index entries, and of those plus the
//!   Merkle tree's entries (the difference, with `merkle_nodes_computed`, is what the tree adds).
//! - `verify`: a full `Ledger::verify` of a ledger, against raw BLAKE3 over the same record
//!   bytes held in memory, against a raw sled scan that hashes each value, and beside the
//!   canonical decoding of the same events in memory (the part of verify that is not a scan).
//!
//! Run by hand: `cargo bench --bench ledger` (figures go in BENCHMARKS.md). CI only builds it.

// criterion_group! generates public functions without documentation.
#![allow(missing_docs)]

#[path = "common/raw.rs"]
mod raw;

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use raw::raw_store;
use sanctions_ledger::domain::{EVENT_SCHEMA_VERSION, Event, Timestamp};
use sanctions_ledger::intake::event_from_json;
use sanctions_ledger::ledger::merkle::{Blake3TreeHasher, Frontier};
use sanctions_ledger::ledger::record::{self, Record};
use sanctions_ledger::ledger::{AppendOptions, FixedClock, Ledger, leaf_hash};
use serde_json::json;
use std::fs::File;
use std::hint::black_box;
use std::path::Path;
use std::time::Duration;

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

/// Stored values (record bytes || hash) for a batch, as the ledger would write them.
fn stored_values(from: u64, count: u64) -> Vec<Vec<u8>> {
    let mut previous = [0u8; 32];
    events(from, count)
        .iter()
        .enumerate()
        .map(|(offset, event)| {
            let record = Record {
                format_version: record::RECORD_FORMAT_VERSION,
                sequence: from + offset as u64 + 1,
                recorded_at: Timestamp::from_unix_micros(1_616_414_400_000_000),
                appended_by: "bench".to_owned(),
                previous_hash: previous,
                schema_version: 1,
                event_bytes: record::encode_event(event).unwrap(),
            };
            let (value, hash) = record::stored_value(&record.to_bytes().unwrap());
            previous = hash.0;
            value
        })
        .collect()
}

/// Raw inserts of records and their event-id index entries, as the ledger stores them.
fn insert_records_and_index(
    tree: &sled::Tree,
    index: &sled::Tree,
    start: u64,
    values: Vec<Vec<u8>>,
) {
    for (offset, value) in values.into_iter().enumerate() {
        let key = (start + offset as u64).to_be_bytes();
        tree.insert(key, value).unwrap();
        index
            .insert(format!("bench-{}", start + offset as u64).as_bytes(), &key)
            .unwrap();
    }
}

fn sync_sled(db: &sled::Db, path: &Path) {
    db.flush().unwrap();
    File::open(path.join("db")).unwrap().sync_all().unwrap();
}

fn append(c: &mut Criterion) {
    let mut group = c.benchmark_group("append_1000");
    group.throughput(Throughput::Elements(BATCH));
    group
        .sample_size(20)
        .measurement_time(Duration::from_secs(20));

    let dir = tempfile::tempdir().unwrap();
    let mut ledger = Ledger::init(&dir.path().join("ledger"), "bench", &clock()).unwrap();
    let mut next = 0;
    group.bench_function("ledger_append", |b| {
        b.iter_batched(
            || {
                next += BATCH;
                events(next, BATCH)
            },
            // Returned, so criterion drops the batch outside the timed section.
            |batch| {
                let report = ledger.append(&batch, &options(), &clock()).unwrap();
                (batch, report)
            },
            BatchSize::PerIteration,
        )
    });

    let raw_dir = tempfile::tempdir().unwrap();
    let db = raw_store(raw_dir.path());
    let tree = db.open_tree("records").unwrap();
    let mut raw_next = 0;
    group.bench_function("raw_sled_insert_flush_fsync", |b| {
        b.iter_batched(
            || {
                raw_next += BATCH;
                (raw_next, stored_values(raw_next, BATCH))
            },
            |(start, values)| {
                for (offset, value) in values.into_iter().enumerate() {
                    tree.insert((start + offset as u64).to_be_bytes(), value)
                        .unwrap();
                }
                sync_sled(&db, raw_dir.path());
            },
            BatchSize::PerIteration,
        )
    });

    // The same bytes the ledger stores per event: the record and its event-id index entry.
    let index = db.open_tree("event_ids").unwrap();
    let mut both_next = 10_000_000_000;
    group.bench_function("raw_sled_insert_records_and_index_flush_fsync", |b| {
        b.iter_batched(
            || {
                both_next += BATCH;
                (both_next, stored_values(both_next, BATCH))
            },
            |(start, values)| {
                insert_records_and_index(&tree, &index, start, values);
                sync_sled(&db, raw_dir.path());
            },
            BatchSize::PerIteration,
        )
    });
    // The Merkle tree's share: the same as above plus the tree's entries, as the ledger writes
    // them (the nodes each leaf completes, 64 bytes per leaf on average, grouped 64 leaves to a
    // sled entry, the first chunk read and extended), and the hashing that computes the nodes.
    let merkle = db.open_tree("merkle").unwrap();
    let mut frontier = Frontier::new();
    let mut merkle_next = 20_000_000_000;
    group.bench_function(
        "raw_sled_insert_records_index_and_merkle_flush_fsync",
        |b| {
            b.iter_batched(
                || {
                    merkle_next += BATCH;
                    let values = stored_values(merkle_next, BATCH);
                    let nodes: Vec<(u64, Vec<u8>)> = values
                        .iter()
                        .map(|value| {
                            let hash = record::split_value(value).unwrap().stored_hash;
                            let leaf = frontier.size();
                            (
                                leaf,
                                frontier.push(&Blake3TreeHasher, leaf_hash(&hash)).concat(),
                            )
                        })
                        .collect();
                    (merkle_next, values, nodes)
                },
                |(start, values, nodes)| {
                    insert_records_and_index(&tree, &index, start, values);
                    let mut chunk: Option<(u64, Vec<u8>)> = None;
                    for (leaf, entry) in nodes {
                        let number = leaf / 64;
                        if chunk.as_ref().map(|(n, _)| *n) != Some(number) {
                            if let Some((n, value)) = chunk.take() {
                                merkle.insert(n.to_be_bytes(), value).unwrap();
                            }
                            let existing = merkle.get(number.to_be_bytes()).unwrap();
                            chunk =
                                Some((number, existing.map(|v| v.to_vec()).unwrap_or_default()));
                        }
                        if let Some((_, value)) = chunk.as_mut() {
                            value.extend_from_slice(&entry);
                        }
                    }
                    if let Some((n, value)) = chunk {
                        merkle.insert(n.to_be_bytes(), value).unwrap();
                    }
                    sync_sled(&db, raw_dir.path());
                },
                BatchSize::PerIteration,
            )
        },
    );
    let hashes: Vec<_> = stored_values(0, BATCH)
        .iter()
        .map(|value| record::split_value(value).unwrap().stored_hash)
        .collect();
    let mut frontier = Frontier::new();
    group.bench_function("merkle_nodes_computed", |b| {
        b.iter(|| {
            for hash in &hashes {
                black_box(frontier.push(&Blake3TreeHasher, leaf_hash(hash)).concat());
            }
        })
    });
    group.finish();
}

fn verify(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ledger");
    {
        let mut ledger = Ledger::init(&path, "bench", &clock()).unwrap();
        for start in (0..VERIFY_RECORDS).step_by(BATCH as usize) {
            ledger
                .append(&events(start, BATCH), &options(), &clock())
                .unwrap();
        }
    }
    let ledger = Ledger::open(&path).unwrap();
    // The same record bytes, read once, for the baselines.
    let db = raw_store(&dir.path().join("raw-copy"));
    let copy = db.open_tree("records").unwrap();
    let mut record_bytes = Vec::new();
    let mut event_bytes = Vec::new();
    for sequence in 1..=VERIFY_RECORDS {
        let view = ledger.record(sequence).unwrap().unwrap();
        event_bytes.push(view.record.event_bytes.clone());
        let bytes = view.record.to_bytes().unwrap();
        copy.insert(sequence.to_be_bytes(), record::stored_value(&bytes).0)
            .unwrap();
        record_bytes.push(bytes);
    }
    let total_bytes: usize = record_bytes.iter().map(Vec::len).sum();
    eprintln!(
        "verify bench: {VERIFY_RECORDS} records, {:.0} bytes per record on average",
        total_bytes as f64 / VERIFY_RECORDS as f64
    );

    let mut group = c.benchmark_group("verify");
    group.throughput(Throughput::Elements(VERIFY_RECORDS));
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(30));
    group.bench_function("ledger_verify", |b| {
        b.iter(|| black_box(ledger.verify(&mut |_| {}).unwrap()))
    });
    group.bench_function("raw_blake3_in_memory", |b| {
        b.iter(|| {
            for bytes in &record_bytes {
                black_box(blake3::hash(bytes));
            }
        })
    });
    // What verify must do beside scanning and hashing: decode every event canonically (decode,
    // re-encode, compare) and check its rules. In memory, so it adds to the scan above.
    group.bench_function("decode_events_in_memory", |b| {
        b.iter(|| {
            for bytes in &event_bytes {
                black_box(record::decode_event(bytes, EVENT_SCHEMA_VERSION).unwrap());
            }
        })
    });
    group.bench_function("raw_sled_scan_blake3", |b| {
        b.iter(|| {
            for item in copy.iter() {
                let (_, value) = item.unwrap();
                black_box(blake3::hash(&value));
            }
        })
    });
    group.finish();
}

criterion_group!(benches, append, verify);
criterion_main!(benches);
