//! The published JSON shape of events: the types schemas/ is generated from.
//!
//! These types are for people and scripts only; they are never hashed or stored (the stored
//! shape is `domain::EventParts` through the one bincode configuration). `event_to_json` renders
//! every event through them, so the generated JSON Schemas describe exactly what the tool prints,
//! and the parser in `draft.rs` accepts exactly what they describe (tests in tests/schemas.rs
//! hold the two together). Constraints come from `limits.rs` and the domain's enumerations.

use crate::domain::{self, Event, EventBody, Measure, SubjectKind};
use crate::limits;
use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::Serialize;
use std::borrow::Cow;

macro_rules! string_type {
    ($(#[$doc:meta])* $name:ident, $schema:tt) => {
        $(#[$doc])*
        #[derive(Clone, Debug, PartialEq, Eq, Serialize)]
        #[serde(transparent)]
        pub struct $name(pub String);

        impl JsonSchema for $name {
            fn schema_name() -> Cow<'static, str> {
                stringify!($name).into()
            }
            fn json_schema(_: &mut SchemaGenerator) -> Schema {
                json_schema!($schema)
            }
        }
    };
}

string_type!(
    /// A stable identifier (event id, subject id, authority, programme).
    Identifier,
    {
        "description": "A stable identifier: ASCII letters, digits and . _ : / -, starting with a letter or digit.",
        "type": "string", "minLength": 1, "maxLength": limits::ID_BYTES_MAX,
        "pattern": "^[A-Za-z0-9][A-Za-z0-9._:/-]*$",
        "examples": ["eu-council-2021-03-22-ghr-xinjiang", "xj-wang-junzheng", "EU-COUNCIL", "GLOMAG"]
    }
);
string_type!(
    /// A calendar date.
    Date,
    {
        "description": "A real calendar date, YYYY-MM-DD (year 1000 to 9999; no 2021-02-30).",
        "type": "string", "format": "date", "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}$",
        "examples": ["2021-03-22"]
    }
);
string_type!(
    /// A short single-line text.
    Name,
    {
        "description": "A single line of text in any script (names, titles, roles, legal acts); no control characters, no leading or trailing white space. Normalised to Unicode NFC on intake.",
        "type": "string", "minLength": 1, "maxLength": limits::NAME_CHARS_MAX,
        "pattern": "^\\S(.*\\S)?$",
        "examples": ["WANG Junzheng", "王君正", "Dovilė Šakalienė"]
    }
);
string_type!(
    /// A long text that may span lines.
    Text,
    {
        "description": "Free text (a statement's words, a reason); may hold newlines and tabs, no other control characters; no leading or trailing white space. Normalised to Unicode NFC on intake.",
        "type": "string", "minLength": 1, "maxLength": limits::TEXT_CHARS_MAX,
        "examples": ["Amid growing international condemnation, the PRC continues to commit genocide and crimes against humanity in Xinjiang."]
    }
);
string_type!(
    /// An http(s) URL.
    Url,
    {
        "description": "An http:// or https:// URL without white space.",
        "type": "string", "maxLength": limits::URL_BYTES_MAX, "pattern": "^https?://\\S+$",
        "examples": ["https://gazette.gc.ca/rp-pr/p2/2021/2021-03-31/html/sor-dors49-eng.html"]
    }
);
string_type!(
    /// A SHA-256 digest.
    Sha256,
    {
        "description": "SHA-256 of the source document as retrieved, 64 lowercase hexadecimal digits.",
        "type": "string", "pattern": "^[0-9a-f]{64}$"
    }
);

string_type!(
    /// A 32-byte hash in hexadecimal.
    HashHex,
    {
        "description": "A BLAKE3 hash (record, genesis), 64 lowercase hexadecimal digits.",
        "type": "string", "pattern": "^[0-9a-f]{64}$"
    }
);
string_type!(
    /// An instant in UTC.
    Instant,
    {
        "description": "An instant in UTC, RFC 3339 (e.g. a recorded time).",
        "type": "string", "format": "date-time", "examples": ["2021-03-22T18:00:00Z"]
    }
);

/// A restrictive measure, by its published name.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct MeasureName(pub &'static str);

impl JsonSchema for MeasureName {
    fn schema_name() -> Cow<'static, str> {
        "Measure".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        let names: Vec<&str> = Measure::ALL
            .iter()
            .map(|measure| measure.as_str())
            .collect();
        json_schema!({"description": "A restrictive measure.", "type": "string", "enum": names})
    }
}

