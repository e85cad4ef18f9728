//! Sanctions events: the facts the ledger records, valid by construction.
//!
//! Owns the event kinds (designation, delisting, renewal, amendment, retaliation, statement,
//! correction), their fields, and the cross-field rules. Field values are already-valid newtypes;
//! `Event::new` checks every rule that spans fields and reports every problem at once, each
//! with the JSON pointer of the field in the event's published JSON shape (schemas/).
//! Must not: do I/O, know about encodings, or look anything up in a ledger (references to other
//! events are checked by the ledger at append).
//!
//! The serde derives here define the *stored* shape (fed to the one bincode configuration in
//! `ledger::encoding`). Field and variant order are the format: append, never reorder. No serde
//! attribute that breaks a non-self-describing format may be used here.

use super::date::CivilDate;
use super::text::{Identifier, Name, Sha256Digest, Text, Url};
use crate::limits;
use serde::{Deserialize, Serialize};

/// The version of the event schema written by this code. Stored in every record; older
/// versions are upcast when read, never rewritten.
pub const EVENT_SCHEMA_VERSION: u16 = 3;

/// A source document an event is drawn from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Source {
    /// Who published it (e.g. "U.S. Department of the Treasury", "ANI").
    pub publisher: Name,
    /// Its title, where the record of it gives one (schema version 2: optional; never
    /// made up).
    pub title: Option<Name>,
    /// Where it was read.
    pub url: Url,
    /// When it was published, if known.
    pub published_on: Option<CivilDate>,
    /// SHA-256 of the document as retrieved, if kept.
    pub sha256: Option<Sha256Digest>,
    /// For second-hand reports: whom the publisher quotes (e.g. "CNN, quoting the MFA").
    pub as_reported_by: Option<Name>,
}

/// What kind of thing a subject is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum SubjectKind {
    /// A natural person.
    Person,
    /// An organisation, body or company.
    Entity,
    /// A ship.
    Vessel,
    /// An aircraft.
    Aircraft,
}

impl SubjectKind {
    /// Every kind, in format order.
    pub const ALL: [SubjectKind; 4] = [
        SubjectKind::Person,
        SubjectKind::Entity,
        SubjectKind::Vessel,
        SubjectKind::Aircraft,
    ];
    /// The published name (schemas/).
    pub fn as_str(self) -> &'static str {
        match self {
            SubjectKind::Person => "person",
            SubjectKind::Entity => "entity",
            SubjectKind::Vessel => "vessel",
            SubjectKind::Aircraft => "aircraft",
        }
    }
}

/// A labelled identifying detail of a subject: an official list id, a date or place of birth.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubjectIdentifier {
    /// What the value is (e.g. "ofac-uid", "date-of-birth", "place-of-birth").
    pub scheme: Name,
    /// The value as published (e.g. "31492", "May 1963").
    pub value: Name,
}

/// A person, entity, vessel or aircraft. One subject keeps one id across all authorities.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Subject {
    /// Stable id, shared by every authority that lists the subject.
    pub id: Identifier,
    /// What kind of thing it is.
    pub kind: SubjectKind,
    /// Names in any script, the primary first (e.g. "WANG Junzheng", "王君正").
    pub names: Vec<Name>,
    /// Other names it is known by.
    pub aliases: Vec<Name>,
    /// Identifying details.
    pub identifiers: Vec<SubjectIdentifier>,
}

/// A restrictive measure.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Measure {
    /// Funds and economic resources are frozen (blocking).
    AssetFreeze,
    /// No funds may be made available to the subject.
    FundsBan,
    /// Entry into and transit through the territory are refused.
    TravelBan,
    /// Entry is refused (e.g. mainland China, Hong Kong, Macao).
    EntryBan,
    /// Visas are restricted.
    VisaRestriction,
    /// Dealings in the subject's property and provision of services are prohibited.
    DealingsProhibition,
    /// Doing business with the subject is restricted.
    BusinessBan,
    /// Transactions by the authority's persons with the subject are prohibited.
    TransactionBan,
    /// Exchanges (official, academic, cultural) with the subject are restricted.
    ExchangesBan,
    /// Listed, but the source does not say which measures apply (schema version 3: lists
    /// such as the UN's or an aggregator's give none per entry).
    Unspecified,
}

