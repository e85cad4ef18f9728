//! Projections: the sanctions state derived from the log, kept in the derived store beside it.
//!
//! Owns the projection trees (facts per listing, programme renewals, subjects, corrections,
//! links, statements, names, and the current view evaluated at the head), keeping them bound to
//! the sequence and hash of the last record applied, catching them up after appends, rebuilding
//! them, and checking them against a replay of the log in bounded memory. Every entry but the
//! current view is a pure function of one record (and, for a correction, of the sequence it
//! corrects), keyed by that record's sequence, and never larger than one event's facts: so a
//! subject with 100,000 events is 100,000 small entries, and a replay can be compared with the
//! store by a multiset digest without holding either. Must not: be trusted over the log (the
//! log is the source of truth), or write to the log.

pub mod evaluate;
pub mod facts;
pub mod head_views;
pub mod names;

use std::collections::{BTreeMap, BTreeSet};

use crate::domain::{CivilDate, Event, EventBody};
use crate::ledger::chain::{Hash, IndexDigest};
use crate::ledger::encoding::{self, EncodingError};
use crate::ledger::store::{Derived, DerivedWrite, Store, StoreError};
use crate::ledger::{Ledger, LedgerError, RecordView};
use crate::limits;
use evaluate::{ListingView, Status, counts, evaluate};
use facts::{
    EventFacts, ListingFact, ListingKey, SubjectFact, facts_of, programme_key, replacement_facts,
};
use serde::Serialize;
use serde::de::DeserializeOwned;

/// Version of the projection trees' layout; a different stored version means rebuild.
pub const PROJECTION_FORMAT_VERSION: u8 = 4;
/// Records applied per derived transaction when catching up.
const APPLY_CHUNK_RECORDS: u64 = 1_000;
const APPLIED_KEY: &[u8] = b"applied";

/// Why a projection could not be built or read.
#[derive(Debug, thiserror::Error)]
pub enum ProjectionError {
    /// The log could not be read.
    #[error(transparent)]
    Ledger(#[from] LedgerError),
    /// The derived trees could not be read or written.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A derived value does not decode: the projections are damaged (run `rebuild`).
    #[error("projection data is damaged ({0}); run `sanctions-ledger rebuild`")]
    Damaged(String),
    /// A derived file of ours (the head views file) could not be read or written.
    #[error("{action} {}: {source}", path.display())]
    File {
        /// The file or folder.
        path: std::path::PathBuf,
        /// What was being done ("writing", "renaming into place", ...).
        action: &'static str,
        /// What the system said.
        source: std::io::Error,
    },
}

impl From<EncodingError> for ProjectionError {
    fn from(error: EncodingError) -> ProjectionError {
        ProjectionError::Damaged(error.to_string())
    }
}

fn encode<T: Serialize>(value: &T) -> Result<Vec<u8>, ProjectionError> {
    Ok(encoding::encode(value)?)
}

fn decode<T: Serialize + DeserializeOwned>(
    bytes: &[u8],
    bytes_max: usize,
) -> Result<T, ProjectionError> {
    Ok(encoding::decode_canonical(bytes, bytes_max)?)
}

/// The entries one record derives, by tree and key.
type Entries = BTreeMap<(Derived, Vec<u8>), Vec<u8>>;

/// A listing's evaluated view, from its chunks joined.
fn decode_view(bytes: &[u8]) -> Result<ListingView, ProjectionError> {
    Ok(encoding::decode_derived(bytes)?)
}

/// How projections were brought up to date.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sync {
    /// Already at the head.
    Current,
    /// Records after the last applied one were applied.
    CaughtUp {
        /// How many.
        records: u64,
    },
    /// Rebuilt from the whole log (missing, stale or damaged before).
    Rebuilt {
        /// Records replayed.
        records: u64,
    },
}

// ---- Keys -------------------------------------------------------------------------------------
// Every key but the current view's ends in the sequence of the record that made the entry
// (8 bytes big-endian), and where one record can make several entries under one prefix, a
// 2-byte index after it. Identifiers hold no 0x00, so `prefix 0x00` scans never overlap.

/// Bytes after a listing or programme key in a fact entry's key: 0x00, sequence, index.
const FACT_SUFFIX_BYTES: usize = 1 + 8 + 2;
/// Bytes after a listing key in a current-view entry's key: 0x00, chunk number.
const CHUNK_SUFFIX_BYTES: usize = 1 + 2;

fn fact_key(prefix: &[u8], sequence: u64, index: usize) -> Vec<u8> {
    [
        prefix,
        b"\0",
        &sequence.to_be_bytes(),
        &(index as u16).to_be_bytes(),
    ]
    .concat()
}

fn sequence_key(prefix: &[u8], sequence: u64) -> Vec<u8> {
    [prefix, b"\0", &sequence.to_be_bytes()].concat()
}

fn chunk_key(listing: &[u8], chunk: usize) -> Vec<u8> {
    [listing, b"\0", &(chunk as u16).to_be_bytes()].concat()
}

/// The record sequence a projection entry's key names (for locating a stored entry that no
/// record derives). `None` for the binding, the current view, or a key too short.
fn key_sequence(tree: Derived, key: &[u8]) -> Option<u64> {
    let from_end = match tree {
        Derived::ListingFacts
        | Derived::ProgrammeFacts
        | Derived::SubjectFacts
        | Derived::Links
        | Derived::SubjectLists => 10,
        Derived::ProgrammeListings
        | Derived::Statements
        | Derived::Names
        | Derived::Identifiers
        | Derived::Snapshots
        | Derived::ObservedIn => 8,
        Derived::Corrections => return key.get(8..16)?.try_into().ok().map(u64::from_be_bytes),
        Derived::Meta | Derived::Current => return None,
    };
    let at = key.len().checked_sub(from_end)?;
    key.get(at..at + 8)?.try_into().ok().map(u64::from_be_bytes)
}

/// The entries one record derives: its facts (or, for a correction, its correction entry and
/// its replacement's facts), its links, names and statements. Pure, given the sequence of the
/// event a correction corrects.
fn record_entries(
    event: &Event,
    sequence: u64,
    corrected: Option<u64>,
) -> Result<Entries, ProjectionError> {
    let mut entries = BTreeMap::new();
    for (index, (relation, target)) in event.body().links().into_iter().enumerate() {
        entries.insert(
            (
                Derived::Links,
                fact_key(target.as_str().as_bytes(), sequence, index),
            ),
            relation.into_bytes(),
        );
    }
    let facts = match (event.body(), corrected) {
        (EventBody::Correction(correction), Some(target)) => {
            entries.insert(
                (
                    Derived::Corrections,
                    [target.to_be_bytes(), sequence.to_be_bytes()].concat(),
                ),
                vec![u8::from(correction.replacement.is_none())],
            );
            replacement_facts(event, sequence, target)
        }
        (EventBody::Correction(_), None) => {
            return Err(ProjectionError::Damaged(format!(
                "record {sequence} corrects an event that is not recorded"
            )));
        }
        _ => facts_of(event, sequence),
    };
    fact_entries(&facts, sequence, &mut entries)?;
    Ok(entries)
}

