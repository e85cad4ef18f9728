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
    Amendment, Correction, Delisting, Designation, EVENT_SCHEMA_VERSION, Event, EventBody,
    EventParts, Measure, Problem, Renewal, Replacement, ReplacementBody, Retaliation, Source,
    Statement, Subject, SubjectIdentifier, SubjectKind, SubjectMeasures, UnresolvedReference,
    measures_of, unresolved_references,
};
pub use text::{Identifier, Name, Sha256Digest, Text, TextError, Url};
