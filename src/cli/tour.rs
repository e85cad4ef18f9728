//! The quickstart's tour of the bundled dataset: the seed's story, as the ledger answers it.
//!
//! Presentation only: asks the same queries the commands answer, and words the answers. The
//! story: 22 March 2021, the EU lists four officials and one entity (Zhu Hailun first) beside
//! the US, the UK and Canada; China answers the same day and the days after; what has changed
//! since (China's lifting of April 2025); and what is due (the EU review of 8 December 2026),
//! told as the ledger knows it on the day the tour is run.

use std::collections::BTreeMap;

use super::json::{AuthorityCount, StateSummary};
use crate::domain::{CivilDate, Event, EventBody, measures_of};
use crate::ledger::Ledger;
use crate::projection::ProjectionError;
use crate::query::{Filter, Query, StateAnswer};

/// Dates the tour counts listings on: the day before, the day of, and the week after 22 March
/// 2021 (the tour adds the day it is run).
pub const TOUR_DATES: [&str; 3] = ["2021-03-21", "2021-03-22", "2021-03-28"];
/// The EU's designation of 22 March 2021, the seed's centre.
pub const TOUR_DESIGNATION: &str = "eu-council-2021-03-22-ghr-xinjiang";
/// China's answer the same day.
pub const TOUR_ANSWER: &str = "cn-mfa-2021-03-22-eu";
/// What has changed since: China's lifting of April 2025.
pub const TOUR_LIFTING: &str = "cn-mfa-2025-04-30-ep-lifting";

/// The tour's text and its state summaries.
pub struct Tour {
    /// What is printed.
    pub text: String,
    /// Listings in force per authority on each tour date (the last one: the day it is run).
    pub states: Vec<StateSummary>,
}

fn summary_of(day: &str, answer: &StateAnswer) -> StateSummary {
    let mut counts: BTreeMap<String, (u64, u64)> = BTreeMap::new();
    for listing in &answer.listings {
        let entry = counts.entry(listing.authority.clone()).or_default();
        if listing.subject_kind.as_deref() == Some("person") {
            entry.0 += 1;
        } else {
            entry.1 += 1;
        }
    }
    StateSummary {
        as_of: day.to_owned(),
        authorities: counts
            .into_iter()
            .map(|(authority, (persons, entities))| AuthorityCount {
                authority,
                persons,
                entities,
            })
            .collect(),
    }
}

fn counts_line(summary: &StateSummary) -> String {
    let words: Vec<String> = summary
        .authorities
        .iter()
        .map(|count| format!("{} {}+{}", count.authority, count.persons, count.entities))
        .collect();
    if words.is_empty() {
        "none".into()
    } else {
        words.join(", ")
    }
}

fn event_named(ledger: &Ledger, id: &str) -> Result<Option<Event>, ProjectionError> {
    match ledger.sequence_of(id)? {
        Some(sequence) => Ok(ledger.record(sequence)?.map(|view| view.event)),
        None => Ok(None),
    }
}

fn names_of(subject: &crate::domain::Subject) -> String {
    subject
        .names
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(" / ")
}

