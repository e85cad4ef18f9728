//! The byte layout of the log's files: segment headers, record frames, the head marker, the
//! genesis file and the checkpoints file (documented byte by byte in ARCHITECTURE.md).
//!
//! Pure: bytes in, bytes out, every field checked. All integers are big-endian. Must not do
//! I/O or decide what a file's contents mean for the ledger (the log does).

use crate::ledger::chain::{self, Hash};
use crate::limits;

/// Magic of a segment file.
pub const SEGMENT_MAGIC: &[u8; 8] = b"SLLOGSEG";
/// Layout version of segment files.
pub const SEGMENT_VERSION: u32 = 1;
/// Bytes of a segment header: magic, version, first sequence, genesis hash.
pub const SEGMENT_HEADER_BYTES: u64 = 8 + 4 + 8 + 32;
/// Bytes a frame adds to a record: the 4-byte length before it and its 32-byte hash after it.
pub const FRAME_OVERHEAD_BYTES: u64 = 4 + 32;

/// Magic of the head marker's slots.
pub const HEAD_MAGIC: &[u8; 8] = b"SLHEAD\0\x01";
/// Where each of the head file's two slots starts (a slot per 4 KiB block, so that a torn write
/// of one block cannot damage both).
pub const HEAD_SLOT_OFFSETS: [u64; 2] = [0, 4096];
/// Size of the head file.
pub const HEAD_FILE_BYTES: u64 = 8192;
/// Bytes of one slot: 88 bytes of fields and a 32-byte checksum.
pub const HEAD_SLOT_BYTES: usize = 120;

/// Magic of the genesis file.
pub const GENESIS_MAGIC: &[u8; 8] = b"SLGENES\x01";
/// Magic of the checkpoints file.
pub const CHECKPOINTS_MAGIC: &[u8; 8] = b"SLCHECK\x01";
/// Bytes of the checkpoints file's header: magic and genesis hash.
pub const CHECKPOINTS_HEADER_BYTES: u64 = 8 + 32;

/// The name of the segment file whose first record is `first`: 20 decimal digits, `.seg`.
pub fn segment_name(first: u64) -> String {
    format!("{first:020}.seg")
}

/// The first sequence a segment file name stands for, if it is one.
pub fn segment_first(name: &str) -> Option<u64> {
    let digits = name.strip_suffix(".seg")?;
    if digits.len() != 20 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok().filter(|first| *first >= 1)
}

/// A segment header's bytes.
pub fn segment_header(first: u64, genesis_hash: &Hash) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(SEGMENT_HEADER_BYTES as usize);
    bytes.extend_from_slice(SEGMENT_MAGIC);
    bytes.extend_from_slice(&SEGMENT_VERSION.to_be_bytes());
    bytes.extend_from_slice(&first.to_be_bytes());
    bytes.extend_from_slice(&genesis_hash.0);
    bytes
}

/// Checks a segment header against the sequence its name gives and the ledger's genesis hash;
/// the reason if it does not fit.
pub fn check_segment_header(bytes: &[u8], first: u64, genesis_hash: &Hash) -> Result<(), String> {
    if bytes.len() < SEGMENT_HEADER_BYTES as usize {
        return Err(format!(
            "the segment holds {} bytes, fewer than its {SEGMENT_HEADER_BYTES}-byte header",
            bytes.len()
        ));
    }
    if &bytes[..8] != SEGMENT_MAGIC {
        return Err("the segment header does not start with the magic \"SLLOGSEG\"".into());
    }
    let version = u32::from_be_bytes(bytes[8..12].try_into().unwrap_or_default());
    if version != SEGMENT_VERSION {
        return Err(format!(
            "the segment header says layout version {version}; this build reads {SEGMENT_VERSION}"
        ));
    }
    let stated = u64::from_be_bytes(bytes[12..20].try_into().unwrap_or_default());
    if stated != first {
        return Err(format!(
            "the segment header says its first sequence is {stated}, its file name {first}"
        ));
    }
    if bytes[20..52] != genesis_hash.0 {
        return Err(format!(
            "the segment header names genesis {}, not this ledger's {genesis_hash}",
            Hash(bytes[20..52].try_into().unwrap_or_default())
        ));
    }
    Ok(())
}

/// The two top bits of a frame's length prefix: both set on the last frame of one append (a
/// batch), both clear on the others. Recovery tells a whole append from part of one by them; two
/// bits that must agree make any single flipped bit of the prefix visible (the length itself is
/// held to by the record hash).
pub const FRAME_END_OF_APPEND: u32 = 0b11 << 30;

/// Appends the frame of one record to `out`: length (with the end-of-append bits on the last
/// record of an append), record bytes, record hash.
pub fn put_frame(out: &mut Vec<u8>, record_bytes: &[u8], hash: &Hash, end_of_append: bool) {
    let mut prefix = record_bytes.len() as u32;
    if end_of_append {
        prefix |= FRAME_END_OF_APPEND;
    }
    out.extend_from_slice(&prefix.to_be_bytes());
    out.extend_from_slice(record_bytes);
    out.extend_from_slice(&hash.0);
}

