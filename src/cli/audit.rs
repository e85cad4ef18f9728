//! The auditor's commands: keys, checkpoints, proofs, verification against a checkpoint,
//! fork evidence, and offline bundles. Verdicts have their own exit codes (see README.md):
//! 0 ok / proven / same / consistent, 1 damage or a rejected proof or bundle, 2 an error,
//! 3 unanchored or undecided, 4 truncated, 5 diverged or forked.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

use super::json::{
    BundleCheckResult, CheckpointJson, CheckpointResult, CheckpointsResult, CompareResult,
    ExportResult, HeadRef, KeygenResult, ProofCheckResult, RestoreResult, VerifyResult,
};
use super::output::{self, Failure, Out};
use crate::intake::shape::{HashHex, Instant};
use crate::ledger::bundle;
use crate::ledger::chain::Hash;
use crate::ledger::checkpoint::{NoteSignature, SignedCheckpoint, SignerKey, VerifierKey};
use crate::ledger::{Anchoring, Ledger, LedgerError, SystemClock};
use crate::limits;
use crate::proof::{self, Proven, Relation};

/// Exit code: internally consistent, but no checkpoint to anchor it (or two checkpoints
/// whose relation is not proven).
pub const EXIT_UNANCHORED: u8 = 3;
/// Exit code: the ledger is shorter than the checkpoint.
pub const EXIT_TRUNCATED: u8 = 4;
/// Exit code: the ledger contradicts the checkpoint, or two checkpoints prove a fork.
pub const EXIT_DIVERGED: u8 = 5;

