//! `follow`: a mirror of a log published as C2SP tlog-tiles (a URL or a folder).
//!
//! Fetches the source's checkpoint and checks its signature with the operator's pinned key;
//! compares it with the last checkpoint the mirror kept (a smaller size is a rollback, the same
//! size with another root a fork: both refused, with both signed checkpoints saved as
//! evidence); fetches the entry bundles of the records it lacks, checks every record as `verify`
//! does (hash, canonical bytes, sequence, link to the one before, recorded time) and spools them;
//! checks that its own records plus those give the checkpoint's RFC 6962 root and head; and only
//! then appends them byte for byte (durably, in batches) and keeps the checkpoint. Interrupted at
//! any point, the next run starts from the mirror's head: nothing is lost or appended twice.
//! Memory is bounded: one entry bundle at a time, the rest spooled to a file in the mirror.
//!
//! The HTTP client (ureq, blocking: the core stays synchronous) lives only here.

pub mod witness;

use std::io::{BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::ledger::chain::{self, Hash};
use crate::ledger::checkpoint::{CheckpointError, SignedCheckpoint, VerifierKey, WitnessKey};
use crate::ledger::merkle::{Rfc6962TreeHasher, TreeVersion};
use crate::ledger::tiles::{self, TILE_WIDTH, Tile, TileKind};
use crate::ledger::verify::{self, VerifyFailure};
use crate::ledger::{Clock, Ledger, LedgerError, LedgerOptions, SystemClock, leaf_hash};
use crate::limits;

/// Where a published log is read from.
pub enum Source {
    /// A tiles folder.
    Folder(PathBuf),
    /// A tiles URL (`http://` or `https://`), without the trailing slash.
    Http {
        /// The base URL.
        base: String,
        /// The HTTP client.
        agent: ureq::Agent,
    },
}

impl Source {
    /// A URL if it starts with `http://` or `https://`, else a folder.
    pub fn parse(text: &str) -> Source {
        if text.starts_with("http://") || text.starts_with("https://") {
            let agent = ureq::Agent::config_builder()
                .http_status_as_error(false)
                .timeout_global(Some(Duration::from_secs(
                    limits::FOLLOW_REQUEST_TIMEOUT_SECS,
                )))
                .user_agent(concat!("sanctions-ledger/", env!("CARGO_PKG_VERSION")))
                .build()
                .into();
            Source::Http {
                base: text.trim_end_matches('/').to_owned(),
                agent,
            }
        } else {
            Source::Folder(PathBuf::from(text))
        }
    }

    /// Where a path of the source is, for messages.
    pub fn locate(&self, path: &str) -> String {
        match self {
            Source::Folder(folder) => folder.join(path).display().to_string(),
            Source::Http { base, .. } => format!("{base}/{path}"),
        }
    }

    /// The bytes at `path`, at most `max` of them; `None` if the source has no such file.
    pub fn get(&self, path: &str, max: usize) -> Result<Option<Vec<u8>>, FollowError> {
        let failed = |reason: String| FollowError::Source {
            at: self.locate(path),
            reason,
        };
        match self {
            Source::Folder(folder) => {
                let file = folder.join(path);
                match std::fs::File::open(&file) {
                    Ok(file) => {
                        let mut bytes = Vec::new();
                        file.take(max as u64 + 1)
                            .read_to_end(&mut bytes)
                            .map_err(|error| failed(error.to_string()))?;
                        if bytes.len() > max {
                            return Err(failed(format!("more than {max} bytes")));
                        }
                        Ok(Some(bytes))
                    }
                    Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(None),
                    Err(error) => Err(failed(error.to_string())),
                }
            }
            Source::Http { base, agent } => {
                let url = format!("{base}/{path}");
                let mut response = agent
                    .get(&url)
                    .call()
                    .map_err(|error| failed(error.to_string()))?;
                match response.status().as_u16() {
                    200 => response
                        .body_mut()
                        .with_config()
                        .limit(max as u64)
                        .read_to_vec()
                        .map(Some)
                        .map_err(|error| failed(error.to_string())),
                    404 | 410 => Ok(None),
                    status => Err(failed(format!("HTTP status {status}"))),
                }
            }
        }
    }
}

/// Why a follow stopped.
#[derive(Debug, thiserror::Error)]
pub enum FollowError {
    /// The source could not be read.
    #[error("{at}: {reason}")]
    Source {
        /// The file or URL.
        at: String,
        /// What went wrong.
        reason: String,
    },
    /// The source's checkpoint is malformed or not signed by the pinned key.
    #[error("the source's checkpoint: {0}")]
    Checkpoint(#[from] CheckpointError),
    /// The source serves something that is not what it should be (a tile of the wrong size, a
    /// record that does not check): nothing of it was appended.
    #[error("{at}: {reason}")]
    Invalid {
        /// The file or URL.
        at: String,
        /// What is wrong.
        reason: String,
    },
    /// The source's checkpoint lacks the witness cosignatures the policy asks for.
    #[error("{0}")]
    Witnesses(String),
    /// The mirror's ledger failed.
    #[error(transparent)]
    Ledger(#[from] LedgerError),
    /// The mirror's folder could not be written.
    #[error("{path}: {error}")]
    Io {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        error: std::io::Error,
    },
    /// The source showed a history that contradicts what the mirror holds: refused, with the
    /// evidence saved.
    #[error("{verdict}: {reason} (evidence in {})", evidence.display())]
    Contradiction {
        /// TRUNCATED (a rollback) or DIVERGED (a fork, a rewrite, another log).
        verdict: Verdict,
        /// What was found.
        reason: String,
        /// The folder holding both signed checkpoints.
        evidence: PathBuf,
    },
}

/// How a source's checkpoint contradicts the mirror.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// The source's checkpoint commits to fewer records than one the mirror kept: rolled back.
    Truncated,
    /// Another root for the same records, records that do not give the signed root, or
    /// another log: rewritten or forked.
    Diverged,
}

impl std::fmt::Display for Verdict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Verdict::Truncated => "TRUNCATED",
            Verdict::Diverged => "DIVERGED",
        })
    }
}