fn fact_entries(
    facts: &EventFacts,
    sequence: u64,
    entries: &mut Entries,
) -> Result<(), ProjectionError> {
    for (index, (key, fact)) in facts.listings.iter().enumerate() {
        entries.insert(
            (
                Derived::ListingFacts,
                fact_key(&key.to_key(), sequence, index),
            ),
            encode(fact)?,
        );
        let programme_subject = [
            key.programme_key(),
            b"\0".to_vec(),
            key.subject.clone().into_bytes(),
        ]
        .concat();
        entries.insert(
            (
                Derived::ProgrammeListings,
                sequence_key(&programme_subject, sequence),
            ),
            Vec::new(),
        );
    }
    for (index, ((authority, programme), fact)) in facts.programmes.iter().enumerate() {
        entries.insert(
            (
                Derived::ProgrammeFacts,
                fact_key(&programme_key(authority, programme), sequence, index),
            ),
            encode(fact)?,
        );
    }
    for (index, fact) in facts.subjects.iter().enumerate() {
        let subject = fact.subject.id.as_str().as_bytes();
        entries.insert(
            (Derived::SubjectFacts, fact_key(subject, sequence, index)),
            encode(fact)?,
        );
        for name in fact.subject.names.iter().chain(&fact.subject.aliases) {
            let name_subject =
                [names::index_form(name.as_str()).as_bytes(), b"\0", subject].concat();
            entries.insert(
                (Derived::Names, sequence_key(&name_subject, sequence)),
                Vec::new(),
            );
        }
    }
    for subject in &facts.statement_subjects {
        entries.insert(
            (
                Derived::Statements,
                sequence_key(subject.as_bytes(), sequence),
            ),
            Vec::new(),
        );
    }
    for (scheme, value, subject) in &facts.identifiers {
        let key = [
            scheme.as_bytes(),
            b"\0",
            value.as_bytes(),
            b"\0",
            subject.as_bytes(),
        ]
        .concat();
        entries.insert(
            (Derived::Identifiers, sequence_key(&key, sequence)),
            Vec::new(),
        );
    }
    if let Some(snapshot) = &facts.snapshot {
        let key = [
            snapshot.list.as_bytes(),
            b"\0",
            snapshot.published_on.to_string().as_bytes(),
        ]
        .concat();
        entries.insert(
            (Derived::Snapshots, sequence_key(&key, sequence)),
            encode(snapshot)?,
        );
    }
    if let Some(snapshot) = &facts.observed_in {
        entries.insert(
            (
                Derived::ObservedIn,
                sequence_key(snapshot.as_bytes(), sequence),
            ),
            Vec::new(),
        );
    }
    for (index, (subject, fact)) in facts.subject_lists.iter().enumerate() {
        let key = [subject.as_bytes(), b"\0", fact.observed.list.as_bytes()].concat();
        entries.insert(
            (Derived::SubjectLists, fact_key(&key, sequence, index)),
            encode(fact)?,
        );
    }
    Ok(())
}

/// The sequence of the event a recorded correction corrects.
fn corrected_target(ledger: &Ledger, event: &Event) -> Result<Option<u64>, ProjectionError> {
    match event.body() {
        EventBody::Correction(correction) => ledger
            .sequence_of(correction.corrects.as_str())?
            .ok_or_else(|| {
                ProjectionError::Damaged(format!(
                    "corrected event {} is not recorded",
                    correction.corrects
                ))
            })
            .map(Some),
        _ => Ok(None),
    }
}

fn entries_of(ledger: &Ledger, view: &RecordView) -> Result<Entries, ProjectionError> {
    let target = corrected_target(ledger, &view.event)?;
    record_entries(&view.event, view.record.sequence, target)
}

// ---- Reading ----------------------------------------------------------------------------------

/// Reads the projection trees as they stand.
pub(crate) struct Reader<'a> {
    store: &'a Store,
    /// Every corrected event, once a question that touches many events asked for it (one scan
    /// of the correction table instead of one per event).
    corrected: std::cell::OnceCell<BTreeSet<u64>>,
}

/// The reader queries use.
pub(crate) fn reader(ledger: &Ledger) -> Result<Reader<'_>, ProjectionError> {
    Ok(Reader {
        store: ledger.store()?,
        corrected: std::cell::OnceCell::new(),
    })
}

impl Reader<'_> {
    fn scan(
        &self,
        tree: Derived,
        prefix: &[u8],
    ) -> impl Iterator<Item = Result<(Vec<u8>, Vec<u8>), ProjectionError>> + '_ {
        self.store
            .derived_scan(tree, prefix)
            .map(|item| item.map_err(ProjectionError::from))
    }

    /// Loads the set of corrected events, for questions about many listings or subjects.
    pub(crate) fn preload_corrections(&self) -> Result<(), ProjectionError> {
        if self.corrected.get().is_none() {
            let mut corrected = BTreeSet::new();
            for item in self.scan(Derived::Corrections, b"") {
                let (key, _) = item?;
                corrected.insert(
                    key_u64(&key, 0)
                        .ok_or_else(|| ProjectionError::Damaged("correction key".into()))?,
                );
            }
            let _ = self.corrected.set(corrected);
        }
        Ok(())
    }

    fn is_corrected(&self, target: u64) -> Result<bool, ProjectionError> {
        match self.corrected.get() {
            Some(corrected) => Ok(corrected.contains(&target)),
            None => Ok(self
                .scan(Derived::Corrections, &target.to_be_bytes())
                .next()
                .transpose()?
                .is_some()),
        }
    }

    /// The facts stored under a listing or programme key, oldest record first.
    fn facts(&self, tree: Derived, key: &[u8]) -> Result<Vec<ListingFact>, ProjectionError> {
        let prefix = [key, b"\0"].concat();
        self.scan(tree, &prefix)
            .map(|item| decode(&item?.1, limits::DERIVED_VALUE_BYTES_MAX))
            .collect()
    }

    /// A listing's stored current view, from its chunks.
    fn current_view(&self, listing: &ListingKey) -> Result<Option<ListingView>, ProjectionError> {
        let prefix = [listing.to_key().as_slice(), b"\0"].concat();
        let mut bytes = Vec::new();
        let mut chunks = 0;
        for item in self.scan(Derived::Current, &prefix) {
            bytes.extend_from_slice(&item?.1);
            chunks += 1;
        }
        if chunks == 0 {
            return Ok(None);
        }
        decode_view(&bytes).map(Some)
    }
}