/// A subject kind, by its published name.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct SubjectKindName(pub &'static str);

impl JsonSchema for SubjectKindName {
    fn schema_name() -> Cow<'static, str> {
        "SubjectKind".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        let names: Vec<&str> = SubjectKind::ALL.iter().map(|kind| kind.as_str()).collect();
        json_schema!({"description": "What kind of thing a subject is.", "type": "string", "enum": names})
    }
}

/// Where an event is documented.
#[derive(Clone, Debug, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SourceJson {
    /// Who published it.
    pub publisher: Name,
    /// Its title, if the record of it gives one (left out rather than made up).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<Name>,
    /// Where it was read.
    pub url: Url,
    /// When it was published.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub published_on: Option<Date>,
    /// SHA-256 of the document as retrieved.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sha256: Option<Sha256>,
    /// For second-hand reports: whom the publisher quotes (e.g. "CNN, quoting the U.S. Treasury").
    #[serde(skip_serializing_if = "Option::is_none")]
    pub as_reported_by: Option<Name>,
}

/// A labelled identifying detail of a subject.
#[derive(Clone, Debug, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SubjectIdentifierJson {
    /// What the value is, e.g. "ofac-uid", "date-of-birth", "place-of-birth".
    pub scheme: Name,
    /// The value as published, e.g. "31492", "May 1963".
    pub value: Name,
}

/// A person, entity, vessel or aircraft; one id across all authorities.
#[derive(Clone, Debug, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SubjectJson {
    /// Stable id, shared by every authority that lists the subject.
    pub id: Identifier,
    /// What kind of thing it is.
    pub kind: SubjectKindName,
    /// Names in any script, the primary first.
    #[schemars(length(min = 1, max = limits::ITEMS_PER_LIST_MAX))]
    pub names: Vec<Name>,
    /// Other names it is known by.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = limits::ITEMS_PER_LIST_MAX))]
    pub aliases: Vec<Name>,
    /// Identifying details.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = limits::ITEMS_PER_LIST_MAX))]
    pub identifiers: Vec<SubjectIdentifierJson>,
}

/// The fields every event has.
#[derive(Clone, Debug, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CommonJson {
    /// Client-supplied id: the idempotency key. Appending the same id with identical content
    /// again appends nothing; with different content it is refused.
    pub id: Identifier,
    /// When the event takes legal effect (for a statement: when it was made).
    pub effective_on: Date,
    /// Where the event is documented.
    #[schemars(length(min = 1, max = limits::SOURCES_PER_EVENT_MAX))]
    pub sources: Vec<SourceJson>,
    /// What in the event is unconfirmed or disputed, in words.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = limits::ITEMS_PER_LIST_MAX))]
    pub caveats: Vec<Text>,
    /// The list snapshot that implied the event (written by `import`), and how its date is
    /// known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub observed: Option<ObservedJson>,
}

/// That a list snapshot implied an event, and how the event's date is known.
#[derive(Clone, Debug, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ObservedJson {
    /// The snapshot event: it must be in the ledger or earlier in the batch.
    pub snapshot: Identifier,
    /// The snapshot's list.
    pub list: Identifier,
    /// "listed_on": the list gives the date; "first_observed": first seen in this snapshot, in
    /// force on or before `effective_on`; "absent": missing from this snapshot, ended on or
    /// before `effective_on` (inferred from absence; the legal date may be earlier);
    /// "changed": changed since the previous snapshot. Designations are listed_on or
    /// first_observed, observations first_observed, delistings absent or changed, amendments
    /// changed.
    pub basis: BasisName,
    /// The previous snapshot's publication date (after which it happened); required for
    /// "absent" and "changed", before `effective_on`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub after: Option<Date>,
}

