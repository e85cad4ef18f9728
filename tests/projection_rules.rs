//! Given/when/then tests, one per projection rule (ARCHITECTURE.md, "Projection semantics"),
//! on real on-disk ledgers with recorded times set by an injected clock.

mod common;

use sanctions_ledger::domain::{CivilDate, Timestamp};
use sanctions_ledger::intake::event_from_json;
use sanctions_ledger::ledger::{AppendOptions, FixedClock, Ledger, LedgerError};
use sanctions_ledger::projection;
use sanctions_ledger::query::{Filter, Query};
use serde_json::{Value, json};

const DAY_MICROS: i64 = 86_400_000_000;

struct World {
    _dir: tempfile::TempDir,
    ledger: Ledger,
    day: i64,
}

fn source() -> Value {
    json!([{"publisher": "Gazette", "title": "Notice", "url": "https://example.org/"}])
}

fn designation(id: &str, date: &str, subjects: &[&str], until: Option<&str>) -> Value {
    let subjects: Vec<Value> = subjects
        .iter()
        .map(|s| json!({"id": s, "kind": "person", "names": [format!("Name of {s}")]}))
        .collect();
    let mut event = json!({"kind": "designation", "id": id, "effective_on": date, "sources": source(), "authority": "EU-COUNCIL",
                           "programme": "EU-GHR", "legal_basis": ["Act"], "subjects": subjects, "measures": ["asset_freeze"]});
    if let Some(until) = until {
        event["until"] = json!(until);
    }
    event
}

fn delisting(id: &str, date: &str, subjects: &[&str]) -> Value {
    json!({"kind": "delisting", "id": id, "effective_on": date, "sources": source(), "authority": "EU-COUNCIL", "programme": "EU-GHR", "subject_ids": subjects})
}

fn renewal(id: &str, date: &str, until: &str, subjects: &[&str]) -> Value {
    json!({"kind": "renewal", "id": id, "effective_on": date, "sources": source(), "authority": "EU-COUNCIL", "programme": "EU-GHR", "until": until, "subject_ids": subjects})
}

fn retraction(id: &str, date: &str, target: &str) -> Value {
    json!({"kind": "correction", "id": id, "effective_on": date, "sources": source(), "corrects": target, "reason": "Wrong."})
}

fn date(text: &str) -> CivilDate {
    CivilDate::parse(text).unwrap()
}

impl World {
    fn new() -> World {
        let dir = tempfile::tempdir().unwrap();
        let ledger = Ledger::init(&dir.path().join("ledger"), "rules", &common::clock(0)).unwrap();
        World {
            _dir: dir,
            ledger,
            day: 0,
        }
    }

    /// Records the events one recorded day after the previous batch; returns that time.
    fn record(&mut self, events: &[Value]) -> Timestamp {
        self.day += 1;
        let time =
            Timestamp::from_unix_micros(common::MARCH_22_NOON_MICROS + self.day * DAY_MICROS);
        let events: Vec<_> = events
            .iter()
            .map(|value| event_from_json(value).unwrap())
            .collect();
        let options = AppendOptions {
            appended_by: "rules".into(),
            recorded_at: None,
        };
        self.ledger
            .append(&events, &options, &FixedClock(time))
            .unwrap();
        projection::sync(&self.ledger).unwrap();
        time
    }

    /// Listings in force on `as_of` as known at `known_at` (default: head): subject, since, until.
    fn state(
        &self,
        as_of: &str,
        known_at: Option<Timestamp>,
    ) -> Vec<(String, String, Option<String>)> {
        let query = Query::new(&self.ledger, known_at).unwrap();
        let answer = query.state(date(as_of), &Filter::default()).unwrap();
        answer
            .listings
            .into_iter()
            .map(|l| (l.subject, l.since, l.until))
            .collect()
    }

    fn in_force(&self, as_of: &str, known_at: Option<Timestamp>, subject: &str) -> bool {
        self.state(as_of, known_at)
            .iter()
            .any(|(s, _, _)| s == subject)
    }

    /// Messages of the recorded facts that did not fit, up to `as_of`.
    fn warnings(&self, as_of: &str) -> Vec<String> {
        self.warnings_of("does_not_fit", as_of)
    }

