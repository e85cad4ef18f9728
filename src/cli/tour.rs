//! The quickstart's auditor's tour of the bundled dataset: what a newcomer sees first.
//!
//! Presentation only: asks the same queries the commands answer, and words the answers.

use std::collections::BTreeMap;

use super::json::{AuthorityCount, StateSummary};
use crate::domain::{CivilDate, EventBody};
use crate::ledger::Ledger;
use crate::projection::ProjectionError;
use crate::query::{Filter, Query};

/// Dates the tour asks about: the day before, the day of, and the week after 22 March 2021.
pub const TOUR_DATES: [&str; 3] = ["2021-03-21", "2021-03-22", "2021-03-28"];
/// The subject whose history the tour shows.
pub const TOUR_SUBJECT: &str = "xj-wang-junzheng";

/// The tour's text and its state summaries.
pub struct Tour {
    /// What is printed.
    pub text: String,
    /// Listings in force per authority on each tour date.
    pub states: Vec<StateSummary>,
}

impl Tour {
    /// Asks the tour's questions of `ledger` (projections in sync), judging lapses as of `today`.
    pub fn build(ledger: &Ledger, today: CivilDate) -> Result<Tour, ProjectionError> {
        let query = Query::new(ledger, None)?;
        let mut text =
            String::from("1. Who was under which sanctions (listings in force, per authority):\n");
        let mut states = Vec::new();
        for day in TOUR_DATES {
            let date = CivilDate::parse(day).unwrap_or(CivilDate::MAX);
            let answer = query.state(date, &Filter::default())?;
            let mut counts: BTreeMap<String, (u64, u64)> = BTreeMap::new();
            for listing in &answer.listings {
                let entry = counts.entry(listing.authority.clone()).or_default();
                if listing.subject_kind.as_deref() == Some("person") {
                    entry.0 += 1;
                } else {
                    entry.1 += 1;
                }
            }
            let words: Vec<String> = counts
                .iter()
                .map(|(authority, (persons, entities))| format!("{authority} {persons}+{entities}"))
                .collect();
            text.push_str(&format!(
                "   {day}: {} (persons+entities)\n",
                if words.is_empty() {
                    "none".into()
                } else {
                    words.join(", ")
                }
            ));
            states.push(StateSummary {
                as_of: day.to_owned(),
                authorities: counts
                    .into_iter()
                    .map(|(authority, (persons, entities))| AuthorityCount {
                        authority,
                        persons,
                        entities,
                    })
                    .collect(),
            });
        }
        text.push_str("\n2. China's counter-sanctions, and what each answers:\n");
        for sequence in 1..=ledger.head().sequence {
            let Some(view) = ledger.record(sequence)? else {
                continue;
            };
            if let EventBody::Retaliation(retaliation) = view.event.body() {
                let persons = retaliation
                    .subjects
                    .iter()
                    .filter(|s| s.kind.as_str() == "person")
                    .count();
                let entities = retaliation.subjects.len() - persons;
                let answers: Vec<String> = retaliation
                    .in_response_to
                    .iter()
                    .map(ToString::to_string)
                    .collect();
                text.push_str(&format!(
                    "   {} {}: {persons} person(s), {entities} entit{}; answers {}\n",
                    view.event.effective_on(),
                    view.event.id(),
                    if entities == 1 { "y" } else { "ies" },
                    answers.join(" and ")
                ));
            }
        }
        let history = query.history(TOUR_SUBJECT, today)?;
        text.push_str(&format!(
            "\n3. {} ({}) across authorities:\n",
            TOUR_SUBJECT,
            history.names.join(" / ")
        ));
        let mut last_recorded_end: Option<String> = None;
        for listing in &history.listings {
            for interval in &listing.intervals {
                text.push_str(&format!(
                    "   {}/{}: from {}{}\n",
                    listing.authority,
                    listing.programme,
                    interval.start,
                    match &interval.end {
                        Some(end) => format!(" through {end} ({})", interval.ending),
                        None => " (open-ended)".to_owned(),
                    }
                ));
                if interval.ending == "lapsed" {
                    last_recorded_end = interval.end.clone();
                }
            }
        }
        if let Some(end) = last_recorded_end {
            text.push_str(&format!(
                "   Note: the EU listings show as lapsed after {end} because the ledger records no later renewal\n   \
                 (the 2025 renewal is unconfirmed in the sources). Answers reflect what the ledger knows:\n   \
                 append the renewal when it is confirmed, and the answers change while the old belief stays\n   \
                 reproducible with --known-at.\n"
            ));
        }
        Ok(Tour { text, states })
    }
}
