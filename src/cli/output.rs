//! What the CLI prints: readable text by default, JSON with `--json`, and failures with their
//! exit code. The JSON shapes are described in schemas/ and are a contract for scripts.

use std::path::Path;
use std::process::ExitCode;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde_json::{Value, json};

use super::format_time;
use crate::domain::EventBody;
use crate::intake::{InputProblem, event_to_json};
use crate::ledger::{AppendReport, Ledger, LedgerError, RecordView, Verified, VerifyFailure};

/// A failed command: what to print and the exit code.
pub struct Failure {
    exit_code: u8,
    kind: &'static str,
    message: String,
    problems: Vec<InputProblem>,
    verify: Option<Box<VerifyFailure>>,
}

impl Failure {
    fn new(exit_code: u8, kind: &'static str, message: impl Into<String>) -> Failure {
        Failure {
            exit_code,
            kind,
            message: message.into(),
            problems: Vec::new(),
            verify: None,
        }
    }

    /// A mistake in the command's arguments or files.
    pub fn usage(message: impl Into<String>) -> Failure {
        Failure::new(2, "usage", message)
    }

    /// Input that failed intake: every problem, nothing appended.
    pub fn input(problems: Vec<InputProblem>) -> Failure {
        let mut failure = Failure::new(
            2,
            "invalid_input",
            format!(
                "the input was rejected with {} problem(s); nothing was appended",
                problems.len()
            ),
        );
        failure.problems = problems;
        failure
    }

    /// An error from the ledger.
    pub fn ledger(error: LedgerError) -> Failure {
        let kind = match &error {
            LedgerError::Store(crate::ledger::store::StoreError::NotALedger { .. }) => {
                "not_a_ledger"
            }
            LedgerError::Store(crate::ledger::store::StoreError::AlreadyExists { .. }) => {
                "already_exists"
            }
            LedgerError::Store(_) => "store",
            LedgerError::Damaged(_) => "damaged",
            LedgerError::Conflict { .. } => "conflict",
            LedgerError::UnknownReference { .. } => "unknown_reference",
            LedgerError::DuplicateInBatch { .. } => "duplicate_in_batch",
            LedgerError::RecordedTimeWentBack { .. } => "recorded_time_went_back",
            _ => "refused",
        };
        Failure::new(2, kind, error.to_string())
    }

    /// An append refused by the ledger, with the input line and field of the event at fault.
    pub fn append(error: LedgerError, file: &str, lines: &[u64]) -> Failure {
        let line_of = |index: usize| lines.get(index).copied();
        let located = match &error {
            LedgerError::UnknownReference {
                index,
                pointer,
                reference,
                ..
            } => Some((
                *index,
                pointer.clone(),
                format!(
                    "names \"{reference}\", which is neither in the ledger nor earlier in the batch; append that event first"
                ),
            )),
            LedgerError::Conflict {
                index,
                event_id,
                sequence,
                stored_digest,
                offered_digest,
            } => Some((
                *index,
                "/id".to_owned(),
                format!(
                    "the id \"{event_id}\" is already recorded at sequence {sequence} with different content \
                     (stored event digest {stored_digest}, offered {offered_digest}); a recorded event is never changed: append a correction instead"
                ),
            )),
            LedgerError::DuplicateInBatch {
                first_index,
                index,
                event_id,
            } => Some((
                *index,
                "/id".to_owned(),
                match line_of(*first_index) {
                    Some(line) => format!(
                        "reuses the id \"{event_id}\" of line {line}; ids must be unique within a batch"
                    ),
                    None => {
                        format!("reuses the id \"{event_id}\"; ids must be unique within a batch")
                    }
                },
            )),
            LedgerError::Encoding { index, source, .. } => {
                Some((*index, String::new(), source.to_string()))
            }
            _ => None,
        };
        let mut failure = Failure::ledger(error);
        failure.message = format!("{}; nothing was appended", failure.message);
        if let Some((index, pointer, reason)) = located {
            failure.message = "the batch was refused; nothing was appended".to_owned();
            failure.problems.push(InputProblem {
                file: file.to_owned(),
                line: line_of(index),
                pointer,
                reason,
            });
        }
        failure
    }

    /// Verification found damage.
    pub fn verify(failure: VerifyFailure) -> Failure {
        let mut out = Failure::new(1, "verification_failed", format!("FAILED: {failure}"));
        out.verify = Some(Box::new(failure));
        out
    }
}

fn problem_json(problem: &InputProblem) -> Value {
    json!({
        "file": problem.file,
        "line": problem.line,
        "pointer": problem.pointer,
        "reason": problem.reason,
    })
}

