//! Drafts: untrusted JSON events into domain events, reporting every problem at once.
//!
//! Owns the published JSON shape of events (mirrored by schemas/): a flat object with `kind`,
//! the common fields (`id`, `effective_on`, `sources`, `caveats`) and the kind's own fields.
//! `event_from_json` walks the whole value, records each problem with its JSON pointer and what
//! would be valid, then hands the parts to `Event::new` for the cross-field rules.
//! `event_to_json` is its inverse: `event_from_json(event_to_json(e)) == e`.

use crate::domain::{
    Amendment, Basis, CivilDate, Correction, Delisting, Designation, Event, EventBody, EventParts,
    Identifier, Measure, Name, Observation, Observed, ObservedEntry, Problem, Renewal, Replacement,
    ReplacementBody, Retaliation, Sha256Digest, SkippedEntry, Snapshot, Source, Statement, Subject,
    SubjectIdentifier, SubjectKind, SubjectMeasures, Text, TextError, Url,
};
use crate::limits;
use serde_json::{Map, Value};

/// The event kinds, as published.
pub const KINDS: [&str; 9] = [
    "designation",
    "delisting",
    "renewal",
    "amendment",
    "retaliation",
    "statement",
    "correction",
    "snapshot",
    "observation",
];

fn describe(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Escapes a key for use in a JSON pointer (RFC 6901).
pub fn escape_pointer(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

struct Walk {
    problems: Vec<Problem>,
}

impl Walk {
    fn fail(&mut self, pointer: &str, reason: impl Into<String>) {
        if self.problems.len() < limits::PROBLEMS_PER_EVENT_MAX {
            self.problems.push(Problem {
                pointer: pointer.to_owned(),
                reason: reason.into(),
            });
        }
    }

    fn string<'v>(&mut self, value: &'v Value, pointer: &str) -> Option<&'v str> {
        match value {
            Value::String(text) => Some(text),
            other => {
                self.fail(
                    pointer,
                    format!("expected a string, found {}", describe(other)),
                );
                None
            }
        }
    }

    fn checked<T>(
        &mut self,
        value: &Value,
        pointer: &str,
        what: &str,
        make: impl FnOnce(&str) -> Result<T, TextError>,
    ) -> Option<T> {
        let text = self.string(value, pointer)?;
        match make(text) {
            Ok(checked) => Some(checked),
            Err(error) => {
                self.fail(pointer, format!("{what} {error}"));
                None
            }
        }
    }

    fn name(&mut self, value: &Value, pointer: &str) -> Option<Name> {
        self.checked(value, pointer, "a single-line text that", Name::new)
    }
    fn text(&mut self, value: &Value, pointer: &str) -> Option<Text> {
        self.checked(value, pointer, "a text that", Text::new)
    }
    fn identifier(&mut self, value: &Value, pointer: &str) -> Option<Identifier> {
        self.checked(value, pointer, "an identifier that", Identifier::new)
    }
    fn url(&mut self, value: &Value, pointer: &str) -> Option<Url> {
        self.checked(value, pointer, "a URL that", Url::new)
    }
    fn digest(&mut self, value: &Value, pointer: &str) -> Option<Sha256Digest> {
        self.checked(
            value,
            pointer,
            "a SHA-256 digest that",
            Sha256Digest::parse_hex,
        )
    }
    fn hash(&mut self, value: &Value, pointer: &str) -> Option<Sha256Digest> {
        self.checked(
            value,
            pointer,
            "a BLAKE3 hash that",
            Sha256Digest::parse_hex,
        )
    }

    fn count(&mut self, value: &Value, pointer: &str) -> Option<u64> {
        match value.as_u64() {
            Some(count) => Some(count),
            None => {
                self.fail(
                    pointer,
                    format!(
                        "expected a whole number from 0 to {}, found {}",
                        u64::MAX,
                        describe(value)
                    ),
                );
                None
            }
        }
    }

    fn boolean(&mut self, value: &Value, pointer: &str) -> Option<bool> {
        match value {
            Value::Bool(flag) => Some(*flag),
            other => {
                self.fail(
                    pointer,
                    format!("expected true or false, found {}", describe(other)),
                );
                None
            }
        }
    }

    fn subject_identifier(&mut self, value: &Value, pointer: &str) -> Option<SubjectIdentifier> {
        let mut fields = self.object(value, pointer)?;
        let scheme = fields.required(self, "scheme", Walk::name);
        let value = fields.required(self, "value", Walk::name);
        fields.finish(self);
        Some(SubjectIdentifier {
            scheme: scheme?,
            value: value?,
        })
    }

    fn observed(&mut self, value: &Value, pointer: &str) -> Option<Observed> {
        let mut fields = self.object(value, pointer)?;
        let snapshot = fields.required(self, "snapshot", Walk::identifier);
        let list = fields.required(self, "list", Walk::identifier);
        let basis = fields.required(self, "basis", |walk, value, pointer| {
            walk.choice(value, pointer, "basis", &super::shape::BASES, |name| name)
        });
        let after = fields.optional(self, "after", Walk::date);
        fields.finish(self);
        let (basis, after) = (basis?, after?);
        let basis = match (basis, after) {
            ("listed_on", None) => Basis::ListedOn,
            ("first_observed", after) => Basis::FirstObserved { after },
            ("absent", Some(after)) => Basis::Absent { after },
            ("changed", Some(after)) => Basis::Changed { after },
            ("listed_on", Some(_)) => {
                self.fail(
                    &format!("{pointer}/after"),
                    "a listed_on basis has no previous snapshot date; leave \"after\" out",
                );
                return None;
            }
            (other, _) => {
                self.fail(
                    &format!("{pointer}/after"),
                    format!("missing; a {other} basis needs the previous snapshot's date"),
                );
                return None;
            }
        };
        Some(Observed {
            snapshot: snapshot?,
            list: list?,
            basis,
        })
    }

    fn date(&mut self, value: &Value, pointer: &str) -> Option<CivilDate> {
        let text = self.string(value, pointer)?;
        match CivilDate::parse(text) {
            Ok(date) => Some(date),
            Err(error) => {
                self.fail(
                    pointer,
                    format!("\"{text}\" is not a real date: {error}; expected YYYY-MM-DD"),
                );
                None
            }
        }
    }

    fn choice<T: Copy>(
        &mut self,
        value: &Value,
        pointer: &str,
        what: &str,
        options: &[T],
        name: impl Fn(T) -> &'static str,
    ) -> Option<T> {
        let text = self.string(value, pointer)?;
        let found = options.iter().copied().find(|option| name(*option) == text);
        if found.is_none() {
            let valid: Vec<&str> = options.iter().map(|option| name(*option)).collect();
            self.fail(
                pointer,
                format!(
                    "unknown {what} \"{text}\"; expected one of {}",
                    valid.join(", ")
                ),
            );
        }
        found
    }

    fn measure(&mut self, value: &Value, pointer: &str) -> Option<Measure> {
        self.choice(value, pointer, "measure", &Measure::ALL, Measure::as_str)
    }

    fn array<T>(
        &mut self,
        value: &Value,
        pointer: &str,
        max: usize,
        mut item: impl FnMut(&mut Walk, &Value, &str) -> Option<T>,
    ) -> Option<Vec<T>> {
        let Value::Array(items) = value else {
            self.fail(
                pointer,
                format!("expected an array, found {}", describe(value)),
            );
            return None;
        };
        if items.len() > max {
            self.fail(
                pointer,
                format!("has {} items; at most {max} are allowed", items.len()),
            );
            return None;
        }
        let mut out = Vec::with_capacity(items.len());
        let mut complete = true;
        for (index, value) in items.iter().enumerate() {
            match item(self, value, &format!("{pointer}/{index}")) {
                Some(checked) => out.push(checked),
                None => complete = false,
            }
        }
        complete.then_some(out)
    }

    fn object<'v>(&mut self, value: &'v Value, pointer: &str) -> Option<Fields<'v>> {
        match value {
            Value::Object(map) => Some(Fields {
                map,
                pointer: pointer.to_owned(),
                used: Vec::new(),
            }),
            other => {
                self.fail(
                    pointer,
                    format!("expected an object, found {}", describe(other)),
                );
                None
            }
        }
    }

    fn subject(&mut self, value: &Value, pointer: &str) -> Option<Subject> {
        let mut fields = self.object(value, pointer)?;
        let id = fields.required(self, "id", Walk::identifier);
        let kind = fields.required(self, "kind", |walk, value, pointer| {
            walk.choice(
                value,
                pointer,
                "subject kind",
                &SubjectKind::ALL,
                SubjectKind::as_str,
            )
        });
        let names = fields.required(self, "names", |walk, value, pointer| {
            walk.array(value, pointer, limits::ITEMS_PER_LIST_MAX, Walk::name)
        });
        let aliases = fields.list(self, "aliases", limits::ITEMS_PER_LIST_MAX, Walk::name);
        let identifiers = fields.list(
            self,
            "identifiers",
            limits::ITEMS_PER_LIST_MAX,
            Walk::subject_identifier,
        );
        fields.finish(self);
        Some(Subject {
            id: id?,
            kind: kind?,
            names: names?,
            aliases: aliases?,
            identifiers: identifiers?,
        })
    }

    fn source(&mut self, value: &Value, pointer: &str) -> Option<Source> {
        let mut fields = self.object(value, pointer)?;
        let publisher = fields.required(self, "publisher", Walk::name);
        let title = fields.optional(self, "title", Walk::name);
        let url = fields.required(self, "url", Walk::url);
        let published_on = fields.optional(self, "published_on", Walk::date);
        let sha256 = fields.optional(self, "sha256", Walk::digest);
        let as_reported_by = fields.optional(self, "as_reported_by", Walk::name);
        fields.finish(self);
        Some(Source {
            publisher: publisher?,
            title: title?,
            url: url?,
            published_on: published_on?,
            sha256: sha256?,
            as_reported_by: as_reported_by?,
        })
    }

    fn subjects(&mut self, fields: &mut Fields<'_>) -> Option<Vec<Subject>> {
        fields.required(self, "subjects", |walk, value, pointer| {
            walk.array(
                value,
                pointer,
                limits::SUBJECTS_PER_EVENT_MAX,
                Walk::subject,
            )
        })
    }

    /// The fields a designation and a retaliation share: who lists whom, how, under what.
    fn listing(&mut self, fields: &mut Fields<'_>) -> Option<Listed> {
        Some(Listed {
            authority: fields.required(self, "authority", Walk::identifier)?,
            programme: fields.required(self, "programme", Walk::identifier)?,
            legal_basis: fields.list(
                self,
                "legal_basis",
                limits::ITEMS_PER_LIST_MAX,
                Walk::name,
            )?,
            subjects: self.subjects(fields)?,
            measures: fields.required(self, "measures", |walk, value, pointer| {
                walk.array(value, pointer, limits::ITEMS_PER_LIST_MAX, Walk::measure)
            })?,
        })
    }

    /// `measures_by_subject`: subjects under other measures than the event's.
    fn measures_by_subject(&mut self, fields: &mut Fields<'_>) -> Option<Vec<SubjectMeasures>> {
        fields.list(
            self,
            "measures_by_subject",
            limits::SUBJECTS_PER_EVENT_MAX,
            |walk, value, pointer| {
                let mut fields = walk.object(value, pointer)?;
                let subject = fields.required(walk, "subject", Walk::identifier);
                let measures = fields.required(walk, "measures", |walk, value, pointer| {
                    walk.array(value, pointer, limits::ITEMS_PER_LIST_MAX, Walk::measure)
                });
                fields.finish(walk);
                Some(SubjectMeasures {
                    subject: subject?,
                    measures: measures?,
                })
            },
        )
    }

    fn ids(
        &mut self,
        fields: &mut Fields<'_>,
        key: &'static str,
        max: usize,
    ) -> Option<Vec<Identifier>> {
        fields.list(self, key, max, Walk::identifier)
    }

    fn body(
        &mut self,
        kind: &str,
        fields: &mut Fields<'_>,
        allow_correction: bool,
    ) -> Option<EventBody> {
        let body = match kind {
            "designation" => {
                let listed = self.listing(fields)?;
                EventBody::Designation(Designation {
                    authority: listed.authority,
                    programme: listed.programme,
                    legal_basis: listed.legal_basis,
                    subjects: listed.subjects,
                    measures: listed.measures,
                    until: fields.optional(self, "until", Walk::date)?,
                    reason: fields.optional(self, "reason", Walk::text)?,
                    measures_by_subject: self.measures_by_subject(fields)?,
                })
            }
            "delisting" => EventBody::Delisting(Delisting {
                authority: fields.required(self, "authority", Walk::identifier)?,
                programme: fields.required(self, "programme", Walk::identifier)?,
                subject_ids: fields.required(self, "subject_ids", |walk, value, pointer| {
                    walk.array(
                        value,
                        pointer,
                        limits::SUBJECTS_PER_EVENT_MAX,
                        Walk::identifier,
                    )
                })?,
                reason: fields.optional(self, "reason", Walk::text)?,
            }),
            "renewal" => EventBody::Renewal(Renewal {
                authority: fields.required(self, "authority", Walk::identifier)?,
                programme: fields.required(self, "programme", Walk::identifier)?,
                until: fields.required(self, "until", Walk::date)?,
                subject_ids: self.ids(fields, "subject_ids", limits::SUBJECTS_PER_EVENT_MAX)?,
                legal_basis: fields.list(
                    self,
                    "legal_basis",
                    limits::ITEMS_PER_LIST_MAX,
                    Walk::name,
                )?,
            }),
            "amendment" => EventBody::Amendment(Amendment {
                subject: fields.required(self, "subject", Walk::subject)?,
                authority: fields.optional(self, "authority", Walk::identifier)?,
                programme: fields.optional(self, "programme", Walk::identifier)?,
                measures: fields.list(
                    self,
                    "measures",
                    limits::ITEMS_PER_LIST_MAX,
                    Walk::measure,
                )?,
                reason: fields.optional(self, "reason", Walk::text)?,
            }),
            "retaliation" => {
                let listed = self.listing(fields)?;
                EventBody::Retaliation(Retaliation {
                    authority: listed.authority,
                    programme: listed.programme,
                    legal_basis: listed.legal_basis,
                    subjects: listed.subjects,
                    measures: listed.measures,
                    in_response_to: fields.required(
                        self,
                        "in_response_to",
                        |walk, value, pointer| {
                            walk.array(
                                value,
                                pointer,
                                limits::LINKS_PER_EVENT_MAX,
                                Walk::identifier,
                            )
                        },
                    )?,
                    until: fields.optional(self, "until", Walk::date)?,
                    reason: fields.optional(self, "reason", Walk::text)?,
                    measures_by_subject: self.measures_by_subject(fields)?,
                    maintains: self.ids(fields, "maintains", limits::LINKS_PER_EVENT_MAX)?,
                })
            }
            "statement" => EventBody::Statement(Statement {
                speaker: fields.required(self, "speaker", Walk::name)?,
                role: fields.optional(self, "role", Walk::name)?,
                organisation: fields.optional(self, "organisation", Walk::name)?,
                text: fields.required(self, "text", Walk::text)?,
                about_events: self.ids(fields, "about_events", limits::LINKS_PER_EVENT_MAX)?,
                about_subjects: self.ids(
                    fields,
                    "about_subjects",
                    limits::SUBJECTS_PER_EVENT_MAX,
                )?,
            }),
            "correction" if allow_correction => EventBody::Correction(Correction {
                corrects: fields.required(self, "corrects", Walk::identifier)?,
                reason: fields.required(self, "reason", Walk::text)?,
                replacement: fields
                    .optional(self, "replacement", |walk, value, pointer| {
                        walk.replacement(value, pointer)
                    })?
                    .map(Box::new),
            }),
            "correction" => {
                self.fail(
                    &format!("{}/kind", fields.pointer),
                    "a replacement cannot itself be a correction; expected another kind",
                );
                return None;
            }
            "snapshot" | "observation" if !allow_correction => {
                self.fail(
                    &format!("{}/kind", fields.pointer),
                    format!("a replacement cannot be a {kind}; expected a designation, delisting, renewal, amendment, retaliation or statement"),
                );
                return None;
            }
            "snapshot" => EventBody::Snapshot(Snapshot {
                list: fields.required(self, "list", Walk::identifier)?,
                authority: fields.required(self, "authority", Walk::identifier)?,
                publisher: fields.required(self, "publisher", Walk::name)?,
                format: fields.required(self, "format", Walk::identifier)?,
                entries: fields.required(self, "entries", Walk::count)?,
                file_bytes: fields.required(self, "file_bytes", Walk::count)?,
                blake3: fields.required(self, "blake3", Walk::hash)?,
                sha256: fields.required(self, "sha256", Walk::digest)?,
                implied_events: fields.required(self, "implied_events", Walk::count)?,
                skipped: fields.list(
                    self,
                    "skipped",
                    limits::SKIPPED_RECORDED_MAX,
                    |walk, value, pointer| {
                        let mut fields = walk.object(value, pointer)?;
                        let place = fields.required(walk, "place", Walk::name);
                        let reason = fields.required(walk, "reason", Walk::text);
                        fields.finish(walk);
                        Some(SkippedEntry {
                            place: place?,
                            reason: reason?,
                        })
                    },
                )?,
                skipped_count: fields
                    .optional(self, "skipped_count", Walk::count)?
                    .unwrap_or(0),
                late: fields
                    .optional(self, "late", Walk::boolean)?
                    .unwrap_or(false),
            }),
            "observation" => EventBody::Observation(Observation {
                entries: fields.required(self, "entries", |walk, value, pointer| {
                    walk.array(
                        value,
                        pointer,
                        limits::SUBJECTS_PER_EVENT_MAX,
                        |walk, value, pointer| {
                            let mut fields = walk.object(value, pointer)?;
                            let subject = fields.required(walk, "subject", Walk::identifier);
                            let identifier =
                                fields.required(walk, "identifier", Walk::subject_identifier);
                            fields.finish(walk);
                            Some(ObservedEntry {
                                subject: subject?,
                                identifier: identifier?,
                            })
                        },
                    )
                })?,
            }),
            _ => return None,
        };
        Some(body)
    }

    /// Parses every field the kind has, collecting problems, even after one fails.
    fn body_collecting(
        &mut self,
        kind: &str,
        fields: &mut Fields<'_>,
        allow_correction: bool,
    ) -> Option<EventBody> {
        // `body` stops at the first missing field of a kind (the `?`s); to report every
        // problem, parse each field once more where the first pass stopped early.
        let before = self.problems.len();
        let body = self.body(kind, fields, allow_correction);
        if body.is_none() && self.problems.len() > before {
            for key in fields_of(kind) {
                if !fields.used.contains(key) {
                    fields.used.push(key);
                    if let Some(value) = fields.map.get(*key) {
                        let pointer = format!("{}/{key}", fields.pointer);
                        self.any_field(key, value, &pointer);
                    } else if required_fields_of(kind).contains(key) {
                        self.fail(
                            &format!("{}/{}", fields.pointer, key),
                            format!("missing; a {kind} needs \"{key}\""),
                        );
                    }
                }
            }
        }
        body
    }

    fn any_field(&mut self, key: &str, value: &Value, pointer: &str) {
        let list_max = limits::ITEMS_PER_LIST_MAX;
        match key {
            "authority" | "programme" | "corrects" => drop(self.identifier(value, pointer)),
            "legal_basis" => drop(self.array(value, pointer, list_max, Walk::name)),
            "subjects" => drop(self.array(
                value,
                pointer,
                limits::SUBJECTS_PER_EVENT_MAX,
                Walk::subject,
            )),
            "subject" => drop(self.subject(value, pointer)),
            "measures" => drop(self.array(value, pointer, list_max, Walk::measure)),
            "until" => drop(self.date(value, pointer)),
            "reason" | "text" => drop(self.text(value, pointer)),
            "speaker" | "role" | "organisation" => drop(self.name(value, pointer)),
            "subject_ids" | "about_subjects" => drop(self.array(
                value,
                pointer,
                limits::SUBJECTS_PER_EVENT_MAX,
                Walk::identifier,
            )),
            "in_response_to" | "about_events" => drop(self.array(
                value,
                pointer,
                limits::LINKS_PER_EVENT_MAX,
                Walk::identifier,
            )),
            "replacement" => drop(self.replacement(value, pointer)),
            _ => {}
        }
    }

    fn replacement(&mut self, value: &Value, pointer: &str) -> Option<Replacement> {
        let mut fields = self.object(value, pointer)?;
        let kind = fields.required(self, "kind", |walk, value, pointer| {
            walk.kind(value, pointer)
        });
        let effective_on = fields.required(self, "effective_on", Walk::date);
        let body = match kind {
            Some(kind) => self.body_collecting(kind, &mut fields, false),
            None => None,
        };
        fields.finish(self);
        let body = ReplacementBody::try_from(body?).ok()?;
        Some(Replacement {
            effective_on: effective_on?,
            body,
        })
    }

    fn kind(&mut self, value: &Value, pointer: &str) -> Option<&'static str> {
        let text = self.string(value, pointer)?;
        if let Some(kind) = KINDS.iter().find(|kind| **kind == text) {
            Some(kind)
        } else {
            self.fail(
                pointer,
                format!(
                    "unknown event kind \"{text}\"; expected one of {}",
                    KINDS.join(", ")
                ),
            );
            None
        }
    }
}

