//! Records and the genesis: the stored units of the log, and their byte layout.
//!
//! Owns the record and genesis types, how a record becomes stored bytes and back, and the
//! stored value layout `record_bytes || record_hash` (the last 32 bytes). Documented byte by
//! byte in ARCHITECTURE.md. Must not: touch the store, or hash anything but stored bytes.

use super::chain::{self, Hash};
use super::encoding::{self, EncodingError};
use crate::domain::{Event, EventParts, Timestamp};
use crate::limits;
use serde::{Deserialize, Serialize};

/// Version of the record layout written by this code (the first byte of every record).
pub const RECORD_FORMAT_VERSION: u8 = 1;
/// Version of the genesis layout.
pub const GENESIS_FORMAT_VERSION: u8 = 1;

/// The ledger's identity, fixed at `init`. Its hash is the `previous_hash` of record 1.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Genesis {
    /// Layout version, `GENESIS_FORMAT_VERSION`.
    pub format_version: u8,
    /// The origin name chosen at `init`; checkpoints name their log by it.
    pub origin: String,
    /// When the ledger was created.
    pub created_at: Timestamp,
}

impl Genesis {
    /// The genesis's stored bytes.
    pub fn to_bytes(&self) -> Result<Vec<u8>, EncodingError> {
        encoding::encode(self)
    }
    /// Reads stored genesis bytes (canonical, bounded).
    pub fn from_bytes(bytes: &[u8]) -> Result<Genesis, EncodingError> {
        let genesis: Genesis = encoding::decode_canonical(bytes, limits::GENESIS_BYTES_MAX)?;
        if genesis.format_version != GENESIS_FORMAT_VERSION {
            return Err(EncodingError::Decode(format!(
                "genesis format version {} is not {GENESIS_FORMAT_VERSION}",
                genesis.format_version
            )));
        }
        Ok(genesis)
    }
}

/// One entry of the log. Every field is hashed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Record {
    /// Layout version, `RECORD_FORMAT_VERSION`.
    pub format_version: u8,
    /// Position in the log: 1, 2, 3, ... without gaps.
    pub sequence: u64,
    /// When the ledger learned the event (assigned at append, never decreasing).
    pub recorded_at: Timestamp,
    /// Who appended it (the CLI's operator name, later the server's principal).
    pub appended_by: String,
    /// Hash of record `sequence - 1`, or of the genesis for record 1.
    pub previous_hash: [u8; 32],
    /// Version of the event schema the event bytes follow.
    pub schema_version: u16,
    /// The event's canonical encoding.
    #[serde(with = "serde_bytes")]
    pub event_bytes: Vec<u8>,
}

/// Encodes an event's parts: the bytes stored inside a record.
pub fn encode_event(event: &Event) -> Result<Vec<u8>, EncodingError> {
    let bytes = encoding::encode_with_capacity(event.parts(), 1024)?;
    if bytes.len() > limits::EVENT_BYTES_MAX {
        return Err(EncodingError::TooLarge {
            actual: bytes.len(),
            max: limits::EVENT_BYTES_MAX,
        });
    }
    Ok(bytes)
}

/// Why event bytes could not be read back as an event.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum EventDecodeError {
    /// The bytes are not a canonical encoding.
    #[error(transparent)]
    Encoding(#[from] EncodingError),
    /// The bytes decode, but the event breaks a rule (e.g. written by a broken tool).
    #[error("the stored event breaks a rule: {0}")]
    Invalid(String),
    /// The schema version is not one this code can read.
    #[error("event schema version {0} is not known to this build")]
    UnknownSchema(u16),
}

/// Decodes stored event bytes of the given schema version into a checked event: version 3
/// as it stands, versions 1 and 2 through their own layouts, upcast (never rewritten).
pub fn decode_event(bytes: &[u8], schema_version: u16) -> Result<Event, EventDecodeError> {
    let parts: EventParts = match schema_version {
        crate::domain::EVENT_SCHEMA_VERSION => {
            encoding::decode_canonical(bytes, limits::EVENT_BYTES_MAX)?
        }
        2 => encoding::decode_canonical::<crate::domain::v1::EventPartsV2>(
            bytes,
            limits::EVENT_BYTES_MAX,
        )?
        .into(),
        1 => encoding::decode_canonical::<crate::domain::v1::EventPartsV1>(
            bytes,
            limits::EVENT_BYTES_MAX,
        )?
        .into(),
        other => return Err(EventDecodeError::UnknownSchema(other)),
    };
    Event::new(parts).map_err(|problems| {
        let listed: Vec<String> = problems
            .iter()
            .map(|p| format!("{}: {}", p.pointer, p.reason))
            .collect();
        EventDecodeError::Invalid(listed.join("; "))
    })
}

impl Record {
    /// The record's stored bytes (what is hashed).
    pub fn to_bytes(&self) -> Result<Vec<u8>, EncodingError> {
        encoding::encode(self)
    }

