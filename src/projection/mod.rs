//! Projections: the sanctions state derived from the log, kept in sled beside it.
//!
//! Owns the derived trees (facts per listing, programme renewals, subjects, corrections, links,
//! statements, names, and the current view evaluated at the head), keeping them bound to the
//! sequence and hash of the last record applied, catching them up after appends, rebuilding
//! them when missing, stale or damaged, and comparing them with a fresh replay. Must not: be
//! trusted over the log (the log is the source of truth), or write to the log.

pub mod evaluate;
pub mod facts;

use std::collections::{BTreeMap, BTreeSet};

use crate::domain::{CivilDate, EventBody};
use crate::ledger::chain::Hash;
use crate::ledger::encoding::{self, EncodingError};
use crate::ledger::store::{Derived, DerivedWrite, StoreError};
use crate::ledger::{Ledger, LedgerError};
use evaluate::{ListingView, Status, counts, evaluate};
use facts::{
    EventFacts, ListingFact, ListingKey, SubjectFact, facts_of, programme_key, replacement_facts,
};
use serde::Serialize;
use serde::de::DeserializeOwned;

/// Key-value entries of a derived tree, in key order.
type Entries = Vec<(Vec<u8>, Vec<u8>)>;

/// Version of the derived trees' layout; a different stored version means rebuild.
pub const PROJECTION_FORMAT_VERSION: u8 = 1;
/// Records applied per derived transaction when catching up or rebuilding.
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
}

impl From<EncodingError> for ProjectionError {
    fn from(error: EncodingError) -> ProjectionError {
        ProjectionError::Damaged(error.to_string())
    }
}

fn encode<T: Serialize>(value: &T) -> Result<Vec<u8>, ProjectionError> {
    Ok(encoding::encode(value)?)
}

fn decode<T: Serialize + DeserializeOwned>(bytes: &[u8]) -> Result<T, ProjectionError> {
    Ok(encoding::decode_canonical(bytes, usize::MAX)?)
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

/// Reads of derived trees through the writes of the chunk being applied. Fact lists stay
/// decoded while a chunk is applied (encoded once, by `finish`), and the set of corrected
/// events is held in memory, so most facts need no correction lookup at all.
struct Overlay<'a> {
    ledger: &'a Ledger,
    pending: BTreeMap<(u8, Vec<u8>), Option<Vec<u8>>>,
    listing_lists: BTreeMap<(u8, Vec<u8>), Vec<ListingFact>>,
    subject_lists: BTreeMap<Vec<u8>, Vec<SubjectFact>>,
    corrected: BTreeSet<u64>,
    /// Reads only the pending writes, never the stored trees (a replay from nothing).
    detached: bool,
    /// Facts held decoded in `listing_lists` and `subject_lists`.
    facts_held: usize,
}

impl<'a> Overlay<'a> {
    fn get(&self, tree: Derived, key: &[u8]) -> Result<Option<Vec<u8>>, ProjectionError> {
        if let Some(value) = self.pending.get(&(tree as u8, key.to_vec())) {
            return Ok(value.clone());
        }
        if self.detached {
            return Ok(None);
        }
        Ok(self.ledger.store().derived_get(tree, key)?)
    }

    fn scan(&self, tree: Derived, prefix: &[u8]) -> Result<Entries, ProjectionError> {
        let mut entries: BTreeMap<Vec<u8>, Option<Vec<u8>>> = BTreeMap::new();
        if !self.detached {
            for item in self.ledger.store().derived_scan(tree, prefix) {
                let (key, value) = item?;
                entries.insert(key, Some(value));
            }
        }
        for ((pending_tree, key), value) in self.pending.range((tree as u8, prefix.to_vec())..) {
            if *pending_tree != tree as u8 || !key.starts_with(prefix) {
                break;
            }
            entries.insert(key.clone(), value.clone());
        }
        Ok(entries
            .into_iter()
            .filter_map(|(key, value)| value.map(|value| (key, value)))
            .collect())
    }

