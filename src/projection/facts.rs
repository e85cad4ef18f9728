//! Facts: what each event says about listings, programmes and subjects, extracted once at
//! append and stored beside the log, so that queries never decode or replay the log.
//!
//! Pure: from a recorded event (and, for a correction, the event it corrects) to facts. A fact
//! remembers its source event's sequence (its place in the log) and, when it comes from a
//! superseding correction's replacement, the correction's sequence (`via`).

use crate::domain::{
    Basis, CivilDate, Event, EventBody, Identifier, Measure, Observed, Sha256Digest, Subject,
    measures_of,
};
use serde::{Deserialize, Serialize};

/// (authority, programme, subject): the unit a state answer is made of.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct ListingKey {
    /// Who lists.
    pub authority: String,
    /// Under which programme.
    pub programme: String,
    /// Whom.
    pub subject: String,
}

impl std::fmt::Display for ListingKey {
    /// `authority/programme/subject`, as answers and reports name a listing.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}/{}", self.authority, self.programme, self.subject)
    }
}

impl ListingKey {
    /// Stored key: subject, authority, programme, each followed by 0x00 (identifiers hold no
    /// 0x00), so that one subject's listings are one prefix scan.
    pub fn to_key(&self) -> Vec<u8> {
        [
            self.subject.as_bytes(),
            b"\0",
            self.authority.as_bytes(),
            b"\0",
            self.programme.as_bytes(),
        ]
        .concat()
    }

    /// Reads a stored key.
    pub fn from_key(key: &[u8]) -> Option<ListingKey> {
        let text = std::str::from_utf8(key).ok()?;
        let mut parts = text.split('\0');
        let subject = parts.next()?.to_owned();
        let authority = parts.next()?.to_owned();
        let programme = parts.next()?.to_owned();
        parts.next().is_none().then_some(ListingKey {
            authority,
            programme,
            subject,
        })
    }

    /// The programme this listing is under, as a stored key.
    pub fn programme_key(&self) -> Vec<u8> {
        programme_key(&self.authority, &self.programme)
    }
}

/// Stored key of a programme: authority, 0x00, programme.
pub fn programme_key(authority: &str, programme: &str) -> Vec<u8> {
    [authority.as_bytes(), b"\0", programme.as_bytes()].concat()
}

/// What a fact does to a listing.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum FactKind {
    /// Designated or counter-sanctioned, in force from the fact's date (through `until`).
    Open {
        /// Last day in force, if any.
        until: Option<CivilDate>,
        /// The measures.
        measures: Vec<Measure>,
        /// True for a retaliation (counter-sanction).
        retaliation: bool,
    },
    /// Delisted: not in force from the fact's date on.
    Close,
    /// Renewed: in force through `until`.
    Renew {
        /// The new last day in force.
        until: CivilDate,
    },
    /// The listing's measures change from the fact's date on.
    Amend {
        /// The new measures.
        measures: Vec<Measure>,
    },
}

/// That a list snapshot implied a fact, and how its date is known.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FactObserved {
    /// The snapshot event's id.
    pub snapshot: String,
    /// The snapshot's list.
    pub list: String,
    /// How the date is known.
    pub basis: Basis,
}

impl From<&Observed> for FactObserved {
    fn from(observed: &Observed) -> FactObserved {
        FactObserved {
            snapshot: observed.snapshot.to_string(),
            list: observed.list.to_string(),
            basis: observed.basis,
        }
    }
}

/// One fact about a listing (or, for a renewal of every listing, about a programme).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListingFact {
    /// The sequence of the event it comes from (its place in the log).
    pub source: u64,
    /// For a replacement: the sequence of the superseding correction that put it there.
    pub via: Option<u64>,
    /// Its effective date.
    pub effective_on: CivilDate,
    /// What it does.
    pub kind: FactKind,
    /// The list snapshot that implied it, if one did.
    pub observed: Option<FactObserved>,
}

