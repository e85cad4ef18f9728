//! The log as C2SP tlog-tiles (<https://c2sp.org/tlog-tiles>): tile paths, the bytes of hash
//! tiles and entry bundles, and the writing of a tiles folder.
//!
//! A hash tile at level `L`, index `N` and width `W` (1 to 256) holds the `W` tree hashes at
//! tree level `8 L` starting at index `256 N`: the roots of complete subtrees of `2^(8 L)`
//! leaves, 32 bytes each, in order. An entry bundle `N` of width `W` holds records `256 N + 1`
//! to `256 N + W`, each as a big-endian u16 length and the record's stored bytes. Paths are
//! `tile/<L>/<N>` and `tile/entries/<N>`, `N` written in three-digit groups, all but the last
//! prefixed with `x` (`x001/x234/067`), and `.p/<W>` after a partial tile's index. Everything here
//! is derived from the log: a tiles folder is rebuilt from it, and `follow` checks every byte.

use std::collections::BTreeSet;
use std::io::Write;
use std::path::{Path, PathBuf};

use super::checkpoint::SignedCheckpoint;
use super::merkle::{Nodes, TreeVersion};
use super::{Ledger, LedgerError};

/// Levels of the tree a tile spans (C2SP: 8).
pub const TILE_HEIGHT: u32 = 8;
/// Hashes in a full tile, and entries in a full bundle (C2SP: 256).
pub const TILE_WIDTH: u64 = 1 << TILE_HEIGHT;
/// The name of the checkpoint in a tiles folder.
pub const CHECKPOINT_FILE: &str = "checkpoint";
/// The name of the genesis file beside it (not part of C2SP: what a mirror needs to start the
/// same log; its hash is named by the checkpoint's origin line).
pub const GENESIS_FILE: &str = "genesis";

/// Which tile.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum TileKind {
    /// A hash tile at this level (tree level 8 x level).
    Hashes(u8),
    /// An entry bundle.
    Entries,
}

/// A tile's coordinates.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Tile {
    /// Hashes or entries.
    pub kind: TileKind,
    /// Its index at its level.
    pub index: u64,
    /// How many hashes or entries it holds: 1 to 256 (256: a full tile).
    pub width: u32,
}

/// The most levels a tree of 2^64 leaves has tiles for.
const LEVELS_MAX: u8 = 8;

impl Tile {
    /// Its path in a tiles folder or under a tiles URL.
    pub fn path(&self) -> String {
        let level = match self.kind {
            TileKind::Hashes(level) => level.to_string(),
            TileKind::Entries => "entries".to_owned(),
        };
        let mut index = format!("{:03}", self.index % 1000);
        let mut rest = self.index / 1000;
        while rest > 0 {
            index = format!("x{:03}/{index}", rest % 1000);
            rest /= 1000;
        }
        let partial = if u64::from(self.width) == TILE_WIDTH {
            String::new()
        } else {
            format!(".p/{}", self.width)
        };
        format!("tile/{level}/{index}{partial}")
    }

    /// Parses a path as [`Tile::path`] writes it (and only so: one spelling per tile).
    pub fn parse(path: &str) -> Option<Tile> {
        let rest = path.strip_prefix("tile/")?;
        let (level, rest) = rest.split_once('/')?;
        let kind = if level == "entries" {
            TileKind::Entries
        } else {
            let level: u8 = level.parse().ok()?;
            (level < LEVELS_MAX).then_some(TileKind::Hashes(level))?
        };
        let (index_part, width) = match rest.split_once(".p/") {
            Some((index, width)) => (index, width.parse::<u32>().ok()?),
            None => (rest, TILE_WIDTH as u32),
        };
        if width == 0 || u64::from(width) > TILE_WIDTH {
            return None;
        }
        let mut index: u64 = 0;
        let groups: Vec<&str> = index_part.split('/').collect();
        for (at, group) in groups.iter().enumerate() {
            let digits = if at + 1 < groups.len() {
                group.strip_prefix('x')?
            } else {
                group
            };
            if digits.len() != 3 || !digits.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            index = index
                .checked_mul(1000)?
                .checked_add(digits.parse::<u64>().ok()?)?;
        }
        let tile = Tile { kind, index, width };
        (tile.path() == path).then_some(tile)
    }