/// Reads at most `max` bytes of a file: bounded by what is read, not by what `stat` says
/// (`/dev/zero`, a pipe or a growing file report no useful size).
pub(super) fn read_limited(path: &Path, max: usize, what: &str) -> Result<Vec<u8>, Failure> {
    use std::io::Read;
    let label = path.display();
    let file = std::fs::File::open(path)
        .map_err(|error| Failure::usage(format!("{label}: cannot read {what}: {error}")))?;
    let mut bytes = Vec::new();
    file.take(max as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(|error| Failure::usage(format!("{label}: cannot read {what}: {error}")))?;
    if bytes.len() > max {
        return Err(Failure::usage(format!(
            "{label}: more than {max} bytes; {what} is at most {max} bytes"
        )));
    }
    Ok(bytes)
}

/// A public key from a file holding it, or from the key's text itself.
pub fn load_verifier(argument: &str) -> Result<VerifierKey, Failure> {
    let path = Path::new(argument);
    let (text, label) = if path.is_file() {
        let bytes = read_limited(path, limits::KEY_FILE_BYTES_MAX, "a public key")?;
        (
            String::from_utf8_lossy(&bytes).trim_end().to_owned(),
            path.display().to_string(),
        )
    } else {
        (argument.to_owned(), "--key".to_owned())
    };
    VerifierKey::parse(&text).map_err(|error| {
        Failure::bad_checkpoint(format!(
            "{label}: {error}; expected a public key file from `sanctions-ledger keygen` or its text, <name>+<key id>+<base64>"
        ))
    })
}

pub(crate) fn load_signer(path: &Path) -> Result<SignerKey, Failure> {
    let bytes = read_limited(path, limits::KEY_FILE_BYTES_MAX, "a secret key")?;
    SignerKey::parse(String::from_utf8_lossy(&bytes).trim_end()).map_err(|error| {
        Failure::bad_checkpoint(format!(
            "{}: {error}; expected a secret key file from `sanctions-ledger keygen`",
            path.display()
        ))
    })
}

/// Reads a checkpoint file; checks its signature when a key is given.
fn load_checkpoint(path: &Path, key: Option<&VerifierKey>) -> Result<SignedCheckpoint, Failure> {
    let bytes = read_limited(path, limits::CHECKPOINT_BYTES_MAX, "a checkpoint")?;
    let result = match key {
        Some(key) => SignedCheckpoint::open(&bytes, key),
        None => SignedCheckpoint::parse(&bytes),
    };
    result.map_err(|error| {
        Failure::bad_checkpoint(format!(
            "{}: not a valid checkpoint: {error}",
            path.display()
        ))
    })
}

/// The checkpoint given, or else the last one the ledger issued.
fn checkpoint_or_latest(ledger: &Ledger, path: Option<&Path>) -> Result<SignedCheckpoint, Failure> {
    match path {
        Some(path) => load_checkpoint(path, None),
        None => ledger
            .last_checkpoint()
            .map_err(Failure::ledger)?
            .map(|(_, signed)| signed)
            .ok_or_else(|| {
                Failure::usage(
                    "the ledger has issued no checkpoint yet: run `sanctions-ledger checkpoint --key KEY` first, or give --checkpoint FILE",
                )
            }),
    }
}

pub(crate) fn checkpoint_json(signed: &SignedCheckpoint, number: Option<u64>) -> CheckpointJson {
    let checkpoint = &signed.checkpoint;
    CheckpointJson {
        number,
        origin: checkpoint.origin(),
        size: checkpoint.size,
        root: HashHex(Hash(checkpoint.root).to_hex()),
        head: HashHex(checkpoint.head.to_hex()),
        time: Instant(checkpoint.time.to_string()),
        ledger: checkpoint.name.clone(),
        signed_by: signed_by(signed),
        text: signed.text(),
    }
}

fn signed_by(signed: &SignedCheckpoint) -> Vec<String> {
    signed
        .signatures
        .iter()
        .map(NoteSignature::signer)
        .collect()
}

pub(crate) fn describe(signed: &SignedCheckpoint) -> String {
    let checkpoint = &signed.checkpoint;
    format!(
        "size {}, root {}, made {}, signed by {}",
        checkpoint.size,
        Hash(checkpoint.root),
        checkpoint.time,
        signed_by(signed).join(", ")
    )
}

/// Writes a new file, refusing to replace one (a kept checkpoint or key is never overwritten).
fn write_new(path: &Path, bytes: &[u8], secret: bool) -> Result<(), Failure> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    if secret {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    #[cfg(not(unix))]
    let _ = secret;
    let mut file = options.open(path).map_err(|error| {
        Failure::usage(format!(
            "{}: cannot create: {error} (an existing file is never replaced)",
            path.display()
        ))
    })?;
    file.write_all(bytes)
        .and_then(|()| file.sync_all())
        .map_err(|error| Failure::usage(format!("{}: cannot write: {error}", path.display())))
}

/// `keygen`.
pub fn keygen(out: &mut Out, name: &str, prefix: Option<&Path>) -> Result<(), Failure> {
    let key = SignerKey::generate(name).map_err(|error| Failure::usage(error.to_string()))?;
    // A key name may look like a URL (example.org/ops); the default file name may not.
    let file_name: String = name
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || c == '-' || c == '_' || c == '.' {
                c
            } else {
                '-'
            }
        })
        .collect();
    let prefix = prefix.map_or_else(|| PathBuf::from(file_name), Path::to_path_buf);
    // Appended, not `with_extension`: a prefix such as example.org-ops keeps its dot.
    let with_suffix = |suffix: &str| {
        let mut path = prefix.clone().into_os_string();
        path.push(suffix);
        PathBuf::from(path)
    };
    let (secret_path, public_path) = (with_suffix(".key"), with_suffix(".pub"));
    let verifier = key.verifier();
    write_new(
        &secret_path,
        format!("{}\n", key.secret_text()).as_bytes(),
        true,
    )?;
    write_new(
        &public_path,
        format!("{}\n", verifier.text()).as_bytes(),
        false,
    )?;
    let result = KeygenResult {
        ok: true,
        name: name.to_owned(),
        key_id: verifier.key_id_hex(),
        public_key: verifier.text(),
        public_key_file: public_path.display().to_string(),
        secret_key_file: secret_path.display().to_string(),
    };
    out.emit(&result, || {
        format!(
            "key id      {}\npublic key  {}\nwrote {} (give it to auditors to pin) and {} (secret: keep it private, mode 0600)",
            result.key_id, result.public_key, result.public_key_file, result.secret_key_file
        )
    });
    Ok(())
}

/// `checkpoint`.
pub fn checkpoint(
    out: &mut Out,
    ledger_path: &Path,
    key_path: &Path,
    out_path: Option<&Path>,
    witness_args: &[String],
    required: Option<usize>,
) -> Result<(), Failure> {
    let signer = load_signer(key_path)?;
    let witnesses = witness_args
        .iter()
        .map(|argument| parse_witness(argument))
        .collect::<Result<Vec<_>, _>>()?;
    let required = required.unwrap_or(witnesses.len());
    if required > witnesses.len() {
        return Err(Failure::usage(format!(
            "--witnesses-required {required}, but {} witness(es) given",
            witnesses.len()
        )));
    }
    let mut ledger = Ledger::open(ledger_path).map_err(Failure::ledger)?;
    let (number, signed, mut result) =
        sign_checkpoint_witnessed(&mut ledger, &signer, &witnesses, required)?;
    if let Some(path) = out_path {
        write_new(path, signed.text().as_bytes(), false)?;
    }
    result.written_to = out_path.map(|path| path.display().to_string());
    out.emit(&result, || {
        let mut text = signed.text();
        text.push_str(&format!(
            "(checkpoint {number} kept in the ledger; {} records re-read and re-hashed before signing{})",
            result.records_rechecked,
            out_path.map_or(String::new(), |path| format!("; written to {}", path.display()))
        ));
        text
    });
    Ok(())
}