/// How an event's date is known, by its published name.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct BasisName(pub &'static str);

/// The published names of [`BasisName`].
pub const BASES: [&str; 4] = ["listed_on", "first_observed", "absent", "changed"];

impl JsonSchema for BasisName {
    fn schema_name() -> Cow<'static, str> {
        "Basis".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({"description": "How an event's date is known when a list snapshot implied it.", "type": "string", "enum": BASES})
    }
}

/// Fields of a snapshot: a published list file, imported; the file is kept as evidence.
#[derive(Clone, Debug, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SnapshotJson {
    /// Which published list (e.g. "us-ofac-sdn").
    pub list: Identifier,
    /// The authority its listings are recorded under.
    pub authority: Identifier,
    /// Who publishes the list.
    pub publisher: Name,
    /// The format it was read as (e.g. "ofac-sdn-csv").
    pub format: Identifier,
    /// Entries read and accepted.
    pub entries: u64,
    /// The file's length in bytes.
    pub file_bytes: u64,
    /// BLAKE3 of the file (its name in the ledger's `sources/` folder).
    pub blake3: HashHex,
    /// SHA-256 of the file.
    pub sha256: Sha256,
    /// Events the snapshot implies, each naming it in `observed.snapshot`.
    pub implied_events: u64,
    /// Entries refused and skipped, with place and reason (at most the first
    /// `SKIPPED_RECORDED_MAX`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = limits::SKIPPED_RECORDED_MAX))]
    pub skipped: Vec<SkippedEntryJson>,
    /// How many entries were skipped in all.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub skipped_count: u64,
    /// Recorded after a newer snapshot of the same list: evidence and coverage only.
    #[serde(default, skip_serializing_if = "is_false")]
    pub late: bool,
}

fn is_zero(value: &u64) -> bool {
    *value == 0
}

fn is_false(value: &bool) -> bool {
    !*value
}

/// An entry of a snapshot refused and skipped.
#[derive(Clone, Debug, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SkippedEntryJson {
    /// Where in the file.
    pub place: Name,
    /// Why.
    pub reason: Text,
}

/// Fields of an observation: list entries seen for subjects whose listings the ledger already
/// held.
#[derive(Clone, Debug, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ObservationJson {
    /// The entries: each a subject, once, and the list's id for it.
    #[schemars(length(min = 1, max = limits::SUBJECTS_PER_EVENT_MAX))]
    pub entries: Vec<ObservedEntryJson>,
}

/// One entry observed.
#[derive(Clone, Debug, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ObservedEntryJson {
    /// The subject.
    pub subject: Identifier,
    /// The list's id for it.
    pub identifier: SubjectIdentifierJson,
}

/// Fields of a designation.
#[derive(Clone, Debug, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DesignationJson {
    /// Who lists the subjects.
    pub authority: Identifier,
    /// Under which programme.
    pub programme: Identifier,
    /// Legal acts: at least one, unless a list snapshot implied the designation (`observed`;
    /// list entries seldom name their act).
    #[schemars(length(max = limits::ITEMS_PER_LIST_MAX))]
    pub legal_basis: Vec<Name>,
    /// Who is listed; no subject twice.
    #[schemars(length(min = 1, max = limits::SUBJECTS_PER_EVENT_MAX))]
    pub subjects: Vec<SubjectJson>,
    /// What applies to them; no measure twice.
    #[schemars(length(min = 1, max = limits::ITEMS_PER_LIST_MAX), extend("uniqueItems" = true))]
    pub measures: Vec<MeasureName>,
    /// Last day in force unless renewed; not before `effective_on`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub until: Option<Date>,
    /// The published statement of reasons.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<Text>,
    /// Subjects under other measures than `measures` (an act that bans its persons' travel but
    /// only freezes an entity's assets): each names one of `subjects`, once.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = limits::SUBJECTS_PER_EVENT_MAX))]
    pub measures_by_subject: Vec<SubjectMeasuresJson>,
}

