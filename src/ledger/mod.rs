//! The ledger: an append-only, hash-chained log of sanctions events on disk.
//!
//! Owns appending (idempotent, atomic, durable), reading records back (verified on read), the
//! head, and verification. Builds on the domain (events), the encoding (canonical bytes), the
//! chain (hashes) and the store (sled). Recorded time comes from an injected [`Clock`].
//! Must not: parse outside input (intake does), or present anything (cli does).

pub mod bundle;
pub mod chain;
pub mod checkpoint;
pub mod encoding;
pub mod merkle;
pub mod record;
pub mod store;
pub mod verify;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use crate::domain::{Event, Identifier, Name, Timestamp};
use crate::limits;
use chain::Hash;
use checkpoint::{Checkpoint, SignedCheckpoint, SignerKey};
use encoding::EncodingError;
use merkle::{Blake3TreeHasher, Digest, Frontier, TreeHasher};
use record::{Genesis, Record};
use store::{NewRecord, Store, StoreError, StoredHead};
pub use verify::{FailureKind, VerifyFailure};
use verify::{IndexCheck, WalkStart, check_head, check_index, check_value, walk};

/// Where recorded time comes from. Injected so tests control it.
pub trait Clock {
    /// The current instant.
    fn now(&self) -> Timestamp;
}

/// The system's clock.
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        let since_epoch = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        Timestamp::from_unix_micros(i64::try_from(since_epoch.as_micros()).unwrap_or(i64::MAX))
    }
}

/// A clock that always says the same instant (tests, replays).
pub struct FixedClock(pub Timestamp);

impl Clock for FixedClock {
    fn now(&self) -> Timestamp {
        self.0
    }
}

/// Why the ledger refused or failed.
#[derive(Debug, thiserror::Error)]
pub enum LedgerError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The ledger is damaged; it is refused for writing. `verify` says more.
    #[error(
        "the ledger is damaged ({0}); nothing was appended. Run `sanctions-ledger verify` for a report"
    )]
    Damaged(VerifyFailure),
    /// An event could not be encoded (e.g. past the size limit).
    #[error("event {index} (\"{event_id}\"): {source}")]
    Encoding {
        /// Position in the batch, from 0.
        index: usize,
        /// The event id.
        event_id: String,
        /// Why.
        source: EncodingError,
    },
    /// The operator name is not acceptable.
    #[error("operator name {reason}")]
    InvalidOperator {
        /// Why.
        reason: String,
    },
    /// The origin name is not acceptable.
    #[error("origin name {reason}")]
    InvalidOrigin {
        /// Why.
        reason: String,
    },
    /// The batch is empty.
    #[error("the batch holds no event")]
    EmptyBatch,
    /// The batch is larger than allowed.
    #[error("the batch holds {count} events; at most {max} are allowed per batch")]
    BatchTooLarge {
        /// Events offered.
        count: usize,
        /// The limit.
        max: usize,
    },
    /// The same event id twice in one batch.
    #[error(
        "event {index} reuses the id \"{event_id}\" of event {first_index} in the same batch; ids must be unique"
    )]
    DuplicateInBatch {
        /// The id.
        event_id: String,
        /// Its first position.
        first_index: usize,
        /// The repeated position.
        index: usize,
    },
    /// An event id already recorded with different content.
    #[error(
        "event {index}: the id \"{event_id}\" is already recorded at sequence {sequence} with different content \
         (stored event digest {stored_digest}, offered {offered_digest}); a recorded event is never changed: append a correction instead"
    )]
    Conflict {
        /// Position in the batch.
        index: usize,
        /// The id.
        event_id: String,
        /// Where it is recorded.
        sequence: u64,
        /// BLAKE3 of the stored event bytes.
        stored_digest: Hash,
        /// BLAKE3 of the offered event bytes.
        offered_digest: Hash,
    },
    /// An event names an event that is neither recorded nor earlier in the batch.
    #[error(
        "event {index} (\"{event_id}\") {pointer}: names \"{reference}\", which is not in the ledger or earlier in the batch"
    )]
    UnknownReference {
        /// Position in the batch.
        index: usize,
        /// The referring event.
        event_id: String,
        /// JSON pointer of the reference.
        pointer: String,
        /// The missing id.
        reference: String,
    },
    /// A superseding correction of a correction (only retracting one is allowed).
    #[error(
        "event {index} (\"{event_id}\") supersedes the correction \"{target}\"; a correction can only be retracted (omit the replacement)"
    )]
    SupersededCorrection {
        /// Position in the batch.
        index: usize,
        /// The correcting event.
        event_id: String,
        /// The correction it tries to supersede.
        target: String,
    },
    /// A checkpoint this ledger does not extend (another log, or other records).
    #[error("{0}")]
    NotExtending(String),
    /// A tree size or sequence past what the log (or the tree asked about) holds.
    #[error("{size} is past the end: the log (or tree) holds {head} records")]
    BeyondHead {
        /// The size or sequence asked for.
        size: u64,
        /// The last sequence there is.
        head: u64,
    },
    /// An explicit recorded time earlier than the head's.
    #[error(
        "recorded time {offered} µs is earlier than the head's {head} µs; recorded times never go back"
    )]
    RecordedTimeWentBack {
        /// The head's recorded time.
        head: i64,
        /// The time offered.
        offered: i64,
    },
}