/// `URL:VKEY`: a witness's URL and its key (text or file), split at the last colon.
pub(crate) fn parse_witness(argument: &str) -> Result<crate::mirror::witness::Witness, Failure> {
    let (url, key) = argument.rsplit_once(':').ok_or_else(|| {
        Failure::usage(format!(
            "--witness {argument}: expected URL:VKEY (the witness's URL and its public key or key file)"
        ))
    })?;
    Ok(crate::mirror::witness::Witness {
        url: url.to_owned(),
        key: load_witness_key(key)?,
    })
}

/// A witness's public key from its text or a file holding it.
pub(crate) fn load_witness_key(
    argument: &str,
) -> Result<crate::ledger::checkpoint::WitnessKey, Failure> {
    let path = Path::new(argument);
    let text = if path.is_file() {
        let bytes = read_limited(path, limits::KEY_FILE_BYTES_MAX, "a witness key")?;
        String::from_utf8_lossy(&bytes).trim().to_owned()
    } else {
        argument.trim().to_owned()
    };
    crate::ledger::checkpoint::WitnessKey::parse(&text)
        .map_err(|error| Failure::bad_checkpoint(format!("witness key {argument}: {error}")))
}

/// Signs and keeps a checkpoint of the head (`checkpoint`, `POST /v1/checkpoints`): its number,
/// the checkpoint, and what `checkpoint --json` prints of it.
pub(crate) fn sign_checkpoint(
    ledger: &mut Ledger,
    signer: &SignerKey,
) -> Result<(u64, SignedCheckpoint, CheckpointResult), Failure> {
    sign_checkpoint_witnessed(ledger, signer, &[], 0)
}

/// [`sign_checkpoint`], cosigned by at least `required` of `witnesses` before it is kept: if
/// fewer cosign, nothing is kept and the failure names each witness's answer.
pub(crate) fn sign_checkpoint_witnessed(
    ledger: &mut Ledger,
    signer: &SignerKey,
    witnesses: &[crate::mirror::witness::Witness],
    required: usize,
) -> Result<(u64, SignedCheckpoint, CheckpointResult), Failure> {
    let since = ledger
        .last_checkpoint()
        .map_err(Failure::ledger)?
        .map_or(0, |(_, signed)| signed.checkpoint.size);
    let (number, mut signed) = ledger
        .prepare_checkpoint(signer, &SystemClock)
        .map_err(Failure::ledger)?;
    let mut refusals = Vec::new();
    let mut lines = Vec::new();
    for witness in witnesses {
        match crate::mirror::witness::cosign(ledger, witness, &signed) {
            Ok(line) => lines.push(line),
            Err(error) => refusals.push(error.to_string()),
        }
    }
    if lines.len() < required {
        return Err(Failure::refused(format!(
            "the checkpoint of {} records was cosigned by {} of the {required} witness(es) required, so it was not kept or published: {}",
            signed.checkpoint.size,
            lines.len(),
            refusals.join("; ")
        )));
    }
    signed.signatures.extend(lines);
    if signed.text().len() > limits::CHECKPOINT_BYTES_MAX
        || signed.signatures.len() > limits::CHECKPOINT_SIGNATURES_MAX
    {
        return Err(Failure::refused(format!(
            "with its cosignatures the checkpoint would exceed CHECKPOINT_BYTES_MAX ({}) or CHECKPOINT_SIGNATURES_MAX ({}): ask fewer witnesses",
            limits::CHECKPOINT_BYTES_MAX,
            limits::CHECKPOINT_SIGNATURES_MAX
        )));
    }
    ledger
        .keep_checkpoint(signed.text().as_bytes())
        .map_err(Failure::ledger)?;
    let result = CheckpointResult {
        ok: true,
        checkpoint: checkpoint_json(&signed, Some(number)),
        records_rechecked: signed.checkpoint.size - since,
        written_to: None,
    };
    Ok((number, signed, result))
}