impl std::fmt::Display for Measure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Measure {
    /// Every measure, in format order.
    pub const ALL: [Measure; 10] = [
        Measure::AssetFreeze,
        Measure::FundsBan,
        Measure::TravelBan,
        Measure::EntryBan,
        Measure::VisaRestriction,
        Measure::DealingsProhibition,
        Measure::BusinessBan,
        Measure::TransactionBan,
        Measure::ExchangesBan,
        Measure::Unspecified,
    ];
    /// The published name (schemas/).
    pub fn as_str(self) -> &'static str {
        match self {
            Measure::AssetFreeze => "asset_freeze",
            Measure::FundsBan => "funds_ban",
            Measure::TravelBan => "travel_ban",
            Measure::EntryBan => "entry_ban",
            Measure::VisaRestriction => "visa_restriction",
            Measure::DealingsProhibition => "dealings_prohibition",
            Measure::BusinessBan => "business_ban",
            Measure::TransactionBan => "transaction_ban",
            Measure::ExchangesBan => "exchanges_ban",
            Measure::Unspecified => "unspecified",
        }
    }
}

/// The measures one subject of an event is under, where they differ from the event's (an act
/// that imposes a travel ban on its persons but only an asset freeze on an entity).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubjectMeasures {
    /// The subject (one of the event's).
    pub subject: Identifier,
    /// Its measures, in place of the event's.
    pub measures: Vec<Measure>,
}

/// The measures `subject` is under by an event listing `measures` for all its subjects and
/// `by_subject` for some.
pub fn measures_of<'a>(
    measures: &'a [Measure],
    by_subject: &'a [SubjectMeasures],
    subject: &Identifier,
) -> &'a [Measure] {
    by_subject
        .iter()
        .find(|own| &own.subject == subject)
        .map_or(measures, |own| own.measures.as_slice())
}

/// An authority lists subjects under a programme.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Designation {
    /// Who lists them (e.g. "US-OFAC", "EU-COUNCIL").
    pub authority: Identifier,
    /// Under which programme (e.g. "GLOMAG", "EU-GHR").
    pub programme: Identifier,
    /// Legal acts (e.g. "E.O. 13818", "Council Implementing Regulation (EU) 2021/478").
    pub legal_basis: Vec<Name>,
    /// Who is listed.
    pub subjects: Vec<Subject>,
    /// What applies to them.
    pub measures: Vec<Measure>,
    /// Last day in force unless renewed (EU listings lapse), if any.
    pub until: Option<CivilDate>,
    /// The published statement of reasons, if any.
    pub reason: Option<Text>,
    /// Subjects under other measures than `measures` (schema version 2).
    pub measures_by_subject: Vec<SubjectMeasures>,
}

/// An authority removes subjects from a programme.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Delisting {
    /// Who delists.
    pub authority: Identifier,
    /// From which programme.
    pub programme: Identifier,
    /// Whom.
    pub subject_ids: Vec<Identifier>,
    /// Why, if published.
    pub reason: Option<Text>,
}

/// Listings under a programme are extended to a new last day.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Renewal {
    /// Who renews.
    pub authority: Identifier,
    /// Which programme.
    pub programme: Identifier,
    /// The new last day in force.
    pub until: CivilDate,
    /// The renewed subjects; empty means every listing under the programme.
    pub subject_ids: Vec<Identifier>,
    /// Legal acts.
    pub legal_basis: Vec<Name>,
}

/// Details of a subject change, and optionally the measures or reasons of one listing.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Amendment {
    /// The subject's details as they now stand (replacing the earlier ones).
    pub subject: Subject,
    /// The listing amended, if any: its authority...
    pub authority: Option<Identifier>,
    /// ...and its programme.
    pub programme: Option<Identifier>,
    /// The listing's new measures; empty means unchanged.
    pub measures: Vec<Measure>,
    /// The amended statement of reasons, or why the details changed.
    pub reason: Option<Text>,
}

