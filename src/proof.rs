//! Proof documents: inclusion and consistency proofs as JSON an auditor keeps and checks
//! offline with only the operator's public key (schemas/proof/*.schema.json).
//!
//! An inclusion proof carries the signed checkpoint, the record's stored bytes and the audit
//! path; a consistency proof carries both signed checkpoints and the path between them. Every
//! field is checked, strictly: hex is lowercase, base64 padded and canonical, unknown fields
//! and duplicate keys refused; so no change to a valid proof keeps it valid.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::domain::Event;
use crate::ledger::chain::{self, Hash};
use crate::ledger::checkpoint::{Checkpoint, CheckpointError, SignedCheckpoint, VerifierKey};
use crate::ledger::merkle;
use crate::ledger::record::Record;
use crate::ledger::{Ledger, LedgerError, verify};
use crate::limits;

/// The `proof` value of an inclusion proof.
pub const INCLUSION: &str = "inclusion";
/// The `proof` value of a consistency proof.
pub const CONSISTENCY: &str = "consistency";

/// Proof that a record is in the tree a signed checkpoint commits to.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct InclusionProofJson {
    /// Always "inclusion".
    #[schemars(extend("const" = "inclusion"))]
    pub proof: String,
    /// The signed checkpoint (C2SP signed-note text) the record is proven against.
    pub checkpoint: String,
    /// The record's sequence number (its leaf is `sequence - 1`).
    pub sequence: u64,
    /// The record's stored bytes, padded base64: they hash to `record_hash`.
    pub record: String,
    /// The record's hash, 64 lowercase hex digits.
    pub record_hash: String,
    /// The audit path, leaf to root, 64 lowercase hex digits each (RFC 9162, 2.1.3).
    pub path: Vec<String>,
}

/// Proof that the tree of one signed checkpoint is a prefix of another's.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ConsistencyProofJson {
    /// Always "consistency".
    #[schemars(extend("const" = "consistency"))]
    pub proof: String,
    /// The earlier signed checkpoint.
    pub from_checkpoint: String,
    /// The later signed checkpoint.
    pub to_checkpoint: String,
    /// The consistency path, 64 lowercase hex digits each (RFC 9162, 2.1.4).
    pub path: Vec<String>,
}

/// Why a proof was refused.
#[derive(Debug, thiserror::Error)]
pub enum ProofError {
    /// Not a proof document.
    #[error("not a proof document: {0}")]
    Unreadable(String),
    /// A checkpoint in it is malformed or not signed by the key.
    #[error("{which}: {error}")]
    Checkpoint {
        /// Which checkpoint.
        which: &'static str,
        /// What is wrong.
        error: CheckpointError,
    },
    /// The proof does not prove what it claims.
    #[error("{0}")]
    Invalid(String),
    /// The ledger could not make the proof.
    #[error(transparent)]
    Ledger(#[from] LedgerError),
}

/// What a valid proof proves.
#[derive(Clone, Debug)]
pub enum Proven {
    /// The record is leaf `sequence - 1` of the checkpoint's tree.
    Inclusion {
        /// The checkpoint.
        checkpoint: SignedCheckpoint,
        /// The record's sequence.
        sequence: u64,
        /// Its hash.
        record_hash: Hash,
        /// The record.
        record: Box<Record>,
        /// Its event.
        event: Box<Event>,
    },
    /// The first checkpoint's tree is a prefix of the second's.
    Consistency {
        /// The earlier checkpoint.
        from: SignedCheckpoint,
        /// The later checkpoint.
        to: SignedCheckpoint,
    },
}

/// How two checkpoints relate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Relation {
    /// They are of different logs: nothing to compare.
    DifferentLogs,
    /// One tree: same size, root and head.
    Same,
    /// Same size, different roots or heads: if both are validly signed, the operator signed
    /// two histories of one length, which is proof of a fork.
    Forked,
    /// Different sizes, and a consistency proof shows the smaller tree a prefix of the larger.
    Consistent,
    /// Different sizes and no consistency proof given.
    Undecided,
}