/// What `checkpoints --json` prints.
pub(crate) fn checkpoints_result(
    ledger: &Ledger,
) -> Result<(Vec<(u64, SignedCheckpoint)>, CheckpointsResult), Failure> {
    let kept = ledger.checkpoints().map_err(Failure::ledger)?;
    let result = CheckpointsResult {
        ok: true,
        checkpoints: kept
            .iter()
            .map(|(number, signed)| checkpoint_json(signed, Some(*number)))
            .collect(),
    };
    Ok((kept, result))
}

/// `checkpoints`.
pub fn checkpoints(out: &mut Out, ledger_path: &Path) -> Result<(), Failure> {
    let ledger = Ledger::open_read(ledger_path).map_err(Failure::ledger)?;
    let (kept, result) = checkpoints_result(&ledger)?;
    out.emit(&result, || {
        if kept.is_empty() {
            return "no checkpoints yet (make one with `sanctions-ledger checkpoint --key KEY`)"
                .to_owned();
        }
        let mut text = format!(
            "{:>4}  {:>10}  {:<27}  {:<64}  signed by",
            "#", "size", "time", "root"
        );
        for (number, signed) in &kept {
            text.push_str(&format!(
                "\n{number:>4}  {:>10}  {:<27}  {}  {}",
                signed.checkpoint.size,
                signed.checkpoint.time.to_string(),
                Hash(signed.checkpoint.root),
                signed_by(signed).join(", ")
            ));
        }
        text
    });
    Ok(())
}

fn print_document(value: &impl serde::Serialize, out_path: Option<&Path>) -> Result<(), Failure> {
    let text = serde_json::to_string_pretty(value).unwrap_or_default() + "\n";
    match out_path {
        Some(path) => write_new(path, text.as_bytes(), false),
        None => {
            output::print_line(text.trim_end());
            Ok(())
        }
    }
}

pub(crate) fn proof_failure(error: proof::ProofError) -> Failure {
    match error {
        proof::ProofError::Ledger(error) => Failure::ledger(error),
        other => Failure::usage(other.to_string()),
    }
}

/// `prove inclusion`.
pub fn prove_inclusion(
    ledger_path: &Path,
    sequence: u64,
    checkpoint_path: Option<&Path>,
    out_path: Option<&Path>,
) -> Result<(), Failure> {
    let ledger = Ledger::open(ledger_path).map_err(Failure::ledger)?;
    let checkpoint = checkpoint_or_latest(&ledger, checkpoint_path)?;
    let document = proof::prove_inclusion(&ledger, sequence, &checkpoint).map_err(proof_failure)?;
    print_document(&document, out_path)
}

/// `prove consistency`.
pub fn prove_consistency(
    ledger_path: &Path,
    from: &Path,
    to: Option<&Path>,
    out_path: Option<&Path>,
) -> Result<(), Failure> {
    let ledger = Ledger::open(ledger_path).map_err(Failure::ledger)?;
    let from = load_checkpoint(from, None)?;
    let to = checkpoint_or_latest(&ledger, to)?;
    let document = proof::prove_consistency(&ledger, &from, &to).map_err(proof_failure)?;
    print_document(&document, out_path)
}

/// `verify-proof`.
pub fn verify_proof(out: &mut Out, file: &Path, key: &str) -> Result<(), Failure> {
    let key = load_verifier(key)?;
    let bytes = read_limited(file, limits::PROOF_BYTES_MAX, "a proof")?;
    let proven = proof::verify_document(&bytes, &key).map_err(Failure::proof_rejected)?;
    let result = match proven {
        Proven::Inclusion {
            checkpoint: signed,
            sequence,
            record_hash,
            event,
            ..
        } => {
            let checkpoint = &signed.checkpoint;
            ProofCheckResult {
                ok: true,
                verdict: "proven",
                proof: "inclusion",
                sequence: Some(sequence),
                record_hash: Some(HashHex(record_hash.to_hex())),
                event_id: Some(event.id().to_string()),
                checkpoint: checkpoint_json(&signed, None),
                from_checkpoint: None,
                detail: format!(
                    "PROVEN: record {sequence} (event \"{}\", hash {record_hash}) is in the tree of {} records whose root {} was signed by {} at {}",
                    event.id(),
                    checkpoint.size,
                    Hash(checkpoint.root),
                    key.text(),
                    checkpoint.time
                ),
            }
        }
        Proven::Consistency { from, to } => ProofCheckResult {
            ok: true,
            verdict: "proven",
            proof: "consistency",
            sequence: None,
            record_hash: None,
            event_id: None,
            checkpoint: checkpoint_json(&to, None),
            from_checkpoint: Some(checkpoint_json(&from, None)),
            detail: format!(
                "PROVEN: the tree of {} records (root {}) is a prefix of the tree of {} records (root {}); both signed by {}",
                from.checkpoint.size,
                Hash(from.checkpoint.root),
                to.checkpoint.size,
                Hash(to.checkpoint.root),
                key.text()
            ),
        },
    };
    out.emit(&result, || result.detail.clone());
    Ok(())
}

