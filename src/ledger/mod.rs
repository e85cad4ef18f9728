//! The ledger: an append-only, hash-chained log of sanctions events, and what is derived from it.
//!
//! `Ledger` is the thin place that orders the two rooms: the log (`log/`: segment files, the
//! truth; an append is acknowledged once its frames and the durable head marker are fsynced)
//! and the derived store (`store.rs`: sled, the event-id index, record places, Merkle nodes and
//! the projections; rebuildable, caught up from the log). Appending is in `append.rs`, the
//! auditor's operations (verify, checkpoints, proofs) in `audit.rs`, the checks of a record and
//! the checked reader of the log in `verify.rs`. Recorded time comes from an injected
//! [`Clock`]. Must not: parse outside input (intake does), or present anything (cli does).

mod append;
mod audit;
pub mod bundle;
pub mod chain;
pub mod checkpoint;
pub mod encoding;
pub mod log;
pub mod merkle;
pub mod record;
pub mod store;
pub mod tiles;
pub mod verify;

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use crate::domain::{Event, Name, Timestamp};
use crate::limits;
pub use append::GroupRequest;
pub use audit::VerifyOptions;
use chain::Hash;
use checkpoint::Checkpoint;
use encoding::EncodingError;
use log::{FileStorage, Log, LogError, LogOptions, Place, TailPiece};
use merkle::{Digest, Frontier, Nodes, Rfc6962TreeHasher, TreeHasher};
use record::{Genesis, Record};
use store::{Binding, LogDerived, Opened, Store, StoreError};
pub use verify::{FailureKind, Location, VerifyFailure};
use verify::{Previous, checked_record, checked_records, verify_threads};

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
    /// The derived store failed (the log is not affected).
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The log's files failed.
    #[error(transparent)]
    Log(LogError),
    /// The folder holds a ledger of the earlier layout (records inside sled).
    #[error(
        "{path}: this ledger folder has the store v1 layout (the records inside sled), which this build does not read: export it with the build that wrote it (`sanctions-ledger export --to FILE`) and `restore` the bundle with this one"
    )]
    OldLayout {
        /// The folder.
        path: PathBuf,
    },
    /// The folder does not hold a ledger.
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
    /// An append made on condition that the head is a given record (`If-Match`), when the head
    /// has moved on.
    #[error(
        "the head is record {sequence} ({actual}), not {expected} as the request required; read the head again and resend"
    )]
    HeadMoved {
        /// The head hash the request required.
        expected: Hash,
        /// The head's sequence.
        sequence: u64,
        /// The head's hash.
        actual: Hash,
    },
    /// A write was asked of a ledger opened for reading, or without its derived store.
    #[error("the ledger was opened for reading only ({0})")]
    ReadOnly(&'static str),
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
        "recorded time {offered} is earlier than the head's {head}; recorded times never go back (give --recorded-at {head} or later)"
    )]
    RecordedTimeWentBack {
        /// The head's recorded time.
        head: Timestamp,
        /// The time offered.
        offered: Timestamp,
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
    /// Whether the log-derived trees (event-id index, places, Merkle nodes) were checked too.
    pub derived_checked: bool,
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
            Some(tree) if tree.gives(checkpoint) => Anchoring::Extends {
                since: self.records - checkpoint.size,
            },
            tree => Anchoring::Diverged {
                root: tree
                    .and_then(|tree| tree.root_of(checkpoint.tree))
                    .unwrap_or([0; 32]),
            },
        }
    }
}

/// The tree of the first `size` records: its hash and the chain head it ends at.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TreeHead {
    /// The number of records.
    pub size: u64,
    /// The Merkle tree hash (RFC 6962).
    pub root: Digest,
    /// The hash of record `size` (the genesis hash for 0).
    pub head: Hash,
    /// The first (v1, BLAKE3) tree's hash, when it was computed (to check a checkpoint issued
    /// in that format).
    pub v1_root: Option<Digest>,
}

impl TreeHead {
    /// The root of the tree `tree`, if known.
    pub fn root_of(&self, tree: merkle::TreeVersion) -> Option<Digest> {
        match tree {
            merkle::TreeVersion::V2Rfc6962 => Some(self.root),
            merkle::TreeVersion::V1Blake3 => self.v1_root,
        }
    }