    /// Listings the answer for `as_of` says are past their end date with no decision recorded.
    fn undecided(&self, as_of: &str) -> Vec<String> {
        let query = Query::new(&self.ledger, None).unwrap();
        query
            .state(date(as_of), &Filter::default())
            .unwrap()
            .warnings
            .into_iter()
            .filter(|w| w.kind == "no_decision_recorded")
            .map(|w| format!("{} after {}", w.listing, w.date))
            .collect()
    }

    fn warnings_of(&self, kind: &str, as_of: &str) -> Vec<String> {
        let query = Query::new(&self.ledger, None).unwrap();
        query
            .state(date(as_of), &Filter::default())
            .unwrap()
            .warnings
            .into_iter()
            .filter(|w| w.kind == kind)
            .map(|w| w.message)
            .collect()
    }
}

#[test]
fn a_designation_is_in_force_from_its_effective_date_on() {
    let mut world = World::new();
    world.record(&[designation("d", "2021-03-22", &["zhu"], None)]);
    assert!(!world.in_force("2021-03-21", None, "zhu"));
    assert!(world.in_force("2021-03-22", None, "zhu"));
    assert!(
        world.in_force("2030-01-01", None, "zhu"),
        "open-ended listings do not lapse"
    );
}

#[test]
fn a_delisting_effective_on_d_means_not_in_force_on_d() {
    let mut world = World::new();
    world.record(&[
        designation("d", "2021-03-22", &["zhu"], None),
        delisting("x", "2022-01-10", &["zhu"]),
    ]);
    assert!(world.in_force("2022-01-09", None, "zhu"));
    assert!(!world.in_force("2022-01-10", None, "zhu"));
}

#[test]
fn a_listing_with_an_end_date_is_in_force_through_it_then_lapses_with_no_decision_recorded() {
    let mut world = World::new();
    world.record(&[designation("d", "2021-03-22", &["zhu"], Some("2021-12-08"))]);
    assert!(world.in_force("2021-12-08", None, "zhu"));
    assert!(world.undecided("2021-12-08").is_empty());
    assert!(!world.in_force("2021-12-09", None, "zhu"));
    // Not a fact: the answer says it depends on a decision the ledger does not hold.
    assert_eq!(
        world.undecided("2021-12-09"),
        vec!["EU-COUNCIL/EU-GHR/zhu after 2021-12-08"]
    );
    assert_eq!(
        world.undecided("2030-01-01"),
        vec!["EU-COUNCIL/EU-GHR/zhu after 2021-12-08"]
    );
}

#[test]
fn a_delisting_after_the_end_date_records_that_the_listing_was_not_renewed() {
    let mut world = World::new();
    world.record(&[designation("d", "2021-03-22", &["zhu"], Some("2021-12-08"))]);
    world.record(&[delisting("not-renewed", "2021-12-09", &["zhu"])]);
    assert!(!world.in_force("2021-12-09", None, "zhu"));
    assert!(
        world.undecided("2021-12-09").is_empty(),
        "a decision is recorded"
    );
    assert!(
        world.warnings("2021-12-09").is_empty(),
        "and it fits: no warning"
    );
    let query = Query::new(&world.ledger, None).unwrap();
    let history = query.history("zhu", date("2022-01-01")).unwrap().unwrap();
    let period = &history.listings[0].intervals[0];
    assert_eq!(
        (
            period.end.as_deref(),
            period.ending.as_str(),
            period.ended_by
        ),
        (Some("2021-12-08"), "not_renewed", Some(2))
    );
    let diff = query
        .diff(date("2021-12-01"), date("2022-01-01"), &Filter::default())
        .unwrap();
    assert_eq!(
        (diff.left_force[0].reason.as_str(), diff.left_force[0].by),
        ("not_renewed", Some(2))
    );
    // Before the decision takes effect, the gap shows; a delisting of a listing never in
    // force still warns.
    let mut other = World::new();
    other.record(&[designation("d", "2021-03-22", &["zhu"], Some("2021-12-08"))]);
    other.record(&[delisting("late", "2022-03-01", &["zhu"])]);
    assert_eq!(
        other.undecided("2022-01-01"),
        vec!["EU-COUNCIL/EU-GHR/zhu after 2021-12-08"]
    );
    assert!(other.undecided("2022-03-01").is_empty());
    other.record(&[delisting("never", "2022-04-01", &["nobody-listed"])]);
    assert_eq!(other.warnings("2022-05-01").len(), 1);
}

