//! Corruption sweeps on the log's files: every bit of a 100-record log flipped, one at a time,
//! and random bit flips and 8-byte overwrites on a 10,000-record log. Every one must be found
//! (never a silent pass, never a panic), located in the right file at the start of the frame,
//! header, slot or byte it hit (and, for a frame, at the right sequence), and `verify` must leave
//! the files byte for byte as they were (the evidence is kept).
//!
//! The log lives in the fault-injecting storage's memory (tests/common/fault.rs), so the sweep
//! runs on the real reader and verifier without a disk in the loop.
//! `SANCTIONS_LEDGER_CORRUPTIONS=N` runs N random damages on the large log instead of 1,000.

mod common;

use common::fault::{FaultStorage, Lcg};
use sanctions_ledger::domain::Timestamp;
use sanctions_ledger::ledger::chain::Hash;
use sanctions_ledger::ledger::checkpoint::{Checkpoint, SignerKey};
use sanctions_ledger::ledger::leaf_hash;
use sanctions_ledger::ledger::log::format::{
    self, HEAD_SLOT_BYTES, HEAD_SLOT_OFFSETS, SEGMENT_HEADER_BYTES,
};
use sanctions_ledger::ledger::log::{Log, LogOptions};
use sanctions_ledger::ledger::merkle::{Frontier, Rfc6962TreeHasher, TreeVersion};
use sanctions_ledger::ledger::{Ledger, LedgerError, LedgerOptions, VerifyFailure, VerifyOptions};
use std::collections::BTreeMap;

const OPTIONS: LogOptions = LogOptions {
    segment_bytes_max: 64 * 1024,
};

/// A log of `records` records (appended in batches of 7, a checkpoint kept after every tenth
/// batch), in memory.
fn log_of(records: u64) -> FaultStorage {
    let storage = FaultStorage::new();
    let mut log = Log::create(
        Box::new(storage.clone()),
        &common::genesis_bytes("corruption sweep"),
        OPTIONS,
    )
    .unwrap();
    let signer = SignerKey::generate("sweep.example/ops").unwrap();
    let mut frontier = Frontier::new();
    let mut batches = 0;
    while log.marker().sequence < records {
        let marker = log.marker();
        let count = 7.min(records - marker.sequence);
        let batch = common::chained_records((marker.sequence, marker.hash), count);
        let frames: Vec<(&[u8], Hash)> = batch.iter().map(|(b, h)| (b.as_slice(), *h)).collect();
        log.append(&frames).unwrap();
        for (bytes, _) in &batch {
            frontier.push(&Rfc6962TreeHasher, leaf_hash(bytes));
        }
        batches += 1;
        if batches % 10 == 0 {
            let marker = log.marker();
            let signed = signer.sign(Checkpoint {
                log: log.genesis_hash(),
                size: marker.sequence,
                root: frontier.root(&Rfc6962TreeHasher),
                head: marker.hash,
                time: Timestamp::from_unix_micros(batches),
                name: "corruption sweep".into(),
                tree: TreeVersion::CURRENT,
            });
            log.add_checkpoint(signed.text().as_bytes()).unwrap();
        }
    }
    storage
}

/// What a damaged byte must be reported as: the start of the unit it is in (a segment's header
/// or a frame, a head slot, a checkpoint frame, the genesis file, or the byte itself in the
/// head file's padding) and, for a record's frame, its sequence.
struct Units {
    /// file -> (unit start, unit end, sequence of a frame)
    units: BTreeMap<String, Vec<(u64, u64, Option<u64>)>>,
}

impl Units {
    fn of(storage: &FaultStorage) -> Units {
        let mut units = BTreeMap::new();
        for (name, bytes) in storage.contents() {
            let mut list = Vec::new();
            if let Some(first) = format::segment_first(&name) {
                list.push((0, SEGMENT_HEADER_BYTES, None));
                let mut at = SEGMENT_HEADER_BYTES;
                let mut sequence = first;
                while at < bytes.len() as u64 {
                    let prefix: [u8; 4] = bytes[at as usize..at as usize + 4].try_into().unwrap();
                    let (len, _) = format::frame_prefix(prefix).unwrap();
                    list.push((at, at + 36 + len, Some(sequence)));
                    at += 36 + len;
                    sequence += 1;
                }
            } else if name == "head" {
                for slot in HEAD_SLOT_OFFSETS {
                    list.push((slot, slot + HEAD_SLOT_BYTES as u64, None));
                }
            } else if name == "checkpoints" {
                list.push((0, format::CHECKPOINTS_HEADER_BYTES, None));
                let mut at = format::CHECKPOINTS_HEADER_BYTES as usize;
                while at < bytes.len() {
                    let len = u32::from_be_bytes(bytes[at..at + 4].try_into().unwrap()) as usize;
                    list.push((at as u64, (at + 36 + len) as u64, None));
                    at += 36 + len;
                }
            } else {
                list.push((0, bytes.len() as u64, None));
            }
            units.insert(name, list);
        }
        Units { units }
    }

    /// (expected offset, expected sequence) for damage at `offset` of `file`.
    fn expected(&self, file: &str, offset: u64) -> (u64, Option<u64>) {
        self.units[file]
            .iter()
            .find(|(start, end, _)| (*start..*end).contains(&offset))
            .map_or((offset, None), |(start, _, sequence)| (*start, *sequence))
    }
}

