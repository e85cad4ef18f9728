//! An import: a snapshot compared with the list's previous snapshot (re-read from its stored
//! file), the events it implies planned with deterministic ids, the file stored as evidence,
//! and the events appended (the snapshot first).
//!
//! Re-running an import plans the same events with the same ids and content: whatever is
//! already recorded is reported, not appended again, so an import interrupted between its
//! append batches completes when run again, and the same file twice appends nothing. What an
//! import decides from the ledger (which subject a list id names, whether a listing is already
//! in force) it asks as known just before its snapshot was recorded, so a re-run decides alike.

use std::collections::{BTreeMap, BTreeSet};

use schemars::JsonSchema;
use serde::Serialize;
use serde_json::{Value, json};

use super::formats::{self, Format};
use super::{Entry, ListSpec, Parsed, Refusal, evidence};
use crate::domain::{CivilDate, Event};
use crate::intake::{event_from_json, event_to_json};
use crate::ledger::{AppendOptions, Clock, Ledger, LedgerError};
use crate::limits;
use crate::projection::{self, ProjectionError, facts::SnapshotFact};
use crate::query::{Filter, Query};

/// How to import one file.
#[derive(Clone, Debug)]
pub struct ImportOptions {
    /// The list.
    pub list: ListSpec,
    /// The format, if given (otherwise recognised from the content).
    pub format: Option<Format>,
    /// The publication date, if given (needed when the file gives none).
    pub published_on: Option<CivilDate>,
    /// Where the file was published, if not the list's usual address.
    pub source_url: Option<String>,
    /// How the file is named in places and the report.
    pub file_name: String,
    /// Plan only: store and append nothing.
    pub dry_run: bool,
    /// Append the rest when entries are refused (recorded in the snapshot event).
    pub skip_bad: bool,
    /// Record a snapshot older than the newest imported as a late observation.
    pub late: bool,
    /// Who appends (the record's operator).
    pub appended_by: String,
}