#[test]
fn a_renewal_before_the_lapse_extends_the_end_date() {
    let mut world = World::new();
    world.record(&[designation(
        "d",
        "2021-03-22",
        &["zhu", "wang"],
        Some("2021-12-08"),
    )]);
    world.record(&[renewal("r", "2021-12-06", "2022-12-08", &[])]);
    assert!(world.in_force("2022-06-01", None, "zhu"));
    assert!(
        world.in_force("2022-06-01", None, "wang"),
        "a renewal of every listing reaches every listing in force"
    );
    assert_eq!(
        world.state("2022-06-01", None)[0].2.as_deref(),
        Some("2022-12-08")
    );
    assert!(!world.in_force("2022-12-09", None, "zhu"));
}

#[test]
fn a_renewal_naming_subjects_extends_only_those() {
    let mut world = World::new();
    world.record(&[designation(
        "d",
        "2021-03-22",
        &["zhu", "wang"],
        Some("2021-12-08"),
    )]);
    world.record(&[renewal("r", "2021-12-06", "2022-12-08", &["wang"])]);
    assert!(world.in_force("2022-06-01", None, "wang"));
    assert!(!world.in_force("2022-06-01", None, "zhu"));
}

#[test]
fn a_renewal_effective_after_the_lapse_does_not_revive_and_warns() {
    let mut world = World::new();
    world.record(&[designation("d", "2021-03-22", &["zhu"], Some("2021-12-08"))]);
    world.record(&[renewal("r", "2021-12-20", "2022-12-08", &["zhu"])]);
    assert!(!world.in_force("2022-06-01", None, "zhu"));
    assert_eq!(
        world.warnings("2022-06-01"),
        vec![
            "renewal on 2021-12-20 of a listing that was not in force then (lapsed, delisted or not yet listed); it is not revived"
        ]
    );
}

#[test]
fn a_renewal_recorded_after_the_lapse_but_effective_before_it_extends_and_known_at_tells_both_stories()
 {
    let mut world = World::new();
    world.record(&[designation("d", "2021-03-22", &["zhu"], Some("2021-12-08"))]);
    let before_renewal = world.record(&[json!({"kind": "statement", "id": "s", "effective_on": "2021-12-20", "sources": source(), "speaker": "Someone", "text": "Nothing yet."})]);
    world.record(&[renewal("r", "2021-12-06", "2022-12-08", &["zhu"])]);
    assert!(
        world.in_force("2022-06-01", None, "zhu"),
        "effective time governs"
    );
    assert!(
        !world.in_force("2022-06-01", Some(before_renewal), "zhu"),
        "known before the renewal was recorded: lapsed"
    );
}

#[test]
fn re_designation_after_a_delisting_starts_a_new_interval() {
    let mut world = World::new();
    world.record(&[
        designation("d1", "2021-03-22", &["zhu"], None),
        delisting("x", "2022-01-10", &["zhu"]),
    ]);
    world.record(&[designation("d2", "2023-05-01", &["zhu"], None)]);
    assert!(!world.in_force("2023-04-30", None, "zhu"));
    assert_eq!(
        world.state("2023-05-01", None),
        vec![("zhu".to_owned(), "2023-05-01".to_owned(), None)]
    );
}

#[test]
fn re_designation_while_in_force_continues_the_interval() {
    let mut world = World::new();
    world.record(&[designation(
        "d1",
        "2021-03-22",
        &["zhu"],
        Some("2021-12-08"),
    )]);
    world.record(&[designation(
        "d2",
        "2021-06-01",
        &["zhu"],
        Some("2022-06-01"),
    )]);
    assert_eq!(
        world.state("2022-01-01", None),
        vec![(
            "zhu".to_owned(),
            "2021-03-22".to_owned(),
            Some("2022-06-01".to_owned())
        )]
    );
}

#[test]
fn a_retraction_removes_the_event_from_answers_known_at_or_after_it_and_from_none_before() {
    let mut world = World::new();
    let first = world.record(&[designation("d", "2021-03-22", &["zhu"], None)]);
    let retracted = world.record(&[retraction("c", "2021-03-22", "d")]);
    assert!(
        world.in_force("2021-04-01", Some(first), "zhu"),
        "the old belief stays reproducible"
    );
    assert!(!world.in_force("2021-04-01", Some(retracted), "zhu"));
    assert!(!world.in_force("2021-04-01", None, "zhu"));
}

