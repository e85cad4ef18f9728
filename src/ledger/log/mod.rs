//! The log: append-only segment files in the ledger's `log/` folder, the only copy of the truth.
//!
//! Owns the files' life: creating a log, appending framed records durably (frames, fsync of
//! the segment, then the durable head marker and its fsync; only then is an append
//! acknowledged), reading records back by place or in order, finding and cutting a torn tail
//! after a crash (only bytes after the durable head; kept as evidence), and the append-only file
//! of kept checkpoints. Goes through the [`Storage`] seam for every byte. Must not: decode
//! events, decide what is valid beyond the frames (the ledger does), or ever rewrite, cut or
//! delete a byte at or before the durable head.

pub mod format;
pub mod storage;

use std::io;

use super::chain::{self, Hash};
use super::record::Record;
use super::verify::{FailureKind, VerifyFailure};
use crate::limits;
use format::{
    FRAME_OVERHEAD_BYTES, HEAD_FILE_BYTES, HEAD_SLOT_BYTES, HEAD_SLOT_OFFSETS, HeadMarker,
    SEGMENT_HEADER_BYTES,
};
pub use storage::{FileStorage, Storage};

/// The genesis file's name.
pub const GENESIS_FILE: &str = "genesis";
/// The head marker's file name.
pub const HEAD_FILE: &str = "head";
/// The kept checkpoints' file name.
pub const CHECKPOINTS_FILE: &str = "checkpoints";

/// Why the log failed.
#[derive(Debug, thiserror::Error)]
pub enum LogError {
    /// The folder holds no log.
    #[error("no ledger here (no `log/` folder with a head marker)")]
    NotALedger,
    /// `init` did not finish: files exist but no head marker was written.
    #[error(
        "the ledger was never finished: `log/head` is missing, so `init` was interrupted; nothing was ever acknowledged here, remove the folder and run `init` again"
    )]
    Incomplete,
    /// Another process writes to the log.
    #[error(
        "the ledger is in use by another process (the lock on log/lock is held); try again when it has finished"
    )]
    Locked,
    /// A file operation failed.
    #[error("log/{file}: {action}: {source}")]
    Io {
        /// The file.
        file: String,
        /// What was being done.
        action: &'static str,
        /// The error.
        source: io::Error,
    },
    /// The log is damaged at or before its durable head.
    #[error("{0}")]
    Damaged(VerifyFailure),
}

impl LogError {
    /// Whether this is a full disk (or quota): an error to report, not damage.
    pub fn is_storage_full(&self) -> bool {
        matches!(self, LogError::Io { source, .. } if source.kind() == io::ErrorKind::StorageFull
            || source.kind() == io::ErrorKind::QuotaExceeded)
    }
}

fn io_error<'a>(file: &'a str, action: &'static str) -> impl FnOnce(io::Error) -> LogError + 'a {
    move |source| LogError::Io {
        file: file.to_owned(),
        action,
        source,
    }
}

/// Options of a log (a test may ask for small segments, to exercise roll-over).
#[derive(Clone, Copy, Debug)]
pub struct LogOptions {
    /// A segment is closed, and the next record starts a new one, once another frame would take
    /// it past this size.
    pub segment_bytes_max: u64,
}

impl Default for LogOptions {
    fn default() -> LogOptions {
        LogOptions {
            segment_bytes_max: limits::SEGMENT_BYTES_MAX,
        }
    }
}

/// Where a record's frame is: its segment (by first sequence) and the frame's offset there.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Place {
    /// The first sequence of the segment.
    pub segment: u64,
    /// The offset of the frame's first byte.
    pub offset: u64,
}

/// One frame read back: the record bytes and the hash stored beside them (not yet checked).
#[derive(Clone, Debug)]
pub struct RawFrame {
    /// The sequence this frame stands at in the log (counted, not decoded).
    pub sequence: u64,
    /// Where it is.
    pub place: Place,
    /// The record bytes.
    pub record_bytes: Vec<u8>,
    /// The hash stored after them.
    pub stored_hash: Hash,
    /// Whether the frame ends an append (its length prefix's top bit).
    pub end_of_append: bool,
}

impl RawFrame {
    /// The bytes the frame takes in its segment.
    pub fn frame_len(&self) -> u64 {
        self.record_bytes.len() as u64 + FRAME_OVERHEAD_BYTES
    }
}

/// Bytes after the durable head: written, never acknowledged (a torn tail of a crash, or of a
/// failed append).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TailPiece {
    /// The file.
    pub file: String,
    /// The first byte after what is acknowledged.
    pub offset: u64,
    /// How many bytes.
    pub bytes: u64,
    /// Where they were kept when they were cut (`None` until cut).
    pub kept_as: Option<String>,
}

/// A damage report at a place in the log.
pub(crate) fn damage_at(
    sequence: u64,
    kind: FailureKind,
    file: &str,
    offset: u64,
    detail: impl Into<String>,
) -> VerifyFailure {
    VerifyFailure::new(sequence, kind, detail).at(format!("log/{file}"), offset)
}

/// The log of one ledger folder.
pub struct Log {
    storage: Box<dyn Storage>,
    options: LogOptions,
    genesis_bytes: Vec<u8>,
    genesis_hash: Hash,
    /// The acknowledged segments' first sequences, ascending; the last holds the head.
    segments: Vec<u64>,
    marker: HeadMarker,
    writable: bool,
    /// A write failed: bytes after the durable head may be there, and the marker's slot being
    /// written may hold either value. Settled before the next write.
    dirty: bool,
    /// What lay after the durable head when the log was opened (cut then, if writable).
    tail: Vec<TailPiece>,
    /// Damage found in the head file beside a usable marker (repaired when writable).
    head_damage: Option<VerifyFailure>,
    /// Records after the marker found to be complete appends: adopted when writable, only
    /// counted when read-only.
    recovered: u64,
    /// Damage of the head file that opening for writing repaired (by writing the marker again).
    head_repaired: Option<VerifyFailure>,
}

fn read_whole(storage: &dyn Storage, file: &str, bytes_max: u64) -> Result<Vec<u8>, LogError> {
    let len = storage
        .len(file)
        .map_err(io_error(file, "reading its length"))?
        .ok_or_else(|| LogError::Io {
            file: file.to_owned(),
            action: "opening",
            source: io::Error::from(io::ErrorKind::NotFound),
        })?;
    if len > bytes_max {
        return Err(LogError::Damaged(damage_at(
            0,
            FailureKind::Undecodable,
            file,
            0,
            format!("the file is {len} bytes; at most {bytes_max} are expected"),
        )));
    }
    let mut bytes = vec![0u8; len as usize];
    storage
        .read_at(file, 0, &mut bytes)
        .map_err(io_error(file, "reading"))?;
    Ok(bytes)
}