/// What a follow did.
#[derive(Clone, Debug)]
pub struct Followed {
    /// The source's checkpoint, now kept by the mirror.
    pub checkpoint: SignedCheckpoint,
    /// The mirror's records before.
    pub before: u64,
    /// Records appended.
    pub appended: u64,
    /// Whether the mirror was created by this run.
    pub created: bool,
    /// Entry bundles fetched.
    pub bundles: u64,
    /// Bytes fetched.
    pub bytes: u64,
    /// The policy's witnesses whose cosignature on the checkpoint verified.
    pub cosigned_by: Vec<String>,
}

/// Which witnesses must have cosigned a checkpoint: at least `required` of `keys`.
#[derive(Clone, Debug, Default)]
pub struct WitnessPolicy {
    /// The witnesses' keys.
    pub keys: Vec<WitnessKey>,
    /// How many of them must have cosigned.
    pub required: usize,
}

impl WitnessPolicy {
    /// The witnesses of the policy whose cosignature on `signed` verifies, if at least the
    /// required number; else why not.
    pub fn check(&self, signed: &SignedCheckpoint) -> Result<Vec<String>, String> {
        let mut cosigned = Vec::new();
        let mut missing = Vec::new();
        for key in &self.keys {
            match key.check_cosignature(signed) {
                Ok(_) => cosigned.push(key.signer()),
                Err(error) => missing.push(format!("{}: {error}", key.signer())),
            }
        }
        if cosigned.len() < self.required {
            return Err(format!(
                "the checkpoint is cosigned by {} of the {} witness(es) required ({})",
                cosigned.len(),
                self.required,
                missing.join("; ")
            ));
        }
        Ok(cosigned)
    }
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> FollowError + '_ {
    move |error| FollowError::Io {
        path: path.to_path_buf(),
        error,
    }
}

/// The mirror's ledger: opened, or created from the source's genesis (checked against the
/// checkpoint's origin).
fn open_mirror(
    source: &Source,
    dir: &Path,
    checkpoint: &SignedCheckpoint,
) -> Result<(Ledger, bool), FollowError> {
    match Ledger::open(dir) {
        Ok(ledger) => return Ok((ledger, false)),
        Err(LedgerError::NotALedger { .. }) => {}
        Err(error) => return Err(error.into()),
    }
    let genesis = source
        .get(tiles::GENESIS_FILE, limits::GENESIS_BYTES_MAX)?
        .ok_or_else(|| FollowError::Invalid {
            at: source.locate(tiles::GENESIS_FILE),
            reason: "missing: a new mirror starts from the log's genesis file".to_owned(),
        })?;
    let hash = chain::genesis_hash(&genesis);
    if hash != checkpoint.checkpoint.log {
        return Err(FollowError::Invalid {
            at: source.locate(tiles::GENESIS_FILE),
            reason: format!(
                "the genesis hashes to {hash}, but the checkpoint names the log {}",
                checkpoint.checkpoint.log
            ),
        });
    }
    let ledger = Ledger::init_with_genesis(dir, &genesis, LedgerOptions::default())?;
    Ok((ledger, true))
}

