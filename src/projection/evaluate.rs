//! Evaluation: a listing's facts, as known at a sequence, into the intervals it was in force.
//!
//! Pure and deterministic; the rules are written in ARCHITECTURE.md ("Projection semantics")
//! with one test each. Used for the materialised current view (known at the head) and for
//! questions about earlier knowledge; a naive reference model in tests/ checks it.

use super::facts::{FactKind, FactObserved, ListingFact};
use crate::domain::{CivilDate, Measure};
use serde::{Deserialize, Serialize};

/// What a correction decided about an event, as known at some sequence.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    /// Not corrected: its own facts count.
    Original,
    /// Retracted by the correction at this sequence: none of its facts count.
    RetractedBy(u64),
    /// Superseded by the correction at this sequence: only that correction's replacement counts.
    SupersededBy(u64),
}

/// Whether a fact counts, as known at `known_at`, given the status of its source event.
pub fn counts(fact: &ListingFact, known_at: u64, status: Status) -> bool {
    if fact.source > known_at {
        return false;
    }
    match (status, fact.via) {
        (Status::Original, None) => true,
        (Status::SupersededBy(correction), Some(via)) => correction == via,
        _ => false,
    }
}

/// How an interval ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Ending {
    /// Still in force (open-ended, or its end date has not come).
    Open,
    /// Past its end date with no decision recorded after it: no renewal extended it and no
    /// delisting ended it. A gap in what the ledger knows, not a fact; answers warn.
    NoDecisionRecorded,
    /// Not renewed: past its end date, and a delisting effective after that date (at this
    /// sequence) records the decision.
    NotRenewed(u64),
    /// Delisted by the event at this sequence.
    Delisted(u64),
}

/// One continuous period in force.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Interval {
    /// First day in force.
    pub start: CivilDate,
    /// Last day in force, if it has one (a delisting on D ends it on D - 1). Before `start`
    /// means the listing was never in force (delisted the day it began).
    pub end: Option<CivilDate>,
    /// Measures from each date on.
    pub measures: Vec<(CivilDate, Vec<Measure>)>,
    /// The end date as it stood from each date on (renewals and delistings change it), and
    /// the record that set it.
    pub ends: Vec<(CivilDate, Option<CivilDate>, u64)>,
    /// Why: (effective date, sequence) of each event that shaped it.
    pub why: Vec<(CivilDate, u64)>,
    /// The delisting that ended it while in force, if one did.
    pub delisted_by: Option<u64>,
    /// A delisting effective after the end date had passed (a recorded non-renewal): its
    /// effective date and sequence.
    pub not_renewed: Option<(CivilDate, u64)>,
    /// Whether it began with a counter-sanction.
    pub retaliation: bool,
    /// The list snapshot that implied its start, if one did (how the start date is known).
    pub opened: Option<FactObserved>,
}

impl Interval {
    /// Whether the listing is in force on `date` in this interval.
    pub fn contains(&self, date: CivilDate) -> bool {
        self.start <= date && self.end.is_none_or(|end| date <= end)
    }

    /// The measures in force on `date` (the last change on or before it).
    pub fn measures_on(&self, date: CivilDate) -> &[Measure] {
        self.measures
            .iter()
            .rev()
            .find(|(from, _)| *from <= date)
            .map(|(_, measures)| measures.as_slice())
            .unwrap_or(&[])
    }

    /// The end date as it stood on `date` (a renewal or delisting after `date` has not yet
    /// changed it).
    pub fn end_on(&self, date: CivilDate) -> Option<CivilDate> {
        self.ends
            .iter()
            .rev()
            .find(|(from, _, _)| *from <= date)
            .map(|(_, end, _)| *end)
            .unwrap_or(self.end)
    }

    /// The sequences of the events that establish it as of `date`.
    pub fn why_on(&self, date: CivilDate) -> Vec<u64> {
        self.why
            .iter()
            .filter(|(from, _)| *from <= date)
            .map(|(_, sequence)| *sequence)
            .collect()
    }

    /// How it stands on `date`: open, delisted, not renewed (a decision recorded and in
    /// effect by `date`), or past its end with no decision recorded.
    pub fn ending_on(&self, date: CivilDate) -> Ending {
        match (self.delisted_by, self.end, self.not_renewed) {
            (Some(sequence), Some(end), _) if end < date => Ending::Delisted(sequence),
            (None, Some(end), Some((decided, sequence))) if end < date && decided <= date => {
                Ending::NotRenewed(sequence)
            }
            (None, Some(end), _) if end < date => Ending::NoDecisionRecorded,
            _ => Ending::Open,
        }
    }