fn key_u64(key: &[u8], at: usize) -> Option<u64> {
    key.get(at..at + 8)?.try_into().ok().map(u64::from_be_bytes)
}

/// What corrections decided about event `target`, as known at `known_at`: the latest correction
/// of it that is itself in effect decides (a correction can be retracted by a later one).
fn status_of(reader: &Reader<'_>, target: u64, known_at: u64) -> Result<Status, ProjectionError> {
    if !reader.is_corrected(target)? {
        return Ok(Status::Original);
    }
    let corrections: Vec<(Vec<u8>, Vec<u8>)> = reader
        .scan(Derived::Corrections, &target.to_be_bytes())
        .collect::<Result<_, _>>()?;
    for (key, value) in corrections.iter().rev() {
        let correction =
            key_u64(key, 8).ok_or_else(|| ProjectionError::Damaged("correction key".into()))?;
        if correction > known_at {
            continue;
        }
        if matches!(
            status_of(reader, correction, known_at)?,
            Status::RetractedBy(_)
        ) {
            continue;
        }
        return Ok(if value.first() == Some(&1) {
            Status::RetractedBy(correction)
        } else {
            Status::SupersededBy(correction)
        });
    }
    Ok(Status::Original)
}

fn counting(
    reader: &Reader<'_>,
    facts: Vec<ListingFact>,
    known_at: u64,
) -> Result<Vec<ListingFact>, ProjectionError> {
    let mut statuses: BTreeMap<u64, Status> = BTreeMap::new();
    let mut kept = Vec::with_capacity(facts.len());
    for fact in facts {
        let status = match statuses.get(&fact.source) {
            Some(status) => *status,
            None => {
                let status = status_of(reader, fact.source, known_at)?;
                statuses.insert(fact.source, status);
                status
            }
        };
        if counts(&fact, known_at, status) {
            kept.push(fact);
        }
    }
    Ok(kept)
}

/// A listing's history as known at `known_at`, evaluated from its stored facts.
fn evaluate_listing(
    reader: &Reader<'_>,
    key: &ListingKey,
    known_at: u64,
) -> Result<ListingView, ProjectionError> {
    let own = reader.facts(Derived::ListingFacts, &key.to_key())?;
    let broad = reader.facts(Derived::ProgrammeFacts, &key.programme_key())?;
    Ok(evaluate(
        counting(reader, own, known_at)?,
        counting(reader, broad, known_at)?,
    ))
}

/// The writes that store `view` as a listing's current view, in chunks of at most
/// `DERIVED_VALUE_BYTES_MAX` bytes, removing chunks a longer earlier view left.
fn view_writes(
    reader: &Reader<'_>,
    key: &ListingKey,
    view: &ListingView,
) -> Result<Vec<DerivedWrite>, ProjectionError> {
    let listing = key.to_key();
    let bytes = encode(view)?;
    let mut writes: Vec<DerivedWrite> = bytes
        .chunks(limits::DERIVED_VALUE_BYTES_MAX)
        .enumerate()
        .map(|(chunk, part)| DerivedWrite {
            tree: Derived::Current,
            key: chunk_key(&listing, chunk),
            value: Some(part.to_vec()),
        })
        .collect();
    let kept = writes.len();
    let prefix = [listing.as_slice(), b"\0"].concat();
    for item in reader.scan(Derived::Current, &prefix).skip(kept) {
        writes.push(DerivedWrite {
            tree: Derived::Current,
            key: item?.0,
            value: None,
        });
    }
    Ok(writes)
}

/// The listings under a programme that any record has named.
fn listings_under(
    reader: &Reader<'_>,
    programme: &[u8],
) -> Result<BTreeSet<ListingKey>, ProjectionError> {
    let prefix = [programme, b"\0"].concat();
    let text =
        std::str::from_utf8(programme).map_err(|e| ProjectionError::Damaged(e.to_string()))?;
    let (authority, programme) = text
        .split_once('\0')
        .ok_or_else(|| ProjectionError::Damaged("programme key".into()))?;
    let mut keys = BTreeSet::new();
    for item in reader.scan(Derived::ProgrammeListings, &prefix) {
        let (key, _) = item?;
        let subject = key
            .get(prefix.len()..key.len().saturating_sub(9))
            .and_then(|bytes| std::str::from_utf8(bytes).ok())
            .ok_or_else(|| ProjectionError::Damaged("programme listing key".into()))?;
        keys.insert(ListingKey {
            authority: authority.into(),
            programme: programme.into(),
            subject: subject.into(),
        });
    }
    Ok(keys)
}

/// Every listing one record's facts (or a correction's target and replacements) can change.
fn touched_listings(
    ledger: &Ledger,
    reader: &Reader<'_>,
    view: &RecordView,
    affected: &mut BTreeSet<ListingKey>,
    broad: &mut BTreeSet<Vec<u8>>,
) -> Result<(), ProjectionError> {
    touched_by(ledger, reader, view, affected, broad, &mut BTreeSet::new())
}

/// The subjects whose listings or details the records after `from` up to `to` can change
/// (those of programme-wide facts included): what the head views file must make again.
pub(crate) fn touched_subjects(
    ledger: &Ledger,
    reader: &Reader<'_>,
    from: u64,
    to: u64,
) -> Result<BTreeSet<String>, ProjectionError> {
    let (mut affected, mut broad, mut subjects) =
        (BTreeSet::new(), BTreeSet::new(), BTreeSet::new());
    for view in ledger.records(from + 1, to) {
        touched_by(
            ledger,
            reader,
            &view?,
            &mut affected,
            &mut broad,
            &mut subjects,
        )?;
    }
    for programme in &broad {
        affected.extend(listings_under(reader, programme)?);
    }
    subjects.extend(affected.into_iter().map(|key| key.subject));
    Ok(subjects)
}

/// [`touched_listings`], and the subjects whose details the record gives or corrects.
fn touched_by(
    ledger: &Ledger,
    reader: &Reader<'_>,
    view: &RecordView,
    affected: &mut BTreeSet<ListingKey>,
    broad: &mut BTreeSet<Vec<u8>>,
    subjects: &mut BTreeSet<String>,
) -> Result<(), ProjectionError> {
    let sequence = view.record.sequence;
    let mut note = |facts: EventFacts| {
        subjects.extend(
            facts
                .subjects
                .iter()
                .map(|fact| fact.subject.id.to_string()),
        );
        affected.extend(facts.listings.into_iter().map(|(key, _)| key));
        broad.extend(
            facts
                .programmes
                .into_iter()
                .map(|((authority, programme), _)| programme_key(&authority, &programme)),
        );
    };
    match corrected_target(ledger, &view.event)? {
        Some(target) => {
            note(replacement_facts(&view.event, sequence, target));
            note(touched_by_correction_of(ledger, reader, target)?);
        }
        None => note(facts_of(&view.event, sequence)),
    }
    Ok(())
}