impl Log {
    /// Creates the log of a new ledger in empty storage: the genesis file, the first segment,
    /// the checkpoints file, and last the head marker (whose absence means `init` never
    /// finished). Everything is durable when this returns.
    pub fn create(
        storage: Box<dyn Storage>,
        genesis_bytes: &[u8],
        options: LogOptions,
    ) -> Result<Log, LogError> {
        let genesis_hash = chain::genesis_hash(genesis_bytes);
        let first = format::segment_name(1);
        let files: [(&str, Vec<u8>); 3] = [
            (GENESIS_FILE, format::genesis_file(genesis_bytes)),
            (&first, format::segment_header(1, &genesis_hash)),
            (CHECKPOINTS_FILE, format::checkpoints_header(&genesis_hash)),
        ];
        for (file, bytes) in &files {
            storage.create(file).map_err(io_error(file, "creating"))?;
            storage
                .write_at(file, 0, bytes)
                .map_err(io_error(file, "writing"))?;
            storage.sync(file).map_err(io_error(file, "syncing"))?;
        }
        let marker = HeadMarker {
            generation: 1,
            sequence: 0,
            segment: 1,
            frame_offset: 0,
            end_offset: SEGMENT_HEADER_BYTES,
            hash: genesis_hash,
            checkpoints_len: format::CHECKPOINTS_HEADER_BYTES,
        };
        storage
            .create(HEAD_FILE)
            .map_err(io_error(HEAD_FILE, "creating"))?;
        // Both slots hold the empty log's marker (generations 0 and 1), so a new log's first
        // open finds no empty slot to report as damage.
        let mut head = vec![0u8; HEAD_FILE_BYTES as usize];
        for generation in [0, 1] {
            let slot = HeadMarker {
                generation,
                ..marker
            };
            let at = slot.slot_offset() as usize;
            head[at..at + HEAD_SLOT_BYTES].copy_from_slice(&slot.to_bytes());
        }
        storage
            .write_at(HEAD_FILE, 0, &head)
            .map_err(io_error(HEAD_FILE, "writing"))?;
        storage
            .sync(HEAD_FILE)
            .map_err(io_error(HEAD_FILE, "syncing"))?;
        storage
            .sync_dir()
            .map_err(io_error(".", "syncing the folder"))?;
        Ok(Log {
            storage,
            options,
            genesis_bytes: genesis_bytes.to_vec(),
            genesis_hash,
            segments: vec![1],
            marker,
            writable: true,
            dirty: false,
            tail: Vec::new(),
            head_damage: None,
            recovered: 0,
            head_repaired: None,
        })
    }

    /// Opens an existing log. Checks the genesis file, picks the newer valid slot of the head
    /// marker, checks that the segment holding the head is there in full and that the head's
    /// frame is the record the marker names. Whatever lies after the durable head was never
    /// acknowledged: a writable log cuts it (keeping the bytes in a `cut-...` file beside the
    /// log, never deleting them), a read-only one only reports it ([`Log::tail`]).
    pub fn open(
        storage: Box<dyn Storage>,
        writable: bool,
        options: LogOptions,
    ) -> Result<Log, LogError> {
        let names = storage.list().map_err(io_error(".", "listing"))?;
        if !names.iter().any(|name| name == HEAD_FILE) {
            let started = names
                .iter()
                .any(|name| name == GENESIS_FILE || format::segment_first(name).is_some());
            return Err(if started {
                LogError::Incomplete
            } else {
                LogError::NotALedger
            });
        }
        let genesis_file = read_whole(
            storage.as_ref(),
            GENESIS_FILE,
            12 + limits::GENESIS_BYTES_MAX as u64,
        )?;
        let genesis_bytes = format::genesis_of_file(&genesis_file)
            .map_err(|reason| {
                LogError::Damaged(damage_at(
                    0,
                    FailureKind::Undecodable,
                    GENESIS_FILE,
                    0,
                    reason,
                ))
            })?
            .to_vec();
        let genesis_hash = chain::genesis_hash(&genesis_bytes);
        let head = read_head(storage.as_ref())?;
        let marker = head.marker;
        let mut all_segments: Vec<u64> = names
            .iter()
            .filter_map(|name| format::segment_first(name))
            .collect();
        all_segments.sort_unstable();
        let segments: Vec<u64> = all_segments
            .iter()
            .copied()
            .filter(|first| *first <= marker.segment)
            .collect();
        let mut log = Log {
            storage,
            options,
            genesis_bytes,
            genesis_hash,
            segments,
            marker,
            writable,
            dirty: false,
            tail: Vec::new(),
            head_damage: head.damage,
            recovered: 0,
            head_repaired: None,
        };
        log.check_genesis()?;
        log.check_head()?;
        let adoptable = log.adoptable(&all_segments)?;
        log.recovered = adoptable.records;
        if writable {
            let repair = log.head_damage.is_some();
            if adoptable.marker.is_some() || adoptable.checkpoints_len > log.marker.checkpoints_len
            {
                let next = adoptable.marker.unwrap_or(log.marker);
                let marker = HeadMarker {
                    generation: log.marker.generation + 1,
                    checkpoints_len: adoptable.checkpoints_len.max(log.marker.checkpoints_len),
                    ..next
                };
                log.write_marker(&marker)?;
                log.segments = all_segments
                    .iter()
                    .copied()
                    .filter(|first| *first <= marker.segment)
                    .collect();
                log.marker = marker;
            } else if repair {
                let marker = HeadMarker {
                    generation: log.marker.generation + 1,
                    ..log.marker
                };
                log.write_marker(&marker)?;
                log.marker = marker;
            }
            if let Some(damage) = log.head_damage.take() {
                log.head_repaired = Some(damage);
            }
        }
        log.tail = log.find_tail(&all_segments)?;
        if writable && !log.tail.is_empty() {
            log.cut_tail()?;
        }
        Ok(log)
    }

