//! Simulated power loss and a full disk, through the log's storage seam: the segment writer runs
//! on a fault-injecting storage (tests/common/fault.rs) that, by seed, drops, tears or reorders
//! every write not yet fsynced when the power is cut. After every cut: the log opens, nothing
//! acknowledged is lost, every record it holds checks out (hash, sequence, link), it appends
//! again; a failing seed reproduces byte for byte. ENOSPC injected at every write point of one
//! append: all or nothing, the log opens, appends resume once space is freed.
//!
//! `SANCTIONS_LEDGER_POWER_LOSS_SEEDS=N` runs N seeds instead of the 200 of a normal run.

mod common;

use common::fault::{Fault, FaultStorage, Lcg};
use sanctions_ledger::ledger::chain::{self, Hash};
use sanctions_ledger::ledger::log::{Log, LogOptions};
use sanctions_ledger::ledger::record::Record;

/// Small segments, so that roll-over happens every few appends.
const OPTIONS: LogOptions = LogOptions {
    segment_bytes_max: 3 * 1024,
};

fn genesis_bytes() -> Vec<u8> {
    common::genesis_bytes("power loss")
}

fn batch(head: (u64, Hash), count: u64) -> Vec<(Vec<u8>, Hash)> {
    common::chained_records(head, count)
}

fn append(log: &mut Log, records: &[(Vec<u8>, Hash)]) -> Result<(), String> {
    let frames: Vec<(&[u8], Hash)> = records.iter().map(|(b, h)| (b.as_slice(), *h)).collect();
    log.append(&frames).map(|_| ()).map_err(|e| e.to_string())
}

fn head(log: &Log) -> (u64, Hash) {
    let marker = log.marker();
    (marker.sequence, marker.hash)
}

/// Every acknowledged record, read back in order: hash, sequence and link check out. Returns
/// the hashes by sequence.
fn read_all(log: &Log) -> Vec<Hash> {
    let mut hashes = Vec::new();
    let mut previous = log.genesis_hash();
    for frame in log.frames(None) {
        let frame = frame.unwrap_or_else(|failure| panic!("damage after a crash: {failure}"));
        assert_eq!(chain::record_hash(&frame.record_bytes), frame.stored_hash);
        let record = Record::from_bytes(&frame.record_bytes).unwrap();
        assert_eq!(record.sequence, frame.sequence);
        assert_eq!(record.previous(), previous, "record {}", record.sequence);
        previous = frame.stored_hash;
        hashes.push(frame.stored_hash);
    }
    assert_eq!(hashes.len() as u64, log.marker().sequence);
    hashes
}

struct Outcome {
    acknowledged: Vec<Hash>,
    checkpoints: usize,
    after: std::collections::BTreeMap<String, Vec<u8>>,
}

/// One run: append random batches (and a checkpoint now and then) until the power is cut at a
/// random operation, crash, reopen, check, append again.
fn run(seed: u64) -> Outcome {
    let mut random = Lcg(seed);
    let storage = FaultStorage::new();
    let mut log = Log::create(Box::new(storage.clone()), &genesis_bytes(), OPTIONS).unwrap();
    storage.fail_in(random.below(1, 400), Fault::PowerLoss);
    let mut acknowledged: Vec<Hash> = Vec::new();
    let mut checkpoints = 0;
    loop {
        if random.below(0, 8) == 0 {
            let text = format!("checkpoint {checkpoints} of seed {seed}\n");
            if log.add_checkpoint(text.as_bytes()).is_err() {
                break;
            }
            checkpoints += 1;
            continue;
        }
        let records = batch(head(&log), random.below(1, 9));
        match append(&mut log, &records) {
            Ok(()) => acknowledged.extend(records.iter().map(|(_, hash)| *hash)),
            Err(_) => break,
        }
    }
    drop(log);
    let crashed = storage.crash(seed);
    let mut reopened =
        Log::open(Box::new(crashed.clone()), true, OPTIONS).unwrap_or_else(|error| {
            panic!("seed {seed}: the log does not open after the crash: {error}")
        });
    let held = read_all(&reopened);
    assert!(
        held.len() >= acknowledged.len(),
        "seed {seed}: {} acknowledged, {} held",
        acknowledged.len(),
        held.len()
    );
    assert_eq!(
        &held[..acknowledged.len()],
        &acknowledged[..],
        "seed {seed}: an acknowledged record is lost or changed"
    );
    let kept = reopened.checkpoints().unwrap();
    assert!(
        kept.len() >= checkpoints,
        "seed {seed}: a kept checkpoint is lost"
    );
    // It appends again, and opens again with everything.
    let more = batch(head(&reopened), 3);
    append(&mut reopened, &more).unwrap();
    drop(reopened);
    let again = Log::open(Box::new(crashed.snapshot()), true, OPTIONS).unwrap();
    assert_eq!(read_all(&again).len(), held.len() + 3);
    Outcome {
        acknowledged,
        checkpoints,
        after: crashed.contents(),
    }
}

