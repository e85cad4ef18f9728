//! Batches: reading a JSON event or a JSON Lines file of events, bounded and streamed.
//!
//! Owns the line-level rules (UTF-8, line length, batch size) and attaches the file and line to
//! every problem. Reads at most `BATCH_EVENTS_MAX` events and `LINE_BYTES_MAX` bytes per line,
//! so memory stays bounded whatever the input's size. Appends nothing: it only reads.

use super::draft::event_from_json;
use super::json::parse_strict;
use crate::domain::Event;
use crate::limits;
use std::fmt;
use std::io::{BufRead, Read};

/// How the input is laid out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InputFormat {
    /// One JSON event per line; blank lines are skipped.
    JsonLines,
    /// One JSON event in the whole input (may span lines).
    Json,
}

/// One problem with the input, with where it is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InputProblem {
    /// The file (or `<stdin>`).
    pub file: String,
    /// 1-based line, where one applies.
    pub line: Option<u64>,
    /// JSON pointer within the event ("" for the whole line or document).
    pub pointer: String,
    /// What is wrong and what would be valid.
    pub reason: String,
}

impl fmt::Display for InputProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}:{line}: ", self.file)?,
            None => write!(f, "{}: ", self.file)?,
        }
        if !self.pointer.is_empty() {
            write!(f, "{}: ", self.pointer)?;
        }
        f.write_str(&self.reason)
    }
}

/// Events read from one input, each with its line.
pub struct Batch {
    /// The events, in input order.
    pub events: Vec<Event>,
    /// The line each event starts on.
    pub lines: Vec<u64>,
}

struct Collector<'a> {
    file: &'a str,
    problems: Vec<InputProblem>,
}

impl Collector<'_> {
    fn push(&mut self, line: Option<u64>, pointer: &str, reason: impl Into<String>) {
        self.problems.push(InputProblem {
            file: self.file.to_owned(),
            line,
            pointer: pointer.to_owned(),
            reason: reason.into(),
        });
    }
    fn full(&self) -> bool {
        self.problems.len() >= limits::PROBLEMS_PER_BATCH_MAX
    }
}

fn utf8(bytes: &[u8]) -> Result<&str, String> {
    std::str::from_utf8(bytes).map_err(|error| {
        format!(
            "not valid UTF-8 (bad byte at offset {} of the line); save the file as UTF-8",
            error.valid_up_to()
        )
    })
}

/// Every reference in the batch that names neither an earlier event of the batch nor one
/// `is_recorded` knows, as problems at the referring event's line.
pub fn check_references<E>(
    batch: &Batch,
    file: &str,
    is_recorded: &mut dyn FnMut(&crate::domain::Identifier) -> Result<bool, E>,
) -> Result<Vec<InputProblem>, E> {
    let unresolved = crate::domain::unresolved_references(&batch.events, is_recorded)?;
    Ok(unresolved
        .into_iter()
        .map(|unresolved| InputProblem {
            file: file.to_owned(),
            line: batch.lines.get(unresolved.index).copied(),
            pointer: unresolved.pointer,
            reason: format!(
                "names \"{}\", which is neither in the ledger nor earlier in the batch; append that event first",
                unresolved.reference
            ),
        })
        .collect())
}

fn read_event(
    collector: &mut Collector<'_>,
    text: &str,
    line: u64,
    line_given: bool,
) -> Option<Event> {
    let value = match parse_strict(text) {
        Ok(value) => value,
        Err(error) => {
            let line_of_error = if line_given { line } else { error.line as u64 };
            collector.push(
                Some(line_of_error),
                "",
                format!(
                    "not valid JSON: {} (column {}); expected one JSON object",
                    error.reason, error.column
                ),
            );
            return None;
        }
    };
    match event_from_json(&value) {
        Ok(event) => Some(event),
        Err(problems) => {
            for problem in problems {
                collector.push(Some(line), &problem.pointer, problem.reason);
            }
            None
        }
    }
}