/// The last record of the log.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Head {
    /// Its sequence (0 for an empty log).
    pub sequence: u64,
    /// Its hash (the genesis hash for an empty log).
    pub hash: Hash,
    /// Its recorded time (none for an empty log).
    pub recorded_at: Option<Timestamp>,
}

/// What happened to one event of a batch.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AppendOutcome {
    /// The event id.
    pub event_id: String,
    /// Where it is recorded.
    pub sequence: u64,
    /// False if it was already recorded with identical content (nothing appended for it).
    pub appended: bool,
}

/// The result of an acknowledged (durable) append.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AppendReport {
    /// One outcome per event, in batch order.
    pub outcomes: Vec<AppendOutcome>,
    /// The head after the append.
    pub head: Head,
}

/// A record read back and checked: its hash matched its bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecordView {
    /// The record's hash.
    pub hash: Hash,
    /// The record.
    pub record: Record,
    /// Its event.
    pub event: Event,
}

/// The verdict of a whole-log verification that passed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verified {
    /// Records checked.
    pub records: u64,
    /// The head hash they chain to.
    pub head_hash: Hash,
    /// The genesis hash they start from.
    pub genesis_hash: Hash,
    /// The ledger's origin name.
    pub origin: String,
    /// The Merkle tree hash of all the records, recomputed from their bytes.
    pub tree_root: Digest,
    /// The tree at each size asked for (and at each kept checkpoint's size), as recomputed.
    pub trees: BTreeMap<u64, TreeHead>,
    /// How many kept checkpoints were checked against the records.
    pub checkpoints_checked: u64,
}

/// How a verified ledger stands against a checkpoint an auditor kept.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Anchoring {
    /// No checkpoint was given: the ledger is only shown internally consistent.
    Unanchored,
    /// The ledger's first `size` records give the checkpoint's root and head.
    Extends {
        /// Records after the checkpoint's.
        since: u64,
    },
    /// The ledger holds fewer records than the checkpoint commits to.
    Truncated {
        /// How many are gone.
        missing: u64,
    },
    /// The checkpoint is of another log (another genesis): different, or replaced.
    OtherLog,
    /// The ledger's first `size` records give another root or head: rewritten or forked.
    Diverged {
        /// The root they give.
        root: Digest,
    },
}

impl Verified {
    /// How the verified records stand against `checkpoint` (whose size must have been among
    /// the sizes `verify_at` was asked about).
    pub fn against(&self, checkpoint: Option<&Checkpoint>) -> Anchoring {
        let Some(checkpoint) = checkpoint else {
            return Anchoring::Unanchored;
        };
        if checkpoint.log != self.genesis_hash {
            return Anchoring::OtherLog;
        }
        if checkpoint.size > self.records {
            return Anchoring::Truncated {
                missing: checkpoint.size - self.records,
            };
        }
        match self.trees.get(&checkpoint.size) {
            Some(tree) if tree.root == checkpoint.root && tree.head == checkpoint.head => {
                Anchoring::Extends {
                    since: self.records - checkpoint.size,
                }
            }
            tree => Anchoring::Diverged {
                root: tree.map_or([0; 32], |tree| tree.root),
            },
        }
    }
}

/// The tree of the first `size` records: its hash and the chain head it ends at.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TreeHead {
    /// The number of records.
    pub size: u64,
    /// The Merkle tree hash.
    pub root: Digest,
    /// The hash of record `size` (the genesis hash for 0).
    pub head: Hash,
}

/// The leaf hash of a record in the ledger's Merkle tree.
pub fn leaf_hash(record_hash: &Hash) -> Digest {
    Blake3TreeHasher.hash_leaf(&record_hash.0)
}

/// Checks, record by record, that the stored Merkle nodes are the ones the records' hashes
/// give, and notes the tree at the sizes asked for. One piece of code for `verify` (the whole
/// log) and `checkpoint` (the records since the last checkpoint).
struct TreeCheck<'a, I> {
    frontier: Frontier,
    stored: I,
    sizes: &'a BTreeSet<u64>,
    trees: BTreeMap<u64, TreeHead>,
    mismatch: Option<VerifyFailure>,
}