    /// The number of leaves (records) the tile's last hash or entry reaches: the smallest tree
    /// that holds it.
    pub fn tree_size_needed(&self) -> Option<u64> {
        let end = self
            .index
            .checked_mul(TILE_WIDTH)?
            .checked_add(u64::from(self.width))?;
        match self.kind {
            TileKind::Entries => Some(end),
            TileKind::Hashes(level) => {
                end.checked_mul(1u64.checked_shl(TILE_HEIGHT * u32::from(level))?)
            }
        }
    }
}

/// The tiles of a tree of `size` leaves at one level, from the tile holding hash (or entry)
/// `from_count` on: each full tile, then the partial one if the count is not a multiple of 256.
fn tiles_from(kind: TileKind, size: u64, from_count: u64) -> impl Iterator<Item = Tile> {
    let count = match kind {
        TileKind::Entries => size,
        TileKind::Hashes(level) => size >> (TILE_HEIGHT * u32::from(level)),
    };
    let first = if from_count >= count {
        count.div_ceil(TILE_WIDTH)
    } else {
        from_count / TILE_WIDTH
    };
    (first..count.div_ceil(TILE_WIDTH)).map(move |index| Tile {
        kind,
        index,
        width: (count - index * TILE_WIDTH).min(TILE_WIDTH) as u32,
    })
}

/// Every tile a tree of `size` leaves has that a tree of `old_size` did not have (all of them
/// for `old_size` 0): the new full tiles and the new partial ones, entry bundles first.
pub fn new_tiles(old_size: u64, size: u64) -> Vec<Tile> {
    let mut tiles: Vec<Tile> = tiles_from(TileKind::Entries, size, old_size).collect();
    for level in 0..LEVELS_MAX {
        let shift = TILE_HEIGHT * u32::from(level);
        if size >> shift == 0 {
            break;
        }
        tiles.extend(tiles_from(TileKind::Hashes(level), size, old_size >> shift));
    }
    tiles
}

/// Why tiles could not be made or written.
#[derive(Debug, thiserror::Error)]
pub enum TilesError {
    /// The ledger could not give what the tile holds.
    #[error(transparent)]
    Ledger(#[from] LedgerError),
    /// The tile reaches past what the log holds.
    #[error("{path} needs a tree of {needed} records; the log holds {head}")]
    BeyondHead {
        /// The tile's path.
        path: String,
        /// The records it needs.
        needed: u64,
        /// The records there are.
        head: u64,
    },
    /// The folder's files cannot be read or written.
    #[error("{path}: {error}")]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// What went wrong.
        error: std::io::Error,
    },
    /// The folder holds tiles of another log or another history: not overwritten.
    #[error("{0}")]
    Foreign(String),
    /// No checkpoint to publish.
    #[error("{0}")]
    NoCheckpoint(String),
}

impl TilesError {
    fn io(path: &Path) -> impl FnOnce(std::io::Error) -> TilesError + '_ {
        move |error| TilesError::Io {
            path: path.to_path_buf(),
            error,
        }
    }
}

/// An entry bundle's bytes from records' stored bytes.
pub fn entry_bundle<'a>(records: impl IntoIterator<Item = &'a [u8]>) -> Vec<u8> {
    let mut bundle = Vec::new();
    for record in records {
        // A record is at most RECORD_BYTES_MAX (64 KiB) and in practice under 49 KiB (an event
        // is at most EVENT_BYTES_MAX, 48 KiB): always within a u16 length.
        let length = u16::try_from(record.len()).unwrap_or(u16::MAX);
        bundle.extend_from_slice(&length.to_be_bytes());
        bundle.extend_from_slice(&record[..usize::from(length)]);
    }
    bundle
}

/// Splits an entry bundle of `width` entries into the entries.
pub fn split_entry_bundle(bytes: &[u8], width: u32) -> Result<Vec<&[u8]>, String> {
    let mut entries = Vec::with_capacity(width as usize);
    let mut rest = bytes;
    while !rest.is_empty() {
        let Some((length, tail)) = rest.split_first_chunk::<2>() else {
            return Err(format!(
                "byte {}: a length is cut short",
                bytes.len() - rest.len()
            ));
        };
        let length = usize::from(u16::from_be_bytes(*length));
        if tail.len() < length {
            return Err(format!(
                "byte {}: an entry of {length} bytes, {} left",
                bytes.len() - rest.len(),
                tail.len()
            ));
        }
        entries.push(&tail[..length]);
        rest = &tail[length..];
    }
    if entries.len() != width as usize {
        return Err(format!(
            "{} entries; the bundle's width is {width}",
            entries.len()
        ));
    }
    Ok(entries)
}

