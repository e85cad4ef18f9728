//! The derived store: sled trees holding what is derived from the log and can be rebuilt from
//! it: the event-id index, where each record's frame is, the Merkle tree's nodes, and the
//! projections. Nothing here is evidence; the log (`ledger/log`) is the only copy of the truth.
//!
//! Owns the sled layout (documented in ARCHITECTURE.md) and the binding of the log-derived
//! trees to the (sequence, hash) of the last record they reflect, written in the same
//! transaction as their entries. The only module that names sled. It moves bytes; it does not
//! hash, decode events or decide what is valid (the ledger does). Writes are not fsynced: an
//! append is acknowledged by the log, and derived data that a crash loses is caught up from the
//! log when the ledger next opens.
//!
//! Layout:
//! - tree `meta`: `format` = "sanctions-ledger derived v3"; `log_applied` = sequence (8 bytes
//!   big-endian) || hash (32) of the last record the trees `event_ids`, `places` and `merkle`
//!   reflect.
//! - tree `event_ids`: key = event id (UTF-8); value = sequence as 8-byte big-endian.
//! - tree `places`: key = chunk number ((sequence - 1) / 64) as 8-byte big-endian; value = for
//!   each record of the chunk in order, the offset of its frame in its segment (8 bytes BE).
//! - tree `merkle`: key = chunk number (leaf index / 64) as 8-byte big-endian; value = for each
//!   leaf of the chunk in order (leaf index = sequence - 1), the hashes of the Merkle nodes that
//!   leaf completed, 32 bytes each, level 0 (the leaf hash) first.
//! - trees `proj_*`: the projections (the projection module owns their meaning).

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

use sled::Transactional;

const FORMAT_KEY: &[u8] = b"format";
const FORMAT_VALUE: &[u8] = b"sanctions-ledger derived v3";
const LOG_APPLIED_KEY: &[u8] = b"log_applied";

/// Why the derived store failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// sled could not open its files (damaged, or not sled's), or panicked doing so.
    #[error(
        "{path}: the derived store cannot be opened ({reason}); the log is the truth and is not affected: `sanctions-ledger rebuild` moves this store aside and rebuilds it from the log"
    )]
    Unopenable {
        /// The folder.
        path: PathBuf,
        /// sled's own words.
        reason: String,
    },
    /// Another process has the derived store open.
    #[error(
        "{path}: the ledger is in use by another process (sled's file lock is held); try again when it has finished"
    )]
    Locked {
        /// The folder.
        path: PathBuf,
    },
    /// A read or write failed inside sled.
    #[error(
        "the derived store failed ({0}); the log is not affected: `sanctions-ledger rebuild` rebuilds the store from it"
    )]
    Sled(#[from] sled::Error),
    /// sled panicked inside a read or write.
    #[error(
        "the derived store is damaged (sled panicked: {0}); the log is not affected: `sanctions-ledger rebuild` moves the store aside and rebuilds it from the log"
    )]
    Panicked(String),
    /// A file-system call failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// A value in the derived trees has the wrong shape.
    #[error(
        "the derived store's `{key}` is damaged: {reason}; `sanctions-ledger rebuild` rebuilds it from the log"
    )]
    DamagedMeta {
        /// The key or tree.
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
}

thread_local! {
    /// How many guarded sled calls this thread is inside: a panic there is caught and reported
    /// as damage, so the panic hook must not print it (nor a backtrace) as well.
    static GUARDED: std::cell::Cell<u32> = const { std::cell::Cell::new(0) };
}

impl StoreError {
    /// Whether this is a full disk (or quota): an error to report, not damage.
    pub fn is_storage_full(&self) -> bool {
        let full = |error: &std::io::Error| {
            matches!(
                error.kind(),
                std::io::ErrorKind::StorageFull | std::io::ErrorKind::QuotaExceeded
            ) || error.raw_os_error() == Some(28)
        };
        match self {
            StoreError::Sled(sled::Error::Io(error)) => full(error),
            StoreError::Io { source, .. } => full(source),
            StoreError::Unopenable { reason, .. } => reason.contains("No space left"),
            _ => false,
        }
    }
}