#[test]
fn a_superseding_correction_replaces_the_event_from_then_on() {
    let mut world = World::new();
    let first = world.record(&[designation("d", "2021-03-29", &["zhu"], None)]);
    let mut replacement = designation("ignored", "2021-03-27", &["zhu", "wang"], None);
    replacement
        .as_object_mut()
        .unwrap()
        .retain(|key, _| !["id", "sources"].contains(&key.as_str()));
    world.record(&[json!({"kind": "correction", "id": "c", "effective_on": "2021-03-27", "sources": source(),
                          "corrects": "d", "reason": "Wrong date and a missing subject.", "replacement": replacement})]);
    assert!(
        world.in_force("2021-03-27", None, "zhu") && world.in_force("2021-03-27", None, "wang")
    );
    assert!(
        !world.in_force("2021-03-28", Some(first), "zhu"),
        "known before the correction: from 29 March"
    );
    assert!(!world.in_force("2021-03-29", Some(first), "wang"));
}

#[test]
fn retracting_a_correction_restores_the_corrected_event() {
    let mut world = World::new();
    world.record(&[designation("d", "2021-03-22", &["zhu"], None)]);
    let retracted = world.record(&[retraction("c1", "2021-03-22", "d")]);
    world.record(&[retraction("c2", "2021-03-22", "c1")]);
    assert!(!world.in_force("2021-04-01", Some(retracted), "zhu"));
    assert!(world.in_force("2021-04-01", None, "zhu"));
}

#[test]
fn superseding_a_correction_is_refused() {
    let mut world = World::new();
    world.record(&[designation("d", "2021-03-22", &["zhu"], None)]);
    world.record(&[retraction("c1", "2021-03-22", "d")]);
    let mut replacement = designation("x", "2021-03-22", &["zhu"], None);
    replacement
        .as_object_mut()
        .unwrap()
        .retain(|key, _| !["id", "sources"].contains(&key.as_str()));
    let event = event_from_json(&json!({"kind": "correction", "id": "c2", "effective_on": "2021-03-22", "sources": source(),
                                        "corrects": "c1", "reason": "r", "replacement": replacement})).unwrap();
    let options = AppendOptions {
        appended_by: "rules".into(),
        recorded_at: None,
    };
    match world
        .ledger
        .append(&[event], &options, &common::clock(10_000_000))
    {
        Err(LedgerError::SupersededCorrection { target, .. }) => assert_eq!(target, "c1"),
        other => panic!("expected a refusal, got {:?}", other.map(|_| ())),
    }
}

#[test]
fn statements_change_no_state_and_appear_in_history_and_links() {
    let mut world = World::new();
    world.record(&[designation("d", "2021-03-22", &["zhu"], None)]);
    let before = world.state("2021-04-01", None);
    world.record(&[json!({"kind": "statement", "id": "s", "effective_on": "2021-03-23", "sources": source(), "speaker": "Someone",
                          "text": "Words.", "about_events": ["d"], "about_subjects": ["zhu"]})]);
    assert_eq!(world.state("2021-04-01", None), before);
    let query = Query::new(&world.ledger, None).unwrap();
    let history = query.history("zhu", date("2026-01-01")).unwrap().unwrap();
    assert!(
        history
            .timeline
            .iter()
            .any(|entry| entry.kind == "statement" && entry.event_id.as_deref() == Some("s"))
    );
    let links = query.links("d").unwrap().unwrap();
    assert_eq!(
        links
            .referred_to_by
            .iter()
            .map(|e| e.event_id.as_str())
            .collect::<Vec<_>>(),
        vec!["s"]
    );
}

#[test]
fn a_delisting_of_something_not_in_force_is_accepted_with_a_warning() {
    let mut world = World::new();
    world.record(&[delisting("x", "2021-03-22", &["never-listed"])]);
    assert_eq!(
        world.warnings("2021-04-01"),
        vec!["delisting on 2021-03-22 of a listing that was not in force then"]
    );
    assert!(world.state("2021-04-01", None).is_empty());
}

