//! The hash chain: BLAKE3 with one domain-separation context per use.
//!
//! Owns how record and genesis hashes are computed. The only ledger module (with the Merkle
//! proofs, later) that names blake3. Hashes are always computed over stored bytes, never over
//! re-encoded values.

use std::fmt;

/// Context for a record hash (BLAKE3 derive-key mode). Frozen: changing it is a format change.
pub const RECORD_CONTEXT: &str = "sanctions-ledger 2026-11-28 record v1";
/// Context for event digests in error evidence.
pub const EVENT_DIGEST_CONTEXT: &str = "sanctions-ledger 2026-11-28 event digest v1";
/// Context for the genesis hash. Frozen.
pub const GENESIS_CONTEXT: &str = "sanctions-ledger 2026-11-28 genesis v1";
/// Context for the checksum of a durable head marker slot (`log/head`). Frozen.
pub const HEAD_MARKER_CONTEXT: &str = "sanctions-ledger 2026-12-01 head marker v1";
/// Context for the checksum of a kept checkpoint's frame (`log/checkpoints`). Frozen.
pub const CHECKPOINT_FRAME_CONTEXT: &str = "sanctions-ledger 2026-12-01 checkpoint frame v1";

/// A 32-byte BLAKE3 output.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Hash(pub [u8; 32]);

impl Hash {
    /// Lowercase hexadecimal, 64 digits.
    pub fn to_hex(&self) -> String {
        self.0.iter().map(|b| format!("{b:02x}")).collect()
    }

    /// Parses 64 lowercase hexadecimal digits (one spelling per hash: what is signed or
    /// hashed as text must have no second form).
    pub fn from_hex(text: &str) -> Option<Hash> {
        let bytes = text.as_bytes();
        if bytes.len() != 64 || !bytes.iter().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
            return None;
        }
        let mut out = [0u8; 32];
        for (index, pair) in bytes.chunks_exact(2).enumerate() {
            let pair = std::str::from_utf8(pair).ok()?;
            out[index] = u8::from_str_radix(pair, 16).ok()?;
        }
        Some(Hash(out))
    }
}

impl fmt::Display for Hash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl fmt::Debug for Hash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Hash({})", self.to_hex())
    }
}

/// BLAKE3 derive-key hashing for one context, its context key derived once: deriving it costs
/// a hash of the context string, which would otherwise be paid again for every record and node.
/// (A hasher is then made from the key for each hash, which costs less than copying a prepared
/// `Hasher`, a struct of about 2 KB.)
pub(crate) struct DeriveKey {
    context: &'static str,
    key: std::sync::OnceLock<blake3::hazmat::ContextKey>,
}

impl DeriveKey {
    /// Hashing for `context`, its key derived on first use.
    pub(crate) const fn new(context: &'static str) -> DeriveKey {
        DeriveKey {
            context,
            key: std::sync::OnceLock::new(),
        }
    }

    /// BLAKE3 derive-key(context) over the concatenation of `parts`.
    pub(crate) fn hash(&self, parts: &[&[u8]]) -> [u8; 32] {
        use blake3::hazmat::HasherExt;
        let key = self
            .key
            .get_or_init(|| blake3::hazmat::hash_derive_key_context(self.context));
        let mut hasher = blake3::Hasher::new_from_context_key(key);
        for part in parts {
            hasher.update(part);
        }
        *hasher.finalize().as_bytes()
    }
}

static RECORD_KEY: DeriveKey = DeriveKey::new(RECORD_CONTEXT);
static EVENT_DIGEST_KEY: DeriveKey = DeriveKey::new(EVENT_DIGEST_CONTEXT);
static GENESIS_KEY: DeriveKey = DeriveKey::new(GENESIS_CONTEXT);

/// Context for the digest that closes an export bundle. Frozen.
pub const BUNDLE_CONTEXT: &str = "sanctions-ledger 2026-11-29 bundle v1";

/// Context for the head views file's digests (`views/head.views`: its index, and every byte
/// before its footer's digest). Derived data: a change means a new file layout, not a format
/// change of the evidence.
pub const HEAD_VIEWS_CONTEXT: &str = "sanctions-ledger 2026-12-02 head views v1";
/// Context for the short check of each block of the head views file.
pub const HEAD_VIEWS_BLOCK_CONTEXT: &str = "sanctions-ledger 2026-12-02 head views block v1";

/// A running BLAKE3 digest (derive-key mode) over bytes given in pieces: a bundle's
/// (`BUNDLE_CONTEXT`), the head views file's (`HEAD_VIEWS_CONTEXT`).
pub struct RunningDigest(blake3::Hasher);

/// The running digest of a bundle.
pub type BundleDigest = RunningDigest;

impl RunningDigest {
    /// A bundle's digest of nothing yet.
    pub fn new() -> RunningDigest {
        RunningDigest::with_context(BUNDLE_CONTEXT)
    }
    /// A digest of nothing yet, in `context`.
    pub fn with_context(context: &str) -> RunningDigest {
        RunningDigest(blake3::Hasher::new_derive_key(context))
    }
    /// Adds bytes.
    pub fn update(&mut self, bytes: &[u8]) {
        self.0.update(bytes);
    }
    /// The digest of the bytes so far.
    pub fn finish(&self) -> Hash {
        Hash(*self.0.finalize().as_bytes())
    }
}

impl Default for RunningDigest {
    fn default() -> RunningDigest {
        RunningDigest::new()
    }
}

/// The digest of `bytes` in `context` (derive-key mode).
pub fn digest_in(context: &str, bytes: &[u8]) -> Hash {
    let mut digest = RunningDigest::with_context(context);
    digest.update(bytes);
    digest.finish()
}