/// Runs a sled call, turning a panic inside sled (spacejam/sled#1387 and kin, on damaged files)
/// into damage of the derived store.
fn guarded<T>(call: impl FnOnce() -> Result<T, StoreError>) -> Result<T, StoreError> {
    GUARDED.with(|depth| depth.set(depth.get() + 1));
    let result = catch_unwind(AssertUnwindSafe(call));
    GUARDED.with(|depth| depth.set(depth.get() - 1));
    match result {
        Ok(result) => result,
        Err(panic) => Err(StoreError::Panicked(panic_text(&panic))),
    }
}

/// An iterator over sled entries whose `next` turns a panic inside sled into an error item
/// (and then ends).
fn guarded_iter<T>(
    mut inner: impl Iterator<Item = Result<T, StoreError>>,
) -> impl Iterator<Item = Result<T, StoreError>> {
    let mut done = false;
    std::iter::from_fn(move || {
        if done {
            return None;
        }
        GUARDED.with(|depth| depth.set(depth.get() + 1));
        let next = catch_unwind(AssertUnwindSafe(|| inner.next()));
        GUARDED.with(|depth| depth.set(depth.get() - 1));
        match next {
            Ok(item) => item,
            Err(panic) => {
                done = true;
                Some(Err(StoreError::Panicked(panic_text(&panic))))
            }
        }
    })
}

/// Installs a panic hook that stays silent for panics inside guarded sled calls (they become a
/// one-line report of damage to the derived store) and keeps the default report for any other
/// panic (a bug in our code). For the binary.
pub fn quiet_guarded_panics() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if GUARDED.with(|depth| depth.get()) == 0 {
            default(info);
        }
    }));
}

fn panic_text(panic: &Box<dyn std::any::Any + Send>) -> String {
    panic
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_owned()))
        .unwrap_or_else(|| "no message".to_owned())
}

/// The projection trees, all rebuildable from the log. Their layout is in ARCHITECTURE.md; the
/// projection module owns their meaning.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Derived {
    /// `applied` = format version || sequence (8 bytes big-endian) || hash of the last record
    /// applied.
    Meta = 0,
    /// listing key 0x00 record sequence index -> one fact about the listing.
    ListingFacts,
    /// programme key 0x00 record sequence index -> one renewal of every listing under it.
    ProgrammeFacts,
    /// programme key 0x00 subject 0x00 record sequence -> empty: the listings under a programme.
    ProgrammeListings,
    /// listing key 0x00 chunk -> part of its evaluated history as known at the applied head.
    Current,
    /// subject id 0x00 record sequence index -> the subject's details as one event gave them.
    SubjectFacts,
    /// target sequence || correction sequence -> whether it retracts.
    Corrections,
    /// target event id 0x00 source sequence index -> how the source names the target.
    Links,
    /// subject id 0x00 statement sequence -> empty.
    Statements,
    /// folded name 0x00 subject id 0x00 record sequence -> empty.
    Names,
    /// identifier scheme 0x00 value 0x00 subject id 0x00 record sequence -> empty: a list's id
    /// for a subject (how an import finds a subject it already holds).
    Identifiers,
    /// list 0x00 publication date 0x00 snapshot sequence -> the snapshot (coverage).
    Snapshots,
    /// snapshot event id 0x00 record sequence -> empty: the events a snapshot implied.
    ObservedIn,
    /// subject id 0x00 list 0x00 record sequence index -> how the list observed the subject.
    SubjectLists,
}

