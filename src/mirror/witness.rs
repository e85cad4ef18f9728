//! Witnesses (C2SP tlog-witness, <https://c2sp.org/tlog-witness>): submitting a checkpoint with
//! its consistency proof to `<witness>/add-checkpoint` and checking the `cosignature/v1` line
//! (C2SP tlog-cosignature) that comes back.
//!
//! The request body is `old <size>\n`, one base64 hash per line of the consistency proof from
//! that size, an empty line, and the signed checkpoint. A witness answers 200 with its
//! cosignature line(s); 409 with its own latest size (as decimal) when `old` is not it, and the
//! request is made once more from that size; 422 when the proof fails: it holds another history.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use crate::ledger::checkpoint::{
    NoteSignature, SignedCheckpoint, WitnessKey, parse_signature_line,
};
use crate::ledger::{Ledger, LedgerError};

/// A witness to ask: where, and its key.
#[derive(Clone, Debug)]
pub struct Witness {
    /// Its base URL (`/add-checkpoint` is appended).
    pub url: String,
    /// Its public key (type 0x04).
    pub key: WitnessKey,
}

/// Why a witness did not cosign.
#[derive(Debug, thiserror::Error)]
pub enum WitnessError {
    /// It could not be reached or answered something unreadable.
    #[error("{witness}: {reason}")]
    Unreachable {
        /// The witness.
        witness: String,
        /// What went wrong.
        reason: String,
    },
    /// It refused the checkpoint.
    #[error("{witness} refused the checkpoint (HTTP {status}): {reason}")]
    Refused {
        /// The witness.
        witness: String,
        /// Its status.
        status: u16,
        /// What it means.
        reason: String,
    },
    /// The proof could not be made.
    #[error(transparent)]
    Ledger(#[from] LedgerError),
}

/// The size of the last checkpoint the ledger kept that `witness` cosigned (0 if none): the
/// size it most likely holds.
fn last_cosigned_size(ledger: &Ledger, witness: &WitnessKey) -> Result<u64, LedgerError> {
    Ok(ledger
        .checkpoints()?
        .iter()
        .rev()
        .find(|(_, signed)| witness.check_cosignature(signed).is_ok())
        .map_or(0, |(_, signed)| signed.checkpoint.size))
}

fn request_body(
    ledger: &Ledger,
    old: u64,
    signed: &SignedCheckpoint,
) -> Result<String, LedgerError> {
    let mut body = format!("old {old}\n");
    if old > 0 && old < signed.checkpoint.size {
        for hash in ledger.consistency_proof(old, signed.checkpoint.size)? {
            body.push_str(&STANDARD.encode(hash));
            body.push('\n');
        }
    }
    body.push('\n');
    body.push_str(&signed.text());
    Ok(body)
}

/// Submits `signed` (a checkpoint of `ledger`) to `witness`; its checked cosignature line.
pub fn cosign(
    ledger: &Ledger,
    witness: &Witness,
    signed: &SignedCheckpoint,
) -> Result<NoteSignature, WitnessError> {
    let name = witness.key.signer();
    let unreachable = |reason: String| WitnessError::Unreachable {
        witness: format!("{name} at {}", witness.url),
        reason,
    };
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(std::time::Duration::from_secs(
            crate::limits::FOLLOW_REQUEST_TIMEOUT_SECS,
        )))
        .build()
        .into();
    let url = format!("{}/add-checkpoint", witness.url.trim_end_matches('/'));
    let mut old = last_cosigned_size(ledger, &witness.key)?;
    for attempt in 0..2 {
        let body = request_body(ledger, old, signed)?;
        let mut response = agent
            .post(&url)
            .content_type("text/plain; charset=utf-8")
            .send(body.as_bytes())
            .map_err(|error| unreachable(error.to_string()))?;
        let status = response.status().as_u16();
        let text = response
            .body_mut()
            .with_config()
            .limit(crate::limits::CHECKPOINT_BYTES_MAX as u64)
            .read_to_string()
            .map_err(|error| unreachable(error.to_string()))?;
        let refused = |reason: String| WitnessError::Refused {
            witness: format!("{name} at {}", witness.url),
            status,
            reason,
        };
        match status {
            200 => {
                for (number, line) in text.lines().enumerate() {
                    let Ok(line) = parse_signature_line(line, number + 1) else {
                        continue;
                    };
                    let mut with = signed.clone();
                    with.signatures.push(line.clone());
                    if witness.key.check_line(&with, &line).is_ok() {
                        return Ok(line);
                    }
                }
                return Err(unreachable(format!(
                    "answered 200 without a valid cosignature by its key: {}",
                    text.trim()
                )));
            }
            409 => {
                let held: u64 = text
                    .trim()
                    .parse()
                    .map_err(|_| refused(format!("409 without its size: {}", text.trim())))?;
                if held > signed.checkpoint.size {
                    return Err(refused(format!(
                        "it holds a checkpoint of {held} records, more than this one's {}: the log would be rolled back",
                        signed.checkpoint.size
                    )));
                }
                if attempt == 1 || held == old {
                    return Err(refused(format!("it holds size {held}; asked from {old}")));
                }
                old = held;
            }
            422 => {
                return Err(refused(format!(
                    "the consistency proof from size {old} does not hold against the checkpoint it keeps: it saw another history of this log (a fork) ({})",
                    text.trim()
                )));
            }
            403 | 404 => {
                return Err(refused(format!(
                    "it does not know this log or its key ({})",
                    text.trim()
                )));
            }
            _ => return Err(refused(text.trim().to_owned())),
        }
    }
    Err(unreachable("no answer".to_owned()))
}