/// A counter-sanction by one authority against subjects of another side.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Retaliation {
    /// Who counter-sanctions (e.g. "CN-MFA").
    pub authority: Identifier,
    /// Under which programme or announcement series.
    pub programme: Identifier,
    /// Legal acts or announcements, if any.
    pub legal_basis: Vec<Name>,
    /// Who is counter-sanctioned.
    pub subjects: Vec<Subject>,
    /// What applies to them.
    pub measures: Vec<Measure>,
    /// The events this answers; each must already be in the ledger.
    pub in_response_to: Vec<Identifier>,
    /// Last day in force, if any.
    pub until: Option<CivilDate>,
    /// The stated reason, if any.
    pub reason: Option<Text>,
    /// Subjects under other measures than `measures` (schema version 2).
    pub measures_by_subject: Vec<SubjectMeasures>,
    /// Earlier counter-sanctions this one says remain in effect (schema version 2); each must
    /// already be in the ledger.
    pub maintains: Vec<Identifier>,
}

/// An official's words. Changes no sanctions state.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Statement {
    /// Who spoke (e.g. "Antony Blinken").
    pub speaker: Name,
    /// Their role (e.g. "US Secretary of State").
    pub role: Option<Name>,
    /// Their organisation.
    pub organisation: Option<Name>,
    /// The words, or a faithful short quote.
    pub text: Text,
    /// Events the statement is about; each must already be in the ledger.
    pub about_events: Vec<Identifier>,
    /// Subjects the statement is about.
    pub about_subjects: Vec<Identifier>,
}

/// A superseding event: what replaces the corrected one.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Replacement {
    /// The replacement's effective date.
    pub effective_on: CivilDate,
    /// The replacement's content.
    pub body: ReplacementBody,
}

/// What a superseding correction puts in place: any kind but a correction. A separate type, so
/// that stored bytes cannot nest corrections (bincode has no depth limit; nesting would let a
/// forged record exhaust the stack). Variant order matches [`EventBody`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ReplacementBody {
    /// See [`Designation`].
    Designation(Designation),
    /// See [`Delisting`].
    Delisting(Delisting),
    /// See [`Renewal`].
    Renewal(Renewal),
    /// See [`Amendment`].
    Amendment(Amendment),
    /// See [`Retaliation`].
    Retaliation(Retaliation),
    /// See [`Statement`].
    Statement(Statement),
}

impl From<ReplacementBody> for EventBody {
    fn from(body: ReplacementBody) -> EventBody {
        match body {
            ReplacementBody::Designation(inner) => EventBody::Designation(inner),
            ReplacementBody::Delisting(inner) => EventBody::Delisting(inner),
            ReplacementBody::Renewal(inner) => EventBody::Renewal(inner),
            ReplacementBody::Amendment(inner) => EventBody::Amendment(inner),
            ReplacementBody::Retaliation(inner) => EventBody::Retaliation(inner),
            ReplacementBody::Statement(inner) => EventBody::Statement(inner),
        }
    }
}

impl TryFrom<EventBody> for ReplacementBody {
    type Error = EventBody;
    /// Fails (giving the body back) for a correction, a snapshot or an observation.
    fn try_from(body: EventBody) -> Result<ReplacementBody, EventBody> {
        Ok(match body {
            EventBody::Designation(inner) => ReplacementBody::Designation(inner),
            EventBody::Delisting(inner) => ReplacementBody::Delisting(inner),
            EventBody::Renewal(inner) => ReplacementBody::Renewal(inner),
            EventBody::Amendment(inner) => ReplacementBody::Amendment(inner),
            EventBody::Retaliation(inner) => ReplacementBody::Retaliation(inner),
            EventBody::Statement(inner) => ReplacementBody::Statement(inner),
            other @ (EventBody::Correction(_)
            | EventBody::Snapshot(_)
            | EventBody::Observation(_)) => return Err(other),
        })
    }
}

/// A published list snapshot, as imported: the file is evidence, kept in the ledger folder
/// under its hash (schema version 3). Its `effective_on` is the list's publication date.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Snapshot {
    /// Which published list (e.g. "us-ofac-sdn", "uk-hmt-conlist", "opensanctions:eu_fsf").
    pub list: Identifier,
    /// The authority the list's listings are recorded under (e.g. "US-OFAC").
    pub authority: Identifier,
    /// Who publishes the list.
    pub publisher: Name,
    /// The file format it was read as (e.g. "ofac-sdn-csv").
    pub format: Identifier,
    /// Entries the file holds (read and accepted).
    pub entries: u64,
    /// The file's length in bytes.
    pub file_bytes: u64,
    /// BLAKE3 of the file: its name in the ledger's `sources/` folder.
    pub blake3: Sha256Digest,
    /// SHA-256 of the file, as publishers and other tools compute it.
    pub sha256: Sha256Digest,
    /// How many events this snapshot implies (designations, delistings, amendments,
    /// observations), each recorded with `observed.snapshot` naming this event.
    pub implied_events: u64,
    /// Entries refused and skipped (`--skip-bad`), with their place and reason; at most
    /// `SKIPPED_RECORDED_MAX` are listed.
    pub skipped: Vec<SkippedEntry>,
    /// How many entries were skipped in all.
    pub skipped_count: u64,
    /// Recorded after a newer snapshot of the same list (`--late`): kept as evidence and
    /// coverage; no changes are inferred from it.
    pub late: bool,
}