impl<I> TreeCheck<'_, I>
where
    I: Iterator<Item = Result<(u64, Vec<u8>), StoreError>>,
{
    /// Checks one record's nodes. A mismatch is kept, not returned: damage to the log itself,
    /// found further on, is reported first, and the tree is checked only after the log.
    fn visit(&mut self, sequence: u64, hash: Hash) -> Result<(), VerifyFailure> {
        let completed = self.frontier.push(&Blake3TreeHasher, leaf_hash(&hash));
        if self.mismatch.is_none() {
            match self.stored.next() {
                Some(Ok((leaf, nodes))) if leaf == sequence - 1 && nodes == completed.concat() => {}
                Some(Err(error)) => return Err(VerifyFailure::unreadable(sequence, &error)),
                None => {
                    self.mismatch = Some(VerifyFailure::new(
                        sequence,
                        FailureKind::MerkleMismatch,
                        format!(
                            "the Merkle tree ends before this record (it holds {} leaves): a ledger written before the tree existed, or a tree cut short; `sanctions-ledger rebuild` recomputes it from the log",
                            sequence - 1
                        ),
                    ));
                }
                _ => {
                    self.mismatch = Some(VerifyFailure::new(
                        sequence,
                        FailureKind::MerkleMismatch,
                        "the Merkle tree's stored nodes for this record are missing or are not the hashes the records give (run `sanctions-ledger rebuild` once the log itself verifies)",
                    ));
                }
            }
        }
        if self.sizes.contains(&sequence) {
            self.trees.insert(
                sequence,
                TreeHead {
                    size: sequence,
                    root: self.frontier.root(&Blake3TreeHasher),
                    head: hash,
                },
            );
        }
        Ok(())
    }

    fn finish(&mut self) -> Result<(), VerifyFailure> {
        if let Some(mismatch) = self.mismatch.take() {
            return Err(mismatch);
        }
        match self.stored.next() {
            None => Ok(()),
            Some(_) => Err(VerifyFailure::new(
                self.frontier.size() + 1,
                FailureKind::MerkleMismatch,
                "the Merkle tree holds more leaves than the log has records",
            )),
        }
    }
}

/// Options of one append.
#[derive(Clone, Debug)]
pub struct AppendOptions {
    /// Who appends (stored in every record).
    pub appended_by: String,
    /// An explicit recorded time (replaying an archive); else the clock's, never before the head's.
    pub recorded_at: Option<Timestamp>,
}

/// An open ledger folder.
pub struct Ledger {
    store: Store,
    genesis: Genesis,
    genesis_hash: Hash,
    head: Head,
    /// The Merkle tree's right edge at the head; loaded by `open` (and `init`), not by
    /// `open_unchecked`, which must not write.
    frontier: Option<Frontier>,
}

/// A checkpoint kept in the store, parsed; a damaged one is damage to the ledger.
fn kept_checkpoint(number: u64, text: &[u8]) -> Result<(u64, SignedCheckpoint), LedgerError> {
    let signed = SignedCheckpoint::parse(text).map_err(|error| {
        LedgerError::Damaged(VerifyFailure::new(
            0,
            FailureKind::CheckpointMismatch,
            format!("kept checkpoint {number} is damaged: {error}"),
        ))
    })?;
    Ok((number, signed))
}

fn check_short_name(text: &str, bytes_max: usize) -> Result<(), String> {
    let name = Name::new(text).map_err(|error| error.to_string())?;
    if name.as_str() != text {
        return Err("must be in Unicode normalization form C".to_owned());
    }
    if text.len() > bytes_max {
        return Err(format!(
            "is {} bytes long; at most {bytes_max} are allowed",
            text.len()
        ));
    }
    Ok(())
}

impl Ledger {
    /// Creates a ledger in an absent or empty folder. Its genesis fixes its identity.
    pub fn init(path: &Path, origin: &str, clock: &dyn Clock) -> Result<Ledger, LedgerError> {
        check_short_name(origin, limits::ORIGIN_BYTES_MAX)
            .map_err(|reason| LedgerError::InvalidOrigin { reason })?;
        let genesis = Genesis {
            format_version: record::GENESIS_FORMAT_VERSION,
            origin: origin.to_owned(),
            created_at: clock.now(),
        };
        let genesis_bytes = genesis
            .to_bytes()
            .map_err(|error| LedgerError::InvalidOrigin {
                reason: error.to_string(),
            })?;
        let genesis_hash = chain::genesis_hash(&genesis_bytes);
        let store = Store::create(path, &genesis_bytes, genesis_hash.0)?;
        Ok(Ledger {
            store,
            genesis,
            genesis_hash,
            head: Head {
                sequence: 0,
                hash: genesis_hash,
                recorded_at: None,
            },
            frontier: Some(Frontier::new()),
        })
    }

    /// Opens a ledger for writing: checks that its last records and its head agree, and
    /// refuses a damaged one.
    pub fn open(path: &Path) -> Result<Ledger, LedgerError> {
        let mut ledger = Ledger::open_unchecked(path)?;
        ledger.head = ledger.check_tail().map_err(LedgerError::Damaged)?;
        ledger.load_tree()?;
        Ok(ledger)
    }