#[test]
fn an_amendment_of_a_listing_changes_its_measures_from_its_date() {
    let mut world = World::new();
    world.record(&[designation("d", "2021-03-22", &["zhu"], None)]);
    world.record(&[json!({"kind": "amendment", "id": "a", "effective_on": "2021-06-01", "sources": source(),
                          "subject": {"id": "zhu", "kind": "person", "names": ["ZHU Hailun", "朱海仑"]},
                          "authority": "EU-COUNCIL", "programme": "EU-GHR", "measures": ["asset_freeze", "travel_ban"]})]);
    let measures = |on: &str| {
        let query = Query::new(&world.ledger, None).unwrap();
        let answer = query.state(date(on), &Filter::default()).unwrap();
        (
            answer.listings[0].measures.clone(),
            answer.listings[0].names.clone(),
        )
    };
    assert_eq!(
        measures("2021-05-31"),
        (
            vec!["asset_freeze".to_owned()],
            vec!["Name of zhu".to_owned()]
        )
    );
    assert_eq!(
        measures("2021-06-01"),
        (
            vec!["asset_freeze".to_owned(), "travel_ban".to_owned()],
            vec!["ZHU Hailun".to_owned(), "朱海仑".to_owned()]
        )
    );
}

#[test]
fn a_diff_says_what_came_into_force_left_force_and_why() {
    let mut world = World::new();
    world.record(&[
        designation(
            "d1",
            "2021-03-22",
            &["zhu", "wang", "chen"],
            Some("2021-12-08"),
        ),
        delisting("x", "2021-06-01", &["wang"]),
        designation("d2", "2021-07-01", &["huo"], None),
        renewal("r", "2021-12-01", "2022-12-08", &["chen"]),
    ]);
    let query = Query::new(&world.ledger, None).unwrap();
    let diff = query
        .diff(date("2021-04-01"), date("2022-01-01"), &Filter::default())
        .unwrap();
    assert_eq!(
        diff.came_into_force
            .iter()
            .map(|l| l.subject.as_str())
            .collect::<Vec<_>>(),
        vec!["huo"]
    );
    let left: Vec<(&str, &str, Option<u64>)> = diff
        .left_force
        .iter()
        .map(|l| (l.listing.subject.as_str(), l.reason.as_str(), l.by))
        .collect();
    assert_eq!(
        left,
        vec![
            ("wang", "delisted", Some(2)),
            ("zhu", "no_decision_recorded", None)
        ]
    );
    assert_eq!(
        diff.changed
            .iter()
            .map(|c| (c.after.subject.as_str(), c.after.until.as_deref()))
            .collect::<Vec<_>>(),
        vec![("chen", Some("2022-12-08"))]
    );
}

#[test]
fn links_follow_the_chain_of_retaliations_transitively() {
    let mut world = World::new();
    let retaliation = |id: &str, answers: &str| {
        json!({"kind": "retaliation", "id": id, "effective_on": "2021-03-22", "sources": source(),
        "authority": "CN-MFA", "programme": "CN-CM", "subjects": [{"id": format!("target-{id}"), "kind": "person", "names": ["T"]}],
        "measures": ["entry_ban"], "in_response_to": [answers]})
    };
    world.record(&[
        designation("d", "2021-03-22", &["zhu"], None),
        retaliation("r1", "d"),
    ]);
    world.record(&[designation("d-again", "2021-03-25", &["other"], None)]);
    world.record(&[json!({"kind": "retaliation", "id": "r2", "effective_on": "2021-03-26", "sources": source(), "authority": "CN-MFA",
        "programme": "CN-CM", "subjects": [{"id": "t2", "kind": "person", "names": ["T"]}], "measures": ["entry_ban"], "in_response_to": ["r1", "d-again"]})]);
    let query = Query::new(&world.ledger, None).unwrap();
    let links = query.links("d").unwrap().unwrap();
    assert_eq!(
        links
            .referred_to_by
            .iter()
            .map(|e| e.event_id.as_str())
            .collect::<Vec<_>>(),
        vec!["r1", "r2"]
    );
    let back = query.links("r2").unwrap().unwrap();
    assert_eq!(
        back.refers_to
            .iter()
            .map(|e| e.event_id.as_str())
            .collect::<Vec<_>>(),
        vec!["d", "r1", "d-again"]
    );
}