/// What a frame's 4-byte prefix announces: the record's length, if it is one a frame may hold,
/// and whether the frame ends an append.
pub fn frame_prefix(prefix: [u8; 4]) -> Result<(u64, bool), String> {
    let word = u32::from_be_bytes(prefix);
    let end_of_append = match word & FRAME_END_OF_APPEND {
        0 => false,
        FRAME_END_OF_APPEND => true,
        _ => {
            return Err(
                "the frame's two end-of-append bits disagree (one of them was flipped)".into(),
            );
        }
    };
    let len = u64::from(word & !FRAME_END_OF_APPEND);
    if len == 0 || len > limits::RECORD_BYTES_MAX as u64 {
        return Err(format!(
            "the frame announces a record of {len} bytes; a record holds 1 to {} bytes",
            limits::RECORD_BYTES_MAX
        ));
    }
    Ok((len, end_of_append))
}

/// The durable head marker: what the log has acknowledged.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HeadMarker {
    /// Increases with every marker written; the valid slot with the larger one is current.
    pub generation: u64,
    /// The last acknowledged record (0 for an empty log).
    pub sequence: u64,
    /// The first sequence of the segment that holds that record (of the first segment when
    /// the log is empty).
    pub segment: u64,
    /// Where that record's frame starts in its segment (0 when the log is empty).
    pub frame_offset: u64,
    /// How many bytes of that segment are acknowledged (the end of that frame).
    pub end_offset: u64,
    /// That record's hash (the genesis hash when the log is empty).
    pub hash: Hash,
    /// How many bytes of the checkpoints file are acknowledged.
    pub checkpoints_len: u64,
}

static HEAD_KEY: chain::DeriveKey = chain::DeriveKey::new(chain::HEAD_MARKER_CONTEXT);

impl HeadMarker {
    /// The slot's bytes: fields, then BLAKE3 derive-key(`HEAD_MARKER_CONTEXT`) of them.
    pub fn to_bytes(&self) -> [u8; HEAD_SLOT_BYTES] {
        let mut bytes = [0u8; HEAD_SLOT_BYTES];
        bytes[..8].copy_from_slice(HEAD_MAGIC);
        bytes[8..16].copy_from_slice(&self.generation.to_be_bytes());
        bytes[16..24].copy_from_slice(&self.sequence.to_be_bytes());
        bytes[24..32].copy_from_slice(&self.segment.to_be_bytes());
        bytes[32..40].copy_from_slice(&self.frame_offset.to_be_bytes());
        bytes[40..48].copy_from_slice(&self.end_offset.to_be_bytes());
        bytes[48..80].copy_from_slice(&self.hash.0);
        bytes[80..88].copy_from_slice(&self.checkpoints_len.to_be_bytes());
        let checksum = HEAD_KEY.hash(&[&bytes[..88]]);
        bytes[88..].copy_from_slice(&checksum);
        bytes
    }

    /// Reads one slot; `None` unless its magic and checksum hold (a torn or damaged slot).
    pub fn from_bytes(bytes: &[u8]) -> Option<HeadMarker> {
        let bytes = bytes.get(..HEAD_SLOT_BYTES)?;
        if &bytes[..8] != HEAD_MAGIC || HEAD_KEY.hash(&[&bytes[..88]]) != bytes[88..] {
            return None;
        }
        let word = |at: usize| u64::from_be_bytes(bytes[at..at + 8].try_into().unwrap_or_default());
        Some(HeadMarker {
            generation: word(8),
            sequence: word(16),
            segment: word(24),
            frame_offset: word(32),
            end_offset: word(40),
            hash: Hash(bytes[48..80].try_into().ok()?),
            checkpoints_len: word(80),
        })
    }

    /// The slot this marker is written to (alternating, so the other keeps the previous one).
    pub fn slot_offset(&self) -> u64 {
        HEAD_SLOT_OFFSETS[(self.generation % 2) as usize]
    }
}

/// The genesis file's bytes: magic, genesis length (4 bytes), genesis bytes.
pub fn genesis_file(genesis_bytes: &[u8]) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(12 + genesis_bytes.len());
    bytes.extend_from_slice(GENESIS_MAGIC);
    bytes.extend_from_slice(&(genesis_bytes.len() as u32).to_be_bytes());
    bytes.extend_from_slice(genesis_bytes);
    bytes
}

/// The genesis bytes a genesis file holds, or why it holds none.
pub fn genesis_of_file(bytes: &[u8]) -> Result<&[u8], String> {
    if bytes.len() < 12 || &bytes[..8] != GENESIS_MAGIC {
        return Err("the genesis file does not start with the magic \"SLGENES\\x01\"".into());
    }
    let len = u32::from_be_bytes(bytes[8..12].try_into().unwrap_or_default()) as usize;
    if len > limits::GENESIS_BYTES_MAX || bytes.len() != 12 + len {
        return Err(format!(
            "the genesis file announces {len} genesis bytes but holds {} (at most {} allowed)",
            bytes.len().saturating_sub(12),
            limits::GENESIS_BYTES_MAX
        ));
    }
    Ok(&bytes[12..])
}