    /// Loads the Merkle tree's right edge at the head, first catching the stored tree up with
    /// the log if it is behind (a ledger written before the tree existed, or after `rebuild`
    /// cleared it). A tree ahead of the log is damage.
    fn load_tree(&mut self) -> Result<(), LedgerError> {
        let head = self.head.sequence;
        let leaves = self.store.merkle_leaves()?;
        let damaged = |detail: String| {
            LedgerError::Damaged(VerifyFailure::new(
                leaves.min(head) + 1,
                FailureKind::MerkleMismatch,
                detail,
            ))
        };
        if leaves > head {
            return Err(damaged(format!(
                "the Merkle tree holds {leaves} leaves but the log {head} records"
            )));
        }
        let mut frontier = Frontier::load(leaves, &self.store)
            .map_err(|error| damaged(format!("loading the tree's right edge: {error}")))?;
        let mut pending: Vec<(u64, Vec<u8>)> = Vec::new();
        for item in self.store.records_from(leaves + 1) {
            let (key, value) = item?;
            let Some(sequence) = store::sequence_from_key(&key).filter(|s| *s <= head) else {
                break;
            };
            let stored = record::split_value(&value)
                .filter(|stored| chain::record_hash(stored.record_bytes) == stored.stored_hash)
                .ok_or_else(|| {
                    LedgerError::Damaged(VerifyFailure::new(
                        sequence,
                        FailureKind::HashMismatch,
                        "the record bytes do not hash to the stored hash",
                    ))
                })?;
            let nodes = frontier.push(&Blake3TreeHasher, leaf_hash(&stored.stored_hash));
            pending.push((sequence - 1, nodes.concat()));
            if pending.len() == limits::MERKLE_CATCH_UP_BATCH {
                self.store.merkle_extend(&pending)?;
                pending.clear();
            }
        }
        if !pending.is_empty() {
            self.store.merkle_extend(&pending)?;
        }
        if frontier.size() != head {
            return Err(damaged(format!(
                "the tree reached {} leaves; the log has {head} records",
                frontier.size()
            )));
        }
        self.frontier = Some(frontier);
        Ok(())
    }

    /// Clears the stored Merkle tree and recomputes it from the log.
    pub fn rebuild_tree(&mut self) -> Result<(), LedgerError> {
        self.store.merkle_clear()?;
        self.frontier = None;
        self.load_tree()
    }

    /// Opens a ledger without checking its tail: for verification and reading a damaged one.
    pub fn open_unchecked(path: &Path) -> Result<Ledger, LedgerError> {
        let store = Store::open(path)?;
        let genesis_bytes = store.genesis_bytes()?;
        let genesis = Genesis::from_bytes(&genesis_bytes).map_err(|error| {
            LedgerError::Store(StoreError::DamagedMeta {
                key: "genesis",
                reason: error.to_string(),
            })
        })?;
        let genesis_hash = chain::genesis_hash(&genesis_bytes);
        let stored = store.head()?;
        let head = Head {
            sequence: stored.sequence,
            hash: Hash(stored.hash),
            recorded_at: None,
        };
        Ok(Ledger {
            store,
            genesis,
            genesis_hash,
            head,
            frontier: None,
        })
    }

    fn walk_start(&self, sequence: u64) -> Result<WalkStart, VerifyFailure> {
        if sequence <= 1 {
            return Ok(WalkStart {
                sequence: 1,
                previous_hash: self.genesis_hash,
                previous_recorded_at: None,
            });
        }
        let before = sequence - 1;
        let value = self
            .store
            .record_value(before)
            .map_err(|error| VerifyFailure::unreadable(before, &error))?
            .ok_or_else(|| {
                VerifyFailure::new(
                    before,
                    FailureKind::Gap,
                    format!("sequence {before} is missing"),
                )
            })?;
        let stored = record::split_value(&value).ok_or_else(|| {
            VerifyFailure::new(
                before,
                FailureKind::Undecodable,
                "stored value shorter than a hash",
            )
        })?;
        let previous = Record::from_bytes(stored.record_bytes).map_err(|error| {
            VerifyFailure::new(before, FailureKind::Undecodable, format!("record: {error}"))
        })?;
        Ok(WalkStart {
            sequence,
            previous_hash: stored.stored_hash,
            previous_recorded_at: Some(previous.recorded_at),
        })
    }

    /// Re-checks the last `TAIL_CHECK_RECORDS` records, their links and the head.
    fn check_tail(&self) -> Result<Head, VerifyFailure> {
        let stored = self
            .store
            .head()
            .map_err(|error| VerifyFailure::unreadable(0, &error))?;
        let from = stored
            .sequence
            .saturating_sub(limits::TAIL_CHECK_RECORDS - 1)
            .max(1);
        let end = walk(
            &self.store,
            self.walk_start(from)?,
            &mut IndexCheck::Lookup,
            &mut |_, _| Ok(()),
        )?;
        check_head(&self.store, &end)?;
        Ok(Head {
            sequence: end.last_sequence,
            hash: end.last_hash,
            recorded_at: end.last_recorded_at,
        })
    }

