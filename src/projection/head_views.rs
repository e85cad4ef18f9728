//! The head views file: the state at the head, in one immutable file of ours beside sled.
//!
//! Owns `views/head.views`, written whole (temporary file, fsync, rename) from the projections
//! once they reflect the head, and read by questions about the state and diffs as known at the
//! head without opening sled (whose recovery alone costs most of a second at a million events).
//! It holds, per subject in key order, the subject's details counted at the head and each of its
//! listings' current views; a sparse index of the subjects and a footer binding it to the head
//! (sequence and hash), the projection layout and a BLAKE3 digest of its bytes. Derived: it is
//! rebuilt from the projections, never trusted over them, and `verify` compares it with them.
//! A file bound to another head is stale and ignored. Must not: be written from anything but
//! the projections, or answer a question known at an earlier time.

use std::collections::BTreeSet;
use std::io::{BufReader, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::evaluate::ListingView;
use super::facts::ListingKey;
use super::{Coverage, ProjectionError, Reader};
use crate::domain::CivilDate;
use crate::ledger::chain::{self, Hash, RunningDigest};
use crate::ledger::encoding;
use crate::ledger::{Head, Ledger};
use crate::limits;

/// The folder beside `log/` and `derived/` that holds the head views file.
pub const VIEWS_DIR: &str = "views";
/// The head views file's name in it.
pub const HEAD_VIEWS_FILE: &str = "head.views";
/// First and last bytes of the file, with its layout version.
const MAGIC: &[u8; 8] = b"SLHVIEW1";
/// Each block: its length (u32 LE), its check, its encoding.
/// After the blocks: the coverage of each imported list and the sparse index, encoded together.
/// Footer: index offset, index length, head sequence (u64 LE each), head hash (32), projection
/// layout version (1), subject blocks (u64 LE), BLAKE3 of the index (32), BLAKE3 of every byte
/// before this digest (32), magic (8).
const FOOTER_BYTES: usize = 8 + 8 + 8 + 32 + 1 + 8 + 32 + 32 + 8;

/// Bytes of each block's check: the first bytes of the BLAKE3 of its encoding, so that a
/// question never answers from a damaged block (`verify` compares the whole file).
const BLOCK_CHECK_BYTES: usize = 8;

fn block_check(bytes: &[u8]) -> [u8; BLOCK_CHECK_BYTES] {
    let mut check = [0u8; BLOCK_CHECK_BYTES];
    check.copy_from_slice(
        &chain::digest_in(chain::HEAD_VIEWS_BLOCK_CONTEXT, bytes).0[..BLOCK_CHECK_BYTES],
    );
    check
}

/// A subject's details from one date on: what answers show as its kind and names.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DetailRow {
    /// The date the details are effective from.
    pub effective_on: CivilDate,
    /// The record they come from (its place in the log).
    pub source: u64,
    /// person, entity, vessel or aircraft.
    pub kind: String,
    /// Its names, in every script recorded.
    pub names: Vec<String>,
}

/// One subject's part of the file: its details (counted at the head, by effective date then
/// record) and its listings' current views, by authority then programme.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubjectBlock {
    /// The subject id.
    pub subject: String,
    /// Its details, in the order answers pick from.
    pub details: Vec<DetailRow>,
    /// (authority, programme, view) of each of its listings.
    pub listings: Vec<(String, String, ListingView)>,
}

/// The details shown for a subject on `date`: the latest effective on or before it, else the
/// earliest known (`rows` by effective date, then record).
pub fn detail_on<T>(
    rows: &[T],
    date: CivilDate,
    effective_on: impl Fn(&T) -> CivilDate,
) -> Option<&T> {
    rows.iter()
        .rev()
        .find(|row| effective_on(row) <= date)
        .or_else(|| rows.first())
}

/// Where the file of the ledger at `ledger_path` lives.
pub fn path_of(ledger_path: &Path) -> PathBuf {
    ledger_path.join(VIEWS_DIR).join(HEAD_VIEWS_FILE)
}

fn io_error(path: &Path, action: &'static str) -> impl FnOnce(std::io::Error) -> ProjectionError {
    let path = path.to_owned();
    move |source| ProjectionError::File {
        path,
        action,
        source,
    }
}

