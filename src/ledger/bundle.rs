//! Export bundles: records with the checkpoint they are proven against and the proofs needed,
//! in one file an auditor checks with no sled and no ledger folder (format in ARCHITECTURE.md).
//!
//! Layout, all integers big-endian:
//! ```text
//! magic "SLBUNDLE" (8) | version u32 = 2
//! genesis length u32 | genesis bytes
//! checkpoint length u32 | checkpoint text (signed note)
//! first sequence u64 | record count u64          (first + count - 1 = checkpoint size)
//! prefix count u32 | prefix hashes (32 each)     (tree of the first - 1 records: its frontier)
//! previous length u32 | record first - 1's bytes  (length 0 and nothing when first = 1)
//! link count u32 | link hashes (32 each)         (inclusion of record first - 1, when first > 1)
//! count x (record length u32 | record bytes)
//! trailer: BLAKE3 derive-key("sanctions-ledger 2026-11-29 bundle v1") over every byte before it
//! ```
//! Reading streams the file in bounded memory and checks everything a full `verify` checks of
//! those records, then that they are the leaves of the checkpoint's tree.

use std::collections::HashSet;
use std::io::{Read, Write};

use super::chain::{self, BundleDigest, Hash};
use super::checkpoint::{SignedCheckpoint, VerifierKey};
use super::merkle::{self, Frontier, Rfc6962TreeHasher};
use super::record::{Genesis, Record};
use super::verify::{self, VerifyFailure};
use super::{Ledger, LedgerError, leaf_hash};
use crate::domain::{Event, Timestamp};
use crate::limits;

/// The first bytes of every bundle.
pub const MAGIC: &[u8; 8] = b"SLBUNDLE";
/// The bundle format version this code writes and reads. Version 1 (before the RFC 6962
/// tree) proved its link with the previous record's hash; version 2 carries that record's
/// bytes, since a leaf is now the hash of a record's bytes.
pub const VERSION: u32 = 2;

/// Why a bundle was refused.
#[derive(Debug, thiserror::Error)]
pub enum BundleError {
    /// The file could not be read or written.
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// The bytes are not a well-formed bundle.
    #[error("byte {offset}: {reason}")]
    Malformed {
        /// Where (offset from the start of the file).
        offset: u64,
        /// What is wrong and what is expected.
        reason: String,
    },
    /// The checkpoint is malformed or not signed by the key.
    #[error("the bundle's checkpoint: {0}")]
    Checkpoint(#[from] super::checkpoint::CheckpointError),
    /// A record is damaged or breaks a rule.
    #[error("record {0}")]
    Record(VerifyFailure),
    /// The records are not those the checkpoint signed.
    #[error("{0}")]
    NotProven(String),
    /// The ledger cannot export what was asked (another log's checkpoint, a range outside it).
    #[error("{0}")]
    CannotExport(String),
    /// Only a bundle from record 1 can be restored.
    #[error(
        "the bundle starts at record {0}; only a bundle from record 1 can be restored (export it with --from 1)"
    )]
    NotFull(u64),
    /// The ledger could not export or restore.
    #[error(transparent)]
    Ledger(#[from] LedgerError),
}

/// What a checked bundle holds.
#[derive(Clone, Debug)]
pub struct BundleSummary {
    /// The ledger's genesis.
    pub genesis: Genesis,
    /// Its bytes.
    pub genesis_bytes: Vec<u8>,
    /// The genesis hash (the log's identity).
    pub genesis_hash: Hash,
    /// The checkpoint the records are proven against.
    pub checkpoint: SignedCheckpoint,
    /// The first record's sequence.
    pub first: u64,
    /// How many records.
    pub count: u64,
    /// The bundle's size in bytes.
    pub bytes: u64,
}

/// One checked record of a bundle, as `read` hands it on.
pub struct BundleRecord<'a> {
    /// Its sequence.
    pub sequence: u64,
    /// Its hash.
    pub hash: Hash,
    /// The record.
    pub record: &'a Record,
    /// Its event.
    pub event: &'a Event,
    /// Its bytes, as in the bundle.
    pub bytes: &'a [u8],
}

/// A writer that digests what it writes.
struct DigestWriter<W> {
    inner: W,
    digest: BundleDigest,
}

impl<W: Write> DigestWriter<W> {
    fn put(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        self.digest.update(bytes);
        self.inner.write_all(bytes)
    }
    fn put_block(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        let length = u32::try_from(bytes.len()).map_err(std::io::Error::other)?;
        self.put(&length.to_be_bytes())?;
        self.put(bytes)
    }
}

