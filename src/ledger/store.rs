//! The store: sled trees holding records, the event-id index and the head.
//!
//! Owns the on-disk layout and durability. The only module that names sled. It moves bytes;
//! it does not hash, decode events or decide what is valid (the ledger does).
//!
//! Layout (documented in ARCHITECTURE.md):
//! - tree `records`: key = sequence as 8-byte big-endian; value = record bytes || record hash.
//! - tree `event_ids`: key = event id (UTF-8); value = sequence as 8-byte big-endian.
//! - tree `meta`: `format` = "sanctions-ledger store v1"; `genesis` = genesis bytes;
//!   `head` = sequence (8-byte big-endian) || hash of that record (32 bytes).
//! - tree `merkle`: key = chunk number (leaf index / 64) as 8-byte big-endian; value = for each
//!   leaf of the chunk in order (leaf index = sequence - 1), the hashes of the Merkle nodes that
//!   leaf completed, 32 bytes each, level 0 (the leaf hash) first. Chunks keep the tree's cost
//!   to a few sled entries per batch instead of one per record.
//! - tree `checkpoints`: key = checkpoint number (1, 2, ...) as 8-byte big-endian; value = the
//!   signed checkpoint's text.
//!
//! Durability: sled 0.34.7's `flush()` ends in `sync_file_range` on Linux, which flushes
//! neither the drive's write cache nor file metadata; its only real fsync is a background one
//! every 500 ms (spacejam/sled#1452). So every append is followed by `flush()` *and* an fsync
//! of sled's data file, and only then acknowledged; `create` also fsyncs `conf` and the folder.
//! A batch is one such barrier (group commit).

use std::fs::File;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

use sled::Transactional;

const FORMAT_KEY: &[u8] = b"format";
const FORMAT_VALUE: &[u8] = b"sanctions-ledger store v1";
const GENESIS_KEY: &[u8] = b"genesis";
const HEAD_KEY: &[u8] = b"head";

/// Why the store failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The folder holds no ledger.
    #[error("{path}: no ledger here (run `sanctions-ledger init {path}` to create one)")]
    NotALedger {
        /// The folder.
        path: PathBuf,
    },
    /// `init` on a folder that already holds files.
    #[error("{path}: already exists and is not empty; choose a new folder")]
    AlreadyExists {
        /// The folder.
        path: PathBuf,
    },
    /// sled could not open its files (damaged, locked by another process, or not sled's).
    #[error("{path}: the store's files cannot be opened: {reason}")]
    Unopenable {
        /// The folder.
        path: PathBuf,
        /// sled's own words.
        reason: String,
    },
    /// Another process has the ledger open.
    #[error(
        "{path}: the ledger is in use by another process (sled's file lock is held); try again when it has finished"
    )]
    Locked {
        /// The folder.
        path: PathBuf,
    },
    /// A read or write failed inside sled.
    #[error("storage error: {0}")]
    Sled(#[from] sled::Error),
    /// A file-system call failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// A value in `meta` has the wrong shape.
    #[error("store metadata `{key}` is damaged: {reason}")]
    DamagedMeta {
        /// The key.
        key: &'static str,
        /// What is wrong.
        reason: String,
    },
    /// A Merkle node the tree's size says must be stored is missing or has the wrong length.
    #[error("the Merkle tree's node at level {level}, index {index} is missing or damaged")]
    MissingNode {
        /// The node's level (0 = a leaf).
        level: u32,
        /// The node's index within its level.
        index: u64,
    },
    /// The head moved while a batch was being prepared (a second writer).
    #[error("the head moved from {expected} to {actual} during the append; retry")]
    HeadMoved {
        /// The head the batch was built on.
        expected: u64,
        /// The head found.
        actual: u64,
    },
}