fn damaged(path: &Path, what: &str) -> ProjectionError {
    ProjectionError::Damaged(format!("{}: {what}", path.display()))
}

/// Calls `visit` with every subject's block, in key order, from the projections at the head.
pub(crate) fn each_block(
    reader: &Reader<'_>,
    head: u64,
    visit: &mut dyn FnMut(SubjectBlock) -> Result<(), ProjectionError>,
) -> Result<(), ProjectionError> {
    reader.preload_corrections()?;
    let mut block: Option<SubjectBlock> = None;
    super::each_view(reader, None, head, head, &mut |key: ListingKey, view| {
        if block.as_ref().is_none_or(|b| b.subject != key.subject) {
            if let Some(done) = block.take() {
                visit(done)?;
            }
            block = Some(SubjectBlock {
                details: super::counted_details(reader, &key.subject, head)?,
                subject: key.subject.clone(),
                listings: Vec::new(),
            });
        }
        if let Some(block) = block.as_mut() {
            block.listings.push((key.authority, key.programme, view));
        }
        Ok(())
    })?;
    if let Some(done) = block {
        visit(done)?;
    }
    Ok(())
}

/// Hashes and counts what is written, for the footer.
struct Counting<W: Write> {
    inner: W,
    hasher: RunningDigest,
    written: u64,
}

impl<W: Write> Write for Counting<W> {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        let written = self.inner.write(bytes)?;
        self.hasher.update(&bytes[..written]);
        self.written += written as u64;
        Ok(written)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// What [`HeadViews::each_encoded`] calls with each block's subject and encoded bytes.
type EncodedVisit<'v> = dyn FnMut(&str, &[u8]) -> Result<(), ProjectionError> + 'v;

/// Where a new file's blocks come from.
enum Blocks<'h> {
    /// Every subject's, from the projections.
    All,
    /// An older file's, copied as they are, but for the subjects records since have touched,
    /// made again from the projections.
    Since {
        old: &'h HeadViews,
        touched: BTreeSet<String>,
    },
}

/// Writes framed blocks and keeps the sparse index.
struct Blocked<'w> {
    out: Counting<&'w mut dyn Write>,
    index: Vec<(String, u64)>,
    blocks: u64,
    path: &'w Path,
}

impl Blocked<'_> {
    fn block(&mut self, subject: &str, bytes: &[u8]) -> Result<(), ProjectionError> {
        if bytes.len() > limits::DERIVED_VIEW_BYTES_MAX {
            return Err(ProjectionError::Damaged(format!(
                "subject {subject}'s views take {} bytes, more than DERIVED_VIEW_BYTES_MAX ({}): no head views file",
                bytes.len(),
                limits::DERIVED_VIEW_BYTES_MAX
            )));
        }
        if self.blocks.is_multiple_of(limits::HEAD_VIEWS_INDEX_EVERY) {
            self.index.push((subject.to_owned(), self.out.written));
        }
        self.out
            .write_all(&(bytes.len() as u32).to_le_bytes())
            .and_then(|()| self.out.write_all(&block_check(bytes)))
            .and_then(|()| self.out.write_all(bytes))
            .map_err(io_error(self.path, "writing"))?;
        self.blocks += 1;
        Ok(())
    }

    /// `subject`'s block made from the projections, if it has listings.
    fn remade(
        &mut self,
        reader: &Reader<'_>,
        subject: &str,
        head: u64,
    ) -> Result<(), ProjectionError> {
        let mut listings = Vec::new();
        super::each_view(reader, Some(subject), head, head, &mut |key, view| {
            listings.push((key.authority, key.programme, view));
            Ok(())
        })?;
        if listings.is_empty() {
            return Ok(());
        }
        let block = SubjectBlock {
            subject: subject.to_owned(),
            details: super::counted_details(reader, subject, head)?,
            listings,
        };
        self.block(subject, &encoding::encode(&block)?)
    }
}

