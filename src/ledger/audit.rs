//! The auditor's operations on a ledger: verification of the log and of the log-derived trees,
//! signed checkpoints (kept in the log's checkpoints file), tree heads and proofs.
//!
//! Owns what `verify` checks and in which order (the log first: it is the truth; then the
//! derived trees against it), what `checkpoint` re-reads before it signs, and proofs from the
//! stored tree. Must not: trust a derived entry over the log, or write to the log except to
//! keep a checkpoint.

use std::collections::{BTreeMap, BTreeSet};

use super::chain::{Hash, IndexDigest};
use super::checkpoint::{Checkpoint, SignedCheckpoint, SignerKey};
use super::merkle::{self, Blake3TreeHasher, Frontier, Rfc6962TreeHasher, TreeHasher, TreeVersion};
use super::store::StoreError;
use super::verify::{
    CheckedRef, Keep, Previous, checked_records, checked_records_with, verify_threads,
};
use super::{Clock, FailureKind, Ledger, LedgerError, TreeHead, Verified, VerifyFailure};
use crate::domain::Timestamp;

/// What `verify` checks beyond the log itself.
#[derive(Clone, Debug, Default)]
pub struct VerifyOptions {
    /// Check only the log (records, links, framing, head, kept checkpoints), not the derived
    /// trees; the verdict says so.
    pub log_only: bool,
    /// Note the tree at these sizes (the sizes of checkpoints to compare with).
    pub sizes: BTreeSet<u64>,
    /// Also compute the first (v1, BLAKE3) tree's roots at those sizes, to compare with a
    /// checkpoint issued in that format (set by itself when the ledger kept such checkpoints).
    pub v1_roots: bool,
}

/// A checkpoint kept in the log, parsed; a damaged one is damage to the ledger.
fn kept_checkpoint(number: u64, text: &[u8]) -> Result<(u64, SignedCheckpoint), LedgerError> {
    let signed = SignedCheckpoint::parse(text).map_err(|error| {
        LedgerError::Damaged(
            VerifyFailure::new(
                0,
                FailureKind::CheckpointMismatch,
                format!("kept checkpoint {number} is damaged: {error}"),
            )
            .at("log/checkpoints", 0),
        )
    })?;
    Ok((number, signed))
}

/// Checks, record by record, that the stored Merkle nodes and places are the ones the records
/// give, and notes the tree at the sizes asked for. One piece of code for `verify` (the whole
/// log) and `checkpoint` (the records since the last checkpoint).
struct TreeCheck<'a, M, P> {
    frontier: Frontier,
    /// The stored Merkle entries, if the derived trees are checked.
    stored: Option<M>,
    /// The stored places, if the derived trees are checked.
    places: Option<P>,
    sizes: &'a BTreeSet<u64>,
    trees: BTreeMap<u64, TreeHead>,
    mismatch: Option<VerifyFailure>,
    /// The nodes the last leaf completed (reused: no allocation per record).
    completed: Vec<merkle::Digest>,
    /// The first (v1, BLAKE3) tree, when a checkpoint in that format is to be checked.
    v1: Option<Frontier>,
}