/// Every projection tree, in `Derived` order, with its sled name.
pub const DERIVED_TREES: [(Derived, &str); 14] = [
    (Derived::Meta, "proj_meta"),
    (Derived::ListingFacts, "proj_listing_facts"),
    (Derived::ProgrammeFacts, "proj_programme_facts"),
    (Derived::ProgrammeListings, "proj_programme_listings"),
    (Derived::Current, "proj_current"),
    (Derived::SubjectFacts, "proj_subject_facts"),
    (Derived::Corrections, "proj_corrections"),
    (Derived::Links, "proj_links"),
    (Derived::Statements, "proj_statements"),
    (Derived::Names, "proj_names"),
    (Derived::Identifiers, "proj_identifiers"),
    (Derived::Snapshots, "proj_snapshots"),
    (Derived::ObservedIn, "proj_observed_in"),
    (Derived::SubjectLists, "proj_subject_lists"),
];

impl Derived {
    /// Every projection tree, in order.
    pub const ALL: [Derived; 14] = [
        Derived::Meta,
        Derived::ListingFacts,
        Derived::ProgrammeFacts,
        Derived::ProgrammeListings,
        Derived::Current,
        Derived::SubjectFacts,
        Derived::Corrections,
        Derived::Links,
        Derived::Statements,
        Derived::Names,
        Derived::Identifiers,
        Derived::Snapshots,
        Derived::ObservedIn,
        Derived::SubjectLists,
    ];

    /// The tree's sled name.
    pub fn name(self) -> &'static str {
        DERIVED_TREES[self as usize].1
    }
}

/// One write to a projection tree: a value, or `None` to remove the key.
pub struct DerivedWrite {
    /// The tree.
    pub tree: Derived,
    /// The key.
    pub key: Vec<u8>,
    /// The value, or `None` to remove.
    pub value: Option<Vec<u8>>,
}

/// What the log-derived trees gain from records appended since their binding.
#[derive(Clone, Debug, Default)]
pub struct LogDerived {
    /// (event id, sequence) of each record.
    pub ids: Vec<(String, u64)>,
    /// The frame offset of each record, from `first` on.
    pub offsets: Vec<u64>,
    /// The Merkle nodes each record's leaf completed, concatenated, from `first` on.
    pub nodes: Vec<Vec<u8>>,
    /// The first record's sequence.
    pub first: u64,
}

/// The binding of a set of derived trees: the last record they reflect.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Binding {
    /// Its sequence (0: none yet).
    pub sequence: u64,
    /// Its hash (the genesis hash for 0).
    pub hash: [u8; 32],
}

impl Binding {
    fn to_bytes(self) -> [u8; 40] {
        let mut bytes = [0u8; 40];
        bytes[..8].copy_from_slice(&self.sequence.to_be_bytes());
        bytes[8..].copy_from_slice(&self.hash);
        bytes
    }
    fn from_bytes(bytes: &[u8]) -> Option<Binding> {
        if bytes.len() != 40 {
            return None;
        }
        Some(Binding {
            sequence: u64::from_be_bytes(bytes[..8].try_into().ok()?),
            hash: bytes[8..].try_into().ok()?,
        })
    }
}

/// Records per `places` entry (a layout constant: see ARCHITECTURE.md).
pub const PLACES_CHUNK_RECORDS: u64 = 64;

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

/// The chunk values that appending `entries` (consecutive leaves or records, each with its
/// bytes) writes, given the current value of the first one's chunk. Chunks hold 64 entries;
/// `entry_offset` says where an entry starts within its chunk.
fn chunk_writes(
    first_existing: Option<&[u8]>,
    entries: &[(u64, &[u8])],
    entry_offset: fn(u64) -> usize,
    damaged_chunk: fn(u64) -> StoreError,
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
        guarded(|| self.node_unguarded(level, index))
    }
}