/// The file's bytes for the projections at the head, written to `out` (for `write` and
/// `verify`); returns the subjects written.
fn produce(
    ledger: &Ledger,
    blocks: Blocks<'_>,
    out: &mut dyn Write,
    path: &Path,
) -> Result<u64, ProjectionError> {
    let reader = super::reader(ledger)?;
    let head = ledger.head();
    let mut blocked = Blocked {
        out: Counting {
            inner: out,
            hasher: RunningDigest::with_context(chain::HEAD_VIEWS_CONTEXT),
            written: 0,
        },
        index: Vec::new(),
        blocks: 0,
        path,
    };
    blocked
        .out
        .write_all(MAGIC)
        .map_err(io_error(path, "writing"))?;
    match blocks {
        Blocks::All => each_block(&reader, head.sequence, &mut |block| {
            blocked.block(&block.subject, &encoding::encode(&block)?)
        })?,
        Blocks::Since { old, touched } => {
            let mut pending = touched.into_iter().peekable();
            old.each_encoded(&mut |subject, bytes| {
                while let Some(before) = pending.next_if(|next| next.as_str() < subject) {
                    blocked.remade(&reader, &before, head.sequence)?;
                }
                match pending.next_if(|next| next == subject) {
                    Some(_) => blocked.remade(&reader, subject, head.sequence),
                    None => blocked.block(subject, bytes),
                }
            })?;
            for after in pending {
                blocked.remade(&reader, &after, head.sequence)?;
            }
        }
    }
    let Blocked {
        mut out,
        index,
        blocks,
        ..
    } = blocked;
    let write_error = || io_error(path, "writing");
    let index_offset = out.written;
    let coverage = super::coverage(ledger, head.sequence)?;
    let index_bytes = encoding::encode(&(coverage, index))?;
    out.write_all(&index_bytes).map_err(write_error())?;
    let mut footer = Vec::with_capacity(FOOTER_BYTES);
    footer.extend_from_slice(&index_offset.to_le_bytes());
    footer.extend_from_slice(&(index_bytes.len() as u64).to_le_bytes());
    footer.extend_from_slice(&head.sequence.to_le_bytes());
    footer.extend_from_slice(&head.hash.0);
    footer.push(super::PROJECTION_FORMAT_VERSION);
    footer.extend_from_slice(&blocks.to_le_bytes());
    footer.extend_from_slice(&chain::digest_in(chain::HEAD_VIEWS_CONTEXT, &index_bytes).0);
    out.hasher.update(&footer);
    footer.extend_from_slice(&out.hasher.finish().0);
    footer.extend_from_slice(MAGIC);
    out.inner.write_all(&footer).map_err(write_error())?;
    out.inner.flush().map_err(write_error())?;
    Ok(blocks)
}

/// How a new file is made: from the stale one, when it is of this layout, bound to a record of
/// this log, no more than `HEAD_VIEWS_CATCH_UP_RECORDS_MAX` records behind, and its blocks
/// read back whole; else from every subject.
fn blocks_for<'h>(
    ledger: &Ledger,
    old: Option<&'h HeadViews>,
) -> Result<Blocks<'h>, ProjectionError> {
    let Some(old) = old else {
        return Ok(Blocks::All);
    };
    let head = ledger.head().sequence;
    let behind = head.saturating_sub(old.footer.sequence);
    let same_log = old.footer.layout == super::PROJECTION_FORMAT_VERSION
        && old.footer.sequence > 0
        && old.footer.sequence < head
        && behind <= limits::HEAD_VIEWS_CATCH_UP_RECORDS_MAX
        && ledger
            .record(old.footer.sequence)?
            .is_some_and(|view| view.hash == old.footer.hash);
    if !same_log {
        return Ok(Blocks::All);
    }
    let reader = super::reader(ledger)?;
    Ok(Blocks::Since {
        old,
        touched: super::touched_subjects(ledger, &reader, old.footer.sequence, head)?,
    })
}