/// Saves both signed checkpoints (and what was found) in `DIR/forks/<time>/`.
fn save_evidence(
    dir: &Path,
    verdict: Verdict,
    reason: &str,
    held: Option<&SignedCheckpoint>,
    seen: &[u8],
    source: &str,
) -> Result<FollowError, FollowError> {
    let now = SystemClock.now();
    let folder = dir.join("forks").join(format!(
        "{}-{}",
        now.unix_micros(),
        verdict.to_string().to_lowercase()
    ));
    std::fs::create_dir_all(&folder).map_err(io(&folder))?;
    let write = |name: &str, bytes: &[u8]| -> Result<(), FollowError> {
        let path = folder.join(name);
        let mut file = std::fs::File::create(&path).map_err(io(&path))?;
        file.write_all(bytes).map_err(io(&path))?;
        file.sync_all().map_err(io(&path))
    };
    write("source.checkpoint", seen)?;
    if let Some(held) = held {
        write("held.checkpoint", held.text().as_bytes())?;
    }
    let about = serde_json::json!({
        "verdict": verdict.to_string(),
        "reason": reason,
        "source": source,
        "found_at": now.to_string(),
        "files": {
            "source.checkpoint": "the checkpoint the source served, signed by the pinned key",
            "held.checkpoint": "the last checkpoint of the source the mirror kept (absent if none)",
        },
    });
    write(
        "verdict.json",
        serde_json::to_string_pretty(&about)
            .unwrap_or_default()
            .as_bytes(),
    )?;
    if let Ok(dir) = std::fs::File::open(&folder) {
        let _ = dir.sync_all();
    }
    Ok(FollowError::Contradiction {
        verdict,
        reason: reason.to_owned(),
        evidence: folder,
    })
}