/// The measures one subject of an event is under, in place of the event's.
#[derive(Clone, Debug, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SubjectMeasuresJson {
    /// One of the event's subjects.
    pub subject: Identifier,
    /// Its measures; no measure twice.
    #[schemars(length(min = 1, max = limits::ITEMS_PER_LIST_MAX), extend("uniqueItems" = true))]
    pub measures: Vec<MeasureName>,
}

/// Fields of a delisting.
#[derive(Clone, Debug, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DelistingJson {
    /// Who delists.
    pub authority: Identifier,
    /// From which programme.
    pub programme: Identifier,
    /// Whom.
    #[schemars(length(min = 1, max = limits::SUBJECTS_PER_EVENT_MAX), extend("uniqueItems" = true))]
    pub subject_ids: Vec<Identifier>,
    /// Why, if published.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<Text>,
}

/// Fields of a renewal.
#[derive(Clone, Debug, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RenewalJson {
    /// Who renews.
    pub authority: Identifier,
    /// Which programme.
    pub programme: Identifier,
    /// The new last day in force; not before `effective_on`.
    pub until: Date,
    /// The renewed subjects; absent or empty means every listing under the programme.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = limits::SUBJECTS_PER_EVENT_MAX), extend("uniqueItems" = true))]
    pub subject_ids: Vec<Identifier>,
    /// Legal acts.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = limits::ITEMS_PER_LIST_MAX))]
    pub legal_basis: Vec<Name>,
}

/// Fields of an amendment.
#[derive(Clone, Debug, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AmendmentJson {
    /// The subject's details as they now stand.
    pub subject: SubjectJson,
    /// The listing amended, if any: its authority (give `programme` too)...
    #[serde(skip_serializing_if = "Option::is_none")]
    pub authority: Option<Identifier>,
    /// ...and its programme (give `authority` too).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub programme: Option<Identifier>,
    /// The listing's new measures (needs `authority` and `programme`); absent means unchanged.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = limits::ITEMS_PER_LIST_MAX), extend("uniqueItems" = true))]
    pub measures: Vec<MeasureName>,
    /// The amended statement of reasons, or why the details changed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<Text>,
}

/// Fields of a retaliation (counter-sanction).
#[derive(Clone, Debug, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RetaliationJson {
    /// Who counter-sanctions.
    pub authority: Identifier,
    /// Under which programme or announcement series.
    pub programme: Identifier,
    /// Legal acts or announcements.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = limits::ITEMS_PER_LIST_MAX))]
    pub legal_basis: Vec<Name>,
    /// Who is counter-sanctioned; no subject twice.
    #[schemars(length(min = 1, max = limits::SUBJECTS_PER_EVENT_MAX))]
    pub subjects: Vec<SubjectJson>,
    /// What applies to them.
    #[schemars(length(min = 1, max = limits::ITEMS_PER_LIST_MAX), extend("uniqueItems" = true))]
    pub measures: Vec<MeasureName>,
    /// The events this answers: each must be in the ledger or earlier in the batch.
    #[schemars(length(min = 1, max = limits::LINKS_PER_EVENT_MAX), extend("uniqueItems" = true))]
    pub in_response_to: Vec<Identifier>,
    /// Last day in force; not before `effective_on`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub until: Option<Date>,
    /// The stated reason.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<Text>,
    /// Subjects under other measures than `measures`: each names one of `subjects`, once.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = limits::SUBJECTS_PER_EVENT_MAX))]
    pub measures_by_subject: Vec<SubjectMeasuresJson>,
    /// Earlier counter-sanctions this one says remain in effect: each must be in the ledger or
    /// earlier in the batch.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = limits::LINKS_PER_EVENT_MAX), extend("uniqueItems" = true))]
    pub maintains: Vec<Identifier>,
}

