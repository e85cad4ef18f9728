//! Checkpoints: signed statements of the log's size, Merkle root and chain head at a time.
//!
//! The text form follows C2SP's signed-note and tlog-checkpoint formats: a body of lines (the
//! origin line naming the log, the size in decimal, the root in base64, then extension lines),
//! a blank line, and one or more signature lines `— <key name> <base64(key id || signature)>`.
//! Signatures are Ed25519 over the body bytes; a key id is the first 4 bytes of
//! SHA-256(key name || "\n" || 0x01 || public key). Keys are written in the same text forms as
//! Go's `golang.org/x/mod/sumdb/note` (`<name>+<hex key id>+<base64(0x01 || key)>`).
//!
//! Parsing is strict and canonical: a body is accepted only if re-rendering what was parsed
//! gives the same bytes, and base64 and hex have one spelling each; so no change to a signed
//! checkpoint keeps it valid. The only module that names ed25519-dalek and sha2.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use ed25519_dalek::{Signer, SigningKey, VerifyingKey};
use sha2::{Digest as _, Sha256};

use super::chain::Hash;
use super::merkle::{Digest, TreeVersion};
use crate::domain::Timestamp;
use crate::limits;

/// The signature type byte for Ed25519, as in C2SP signed-note.
const ED25519: u8 = 0x01;
/// The signature type byte of a witness's cosignature (C2SP tlog-cosignature, `cosignature/v1`).
const COSIGNATURE_V1: u8 = 0x04;
/// The first part of every origin line the ledger issues: the log is named by its genesis
/// hash; `v2` says the root is of the RFC 6962 SHA-256 tree.
pub const ORIGIN_PREFIX: &str = "sanctions-ledger/v2/";
/// The origin prefix of the first format (a BLAKE3 tree over record hashes): still read and
/// checked, never issued.
pub const ORIGIN_PREFIX_V1: &str = "sanctions-ledger/v1/";
/// The em dash that starts a signature line.
const SIGNATURE_DASH: &str = "\u{2014} ";
/// The first part of a signing key's text.
const PRIVATE_PREFIX: &str = "PRIVATE+KEY+";

/// Why a checkpoint or key was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CheckpointError {
    /// The text is not a well-formed checkpoint.
    #[error("line {line}: {reason}")]
    Malformed {
        /// The line (1-based) at fault.
        line: usize,
        /// What is wrong, and what is expected.
        reason: String,
    },
    /// The text is larger than a checkpoint may be.
    #[error("{size} bytes; a checkpoint is at most {max} bytes")]
    TooLarge {
        /// The size.
        size: usize,
        /// The limit.
        max: usize,
    },
    /// No signature line is by the key given.
    #[error("no signature by the key {name}+{key_id} (signed by: {signed_by})")]
    NotSignedBy {
        /// The key's name.
        name: String,
        /// The key's id in hex.
        key_id: String,
        /// Who did sign, as `name+key id` pairs.
        signed_by: String,
    },
    /// The signature by the key does not verify.
    #[error(
        "the signature by {name}+{key_id} does not verify: the checkpoint was altered or forged"
    )]
    BadSignature {
        /// The key's name.
        name: String,
        /// The key's id in hex.
        key_id: String,
    },
    /// A key's text is malformed.
    #[error("key: {0}")]
    BadKey(String),
}

/// The origin line of a log's checkpoints in the tree format `tree`: the name C2SP tools know
/// the log by, and the name its keys should have.
pub fn origin_of(tree: TreeVersion, log: &Hash) -> String {
    match tree {
        TreeVersion::V1Blake3 => format!("{ORIGIN_PREFIX_V1}{log}"),
        TreeVersion::V2Rfc6962 => format!("{ORIGIN_PREFIX}{log}"),
    }
}

fn malformed(line: usize, reason: impl Into<String>) -> CheckpointError {
    CheckpointError::Malformed {
        line,
        reason: reason.into(),
    }
}

