//! Verification of records: the checks of one record, and the one checked reader of the log.
//!
//! Owns what makes a record good (stored hash, canonical record and event, sequence, link to
//! the record before, recorded time) and `checked_records`, the reader that `verify`,
//! `checkpoint`, catch-up and replays all use: frames are hashed and decoded on every core,
//! then linked in order. Streams in bounded memory (a batch of frames at a time). Hashes stored
//! bytes; never re-encodes decoded values to hash them (it does re-encode to check that stored
//! bytes are canonical).

use super::chain::{self, Hash};
use super::log::{FrameBatch, FrameMeta, Log, Place, RawFrame};
use super::record::{self, Record, RecordRef};
use super::store::StoreError;
use crate::domain::Timestamp;
use crate::limits;
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
    /// A frame's length prefix is impossible, or the frame runs past its segment's end.
    FrameDamaged,
    /// A segment file's header is wrong, or a segment is where none can be.
    SegmentDamaged,
    /// The stored projections (what answers come from) differ from a replay of the log.
    ProjectionMismatch,
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
            FailureKind::FrameDamaged => "frame_damaged",
            FailureKind::SegmentDamaged => "segment_damaged",
            FailureKind::ProjectionMismatch => "projection_mismatch",
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
    /// Where, in the ledger folder: a file (relative to the ledger folder) and a byte offset.
    pub location: Option<Box<Location>>,
}

/// A place in the ledger folder's files.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Location {
    /// The file, relative to the ledger folder (e.g. `log/00000000000000000001.seg`).
    pub file: String,
    /// The byte offset in it.
    pub offset: u64,
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
        if let Some(location) = &self.location {
            write!(f, " [{} at byte {}]", location.file, location.offset)?;
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
            location: None,
        }
    }

    /// The same failure, located at `offset` of `file` (relative to the ledger folder).
    pub fn at(mut self, file: impl Into<String>, offset: u64) -> VerifyFailure {
        self.location = Some(Box::new(Location {
            file: file.into(),
            offset,
        }));
        self
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
}

/// Decodes one record's bytes canonically and checks its sequence, its link to the hash before
/// it (when that is known) and its recorded time against the one before.
pub(crate) fn check_record(
    sequence: u64,
    record_bytes: &[u8],
    previous_hash: Option<Hash>,
    previous_recorded_at: Option<Timestamp>,
) -> Result<Record, VerifyFailure> {
    check_record_ref(sequence, record_bytes, previous_hash, previous_recorded_at)
        .map(|record| record.to_record())
}

/// [`check_record`], the record read in place (its text and event bytes borrowed).
pub(crate) fn check_record_ref(
    sequence: u64,
    record_bytes: &[u8],
    previous_hash: Option<Hash>,
    previous_recorded_at: Option<Timestamp>,
) -> Result<RecordRef<'_>, VerifyFailure> {
    let record = RecordRef::from_bytes(record_bytes).map_err(|error| {
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
    if let Some(previous) = previous_recorded_at
        && record.recorded_at < previous
    {
        return Err(VerifyFailure::new(
            sequence,
            FailureKind::TimeWentBack,
            format!(
                "recorded at {}, before the previous record's {}",
                record.recorded_at, previous
            ),
        ));
    }
    Ok(record)
}

/// Decodes a checked record's event canonically.
pub(crate) fn check_event(
    sequence: u64,
    event_bytes: &[u8],
    schema_version: u16,
) -> Result<crate::domain::Event, VerifyFailure> {
    record::decode_event(event_bytes, schema_version).map_err(|error| {
        VerifyFailure::new(
            sequence,
            FailureKind::Undecodable,
            format!("event: {error}"),
        )
    })
}

/// One record checked by [`checked_records`]: where it is, its hash, record and event.
pub(crate) struct Checked {
    pub sequence: u64,
    pub place: Place,
    pub frame_len: u64,
    pub hash: Hash,
    pub record: Record,
    pub event: crate::domain::Event,
    /// Its leaf hash in the Merkle tree (of its stored bytes).
    pub leaf: super::merkle::Digest,
}

/// What precedes the first record a reader checks: its hash and recorded time.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Previous {
    pub hash: Hash,
    pub recorded_at: Option<Timestamp>,
}

/// One record checked in place: [`Checked`] with the record borrowed from the bytes read.
pub(crate) struct CheckedRef<'a> {
    pub sequence: u64,
    pub place: Place,
    pub frame_len: u64,
    pub hash: Hash,
    pub record: RecordRef<'a>,
    pub event: crate::domain::Event,
}

impl CheckedRef<'_> {
    /// An owned [`Checked`].
    pub(crate) fn into_checked(self, leaf: super::merkle::Digest) -> Checked {
        Checked {
            sequence: self.sequence,
            place: self.place,
            frame_len: self.frame_len,
            hash: self.hash,
            record: self.record.to_record(),
            event: self.event,
            leaf,
        }
    }
}