    fn put(&mut self, tree: Derived, key: Vec<u8>, value: Vec<u8>) {
        self.pending.insert((tree as u8, key), Some(value));
    }

    /// An overlay over the stored trees, knowing which events are corrected.
    fn new(ledger: &'a Ledger, corrected: BTreeSet<u64>) -> Overlay<'a> {
        Overlay {
            ledger,
            pending: BTreeMap::new(),
            listing_lists: BTreeMap::new(),
            subject_lists: BTreeMap::new(),
            corrected,
            detached: false,
            facts_held: 0,
        }
    }

    /// An overlay that sees nothing stored: for building every derived tree from the log alone.
    fn detached(ledger: &'a Ledger) -> Overlay<'a> {
        Overlay {
            detached: true,
            ..Overlay::new(ledger, BTreeSet::new())
        }
    }

    /// Every corrected event's sequence, from the stored correction table.
    fn stored_corrections(ledger: &Ledger) -> Result<BTreeSet<u64>, ProjectionError> {
        let mut corrected = BTreeSet::new();
        for item in ledger.store().derived_scan(Derived::Corrections, b"") {
            let (key, _) = item?;
            let target = key
                .get(..8)
                .and_then(|bytes| bytes.try_into().ok())
                .map(u64::from_be_bytes);
            corrected
                .insert(target.ok_or_else(|| ProjectionError::Damaged("correction key".into()))?);
        }
        Ok(corrected)
    }

    fn push_listing_fact(
        &mut self,
        tree: Derived,
        key: Vec<u8>,
        fact: ListingFact,
    ) -> Result<(), ProjectionError> {
        let cache_key = (tree as u8, key);
        if !self.listing_lists.contains_key(&cache_key) {
            let stored: Vec<ListingFact> = match self.get(tree, &cache_key.1)? {
                Some(bytes) => decode(&bytes)?,
                None => Vec::new(),
            };
            self.listing_lists.insert(cache_key.clone(), stored);
        }
        self.listing_lists.entry(cache_key).or_default().push(fact);
        self.facts_held += 1;
        Ok(())
    }

    fn push_subject_fact(
        &mut self,
        key: Vec<u8>,
        fact: SubjectFact,
    ) -> Result<(), ProjectionError> {
        if !self.subject_lists.contains_key(&key) {
            let stored: Vec<SubjectFact> = match self.get(Derived::Subjects, &key)? {
                Some(bytes) => decode(&bytes)?,
                None => Vec::new(),
            };
            self.subject_lists.insert(key.clone(), stored);
        }
        self.subject_lists.entry(key).or_default().push(fact);
        self.facts_held += 1;
        Ok(())
    }

    fn add_correction(&mut self, target: u64, correction: u64, retraction: bool) {
        self.put(
            Derived::Corrections,
            [target.to_be_bytes(), correction.to_be_bytes()].concat(),
            vec![u8::from(retraction)],
        );
        self.corrected.insert(target);
    }

    /// Writes the pending entries to the store in bulk and forgets them (reads then find them
    /// there). Only for entries that are final: `rebuild` spills what replay `put`, never the
    /// fact lists, which are encoded by `finish` once complete.
    fn spill(&mut self) -> Result<(), ProjectionError> {
        let writes =
            std::mem::take(&mut self.pending)
                .into_iter()
                .filter_map(|((tree, key), value)| {
                    value.map(|value| (DERIVED_BY_INDEX[tree as usize], key, value))
                });
        self.ledger.store().derived_bulk(writes)?;
        Ok(())
    }

    /// `spill`, once enough entries are pending.
    fn spill_if_large(&mut self) -> Result<(), ProjectionError> {
        if self.pending.len() >= crate::limits::DERIVED_BULK_BATCH {
            self.spill()?;
        }
        Ok(())
    }

    /// Encodes the decoded fact lists into pending writes.
    fn finish(&mut self) -> Result<(), ProjectionError> {
        self.facts_held = 0;
        for ((tree, key), list) in std::mem::take(&mut self.listing_lists) {
            let bytes = encode(&list)?;
            self.pending.insert((tree, key), Some(bytes));
        }
        for (key, list) in std::mem::take(&mut self.subject_lists) {
            let bytes = encode(&list)?;
            self.pending
                .insert((Derived::Subjects as u8, key), Some(bytes));
        }
        Ok(())
    }
}

/// Reads the derived trees as they stand (no pending writes).
pub(crate) struct Reader<'a> {
    ledger: &'a Ledger,
    /// Every corrected event, once a question that touches many events asked for it (one scan
    /// of the correction table instead of one per event).
    corrected: std::cell::OnceCell<BTreeSet<u64>>,
}

impl Reader<'_> {
    /// Loads the set of corrected events, for questions about many listings or subjects.
    pub(crate) fn preload_corrections(&self) -> Result<(), ProjectionError> {
        if self.corrected.get().is_none() {
            let _ = self
                .corrected
                .set(Overlay::stored_corrections(self.ledger)?);
        }
        Ok(())
    }
}