    /// Whether this tree gives `checkpoint`'s root (of the checkpoint's tree format) and head.
    pub fn gives(&self, checkpoint: &Checkpoint) -> bool {
        self.head == checkpoint.head && self.root_of(checkpoint.tree) == Some(checkpoint.root)
    }
}

/// The leaf hash of a record in the ledger's Merkle tree (RFC 6962: SHA-256 of 0x00 and the
/// record's stored bytes).
pub fn leaf_hash(record_bytes: &[u8]) -> Digest {
    Rfc6962TreeHasher.hash_leaf(record_bytes)
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

/// Whether `text` may name who appends (a record's `appended_by`): NFC, no control characters,
/// at most `OPERATOR_BYTES_MAX` bytes. The reason if not.
pub fn check_operator_name(text: &str) -> Result<(), String> {
    check_short_name(text, limits::OPERATOR_BYTES_MAX)
}

/// Options of one append.
#[derive(Clone, Debug)]
pub struct AppendOptions {
    /// Who appends (stored in every record).
    pub appended_by: String,
    /// An explicit recorded time (replaying an archive); else the clock's, never before the head's.
    pub recorded_at: Option<Timestamp>,
}

/// The log folder inside a ledger folder.
const LOG_DIR: &str = "log";
/// The derived store's folder inside a ledger folder.
const DERIVED_DIR: &str = "derived";

impl LedgerError {
    /// Whether this is a full disk (or quota), in the log or the derived store: an error to
    /// report (exit 2), never damage.
    pub fn is_storage_full(&self) -> bool {
        match self {
            LedgerError::Log(error) => error.is_storage_full(),
            LedgerError::Store(error) => error.is_storage_full(),
            _ => false,
        }
    }
}

impl From<LogError> for LedgerError {
    fn from(error: LogError) -> LedgerError {
        match error {
            LogError::Damaged(failure) => LedgerError::Damaged(failure),
            other => LedgerError::Log(other),
        }
    }
}

/// Options of a ledger (tests ask for small segments).
#[derive(Clone, Copy, Debug, Default)]
pub struct LedgerOptions {
    /// The log's options.
    pub log: LogOptions,
}

/// What opening a ledger found and did: a torn tail cut, a derived store emptied or rebuilt.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Recovery {
    /// Bytes after the durable head (never acknowledged): cut and kept aside when the ledger
    /// opened for writing, only found when it opened for reading.
    pub tail: Vec<TailPiece>,
    /// Why the log-derived trees were emptied and rebuilt from the log, if they were.
    pub derived_rebuilt: Option<String>,
    /// Records the derived store was caught up with from the log.
    pub derived_caught_up: u64,
    /// Records after the durable head that form complete appends (written whole, the marker
    /// not yet advanced, or its newest slot damaged): kept when the ledger opened for writing.
    pub recovered_records: u64,
    /// Damage of the head marker file that opening for writing repaired.
    pub head_repaired: Option<String>,
}

/// The log-derived data of records appended since the derived store's binding, kept in
/// memory until written (an append is acknowledged by the log alone, not by sled).
#[derive(Default)]
struct Pending {
    added: LogDerived,
    ids: HashMap<String, u64>,
    last: Option<(u64, Hash)>,
}

impl Pending {
    fn len(&self) -> usize {
        self.added.offsets.len()
    }
}

/// The Merkle tree's nodes: those of pending records from memory, the rest from the store.
struct DerivedNodes<'a> {
    store: &'a Store,
    pending: &'a Pending,
}

impl Nodes for DerivedNodes<'_> {
    type Error = StoreError;
    fn node(&self, level: u32, index: u64) -> Result<[u8; 32], StoreError> {
        let leaf = merkle::completing_leaf(level, index);
        let first = self.pending.added.first;
        if self.pending.len() > 0 && leaf + 1 >= first {
            let nodes = self
                .pending
                .added
                .nodes
                .get((leaf + 1 - first) as usize)
                .ok_or(StoreError::MissingNode { level, index })?;
            let at = level as usize * 32;
            return nodes
                .get(at..at + 32)
                .and_then(|bytes| bytes.try_into().ok())
                .ok_or(StoreError::MissingNode { level, index });
        }
        self.store.node(level, index)
    }
}

/// An open ledger folder.
pub struct Ledger {
    path: PathBuf,
    log: Log,
    genesis: Genesis,
    head: Head,
    /// The derived store, once attached (`open` attaches it; `open_read` does not).
    store: Option<Store>,
    pending: Pending,
    /// The Merkle tree's right edge at the head (known once the derived store is attached).
    frontier: Option<Frontier>,
    recovery: Recovery,
    /// Opened on storage of the caller's, with no folder: it has no derived store.
    detached: bool,
}