/// `verify`, with or without a checkpoint the auditor kept.
pub fn verify(
    out: &mut Out,
    ledger_path: &Path,
    log_only: bool,
    sources: bool,
    checkpoint_path: Option<&Path>,
    key: Option<&str>,
    policy: &crate::mirror::WitnessPolicy,
) -> Result<(), Failure> {
    if sources && log_only {
        return Err(Failure::usage(
            "--sources re-reads snapshot files against the projections; it cannot go with --log-only",
        ));
    }
    let key = key.map(load_verifier).transpose()?;
    let anchor = checkpoint_path
        .map(|path| load_checkpoint(path, key.as_ref()))
        .transpose()?;
    let cosigned_by = match &anchor {
        Some(signed) if !policy.keys.is_empty() => policy
            .check(signed)
            .map_err(|reason| Failure::bad_checkpoint(format!("--checkpoint: {reason}")))?,
        _ => Vec::new(),
    };
    let mut ledger = match Ledger::open_read(ledger_path) {
        Ok(ledger) => ledger,
        // Damage found on opening is a failed verification; anything else (no ledger, a file
        // that cannot be read, a full disk) is an error.
        Err(LedgerError::Damaged(failure)) => return Err(Failure::verify(failure)),
        Err(error) => return Err(Failure::ledger(error)),
    };
    // The derived store is caught up with the log (that is not damage) before it is checked;
    // one that cannot be opened or read is damage of the derived store, reported after the log.
    let derived_failure = if log_only {
        None
    } else {
        match ledger
            .attach_derived()
            .and_then(|()| ledger.flush_derived())
        {
            Ok(()) => None,
            Err(LedgerError::Damaged(failure)) => return Err(Failure::verify(failure)),
            Err(error @ LedgerError::Store(crate::ledger::store::StoreError::Locked { .. })) => {
                return Err(Failure::ledger(error));
            }
            // A full disk while the derived store is caught up is an error, not damage.
            Err(error) if error.is_storage_full() => return Err(Failure::ledger(error)),
            Err(error) => Some(error),
        }
    };
    let options = crate::ledger::VerifyOptions {
        log_only: log_only || derived_failure.is_some(),
        sizes: anchor.iter().map(|a| a.checkpoint.size).collect(),
        v1_roots: anchor
            .iter()
            .any(|a| a.checkpoint.tree == crate::ledger::merkle::TreeVersion::V1Blake3),
    };
    let total = ledger.head().sequence;
    let progress = output::progress_bar(
        total,
        !out.is_json() && std::io::stderr().is_terminal(),
        "verifying",
    );
    let result = ledger.verify_with(&options, &mut |sequence| {
        if sequence % 4096 == 0 {
            progress.set_position(sequence);
        }
    });
    progress.finish_and_clear();
    let verified = result.map_err(Failure::verify)?;
    if let Some(error) = derived_failure {
        return Err(Failure::verify(crate::ledger::VerifyFailure::new(
            0,
            crate::ledger::FailureKind::Unreadable,
            format!("the log verified, but {error}"),
        )));
    }
    let projections = !log_only;
    if projections {
        crate::projection::catch_up(&ledger).map_err(Failure::projection)?;
        let mismatches = crate::projection::verify(&ledger).map_err(Failure::projection)?;
        if let Some(first) = mismatches.first() {
            return Err(Failure::projections_differ(
                mismatches.len(),
                &first.listing,
                &first.detail,
            ));
        }
    }
    let sources_checked = if sources {
        let (checked, problems) =
            crate::import::plan::verify_sources(&ledger).map_err(Failure::import)?;
        if let Some(first) = problems.first() {
            return Err(Failure::sources_differ(
                problems.len(),
                &first.file,
                &first.snapshot,
                &first.reason,
            ));
        }
        Some(checked)
    } else {
        None
    };
    let recovery = ledger.recovery();
    let mut notes = Vec::new();
    if let Some(checked) = sources_checked {
        notes.push(format!(
            "sources: {checked} stored snapshot file(s) re-read; each implies exactly the events recorded from it"
        ));
    }
    if let Some(reason) = &recovery.derived_rebuilt {
        notes.push(format!(
            "the derived store was rebuilt from the log before it was checked ({reason})"
        ));
    } else if recovery.derived_caught_up > 0 {
        notes.push(format!(
            "the derived store was caught up with {} record(s) from the log before it was checked",
            recovery.derived_caught_up
        ));
    }
    let tail: Vec<super::json::TailJson> = recovery
        .tail
        .iter()
        .map(|piece| super::json::TailJson {
            file: format!("log/{}", piece.file),
            offset: piece.offset,
            bytes: piece.bytes,
            kept_as: piece.kept_as.as_ref().map(|kept| format!("log/{kept}")),
        })
        .collect();
    for piece in &tail {
        notes.push(format!(
            "{} bytes after the durable head in {} from byte {} were never acknowledged (a torn write); they are cut, and kept aside, when the ledger next opens for writing",
            piece.bytes, piece.file, piece.offset
        ));
    }
    let consistent = format!(
        "{} records from genesis {}, head {}, tree root {}{}{}",
        verified.records,
        verified.genesis_hash,
        verified.head_hash,
        Hash(verified.tree_root),
        match verified.checkpoints_checked {
            0 => String::new(),
            n => format!("; the {n} checkpoint(s) it issued match its records"),
        },
        if projections {
            "; the derived index, places, Merkle nodes and projections match the log"
        } else {
            "; only the log was checked (--log-only), not the derived data answers come from"
        },
    );
    let (verdict, code, detail) = match (
        verified.against(anchor.as_ref().map(|a| &a.checkpoint)),
        &anchor,
    ) {
        (Anchoring::Unanchored, _) | (_, None) => (
            "unanchored",
            EXIT_UNANCHORED,
            format!(
                "UNANCHORED: internally consistent: {consistent}. Not anchored: nothing shows this is the log that was there before; give --checkpoint FILE (one you kept) to check that"
            ),
        ),
        (Anchoring::OtherLog, Some(signed)) => (
            "diverged",
            EXIT_DIVERGED,
            format!(
                "DIVERGED: the checkpoint is of the log with genesis {}; this ledger's genesis is {}: a different (or replaced) log",
                signed.checkpoint.log, verified.genesis_hash
            ),
        ),
        (Anchoring::Truncated { missing }, Some(signed)) => (
            "truncated",
            EXIT_TRUNCATED,
            format!(
                "TRUNCATED: the checkpoint ({}) commits to {} records; the ledger holds {}: {missing} record(s) are gone (cut off or rolled back)",
                describe(signed),
                signed.checkpoint.size,
                verified.records,
            ),
        ),
        (Anchoring::Extends { since }, Some(signed)) => (
            "ok",
            0,
            format!(
                "OK: the ledger extends the checkpoint ({}){}: its first {} records are the ones signed, and {since} more follow. {consistent}",
                describe(signed),
                if key.is_some() {
                    ", signature checked"
                } else {
                    ", signature not checked (no --key)"
                },
                signed.checkpoint.size,
            ),
        ),
        (Anchoring::Diverged { root }, Some(signed)) => (
            "diverged",
            EXIT_DIVERGED,
            format!(
                "DIVERGED: the checkpoint signed root {} for the first {} records; this ledger's first {} records give root {}: history was rewritten or forked",
                Hash(signed.checkpoint.root),
                signed.checkpoint.size,
                signed.checkpoint.size,
                Hash(root)
            ),
        ),
    };
    let result = VerifyResult {
        ok: code == 0 || code == EXIT_UNANCHORED,
        verdict,
        exit_code: code,
        anchored: anchor.is_some(),
        records: verified.records,
        head_hash: HashHex(verified.head_hash.to_hex()),
        genesis_hash: HashHex(verified.genesis_hash.to_hex()),
        origin: verified.origin.clone(),
        tree_root: HashHex(Hash(verified.tree_root).to_hex()),
        checkpoints_checked: verified.checkpoints_checked,
        log_only,
        derived_checked: verified.derived_checked,
        projections_checked: projections,
        unacknowledged_tail: tail,
        notes: notes.clone(),
        checkpoint: anchor.as_ref().map(|signed| checkpoint_json(signed, None)),
        signature_checked: key.is_some() && anchor.is_some(),
        cosigned_by,
        sources_checked,
        detail,
    };
    out.emit(&result, || {
        let mut text = result.detail.clone();
        for note in &notes {
            text.push_str(&format!("\nnote: {note}"));
        }
        text
    });
    out.set_exit_code(code);
    Ok(())
}

