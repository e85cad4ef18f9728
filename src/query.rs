//! Queries: the read model the CLI (and later the server) use. Questions in, typed answers out.
//!
//! Owns the question and answer types (their JSON shapes are in schemas/output/) and how a
//! question is answered from the projections: the stored current view for knowledge at the
//! head, or the listing's facts evaluated as known at an earlier time. Never replays the log;
//! reads only the records an answer names (to describe them).

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use schemars::JsonSchema;
use serde::Serialize;

use crate::domain::{CivilDate, Event, EventBody, SubjectKind, Timestamp};
use crate::ledger::Ledger;
use crate::limits;
use crate::projection::evaluate::{Ending, Interval, ListingView, Status};
use crate::projection::facts::ListingKey;
use crate::projection::head_views::{self, DetailRow, HeadViews};
use crate::projection::{self, ProjectionError, Reader};

/// What the ledger knew: everything recorded up to this sequence; and the ledger's head when the
/// answer was made, so anyone holding the log can reproduce it.
#[derive(Clone, Debug, Serialize, JsonSchema)]
pub struct KnownAt {
    /// The last record counted.
    pub sequence: u64,
    /// Its hash (the genesis hash for 0): the answer reflects the log up to it.
    pub hash: String,
    /// The time asked for, if one was (else the head).
    pub time: Option<String>,
    /// Whether this is the head (everything the ledger knows).
    pub head: bool,
    /// The ledger's head when the answer was made: its sequence.
    pub head_sequence: u64,
    /// The ledger's head when the answer was made: its hash.
    pub head_hash: String,
}

/// A listing in force on a date.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, JsonSchema)]
pub struct ListingInForce {
    /// Who lists.
    pub authority: String,
    /// Under which programme.
    pub programme: String,
    /// Whom (subject id).
    pub subject: String,
    /// The subject's kind.
    pub subject_kind: Option<String>,
    /// The subject's names as of the date (primary first).
    pub names: Vec<String>,
    /// The measures in force on the date.
    pub measures: Vec<String>,
    /// First day of the current period in force (see `since_basis`).
    pub since: String,
    /// When a list snapshot gave the start without a listing date: how it is known (e.g.
    /// "listed on or before 2021-12-09, first observed then in us-ofac-sdn"); otherwise null.
    pub since_basis: Option<String>,
    /// Last day in force, if it has an end date.
    pub until: Option<String>,
    /// Whether the period began with a counter-sanction.
    pub counter_sanction: bool,
    /// Sequences of the events that establish it as of the date ("why").
    pub why: Vec<u64>,
}

/// How far the ledger's knowledge of one imported list reaches: its first and last snapshot.
#[derive(Clone, Debug, Serialize, JsonSchema)]
pub struct CoverageJson {
    /// The list (e.g. "us-ofac-sdn").
    pub list: String,
    /// The authority its listings are recorded under.
    pub authority: String,
    /// The publication date of its first snapshot recorded.
    pub first_observed: String,
    /// The publication date of its last snapshot recorded.
    pub last_observed: String,
    /// Snapshots recorded (late ones included).
    pub snapshots: u64,
    /// The record of its last snapshot.
    pub last_sequence: u64,
}

/// Something an answer depends on that the ledger does not establish, reported with it.
#[derive(Clone, Debug, Serialize, JsonSchema)]
pub struct WarningJson {
    /// "does_not_fit": a recorded fact that did not fit (a delisting, renewal or amendment of
    /// a listing not in force then); "no_decision_recorded": a listing past its end date with
    /// no renewal, delisting or other decision recorded after it (shown as not in force, but
    /// the ledger does not know whether it was renewed); "outside_observation": the date is
    /// before an imported list's first snapshot or after its last, so what that list held then
    /// was not observed (`listing` names the list).
    pub kind: String,
    /// The listing (authority/programme/subject).
    pub listing: String,
    /// The fact's effective date; for "no_decision_recorded", the end date that passed.
    pub date: String,
    /// The fact's record; for "no_decision_recorded", the record that set that end date.
    pub sequence: u64,
    /// In words.
    pub message: String,
}

impl WarningJson {
    fn does_not_fit(listing: &ListingKey, warning: &crate::projection::evaluate::Warning) -> Self {
        WarningJson {
            kind: "does_not_fit".into(),
            listing: listing.to_string(),
            date: warning.date.to_string(),
            sequence: warning.sequence,
            message: warning.message.clone(),
        }
    }

    /// The warning for a listing whose latest period begun by `date` is past its end date on
    /// `date` with no decision recorded, if it is.
    fn no_decision(listing: &ListingKey, view: &ListingView, date: CivilDate) -> Option<Self> {
        let interval = view.intervals.iter().rev().find(|i| i.start <= date)?;
        if interval.ending_on(date) != Ending::NoDecisionRecorded {
            return None;
        }
        let end = interval.end?;
        let set_by = interval.end_set_by(end).unwrap_or(0);
        Some(WarningJson {
            kind: "no_decision_recorded".into(),
            listing: listing.to_string(),
            date: end.to_string(),
            sequence: set_by,
            message: format!(
                "in force through {end} (the end date record {set_by} set); no renewal, delisting or other decision is recorded after it, so it is shown as not in force from {}: whether it was renewed is not known to this ledger",
                end.next_day()
            ),
        })
    }
}

/// Filters of a state question.
#[derive(Clone, Debug, Default)]
pub struct Filter {
    /// Only this authority.
    pub authority: Option<String>,
    /// Only this programme.
    pub programme: Option<String>,
    /// Only this subject id.
    pub subject: Option<String>,
    /// Only subjects of this kind.
    pub kind: Option<SubjectKind>,
    /// Only listings with this measure in force on the date.
    pub measure: Option<crate::domain::Measure>,
}