    /// Checks that the genesis file, the checkpoints file's header and the head segment's
    /// header name the same genesis; where they do not, the one the other two outvote is
    /// named as damaged (the genesis file when all three differ).
    fn check_genesis(&self) -> Result<(), LogError> {
        let mut checkpoints = [0u8; format::CHECKPOINTS_HEADER_BYTES as usize];
        let checkpoints_named = self
            .storage
            .read_at(CHECKPOINTS_FILE, 0, &mut checkpoints)
            .ok()
            .map(|()| checkpoints[8..40].to_vec());
        let segment_file = format::segment_name(self.marker.segment);
        let mut header = [0u8; SEGMENT_HEADER_BYTES as usize];
        let segment_named = self
            .storage
            .read_at(&segment_file, 0, &mut header)
            .ok()
            .map(|()| header[20..52].to_vec());
        let genesis = Some(self.genesis_hash.0.to_vec());
        if checkpoints_named == genesis
            && segment_named
                .as_ref()
                .is_none_or(|named| Some(named) == genesis.as_ref())
        {
            // (A missing head segment is reported by `check_head`.)
            return Ok(());
        }
        let (file, sequence) = if checkpoints_named == segment_named {
            (GENESIS_FILE.to_owned(), 0)
        } else if checkpoints_named == genesis {
            (segment_file, self.marker.segment)
        } else {
            (CHECKPOINTS_FILE.to_owned(), 0)
        };
        Err(LogError::Damaged(damage_at(
            sequence,
            FailureKind::SegmentDamaged,
            &file,
            0,
            format!(
                "the genesis file, the checkpoints file and the head segment do not name the same genesis (the genesis file hashes to {}); this file is the odd one out",
                self.genesis_hash
            ),
        )))
    }