/// The derived trees: projections of the log, all rebuildable from it. Their layout is in
/// ARCHITECTURE.md; the projection module owns their meaning.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Derived {
    /// `applied` = sequence (8 bytes big-endian) || hash of the last record applied.
    Meta = 0,
    /// listing key -> facts about the listing.
    Listings,
    /// programme key -> renewals of every listing under it.
    Programmes,
    /// programme key 0x00 subject -> empty: the listings under a programme.
    ProgrammeListings,
    /// listing key -> its evaluated history as known at the applied head.
    Current,
    /// subject id -> its details as each event gave them.
    Subjects,
    /// target sequence || correction sequence -> whether it retracts.
    Corrections,
    /// target event id 0x00 source sequence -> how the source names the target.
    Links,
    /// subject id 0x00 statement sequence -> empty.
    Statements,
    /// folded name 0x00 subject id -> empty.
    Names,
}

/// Every derived tree, in `Derived` order, with its sled name.
pub const DERIVED_TREES: [(Derived, &str); 10] = [
    (Derived::Meta, "proj_meta"),
    (Derived::Listings, "proj_listings"),
    (Derived::Programmes, "proj_programmes"),
    (Derived::ProgrammeListings, "proj_programme_listings"),
    (Derived::Current, "proj_current"),
    (Derived::Subjects, "proj_subjects"),
    (Derived::Corrections, "proj_corrections"),
    (Derived::Links, "proj_links"),
    (Derived::Statements, "proj_statements"),
    (Derived::Names, "proj_names"),
];

/// One write to a derived tree: a value, or `None` to remove the key.
pub struct DerivedWrite {
    /// The tree.
    pub tree: Derived,
    /// The key.
    pub key: Vec<u8>,
    /// The value, or `None` to remove.
    pub value: Option<Vec<u8>>,
}

/// One record to append: its sequence, stored value, event id and Merkle nodes.
pub struct NewRecord<'a> {
    /// The sequence.
    pub sequence: u64,
    /// `record bytes || record hash`.
    pub value: &'a [u8],
    /// The event id, for the idempotency index.
    pub event_id: &'a str,
    /// The Merkle nodes the record's leaf completes, concatenated, level 0 first.
    pub merkle_nodes: &'a [u8],
}

/// The head as stored in `meta`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StoredHead {
    /// The last sequence (0 for an empty log).
    pub sequence: u64,
    /// The hash of that record (the genesis hash for an empty log).
    pub hash: [u8; 32],
}

impl StoredHead {
    fn to_bytes(self) -> [u8; 40] {
        let mut bytes = [0u8; 40];
        bytes[..8].copy_from_slice(&self.sequence.to_be_bytes());
        bytes[8..].copy_from_slice(&self.hash);
        bytes
    }
    fn from_bytes(bytes: &[u8]) -> Option<StoredHead> {
        if bytes.len() != 40 {
            return None;
        }
        Some(StoredHead {
            sequence: u64::from_be_bytes(bytes[..8].try_into().ok()?),
            hash: bytes[8..].try_into().ok()?,
        })
    }
}

/// Leaves per `merkle` entry (a format constant: see ARCHITECTURE.md).
pub const MERKLE_CHUNK_LEAVES: u64 = 64;

/// The bytes of one leaf's entry: the nodes it completes, 32 bytes each.
fn entry_len(leaf: u64) -> usize {
    32 * (1 + leaf.trailing_ones() as usize)
}

/// Where a leaf's entry starts within its chunk's value.
fn entry_offset(leaf: u64) -> usize {
    (leaf - leaf % MERKLE_CHUNK_LEAVES..leaf)
        .map(entry_len)
        .sum()
}

/// A chunk's value split into its leaves' entries: (leaf, entry). `None` if the value does not
/// end at an entry boundary.
fn chunk_entries(chunk: u64, value: &[u8]) -> Option<Vec<(u64, Vec<u8>)>> {
    let mut entries = Vec::new();
    let mut at = 0;
    let mut leaf = chunk.checked_mul(MERKLE_CHUNK_LEAVES)?;
    while at < value.len() && entries.len() < MERKLE_CHUNK_LEAVES as usize {
        let end = at + entry_len(leaf);
        entries.push((leaf, value.get(at..end)?.to_vec()));
        at = end;
        leaf += 1;
    }
    (at == value.len()).then_some(entries)
}