/// Checks one frame on its own (any thread): stored hash, canonical record of the right
/// sequence, canonical valid event. Failures are located at the frame.
fn check_frame(frame: RawFrame) -> Result<Checked, VerifyFailure> {
    let meta = FrameMeta {
        sequence: frame.sequence,
        place: frame.place,
        bytes: 0..frame.record_bytes.len(),
        stored_hash: frame.stored_hash,
        end_of_append: frame.end_of_append,
    };
    let leaf = super::leaf_hash(&frame.record_bytes);
    check_frame_bytes(&meta, &frame.record_bytes).map(|checked| checked.into_checked(leaf))
}

fn check_frame_bytes<'a>(
    frame: &FrameMeta,
    record_bytes: &'a [u8],
) -> Result<CheckedRef<'a>, VerifyFailure> {
    let locate = |failure: VerifyFailure| {
        failure.at(
            format!(
                "log/{}",
                super::log::format::segment_name(frame.place.segment)
            ),
            frame.place.offset,
        )
    };
    let actual_hash = chain::record_hash(record_bytes);
    if actual_hash != frame.stored_hash {
        return Err(locate(
            VerifyFailure::new(
                frame.sequence,
                FailureKind::HashMismatch,
                "the record bytes do not hash to the stored hash",
            )
            .with_hashes(frame.stored_hash, actual_hash),
        ));
    }
    let record = check_record_ref(frame.sequence, record_bytes, None, None).map_err(locate)?;
    let event =
        check_event(frame.sequence, record.event_bytes, record.schema_version).map_err(locate)?;
    Ok(CheckedRef {
        sequence: frame.sequence,
        place: frame.place,
        frame_len: frame.frame_len(),
        hash: actual_hash,
        record,
        event,
    })
}

/// What a reader keeps of each checked record (given it and its stored bytes), on the thread
/// that checked it.
pub(crate) type Keep<'a, T> = dyn Fn(CheckedRef<'_>, &[u8]) -> T + Sync + 'a;

/// What the in-order checks of a record need (its link to the one before, its time) and what
/// the Merkle tree needs (its leaf hash), computed where the record was decoded.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Link {
    pub sequence: u64,
    pub place: Place,
    pub hash: Hash,
    pub previous: Hash,
    pub recorded_at: Timestamp,
    pub leaf: super::merkle::Digest,
}

fn check_kept<T>(
    frame: &FrameMeta,
    data: &[u8],
    keep: &Keep<'_, T>,
) -> Result<(Link, T), VerifyFailure> {
    let record_bytes = &data[frame.bytes.clone()];
    let checked = check_frame_bytes(frame, record_bytes)?;
    let link = Link {
        sequence: checked.sequence,
        place: checked.place,
        hash: checked.hash,
        previous: checked.record.previous(),
        recorded_at: checked.record.recorded_at,
        leaf: super::leaf_hash(record_bytes),
    };
    Ok((link, keep(checked, record_bytes)))
}

/// Checks a batch of frames on up to `threads` threads (this one among them), keeping their
/// order. The threads borrow the batch's buffer (no frame is allocated on one thread and freed on
/// another), and each record is reduced by `keep` where it was decoded (so a verification that
/// needs nothing of the event also frees it there).
fn check_batch<T: Send>(
    batch: &FrameBatch,
    threads: usize,
    keep: &Keep<'_, T>,
) -> Vec<Result<(Link, T), VerifyFailure>> {
    let check = |frames: &[FrameMeta]| -> Vec<Result<(Link, T), VerifyFailure>> {
        frames
            .iter()
            .map(|frame| check_kept(frame, &batch.data, keep))
            .collect()
    };
    if threads <= 1 || batch.frames.len() < 2 * limits::VERIFY_FRAMES_PER_THREAD_MIN {
        return check(&batch.frames);
    }
    // This thread also reads the next batch and makes the in-order checks (links, the Merkle
    // tree) while the others wait: it takes a smaller share (measured best at about 3/4 of an
    // equal one on two cores), so that all finish together.
    let frames = &batch.frames;
    let own_len = frames.len() / threads;
    let (own, theirs) = frames.split_at(own_len);
    let parts: Vec<&[FrameMeta]> = theirs.chunks(theirs.len().div_ceil(threads - 1)).collect();
    std::thread::scope(|scope| {
        let handles: Vec<_> = parts
            .into_iter()
            .map(|part| scope.spawn(move || check(part)))
            .collect();
        let mut all = check(own);
        all.extend(handles.into_iter().flat_map(|handle| {
            handle.join().unwrap_or_else(|_| {
                vec![Err(VerifyFailure::new(
                    0,
                    FailureKind::Unreadable,
                    "a verification thread panicked (a bug)",
                ))]
            })
        }));
        all
    })
}

/// The number of threads `checked_records` uses: every core, up to a bound.
pub(crate) fn verify_threads() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .min(limits::VERIFY_THREADS_MAX)
}