fn verify_failure_json(failure: &VerifyFailure) -> Value {
    json!({
        "verdict": "failed",
        "kind": failure.kind.as_str(),
        "sequence": failure.sequence,
        "stored_hash": failure.stored_hash.map(|h| h.to_hex()),
        "actual_hash": failure.actual_hash.map(|h| h.to_hex()),
        "detail": failure.detail,
    })
}

/// A progress bar on standard error, drawn only when `visible`.
pub fn progress_bar(total: u64, visible: bool) -> ProgressBar {
    if !visible || total < 10_000 {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
    if let Ok(style) = ProgressStyle::with_template(
        "verifying {bar:40} {pos}/{len} records ({per_sec}, {eta} left)",
    ) {
        bar.set_style(style);
    }
    bar
}

/// The record in its published JSON shape.
pub fn record_json(view: &RecordView) -> Value {
    json!({
        "sequence": view.record.sequence,
        "hash": view.hash.to_hex(),
        "previous_hash": view.record.previous().to_hex(),
        "recorded_at": format_time(view.record.recorded_at),
        "appended_by": view.record.appended_by,
        "schema_version": view.record.schema_version,
        "event": event_to_json(&view.event),
    })
}

fn summary(body: &EventBody) -> String {
    match body {
        EventBody::Designation(d) => format!(
            "{} {}: {} subject(s) designated",
            d.authority,
            d.programme,
            d.subjects.len()
        ),
        EventBody::Delisting(d) => format!(
            "{} {}: {} subject(s) delisted",
            d.authority,
            d.programme,
            d.subject_ids.len()
        ),
        EventBody::Renewal(r) => {
            format!("{} {}: renewed until {}", r.authority, r.programme, r.until)
        }
        EventBody::Amendment(a) => format!("subject {} amended", a.subject.id),
        EventBody::Retaliation(r) => format!(
            "{} {}: {} subject(s) counter-sanctioned, answering {}",
            r.authority,
            r.programme,
            r.subjects.len(),
            r.in_response_to
                .iter()
                .map(|id| id.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ),
        EventBody::Statement(s) => format!("{} said: {}", s.speaker, truncate(s.text.as_str(), 60)),
        EventBody::Correction(c) => format!(
            "{} {}",
            if c.replacement.is_some() {
                "supersedes"
            } else {
                "retracts"
            },
            c.corrects
        ),
    }
}

fn truncate(text: &str, chars: usize) -> String {
    let mut out: String = text.chars().take(chars).collect();
    if text.chars().count() > chars {
        out.push('…');
    }
    out
}

/// Where output goes and in which form.
pub struct Out {
    json: bool,
}

impl Out {
    /// Text output, or JSON if `json`.
    pub fn new(json: bool) -> Out {
        Out { json }
    }

    /// Whether output is JSON.
    pub fn is_json(&self) -> bool {
        self.json
    }

    fn emit(&self, value: Value, text: impl FnOnce() -> String) {
        if self.json {
            println!("{value}");
        } else {
            println!("{}", text());
        }
    }

    /// Prints a failure and returns its exit code.
    pub fn fail(&self, failure: &Failure) -> ExitCode {
        if self.json {
            let mut error = json!({
                "kind": failure.kind,
                "message": failure.message,
                "problems": failure.problems.iter().map(problem_json).collect::<Vec<_>>(),
            });
            if let Some(verify) = &failure.verify {
                error["verify"] = verify_failure_json(verify);
            }
            println!(
                "{}",
                json!({ "ok": false, "exit_code": failure.exit_code, "error": error })
            );
        } else {
            eprintln!("error: {}", failure.message);
            for problem in &failure.problems {
                eprintln!("  {problem}");
            }
        }
        ExitCode::from(failure.exit_code)
    }

    /// After `init`.
    pub fn init(&self, dir: &Path, ledger: &Ledger) {
        let genesis = ledger.genesis();
        self.emit(
            json!({
                "ok": true,
                "ledger": dir.display().to_string(),
                "origin": genesis.origin,
                "created_at": format_time(genesis.created_at),
                "genesis_hash": ledger.genesis_hash().to_hex(),
            }),
            || {
                format!(
                    "created ledger {} (origin \"{}\")\ngenesis hash {}",
                    dir.display(),
                    genesis.origin,
                    ledger.genesis_hash()
                )
            },
        );
    }

    /// After an acknowledged append.
    pub fn appended(&self, report: &AppendReport) {
        let appended = report.outcomes.iter().filter(|o| o.appended).count();
        let already = report.outcomes.len() - appended;
        self.emit(
            json!({
                "ok": true,
                "appended": appended,
                "already_recorded": already,
                "head": {"sequence": report.head.sequence, "hash": report.head.hash.to_hex()},
                "events": report.outcomes.iter().map(|o| json!({
                    "event_id": o.event_id, "sequence": o.sequence, "appended": o.appended
                })).collect::<Vec<_>>(),
            }),
            || {
                format!(
                    "appended {appended} event(s) durably ({already} already recorded, unchanged)\nhead {} {}",
                    report.head.sequence, report.head.hash
                )
            },
        );
    }

    /// After `validate`.
    pub fn validated(&self, file: &str, events: usize) {
        self.emit(json!({"ok": true, "file": file, "events": events}), || {
            format!("{file}: {events} valid event(s); nothing was appended")
        });
    }

    /// `log`.
    pub fn log(&self, views: &[RecordView], last: u64) {
        self.emit(
            json!({"ok": true, "head_sequence": last, "records": views.iter().map(record_json).collect::<Vec<_>>()}),
            || {
                let mut lines = Vec::new();
                for view in views {
                    lines.push(format!(
                        "{:>6}  {}  {:<11}  {:<12}  {}  {}",
                        view.record.sequence,
                        format_time(view.record.recorded_at),
                        view.event.body().kind(),
                        view.event.effective_on(),
                        view.event.id(),
                        summary(view.event.body())
                    ));
                }
                if lines.is_empty() {
                    lines.push("(no records)".to_owned());
                }
                lines.join("\n")
            },
        );
    }

    /// `show`.
    pub fn show(&self, view: &RecordView) {
        let value = record_json(view);
        self.emit(json!({"ok": true, "record": value}), || {
            format!(
                "sequence      {}\nhash          {}\nprevious hash {}\nrecorded at   {}\nappended by   {}\nschema        v{}\nevent\n{}",
                view.record.sequence,
                view.hash,
                view.record.previous(),
                format_time(view.record.recorded_at),
                view.record.appended_by,
                view.record.schema_version,
                serde_json::to_string_pretty(&event_to_json(&view.event)).unwrap_or_default()
            )
        });
    }

    /// `head`.
    pub fn head(&self, ledger: &Ledger) {
        let head = ledger.head();
        self.emit(
            json!({
                "ok": true,
                "origin": ledger.genesis().origin,
                "sequence": head.sequence,
                "hash": head.hash.to_hex(),
                "recorded_at": head.recorded_at.map(format_time),
                "genesis_hash": ledger.genesis_hash().to_hex(),
            }),
            || format!("{} {}", head.sequence, head.hash),
        );
    }

    /// After a passed `verify`.
    pub fn verified(&self, verified: &Verified) {
        self.emit(
            json!({
                "ok": true,
                "verdict": "ok",
                "anchored": false,
                "records": verified.records,
                "head_hash": verified.head_hash.to_hex(),
                "genesis_hash": verified.genesis_hash.to_hex(),
                "origin": verified.origin,
            }),
            || {
                format!(
                    "OK: {} records, head {}\n(internally consistent from genesis {}; not anchored to a checkpoint held outside the ledger)",
                    verified.records, verified.head_hash, verified.genesis_hash
                )
            },
        );
    }

    /// After `quickstart`.
    pub fn quickstart(&self, dir: &Path, report: &AppendReport, verified: &Verified) {
        let appended = report.outcomes.iter().filter(|o| o.appended).count();
        let ledger = dir.display();
        self.emit(
            json!({
                "ok": true,
                "ledger": ledger.to_string(),
                "dataset": super::BUNDLED_DATASET_NAME,
                "events": report.outcomes.len(),
                "appended": appended,
                "records": verified.records,
                "head_hash": verified.head_hash.to_hex(),
            }),
            || {
                format!(
                    "Built ledger {ledger} from the bundled dataset {} ({} events; {appended} appended now, {} already recorded).\n\
                     Verified: {} records chain from the genesis to head {}.\n\n\
                     Keep that head hash. Later, `sanctions-ledger --ledger {ledger} verify` re-hashes every record;\n\
                     if it prints the same head hash, nothing up to it was rewritten.\n\n\
                     Explore:\n  sanctions-ledger --ledger {ledger} log\n  sanctions-ledger --ledger {ledger} show 1\n  \
                     sanctions-ledger --ledger {ledger} head --json\n  sanctions-ledger --ledger {ledger} verify",
                    super::BUNDLED_DATASET_NAME,
                    report.outcomes.len(),
                    report.outcomes.len() - appended,
                    verified.records,
                    verified.head_hash,
                )
            },
        );
    }
}
