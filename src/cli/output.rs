//! What the CLI prints: readable text by default, JSON with `--json`, and failures with their
//! exit code. The JSON shapes are described in schemas/ and are a contract for scripts.

use std::path::Path;
use std::process::ExitCode;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde::Serialize;

use super::format_time;
use super::json::{
    AppendResult, AppendedEvent, ErrorJson, ErrorResult, HeadRef, HeadResult, InitResult,
    LogResult, ProblemJson, QuickstartResult, RecordJson, ShowResult, ValidateResult,
    VerifyFailureJson,
};
use crate::domain::EventBody;
use crate::intake::shape::{EventJson, HashHex, Instant};
use crate::intake::{InputProblem, event_to_json};
use crate::ledger::chain::Hash;
use crate::ledger::{AppendReport, Ledger, LedgerError, RecordView, Verified, VerifyFailure};

/// Writes a line to standard output. A reader that went away (a closed pipe, as with `| head`)
/// has taken all it wants: the process ends quietly with success instead of panicking, as
/// `println!` would.
pub fn print_line(text: &str) {
    write_line(&mut std::io::stdout().lock(), text);
}

/// Writes a line to standard error, with the same care.
pub fn print_error_line(text: &str) {
    write_line(&mut std::io::stderr().lock(), text);
}