/// Why an import was refused.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// The file, or entries of it, could not be read; nothing was appended.
    #[error("{} problem(s) in the file; nothing was appended", .problems.len())]
    Refused {
        /// What and where (at most `IMPORT_PROBLEMS_MAX`).
        problems: Vec<Refusal>,
        /// How many in all.
        count: usize,
    },
    /// The command's options do not fit the file or the list.
    #[error("{0}")]
    Usage(String),
    /// A newer snapshot of the list is already imported.
    #[error(
        "a snapshot of {list} published {newest} is already imported ({id}); this one, published {offered}, is older: give --late to record it as a late observation (evidence and coverage only)"
    )]
    Older {
        /// The list.
        list: String,
        /// The newest snapshot's publication date.
        newest: CivilDate,
        /// Its id.
        id: String,
        /// This one's.
        offered: CivilDate,
    },
    /// The evidence of an earlier snapshot is missing or changed.
    #[error(
        "the stored file of snapshot {snapshot} cannot be used: {reason} (run verify --sources)"
    )]
    Evidence {
        /// The earlier snapshot.
        snapshot: String,
        /// Why.
        reason: String,
    },
    /// Storing the file failed.
    #[error("storing the snapshot file failed: {0}")]
    Store(std::io::Error),
    /// The ledger refused or failed.
    #[error(transparent)]
    Ledger(#[from] LedgerError),
    /// The projections failed.
    #[error(transparent)]
    Projection(#[from] ProjectionError),
}

/// Events of each kind an import implies.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, JsonSchema)]
pub struct EventCounts {
    /// The snapshot itself (1).
    pub snapshot: u64,
    /// New listings.
    pub designation: u64,
    /// Entries for listings the ledger already held in force (one event per up to 500).
    pub observation: u64,
    /// Listings gone from the list (inferred from absence).
    pub delisting: u64,
    /// Entries whose details changed.
    pub amendment: u64,
}

/// An entry refused, with its place.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, JsonSchema)]
pub struct RefusedJson {
    /// Where in the file.
    pub place: String,
    /// Why.
    pub reason: String,
}

/// The previous snapshot an import compared with.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, JsonSchema)]
pub struct PreviousJson {
    /// Its event id.
    pub id: String,
    /// Its publication date.
    pub published_on: String,
    /// Its entries.
    pub entries: u64,
}

/// What an import read, planned and appended (`import --json`).
#[derive(Clone, Debug, Serialize, JsonSchema)]
pub struct ImportReport {
    /// "imported", "already_imported" (nothing new appended), "dry_run", or "late".
    pub status: String,
    /// The list.
    pub list: String,
    /// The format read.
    pub format: String,
    /// The file as named on the command line.
    pub file: String,
    /// Its length.
    pub file_bytes: u64,
    /// Its BLAKE3 (its name under the ledger's `sources/`).
    pub blake3: String,
    /// Its SHA-256.
    pub sha256: String,
    /// Its publication date.
    pub published_on: String,
    /// The snapshot event's id.
    pub snapshot_id: String,
    /// Entries read and accepted.
    pub entries: u64,
    /// Entries refused (skipped with `--skip-bad`): the first `IMPORT_PROBLEMS_MAX`.
    pub refused: Vec<RefusedJson>,
    /// How many entries were refused.
    pub refused_count: u64,
    /// The snapshot compared with, if any.
    pub previous: Option<PreviousJson>,
    /// Entries new since the previous snapshot, gone, and changed.
    pub added: u64,
    /// Entries gone.
    pub removed: u64,
    /// Entries changed.
    pub changed: u64,
    /// The events the snapshot implies, by kind (the snapshot included).
    pub events: EventCounts,
    /// Events appended now.
    pub appended: u64,
    /// Events found already recorded (a re-run).
    pub already_recorded: u64,
    /// The head after the import.
    pub head_sequence: u64,
    /// Its hash.
    pub head_hash: String,
    /// With `--dry-run`: the events that would be appended, as JSON, the snapshot first (at most
    /// `IMPORT_DRY_RUN_LISTED_MAX`; `events` counts them all).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub planned: Vec<Value>,
}

use crate::ledger::chain::{file_blake3_hex, file_sha256_hex as sha256_hex};

fn truncate_chars(text: &str, max: usize) -> String {
    text.chars().take(max).collect()
}

/// An event id part: a list key as ledger-safe ASCII.
fn id_part(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_ascii_graphic() && c != '/' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

fn event_id(base: &str, op: &str, key: &str, programme: &str) -> String {
    let id = format!("{base}/{op}/{}/{programme}", id_part(key));
    if id.len() <= limits::ID_BYTES_MAX {
        return id;
    }
    let digest = file_blake3_hex(format!("{key}\0{programme}").as_bytes());
    format!("{base}/{op}/h{}", &digest[..24])
}

/// A subject id for a new subject of `list`: its prefix and the entry's key, lower-case.
fn new_subject_id(list: &ListSpec, key: &str) -> String {
    let key: String = id_part(key).to_lowercase();
    let id = format!("{}{key}", list.subject_prefix);
    if id.len() <= limits::ID_BYTES_MAX {
        id
    } else {
        format!(
            "{}h{}",
            list.subject_prefix,
            &file_blake3_hex(key.as_bytes())[..24]
        )
    }
}

struct Planner<'a> {
    ledger: &'a Ledger,
    list: &'a ListSpec,
    /// Records before this sequence count (the snapshot's own, or the next).
    before: u64,
    resolved: BTreeMap<String, (String, bool)>,
}

impl Planner<'_> {
    /// The subject an entry names: the one a list id already names, or a new one.
    fn subject(&mut self, entry: &Entry) -> Result<(String, bool), ImportError> {
        if let Some(found) = self.resolved.get(&entry.key) {
            return Ok(found.clone());
        }
        let mut candidates = vec![(self.list.scheme.to_owned(), entry.key.clone())];
        for (scheme, value) in &entry.identifiers {
            // Another list's id the entry carries (an FtM referent, the UN reference of an EU
            // entry) may name a subject already held.
            if crate::domain::LIST_ID_SCHEMES.contains(&scheme.as_str())
                && scheme != self.list.scheme
            {
                candidates.push((scheme.clone(), value.clone()));
            }
        }
        let mut found = None;
        for (scheme, value) in candidates {
            let subjects =
                projection::subjects_with_identifier(self.ledger, &scheme, &value, self.before)?;
            if let Some(first) = subjects.into_iter().next() {
                found = Some((first, true));
                break;
            }
        }
        let found = found.unwrap_or_else(|| (new_subject_id(self.list, &entry.key), false));
        self.resolved.insert(entry.key.clone(), found.clone());
        Ok(found)
    }
}