    /// The record that set the end date standing on `date` (the last renewal or designation).
    pub fn end_set_by(&self, date: CivilDate) -> Option<u64> {
        self.ends
            .iter()
            .rev()
            .find(|(from, _, _)| *from <= date)
            .map(|(_, _, sequence)| *sequence)
    }
}

/// Something the facts say that does not fit (accepted, and reported in answers).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Warning {
    /// The fact's effective date.
    pub date: CivilDate,
    /// The event's sequence.
    pub sequence: u64,
    /// What does not fit.
    pub message: String,
}

/// A listing's history as known at some sequence.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListingView {
    /// Its periods in force, oldest first.
    pub intervals: Vec<Interval>,
    /// Facts that did not fit.
    pub warnings: Vec<Warning>,
}

impl ListingView {
    /// The interval in force on `date`, if any.
    pub fn in_force_on(&self, date: CivilDate) -> Option<&Interval> {
        self.intervals
            .iter()
            .rev()
            .find(|interval| interval.contains(date))
    }
}

/// Evaluates the facts that count (already filtered) into intervals: the listing's own facts,
/// and the renewals of every listing under its programme (`broad`; those do not warn about a
/// listing they find out of force). Facts are applied in effective-date order, ties broken by
/// their place in the log.
pub fn evaluate(own: Vec<ListingFact>, broad: Vec<ListingFact>) -> ListingView {
    let mut facts: Vec<(ListingFact, bool)> = own
        .into_iter()
        .map(|fact| (fact, false))
        .chain(broad.into_iter().map(|fact| (fact, true)))
        .collect();
    facts.sort_by_key(|(fact, _)| (fact.effective_on, fact.source, fact.via));
    let mut view = ListingView::default();
    let mut current: Option<Interval> = None;
    for (fact, broad) in facts {
        let date = fact.effective_on;
        let in_force = current
            .as_ref()
            .is_some_and(|interval| interval.contains(date));
        match fact.kind {
            FactKind::Open { until, measures, retaliation } => {
                if in_force {
                    // Re-designation while in force: the period continues, with the new
                    // measures and end date.
                    if let Some(interval) = current.as_mut() {
                        interval.end = until;
                        interval.ends.push((date, until, fact.source));
                        interval.measures.push((date, measures));
                        interval.why.push((date, fact.source));
                    }
                } else {
                    view.intervals.extend(current.take());
                    current = Some(Interval {
                        start: date,
                        end: until,
                        measures: vec![(date, measures)],
                        ends: vec![(date, until, fact.source)],
                        why: vec![(date, fact.source)],
                        delisted_by: None,
                        not_renewed: None,
                        retaliation,
                        opened: fact.observed.clone(),
                    });
                }
            }
            FactKind::Close => match current.as_mut() {
                Some(interval) if in_force => {
                    interval.end = Some(date.previous_day());
                    interval.ends.push((date, interval.end, fact.source));
                    interval.why.push((date, fact.source));
                    interval.delisted_by = Some(fact.source);
                    view.intervals.extend(current.take());
                }
                // Past its end date, undecided: the delisting records that it was not renewed.
                Some(interval)
                    if interval.end.is_some_and(|end| end < date)
                        && interval.not_renewed.is_none() =>
                {
                    interval.not_renewed = Some((date, fact.source));
                    interval.why.push((date, fact.source));
                }
                _ => view.warnings.push(Warning {
                    date,
                    sequence: fact.source,
                    message: format!("delisting on {date} of a listing that was not in force then"),
                }),
            },
            FactKind::Renew { until } => match current.as_mut() {
                Some(interval) if in_force && interval.end.is_some() => {
                    interval.end = Some(until);
                    interval.ends.push((date, Some(until), fact.source));
                    interval.why.push((date, fact.source));
                }
                _ if broad => {}
                Some(_) if in_force => view.warnings.push(Warning {
                    date,
                    sequence: fact.source,
                    message: format!("renewal on {date} of a listing without an end date; it stays open-ended"),
                }),
                _ => view.warnings.push(Warning {
                    date,
                    sequence: fact.source,
                    message: format!("renewal on {date} of a listing that was not in force then (lapsed, delisted or not yet listed); it is not revived"),
                }),
            },
            FactKind::Amend { measures } => match current.as_mut() {
                Some(interval) if in_force => {
                    interval.measures.push((date, measures));
                    interval.why.push((date, fact.source));
                }
                _ => view.warnings.push(Warning {
                    date,
                    sequence: fact.source,
                    message: format!("amendment on {date} of a listing that was not in force then"),
                }),
            },
        }
    }
    view.intervals.extend(current);
    view
}