    /// Verifies the whole log from the genesis, streaming; `progress` gets each sequence.
    pub fn verify(&self, progress: &mut dyn FnMut(u64)) -> Result<Verified, VerifyFailure> {
        self.verify_at(&BTreeSet::new(), progress)
    }

    /// [`Ledger::verify`], also noting the tree at each of `sizes` (those the log reaches) and
    /// checking every kept checkpoint against the records.
    pub fn verify_at(
        &self,
        sizes: &BTreeSet<u64>,
        progress: &mut dyn FnMut(u64),
    ) -> Result<Verified, VerifyFailure> {
        let kept = self.checkpoints().map_err(|error| match error {
            LedgerError::Damaged(failure) => failure,
            other => VerifyFailure::new(0, FailureKind::CheckpointMismatch, other.to_string()),
        })?;
        let mut all_sizes = sizes.clone();
        all_sizes.extend(kept.iter().map(|(_, signed)| signed.checkpoint.size));
        let start = self.walk_start(1)?;
        let mut index = IndexCheck::Digest(chain::IndexDigest::new_random());
        let mut tree = TreeCheck {
            frontier: Frontier::new(),
            stored: self.store.merkle_from(0),
            sizes: &all_sizes,
            trees: BTreeMap::new(),
            mismatch: None,
        };
        if all_sizes.contains(&0) {
            tree.trees.insert(
                0,
                TreeHead {
                    size: 0,
                    root: Blake3TreeHasher.empty_root(),
                    head: self.genesis_hash,
                },
            );
        }
        let end = walk(&self.store, start, &mut index, &mut |sequence, hash| {
            tree.visit(sequence, hash)?;
            progress(sequence);
            Ok(())
        })?;
        check_head(&self.store, &end)?;
        if let IndexCheck::Digest(seen) = &index {
            check_index(&self.store, start, end.last_sequence, seen)?;
        }
        tree.finish()?;
        for (number, signed) in &kept {
            let checkpoint = &signed.checkpoint;
            let agrees = checkpoint.log == self.genesis_hash
                && tree.trees.get(&checkpoint.size).is_some_and(|head| {
                    head.root == checkpoint.root && head.head == checkpoint.head
                });
            if !agrees {
                return Err(VerifyFailure::new(
                    checkpoint.size.min(end.last_sequence + 1),
                    FailureKind::CheckpointMismatch,
                    format!(
                        "kept checkpoint {number} (size {}, root {}) is not a tree of this log's records",
                        checkpoint.size,
                        Hash(checkpoint.root)
                    ),
                ));
            }
        }
        Ok(Verified {
            records: end.last_sequence,
            head_hash: end.last_hash,
            genesis_hash: self.genesis_hash,
            origin: self.genesis.origin.clone(),
            tree_root: tree.frontier.root(&Blake3TreeHasher),
            trees: tree.trees,
            checkpoints_checked: kept.len() as u64,
        })
    }

    /// Every checkpoint the ledger has issued, oldest first, parsed (signatures not checked:
    /// the ledger does not hold the public key an auditor trusts).
    pub fn checkpoints(&self) -> Result<Vec<(u64, SignedCheckpoint)>, LedgerError> {
        self.store
            .checkpoints()
            .map(|item| {
                let (number, text) = item?;
                kept_checkpoint(number, &text)
            })
            .collect()
    }

    /// The newest checkpoint the ledger keeps, if any, with its number (one read).
    pub fn last_checkpoint(&self) -> Result<Option<(u64, SignedCheckpoint)>, LedgerError> {
        self.store
            .checkpoint_last()?
            .map(|(number, text)| kept_checkpoint(number, &text))
            .transpose()
    }

