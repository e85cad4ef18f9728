//! Intake: untrusted JSON in, checked domain events out, every problem reported at once.
//!
//! Owns the published JSON shape of events and the reading of inputs. Uses the domain only;
//! appends nothing (the ledger does, after intake has accepted a whole batch).

mod batch;
mod draft;
mod json;
pub mod shape;

pub use batch::{Batch, InputFormat, InputProblem, check_references, read_batch};
pub use draft::{KINDS, escape_pointer, event_from_json, event_to_json};
pub use json::{JsonError, parse_strict};