/// Everything a correction of event `target` can change: the facts of the event at the bottom
/// of the chain of corrections, and of every replacement any correction of it put in place.
fn touched_by_correction_of(
    ledger: &Ledger,
    reader: &Reader<'_>,
    target: u64,
) -> Result<EventFacts, ProjectionError> {
    let mut touched = EventFacts::default();
    let mut current = target;
    // Corrections only name earlier events, so the chain ends; the bound guards damaged data.
    for _ in 0..=limits::BATCH_EVENTS_MAX {
        let view = ledger
            .record(current)?
            .ok_or_else(|| ProjectionError::Damaged(format!("record {current} is missing")))?;
        let Some(next) = corrected_target(ledger, &view.event)? else {
            let original = facts_of(&view.event, current);
            touched.listings.extend(original.listings);
            touched.programmes.extend(original.programmes);
            touched.subjects.extend(original.subjects);
            for item in reader.scan(Derived::Corrections, &current.to_be_bytes()) {
                let (key, _) = item?;
                let by = key_u64(&key, 8)
                    .ok_or_else(|| ProjectionError::Damaged("correction key".into()))?;
                if let Some(correcting) = ledger.record(by)? {
                    let replaced = replacement_facts(&correcting.event, by, current);
                    touched.listings.extend(replaced.listings);
                    touched.programmes.extend(replaced.programmes);
                    touched.subjects.extend(replaced.subjects);
                }
            }
            return Ok(touched);
        };
        current = next;
    }
    Err(ProjectionError::Damaged(format!(
        "the chain of corrections from record {target} does not end"
    )))
}

fn binding_write(sequence: u64, hash: Hash) -> DerivedWrite {
    DerivedWrite {
        tree: Derived::Meta,
        key: APPLIED_KEY.to_vec(),
        value: Some(
            [
                &[PROJECTION_FORMAT_VERSION][..],
                &sequence.to_be_bytes(),
                &hash.0,
            ]
            .concat(),
        ),
    }
}

/// Applies records `from..=to`: their entries in one transaction, then the current views of
/// every listing they touch, evaluated from the stored facts, with the binding, in a second.
/// A crash between the two leaves the old binding: the next catch-up writes the same entries
/// again (they are a pure function of each record) and evaluates again.
fn apply_chunk(ledger: &Ledger, from: u64, to: u64) -> Result<(), ProjectionError> {
    let store = ledger.store()?;
    let mut writes = Vec::new();
    let mut last_hash = Hash([0; 32]);
    let mut views = Vec::new();
    for view in ledger.records(from, to) {
        let view = view?;
        last_hash = view.hash;
        for ((tree, key), value) in entries_of(ledger, &view)? {
            writes.push(DerivedWrite {
                tree,
                key,
                value: Some(value),
            });
        }
        views.push(view);
    }
    store.derived_apply(&writes)?;
    let reader = reader(ledger)?;
    let mut affected = BTreeSet::new();
    let mut broad = BTreeSet::new();
    for view in &views {
        touched_listings(ledger, &reader, view, &mut affected, &mut broad)?;
    }
    for programme in &broad {
        affected.extend(listings_under(&reader, programme)?);
    }
    let mut writes = Vec::new();
    for key in &affected {
        let view = evaluate_listing(&reader, key, to)?;
        writes.extend(view_writes(&reader, key, &view)?);
    }
    writes.push(binding_write(to, last_hash));
    store.derived_apply(&writes)?;
    Ok(())
}

/// The sequence and hash the projections reflect, if they are present and of this version.
pub fn applied(ledger: &Ledger) -> Result<Option<(u64, Hash)>, ProjectionError> {
    let Some(value) = ledger.store()?.derived_get(Derived::Meta, APPLIED_KEY)? else {
        return Ok(None);
    };
    if value.len() != 41 || value[0] != PROJECTION_FORMAT_VERSION {
        return Ok(None);
    }
    let sequence = key_u64(&value, 1).unwrap_or(0);
    let hash = Hash(value[9..41].try_into().unwrap_or([0; 32]));
    Ok(Some((sequence, hash)))
}

/// Every listing that has facts (optionally of one subject), in key order, one at a time. The
/// facts tree is read `LISTINGS_PER_SCAN` listings at a time, each scan ended before `visit`
/// runs: a sled iterator held open pins what sled may reclaim, so writing while one is open
/// (as `rebuild` does) would grow memory without bound.
fn each_listing(
    reader: &Reader<'_>,
    subject: Option<&str>,
    visit: &mut dyn FnMut(ListingKey) -> Result<(), ProjectionError>,
) -> Result<(), ProjectionError> {
    let prefix = listings_prefix(subject);
    let mut start = prefix.clone();
    loop {
        let mut batch: Vec<(Vec<u8>, ListingKey)> = Vec::new();
        for item in reader.store.derived_from(Derived::ListingFacts, &start) {
            let (key, _) = item?;
            if !key.starts_with(&prefix) {
                break;
            }
            let listing = key
                .get(..key.len().saturating_sub(FACT_SUFFIX_BYTES))
                .ok_or_else(|| ProjectionError::Damaged("listing fact key".into()))?;
            if batch.last().is_some_and(|(last, _)| last == listing) {
                continue;
            }
            if batch.len() == limits::LISTINGS_PER_SCAN {
                break;
            }
            let parsed = ListingKey::from_key(listing)
                .ok_or_else(|| ProjectionError::Damaged("listing fact key".into()))?;
            batch.push((listing.to_vec(), parsed));
        }
        let Some((last, _)) = batch.last() else {
            return Ok(());
        };
        // Past every fact of the last listing: its keys go on with 0x00.
        start = [last.as_slice(), b"\x01"].concat();
        let full = batch.len() == limits::LISTINGS_PER_SCAN;
        for (_, listing) in batch {
            visit(listing)?;
        }
        if !full {
            return Ok(());
        }
    }
}