    /// Signs and keeps a checkpoint of the head. First re-reads from the store, and re-hashes,
    /// every record since the last checkpoint (all of them for the first), checking their chain
    /// and the stored Merkle nodes; and checks that the stored tree still gives the last
    /// checkpoint's root. So the root signed is the one the committed records give, never a
    /// hash that was only in memory.
    pub fn checkpoint(
        &mut self,
        signer: &SignerKey,
        clock: &dyn Clock,
    ) -> Result<(u64, SignedCheckpoint), LedgerError> {
        let damaged = |sequence: u64, detail: String| {
            LedgerError::Damaged(VerifyFailure::new(
                sequence,
                FailureKind::CheckpointMismatch,
                detail,
            ))
        };
        let previous = self.last_checkpoint()?;
        let (frontier, start) = match &previous {
            None => (Frontier::new(), self.walk_start(1)),
            Some((number, signed)) => {
                let last = &signed.checkpoint;
                if last.log != self.genesis_hash || last.size > self.head.sequence {
                    return Err(damaged(
                        self.head.sequence + 1,
                        format!(
                            "kept checkpoint {number} (size {}) does not fit this log of {} records",
                            last.size, self.head.sequence
                        ),
                    ));
                }
                let frontier = Frontier::load(last.size, &self.store)?;
                if frontier.root(&Blake3TreeHasher) != last.root {
                    return Err(damaged(
                        last.size,
                        format!(
                            "the stored Merkle tree no longer gives the root kept checkpoint {number} signed"
                        ),
                    ));
                }
                let start = self.walk_start(last.size + 1);
                if let Ok(start) = &start {
                    if start.previous_hash != last.head {
                        return Err(damaged(
                            last.size,
                            format!(
                                "record {} is not the head kept checkpoint {number} signed",
                                last.size
                            ),
                        ));
                    }
                }
                (frontier, start)
            }
        };
        let start = start.map_err(LedgerError::Damaged)?;
        let no_sizes = BTreeSet::new();
        let mut tree = TreeCheck {
            stored: self.store.merkle_from(frontier.size()),
            frontier,
            sizes: &no_sizes,
            trees: BTreeMap::new(),
            mismatch: None,
        };
        let end = walk(
            &self.store,
            start,
            &mut IndexCheck::Lookup,
            &mut |sequence, hash| tree.visit(sequence, hash),
        )
        .map_err(LedgerError::Damaged)?;
        check_head(&self.store, &end).map_err(LedgerError::Damaged)?;
        tree.finish().map_err(LedgerError::Damaged)?;
        let time = Timestamp::from_unix_micros(
            clock.now().unix_micros().max(
                previous
                    .as_ref()
                    .map_or(i64::MIN, |(_, p)| p.checkpoint.time.unix_micros()),
            ),
        );
        let signed = signer.sign(Checkpoint {
            log: self.genesis_hash,
            size: end.last_sequence,
            root: tree.frontier.root(&Blake3TreeHasher),
            head: end.last_hash,
            time,
            name: self.genesis.origin.clone(),
        });
        let number = self.store.checkpoint_add(signed.text().as_bytes())?;
        Ok((number, signed))
    }

    /// Checks that `checkpoint` is of this log and that its first `size` records, by the stored
    /// tree, give the checkpoint's root and head: that this ledger extends it (so proofs and
    /// bundles against it can be made).
    pub fn check_extends(&self, checkpoint: &Checkpoint) -> Result<(), LedgerError> {
        if checkpoint.log != self.genesis_hash {
            return Err(LedgerError::NotExtending(format!(
                "the checkpoint is for the log {}, not this one ({})",
                checkpoint.log, self.genesis_hash
            )));
        }
        let tree = self.tree_head(checkpoint.size)?;
        if tree.root != checkpoint.root || tree.head != checkpoint.head {
            return Err(LedgerError::NotExtending(format!(
                "this ledger's first {} records do not give the checkpoint's root: it does not extend that checkpoint (run `verify --checkpoint`)",
                checkpoint.size
            )));
        }
        Ok(())
    }

    /// The tree of the first `size` records, from the stored nodes.
    pub fn tree_head(&self, size: u64) -> Result<TreeHead, LedgerError> {
        self.check_size(size)?;
        let root = merkle::range_hash(&Blake3TreeHasher, &self.store, 0, size)?;
        let head = if size == 0 {
            self.genesis_hash
        } else {
            self.stored(size)?.1
        };
        Ok(TreeHead { size, root, head })
    }

    fn check_size(&self, size: u64) -> Result<(), LedgerError> {
        if size > self.head.sequence {
            return Err(LedgerError::BeyondHead {
                size,
                head: self.head.sequence,
            });
        }
        Ok(())
    }

    /// A stored record's bytes (as stored, not re-encoded) and its stored hash, unchecked.
    fn stored(&self, sequence: u64) -> Result<(Vec<u8>, Hash), LedgerError> {
        let value = self.store.record_value(sequence)?;
        value
            .as_deref()
            .and_then(record::split_value)
            .map(|stored| (stored.record_bytes.to_vec(), stored.stored_hash))
            .ok_or_else(|| {
                LedgerError::Damaged(VerifyFailure::new(
                    sequence,
                    FailureKind::Gap,
                    format!("record {sequence} is missing or too short"),
                ))
            })
    }

    /// The stored bytes of record `sequence` (not re-encoded), for proofs and bundles.
    pub fn record_bytes(&self, sequence: u64) -> Result<Vec<u8>, LedgerError> {
        Ok(self.stored(sequence)?.0)
    }