/// Anything that can read derived trees.
trait Read {
    fn get(&self, tree: Derived, key: &[u8]) -> Result<Option<Vec<u8>>, ProjectionError>;
    fn scan(&self, tree: Derived, prefix: &[u8]) -> Result<Entries, ProjectionError>;

    /// The facts stored under a listing or programme key.
    fn listing_facts(
        &self,
        tree: Derived,
        key: &[u8],
    ) -> Result<Vec<ListingFact>, ProjectionError> {
        match self.get(tree, key)? {
            Some(bytes) => decode(&bytes),
            None => Ok(Vec::new()),
        }
    }

    /// Whether any correction names event `target` (a cheap answer to "is it original?").
    fn is_corrected(&self, target: u64) -> Result<bool, ProjectionError> {
        Ok(!self
            .scan(Derived::Corrections, &target.to_be_bytes())?
            .is_empty())
    }
}

impl Read for Overlay<'_> {
    fn get(&self, tree: Derived, key: &[u8]) -> Result<Option<Vec<u8>>, ProjectionError> {
        Overlay::get(self, tree, key)
    }
    fn listing_facts(
        &self,
        tree: Derived,
        key: &[u8],
    ) -> Result<Vec<ListingFact>, ProjectionError> {
        if let Some(list) = self.listing_lists.get(&(tree as u8, key.to_vec())) {
            return Ok(list.clone());
        }
        match Overlay::get(self, tree, key)? {
            Some(bytes) => decode(&bytes),
            None => Ok(Vec::new()),
        }
    }
    fn is_corrected(&self, target: u64) -> Result<bool, ProjectionError> {
        Ok(self.corrected.contains(&target))
    }
    fn scan(&self, tree: Derived, prefix: &[u8]) -> Result<Entries, ProjectionError> {
        Overlay::scan(self, tree, prefix)
    }
}

impl Read for Reader<'_> {
    fn get(&self, tree: Derived, key: &[u8]) -> Result<Option<Vec<u8>>, ProjectionError> {
        Ok(self.ledger.store().derived_get(tree, key)?)
    }
    fn is_corrected(&self, target: u64) -> Result<bool, ProjectionError> {
        match self.corrected.get() {
            Some(corrected) => Ok(corrected.contains(&target)),
            None => Ok(!self
                .scan(Derived::Corrections, &target.to_be_bytes())?
                .is_empty()),
        }
    }
    fn scan(&self, tree: Derived, prefix: &[u8]) -> Result<Entries, ProjectionError> {
        Ok(self
            .ledger
            .store()
            .derived_scan(tree, prefix)
            .collect::<Result<Vec<_>, _>>()?)
    }
}