/// Writes the file for the projections at the ledger's head (which they must reflect): whole,
/// through a temporary file beside it, fsynced, renamed, the folder fsynced. Returns the
/// subjects written.
pub fn write(ledger: &Ledger) -> Result<u64, ProjectionError> {
    let path = path_of(ledger.path());
    let folder = path.parent().unwrap_or(Path::new(".")).to_owned();
    std::fs::create_dir_all(&folder).map_err(io_error(&folder, "creating"))?;
    let temporary = folder.join(format!("{HEAD_VIEWS_FILE}.tmp-{}", std::process::id()));
    let old = HeadViews::open_any(ledger);
    let written = blocks_for(ledger, old.as_ref())
        .and_then(|blocks| write_file(ledger, blocks, &temporary))
        // A stale file that cannot be read back whole is not copied from: made whole again.
        .or_else(|error| match old.is_some() {
            true => write_file(ledger, Blocks::All, &temporary),
            false => Err(error),
        });
    let blocks = match written {
        Ok(blocks) => blocks,
        Err(error) => {
            let _ = std::fs::remove_file(&temporary);
            return Err(error);
        }
    };
    std::fs::rename(&temporary, &path).map_err(io_error(&path, "renaming into place"))?;
    std::fs::File::open(&folder)
        .and_then(|dir| dir.sync_all())
        .map_err(io_error(&folder, "syncing"))?;
    Ok(blocks)
}

/// Writes a whole file at `temporary` (created or emptied) and fsyncs it.
fn write_file(
    ledger: &Ledger,
    blocks: Blocks<'_>,
    temporary: &Path,
) -> Result<u64, ProjectionError> {
    let file = std::fs::File::create(temporary).map_err(io_error(temporary, "creating"))?;
    let mut buffered = std::io::BufWriter::with_capacity(1 << 20, file);
    let blocks = produce(ledger, blocks, &mut buffered, temporary)?;
    let file = buffered
        .into_inner()
        .map_err(|error| io_error(temporary, "writing")(error.into_error()))?;
    file.sync_all().map_err(io_error(temporary, "syncing"))?;
    Ok(blocks)
}

/// How the file stands against the ledger's projections.
#[derive(Debug, PartialEq, Eq)]
pub enum Checked {
    /// There is none.
    Absent,
    /// It is bound to another head (or layout): ignored by questions, rewritten by the next
    /// question about the state at the head.
    Stale,
    /// Its bytes are exactly what the projections give.
    Same,
    /// It is bound to the head but differs from what the projections give: why.
    Differs(String),
}

/// Compares the file with what the projections at the head give, byte for byte (streamed:
/// neither is held whole).
pub fn check(ledger: &Ledger) -> Result<Checked, ProjectionError> {
    let path = path_of(ledger.path());
    let footer = match read_footer(&path) {
        Ok(Some(footer)) => footer,
        Ok(None) => return Ok(Checked::Absent),
        Err(error) => return Ok(Checked::Differs(error.to_string())),
    };
    if !footer.is_for(&ledger.head()) {
        return Ok(Checked::Stale);
    }
    let file = std::fs::File::open(&path).map_err(io_error(&path, "opening"))?;
    let mut compare = Compare {
        file: BufReader::with_capacity(1 << 20, file),
        at: 0,
        differs_at: None,
    };
    produce(ledger, Blocks::All, &mut compare, &path)?;
    let mut rest = [0u8; 1];
    let longer = compare.differs_at.is_none()
        && compare
            .file
            .read(&mut rest)
            .map_err(io_error(&path, "reading"))?
            > 0;
    Ok(match compare.differs_at {
        Some(at) => Checked::Differs(format!("byte {at} differs from what the projections give")),
        None if longer => Checked::Differs(format!(
            "longer than the {} bytes the projections give",
            compare.at
        )),
        None => Checked::Same,
    })
}

/// A writer that compares what is written with a file's bytes.
struct Compare {
    file: BufReader<std::fs::File>,
    at: u64,
    differs_at: Option<u64>,
}