impl Ledger {
    /// The bytes of a tile of this ledger's tree (any tile whose hashes or entries the log
    /// holds: they never change once complete).
    pub fn tile(&self, tile: &Tile) -> Result<Vec<u8>, TilesError> {
        let head = self.head().sequence;
        let needed = tile.tree_size_needed().unwrap_or(u64::MAX);
        if needed > head {
            return Err(TilesError::BeyondHead {
                path: tile.path(),
                needed,
                head,
            });
        }
        let first = tile.index * TILE_WIDTH;
        match tile.kind {
            TileKind::Entries => {
                let records: Vec<Vec<u8>> = self
                    .stored_range(first + 1, first + u64::from(tile.width))
                    .map(|item| item.map(|(_, bytes)| bytes))
                    .collect::<Result<_, _>>()?;
                Ok(entry_bundle(records.iter().map(Vec::as_slice)))
            }
            TileKind::Hashes(level) => {
                let nodes = self.nodes()?;
                let tree_level = TILE_HEIGHT * u32::from(level);
                let mut bytes = Vec::with_capacity(32 * tile.width as usize);
                for at in first..first + u64::from(tile.width) {
                    bytes.extend_from_slice(
                        &nodes
                            .node(tree_level, at)
                            .map_err(|error| TilesError::Ledger(error.into()))?,
                    );
                }
                Ok(bytes)
            }
        }
    }

    /// The newest checkpoint the ledger kept, if it is of the RFC 6962 tree (the one that is
    /// published as tiles).
    pub fn publishable_checkpoint(&self) -> Result<SignedCheckpoint, TilesError> {
        match self.last_checkpoint()? {
            Some((_, signed)) if signed.checkpoint.tree == TreeVersion::CURRENT => Ok(signed),
            Some((number, _)) => Err(TilesError::NoCheckpoint(format!(
                "the newest checkpoint ({number}) is of the first tree format (BLAKE3); `sanctions-ledger checkpoint --key FILE` issues an RFC 6962 one to publish"
            ))),
            None => Err(TilesError::NoCheckpoint(
                "the ledger has no checkpoint yet: `sanctions-ledger checkpoint --key FILE` signs one".to_owned(),
            )),
        }
    }
}

/// What writing a tiles folder did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TilesWritten {
    /// The size of the checkpoint published.
    pub size: u64,
    /// The size of the checkpoint the folder held before (0: none).
    pub previous_size: u64,
    /// Hash tiles written.
    pub hash_tiles: u64,
    /// Entry bundles written.
    pub entry_bundles: u64,
    /// Tiles that were there already, with the same bytes.
    pub unchanged: u64,
    /// Bytes written, the checkpoint and genesis included.
    pub bytes: u64,
}

