//! Property tests: encode/decode and JSON round trips on arbitrary events; every log that
//! `append` produced verifies. Deterministic: proptest's seed is fixed by its config below.

mod common;

use proptest::prelude::*;
use sanctions_ledger::domain::{EVENT_SCHEMA_VERSION, Event, Name};
use sanctions_ledger::intake::{event_from_json, event_to_json};
use sanctions_ledger::ledger::record::{decode_event, encode_event};
use sanctions_ledger::ledger::{AppendOptions, FixedClock, Ledger};
use serde_json::{Value, json};

/// The published event schema, built once.
fn event_schema() -> &'static jsonschema::Validator {
    static VALIDATOR: std::sync::OnceLock<jsonschema::Validator> = std::sync::OnceLock::new();
    VALIDATOR.get_or_init(|| {
        let schema = sanctions_ledger::schemas::all()
            .into_iter()
            .find(|(name, _)| name == "event.schema.json")
            .unwrap()
            .1;
        jsonschema::options()
            .should_validate_formats(true)
            .build(&schema)
            .unwrap()
    })
}

fn config(cases: u32) -> ProptestConfig {
    ProptestConfig {
        cases,
        failure_persistence: None,
        rng_algorithm: proptest::test_runner::RngAlgorithm::ChaCha,
        ..ProptestConfig::default()
    }
}

/// Names in any script, with combining marks (so NFC normalisation matters).
fn name() -> impl Strategy<Value = String> {
    "[\\p{L}\\p{M}\\p{N}][\\p{L}\\p{M}\\p{N} .,'()-]{0,30}"
        .prop_map(|text| text.trim().to_owned())
        .prop_filter("a valid name", |text| Name::new(text).is_ok())
}

fn identifier() -> impl Strategy<Value = String> {
    "[a-z0-9][a-z0-9._:/-]{0,20}"
}

fn date() -> impl Strategy<Value = String> {
    (1990u32..2030, 1u32..13, 1u32..29).prop_map(|(y, m, d)| format!("{y:04}-{m:02}-{d:02}"))
}

fn subject() -> impl Strategy<Value = Value> {
    (
        identifier(),
        prop::sample::select(vec!["person", "entity", "vessel", "aircraft"]),
        prop::collection::vec(name(), 1..3),
        prop::collection::vec(name(), 0..2),
    )
        .prop_map(|(id, kind, names, aliases)| {
            let mut subject = json!({"id": id, "kind": kind, "names": names});
            if !aliases.is_empty() {
                subject["aliases"] = json!(aliases);
            }
            subject
        })
}

fn measures() -> impl Strategy<Value = Vec<&'static str>> {
    prop::sample::subsequence(
        vec![
            "asset_freeze",
            "funds_ban",
            "travel_ban",
            "entry_ban",
            "business_ban",
        ],
        1..4,
    )
}

fn source() -> impl Strategy<Value = Value> {
    (name(), prop::option::of(name())).prop_map(|(publisher, title)| match title {
        Some(title) => {
            json!({"publisher": publisher, "title": title, "url": "https://example.org/x"})
        }
        None => json!({"publisher": publisher, "url": "https://example.org/x"}),
    })
}

/// Arbitrary events of the kinds that need no earlier event.
fn event_json() -> impl Strategy<Value = Value> {
    let designation = (identifier(), date(), source(), prop::collection::vec(subject(), 1..4), measures(), prop::option::of(name()), prop::option::of(measures()))
        .prop_map(|(id, date, source, mut subjects, measures, reason, own)| {
            for (index, subject) in subjects.iter_mut().enumerate() {
                subject["id"] = json!(format!("s{index}-{}", subject["id"].as_str().unwrap()));
            }
            let mut event = json!({"kind": "designation", "id": id, "effective_on": date, "sources": [source],
                                   "authority": "AUTH", "programme": "PROG", "legal_basis": ["Act 1"],
                                   "subjects": subjects, "measures": measures});
            if let Some(reason) = reason {
                event["reason"] = json!(reason);
            }
            if let Some(own) = own {
                event["measures_by_subject"] = json!([{"subject": event["subjects"][0]["id"], "measures": own}]);
            }
            event
        });
    let statement = (identifier(), date(), source(), name(), name())
        .prop_map(|(id, date, source, speaker, text)| json!({"kind": "statement", "id": id, "effective_on": date, "sources": [source], "speaker": speaker, "text": text}));
    let renewal = (identifier(), date(), source()).prop_map(|(id, date, source)| {
        json!({"kind": "renewal", "id": id, "effective_on": date, "sources": [source], "authority": "AUTH", "programme": "PROG", "until": "2031-01-01"})
    });
    prop_oneof![designation, statement, renewal]
}