/// What a checkpoint commits to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Checkpoint {
    /// The log: its genesis hash.
    pub log: Hash,
    /// The number of records.
    pub size: u64,
    /// The Merkle tree hash of those records.
    pub root: Digest,
    /// The hash of record `size` (the genesis hash when `size` is 0).
    pub head: Hash,
    /// When the checkpoint was made.
    pub time: Timestamp,
    /// The ledger's origin name, for people.
    pub name: String,
    /// Which tree `root` is of (the origin line's prefix says).
    pub tree: TreeVersion,
}

impl Checkpoint {
    /// The origin line: names the log by its genesis hash.
    pub fn origin(&self) -> String {
        origin_of(self.tree, &self.log)
    }

    /// The body that is signed.
    pub fn body(&self) -> String {
        format!(
            "{}\n{}\n{}\nhead {}\ntime {}\nledger {}\n",
            self.origin(),
            self.size,
            STANDARD.encode(self.root),
            self.head,
            self.time,
            self.name
        )
    }

    /// Parses a body, canonical form only.
    fn parse_body(body: &str) -> Result<Checkpoint, CheckpointError> {
        let lines: Vec<&str> = body.split_terminator('\n').collect();
        let field = |index: usize, prefix: &str| -> Result<&str, CheckpointError> {
            lines
                .get(index)
                .and_then(|line| line.strip_prefix(prefix))
                .ok_or_else(|| {
                    malformed(index + 1, format!("expected a line starting \"{prefix}\""))
                })
        };
        let (tree, log) = match lines.first() {
            Some(line) if line.starts_with(ORIGIN_PREFIX_V1) => {
                (TreeVersion::V1Blake3, field(0, ORIGIN_PREFIX_V1)?)
            }
            _ => (TreeVersion::V2Rfc6962, field(0, ORIGIN_PREFIX)?),
        };
        let log = Hash::from_hex(log).ok_or_else(|| {
            malformed(
                1,
                "the origin must name the log's genesis hash in 64 lowercase hex digits",
            )
        })?;
        let size_text = field(1, "")?;
        let size: u64 = size_text
            .parse()
            .ok()
            .filter(|size: &u64| size.to_string() == size_text)
            .ok_or_else(|| {
                malformed(2, "the size must be a decimal number without leading zeros")
            })?;
        let root = STANDARD
            .decode(field(2, "")?)
            .ok()
            .and_then(|bytes| Digest::try_from(bytes.as_slice()).ok())
            .ok_or_else(|| malformed(3, "the root must be 32 bytes in padded base64"))?;
        let head = Hash::from_hex(field(3, "head ")?)
            .ok_or_else(|| malformed(4, "the head must be 64 lowercase hex digits"))?;
        let time = Timestamp::parse_canonical(field(4, "time ")?).ok_or_else(|| {
            malformed(
                5,
                "the time must be RFC 3339 in UTC, as in 2026-11-29T10:00:00Z",
            )
        })?;
        let name = field(5, "ledger ")?.to_owned();
        if lines.len() != 6 {
            return Err(malformed(
                7,
                "the body has six lines: origin, size, root, head, time, ledger",
            ));
        }
        let checkpoint = Checkpoint {
            log,
            size,
            root,
            head,
            time,
            name,
            tree,
        };
        if checkpoint.body() != body {
            return Err(malformed(1, "the body is not in canonical form"));
        }
        Ok(checkpoint)
    }
}

/// One signature line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NoteSignature {
    /// The key's name.
    pub name: String,
    /// The key id.
    pub key_id: [u8; 4],
    /// What follows the key id: an Ed25519 signature (64 bytes), or a cosignature's timestamp
    /// (8 bytes, big-endian seconds) and Ed25519 signature (72 bytes).
    pub signature: Vec<u8>,
}

