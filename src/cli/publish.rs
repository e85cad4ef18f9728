//! `tiles` (publish the log as C2SP tlog-tiles) and `follow` (mirror a published log).

use std::io::IsTerminal;
use std::path::Path;

use super::audit::checkpoint_json;
use super::json::{FollowResult, TilesCheckResult, TilesResult};
use super::output::{self, Failure, Out};
use crate::ledger::Ledger;
use crate::ledger::tiles::{self, TilesError};

pub(crate) fn tiles_failure(error: TilesError) -> Failure {
    match error {
        TilesError::Ledger(error) => Failure::ledger(error),
        TilesError::NoCheckpoint(message) => Failure::bad_checkpoint(message),
        TilesError::Foreign(message) => Failure::refused(message),
        other => Failure::usage(other.to_string()),
    }
}

/// `tiles --out DIR`.
pub fn tiles(out: &mut Out, ledger_path: &Path, dir: &Path) -> Result<(), Failure> {
    let ledger = Ledger::open(ledger_path).map_err(Failure::ledger)?;
    let checkpoint = ledger.publishable_checkpoint().map_err(tiles_failure)?;
    let visible = !out.is_json() && std::io::stderr().is_terminal();
    let mut bar = None;
    let written = tiles::write_tiles(&ledger, &checkpoint, dir, &mut |done, total| {
        let bar = bar.get_or_insert_with(|| {
            output::progress_bar_of(total, visible, "writing", "tiles", 100)
        });
        bar.set_position(done);
    })
    .map_err(tiles_failure)?;
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    let result = TilesResult {
        ok: true,
        out: dir.display().to_string(),
        size: written.size,
        previous_size: written.previous_size,
        hash_tiles: written.hash_tiles,
        entry_bundles: written.entry_bundles,
        unchanged: written.unchanged,
        bytes: written.bytes,
        checkpoint: checkpoint_json(&checkpoint, None),
    };
    out.emit(&result, || {
        if written.previous_size == written.size && written.hash_tiles + written.entry_bundles == 0
        {
            format!(
                "{} is up to date: the checkpoint of {} records and its tiles",
                result.out, result.size
            )
        } else {
            format!(
                "wrote {} hash tiles and {} entry bundles ({} bytes) into {}: records {}..={} added to the published tree ({} tiles already there). Publish the folder as it is (any static web server, rsync, an object store); `sanctions-ledger follow {} MIRROR --key PUBLIC_KEY` mirrors it",
                result.hash_tiles,
                result.entry_bundles,
                result.bytes,
                result.out,
                result.previous_size + 1,
                result.size,
                result.unchanged,
                result.out
            )
        }
    });
    Ok(())
}