    /// The inclusion proof of record `sequence` in the tree of the first `size` records.
    pub fn inclusion_proof(&self, sequence: u64, size: u64) -> Result<Vec<Digest>, LedgerError> {
        self.check_size(size)?;
        if sequence == 0 || sequence > size {
            return Err(LedgerError::BeyondHead {
                size: sequence,
                head: size,
            });
        }
        Ok(merkle::inclusion_path(
            &Blake3TreeHasher,
            &self.store,
            sequence - 1,
            size,
        )?)
    }

    /// The consistency proof from the tree of the first `size1` records to that of `size2`.
    pub fn consistency_proof(&self, size1: u64, size2: u64) -> Result<Vec<Digest>, LedgerError> {
        self.check_size(size2)?;
        Ok(merkle::consistency_path(
            &Blake3TreeHasher,
            &self.store,
            size1,
            size2,
        )?)
    }

    pub(crate) fn store(&self) -> &Store {
        &self.store
    }

    /// The head.
    pub fn head(&self) -> Head {
        self.head
    }

    /// The genesis.
    pub fn genesis(&self) -> &Genesis {
        &self.genesis
    }

    /// The genesis hash (the previous hash of record 1).
    pub fn genesis_hash(&self) -> Hash {
        self.genesis_hash
    }