/// An entry of a snapshot that was refused and skipped.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SkippedEntry {
    /// Where in the file (line, or XML path and entry id).
    pub place: Name,
    /// Why it was refused.
    pub reason: Text,
}

/// One list entry that a snapshot observed for a subject the ledger already held.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObservedEntry {
    /// The subject.
    pub subject: Identifier,
    /// The list's own id for it (e.g. scheme "ofac-uid", value "31492").
    pub identifier: SubjectIdentifier,
}

/// A snapshot observed entries for subjects whose listings the ledger already holds in force
/// (schema version 3): no designation is added, but the list's id joins the subject, and its
/// history shows the list's observation. `observed` names the snapshot.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Observation {
    /// The entries observed.
    pub entries: Vec<ObservedEntry>,
}

/// How an event's effective date is known when a list snapshot implies the event.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Basis {
    /// The list gives the date (UN `LISTED_ON`, UK `Listed On`): the effective date is it.
    ListedOn,
    /// First seen in this snapshot: in force on or before the effective date (the
    /// publication date), and after `after` when an earlier snapshot of the list lacked it.
    FirstObserved {
        /// The publication date of the previous snapshot, if there was one.
        after: Option<CivilDate>,
    },
    /// Missing from this snapshot though the previous one (published `after`) held it:
    /// ended on or before the effective date, inferred from absence (the legal date may be
    /// earlier).
    Absent {
        /// The previous snapshot's publication date.
        after: CivilDate,
    },
    /// Changed since the previous snapshot (published `after`): the change took effect on or
    /// before the effective date.
    Changed {
        /// The previous snapshot's publication date.
        after: CivilDate,
    },
}

impl Basis {
    /// The published name (schemas/).
    pub fn as_str(self) -> &'static str {
        match self {
            Basis::ListedOn => "listed_on",
            Basis::FirstObserved { .. } => "first_observed",
            Basis::Absent { .. } => "absent",
            Basis::Changed { .. } => "changed",
        }
    }

    /// The previous snapshot's publication date, where the basis has one.
    pub fn after(self) -> Option<CivilDate> {
        match self {
            Basis::ListedOn => None,
            Basis::FirstObserved { after } => after,
            Basis::Absent { after } | Basis::Changed { after } => Some(after),
        }
    }
}

/// That an event was implied by a list snapshot, and how its date is known (schema version 3).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Observed {
    /// The snapshot event; it must already be in the ledger or earlier in the batch.
    pub snapshot: Identifier,
    /// The snapshot's list.
    pub list: Identifier,
    /// How the effective date is known.
    pub basis: Basis,
}

/// Retracts or supersedes an earlier event. The earlier event stays in the log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Correction {
    /// The event corrected; it must already be in the ledger.
    pub corrects: Identifier,
    /// Why.
    pub reason: Text,
    /// None retracts the event; Some supersedes it with this content.
    pub replacement: Option<Box<Replacement>>,
}

/// The kind-specific content of an event. Variant order is the format: append only.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum EventBody {
    /// See [`Designation`].
    Designation(Designation),
    /// See [`Delisting`].
    Delisting(Delisting),
    /// See [`Renewal`].
    Renewal(Renewal),
    /// See [`Amendment`].
    Amendment(Amendment),
    /// See [`Retaliation`].
    Retaliation(Retaliation),
    /// See [`Statement`].
    Statement(Statement),
    /// See [`Correction`].
    Correction(Correction),
    /// See [`Snapshot`] (schema version 3).
    Snapshot(Snapshot),
    /// See [`Observation`] (schema version 3).
    Observation(Observation),
}