/// The hash of a record: BLAKE3 derive-key(`RECORD_CONTEXT`) over the record's stored bytes,
/// which hold every field of the record, the previous hash and the event bytes.
pub fn record_hash(record_bytes: &[u8]) -> Hash {
    Hash(RECORD_KEY.hash(&[record_bytes]))
}

/// A digest of event bytes, named as evidence in conflict errors (not part of the chain).
pub fn event_digest(event_bytes: &[u8]) -> Hash {
    Hash(EVENT_DIGEST_KEY.hash(&[event_bytes]))
}

/// The hash of the genesis: BLAKE3 derive-key(`GENESIS_CONTEXT`) over the genesis bytes.
pub fn genesis_hash(genesis_bytes: &[u8]) -> Hash {
    Hash(GENESIS_KEY.hash(&[genesis_bytes]))
}

/// A keyed digest of event-id index entries, summed into a multiset digest: verification
/// compares the sum over the records with the sum over the index in two sequential scans,
/// instead of one point lookup per record. The key is secret and fresh per verification (taken
/// from the standard library's randomly seeded hasher keys), so an index edited beforehand
/// cannot be made to collide; an unkeyed additive digest could (generalized birthday attack).
pub struct IndexDigest {
    key: [u8; 32],
    lanes: [u64; 4],
    entries: u64,
}

impl IndexDigest {
    /// An empty digest with a fresh random key.
    pub fn new_random() -> IndexDigest {
        use std::hash::BuildHasher;
        let state = std::collections::hash_map::RandomState::new();
        let mut seed = [0u8; 16];
        seed[..8].copy_from_slice(&state.hash_one(0x5eed_u64).to_le_bytes());
        seed[8..].copy_from_slice(&state.hash_one(0x5eed_u64 + 1).to_le_bytes());
        IndexDigest {
            key: blake3::derive_key("sanctions-ledger 2026-11-28 index digest key v1", &seed),
            lanes: [0; 4],
            entries: 0,
        }
    }

    /// An empty digest under the same key.
    pub fn empty_like(&self) -> IndexDigest {
        IndexDigest {
            key: self.key,
            lanes: [0; 4],
            entries: 0,
        }
    }

    /// Adds one entry: an event id and its sequence (unambiguous: the sequence is fixed-width
    /// and last).
    pub fn add(&mut self, event_id: &[u8], sequence: u64) {
        let mut hasher = blake3::Hasher::new_keyed(&self.key);
        hasher.update(event_id);
        hasher.update(&sequence.to_be_bytes());
        self.add_digest(hasher.finalize().as_bytes());
    }

    /// Adds one entry made of parts (each length-prefixed, so the split is unambiguous): a
    /// derived tree's number, key and value.
    pub fn add_parts(&mut self, parts: &[&[u8]]) {
        let mut hasher = blake3::Hasher::new_keyed(&self.key);
        for part in parts {
            hasher.update(&(part.len() as u64).to_be_bytes());
            hasher.update(part);
        }
        self.add_digest(hasher.finalize().as_bytes());
    }

    fn add_digest(&mut self, digest: &[u8; 32]) {
        for (lane, chunk) in self.lanes.iter_mut().zip(digest.chunks_exact(8)) {
            let mut word = [0u8; 8];
            word.copy_from_slice(chunk);
            *lane = lane.wrapping_add(u64::from_le_bytes(word));
        }
        self.entries += 1;
    }

    /// Whether two digests saw the same multiset of entries (with overwhelming probability).
    pub fn same_entries(&self, other: &IndexDigest) -> bool {
        self.entries == other.entries && self.lanes == other.lanes
    }

    /// How many entries were added.
    pub fn entries(&self) -> u64 {
        self.entries
    }
}

/// The plain BLAKE3 of a file's bytes, in hex (as `b3sum` prints it): the name a list snapshot
/// is stored under. No derive-key context: anyone can recompute it with any BLAKE3 tool.
pub fn file_blake3_hex(bytes: &[u8]) -> String {
    blake3::hash(bytes).to_hex().to_string()
}

/// The SHA-256 of some bytes (what the server stores of a bearer token).
pub fn sha256(bytes: &[u8]) -> [u8; 32] {
    use sha2::Digest;
    sha2::Sha256::digest(bytes).into()
}

/// The SHA-256 of a file's bytes, in hex (as `sha256sum` prints it).
pub fn file_sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contexts_separate_domains() {
        assert_ne!(record_hash(b"x"), genesis_hash(b"x"));
        assert_ne!(record_hash(b"x"), Hash(*blake3::hash(b"x").as_bytes()));
        let hash = record_hash(b"x");
        assert_eq!(Hash::from_hex(&hash.to_hex()), Some(hash));
        assert_eq!(Hash::from_hex("zz"), None);
    }

    #[test]
    fn index_digests_compare_multisets() {
        let mut records = IndexDigest::new_random();
        let mut index = records.empty_like();
        records.add(b"a", 1);
        records.add(b"b", 2);
        index.add(b"b", 2);
        index.add(b"a", 1);
        assert!(records.same_entries(&index));
        let mut shifted = records.empty_like();
        shifted.add(b"a", 2);
        shifted.add(b"b", 1);
        assert!(!records.same_entries(&shifted));
        let mut doubled = records.empty_like();
        doubled.add(b"a", 1);
        doubled.add(b"a", 1);
        assert!(!records.same_entries(&doubled));
        // Fresh keys differ between runs, so the sums do too.
        let mut other_key = IndexDigest::new_random();
        other_key.add(b"a", 1);
        other_key.add(b"b", 2);
        assert!(other_key.same_entries(&records) == (other_key.lanes == records.lanes));
    }
}