impl<M, P> TreeCheck<'_, M, P>
where
    M: Iterator<Item = Result<(u64, Vec<u8>), StoreError>>,
    P: Iterator<Item = Result<(u64, u64), StoreError>>,
{
    /// Checks one record's nodes and place. A mismatch is kept, not returned: damage to the
    /// log itself, found further on, is reported first, and derived data only after the log.
    fn visit(&mut self, sequence: u64, offset: u64, hash: Hash, leaf: merkle::Digest) {
        self.frontier
            .push_into(&Rfc6962TreeHasher, leaf, &mut self.completed);
        if let Some(v1) = self.v1.as_mut() {
            v1.push(&Blake3TreeHasher, TreeVersion::V1Blake3.leaf(&hash, &[]));
        }
        let completed = &self.completed;
        let same = |nodes: &[u8]| {
            nodes.len() == 32 * completed.len()
                && nodes.chunks_exact(32).zip(completed).all(|(a, b)| a == b)
        };
        if self.mismatch.is_none()
            && let Some(stored) = self.stored.as_mut()
        {
            let rebuild = "`sanctions-ledger rebuild` recomputes it from the log";
            match stored.next() {
                Some(Ok((leaf, nodes))) if leaf == sequence - 1 && same(&nodes) => {}
                Some(Err(error)) => {
                    self.mismatch = Some(VerifyFailure::new(
                        sequence,
                        FailureKind::MerkleMismatch,
                        format!("the stored Merkle tree cannot be read: {error}"),
                    ));
                }
                None => {
                    self.mismatch = Some(VerifyFailure::new(
                        sequence,
                        FailureKind::MerkleMismatch,
                        format!(
                            "the stored Merkle tree ends before this record (it holds {} leaves); {rebuild}",
                            sequence - 1
                        ),
                    ));
                }
                _ => {
                    self.mismatch = Some(VerifyFailure::new(
                        sequence,
                        FailureKind::MerkleMismatch,
                        format!(
                            "the stored Merkle nodes for this record are missing or are not the hashes the records give; {rebuild}"
                        ),
                    ));
                }
            }
        }
        if self.mismatch.is_none()
            && let Some(places) = self.places.as_mut()
        {
            match places.next() {
                Some(Ok((at, stored))) if at == sequence && stored == offset => {}
                Some(Err(error)) => {
                    self.mismatch = Some(VerifyFailure::new(
                        sequence,
                        FailureKind::IndexMismatch,
                        format!("the stored record places cannot be read: {error}"),
                    ));
                }
                other => {
                    self.mismatch = Some(VerifyFailure::new(
                        sequence,
                        FailureKind::IndexMismatch,
                        format!(
                            "the derived store's place of this record is {}, its frame starts at byte {offset}; `sanctions-ledger rebuild` rebuilds it",
                            match other {
                                Some(Ok((_, stored))) => format!("byte {stored}"),
                                _ => "missing".to_owned(),
                            }
                        ),
                    ));
                }
            }
        }
        if self.sizes.contains(&sequence) {
            self.trees.insert(
                sequence,
                TreeHead {
                    size: sequence,
                    root: self.frontier.root(&Rfc6962TreeHasher),
                    head: hash,
                    v1_root: self.v1.as_ref().map(|v1| v1.root(&Blake3TreeHasher)),
                },
            );
        }
    }

    fn finish(&mut self) -> Result<(), VerifyFailure> {
        if let Some(mismatch) = self.mismatch.take() {
            return Err(mismatch);
        }
        let next = self.frontier.size() + 1;
        if self
            .stored
            .as_mut()
            .is_some_and(|stored| stored.next().is_some())
        {
            return Err(VerifyFailure::new(
                next,
                FailureKind::MerkleMismatch,
                "the stored Merkle tree holds more leaves than the log has records",
            ));
        }
        if self
            .places
            .as_mut()
            .is_some_and(|places| places.next().is_some())
        {
            return Err(VerifyFailure::new(
                next,
                FailureKind::IndexMismatch,
                "the derived store holds places of more records than the log has",
            ));
        }
        Ok(())
    }
}

fn unreadable(error: &LedgerError) -> VerifyFailure {
    match error {
        LedgerError::Damaged(failure) => failure.clone(),
        other => VerifyFailure::new(0, FailureKind::Unreadable, other.to_string()),
    }
}

impl Ledger {
    /// Verifies the whole log from the genesis (and, unless `log_only`, the log-derived trees
    /// against it), streaming; `progress` gets each sequence.
    pub fn verify(&self, progress: &mut dyn FnMut(u64)) -> Result<Verified, VerifyFailure> {
        self.verify_with(&VerifyOptions::default(), progress)
    }