/// Writes (or brings up to date) the tiles folder `out` for `checkpoint`, a checkpoint this
/// ledger extends: only the tiles the folder's own checkpoint did not have (new full tiles and
/// new partial ones; full tiles never change), each written whole (temporary file, fsync,
/// rename), then the genesis, then the checkpoint last, so a reader never sees a checkpoint whose
/// tiles are missing. A folder whose checkpoint is of another log, or that this ledger does not
/// extend, or newer than `checkpoint`, is not touched.
pub fn write_tiles(
    ledger: &Ledger,
    checkpoint: &SignedCheckpoint,
    out: &Path,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<TilesWritten, TilesError> {
    let signed = &checkpoint.checkpoint;
    ledger.check_extends(signed)?;
    std::fs::create_dir_all(out).map_err(TilesError::io(out))?;
    let checkpoint_path = out.join(CHECKPOINT_FILE);
    let previous_size = match std::fs::read(&checkpoint_path) {
        Ok(text) => {
            let held = SignedCheckpoint::parse(&text).map_err(|error| {
                TilesError::Foreign(format!(
                    "{}: not a checkpoint ({error}); not overwritten",
                    checkpoint_path.display()
                ))
            })?;
            let held = held.checkpoint;
            if held.log != signed.log {
                return Err(TilesError::Foreign(format!(
                    "{} is a checkpoint of another log ({}); this ledger is {}: not overwritten",
                    checkpoint_path.display(),
                    held.origin(),
                    signed.origin()
                )));
            }
            if held.size > signed.size {
                return Err(TilesError::Foreign(format!(
                    "{} is of {} records, newer than the checkpoint to publish ({}): not rolled back",
                    checkpoint_path.display(),
                    held.size,
                    signed.size
                )));
            }
            ledger.check_extends(&held).map_err(|error| {
                TilesError::Foreign(format!(
                    "{}: this ledger does not extend the checkpoint the folder holds ({error}): not overwritten",
                    checkpoint_path.display()
                ))
            })?;
            held.size
        }
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => 0,
        Err(error) => return Err(TilesError::io(&checkpoint_path)(error)),
    };
    let mut written = TilesWritten {
        size: signed.size,
        previous_size,
        ..TilesWritten::default()
    };
    let tiles = new_tiles(previous_size, signed.size);
    let total = tiles.len() as u64;
    let mut folders = BTreeSet::new();
    for (done, tile) in tiles.iter().enumerate() {
        let bytes = ledger.tile(tile)?;
        let path = out.join(tile.path());
        match std::fs::read(&path) {
            Ok(held) if held == bytes => {
                written.unchanged += 1;
                continue;
            }
            Ok(_) => {
                return Err(TilesError::Foreign(format!(
                    "{} holds other bytes than this ledger's tile: not overwritten (a tiles folder of another history?)",
                    path.display()
                )));
            }
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
            Err(error) => return Err(TilesError::io(&path)(error)),
        }
        write_whole(&path, &bytes)?;
        if let Some(parent) = path.parent() {
            folders.insert(parent.to_path_buf());
        }
        written.bytes += bytes.len() as u64;
        match tile.kind {
            TileKind::Entries => written.entry_bundles += 1,
            TileKind::Hashes(_) => written.hash_tiles += 1,
        }
        progress(done as u64 + 1, total);
    }
    for folder in &folders {
        sync_folder(folder)?;
    }
    let genesis_path = out.join(GENESIS_FILE);
    if std::fs::read(&genesis_path).ok().as_deref() != Some(ledger.genesis_bytes()) {
        write_whole(&genesis_path, ledger.genesis_bytes())?;
        written.bytes += ledger.genesis_bytes().len() as u64;
    }
    write_whole(&checkpoint_path, checkpoint.text().as_bytes())?;
    written.bytes += checkpoint.text().len() as u64;
    sync_folder(out)?;
    Ok(written)
}

/// What checking a tiles folder against the ledger found.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TilesChecked {
    /// The size of the folder's checkpoint.
    pub size: u64,
    /// Tiles compared (every tile of that tree, entry bundles included).
    pub tiles: u64,
    /// Tiles missing, or holding other bytes than the ledger's: their paths, and why.
    pub wrong: Vec<(String, String)>,
}

/// Checks a tiles folder against the ledger: its checkpoint is one this ledger extends, its
/// genesis is the ledger's, and every tile of the checkpoint's tree (full and partial, entries
/// included) holds exactly the bytes the ledger gives. Tiles are derived data; this is their
/// `verify`.
pub fn check_tiles(ledger: &Ledger, folder: &Path) -> Result<TilesChecked, TilesError> {
    let checkpoint_path = folder.join(CHECKPOINT_FILE);
    let text = std::fs::read(&checkpoint_path).map_err(TilesError::io(&checkpoint_path))?;
    let held = SignedCheckpoint::parse(&text).map_err(|error| {
        TilesError::Foreign(format!(
            "{}: not a checkpoint: {error}",
            checkpoint_path.display()
        ))
    })?;
    ledger.check_extends(&held.checkpoint).map_err(|error| {
        TilesError::Foreign(format!(
            "{}: this ledger does not extend it: {error}",
            checkpoint_path.display()
        ))
    })?;
    let mut checked = TilesChecked {
        size: held.checkpoint.size,
        ..TilesChecked::default()
    };
    let genesis_path = folder.join(GENESIS_FILE);
    if std::fs::read(&genesis_path).ok().as_deref() != Some(ledger.genesis_bytes()) {
        checked.wrong.push((
            GENESIS_FILE.to_owned(),
            "missing or not the ledger's genesis".to_owned(),
        ));
    }
    for tile in new_tiles(0, held.checkpoint.size) {
        checked.tiles += 1;
        let path = tile.path();
        match std::fs::read(folder.join(&path)) {
            Ok(bytes) if bytes == ledger.tile(&tile)? => {}
            Ok(_) => checked
                .wrong
                .push((path, "other bytes than the ledger's".to_owned())),
            Err(error) => checked.wrong.push((path, error.to_string())),
        }
    }
    Ok(checked)
}