fn measure_words(measures: &[crate::domain::Measure]) -> String {
    measures
        .iter()
        .map(|m| m.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

impl Tour {
    /// Asks the tour's questions of `ledger` (projections in sync), as of `today`.
    pub fn build(ledger: &Ledger, today: CivilDate) -> Result<Tour, ProjectionError> {
        let query = Query::new(ledger, None)?;
        let mut text = String::new();
        let mut states = Vec::new();

        // 1. The seed: the EU's listings of 22 March 2021, by name, beside the others.
        if let Some(event) = event_named(ledger, TOUR_DESIGNATION)?
            && let EventBody::Designation(designation) = event.body()
        {
            text.push_str(&format!(
                "1. {}: {} lists {} subjects under {} ({}):\n",
                event.effective_on(),
                designation.authority,
                designation.subjects.len(),
                designation.programme,
                designation
                    .legal_basis
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join("; ")
            ));
            for subject in &designation.subjects {
                text.push_str(&format!(
                    "   {} ({}): {}\n",
                    names_of(subject),
                    subject.kind.as_str(),
                    measure_words(measures_of(
                        &designation.measures,
                        &designation.measures_by_subject,
                        &subject.id
                    ))
                ));
            }
        }
        text.push_str("   Listings in force, per authority (listings of persons+entities):\n");
        for day in TOUR_DATES {
            let date = CivilDate::parse(day).unwrap_or(CivilDate::MAX);
            let summary = summary_of(day, &query.state(date, &Filter::default())?);
            text.push_str(&format!("   {day}: {}\n", counts_line(&summary)));
            states.push(summary);
        }

        // 2. China's answers, and what each answers.
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
                let same_day = if view.event.id().as_str() == TOUR_ANSWER {
                    " (the same day)"
                } else {
                    ""
                };
                text.push_str(&format!(
                    "   {} {}{same_day}: {persons} person(s), {entities} entit{}; answers {}{}\n",
                    view.event.effective_on(),
                    view.event.id(),
                    if entities == 1 { "y" } else { "ies" },
                    answers.join(" and "),
                    if retaliation.maintains.is_empty() {
                        String::new()
                    } else {
                        format!(
                            "; maintains {}",
                            retaliation
                                .maintains
                                .iter()
                                .map(ToString::to_string)
                                .collect::<Vec<_>>()
                                .join(" and ")
                        )
                    }
                ));
            }
        }

        // 3. What has changed since.
        if let Some(event) = event_named(ledger, TOUR_LIFTING)?
            && let EventBody::Delisting(delisting) = event.body()
        {
            let answered = event_named(ledger, TOUR_ANSWER)?;
            let name_of = |id: &crate::domain::Identifier| -> String {
                answered
                    .as_ref()
                    .and_then(|answer| match answer.body() {
                        EventBody::Retaliation(retaliation) => retaliation
                            .subjects
                            .iter()
                            .find(|subject| &subject.id == id)
                            .map(names_of),
                        _ => None,
                    })
                    .unwrap_or_else(|| id.to_string())
            };
            text.push_str(&format!(
                "\n3. Since: on {} {} lifted its counter-sanctions on {} of the subjects of {TOUR_ANSWER} ({}):\n   {}\n",
                event.effective_on(),
                delisting.authority,
                delisting.subject_ids.len(),
                event.id(),
                delisting
                    .subject_ids
                    .iter()
                    .map(name_of)
                    .collect::<Vec<_>>()
                    .join("; ")
            ));
            for caveat in &event.parts().caveats {
                if caveat.as_str().contains("Bütikofer") {
                    text.push_str(&format!("   Caveat: {caveat}.\n"));
                }
            }
        }

        // 4. Today, and what is due.
        let day = today.to_string();
        let now = query.state(today, &Filter::default())?;
        let summary = summary_of(&day, &now);
        text.push_str(&format!(
            "\n4. Today, {day}, as the ledger knows it (listings of persons+entities in force): {}\n",
            counts_line(&summary)
        ));
        states.push(summary);
        let mut due: BTreeMap<(String, String), (String, u64)> = BTreeMap::new();
        for listing in &now.listings {
            if let Some(until) = &listing.until {
                let entry = due
                    .entry((listing.authority.clone(), listing.programme.clone()))
                    .or_insert_with(|| (until.clone(), 0));
                entry.0 = entry.0.clone().min(until.clone());
                entry.1 += 1;
            }
        }
        for ((authority, programme), (until, count)) in &due {
            text.push_str(&format!(
                "   Due: {count} {authority}/{programme} listing(s) are in force through {until}, when they fall due for review.\n   \
                 Until a renewal or delisting is recorded, answers after {until} show them as not in force with the\n   \
                 warning \"no decision recorded\": a gap in what the ledger knows, not a fact.\n"
            ));
        }
        let undecided: Vec<&str> = now
            .warnings
            .iter()
            .filter(|warning| warning.kind == "no_decision_recorded")
            .map(|warning| warning.listing.as_str())
            .collect();
        if !undecided.is_empty() {
            text.push_str(&format!(
                "   Warning: {} listing(s) are past their end date with no decision recorded after it (shown as not in\n   \
                 force; whether they were renewed is not known to this ledger): {}\n",
                undecided.len(),
                undecided.join(", ")
            ));
        }
        Ok(Tour { text, states })
    }
}