/// A reader that digests what it reads and knows where it is.
struct DigestReader<R> {
    inner: R,
    digest: BundleDigest,
    offset: u64,
}

impl<R: Read> DigestReader<R> {
    fn take(&mut self, length: usize, what: &str) -> Result<Vec<u8>, BundleError> {
        let mut bytes = vec![0u8; length];
        self.inner.read_exact(&mut bytes).map_err(|error| {
            if error.kind() == std::io::ErrorKind::UnexpectedEof {
                BundleError::Malformed {
                    offset: self.offset,
                    reason: format!("the file ends inside {what} ({length} bytes expected)"),
                }
            } else {
                BundleError::Io(error)
            }
        })?;
        self.digest.update(&bytes);
        self.offset += length as u64;
        Ok(bytes)
    }
    fn u32(&mut self, what: &str) -> Result<u32, BundleError> {
        let bytes = self.take(4, what)?;
        Ok(u32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]))
    }
    fn u64(&mut self, what: &str) -> Result<u64, BundleError> {
        let bytes = self.take(8, what)?;
        let mut array = [0u8; 8];
        array.copy_from_slice(&bytes);
        Ok(u64::from_be_bytes(array))
    }
    fn block(&mut self, max: usize, what: &str) -> Result<Vec<u8>, BundleError> {
        let at = self.offset;
        let length = self.u32(what)? as usize;
        if length > max {
            return Err(BundleError::Malformed {
                offset: at,
                reason: format!("{what} of {length} bytes; at most {max} are allowed"),
            });
        }
        self.take(length, what)
    }
    fn hashes(&mut self, what: &str) -> Result<Vec<[u8; 32]>, BundleError> {
        let at = self.offset;
        let count = self.u32(what)? as usize;
        if count > 64 {
            return Err(BundleError::Malformed {
                offset: at,
                reason: format!("{count} {what}; a tree of 2^64 leaves needs at most 64"),
            });
        }
        (0..count)
            .map(|_| {
                let bytes = self.take(32, what)?;
                let mut hash = [0u8; 32];
                hash.copy_from_slice(&bytes);
                Ok(hash)
            })
            .collect()
    }
}

impl Ledger {
    /// Writes a bundle of records `first..=checkpoint size`, proven against `checkpoint`,
    /// which must be a checkpoint of this ledger that the records still give.
    pub fn export(
        &self,
        out: impl Write,
        checkpoint: &SignedCheckpoint,
        first: u64,
        progress: &mut dyn FnMut(u64),
    ) -> Result<u64, BundleError> {
        let signed = &checkpoint.checkpoint;
        self.check_extends(signed)?;
        if first == 0 || first > signed.size {
            return Err(BundleError::CannotExport(format!(
                "--from {first} is outside the checkpoint's records 1..={}",
                signed.size
            )));
        }
        let mut out = DigestWriter {
            inner: std::io::BufWriter::new(out),
            digest: BundleDigest::new(),
        };
        out.put(MAGIC)?;
        out.put(&VERSION.to_be_bytes())?;
        out.put_block(self.genesis_bytes())?;
        out.put_block(checkpoint.text().as_bytes())?;
        out.put(&first.to_be_bytes())?;
        out.put(&(signed.size - first + 1).to_be_bytes())?;
        let prefix = self.frontier_at(first - 1)?;
        out.put(&(prefix.nodes().len() as u32).to_be_bytes())?;
        for node in prefix.nodes() {
            out.put(node)?;
        }
        let (previous, link) = if first > 1 {
            let previous = self
                .stored_range(first - 1, first - 1)
                .next()
                .transpose()
                .map_err(BundleError::Ledger)?
                .map(|(_, bytes)| bytes)
                .unwrap_or_default();
            (previous, self.inclusion_proof(first - 1, signed.size)?)
        } else {
            (Vec::new(), Vec::new())
        };
        out.put_block(&previous)?;
        out.put(&(link.len() as u32).to_be_bytes())?;
        for node in &link {
            out.put(node)?;
        }
        for stored in self.stored_range(first, signed.size) {
            let (checked, bytes) = stored.map_err(|error| match error {
                LedgerError::Damaged(failure) => BundleError::Record(failure),
                other => BundleError::Ledger(other),
            })?;
            out.put_block(&bytes)?;
            progress(checked.sequence);
        }
        let trailer = out.digest.finish();
        out.inner.write_all(&trailer.0)?;
        out.inner.flush()?;
        Ok(signed.size - first + 1)
    }
}