/// Writes a file whole: a temporary file beside it, fsync, rename.
fn write_whole(path: &Path, bytes: &[u8]) -> Result<(), TilesError> {
    let parent = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(parent).map_err(TilesError::io(parent))?;
    let mut temporary = path.as_os_str().to_owned();
    temporary.push(format!(".tmp-{}", std::process::id()));
    let temporary = PathBuf::from(temporary);
    let mut file = std::fs::File::create(&temporary).map_err(TilesError::io(&temporary))?;
    file.write_all(bytes).map_err(TilesError::io(&temporary))?;
    file.sync_all().map_err(TilesError::io(&temporary))?;
    drop(file);
    std::fs::rename(&temporary, path).map_err(TilesError::io(path))
}

fn sync_folder(folder: &Path) -> Result<(), TilesError> {
    std::fs::File::open(folder)
        .and_then(|dir| dir.sync_all())
        .map_err(TilesError::io(folder))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_c2sp_and_parse_back() {
        let tile = |kind, index, width| Tile { kind, index, width };
        let cases = [
            (tile(TileKind::Hashes(0), 0, 256), "tile/0/000"),
            (
                tile(TileKind::Hashes(1), 1_234_067, 8),
                "tile/1/x001/x234/067.p/8",
            ),
            (tile(TileKind::Entries, 1000, 256), "tile/entries/x001/000"),
            (tile(TileKind::Entries, 5, 1), "tile/entries/005.p/1"),
        ];
        for (tile, path) in cases {
            assert_eq!(tile.path(), path);
            assert_eq!(Tile::parse(path), Some(tile));
        }
        for bad in [
            "tile/0/0",
            "tile/0/x000",
            "tile/0/001.p/0",
            "tile/0/001.p/256",
            "tile/0/001.p/257",
            "tile/00/001",
            "tile/9/001",
            "tile/0/001/002",
            "tile/entries/1.p/3",
            "tile/0/x01/002",
        ] {
            assert_eq!(Tile::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn new_tiles_are_the_full_and_partial_tiles_added() {
        let paths =
            |old, new| -> Vec<String> { new_tiles(old, new).iter().map(Tile::path).collect() };
        assert_eq!(paths(0, 0), Vec::<String>::new());
        assert_eq!(paths(0, 3), ["tile/entries/000.p/3", "tile/0/000.p/3"]);
        assert_eq!(paths(3, 3), Vec::<String>::new());
        assert_eq!(
            paths(3, 257),
            [
                "tile/entries/000",
                "tile/entries/001.p/1",
                "tile/0/000",
                "tile/0/001.p/1",
                "tile/1/000.p/1"
            ]
        );
        assert_eq!(
            paths(256, 300),
            ["tile/entries/001.p/44", "tile/0/001.p/44"]
        );
        let bundle = entry_bundle([&b"ab"[..], b"", b"xyz"]);
        assert_eq!(bundle, b"\x00\x02ab\x00\x00\x00\x03xyz");
        assert_eq!(
            split_entry_bundle(&bundle, 3).unwrap(),
            vec![&b"ab"[..], b"", b"xyz"]
        );
        assert!(split_entry_bundle(&bundle, 2).is_err());
        assert!(split_entry_bundle(&bundle[..bundle.len() - 1], 3).is_err());
    }

    proptest::proptest! {
        /// Any path text parses to a tile whose path is that text, or to nothing; never a panic.
        #[test]
        fn any_path_parses_back_or_not_at_all(path in "tile/(entries|[0-9]{1,3})/(x[0-9]{3}/){0,7}[0-9]{1,4}(\\.p/[0-9]{1,4})?|.{0,60}") {
            if let Some(tile) = Tile::parse(&path) {
                proptest::prop_assert_eq!(tile.path(), path);
            }
        }

        /// Every tile's path parses back to it.
        #[test]
        fn every_tile_round_trips(level in 0u8..8, index in proptest::prelude::any::<u64>(), width in 1u32..=256, entries in proptest::prelude::any::<bool>()) {
            let kind = if entries { TileKind::Entries } else { TileKind::Hashes(level) };
            let tile = Tile { kind, index, width };
            proptest::prop_assert_eq!(Tile::parse(&tile.path()), Some(tile));
        }

        /// Bytes a source serves as an entry bundle split into entries or are refused; never a
        /// panic, and a split gives back the bytes.
        #[test]
        fn any_bundle_bytes_split_or_are_refused(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..600), width in 1u32..=256) {
            if let Ok(entries) = split_entry_bundle(&bytes, width) {
                proptest::prop_assert_eq!(entry_bundle(entries.iter().copied()), bytes);
            }
        }
    }
}