fn check_new_folder(path: &Path) -> Result<(), LedgerError> {
    if path.exists() {
        let mut entries = std::fs::read_dir(path).map_err(|source| {
            LedgerError::Store(StoreError::Io {
                path: path.to_owned(),
                source,
            })
        })?;
        if entries.next().is_some() {
            return Err(LedgerError::AlreadyExists {
                path: path.to_owned(),
            });
        }
    }
    Ok(())
}

fn sync_folder(path: &Path) -> Result<(), LedgerError> {
    std::fs::File::open(path)
        .and_then(|folder| folder.sync_all())
        .map_err(|source| {
            LedgerError::Store(StoreError::Io {
                path: path.to_owned(),
                source,
            })
        })
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
        Ledger::init_with_genesis(path, &genesis_bytes, LedgerOptions::default())
    }

    /// Creates a ledger with given genesis bytes (a restore keeps the original's identity).
    pub fn init_with_genesis(
        path: &Path,
        genesis_bytes: &[u8],
        options: LedgerOptions,
    ) -> Result<Ledger, LedgerError> {
        let genesis =
            Genesis::from_bytes(genesis_bytes).map_err(|error| LedgerError::InvalidOrigin {
                reason: error.to_string(),
            })?;
        check_new_folder(path)?;
        let log_path = path.join(LOG_DIR);
        let storage = FileStorage::writer(&log_path, true)
            .map_err(|source| LogError::Io {
                file: ".".into(),
                action: "creating the log folder",
                source,
            })?
            .ok_or(LogError::Locked)?;
        sync_folder(path)?;
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            sync_folder(parent)?;
        }
        let log = Log::create(Box::new(storage), genesis_bytes, options.log)?;
        let genesis_hash = log.genesis_hash();
        let mut ledger = Ledger {
            path: path.to_owned(),
            log,
            genesis,
            head: Head {
                sequence: 0,
                hash: genesis_hash,
                recorded_at: None,
            },
            store: None,
            pending: Pending::default(),
            frontier: None,
            recovery: Recovery::default(),
            detached: false,
        };
        ledger.attach_derived()?;
        Ok(ledger)
    }

    /// Opens a ledger for writing: the log (a torn tail after the durable head is cut and kept
    /// aside), then the derived store, caught up with the log.
    pub fn open(path: &Path) -> Result<Ledger, LedgerError> {
        Ledger::open_with(path, LedgerOptions::default())
    }

    /// [`Ledger::open`] with options.
    pub fn open_with(path: &Path, options: LedgerOptions) -> Result<Ledger, LedgerError> {
        let mut ledger = Ledger::open_log(path, true, options)?;
        ledger.attach_derived()?;
        ledger.check_tail()?;
        Ok(ledger)
    }

    /// Re-reads and checks the last `TAIL_CHECK_RECORDS` records (hash, encoding, links), so
    /// that a writer never appends after damage at the end of the log. (Records read by a
    /// catch-up were checked as they were read; `verify` checks them all.)
    fn check_tail(&self) -> Result<(), LedgerError> {
        let from = self
            .head
            .sequence
            .saturating_sub(limits::TAIL_CHECK_RECORDS - 1)
            .max(1);
        for checked in self.checked_range(from, self.head.sequence) {
            checked?;
        }
        Ok(())
    }

    /// Opens a ledger's log for reading only: nothing in the folder is written (a torn tail
    /// is only reported), and the derived store is not opened (see
    /// [`Ledger::attach_derived`]). For verification and for reading a damaged ledger.
    pub fn open_read(path: &Path) -> Result<Ledger, LedgerError> {
        Ledger::open_log(path, false, LedgerOptions::default())
    }

    fn open_log(
        path: &Path,
        writable: bool,
        options: LedgerOptions,
    ) -> Result<Ledger, LedgerError> {
        let log_path = path.join(LOG_DIR);
        if !log_path.is_dir() {
            if path.join("conf").is_file() && path.join("db").is_file() {
                return Err(LedgerError::OldLayout {
                    path: path.to_owned(),
                });
            }
            return Err(LedgerError::NotALedger {
                path: path.to_owned(),
            });
        }
        let storage = if writable {
            FileStorage::writer(&log_path, false)
                .map_err(|source| LogError::Io {
                    file: "lock".into(),
                    action: "taking the writer's lock",
                    source,
                })?
                .ok_or(LogError::Locked)?
        } else {
            FileStorage::reader(&log_path)
        };
        let log = match Log::open(Box::new(storage), writable, options.log) {
            Err(LogError::NotALedger) => {
                return Err(LedgerError::NotALedger {
                    path: path.to_owned(),
                });
            }
            other => other?,
        };
        Ledger::from_log(path, log)
    }

    /// Opens a ledger's log on storage of the caller's (a test's fault-injecting storage, say),
    /// with no derived store: for verifying the log alone ([`VerifyOptions::log_only`]).
    pub fn open_storage(
        storage: Box<dyn log::Storage>,
        writable: bool,
        options: LedgerOptions,
    ) -> Result<Ledger, LedgerError> {
        let log = Log::open(storage, writable, options.log)?;
        let mut ledger = Ledger::from_log(Path::new(""), log)?;
        ledger.detached = true;
        Ok(ledger)
    }

    fn from_log(path: &Path, log: Log) -> Result<Ledger, LedgerError> {
        let genesis = Genesis::from_bytes(log.genesis_bytes()).map_err(|error| {
            LedgerError::Damaged(
                VerifyFailure::new(0, FailureKind::Undecodable, format!("genesis: {error}"))
                    .at("log/genesis", 0),
            )
        })?;
        let marker = log.marker();
        let recorded_at = if marker.sequence == 0 {
            None
        } else {
            let place = Place {
                segment: marker.segment,
                offset: marker.frame_offset,
            };
            let frame = log
                .read_frame(marker.sequence, place)
                .map_err(LedgerError::Damaged)?;
            let record = Record::from_bytes(&frame.record_bytes).map_err(|error| {
                LedgerError::Damaged(VerifyFailure::new(
                    marker.sequence,
                    FailureKind::Undecodable,
                    format!("record: {error}"),
                ))
            })?;
            Some(record.recorded_at)
        };
        let recovery = Recovery {
            tail: log.tail().to_vec(),
            recovered_records: log.recovered(),
            head_repaired: log.head_repaired().map(ToString::to_string),
            ..Recovery::default()
        };
        Ok(Ledger {
            path: path.to_owned(),
            head: Head {
                sequence: marker.sequence,
                hash: marker.hash,
                recorded_at,
            },
            log,
            genesis,
            store: None,
            pending: Pending::default(),
            frontier: None,
            recovery,
            detached: false,
        })
    }

    /// Opens the derived store (creating it if missing) and catches it up with the log: its
    /// log-derived trees are checked to be bound to a record the log holds with that hash
    /// (else emptied), then extended with the records after their binding. A store that sled
    /// will not open is an error that says how to rebuild it; nothing is lost (the log is the
    /// truth).
    pub fn attach_derived(&mut self) -> Result<(), LedgerError> {
        if self.store.is_some() {
            return Ok(());
        }
        if self.detached {
            return Err(LedgerError::ReadOnly(
                "opened on the caller's storage: it has no derived store",
            ));
        }
        let (store, opened) = Store::open(&self.path.join(DERIVED_DIR))?;
        if let Opened::Emptied { reason } = opened
            && self.head.sequence > 0
        {
            self.recovery.derived_rebuilt = Some(reason);
        }
        let from = match self.valid_binding(&store)? {
            Some(binding) => binding,
            None => {
                if self.recovery.derived_rebuilt.is_none() {
                    self.recovery.derived_rebuilt =
                        Some("the derived store's binding names no record of this log".to_owned());
                }
                store.clear_log_derived()?;
                (0, self.genesis_hash())
            }
        };
        let frontier = Frontier::load(from.0, &store)?;
        self.store = Some(store);
        self.frontier = Some(frontier);
        self.pending = Pending {
            added: LogDerived {
                first: from.0 + 1,
                ..LogDerived::default()
            },
            ..Pending::default()
        };
        self.catch_up(from)?;
        Ok(())
    }

    /// The derived store's binding, if it names a record this log holds with that hash and the
    /// stored tree has exactly that many leaves.
    fn valid_binding(&self, store: &Store) -> Result<Option<(u64, Hash)>, LedgerError> {
        let Some(binding) = store.log_binding()? else {
            return Ok((store.merkle_leaves()? == 0).then_some((0, self.genesis_hash())));
        };
        if binding.sequence > self.head.sequence || store.merkle_leaves()? != binding.sequence {
            return Ok(None);
        }
        if binding.sequence == 0 {
            return Ok(
                (Hash(binding.hash) == self.genesis_hash()).then_some((0, Hash(binding.hash)))
            );
        }
        let Some(offset) = store.place_of(binding.sequence)? else {
            return Ok(None);
        };
        let Some(segment) = self.log.segment_of(binding.sequence) else {
            return Ok(None);
        };
        let frame = self
            .log
            .read_frame(binding.sequence, Place { segment, offset });
        Ok(match frame {
            Ok(frame) if frame.stored_hash.0 == binding.hash => {
                Some((binding.sequence, Hash(binding.hash)))
            }
            _ => None,
        })
    }

    /// Reads the records after `from` (a sequence and its hash) from the log and adds what
    /// they derive to the pending data, writing it to the store in bounded batches.
    fn catch_up(&mut self, from: (u64, Hash)) -> Result<(), LedgerError> {
        let mut next = self.start_after(from.0)?;
        while self.pending.last.map_or(from.0, |(sequence, _)| sequence) < self.head.sequence {
            let batch: Vec<verify::Checked> = checked_records(
                &self.log,
                next.0,
                next.1,
                Some(self.head.sequence),
                verify_threads(),
            )
            .take(limits::DERIVED_CATCH_UP_RECORDS)
            .collect::<Result<_, _>>()
            .map_err(LedgerError::Damaged)?;
            let Some(last) = batch.last() else {
                break;
            };
            next = (
                Some((
                    last.sequence + 1,
                    Place {
                        segment: last.place.segment,
                        offset: last.place.offset + last.frame_len,
                    },
                )),
                Previous {
                    hash: last.hash,
                    recorded_at: Some(last.record.recorded_at),
                },
            );
            self.recovery.derived_caught_up += batch.len() as u64;
            for checked in batch {
                self.push_pending(
                    checked.event.id().as_str().to_owned(),
                    checked.sequence,
                    checked.place,
                    checked.hash,
                    checked.leaf,
                );
            }
            self.flush_derived()?;
        }
        Ok(())
    }

    /// Where reading starts for the record after `sequence`, and what precedes it.
    fn start_after(&self, sequence: u64) -> Result<(Option<(u64, Place)>, Previous), LedgerError> {
        if sequence == 0 {
            return Ok((
                None,
                Previous {
                    hash: self.genesis_hash(),
                    recorded_at: None,
                },
            ));
        }
        let place = self.place_of(sequence)?;
        let frame = self
            .log
            .read_frame(sequence, place)
            .map_err(LedgerError::Damaged)?;
        let record = verify::check_record(sequence, &frame.record_bytes, None, None)
            .map_err(LedgerError::Damaged)?;
        Ok((
            Some((
                sequence + 1,
                Place {
                    segment: place.segment,
                    offset: place.offset + frame.frame_len(),
                },
            )),
            Previous {
                hash: frame.stored_hash,
                recorded_at: Some(record.recorded_at),
            },
        ))
    }

    /// Adds one acknowledged record to the pending log-derived data: its id, place and the
    /// Merkle nodes its leaf completes.
    fn push_pending(
        &mut self,
        event_id: String,
        sequence: u64,
        place: Place,
        hash: Hash,
        leaf: Digest,
    ) {
        let frontier = self.frontier.get_or_insert_with(Frontier::new);
        let nodes = frontier.push(&Rfc6962TreeHasher, leaf).concat();
        self.pending.ids.insert(event_id.clone(), sequence);
        self.pending.added.ids.push((event_id, sequence));
        self.pending.added.offsets.push(place.offset);
        self.pending.added.nodes.push(nodes);
        self.pending.last = Some((sequence, hash));
    }

    /// Writes the pending log-derived data to the derived store, with its binding, in one
    /// transaction. Answers and proofs do not need this (they read pending data too); it bounds
    /// memory and spares the next open a catch-up.
    pub fn flush_derived(&mut self) -> Result<(), LedgerError> {
        let (Some(store), Some((sequence, hash))) = (&self.store, self.pending.last) else {
            return Ok(());
        };
        store.apply_log_derived(
            &self.pending.added,
            Binding {
                sequence,
                hash: hash.0,
            },
        )?;
        self.pending = Pending {
            added: LogDerived {
                first: sequence + 1,
                ..LogDerived::default()
            },
            ..Pending::default()
        };
        Ok(())
    }

    /// The derived store, if attached.
    pub(crate) fn store(&self) -> Result<&Store, LedgerError> {
        self.store
            .as_ref()
            .ok_or(LedgerError::ReadOnly("the derived store is not attached"))
    }

    /// The Merkle tree's nodes (pending ones included).
    fn nodes(&self) -> Result<DerivedNodes<'_>, LedgerError> {
        Ok(DerivedNodes {
            store: self.store()?,
            pending: &self.pending,
        })
    }

    /// What opening found and did.
    pub fn recovery(&self) -> &Recovery {
        &self.recovery
    }

    /// The ledger folder.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The head.
    pub fn head(&self) -> Head {
        self.head
    }

    /// The genesis.
    pub fn genesis(&self) -> &Genesis {
        &self.genesis
    }

    /// The genesis's stored bytes.
    pub fn genesis_bytes(&self) -> &[u8] {
        self.log.genesis_bytes()
    }

    /// The genesis hash (the previous hash of record 1).
    pub fn genesis_hash(&self) -> Hash {
        self.log.genesis_hash()
    }

    /// The log's segments (first sequences) and the durable head marker: for reports.
    pub fn log_files(&self) -> (&[u64], log::format::HeadMarker) {
        (self.log.segments(), self.log.marker())
    }

    /// Where record `sequence`'s frame is: from the pending data, the derived store, or (with
    /// neither) by reading its segment from the start.
    fn place_of(&self, sequence: u64) -> Result<Place, LedgerError> {
        let segment = self
            .log
            .segment_of(sequence)
            .ok_or(LedgerError::BeyondHead {
                size: sequence,
                head: self.head.sequence,
            })?;
        let first = self.pending.added.first;
        if self.pending.len() > 0
            && sequence >= first
            && let Some(offset) = self.pending.added.offsets.get((sequence - first) as usize)
        {
            return Ok(Place {
                segment,
                offset: *offset,
            });
        }
        if let Some(store) = &self.store
            && let Some(offset) = store.place_of(sequence)?
        {
            return Ok(Place { segment, offset });
        }
        let start = Place {
            segment,
            offset: log::format::SEGMENT_HEADER_BYTES,
        };
        for frame in self.log.frames(Some((segment, start))) {
            let frame = frame.map_err(LedgerError::Damaged)?;
            if frame.sequence == sequence {
                return Ok(frame.place);
            }
        }
        Err(LedgerError::BeyondHead {
            size: sequence,
            head: self.head.sequence,
        })
    }

    /// The stored hash and recorded time of record `sequence` (the genesis for 0), unchecked:
    /// what a read of the next record is linked against.
    fn previous_of(&self, sequence: u64) -> Result<Previous, LedgerError> {
        if sequence == 0 {
            return Ok(Previous {
                hash: self.genesis_hash(),
                recorded_at: None,
            });
        }
        let place = self.place_of(sequence)?;
        let frame = self
            .log
            .read_frame(sequence, place)
            .map_err(LedgerError::Damaged)?;
        Ok(Previous {
            hash: frame.stored_hash,
            recorded_at: None,
        })
    }

    /// The stored bytes of record `sequence` (not re-encoded), for proofs and bundles.
    pub fn record_bytes(&self, sequence: u64) -> Result<Vec<u8>, LedgerError> {
        let place = self.place_of(sequence)?;
        Ok(self
            .log
            .read_frame(sequence, place)
            .map_err(LedgerError::Damaged)?
            .record_bytes)
    }

    /// Reads records `from..=to` in order with sequential reads, each checked as `record`
    /// checks one (stored hash, canonical encoding, link to the one before, recorded time).
    pub fn records(
        &self,
        from: u64,
        to: u64,
    ) -> impl Iterator<Item = Result<RecordView, LedgerError>> + '_ {
        self.checked_range(from, to).map(|checked| {
            checked.map(|checked| RecordView {
                hash: checked.hash,
                record: checked.record,
                event: checked.event,
            })
        })
    }

    /// [`Ledger::records`], with each record's place.
    pub(crate) fn checked_range(
        &self,
        from: u64,
        to: u64,
    ) -> impl Iterator<Item = Result<verify::Checked, LedgerError>> + '_ {
        self.kept_range(from, to, &|checked, bytes| {
            checked.into_checked(leaf_hash(bytes))
        })
    }

    /// [`Ledger::checked_range`], with each record's stored bytes (for bundles).
    pub(crate) fn stored_range(
        &self,
        from: u64,
        to: u64,
    ) -> impl Iterator<Item = Result<(verify::Checked, Vec<u8>), LedgerError>> + '_ {
        self.kept_range(from, to, &|checked, bytes| {
            (checked.into_checked(leaf_hash(bytes)), bytes.to_vec())
        })
    }

    fn kept_range<'a, T: Send + 'a>(
        &'a self,
        from: u64,
        to: u64,
        keep: &'a verify::Keep<'a, T>,
    ) -> impl Iterator<Item = Result<T, LedgerError>> + 'a {
        let from = from.max(1);
        let start = if from > to || from > self.head.sequence {
            Ok(None)
        } else {
            self.previous_of(from - 1).and_then(|previous| {
                let place = if from == 1 {
                    None
                } else {
                    Some((from, self.place_of(from)?))
                };
                Ok(Some((place, previous)))
            })
        };
        let (records, failed) = match start {
            Ok(Some((place, previous))) => (
                Some(verify::checked_records_with(
                    &self.log,
                    place,
                    previous,
                    Some(to),
                    verify_threads(),
                    keep,
                )),
                None,
            ),
            Ok(None) => (None, None),
            Err(error) => (None, Some(Err(error))),
        };
        failed.into_iter().chain(
            records
                .into_iter()
                .flatten()
                .map(|item| item.map(|(_, kept)| kept).map_err(LedgerError::Damaged)),
        )
    }

    /// Reads one record, checking its stored hash, encoding and link to its predecessor's
    /// stored hash. `Ok(None)` if there is no such record.
    pub fn record(&self, sequence: u64) -> Result<Option<RecordView>, LedgerError> {
        if sequence == 0 || sequence > self.head.sequence {
            return Ok(None);
        }
        let previous = self.previous_of(sequence - 1)?;
        let place = self.place_of(sequence)?;
        let checked = checked_record(&self.log, sequence, place, Some(previous))
            .map_err(LedgerError::Damaged)?;
        Ok(Some(RecordView {
            hash: checked.hash,
            record: checked.record,
            event: checked.event,
        }))
    }

    /// The sequence an event id is recorded at, if any (needs the derived store).
    pub fn sequence_of(&self, event_id: &str) -> Result<Option<u64>, LedgerError> {
        if let Some(sequence) = self.pending.ids.get(event_id) {
            return Ok(Some(*sequence));
        }
        Ok(self.store()?.sequence_of(event_id)?)
    }
}