/// Rebuilds every projection from the whole log, in bounded memory: one sequential read of the
/// records, their entries written in bulk as the replay goes, then every listing evaluated from
/// the stored facts, one at a time, and the binding to the head written last (an interrupted
/// rebuild leaves no binding, so the next open rebuilds again).
pub fn rebuild(ledger: &Ledger, progress: &mut dyn FnMut(u64)) -> Result<Sync, ProjectionError> {
    let store = ledger.store()?;
    store.derived_clear()?;
    let head = ledger.head();
    let mut pending: Vec<(Derived, Vec<u8>, Vec<u8>)> = Vec::new();
    for view in ledger.records(1, head.sequence) {
        let view = view?;
        for ((tree, key), value) in entries_of(ledger, &view)? {
            pending.push((tree, key, value));
        }
        if pending.len() >= limits::DERIVED_BULK_BATCH {
            store.derived_bulk(std::mem::take(&mut pending).into_iter())?;
        }
        if view.record.sequence % 4096 == 0 {
            progress(view.record.sequence);
        }
    }
    store.derived_bulk(std::mem::take(&mut pending).into_iter())?;
    let reader = reader(ledger)?;
    reader.preload_corrections()?;
    each_listing(&reader, None, &mut |key| {
        let view = evaluate_listing(&reader, &key, head.sequence)?;
        let listing = key.to_key();
        for (chunk, part) in encode(&view)?
            .chunks(limits::DERIVED_VALUE_BYTES_MAX)
            .enumerate()
        {
            pending.push((Derived::Current, chunk_key(&listing, chunk), part.to_vec()));
        }
        if pending.len() >= limits::DERIVED_BULK_BATCH {
            store.derived_bulk(std::mem::take(&mut pending).into_iter())?;
        }
        Ok(())
    })?;
    store.derived_bulk(pending.into_iter())?;
    store.derived_apply(&[binding_write(head.sequence, head.hash)])?;
    progress(head.sequence);
    Ok(Sync::Rebuilt {
        records: head.sequence,
    })
}

/// Brings the projections to the head: nothing if current, the missing records if behind,
/// a rebuild if they are missing, of another version, ahead of the log, or bound to a record
/// whose hash no longer matches (never trusted blindly).
pub fn sync(ledger: &Ledger) -> Result<Sync, ProjectionError> {
    let head = ledger.head();
    let bound = match applied(ledger)? {
        None => None,
        Some((0, hash)) => (hash == ledger.genesis_hash()).then_some(0),
        Some((sequence, hash)) if sequence <= head.sequence => match ledger.record(sequence) {
            Ok(Some(view)) if view.hash == hash => Some(sequence),
            _ => None,
        },
        Some(_) => None,
    };
    match bound {
        Some(sequence) if sequence == head.sequence => Ok(Sync::Current),
        Some(sequence) => {
            let mut start = sequence + 1;
            while start <= head.sequence {
                let end = (start + APPLY_CHUNK_RECORDS - 1).min(head.sequence);
                apply_chunk(ledger, start, end)?;
                start = end + 1;
            }
            Ok(Sync::CaughtUp {
                records: head.sequence - sequence,
            })
        }
        None => rebuild(ledger, &mut |_| {}),
    }
}

/// Catches the projections up when they are bound to a record of this log and behind it; does
/// nothing otherwise (never rebuilds): `verify` uses it so that lagging projections (a crash
/// after the log acknowledged) are not damage, while projections bound to nothing valid are
/// reported rather than silently replaced.
pub fn catch_up(ledger: &Ledger) -> Result<(), ProjectionError> {
    let head = ledger.head();
    match applied(ledger)? {
        Some((sequence, hash)) => {
            if sequence < head.sequence
                && matches!(ledger.record(sequence), Ok(Some(view)) if view.hash == hash)
            {
                sync(ledger)?;
            }
        }
        None => {
            // Never built (a ledger only appended to through the library): build them.
            let store = ledger.store()?;
            let mut empty = true;
            for tree in Derived::ALL {
                if store.derived_scan(tree, b"").next().transpose()?.is_some() {
                    empty = false;
                    break;
                }
            }
            if empty {
                sync(ledger)?;
            }
        }
    }
    Ok(())
}

/// The key prefix of every listing (none), or of one subject's listings: listing keys start
/// with the subject id and 0x00.
fn listings_prefix(subject: Option<&str>) -> Vec<u8> {
    subject
        .map(|subject| [subject.as_bytes(), b"\0"].concat())
        .unwrap_or_default()
}

/// Every listing key (optionally of one subject), in key order.
pub(crate) fn listing_keys(
    reader: &Reader<'_>,
    subject: Option<&str>,
) -> Result<Vec<ListingKey>, ProjectionError> {
    let mut keys = Vec::new();
    each_listing(reader, subject, &mut |key| {
        keys.push(key);
        Ok(())
    })?;
    Ok(keys)
}

/// Calls `visit` with every listing (optionally of one subject), in key order, and its view as
/// known at `known_at`: the stored current view at the head, else evaluated from the facts. One
/// listing at a time, so a question about every listing holds one view, not all of them.
pub(crate) fn each_view(
    reader: &Reader<'_>,
    subject: Option<&str>,
    known_at: u64,
    head: u64,
    visit: &mut dyn FnMut(ListingKey, ListingView) -> Result<(), ProjectionError>,
) -> Result<(), ProjectionError> {
    if known_at < head {
        return each_listing(reader, subject, &mut |key| {
            let view = evaluate_listing(reader, &key, known_at)?;
            visit(key, view)
        });
    }
    let mut current: Option<(Vec<u8>, Vec<u8>)> = None;
    let mut finish = |listing: Vec<u8>, bytes: Vec<u8>| -> Result<(), ProjectionError> {
        let key = ListingKey::from_key(&listing)
            .ok_or_else(|| ProjectionError::Damaged("current view key".into()))?;
        visit(key, decode_view(&bytes)?)
    };
    for item in reader.scan(Derived::Current, &listings_prefix(subject)) {
        let (key, value) = item?;
        let listing = key
            .get(..key.len().saturating_sub(CHUNK_SUFFIX_BYTES))
            .ok_or_else(|| ProjectionError::Damaged("current view key".into()))?
            .to_vec();
        match current.as_mut() {
            Some((at, bytes)) if *at == listing => bytes.extend_from_slice(&value),
            _ => {
                if let Some((at, bytes)) = current.take() {
                    finish(at, bytes)?;
                }
                current = Some((listing, value));
            }
        }
    }
    if let Some((at, bytes)) = current {
        finish(at, bytes)?;
    }
    Ok(())
}

/// A subject's details as of `date`, as known at `known_at`: the latest details effective on or
/// before the date, else the earliest known.
pub(crate) fn subject_on(
    reader: &Reader<'_>,
    subject: &str,
    date: CivilDate,
    known_at: u64,
) -> Result<Option<SubjectFact>, ProjectionError> {
    let mut counted = counted_subject_facts(reader, subject, known_at)?;
    counted.sort_by_key(|fact| (fact.effective_on, fact.source));
    Ok(head_views::detail_on(&counted, date, |fact| fact.effective_on).cloned())
}