    /// Finds the complete appends after the durable head (see [`Adoptable`]), reading the head's
    /// segment after its acknowledged end and the segments that follow it.
    fn adoptable(&self, all_segments: &[u64]) -> Result<Adoptable, LogError> {
        let mut found = Adoptable {
            checkpoints_len: self.adoptable_checkpoints()?,
            ..Adoptable::default()
        };
        let mut sequence = self.marker.sequence + 1;
        let mut previous = self.marker.hash;
        let mut pending = 0;
        let files = std::iter::once((self.marker.segment, self.marker.end_offset)).chain(
            all_segments
                .iter()
                .filter(|first| **first > self.marker.segment)
                .map(|first| (*first, 0)),
        );
        'files: for (segment, start) in files {
            let file = format::segment_name(segment);
            let len = self
                .storage
                .len(&file)
                .map_err(io_error(&file, "reading its length"))?
                .unwrap_or(0);
            let mut at = start;
            if start == 0 {
                let mut header = [0u8; SEGMENT_HEADER_BYTES as usize];
                if segment != sequence
                    || len < SEGMENT_HEADER_BYTES
                    || self.storage.read_at(&file, 0, &mut header).is_err()
                    || format::check_segment_header(&header, segment, &self.genesis_hash).is_err()
                {
                    break;
                }
                at = SEGMENT_HEADER_BYTES;
            }
            while at + FRAME_OVERHEAD_BYTES <= len {
                let mut prefix = [0u8; 4];
                if self.storage.read_at(&file, at, &mut prefix).is_err() {
                    break 'files;
                }
                let Ok((record_len, end_of_append)) = format::frame_prefix(prefix) else {
                    break 'files;
                };
                if at + FRAME_OVERHEAD_BYTES + record_len > len {
                    break 'files;
                }
                let mut bytes = vec![0u8; record_len as usize + 32];
                if self.storage.read_at(&file, at + 4, &mut bytes).is_err() {
                    break 'files;
                }
                let stored = Hash(bytes[record_len as usize..].try_into().unwrap_or_default());
                let record_bytes = &bytes[..record_len as usize];
                let fits = chain::record_hash(record_bytes) == stored
                    && Record::from_bytes(record_bytes).is_ok_and(|record| {
                        record.sequence == sequence && record.previous() == previous
                    });
                if !fits {
                    break 'files;
                }
                pending += 1;
                let end = at + FRAME_OVERHEAD_BYTES + record_len;
                if end_of_append {
                    found.records += pending;
                    pending = 0;
                    found.marker = Some(HeadMarker {
                        sequence,
                        segment,
                        frame_offset: at,
                        end_offset: end,
                        hash: stored,
                        ..self.marker
                    });
                }
                sequence += 1;
                previous = stored;
                at = end;
            }
        }
        Ok(found)
    }

    /// The acknowledged length of the checkpoints file, extended over whole checkpoint frames
    /// written after it (a checkpoint whose marker write did not happen).
    fn adoptable_checkpoints(&self) -> Result<u64, LogError> {
        let len = self
            .storage
            .len(CHECKPOINTS_FILE)
            .map_err(io_error(CHECKPOINTS_FILE, "reading its length"))?
            .unwrap_or(0);
        let acknowledged = self.marker.checkpoints_len;
        if len <= acknowledged {
            return Ok(acknowledged);
        }
        let mut bytes = vec![0u8; len as usize];
        self.storage
            .read_at(CHECKPOINTS_FILE, 0, &mut bytes)
            .map_err(io_error(CHECKPOINTS_FILE, "reading"))?;
        let mut end = acknowledged as usize;
        let mut header = format::checkpoints_header(&self.genesis_hash);
        while end < bytes.len() {
            let Some(prefix) = bytes.get(end..end + 4) else {
                break;
            };
            let text_len = u32::from_be_bytes(prefix.try_into().unwrap_or_default()) as usize;
            let next = end + 36 + text_len;
            if text_len == 0 || text_len > limits::CHECKPOINT_BYTES_MAX || next > bytes.len() {
                break;
            }
            header.truncate(format::CHECKPOINTS_HEADER_BYTES as usize);
            header.extend_from_slice(&bytes[end..next]);
            if format::checkpoint_texts(&header, &self.genesis_hash).is_err() {
                break;
            }
            end = next;
        }
        Ok(end as u64)
    }

    /// Checks what the marker says against the files: the head's segment is there, holds every
    /// acknowledged byte, starts with a good header, and its last acknowledged frame is the
    /// head record (sequence and hash). Also that the checkpoints file holds its acknowledged
    /// bytes.
    fn check_head(&self) -> Result<(), LogError> {
        let marker = self.marker;
        let file = format::segment_name(marker.segment);
        let damaged = |kind, offset, detail: String| {
            LogError::Damaged(damage_at(marker.sequence, kind, &file, offset, detail))
        };
        if self.segments.last() != Some(&marker.segment) {
            return Err(damaged(
                FailureKind::Gap,
                0,
                format!(
                    "the segment that holds the head (record {}) is missing",
                    marker.sequence
                ),
            ));
        }
        let len = self
            .storage
            .len(&file)
            .map_err(io_error(&file, "reading its length"))?
            .unwrap_or(0);
        if len < marker.end_offset {
            return Err(damaged(
                FailureKind::Gap,
                len,
                format!(
                    "the segment is {len} bytes, but the durable head says {} of them are acknowledged (records up to {}): acknowledged records are gone",
                    marker.end_offset, marker.sequence
                ),
            ));
        }
        let mut header = vec![0u8; SEGMENT_HEADER_BYTES as usize];
        self.storage
            .read_at(&file, 0, &mut header)
            .map_err(io_error(&file, "reading the header"))?;
        format::check_segment_header(&header, marker.segment, &self.genesis_hash).map_err(
            |reason| {
                LogError::Damaged(damage_at(
                    marker.segment,
                    FailureKind::SegmentDamaged,
                    &file,
                    0,
                    reason,
                ))
            },
        )?;
        if marker.sequence == 0 {
            if marker.end_offset != SEGMENT_HEADER_BYTES || marker.hash != self.genesis_hash {
                return Err(damaged(
                    FailureKind::HeadMismatch,
                    0,
                    "the head marker of an empty log must name the genesis and the first segment's header".into(),
                ));
            }
        } else {
            let frame = self
                .read_frame(
                    marker.sequence,
                    Place {
                        segment: marker.segment,
                        offset: marker.frame_offset,
                    },
                )
                .map_err(LogError::Damaged)?;
            if marker.frame_offset + frame.frame_len() != marker.end_offset {
                return Err(damaged(
                    FailureKind::HeadMismatch,
                    marker.frame_offset,
                    format!(
                        "the head's frame ends at byte {}, the head marker says {}",
                        marker.frame_offset + frame.frame_len(),
                        marker.end_offset
                    ),
                ));
            }
            let actual_hash = chain::record_hash(&frame.record_bytes);
            if actual_hash != frame.stored_hash {
                return Err(LogError::Damaged(
                    damage_at(
                        marker.sequence,
                        FailureKind::HashMismatch,
                        &file,
                        marker.frame_offset,
                        "the head record's bytes do not hash to the stored hash",
                    )
                    .with_hashes(frame.stored_hash, actual_hash),
                ));
            }
            if actual_hash != marker.hash {
                return Err(LogError::Damaged(
                    damage_at(
                        marker.sequence,
                        FailureKind::HeadMismatch,
                        &file,
                        marker.frame_offset,
                        "the head marker's hash is not the hash of the record it points at",
                    )
                    .with_hashes(marker.hash, actual_hash),
                ));
            }
            let record = Record::from_bytes(&frame.record_bytes).map_err(|error| {
                damaged(
                    FailureKind::Undecodable,
                    marker.frame_offset,
                    format!("record: {error}"),
                )
            })?;
            if record.sequence != marker.sequence {
                return Err(damaged(
                    FailureKind::HeadMismatch,
                    marker.frame_offset,
                    format!(
                        "the head marker names record {}, the frame it points at holds record {}",
                        marker.sequence, record.sequence
                    ),
                ));
            }
        }
        let checkpoints_len = self
            .storage
            .len(CHECKPOINTS_FILE)
            .map_err(io_error(CHECKPOINTS_FILE, "reading its length"))?
            .unwrap_or(0);
        if checkpoints_len < marker.checkpoints_len {
            return Err(LogError::Damaged(damage_at(
                0,
                FailureKind::CheckpointMismatch,
                CHECKPOINTS_FILE,
                checkpoints_len,
                format!(
                    "the checkpoints file is {checkpoints_len} bytes; the durable head says {} are acknowledged: kept checkpoints are gone",
                    marker.checkpoints_len
                ),
            )));
        }
        Ok(())
    }

    /// The bytes after the durable head: in the head's segment, in any later segment, and in
    /// the checkpoints file.
    fn find_tail(&self, all_segments: &[u64]) -> Result<Vec<TailPiece>, LogError> {
        let mut pieces = Vec::new();
        // A later segment is never acknowledged, even empty (a roll-over that failed after
        // creating it): it is moved aside whole.
        let mut after = |file: String, acknowledged: u64| -> Result<(), LogError> {
            let len = self
                .storage
                .len(&file)
                .map_err(io_error(&file, "reading its length"))?
                .unwrap_or(0);
            if len > acknowledged || (acknowledged == 0 && format::segment_first(&file).is_some()) {
                pieces.push(TailPiece {
                    file,
                    offset: acknowledged,
                    bytes: len - acknowledged,
                    kept_as: None,
                });
            }
            Ok(())
        };
        after(
            format::segment_name(self.marker.segment),
            self.marker.end_offset,
        )?;
        for first in all_segments
            .iter()
            .filter(|first| **first > self.marker.segment)
        {
            after(format::segment_name(*first), 0)?;
        }
        after(CHECKPOINTS_FILE.to_owned(), self.marker.checkpoints_len)?;
        Ok(pieces)
    }

    /// Cuts the tail found at open: each piece's bytes are first copied to a new file
    /// `cut-<generation>-<file>-at-<offset>` (or, for a whole later segment, the file renamed
    /// to that name), made durable, and only then cut from their file.
    fn cut_tail(&mut self) -> Result<(), LogError> {
        let generation = self.marker.generation;
        let mut pieces = std::mem::take(&mut self.tail);
        for piece in &mut pieces {
            let mut kept = format!("cut-{generation}-{}-at-{}", piece.file, piece.offset);
            let mut attempt = 1;
            while self
                .storage
                .len(&kept)
                .map_err(io_error(&kept, "reading its length"))?
                .is_some()
            {
                attempt += 1;
                kept = format!(
                    "cut-{generation}-{}-at-{}.{attempt}",
                    piece.file, piece.offset
                );
            }
            if piece.offset == 0 {
                self.storage.rename(&piece.file, &kept).map_err(io_error(
                    &piece.file,
                    "moving an unacknowledged segment aside",
                ))?;
            } else {
                self.storage
                    .create(&kept)
                    .map_err(io_error(&kept, "creating"))?;
                let mut copied = 0;
                let mut buffer = vec![0u8; limits::LOG_READ_BLOCK_BYTES];
                while copied < piece.bytes {
                    let take = (piece.bytes - copied).min(buffer.len() as u64) as usize;
                    self.storage
                        .read_at(&piece.file, piece.offset + copied, &mut buffer[..take])
                        .map_err(io_error(&piece.file, "reading the torn tail"))?;
                    self.storage
                        .write_at(&kept, copied, &buffer[..take])
                        .map_err(io_error(&kept, "writing"))?;
                    copied += take as u64;
                }
                self.storage
                    .sync(&kept)
                    .map_err(io_error(&kept, "syncing"))?;
                self.storage
                    .sync_dir()
                    .map_err(io_error(".", "syncing the folder"))?;
                self.storage
                    .truncate(&piece.file, piece.offset)
                    .map_err(io_error(&piece.file, "cutting the torn tail"))?;
                self.storage
                    .sync(&piece.file)
                    .map_err(io_error(&piece.file, "syncing"))?;
            }
            piece.kept_as = Some(kept);
        }
        self.storage
            .sync_dir()
            .map_err(io_error(".", "syncing the folder"))?;
        self.tail = pieces;
        Ok(())
    }

    /// After a failed write: writes the marker again (a slot whose write failed may hold the
    /// new value or garbage; after this the current head is what every later open reads), then
    /// cuts whatever the failed write left after the durable head.
    fn settle(&mut self) -> Result<(), LogError> {
        let marker = HeadMarker {
            generation: self.marker.generation + 1,
            ..self.marker
        };
        self.write_marker(&marker)?;
        self.marker = marker;
        let names = self.storage.list().map_err(io_error(".", "listing"))?;
        let mut all_segments: Vec<u64> = names
            .iter()
            .filter_map(|name| format::segment_first(name))
            .collect();
        all_segments.sort_unstable();
        self.tail = self.find_tail(&all_segments)?;
        if !self.tail.is_empty() {
            self.cut_tail()?;
        }
        self.dirty = false;
        Ok(())
    }

    fn write_marker(&self, marker: &HeadMarker) -> Result<(), LogError> {
        self.storage
            .write_at(HEAD_FILE, marker.slot_offset(), &marker.to_bytes())
            .map_err(io_error(HEAD_FILE, "writing the head marker"))?;
        self.storage
            .sync(HEAD_FILE)
            .map_err(io_error(HEAD_FILE, "syncing the head marker"))
    }

    /// Appends records (their bytes and hashes, in sequence order from the head's next),
    /// durably: frames written and fsynced (a new segment, when one is started, fsynced with
    /// its folder entry), then the head marker written and fsynced. Only when this returns
    /// `Ok` are they acknowledged; on an error nothing is, and the next write first settles
    /// what this one left.
    pub fn append(&mut self, records: &[(&[u8], Hash)]) -> Result<Vec<Place>, LogError> {
        if !self.writable {
            return Err(LogError::Io {
                file: ".".into(),
                action: "appending",
                source: io::Error::other("the log was opened for reading only"),
            });
        }
        let Some((_, last_hash)) = records.last() else {
            return Ok(Vec::new());
        };
        if self.dirty {
            self.settle()?;
        }
        self.dirty = true;
        // Plan the writes: one buffer per segment touched, a new segment when the next frame
        // would take the current one past its size (a segment always holds at least one).
        struct Write {
            segment: u64,
            start: u64,
            bytes: Vec<u8>,
            new: bool,
        }
        let mut writes = vec![Write {
            segment: self.marker.segment,
            start: self.marker.end_offset,
            bytes: Vec::new(),
            new: false,
        }];
        let mut places = Vec::with_capacity(records.len());
        for (index, (record_bytes, hash)) in records.iter().enumerate() {
            let frame_len = record_bytes.len() as u64 + FRAME_OVERHEAD_BYTES;
            let current = writes.last().map_or(0, |w| w.start + w.bytes.len() as u64);
            if current > SEGMENT_HEADER_BYTES
                && current + frame_len > self.options.segment_bytes_max
            {
                let first = self.marker.sequence + 1 + index as u64;
                writes.push(Write {
                    segment: first,
                    start: 0,
                    bytes: format::segment_header(first, &self.genesis_hash),
                    new: true,
                });
            }
            let write = writes.last_mut().expect("one write at least");
            places.push(Place {
                segment: write.segment,
                offset: write.start + write.bytes.len() as u64,
            });
            format::put_frame(
                &mut write.bytes,
                record_bytes,
                hash,
                index + 1 == records.len(),
            );
        }
        let mut created = false;
        for write in &writes {
            if write.bytes.is_empty() {
                continue;
            }
            let file = format::segment_name(write.segment);
            if write.new {
                self.storage
                    .create(&file)
                    .map_err(io_error(&file, "creating a segment"))?;
                created = true;
            }
            self.storage
                .write_at(&file, write.start, &write.bytes)
                .map_err(io_error(&file, "writing records"))?;
            self.storage
                .sync(&file)
                .map_err(io_error(&file, "syncing records"))?;
        }
        if created {
            self.storage
                .sync_dir()
                .map_err(io_error(".", "syncing the folder"))?;
        }
        let last = writes.last().expect("one write at least");
        let last_place = places.last().expect("one record at least");
        let marker = HeadMarker {
            generation: self.marker.generation + 1,
            sequence: self.marker.sequence + records.len() as u64,
            segment: last.segment,
            frame_offset: last_place.offset,
            end_offset: last.start + last.bytes.len() as u64,
            hash: *last_hash,
            checkpoints_len: self.marker.checkpoints_len,
        };
        self.write_marker(&marker)?;
        self.segments
            .extend(writes.iter().filter(|w| w.new).map(|w| w.segment));
        self.marker = marker;
        self.dirty = false;
        Ok(places)
    }

    /// Keeps a signed checkpoint's text, durably: its frame appended to the checkpoints file
    /// and fsynced, then the head marker (which counts the file's acknowledged bytes) advanced.
    pub fn add_checkpoint(&mut self, text: &[u8]) -> Result<(), LogError> {
        if self.dirty {
            self.settle()?;
        }
        self.dirty = true;
        let frame = format::checkpoint_frame(text);
        self.storage
            .write_at(CHECKPOINTS_FILE, self.marker.checkpoints_len, &frame)
            .map_err(io_error(CHECKPOINTS_FILE, "writing a checkpoint"))?;
        self.storage
            .sync(CHECKPOINTS_FILE)
            .map_err(io_error(CHECKPOINTS_FILE, "syncing"))?;
        let marker = HeadMarker {
            generation: self.marker.generation + 1,
            checkpoints_len: self.marker.checkpoints_len + frame.len() as u64,
            ..self.marker
        };
        self.write_marker(&marker)?;
        self.marker = marker;
        self.dirty = false;
        Ok(())
    }

    /// Every kept checkpoint's text, oldest first (the acknowledged part of the file only).
    pub fn checkpoints(&self) -> Result<Vec<Vec<u8>>, LogError> {
        let len = self.marker.checkpoints_len;
        let mut bytes = vec![0u8; len as usize];
        self.storage
            .read_at(CHECKPOINTS_FILE, 0, &mut bytes)
            .map_err(io_error(CHECKPOINTS_FILE, "reading"))?;
        let texts =
            format::checkpoint_texts(&bytes, &self.genesis_hash).map_err(|(offset, reason)| {
                LogError::Damaged(damage_at(
                    0,
                    FailureKind::CheckpointMismatch,
                    CHECKPOINTS_FILE,
                    offset,
                    reason,
                ))
            })?;
        Ok(texts.into_iter().map(|(_, text)| text).collect())
    }

    /// The durable head marker as it stands.
    pub fn marker(&self) -> HeadMarker {
        self.marker
    }

    /// The genesis bytes.
    pub fn genesis_bytes(&self) -> &[u8] {
        &self.genesis_bytes
    }

    /// The genesis hash.
    pub fn genesis_hash(&self) -> Hash {
        self.genesis_hash
    }

    /// What lay after the durable head at open (cut and kept aside if the log is writable).
    pub fn tail(&self) -> &[TailPiece] {
        &self.tail
    }

    /// Damage found in the head file beside a usable marker (a torn or damaged slot, stray
    /// bytes), when the log was opened for reading.
    pub fn head_damage(&self) -> Option<&VerifyFailure> {
        self.head_damage.as_ref()
    }

    /// Damage of the head file that opening for writing repaired.
    pub fn head_repaired(&self) -> Option<&VerifyFailure> {
        self.head_repaired.as_ref()
    }

    /// Records after the older marker that form complete appends: kept (when writable) or
    /// keepable (when read-only).
    pub fn recovered(&self) -> u64 {
        self.recovered
    }

    /// The acknowledged segments' first sequences.
    pub fn segments(&self) -> &[u64] {
        &self.segments
    }

    /// The first sequence of the segment that holds record `sequence` (within the head).
    pub fn segment_of(&self, sequence: u64) -> Option<u64> {
        if sequence == 0 || sequence > self.marker.sequence {
            return None;
        }
        let index = self.segments.partition_point(|first| *first <= sequence);
        index.checked_sub(1).map(|at| self.segments[at])
    }

    /// Reads the frame at `place` (expected to hold record `sequence`), checking only that it
    /// is a whole frame within the acknowledged bytes.
    pub fn read_frame(&self, sequence: u64, place: Place) -> Result<RawFrame, VerifyFailure> {
        let file = format::segment_name(place.segment);
        let end = self.acknowledged_end(place.segment)?;
        let damaged = |kind, detail: String| damage_at(sequence, kind, &file, place.offset, detail);
        if place.offset < SEGMENT_HEADER_BYTES || place.offset + FRAME_OVERHEAD_BYTES > end {
            return Err(damaged(
                FailureKind::FrameDamaged,
                format!("no whole frame can start at byte {} of {end}", place.offset),
            ));
        }
        let mut prefix = [0u8; 4];
        self.storage
            .read_at(&file, place.offset, &mut prefix)
            .map_err(|error| damaged(FailureKind::Unreadable, error.to_string()))?;
        let (len, end_of_append) = format::frame_prefix(prefix)
            .map_err(|reason| damaged(FailureKind::FrameDamaged, reason))?;
        if place.offset + FRAME_OVERHEAD_BYTES + len > end {
            return Err(damaged(
                FailureKind::FrameDamaged,
                format!(
                    "the frame announces {len} record bytes, which run past the segment's {end} acknowledged bytes"
                ),
            ));
        }
        let mut bytes = vec![0u8; len as usize + 32];
        self.storage
            .read_at(&file, place.offset + 4, &mut bytes)
            .map_err(|error| damaged(FailureKind::Unreadable, error.to_string()))?;
        let stored_hash = Hash(bytes[len as usize..].try_into().unwrap_or_default());
        bytes.truncate(len as usize);
        Ok(RawFrame {
            sequence,
            place,
            record_bytes: bytes,
            stored_hash,
            end_of_append,
        })
    }

    /// How many bytes of a segment are acknowledged: the marker's end for the head's segment,
    /// the file's length for an earlier one.
    fn acknowledged_end(&self, segment: u64) -> Result<u64, VerifyFailure> {
        if segment == self.marker.segment {
            return Ok(self.marker.end_offset);
        }
        let file = format::segment_name(segment);
        match self.storage.len(&file) {
            Ok(Some(len)) => Ok(len),
            Ok(None) => Err(damage_at(
                segment,
                FailureKind::Gap,
                &file,
                0,
                "the segment file is missing",
            )),
            Err(error) => Err(damage_at(
                segment,
                FailureKind::Unreadable,
                &file,
                0,
                error.to_string(),
            )),
        }
    }

    /// Reads the acknowledged frames in order, from `start` (a place and the sequence found
    /// there; `None` for the first record), with large sequential reads. Checks the framing on
    /// the way: segment headers, frames whole within their segment, segments that follow on
    /// without a gap, and that the log ends at the head. Stops after the first failure.
    pub fn frames(&self, start: Option<(u64, Place)>) -> Frames<'_> {
        let (sequence, segment_index, offset) = match start {
            None => (1, 0, 0),
            Some((sequence, place)) => (
                sequence,
                self.segments
                    .partition_point(|first| *first < place.segment),
                place.offset,
            ),
        };
        Frames {
            log: self,
            segment_index,
            offset,
            sequence,
            end: None,
            file: None,
            buffer: Vec::new(),
            buffer_start: 0,
            buffer_segment: 0,
            pinned: false,
            done: false,
        }
    }
}

