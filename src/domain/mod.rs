//! The domain: sanctions events and their parts, valid by construction.
//!
//! Pure: no I/O, no clock, no encoding, nothing else of ours. Every other layer builds on these
//! types; untrusted input becomes an [`Event`] only through [`Event::new`].

mod date;
mod event;
mod text;
pub mod v1;

pub use date::{CivilDate, DateError, Timestamp};
pub use event::{
    Amendment, Basis, Correction, Delisting, Designation, EVENT_SCHEMA_VERSION, Event, EventBody,
    EventParts, Measure, Observation, Observed, ObservedEntry, Problem, Renewal, Replacement,
    ReplacementBody, Retaliation, SkippedEntry, Snapshot, Source, Statement, Subject,
    SubjectIdentifier, SubjectKind, SubjectMeasures, UnresolvedReference, measures_of,
    unresolved_references,
};
pub use text::{Identifier, Name, Sha256Digest, Text, TextError, Url};

/// Identifier schemes that are a published list's own id for an entry: the projections index
/// subjects by these (how an import finds a subject it already holds), and no other scheme.
pub const LIST_ID_SCHEMES: [&str; 7] = [
    "ofac-uid",
    "un-reference",
    "uk-ofsi-group-id",
    "ca-sema-key",
    "eu-fsf-logical-id",
    "eu-fsf-reference",
    "opensanctions-id",
];