impl Store {
    fn node_unguarded(&self, level: u32, index: u64) -> Result<[u8; 32], StoreError> {
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

fn place_offset_in_chunk(sequence_index: u64) -> usize {
    8 * (sequence_index % PLACES_CHUNK_RECORDS) as usize
}

fn damaged_places_chunk(chunk: u64) -> StoreError {
    StoreError::DamagedMeta {
        key: "places",
        reason: format!("chunk {chunk} does not end at a record's entry"),
    }
}

/// The sled database of one ledger folder's derived store.
pub struct Store {
    path: PathBuf,
    db: sled::Db,
    meta: sled::Tree,
    event_ids: sled::Tree,
    places: sled::Tree,
    merkle: sled::Tree,
    /// Behind a lock because clearing drops and reopens trees (much faster than clearing them
    /// key by key).
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

/// sled's own description of an error, without the (empty) backtrace it appends.
fn sled_words(error: &sled::Error) -> String {
    let text = error.to_string();
    match text.find(" backtrace") {
        Some(at) => text[..at].to_owned(),
        None => text,
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

/// Moves aside (to `<store>.unfinished/`, never deleting) every `snap.*.generating` file: a
/// snapshot sled had not finished writing when it stopped (it renames one only once it is
/// fsynced). sled would otherwise take the newest file as its snapshot and refuse the store as
/// corrupt (a full disk during a snapshot left one torn). A snapshot only shortens recovery:
/// without it, sled recovers from the previous one and its log.
fn move_unfinished_snapshots(path: &Path) -> Result<(), StoreError> {
    let Ok(entries) = std::fs::read_dir(path) else {
        return Ok(());
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let text = name.to_string_lossy();
        if text.starts_with("snap.") && text.ends_with(".generating") {
            let mut aside = path.as_os_str().to_owned();
            aside.push(".unfinished");
            let aside = PathBuf::from(aside);
            std::fs::create_dir_all(&aside).map_err(io_error(&aside))?;
            let mut target = aside.join(&name);
            let mut number = 1;
            while target.exists() {
                number += 1;
                target = aside.join(format!("{text}.{number}"));
            }
            std::fs::rename(entry.path(), &target).map_err(io_error(path))?;
        }
    }
    Ok(())
}

fn open_db_once(path: &Path) -> Result<sled::Db, StoreError> {
    move_unfinished_snapshots(path)?;
    let config = sled::Config::new()
        .path(path)
        .cache_capacity(crate::limits::STORE_CACHE_BYTES)
        .mode(sled::Mode::LowSpace);
    GUARDED.with(|depth| depth.set(depth.get() + 1));
    let opened = catch_unwind(AssertUnwindSafe(|| config.open()));
    GUARDED.with(|depth| depth.set(depth.get() - 1));
    match opened {
        Ok(Ok(db)) => Ok(db),
        Ok(Err(error)) if is_lock_busy(&error) => Err(StoreError::Sled(error)),
        Ok(Err(error)) => Err(StoreError::Unopenable {
            path: path.to_owned(),
            reason: sled_words(&error),
        }),
        Err(panic) => Err(StoreError::Unopenable {
            path: path.to_owned(),
            reason: format!("sled panicked while opening: {}", panic_text(&panic)),
        }),
    }
}

/// What opening the derived store found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Opened {
    /// A store of this layout.
    Ready,
    /// A new store, or one of another layout, emptied: everything is rebuilt from the log.
    Emptied {
        /// Why.
        reason: String,
    },
}

impl Store {
    /// Opens the derived store in `path`, creating it if missing. A store of another layout
    /// (or without its layout mark) is emptied, to be rebuilt from the log: nothing in it is
    /// evidence.
    pub fn open(path: &Path) -> Result<(Store, Opened), StoreError> {
        let store = Store::from_db(path, open_db(path)?)?;
        let opened = guarded(|| {
            let format = store.meta.get(FORMAT_KEY)?;
            if format.as_deref() == Some(FORMAT_VALUE) {
                return Ok(Opened::Ready);
            }
            let reason = match format {
                None if store.db.tree_names().len() <= 1 && store.meta.is_empty() => {
                    "a new derived store".to_owned()
                }
                None => {
                    "the derived store has no layout mark (damaged or replaced files)".to_owned()
                }
                Some(other) => format!(
                    "the derived store is of layout \"{}\", not \"{}\"",
                    String::from_utf8_lossy(&other),
                    String::from_utf8_lossy(FORMAT_VALUE)
                ),
            };
            store.clear_all()?;
            store.meta.insert(FORMAT_KEY, FORMAT_VALUE)?;
            Ok(Opened::Emptied { reason })
        })?;
        Ok((store, opened))
    }

    /// Moves a derived store folder aside (never deleting it) to `<path>.damaged-<n>`, the
    /// first such name not taken; returns it.
    pub fn move_aside(path: &Path) -> Result<PathBuf, StoreError> {
        let mut number = 1;
        loop {
            let mut name = path.as_os_str().to_owned();
            name.push(format!(".damaged-{number}"));
            let target = PathBuf::from(name);
            if !target.exists() {
                std::fs::rename(path, &target).map_err(io_error(path))?;
                return Ok(target);
            }
            number += 1;
        }
    }

    fn from_db(path: &Path, db: sled::Db) -> Result<Store, StoreError> {
        guarded(|| {
            Ok(Store {
                path: path.to_owned(),
                meta: db.open_tree("meta")?,
                event_ids: db.open_tree("event_ids")?,
                places: db.open_tree("places")?,
                merkle: db.open_tree("merkle")?,
                derived: std::sync::RwLock::new(
                    DERIVED_TREES
                        .iter()
                        .map(|(_, name)| db.open_tree(name))
                        .collect::<Result<Vec<_>, _>>()?,
                ),
                db,
            })
        })
    }

    /// The store's folder.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The record the log-derived trees reflect, if any.
    pub fn log_binding(&self) -> Result<Option<Binding>, StoreError> {
        guarded(|| match self.meta.get(LOG_APPLIED_KEY)? {
            None => Ok(None),
            Some(value) => Binding::from_bytes(&value)
                .map(Some)
                .ok_or(StoreError::DamagedMeta {
                    key: "log_applied",
                    reason: format!("{} bytes; 40 expected", value.len()),
                }),
        })
    }

    /// The sequence an event id is indexed under.
    pub fn sequence_of(&self, event_id: &str) -> Result<Option<u64>, StoreError> {
        guarded(|| match self.event_ids.get(event_id.as_bytes())? {
            None => Ok(None),
            Some(value) => {
                sequence_from_key(&value)
                    .map(Some)
                    .ok_or_else(|| StoreError::DamagedMeta {
                        key: "event_ids",
                        reason: format!(
                            "the entry of \"{event_id}\" is {} bytes, not 8",
                            value.len()
                        ),
                    })
            }
        })
    }

    /// Where record `sequence`'s frame starts in its segment, if the store has it.
    pub fn place_of(&self, sequence: u64) -> Result<Option<u64>, StoreError> {
        guarded(|| {
            let index = sequence.saturating_sub(1);
            let Some(value) = self
                .places
                .get((index / PLACES_CHUNK_RECORDS).to_be_bytes())?
            else {
                return Ok(None);
            };
            let at = place_offset_in_chunk(index);
            Ok(value
                .get(at..at + 8)
                .and_then(|bytes| bytes.try_into().ok())
                .map(u64::from_be_bytes))
        })
    }

    /// The stored frame offsets of records from `sequence` on, in order: (sequence, offset).
    pub fn places_from(
        &self,
        sequence: u64,
    ) -> impl Iterator<Item = Result<(u64, u64), StoreError>> + '_ {
        let index = sequence.saturating_sub(1);
        guarded_iter(
            self.places
                .range((index / PLACES_CHUNK_RECORDS).to_be_bytes()..)
                .flat_map(|item| {
                    let entries = item.map_err(StoreError::from).and_then(|(key, value)| {
                        let chunk = numbered_key(&key, "places")?;
                        if value.len() % 8 != 0 || value.len() > 8 * PLACES_CHUNK_RECORDS as usize {
                            return Err(damaged_places_chunk(chunk));
                        }
                        Ok(value
                            .chunks_exact(8)
                            .enumerate()
                            .map(|(at, bytes)| {
                                (
                                    chunk * PLACES_CHUNK_RECORDS + at as u64 + 1,
                                    u64::from_be_bytes(bytes.try_into().unwrap_or_default()),
                                )
                            })
                            .collect::<Vec<_>>())
                    });
                    match entries {
                        Ok(entries) => entries.into_iter().map(Ok).collect::<Vec<_>>(),
                        Err(error) => vec![Err(error)],
                    }
                })
                .filter(move |item| !matches!(item, Ok((at, _)) if *at < sequence)),
        )
    }

    /// Entries of the event-id index: raw keys and values.
    pub fn event_ids(&self) -> impl Iterator<Item = Result<(Vec<u8>, Vec<u8>), StoreError>> + '_ {
        guarded_iter(self.event_ids.iter().map(|item| {
            item.map(|(key, value)| (key.to_vec(), value.to_vec()))
                .map_err(StoreError::from)
        }))
    }

    /// Writes what records since the binding add to the log-derived trees, and the new
    /// binding, in one transaction (all or nothing). Not fsynced (see the module's note).
    pub fn apply_log_derived(
        &self,
        added: &LogDerived,
        binding: Binding,
    ) -> Result<(), StoreError> {
        guarded(|| {
            let result = (&self.meta, &self.event_ids, &self.places, &self.merkle).transaction(
                |(meta_tx, ids_tx, places_tx, merkle_tx)| {
                    for (event_id, sequence) in &added.ids {
                        ids_tx.insert(event_id.as_bytes(), &sequence.to_be_bytes())?;
                    }
                    let offsets: Vec<[u8; 8]> = added
                        .offsets
                        .iter()
                        .map(|offset| offset.to_be_bytes())
                        .collect();
                    let place_entries: Vec<(u64, &[u8])> = offsets
                        .iter()
                        .enumerate()
                        .map(|(at, bytes)| (added.first - 1 + at as u64, &bytes[..]))
                        .collect();
                    let node_entries: Vec<(u64, &[u8])> = added
                        .nodes
                        .iter()
                        .enumerate()
                        .map(|(at, nodes)| (added.first - 1 + at as u64, nodes.as_slice()))
                        .collect();
                    for (tree, entries, offset_of, damaged) in [
                        (
                            places_tx,
                            &place_entries,
                            place_offset_in_chunk as fn(u64) -> usize,
                            damaged_places_chunk as fn(u64) -> StoreError,
                        ),
                        (merkle_tx, &node_entries, entry_offset, damaged_chunk),
                    ] {
                        let first_existing = match entries.first() {
                            Some((index, _)) => tree.get((index / 64).to_be_bytes())?,
                            None => None,
                        };
                        let writes = match chunk_writes(
                            first_existing.as_deref(),
                            entries,
                            offset_of,
                            damaged,
                        ) {
                            Ok(writes) => writes,
                            Err(error) => return sled::transaction::abort(error),
                        };
                        for (chunk, value) in writes {
                            tree.insert(&chunk.to_be_bytes(), value)?;
                        }
                    }
                    meta_tx.insert(LOG_APPLIED_KEY, &binding.to_bytes()[..])?;
                    Ok(())
                },
            );
            match result {
                Ok(()) => Ok(()),
                Err(sled::transaction::TransactionError::Abort(error)) => Err(error),
                Err(sled::transaction::TransactionError::Storage(error)) => Err(error.into()),
            }
        })
    }

    /// Empties the log-derived trees (event ids, places, Merkle nodes) and their binding.
    pub fn clear_log_derived(&self) -> Result<(), StoreError> {
        guarded(|| {
            self.meta.remove(LOG_APPLIED_KEY)?;
            for tree in [&self.event_ids, &self.places, &self.merkle] {
                tree.clear()?;
            }
            Ok(())
        })
    }

    fn clear_all(&self) -> Result<(), StoreError> {
        self.clear_log_derived()?;
        self.meta.clear()?;
        self.derived_clear()
    }

    /// The number of leaves the Merkle tree holds.
    pub fn merkle_leaves(&self) -> Result<u64, StoreError> {
        guarded(|| match self.merkle.last()? {
            None => Ok(0),
            Some((key, value)) => {
                let chunk = numbered_key(&key, "merkle")?;
                let entries = chunk_entries(chunk, &value).ok_or_else(|| damaged_chunk(chunk))?;
                Ok(chunk * MERKLE_CHUNK_LEAVES + entries.len() as u64)
            }
        })
    }

    /// The stored entries of leaves from `leaf` on, in order: (leaf, its nodes).
    pub fn merkle_from(
        &self,
        leaf: u64,
    ) -> impl Iterator<Item = Result<(u64, Vec<u8>), StoreError>> + '_ {
        guarded_iter(
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
                .filter(move |item| !matches!(item, Ok((at, _)) if *at < leaf)),
        )
    }

    fn derived_trees(&self) -> std::sync::RwLockReadGuard<'_, Vec<sled::Tree>> {
        self.derived
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn derived_tree(&self, tree: Derived) -> sled::Tree {
        self.derived_trees()[tree as usize].clone()
    }

    /// A value of a projection tree.
    pub fn derived_get(&self, tree: Derived, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        guarded(|| {
            Ok(self
                .derived_tree(tree)
                .get(key)?
                .map(|value| value.to_vec()))
        })
    }

    /// The entries of a projection tree whose keys start with `prefix`, in key order.
    pub fn derived_scan(
        &self,
        tree: Derived,
        prefix: &[u8],
    ) -> impl Iterator<Item = Result<(Vec<u8>, Vec<u8>), StoreError>> + '_ {
        guarded_iter(self.derived_tree(tree).scan_prefix(prefix).map(|item| {
            item.map(|(key, value)| (key.to_vec(), value.to_vec()))
                .map_err(StoreError::from)
        }))
    }