fn subject_json(subject: &str, entry: &Entry, scheme: &str) -> (Value, bool) {
    let max = limits::ITEMS_PER_LIST_MAX;
    let chars = limits::NAME_CHARS_MAX;
    let mut truncated = false;
    let names: Vec<String> = entry
        .names
        .iter()
        .take(max)
        .map(|n| truncate_chars(n, chars))
        .collect();
    let aliases: Vec<String> = entry
        .aliases
        .iter()
        .map(|n| truncate_chars(n, chars))
        .filter(|alias| !names.contains(alias))
        .collect::<BTreeSet<_>>()
        .into_iter()
        .take(max)
        .collect();
    truncated |= entry.names.len() > max || entry.aliases.len() > aliases.len();
    let mut identifiers =
        vec![json!({"scheme": scheme, "value": truncate_chars(&entry.key, chars)})];
    for (s, v) in &entry.identifiers {
        if identifiers.len() >= max {
            truncated = true;
            break;
        }
        let pair = json!({"scheme": truncate_chars(s, chars), "value": truncate_chars(v, chars)});
        if !identifiers.contains(&pair) {
            identifiers.push(pair);
        }
    }
    (
        json!({"id": subject, "kind": entry.kind.as_str(), "names": dedup(names), "aliases": aliases, "identifiers": identifiers}),
        truncated,
    )
}

fn dedup(items: Vec<String>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for item in items {
        if !out.contains(&item) {
            out.push(item);
        }
    }
    out
}

/// The entries a stored snapshot holds (a delta applied to the snapshot before it).
fn entries_of(
    ledger: &Ledger,
    list: &ListSpec,
    snapshots: &[SnapshotFact],
    index: usize,
) -> Result<BTreeMap<String, Entry>, ImportError> {
    // Walk back to the last full snapshot, then forward through the deltas.
    let mut chain = vec![index];
    while let Some(&last) = chain.last() {
        let format = Format::parse(&snapshots[last].format);
        if format.is_some_and(Format::is_delta) && last > 0 {
            let previous = (0..last).rev().find(|&i| !snapshots[i].late);
            match previous {
                Some(previous) => chain.push(previous),
                None => break,
            }
        } else {
            break;
        }
    }
    let mut entries = BTreeMap::new();
    for &at in chain.iter().rev() {
        let snapshot = &snapshots[at];
        let bytes = evidence::load(ledger.path(), &snapshot.blake3.to_hex()).map_err(|reason| {
            ImportError::Evidence {
                snapshot: snapshot.id.clone(),
                reason,
            }
        })?;
        let format = Format::parse(&snapshot.format).ok_or_else(|| ImportError::Evidence {
            snapshot: snapshot.id.clone(),
            reason: format!("unknown format \"{}\"", snapshot.format),
        })?;
        let parsed = formats::read(format, &snapshot.id, &bytes).map_err(|refusal| {
            ImportError::Evidence {
                snapshot: snapshot.id.clone(),
                reason: refusal.to_string(),
            }
        })?;
        apply(&mut entries, parsed.entries, format, list);
    }
    Ok(entries)
}

fn apply(entries: &mut BTreeMap<String, Entry>, read: Vec<Entry>, format: Format, list: &ListSpec) {
    if !format.is_delta() {
        entries.clear();
    }
    let dataset = list.list.strip_prefix("opensanctions:");
    for mut entry in read {
        if let Some(dataset) = dataset
            && entry.programmes.remove(formats::FTM_PROGRAMME)
        {
            entry
                .programmes
                .insert(format!("OS-{}", super::slug(dataset)));
        }
        if entry.deleted {
            entries.remove(&entry.key);
        } else {
            entries.insert(entry.key.clone(), entry);
        }
    }
}

/// The plan of an import, before anything is stored.
struct Plan {
    events: Vec<Planned>,
    counts: EventCounts,
    added: u64,
    removed: u64,
    changed: u64,
}