    /// The stored value `record bytes || record hash`, built in one buffer, and the hash.
    pub fn to_stored_value(&self) -> Result<(Vec<u8>, Hash), EncodingError> {
        // Fixed fields take at most 1 + 9 + 9 + 32 + 3 bytes, plus two length prefixes.
        let capacity = 80 + self.appended_by.len() + self.event_bytes.len() + 32;
        let mut value = encoding::encode_with_capacity(self, capacity)?;
        let hash = chain::record_hash(&value);
        value.extend_from_slice(&hash.0);
        Ok((value, hash))
    }

    /// Reads record bytes (canonical, bounded): [`RecordRef::from_bytes`], copied.
    pub fn from_bytes(bytes: &[u8]) -> Result<Record, EncodingError> {
        RecordRef::from_bytes(bytes).map(|record| record.to_record())
    }

    /// The previous hash as a [`Hash`](struct@Hash).
    pub fn previous(&self) -> Hash {
        Hash(self.previous_hash)
    }
}

/// A record read from its stored bytes without copying them: its text and event bytes are
/// slices of the stored bytes. Read canonically (see [`RecordRef::from_bytes`]).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordRef<'a> {
    /// Layout version, `RECORD_FORMAT_VERSION`.
    pub format_version: u8,
    /// Position in the log.
    pub sequence: u64,
    /// When the ledger learned the event.
    pub recorded_at: Timestamp,
    /// Who appended it.
    #[serde(borrow)]
    pub appended_by: &'a str,
    /// Hash of the record before.
    pub previous_hash: [u8; 32],
    /// Version of the event schema.
    pub schema_version: u16,
    /// The event's canonical encoding.
    #[serde(borrow, with = "serde_bytes")]
    pub event_bytes: &'a [u8],
}

/// Every field of a record before its event bytes, and their length: what the record's bytes
/// hold before the event bytes themselves (the length is the byte string's prefix).
#[derive(Serialize)]
struct RecordHead<'a> {
    format_version: u8,
    sequence: u64,
    recorded_at: Timestamp,
    appended_by: &'a str,
    previous_hash: [u8; 32],
    schema_version: u16,
    event_len: u64,
}

impl<'a> RecordRef<'a> {
    /// Reads record bytes (bounded), proving them canonical without re-encoding the event
    /// bytes: the fields before them and their length prefix must re-encode to exactly the bytes
    /// before them (the event bytes, last, are taken as they stand; their own canonical check is
    /// the event's decoding).
    pub fn from_bytes(bytes: &'a [u8]) -> Result<RecordRef<'a>, EncodingError> {
        let (record, consumed): (RecordRef<'a>, usize) = encoding::decode_borrowed(bytes)?;
        if consumed != bytes.len() {
            return Err(EncodingError::Trailing {
                trailing: bytes.len() - consumed,
            });
        }
        let head = RecordHead {
            format_version: record.format_version,
            sequence: record.sequence,
            recorded_at: record.recorded_at,
            appended_by: record.appended_by,
            previous_hash: record.previous_hash,
            schema_version: record.schema_version,
            event_len: record.event_bytes.len() as u64,
        };
        let head_len = bytes.len() - record.event_bytes.len();
        if !encoding::is_encoding_of(&head, &bytes[..head_len])? {
            return Err(EncodingError::NotCanonical);
        }
        if record.format_version != RECORD_FORMAT_VERSION {
            return Err(EncodingError::Decode(format!(
                "record format version {} is not {RECORD_FORMAT_VERSION}",
                record.format_version
            )));
        }
        Ok(record)
    }

    /// An owned copy.
    pub fn to_record(&self) -> Record {
        Record {
            format_version: self.format_version,
            sequence: self.sequence,
            recorded_at: self.recorded_at,
            appended_by: self.appended_by.to_owned(),
            previous_hash: self.previous_hash,
            schema_version: self.schema_version,
            event_bytes: self.event_bytes.to_vec(),
        }
    }

    /// The previous hash as a [`Hash`](struct@Hash).
    pub fn previous(&self) -> Hash {
        Hash(self.previous_hash)
    }
}

/// A record as stored: its bytes and the hash stored beside them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredValue<'a> {
    /// The record bytes.
    pub record_bytes: &'a [u8],
    /// The hash stored with them (not yet checked).
    pub stored_hash: Hash,
}

/// Splits a stored value into record bytes and the stored hash.
pub fn split_value(value: &[u8]) -> Option<StoredValue<'_>> {
    let split_at = value.len().checked_sub(32)?;
    let (record_bytes, hash_bytes) = value.split_at(split_at);
    let stored_hash = Hash(hash_bytes.try_into().ok()?);
    Some(StoredValue {
        record_bytes,
        stored_hash,
    })
}

/// Builds the stored value for record bytes: `record_bytes || record_hash(record_bytes)`.
pub fn stored_value(record_bytes: &[u8]) -> (Vec<u8>, Hash) {
    let hash = chain::record_hash(record_bytes);
    let mut value = Vec::with_capacity(record_bytes.len() + 32);
    value.extend_from_slice(record_bytes);
    value.extend_from_slice(&hash.0);
    (value, hash)
}