/// An 8-byte big-endian key of `tree` (a chunk or checkpoint number), or damage naming it.
fn numbered_key(key: &[u8], tree: &'static str) -> Result<u64, StoreError> {
    sequence_from_key(key).ok_or(StoreError::DamagedMeta {
        key: tree,
        reason: format!("a key of {} bytes, not 8", key.len()),
    })
}

fn damaged_chunk(chunk: u64) -> StoreError {
    StoreError::DamagedMeta {
        key: "merkle",
        reason: format!("chunk {chunk} does not end at a leaf's entry"),
    }
}

/// The chunk values that appending `entries` (consecutive leaves, each with its nodes) writes,
/// given the current value of the first one's chunk.
fn chunk_writes(
    first_existing: Option<&[u8]>,
    entries: &[(u64, &[u8])],
) -> Result<Vec<(u64, Vec<u8>)>, StoreError> {
    let mut writes: Vec<(u64, Vec<u8>)> = Vec::new();
    for (leaf, nodes) in entries {
        let chunk = leaf / MERKLE_CHUNK_LEAVES;
        if writes.last().map(|(last, _)| *last) != Some(chunk) {
            let existing = if writes.is_empty() {
                first_existing.unwrap_or_default()
            } else {
                &[]
            };
            if existing.len() != entry_offset(*leaf) {
                return Err(damaged_chunk(chunk));
            }
            writes.push((chunk, existing.to_vec()));
        }
        if let Some((_, value)) = writes.last_mut() {
            value.extend_from_slice(nodes);
        }
    }
    Ok(writes)
}

/// The Merkle tree's nodes, read where the leaf that completed them stored them.
impl crate::ledger::merkle::Nodes for Store {
    type Error = StoreError;
    fn node(&self, level: u32, index: u64) -> Result<[u8; 32], StoreError> {
        let missing = || StoreError::MissingNode { level, index };
        let leaf = crate::ledger::merkle::completing_leaf(level, index);
        let value = self
            .merkle
            .get((leaf / MERKLE_CHUNK_LEAVES).to_be_bytes())?
            .ok_or_else(missing)?;
        if level as usize * 32 >= entry_len(leaf) {
            return Err(missing());
        }
        let at = entry_offset(leaf) + level as usize * 32;
        value
            .get(at..at + 32)
            .and_then(|bytes| bytes.try_into().ok())
            .ok_or_else(missing)
    }
}

/// The sled database of one ledger folder.
pub struct Store {
    path: PathBuf,
    db: sled::Db,
    records: sled::Tree,
    event_ids: sled::Tree,
    meta: sled::Tree,
    merkle: sled::Tree,
    checkpoints: sled::Tree,
    /// Behind a lock because `derived_clear` drops and reopens them (much faster than clearing
    /// them key by key).
    derived: std::sync::RwLock<Vec<sled::Tree>>,
}

/// Decodes an 8-byte big-endian sequence key.
pub fn sequence_from_key(key: &[u8]) -> Option<u64> {
    Some(u64::from_be_bytes(key.try_into().ok()?))
}

fn io_error(path: &Path) -> impl FnOnce(std::io::Error) -> StoreError + '_ {
    move |source| StoreError::Io {
        path: path.to_owned(),
        source,
    }
}

/// sled 0.34 reports a held lock as `Io(Other, "could not acquire lock on ...: WouldBlock")`.
fn is_lock_busy(error: &sled::Error) -> bool {
    matches!(error, sled::Error::Io(io)
        if io.kind() == std::io::ErrorKind::WouldBlock || io.to_string().contains("could not acquire lock"))
}