#[test]
fn subjects_are_found_ignoring_case_and_accents_in_any_script() {
    let mut world = World::new();
    let mut event = designation(
        "d",
        "2021-03-22",
        &["lt-dovile-sakaliene", "xj-wang-junzheng"],
        None,
    );
    event["subjects"][0]["names"] = json!(["Dovilė Šakalienė"]);
    event["subjects"][1]["names"] = json!(["WANG Junzheng", "王君正"]);
    world.record(&[event]);
    let query = Query::new(&world.ledger, None).unwrap();
    let found = |text: &str| {
        query
            .subjects(text)
            .unwrap()
            .subjects
            .into_iter()
            .map(|s| s.subject)
            .collect::<Vec<_>>()
    };
    assert_eq!(found("sakaliene"), vec!["lt-dovile-sakaliene"]);
    assert_eq!(found("ŠAKALIENĖ"), vec!["lt-dovile-sakaliene"]);
    assert_eq!(found("王君正"), vec!["xj-wang-junzheng"]);
    assert_eq!(found("junzheng"), vec!["xj-wang-junzheng"]);
    assert!(found("nobody").is_empty());
}

#[test]
fn appending_and_querying_gives_the_answers_a_rebuild_gives() {
    let mut world = World::new();
    for batch in 0..8u64 {
        let events = common::synthetic_events(batch * 9, 9);
        let options = AppendOptions {
            appended_by: "rules".into(),
            recorded_at: None,
        };
        world
            .ledger
            .append(&events, &options, &common::clock(batch as i64 * 1000))
            .unwrap();
        projection::sync(&world.ledger).unwrap();
    }
    let answers = |world: &World| {
        let query = Query::new(&world.ledger, None).unwrap();
        ["2021-03-01", "2021-03-15", "2021-12-31", "2022-12-31"]
            .iter()
            .map(|day| {
                serde_json::to_value(query.state(date(day), &Filter::default()).unwrap().listings)
                    .unwrap()
            })
            .collect::<Vec<_>>()
    };
    let incremental = answers(&world);
    assert!(
        projection::verify(&world.ledger).unwrap().is_empty(),
        "incremental projections match a fresh replay"
    );
    projection::rebuild(&world.ledger, &mut |_| {}).unwrap();
    assert_eq!(answers(&world), incremental);
}

fn open_sled(path: &std::path::Path) -> sled::Db {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    let path = path.join("derived");
    loop {
        match sled::open(&path) {
            Ok(db) => return db,
            Err(_) if std::time::Instant::now() < deadline => {
                std::thread::sleep(std::time::Duration::from_millis(10))
            }
            Err(error) => panic!("{error}"),
        }
    }
}

#[test]
fn projections_catch_up_and_stale_or_missing_ones_are_rebuilt_not_trusted() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ledger");
    let options = AppendOptions {
        appended_by: "rules".into(),
        recorded_at: None,
    };
    {
        let mut ledger = Ledger::init(&path, "rules", &common::clock(0)).unwrap();
        ledger
            .append(
                &[event_from_json(&designation("d", "2021-03-22", &["zhu"], None)).unwrap()],
                &options,
                &common::clock(1),
            )
            .unwrap();
        assert_eq!(
            projection::sync(&ledger).unwrap(),
            projection::Sync::Rebuilt { records: 1 },
            "none yet: built"
        );
        ledger
            .append(
                &[event_from_json(&designation("d2", "2021-03-23", &["wang"], None)).unwrap()],
                &options,
                &common::clock(2),
            )
            .unwrap();
        assert_eq!(
            projection::sync(&ledger).unwrap(),
            projection::Sync::CaughtUp { records: 1 }
        );
        assert_eq!(
            projection::sync(&ledger).unwrap(),
            projection::Sync::Current
        );
    }
    // Bound to a record whose hash is not the stored one: stale, so rebuilt.
    {
        let db = open_sled(&path);
        let meta = db.open_tree("proj_meta").unwrap();
        let mut applied = meta.get("applied").unwrap().unwrap().to_vec();
        applied[20] ^= 1;
        meta.insert("applied", applied).unwrap();
        db.flush().unwrap();
    }
    let ledger = Ledger::open(&path).unwrap();
    assert_eq!(
        projection::sync(&ledger).unwrap(),
        projection::Sync::Rebuilt { records: 2 }
    );
    drop(ledger);
    // Missing: rebuilt.
    {
        let db = open_sled(&path);
        db.open_tree("proj_meta")
            .unwrap()
            .remove("applied")
            .unwrap();
        db.open_tree("proj_current").unwrap().clear().unwrap();
        db.flush().unwrap();
    }
    let ledger = Ledger::open(&path).unwrap();
    assert_eq!(
        projection::sync(&ledger).unwrap(),
        projection::Sync::Rebuilt { records: 2 }
    );
    let query = Query::new(&ledger, None).unwrap();
    assert_eq!(
        query
            .state(date("2021-04-01"), &Filter::default())
            .unwrap()
            .listings
            .len(),
        2
    );
    drop(query);
    drop(ledger);
    // Damaged in a way the binding cannot see: verify --projections finds it.
    {
        let db = open_sled(&path);
        let current = db.open_tree("proj_current").unwrap();
        let (key, _) = current.first().unwrap().unwrap();
        current.remove(key).unwrap();
        db.flush().unwrap();
    }
    let ledger = Ledger::open(&path).unwrap();
    let mismatches = projection::verify(&ledger).unwrap();
    assert_eq!(mismatches.len(), 1, "{mismatches:?}");
    projection::rebuild(&ledger, &mut |_| {}).unwrap();
    assert!(projection::verify(&ledger).unwrap().is_empty());
}