/// Fields of a statement.
#[derive(Clone, Debug, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StatementJson {
    /// Who spoke.
    pub speaker: Name,
    /// Their role.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role: Option<Name>,
    /// Their organisation.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub organisation: Option<Name>,
    /// The words, or a faithful short quote.
    pub text: Text,
    /// Events the statement is about: each must be in the ledger or earlier in the batch.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = limits::LINKS_PER_EVENT_MAX), extend("uniqueItems" = true))]
    pub about_events: Vec<Identifier>,
    /// Subjects the statement is about.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = limits::SUBJECTS_PER_EVENT_MAX), extend("uniqueItems" = true))]
    pub about_subjects: Vec<Identifier>,
}

/// Fields of a correction.
#[derive(Clone, Debug, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CorrectionJson {
    /// The event corrected: it must be in the ledger or earlier in the batch.
    pub corrects: Identifier,
    /// Why.
    pub reason: Text,
    /// Absent: the event is retracted. Present: it is superseded by this content.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub replacement: Option<ReplacementJson>,
}

/// An event: the common fields with the fields of one kind.
#[derive(Clone, Debug, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Full<B> {
    /// The common fields.
    #[serde(flatten)]
    pub common: CommonJson,
    /// The kind's fields.
    #[serde(flatten)]
    pub body: B,
}

/// A replacement: an effective date with the fields of one kind.
#[derive(Clone, Debug, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Replaced<B> {
    /// The replacement's effective date.
    pub effective_on: Date,
    /// The kind's fields.
    #[serde(flatten)]
    pub body: B,
}

/// A sanctions event. `kind` says which fields it has.
#[derive(Clone, Debug, Serialize, JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum EventJson {
    /// An authority lists subjects under a programme, with measures, from `effective_on`
    /// (and until `until`, for listings that lapse unless renewed).
    Designation(Full<DesignationJson>),
    /// An authority removes subjects from a programme, effective on `effective_on`.
    Delisting(Full<DelistingJson>),
    /// Listings under a programme are extended to a new last day.
    Renewal(Full<RenewalJson>),
    /// A subject's details, or a listing's measures or reasons, change.
    Amendment(Full<AmendmentJson>),
    /// A counter-sanction against subjects of another side, answering recorded events.
    Retaliation(Full<RetaliationJson>),
    /// An official's words; changes no sanctions state.
    Statement(Full<StatementJson>),
    /// Retracts an earlier event, or supersedes it with replacement content.
    Correction(Full<CorrectionJson>),
    /// A published list file, imported (`import`); the file is kept as evidence.
    Snapshot(Full<SnapshotJson>),
    /// List entries seen for subjects whose listings the ledger already held (`import`).
    Observation(Full<ObservationJson>),
}

/// What a superseding correction puts in place: any kind but a correction.
#[derive(Clone, Debug, Serialize, JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ReplacementJson {
    /// See the event kind of the same name.
    Designation(Replaced<DesignationJson>),
    /// See the event kind of the same name.
    Delisting(Replaced<DelistingJson>),
    /// See the event kind of the same name.
    Renewal(Replaced<RenewalJson>),
    /// See the event kind of the same name.
    Amendment(Replaced<AmendmentJson>),
    /// See the event kind of the same name.
    Retaliation(Replaced<RetaliationJson>),
    /// See the event kind of the same name.
    Statement(Replaced<StatementJson>),
}

fn text<T: ToString>(value: &T) -> String {
    value.to_string()
}

fn names(items: &[domain::Name]) -> Vec<Name> {
    items.iter().map(|item| Name(text(item))).collect()
}

fn ids(items: &[domain::Identifier]) -> Vec<Identifier> {
    items.iter().map(|item| Identifier(text(item))).collect()
}

fn measures(items: &[Measure]) -> Vec<MeasureName> {
    items
        .iter()
        .map(|measure| MeasureName(measure.as_str()))
        .collect()
}

