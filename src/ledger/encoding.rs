//! The canonical encoding: the one bincode configuration, and canonical decoding.
//!
//! Owns how values become the bytes that are hashed and stored. The only module that names
//! bincode. Contract (frozen; golden vectors in tests/golden.rs pin it):
//! bincode 2.0.1, serde path, little-endian, variable-length integers (LEB-like varint with
//! zigzag for signed), decoded with a size limit. Decoding succeeds only if every byte is
//! consumed and re-encoding the value gives back exactly the input (bincode's decoder accepts
//! non-minimal integers, so without this check two byte strings could mean one value).

use serde::Serialize;
use serde::de::DeserializeOwned;

/// The pinned configuration type. The limit does not change the bytes produced; it bounds
/// what a decoder will allocate (without it a forged length prefix aborts the process).
pub type Config = bincode::config::Configuration<
    bincode::config::LittleEndian,
    bincode::config::Varint,
    bincode::config::Limit<{ crate::limits::RECORD_BYTES_MAX }>,
>;

/// The one configuration every hashed byte string is written with.
pub fn config() -> Config {
    bincode::config::standard()
        .with_little_endian()
        .with_variable_int_encoding()
        .with_limit::<{ crate::limits::RECORD_BYTES_MAX }>()
}

/// Why bytes could not be made or read.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum EncodingError {
    /// The value could not be encoded (a bug, or a value past the size limit).
    #[error("cannot encode: {0}")]
    Encode(String),
    /// The bytes are longer than allowed.
    #[error("{actual} bytes; at most {max} are allowed")]
    TooLarge {
        /// Length found.
        actual: usize,
        /// The limit.
        max: usize,
    },
    /// The bytes do not decode to a value of the expected type.
    #[error("undecodable: {0}")]
    Decode(String),
    /// The value ends before the bytes do.
    #[error("{trailing} trailing byte(s) after the value")]
    Trailing {
        /// How many bytes were left over.
        trailing: usize,
    },
    /// The bytes decode, but are not the canonical (minimal) encoding of what they decode to.
    #[error("not the canonical encoding of the value it decodes to")]
    NotCanonical,
}

/// Encodes a value with the pinned configuration.
pub fn encode<T: Serialize>(value: &T) -> Result<Vec<u8>, EncodingError> {
    encode_with_capacity(value, 0)
}

/// Encodes a value into a new buffer that starts with `capacity` bytes reserved (bincode's
/// serde path otherwise grows its buffer from empty, reallocating several times per record).
pub fn encode_with_capacity<T: Serialize>(
    value: &T,
    capacity: usize,
) -> Result<Vec<u8>, EncodingError> {
    let mut out = VecWriter(Vec::with_capacity(capacity));
    bincode::serde::encode_into_writer(value, &mut out, config())
        .map_err(|error| EncodingError::Encode(error.to_string()))?;
    Ok(out.0)
}

/// Appends to a `Vec` directly (bincode's `std::io::Write` adapter costs a call through
/// `io::Write` and an error check per field).
struct VecWriter(Vec<u8>);

impl bincode::enc::write::Writer for VecWriter {
    fn write(&mut self, bytes: &[u8]) -> Result<(), bincode::error::EncodeError> {
        self.0.extend_from_slice(bytes);
        Ok(())
    }
}

/// The same encoding, decoded with the larger bound of derived values (a long listing's
/// evaluated view); never used for records. The bytes are the same: a limit only bounds what a
/// decoder may allocate.
type DerivedConfig = bincode::config::Configuration<
    bincode::config::LittleEndian,
    bincode::config::Varint,
    bincode::config::Limit<{ crate::limits::DERIVED_VIEW_BYTES_MAX }>,
>;

fn derived_config() -> DerivedConfig {
    bincode::config::standard()
        .with_little_endian()
        .with_variable_int_encoding()
        .with_limit::<{ crate::limits::DERIVED_VIEW_BYTES_MAX }>()
}

/// Decodes bytes that must be the canonical encoding of one `T`, and at most `bytes_max` long
/// (and at most `RECORD_BYTES_MAX`, the pinned configuration's bound).
pub fn decode_canonical<T: Serialize + DeserializeOwned>(
    bytes: &[u8],
    bytes_max: usize,
) -> Result<T, EncodingError> {
    check_len(bytes, bytes_max)?;
    let (value, consumed): (T, usize) = bincode::serde::decode_from_slice(bytes, config())
        .map_err(|error| EncodingError::Decode(error.to_string()))?;
    finish_canonical(value, consumed, bytes)
}

/// [`decode_canonical`] for a derived value of up to `DERIVED_VIEW_BYTES_MAX` bytes.
pub fn decode_derived<T: Serialize + DeserializeOwned>(bytes: &[u8]) -> Result<T, EncodingError> {
    check_len(bytes, crate::limits::DERIVED_VIEW_BYTES_MAX)?;
    let (value, consumed): (T, usize) = bincode::serde::decode_from_slice(bytes, derived_config())
        .map_err(|error| EncodingError::Decode(error.to_string()))?;
    finish_canonical(value, consumed, bytes)
}

