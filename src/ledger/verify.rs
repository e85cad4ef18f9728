//! Verification: walk stored records, re-hash their bytes, check links, order and encoding.
//!
//! Owns the one chain walker used by both `verify` (the whole log, from the genesis) and the
//! tail check made when a ledger opens for writing (the last records). Streams the log in
//! bounded memory. Hashes stored bytes; never re-encodes decoded values to hash them (it does
//! re-encode to check that stored bytes are canonical).

use super::chain::{self, Hash, IndexDigest};
use super::record::{self, Record};
use super::store::{self, Store, StoreError};
use crate::domain::Timestamp;
use std::fmt;

/// What kind of damage verification found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FailureKind {
    /// The stored hash is not the hash of the stored record bytes.
    HashMismatch,
    /// The record's previous hash is not the hash of the record before it.
    BrokenLink,
    /// A sequence number is missing.
    Gap,
    /// A record is stored under a sequence other than its own.
    Misplaced,
    /// The record or its event does not decode canonically, or breaks a rule.
    Undecodable,
    /// A recorded time is earlier than the one before it.
    TimeWentBack,
    /// The stored head disagrees with the last record.
    HeadMismatch,
    /// The event-id index disagrees with the records.
    IndexMismatch,
    /// The Merkle tree's stored nodes disagree with the records.
    MerkleMismatch,
    /// A checkpoint the ledger keeps disagrees with the records.
    CheckpointMismatch,
    /// The store could not be read.
    Unreadable,
}

impl FailureKind {
    /// The stable name used in output and schemas.
    pub fn as_str(self) -> &'static str {
        match self {
            FailureKind::HashMismatch => "hash_mismatch",
            FailureKind::BrokenLink => "broken_link",
            FailureKind::Gap => "gap",
            FailureKind::Misplaced => "misplaced",
            FailureKind::Undecodable => "undecodable",
            FailureKind::TimeWentBack => "time_went_back",
            FailureKind::HeadMismatch => "head_mismatch",
            FailureKind::IndexMismatch => "index_mismatch",
            FailureKind::MerkleMismatch => "merkle_mismatch",
            FailureKind::CheckpointMismatch => "checkpoint_mismatch",
            FailureKind::Unreadable => "unreadable",
        }
    }
}

/// The first damage found, with its evidence.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifyFailure {
    /// Where: the sequence of the first bad record (0 for the genesis or metadata).
    pub sequence: u64,
    /// What kind of damage.
    pub kind: FailureKind,
    /// The hash the ledger stores or expects, where one applies.
    pub stored_hash: Option<Hash>,
    /// The hash recomputed from stored bytes, where one applies.
    pub actual_hash: Option<Hash>,
    /// Evidence in words.
    pub detail: String,
}

impl fmt::Display for VerifyFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} at sequence {}: {}",
            self.kind.as_str(),
            self.sequence,
            self.detail
        )?;
        if let (Some(stored), Some(actual)) = (self.stored_hash, self.actual_hash) {
            write!(f, " (stored {stored}, actual {actual})")?;
        }
        Ok(())
    }
}

impl VerifyFailure {
    /// A failure found at `sequence`.
    pub fn new(sequence: u64, kind: FailureKind, detail: impl Into<String>) -> VerifyFailure {
        VerifyFailure {
            sequence,
            kind,
            stored_hash: None,
            actual_hash: None,
            detail: detail.into(),
        }
    }

    pub(crate) fn with_hashes(mut self, stored: Hash, actual: Hash) -> VerifyFailure {
        self.stored_hash = Some(stored);
        self.actual_hash = Some(actual);
        self
    }

    /// The store's files could not be opened at all.
    pub fn unopenable(reason: String) -> VerifyFailure {
        VerifyFailure::new(0, FailureKind::Unreadable, reason)
    }

    pub(crate) fn unreadable(sequence: u64, error: &StoreError) -> VerifyFailure {
        VerifyFailure::new(sequence, FailureKind::Unreadable, error.to_string())
    }
}

/// Where a walk starts: the sequence it expects first and what precedes it.
#[derive(Clone, Copy, Debug)]
pub(crate) struct WalkStart {
    pub sequence: u64,
    pub previous_hash: Hash,
    pub previous_recorded_at: Option<Timestamp>,
}

/// Where a walk ended: the last record it checked (or its start, if it saw none).
#[derive(Clone, Copy, Debug)]
pub(crate) struct WalkEnd {
    pub last_sequence: u64,
    pub last_hash: Hash,
    pub last_recorded_at: Option<Timestamp>,
}