/// What the head file holds: the current marker, and damage found beside it (a slot that fails
/// its checksum, bytes outside the slots that are not zero).
struct HeadFile {
    marker: HeadMarker,
    damage: Option<VerifyFailure>,
}

fn read_head(storage: &dyn Storage) -> Result<HeadFile, LogError> {
    let bytes = read_whole(storage, HEAD_FILE, HEAD_FILE_BYTES)?;
    let mut best: Option<HeadMarker> = None;
    let mut damage = None;
    for offset in HEAD_SLOT_OFFSETS {
        let slot = bytes.get(offset as usize..offset as usize + HEAD_SLOT_BYTES);
        match slot.and_then(HeadMarker::from_bytes) {
            Some(marker) => {
                if best.is_none_or(|best| marker.generation > best.generation) {
                    best = Some(marker);
                }
            }
            None => {
                damage.get_or_insert_with(|| {
                    damage_at(
                        0,
                        FailureKind::HeadMismatch,
                        HEAD_FILE,
                        offset,
                        "a slot of the durable head marker fails its magic or checksum (torn by a crash while it was written, or damaged); the other slot is used, and opening for writing writes it again",
                    )
                });
            }
        }
    }
    if bytes.len() as u64 != HEAD_FILE_BYTES {
        damage = Some(damage_at(
            0,
            FailureKind::HeadMismatch,
            HEAD_FILE,
            0,
            format!(
                "the head file is {} bytes, not {HEAD_FILE_BYTES}",
                bytes.len()
            ),
        ));
    } else if let Some(at) = bytes.iter().enumerate().position(|(at, byte)| {
        *byte != 0
            && !HEAD_SLOT_OFFSETS
                .iter()
                .any(|slot| (*slot as usize..*slot as usize + HEAD_SLOT_BYTES).contains(&at))
    }) {
        damage = Some(damage_at(
            0,
            FailureKind::HeadMismatch,
            HEAD_FILE,
            at as u64,
            "a byte outside the head marker's two slots is not zero",
        ));
    }
    let marker = best.ok_or_else(|| {
        LogError::Damaged(damage_at(
            0,
            FailureKind::HeadMismatch,
            HEAD_FILE,
            0,
            "neither slot of the durable head marker checks out (magic and checksum): what was acknowledged cannot be known; `verify` still reads the segments",
        ))
    })?;
    Ok(HeadFile { marker, damage })
}