fn required_fields_of(kind: &str) -> &'static [&'static str] {
    match kind {
        "designation" => &["authority", "programme", "subjects", "measures"],
        "delisting" => &["authority", "programme", "subject_ids"],
        "renewal" => &["authority", "programme", "until"],
        "amendment" => &["subject"],
        "retaliation" => &[
            "authority",
            "programme",
            "subjects",
            "measures",
            "in_response_to",
        ],
        "statement" => &["speaker", "text"],
        "correction" => &["corrects", "reason"],
        "snapshot" => &[
            "list",
            "authority",
            "publisher",
            "format",
            "entries",
            "file_bytes",
            "blake3",
            "sha256",
            "implied_events",
        ],
        "observation" => &["entries"],
        _ => &[],
    }
}

fn fields_of(kind: &str) -> &'static [&'static str] {
    match kind {
        "designation" => &[
            "authority",
            "programme",
            "legal_basis",
            "subjects",
            "measures",
            "until",
            "reason",
            "measures_by_subject",
        ],
        "delisting" => &["authority", "programme", "subject_ids", "reason"],
        "renewal" => &[
            "authority",
            "programme",
            "until",
            "subject_ids",
            "legal_basis",
        ],
        "amendment" => &["subject", "authority", "programme", "measures", "reason"],
        "retaliation" => &[
            "authority",
            "programme",
            "legal_basis",
            "subjects",
            "measures",
            "in_response_to",
            "until",
            "reason",
            "measures_by_subject",
            "maintains",
        ],
        "statement" => &[
            "speaker",
            "role",
            "organisation",
            "text",
            "about_events",
            "about_subjects",
        ],
        "correction" => &["corrects", "reason", "replacement"],
        "snapshot" => &[
            "list",
            "authority",
            "publisher",
            "format",
            "entries",
            "file_bytes",
            "blake3",
            "sha256",
            "implied_events",
            "skipped",
            "skipped_count",
            "late",
        ],
        "observation" => &["entries"],
        _ => &[],
    }
}