/// How checkpoints `a` and `b` relate (their signatures are the caller's to check). For
/// different sizes, `proof` may be a consistency proof document between them, checked with
/// `key`; a proof that is invalid, or between other checkpoints, is an error.
pub fn relate(
    a: &Checkpoint,
    b: &Checkpoint,
    proof: Option<&[u8]>,
    key: &VerifierKey,
) -> Result<Relation, ProofError> {
    if a.log != b.log {
        return Ok(Relation::DifferentLogs);
    }
    if a.tree != b.tree {
        // Roots of two tree formats cannot be compared, but the head hash chains every record
        // before it: one size and one head is one history.
        if a.size != b.size {
            return Ok(Relation::Undecided);
        }
        return Ok(if a.head == b.head {
            Relation::Same
        } else {
            Relation::Forked
        });
    }
    if a.size == b.size {
        return Ok(if a.root == b.root && a.head == b.head {
            Relation::Same
        } else {
            Relation::Forked
        });
    }
    let Some(proof) = proof else {
        return Ok(Relation::Undecided);
    };
    let (small, large) = if a.size < b.size { (a, b) } else { (b, a) };
    match verify_document(proof, key)? {
        Proven::Consistency { from, to }
            if &from.checkpoint == small && &to.checkpoint == large =>
        {
            Ok(Relation::Consistent)
        }
        _ => Err(invalid(
            "the proof given is not a consistency proof between these two checkpoints",
        )),
    }
}

fn invalid(reason: impl Into<String>) -> ProofError {
    ProofError::Invalid(reason.into())
}

fn hex_path(path: &[merkle::Digest]) -> Vec<String> {
    path.iter().map(|hash| Hash(*hash).to_hex()).collect()
}

fn parse_path(path: &[String]) -> Result<Vec<[u8; 32]>, ProofError> {
    if path.len() > 2 * 64 {
        return Err(invalid(format!(
            "a path of {} hashes; at most 128",
            path.len()
        )));
    }
    path.iter()
        .enumerate()
        .map(|(index, text)| {
            Hash::from_hex(text)
                .map(|hash| hash.0)
                .ok_or_else(|| invalid(format!("/path/{index}: not 64 lowercase hex digits")))
        })
        .collect()
}

/// Parses a checkpoint held in a proof's field; with a key, checks its signature too.
fn open_checkpoint(
    text: &str,
    key: Option<&VerifierKey>,
    which: &'static str,
) -> Result<SignedCheckpoint, ProofError> {
    match key {
        Some(key) => SignedCheckpoint::open(text.as_bytes(), key),
        None => SignedCheckpoint::parse(text.as_bytes()),
    }
    .map_err(|error| ProofError::Checkpoint { which, error })
}

/// Makes the inclusion proof of record `sequence` against `checkpoint`, and checks it.
pub fn prove_inclusion(
    ledger: &Ledger,
    sequence: u64,
    checkpoint: &SignedCheckpoint,
) -> Result<InclusionProofJson, ProofError> {
    let signed = &checkpoint.checkpoint;
    ledger.check_extends(signed)?;
    if sequence == 0 || sequence > signed.size {
        return Err(invalid(format!(
            "record {sequence} is not in the checkpoint's tree of records 1..={}",
            signed.size
        )));
    }
    let record_bytes = ledger.record_bytes(sequence)?;
    let path = ledger.inclusion_proof(sequence, signed.size)?;
    let document = InclusionProofJson {
        proof: INCLUSION.to_owned(),
        checkpoint: checkpoint.text(),
        sequence,
        record: STANDARD.encode(&record_bytes),
        record_hash: chain::record_hash(&record_bytes).to_hex(),
        path: hex_path(&path),
    };
    check_inclusion(&document, None)?;
    Ok(document)
}

/// Makes the consistency proof from `from` to `to`, and checks it.
pub fn prove_consistency(
    ledger: &Ledger,
    from: &SignedCheckpoint,
    to: &SignedCheckpoint,
) -> Result<ConsistencyProofJson, ProofError> {
    ledger.check_extends(&from.checkpoint)?;
    ledger.check_extends(&to.checkpoint)?;
    if from.checkpoint.size > to.checkpoint.size {
        return Err(invalid(format!(
            "--from holds {} records, more than --to's {}: give the earlier checkpoint as --from",
            from.checkpoint.size, to.checkpoint.size
        )));
    }
    let path = ledger.consistency_proof(from.checkpoint.size, to.checkpoint.size)?;
    let document = ConsistencyProofJson {
        proof: CONSISTENCY.to_owned(),
        from_checkpoint: from.text(),
        to_checkpoint: to.text(),
        path: hex_path(&path),
    };
    check_consistency(&document, None)?;
    Ok(document)
}