impl Write for Compare {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        if self.differs_at.is_none() {
            let mut stored = vec![0u8; bytes.len()];
            let mut read = 0;
            while read < stored.len() {
                match self.file.read(&mut stored[read..])? {
                    0 => break,
                    n => read += n,
                }
            }
            if let Some(offset) = (0..bytes.len()).find(|&i| i >= read || stored[i] != bytes[i]) {
                self.differs_at = Some(self.at + offset as u64);
            }
        }
        self.at += bytes.len() as u64;
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[derive(Debug)]
struct Footer {
    index_offset: u64,
    index_bytes: u64,
    sequence: u64,
    hash: Hash,
    layout: u8,
    index_digest: [u8; 32],
}

impl Footer {
    fn is_for(&self, head: &Head) -> bool {
        self.sequence == head.sequence
            && self.hash == head.hash
            && self.layout == super::PROJECTION_FORMAT_VERSION
    }
}

/// The footer, if the file exists; an error if it is not a head views file.
fn read_footer(path: &Path) -> Result<Option<Footer>, ProjectionError> {
    let mut file = match std::fs::File::open(path) {
        Ok(file) => file,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(error) => return Err(io_error(path, "opening")(error)),
    };
    let file_bytes = file.metadata().map_err(io_error(path, "reading"))?.len();
    if file_bytes < (MAGIC.len() + FOOTER_BYTES) as u64 {
        return Err(damaged(path, "shorter than a footer"));
    }
    let mut footer = [0u8; FOOTER_BYTES];
    file.seek(SeekFrom::End(-(FOOTER_BYTES as i64)))
        .and_then(|_| file.read_exact(&mut footer))
        .map_err(io_error(path, "reading"))?;
    if &footer[FOOTER_BYTES - 8..] != MAGIC {
        return Err(damaged(
            path,
            "not a head views file (or of another version)",
        ));
    }
    let u64_at = |at: usize| u64::from_le_bytes(footer[at..at + 8].try_into().unwrap_or([0; 8]));
    let footer = Footer {
        index_offset: u64_at(0),
        index_bytes: u64_at(8),
        sequence: u64_at(16),
        hash: Hash(footer[24..56].try_into().unwrap_or([0; 32])),
        layout: footer[56],
        index_digest: footer[65..97].try_into().unwrap_or([0; 32]),
    };
    let body_end = file_bytes - FOOTER_BYTES as u64;
    if footer.index_offset < MAGIC.len() as u64
        || footer.index_offset.checked_add(footer.index_bytes) != Some(body_end)
        || footer.index_bytes > limits::DERIVED_VIEW_BYTES_MAX as u64
    {
        return Err(damaged(path, "its footer does not describe it"));
    }
    Ok(Some(footer))
}

/// The file, opened for questions at the head: its footer and sparse index read (a few
/// kilobytes at a million events), the blocks read on demand.
pub struct HeadViews {
    path: PathBuf,
    footer: Footer,
    coverage: Vec<Coverage>,
    index: Vec<(String, u64)>,
}

impl HeadViews {
    /// The file, if there is one bound to the ledger's head; `None` if it is absent, stale or
    /// unreadable (questions then use the projections in sled, which `verify` checks).
    pub fn open_current(ledger: &Ledger) -> Option<HeadViews> {
        HeadViews::open(ledger, true).ok().flatten()
    }

    /// The file whatever head it is bound to (to make a newer one from), if it can be read.
    fn open_any(ledger: &Ledger) -> Option<HeadViews> {
        HeadViews::open(ledger, false).ok().flatten()
    }

    fn open(ledger: &Ledger, current: bool) -> Result<Option<HeadViews>, ProjectionError> {
        let path = path_of(ledger.path());
        let Some(footer) = read_footer(&path)? else {
            return Ok(None);
        };
        if current && !footer.is_for(&ledger.head()) {
            return Ok(None);
        }
        let mut file = std::fs::File::open(&path).map_err(io_error(&path, "opening"))?;
        let mut bytes = vec![0u8; footer.index_bytes as usize];
        file.seek(SeekFrom::Start(footer.index_offset))
            .and_then(|_| file.read_exact(&mut bytes))
            .map_err(io_error(&path, "reading"))?;
        if chain::digest_in(chain::HEAD_VIEWS_CONTEXT, &bytes).0 != footer.index_digest {
            return Err(damaged(&path, "its index does not match its digest"));
        }
        let (coverage, index): (Vec<Coverage>, Vec<(String, u64)>) =
            encoding::decode_derived(&bytes)?;
        if index
            .iter()
            .any(|(_, offset)| *offset >= footer.index_offset)
        {
            return Err(damaged(&path, "its index points past its blocks"));
        }
        Ok(Some(HeadViews {
            path,
            footer,
            coverage,
            index,
        }))
    }

    /// Each imported list's coverage at the head.
    pub fn coverage(&self) -> &[Coverage] {
        &self.coverage
    }