/// A subject's details as known at `known_at`, each with the date it is effective from, in the
/// order [`head_views::detail_on`] picks from: what the head views file keeps per subject.
pub(crate) fn counted_details(
    reader: &Reader<'_>,
    subject: &str,
    known_at: u64,
) -> Result<Vec<head_views::DetailRow>, ProjectionError> {
    let mut counted = counted_subject_facts(reader, subject, known_at)?;
    counted.sort_by_key(|fact| (fact.effective_on, fact.source));
    Ok(counted
        .into_iter()
        .map(|fact| head_views::DetailRow {
            effective_on: fact.effective_on,
            source: fact.source,
            kind: fact.subject.kind.as_str().to_owned(),
            names: fact.subject.names.iter().map(ToString::to_string).collect(),
        })
        .collect())
}

/// Whether an event at `sequence` counts as known at `known_at` (not retracted, not superseded).
pub(crate) fn event_status(
    reader: &Reader<'_>,
    sequence: u64,
    known_at: u64,
) -> Result<Status, ProjectionError> {
    status_of(reader, sequence, known_at)
}

/// Sequences of statements about a subject.
pub(crate) fn statements_about(
    reader: &Reader<'_>,
    subject: &str,
) -> Result<Vec<u64>, ProjectionError> {
    let prefix = [subject.as_bytes(), b"\0"].concat();
    let mut sequences = Vec::new();
    for item in reader.scan(Derived::Statements, &prefix) {
        let (key, _) = item?;
        sequences.extend(key_u64(&key, prefix.len()));
    }
    Ok(sequences)
}

/// Events that name `event_id` (answer it, speak about it, correct it): (sequence, relation).
pub(crate) fn referrers(
    reader: &Reader<'_>,
    event_id: &str,
) -> Result<Vec<(u64, String)>, ProjectionError> {
    let prefix = [event_id.as_bytes(), b"\0"].concat();
    let mut found = Vec::new();
    for item in reader.scan(Derived::Links, &prefix) {
        let (key, value) = item?;
        if let (Some(sequence), Ok(relation)) =
            (key_u64(&key, prefix.len()), String::from_utf8(value))
        {
            found.push((sequence, relation));
        }
    }
    Ok(found)
}

/// Every link recorded with `relation` ("in_response_to": who answered whom), as (the naming
/// record's sequence, the event id it names), by named event then sequence; at most `max`
/// (and whether more were left out). One scan of the links index.
pub(crate) fn links_of_relation(
    reader: &Reader<'_>,
    relation: &str,
    max: usize,
) -> Result<(Vec<(u64, String)>, bool), ProjectionError> {
    let mut found = Vec::new();
    for item in reader.scan(Derived::Links, b"") {
        let (key, value) = item?;
        if value.as_slice() != relation.as_bytes() {
            continue;
        }
        // target \0 sequence (8 bytes) index (2 bytes): `fact_key`.
        let Some(split) = key.len().checked_sub(11) else {
            continue;
        };
        let (Some(target), Some(sequence)) = (key.get(..split), key_u64(&key, split + 1)) else {
            continue;
        };
        if found.len() == max {
            return Ok((found, true));
        }
        found.push((sequence, String::from_utf8_lossy(target).into_owned()));
    }
    Ok((found, false))
}

/// Subject ids with a name (or alias) any record gave them that matches `query` (see
/// [`names::rank`]), each with its best match; one scan of the name index.
pub(crate) fn find_subjects(
    reader: &Reader<'_>,
    query: &str,
) -> Result<BTreeMap<String, names::Match>, ProjectionError> {
    let wanted = names::words(query);
    let mut found: BTreeMap<String, names::Match> = BTreeMap::new();
    if wanted.is_empty() {
        return Ok(found);
    }
    for item in reader.scan(Derived::Names, b"") {
        let (key, _) = item?;
        let Some(name_subject) = key.get(..key.len().saturating_sub(9)) else {
            continue;
        };
        let text = String::from_utf8_lossy(name_subject);
        let Some((name, subject)) = text.rsplit_once('\0') else {
            continue;
        };
        let words: Vec<String> = name.split(' ').map(str::to_owned).collect();
        if let Some(rank) = names::rank(&wanted, &words) {
            found
                .entry(subject.to_owned())
                .and_modify(|best| *best = (*best).min(rank))
                .or_insert(rank);
        }
    }
    Ok(found)
}

/// Every name and alias the records counted as known at `known_at` gave a subject, each once,
/// in the order first given.
pub(crate) fn subject_names(
    reader: &Reader<'_>,
    subject: &str,
    known_at: u64,
) -> Result<Vec<String>, ProjectionError> {
    let mut names: Vec<String> = Vec::new();
    for fact in counted_subject_facts(reader, subject, known_at)? {
        for name in fact.subject.names.iter().chain(&fact.subject.aliases) {
            if !names.iter().any(|known| known == name.as_str()) {
                names.push(name.to_string());
            }
        }
    }
    Ok(names)
}

/// Every identifier (scheme, value) any record known at `known_at` gave `subject`, with the
/// first record that gave it, in log order.
pub(crate) fn subject_identifiers(
    reader: &Reader<'_>,
    subject: &str,
    known_at: u64,
) -> Result<Vec<(String, String, u64)>, ProjectionError> {
    let mut found: Vec<(String, String, u64)> = Vec::new();
    for fact in counted_subject_facts(reader, subject, known_at)? {
        for identifier in &fact.subject.identifiers {
            let (scheme, value) = (identifier.scheme.to_string(), identifier.value.to_string());
            if !found.iter().any(|(s, v, _)| *s == scheme && *v == value) {
                found.push((scheme, value, fact.source));
            }
        }
    }
    found.sort_by_key(|(_, _, source)| *source);
    Ok(found)
}

/// The details facts about `subject` that count as known at `known_at` (not from a retracted
/// or superseded record, nor recorded after it), in key order.
fn counted_subject_facts(
    reader: &Reader<'_>,
    subject: &str,
    known_at: u64,
) -> Result<Vec<SubjectFact>, ProjectionError> {
    let prefix = [subject.as_bytes(), b"\0"].concat();
    let mut counted = Vec::new();
    for item in reader.scan(Derived::SubjectFacts, &prefix) {
        let fact: SubjectFact = decode(&item?.1, limits::DERIVED_VALUE_BYTES_MAX)?;
        let listing_fact = ListingFact {
            source: fact.source,
            via: fact.via,
            effective_on: fact.effective_on,
            kind: facts::FactKind::Close,
            observed: None,
        };
        if counts(
            &listing_fact,
            known_at,
            status_of(reader, fact.source, known_at)?,
        ) {
            counted.push(fact);
        }
    }
    Ok(counted)
}