/// `follow SOURCE DIR --key PUB`.
pub fn follow(
    out: &mut Out,
    source_text: &str,
    dir: &Path,
    key: &str,
    witness_keys: &[String],
    required: Option<usize>,
) -> Result<(), Failure> {
    use crate::mirror::{self, FollowError, Verdict};
    let key = super::audit::load_verifier(key)?;
    let policy = witness_policy(witness_keys, required)?;
    let source = mirror::Source::parse(source_text);
    let visible = !out.is_json() && std::io::stderr().is_terminal();
    let mut bar = None;
    let followed = mirror::follow(&source, dir, &key, &policy, &mut |done, total| {
        let bar = bar.get_or_insert_with(|| output::progress_bar(total, visible, "following"));
        bar.set_position(done);
    });
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    let result = match followed {
        Ok(followed) => {
            let signed = &followed.checkpoint;
            FollowResult {
                ok: true,
                verdict: "OK",
                exit_code: 0,
                source: source_text.to_owned(),
                mirror: dir.display().to_string(),
                created: followed.created,
                before: followed.before,
                appended: followed.appended,
                records: followed.before + followed.appended,
                bundles: followed.bundles,
                bytes: followed.bytes,
                checkpoint: Some(checkpoint_json(signed, None)),
                cosigned_by: followed.cosigned_by.clone(),
                evidence: None,
                detail: format!(
                    "OK: the mirror {} holds the {} records of the source's checkpoint ({}), every record checked and the tree proven against its signed root; {} appended",
                    dir.display(),
                    signed.checkpoint.size,
                    super::audit::describe(signed),
                    followed.appended
                ),
            }
        }
        Err(FollowError::Contradiction {
            verdict,
            reason,
            evidence,
        }) => {
            let code = match verdict {
                Verdict::Truncated => super::audit::EXIT_TRUNCATED,
                Verdict::Diverged => super::audit::EXIT_DIVERGED,
            };
            let records = crate::ledger::Ledger::open_read(dir)
                .map(|ledger| ledger.head().sequence)
                .unwrap_or(0);
            FollowResult {
                ok: false,
                verdict: match verdict {
                    Verdict::Truncated => "TRUNCATED",
                    Verdict::Diverged => "DIVERGED",
                },
                exit_code: code,
                source: source_text.to_owned(),
                mirror: dir.display().to_string(),
                created: false,
                before: records,
                appended: 0,
                records,
                bundles: 0,
                bytes: 0,
                checkpoint: None,
                cosigned_by: Vec::new(),
                evidence: Some(evidence.display().to_string()),
                detail: format!(
                    "{verdict}: {reason}. Nothing was appended; both signed checkpoints are in {}",
                    evidence.display()
                ),
            }
        }
        Err(error) => return Err(follow_failure(error)),
    };
    out.emit(&result, || result.detail.clone());
    out.set_exit_code(result.exit_code);
    Ok(())
}

fn follow_failure(error: crate::mirror::FollowError) -> Failure {
    use crate::mirror::FollowError;
    match error {
        FollowError::Ledger(error) => Failure::ledger(error),
        FollowError::Checkpoint(error) => {
            Failure::bad_checkpoint(format!("the source's checkpoint: {error}"))
        }
        FollowError::Witnesses(reason) => Failure::bad_checkpoint(format!(
            "the source's checkpoint: {reason}; nothing was fetched"
        )),
        FollowError::Invalid { at, reason } => {
            Failure::refused(format!("{at}: {reason}; nothing of it was appended"))
        }
        other => Failure::usage(other.to_string()),
    }
}

/// `--witness-key VKEY ... --witnesses-required K` (default: all given).
pub(crate) fn witness_policy(
    keys: &[String],
    required: Option<usize>,
) -> Result<crate::mirror::WitnessPolicy, Failure> {
    let keys = keys
        .iter()
        .map(|key| super::audit::load_witness_key(key))
        .collect::<Result<Vec<_>, _>>()?;
    let required = required.unwrap_or(keys.len());
    if required > keys.len() {
        return Err(Failure::usage(format!(
            "--witnesses-required {required}, but {} --witness-key given",
            keys.len()
        )));
    }
    Ok(crate::mirror::WitnessPolicy { keys, required })
}

/// `tiles --out DIR --check`.
pub fn check_tiles(out: &mut Out, ledger_path: &Path, dir: &Path) -> Result<(), Failure> {
    let ledger = Ledger::open(ledger_path).map_err(Failure::ledger)?;
    let checked = tiles::check_tiles(&ledger, dir).map_err(tiles_failure)?;
    let result = TilesCheckResult {
        ok: checked.wrong.is_empty(),
        out: dir.display().to_string(),
        size: checked.size,
        tiles: checked.tiles,
        wrong: checked
            .wrong
            .iter()
            .map(|(path, reason)| format!("{path}: {reason}"))
            .collect(),
    };
    out.emit(&result, || {
        if result.ok {
            format!(
                "OK: the {} tiles of {} (a checkpoint of {} records this ledger extends) hold the bytes the ledger gives",
                result.tiles, result.out, result.size
            )
        } else {
            format!(
                "{} of the {} tiles of {} are missing or wrong (rewrite them: move the folder aside and run `tiles --out` again):\n{}",
                result.wrong.len(),
                result.tiles,
                result.out,
                result.wrong.join("\n")
            )
        }
    });
    if !result.ok {
        out.set_exit_code(1);
    }
    Ok(())
}