fn open_db(path: &Path) -> Result<sled::Db, StoreError> {
    // sled holds its file lock until its background threads let go of the file, a moment after
    // the last handle is dropped; so a reopen in the same process waits a bounded time for it.
    let deadline = std::time::Instant::now()
        + std::time::Duration::from_millis(crate::limits::STORE_LOCK_WAIT_MS);
    loop {
        match open_db_once(path) {
            Err(StoreError::Sled(error)) if is_lock_busy(&error) => {
                if std::time::Instant::now() >= deadline {
                    return Err(StoreError::Locked {
                        path: path.to_owned(),
                    });
                }
                std::thread::sleep(std::time::Duration::from_millis(10));
            }
            other => return other,
        }
    }
}

fn open_db_once(path: &Path) -> Result<sled::Db, StoreError> {
    let config = sled::Config::new()
        .path(path)
        .cache_capacity(crate::limits::STORE_CACHE_BYTES)
        .mode(sled::Mode::LowSpace);
    // sled 0.34 can panic on some damaged files (spacejam/sled#1387); a damaged ledger must
    // get a clear error, so a panic inside its open is turned into one.
    match catch_unwind(AssertUnwindSafe(|| config.open())) {
        Ok(Ok(db)) => Ok(db),
        Ok(Err(error)) if is_lock_busy(&error) => Err(StoreError::Sled(error)),
        Ok(Err(error)) => Err(StoreError::Unopenable {
            path: path.to_owned(),
            reason: error.to_string(),
        }),
        Err(panic) => {
            let reason = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_owned()))
                .unwrap_or_else(|| "sled panicked".to_owned());
            Err(StoreError::Unopenable {
                path: path.to_owned(),
                reason: format!("sled panicked while opening: {reason}"),
            })
        }
    }
}