fn write_line(out: &mut dyn std::io::Write, text: &str) {
    let written = out
        .write_all(text.as_bytes())
        .and_then(|()| out.write_all(b"\n"))
        .and_then(|()| out.flush());
    if let Err(error) = written
        && error.kind() == std::io::ErrorKind::BrokenPipe
    {
        std::process::exit(0);
    }
}

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
        debug_assert!(
            super::json::ERROR_KINDS.contains(&kind),
            "the failure kind {kind} is not in ERROR_KINDS (schemas/output/error.schema.json)"
        );
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

    /// Something asked for that the ledger does not hold (a record, a subject, an event).
    pub fn not_found(message: impl Into<String>) -> Failure {
        Failure::new(2, "not_found", message)
    }

    /// A request the ledger will not carry out as asked (it would overwrite or roll back
    /// something), with the reason.
    pub fn refused(message: impl Into<String>) -> Failure {
        Failure::new(2, "refused", message)
    }

    /// A failure of the HTTP layer itself (authorisation, limits, a full queue), with its own
    /// kind; the exit-code meaning is 2, an error.
    pub fn service(kind: &'static str, message: impl Into<String>) -> Failure {
        Failure::new(2, kind, message)
    }

    /// The stable name of the kind of failure (one of `ERROR_KINDS`).
    pub fn kind(&self) -> &'static str {
        self.kind
    }

    /// The exit code it means: 1 a negative answer, 2 an error.
    pub fn code(&self) -> u8 {
        self.exit_code
    }

    /// The message a person reads.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The failure as JSON (`schemas/output/error.schema.json`), as `--json` prints it and the
    /// server answers it.
    pub fn to_json(&self) -> ErrorResult {
        ErrorResult {
            ok: false,
            exit_code: self.exit_code,
            error: ErrorJson {
                kind: self.kind,
                message: self.message.clone(),
                problems: self.problems.iter().map(problem_json).collect(),
                verify: self.verify.as_deref().map(verify_failure_json),
            },
        }
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

    /// An import refused: each problem with its place, nothing appended.
    pub fn import(error: crate::import::plan::ImportError) -> Failure {
        use crate::import::plan::ImportError;
        match error {
            ImportError::Refused { problems, count } => {
                let mut failure = Failure::new(
                    2,
                    "invalid_input",
                    format!(
                        "the file was refused with {count} problem(s){}; nothing was appended (--skip-bad appends the rest and records what was skipped)",
                        if count > problems.len() {
                            format!(", the first {} listed", problems.len())
                        } else {
                            String::new()
                        }
                    ),
                );
                failure.problems = problems
                    .into_iter()
                    .map(|problem| InputProblem {
                        file: problem.place,
                        line: None,
                        pointer: String::new(),
                        reason: problem.reason,
                    })
                    .collect();
                failure
            }
            ImportError::Usage(message) => Failure::usage(message),
            error @ ImportError::Older { .. } => {
                Failure::new(2, "older_snapshot", error.to_string())
            }
            error @ ImportError::Evidence { .. } => Failure::new(1, "evidence", error.to_string()),
            error @ ImportError::Store(_) => Failure::new(1, "evidence", error.to_string()),
            ImportError::Ledger(error) => Failure::ledger(error),
            ImportError::Projection(error) => Failure::projection(error),
        }
    }

    /// An error from the ledger.
    pub fn ledger(error: LedgerError) -> Failure {
        use crate::ledger::log::LogError;
        use crate::ledger::store::StoreError;
        let kind = match &error {
            LedgerError::NotALedger { .. } => "not_a_ledger",
            LedgerError::AlreadyExists { .. } => "already_exists",
            LedgerError::OldLayout { .. } => "old_layout",
            LedgerError::Log(LogError::Locked) | LedgerError::Store(StoreError::Locked { .. }) => {
                "in_use"
            }
            error if error.is_storage_full() => "storage_full",
            LedgerError::Log(LogError::Incomplete) => "incomplete",
            LedgerError::Log(_) => "log_io",
            LedgerError::Store(_) => "derived_store",
            LedgerError::Damaged(_) => "damaged",
            LedgerError::Conflict { .. } => "conflict",
            LedgerError::UnknownReference { .. } => "unknown_reference",
            LedgerError::DuplicateInBatch { .. } => "duplicate_in_batch",
            LedgerError::RecordedTimeWentBack { .. } => "recorded_time_went_back",
            LedgerError::HeadMoved { .. } => "precondition_failed",
            _ => "refused",
        };
        if kind == "storage_full" {
            return Failure::new(
                2,
                kind,
                format!(
                    "no space left on the device ({error}). Nothing acknowledged was lost and nothing half-written is kept: free some space and run the command again"
                ),
            );
        }
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
            LedgerError::SupersededCorrection { index, target, .. } => Some((
                *index,
                "/replacement".to_owned(),
                format!(
                    "supersedes the correction \"{target}\"; a correction can only be retracted: omit the replacement"
                ),
            )),
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

    /// Adds a sentence to the message.
    pub fn add_note(&mut self, note: &str) {
        self.message = format!("{} ({note})", self.message);
    }

    /// Projections could not be built or read.
    pub fn projection(error: crate::projection::ProjectionError) -> Failure {
        match error {
            crate::projection::ProjectionError::Ledger(error) => Failure::ledger(error),
            other => Failure::new(2, "projection", other.to_string()),
        }
    }

    /// Stored projections differ from a fresh replay (a negative answer).
    pub fn projections_differ(count: usize, listing: &str, detail: &str) -> Failure {
        Failure::new(
            1,
            "verification_failed",
            format!(
                "FAILED: {count} projection mismatch(es); first: {listing}: {detail}. The log itself verified; run `sanctions-ledger rebuild`"
            ),
        )
    }

    /// A stored snapshot file that does not imply what was recorded from it (exit code 1).
    pub fn sources_differ(count: usize, file: &str, snapshot: &str, reason: &str) -> Failure {
        Failure::new(
            1,
            "verification_failed",
            format!(
                "FAILED: {count} problem(s) with stored snapshot files; first: {file} (snapshot {snapshot}): {reason}"
            ),
        )
    }

    /// A proof that does not prove what it claims (exit code 1).
    pub fn proof_rejected(reason: impl std::fmt::Display) -> Failure {
        Failure::new(1, "proof_rejected", format!("REJECTED: {reason}"))
    }

    /// A bundle that does not check out (exit code 1).
    pub fn bundle_rejected(reason: impl std::fmt::Display) -> Failure {
        Failure::new(1, "bundle_rejected", format!("REJECTED: {reason}"))
    }

    /// A checkpoint file or key that cannot be used (exit code 2).
    pub fn bad_checkpoint(message: impl Into<String>) -> Failure {
        Failure::new(2, "bad_checkpoint", message)
    }

    /// Verification found damage.
    pub fn verify(failure: VerifyFailure) -> Failure {
        let mut out = Failure::new(1, "verification_failed", format!("FAILED: {failure}"));
        out.verify = Some(Box::new(failure));
        out
    }
}

fn problem_json(problem: &InputProblem) -> ProblemJson {
    ProblemJson {
        file: problem.file.clone(),
        line: problem.line,
        pointer: problem.pointer.clone(),
        reason: problem.reason.clone(),
    }
}

fn hex(hash: Hash) -> HashHex {
    HashHex(hash.to_hex())
}

fn verify_failure_json(failure: &VerifyFailure) -> VerifyFailureJson {
    VerifyFailureJson {
        verdict: "failed",
        kind: failure.kind.as_str(),
        sequence: failure.sequence,
        stored_hash: failure.stored_hash.map(hex),
        actual_hash: failure.actual_hash.map(hex),
        file: failure.location.as_ref().map(|l| l.file.clone()),
        offset: failure.location.as_ref().map(|l| l.offset),
        detail: failure.detail.clone(),
    }
}

/// A progress bar of records on standard error, drawn only when `visible`.
pub fn progress_bar(total: u64, visible: bool, verb: &str) -> ProgressBar {
    progress_bar_of(total, visible, verb, "records", 10_000)
}

/// A progress bar of `unit`s on standard error, drawn only when `visible` and `total` is at
/// least `least`.
pub fn progress_bar_of(
    total: u64,
    visible: bool,
    verb: &str,
    unit: &str,
    least: u64,
) -> ProgressBar {
    if !visible || total < least {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
    if let Ok(style) = ProgressStyle::with_template(&format!(
        "{verb} {{bar:40}} {{human_pos}}/{{human_len}} {unit}, {{eta}} left"
    )) {
        bar.set_style(style);
    }
    bar
}

/// Progress of an import on a terminal (files of 1 MB or more): a spinner while the file is
/// read and compared, then a bar over the events appended (`import_progress_events`).
pub fn import_progress(visible: bool, file_bytes: u64, file: &str) -> ProgressBar {
    if !visible || file_bytes < 1024 * 1024 {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
    if let Ok(style) = ProgressStyle::with_template("{spinner} {msg} ({elapsed})") {
        bar.set_style(style);
    }
    bar.set_message(format!("reading and comparing {file}"));
    bar.enable_steady_tick(std::time::Duration::from_millis(120));
    bar
}

/// Moves an import's progress to `done` of `total` events appended.
pub fn import_progress_events(bar: &ProgressBar, done: u64, total: u64) {
    if bar.is_hidden() {
        return;
    }
    if bar.length() != Some(total) {
        bar.disable_steady_tick();
        bar.set_length(total);
        if let Ok(style) = ProgressStyle::with_template(
            "appending {bar:40} {human_pos}/{human_len} events, {eta} left",
        ) {
            bar.set_style(style);
        }
    }
    bar.set_position(done);
}

/// The record in its published JSON shape.
pub fn record_json(view: &RecordView) -> RecordJson {
    RecordJson {
        sequence: view.record.sequence,
        hash: hex(view.hash),
        previous_hash: hex(view.record.previous()),
        recorded_at: Instant(format_time(view.record.recorded_at)),
        appended_by: view.record.appended_by.clone(),
        schema_version: view.record.schema_version,
        event: EventJson::from(&view.event),
    }
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
        EventBody::Snapshot(snapshot) => format!(
            "{} snapshot: {} entries, {} event(s) implied{}",
            snapshot.list,
            snapshot.entries,
            snapshot.implied_events,
            if snapshot.late { ", late" } else { "" }
        ),
        EventBody::Observation(observation) => format!(
            "{} subject(s) observed, already held",
            observation.entries.len()
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

/// What `append --json` prints after an acknowledged append (and the server answers).
pub fn append_result(report: &AppendReport, derived_error: Option<&str>) -> AppendResult {
    let appended = report.outcomes.iter().filter(|o| o.appended).count() as u64;
    let already = report.outcomes.len() as u64 - appended;
    AppendResult {
        ok: true,
        appended,
        already_recorded: already,
        derived_up_to_date: derived_error.is_none(),
        derived_error: derived_error.map(str::to_owned),
        head: HeadRef {
            sequence: report.head.sequence,
            hash: hex(report.head.hash),
        },
        events: report
            .outcomes
            .iter()
            .map(|o| AppendedEvent {
                event_id: o.event_id.clone(),
                sequence: o.sequence,
                appended: o.appended,
            })
            .collect(),
    }
}

/// What `import --json` prints after an import (and the server answers).
pub fn import_result(
    report: &crate::import::plan::ImportReport,
    derived_error: Option<&str>,
) -> super::json::ImportResult {
    super::json::ImportResult {
        ok: true,
        derived_error: derived_error.map(ToOwned::to_owned),
        report: report.clone(),
    }
}

/// What `head --json` prints.
pub fn head_result(ledger: &Ledger) -> HeadResult {
    let head = ledger.head();
    HeadResult {
        ok: true,
        origin: ledger.genesis().origin.clone(),
        sequence: head.sequence,
        hash: hex(head.hash),
        recorded_at: head.recorded_at.map(|time| Instant(format_time(time))),
        genesis_hash: hex(ledger.genesis_hash()),
    }
}

/// What `log --json` prints.
pub fn log_result(views: &[RecordView], last: u64) -> LogResult {
    LogResult {
        ok: true,
        head_sequence: last,
        records: views.iter().map(record_json).collect(),
    }
}

/// What `log --from FROM --limit LIMIT` lists: at most `limit` records from `from`, and the
/// head's sequence.
pub fn log_views(
    ledger: &Ledger,
    from: u64,
    limit: u64,
) -> Result<(Vec<RecordView>, u64), Failure> {
    let last = ledger.head().sequence;
    let from = from.max(1);
    let to = from.saturating_add(limit.saturating_sub(1)).min(last);
    let views = if limit == 0 {
        Vec::new()
    } else {
        ledger
            .records(from, to)
            .collect::<Result<Vec<_>, _>>()
            .map_err(Failure::ledger)?
    };
    Ok((views, last))
}

/// Record `sequence`, or a failure saying which records the log holds.
pub fn record_or_not_found(ledger: &Ledger, sequence: u64) -> Result<RecordView, Failure> {
    ledger
        .record(sequence)
        .map_err(Failure::ledger)?
        .ok_or_else(|| {
            Failure::not_found(format!(
                "no record {sequence}; the log holds 1..={}",
                ledger.head().sequence
            ))
        })
}

/// Where output goes and in which form, and the exit code of a completed command.
pub struct Out {
    json: bool,
    exit_code: u8,
}

impl Out {
    /// Text output, or JSON if `json`.
    pub fn new(json: bool) -> Out {
        Out { json, exit_code: 0 }
    }

    /// Sets the exit code of a command that completed with a verdict other than success
    /// (e.g. `verify`: 3 unanchored, 4 truncated, 5 diverged).
    pub fn set_exit_code(&mut self, code: u8) {
        self.exit_code = code;
    }

    /// The exit code of a completed command.
    pub fn exit_code(&self) -> ExitCode {
        ExitCode::from(self.exit_code)
    }

    /// Whether output is JSON.
    pub fn is_json(&self) -> bool {
        self.json
    }

    /// Prints a result: JSON with `--json`, else the text.
    pub fn emit(&self, value: &impl Serialize, text: impl FnOnce() -> String) {
        if self.json {
            print_line(&serde_json::to_string(value).unwrap_or_default());
        } else {
            print_line(&text());
        }
    }

    /// Prints a failure and returns its exit code.
    pub fn fail(&self, failure: &Failure) -> ExitCode {
        if self.json {
            print_line(&serde_json::to_string(&failure.to_json()).unwrap_or_default());
        } else {
            print_error_line(&format!("error: {}", failure.message));
            for problem in &failure.problems {
                print_error_line(&format!("  {problem}"));
            }
        }
        ExitCode::from(failure.exit_code)
    }

    /// After `import`.
    pub fn imported(
        &self,
        report: &crate::import::plan::ImportReport,
        derived_error: Option<&str>,
    ) {
        let result = import_result(report, derived_error);
        self.emit(&result, || {
            let events = &report.events;
            let mut lines = vec![
                format!(
                    "{}: {} ({} bytes, BLAKE3 {}), {} published {}, read as {}",
                    match report.status.as_str() {
                        "dry_run" => "dry run, nothing stored or appended",
                        "already_imported" => "already imported, nothing appended",
                        "late" => "imported late (evidence and coverage only)",
                        _ => "imported",
                    },
                    report.file,
                    report.file_bytes,
                    &report.blake3[..16],
                    report.list,
                    report.published_on,
                    report.format
                ),
                format!("  entries: {} read, {} refused", report.entries, report.refused_count),
                match &report.previous {
                    Some(previous) => format!(
                        "  against the snapshot published {} ({} entries): {} added, {} removed, {} changed",
                        previous.published_on, previous.entries, report.added, report.removed, report.changed
                    ),
                    None => format!("  first snapshot of {}: {} entries new", report.list, report.added),
                },
                format!(
                    "  events: {} snapshot, {} designation(s), {} observation(s), {} delisting(s), {} amendment(s)",
                    events.snapshot, events.designation, events.observation, events.delisting, events.amendment
                ),
            ];
            if report.status != "dry_run" {
                lines.push(format!(
                    "  appended {}, already recorded {}; head {} {}",
                    report.appended, report.already_recorded, report.head_sequence, report.head_hash
                ));
            }
            for refused in report.refused.iter().take(20) {
                lines.push(format!("  skipped {}: {}", refused.place, refused.reason));
            }
            if report.refused.len() > 20 {
                lines.push(format!("  … {} more skipped (--json lists them)", report.refused_count - 20));
            }
            for planned in &report.planned {
                lines.push(format!(
                    "  would append {} {} ({})",
                    planned["kind"].as_str().unwrap_or(""),
                    planned["id"].as_str().unwrap_or(""),
                    planned["effective_on"].as_str().unwrap_or("")
                ));
            }
            if let Some(error) = derived_error {
                lines.push(format!("  warning: the import is durable, but bringing derived data up to date failed: {error} (run rebuild)"));
            }
            lines.join("\n")
        });
    }

    /// After `init`.
    pub fn init(&self, dir: &Path, ledger: &Ledger) {
        let genesis = ledger.genesis();
        let result = InitResult {
            ok: true,
            ledger: dir.display().to_string(),
            origin: genesis.origin.clone(),
            created_at: Instant(format_time(genesis.created_at)),
            genesis_hash: hex(ledger.genesis_hash()),
        };
        self.emit(&result, || {
            format!(
                "created ledger {} (origin \"{}\")\ngenesis hash {}",
                dir.display(),
                genesis.origin,
                ledger.genesis_hash()
            )
        });
    }

    /// After an acknowledged append.
    pub fn appended(&self, report: &AppendReport, derived_error: Option<&str>) {
        let result = append_result(report, derived_error);
        let (appended, already) = (result.appended, result.already_recorded);
        self.emit(&result, || {
            let mut text = format!(
                "appended {appended} event(s) durably ({already} already recorded, unchanged)\nhead {} {}",
                report.head.sequence, report.head.hash
            );
            if let Some(error) = derived_error {
                text.push_str(&format!(
                    "\nwarning: the events are recorded (sequences above), but the derived data answers come from could not be brought up to date: {error}. It is caught up from the log at the next open, or run `sanctions-ledger rebuild`"
                ));
            }
            text
        });
    }

    /// After `validate`.
    pub fn validated(&self, file: &str, events: usize, checked_against: Option<&Path>) {
        let ledger = checked_against.map(|path| path.display().to_string());
        let result = ValidateResult {
            ok: true,
            file: file.to_owned(),
            events: events as u64,
            references_checked_in: ledger.clone(),
        };
        self.emit(&result, || {
            let where_ = match &ledger {
                Some(path) => format!("references resolved in the file and in ledger {path}"),
                None => "references resolved in the file (no ledger to look in)".to_owned(),
            };
            format!("{file}: {events} valid event(s), {where_}; nothing was appended")
        });
    }

    /// `log`.
    pub fn log(&self, views: &[RecordView], last: u64) {
        let result = log_result(views, last);
        self.emit(&result, || {
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
        });
    }

    /// `show`.
    pub fn show(&self, view: &RecordView) {
        let result = ShowResult {
            ok: true,
            record: record_json(view),
        };
        self.emit(&result, || {
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
        let result = head_result(ledger);
        self.emit(&result, || format!("{} {}", head.sequence, head.hash));
    }

    /// After `gen`.
    pub fn generated(&self, dir: &Path, events: u64, seed: u64, head: crate::ledger::Head) {
        let result = super::json::GenResult {
            ok: true,
            ledger: dir.display().to_string(),
            events,
            seed,
            head: HeadRef {
                sequence: head.sequence,
                hash: hex(head.hash),
            },
        };
        self.emit(&result, || {
            format!(
                "generated {events} events (seed {seed}) in {}\nhead {} {}",
                dir.display(),
                head.sequence,
                head.hash
            )
        });
    }

    /// After `rebuild`.
    pub fn rebuilt(&self, records: u64, moved_aside: Option<&Path>) {
        let result = super::json::RebuildResult {
            ok: true,
            records,
            moved_aside: moved_aside.map(|path| path.display().to_string()),
        };
        self.emit(&result, || {
            let mut text = format!(
                "rebuilt the derived store (event-id index, record places, Merkle tree, projections) from the {records} records of the log"
            );
            if let Some(path) = moved_aside {
                text.push_str(&format!(
                    "; the damaged store was moved aside to {} (never deleted)",
                    path.display()
                ));
            }
            text
        });
    }

    /// After `quickstart`.
    pub fn quickstart(
        &self,
        dir: &Path,
        report: &AppendReport,
        verified: &Verified,
        tour: &super::tour::Tour,
    ) {
        let appended = report.outcomes.iter().filter(|o| o.appended).count();
        let ledger = dir.display();
        let result = QuickstartResult {
            ok: true,
            ledger: ledger.to_string(),
            dataset: super::BUNDLED_DATASET_NAME,
            events: report.outcomes.len() as u64,
            appended: appended as u64,
            records: verified.records,
            head_hash: hex(verified.head_hash),
            states: tour.states.clone(),
        };
        self.emit(&result, || {
            format!(
                "Built ledger {ledger} from the bundled dataset {} ({} events; {appended} appended now, {} already recorded).\n\
                 Verified: {} records chain from the genesis to head {}.\n\n{}\n\
                 Anchor it: sign a checkpoint and keep it (and the public key) where the ledger's operator cannot edit them:\n  \
                 sanctions-ledger keygen --name quickstart\n  \
                 sanctions-ledger --ledger {ledger} checkpoint --key quickstart.key --out checkpoint-{}.txt\n\
                 Later, `sanctions-ledger --ledger {ledger} verify --checkpoint checkpoint-{}.txt --key quickstart.pub` re-hashes every\n\
                 record and says OK if the ledger extends that checkpoint, TRUNCATED or DIVERGED if not.\n\n\
                 Explore:\n  \
                 sanctions-ledger --ledger {ledger} state --as-of 2021-03-22 --authority EU-COUNCIL\n  \
                 sanctions-ledger --ledger {ledger} state --as-of 2026-12-09 --authority EU-COUNCIL\n  \
                 sanctions-ledger --ledger {ledger} diff --from 2021-03-21 --to 2021-03-28\n  \
                 sanctions-ledger --ledger {ledger} history xj-zhu-hailun\n  \
                 sanctions-ledger --ledger {ledger} links cn-mfa-2021-03-22-eu\n  \
                 sanctions-ledger --ledger {ledger} subjects \"Shohrat Zakir\"\n  \
                 sanctions-ledger --ledger {ledger} log",
                super::BUNDLED_DATASET_NAME,
                report.outcomes.len(),
                report.outcomes.len() - appended,
                verified.records,
                verified.head_hash,
                tour.text,
                verified.records,
                verified.records,
            )
        });
    }
}
