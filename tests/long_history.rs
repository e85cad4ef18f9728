//! No derived value grows with history: one subject and one listing with a long history work
//! like a short one. The finding this pins: after about 300 events naming one subject (1,041
//! minimal designations of one listing), `state`, `history` and every later `append` failed
//! with "projection data is damaged (undecodable: LimitExceeded)", and the failing append
//! exited 2 after its records were committed.

mod common;

use sanctions_ledger::domain::CivilDate;
use sanctions_ledger::ledger::{Ledger, SystemClock};
use sanctions_ledger::projection;
use sanctions_ledger::query::{Filter, Query};
use serde_json::json;

fn designation(index: u64) -> sanctions_ledger::domain::Event {
    common::event(json!({
        "kind": "designation", "id": format!("d-{index}"), "effective_on": "2021-03-22",
        "sources": [common::source()], "authority": "EU-COUNCIL", "programme": "EU-GHR", "legal_basis": ["Regulation 2020/1998"],
        "subjects": [{"id": "one-subject", "kind": "person", "names": [format!("ONE Subject {index}")]}],
        "measures": ["asset_freeze"]
    }))
}

fn long_history(events: u64) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ledger");
    let mut ledger = Ledger::init(&path, "long history", &common::clock(0)).unwrap();
    let mut next = 0;
    while next < events {
        let count = 10_000.min(events - next);
        let batch: Vec<_> = (next..next + count).map(designation).collect();
        ledger
            .append(&batch, &common::options(), &SystemClock)
            .unwrap();
        projection::sync(&ledger).unwrap();
        next += count;
    }
    let query = Query::new(&ledger, None).unwrap();
    let state = query
        .state(CivilDate::parse("2021-04-01").unwrap(), &Filter::default())
        .unwrap();
    assert_eq!(state.listings.len(), 1);
    assert_eq!(state.listings[0].why.len() as u64, events);
    let history = query
        .history("one-subject", CivilDate::parse("2026-12-01").unwrap())
        .unwrap()
        .unwrap();
    assert_eq!(history.timeline.len() as u64, events);
    drop(query);
    // And one more append, with its projections, works too.
    ledger
        .append(&[designation(events)], &common::options(), &SystemClock)
        .unwrap();
    projection::sync(&ledger).unwrap();
    assert!(projection::verify(&ledger).unwrap().is_empty());
    drop(ledger);
    // Also through a fresh open (what the CLI does).
    let ledger = Ledger::open(&path).unwrap();
    let query = Query::new(&ledger, None).unwrap();
    let history = query
        .history("one-subject", CivilDate::parse("2026-12-01").unwrap())
        .unwrap()
        .unwrap();
    assert_eq!(history.timeline.len() as u64, events + 1);
}

#[test]
fn one_listing_designated_1041_times_still_answers_and_appends() {
    long_history(1_041);
}

#[test]
fn one_subject_with_100000_events_still_answers_and_appends() {
    long_history(100_000);
}