impl EventBody {
    /// The published kind name (schemas/).
    pub fn kind(&self) -> &'static str {
        match self {
            EventBody::Designation(_) => "designation",
            EventBody::Delisting(_) => "delisting",
            EventBody::Renewal(_) => "renewal",
            EventBody::Amendment(_) => "amendment",
            EventBody::Retaliation(_) => "retaliation",
            EventBody::Statement(_) => "statement",
            EventBody::Correction(_) => "correction",
            EventBody::Snapshot(_) => "snapshot",
            EventBody::Observation(_) => "observation",
        }
    }

    /// Every other event this one names, with the field that names it (`in_response_to`,
    /// `about_events`, `corrects`, or, inside a replacement, `replacement`).
    pub fn links(&self) -> Vec<(String, Identifier)> {
        self.references()
            .into_iter()
            .map(|(pointer, id)| {
                let field = pointer
                    .trim_start_matches('/')
                    .split('/')
                    .next()
                    .unwrap_or_default()
                    .to_owned();
                (field, id)
            })
            .collect()
    }

    /// Every other event this one names, with the JSON pointer that names it.
    pub fn references(&self) -> Vec<(String, Identifier)> {
        let named = |field: &str, ids: &[Identifier]| -> Vec<(String, Identifier)> {
            ids.iter()
                .enumerate()
                .map(|(index, id)| (format!("/{field}/{index}"), id.clone()))
                .collect()
        };
        match self {
            EventBody::Retaliation(retaliation) => {
                let mut references = named("in_response_to", &retaliation.in_response_to);
                references.extend(named("maintains", &retaliation.maintains));
                references
            }
            EventBody::Statement(statement) => named("about_events", &statement.about_events),
            EventBody::Correction(correction) => {
                let mut references = vec![("/corrects".to_owned(), correction.corrects.clone())];
                if let Some(replacement) = &correction.replacement {
                    references.extend(
                        EventBody::from(replacement.body.clone())
                            .references()
                            .into_iter()
                            .map(|(pointer, id)| (format!("/replacement{pointer}"), id)),
                    );
                }
                references
            }
            _ => Vec::new(),
        }
    }
}

/// A reference from one event of a batch to an event that is neither earlier in the batch nor
/// recorded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnresolvedReference {
    /// Position of the referring event in the batch.
    pub index: usize,
    /// JSON pointer of the reference within that event.
    pub pointer: String,
    /// The id that could not be found.
    pub reference: Identifier,
}

/// Every reference in `events` (in batch order) that names neither an earlier event of the batch
/// nor a recorded one. `is_recorded` answers for the ledger; it is asked once per distinct id.
pub fn unresolved_references<E>(
    events: &[Event],
    is_recorded: &mut dyn FnMut(&Identifier) -> Result<bool, E>,
) -> Result<Vec<UnresolvedReference>, E> {
    let mut earlier: std::collections::BTreeSet<&Identifier> = std::collections::BTreeSet::new();
    let mut recorded: std::collections::BTreeMap<Identifier, bool> =
        std::collections::BTreeMap::new();
    let mut unresolved = Vec::new();
    for (index, event) in events.iter().enumerate() {
        for (pointer, reference) in event.references() {
            if earlier.contains(&reference) {
                continue;
            }
            let found = match recorded.get(&reference) {
                Some(found) => *found,
                None => {
                    let found = is_recorded(&reference)?;
                    recorded.insert(reference.clone(), found);
                    found
                }
            };
            if !found {
                unresolved.push(UnresolvedReference {
                    index,
                    pointer,
                    reference,
                });
            }
        }
        earlier.insert(event.id());
    }
    Ok(unresolved)
}

/// The parts of an event, before its cross-field rules are checked.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventParts {
    /// Client-supplied id; the idempotency key.
    pub id: Identifier,
    /// When the event takes legal effect (for statements: when it was made).
    pub effective_on: CivilDate,
    /// Where it is documented; at least one.
    pub sources: Vec<Source>,
    /// What in the event is unconfirmed or disputed, in words.
    pub caveats: Vec<Text>,
    /// The kind-specific content.
    pub body: EventBody,
    /// The list snapshot that implied it, if one did (schema version 3).
    pub observed: Option<Observed>,
}