impl NoteSignature {
    /// Who signed: `<key name>+<key id in hex>`, as a public key's text begins.
    pub fn signer(&self) -> String {
        format!("{}+{}", self.name, hex(&self.key_id))
    }
}

/// A checkpoint as text, parsed but not yet verified.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignedCheckpoint {
    /// What it commits to (its body, the signed bytes, is `checkpoint.body()`: parsing
    /// accepts only a body that renders back to the same bytes).
    pub checkpoint: Checkpoint,
    /// Its signatures.
    pub signatures: Vec<NoteSignature>,
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn key_id(name: &str, public: &[u8; 32]) -> [u8; 4] {
    key_id_of(ED25519, name, public)
}

/// A key id: the first 4 bytes of SHA-256(name || "\n" || type || public key).
fn key_id_of(kind: u8, name: &str, public: &[u8; 32]) -> [u8; 4] {
    let mut hasher = Sha256::new();
    hasher.update(name.as_bytes());
    hasher.update(b"\n");
    hasher.update([kind]);
    hasher.update(public);
    let digest = hasher.finalize();
    [digest[0], digest[1], digest[2], digest[3]]
}

fn check_key_name(name: &str) -> Result<(), CheckpointError> {
    let valid = !name.is_empty()
        && name.len() <= limits::KEY_NAME_BYTES_MAX
        && name
            .chars()
            .all(|c| !c.is_whitespace() && !c.is_control() && c != '+');
    if valid {
        Ok(())
    } else {
        Err(CheckpointError::BadKey(format!(
            "the key name \"{name}\" must be 1 to {} bytes with no spaces, control characters or '+'",
            limits::KEY_NAME_BYTES_MAX
        )))
    }
}

/// Parses one signature line, `— <key name> <base64(key id || signature)>`: an Ed25519
/// signature (4 + 64 bytes) or a witness's cosignature (4 + 8 + 64).
pub fn parse_signature_line(line: &str, number: usize) -> Result<NoteSignature, CheckpointError> {
    let rest = line
        .strip_prefix(SIGNATURE_DASH)
        .ok_or_else(|| malformed(number, "a signature line starts with \"— \""))?;
    let (name, encoded) = rest
        .split_once(' ')
        .ok_or_else(|| malformed(number, "expected \"— <key name> <base64>\""))?;
    check_key_name(name).map_err(|error| malformed(number, error.to_string()))?;
    let bytes = STANDARD.decode(encoded).map_err(|error| {
        malformed(
            number,
            format!("the signature is not padded base64: {error}"),
        )
    })?;
    if bytes.len() != 68 && bytes.len() != 76 {
        return Err(malformed(
            number,
            format!(
                "{} signature bytes; a signature line holds 4 + 64 (Ed25519) or 4 + 8 + 64 (a cosignature)",
                bytes.len()
            ),
        ));
    }
    Ok(NoteSignature {
        name: name.to_owned(),
        key_id: bytes[..4].try_into().unwrap_or_default(),
        signature: bytes[4..].to_vec(),
    })
}

impl SignedCheckpoint {
    /// Parses a checkpoint's text (strictly) without checking any signature.
    pub fn parse(text: &[u8]) -> Result<SignedCheckpoint, CheckpointError> {
        if text.len() > limits::CHECKPOINT_BYTES_MAX {
            return Err(CheckpointError::TooLarge {
                size: text.len(),
                max: limits::CHECKPOINT_BYTES_MAX,
            });
        }
        let text = std::str::from_utf8(text)
            .map_err(|error| malformed(1, format!("not UTF-8: {error}")))?;
        let (body, signatures) = text
            .split_once("\n\n")
            .ok_or_else(|| malformed(1, "no blank line between the body and the signatures"))?;
        let body = format!("{body}\n");
        let checkpoint = Checkpoint::parse_body(&body)?;
        let first_line = body.lines().count() + 2;
        if !signatures.ends_with('\n') {
            return Err(malformed(
                first_line,
                "the last signature line must end with a newline",
            ));
        }
        let mut parsed = Vec::new();
        for (offset, line) in signatures.split_terminator('\n').enumerate() {
            let number = first_line + offset;
            if parsed.len() == limits::CHECKPOINT_SIGNATURES_MAX {
                return Err(malformed(
                    number,
                    format!("at most {} signatures", limits::CHECKPOINT_SIGNATURES_MAX),
                ));
            }
            parsed.push(parse_signature_line(line, number)?);
        }
        if parsed.is_empty() {
            return Err(malformed(first_line, "no signature line"));
        }
        Ok(SignedCheckpoint {
            checkpoint,
            signatures: parsed,
        })
    }