/// Complete appends found after the durable head: frames that check out (hash, sequence, link)
/// up to one that ends an append. Written whole, so keeping them keeps all or nothing of each
/// append: after a crash between a segment's fsync and the marker's, or a damaged newest slot.
#[derive(Clone, Copy, Debug, Default)]
struct Adoptable {
    /// The marker that would name them.
    marker: Option<HeadMarker>,
    /// How many records.
    records: u64,
    /// Acknowledged bytes of the checkpoints file, counting whole checkpoint frames after it.
    checkpoints_len: u64,
}

/// The frames of a log in order: see [`Log::frames`].
pub struct Frames<'a> {
    log: &'a Log,
    segment_index: usize,
    /// The file offset of the next frame in the current segment (0: before its header).
    offset: u64,
    /// The sequence the next frame stands at.
    sequence: u64,
    /// The current segment's acknowledged end, once known.
    end: Option<u64>,
    /// The current segment's file name (made once per segment, not per frame).
    file: Option<(u64, std::rc::Rc<str>)>,
    buffer: Vec<u8>,
    /// The file offset of `buffer[0]`.
    buffer_start: u64,
    /// The segment `buffer` holds bytes of.
    buffer_segment: u64,
    /// While a batch borrows `buffer`, it must not be refilled: a frame outside it ends the
    /// batch instead.
    pinned: bool,
    done: bool,
}