proptest! {
    #![proptest_config(config(256))]

    #[test]
    fn events_round_trip_through_the_encoding_and_json(value in event_json()) {
        let event: Event = event_from_json(&value).map_err(|p| TestCaseError::fail(format!("{p:?}")))?;
        prop_assert!(event_schema().is_valid(&event_to_json(&event)), "a valid event fails the schema: {}", event_to_json(&event));
        let bytes = encode_event(&event).unwrap();
        prop_assert_eq!(&decode_event(&bytes, EVENT_SCHEMA_VERSION).unwrap(), &event);
        prop_assert_eq!(encode_event(&decode_event(&bytes, EVENT_SCHEMA_VERSION).unwrap()).unwrap(), bytes);
        prop_assert_eq!(&event_from_json(&event_to_json(&event)).unwrap(), &event);
    }
}

proptest! {
    #![proptest_config(config(24))]

    #[test]
    fn verify_accepts_every_log_that_append_produced(batches in prop::collection::vec(1u64..40, 1..6), repeat_last in any::<bool>()) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ledger");
        let mut ledger = Ledger::init(&path, "property", &common::clock(0)).unwrap();
        let options = AppendOptions { appended_by: "prop".into(), recorded_at: None };
        let mut next = 0;
        for (index, size) in batches.iter().enumerate() {
            // The clock goes back and forth: recorded times must still never decrease.
            let clock = FixedClock(sanctions_ledger::domain::Timestamp::from_unix_micros(1_000_000 * ((index as i64 * 7) % 5)));
            ledger.append(&common::synthetic_events(next, *size), &options, &clock).unwrap();
            next += size;
        }
        if repeat_last {
            let last = *batches.last().unwrap();
            let report = ledger.append(&common::synthetic_events(next - last, last), &options, &common::clock(0)).unwrap();
            prop_assert!(report.outcomes.iter().all(|outcome| !outcome.appended));
        }
        drop(ledger);
        let ledger = Ledger::open(&path).unwrap();
        let verified = ledger.verify(&mut |_| {}).map_err(|f| TestCaseError::fail(f.to_string()))?;
        prop_assert_eq!(verified.records, next);
        prop_assert_eq!(verified.head_hash, ledger.head().hash);
    }
}

proptest! {
    #![proptest_config(config(48))]

    #[test]
    fn any_event_that_passes_intake_round_trips_through_the_ledger(values in prop::collection::vec(event_json(), 1..6)) {
        let dir = tempfile::tempdir().unwrap();
        let mut ledger = Ledger::init(&dir.path().join("ledger"), "round trip", &common::clock(0)).unwrap();
        let mut events: Vec<Event> = Vec::new();
        for (index, mut value) in values.into_iter().enumerate() {
            value["id"] = json!(format!("{index}-{}", value["id"].as_str().unwrap()));
            events.push(event_from_json(&value).map_err(|p| TestCaseError::fail(format!("{p:?}")))?);
        }
        let options = AppendOptions { appended_by: "prop".into(), recorded_at: None };
        let report = ledger.append(&events, &options, &common::clock(1)).unwrap();
        for (event, outcome) in events.iter().zip(&report.outcomes) {
            let view = ledger.record(outcome.sequence).unwrap().unwrap();
            prop_assert_eq!(&view.event, event);
            prop_assert_eq!(event_to_json(&view.event), event_to_json(event));
        }
    }
}