#[test]
fn a_chain_of_corrections_of_corrections_updates_the_listing_at_every_step() {
    // Regression: an incremental update once re-evaluated only one level below the newest
    // correction, leaving the current view stale for chains of three (found by
    // `verify --projections` on a generated ledger).
    let mut world = World::new();
    world.record(&[designation("d", "2021-03-22", &["zhu"], None)]);
    world.record(&[retraction("c1", "2021-03-22", "d")]);
    assert!(!world.in_force("2021-04-01", None, "zhu"));
    world.record(&[retraction("c2", "2021-03-22", "c1")]);
    assert!(world.in_force("2021-04-01", None, "zhu"));
    world.record(&[retraction("c3", "2021-03-22", "c2")]);
    assert!(
        !world.in_force("2021-04-01", None, "zhu"),
        "c3 withdraws c2, so c1's retraction stands again"
    );
    world.record(&[retraction("c4", "2021-03-22", "c3")]);
    assert!(world.in_force("2021-04-01", None, "zhu"));
    assert!(projection::verify(&world.ledger).unwrap().is_empty());
}

/// Every entry of every derived tree, read with sled directly.
fn derived_entries(path: &std::path::Path) -> Vec<(String, Vec<u8>, Vec<u8>)> {
    let mut entries = Vec::new();
    common::with_db(path, |db| {
        for (_, name) in sanctions_ledger::ledger::store::DERIVED_TREES {
            for item in db.open_tree(name).unwrap().iter() {
                let (key, value) = item.unwrap();
                entries.push((name.to_owned(), key.to_vec(), value.to_vec()));
            }
        }
    });
    entries
}

#[test]
fn a_rebuild_writes_exactly_the_derived_trees_that_appending_built() {
    // Corrections, renewals, delistings and retaliations, appended in uneven batches, the
    // projections caught up after each one.
    let ledger = common::ledger_with(1, 1);
    {
        let mut opened = Ledger::open(&ledger.path).unwrap();
        assert!(matches!(
            projection::sync(&opened).unwrap(),
            projection::Sync::Rebuilt { .. }
        ));
        let mut next = 1;
        while next < 150 {
            let events = common::synthetic_events(next, 11);
            opened
                .append(&events, &common::options(), &common::clock(next as i64))
                .unwrap();
            assert!(matches!(
                projection::sync(&opened).unwrap(),
                projection::Sync::CaughtUp { .. }
            ));
            next += 11;
        }
    }
    let incremental = derived_entries(&ledger.path);
    assert!(incremental.len() > 300, "{} entries", incremental.len());
    {
        let opened = Ledger::open(&ledger.path).unwrap();
        projection::rebuild(&opened, &mut |_| {}).unwrap();
    }
    let rebuilt = derived_entries(&ledger.path);
    assert_eq!(rebuilt.len(), incremental.len());
    for (a, b) in incremental.iter().zip(&rebuilt) {
        assert_eq!(a, b, "first differing entry");
    }
}