#[test]
fn no_acknowledged_record_is_lost_when_the_power_is_cut_anywhere() {
    let seeds: u64 = std::env::var("SANCTIONS_LEDGER_POWER_LOSS_SEEDS")
        .ok()
        .and_then(|text| text.parse().ok())
        .unwrap_or(200);
    let mut acknowledged = 0;
    let mut checkpoints = 0;
    for seed in 0..seeds {
        let outcome = run(seed);
        acknowledged += outcome.acknowledged.len();
        checkpoints += outcome.checkpoints;
    }
    // The runs must have done something worth checking.
    assert!(
        acknowledged > 20 * seeds as usize,
        "{acknowledged} acknowledged"
    );
    assert!(
        checkpoints > seeds as usize / 4,
        "{checkpoints} checkpoints"
    );
}

#[test]
fn a_seed_reproduces_byte_for_byte() {
    for seed in [3, 17, 99] {
        let first = run(seed);
        let second = run(seed);
        assert_eq!(first.acknowledged, second.acknowledged);
        assert_eq!(first.after, second.after, "seed {seed}");
    }
}

#[test]
fn a_full_disk_at_any_write_of_an_append_leaves_all_or_nothing() {
    let storage = FaultStorage::new();
    let mut log = Log::create(Box::new(storage.clone()), &genesis_bytes(), OPTIONS).unwrap();
    for _ in 0..5 {
        let records = batch(head(&log), 4);
        append(&mut log, &records).unwrap();
    }
    // How many storage operations one append makes (a batch that rolls over a segment).
    let probe = storage.snapshot();
    let mut probe_log = Log::open(Box::new(probe.clone()), true, OPTIONS).unwrap();
    let before = probe.operations();
    let big = batch(head(&probe_log), 12);
    append(&mut probe_log, &big).unwrap();
    let operations = probe.operations() - before;
    assert!(operations >= 4, "{operations}");
    drop(probe_log);
    let acknowledged = read_all(&log);
    drop(log);
    for at in 0..operations {
        let disk = storage.snapshot();
        let mut log = Log::open(Box::new(disk.clone()), true, OPTIONS).unwrap();
        let records = batch(head(&log), 12);
        disk.fail_in(at, Fault::StorageFull);
        let failed = append(&mut log, &records);
        assert!(failed.is_err(), "write point {at}: the append must fail");
        assert_eq!(head(&log).0, acknowledged.len() as u64, "write point {at}");
        // It is not acknowledged, and never half there: the log opens with what it had, or
        // (when only the marker's own fsync failed, after its write) with the whole append.
        let reopened = Log::open(Box::new(disk.snapshot()), false, OPTIONS).unwrap();
        let held = read_all(&reopened);
        assert!(
            held == acknowledged || held.len() == acknowledged.len() + 12,
            "write point {at}: {} records held",
            held.len()
        );
        assert_eq!(&held[..acknowledged.len()], &acknowledged[..]);
        drop(reopened);
        // Space is freed: the same append goes through, and everything reads back.
        disk.clear_fault();
        append(&mut log, &records).unwrap_or_else(|e| panic!("write point {at}: {e}"));
        drop(log);
        let reopened = Log::open(Box::new(disk.snapshot()), true, OPTIONS).unwrap();
        assert_eq!(read_all(&reopened).len(), acknowledged.len() + 12);
        // And a crash right after loses nothing either.
        let crashed = Log::open(Box::new(disk.crash(at)), true, OPTIONS).unwrap();
        assert_eq!(read_all(&crashed).len(), acknowledged.len() + 12);
    }
}