fn subject(subject: &domain::Subject) -> SubjectJson {
    SubjectJson {
        id: Identifier(text(&subject.id)),
        kind: SubjectKindName(subject.kind.as_str()),
        names: names(&subject.names),
        aliases: names(&subject.aliases),
        identifiers: subject
            .identifiers
            .iter()
            .map(|identifier| SubjectIdentifierJson {
                scheme: Name(text(&identifier.scheme)),
                value: Name(text(&identifier.value)),
            })
            .collect(),
    }
}

fn date(value: domain::CivilDate) -> Date {
    Date(value.to_string())
}

fn long(value: &Option<domain::Text>) -> Option<Text> {
    value.as_ref().map(|value| Text(text(value)))
}

fn designation(d: &domain::Designation) -> DesignationJson {
    DesignationJson {
        authority: Identifier(text(&d.authority)),
        programme: Identifier(text(&d.programme)),
        legal_basis: names(&d.legal_basis),
        subjects: d.subjects.iter().map(subject).collect(),
        measures: measures(&d.measures),
        until: d.until.map(date),
        reason: long(&d.reason),
        measures_by_subject: measures_by_subject(&d.measures_by_subject),
    }
}

fn measures_by_subject(items: &[domain::SubjectMeasures]) -> Vec<SubjectMeasuresJson> {
    items
        .iter()
        .map(|own| SubjectMeasuresJson {
            subject: Identifier(text(&own.subject)),
            measures: measures(&own.measures),
        })
        .collect()
}

fn delisting(d: &domain::Delisting) -> DelistingJson {
    DelistingJson {
        authority: Identifier(text(&d.authority)),
        programme: Identifier(text(&d.programme)),
        subject_ids: ids(&d.subject_ids),
        reason: long(&d.reason),
    }
}

fn renewal(r: &domain::Renewal) -> RenewalJson {
    RenewalJson {
        authority: Identifier(text(&r.authority)),
        programme: Identifier(text(&r.programme)),
        until: date(r.until),
        subject_ids: ids(&r.subject_ids),
        legal_basis: names(&r.legal_basis),
    }
}

fn amendment(a: &domain::Amendment) -> AmendmentJson {
    AmendmentJson {
        subject: subject(&a.subject),
        authority: a.authority.as_ref().map(|id| Identifier(text(id))),
        programme: a.programme.as_ref().map(|id| Identifier(text(id))),
        measures: measures(&a.measures),
        reason: long(&a.reason),
    }
}

fn retaliation(r: &domain::Retaliation) -> RetaliationJson {
    RetaliationJson {
        authority: Identifier(text(&r.authority)),
        programme: Identifier(text(&r.programme)),
        legal_basis: names(&r.legal_basis),
        subjects: r.subjects.iter().map(subject).collect(),
        measures: measures(&r.measures),
        in_response_to: ids(&r.in_response_to),
        until: r.until.map(date),
        reason: long(&r.reason),
        measures_by_subject: measures_by_subject(&r.measures_by_subject),
        maintains: ids(&r.maintains),
    }
}

fn statement(s: &domain::Statement) -> StatementJson {
    StatementJson {
        speaker: Name(text(&s.speaker)),
        role: s.role.as_ref().map(|role| Name(text(role))),
        organisation: s
            .organisation
            .as_ref()
            .map(|organisation| Name(text(organisation))),
        text: Text(text(&s.text)),
        about_events: ids(&s.about_events),
        about_subjects: ids(&s.about_subjects),
    }
}

fn replacement(replacement: &domain::Replacement) -> ReplacementJson {
    let effective_on = date(replacement.effective_on);
    match &replacement.body {
        domain::ReplacementBody::Designation(d) => ReplacementJson::Designation(Replaced {
            effective_on,
            body: designation(d),
        }),
        domain::ReplacementBody::Delisting(d) => ReplacementJson::Delisting(Replaced {
            effective_on,
            body: delisting(d),
        }),
        domain::ReplacementBody::Renewal(r) => ReplacementJson::Renewal(Replaced {
            effective_on,
            body: renewal(r),
        }),
        domain::ReplacementBody::Amendment(a) => ReplacementJson::Amendment(Replaced {
            effective_on,
            body: amendment(a),
        }),
        domain::ReplacementBody::Retaliation(r) => ReplacementJson::Retaliation(Replaced {
            effective_on,
            body: retaliation(r),
        }),
        domain::ReplacementBody::Statement(s) => ReplacementJson::Statement(Replaced {
            effective_on,
            body: statement(s),
        }),
    }
}