/// The checkpoints file's header.
pub fn checkpoints_header(genesis_hash: &Hash) -> Vec<u8> {
    [&CHECKPOINTS_MAGIC[..], &genesis_hash.0].concat()
}

static CHECKPOINT_FRAME_KEY: chain::DeriveKey =
    chain::DeriveKey::new(chain::CHECKPOINT_FRAME_CONTEXT);

/// One kept checkpoint's frame: length, text, BLAKE3 derive-key(`CHECKPOINT_FRAME_CONTEXT`) of
/// the text.
pub fn checkpoint_frame(text: &[u8]) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(36 + text.len());
    bytes.extend_from_slice(&(text.len() as u32).to_be_bytes());
    bytes.extend_from_slice(text);
    bytes.extend_from_slice(&CHECKPOINT_FRAME_KEY.hash(&[text]));
    bytes
}

/// A kept checkpoint's frame offset and text.
pub type KeptText = (u64, Vec<u8>);
/// Where a checkpoints file stops checking out, and why.
pub type FrameProblem = (u64, String);

/// Splits the acknowledged bytes of a checkpoints file into the kept texts, each with the
/// offset of its frame; the offset and reason of the first frame that does not check out.
pub fn checkpoint_texts(bytes: &[u8], genesis_hash: &Hash) -> Result<Vec<KeptText>, FrameProblem> {
    if bytes.len() < CHECKPOINTS_HEADER_BYTES as usize
        || bytes[..8] != CHECKPOINTS_MAGIC[..]
        || bytes[8..40] != genesis_hash.0
    {
        return Err((
            0,
            "the checkpoints file's header is not the magic \"SLCHECK\\x01\" and this ledger's genesis hash".into(),
        ));
    }
    let mut texts = Vec::new();
    let mut at = CHECKPOINTS_HEADER_BYTES as usize;
    while at < bytes.len() {
        let offset = at as u64;
        let Some(prefix) = bytes.get(at..at + 4) else {
            return Err((offset, "a checkpoint frame is cut short".into()));
        };
        let len = u32::from_be_bytes(prefix.try_into().unwrap_or_default()) as usize;
        if len == 0 || len > limits::CHECKPOINT_BYTES_MAX {
            return Err((
                offset,
                format!(
                    "a checkpoint frame announces {len} bytes (1 to {} allowed)",
                    limits::CHECKPOINT_BYTES_MAX
                ),
            ));
        }
        let Some(text) = bytes.get(at + 4..at + 4 + len) else {
            return Err((offset, "a checkpoint frame is cut short".into()));
        };
        let Some(checksum) = bytes.get(at + 4 + len..at + 36 + len) else {
            return Err((offset, "a checkpoint frame is cut short".into()));
        };
        if CHECKPOINT_FRAME_KEY.hash(&[text]) != checksum {
            return Err((
                offset,
                "a checkpoint frame's checksum does not match its text".into(),
            ));
        }
        texts.push((offset, text.to_vec()));
        at += 36 + len;
    }
    Ok(texts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segment_names_round_trip_and_refuse_others() {
        assert_eq!(segment_name(1), "00000000000000000001.seg");
        assert_eq!(segment_first(&segment_name(12345)), Some(12345));
        for other in [
            "1.seg",
            "00000000000000000000.seg",
            "0000000000000000000a.seg",
            "head",
        ] {
            assert_eq!(segment_first(other), None, "{other}");
        }
    }

    #[test]
    fn head_marker_round_trips_and_any_flip_is_refused() {
        let marker = HeadMarker {
            generation: 7,
            sequence: 42,
            segment: 1,
            frame_offset: 1000,
            end_offset: 1500,
            hash: Hash([9; 32]),
            checkpoints_len: 40,
        };
        let bytes = marker.to_bytes();
        assert_eq!(HeadMarker::from_bytes(&bytes), Some(marker));
        for bit in 0..bytes.len() * 8 {
            let mut flipped = bytes;
            flipped[bit / 8] ^= 1 << (bit % 8);
            assert_eq!(HeadMarker::from_bytes(&flipped), None, "bit {bit}");
        }
    }

    #[test]
    fn checkpoint_frames_are_checked() {
        let hash = Hash([3; 32]);
        let mut file = checkpoints_header(&hash);
        file.extend(checkpoint_frame(b"one"));
        file.extend(checkpoint_frame(b"two"));
        let texts = checkpoint_texts(&file, &hash).unwrap();
        assert_eq!(texts.len(), 2);
        assert_eq!(texts[1].1, b"two");
        file[50] ^= 1;
        assert!(checkpoint_texts(&file, &hash).is_err());
    }
}