/// `compare-checkpoints`.
pub fn compare(
    out: &mut Out,
    first: &Path,
    second: &Path,
    key: &str,
    proof_path: Option<&Path>,
) -> Result<(), Failure> {
    let key = load_verifier(key)?;
    let a = load_checkpoint(first, Some(&key))?;
    let b = load_checkpoint(second, Some(&key))?;
    let (x, y) = (&a.checkpoint, &b.checkpoint);
    let proof_bytes = proof_path
        .map(|path| read_limited(path, limits::PROOF_BYTES_MAX, "a proof"))
        .transpose()?;
    let relation =
        proof::relate(x, y, proof_bytes.as_deref(), &key).map_err(Failure::proof_rejected)?;
    let (verdict, code, detail) = match relation {
        Relation::DifferentLogs => {
            return Err(Failure::usage(format!(
                "the checkpoints are of different logs ({} and {}); nothing to compare",
                x.log, y.log
            )));
        }
        Relation::Same => (
            "same",
            0,
            format!(
                "SAME: both commit to the same {} records (root {})",
                x.size,
                Hash(x.root)
            ),
        ),
        Relation::Forked => (
            "forked",
            EXIT_DIVERGED,
            format!(
                "FORKED: two checkpoints of the log {}, both validly signed by {}, commit to {} records with different roots:\n  {} made {}: root {}, head {}\n  {} made {}: root {}, head {}\nOne operator signed two different histories of the same length: this is proof that the log was forked",
                x.log,
                key.text(),
                x.size,
                first.display(),
                x.time,
                Hash(x.root),
                x.head,
                second.display(),
                y.time,
                Hash(y.root),
                y.head
            ),
        ),
        Relation::Undecided => (
            "undecided",
            EXIT_UNANCHORED,
            format!(
                "UNDECIDED: the checkpoints commit to {} and {} records; whether the smaller tree is a prefix of the larger needs a consistency proof: `sanctions-ledger prove consistency --from SMALLER --to LARGER --out P` and then `compare-checkpoints ... --proof P`",
                x.size, y.size
            ),
        ),
        Relation::Consistent => (
            "consistent",
            0,
            format!(
                "CONSISTENT: the tree of {} records is a prefix of the tree of {} records (consistency proof checked)",
                x.size.min(y.size),
                x.size.max(y.size)
            ),
        ),
    };
    let result = CompareResult {
        ok: code != EXIT_DIVERGED,
        verdict,
        exit_code: code,
        first: checkpoint_json(&a, None),
        second: checkpoint_json(&b, None),
        detail,
    };
    out.emit(&result, || result.detail.clone());
    out.set_exit_code(code);
    Ok(())
}