/// Checks a proof document's text with the operator's public key.
pub fn verify_document(text: &[u8], key: &VerifierKey) -> Result<Proven, ProofError> {
    if text.len() > limits::PROOF_BYTES_MAX {
        return Err(ProofError::Unreadable(format!(
            "{} bytes; a proof is at most {} bytes",
            text.len(),
            limits::PROOF_BYTES_MAX
        )));
    }
    let text = std::str::from_utf8(text)
        .map_err(|error| ProofError::Unreadable(format!("not UTF-8: {error}")))?;
    let value = crate::intake::parse_strict(text).map_err(|error| {
        ProofError::Unreadable(format!(
            "line {}, column {}: {}",
            error.line, error.column, error.reason
        ))
    })?;
    let kind = value
        .get("proof")
        .and_then(|kind| kind.as_str())
        .unwrap_or("");
    let shape = |error: serde_json::Error| ProofError::Unreadable(error.to_string());
    match kind {
        INCLUSION => check_inclusion(&serde_json::from_value(value).map_err(shape)?, Some(key)),
        CONSISTENCY => check_consistency(&serde_json::from_value(value).map_err(shape)?, Some(key)),
        _ => Err(ProofError::Unreadable(format!(
            "/proof must be \"{INCLUSION}\" or \"{CONSISTENCY}\""
        ))),
    }
}

/// Checks an inclusion proof; with a key, the checkpoint's signature too.
fn check_inclusion(
    document: &InclusionProofJson,
    key: Option<&VerifierKey>,
) -> Result<Proven, ProofError> {
    let signed = open_checkpoint(&document.checkpoint, key, "/checkpoint")?;
    let checkpoint = &signed.checkpoint;
    let sequence = document.sequence;
    let record_bytes = STANDARD
        .decode(&document.record)
        .map_err(|error| invalid(format!("/record: not padded base64: {error}")))?;
    let record_hash = chain::record_hash(&record_bytes);
    if document.record_hash != record_hash.to_hex() {
        return Err(invalid(format!(
            "/record_hash: the record's bytes hash to {record_hash}, not {}",
            document.record_hash
        )));
    }
    let record = verify::check_record(sequence, &record_bytes, None, None)
        .map_err(|failure| invalid(format!("/record: {failure}")))?;
    let event = verify::check_event(sequence, &record.event_bytes, record.schema_version)
        .map_err(|failure| invalid(format!("/record: {failure}")))?;
    if sequence == 0 || sequence > checkpoint.size {
        return Err(invalid(format!(
            "/sequence: {sequence} is not in the checkpoint's tree of records 1..={}",
            checkpoint.size
        )));
    }
    if sequence == checkpoint.size && record_hash != checkpoint.head {
        return Err(invalid(
            "/record: the checkpoint's last record, but not the head it signed",
        ));
    }
    let path = parse_path(&document.path)?;
    let slices: Vec<&[u8]> = path.iter().map(|hash| hash.as_slice()).collect();
    merkle::verify_inclusion(
        checkpoint.tree.hasher(),
        sequence - 1,
        checkpoint.size,
        &checkpoint.tree.leaf(&record_hash, &record_bytes),
        &slices,
        &checkpoint.root,
    )
    .map_err(|error| invalid(format!("/path: {error}")))?;
    Ok(Proven::Inclusion {
        checkpoint: signed,
        sequence,
        record_hash,
        record: Box::new(record),
        event: Box::new(event),
    })
}

/// Checks a consistency proof; with a key, both checkpoints' signatures too.
fn check_consistency(
    document: &ConsistencyProofJson,
    key: Option<&VerifierKey>,
) -> Result<Proven, ProofError> {
    let from_signed = open_checkpoint(&document.from_checkpoint, key, "/from_checkpoint")?;
    let to_signed = open_checkpoint(&document.to_checkpoint, key, "/to_checkpoint")?;
    let (from, to) = (&from_signed.checkpoint, &to_signed.checkpoint);
    if from.log != to.log {
        return Err(invalid(format!(
            "the checkpoints are of different logs ({} and {})",
            from.log, to.log
        )));
    }
    if from.tree != to.tree {
        return Err(invalid(format!(
            "the checkpoints are of different tree formats ({} and {}): no proof relates them",
            from.origin(),
            to.origin()
        )));
    }
    let path = parse_path(&document.path)?;
    let slices: Vec<&[u8]> = path.iter().map(|hash| hash.as_slice()).collect();
    if from.size == 0 {
        return Err(invalid("/from_checkpoint: an empty tree proves nothing"));
    }
    merkle::verify_consistency(
        from.tree.hasher(),
        from.size,
        to.size,
        &from.root,
        &to.root,
        &slices,
    )
    .map_err(|error| invalid(format!("/path: {error}")))?;
    if from.size == to.size && from.head != to.head {
        return Err(invalid("the checkpoints have one root but different heads"));
    }
    Ok(Proven::Consistency {
        from: from_signed,
        to: to_signed,
    })
}