/// The listings in force on a date, as known at a time.
#[derive(Clone, Debug, Serialize, JsonSchema)]
pub struct StateAnswer {
    /// The effective date asked about.
    pub as_of: String,
    /// What the ledger knew.
    pub known_at: KnownAt,
    /// How far each imported list's observation reaches.
    pub coverage: Vec<CoverageJson>,
    /// The listings in force, by subject, authority, programme.
    pub listings: Vec<ListingInForce>,
    /// What the answer depends on that the ledger does not establish: facts up to the date
    /// that did not fit, and listings past their end date with no decision recorded.
    pub warnings: Vec<WarningJson>,
}

/// One period in force of a listing.
#[derive(Clone, Debug, Serialize, JsonSchema)]
pub struct IntervalJson {
    /// First day in force.
    pub start: String,
    /// Last day in force, if any (before `start`: never in force).
    pub end: Option<String>,
    /// How it stands as of the date the answer judges by (`--today`): "open", "delisted",
    /// "not_renewed" (a delisting after the end date records the decision), or
    /// "no_decision_recorded" (past its end date; nothing recorded after it).
    pub ending: String,
    /// The record that ended it ("delisted", "not_renewed").
    pub ended_by: Option<u64>,
    /// Measures from each date on.
    pub measures: Vec<(String, Vec<String>)>,
    /// Sequences of the events that shaped it.
    pub why: Vec<u64>,
    /// Whether it began with a counter-sanction.
    pub counter_sanction: bool,
}

/// A listing's periods in force.
#[derive(Clone, Debug, Serialize, JsonSchema)]
pub struct ListingHistory {
    /// Who lists.
    pub authority: String,
    /// Under which programme.
    pub programme: String,
    /// Its periods, oldest first.
    pub intervals: Vec<IntervalJson>,
}

/// One event in a timeline.
#[derive(Clone, Debug, Serialize, JsonSchema)]
pub struct TimelineEntry {
    /// Its sequence (null for an end date that passed, which no event records).
    pub sequence: Option<u64>,
    /// When the ledger learned it.
    pub recorded_at: Option<String>,
    /// When it took effect.
    pub effective_on: String,
    /// Its kind (or "end_date_passed": no decision recorded after a listing's end date).
    pub kind: String,
    /// Its id.
    pub event_id: Option<String>,
    /// In words.
    pub summary: String,
    /// "in effect", "retracted by N" or "superseded by N", as known at the answer's time;
    /// "no decision recorded" for an end date that passed.
    pub status: String,
}

/// An identifying detail of a subject.
#[derive(Clone, Debug, Serialize, JsonSchema)]
pub struct IdentifierJson {
    /// What the value is (e.g. "ofac-uid", "date-of-birth").
    pub scheme: String,
    /// The value as published.
    pub value: String,
    /// The first record that gave it.
    pub sequence: u64,
}

/// A subject's history across all authorities.
#[derive(Clone, Debug, Serialize, JsonSchema)]
pub struct HistoryAnswer {
    /// The subject id.
    pub subject: String,
    /// Its names (latest known), in every script recorded.
    pub names: Vec<String>,
    /// Its kind (latest known): person, entity, vessel or aircraft.
    pub kind: Option<String>,
    /// Other names it is known by (latest known).
    pub aliases: Vec<String>,
    /// Its identifying details: every scheme and value a record known at the answer's time
    /// gave it (e.g. a list's own id, a date of birth), with the first record that gave each.
    pub identifiers: Vec<IdentifierJson>,
    /// What the ledger knew.
    pub known_at: KnownAt,
    /// How far the observation of each imported list that named the subject reaches.
    pub coverage: Vec<CoverageJson>,
    /// Its listings and their periods.
    pub listings: Vec<ListingHistory>,
    /// Every event about it, by effective date.
    pub timeline: Vec<TimelineEntry>,
    /// Facts that did not fit.
    pub warnings: Vec<WarningJson>,
}

/// A listing that left force between two dates.
#[derive(Clone, Debug, Serialize, JsonSchema)]
pub struct LeftForce {
    /// The listing as it was on the first date.
    pub listing: ListingInForce,
    /// Why: "delisted", "not_renewed" (a delisting after its end date records the decision)
    /// or "no_decision_recorded" (its end date passed with nothing recorded after it; a
    /// warning says so).
    pub reason: String,
    /// The delisting's sequence, if delisted or not renewed.
    pub by: Option<u64>,
}

/// A listing in force on both dates whose measures or end date changed.
#[derive(Clone, Debug, Serialize, JsonSchema)]
pub struct Changed {
    /// On the first date.
    pub before: ListingInForce,
    /// On the second date.
    pub after: ListingInForce,
}

/// What changed between two dates.
#[derive(Clone, Debug, Serialize, JsonSchema)]
pub struct DiffAnswer {
    /// The first date.
    pub from: String,
    /// The second date.
    pub to: String,
    /// What the ledger knew.
    pub known_at: KnownAt,
    /// How far each imported list's observation reaches.
    pub coverage: Vec<CoverageJson>,
    /// In force on `to`, not on `from`.
    pub came_into_force: Vec<ListingInForce>,
    /// In force on `from`, not on `to`.
    pub left_force: Vec<LeftForce>,
    /// In force on both, with different measures or end date.
    pub changed: Vec<Changed>,
    /// What the answer depends on that the ledger does not establish, as of `to`.
    pub warnings: Vec<WarningJson>,
}

/// An event in a links graph.
#[derive(Clone, Debug, Serialize, JsonSchema)]
pub struct LinkedEvent {
    /// Its id.
    pub event_id: String,
    /// Its sequence.
    pub sequence: u64,
    /// Its kind.
    pub kind: String,
    /// Its effective date.
    pub effective_on: String,
    /// In words.
    pub summary: String,
    /// As known at the answer's time.
    pub status: String,
    /// How it is linked: the field of the nearer event that names it, or that it names it by
    /// ("in_response_to": answers; "about_events": a statement about; "maintains": says an
    /// earlier counter-sanction remains in effect; "corrects"; "replacement").
    pub relation: String,
    /// The event it is linked through, when not directly to the one asked about.
    pub via: Option<String>,
}

