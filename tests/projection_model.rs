//! The projections agree with a naive reference model on random logs and random questions.
//!
//! The model replays every event for every question (a few dozen lines, written from the rules
//! in ARCHITECTURE.md, sharing no code with the projections). Random logs hold designations
//! with end dates, renewals of some or all listings, delistings, amendments, re-designations,
//! statements, retractions, supersessions and retractions of corrections, recorded over time.
//! At least 1,000 (as-of, known-at, filter) questions are asked in CI.

mod common;

use sanctions_ledger::domain::{CivilDate, Timestamp};
use sanctions_ledger::intake::event_from_json;
use sanctions_ledger::ledger::{AppendOptions, FixedClock, Ledger};
use sanctions_ledger::projection;
use sanctions_ledger::query::{Filter, Query};
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};

/// A deterministic generator (fixed seeds).
struct Random(u64);

impl Random {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
}

const SUBJECTS: [&str; 5] = ["s1", "s2", "s3", "s4", "s5"];
const PROGRAMMES: [(&str, &str); 3] = [("EU", "GHR"), ("EU", "RUS"), ("UK", "GHR")];
const MEASURES: [&str; 3] = ["asset_freeze", "travel_ban", "entry_ban"];

fn day(offset: u64) -> CivilDate {
    CivilDate::from_days(CivilDate::parse("2021-01-01").unwrap().to_days() + offset as i64).unwrap()
}

fn source() -> Value {
    json!([{"publisher": "P", "title": "T", "url": "https://example.org/"}])
}

/// The kind-specific fields of a random non-correction event.
fn random_body(random: &mut Random) -> Value {
    let (authority, programme) = *random.pick(&PROGRAMMES);
    let subjects: Vec<&str> = SUBJECTS
        .iter()
        .copied()
        .filter(|_| random.below(3) == 0)
        .collect();
    let subjects = if subjects.is_empty() {
        vec![*random.pick(&SUBJECTS)]
    } else {
        subjects
    };
    let effective = day(random.below(700));
    match random.below(10) {
        0..=3 => {
            let mut body = json!({"kind": "designation", "authority": authority, "programme": programme, "legal_basis": ["Act"],
                                  "subjects": subjects.iter().map(|s| json!({"id": s, "kind": "person", "names": [s]})).collect::<Vec<_>>(),
                                  "measures": [random.pick(&MEASURES)], "effective_on": effective.to_string()});
            if random.below(2) == 0 {
                body["until"] = json!(
                    day(effective.to_days() as u64 - day(0).to_days() as u64 + random.below(300))
                        .to_string()
                );
            }
            body
        }
        4 | 5 => {
            json!({"kind": "renewal", "authority": authority, "programme": programme, "effective_on": effective.to_string(),
                        "until": day(effective.to_days() as u64 - day(0).to_days() as u64 + 100 + random.below(300)).to_string(),
                        "subject_ids": if random.below(2) == 0 { vec![] } else { subjects.clone() }})
        }
        6 | 7 => {
            json!({"kind": "delisting", "authority": authority, "programme": programme, "effective_on": effective.to_string(), "subject_ids": subjects})
        }
        8 => {
            json!({"kind": "amendment", "authority": authority, "programme": programme, "effective_on": effective.to_string(),
                    "subject": {"id": subjects[0], "kind": "person", "names": [format!("{} renamed", subjects[0])]}, "measures": [random.pick(&MEASURES)]})
        }
        _ => {
            json!({"kind": "statement", "speaker": "Someone", "text": "Words.", "effective_on": effective.to_string(), "about_subjects": subjects})
        }
    }
}

/// A random log: (recorded time in days, event JSON), in append order.
fn random_log(random: &mut Random, length: usize) -> Vec<(i64, Value)> {
    let mut log: Vec<(i64, Value)> = Vec::new();
    let mut recorded = 0i64;
    for index in 0..length {
        recorded += random.below(3) as i64;
        let id = format!("e{index}");
        let mut event = if index > 2 && random.below(6) == 0 {
            let (_, target) = random.pick(&log[..index]).clone();
            let target_id = target["id"].as_str().unwrap().to_owned();
            let target_is_correction = target["kind"] == "correction";
            let mut correction = json!({"kind": "correction", "corrects": target_id, "reason": "Because.",
                                        "effective_on": target["effective_on"].clone()});
            if !target_is_correction && random.below(2) == 0 {
                correction["replacement"] = random_body(random);
            }
            correction
        } else {
            random_body(random)
        };
        event["id"] = json!(id);
        event["sources"] = source();
        log.push((recorded, event));
    }
    log
}

// ----- The reference model: replays everything for every question. -----

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Answer {
    authority: String,
    programme: String,
    subject: String,
    since: String,
    until: Option<String>,
    measures: Vec<String>,
}

