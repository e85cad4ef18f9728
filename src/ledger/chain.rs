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

/// A 32-byte BLAKE3 output.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Hash(pub [u8; 32]);

impl Hash {
    /// Lowercase hexadecimal, 64 digits.
    pub fn to_hex(&self) -> String {
        self.0.iter().map(|b| format!("{b:02x}")).collect()
    }

    /// Parses 64 hexadecimal digits.
    pub fn from_hex(text: &str) -> Option<Hash> {
        let bytes = text.as_bytes();
        if bytes.len() != 64 {
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

fn derive(context: &str, bytes: &[u8]) -> Hash {
    let mut hasher = blake3::Hasher::new_derive_key(context);
    hasher.update(bytes);
    Hash(*hasher.finalize().as_bytes())
}

/// The hash of a record: BLAKE3 derive-key(`RECORD_CONTEXT`) over the record's stored bytes,
/// which hold every field of the record, the previous hash and the event bytes.
pub fn record_hash(record_bytes: &[u8]) -> Hash {
    derive(RECORD_CONTEXT, record_bytes)
}

/// A digest of event bytes, named as evidence in conflict errors (not part of the chain).
pub fn event_digest(event_bytes: &[u8]) -> Hash {
    derive(EVENT_DIGEST_CONTEXT, event_bytes)
}

/// The hash of the genesis: BLAKE3 derive-key(`GENESIS_CONTEXT`) over the genesis bytes.
pub fn genesis_hash(genesis_bytes: &[u8]) -> Hash {
    derive(GENESIS_CONTEXT, genesis_bytes)
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
}