    /// Parses a checkpoint's text and checks its signature by `key`.
    pub fn open(text: &[u8], key: &VerifierKey) -> Result<SignedCheckpoint, CheckpointError> {
        let signed = SignedCheckpoint::parse(text)?;
        signed.check_signature(key)?;
        Ok(signed)
    }

    /// Checks the signature by `key`.
    pub fn check_signature(&self, key: &VerifierKey) -> Result<(), CheckpointError> {
        let signature = self.line_by(&key.name, &key.key_id, 64)?;
        let bytes: [u8; 64] = signature.signature.as_slice().try_into().unwrap_or([0; 64]);
        let signature = ed25519_dalek::Signature::from_bytes(&bytes);
        key.key
            .verify_strict(self.checkpoint.body().as_bytes(), &signature)
            .map_err(|_| CheckpointError::BadSignature {
                name: key.name.clone(),
                key_id: hex(&key.key_id),
            })
    }

    /// The signature line by the key `name` and `key_id` whose signature is `length` bytes
    /// (64: Ed25519; 72: a cosignature), or who signed instead.
    fn line_by(
        &self,
        name: &str,
        key_id: &[u8; 4],
        length: usize,
    ) -> Result<&NoteSignature, CheckpointError> {
        self.signatures
            .iter()
            .find(|line| {
                line.name == name && &line.key_id == key_id && line.signature.len() == length
            })
            .ok_or_else(|| CheckpointError::NotSignedBy {
                name: name.to_owned(),
                key_id: hex(key_id),
                signed_by: self
                    .signatures
                    .iter()
                    .map(NoteSignature::signer)
                    .collect::<Vec<_>>()
                    .join(", "),
            })
    }

    /// The text: body, blank line, signature lines.
    pub fn text(&self) -> String {
        let mut text = format!("{}\n", self.checkpoint.body());
        for signature in &self.signatures {
            let mut bytes = signature.key_id.to_vec();
            bytes.extend_from_slice(&signature.signature);
            text.push_str(&format!(
                "{SIGNATURE_DASH}{} {}\n",
                signature.name,
                STANDARD.encode(bytes)
            ));
        }
        text
    }
}

/// A public key auditors pin: `<name>+<hex key id>+<base64(0x01 || public key)>`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifierKey {
    /// The key's name.
    pub name: String,
    /// Its id.
    pub key_id: [u8; 4],
    key: VerifyingKey,
}

fn split_key_text(text: &str) -> Result<(String, [u8; 4], [u8; 32]), CheckpointError> {
    split_key_text_of(ED25519, text)
}