/// The fields a designation and a retaliation share.
struct Listed {
    authority: Identifier,
    programme: Identifier,
    legal_basis: Vec<Name>,
    subjects: Vec<Subject>,
    measures: Vec<Measure>,
}

struct Fields<'v> {
    map: &'v Map<String, Value>,
    pointer: String,
    used: Vec<&'static str>,
}

impl Fields<'_> {
    fn required<T>(
        &mut self,
        walk: &mut Walk,
        key: &'static str,
        parse: impl FnOnce(&mut Walk, &Value, &str) -> Option<T>,
    ) -> Option<T> {
        if self.used.contains(&key) {
            return None;
        }
        self.used.push(key);
        let pointer = format!("{}/{key}", self.pointer);
        match self.map.get(key) {
            Some(value) => parse(walk, value, &pointer),
            None => {
                walk.fail(
                    &pointer,
                    format!("missing; the field \"{key}\" is required here"),
                );
                None
            }
        }
    }

    /// `Some(None)` when absent or null; `None` when present but invalid.
    fn optional<T>(
        &mut self,
        walk: &mut Walk,
        key: &'static str,
        parse: impl FnOnce(&mut Walk, &Value, &str) -> Option<T>,
    ) -> Option<Option<T>> {
        self.used.push(key);
        match self.map.get(key) {
            None | Some(Value::Null) => Some(None),
            Some(value) => parse(walk, value, &format!("{}/{key}", self.pointer)).map(Some),
        }
    }

    /// An optional list: absent means empty.
    fn list<T>(
        &mut self,
        walk: &mut Walk,
        key: &'static str,
        max: usize,
        item: impl FnMut(&mut Walk, &Value, &str) -> Option<T>,
    ) -> Option<Vec<T>> {
        self.optional(walk, key, |walk, value, pointer| {
            walk.array(value, pointer, max, item)
        })
        .map(Option::unwrap_or_default)
    }

    fn finish(self, walk: &mut Walk) {
        for key in self.map.keys() {
            if !self.used.iter().any(|used| used == key) {
                let mut valid: Vec<&str> = self.used.clone();
                valid.sort_unstable();
                walk.fail(
                    &format!("{}/{}", self.pointer, escape_pointer(key)),
                    format!(
                        "unknown field \"{key}\"; the fields allowed here are {}",
                        valid.join(", ")
                    ),
                );
            }
        }
    }
}