/// What reading one more frame gave.
enum Step {
    Frame(FrameMeta),
    /// Pinned, and the next frame (or segment header) is not in the buffer.
    Exhausted,
    Failure(VerifyFailure),
    End,
}

impl Frames<'_> {
    /// Makes `buffer` hold the bytes `at..at + len` of `file`, the current segment (reading
    /// ahead in large blocks). `Ok(false)` when pinned and they are not there.
    fn fill(
        &mut self,
        segment: u64,
        file: &str,
        at: u64,
        len: u64,
        end: u64,
    ) -> Result<bool, VerifyFailure> {
        let have = self.buffer_start..self.buffer_start + self.buffer.len() as u64;
        if self.buffer_segment == segment && at >= have.start && at + len <= have.end {
            return Ok(true);
        }
        if self.pinned {
            return Ok(false);
        }
        let read_len = (limits::LOG_READ_BLOCK_BYTES as u64).max(len).min(end - at);
        self.buffer.resize(read_len as usize, 0);
        self.buffer_start = at;
        self.buffer_segment = segment;
        self.log
            .storage
            .read_at(file, at, &mut self.buffer)
            .map_err(|error| {
                damage_at(
                    self.sequence,
                    FailureKind::Unreadable,
                    file,
                    at,
                    error.to_string(),
                )
            })?;
        Ok(true)
    }

    fn slice(&self, at: u64, len: u64) -> &[u8] {
        let from = (at - self.buffer_start) as usize;
        &self.buffer[from..from + len as usize]
    }

    /// The next frame: its record bytes appended to `copy`, or (with none) left in the buffer,
    /// where the frame's range then points.
    fn step(&mut self, mut copy: Option<&mut Vec<u8>>) -> Step {
        loop {
            let log = self.log;
            let Some(&segment) = log.segments.get(self.segment_index) else {
                // Past the last acknowledged segment: the log must end at the head.
                if self.sequence != log.marker.sequence + 1 {
                    let file = format::segment_name(log.marker.segment);
                    return Step::Failure(damage_at(
                        self.sequence,
                        FailureKind::HeadMismatch,
                        &file,
                        log.marker.end_offset,
                        format!(
                            "the segments end after record {}, the durable head says {}",
                            self.sequence - 1,
                            log.marker.sequence
                        ),
                    ));
                }
                return Step::End;
            };
            if self.file.as_ref().is_none_or(|(at, _)| *at != segment) {
                self.file = Some((segment, format::segment_name(segment).into()));
            }
            let file: std::rc::Rc<str> = self
                .file
                .as_ref()
                .map_or_else(|| "".into(), |(_, name)| name.clone());
            let file = &*file;
            let end = match self.end {
                Some(end) => end,
                None => match log.acknowledged_end(segment) {
                    Ok(end) => {
                        self.end = Some(end);
                        end
                    }
                    Err(failure) => return Step::Failure(failure),
                },
            };
            if self.offset == 0 {
                if segment != self.sequence {
                    return Step::Failure(damage_at(
                        self.sequence,
                        FailureKind::Gap,
                        file,
                        0,
                        format!(
                            "the next record is {}, but the next segment starts at {segment}",
                            self.sequence
                        ),
                    ));
                }
                match self.fill(segment, file, 0, SEGMENT_HEADER_BYTES.min(end), end) {
                    Ok(true) => {}
                    Ok(false) => return Step::Exhausted,
                    Err(failure) => return Step::Failure(failure),
                }
                let header = self.slice(0, SEGMENT_HEADER_BYTES.min(end));
                if let Err(reason) =
                    format::check_segment_header(header, segment, &log.genesis_hash)
                {
                    return Step::Failure(damage_at(
                        self.sequence,
                        FailureKind::SegmentDamaged,
                        file,
                        0,
                        reason,
                    ));
                }
                self.offset = SEGMENT_HEADER_BYTES;
            }
            if self.offset == end {
                if segment == log.marker.segment {
                    self.segment_index = log.segments.len();
                } else if end == SEGMENT_HEADER_BYTES {
                    return Step::Failure(damage_at(
                        self.sequence,
                        FailureKind::SegmentDamaged,
                        file,
                        end,
                        "a segment before the head's holds no record",
                    ));
                } else {
                    self.segment_index += 1;
                }
                self.offset = 0;
                self.end = None;
                continue;
            }
            let at = self.offset;
            let sequence = self.sequence;
            let damaged = |kind, detail: String| damage_at(sequence, kind, file, at, detail);
            if end - at < FRAME_OVERHEAD_BYTES {
                return Step::Failure(damaged(
                    FailureKind::FrameDamaged,
                    format!(
                        "{} bytes are left in the segment, too few for a frame",
                        end - at
                    ),
                ));
            }
            match self.fill(segment, file, at, 4, end) {
                Ok(true) => {}
                Ok(false) => return Step::Exhausted,
                Err(failure) => return Step::Failure(failure),
            }
            let prefix: [u8; 4] = self.slice(at, 4).try_into().unwrap_or_default();
            let (len, end_of_append) = match format::frame_prefix(prefix) {
                Ok(announced) => announced,
                Err(reason) => return Step::Failure(damaged(FailureKind::FrameDamaged, reason)),
            };
            if at + FRAME_OVERHEAD_BYTES + len > end {
                return Step::Failure(damaged(
                    FailureKind::FrameDamaged,
                    format!(
                        "the frame announces {len} record bytes, which run past the segment's {end} acknowledged bytes"
                    ),
                ));
            }
            match self.fill(segment, file, at, FRAME_OVERHEAD_BYTES + len, end) {
                Ok(true) => {}
                Ok(false) => return Step::Exhausted,
                Err(failure) => return Step::Failure(failure),
            }
            let bytes = match copy.as_mut() {
                Some(data) => {
                    let start = data.len();
                    data.extend_from_slice(self.slice(at + 4, len));
                    start..data.len()
                }
                None => {
                    let start = (at + 4 - self.buffer_start) as usize;
                    start..start + len as usize
                }
            };
            let stored_hash = Hash(self.slice(at + 4 + len, 32).try_into().unwrap_or_default());
            let frame = FrameMeta {
                sequence: self.sequence,
                place: Place {
                    segment,
                    offset: at,
                },
                bytes,
                stored_hash,
                end_of_append,
            };
            self.offset = at + FRAME_OVERHEAD_BYTES + len;
            self.sequence += 1;
            return Step::Frame(frame);
        }
    }

    fn next_frame(&mut self) -> Option<Result<RawFrame, VerifyFailure>> {
        let mut data = Vec::new();
        match self.step(Some(&mut data)) {
            Step::Frame(meta) => Some(Ok(RawFrame {
                sequence: meta.sequence,
                place: meta.place,
                record_bytes: data,
                stored_hash: meta.stored_hash,
                end_of_append: meta.end_of_append,
            })),
            Step::Failure(failure) => Some(Err(failure)),
            Step::End | Step::Exhausted => None,
        }
    }

    /// Reads up to `max` frames into `batch`, which then holds the block they were read in
    /// (no copy per frame): the batch ends where the block does. Returns the failure that
    /// stopped it early, if one did.
    pub fn next_batch(&mut self, max: usize, batch: &mut FrameBatch) -> Option<VerifyFailure> {
        batch.frames.clear();
        // The block the last batch borrowed went with it: read a fresh one from here.
        std::mem::swap(&mut self.buffer, &mut batch.data);
        self.buffer.clear();
        let mut failure = None;
        while batch.frames.len() < max && !self.done {
            // The first frame may read a block; the others must lie in it.
            self.pinned = !batch.frames.is_empty();
            match self.step(None) {
                Step::Frame(meta) => batch.frames.push(meta),
                Step::Exhausted => break,
                Step::Failure(found) => {
                    self.done = true;
                    failure = Some(found);
                }
                Step::End => self.done = true,
            }
        }
        self.pinned = false;
        std::mem::swap(&mut self.buffer, &mut batch.data);
        failure
    }
}

/// Where one frame of a [`FrameBatch`] is, and what its frame says.
#[derive(Clone, Debug)]
pub struct FrameMeta {
    /// The sequence it stands at (counted, not decoded).
    pub sequence: u64,
    /// Where it is.
    pub place: Place,
    /// Its record bytes within the batch's buffer.
    pub bytes: std::ops::Range<usize>,
    /// The hash stored after them.
    pub stored_hash: Hash,
    /// Whether the frame ends an append.
    pub end_of_append: bool,
}

/// Frames read in order into one reused buffer, for checking on several threads.
#[derive(Debug, Default)]
pub struct FrameBatch {
    /// The record bytes of every frame, one after the other.
    pub data: Vec<u8>,
    /// Each frame.
    pub frames: Vec<FrameMeta>,
}

impl FrameMeta {
    /// The bytes the frame takes in its segment.
    pub fn frame_len(&self) -> u64 {
        self.bytes.len() as u64 + FRAME_OVERHEAD_BYTES
    }
}

impl Iterator for Frames<'_> {
    type Item = Result<RawFrame, VerifyFailure>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let item = self.next_frame();
        if !matches!(item, Some(Ok(_))) {
            self.done = true;
        }
        item
    }
}