fn split_key_text_of(
    wanted: u8,
    text: &str,
) -> Result<(String, [u8; 4], [u8; 32]), CheckpointError> {
    let bad = |reason: &str| CheckpointError::BadKey(reason.to_owned());
    // The base64 key may itself hold '+': only the first two '+' separate fields.
    let mut parts = text.trim_end_matches('\n').splitn(3, '+');
    let (Some(name), Some(id), Some(encoded)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(bad("expected <name>+<key id in hex>+<base64 key>"));
    };
    check_key_name(name)?;
    let bytes = STANDARD
        .decode(encoded)
        .map_err(|_| bad("the key is not padded base64"))?;
    let (&kind, key) = bytes.split_first().ok_or_else(|| bad("the key is empty"))?;
    if kind != wanted {
        return Err(bad(if wanted == ED25519 {
            "only Ed25519 keys (type 0x01) are supported here"
        } else {
            "a witness key is of type 0x04 (cosignature/v1)"
        }));
    }
    let key: [u8; 32] = key
        .try_into()
        .map_err(|_| bad("an Ed25519 key is 32 bytes"))?;
    if id.len() != 8 || !id.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
        return Err(bad("the key id must be 8 lowercase hex digits"));
    }
    let mut key_id = [0u8; 4];
    for (index, byte) in key_id.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&id[index * 2..index * 2 + 2], 16)
            .map_err(|_| bad("the key id must be 8 lowercase hex digits"))?;
    }
    Ok((name.to_owned(), key_id, key))
}

/// A key's text: `<prefix><name>+<hex key id>+<base64(0x01 || key)>`.
fn key_text(prefix: &str, name: &str, key_id: &[u8; 4], key: &[u8; 32]) -> String {
    let mut bytes = vec![ED25519];
    bytes.extend_from_slice(key);
    format!("{prefix}{name}+{}+{}", hex(key_id), STANDARD.encode(bytes))
}

/// A public key's text of type `kind` parsed: its name, its id (checked against the name and
/// key) and the Ed25519 key (not a weak one).
fn parse_public(kind: u8, text: &str) -> Result<(String, [u8; 4], VerifyingKey), CheckpointError> {
    let (name, id, public) = split_key_text_of(kind, text)?;
    if key_id_of(kind, &name, &public) != id {
        return Err(CheckpointError::BadKey(
            "the key id does not match the name and key".to_owned(),
        ));
    }
    let key = VerifyingKey::from_bytes(&public)
        .map_err(|_| CheckpointError::BadKey("not a valid Ed25519 public key".to_owned()))?;
    if key.is_weak() {
        return Err(CheckpointError::BadKey(
            "a weak (small-order) Ed25519 key".to_owned(),
        ));
    }
    Ok((name, id, key))
}

impl VerifierKey {
    /// Parses a public key's text and checks its id.
    pub fn parse(text: &str) -> Result<VerifierKey, CheckpointError> {
        let (name, id, key) = parse_public(ED25519, text)?;
        Ok(VerifierKey {
            name,
            key_id: id,
            key,
        })
    }

    /// The key's text.
    pub fn text(&self) -> String {
        key_text("", &self.name, &self.key_id, self.key.as_bytes())
    }

    /// The key id in hex.
    pub fn key_id_hex(&self) -> String {
        hex(&self.key_id)
    }
}

/// A signing key: `PRIVATE+KEY+<name>+<hex key id>+<base64(0x01 || seed)>`.
pub struct SignerKey {
    name: String,
    key_id: [u8; 4],
    key: SigningKey,
}

impl SignerKey {
    /// A new random key (from the operating system's generator).
    pub fn generate(name: &str) -> Result<SignerKey, CheckpointError> {
        check_key_name(name)?;
        let key = SigningKey::generate(&mut rand_core::OsRng);
        Ok(SignerKey {
            name: name.to_owned(),
            key_id: key_id(name, key.verifying_key().as_bytes()),
            key,
        })
    }

    /// Parses a signing key's text.
    pub fn parse(text: &str) -> Result<SignerKey, CheckpointError> {
        let rest = text.strip_prefix(PRIVATE_PREFIX).ok_or_else(|| {
            CheckpointError::BadKey(format!("a signing key starts with \"{PRIVATE_PREFIX}\""))
        })?;
        let (name, id, seed) = split_key_text(rest)?;
        let key = SigningKey::from_bytes(&seed);
        if key_id(&name, key.verifying_key().as_bytes()) != id {
            return Err(CheckpointError::BadKey(
                "the key id does not match the name and key".to_owned(),
            ));
        }
        Ok(SignerKey {
            name,
            key_id: id,
            key,
        })
    }

