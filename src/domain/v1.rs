//! Event schema versions 1 and 2, as records written before version 3 hold them: read and
//! upcast, never written.
//!
//! Version 3 appended `observed` to an event's parts and appended variants (kinds snapshot and
//! observation, the measure `unspecified`); a version-2 event decodes through `EventPartsV2`.
//!
//! Version 2 made a source's title optional and appended fields to designations
//! (`measures_by_subject`) and counter-sanctions (`measures_by_subject`, `maintains`). bincode writes no field names, so a version-1 event
//! decodes only through types of its own layout; these mirror version 1 field for field, and
//! `From` upcasts them (the new fields empty). Must not: be used to write anything.

use super::date::CivilDate;
use super::event::{
    Amendment, Correction, Delisting, Designation, EventBody, EventParts, Measure, Renewal,
    Replacement, ReplacementBody, Retaliation, Source, Statement, Subject,
};
use super::text::{Identifier, Name, Sha256Digest, Text, Url};
use serde::{Deserialize, Serialize};

/// A version-1 source (its title required).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceV1 {
    publisher: Name,
    title: Name,
    url: Url,
    published_on: Option<CivilDate>,
    sha256: Option<Sha256Digest>,
    as_reported_by: Option<Name>,
}

impl From<SourceV1> for Source {
    fn from(v1: SourceV1) -> Source {
        Source {
            publisher: v1.publisher,
            title: Some(v1.title),
            url: v1.url,
            published_on: v1.published_on,
            sha256: v1.sha256,
            as_reported_by: v1.as_reported_by,
        }
    }
}

/// A version-1 designation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DesignationV1 {
    authority: Identifier,
    programme: Identifier,
    legal_basis: Vec<Name>,
    subjects: Vec<Subject>,
    measures: Vec<Measure>,
    until: Option<CivilDate>,
    reason: Option<Text>,
}

/// A version-1 counter-sanction.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RetaliationV1 {
    authority: Identifier,
    programme: Identifier,
    legal_basis: Vec<Name>,
    subjects: Vec<Subject>,
    measures: Vec<Measure>,
    in_response_to: Vec<Identifier>,
    until: Option<CivilDate>,
    reason: Option<Text>,
}

/// A version-1 replacement body (variant order as version 1).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ReplacementBodyV1 {
    /// A designation.
    Designation(DesignationV1),
    /// A delisting (unchanged).
    Delisting(Delisting),
    /// A renewal (unchanged).
    Renewal(Renewal),
    /// An amendment (unchanged).
    Amendment(Amendment),
    /// A counter-sanction.
    Retaliation(RetaliationV1),
    /// A statement (unchanged).
    Statement(Statement),
}

/// A version-1 replacement.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReplacementV1 {
    effective_on: CivilDate,
    body: ReplacementBodyV1,
}

/// A version-1 correction.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CorrectionV1 {
    corrects: Identifier,
    reason: Text,
    replacement: Option<Box<ReplacementV1>>,
}

/// A version-1 event body (variant order as version 1).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum EventBodyV1 {
    /// A designation.
    Designation(DesignationV1),
    /// A delisting (unchanged).
    Delisting(Delisting),
    /// A renewal (unchanged).
    Renewal(Renewal),
    /// An amendment (unchanged).
    Amendment(Amendment),
    /// A counter-sanction.
    Retaliation(RetaliationV1),
    /// A statement (unchanged).
    Statement(Statement),
    /// A correction.
    Correction(CorrectionV1),
}

/// A version-1 event's parts.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventPartsV1 {
    id: Identifier,
    effective_on: CivilDate,
    sources: Vec<SourceV1>,
    caveats: Vec<Text>,
    body: EventBodyV1,
}

impl From<DesignationV1> for Designation {
    fn from(v1: DesignationV1) -> Designation {
        Designation {
            authority: v1.authority,
            programme: v1.programme,
            legal_basis: v1.legal_basis,
            subjects: v1.subjects,
            measures: v1.measures,
            until: v1.until,
            reason: v1.reason,
            measures_by_subject: Vec::new(),
        }
    }
}

impl From<RetaliationV1> for Retaliation {
    fn from(v1: RetaliationV1) -> Retaliation {
        Retaliation {
            authority: v1.authority,
            programme: v1.programme,
            legal_basis: v1.legal_basis,
            subjects: v1.subjects,
            measures: v1.measures,
            in_response_to: v1.in_response_to,
            until: v1.until,
            reason: v1.reason,
            measures_by_subject: Vec::new(),
            maintains: Vec::new(),
        }
    }
}

impl From<ReplacementBodyV1> for ReplacementBody {
    fn from(v1: ReplacementBodyV1) -> ReplacementBody {
        match v1 {
            ReplacementBodyV1::Designation(inner) => ReplacementBody::Designation(inner.into()),
            ReplacementBodyV1::Delisting(inner) => ReplacementBody::Delisting(inner),
            ReplacementBodyV1::Renewal(inner) => ReplacementBody::Renewal(inner),
            ReplacementBodyV1::Amendment(inner) => ReplacementBody::Amendment(inner),
            ReplacementBodyV1::Retaliation(inner) => ReplacementBody::Retaliation(inner.into()),
            ReplacementBodyV1::Statement(inner) => ReplacementBody::Statement(inner),
        }
    }
}

impl From<EventBodyV1> for EventBody {
    fn from(v1: EventBodyV1) -> EventBody {
        match v1 {
            EventBodyV1::Designation(inner) => EventBody::Designation(inner.into()),
            EventBodyV1::Delisting(inner) => EventBody::Delisting(inner),
            EventBodyV1::Renewal(inner) => EventBody::Renewal(inner),
            EventBodyV1::Amendment(inner) => EventBody::Amendment(inner),
            EventBodyV1::Retaliation(inner) => EventBody::Retaliation(inner.into()),
            EventBodyV1::Statement(inner) => EventBody::Statement(inner),
            EventBodyV1::Correction(inner) => EventBody::Correction(Correction {
                corrects: inner.corrects,
                reason: inner.reason,
                replacement: inner.replacement.map(|replacement| {
                    Box::new(Replacement {
                        effective_on: replacement.effective_on,
                        body: replacement.body.into(),
                    })
                }),
            }),
        }
    }
}

impl From<EventPartsV1> for EventParts {
    fn from(v1: EventPartsV1) -> EventParts {
        EventParts {
            id: v1.id,
            effective_on: v1.effective_on,
            sources: v1.sources.into_iter().map(Source::from).collect(),
            caveats: v1.caveats,
            body: v1.body.into(),
            observed: None,
        }
    }
}

/// A version-2 event's parts. Version 3 appended `observed` to the parts, and appended
/// variants (snapshot, observation; the measure `unspecified`) that version-2 bytes never
/// hold, so a version-2 body decodes as it stands.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventPartsV2 {
    id: Identifier,
    effective_on: CivilDate,
    sources: Vec<Source>,
    caveats: Vec<Text>,
    body: EventBody,
}

impl From<EventPartsV2> for EventParts {
    fn from(v2: EventPartsV2) -> EventParts {
        EventParts {
            id: v2.id,
            effective_on: v2.effective_on,
            sources: v2.sources,
            caveats: v2.caveats,
            body: v2.body,
            observed: None,
        }
    }
}