/// What corrections decided about event `target`, as known at `known_at`: the latest correction
/// of it that is itself in effect decides (a correction can be retracted by a later one).
fn status_of(reader: &dyn Read, target: u64, known_at: u64) -> Result<Status, ProjectionError> {
    if !reader.is_corrected(target)? {
        return Ok(Status::Original);
    }
    let corrections = reader.scan(Derived::Corrections, &target.to_be_bytes())?;
    for (key, value) in corrections.iter().rev() {
        let correction = u64::from_be_bytes(
            key[8..16]
                .try_into()
                .map_err(|_| ProjectionError::Damaged("correction key".into()))?,
        );
        if correction > known_at {
            continue;
        }
        if status_of(reader, correction, known_at)? == Status::Retracted {
            continue;
        }
        return Ok(if value.first() == Some(&1) {
            Status::Retracted
        } else {
            Status::SupersededBy(correction)
        });
    }
    Ok(Status::Original)
}

fn counting(
    reader: &dyn Read,
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

/// A listing's history as known at `known_at`, evaluated from its facts.
fn evaluate_listing(
    reader: &dyn Read,
    key: &ListingKey,
    known_at: u64,
) -> Result<ListingView, ProjectionError> {
    let own = reader.listing_facts(Derived::Listings, &key.to_key())?;
    let broad = reader.listing_facts(Derived::Programmes, &key.programme_key())?;
    Ok(evaluate(
        counting(reader, own, known_at)?,
        counting(reader, broad, known_at)?,
    ))
}

/// Folds a name for search: decomposed, without combining marks, lowercase.
pub fn fold(name: &str) -> String {
    use unicode_normalization::UnicodeNormalization;
    use unicode_normalization::char::is_combining_mark;
    name.nfd()
        .filter(|c| !is_combining_mark(*c))
        .flat_map(char::to_lowercase)
        .collect()
}

fn listings_under(reader: &dyn Read, programme: &[u8]) -> Result<Vec<ListingKey>, ProjectionError> {
    let prefix = [programme, b"\0"].concat();
    let mut keys = Vec::new();
    for (key, _) in reader.scan(Derived::ProgrammeListings, &prefix)? {
        let subject = std::str::from_utf8(&key[prefix.len()..])
            .map_err(|e| ProjectionError::Damaged(e.to_string()))?;
        let text =
            std::str::from_utf8(programme).map_err(|e| ProjectionError::Damaged(e.to_string()))?;
        let (authority, programme) = text
            .split_once('\0')
            .ok_or_else(|| ProjectionError::Damaged("programme key".into()))?;
        keys.push(ListingKey {
            authority: authority.into(),
            programme: programme.into(),
            subject: subject.into(),
        });
    }
    Ok(keys)
}

fn store_facts(
    overlay: &mut Overlay<'_>,
    facts: EventFacts,
    sequence: u64,
    affected: &mut BTreeSet<ListingKey>,
    broad: &mut BTreeSet<Vec<u8>>,
) -> Result<(), ProjectionError> {
    for (key, fact) in facts.listings {
        overlay.put(
            Derived::ProgrammeListings,
            [
                key.programme_key(),
                b"\0".to_vec(),
                key.subject.clone().into_bytes(),
            ]
            .concat(),
            Vec::new(),
        );
        overlay.push_listing_fact(Derived::Listings, key.to_key(), fact)?;
        affected.insert(key);
    }
    for ((authority, programme), fact) in facts.programmes {
        let key = programme_key(&authority, &programme);
        overlay.push_listing_fact(Derived::Programmes, key.clone(), fact)?;
        broad.insert(key);
    }
    for fact in facts.subjects {
        let subject = fact.subject.id.to_string();
        for name in fact.subject.names.iter().chain(&fact.subject.aliases) {
            overlay.put(
                Derived::Names,
                [
                    fold(name.as_str()).into_bytes(),
                    b"\0".to_vec(),
                    subject.clone().into_bytes(),
                ]
                .concat(),
                Vec::new(),
            );
        }
        overlay.push_subject_fact(subject.into_bytes(), fact)?;
    }
    for subject in facts.statement_subjects {
        overlay.put(
            Derived::Statements,
            [
                subject.into_bytes(),
                b"\0".to_vec(),
                sequence.to_be_bytes().to_vec(),
            ]
            .concat(),
            Vec::new(),
        );
    }
    Ok(())
}

/// The sequence of the event a recorded correction corrects.
fn corrected_target(
    ledger: &Ledger,
    correction: &crate::domain::Correction,
) -> Result<u64, ProjectionError> {
    ledger
        .sequence_of(correction.corrects.as_str())?
        .ok_or_else(|| {
            ProjectionError::Damaged(format!(
                "corrected event {} is not recorded",
                correction.corrects
            ))
        })
}

/// Everything a correction of event `target` can change: the facts of the event at the bottom
/// of the chain of corrections, and of every replacement any correction of it put in place.
fn touched_by_correction_of(
    ledger: &Ledger,
    reader: &dyn Read,
    target: u64,
) -> Result<EventFacts, ProjectionError> {
    let mut touched = EventFacts::default();
    let mut current = target;
    // Corrections only name earlier events, so the chain ends; the bound guards damaged data.
    for _ in 0..=crate::limits::BATCH_EVENTS_MAX {
        let view = ledger
            .record(current)?
            .ok_or_else(|| ProjectionError::Damaged(format!("record {current} is missing")))?;
        let EventBody::Correction(correction) = view.event.body() else {
            let original = facts_of(&view.event, current);
            touched.listings.extend(original.listings);
            touched.programmes.extend(original.programmes);
            for (key, _) in reader.scan(Derived::Corrections, &current.to_be_bytes())? {
                let by = key
                    .get(8..16)
                    .and_then(|bytes| bytes.try_into().ok())
                    .map(u64::from_be_bytes);
                let by = by.ok_or_else(|| ProjectionError::Damaged("correction key".into()))?;
                if let Some(correcting) = ledger.record(by)? {
                    let replaced = replacement_facts(&correcting.event, by, current);
                    touched.listings.extend(replaced.listings);
                    touched.programmes.extend(replaced.programmes);
                }
            }
            return Ok(touched);
        };
        current = corrected_target(ledger, correction)?;
    }
    Err(ProjectionError::Damaged(format!(
        "the chain of corrections from record {target} does not end"
    )))
}

/// Applies records `from..=to` to the derived trees in one transaction.
fn apply_chunk(ledger: &Ledger, from: u64, to: u64) -> Result<(), ProjectionError> {
    let mut overlay = Overlay::new(ledger, Overlay::stored_corrections(ledger)?);
    let mut affected: BTreeSet<ListingKey> = BTreeSet::new();
    let mut broad: BTreeSet<Vec<u8>> = BTreeSet::new();
    let mut last_hash = Hash([0; 32]);
    for view in ledger.records(from, to) {
        let view = view?;
        let sequence = view.record.sequence;
        last_hash = view.hash;
        let event = &view.event;
        for (relation, target) in event.body().links() {
            overlay.put(
                Derived::Links,
                [target.as_str().as_bytes(), b"\0", &sequence.to_be_bytes()].concat(),
                relation.into_bytes(),
            );
        }
        if let EventBody::Correction(correction) = event.body() {
            let target = corrected_target(ledger, correction)?;
            overlay.add_correction(target, sequence, correction.replacement.is_none());
            // Every listing the corrected event touched must be evaluated again: its own facts
            // and every replacement put in its place, following a chain of corrections of
            // corrections down to the event it began with.
            let touched = touched_by_correction_of(ledger, &overlay, target)?;
            affected.extend(touched.listings.into_iter().map(|(key, _)| key));
            broad.extend(
                touched
                    .programmes
                    .into_iter()
                    .map(|((authority, programme), _)| programme_key(&authority, &programme)),
            );
            store_facts(
                &mut overlay,
                replacement_facts(event, sequence, target),
                sequence,
                &mut affected,
                &mut broad,
            )?;
        } else {
            store_facts(
                &mut overlay,
                facts_of(event, sequence),
                sequence,
                &mut affected,
                &mut broad,
            )?;
        }
    }
    for programme in &broad {
        affected.extend(listings_under(&overlay, programme)?);
    }
    for key in &affected {
        let view = evaluate_listing(&overlay, key, to)?;
        let bytes = encode(&view)?;
        overlay.put(Derived::Current, key.to_key(), bytes);
    }
    overlay.put(
        Derived::Meta,
        APPLIED_KEY.to_vec(),
        [
            &[PROJECTION_FORMAT_VERSION][..],
            &to.to_be_bytes(),
            &last_hash.0,
        ]
        .concat(),
    );
    overlay.finish()?;
    let writes: Vec<DerivedWrite> = overlay
        .pending
        .into_iter()
        .map(|((tree, key), value)| DerivedWrite {
            tree: DERIVED_BY_INDEX[tree as usize],
            key,
            value,
        })
        .collect();
    ledger.store().derived_apply(&writes)?;
    Ok(())
}

const DERIVED_BY_INDEX: [Derived; 10] = [
    Derived::Meta,
    Derived::Listings,
    Derived::Programmes,
    Derived::ProgrammeListings,
    Derived::Current,
    Derived::Subjects,
    Derived::Corrections,
    Derived::Links,
    Derived::Statements,
    Derived::Names,
];

fn apply_range(
    ledger: &Ledger,
    from: u64,
    to: u64,
    progress: &mut dyn FnMut(u64),
) -> Result<(), ProjectionError> {
    let mut start = from;
    while start <= to {
        let end = (start + APPLY_CHUNK_RECORDS - 1).min(to);
        apply_chunk(ledger, start, end)?;
        progress(end);
        start = end + 1;
    }
    Ok(())
}

/// The sequence and hash the projections reflect, if they are present and of this version.
pub fn applied(ledger: &Ledger) -> Result<Option<(u64, Hash)>, ProjectionError> {
    let Some(value) = ledger.store().derived_get(Derived::Meta, APPLIED_KEY)? else {
        return Ok(None);
    };
    if value.len() != 41 || value[0] != PROJECTION_FORMAT_VERSION {
        return Ok(None);
    }
    let sequence = u64::from_be_bytes(value[1..9].try_into().unwrap_or([0; 8]));
    let hash = Hash(value[9..41].try_into().unwrap_or([0; 32]));
    Ok(Some((sequence, hash)))
}

/// Rebuilds every projection from the whole log: one sequential read of the records, facts
/// built in memory, every listing evaluated once, the derived trees written in bulk (entries
/// that never change once made are written as the replay goes, so memory holds only the fact
/// lists, and those only up to `limits::REBUILD_FACTS_HELD_MAX` facts), and the binding to the
/// head written last (an interrupted rebuild leaves no binding, so the next open rebuilds
/// again).
pub fn rebuild(ledger: &Ledger, progress: &mut dyn FnMut(u64)) -> Result<Sync, ProjectionError> {
    rebuild_holding(ledger, crate::limits::REBUILD_FACTS_HELD_MAX, progress)
}

/// [`rebuild`], holding at most `facts_held_max` facts in memory: past that, the fact lists
/// built so far are written to the store, and the replay extends them from there (reading
/// each back when a later event adds to it). The result is the same, byte for byte.
pub fn rebuild_holding(
    ledger: &Ledger,
    facts_held_max: usize,
    progress: &mut dyn FnMut(u64),
) -> Result<Sync, ProjectionError> {
    ledger.store().derived_clear()?;
    let head = ledger.head();
    let mut overlay = Overlay::new(ledger, BTreeSet::new());
    let affected = replay_into(&mut overlay, Some(facts_held_max), progress)?;
    for key in affected {
        let view = evaluate_listing(&overlay, &key, head.sequence)?;
        overlay.put(Derived::Current, key.to_key(), encode(&view)?);
        overlay.spill_if_large()?;
    }
    overlay.finish()?;
    overlay.spill()?;
    ledger.store().derived_apply(&[DerivedWrite {
        tree: Derived::Meta,
        key: APPLIED_KEY.to_vec(),
        value: Some(
            [
                &[PROJECTION_FORMAT_VERSION][..],
                &head.sequence.to_be_bytes(),
                &head.hash.0,
            ]
            .concat(),
        ),
    }])?;
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
            apply_range(ledger, sequence + 1, head.sequence, &mut |_| {})?;
            Ok(Sync::CaughtUp {
                records: head.sequence - sequence,
            })
        }
        None => rebuild(ledger, &mut |_| {}),
    }
}