impl Store {
    /// Creates a new store in an absent or empty folder and writes the genesis durably.
    pub fn create(
        path: &Path,
        genesis_bytes: &[u8],
        genesis_hash: [u8; 32],
    ) -> Result<Store, StoreError> {
        if path.exists() {
            let mut entries = std::fs::read_dir(path).map_err(io_error(path))?;
            if entries.next().is_some() {
                return Err(StoreError::AlreadyExists {
                    path: path.to_owned(),
                });
            }
        }
        std::fs::create_dir_all(path).map_err(io_error(path))?;
        let store = Store::from_db(path, open_db(path)?)?;
        store.meta.insert(FORMAT_KEY, FORMAT_VALUE)?;
        store.meta.insert(GENESIS_KEY, genesis_bytes)?;
        let head = StoredHead {
            sequence: 0,
            hash: genesis_hash,
        };
        store.meta.insert(HEAD_KEY, &head.to_bytes()[..])?;
        store.barrier_with_folder()?;
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            File::open(parent)
                .and_then(|f| f.sync_all())
                .map_err(io_error(parent))?;
        }
        Ok(store)
    }

    /// Opens an existing store. Refuses a folder without one, never creating files there.
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        if !path.join("conf").is_file() || !path.join("db").is_file() {
            return Err(StoreError::NotALedger {
                path: path.to_owned(),
            });
        }
        let store = Store::from_db(path, open_db(path)?)?;
        match store.meta.get(FORMAT_KEY)? {
            Some(value) if value.as_ref() == FORMAT_VALUE => Ok(store),
            Some(_) => Err(StoreError::DamagedMeta {
                key: "format",
                reason: "not \"sanctions-ledger store v1\"".to_owned(),
            }),
            // sled's files are there but hold no ledger: sled opens some damaged files as an
            // empty database, so this is damage, never an empty ledger.
            None => Err(StoreError::DamagedMeta {
                key: "format",
                reason: "missing: sled's files are present but hold no ledger metadata (damaged or replaced files)".to_owned(),
            }),
        }
    }

    fn from_db(path: &Path, db: sled::Db) -> Result<Store, StoreError> {
        Ok(Store {
            path: path.to_owned(),
            records: db.open_tree("records")?,
            event_ids: db.open_tree("event_ids")?,
            meta: db.open_tree("meta")?,
            merkle: db.open_tree("merkle")?,
            checkpoints: db.open_tree("checkpoints")?,
            derived: std::sync::RwLock::new(
                DERIVED_TREES
                    .iter()
                    .map(|(_, name)| db.open_tree(name))
                    .collect::<Result<Vec<_>, _>>()?,
            ),
            db,
        })
    }

    /// The ledger folder.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The stored genesis bytes.
    pub fn genesis_bytes(&self) -> Result<Vec<u8>, StoreError> {
        self.meta
            .get(GENESIS_KEY)?
            .map(|value| value.to_vec())
            .ok_or(StoreError::DamagedMeta {
                key: "genesis",
                reason: "missing".to_owned(),
            })
    }

    /// The stored head.
    pub fn head(&self) -> Result<StoredHead, StoreError> {
        let value = self.meta.get(HEAD_KEY)?.ok_or(StoreError::DamagedMeta {
            key: "head",
            reason: "missing".to_owned(),
        })?;
        StoredHead::from_bytes(&value).ok_or(StoreError::DamagedMeta {
            key: "head",
            reason: format!("{} bytes; 40 expected", value.len()),
        })
    }

    /// The stored value of one record.
    pub fn record_value(&self, sequence: u64) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self
            .records
            .get(sequence.to_be_bytes())?
            .map(|v| v.to_vec()))
    }

    /// The sequence the event id is indexed under, with the raw index value.
    pub fn sequence_of(&self, event_id: &str) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.event_ids.get(event_id.as_bytes())?.map(|v| v.to_vec()))
    }

    /// Records in key order from `sequence_from` on: raw keys and values.
    pub fn records_from(
        &self,
        sequence_from: u64,
    ) -> impl Iterator<Item = Result<(sled::IVec, sled::IVec), StoreError>> + '_ {
        self.records
            .range(sequence_from.to_be_bytes()..)
            .map(|item| item.map_err(StoreError::from))
    }

    /// Entries of the event-id index: raw keys and values.
    pub fn event_ids(
        &self,
    ) -> impl Iterator<Item = Result<(sled::IVec, sled::IVec), StoreError>> + '_ {
        self.event_ids
            .iter()
            .map(|item| item.map_err(StoreError::from))
    }

    /// Appends records, their index entries and the new head in one transaction (all or
    /// nothing), then makes them durable. Returns only once they are on disk.
    pub fn append(
        &self,
        records: &[NewRecord<'_>],
        expected_head: u64,
        new_head: StoredHead,
    ) -> Result<(), StoreError> {
        let result = (&self.records, &self.event_ids, &self.meta, &self.merkle).transaction(
            |(records_tx, ids_tx, meta_tx, merkle_tx)| {
                let current = meta_tx
                    .get(HEAD_KEY)?
                    .as_deref()
                    .and_then(StoredHead::from_bytes)
                    .map(|head| head.sequence);
                if current != Some(expected_head) {
                    return sled::transaction::abort(StoreError::HeadMoved {
                        expected: expected_head,
                        actual: current.unwrap_or(u64::MAX),
                    });
                }
                for record in records {
                    let key = record.sequence.to_be_bytes();
                    records_tx.insert(&key, record.value)?;
                    ids_tx.insert(record.event_id.as_bytes(), &key)?;
                }
                let entries: Vec<(u64, &[u8])> = records
                    .iter()
                    .map(|record| (record.sequence - 1, record.merkle_nodes))
                    .collect();
                let first_existing = match entries.first() {
                    Some((leaf, _)) => merkle_tx.get((leaf / MERKLE_CHUNK_LEAVES).to_be_bytes())?,
                    None => None,
                };
                let writes = match chunk_writes(first_existing.as_deref(), &entries) {
                    Ok(writes) => writes,
                    Err(error) => return sled::transaction::abort(error),
                };
                for (chunk, value) in writes {
                    merkle_tx.insert(&chunk.to_be_bytes(), value)?;
                }
                meta_tx.insert(HEAD_KEY, &new_head.to_bytes()[..])?;
                Ok(())
            },
        );
        match result {
            Ok(()) => {}
            Err(sled::transaction::TransactionError::Abort(error)) => return Err(error),
            Err(sled::transaction::TransactionError::Storage(error)) => return Err(error.into()),
        }
        self.barrier()
    }

    /// The number of leaves the Merkle tree holds.
    pub fn merkle_leaves(&self) -> Result<u64, StoreError> {
        match self.merkle.last()? {
            None => Ok(0),
            Some((key, value)) => {
                let chunk = numbered_key(&key, "merkle")?;
                let entries = chunk_entries(chunk, &value).ok_or_else(|| damaged_chunk(chunk))?;
                Ok(chunk * MERKLE_CHUNK_LEAVES + entries.len() as u64)
            }
        }
    }

    /// The stored entries of leaves from `leaf` on, in order: (leaf, its nodes).
    pub fn merkle_from(
        &self,
        leaf: u64,
    ) -> impl Iterator<Item = Result<(u64, Vec<u8>), StoreError>> + '_ {
        self.merkle
            .range((leaf / MERKLE_CHUNK_LEAVES).to_be_bytes()..)
            .flat_map(|item| {
                let entries = item.map_err(StoreError::from).and_then(|(key, value)| {
                    let chunk = numbered_key(&key, "merkle")?;
                    chunk_entries(chunk, &value).ok_or_else(|| damaged_chunk(chunk))
                });
                match entries {
                    Ok(entries) => entries.into_iter().map(Ok).collect::<Vec<_>>(),
                    Err(error) => vec![Err(error)],
                }
            })
            .filter(move |item| !matches!(item, Ok((at, _)) if *at < leaf))
    }

    /// Stores the nodes of more leaves (catching the tree up with the log), durably.
    pub fn merkle_extend(&self, entries: &[(u64, Vec<u8>)]) -> Result<(), StoreError> {
        let Some((first, _)) = entries.first() else {
            return Ok(());
        };
        let existing = self
            .merkle
            .get((first / MERKLE_CHUNK_LEAVES).to_be_bytes())?;
        let borrowed: Vec<(u64, &[u8])> = entries
            .iter()
            .map(|(leaf, nodes)| (*leaf, nodes.as_slice()))
            .collect();
        let mut batch = sled::Batch::default();
        for (chunk, value) in chunk_writes(existing.as_deref(), &borrowed)? {
            batch.insert(&chunk.to_be_bytes(), value);
        }
        self.merkle.apply_batch(batch)?;
        self.barrier()
    }

    /// Empties the Merkle tree (before rebuilding it from the log).
    pub fn merkle_clear(&self) -> Result<(), StoreError> {
        self.merkle.clear()?;
        Ok(())
    }

    /// Keeps a signed checkpoint, durably; returns its number.
    pub fn checkpoint_add(&self, text: &[u8]) -> Result<u64, StoreError> {
        let number = self.checkpoint_count()? + 1;
        self.checkpoints.insert(number.to_be_bytes(), text)?;
        self.barrier()?;
        Ok(number)
    }

    /// How many checkpoints are kept.
    pub fn checkpoint_count(&self) -> Result<u64, StoreError> {
        Ok(self.checkpoint_last()?.map_or(0, |(number, _)| number))
    }

    /// The newest kept checkpoint, if any: number and text.
    pub fn checkpoint_last(&self) -> Result<Option<(u64, Vec<u8>)>, StoreError> {
        match self.checkpoints.last()? {
            None => Ok(None),
            Some((key, value)) => Ok(Some((numbered_key(&key, "checkpoints")?, value.to_vec()))),
        }
    }

    /// Every kept checkpoint, oldest first: number and text.
    pub fn checkpoints(&self) -> impl Iterator<Item = Result<(u64, Vec<u8>), StoreError>> + '_ {
        self.checkpoints.iter().map(|item| {
            let (key, value) = item?;
            let number = numbered_key(&key, "checkpoints")?;
            Ok((number, value.to_vec()))
        })
    }

    fn derived_trees(&self) -> std::sync::RwLockReadGuard<'_, Vec<sled::Tree>> {
        self.derived
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn derived_tree(&self, tree: Derived) -> sled::Tree {
        self.derived_trees()[tree as usize].clone()
    }

    /// A value of a derived tree.
    pub fn derived_get(&self, tree: Derived, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self
            .derived_tree(tree)
            .get(key)?
            .map(|value| value.to_vec()))
    }

    /// The entries of a derived tree whose keys start with `prefix`, in key order.
    pub fn derived_scan(
        &self,
        tree: Derived,
        prefix: &[u8],
    ) -> impl Iterator<Item = Result<(Vec<u8>, Vec<u8>), StoreError>> + '_ {
        self.derived_tree(tree).scan_prefix(prefix).map(|item| {
            item.map(|(key, value)| (key.to_vec(), value.to_vec()))
                .map_err(StoreError::from)
        })
    }

    /// Applies writes to the derived trees in one transaction (all or nothing). Not fsynced:
    /// derived trees are rebuilt from the log if they are lost or stale.
    pub fn derived_apply(&self, writes: &[DerivedWrite]) -> Result<(), StoreError> {
        let result = self.derived_trees().as_slice().transaction(|trees| {
            for write in writes {
                let tree = &trees[write.tree as usize];
                match &write.value {
                    Some(value) => tree.insert(write.key.as_slice(), value.as_slice())?,
                    None => tree.remove(write.key.as_slice())?,
                };
            }
            Ok::<(), sled::transaction::ConflictableTransactionError<StoreError>>(())
        });
        match result {
            Ok(()) => Ok(()),
            Err(sled::transaction::TransactionError::Abort(error)) => Err(error),
            Err(sled::transaction::TransactionError::Storage(error)) => Err(error.into()),
        }
    }

    /// Writes many entries to the derived trees, in sled batches of at most
    /// `DERIVED_BULK_BATCH` entries per tree (not one transaction: for `rebuild`, which binds the
    /// trees to the head only after every entry is written). Not fsynced, as `derived_apply`.
    pub fn derived_bulk(
        &self,
        writes: impl Iterator<Item = (Derived, Vec<u8>, Vec<u8>)>,
    ) -> Result<(), StoreError> {
        let trees = self.derived_trees().clone();
        let mut batches: Vec<(sled::Batch, usize)> =
            trees.iter().map(|_| (sled::Batch::default(), 0)).collect();
        for (tree, key, value) in writes {
            let (batch, count) = &mut batches[tree as usize];
            batch.insert(key, value);
            *count += 1;
            if *count == crate::limits::DERIVED_BULK_BATCH {
                trees[tree as usize].apply_batch(std::mem::take(batch))?;
                *count = 0;
            }
        }
        for (index, (batch, count)) in batches.into_iter().enumerate() {
            if count > 0 {
                trees[index].apply_batch(batch)?;
            }
        }
        Ok(())
    }

    /// Empties every derived tree: drops and reopens it (2.5 times faster than sled's
    /// key-by-key `clear` on a large tree).
    pub fn derived_clear(&self) -> Result<(), StoreError> {
        let mut trees = self
            .derived
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        for (index, (_, name)) in DERIVED_TREES.iter().enumerate() {
            self.db.drop_tree(name)?;
            trees[index] = self.db.open_tree(name)?;
        }
        Ok(())
    }

    /// The durability barrier: sled's flush, then a real fsync of its data file. fsync also
    /// makes the file's grown size durable. `conf` and the folder entry only change when the
    /// store is created (see `create`), so they are synced there, not per batch.
    fn barrier(&self) -> Result<(), StoreError> {
        self.db.flush()?;
        let file_path = self.path.join("db");
        File::open(&file_path)
            .and_then(|file| file.sync_all())
            .map_err(io_error(&file_path))
    }

    /// `barrier`, plus fsync of `conf` and of the folder: after files were created.
    fn barrier_with_folder(&self) -> Result<(), StoreError> {
        self.barrier()?;
        for file_path in [self.path.join("conf"), self.path.clone()] {
            File::open(&file_path)
                .and_then(|file| file.sync_all())
                .map_err(io_error(&file_path))?;
        }
        Ok(())
    }
}