pub(crate) fn bundle_failure(error: bundle::BundleError) -> Failure {
    match error {
        bundle::BundleError::Ledger(error) => Failure::ledger(error),
        bundle::BundleError::Io(error) => Failure::usage(error.to_string()),
        error @ (bundle::BundleError::NotFull(_) | bundle::BundleError::CannotExport(_)) => {
            Failure::usage(error.to_string())
        }
        other => Failure::bundle_rejected(other),
    }
}

/// `export`.
pub fn export(
    out: &mut Out,
    ledger_path: &Path,
    to: &Path,
    from: u64,
    checkpoint_path: Option<&Path>,
    with_sources: bool,
) -> Result<(), Failure> {
    let ledger = Ledger::open(ledger_path).map_err(Failure::ledger)?;
    let checkpoint = checkpoint_or_latest(&ledger, checkpoint_path)?;
    let file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(to)
        .map_err(|error| {
            Failure::usage(format!(
                "{}: cannot create: {error} (an existing file is never replaced)",
                to.display()
            ))
        })?;
    let progress = output::progress_bar(
        checkpoint.checkpoint.size,
        !out.is_json() && std::io::stderr().is_terminal(),
        "exporting",
    );
    let written = ledger.export(&file, &checkpoint, from, &mut |sequence| {
        if sequence % 4096 == 0 {
            progress.set_position(sequence);
        }
    });
    progress.finish_and_clear();
    let records = match written.and_then(|records| Ok(file.sync_all().map(|()| records)?)) {
        Ok(records) => records,
        Err(error) => {
            let _ = std::fs::remove_file(to);
            return Err(bundle_failure(error));
        }
    };
    let bytes = std::fs::metadata(to).map(|m| m.len()).unwrap_or(0);
    let sources = if with_sources {
        crate::projection::sync(&ledger).map_err(Failure::projection)?;
        let size = checkpoint.checkpoint.size;
        let snapshots: Vec<String> = crate::projection::snapshots(&ledger, None)
            .map_err(Failure::projection)?
            .into_iter()
            .filter(|snapshot| snapshot.source >= from && snapshot.source <= size)
            .map(|snapshot| snapshot.blake3.to_hex())
            .collect();
        Some(
            crate::import::evidence::export_for_bundle(ledger.path(), to, &snapshots).map_err(
                |reason| {
                    Failure::usage(format!(
                        "the bundle is written; its sources are not: {reason}"
                    ))
                },
            )?,
        )
    } else {
        None
    };
    let result = ExportResult {
        ok: true,
        sources,
        file: to.display().to_string(),
        first: from,
        records,
        bytes,
        checkpoint: checkpoint_json(&checkpoint, None),
    };
    out.emit(&result, || {
        let mut text = format!(
            "wrote {} ({bytes} bytes): records {from}..={} proven against the checkpoint ({}). Check it anywhere with `sanctions-ledger verify-bundle {} --key PUBLIC_KEY`",
            result.file,
            checkpoint.checkpoint.size,
            describe(&checkpoint),
            result.file
        );
        if let Some(count) = result.sources {
            text.push_str(&format!(
                "\nand {count} list snapshot file(s) into {}",
                crate::import::evidence::bundle_sources_dir(to).display()
            ));
        }
        text
    });
    Ok(())
}