impl From<&Event> for EventJson {
    fn from(event: &Event) -> EventJson {
        let parts = event.parts();
        let common = CommonJson {
            id: Identifier(text(&parts.id)),
            effective_on: date(parts.effective_on),
            sources: parts
                .sources
                .iter()
                .map(|source| SourceJson {
                    publisher: Name(text(&source.publisher)),
                    title: source.title.as_ref().map(|title| Name(text(title))),
                    url: Url(source.url.as_str().to_owned()),
                    published_on: source.published_on.map(date),
                    sha256: source.sha256.map(|digest| Sha256(digest.to_hex())),
                    as_reported_by: source.as_reported_by.as_ref().map(|name| Name(text(name))),
                })
                .collect(),
            caveats: parts
                .caveats
                .iter()
                .map(|caveat| Text(text(caveat)))
                .collect(),
            observed: parts.observed.as_ref().map(|observed| ObservedJson {
                snapshot: Identifier(text(&observed.snapshot)),
                list: Identifier(text(&observed.list)),
                basis: BasisName(observed.basis.as_str()),
                after: observed.basis.after().map(date),
            }),
        };
        match &parts.body {
            EventBody::Designation(d) => EventJson::Designation(Full {
                common,
                body: designation(d),
            }),
            EventBody::Delisting(d) => EventJson::Delisting(Full {
                common,
                body: delisting(d),
            }),
            EventBody::Renewal(r) => EventJson::Renewal(Full {
                common,
                body: renewal(r),
            }),
            EventBody::Amendment(a) => EventJson::Amendment(Full {
                common,
                body: amendment(a),
            }),
            EventBody::Retaliation(r) => EventJson::Retaliation(Full {
                common,
                body: retaliation(r),
            }),
            EventBody::Statement(s) => EventJson::Statement(Full {
                common,
                body: statement(s),
            }),
            EventBody::Correction(c) => EventJson::Correction(Full {
                common,
                body: CorrectionJson {
                    corrects: Identifier(text(&c.corrects)),
                    reason: Text(text(&c.reason)),
                    replacement: c.replacement.as_deref().map(replacement),
                },
            }),
            EventBody::Snapshot(snapshot) => EventJson::Snapshot(Full {
                common,
                body: SnapshotJson {
                    list: Identifier(text(&snapshot.list)),
                    authority: Identifier(text(&snapshot.authority)),
                    publisher: Name(text(&snapshot.publisher)),
                    format: Identifier(text(&snapshot.format)),
                    entries: snapshot.entries,
                    file_bytes: snapshot.file_bytes,
                    blake3: HashHex(snapshot.blake3.to_hex()),
                    sha256: Sha256(snapshot.sha256.to_hex()),
                    implied_events: snapshot.implied_events,
                    skipped: snapshot
                        .skipped
                        .iter()
                        .map(|skipped| SkippedEntryJson {
                            place: Name(text(&skipped.place)),
                            reason: Text(text(&skipped.reason)),
                        })
                        .collect(),
                    skipped_count: snapshot.skipped_count,
                    late: snapshot.late,
                },
            }),
            EventBody::Observation(observation) => EventJson::Observation(Full {
                common,
                body: ObservationJson {
                    entries: observation
                        .entries
                        .iter()
                        .map(|entry| ObservedEntryJson {
                            subject: Identifier(text(&entry.subject)),
                            identifier: SubjectIdentifierJson {
                                scheme: Name(text(&entry.identifier.scheme)),
                                value: Name(text(&entry.identifier.value)),
                            },
                        })
                        .collect(),
                },
            }),
        }
    }
}