    /// The entries of a projection tree from key `start` on (inclusive), in key order.
    pub fn derived_from(
        &self,
        tree: Derived,
        start: &[u8],
    ) -> impl Iterator<Item = Result<(Vec<u8>, Vec<u8>), StoreError>> + '_ {
        guarded_iter(self.derived_tree(tree).range(start.to_vec()..).map(|item| {
            item.map(|(key, value)| (key.to_vec(), value.to_vec()))
                .map_err(StoreError::from)
        }))
    }

    /// Applies writes to the projection trees in one transaction (all or nothing). Not fsynced.
    pub fn derived_apply(&self, writes: &[DerivedWrite]) -> Result<(), StoreError> {
        guarded(|| {
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
        })
    }

    /// Writes many entries to the projection trees (not one transaction: for `rebuild`, which
    /// binds the trees to the head only after every entry is written), in key order, one
    /// `insert` each. Not through `sled::Batch`: in sled 0.34.7 applying batches holds about
    /// 3.5 KB of memory per entry written, never given back (measured: 3.5 GB for a million
    /// 60-byte entries, against 263 MB for the same inserts one by one). Not fsynced.
    pub fn derived_bulk(
        &self,
        writes: impl Iterator<Item = (Derived, Vec<u8>, Vec<u8>)>,
    ) -> Result<(), StoreError> {
        guarded(|| {
            let trees = self.derived_trees().clone();
            let mut writes: Vec<(Derived, Vec<u8>, Vec<u8>)> = writes.collect();
            writes.sort_unstable_by(|a, b| (a.0, &a.1).cmp(&(b.0, &b.1)));
            for (tree, key, value) in writes {
                trees[tree as usize].insert(key, value)?;
            }
            Ok(())
        })
    }

    /// Empties every projection tree: drops and reopens it (2.5 times faster than sled's
    /// key-by-key `clear` on a large tree).
    pub fn derived_clear(&self) -> Result<(), StoreError> {
        guarded(|| {
            let mut trees = self
                .derived
                .write()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            for (index, (_, name)) in DERIVED_TREES.iter().enumerate() {
                self.db.drop_tree(name)?;
                trees[index] = self.db.open_tree(name)?;
            }
            Ok(())
        })
    }

    /// Asks sled to write what it holds (not a durability barrier: nothing here needs one).
    pub fn flush(&self) -> Result<(), StoreError> {
        guarded(|| {
            self.db.flush()?;
            Ok(())
        })
    }
}