/// The reader queries use.
pub(crate) fn reader(ledger: &Ledger) -> Reader<'_> {
    Reader {
        ledger,
        corrected: std::cell::OnceCell::new(),
    }
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
    let prefix = listings_prefix(subject);
    reader
        .scan(Derived::Listings, &prefix)?
        .into_iter()
        .map(|(key, _)| {
            ListingKey::from_key(&key).ok_or_else(|| ProjectionError::Damaged("listing key".into()))
        })
        .collect()
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
    let prefix = listings_prefix(subject);
    let at_head = known_at >= head;
    let tree = if at_head {
        Derived::Current
    } else {
        Derived::Listings
    };
    for item in reader.ledger.store().derived_scan(tree, &prefix) {
        let (key, value) = item?;
        let listing = ListingKey::from_key(&key)
            .ok_or_else(|| ProjectionError::Damaged("listing key".into()))?;
        let view = if at_head {
            decode(&value)?
        } else {
            evaluate_listing(reader, &listing, known_at)?
        };
        visit(listing, view)?;
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
    let Some(bytes) = reader.get(Derived::Subjects, subject.as_bytes())? else {
        return Ok(None);
    };
    let facts: Vec<SubjectFact> = decode(&bytes)?;
    let mut counted = Vec::new();
    for fact in facts {
        let listing_fact = ListingFact {
            source: fact.source,
            via: fact.via,
            effective_on: fact.effective_on,
            kind: facts::FactKind::Close,
        };
        if counts(
            &listing_fact,
            known_at,
            status_of(reader, fact.source, known_at)?,
        ) {
            counted.push(fact);
        }
    }
    counted.sort_by_key(|fact| (fact.effective_on, fact.source));
    let on_or_before = counted
        .iter()
        .rev()
        .find(|fact| fact.effective_on <= date)
        .cloned();
    Ok(on_or_before.or_else(|| counted.first().cloned()))
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
    Ok(reader
        .scan(Derived::Statements, &prefix)?
        .into_iter()
        .filter_map(|(key, _)| {
            key.get(prefix.len()..)
                .and_then(|rest| rest.try_into().ok())
                .map(u64::from_be_bytes)
        })
        .collect())
}