/// One rule an event breaks: where (a JSON pointer into the event's JSON shape) and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    /// JSON pointer (RFC 6901) of the offending field, relative to the event.
    pub pointer: String,
    /// What is wrong, and what would be valid.
    pub reason: String,
}

/// A sanctions event whose every rule holds. Only [`Event::new`] makes one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Event {
    parts: EventParts,
}

impl Event {
    /// Checks every cross-field rule and returns every problem found.
    pub fn new(parts: EventParts) -> Result<Event, Vec<Problem>> {
        let mut problems = Vec::new();
        check_parts(&parts, &mut problems);
        if problems.is_empty() {
            Ok(Event { parts })
        } else {
            Err(problems)
        }
    }
    /// The checked parts.
    pub fn parts(&self) -> &EventParts {
        &self.parts
    }
    /// The event id.
    pub fn id(&self) -> &Identifier {
        &self.parts.id
    }
    /// The kind-specific content.
    pub fn body(&self) -> &EventBody {
        &self.parts.body
    }
    /// The effective date.
    pub fn effective_on(&self) -> CivilDate {
        self.parts.effective_on
    }
    /// The list snapshot that implied it, if one did.
    pub fn observed(&self) -> Option<&Observed> {
        self.parts.observed.as_ref()
    }
    /// Every other event this one names (its body's references, and the snapshot that
    /// implied it), with the JSON pointer that names it.
    pub fn references(&self) -> Vec<(String, Identifier)> {
        let mut references = self.parts.body.references();
        if let Some(observed) = &self.parts.observed {
            references.push(("/observed/snapshot".to_owned(), observed.snapshot.clone()));
        }
        references
    }
}

struct Checker<'a> {
    problems: &'a mut Vec<Problem>,
    prefix: String,
}