/// One link: `from` names `to` (answers it, speaks about it, corrects it).
#[derive(Clone, Debug, Serialize, JsonSchema)]
pub struct LinkEdge {
    /// The event that names.
    pub from: String,
    /// The event named.
    pub to: String,
    /// How: "in_response_to", "about_events", "maintains", "corrects" (or "replacement").
    pub relation: String,
}

/// The chain of events around one event, followed transitively both ways.
#[derive(Clone, Debug, Serialize, JsonSchema)]
pub struct LinksAnswer {
    /// The event asked about.
    pub event_id: String,
    /// What the ledger knew.
    pub known_at: KnownAt,
    /// Events it answers (`in_response_to`), directly or through others: `refers_to` with
    /// that relation.
    pub answers: Vec<LinkedEvent>,
    /// Events that answer it (`in_response_to`), directly or through others: `referred_to_by`
    /// with that relation (statements about it are not answers).
    pub answered_by: Vec<LinkedEvent>,
    /// Events it names (answers, speaks about, maintains, corrects), directly or through
    /// others; each says how (`relation`).
    pub refers_to: Vec<LinkedEvent>,
    /// Events that name it (answer it, speak about it, maintain it, correct it), directly or
    /// through others; each says how (`relation`).
    pub referred_to_by: Vec<LinkedEvent>,
    /// Every link among them.
    pub edges: Vec<LinkEdge>,
    /// Whether the traversal stopped at `LINKS_TRAVERSAL_MAX` events.
    pub truncated: bool,
}

/// An event in the graph of who answered whom.
#[derive(Clone, Debug, Serialize, JsonSchema)]
pub struct GraphNode {
    /// Its id.
    pub event_id: String,
    /// Its sequence.
    pub sequence: u64,
    /// Its kind.
    pub kind: String,
    /// Who acted: the authority (or, for a statement, the speaker).
    pub actor: String,
    /// Its effective date.
    pub effective_on: String,
    /// In words.
    pub summary: String,
    /// As known at the answer's time.
    pub status: String,
}

/// Who answered whom: every event recorded as answering another (`in_response_to`), and the
/// events they answer.
#[derive(Clone, Debug, Serialize, JsonSchema)]
pub struct AnswerGraph {
    /// What the ledger knew.
    pub known_at: KnownAt,
    /// The events, by effective date then sequence.
    pub nodes: Vec<GraphNode>,
    /// Each answer: `from` answers `to` (relation "in_response_to").
    pub edges: Vec<LinkEdge>,
    /// Whether it stopped at `GRAPH_EDGES_MAX` answers.
    pub truncated: bool,
}

/// A subject found by name.
#[derive(Clone, Debug, Serialize, JsonSchema)]
pub struct SubjectMatch {
    /// Its id.
    pub subject: String,
    /// Its kind.
    pub kind: String,
    /// The name (or alias) that matched best, as recorded.
    pub matched_name: String,
    /// How: "exact" (the same words in any order), "all_words" (every word of the query is
    /// one of the name's), "word_prefixes" (every word begins one of the name's), "contains"
    /// (the query is part of the name, spaces aside).
    pub r#match: String,
    /// Its names and aliases (latest known).
    pub names: Vec<String>,
    /// How many listings name it.
    pub listings: u64,
}

/// Subjects whose names match a query.
#[derive(Clone, Debug, Serialize, JsonSchema)]
pub struct SubjectsAnswer {
    /// The query as given.
    pub query: String,
    /// What the ledger knew.
    pub known_at: KnownAt,
    /// Matches, best first (exact, all words, word prefixes, contains), then by id.
    pub subjects: Vec<SubjectMatch>,
}

/// Refuses a diff whose first date is after its second (it would list every listing as
/// leaving force): the message names both options and what would be valid.
pub fn check_diff_dates(from: CivilDate, to: CivilDate) -> Result<(), String> {
    if from > to {
        return Err(format!(
            "--from {from} is after --to {to}: give the earlier date as --from (e.g. --from {to} --to {from})"
        ));
    }
    Ok(())
}

/// A subject's kind and names, as shown in answers.
type SubjectDetails = (String, Vec<String>);

/// Answers questions about one ledger, as known at one time.
pub struct Query<'a> {
    ledger: &'a Ledger,
    /// The projections in sled (none when answering from the head views file alone).
    reader: Option<Reader<'a>>,
    /// The head views file, when it reflects the head: questions known at the head about the
    /// state read it instead of sled.
    views: Option<HeadViews>,
    /// The details of the subject whose block the head views file is being read at.
    block_details: std::cell::RefCell<Option<(String, Vec<DetailRow>)>>,
    known_at: u64,
    head: u64,
    time: Option<Timestamp>,
    /// The hashes of the record known at, and of the head.
    hashes: (String, String),
    names: std::cell::RefCell<BTreeMap<(String, CivilDate), Option<SubjectDetails>>>,
}

/// Who acted in an event: its authority, a statement's speaker, or (for an amendment or a
/// correction, which no authority makes in the ledger's terms) its kind.
fn actor(event: &Event) -> String {
    match event.body() {
        EventBody::Designation(d) => d.authority.to_string(),
        EventBody::Retaliation(r) => r.authority.to_string(),
        EventBody::Delisting(d) => d.authority.to_string(),
        EventBody::Renewal(r) => r.authority.to_string(),
        EventBody::Statement(s) => s.speaker.to_string(),
        other => other.kind().to_owned(),
    }
}