    /// Verifies the log: every acknowledged frame read in order, hashed and decoded on every
    /// core, linked in order; the framing, segments and head; every kept checkpoint against the
    /// records. Unless `log_only` (and when the derived store is attached): also the stored
    /// Merkle nodes and places record by record, and the event-id index by a keyed multiset
    /// digest. Notes the tree at each of `sizes`.
    pub fn verify_with(
        &self,
        options: &VerifyOptions,
        progress: &mut dyn FnMut(u64),
    ) -> Result<Verified, VerifyFailure> {
        let kept = self.checkpoints().map_err(|error| unreadable(&error))?;
        let mut all_sizes = options.sizes.clone();
        all_sizes.extend(kept.iter().map(|(_, signed)| signed.checkpoint.size));
        let v1_roots = options.v1_roots
            || kept
                .iter()
                .any(|(_, signed)| signed.checkpoint.tree == TreeVersion::V1Blake3);
        // Pending derived data mirrors what appends computed in memory; it is checked with the
        // rest once written (the CLI writes it before verifying).
        let derived = if options.log_only || self.pending.len() > 0 {
            None
        } else {
            self.store.as_ref()
        };
        if let Some(store) = derived {
            let binding = store
                .log_binding()
                .map_err(|error| VerifyFailure::from(&error))?;
            let bound = binding.map_or(0, |binding| binding.sequence);
            if bound != self.head.sequence {
                return Err(VerifyFailure::new(
                    bound + 1,
                    FailureKind::IndexMismatch,
                    format!(
                        "the derived store reflects {bound} of the log's {} records (it is caught up when the ledger opens for writing)",
                        self.head.sequence
                    ),
                ));
            }
        }
        let mut index = IndexDigest::new_random();
        let mut tree = TreeCheck {
            frontier: Frontier::new(),
            stored: derived.map(|store| store.merkle_from(0)),
            places: derived.map(|store| store.places_from(1)),
            sizes: &all_sizes,
            trees: BTreeMap::new(),
            mismatch: None,
            completed: Vec::new(),
            v1: v1_roots.then(Frontier::new),
        };
        if all_sizes.contains(&0) {
            tree.trees.insert(
                0,
                TreeHead {
                    size: 0,
                    root: Rfc6962TreeHasher.empty_root(),
                    head: self.genesis_hash(),
                    v1_root: v1_roots.then(|| Blake3TreeHasher.empty_root()),
                },
            );
        }
        // Damage of the head file is known from opening: reported before the records are read.
        if let Some(damage) = self.log.head_damage() {
            let mut damage = damage.clone();
            damage.sequence = self.head.sequence;
            if self.log.recovered() > 0 {
                damage.detail.push_str(&format!(
                    "; {} record(s) after the marker's head form complete appends and are kept when the ledger opens for writing",
                    self.log.recovered()
                ));
            }
            return Err(damage);
        }
        let previous = Previous {
            hash: self.genesis_hash(),
            recorded_at: None,
        };
        let mut last = (0, self.genesis_hash());
        // The event id is all the index check needs of an event; a log-only check needs none.
        let keep_id = |checked: CheckedRef<'_>, _: &[u8]| checked.event.id().as_str().to_owned();
        let keep_nothing = |_: CheckedRef<'_>, _: &[u8]| String::new();
        let keep: &Keep<'_, String> = if derived.is_some() {
            &keep_id
        } else {
            &keep_nothing
        };
        for item in checked_records_with(&self.log, None, previous, None, verify_threads(), keep) {
            let (link, event_id) = item?;
            if derived.is_some() {
                index.add(event_id.as_bytes(), link.sequence);
            }
            tree.visit(link.sequence, link.place.offset, link.hash, link.leaf);
            last = (link.sequence, link.hash);
            progress(link.sequence);
        }
        if last.0 != self.head.sequence || last.1 != self.head.hash {
            return Err(VerifyFailure::new(
                last.0 + 1,
                FailureKind::HeadMismatch,
                format!(
                    "the records end at {} (hash {}), the durable head names {} (hash {})",
                    last.0, last.1, self.head.sequence, self.head.hash
                ),
            )
            .at("log/head", 0));
        }
        tree.finish()?;
        if let Some(store) = derived {
            self.check_index(store, &index)?;
        }
        for (number, signed) in &kept {
            let checkpoint = &signed.checkpoint;
            let agrees = checkpoint.log == self.genesis_hash()
                && tree
                    .trees
                    .get(&checkpoint.size)
                    .is_some_and(|head| head.gives(checkpoint));
            if !agrees {
                return Err(VerifyFailure::new(
                    checkpoint.size.min(last.0 + 1),
                    FailureKind::CheckpointMismatch,
                    format!(
                        "kept checkpoint {number} (size {}, root {}) is not a tree of this log's records",
                        checkpoint.size,
                        Hash(checkpoint.root)
                    ),
                )
                .at("log/checkpoints", 0));
            }
        }
        Ok(Verified {
            records: last.0,
            head_hash: last.1,
            genesis_hash: self.genesis_hash(),
            origin: self.genesis.origin.clone(),
            tree_root: tree.frontier.root(&Rfc6962TreeHasher),
            trees: tree.trees,
            checkpoints_checked: kept.len() as u64,
            derived_checked: derived.is_some(),
        })
    }

    /// Checks the event-id index against the digest of the records the walk saw: one
    /// sequential scan of the index. On a mismatch, reads the records again with point lookups
    /// to name the first record whose entry is wrong, or else reports entries no record has.
    fn check_index(
        &self,
        store: &super::store::Store,
        seen: &IndexDigest,
    ) -> Result<(), VerifyFailure> {
        let records = self.head.sequence;
        let mut indexed = seen.empty_like();
        for item in store.event_ids() {
            let (key, value) = item.map_err(|error| VerifyFailure::from(&error))?;
            match super::store::sequence_from_key(&value) {
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
        let previous = Previous {
            hash: self.genesis_hash(),
            recorded_at: None,
        };
        for checked in checked_records(&self.log, None, previous, None, verify_threads()) {
            let checked = checked?;
            let event_id = checked.event.id().as_str();
            let found = store
                .sequence_of(event_id)
                .map_err(|error| VerifyFailure::from(&error))?;
            if found != Some(checked.sequence) {
                return Err(VerifyFailure::new(
                    checked.sequence,
                    FailureKind::IndexMismatch,
                    format!(
                        "the event-id index does not map \"{event_id}\" to sequence {}",
                        checked.sequence
                    ),
                ));
            }
        }
        Err(VerifyFailure::new(
            records + 1,
            FailureKind::IndexMismatch,
            format!(
                "the event-id index has {} entries for {records} records; some name no record's event",
                indexed.entries()
            ),
        ))
    }

    /// Every checkpoint the ledger has issued, oldest first, numbered from 1, parsed
    /// (signatures not checked: the ledger does not hold the public key an auditor trusts).
    pub fn checkpoints(&self) -> Result<Vec<(u64, SignedCheckpoint)>, LedgerError> {
        self.log
            .checkpoints()?
            .into_iter()
            .enumerate()
            .map(|(index, text)| kept_checkpoint(index as u64 + 1, &text))
            .collect()
    }

    /// The newest checkpoint the ledger keeps, if any, with its number.
    pub fn last_checkpoint(&self) -> Result<Option<(u64, SignedCheckpoint)>, LedgerError> {
        let texts = self.log.checkpoints()?;
        let count = texts.len() as u64;
        texts
            .last()
            .map(|text| kept_checkpoint(count, text))
            .transpose()
    }

    /// Signs and keeps a checkpoint of the head. First re-reads from the log, and re-hashes,
    /// every record since the last checkpoint (all of them for the first), checking their chain,
    /// index entries and the stored Merkle nodes; and checks that the stored tree still gives
    /// the last checkpoint's root. So the root signed is the one the acknowledged records give,
    /// never a hash that was only in memory.
    pub fn checkpoint(
        &mut self,
        signer: &SignerKey,
        clock: &dyn Clock,
    ) -> Result<(u64, SignedCheckpoint), LedgerError> {
        let (number, signed) = self.prepare_checkpoint(signer, clock)?;
        self.log.add_checkpoint(signed.text().as_bytes())?;
        Ok((number, signed))
    }

    /// [`Ledger::checkpoint`] without keeping it: the checkpoint signed, and the number it will
    /// have once kept (with [`Ledger::keep_checkpoint`], after witnesses cosigned it).
    pub fn prepare_checkpoint(
        &mut self,
        signer: &SignerKey,
        clock: &dyn Clock,
    ) -> Result<(u64, SignedCheckpoint), LedgerError> {
        self.flush_derived()?;
        let damaged = |sequence: u64, detail: String| {
            LedgerError::Damaged(VerifyFailure::new(
                sequence,
                FailureKind::CheckpointMismatch,
                detail,
            ))
        };
        let store = self.store()?;
        let previous = self.last_checkpoint()?;
        // The last checkpoint, if it is of the first (v1, BLAKE3) tree: everything is re-read,
        // and its root checked against the v1 tree the records give on the way.
        let v1_last = previous
            .as_ref()
            .filter(|(_, signed)| signed.checkpoint.tree == TreeVersion::V1Blake3)
            .map(|(number, signed)| (*number, signed.checkpoint.clone()));
        let (frontier, after) = match &previous {
            None => (Frontier::new(), 0),
            Some(_) if v1_last.is_some() => (Frontier::new(), 0),
            Some((number, signed)) => {
                let last = &signed.checkpoint;
                if last.log != self.genesis_hash() || last.size > self.head.sequence {
                    return Err(damaged(
                        self.head.sequence + 1,
                        format!(
                            "kept checkpoint {number} (size {}) does not fit this log of {} records",
                            last.size, self.head.sequence
                        ),
                    ));
                }
                let frontier = Frontier::load(last.size, store)?;
                if frontier.root(&Rfc6962TreeHasher) != last.root {
                    return Err(damaged(
                        last.size,
                        format!(
                            "the stored Merkle tree no longer gives the root kept checkpoint {number} signed"
                        ),
                    ));
                }
                let (_, previous_record) = self.start_after_checked(last.size)?;
                if previous_record.hash != last.head {
                    return Err(damaged(
                        last.size,
                        format!(
                            "record {} is not the head kept checkpoint {number} signed",
                            last.size
                        ),
                    ));
                }
                (frontier, last.size)
            }
        };
        let v1_sizes: BTreeSet<u64> = v1_last.iter().map(|(_, last)| last.size).collect();
        let mut tree = TreeCheck {
            stored: Some(store.merkle_from(frontier.size())),
            places: Some(store.places_from(after + 1)),
            frontier,
            sizes: &v1_sizes,
            trees: BTreeMap::new(),
            mismatch: None,
            completed: Vec::new(),
            v1: v1_last.is_some().then(Frontier::new),
        };
        if v1_sizes.contains(&0) {
            tree.trees.insert(
                0,
                TreeHead {
                    size: 0,
                    root: Rfc6962TreeHasher.empty_root(),
                    head: self.genesis_hash(),
                    v1_root: Some(Blake3TreeHasher.empty_root()),
                },
            );
        }
        let (start, previous_record) = self.start_after_checked(after)?;
        let mut last = (after, previous_record.hash);
        for checked in checked_records(&self.log, start, previous_record, None, verify_threads()) {
            let checked = checked.map_err(LedgerError::Damaged)?;
            let event_id = checked.event.id().as_str();
            if store.sequence_of(event_id)? != Some(checked.sequence) {
                return Err(LedgerError::Damaged(VerifyFailure::new(
                    checked.sequence,
                    FailureKind::IndexMismatch,
                    format!(
                        "the event-id index does not map \"{event_id}\" to sequence {}",
                        checked.sequence
                    ),
                )));
            }
            tree.visit(
                checked.sequence,
                checked.place.offset,
                checked.hash,
                checked.leaf,
            );
            last = (checked.sequence, checked.hash);
        }
        if last != (self.head.sequence, self.head.hash) {
            return Err(damaged(
                last.0 + 1,
                "the records re-read do not end at the head".to_owned(),
            ));
        }
        tree.finish().map_err(LedgerError::Damaged)?;
        if let Some((number, last)) = &v1_last
            && !tree
                .trees
                .get(&last.size)
                .is_some_and(|head| head.gives(last))
        {
            return Err(damaged(
                last.size,
                format!(
                    "kept checkpoint {number} (size {}, of the v1 BLAKE3 tree) is not a tree of this log's records",
                    last.size
                ),
            ));
        }
        let time = Timestamp::from_unix_micros(
            clock.now().unix_micros().max(
                previous
                    .as_ref()
                    .map_or(i64::MIN, |(_, p)| p.checkpoint.time.unix_micros()),
            ),
        );
        let signed = signer.sign(Checkpoint {
            log: self.genesis_hash(),
            size: last.0,
            root: tree.frontier.root(&Rfc6962TreeHasher),
            head: last.1,
            tree: TreeVersion::CURRENT,
            time,
            name: self.genesis.origin.clone(),
        });
        let number = previous.map_or(0, |(number, _)| number) + 1;
        drop(tree);
        Ok((number, signed))
    }

    /// Keeps a checkpoint's text in the log's checkpoints file, durably (a restore keeps the
    /// bundle's checkpoint, a mirror its source's, `checkpoint --witness` one once cosigned).
    /// It must be a checkpoint of this log's records (of its tree, size and head).
    pub fn keep_checkpoint(&mut self, text: &[u8]) -> Result<(), LedgerError> {
        let signed = SignedCheckpoint::parse(text)
            .map_err(|error| LedgerError::NotExtending(format!("not a checkpoint: {error}")))?;
        if signed.checkpoint.tree == TreeVersion::CURRENT {
            self.check_extends(&signed.checkpoint)?;
        }
        Ok(self.log.add_checkpoint(text)?)
    }

    /// [`Ledger::start_after`] with the record it starts after checked on its own.
    fn start_after_checked(
        &self,
        sequence: u64,
    ) -> Result<(Option<(u64, super::log::Place)>, Previous), LedgerError> {
        if sequence > 0 {
            self.record(sequence)?;
        }
        self.start_after(sequence)
    }

    /// Checks that `checkpoint` is of this log and that its first `size` records, by the stored
    /// tree, give the checkpoint's root and head: that this ledger extends it (so proofs and
    /// bundles against it can be made).
    pub fn check_extends(&self, checkpoint: &Checkpoint) -> Result<(), LedgerError> {
        if checkpoint.tree != TreeVersion::CURRENT {
            return Err(LedgerError::NotExtending(format!(
                "the checkpoint (size {}) is of the first tree format (origin {}, BLAKE3); proofs and bundles are made against checkpoints of the RFC 6962 tree: `sanctions-ledger checkpoint` issues one, and `verify --checkpoint` still checks this one",
                checkpoint.size,
                checkpoint.origin()
            )));
        }
        if checkpoint.log != self.genesis_hash() {
            return Err(LedgerError::NotExtending(format!(
                "the checkpoint is for the log {}, not this one ({})",
                checkpoint.log,
                self.genesis_hash()
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
        let root = merkle::range_hash(&Rfc6962TreeHasher, &self.nodes()?, 0, size)?;
        let head = if size == 0 {
            self.genesis_hash()
        } else {
            let place = self.place_of(size)?;
            self.log
                .read_frame(size, place)
                .map_err(LedgerError::Damaged)?
                .stored_hash
        };
        Ok(TreeHead {
            size,
            root,
            head,
            v1_root: None,
        })
    }

    /// The Merkle tree's right edge after the first `size` records, from the stored nodes.
    pub fn frontier_at(&self, size: u64) -> Result<Frontier, LedgerError> {
        self.check_size(size)?;
        Ok(Frontier::load(size, &self.nodes()?)?)
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

    /// The inclusion proof of record `sequence` in the tree of the first `size` records.
    pub fn inclusion_proof(
        &self,
        sequence: u64,
        size: u64,
    ) -> Result<Vec<merkle::Digest>, LedgerError> {
        self.check_size(size)?;
        if sequence == 0 || sequence > size {
            return Err(LedgerError::BeyondHead {
                size: sequence,
                head: size,
            });
        }
        Ok(merkle::inclusion_path(
            &Rfc6962TreeHasher,
            &self.nodes()?,
            sequence - 1,
            size,
        )?)
    }

    /// The consistency proof from the tree of the first `size1` records to that of `size2`.
    pub fn consistency_proof(
        &self,
        size1: u64,
        size2: u64,
    ) -> Result<Vec<merkle::Digest>, LedgerError> {
        self.check_size(size2)?;
        Ok(merkle::consistency_path(
            &Rfc6962TreeHasher,
            &self.nodes()?,
            size1,
            size2,
        )?)
    }
}