    /// Reads records `from..=to` in order with one sequential scan, each checked as `record`
    /// checks one (stored hash, canonical encoding, link to the one before, recorded time).
    /// For replaying the log: one read per record instead of two.
    pub fn records(
        &self,
        from: u64,
        to: u64,
    ) -> impl Iterator<Item = Result<RecordView, LedgerError>> + '_ {
        let (start, failed) = match self.walk_start(from) {
            Ok(start) => (Some(start), None),
            Err(failure) => (None, Some(Err(LedgerError::Damaged(failure)))),
        };
        let records = start.into_iter().flat_map(move |start| {
            verify::checked_records(&self.store, start, Some(to)).map(|checked| {
                checked
                    .map(|checked| RecordView {
                        hash: checked.hash,
                        record: checked.record,
                        event: checked.event,
                    })
                    .map_err(LedgerError::Damaged)
            })
        });
        failed.into_iter().chain(records)
    }

    /// Reads one record, checking its stored hash, encoding and link to its predecessor's
    /// stored hash. `Ok(None)` if there is no such record.
    pub fn record(&self, sequence: u64) -> Result<Option<RecordView>, LedgerError> {
        let Some(value) = self.store.record_value(sequence)? else {
            return Ok(None);
        };
        let start = self.walk_start(sequence).map_err(LedgerError::Damaged)?;
        let (hash, record) = check_value(
            sequence,
            &value,
            start.previous_hash,
            start.previous_recorded_at,
        )
        .map_err(LedgerError::Damaged)?;
        let event = verify::check_event(sequence, &record).map_err(LedgerError::Damaged)?;
        Ok(Some(RecordView {
            hash,
            record,
            event,
        }))
    }

    /// The sequence an event id is recorded at, if any.
    pub fn sequence_of(&self, event_id: &str) -> Result<Option<u64>, LedgerError> {
        let Some(value) = self.store.sequence_of(event_id)? else {
            return Ok(None);
        };
        store::sequence_from_key(&value).map(Some).ok_or_else(|| {
            LedgerError::Damaged(VerifyFailure::new(
                0,
                FailureKind::IndexMismatch,
                format!("index entry of \"{event_id}\" is damaged"),
            ))
        })
    }

    /// Appends a batch: all events or none, durable before this returns. Events already
    /// recorded with identical content are not appended again (their sequence is reported).
    pub fn append(
        &mut self,
        events: &[Event],
        options: &AppendOptions,
        clock: &dyn Clock,
    ) -> Result<AppendReport, LedgerError> {
        if events.is_empty() {
            return Err(LedgerError::EmptyBatch);
        }
        if events.len() > limits::BATCH_EVENTS_MAX {
            return Err(LedgerError::BatchTooLarge {
                count: events.len(),
                max: limits::BATCH_EVENTS_MAX,
            });
        }
        check_short_name(&options.appended_by, limits::OPERATOR_BYTES_MAX)
            .map_err(|reason| LedgerError::InvalidOperator { reason })?;
        let head_time = self
            .head
            .recorded_at
            .map(Timestamp::unix_micros)
            .unwrap_or(i64::MIN);
        let recorded_at = match options.recorded_at {
            Some(offered) if offered.unix_micros() < head_time => {
                return Err(LedgerError::RecordedTimeWentBack {
                    head: head_time,
                    offered: offered.unix_micros(),
                });
            }
            Some(offered) => offered,
            // A clock behind the head (skew, a replay before) is held at the head's time.
            None => Timestamp::from_unix_micros(clock.now().unix_micros().max(head_time)),
        };

        let unresolved = crate::domain::unresolved_references(events, &mut |reference| {
            self.sequence_of(reference.as_str())
                .map(|sequence| sequence.is_some())
        })?;
        if let Some(first) = unresolved.into_iter().next() {
            return Err(LedgerError::UnknownReference {
                index: first.index,
                event_id: events[first.index].id().to_string(),
                pointer: first.pointer,
                reference: first.reference.to_string(),
            });
        }
        // A correction may retract a correction, never supersede it: what would a replacement
        // of a correction mean? Refused, naming the event.
        for (index, event) in events.iter().enumerate() {
            if let crate::domain::EventBody::Correction(correction) = event.body() {
                if correction.replacement.is_none() {
                    continue;
                }
                let in_batch = events[..index]
                    .iter()
                    .find(|earlier| earlier.id() == &correction.corrects);
                let target_is_correction = match in_batch {
                    Some(earlier) => {
                        matches!(earlier.body(), crate::domain::EventBody::Correction(_))
                    }
                    None => match self.sequence_of(correction.corrects.as_str())? {
                        Some(sequence) => self.record(sequence)?.is_some_and(|view| {
                            matches!(view.event.body(), crate::domain::EventBody::Correction(_))
                        }),
                        None => false,
                    },
                };
                if target_is_correction {
                    return Err(LedgerError::SupersededCorrection {
                        index,
                        event_id: event.id().to_string(),
                        target: correction.corrects.to_string(),
                    });
                }
            }
        }
        let mut batch_ids: BTreeMap<&Identifier, usize> = BTreeMap::new();
        let mut outcomes = Vec::with_capacity(events.len());
        let mut fresh: Vec<(usize, Vec<u8>)> = Vec::new();
        for (index, event) in events.iter().enumerate() {
            let event_id = event.id();
            if let Some(&first_index) = batch_ids.get(event_id) {
                return Err(LedgerError::DuplicateInBatch {
                    event_id: event_id.to_string(),
                    first_index,
                    index,
                });
            }
            let event_bytes =
                record::encode_event(event).map_err(|source| LedgerError::Encoding {
                    index,
                    event_id: event_id.to_string(),
                    source,
                })?;
            if let Some(sequence) = self.sequence_of(event_id.as_str())? {
                let stored = self.record(sequence)?.ok_or_else(|| {
                    LedgerError::Damaged(VerifyFailure::new(
                        sequence,
                        FailureKind::IndexMismatch,
                        format!("\"{event_id}\" is indexed at a missing record"),
                    ))
                })?;
                if stored.record.event_bytes != event_bytes {
                    return Err(LedgerError::Conflict {
                        index,
                        event_id: event_id.to_string(),
                        sequence,
                        stored_digest: chain::event_digest(&stored.record.event_bytes),
                        offered_digest: chain::event_digest(&event_bytes),
                    });
                }
                outcomes.push(AppendOutcome {
                    event_id: event_id.to_string(),
                    sequence,
                    appended: false,
                });
            } else {
                outcomes.push(AppendOutcome {
                    event_id: event_id.to_string(),
                    sequence: 0,
                    appended: true,
                });
                fresh.push((index, event_bytes));
            }
            batch_ids.insert(event_id, index);
        }
        if fresh.is_empty() {
            return Ok(AppendReport {
                outcomes,
                head: self.head,
            });
        }

        if self.frontier.is_none() {
            self.load_tree()?;
        }
        let mut frontier = self.frontier.clone().unwrap_or_default();
        let mut values = Vec::with_capacity(fresh.len());
        let mut previous_hash = self.head.hash;
        let mut sequence = self.head.sequence;
        for (index, event_bytes) in fresh {
            sequence += 1;
            let record = Record {
                format_version: record::RECORD_FORMAT_VERSION,
                sequence,
                recorded_at,
                appended_by: options.appended_by.clone(),
                previous_hash: previous_hash.0,
                schema_version: crate::domain::EVENT_SCHEMA_VERSION,
                event_bytes,
            };
            let (value, hash) =
                record
                    .to_stored_value()
                    .map_err(|source| LedgerError::Encoding {
                        index,
                        event_id: events[index].id().to_string(),
                        source,
                    })?;
            outcomes[index].sequence = sequence;
            let nodes = frontier.push(&Blake3TreeHasher, leaf_hash(&hash)).concat();
            values.push((sequence, value, index, nodes));
            previous_hash = hash;
        }
        let new_records: Vec<NewRecord<'_>> = values
            .iter()
            .map(|(sequence, value, index, nodes)| NewRecord {
                sequence: *sequence,
                value,
                event_id: events[*index].id().as_str(),
                merkle_nodes: nodes,
            })
            .collect();
        let new_head = StoredHead {
            sequence,
            hash: previous_hash.0,
        };
        self.store
            .append(&new_records, self.head.sequence, new_head)?;
        self.head = Head {
            sequence,
            hash: previous_hash,
            recorded_at: Some(recorded_at),
        };
        self.frontier = Some(frontier);
        Ok(AppendReport {
            outcomes,
            head: self.head,
        })
    }
}