fn summary(event: &Event) -> String {
    match event.body() {
        EventBody::Designation(d) => format!(
            "{} designated {} subject(s) under {}",
            d.authority,
            d.subjects.len(),
            d.programme
        ),
        EventBody::Retaliation(r) => format!(
            "{} counter-sanctioned {} subject(s) under {}",
            r.authority,
            r.subjects.len(),
            r.programme
        ),
        EventBody::Delisting(d) => format!(
            "{} delisted {} subject(s) from {}",
            d.authority,
            d.subject_ids.len(),
            d.programme
        ),
        EventBody::Renewal(r) => {
            format!("{} renewed {} until {}", r.authority, r.programme, r.until)
        }
        EventBody::Amendment(a) => format!("details of {} amended", a.subject.id),
        EventBody::Statement(s) => format!(
            "{}: {}",
            s.speaker,
            s.text.as_str().chars().take(100).collect::<String>()
        ),
        EventBody::Correction(c) => match c.replacement {
            Some(_) => format!("supersedes {}", c.corrects),
            None => format!("retracts {}", c.corrects),
        },
        EventBody::Snapshot(snapshot) => format!(
            "{} snapshot of {} entries published {}",
            snapshot.list,
            snapshot.entries,
            event.effective_on()
        ),
        EventBody::Observation(observation) => format!(
            "{} observed {} subject(s) already held",
            event
                .observed()
                .map_or_else(String::new, |observed| observed.list.to_string()),
            observation.entries.len()
        ),
    }
}

/// How a period's start is known when a list snapshot gave it without a listing date.
fn since_basis(interval: &Interval) -> Option<String> {
    let opened = interval.opened.as_ref()?;
    match opened.basis {
        crate::domain::Basis::FirstObserved { after } => Some(match after {
            Some(after) => format!(
                "listed on or before {}, first observed then in {} (not in its snapshot of {after})",
                interval.start, opened.list
            ),
            None => format!(
                "listed on or before {}, first observed then in {}",
                interval.start, opened.list
            ),
        }),
        _ => None,
    }
}

fn status_text(status: Status) -> String {
    match status {
        Status::Original => "in effect".into(),
        Status::RetractedBy(sequence) => format!("retracted by {sequence}"),
        Status::SupersededBy(sequence) => format!("superseded by {sequence}"),
    }
}