/// Which events (by index) count as known at `known` (number of records known), and with what
/// content: corrections decided from the latest in effect, corrections of corrections honoured.
fn effective_events(log: &[(i64, Value)], known: usize) -> Vec<(usize, Value)> {
    let ids: BTreeMap<&str, usize> = log
        .iter()
        .enumerate()
        .map(|(i, (_, e))| (e["id"].as_str().unwrap(), i))
        .collect();
    // decided[target] = the content to use (None: retracted), by the latest correction in effect.
    let mut retracted: BTreeSet<usize> = BTreeSet::new();
    let mut decided: BTreeMap<usize, Option<Value>> = BTreeMap::new();
    for index in (0..known).rev() {
        let event = &log[index].1;
        if event["kind"] != "correction" || retracted.contains(&index) {
            continue;
        }
        let target = ids[event["corrects"].as_str().unwrap()];
        if decided.contains_key(&target) {
            continue;
        }
        match event.get("replacement") {
            Some(replacement) => {
                decided.insert(target, Some(replacement.clone()));
            }
            None => {
                decided.insert(target, None);
                retracted.insert(target);
            }
        }
    }
    (0..known)
        .filter(|index| log[*index].1["kind"] != "correction")
        .filter_map(|index| match decided.get(&index) {
            None => Some((index, log[index].1.clone())),
            Some(Some(replacement)) => Some((index, replacement.clone())),
            Some(None) => None,
        })
        .collect()
}