/// The sequences of every record known at `known_at` that says something about `subject`:
/// its listing facts and details (whatever corrections later decided about them), the
/// corrections that decided, and statements about it.
pub(crate) fn records_about(
    reader: &Reader<'_>,
    subject: &str,
    known_at: u64,
) -> Result<BTreeSet<u64>, ProjectionError> {
    let prefix = [subject.as_bytes(), b"\0"].concat();
    let mut sequences = BTreeSet::new();
    for item in reader.scan(Derived::ListingFacts, &prefix) {
        let fact: ListingFact = decode(&item?.1, limits::DERIVED_VALUE_BYTES_MAX)?;
        sequences.insert(fact.source);
        sequences.extend(fact.via);
    }
    for item in reader.scan(Derived::SubjectFacts, &prefix) {
        let fact: SubjectFact = decode(&item?.1, limits::DERIVED_VALUE_BYTES_MAX)?;
        sequences.insert(fact.source);
        sequences.extend(fact.via);
    }
    sequences.extend(statements_about(reader, subject)?);
    // Observations by imported lists (which add no listing fact of their own).
    for item in reader.scan(Derived::SubjectLists, &prefix) {
        let fact: facts::SubjectListFact = decode(&item?.1, limits::DERIVED_VALUE_BYTES_MAX)?;
        sequences.insert(fact.source);
    }
    sequences.retain(|sequence| *sequence <= known_at);
    let mut deciding = BTreeSet::new();
    for sequence in &sequences {
        match status_of(reader, *sequence, known_at)? {
            Status::RetractedBy(correction) | Status::SupersededBy(correction) => {
                deciding.insert(correction);
            }
            Status::Original => {}
        }
    }
    sequences.extend(deciding);
    Ok(sequences)
}

/// Subjects a record before `before` gave the list identifier `scheme` = `value`, in the
/// order first given (how an import finds a subject it already holds).
pub fn subjects_with_identifier(
    ledger: &Ledger,
    scheme: &str,
    value: &str,
    before: u64,
) -> Result<Vec<String>, ProjectionError> {
    let reader = reader(ledger)?;
    let prefix = [scheme.as_bytes(), b"\0", value.as_bytes(), b"\0"].concat();
    let mut found: Vec<(u64, String)> = Vec::new();
    for item in reader.scan(Derived::Identifiers, &prefix) {
        let (key, _) = item?;
        let Some(rest) = key.get(prefix.len()..key.len().saturating_sub(9)) else {
            continue;
        };
        let Some(sequence) = key_u64(&key, key.len().saturating_sub(8)) else {
            continue;
        };
        if sequence < before {
            found.push((sequence, String::from_utf8_lossy(rest).into_owned()));
        }
    }
    found.sort();
    let mut subjects: Vec<String> = Vec::new();
    for (_, subject) in found {
        if !subjects.contains(&subject) {
            subjects.push(subject);
        }
    }
    Ok(subjects)
}

/// Every snapshot recorded for `list` (all lists if `None`), by publication date then
/// sequence.
pub fn snapshots(
    ledger: &Ledger,
    list: Option<&str>,
) -> Result<Vec<facts::SnapshotFact>, ProjectionError> {
    let reader = reader(ledger)?;
    let prefix = list.map_or_else(Vec::new, |list| [list.as_bytes(), b"\0"].concat());
    let mut found = Vec::new();
    for item in reader.scan(Derived::Snapshots, &prefix) {
        found.push(decode::<facts::SnapshotFact>(
            &item?.1,
            limits::DERIVED_VALUE_BYTES_MAX,
        )?);
    }
    found.sort_by_key(|snapshot| (snapshot.published_on, snapshot.source));
    Ok(found)
}

/// How far the ledger's knowledge of one imported list reaches, as known at some record.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Coverage {
    /// The list (e.g. "us-ofac-sdn").
    pub list: String,
    /// The authority its listings are recorded under.
    pub authority: String,
    /// The publication date of its first snapshot recorded.
    pub first_observed: CivilDate,
    /// The publication date of its last snapshot recorded.
    pub last_observed: CivilDate,
    /// Snapshots recorded (late ones included).
    pub snapshots: u64,
    /// The record of its last snapshot.
    pub last_sequence: u64,
}

/// Each imported list's coverage as known at `known_at`, by list.
pub fn coverage(ledger: &Ledger, known_at: u64) -> Result<Vec<Coverage>, ProjectionError> {
    let mut by_list: BTreeMap<String, Coverage> = BTreeMap::new();
    for snapshot in snapshots(ledger, None)? {
        if snapshot.source > known_at {
            continue;
        }
        let entry = by_list
            .entry(snapshot.list.clone())
            .or_insert_with(|| Coverage {
                list: snapshot.list.clone(),
                authority: snapshot.authority.clone(),
                first_observed: snapshot.published_on,
                last_observed: snapshot.published_on,
                snapshots: 0,
                last_sequence: snapshot.source,
            });
        entry.snapshots += 1;
        // Snapshots come by publication date: the last one seen is the latest.
        entry.last_observed = snapshot.published_on;
        entry.last_sequence = snapshot.source;
    }
    Ok(by_list.into_values().collect())
}

/// The sequences of the events a snapshot implied (its `observed.snapshot` names it).
pub fn observed_in(ledger: &Ledger, snapshot: &str) -> Result<Vec<u64>, ProjectionError> {
    let reader = reader(ledger)?;
    let prefix = [snapshot.as_bytes(), b"\0"].concat();
    let mut found = Vec::new();
    for item in reader.scan(Derived::ObservedIn, &prefix) {
        found.extend(key_u64(&item?.0, prefix.len()));
    }
    Ok(found)
}

/// How lists observed `subject`: each event a snapshot implied about it, by sequence.
pub fn subject_lists(
    ledger: &Ledger,
    subject: &str,
) -> Result<Vec<facts::SubjectListFact>, ProjectionError> {
    let reader = reader(ledger)?;
    let prefix = [subject.as_bytes(), b"\0"].concat();
    let mut found = Vec::new();
    for item in reader.scan(Derived::SubjectLists, &prefix) {
        found.push(decode::<facts::SubjectListFact>(
            &item?.1,
            limits::DERIVED_VALUE_BYTES_MAX,
        )?);
    }
    found.sort_by_key(|fact| fact.source);
    Ok(found)
}

// ---- Verification -----------------------------------------------------------------------------

/// One way the stored projections differ from a replay of the log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mismatch {
    /// What: a listing (`authority/programme/subject`), or a tree and entry.
    pub listing: String,
    /// What differs.
    pub detail: String,
}

/// Most mismatches one verification lists.
const MISMATCHES_LISTED_MAX: usize = 100;