/// Follows `source` into the ledger folder `dir` (created if missing), pinning the operator's
/// `key`; `progress` gets (records fetched and checked, records to fetch).
pub fn follow(
    source: &Source,
    dir: &Path,
    key: &VerifierKey,
    policy: &WitnessPolicy,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<Followed, FollowError> {
    let text = source
        .get(tiles::CHECKPOINT_FILE, limits::CHECKPOINT_BYTES_MAX)?
        .ok_or_else(|| FollowError::Source {
            at: source.locate(tiles::CHECKPOINT_FILE),
            reason: "no checkpoint: not a tiles folder or URL".to_owned(),
        })?;
    let signed = SignedCheckpoint::open(&text, key)?;
    let cosigned_by = policy.check(&signed).map_err(FollowError::Witnesses)?;
    if signed.checkpoint.tree != TreeVersion::CURRENT {
        return Err(FollowError::Invalid {
            at: source.locate(tiles::CHECKPOINT_FILE),
            reason: format!(
                "the origin {} is of the first tree format; tiles are of the RFC 6962 tree",
                signed.checkpoint.origin()
            ),
        });
    }
    let (mut ledger, created) = open_mirror(source, dir, &signed)?;
    let source_name = source.locate("");
    let contradiction = |ledger: &Ledger, verdict, reason: String| -> FollowError {
        let held = ledger
            .last_checkpoint()
            .ok()
            .flatten()
            .map(|(_, held)| held);
        match save_evidence(dir, verdict, &reason, held.as_ref(), &text, &source_name) {
            Ok(error) | Err(error) => error,
        }
    };
    let wanted = &signed.checkpoint;
    if wanted.log != ledger.genesis_hash() {
        return Err(contradiction(
            &ledger,
            Verdict::Diverged,
            format!(
                "the source's checkpoint is of the log {}; this mirror is of {}",
                wanted.log,
                ledger.genesis_hash()
            ),
        ));
    }
    if let Some((_, held)) = ledger.last_checkpoint()? {
        let held = &held.checkpoint;
        if wanted.size < held.size {
            return Err(contradiction(
                &ledger,
                Verdict::Truncated,
                format!(
                    "the source's checkpoint commits to {} records; it signed {} before: rolled back",
                    wanted.size, held.size
                ),
            ));
        }
        if wanted.size == held.size && (wanted.root != held.root || wanted.head != held.head) {
            return Err(contradiction(
                &ledger,
                Verdict::Diverged,
                format!(
                    "the source signed two roots for its first {} records: forked",
                    wanted.size
                ),
            ));
        }
    }
    let before = ledger.head().sequence;
    if wanted.size <= before {
        // Nothing to fetch: the records the mirror holds must give the signed tree.
        let tree = ledger.tree_head(wanted.size)?;
        if !tree.gives(wanted) {
            return Err(contradiction(
                &ledger,
                Verdict::Diverged,
                format!(
                    "the mirror's first {} records give another root than the source signed: rewritten",
                    wanted.size
                ),
            ));
        }
        keep_if_new(&mut ledger, &signed)?;
        return Ok(Followed {
            checkpoint: signed,
            before,
            appended: 0,
            created,
            bundles: 0,
            bytes: 0,
            cosigned_by,
        });
    }
    // Fetch, check and spool the records the mirror lacks.
    let spool_path = dir.join("tmp").join("follow.spool");
    let spool_dir = dir.join("tmp");
    std::fs::create_dir_all(&spool_dir).map_err(io(&spool_dir))?;
    let mut spool = BufWriter::new(std::fs::File::create(&spool_path).map_err(io(&spool_path))?);
    let mut frontier = ledger.frontier_at(before)?;
    let head = ledger.head();
    let mut previous = (head.hash, head.recorded_at);
    let (mut bundles, mut bytes_fetched) = (0u64, 0u64);
    let mut sequence = before + 1;
    let to_fetch = wanted.size - before;
    while sequence <= wanted.size {
        let index = (sequence - 1) / TILE_WIDTH;
        let width = (wanted.size - index * TILE_WIDTH).min(TILE_WIDTH) as u32;
        let (tile, bundle) = fetch_bundle(source, index, width)?;
        bundles += 1;
        bytes_fetched += bundle.len() as u64;
        let at = source.locate(&tile.path());
        let entries = tiles::split_entry_bundle(&bundle, tile.width).map_err(|reason| {
            FollowError::Invalid {
                at: at.clone(),
                reason,
            }
        })?;
        for (offset, entry) in entries.iter().enumerate().take(width as usize) {
            let entry_sequence = index * TILE_WIDTH + offset as u64 + 1;
            if entry_sequence < sequence {
                continue;
            }
            // The first new record's link to the mirror's head is checked on its own: a source
            // whose record does not follow the mirror's is a rewrite, not a damaged file.
            let first = entry_sequence == before + 1;
            let link = (!first).then_some(previous.0);
            let record = verify::check_record(entry_sequence, entry, link, previous.1)
                .and_then(|record| {
                    verify::check_event(entry_sequence, &record.event_bytes, record.schema_version)
                        .map(|_| record)
                })
                .map_err(|failure: VerifyFailure| FollowError::Invalid {
                    at: at.clone(),
                    reason: format!("entry {offset}: {failure}"),
                })?;
            if first && record.previous() != previous.0 {
                drop(spool);
                let _ = std::fs::remove_file(&spool_path);
                return Err(contradiction(
                    &ledger,
                    Verdict::Diverged,
                    format!(
                        "the source's record {entry_sequence} does not follow the mirror's record {before} (its previous hash is {}, the mirror's head is {}): the source rewrote the records the mirror holds",
                        record.previous(),
                        previous.0
                    ),
                ));
            }
            frontier.push(&Rfc6962TreeHasher, leaf_hash(entry));
            previous = (chain::record_hash(entry), Some(record.recorded_at));
            spool
                .write_all(&(entry.len() as u32).to_be_bytes())
                .and_then(|()| spool.write_all(entry))
                .map_err(io(&spool_path))?;
            sequence = entry_sequence + 1;
        }
        progress(sequence - 1 - before, to_fetch);
    }
    spool.flush().map_err(io(&spool_path))?;
    drop(spool);
    let root = frontier.root(&Rfc6962TreeHasher);
    if root != wanted.root || previous.0 != wanted.head {
        let _ = std::fs::remove_file(&spool_path);
        return Err(contradiction(
            &ledger,
            Verdict::Diverged,
            format!(
                "the mirror's {before} records and the {to_fetch} the source serves give the root {} and head {}, but the source signed {} and {}: its tiles are not the log it signed, or it rewrote the records the mirror holds",
                Hash(root),
                previous.0,
                Hash(wanted.root),
                wanted.head
            ),
        ));
    }
    let appended = append_spool(&mut ledger, &spool_path)?;
    let _ = std::fs::remove_file(&spool_path);
    keep_if_new(&mut ledger, &signed)?;
    ledger.flush_derived()?;
    Ok(Followed {
        checkpoint: signed,
        before,
        appended,
        created,
        bundles,
        bytes: bytes_fetched,
        cosigned_by,
    })
}

/// The entry bundle `index` of at least `width` entries: the partial one of that width, or
/// the full one if the partial is gone (C2SP lets a log delete partial tiles once full).
fn fetch_bundle(source: &Source, index: u64, width: u32) -> Result<(Tile, Vec<u8>), FollowError> {
    let max = limits::FOLLOW_ENTRY_BUNDLE_BYTES_MAX;
    let partial = Tile {
        kind: TileKind::Entries,
        index,
        width,
    };
    if let Some(bytes) = source.get(&partial.path(), max)? {
        return Ok((partial, bytes));
    }
    let full = Tile {
        width: TILE_WIDTH as u32,
        ..partial
    };
    if u64::from(width) < TILE_WIDTH
        && let Some(bytes) = source.get(&full.path(), max)?
    {
        return Ok((full, bytes));
    }
    Err(FollowError::Source {
        at: source.locate(&partial.path()),
        reason: "missing: the checkpoint commits to records the source does not serve".to_owned(),
    })
}

/// Appends the spooled records (already checked, linked and proven), byte for byte, in
/// durable batches.
fn append_spool(ledger: &mut Ledger, spool_path: &Path) -> Result<u64, FollowError> {
    let mut spool = BufReader::new(std::fs::File::open(spool_path).map_err(io(spool_path))?);
    let mut appended = 0u64;
    let mut batch: Vec<(String, Vec<u8>, Hash)> = Vec::new();
    let mut batch_ids = std::collections::HashSet::new();
    let mut last_time = None;
    loop {
        let mut length = [0u8; 4];
        match spool.read_exact(&mut length) {
            Ok(()) => {}
            Err(error) if error.kind() == std::io::ErrorKind::UnexpectedEof => break,
            Err(error) => return Err(io(spool_path)(error)),
        }
        let mut bytes = vec![0u8; u32::from_be_bytes(length) as usize];
        spool.read_exact(&mut bytes).map_err(io(spool_path))?;
        let sequence = ledger.head().sequence + batch.len() as u64 + 1;
        let record =
            verify::check_record(sequence, &bytes, None, None).map_err(LedgerError::Damaged)?;
        let event = verify::check_event(sequence, &record.event_bytes, record.schema_version)
            .map_err(LedgerError::Damaged)?;
        let id = event.id().as_str().to_owned();
        if let Some(at) = ledger.sequence_of(&id)? {
            return Err(FollowError::Invalid {
                at: format!("record {sequence}"),
                reason: format!(
                    "the source's log records the event id \"{id}\" twice (also at {at}): its log is invalid; the mirror stops before it"
                ),
            });
        }
        if !batch_ids.insert(id.clone()) {
            return Err(FollowError::Invalid {
                at: format!("record {sequence}"),
                reason: format!("the source's log records the event id \"{id}\" twice"),
            });
        }
        last_time = Some(record.recorded_at);
        let hash = chain::record_hash(&bytes);
        batch.push((id, bytes, hash));
        if batch.len() == limits::RESTORE_BATCH_RECORDS {
            appended += batch.len() as u64;
            if let Some(time) = last_time {
                ledger.write_records(std::mem::take(&mut batch), time)?;
            }
            batch_ids.clear();
        }
    }
    if let Some(time) = last_time
        && !batch.is_empty()
    {
        appended += batch.len() as u64;
        ledger.write_records(batch, time)?;
    }
    Ok(appended)
}

/// Keeps the source's checkpoint unless the mirror kept it already.
fn keep_if_new(ledger: &mut Ledger, signed: &SignedCheckpoint) -> Result<(), FollowError> {
    let held = ledger.last_checkpoint()?;
    if held.is_none_or(|(_, held)| held.text() != signed.text()) {
        ledger.keep_checkpoint(signed.text().as_bytes())?;
    }
    Ok(())
}