    /// Calls `visit` with each subject's block in key order (only `subject`'s, if given: a
    /// seek through the sparse index and at most `HEAD_VIEWS_INDEX_EVERY` blocks read).
    pub fn each_block(
        &self,
        subject: Option<&str>,
        visit: &mut dyn FnMut(SubjectBlock) -> Result<(), ProjectionError>,
    ) -> Result<(), ProjectionError> {
        let Some(subject) = subject else {
            return self.each_frame(MAGIC.len() as u64, 1 << 20, &mut |bytes| {
                visit(encoding::decode_derived_whole(bytes)?)?;
                Ok(true)
            });
        };
        let at = self
            .index
            .partition_point(|(first, _)| first.as_str() <= subject);
        let Some(entry) = at.checked_sub(1) else {
            return Ok(());
        };
        let mut read = 0u64;
        let mut found = None;
        // A small buffer: one subject's question reads a few blocks, not the file.
        self.each_frame(self.index[entry].1, 1 << 14, &mut |bytes| {
            read += 1;
            // Only the subject id, at the start of the encoding, until it is the one asked.
            let at: String = encoding::decode_derived_prefix(bytes)?;
            match at.as_str().cmp(subject) {
                std::cmp::Ordering::Less if read >= limits::HEAD_VIEWS_INDEX_EVERY => Err(damaged(
                    &self.path,
                    "its index skips more blocks than it may",
                )),
                std::cmp::Ordering::Less => Ok(true),
                std::cmp::Ordering::Equal => {
                    found = Some(encoding::decode_derived_whole(bytes)?);
                    Ok(false)
                }
                std::cmp::Ordering::Greater => Ok(false),
            }
        })?;
        match found {
            Some(block) => visit(block),
            None => Ok(()),
        }
    }

    /// Calls `visit` with each block's subject and encoded bytes, as stored (for a newer file
    /// that copies the blocks no record since has touched).
    fn each_encoded(&self, visit: &mut EncodedVisit<'_>) -> Result<(), ProjectionError> {
        self.each_frame(MAGIC.len() as u64, 1 << 20, &mut |bytes| {
            // A block's encoding begins with its subject id.
            let subject: String = encoding::decode_derived_prefix(bytes)?;
            visit(&subject, bytes)?;
            Ok(true)
        })
    }

    /// Calls `visit` with each block's bytes from byte `start` on (read `buffer_bytes` at a
    /// time), each checked against its check, until `visit` says to stop (false) or the blocks
    /// end.
    fn each_frame(
        &self,
        start: u64,
        buffer_bytes: usize,
        visit: &mut dyn FnMut(&[u8]) -> Result<bool, ProjectionError>,
    ) -> Result<(), ProjectionError> {
        let file = std::fs::File::open(&self.path).map_err(io_error(&self.path, "opening"))?;
        let mut file = BufReader::with_capacity(buffer_bytes, file);
        file.seek(SeekFrom::Start(start))
            .map_err(io_error(&self.path, "reading"))?;
        let mut at = start;
        let mut bytes = Vec::new();
        while at < self.footer.index_offset {
            let mut length = [0u8; 4];
            file.read_exact(&mut length)
                .map_err(io_error(&self.path, "reading"))?;
            let length = u32::from_le_bytes(length) as usize;
            let framed = (4 + BLOCK_CHECK_BYTES + length) as u64;
            if length > limits::DERIVED_VIEW_BYTES_MAX || at + framed > self.footer.index_offset {
                return Err(damaged(
                    &self.path,
                    &format!("the block at byte {at} overruns"),
                ));
            }
            let mut check = [0u8; BLOCK_CHECK_BYTES];
            bytes.resize(length, 0);
            file.read_exact(&mut check)
                .and_then(|()| file.read_exact(&mut bytes))
                .map_err(io_error(&self.path, "reading"))?;
            if check != block_check(&bytes) {
                return Err(damaged(
                    &self.path,
                    &format!(
                        "the block at byte {at} does not match its check (the file was damaged)"
                    ),
                ));
            }
            at += framed;
            if !visit(&bytes)? {
                break;
            }
        }
        Ok(())
    }
}