fn describe_key(tree: Derived, key: &[u8]) -> String {
    let text: String = String::from_utf8_lossy(key)
        .chars()
        .map(|c| if c == '\0' { '/' } else { c })
        .filter(|c| !c.is_control())
        .collect();
    match key_sequence(tree, key) {
        Some(sequence) => format!("{} entry \"{text}\" (from record {sequence})", tree.name()),
        None => format!("{} entry \"{text}\"", tree.name()),
    }
}

/// Checks the stored projections against the log, in bounded memory: (1) they are bound to the
/// head; (2) every entry derived from records, in every projection tree but the current view,
/// equals what a replay of the log derives (a keyed multiset digest over both: two sequential
/// passes, nothing held; on a difference, a second pass names the entries); (3) every listing's
/// stored current view equals its evaluation from those (now checked) facts, and no view is
/// stored for a listing without facts. Returns what differs; empty means they agree.
pub fn verify(ledger: &Ledger) -> Result<Vec<Mismatch>, ProjectionError> {
    let head = ledger.head();
    let mut mismatches = Vec::new();
    match applied(ledger)? {
        Some((sequence, hash)) if sequence == head.sequence && hash == head.hash => {}
        other => mismatches.push(Mismatch {
            listing: "proj_meta \"applied\"".into(),
            detail: match other {
                None => {
                    "the projections are bound to no record (missing or of another version)".into()
                }
                Some((sequence, _)) => format!(
                    "the projections reflect record {sequence}, the head is {}",
                    head.sequence
                ),
            },
        }),
    }
    let store = ledger.store()?;
    let fact_trees: Vec<Derived> = Derived::ALL
        .into_iter()
        .filter(|tree| !matches!(tree, Derived::Meta | Derived::Current))
        .collect();
    let replayed = IndexDigest::new_random();
    let mut replayed_by_tree: BTreeMap<Derived, IndexDigest> = BTreeMap::new();
    for view in ledger.records(1, head.sequence) {
        let view = view?;
        for ((tree, key), value) in entries_of(ledger, &view)? {
            replayed_by_tree
                .entry(tree)
                .or_insert_with(|| replayed.empty_like())
                .add_parts(&[&[tree as u8], &key, &value]);
        }
    }
    for tree in &fact_trees {
        let mut digest = replayed.empty_like();
        for item in store.derived_scan(*tree, b"") {
            let (key, value) = item?;
            digest.add_parts(&[&[*tree as u8], &key, &value]);
        }
        let expected = replayed_by_tree
            .remove(tree)
            .unwrap_or_else(|| replayed.empty_like());
        if !digest.same_entries(&expected) {
            locate_entries(ledger, *tree, &mut mismatches)?;
            if !mismatches
                .iter()
                .any(|m| m.listing.starts_with(tree.name()))
            {
                mismatches.push(Mismatch {
                    listing: tree.name().into(),
                    detail: format!(
                        "holds {} entries, a replay of the log derives {}",
                        digest.entries(),
                        expected.entries()
                    ),
                });
            }
        }
    }
    let reader = reader(ledger)?;
    reader.preload_corrections()?;
    each_listing(&reader, None, &mut |key| {
        if mismatches.len() >= MISMATCHES_LISTED_MAX {
            return Ok(());
        }
        let fresh = evaluate_listing(&reader, &key, head.sequence)?;
        match reader.current_view(&key) {
            Ok(Some(view)) if view == fresh => {}
            Ok(Some(_)) => mismatches.push(Mismatch {
                listing: key.to_string(),
                detail: "the stored current view differs from an evaluation of its facts".into(),
            }),
            Ok(None) => mismatches.push(Mismatch {
                listing: key.to_string(),
                detail: "missing from the stored current view".into(),
            }),
            Err(error) => mismatches.push(Mismatch {
                listing: key.to_string(),
                detail: format!("the stored current view cannot be read: {error}"),
            }),
        }
        Ok(())
    })?;
    let mut last: Option<Vec<u8>> = None;
    for item in store.derived_scan(Derived::Current, b"") {
        let (key, _) = item?;
        let listing = key[..key.len().saturating_sub(CHUNK_SUFFIX_BYTES)].to_vec();
        if last.as_ref() == Some(&listing) {
            continue;
        }
        let has_facts = reader
            .scan(Derived::ListingFacts, &[listing.as_slice(), b"\0"].concat())
            .next()
            .transpose()?
            .is_some();
        if !has_facts && mismatches.len() < MISMATCHES_LISTED_MAX {
            mismatches.push(Mismatch {
                listing: ListingKey::from_key(&listing)
                    .map_or_else(|| describe_key(Derived::Current, &key), |k| k.to_string()),
                detail: "stored but no event lists it".into(),
            });
        }
        last = Some(listing);
    }
    // The head views file is made from the projections: compared once they are found right.
    if mismatches.is_empty()
        && let head_views::Checked::Differs(detail) = head_views::check(ledger)?
    {
        mismatches.push(Mismatch {
            listing: format!("{}/{}", head_views::VIEWS_DIR, head_views::HEAD_VIEWS_FILE),
            detail,
        });
    }
    Ok(mismatches)
}

/// Names the entries of `tree` that differ from a replay: replayed entries missing or changed
/// in the store (a second replay, with point reads), then stored entries no record derives
/// (each re-derived from the record its key names).
fn locate_entries(
    ledger: &Ledger,
    tree: Derived,
    mismatches: &mut Vec<Mismatch>,
) -> Result<(), ProjectionError> {
    let store = ledger.store()?;
    for view in ledger.records(1, ledger.head().sequence) {
        let view = view?;
        for ((entry_tree, key), value) in entries_of(ledger, &view)? {
            if entry_tree != tree || mismatches.len() >= MISMATCHES_LISTED_MAX {
                continue;
            }
            match store.derived_get(tree, &key)? {
                Some(found) if found == value => {}
                Some(_) => mismatches.push(Mismatch {
                    listing: describe_key(tree, &key),
                    detail: "the stored value is not what its record derives".into(),
                }),
                None => mismatches.push(Mismatch {
                    listing: describe_key(tree, &key),
                    detail: "missing from the store".into(),
                }),
            }
        }
    }
    for item in store.derived_scan(tree, b"") {
        if mismatches.len() >= MISMATCHES_LISTED_MAX {
            break;
        }
        let (key, _) = item?;
        let derived = match key_sequence(tree, &key) {
            Some(sequence) => match ledger.record(sequence)? {
                Some(view) => entries_of(ledger, &view)?.contains_key(&(tree, key.clone())),
                None => false,
            },
            None => false,
        };
        if !derived {
            mismatches.push(Mismatch {
                listing: describe_key(tree, &key),
                detail: "stored, but no record derives it".into(),
            });
        }
    }
    Ok(())
}