impl Checker<'_> {
    // Pointers are `Display` so that they are only formatted when something fails (this runs
    // for every event `verify` decodes).
    fn fail(&mut self, pointer: impl std::fmt::Display, reason: impl Into<String>) {
        self.problems.push(Problem {
            pointer: format!("{}{pointer}", self.prefix),
            reason: reason.into(),
        });
    }

    fn count(&mut self, pointer: impl std::fmt::Display, len: usize, min: usize, max: usize) {
        if len < min {
            self.fail(pointer, format!("needs at least {min} item(s), has {len}"));
        } else if len > max {
            self.fail(
                pointer,
                format!("has {len} items; at most {max} are allowed"),
            );
        }
    }

    fn unique<T: Ord + std::fmt::Display>(
        &mut self,
        pointer: &str,
        items: impl IntoIterator<Item = T>,
    ) {
        let mut first_index_of = std::collections::BTreeMap::new();
        for (index, item) in items.into_iter().enumerate() {
            match first_index_of.get(&item) {
                Some(first) => {
                    let reason =
                        format!("duplicates item {first} (\"{item}\"); each may appear once");
                    self.fail(format_args!("{pointer}/{index}"), reason);
                }
                None => {
                    first_index_of.insert(item, index);
                }
            }
        }
    }

    fn until_not_before(
        &mut self,
        pointer: &str,
        until: Option<CivilDate>,
        effective_on: CivilDate,
    ) {
        if let Some(until) = until
            && until < effective_on
        {
            self.fail(
                    pointer,
                    format!("end date {until} is before the effective date {effective_on}; it must be on or after it"),
                );
        }
    }

    fn subjects(&mut self, subjects: &[Subject]) {
        self.count(
            "/subjects",
            subjects.len(),
            1,
            limits::SUBJECTS_PER_EVENT_MAX,
        );
        self.unique("/subjects", subjects.iter().map(|subject| &subject.id));
        for (index, subject) in subjects.iter().enumerate() {
            self.subject(&format_args!("/subjects/{index}"), subject);
        }
    }

    fn subject(&mut self, pointer: &dyn std::fmt::Display, subject: &Subject) {
        self.count(
            format_args!("{pointer}/names"),
            subject.names.len(),
            1,
            limits::ITEMS_PER_LIST_MAX,
        );
        self.count(
            format_args!("{pointer}/aliases"),
            subject.aliases.len(),
            0,
            limits::ITEMS_PER_LIST_MAX,
        );
        self.count(
            format_args!("{pointer}/identifiers"),
            subject.identifiers.len(),
            0,
            limits::ITEMS_PER_LIST_MAX,
        );
    }

    fn measures(&mut self, measures: &[Measure], min: usize) {
        self.measures_at(&"/measures", measures, min);
    }

    fn measures_at(&mut self, pointer: &dyn std::fmt::Display, measures: &[Measure], min: usize) {
        let pointer = pointer.to_string();
        self.count(&pointer, measures.len(), min, limits::ITEMS_PER_LIST_MAX);
        self.unique(&pointer, measures.iter());
    }

    /// Each entry names one of the event's subjects, once, with at least one measure.
    fn measures_by_subject(&mut self, by_subject: &[SubjectMeasures], subjects: &[Subject]) {
        self.count(
            "/measures_by_subject",
            by_subject.len(),
            0,
            limits::SUBJECTS_PER_EVENT_MAX,
        );
        self.unique(
            "/measures_by_subject",
            by_subject.iter().map(|own| &own.subject),
        );
        for (index, own) in by_subject.iter().enumerate() {
            if !subjects.iter().any(|subject| subject.id == own.subject) {
                self.fail(
                    format_args!("/measures_by_subject/{index}/subject"),
                    format!(
                        "\"{}\" is not one of the event's subjects; name one of them",
                        own.subject
                    ),
                );
            }
            self.measures_at(
                &format_args!("/measures_by_subject/{index}/measures"),
                &own.measures,
                1,
            );
        }
    }

    fn links(&mut self, pointer: &str, links: &[Identifier], min: usize, own_id: &Identifier) {
        self.count(pointer, links.len(), min, limits::LINKS_PER_EVENT_MAX);
        self.unique(pointer, links.iter());
        for (index, link) in links.iter().enumerate() {
            if link == own_id {
                self.fail(
                    format_args!("{pointer}/{index}"),
                    "an event cannot refer to itself",
                );
            }
        }
    }

    fn body(
        &mut self,
        body: &EventBody,
        effective_on: CivilDate,
        own_id: &Identifier,
        observed: bool,
    ) {
        match body {
            EventBody::Designation(designation) => {
                // A list entry seldom names its legal act: one a snapshot implied may give none.
                self.count(
                    "/legal_basis",
                    designation.legal_basis.len(),
                    usize::from(!observed),
                    limits::ITEMS_PER_LIST_MAX,
                );
                self.subjects(&designation.subjects);
                self.measures(&designation.measures, 1);
                self.measures_by_subject(&designation.measures_by_subject, &designation.subjects);
                self.until_not_before("/until", designation.until, effective_on);
            }
            EventBody::Delisting(delisting) => {
                self.count(
                    "/subject_ids",
                    delisting.subject_ids.len(),
                    1,
                    limits::SUBJECTS_PER_EVENT_MAX,
                );
                self.unique("/subject_ids", delisting.subject_ids.iter());
            }
            EventBody::Renewal(renewal) => {
                self.count(
                    "/subject_ids",
                    renewal.subject_ids.len(),
                    0,
                    limits::SUBJECTS_PER_EVENT_MAX,
                );
                self.unique("/subject_ids", renewal.subject_ids.iter());
                self.count(
                    "/legal_basis",
                    renewal.legal_basis.len(),
                    0,
                    limits::ITEMS_PER_LIST_MAX,
                );
                self.until_not_before("/until", Some(renewal.until), effective_on);
            }
            EventBody::Amendment(amendment) => {
                self.subject(&"/subject", &amendment.subject);
                self.measures(&amendment.measures, 0);
                if amendment.authority.is_some() != amendment.programme.is_some() {
                    self.fail(
                        "/programme",
                        "authority and programme name one listing: give both or neither",
                    );
                }
                if !amendment.measures.is_empty() && amendment.authority.is_none() {
                    self.fail(
                        "/measures",
                        "new measures need the listing they apply to (authority and programme)",
                    );
                }
            }
            EventBody::Retaliation(retaliation) => {
                self.count(
                    "/legal_basis",
                    retaliation.legal_basis.len(),
                    0,
                    limits::ITEMS_PER_LIST_MAX,
                );
                self.subjects(&retaliation.subjects);
                self.measures(&retaliation.measures, 1);
                self.measures_by_subject(&retaliation.measures_by_subject, &retaliation.subjects);
                self.links("/in_response_to", &retaliation.in_response_to, 1, own_id);
                self.links("/maintains", &retaliation.maintains, 0, own_id);
                self.until_not_before("/until", retaliation.until, effective_on);
            }
            EventBody::Statement(statement) => {
                self.links("/about_events", &statement.about_events, 0, own_id);
                self.count(
                    "/about_subjects",
                    statement.about_subjects.len(),
                    0,
                    limits::SUBJECTS_PER_EVENT_MAX,
                );
                self.unique("/about_subjects", statement.about_subjects.iter());
            }
            EventBody::Snapshot(snapshot) => {
                self.count(
                    "/skipped",
                    snapshot.skipped.len(),
                    0,
                    limits::SKIPPED_RECORDED_MAX,
                );
                if (snapshot.skipped.len() as u64) > snapshot.skipped_count {
                    self.fail(
                        "/skipped_count",
                        format!(
                            "is {} but {} skipped entries are listed; it counts them all",
                            snapshot.skipped_count,
                            snapshot.skipped.len()
                        ),
                    );
                }
                if snapshot.late && snapshot.implied_events > 0 {
                    self.fail(
                        "/implied_events",
                        "a late snapshot implies no events; expected 0",
                    );
                }
            }
            EventBody::Observation(observation) => {
                self.count(
                    "/entries",
                    observation.entries.len(),
                    1,
                    limits::SUBJECTS_PER_EVENT_MAX,
                );
                self.unique(
                    "/entries",
                    observation.entries.iter().map(|entry| &entry.subject),
                );
            }
            EventBody::Correction(correction) => {
                if &correction.corrects == own_id {
                    self.fail("/corrects", "an event cannot correct itself");
                }
                if let Some(replacement) = &correction.replacement {
                    let inner = format!("{}/replacement", self.prefix);
                    let outer = std::mem::replace(&mut self.prefix, inner);
                    let body = EventBody::from(replacement.body.clone());
                    self.body(&body, replacement.effective_on, own_id, false);
                    self.prefix = outer;
                }
            }
        }
    }
}