/// `verify-bundle`.
pub fn verify_bundle(out: &mut Out, file: &Path, key: &str) -> Result<(), Failure> {
    let key = load_verifier(key)?;
    let input = std::fs::File::open(file)
        .map_err(|error| Failure::usage(format!("{}: cannot open: {error}", file.display())))?;
    let mut snapshots = Vec::new();
    let summary = bundle::read(input, &key, &mut |record| {
        if let crate::domain::EventBody::Snapshot(snapshot) = record.event.body() {
            snapshots.push(snapshot.blake3.to_hex());
        }
        Ok(())
    })
    .map_err(bundle_failure)?;
    let sources_checked = crate::import::evidence::check_bundle_sources(file, &snapshots)
        .map_err(Failure::bundle_rejected)?;
    let result = BundleCheckResult {
        ok: true,
        sources_checked,
        verdict: "valid",
        file: file.display().to_string(),
        first: summary.first,
        records: summary.count,
        bytes: summary.bytes,
        origin: summary.genesis.origin.clone(),
        genesis_hash: HashHex(summary.genesis_hash.to_hex()),
        checkpoint: checkpoint_json(&summary.checkpoint, None),
    };
    out.emit(&result, || {
        format!(
            "VALID: records {}..={} of the log \"{}\" (genesis {}), every one decoded and checked, are exactly the records of the checkpoint ({})",
            summary.first,
            summary.checkpoint.checkpoint.size,
            summary.genesis.origin,
            summary.genesis_hash,
            describe(&summary.checkpoint)
        ) + &match sources_checked {
            Some(count) => format!("; {count} list snapshot file(s) beside it hash to what its snapshot events record"),
            None => String::new(),
        }
    });
    Ok(())
}

/// `restore`.
pub fn restore(out: &mut Out, file: &Path, dir: &Path, key: &str) -> Result<(), Failure> {
    let key = load_verifier(key)?;
    let progress = output::progress_bar(0, false, "restoring");
    let (ledger, summary) = bundle::restore(file, dir, &key, &mut |sequence| {
        progress.set_position(sequence)
    })
    .map_err(bundle_failure)?;
    crate::projection::sync(&ledger).map_err(Failure::projection)?;
    let snapshots: Vec<String> = crate::projection::snapshots(&ledger, None)
        .map_err(Failure::projection)?
        .into_iter()
        .map(|snapshot| snapshot.blake3.to_hex())
        .collect();
    let sources = match crate::import::evidence::check_bundle_sources(file, &snapshots)
        .map_err(Failure::bundle_rejected)?
    {
        Some(_) => Some(
            crate::import::evidence::restore_from_bundle(ledger.path(), file, &snapshots)
                .map_err(Failure::bundle_rejected)?,
        ),
        None => None,
    };
    let head = ledger.head();
    let result = RestoreResult {
        ok: true,
        sources,
        ledger: dir.display().to_string(),
        records: head.sequence,
        head: HeadRef {
            sequence: head.sequence,
            hash: HashHex(head.hash.to_hex()),
        },
        checkpoint: checkpoint_json(&summary.checkpoint, Some(1)),
    };
    out.emit(&result, || {
        format!(
            "restored {} records into {} (head {}), proven against the checkpoint ({}), which the new ledger keeps",
            head.sequence,
            dir.display(),
            head.hash,
            describe(&summary.checkpoint)
        )
    });
    Ok(())
}