    /// The key's secret text (keep it private).
    pub fn secret_text(&self) -> String {
        key_text(
            PRIVATE_PREFIX,
            &self.name,
            &self.key_id,
            self.key.as_bytes(),
        )
    }

    /// The public key to pin.
    pub fn verifier(&self) -> VerifierKey {
        VerifierKey {
            name: self.name.clone(),
            key_id: self.key_id,
            key: self.key.verifying_key(),
        }
    }

    /// Signs a checkpoint.
    pub fn sign(&self, checkpoint: Checkpoint) -> SignedCheckpoint {
        let signature = self.key.sign(checkpoint.body().as_bytes());
        SignedCheckpoint {
            checkpoint,
            signatures: vec![NoteSignature {
                name: self.name.clone(),
                key_id: self.key_id,
                signature: signature.to_bytes().to_vec(),
            }],
        }
    }
}

/// The message a witness signs for a cosignature (C2SP tlog-cosignature, `cosignature/v1`):
/// the header line, the time in seconds since the Unix epoch, and the checkpoint's body.
pub fn cosignature_message(body: &str, timestamp: u64) -> String {
    format!("cosignature/v1\ntime {timestamp}\n{body}")
}

/// A witness's public key: `<name>+<hex key id>+<base64(0x04 || Ed25519 key)>`; its key id is
/// the first 4 bytes of SHA-256(name || "\n" || 0x04 || key).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WitnessKey {
    /// The witness's name.
    pub name: String,
    /// Its key id.
    pub key_id: [u8; 4],
    key: VerifyingKey,
}

impl WitnessKey {
    /// Parses a witness key's text and checks its id.
    pub fn parse(text: &str) -> Result<WitnessKey, CheckpointError> {
        let (name, id, key) = parse_public(COSIGNATURE_V1, text)?;
        Ok(WitnessKey {
            name,
            key_id: id,
            key,
        })
    }

    /// The key's text.
    pub fn text(&self) -> String {
        let mut bytes = vec![COSIGNATURE_V1];
        bytes.extend_from_slice(self.key.as_bytes());
        format!(
            "{}+{}+{}",
            self.name,
            hex(&self.key_id),
            STANDARD.encode(bytes)
        )
    }

    /// `<name>+<key id>`, as reports name a witness.
    pub fn signer(&self) -> String {
        format!("{}+{}", self.name, hex(&self.key_id))
    }

    /// Checks this witness's cosignature on `signed`: its time (seconds since the epoch).
    pub fn check_cosignature(&self, signed: &SignedCheckpoint) -> Result<u64, CheckpointError> {
        let line = signed.line_by(&self.name, &self.key_id, 72)?;
        self.check_line(signed, line)
    }

    /// Checks one cosignature line on `signed`: its time.
    pub fn check_line(
        &self,
        signed: &SignedCheckpoint,
        line: &NoteSignature,
    ) -> Result<u64, CheckpointError> {
        let bad = || CheckpointError::BadSignature {
            name: self.name.clone(),
            key_id: hex(&self.key_id),
        };
        if line.name != self.name || line.key_id != self.key_id || line.signature.len() != 72 {
            return Err(bad());
        }
        let timestamp = u64::from_be_bytes(line.signature[..8].try_into().map_err(|_| bad())?);
        let bytes: [u8; 64] = line.signature[8..].try_into().map_err(|_| bad())?;
        let message = cosignature_message(&signed.checkpoint.body(), timestamp);
        self.key
            .verify_strict(
                message.as_bytes(),
                &ed25519_dalek::Signature::from_bytes(&bytes),
            )
            .map_err(|_| bad())?;
        Ok(timestamp)
    }
}