/// Reads `bytes`, compares, plans, stores the file and appends. With `dry_run`, only plans.
pub fn import(
    ledger: &mut Ledger,
    bytes: &[u8],
    options: &ImportOptions,
    clock: &dyn Clock,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<ImportReport, ImportError> {
    projection::sync(ledger)?;
    let prepared = prepare(ledger, bytes, options)?;
    let mut report = prepared.report;
    if options.dry_run {
        report.status = "dry_run".into();
        report.planned.push(event_to_json(&prepared.snapshot));
        for planned in prepared
            .planned
            .iter()
            .take(limits::IMPORT_DRY_RUN_LISTED_MAX - 1)
        {
            report.planned.push(prepared.builder.value(planned)?);
        }
        return Ok(report);
    }
    evidence::store(ledger.path(), &report.blake3, bytes).map_err(ImportError::Store)?;
    let append = AppendOptions {
        appended_by: options.appended_by.clone(),
        recorded_at: None,
    };
    let total = prepared.planned.len() as u64 + 1;
    let mut done = 0u64;
    let mut pending = vec![prepared.snapshot];
    let mut planned = prepared.planned.iter();
    let mut held = prepared.held.map(Vec::into_iter);
    loop {
        // Events are built a batch at a time (unless few enough were held from the check):
        // memory holds one batch of them, not the import.
        while pending.len() < limits::IMPORT_APPEND_BATCH {
            let next = match held.as_mut() {
                Some(events) => events.next(),
                None => planned
                    .next()
                    .map(|next| prepared.builder.event(next, &options.file_name))
                    .transpose()?,
            };
            match next {
                Some(event) => pending.push(event),
                None => break,
            }
        }
        if pending.is_empty() {
            break;
        }
        let outcome = ledger.append(&pending, &append, clock)?;
        for item in &outcome.outcomes {
            if item.appended {
                report.appended += 1;
            } else {
                report.already_recorded += 1;
            }
        }
        done += pending.len() as u64;
        pending.clear();
        progress(done, total);
    }
    report.status = if report.status == "late" {
        "late".into()
    } else if report.appended == 0 {
        "already_imported".into()
    } else {
        "imported".into()
    };
    report.head_sequence = ledger.head().sequence;
    report.head_hash = ledger.head().hash.to_hex();
    Ok(report)
}

/// Reads `bytes`, compares with the list's previous snapshot, and plans the events (the
/// snapshot first), as known just before the snapshot was (or would be) recorded. Projections
/// must be in sync. Stores and appends nothing.
pub fn prepare(
    ledger: &Ledger,
    bytes: &[u8],
    options: &ImportOptions,
) -> Result<Prepared, ImportError> {
    let list = &options.list;
    let file = options.file_name.as_str();
    let format = match options.format {
        Some(format) => format,
        None => formats::detect(bytes).map_err(|reason| ImportError::Refused {
            problems: vec![Refusal::new(file, reason)],
            count: 1,
        })?,
    };
    if !list.formats.contains(&format) {
        return Err(ImportError::Usage(format!(
            "{file} reads as {}, which is not how {} is published (expected {}); give --format if the recognition is wrong",
            format.as_str(),
            list.list,
            list.formats
                .iter()
                .map(|f| f.as_str())
                .collect::<Vec<_>>()
                .join(" or ")
        )));
    }
    let parsed: Parsed =
        formats::read(format, file, bytes).map_err(|refusal| ImportError::Refused {
            problems: vec![refusal],
            count: 1,
        })?;
    if !parsed.refused.is_empty() && !options.skip_bad {
        let count = parsed.refused.len();
        let mut problems = parsed.refused;
        problems.truncate(limits::IMPORT_PROBLEMS_MAX);
        return Err(ImportError::Refused { problems, count });
    }
    let published_on = match (options.published_on, parsed.published_on) {
        (Some(given), Some(read)) if given != read => {
            return Err(ImportError::Usage(format!(
                "{file} says it was published {read}; --published-on says {given}: leave the option out, or check the file"
            )));
        }
        (Some(date), _) | (None, Some(date)) => date,
        (None, None) => {
            return Err(ImportError::Usage(format!(
                "{file} gives no publication date ({} files do not): give --published-on YYYY-MM-DD",
                format.as_str()
            )));
        }
    };
    let blake3_hex = file_blake3_hex(bytes);
    let sha256 = sha256_hex(bytes);
    let base = format!("{}/{published_on}/{}", list.list, &blake3_hex[..16]);
    let snapshot_id = format!("snapshot/{base}");

    let existing = ledger.sequence_of(&snapshot_id)?;
    let before = existing.unwrap_or(ledger.head().sequence + 1);
    let snapshots = projection::snapshots(ledger, Some(&list.list))?;
    let earlier: Vec<SnapshotFact> = snapshots
        .iter()
        .filter(|s| s.source < before && s.id != snapshot_id)
        .cloned()
        .collect();
    let newest = earlier.iter().enumerate().rev().find(|(_, s)| !s.late);
    let mut late = false;
    if let Some((_, newest)) = newest {
        if newest.published_on > published_on {
            if !options.late {
                return Err(ImportError::Older {
                    list: list.list.clone(),
                    newest: newest.published_on,
                    id: newest.id.clone(),
                    offered: published_on,
                });
            }
            late = true;
        } else if newest.published_on == published_on {
            return Err(ImportError::Usage(format!(
                "another file of {} published {published_on} is already imported ({}); one snapshot per list per day: give the other file's --published-on if it is a later publication",
                list.list, newest.id
            )));
        }
    }
    let previous = if late { None } else { newest };
    let previous_entries = match previous {
        Some((index, _)) => entries_of(ledger, list, &earlier, index)?,
        None => BTreeMap::new(),
    };
    let mut current = if format.is_delta() {
        previous_entries.clone()
    } else {
        BTreeMap::new()
    };
    apply(&mut current, parsed.entries, format, list);
    let entries = current.len() as u64;

    let builder = Builder {
        list: list.clone(),
        base: base.clone(),
        snapshot_id: snapshot_id.clone(),
        published_on,
        after: previous.map(|(_, s)| s.published_on),
        sources: source(options, published_on, &sha256),
        current,
    };
    let plan = if late {
        Plan {
            events: Vec::new(),
            counts: EventCounts::default(),
            added: 0,
            removed: 0,
            changed: 0,
        }
    } else {
        let query_at = before.saturating_sub(1);
        let mut planner = Planner {
            ledger,
            list,
            before,
            resolved: BTreeMap::new(),
        };
        plan(&mut planner, query_at, &builder, &previous_entries)?
    };
    drop(previous_entries);
    let mut counts = plan.counts.clone();
    counts.snapshot = 1;
    let skipped: Vec<Value> = parsed
        .refused
        .iter()
        .take(limits::SKIPPED_RECORDED_MAX)
        .map(|r| json!({"place": truncate_chars(&r.place, limits::NAME_CHARS_MAX), "reason": truncate_chars(&r.reason, 2_000)}))
        .collect();
    let mut snapshot_json = json!({
        "kind": "snapshot", "id": snapshot_id, "effective_on": published_on.to_string(),
        "sources": source(options, published_on, &sha256),
        "list": list.list, "authority": list.authority, "publisher": list.publisher,
        "format": format.as_str(), "entries": entries, "file_bytes": bytes.len() as u64,
        "blake3": blake3_hex, "sha256": sha256, "implied_events": plan.events.len() as u64,
        "skipped": skipped, "skipped_count": parsed.refused.len() as u64, "late": late,
    });
    if late {
        snapshot_json["caveats"] = json!([format!(
            "recorded after a newer snapshot of {}: evidence and coverage only, no events implied",
            list.list
        )]);
    }
    // Every event is built and checked once before anything is stored (a file that implies an
    // invalid event is refused whole), then dropped: the append builds them again a batch at a
    // time.
    let snapshot = event_from_json(&snapshot_json).map_err(|found| ImportError::Refused {
        count: found.len(),
        problems: found
            .into_iter()
            .map(|p| Refusal::new(format!("{file}: the snapshot event{}", p.pointer), p.reason))
            .collect(),
    })?;
    let mut problems = Vec::new();
    let mut count = 0;
    // Up to IMPORT_EVENTS_HELD_MAX events are kept from this check for the append; a bigger
    // import builds them again a batch at a time (memory stays bounded).
    let hold = plan.events.len() <= limits::IMPORT_EVENTS_HELD_MAX;
    let mut held = Vec::new();
    for planned in &plan.events {
        match builder.event(planned, file) {
            Ok(event) => {
                if hold {
                    held.push(event);
                }
            }
            Err(error) => match error {
                ImportError::Refused {
                    problems: found,
                    count: n,
                } => {
                    count += n;
                    if problems.len() < limits::IMPORT_PROBLEMS_MAX {
                        problems.extend(found);
                    }
                }
                other => return Err(other),
            },
        }
    }
    if !problems.is_empty() {
        problems.truncate(limits::IMPORT_PROBLEMS_MAX);
        return Err(ImportError::Refused { problems, count });
    }
    let mut report = ImportReport {
        status: "dry_run".into(),
        list: list.list.clone(),
        format: format.as_str().into(),
        file: file.into(),
        file_bytes: bytes.len() as u64,
        blake3: blake3_hex.clone(),
        sha256,
        published_on: published_on.to_string(),
        snapshot_id,
        entries,
        refused: parsed
            .refused
            .iter()
            .take(limits::IMPORT_PROBLEMS_MAX)
            .map(|r| RefusedJson {
                place: r.place.clone(),
                reason: r.reason.clone(),
            })
            .collect(),
        refused_count: parsed.refused.len() as u64,
        previous: previous.map(|(_, s)| PreviousJson {
            id: s.id.clone(),
            published_on: s.published_on.to_string(),
            entries: s.entries,
        }),
        added: plan.added,
        removed: plan.removed,
        changed: plan.changed,
        events: counts,
        appended: 0,
        already_recorded: 0,
        head_sequence: ledger.head().sequence,
        head_hash: ledger.head().hash.to_hex(),
        planned: Vec::new(),
    };
    if late {
        report.status = "late".into();
    }
    Ok(Prepared {
        snapshot,
        held: hold.then_some(held),
        planned: plan.events,
        builder,
        report,
    })
}

/// A snapshot read and planned, nothing stored: the snapshot event, the events it implies
/// (built on demand), and the report so far.
pub struct Prepared {
    snapshot: Event,
    /// The implied events as built when checked, if there are few enough to hold.
    held: Option<Vec<Event>>,
    planned: Vec<Planned>,
    builder: Builder,
    /// What was read and planned.
    pub report: ImportReport,
}

fn source(options: &ImportOptions, published_on: CivilDate, sha256: &str) -> Value {
    json!([{
        "publisher": options.list.publisher,
        "url": options.source_url.as_deref().unwrap_or(options.list.url),
        "published_on": published_on.to_string(),
        "sha256": sha256,
    }])
}

/// One event a snapshot implies, held compactly until it is built (an import of a million
/// entries never holds a million events: they are built and appended a batch at a time).
#[derive(Clone, Debug)]
enum Planned {
    /// A new listing of the entry `key` (in the current snapshot) under `programme`.
    Designation {
        key: String,
        programme: String,
        subject: String,
    },
    /// A listing gone: the entry vanished (`gone`) or lost the programme.
    Delisting {
        key: String,
        programme: String,
        subject: String,
        gone: bool,
    },
    /// The entry's details changed (the fields named).
    Amendment {
        key: String,
        subject: String,
        fields: String,
    },
    /// Entries of listings the ledger already held in force (at most 500).
    Observation { index: usize, entries: Vec<Value> },
}

/// Builds planned events: what every event of one snapshot shares, and the snapshot's entries.
struct Builder {
    list: ListSpec,
    base: String,
    snapshot_id: String,
    published_on: CivilDate,
    after: Option<CivilDate>,
    sources: Value,
    current: BTreeMap<String, Entry>,
}

impl Builder {
    fn observed(&self, basis: &str, after: Option<CivilDate>) -> Value {
        let mut observed =
            json!({"snapshot": self.snapshot_id, "list": self.list.list, "basis": basis});
        if let Some(after) = after {
            observed["after"] = json!(after.to_string());
        }
        observed
    }

    fn entry(&self, key: &str) -> Result<&Entry, ImportError> {
        self.current.get(key).ok_or_else(|| {
            ImportError::Usage(format!(
                "internal: planned entry {key} is not in the snapshot"
            ))
        })
    }

    fn value(&self, planned: &Planned) -> Result<Value, ImportError> {
        let list = &self.list;
        let published = self.published_on.to_string();
        Ok(match planned {
            Planned::Designation {
                key,
                programme,
                subject,
            } => {
                let entry = self.entry(key)?;
                let measures: Vec<&str> = list.measures.iter().map(|m| m.as_str()).collect();
                let (subject_value, truncated) = subject_json(subject, entry, list.scheme);
                let (effective_on, observed) =
                    match entry.listed_on.filter(|d| *d <= self.published_on) {
                        Some(listed) => (listed, self.observed("listed_on", None)),
                        None => (
                            self.published_on,
                            self.observed("first_observed", self.after),
                        ),
                    };
                let mut event = json!({
                    "kind": "designation", "id": event_id(&self.base, "designation", key, programme),
                    "effective_on": effective_on.to_string(), "sources": self.sources, "observed": observed,
                    "authority": list.authority, "programme": programme, "legal_basis": [],
                    "subjects": [subject_value], "measures": measures,
                });
                if truncated {
                    event["caveats"] = json!([
                        "the list gives more names or identifiers than an event holds; the stored snapshot file has them all"
                    ]);
                }
                event
            }
            Planned::Delisting {
                key,
                programme,
                subject,
                gone,
            } => {
                let after = self.after.unwrap_or(self.published_on);
                let reason = if *gone {
                    format!(
                        "absent from the list published {published}, present in the one published {after} (inferred from absence; the legal date may be earlier)"
                    )
                } else {
                    format!(
                        "no longer listed under {programme} in the list published {published} (inferred from absence; the legal date may be earlier)"
                    )
                };
                json!({
                    "kind": "delisting", "id": event_id(&self.base, "delisting", key, programme),
                    "effective_on": published, "sources": self.sources, "observed": self.observed("absent", Some(after)),
                    "authority": list.authority, "programme": programme, "subject_ids": [subject],
                    "reason": reason,
                })
            }
            Planned::Amendment {
                key,
                subject,
                fields,
            } => {
                let entry = self.entry(key)?;
                let (subject_value, _) = subject_json(subject, entry, list.scheme);
                let reason = truncate_chars(
                    &format!("changed in the list published {published}: {fields}"),
                    2_000,
                );
                json!({
                    "kind": "amendment", "id": event_id(&self.base, "amendment", key, "details"),
                    "effective_on": published, "sources": self.sources,
                    "observed": self.observed("changed", Some(self.after.unwrap_or(self.published_on))),
                    "subject": subject_value, "reason": reason,
                })
            }
            Planned::Observation { index, entries } => json!({
                "kind": "observation", "id": format!("{}/observed/{index}", self.base),
                "effective_on": published, "sources": self.sources,
                "observed": self.observed("first_observed", self.after), "entries": entries,
            }),
        })
    }

    /// The event `planned`, through the same checks as any input; what fails is named with the
    /// file and the event's id.
    fn event(&self, planned: &Planned, file: &str) -> Result<Event, ImportError> {
        let value = self.value(planned)?;
        event_from_json(&value).map_err(|found| {
            let count = found.len();
            let problems = found
                .into_iter()
                .map(|problem| {
                    Refusal::new(
                        format!(
                            "{file}: event {}{}",
                            value["id"].as_str().unwrap_or("?"),
                            problem.pointer
                        ),
                        problem.reason,
                    )
                })
                .collect();
            ImportError::Refused { problems, count }
        })
    }
}

/// Compares the snapshot with the previous one and plans its events.
fn plan(
    planner: &mut Planner<'_>,
    query_at: u64,
    builder: &Builder,
    previous: &BTreeMap<String, Entry>,
) -> Result<Plan, ImportError> {
    let list = planner.list;
    let (published_on, after, current) = (builder.published_on, builder.after, &builder.current);
    let query = Query::at_sequence(planner.ledger, query_at)?;
    let mut out = Plan {
        events: Vec::new(),
        counts: EventCounts::default(),
        added: 0,
        removed: 0,
        changed: 0,
    };
    let mut observations: Vec<Value> = Vec::new();
    let designate = |planner: &mut Planner<'_>,
                     entry: &Entry,
                     programmes: &BTreeSet<String>,
                     out: &mut Plan,
                     observations: &mut Vec<Value>|
     -> Result<(), ImportError> {
        let (subject, existed) = planner.subject(entry)?;
        for programme in programmes {
            if existed {
                let filter = Filter {
                    authority: Some(list.authority.to_owned()),
                    programme: Some(programme.clone()),
                    subject: Some(subject.clone()),
                    kind: None,
                    measure: None,
                };
                if !query.state(published_on, &filter)?.listings.is_empty() {
                    let pair = json!({"subject": subject, "identifier": {"scheme": list.scheme, "value": truncate_chars(&entry.key, limits::NAME_CHARS_MAX)}});
                    if !observations.contains(&pair) {
                        observations.push(pair);
                    }
                    continue;
                }
            }
            out.events.push(Planned::Designation {
                key: entry.key.clone(),
                programme: programme.clone(),
                subject: subject.clone(),
            });
            out.counts.designation += 1;
        }
        Ok(())
    };
    for (key, entry) in current {
        match previous.get(key) {
            None => {
                out.added += 1;
                designate(
                    planner,
                    entry,
                    &entry.programmes,
                    &mut out,
                    &mut observations,
                )?;
            }
            Some(old)
                if old.programmes != entry.programmes
                    || old.fields != entry.fields
                    || old.kind != entry.kind =>
            {
                out.changed += 1;
                if after.is_none() {
                    continue;
                }
                let (subject, _) = planner.subject(entry)?;
                let added: BTreeSet<String> = entry
                    .programmes
                    .difference(&old.programmes)
                    .cloned()
                    .collect();
                designate(planner, entry, &added, &mut out, &mut observations)?;
                for programme in old.programmes.difference(&entry.programmes) {
                    out.events.push(Planned::Delisting {
                        key: key.clone(),
                        programme: programme.clone(),
                        subject: subject.clone(),
                        gone: false,
                    });
                    out.counts.delisting += 1;
                }
                if old.fields != entry.fields || old.kind != entry.kind {
                    let mut fields = old.changed_fields(entry);
                    if old.kind != entry.kind {
                        fields.insert(0, "kind");
                    }
                    out.events.push(Planned::Amendment {
                        key: key.clone(),
                        subject,
                        fields: fields.join(", "),
                    });
                    out.counts.amendment += 1;
                }
            }
            Some(_) => {}
        }
    }
    if after.is_some() {
        for (key, old) in previous {
            if current.contains_key(key) {
                continue;
            }
            out.removed += 1;
            let (subject, _) = planner.subject(old)?;
            for programme in &old.programmes {
                out.events.push(Planned::Delisting {
                    key: key.clone(),
                    programme: programme.clone(),
                    subject: subject.clone(),
                    gone: true,
                });
                out.counts.delisting += 1;
            }
        }
    }
    for (index, chunk) in observations
        .chunks(limits::SUBJECTS_PER_EVENT_MAX)
        .enumerate()
    {
        out.events.push(Planned::Observation {
            index,
            entries: chunk.to_vec(),
        });
        out.counts.observation += 1;
    }
    Ok(out)
}

/// What `verify --sources` found for one stored snapshot.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SourceProblem {
    /// The snapshot event's id.
    pub snapshot: String,
    /// Its stored file.
    pub file: String,
    /// What is wrong.
    pub reason: String,
}