/// Turns one JSON event into a checked event, or reports every problem with its pointer.
pub fn event_from_json(value: &Value) -> Result<Event, Vec<Problem>> {
    let mut walk = Walk {
        problems: Vec::new(),
    };
    let parts = parts_from_json(&mut walk, value);
    match parts {
        Some(parts) if walk.problems.is_empty() => Event::new(parts),
        _ => Err(walk.problems),
    }
}

fn parts_from_json(walk: &mut Walk, value: &Value) -> Option<EventParts> {
    let mut fields = walk.object(value, "")?;
    let kind = fields.required(walk, "kind", |walk, value, pointer| {
        walk.kind(value, pointer)
    });
    let id = fields.required(walk, "id", Walk::identifier);
    let effective_on = fields.required(walk, "effective_on", Walk::date);
    let sources = fields.required(walk, "sources", |walk, value, pointer| {
        walk.array(value, pointer, limits::SOURCES_PER_EVENT_MAX, Walk::source)
    });
    let caveats = fields.list(walk, "caveats", limits::ITEMS_PER_LIST_MAX, Walk::text);
    let observed = fields.optional(walk, "observed", Walk::observed);
    let body = match kind {
        Some(kind) => walk.body_collecting(kind, &mut fields, true),
        None => None,
    };
    if kind.is_some() {
        fields.finish(walk);
    }
    Some(EventParts {
        id: id?,
        effective_on: effective_on?,
        sources: sources?,
        caveats: caveats?,
        body: body?,
        observed: observed?,
    })
}

/// The event in its published JSON shape (schemas/event.schema.json).
pub fn event_to_json(event: &Event) -> Value {
    serde_json::to_value(super::shape::EventJson::from(event)).unwrap_or(Value::Null)
}