impl Drop for Ledger {
    fn drop(&mut self) {
        // Best effort: what is not written here is caught up from the log at the next open.
        if self.flush_derived().is_ok()
            && let Some(store) = &self.store
        {
            let _ = store.flush();
        }
    }
}

impl Ledger {
    /// Opens a ledger to rebuild its derived store: the log for writing; the derived store as it
    /// is, or, if sled will not open it (or panics reading it), after moving it aside (never
    /// deleting it) and starting a new one. Returns where a damaged store was moved.
    pub fn open_for_rebuild(path: &Path) -> Result<(Ledger, Option<PathBuf>), LedgerError> {
        let mut ledger = Ledger::open_log(path, true, LedgerOptions::default())?;
        let derived = path.join(DERIVED_DIR);
        let (store, moved) = match Store::open(&derived) {
            Ok((store, _)) => (store, None),
            Err(StoreError::Locked { path }) => return Err(StoreError::Locked { path }.into()),
            Err(_) => {
                let moved = Store::move_aside(&derived)?;
                (Store::open(&derived)?.0, Some(moved))
            }
        };
        ledger.store = Some(store);
        ledger.frontier = Some(Frontier::new());
        Ok((ledger, moved))
    }

    /// Empties the log-derived trees (event-id index, places, Merkle nodes) and rebuilds them
    /// from the log.
    pub fn rebuild_log_derived(&mut self) -> Result<(), LedgerError> {
        self.store()?.clear_log_derived()?;
        self.pending = Pending {
            added: LogDerived {
                first: 1,
                ..LogDerived::default()
            },
            ..Pending::default()
        };
        self.frontier = Some(Frontier::new());
        self.catch_up((0, self.genesis_hash()))
    }
}