/// Re-reads every stored snapshot file and checks that it implies exactly the events recorded
/// from it: the snapshot event itself (entries, hashes, counts) and each implied event, byte
/// for byte, and no other event naming it. Projections must be in sync. Returns the snapshots
/// checked and what differs.
pub fn verify_sources(ledger: &Ledger) -> Result<(u64, Vec<SourceProblem>), ImportError> {
    let mut problems = Vec::new();
    let snapshots = projection::snapshots(ledger, None)?;
    for snapshot in &snapshots {
        let hex = snapshot.blake3.to_hex();
        let file = evidence::path(ledger.path(), &hex).display().to_string();
        let problem = |reason: String| SourceProblem {
            snapshot: snapshot.id.clone(),
            file: file.clone(),
            reason,
        };
        let bytes = match evidence::load(ledger.path(), &hex) {
            Ok(bytes) => bytes,
            Err(reason) => {
                problems.push(problem(reason));
                continue;
            }
        };
        if sha256_hex(&bytes) != snapshot.sha256.to_hex()
            || bytes.len() as u64 != snapshot.file_bytes
        {
            problems.push(problem(
                "its SHA-256 or length is not what the snapshot event records".into(),
            ));
            continue;
        }
        let Some(view) = ledger.record(snapshot.source)? else {
            problems.push(problem(format!("record {} is missing", snapshot.source)));
            continue;
        };
        let recorded = view.event;
        let (Ok(list), Some(format)) = (
            super::list_spec(&snapshot.list),
            Format::parse(&snapshot.format),
        ) else {
            problems.push(problem(format!(
                "list {} or format {} is unknown",
                snapshot.list, snapshot.format
            )));
            continue;
        };
        let skipped = match recorded.body() {
            crate::domain::EventBody::Snapshot(body) => body.skipped_count > 0,
            _ => false,
        };
        let options = ImportOptions {
            list,
            format: Some(format),
            published_on: Some(snapshot.published_on),
            source_url: recorded
                .parts()
                .sources
                .first()
                .map(|s| s.url.as_str().to_owned()),
            file_name: file.clone(),
            dry_run: true,
            skip_bad: skipped,
            late: snapshot.late,
            appended_by: String::new(),
        };
        let prepared = match prepare(ledger, &bytes, &options) {
            Ok(prepared) => prepared,
            Err(error) => {
                problems.push(problem(format!("re-reading it fails: {error}")));
                continue;
            }
        };
        let mut expected: BTreeSet<u64> = BTreeSet::new();
        for index in 0..=prepared.planned.len() {
            let event = match index {
                0 => prepared.snapshot.clone(),
                _ => match prepared.builder.event(&prepared.planned[index - 1], &file) {
                    Ok(event) => event,
                    Err(error) => {
                        problems.push(problem(format!("re-reading it fails: {error}")));
                        break;
                    }
                },
            };
            let Some(sequence) = ledger.sequence_of(event.id().as_str())? else {
                problems.push(problem(format!(
                    "it implies event {}, which is not recorded",
                    event.id()
                )));
                continue;
            };
            let stored = ledger.record(sequence)?.map(|view| view.record.event_bytes);
            let offered = crate::ledger::record::encode_event(&event).ok();
            if stored != offered {
                problems.push(problem(format!(
                    "it implies event {} other than the one recorded at {sequence}",
                    event.id()
                )));
            }
            if index > 0 {
                expected.insert(sequence);
            }
        }
        let actual: BTreeSet<u64> = projection::observed_in(ledger, &snapshot.id)?
            .into_iter()
            .collect();
        for extra in actual.difference(&expected) {
            problems.push(problem(format!(
                "record {extra} names it as its snapshot, but it does not imply that event"
            )));
        }
    }
    Ok((snapshots.len() as u64, problems))
}