/// Reads a whole batch. Every problem is reported (up to `PROBLEMS_PER_BATCH_MAX`); if there
/// is any, no event is returned.
pub fn read_batch(
    mut input: impl BufRead,
    file: &str,
    format: InputFormat,
) -> Result<Batch, Vec<InputProblem>> {
    let mut collector = Collector {
        file,
        problems: Vec::new(),
    };
    let mut batch = Batch {
        events: Vec::new(),
        lines: Vec::new(),
    };
    let line_cap = limits::LINE_BYTES_MAX as u64 + 1;
    match format {
        InputFormat::Json => {
            let mut buffer = Vec::new();
            let read = input.by_ref().take(line_cap).read_to_end(&mut buffer);
            if let Err(error) = read {
                collector.push(None, "", format!("cannot read: {error}"));
            } else if buffer.len() > limits::LINE_BYTES_MAX {
                collector.push(
                    None,
                    "",
                    format!(
                        "larger than {} bytes; split it into JSON Lines",
                        limits::LINE_BYTES_MAX
                    ),
                );
            } else {
                match utf8(&buffer) {
                    Err(reason) => collector.push(Some(1), "", reason),
                    Ok(text) => {
                        if let Some(event) = read_event(&mut collector, text, 1, false) {
                            batch.events.push(event);
                            batch.lines.push(1);
                        }
                    }
                }
            }
        }
        InputFormat::JsonLines => {
            let mut buffer = Vec::new();
            let mut line = 0u64;
            let mut events_seen = 0usize;
            let mut first_line_of = std::collections::BTreeMap::new();
            loop {
                buffer.clear();
                line += 1;
                let read = input.by_ref().take(line_cap).read_until(b'\n', &mut buffer);
                match read {
                    Err(error) => {
                        collector.push(Some(line), "", format!("cannot read: {error}"));
                        break;
                    }
                    Ok(0) => break,
                    Ok(_) => {}
                }
                if buffer.len() > limits::LINE_BYTES_MAX && buffer.last() != Some(&b'\n') {
                    collector.push(Some(line), "", format!("line longer than {} bytes; an event must fit in one line of at most that", limits::LINE_BYTES_MAX));
                    break;
                }
                let content = buffer.strip_suffix(b"\n").unwrap_or(&buffer);
                let content = content.strip_suffix(b"\r").unwrap_or(content);
                if content.iter().all(u8::is_ascii_whitespace) {
                    continue;
                }
                events_seen += 1;
                if events_seen > limits::BATCH_EVENTS_MAX {
                    collector.push(
                        Some(line),
                        "",
                        format!(
                            "more than {} events; split the input into batches of at most that",
                            limits::BATCH_EVENTS_MAX
                        ),
                    );
                    break;
                }
                match utf8(content) {
                    Err(reason) => collector.push(Some(line), "", reason),
                    Ok(text) => {
                        if let Some(event) = read_event(&mut collector, text, line, true) {
                            match first_line_of.get(event.id()) {
                                Some(first) => collector.push(
                                    Some(line),
                                    "/id",
                                    format!("reuses the id \"{}\" of line {first}; ids must be unique within a batch", event.id()),
                                ),
                                None => {
                                    first_line_of.insert(event.id().clone(), line);
                                    batch.events.push(event);
                                    batch.lines.push(line);
                                }
                            }
                        }
                    }
                }
                if collector.full() {
                    collector.push(
                        None,
                        "",
                        format!(
                            "stopped reading after {} problems",
                            limits::PROBLEMS_PER_BATCH_MAX
                        ),
                    );
                    break;
                }
            }
        }
    }
    if collector.problems.is_empty() && batch.events.is_empty() {
        collector.push(
            None,
            "",
            "holds no event; expected at least one JSON object",
        );
    }
    if collector.problems.is_empty() {
        Ok(batch)
    } else {
        Err(collector.problems)
    }
}