/// Decodes a derived value of up to `DERIVED_VIEW_BYTES_MAX` bytes that must take all of
/// `bytes`, without re-encoding it to prove canonicity: for a file of ours whose bytes `verify`
/// compares whole with what the projections give (the head views file), read on every question.
pub fn decode_derived_whole<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, EncodingError> {
    check_len(bytes, crate::limits::DERIVED_VIEW_BYTES_MAX)?;
    let (value, consumed): (T, usize) = bincode::serde::decode_from_slice(bytes, derived_config())
        .map_err(|error| EncodingError::Decode(error.to_string()))?;
    if consumed != bytes.len() {
        return Err(EncodingError::Trailing {
            trailing: bytes.len() - consumed,
        });
    }
    Ok(value)
}

/// Decodes the `T` a derived value's encoding begins with (the first field of a struct),
/// ignoring the bytes after it.
pub fn decode_derived_prefix<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, EncodingError> {
    check_len(bytes, crate::limits::DERIVED_VIEW_BYTES_MAX)?;
    bincode::serde::decode_from_slice(bytes, derived_config())
        .map(|(value, _)| value)
        .map_err(|error| EncodingError::Decode(error.to_string()))
}

/// Decodes one `T` that may borrow from `bytes` (strings and byte strings as slices), with the
/// pinned configuration's bound; returns it and how many bytes it took. Not a canonical check:
/// the caller proves canonicity (see [`is_encoding_of`]).
pub fn decode_borrowed<'a, T: serde::Deserialize<'a>>(
    bytes: &'a [u8],
) -> Result<(T, usize), EncodingError> {
    check_len(bytes, crate::limits::RECORD_BYTES_MAX)?;
    bincode::serde::borrow_decode_from_slice(bytes, config())
        .map_err(|error| EncodingError::Decode(error.to_string()))
}

/// Whether `value` encodes to exactly `bytes` (the canonical check, for a value built or
/// decoded by other means).
pub fn is_encoding_of<T: Serialize>(value: &T, bytes: &[u8]) -> Result<bool, EncodingError> {
    encodes_to(value, bytes)
}

fn check_len(bytes: &[u8], bytes_max: usize) -> Result<(), EncodingError> {
    if bytes.len() > bytes_max {
        return Err(EncodingError::TooLarge {
            actual: bytes.len(),
            max: bytes_max,
        });
    }
    Ok(())
}

fn finish_canonical<T: Serialize>(
    value: T,
    consumed: usize,
    bytes: &[u8],
) -> Result<T, EncodingError> {
    if consumed != bytes.len() {
        return Err(EncodingError::Trailing {
            trailing: bytes.len() - consumed,
        });
    }
    if !encodes_to(&value, bytes)? {
        return Err(EncodingError::NotCanonical);
    }
    Ok(value)
}

thread_local! {
    /// Scratch space for re-encoding during canonical checks, reused so that verifying a log
    /// does not allocate a buffer per record.
    static SCRATCH: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Whether `value` encodes to exactly `bytes`.
fn encodes_to<T: Serialize>(value: &T, bytes: &[u8]) -> Result<bool, EncodingError> {
    SCRATCH.with(|scratch| {
        let mut scratch = scratch.borrow_mut();
        if scratch.len() < bytes.len() + 1 {
            scratch.resize(bytes.len() + 1, 0);
        }
        // One byte of room past the input: an encoding longer than the input cannot match.
        let room = &mut scratch[..bytes.len() + 1];
        match bincode::serde::encode_into_slice(value, room, config()) {
            Ok(written) => Ok(written == bytes.len() && room[..written] == *bytes),
            Err(bincode::error::EncodeError::UnexpectedEnd) => Ok(false),
            Err(error) => Err(EncodingError::Encode(error.to_string())),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn non_minimal_integers_are_refused() {
        assert_eq!(encode(&5u64).unwrap(), vec![5]);
        assert_eq!(decode_canonical::<u64>(&[5], 16), Ok(5));
        // 0xfb marks a u16 follows: 5 written in three bytes decodes, but is not canonical.
        assert_eq!(
            decode_canonical::<u64>(&[0xfb, 5, 0], 16),
            Err(EncodingError::NotCanonical)
        );
    }

    #[test]
    fn trailing_bytes_and_forged_lengths_are_refused() {
        assert_eq!(
            decode_canonical::<u64>(&[5, 0], 16),
            Err(EncodingError::Trailing { trailing: 1 })
        );
        // A string claiming 2^56 bytes: refused by the limit, not an abort.
        let forged = [0xfd, 0, 0, 0, 0, 0, 0, 0, 1];
        assert!(matches!(
            decode_canonical::<String>(&forged, 64),
            Err(EncodingError::Decode(_))
        ));
        assert!(matches!(
            decode_canonical::<String>(&[0u8; 65], 64),
            Err(EncodingError::TooLarge {
                actual: 65,
                max: 64
            })
        ));
    }
}