/// A list snapshot, as the coverage of answers needs it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SnapshotFact {
    /// The snapshot event's sequence.
    pub source: u64,
    /// Its id.
    pub id: String,
    /// The list.
    pub list: String,
    /// The authority its listings are recorded under.
    pub authority: String,
    /// Its publication date (the event's effective date).
    pub published_on: CivilDate,
    /// Entries it holds.
    pub entries: u64,
    /// Events it implies.
    pub implied_events: u64,
    /// Recorded late (after a newer snapshot of the list).
    pub late: bool,
    /// The format it was read as.
    pub format: String,
    /// The file's BLAKE3 (its name under `sources/`).
    pub blake3: Sha256Digest,
    /// The file's SHA-256.
    pub sha256: Sha256Digest,
    /// The file's length.
    pub file_bytes: u64,
}

/// That a list observed a subject: an event a snapshot implied names it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubjectListFact {
    /// The event's sequence.
    pub source: u64,
    /// The event's kind ("designation", "observation", "delisting", "amendment").
    pub kind: String,
    /// Its effective date.
    pub effective_on: CivilDate,
    /// The snapshot and how the date is known.
    pub observed: FactObserved,
}

/// A subject's details as an event gives them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubjectFact {
    /// The sequence of the event it comes from.
    pub source: u64,
    /// For a replacement: the correction that put it there.
    pub via: Option<u64>,
    /// From when the details hold.
    pub effective_on: CivilDate,
    /// The details.
    pub subject: Subject,
}

/// Everything one event (or one replacement) says, ready to store.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EventFacts {
    /// Facts about named listings.
    pub listings: Vec<(ListingKey, ListingFact)>,
    /// Renewals of every listing under a programme: (authority, programme) and the fact.
    pub programmes: Vec<((String, String), ListingFact)>,
    /// Subjects' details.
    pub subjects: Vec<SubjectFact>,
    /// Subjects a statement is about.
    pub statement_subjects: Vec<String>,
    /// The list identifiers the event gives subjects: (scheme, value, subject id).
    pub identifiers: Vec<(String, String, String)>,
    /// The snapshot, for a snapshot event.
    pub snapshot: Option<SnapshotFact>,
    /// The snapshot that implied the event, if one did.
    pub observed_in: Option<String>,
    /// Subjects the event names as a list observed them: (subject id, fact).
    pub subject_lists: Vec<(String, SubjectListFact)>,
}

fn key(authority: &Identifier, programme: &Identifier, subject: &Identifier) -> ListingKey {
    ListingKey {
        authority: authority.to_string(),
        programme: programme.to_string(),
        subject: subject.to_string(),
    }
}