/// Checks one stored record against what precedes it; returns its hash and decoded record.
pub(crate) fn check_value(
    sequence: u64,
    value: &[u8],
    previous_hash: Hash,
    previous_recorded_at: Option<Timestamp>,
) -> Result<(Hash, Record), VerifyFailure> {
    let stored = record::split_value(value).ok_or_else(|| {
        VerifyFailure::new(
            sequence,
            FailureKind::Undecodable,
            format!("stored value is {} bytes, shorter than a hash", value.len()),
        )
    })?;
    let actual_hash = chain::record_hash(stored.record_bytes);
    if actual_hash != stored.stored_hash {
        return Err(VerifyFailure::new(
            sequence,
            FailureKind::HashMismatch,
            "the record bytes do not hash to the stored hash",
        )
        .with_hashes(stored.stored_hash, actual_hash));
    }
    let record = check_record(
        sequence,
        stored.record_bytes,
        Some(previous_hash),
        previous_recorded_at,
    )?;
    Ok((actual_hash, record))
}

/// Decodes one record's bytes canonically and checks its sequence, its link to the hash before
/// it (when that is known) and its recorded time against the one before.
pub(crate) fn check_record(
    sequence: u64,
    record_bytes: &[u8],
    previous_hash: Option<Hash>,
    previous_recorded_at: Option<Timestamp>,
) -> Result<Record, VerifyFailure> {
    let record = Record::from_bytes(record_bytes).map_err(|error| {
        VerifyFailure::new(
            sequence,
            FailureKind::Undecodable,
            format!("record: {error}"),
        )
    })?;
    if record.sequence != sequence {
        return Err(VerifyFailure::new(
            sequence,
            FailureKind::Misplaced,
            format!(
                "the record stored under sequence {sequence} says it is sequence {}",
                record.sequence
            ),
        ));
    }
    if let Some(previous_hash) = previous_hash.filter(|hash| *hash != record.previous()) {
        return Err(VerifyFailure::new(
            sequence,
            FailureKind::BrokenLink,
            "the previous hash is not the hash of the record before",
        )
        .with_hashes(record.previous(), previous_hash));
    }
    if let Some(previous) = previous_recorded_at {
        if record.recorded_at < previous {
            return Err(VerifyFailure::new(
                sequence,
                FailureKind::TimeWentBack,
                format!(
                    "recorded at {} µs, before the previous record's {} µs",
                    record.recorded_at.unix_micros(),
                    previous.unix_micros()
                ),
            ));
        }
    }
    Ok(record)
}

/// Decodes a checked record's event canonically.
pub(crate) fn check_event(
    sequence: u64,
    record: &Record,
) -> Result<crate::domain::Event, VerifyFailure> {
    record::decode_event(&record.event_bytes, record.schema_version).map_err(|error| {
        VerifyFailure::new(
            sequence,
            FailureKind::Undecodable,
            format!("event: {error}"),
        )
    })
}

/// How a walk checks the event-id index.
pub(crate) enum IndexCheck {
    /// One point lookup per record: exact, names the record; for short walks and to locate
    /// damage.
    Lookup,
    /// Add each record's (id, sequence) to a keyed multiset digest, compared afterwards with
    /// the same digest over a sequential scan of the index (`check_index`).
    Digest(IndexDigest),
}

fn check_index_entry(store: &Store, event_id: &str, sequence: u64) -> Result<(), VerifyFailure> {
    let indexed = store
        .sequence_of(event_id)
        .map_err(|error| VerifyFailure::unreadable(sequence, &error))?;
    if indexed.as_deref() == Some(&sequence.to_be_bytes()[..]) {
        Ok(())
    } else {
        Err(VerifyFailure::new(
            sequence,
            FailureKind::IndexMismatch,
            format!("the event-id index does not map \"{event_id}\" to sequence {sequence}"),
        ))
    }
}

/// One record checked by `checked_records`: its sequence, hash, record and event.
pub(crate) struct Checked {
    pub sequence: u64,
    pub hash: Hash,
    pub record: Record,
    pub event: crate::domain::Event,
}

/// Reads stored records in order from `start` through `to` (or to the end of the records
/// tree when `to` is `None`) with one sequential scan, checking each one (key, no gap, stored
/// hash, canonical encoding, link, recorded time, event). Stops after the first failure. The
/// one reader of the log for `verify`, the tail check, `checkpoint` and replays.
pub(crate) fn checked_records(
    store: &Store,
    start: WalkStart,
    to: Option<u64>,
) -> impl Iterator<Item = Result<Checked, VerifyFailure>> + '_ {
    let mut previous = (start.previous_hash, start.previous_recorded_at);
    let mut expected = start.sequence;
    let mut items = store.records_from(start.sequence);
    let mut done = false;
    std::iter::from_fn(move || {
        if done || to.is_some_and(|to| expected > to) {
            return None;
        }
        let checked = match items.next() {
            None => match to {
                // The caller asked for records the store does not have.
                Some(_) => Err(VerifyFailure::new(
                    expected,
                    FailureKind::Gap,
                    format!("sequence {expected} is missing"),
                )),
                None => return None,
            },
            Some(item) => check_item(item, expected, previous),
        };
        match &checked {
            Ok(record) => {
                previous = (record.hash, Some(record.record.recorded_at));
                expected += 1;
            }
            Err(_) => done = true,
        }
        Some(checked)
    })
}

