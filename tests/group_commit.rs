//! Group commit (`Ledger::append_group`, what the server's writer uses): several requests in
//! one write and one durability barrier, each still all or nothing on its own: a refused
//! request never fails its neighbours, an id offered twice is recorded once, and `If-Match`
//! is judged against the head as the group stands before the request.

mod common;

use sanctions_ledger::ledger::{AppendOptions, GroupRequest, LedgerError};
use serde_json::json;

fn options(who: &str) -> AppendOptions {
    AppendOptions {
        appended_by: who.to_owned(),
        recorded_at: None,
    }
}

#[test]
fn each_request_of_a_group_stands_or_falls_alone() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ledger");
    let mut ledger =
        sanctions_ledger::ledger::Ledger::init(&path, "group", &common::clock(0)).unwrap();
    let before = ledger.head();
    let first = common::synthetic_events(0, 5);
    let unknown_reference = vec![common::event(json!({
        "kind": "statement", "id": "orphan", "effective_on": "2021-03-22",
        "sources": [common::source()], "speaker": "Someone", "text": "About nothing recorded.",
        "about_events": ["never-recorded"]
    }))];
    // Event 0 again (identical) and event 5 (new, referring to event 0 of the first request).
    let overlapping = vec![common::synthetic_event(0), common::synthetic_event(5)];
    let conflicting = vec![common::event(json!({
        "kind": "statement", "id": "event-1", "effective_on": "2021-03-22",
        "sources": [common::source()], "speaker": "Someone", "text": "Not what event-1 is."
    }))];
    let stale = vec![common::synthetic_event(6)];
    let (a, b, c, d, e) = (
        options("a"),
        options("b"),
        options("c"),
        options("d"),
        options("e"),
    );
    let requests = [
        GroupRequest {
            events: &first,
            options: &a,
            expected_head: Some(before.hash),
        },
        GroupRequest {
            events: &unknown_reference,
            options: &b,
            expected_head: None,
        },
        GroupRequest {
            events: &overlapping,
            options: &c,
            expected_head: None,
        },
        GroupRequest {
            events: &conflicting,
            options: &d,
            expected_head: None,
        },
        // Required the head before the group: it has moved (request a appended).
        GroupRequest {
            events: &stale,
            options: &e,
            expected_head: Some(before.hash),
        },
    ];
    let results = ledger
        .append_group(&requests, &common::clock(1))
        .expect("the group's write");
    assert_eq!(results.len(), 5);
    let first_report = results[0].as_ref().expect("request a");
    assert_eq!(first_report.head.sequence, 5);
    assert!(matches!(
        results[1],
        Err(LedgerError::UnknownReference { .. })
    ));
    let overlap = results[2].as_ref().expect("request c");
    assert_eq!(
        overlap.outcomes[0].sequence,
        first_report.outcomes[0].sequence
    );
    assert!(!overlap.outcomes[0].appended);
    assert_eq!(
        (overlap.outcomes[1].sequence, overlap.outcomes[1].appended),
        (6, true)
    );
    assert!(matches!(
        results[3],
        Err(LedgerError::Conflict { sequence: 2, .. })
    ));
    assert!(matches!(
        results[4],
        Err(LedgerError::HeadMoved { sequence: 6, .. })
    ));
    assert_eq!(ledger.head().sequence, 6);
    // Each record names the request's operator; the log verifies.
    assert_eq!(ledger.record(1).unwrap().unwrap().record.appended_by, "a");
    assert_eq!(ledger.record(6).unwrap().unwrap().record.appended_by, "c");
    ledger.flush_derived().unwrap();
    ledger.verify(&mut |_| {}).expect("the log verifies");
    drop(ledger);
    let reopened = sanctions_ledger::ledger::Ledger::open(&path).unwrap();
    assert_eq!(reopened.head().sequence, 6);
    // A group with nothing to write writes nothing.
    let mut reopened = reopened;
    let again = [GroupRequest {
        events: &first,
        options: &a,
        expected_head: None,
    }];
    let results = reopened.append_group(&again, &common::clock(2)).unwrap();
    assert!(
        results[0]
            .as_ref()
            .unwrap()
            .outcomes
            .iter()
            .all(|o| !o.appended)
    );
    assert_eq!(reopened.head().sequence, 6);
}

#[test]
fn a_question_asked_while_projections_catch_up_is_answered_as_known_at_what_they_reflect() {
    // What the server's reads do while the writer brings the projections to the head: the answer
    // counts no record past the one the projections reflect, and says the head is later.
    let built = common::ledger_with(14, 7);
    let ledger = sanctions_ledger::ledger::Ledger::open(&built.path).unwrap();
    sanctions_ledger::projection::sync(&ledger).unwrap();
    let date = sanctions_ledger::domain::CivilDate::parse("2021-03-20").unwrap();
    let filter = sanctions_ledger::query::Filter::default();
    let up_to = sanctions_ledger::query::Query::new_up_to(&ledger, None, 7).unwrap();
    let known = up_to.known_at();
    assert_eq!(
        (known.sequence, known.head, known.head_sequence),
        (7, false, 14)
    );
    let at_seven = sanctions_ledger::query::Query::at_sequence(&ledger, 7).unwrap();
    assert_eq!(
        serde_json::to_value(up_to.state(date, &filter).unwrap()).unwrap(),
        serde_json::to_value(at_seven.state(date, &filter).unwrap()).unwrap()
    );
    let whole = sanctions_ledger::query::Query::new_up_to(&ledger, None, 99).unwrap();
    assert_eq!(whole.known_at().sequence, 14, "clamped to the head");
}