/// Events that name `event_id` (answer it, speak about it, correct it): (sequence, relation).
pub(crate) fn referrers(
    reader: &Reader<'_>,
    event_id: &str,
) -> Result<Vec<(u64, String)>, ProjectionError> {
    let prefix = [event_id.as_bytes(), b"\0"].concat();
    Ok(reader
        .scan(Derived::Links, &prefix)?
        .into_iter()
        .filter_map(|(key, value)| {
            let sequence = u64::from_be_bytes(key.get(prefix.len()..)?.try_into().ok()?);
            Some((sequence, String::from_utf8(value).ok()?))
        })
        .collect())
}

/// Subject ids whose folded names contain the folded query.
pub(crate) fn find_subjects(
    reader: &Reader<'_>,
    query: &str,
) -> Result<Vec<String>, ProjectionError> {
    let needle = fold(query);
    let mut found = BTreeSet::new();
    for (key, _) in reader.scan(Derived::Names, b"")? {
        let text = String::from_utf8_lossy(&key);
        if let Some((name, subject)) = text.rsplit_once('\0') {
            if name.contains(&needle) {
                found.insert(subject.to_owned());
            }
        }
    }
    Ok(found.into_iter().collect())
}

/// One way the stored projections differ from a fresh replay.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mismatch {
    /// The listing.
    pub listing: String,
    /// What differs.
    pub detail: String,
}