/// The first damage the ledger reports, opening the log read-only and verifying it.
fn first_failure(storage: &FaultStorage) -> Option<VerifyFailure> {
    let options = LedgerOptions { log: OPTIONS };
    match Ledger::open_storage(Box::new(storage.clone()), false, options) {
        Err(LedgerError::Damaged(failure)) => Some(failure),
        Err(other) => panic!("an error that is not a damage report: {other}"),
        Ok(ledger) => ledger
            .verify_with(
                &VerifyOptions {
                    log_only: true,
                    ..VerifyOptions::default()
                },
                &mut |_| {},
            )
            .err(),
    }
}

/// Damages `len` bytes at `offset` of `file` with `damage`, checks the report, restores them.
fn check_damage(
    storage: &FaultStorage,
    units: &Units,
    file: &str,
    offset: u64,
    damage: &dyn Fn(&mut [u8]),
    len: usize,
) {
    let mut original = Vec::new();
    storage.edit(file, |bytes| {
        let end = (offset as usize + len).min(bytes.len());
        original = bytes[offset as usize..end].to_vec();
        damage(&mut bytes[offset as usize..end]);
    });
    let mut changed = Vec::new();
    storage.edit(file, |bytes| {
        changed = bytes[offset as usize..offset as usize + original.len()].to_vec();
    });
    let first_changed = original
        .iter()
        .zip(&changed)
        .position(|(a, b)| a != b)
        .map(|at| offset + at as u64);
    let operations = storage.operations();
    let found = first_failure(storage);
    assert_eq!(
        storage.operations(),
        operations,
        "verify wrote to the files (it must leave them byte for byte as they were)"
    );
    if let Some(at) = first_changed {
        let failure = found
            .unwrap_or_else(|| panic!("damage at byte {at} of {file} was not found ({len} bytes)"));
        let location = failure
            .location
            .as_ref()
            .unwrap_or_else(|| panic!("not located: {failure}"));
        let (unit, sequence) = units.expected(file, at);
        assert_eq!(
            (location.file.as_str(), location.offset),
            (format!("log/{file}").as_str(), unit),
            "damage at byte {at} of {file}: {failure}"
        );
        if let Some(sequence) = sequence {
            assert_eq!(
                failure.sequence, sequence,
                "damage at byte {at} of {file}: {failure}"
            );
        }
    }
    storage.edit(file, |bytes| {
        bytes[offset as usize..offset as usize + original.len()].copy_from_slice(&original)
    });
}

#[test]
fn every_bit_of_a_100_record_log_flipped_is_found_and_located() {
    let storage = log_of(100);
    let untouched = first_failure(&storage);
    assert!(
        untouched.is_none(),
        "the untouched log verifies: {untouched:?}"
    );
    let units = Units::of(&storage);
    let places: Vec<(String, u64)> = storage
        .contents()
        .into_iter()
        .flat_map(|(file, bytes)| (0..bytes.len() as u64).map(move |at| (file.clone(), at)))
        .collect();
    // Every core, each on its own copy of the files.
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(8);
    let flips: usize = std::thread::scope(|scope| {
        let handles: Vec<_> = places
            .chunks(places.len().div_ceil(threads))
            .map(|part| {
                let storage = storage.snapshot();
                let units = &units;
                scope.spawn(move || {
                    for (file, offset) in part {
                        for bit in 0..8 {
                            check_damage(
                                &storage,
                                units,
                                file,
                                *offset,
                                &|bytes: &mut [u8]| bytes[0] ^= 1 << bit,
                                1,
                            );
                        }
                    }
                    assert!(
                        first_failure(&storage).is_none(),
                        "restored, it verifies again"
                    );
                    part.len() * 8
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|handle| handle.join().unwrap())
            .sum()
    });
    assert!(flips > 100 * 8 * 200, "{flips} flips");
}

#[test]
fn random_flips_and_overwrites_on_a_10000_record_log_are_found_and_located() {
    let storage = log_of(10_000);
    let units = Units::of(&storage);
    let damages: u64 = std::env::var("SANCTIONS_LEDGER_CORRUPTIONS")
        .ok()
        .and_then(|text| text.parse().ok())
        .unwrap_or(1_000);
    let files: Vec<(String, u64)> = storage
        .contents()
        .into_iter()
        .map(|(name, bytes)| (name, bytes.len() as u64))
        .collect();
    let total: u64 = files.iter().map(|(_, len)| len).sum();
    let mut random = Lcg(0xC0FF_EE11);
    for round in 0..damages {
        // A position weighted by file size.
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
        let offset = at.min(len - 1);
        if round % 2 == 0 {
            let bit = random.below(0, 8);
            check_damage(
                &storage,
                &units,
                file,
                offset,
                &|bytes: &mut [u8]| bytes[0] ^= 1 << bit,
                1,
            );
        } else {
            let noise = random.next_u64().to_le_bytes();
            check_damage(
                &storage,
                &units,
                file,
                offset,
                &|bytes: &mut [u8]| {
                    let n = bytes.len();
                    bytes.copy_from_slice(&noise[..n]);
                },
                8,
            );
        }
    }
}