/// Reads and checks a bundle, calling `each` with every checked record (its hash, its record,
/// its event). Nothing is trusted until the whole file has been read and checked: callers must
/// not act on what `each` saw unless this returns `Ok`.
pub fn read(
    input: impl Read,
    key: &VerifierKey,
    each: &mut dyn FnMut(&BundleRecord<'_>) -> Result<(), BundleError>,
) -> Result<BundleSummary, BundleError> {
    let mut input = DigestReader {
        inner: std::io::BufReader::new(input),
        digest: BundleDigest::new(),
        offset: 0,
    };
    let malformed = |offset: u64, reason: String| BundleError::Malformed { offset, reason };
    if input.take(8, "the magic bytes")? != MAGIC {
        return Err(malformed(
            0,
            "not a sanctions-ledger bundle (the magic bytes are not \"SLBUNDLE\")".to_owned(),
        ));
    }
    let version = input.u32("the version")?;
    if version != VERSION {
        return Err(malformed(
            8,
            format!("bundle format version {version}; this build reads version {VERSION}"),
        ));
    }
    let at = input.offset;
    let genesis_bytes = input.block(limits::GENESIS_BYTES_MAX, "the genesis")?;
    let genesis = Genesis::from_bytes(&genesis_bytes)
        .map_err(|error| malformed(at, format!("the genesis: {error}")))?;
    let genesis_hash = chain::genesis_hash(&genesis_bytes);
    let checkpoint_bytes = input.block(limits::CHECKPOINT_BYTES_MAX, "the checkpoint")?;
    let checkpoint = SignedCheckpoint::open(&checkpoint_bytes, key)?;
    let signed = checkpoint.checkpoint.clone();
    if signed.tree != merkle::TreeVersion::CURRENT {
        return Err(BundleError::NotProven(format!(
            "the checkpoint's origin {} is of the first tree format; a version {VERSION} bundle is proven against an RFC 6962 checkpoint",
            signed.origin()
        )));
    }
    if signed.log != genesis_hash || signed.name != genesis.origin {
        return Err(BundleError::NotProven(format!(
            "the checkpoint is for the log {} (\"{}\"), but the bundle's genesis is {} (\"{}\")",
            signed.log, signed.name, genesis_hash, genesis.origin
        )));
    }
    let at = input.offset;
    let first = input.u64("the first sequence")?;
    let count = input.u64("the record count")?;
    if first == 0 || count == 0 || first.checked_add(count - 1) != Some(signed.size) {
        return Err(malformed(
            at,
            format!(
                "records {first} + {count} do not end at the checkpoint's size {}; a bundle holds records first..=size, at least one",
                signed.size
            ),
        ));
    }
    let at = input.offset;
    let prefix = input.hashes("prefix hashes")?;
    let mut frontier = Frontier::from_nodes(first - 1, prefix).ok_or_else(|| {
        malformed(
            at,
            format!("the prefix must hold one hash per set bit of {}", first - 1),
        )
    })?;
    let at = input.offset;
    let previous_bytes = input.block(limits::RECORD_BYTES_MAX, "the previous record")?;
    if (first == 1) != previous_bytes.is_empty() {
        return Err(malformed(
            at,
            "a bundle from record 1 has no previous record; one from a later record has it"
                .to_owned(),
        ));
    }
    let at = input.offset;
    let link = input.hashes("link hashes")?;
    if first == 1 && !link.is_empty() {
        return Err(malformed(
            at,
            "a bundle from record 1 has no link hashes".to_owned(),
        ));
    }
    let mut previous: Option<(Hash, Option<Timestamp>)> =
        (first == 1).then_some((genesis_hash, None));
    let mut ids: HashSet<String> = HashSet::new();
    for sequence in first..=signed.size {
        let record_bytes = input.block(limits::RECORD_BYTES_MAX, "a record")?;
        let hash = chain::record_hash(&record_bytes);
        let record = verify::check_record(
            sequence,
            &record_bytes,
            previous.map(|(hash, _)| hash),
            previous.and_then(|(_, time)| time),
        )
        .map_err(BundleError::Record)?;
        if previous.is_none() {
            // The first record of a partial bundle: its link to the record before is proven by
            // the inclusion of that record (whose bytes hash to its previous hash) in the
            // checkpoint's tree.
            if chain::record_hash(&previous_bytes) != record.previous() {
                return Err(BundleError::NotProven(format!(
                    "record {first}'s previous hash is not the hash of the previous record the bundle holds"
                )));
            }
            let path: Vec<&[u8]> = link.iter().map(|hash| hash.as_slice()).collect();
            merkle::verify_inclusion(
                &Rfc6962TreeHasher,
                first - 2,
                signed.size,
                &leaf_hash(&previous_bytes),
                &path,
                &signed.root,
            )
            .map_err(|error| {
                BundleError::NotProven(format!(
                    "record {first}'s previous hash is not proven to be record {}'s: {error}",
                    first - 1
                ))
            })?;
        }
        let event = verify::check_event(sequence, &record.event_bytes, record.schema_version)
            .map_err(BundleError::Record)?;
        if !ids.insert(event.id().as_str().to_owned()) {
            return Err(BundleError::Record(VerifyFailure::new(
                sequence,
                verify::FailureKind::IndexMismatch,
                format!("the event id \"{}\" is recorded twice", event.id()),
            )));
        }
        frontier.push(&Rfc6962TreeHasher, leaf_hash(&record_bytes));
        each(&BundleRecord {
            sequence,
            hash,
            record: &record,
            event: &event,
            bytes: &record_bytes,
        })?;
        previous = Some((hash, Some(record.recorded_at)));
    }
    let root = frontier.root(&Rfc6962TreeHasher);
    let last = previous.map(|(hash, _)| hash);
    if root != signed.root || last != Some(signed.head) {
        return Err(BundleError::NotProven(format!(
            "the records give the root {} but the checkpoint signed {}: they are not the records it commits to",
            Hash(root),
            Hash(signed.root)
        )));
    }
    let expected = input.digest.finish();
    let at = input.offset;
    let mut trailer = [0u8; 32];
    input
        .inner
        .read_exact(&mut trailer)
        .map_err(|_| malformed(at, "the file ends before its 32-byte trailer".to_owned()))?;
    if trailer != expected.0 {
        return Err(malformed(
            at,
            "the trailer is not the digest of the bytes before it".to_owned(),
        ));
    }
    let mut rest = [0u8; 1];
    if input.inner.read(&mut rest)? != 0 {
        return Err(malformed(at + 32, "bytes after the trailer".to_owned()));
    }
    Ok(BundleSummary {
        genesis,
        genesis_bytes,
        genesis_hash,
        checkpoint,
        first,
        count,
        bytes: at + 32,
    })
}

/// Rebuilds a ledger folder from a full bundle (records from 1): checks the whole bundle first,
/// then writes its records byte for byte (same hashes, same recorded times) in durable batches,
/// keeps its checkpoint, and opens the result. On any failure the new folder is removed.
pub fn restore(
    bundle: &std::path::Path,
    folder: &std::path::Path,
    key: &VerifierKey,
    progress: &mut dyn FnMut(u64),
) -> Result<(Ledger, BundleSummary), BundleError> {
    let summary = read(std::fs::File::open(bundle)?, key, &mut |_| Ok(()))?;
    if summary.first != 1 {
        return Err(BundleError::NotFull(summary.first));
    }
    let restored = Ledger::init_with_genesis(
        folder,
        &summary.genesis_bytes,
        super::LedgerOptions::default(),
    )
    .map_err(BundleError::from)
    .and_then(|mut ledger| {
        write_records(&mut ledger, bundle, key, progress)?;
        ledger.keep_checkpoint(summary.checkpoint.text().as_bytes())?;
        ledger.flush_derived()?;
        Ok(())
    })
    .and_then(|()| Ok(Ledger::open(folder)?));
    match restored {
        Ok(ledger) => Ok((ledger, summary)),
        Err(error) => {
            let _ = std::fs::remove_dir_all(folder);
            Err(error)
        }
    }
}

fn write_records(
    ledger: &mut Ledger,
    bundle: &std::path::Path,
    key: &VerifierKey,
    progress: &mut dyn FnMut(u64),
) -> Result<(), BundleError> {
    let mut batch: Vec<(String, Vec<u8>, Hash)> = Vec::new();
    let mut last_time = None;
    let mut flush = |ledger: &mut Ledger,
                     batch: &mut Vec<(String, Vec<u8>, Hash)>,
                     last_time: Option<crate::domain::Timestamp>|
     -> Result<(), BundleError> {
        let Some(time) = last_time else {
            return Ok(());
        };
        let head = ledger.write_records(std::mem::take(batch), time)?;
        progress(head.sequence);
        Ok(())
    };
    read(std::fs::File::open(bundle)?, key, &mut |checked| {
        batch.push((
            checked.event.id().as_str().to_owned(),
            checked.bytes.to_vec(),
            checked.hash,
        ));
        last_time = Some(checked.record.recorded_at);
        if batch.len() == limits::RESTORE_BATCH_RECORDS {
            flush(ledger, &mut batch, last_time)?;
        }
        Ok(())
    })?;
    flush(ledger, &mut batch, last_time)
}