impl<'a> Query<'a> {
    /// Questions about `ledger` as known at `known_at` (default: the head). Projections must be
    /// in sync (`projection::sync`).
    pub fn new(
        ledger: &'a Ledger,
        known_at: Option<Timestamp>,
    ) -> Result<Query<'a>, ProjectionError> {
        Query::new_up_to(ledger, known_at, ledger.head().sequence)
    }

    /// As `new`, but never counting records after `up_to`: what a reader asks while the
    /// projections are being brought up to the head (they reflect `up_to`; the answer says it is
    /// known at that record, and that the head is later).
    pub fn new_up_to(
        ledger: &'a Ledger,
        known_at: Option<Timestamp>,
        up_to: u64,
    ) -> Result<Query<'a>, ProjectionError> {
        let head = ledger.head().sequence.min(up_to);
        let sequence = match known_at {
            None => head,
            Some(time) => {
                // Recorded times never decrease along the log: binary search for the last record
                // recorded at or before `time`.
                let (mut low, mut high) = (0u64, head);
                while low < high {
                    let middle = low + (high - low).div_ceil(2);
                    let recorded_at = ledger.record(middle)?.map(|view| view.record.recorded_at);
                    if recorded_at.is_some_and(|recorded| recorded <= time) {
                        low = middle;
                    } else {
                        high = middle - 1;
                    }
                }
                low
            }
        };
        Query::build(ledger, sequence, known_at)
    }

    /// Questions about `ledger` as known once record `sequence` was recorded (clamped to the
    /// head). Projections must be in sync.
    pub fn at_sequence(ledger: &'a Ledger, sequence: u64) -> Result<Query<'a>, ProjectionError> {
        Query::build(ledger, sequence.min(ledger.head().sequence), None)
    }

    fn build(
        ledger: &'a Ledger,
        sequence: u64,
        known_at: Option<Timestamp>,
    ) -> Result<Query<'a>, ProjectionError> {
        let head = ledger.head().sequence;
        let known_hash = match sequence {
            0 => ledger.genesis_hash(),
            _ if sequence == head => ledger.head().hash,
            _ => ledger
                .record(sequence)?
                .map_or(ledger.genesis_hash(), |view| view.hash),
        };
        Ok(Query {
            ledger,
            reader: Some(projection::reader(ledger)?),
            views: None,
            block_details: std::cell::RefCell::new(None),
            known_at: sequence,
            head,
            time: known_at,
            hashes: (known_hash.to_hex(), ledger.head().hash.to_hex()),
            names: std::cell::RefCell::new(BTreeMap::new()),
        })
    }

    /// Questions about `ledger` as known at its head, answered from the head views file alone
    /// (`ledger` may be opened without its derived store: [`Ledger::open_read`]). Only the
    /// state, diff and coverage questions may be asked of it; others fail as needing sled.
    pub fn at_head_views(ledger: &'a Ledger, views: HeadViews) -> Query<'a> {
        let head = ledger.head();
        Query {
            ledger,
            reader: None,
            views: Some(views),
            block_details: std::cell::RefCell::new(None),
            known_at: head.sequence,
            head: head.sequence,
            time: None,
            hashes: (head.hash.to_hex(), head.hash.to_hex()),
            names: std::cell::RefCell::new(BTreeMap::new()),
        }
    }

    /// The first record in the whole ledger (whatever the answer's time) that names
    /// `subject`: its sequence and recorded time, to tell "not known yet" from "unknown".
    pub fn first_record_about(
        &self,
        subject: &str,
    ) -> Result<Option<(u64, Timestamp)>, ProjectionError> {
        let first = projection::records_about(self.reader()?, subject, self.head)?
            .into_iter()
            .next();
        match first {
            Some(sequence) => Ok(self
                .describe(sequence)?
                .map(|(_, recorded_at)| (sequence, recorded_at))),
            None => Ok(None),
        }
    }

    /// What the answers count as known.
    pub fn known_at(&self) -> KnownAt {
        KnownAt {
            sequence: self.known_at,
            hash: self.hashes.0.clone(),
            time: self.time.map(|time| time.to_string()),
            head: self.known_at >= self.head,
            head_sequence: self.head,
            head_hash: self.hashes.1.clone(),
        }
    }

    fn subject_details(
        &self,
        subject: &str,
        date: CivilDate,
    ) -> Result<Option<(String, Vec<String>)>, ProjectionError> {
        let key = (subject.to_owned(), date);
        if let Some(found) = self.names.borrow().get(&key) {
            return Ok(found.clone());
        }
        let pick = |rows: &[DetailRow]| {
            head_views::detail_on(rows, date, |row| row.effective_on)
                .map(|row| (row.kind.clone(), row.names.clone()))
        };
        let from_block = match self.block_details.borrow().as_ref() {
            Some((at, rows)) if at == subject => Some(pick(rows)),
            _ => None,
        };
        let details = match (from_block, self.views_at_head()) {
            (Some(details), _) => details,
            (None, Some(views)) => {
                let mut found = None;
                views.each_block(Some(subject), &mut |block| {
                    found = pick(&block.details);
                    Ok(())
                })?;
                found
            }
            (None, None) => pick(&projection::counted_details(
                self.reader()?,
                subject,
                self.known_at,
            )?),
        };
        let mut names = self.names.borrow_mut();
        // Questions about many listings visit them subject by subject: one subject's answers
        // are kept, so the cache stays small.
        if names.keys().next().is_some_and(|(at, _)| at != subject) {
            names.clear();
        }
        names.insert(key, details.clone());
        Ok(details)
    }

    /// The projections in sled.
    fn reader(&self) -> Result<&Reader<'a>, ProjectionError> {
        self.reader.as_ref().ok_or_else(|| {
            ProjectionError::Ledger(crate::ledger::LedgerError::ReadOnly(
                "this question needs the projections in sled, which are not open",
            ))
        })
    }

    /// The head views file, if this query answers from it ([`Query::at_head_views`], the one
    /// constructor that sets it, is known at the head the file reflects).
    fn views_at_head(&self) -> Option<&HeadViews> {
        self.views.as_ref()
    }

    fn in_force(
        &self,
        key: &ListingKey,
        interval: &Interval,
        date: CivilDate,
    ) -> Result<ListingInForce, ProjectionError> {
        let details = self.subject_details(&key.subject, date)?;
        Ok(ListingInForce {
            authority: key.authority.clone(),
            programme: key.programme.clone(),
            subject: key.subject.clone(),
            subject_kind: details.as_ref().map(|(kind, _)| kind.clone()),
            names: details.map(|(_, names)| names).unwrap_or_default(),
            measures: interval
                .measures_on(date)
                .iter()
                .map(|m| m.as_str().to_owned())
                .collect(),
            since: interval.start.to_string(),
            since_basis: since_basis(interval),
            until: interval.end_on(date).map(|end| end.to_string()),
            counter_sanction: interval.retaliation,
            why: interval.why_on(date),
        })
    }

    /// How far each imported list's observation reaches, as known at the answer's time.
    pub fn coverage(&self) -> Result<Vec<CoverageJson>, ProjectionError> {
        let coverage = match self.views_at_head() {
            Some(views) => views.coverage().to_vec(),
            None => projection::coverage(self.ledger, self.known_at)?,
        };
        Ok(coverage
            .into_iter()
            .map(|list| CoverageJson {
                list: list.list,
                authority: list.authority,
                first_observed: list.first_observed.to_string(),
                last_observed: list.last_observed.to_string(),
                snapshots: list.snapshots,
                last_sequence: list.last_sequence,
            })
            .collect())
    }

    /// Warnings for a question about `date`: before a list's first observation or after its
    /// last (only lists of `authority`, if the question names one).
    fn outside_observation(
        coverage: &[CoverageJson],
        date: CivilDate,
        authority: Option<&str>,
    ) -> Vec<WarningJson> {
        let text = date.to_string();
        coverage
            .iter()
            .filter(|list| authority.is_none_or(|a| a == list.authority))
            .filter_map(|list| {
                let message = if text < list.first_observed {
                    format!(
                        "{text} is before the first snapshot of {} ({}): what that list held then was not observed; its listings shown come from other records",
                        list.list, list.first_observed
                    )
                } else if text > list.last_observed {
                    format!(
                        "{text} is after the last snapshot of {} ({}): what that list held since was not observed; its listings are shown as they stood then",
                        list.list, list.last_observed
                    )
                } else {
                    return None;
                };
                Some(WarningJson {
                    kind: "outside_observation".into(),
                    listing: list.list.clone(),
                    date: text.clone(),
                    sequence: list.last_sequence,
                    message,
                })
            })
            .collect()
    }

    fn views(
        &self,
        subject: Option<&str>,
    ) -> Result<Vec<(ListingKey, ListingView)>, ProjectionError> {
        let mut views = Vec::new();
        self.each_view(subject, &mut |key, view| {
            views.push((key, view));
            Ok(())
        })?;
        Ok(views)
    }

    fn each_view(
        &self,
        subject: Option<&str>,
        visit: &mut dyn FnMut(ListingKey, ListingView) -> Result<(), ProjectionError>,
    ) -> Result<(), ProjectionError> {
        if let Some(views) = self.views_at_head() {
            return views.each_block(subject, &mut |block| {
                *self.block_details.borrow_mut() = Some((block.subject.clone(), block.details));
                for (authority, programme, view) in block.listings {
                    let key = ListingKey {
                        authority,
                        programme,
                        subject: block.subject.clone(),
                    };
                    visit(key, view)?;
                }
                Ok(())
            });
        }
        projection::each_view(self.reader()?, subject, self.known_at, self.head, visit)
    }

    /// Whether a listing passes a question's filters: its authority, programme and (on `date`)
    /// its subject's kind. The measure is judged with the interval in force.
    fn passes(
        &self,
        key: &ListingKey,
        filter: &Filter,
        date: CivilDate,
    ) -> Result<bool, ProjectionError> {
        if filter
            .authority
            .as_ref()
            .is_some_and(|a| *a != key.authority)
            || filter
                .programme
                .as_ref()
                .is_some_and(|p| *p != key.programme)
        {
            return Ok(false);
        }
        if let Some(kind) = filter.kind {
            let details = self.subject_details(&key.subject, date)?;
            return Ok(details.as_ref().map(|(k, _)| k.as_str()) == Some(kind.as_str()));
        }
        Ok(true)
    }

    /// The interval of `view` in force on `date` with `filter`'s measure, if any.
    fn in_force_interval<'v>(
        view: &'v ListingView,
        date: CivilDate,
        filter: &Filter,
    ) -> Option<&'v Interval> {
        view.in_force_on(date).filter(|interval| {
            filter
                .measure
                .is_none_or(|measure| interval.measures_on(date).contains(&measure))
        })
    }

    /// The warnings a listing's view gives an answer about `date`: facts up to it that did
    /// not fit, and an end date passed with no decision recorded.
    fn warnings_on(
        key: &ListingKey,
        view: &ListingView,
        date: CivilDate,
        warnings: &mut Vec<WarningJson>,
    ) {
        for warning in view.warnings.iter().filter(|warning| warning.date <= date) {
            warnings.push(WarningJson::does_not_fit(key, warning));
        }
        warnings.extend(WarningJson::no_decision(key, view, date));
    }

    /// A question about every subject asks "is it corrected?" of many events: one scan of the
    /// corrections first (not needed when the head views file answers).
    fn preload(&self, filter: &Filter) -> Result<(), ProjectionError> {
        if filter.subject.is_none() && self.views_at_head().is_none() {
            self.reader()?.preload_corrections()?;
        }
        Ok(())
    }

    /// Calls `row` with each listing in force on `date` that passes `filter`, by subject, then
    /// authority, then programme, one listing at a time (a caller can print each as it comes);
    /// returns the answer's warnings, those of `coverage` included.
    pub fn state_each(
        &self,
        date: CivilDate,
        filter: &Filter,
        coverage: &[CoverageJson],
        row: &mut dyn FnMut(ListingInForce) -> Result<(), ProjectionError>,
    ) -> Result<Vec<WarningJson>, ProjectionError> {
        self.preload(filter)?;
        let mut warnings = Vec::new();
        self.each_view(filter.subject.as_deref(), &mut |key, view| {
            if !self.passes(&key, filter, date)? {
                return Ok(());
            }
            Query::warnings_on(&key, &view, date, &mut warnings);
            if let Some(interval) = Query::in_force_interval(&view, date, filter) {
                row(self.in_force(&key, interval, date)?)?;
            }
            Ok(())
        })?;
        warnings.extend(Query::outside_observation(
            coverage,
            date,
            filter.authority.as_deref(),
        ));
        Ok(warnings)
    }

    /// The listings in force on `date`.
    pub fn state(&self, date: CivilDate, filter: &Filter) -> Result<StateAnswer, ProjectionError> {
        let coverage = self.coverage()?;
        let mut listings = Vec::new();
        let warnings = self.state_each(date, filter, &coverage, &mut |listing| {
            listings.push(listing);
            Ok(())
        })?;
        Ok(StateAnswer {
            as_of: date.to_string(),
            known_at: self.known_at(),
            coverage,
            listings,
            warnings,
        })
    }

    /// What changed between `from` and `to` (`from` must not be after `to`:
    /// [`check_diff_dates`]): one pass over the listings, each judged on both dates, so only
    /// what changed is held.
    pub fn diff(
        &self,
        from: CivilDate,
        to: CivilDate,
        filter: &Filter,
    ) -> Result<DiffAnswer, ProjectionError> {
        self.preload(filter)?;
        let coverage = self.coverage()?;
        let mut came_into_force = Vec::new();
        let mut left_force = Vec::new();
        let mut changed = Vec::new();
        let mut warnings = Vec::new();
        self.each_view(filter.subject.as_deref(), &mut |key, view| {
            let before = match self.passes(&key, filter, from)? {
                true => Query::in_force_interval(&view, from, filter),
                false => None,
            };
            let after = match self.passes(&key, filter, to)? {
                true => {
                    Query::warnings_on(&key, &view, to, &mut warnings);
                    Query::in_force_interval(&view, to, filter)
                }
                false => None,
            };
            match (before, after) {
                (Some(interval), None) => {
                    let (reason, by) = match interval.ending_on(to) {
                        Ending::Delisted(sequence) => ("delisted", Some(sequence)),
                        Ending::NotRenewed(sequence) => ("not_renewed", Some(sequence)),
                        Ending::NoDecisionRecorded => ("no_decision_recorded", None),
                        Ending::Open => ("ended", None),
                    };
                    left_force.push(LeftForce {
                        listing: self.in_force(&key, interval, from)?,
                        reason: reason.into(),
                        by,
                    });
                }
                (Some(first), Some(second))
                    // The rows differ in measures, end date or start: compared before either
                    // is built.
                    if first.measures_on(from) != second.measures_on(to)
                        || first.end_on(from) != second.end_on(to)
                        || first.start != second.start =>
                {
                    changed.push(Changed {
                        before: self.in_force(&key, first, from)?,
                        after: self.in_force(&key, second, to)?,
                    });
                }
                (None, Some(interval)) => {
                    came_into_force.push(self.in_force(&key, interval, to)?);
                }
                _ => {}
            }
            Ok(())
        })?;
        for date in [from, to] {
            warnings.extend(Query::outside_observation(
                &coverage,
                date,
                filter.authority.as_deref(),
            ));
        }
        Ok(DiffAnswer {
            from: from.to_string(),
            to: to.to_string(),
            known_at: self.known_at(),
            coverage,
            came_into_force,
            left_force,
            changed,
            warnings,
        })
    }

    fn describe(&self, sequence: u64) -> Result<Option<(Event, Timestamp)>, ProjectionError> {
        Ok(self
            .ledger
            .record(sequence)?
            .map(|view| (view.event, view.record.recorded_at)))
    }

    /// A subject's history across all authorities, judged as of `today` (whether an end date
    /// has passed). Every record about it known at the answer's time is in the timeline,
    /// retracted and superseded ones too (with the correction that decided), so a history
    /// never empties without saying why. `None` if no record known then names the subject.
    pub fn history(
        &self,
        subject: &str,
        today: CivilDate,
    ) -> Result<Option<HistoryAnswer>, ProjectionError> {
        let mut sources = projection::records_about(self.reader()?, subject, self.known_at)?;
        if sources.is_empty() {
            return Ok(None);
        }
        let details = self.subject_details(subject, CivilDate::MAX)?;
        let mut listings = Vec::new();
        let mut warnings = Vec::new();
        let mut passed = Vec::new();
        for (key, view) in self.views(Some(subject))? {
            let mut intervals = Vec::new();
            for interval in &view.intervals {
                sources.extend(interval.why.iter().map(|(_, sequence)| *sequence));
                let (ending, ended_by) = match interval.ending_on(today) {
                    Ending::Open => ("open", None),
                    Ending::Delisted(sequence) => ("delisted", Some(sequence)),
                    Ending::NotRenewed(sequence) => ("not_renewed", Some(sequence)),
                    Ending::NoDecisionRecorded => {
                        if let Some(end) = interval.end {
                            passed.push((end, key.to_string()));
                        }
                        ("no_decision_recorded", None)
                    }
                };
                intervals.push(IntervalJson {
                    start: interval.start.to_string(),
                    end: interval.end.map(|end| end.to_string()),
                    ending: ending.into(),
                    ended_by,
                    measures: interval
                        .measures
                        .iter()
                        .map(|(date, measures)| {
                            (
                                date.to_string(),
                                measures.iter().map(|m| m.as_str().to_owned()).collect(),
                            )
                        })
                        .collect(),
                    why: interval.why.iter().map(|(_, sequence)| *sequence).collect(),
                    counter_sanction: interval.retaliation,
                });
            }
            for warning in &view.warnings {
                sources.insert(warning.sequence);
                warnings.push(WarningJson::does_not_fit(&key, warning));
            }
            warnings.extend(WarningJson::no_decision(&key, &view, today));
            listings.push(ListingHistory {
                authority: key.authority.clone(),
                programme: key.programme.clone(),
                intervals,
            });
        }
        listings.retain(|listing| !listing.intervals.is_empty());
        let mut timeline = Vec::new();
        for sequence in sources {
            if let Some((event, recorded_at)) = self.describe(sequence)? {
                let status = projection::event_status(self.reader()?, sequence, self.known_at)?;
                timeline.push(TimelineEntry {
                    sequence: Some(sequence),
                    recorded_at: Some(recorded_at.to_string()),
                    effective_on: event.effective_on().to_string(),
                    kind: event.body().kind().into(),
                    event_id: Some(event.id().to_string()),
                    summary: summary(&event),
                    status: status_text(status),
                });
            }
        }
        for (end, listing) in passed {
            timeline.push(TimelineEntry {
                sequence: None,
                recorded_at: None,
                effective_on: end.next_day().to_string(),
                kind: "end_date_passed".into(),
                event_id: None,
                summary: format!(
                    "{listing}: its end date {end} passed with no renewal, delisting or other decision recorded after it"
                ),
                status: "no decision recorded".into(),
            });
        }
        timeline.sort_by(|a, b| (&a.effective_on, a.sequence).cmp(&(&b.effective_on, b.sequence)));
        let lists: BTreeSet<String> = projection::subject_lists(self.ledger, subject)?
            .into_iter()
            .filter(|fact| fact.source <= self.known_at)
            .map(|fact| fact.observed.list)
            .collect();
        let coverage = self
            .coverage()?
            .into_iter()
            .filter(|list| lists.contains(&list.list))
            .collect();
        let fact = projection::subject_on(self.reader()?, subject, CivilDate::MAX, self.known_at)?;
        let text = |names: &[crate::domain::Name]| names.iter().map(ToString::to_string).collect();
        Ok(Some(HistoryAnswer {
            subject: subject.to_owned(),
            names: details.map(|(_, names)| names).unwrap_or_default(),
            kind: fact
                .as_ref()
                .map(|fact| fact.subject.kind.as_str().to_owned()),
            aliases: fact
                .as_ref()
                .map_or_else(Vec::new, |fact| text(&fact.subject.aliases)),
            identifiers: projection::subject_identifiers(self.reader()?, subject, self.known_at)?
                .into_iter()
                .map(|(scheme, value, sequence)| IdentifierJson {
                    scheme,
                    value,
                    sequence,
                })
                .collect(),
            known_at: self.known_at(),
            coverage,
            listings,
            timeline,
            warnings,
        }))
    }

    fn linked(
        &self,
        sequence: u64,
        event: &Event,
        relation: &str,
        via: Option<String>,
    ) -> Result<LinkedEvent, ProjectionError> {
        Ok(LinkedEvent {
            relation: relation.to_owned(),
            via,
            event_id: event.id().to_string(),
            sequence,
            kind: event.body().kind().into(),
            effective_on: event.effective_on().to_string(),
            summary: summary(event),
            status: status_text(projection::event_status(
                self.reader()?,
                sequence,
                self.known_at,
            )?),
        })
    }

    /// What `event_id` answers and what answered it, transitively.
    pub fn links(&self, event_id: &str) -> Result<Option<LinksAnswer>, ProjectionError> {
        let Some(start) = self
            .ledger
            .sequence_of(event_id)?
            .filter(|sequence| *sequence <= self.known_at)
        else {
            return Ok(None);
        };
        let mut edges = BTreeSet::new();
        let mut answers = BTreeMap::new();
        let mut answered_by = BTreeMap::new();
        let mut truncated = false;
        // Forward: what it names, and what those name.
        let mut queue = VecDeque::from([start]);
        let mut seen = BTreeSet::from([start]);
        while let Some(sequence) = queue.pop_front() {
            let Some((event, _)) = self.describe(sequence)? else {
                continue;
            };
            for (relation, target) in event.body().links() {
                edges.insert((event.id().to_string(), target.to_string(), relation.clone()));
                if let Some(target_sequence) = self.ledger.sequence_of(target.as_str())?
                    && seen.insert(target_sequence)
                {
                    if seen.len() > limits::LINKS_TRAVERSAL_MAX {
                        truncated = true;
                        break;
                    }
                    if let Some((target_event, _)) = self.describe(target_sequence)? {
                        let via = (sequence != start).then(|| event.id().to_string());
                        answers.insert(
                            target_sequence,
                            self.linked(target_sequence, &target_event, &relation, via)?,
                        );
                    }
                    queue.push_back(target_sequence);
                }
            }
        }
        // Backward: what names it, and what names those.
        let mut queue = VecDeque::from([(start, event_id.to_owned())]);
        let mut seen = BTreeSet::from([start]);
        while let Some((_, id)) = queue.pop_front() {
            for (source, relation) in projection::referrers(self.reader()?, &id)? {
                if source > self.known_at {
                    continue;
                }
                let Some((event, _)) = self.describe(source)? else {
                    continue;
                };
                edges.insert((event.id().to_string(), id.clone(), relation.clone()));
                if seen.insert(source) {
                    if seen.len() > limits::LINKS_TRAVERSAL_MAX {
                        truncated = true;
                        break;
                    }
                    let via = (id != event_id).then(|| id.clone());
                    answered_by.insert(source, self.linked(source, &event, &relation, via)?);
                    queue.push_back((source, event.id().to_string()));
                }
            }
        }
        Ok(Some(LinksAnswer {
            event_id: event_id.to_owned(),
            known_at: self.known_at(),
            answers: answers
                .values()
                .filter(|linked| linked.relation == "in_response_to")
                .cloned()
                .collect(),
            answered_by: answered_by
                .values()
                .filter(|linked| linked.relation == "in_response_to")
                .cloned()
                .collect(),
            refers_to: answers.into_values().collect(),
            referred_to_by: answered_by.into_values().collect(),
            edges: edges
                .into_iter()
                .map(|(from, to, relation)| LinkEdge { from, to, relation })
                .collect(),
            truncated,
        }))
    }

    /// Who answered whom: every `in_response_to` link known at the answer's time (at most
    /// `GRAPH_EDGES_MAX`), with both ends described.
    pub fn answer_graph(&self) -> Result<AnswerGraph, ProjectionError> {
        let (links, truncated) = projection::links_of_relation(
            self.reader()?,
            "in_response_to",
            limits::GRAPH_EDGES_MAX,
        )?;
        let mut nodes = BTreeMap::new();
        let mut edges = BTreeSet::new();
        for (source, target) in links {
            if source > self.known_at {
                continue;
            }
            let Some(target_sequence) = self
                .ledger
                .sequence_of(&target)?
                .filter(|sequence| *sequence <= self.known_at)
            else {
                continue;
            };
            let mut ids = Vec::with_capacity(2);
            for sequence in [source, target_sequence] {
                if let Some((event, _)) = self.describe(sequence)? {
                    ids.push(event.id().to_string());
                    if let std::collections::btree_map::Entry::Vacant(entry) =
                        nodes.entry((event.effective_on(), sequence))
                    {
                        entry.insert(GraphNode {
                            event_id: event.id().to_string(),
                            sequence,
                            kind: event.body().kind().into(),
                            actor: actor(&event),
                            effective_on: event.effective_on().to_string(),
                            summary: summary(&event),
                            status: status_text(projection::event_status(
                                self.reader()?,
                                sequence,
                                self.known_at,
                            )?),
                        });
                    }
                }
            }
            if let [from, to] = ids.as_slice() {
                edges.insert((from.clone(), to.clone()));
            }
        }
        Ok(AnswerGraph {
            known_at: self.known_at(),
            nodes: nodes.into_values().collect(),
            edges: edges
                .into_iter()
                .map(|(from, to)| LinkEdge {
                    from,
                    to,
                    relation: "in_response_to".into(),
                })
                .collect(),
            truncated,
        })
    }

    /// Subjects with a name or alias matching `query` as screeners type it: word order,
    /// punctuation, case, accents and script variants ignored (`projection::names`), best
    /// matches first, each with the name that matched.
    pub fn subjects(&self, query: &str) -> Result<SubjectsAnswer, ProjectionError> {
        let wanted = projection::names::words(query);
        let mut subjects = Vec::new();
        for subject in projection::find_subjects(self.reader()?, query)?.into_keys() {
            let Some(fact) =
                projection::subject_on(self.reader()?, &subject, CivilDate::MAX, self.known_at)?
            else {
                continue;
            };
            // The best of the names counted as known (an index entry may come from a record
            // a correction since retracted).
            let best = projection::subject_names(self.reader()?, &subject, self.known_at)?
                .into_iter()
                .filter_map(|name| {
                    projection::names::rank(&wanted, &projection::names::words(&name))
                        .map(|rank| (rank, name))
                })
                .min_by(|a, b| a.0.cmp(&b.0));
            let Some((rank, matched_name)) = best else {
                continue;
            };
            let listings = projection::listing_keys(self.reader()?, Some(&subject))?.len() as u64;
            subjects.push((
                rank,
                SubjectMatch {
                    subject,
                    kind: fact.subject.kind.as_str().into(),
                    matched_name,
                    r#match: rank.as_str().into(),
                    names: fact
                        .subject
                        .names
                        .iter()
                        .chain(&fact.subject.aliases)
                        .map(ToString::to_string)
                        .collect(),
                    listings,
                },
            ));
        }
        subjects.sort_by(|a, b| (a.0, &a.1.subject).cmp(&(b.0, &b.1.subject)));
        Ok(SubjectsAnswer {
            query: query.to_owned(),
            known_at: self.known_at(),
            subjects: subjects.into_iter().map(|(_, found)| found).collect(),
        })
    }
}