/// The listings in force on `as_of`, and those past their end date with no decision (no
/// delisting) recorded after it: (authority, programme, subject).
fn model_state(
    log: &[(i64, Value)],
    known: usize,
    as_of: CivilDate,
) -> (BTreeSet<Answer>, BTreeSet<(String, String, String)>) {
    let events = effective_events(log, known);
    let date = |event: &Value, field: &str| {
        event
            .get(field)
            .and_then(Value::as_str)
            .map(|text| CivilDate::parse(text).unwrap())
    };
    let mut answers = BTreeSet::new();
    let mut undecided = BTreeSet::new();
    for (authority, programme) in PROGRAMMES {
        for subject in SUBJECTS {
            let mut relevant: Vec<&(usize, Value)> = events
                .iter()
                .filter(|(_, e)| e["authority"] == authority && e["programme"] == programme)
                .filter(|(_, e)| match e["kind"].as_str().unwrap() {
                    "designation" => e["subjects"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .any(|s| s["id"] == subject),
                    "delisting" => e["subject_ids"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .any(|s| s == subject),
                    "renewal" => {
                        e["subject_ids"].as_array().unwrap().is_empty()
                            || e["subject_ids"]
                                .as_array()
                                .unwrap()
                                .iter()
                                .any(|s| s == subject)
                    }
                    "amendment" => e["subject"]["id"] == subject,
                    _ => false,
                })
                .collect();
            relevant.sort_by_key(|(index, e)| (date(e, "effective_on").unwrap(), *index));
            // (since, until, measures) of the period in force, if any, at each step.
            let mut period: Option<(CivilDate, Option<CivilDate>, Vec<String>)> = None;
            let mut result: Option<(CivilDate, Option<CivilDate>, Vec<String>)> = None;
            // Whether a delisting ended the current period (in force, or after its end date).
            let mut decided = false;
            for (_, event) in relevant {
                let on = date(event, "effective_on").unwrap();
                if on > as_of {
                    break;
                }
                let in_force = period
                    .as_ref()
                    .is_some_and(|(since, until, _)| *since <= on && until.is_none_or(|u| on <= u));
                match event["kind"].as_str().unwrap() {
                    "designation" => {
                        let measures = event["measures"]
                            .as_array()
                            .unwrap()
                            .iter()
                            .map(|m| m.as_str().unwrap().to_owned())
                            .collect();
                        period = match (in_force, period.take()) {
                            (true, Some((since, _, _))) => {
                                Some((since, date(event, "until"), measures))
                            }
                            _ => {
                                decided = false;
                                Some((on, date(event, "until"), measures))
                            }
                        };
                    }
                    "delisting" if in_force => {
                        decided = true;
                        period = period.map(|(since, _, m)| (since, Some(on.previous_day()), m))
                    }
                    "delisting" if period.is_some() => decided = true,
                    "renewal" if in_force => {
                        period = period.map(|(since, until, m)| {
                            (since, until.map(|_| date(event, "until").unwrap()), m)
                        })
                    }
                    "amendment" if in_force => {
                        let measures = event["measures"]
                            .as_array()
                            .unwrap()
                            .iter()
                            .map(|m| m.as_str().unwrap().to_owned())
                            .collect();
                        period = period.map(|(since, until, _)| (since, until, measures));
                    }
                    _ => {}
                }
                result = period.clone();
            }
            if let Some((_, Some(until), _)) = &result
                && *until < as_of
                && !decided
            {
                undecided.insert((authority.into(), programme.into(), subject.into()));
            }
            if let Some((since, until, measures)) = result
                && since <= as_of
                && until.is_none_or(|u| as_of <= u)
            {
                answers.insert(Answer {
                    authority: authority.into(),
                    programme: programme.into(),
                    subject: subject.into(),
                    since: since.to_string(),
                    until: until.map(|u| u.to_string()),
                    measures,
                });
            }
        }
    }
    (answers, undecided)
}

// ----- The comparison. -----

const START_MICROS: i64 = 1_609_459_200_000_000; // 2021-01-01T00:00:00Z
const DAY_MICROS: i64 = 86_400_000_000;

#[test]
fn the_projections_agree_with_the_reference_model() {
    let mut questions = 0;
    let seeds: u64 = std::env::var("SANCTIONS_LEDGER_MODEL_SEEDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(12);
    for seed in 1..=seeds {
        let mut random = Random(0x9E37_79B9_7F4A_7C15 ^ seed);
        let log = random_log(&mut random, 40);
        let dir = tempfile::tempdir().unwrap();
        let mut ledger =
            Ledger::init(&dir.path().join("ledger"), "model", &common::clock(0)).unwrap();
        let options = AppendOptions {
            appended_by: "model".into(),
            recorded_at: None,
        };
        // Append in small batches, syncing projections as the CLI does.
        for chunk in log.chunks(1 + random.below(4) as usize) {
            let events: Vec<_> = chunk
                .iter()
                .map(|(_, e)| event_from_json(e).unwrap_or_else(|p| panic!("{p:?} {e}")))
                .collect();
            let time = Timestamp::from_unix_micros(START_MICROS + chunk[0].0 * DAY_MICROS);
            ledger.append(&events, &options, &FixedClock(time)).unwrap();
            projection::sync(&ledger).unwrap();
        }
        let recorded: Vec<i64> = (1..=log.len() as u64)
            .map(|s| {
                ledger
                    .record(s)
                    .unwrap()
                    .unwrap()
                    .record
                    .recorded_at
                    .unix_micros()
            })
            .collect();
        for _ in 0..100 {
            let as_of = day(random.below(800));
            // Known at: a random recorded time (or the head), and how many records that counts.
            let (known_at, known) = if random.below(4) == 0 {
                (None, log.len())
            } else {
                let micros = START_MICROS + random.below(120) as i64 * DAY_MICROS / 2;
                (
                    Some(Timestamp::from_unix_micros(micros)),
                    recorded.iter().filter(|r| **r <= micros).count(),
                )
            };
            let (authority, programme) = *random.pick(&PROGRAMMES);
            let filter = match random.below(3) {
                0 => Filter::default(),
                1 => Filter {
                    authority: Some(authority.into()),
                    programme: Some(programme.into()),
                    ..Filter::default()
                },
                _ => Filter {
                    subject: Some(random.pick(&SUBJECTS).to_string()),
                    ..Filter::default()
                },
            };
            let query = Query::new(&ledger, known_at).unwrap();
            let answer = query.state(as_of, &filter).unwrap();
            let actual: BTreeSet<Answer> = answer
                .listings
                .into_iter()
                .map(|l| Answer {
                    authority: l.authority,
                    programme: l.programme,
                    subject: l.subject,
                    since: l.since,
                    until: l.until,
                    measures: l.measures,
                })
                .collect();
            let (model_answers, model_undecided) = model_state(&log, known, as_of);
            let actual_undecided: BTreeSet<(String, String, String)> = answer
                .warnings
                .iter()
                .filter(|w| w.kind == "no_decision_recorded")
                .map(|w| {
                    let mut parts = w.listing.splitn(3, '/').map(str::to_owned);
                    (
                        parts.next().unwrap(),
                        parts.next().unwrap(),
                        parts.next().unwrap(),
                    )
                })
                .collect();
            let expected_undecided: BTreeSet<(String, String, String)> = model_undecided
                .into_iter()
                .filter(|(a, p, s)| {
                    filter.authority.as_ref().is_none_or(|x| x == a)
                        && filter.programme.as_ref().is_none_or(|x| x == p)
                        && filter.subject.as_ref().is_none_or(|x| x == s)
                })
                .collect();
            assert_eq!(
                actual_undecided, expected_undecided,
                "no decision recorded: seed {seed}, as of {as_of}, known {known} records, filter {filter:?}"
            );
            let expected: BTreeSet<Answer> = model_answers
                .into_iter()
                .filter(|a| {
                    filter.authority.as_ref().is_none_or(|x| *x == a.authority)
                        && filter.programme.as_ref().is_none_or(|x| *x == a.programme)
                })
                .filter(|a| filter.subject.as_ref().is_none_or(|x| *x == a.subject))
                .collect();
            assert_eq!(
                actual, expected,
                "seed {seed}, as of {as_of}, known {known} records, filter {filter:?}"
            );
            questions += 1;
        }
    }
    assert!(questions >= 1_000);
}