/// Compares the stored current views with a fresh evaluation of every listing from a replay
/// of the whole log (the log is re-read; stored facts are not trusted).
pub fn verify(ledger: &Ledger) -> Result<Vec<Mismatch>, ProjectionError> {
    let head = ledger.head().sequence;
    let mut stored_map = BTreeMap::new();
    each_view(&reader(ledger), None, head, head, &mut |key, view| {
        stored_map.insert(key, view);
        Ok(())
    })?;
    let fresh = replay(ledger)?;
    let mut mismatches = Vec::new();
    for (key, view) in &fresh {
        match stored_map.get(key) {
            None => mismatches.push(Mismatch {
                listing: key.to_string(),
                detail: "missing from the stored projection".into(),
            }),
            Some(stored) if stored != view => mismatches.push(Mismatch {
                listing: key.to_string(),
                detail: "stored view differs from a fresh replay".into(),
            }),
            _ => {}
        }
    }
    for key in stored_map.keys() {
        if !fresh.contains_key(key) {
            mismatches.push(Mismatch {
                listing: key.to_string(),
                detail: "stored but no event lists it".into(),
            });
        }
    }
    Ok(mismatches)
}

/// Every listing's view at the head, computed in memory from the log alone (nothing is read
/// from or written to the derived trees).
fn replay(ledger: &Ledger) -> Result<BTreeMap<ListingKey, ListingView>, ProjectionError> {
    let head = ledger.head().sequence;
    let mut overlay = Overlay::detached(ledger);
    let affected = replay_into(&mut overlay, None, &mut |_| {})?;
    let mut views = BTreeMap::new();
    for key in affected {
        let view = evaluate_listing(&overlay, &key, head)?;
        views.insert(key, view);
    }
    Ok(views)
}