/// The facts of an event body, dated `effective_on`, from source `source` (via `via`), which
/// the snapshot `observed` implied, if one did.
pub fn facts_of_body(
    body: &EventBody,
    effective_on: CivilDate,
    source: u64,
    via: Option<u64>,
    observed: Option<&Observed>,
) -> EventFacts {
    let fact_observed = observed.map(FactObserved::from);
    let fact = |kind: FactKind| ListingFact {
        source,
        via,
        effective_on,
        kind,
        observed: fact_observed.clone(),
    };
    let subject_fact = |subject: &Subject| SubjectFact {
        source,
        via,
        effective_on,
        subject: subject.clone(),
    };
    let mut facts = EventFacts::default();
    match body {
        EventBody::Designation(d) => {
            for subject in &d.subjects {
                let kind = FactKind::Open {
                    until: d.until,
                    measures: measures_of(&d.measures, &d.measures_by_subject, &subject.id)
                        .to_vec(),
                    retaliation: false,
                };
                facts
                    .listings
                    .push((key(&d.authority, &d.programme, &subject.id), fact(kind)));
                facts.subjects.push(subject_fact(subject));
            }
        }
        EventBody::Retaliation(r) => {
            for subject in &r.subjects {
                let kind = FactKind::Open {
                    until: r.until,
                    measures: measures_of(&r.measures, &r.measures_by_subject, &subject.id)
                        .to_vec(),
                    retaliation: true,
                };
                facts
                    .listings
                    .push((key(&r.authority, &r.programme, &subject.id), fact(kind)));
                facts.subjects.push(subject_fact(subject));
            }
        }
        EventBody::Delisting(d) => {
            for subject in &d.subject_ids {
                facts.listings.push((
                    key(&d.authority, &d.programme, subject),
                    fact(FactKind::Close),
                ));
            }
        }
        EventBody::Renewal(r) => {
            if r.subject_ids.is_empty() {
                let programme = (r.authority.to_string(), r.programme.to_string());
                facts
                    .programmes
                    .push((programme, fact(FactKind::Renew { until: r.until })));
            }
            for subject in &r.subject_ids {
                facts.listings.push((
                    key(&r.authority, &r.programme, subject),
                    fact(FactKind::Renew { until: r.until }),
                ));
            }
        }
        EventBody::Amendment(a) => {
            facts.subjects.push(subject_fact(&a.subject));
            if let (Some(authority), Some(programme)) = (&a.authority, &a.programme)
                && !a.measures.is_empty()
            {
                let kind = FactKind::Amend {
                    measures: a.measures.clone(),
                };
                facts
                    .listings
                    .push((key(authority, programme, &a.subject.id), fact(kind)));
            }
        }
        EventBody::Statement(s) => {
            facts.statement_subjects = s.about_subjects.iter().map(ToString::to_string).collect();
        }
        EventBody::Correction(_) => {}
        EventBody::Snapshot(snapshot) => {
            facts.snapshot = Some(SnapshotFact {
                source,
                id: String::new(),
                list: snapshot.list.to_string(),
                authority: snapshot.authority.to_string(),
                published_on: effective_on,
                entries: snapshot.entries,
                implied_events: snapshot.implied_events,
                late: snapshot.late,
                format: snapshot.format.to_string(),
                blake3: snapshot.blake3,
                sha256: snapshot.sha256,
                file_bytes: snapshot.file_bytes,
            });
        }
        EventBody::Observation(observation) => {
            for entry in &observation.entries {
                facts.identifiers.push((
                    entry.identifier.scheme.to_string(),
                    entry.identifier.value.to_string(),
                    entry.subject.to_string(),
                ));
            }
        }
    }
    for subject in &facts.subjects {
        for identifier in &subject.subject.identifiers {
            if !crate::domain::LIST_ID_SCHEMES.contains(&identifier.scheme.as_str()) {
                continue;
            }
            facts.identifiers.push((
                identifier.scheme.to_string(),
                identifier.value.to_string(),
                subject.subject.id.to_string(),
            ));
        }
    }
    if let Some(observed) = &fact_observed {
        facts.observed_in = Some(observed.snapshot.clone());
        let named: Vec<&Identifier> = match body {
            EventBody::Designation(d) => d.subjects.iter().map(|s| &s.id).collect(),
            EventBody::Delisting(d) => d.subject_ids.iter().collect(),
            EventBody::Amendment(a) => vec![&a.subject.id],
            EventBody::Observation(o) => o.entries.iter().map(|e| &e.subject).collect(),
            _ => Vec::new(),
        };
        for subject in named {
            facts.subject_lists.push((
                subject.to_string(),
                SubjectListFact {
                    source,
                    kind: body.kind().to_owned(),
                    effective_on,
                    observed: observed.clone(),
                },
            ));
        }
    }
    facts
}

/// The facts of a recorded event at `sequence` (none for a correction: its effect is applied
/// through the correction table and its replacement's facts, see `replacement_facts`).
pub fn facts_of(event: &Event, sequence: u64) -> EventFacts {
    let mut facts = facts_of_body(
        event.body(),
        event.effective_on(),
        sequence,
        None,
        event.observed(),
    );
    if let Some(snapshot) = facts.snapshot.as_mut() {
        snapshot.id = event.id().to_string();
    }
    facts
}

/// The facts a superseding correction at `correction` puts in place of event `target`.
pub fn replacement_facts(event: &Event, correction: u64, target: u64) -> EventFacts {
    match event.body() {
        EventBody::Correction(c) => match &c.replacement {
            Some(replacement) => {
                let body = EventBody::from(replacement.body.clone());
                facts_of_body(
                    &body,
                    replacement.effective_on,
                    target,
                    Some(correction),
                    None,
                )
            }
            None => EventFacts::default(),
        },
        _ => EventFacts::default(),
    }
}