/// Reads the log's records in order from `start` (the place and sequence of the first; `None`
/// for record 1) through `to` (or the head), checking each one: framing, stored hash,
/// canonical encoding and event (in parallel, a batch at a time), then its sequence, its link
/// to the one before and its recorded time (in order). Stops after the first failure. The one
/// reader of the log for `verify`, `checkpoint`, catch-up and replays.
pub(crate) fn checked_records<'a>(
    log: &'a Log,
    start: Option<(u64, Place)>,
    previous: Previous,
    to: Option<u64>,
    threads: usize,
) -> impl Iterator<Item = Result<Checked, VerifyFailure>> + 'a {
    checked_records_with(log, start, previous, to, threads, &|checked, bytes| {
        checked.into_checked(super::leaf_hash(bytes))
    })
    .map(|item| item.map(|(_, checked)| checked))
}

/// [`checked_records`], each record reduced by `keep` on the thread that decoded it: the
/// in-order checks need only its [`Link`].
pub(crate) fn checked_records_with<'a, T: Send + 'a>(
    log: &'a Log,
    start: Option<(u64, Place)>,
    previous: Previous,
    to: Option<u64>,
    threads: usize,
    keep: &'a Keep<'a, T>,
) -> impl Iterator<Item = Result<(Link, T), VerifyFailure>> + 'a {
    let mut frames = log.frames(start);
    let first = start.map_or(1, |(sequence, _)| sequence);
    let last = to.unwrap_or(u64::MAX).min(log.marker().sequence);
    let mut next_sequence = first;
    let mut previous = previous;
    let mut ready: std::collections::VecDeque<Result<(Link, T), VerifyFailure>> =
        std::collections::VecDeque::new();
    let mut done = false;
    let mut batch = FrameBatch::default();
    std::iter::from_fn(move || {
        loop {
            if let Some(item) = ready.pop_front() {
                let item = item.and_then(|(link, kept)| {
                    let locate = |failure: VerifyFailure| {
                        failure.at(
                            format!(
                                "log/{}",
                                super::log::format::segment_name(link.place.segment)
                            ),
                            link.place.offset,
                        )
                    };
                    if link.previous != previous.hash {
                        return Err(locate(
                            VerifyFailure::new(
                                link.sequence,
                                FailureKind::BrokenLink,
                                "the previous hash is not the hash of the record before",
                            )
                            .with_hashes(link.previous, previous.hash),
                        ));
                    }
                    if let Some(before) = previous.recorded_at
                        && link.recorded_at < before
                    {
                        return Err(locate(VerifyFailure::new(
                            link.sequence,
                            FailureKind::TimeWentBack,
                            format!(
                                "recorded at {}, before the previous record's {}",
                                link.recorded_at, before
                            ),
                        )));
                    }
                    Ok((link, kept))
                });
                match &item {
                    Ok((link, _)) => {
                        previous = Previous {
                            hash: link.hash,
                            recorded_at: Some(link.recorded_at),
                        };
                    }
                    Err(_) => {
                        done = true;
                        ready.clear();
                    }
                }
                return Some(item);
            }
            if done || next_sequence > last {
                return None;
            }
            let want = (last - next_sequence + 1).min(limits::VERIFY_BATCH_FRAMES as u64) as usize;
            let failed = frames.next_batch(want, &mut batch);
            if batch.frames.is_empty() && failed.is_none() {
                // The frames ended before `last`: the reader itself reports why, except when
                // the caller asked past the head.
                done = true;
                return Some(Err(VerifyFailure::new(
                    next_sequence,
                    FailureKind::Gap,
                    format!("record {next_sequence} is missing"),
                )));
            }
            next_sequence += batch.frames.len() as u64;
            ready.extend(check_batch(&batch, threads, keep));
            if let Some(failure) = failed {
                ready.push_back(Err(failure));
            }
        }
    })
}

/// Reads the frame of record `sequence` at `place` and checks it on its own and against what
/// precedes it (when that is known).
pub(crate) fn checked_record(
    log: &Log,
    sequence: u64,
    place: Place,
    previous: Option<Previous>,
) -> Result<Checked, VerifyFailure> {
    let frame = log.read_frame(sequence, place)?;
    let checked = check_frame(frame)?;
    if let Some(previous) = previous
        && checked.record.previous() != previous.hash
    {
        return Err(VerifyFailure::new(
            sequence,
            FailureKind::BrokenLink,
            "the previous hash is not the hash of the record before",
        )
        .with_hashes(checked.record.previous(), previous.hash)
        .at(
            format!("log/{}", super::log::format::segment_name(place.segment)),
            place.offset,
        ));
    }
    Ok(checked)
}

impl From<&StoreError> for VerifyFailure {
    fn from(error: &StoreError) -> VerifyFailure {
        VerifyFailure::new(0, FailureKind::Unreadable, error.to_string())
    }
}