fn check_item<K: AsRef<[u8]>, V: AsRef<[u8]>>(
    item: Result<(K, V), StoreError>,
    expected: u64,
    (previous_hash, previous_recorded_at): (Hash, Option<Timestamp>),
) -> Result<Checked, VerifyFailure> {
    let (key, value) = item.map_err(|error| VerifyFailure::unreadable(expected, &error))?;
    let (key, value) = (key.as_ref(), value.as_ref());
    let sequence = store::sequence_from_key(key).ok_or_else(|| {
        VerifyFailure::new(
            expected,
            FailureKind::Undecodable,
            format!("a record key of {} bytes, not 8", key.len()),
        )
    })?;
    if sequence != expected {
        return Err(VerifyFailure::new(
            expected,
            FailureKind::Gap,
            format!("sequence {expected} is missing; the next stored record is {sequence}"),
        ));
    }
    let (hash, record) = check_value(sequence, value, previous_hash, previous_recorded_at)?;
    let event = check_event(sequence, &record)?;
    Ok(Checked {
        sequence,
        hash,
        record,
        event,
    })
}

/// Walks stored records from `start` to the end of the records tree, checking each one and
/// the event-id index entry of its event. `visit` is called with each checked record's
/// sequence and hash, and may stop the walk with a failure of its own.
pub(crate) fn walk(
    store: &Store,
    start: WalkStart,
    index: &mut IndexCheck,
    visit: &mut dyn FnMut(u64, Hash) -> Result<(), VerifyFailure>,
) -> Result<WalkEnd, VerifyFailure> {
    let mut end = WalkEnd {
        last_sequence: start.sequence - 1,
        last_hash: start.previous_hash,
        last_recorded_at: start.previous_recorded_at,
    };
    for checked in checked_records(store, start, None) {
        let Checked {
            sequence,
            hash,
            record,
            event,
        } = checked?;
        match index {
            IndexCheck::Lookup => check_index_entry(store, event.id().as_str(), sequence)?,
            IndexCheck::Digest(digest) => digest.add(event.id().as_str().as_bytes(), sequence),
        }
        end = WalkEnd {
            last_sequence: sequence,
            last_hash: hash,
            last_recorded_at: Some(record.recorded_at),
        };
        visit(sequence, hash)?;
    }
    Ok(end)
}

/// Checks that the stored head names the last record walked.
pub(crate) fn check_head(store: &Store, end: &WalkEnd) -> Result<(), VerifyFailure> {
    let head = store
        .head()
        .map_err(|error| VerifyFailure::unreadable(end.last_sequence, &error))?;
    if head.sequence != end.last_sequence {
        let detail = if head.sequence > end.last_sequence {
            format!(
                "the head says the log ends at {}, but the records end at {}: records are missing",
                head.sequence, end.last_sequence
            )
        } else {
            format!(
                "the head says the log ends at {}, but records go on to {}",
                head.sequence, end.last_sequence
            )
        };
        return Err(VerifyFailure::new(
            end.last_sequence + 1,
            FailureKind::HeadMismatch,
            detail,
        ));
    }
    if head.hash != end.last_hash.0 {
        return Err(VerifyFailure::new(
            head.sequence,
            FailureKind::HeadMismatch,
            "the head hash is not the last record's hash",
        )
        .with_hashes(Hash(head.hash), end.last_hash));
    }
    Ok(())
}

/// Checks the event-id index against the digest of the records a full walk saw: one
/// sequential scan of the index. On a mismatch, walks again with point lookups to name the
/// first record whose entry is wrong, or else reports entries that no record has.
pub(crate) fn check_index(
    store: &Store,
    start: WalkStart,
    records: u64,
    seen: &IndexDigest,
) -> Result<(), VerifyFailure> {
    let mut indexed = seen.empty_like();
    for item in store.event_ids() {
        let (key, value) = item.map_err(|error| VerifyFailure::unreadable(records + 1, &error))?;
        match store::sequence_from_key(&value) {
            Some(sequence) if (1..=records).contains(&sequence) => indexed.add(&key, sequence),
            _ => {
                return Err(VerifyFailure::new(
                    records + 1,
                    FailureKind::IndexMismatch,
                    format!(
                        "the event-id index maps \"{}\" to no record",
                        String::from_utf8_lossy(&key)
                    ),
                ));
            }
        }
    }
    if indexed.same_entries(seen) {
        return Ok(());
    }
    walk(store, start, &mut IndexCheck::Lookup, &mut |_, _| Ok(()))?;
    Err(VerifyFailure::new(
        records + 1,
        FailureKind::IndexMismatch,
        format!(
            "the event-id index has {} entries for {records} records; some name no record's event",
            indexed.entries()
        ),
    ))
}