/// Replays the whole log into `overlay`: every derived entry but the current view; returns
/// every listing that has facts. With `spill` (the most facts to hold), entries that never
/// change once made are written to the store as the replay goes, and the fact lists whenever
/// more facts than that are held (`rebuild`); without, everything stays in memory (`verify
/// --projections`). One piece of code for both.
fn replay_into(
    overlay: &mut Overlay<'_>,
    spill: Option<usize>,
    progress: &mut dyn FnMut(u64),
) -> Result<BTreeSet<ListingKey>, ProjectionError> {
    let ledger = overlay.ledger;
    let head = ledger.head().sequence;
    let mut affected = BTreeSet::new();
    let mut broad = BTreeSet::new();
    for view in ledger.records(1, head) {
        let view = view?;
        let sequence = view.record.sequence;
        for (relation, target) in view.event.body().links() {
            overlay.put(
                Derived::Links,
                [target.as_str().as_bytes(), b"\0", &sequence.to_be_bytes()].concat(),
                relation.into_bytes(),
            );
        }
        match view.event.body() {
            EventBody::Correction(correction) => {
                let target = corrected_target(ledger, correction)?;
                overlay.add_correction(target, sequence, correction.replacement.is_none());
                store_facts(
                    overlay,
                    replacement_facts(&view.event, sequence, target),
                    sequence,
                    &mut affected,
                    &mut broad,
                )?;
            }
            _ => store_facts(
                overlay,
                facts_of(&view.event, sequence),
                sequence,
                &mut affected,
                &mut broad,
            )?,
        }
        if let Some(facts_held_max) = spill {
            if overlay.facts_held > facts_held_max {
                overlay.finish()?;
                overlay.spill()?;
            }
            overlay.spill_if_large()?;
        }
        if sequence % 4096 == 0 {
            progress(sequence);
        }
    }
    progress(head);
    Ok(affected)
}