fn check_parts(parts: &EventParts, problems: &mut Vec<Problem>) {
    let mut checker = Checker {
        problems,
        prefix: String::new(),
    };
    checker.count(
        "/sources",
        parts.sources.len(),
        1,
        limits::SOURCES_PER_EVENT_MAX,
    );
    checker.count(
        "/caveats",
        parts.caveats.len(),
        0,
        limits::ITEMS_PER_LIST_MAX,
    );
    checker.body(
        &parts.body,
        parts.effective_on,
        &parts.id,
        parts.observed.is_some(),
    );
    checker.observed(parts);
}

impl Checker<'_> {
    /// An event a snapshot implied says how its date is known, in a way that fits its kind;
    /// a snapshot or an observation is, or is not, such an event by its kind.
    fn observed(&mut self, parts: &EventParts) {
        let kind = parts.body.kind();
        let Some(observed) = &parts.observed else {
            if matches!(parts.body, EventBody::Observation(_)) {
                self.fail(
                    "/observed",
                    "missing; an observation names the snapshot that made it",
                );
            }
            return;
        };
        if observed.snapshot == parts.id {
            self.fail("/observed/snapshot", "an event cannot refer to itself");
        }
        let fits = match (&parts.body, observed.basis) {
            (EventBody::Snapshot(_) | EventBody::Correction(_), _) => false,
            (EventBody::Designation(_), Basis::ListedOn | Basis::FirstObserved { .. }) => true,
            (EventBody::Observation(_), Basis::FirstObserved { .. }) => true,
            (EventBody::Delisting(_), Basis::Absent { .. } | Basis::Changed { .. }) => true,
            (EventBody::Amendment(_), Basis::Changed { .. }) => true,
            _ => false,
        };
        if !fits {
            self.fail(
                "/observed/basis",
                format!(
                    "a {kind} cannot have basis \"{}\"; designations are listed_on or first_observed, observations first_observed, delistings absent or changed, amendments changed, and snapshots and corrections have none",
                    observed.basis.as_str()
                ),
            );
        }
        if let Some(after) = observed.basis.after()
            && after >= parts.effective_on
        {
            self.fail(
                "/observed/after",
                format!(
                    "the previous snapshot's date {after} is not before the effective date {}; it must be earlier",
                    parts.effective_on
                ),
            );
        }
    }
}
