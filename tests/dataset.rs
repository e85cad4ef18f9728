//! The bundled dataset tells the facts file's story: answers asserted exactly
//! (../shared/data/xinjiang-2021-facts.md), and the quickstart that tours it.

mod common;

use sanctions_ledger::cli::BUNDLED_DATASET;
use sanctions_ledger::domain::{CivilDate, EventBody};
use sanctions_ledger::intake::{InputFormat, read_batch};
use sanctions_ledger::ledger::{AppendOptions, Ledger};
use sanctions_ledger::projection;
use sanctions_ledger::query::{Filter, Query};
use std::collections::BTreeSet;

struct Bundled {
    _dir: tempfile::TempDir,
    ledger: Ledger,
}

fn bundled() -> Bundled {
    let dir = tempfile::tempdir().unwrap();
    let mut ledger =
        Ledger::init(&dir.path().join("ledger"), "dataset", &common::clock(0)).unwrap();
    let batch = read_batch(
        BUNDLED_DATASET.as_bytes(),
        "dataset",
        InputFormat::JsonLines,
    )
    .unwrap();
    ledger
        .append(
            &batch.events,
            &AppendOptions {
                appended_by: "test".into(),
                recorded_at: None,
            },
            &common::clock(1),
        )
        .unwrap();
    projection::sync(&ledger).unwrap();
    Bundled { _dir: dir, ledger }
}

fn date(text: &str) -> CivilDate {
    CivilDate::parse(text).unwrap()
}

fn listed(query: &Query<'_>, on: &str, authority: &str) -> BTreeSet<String> {
    let filter = Filter {
        authority: Some(authority.into()),
        ..Filter::default()
    };
    query
        .state(date(on), &filter)
        .unwrap()
        .listings
        .into_iter()
        .map(|l| l.subject)
        .collect()
}

const JULY_2020: [&str; 8] = [
    "xj-chen-quanguo",
    "xj-huo-liujun",
    "xj-peng-jiarui",
    "xj-sun-jinlong",
    "xj-wang-mingshan",
    "xj-xpcc",
    "xj-xpsb",
    "xj-zhu-hailun",
];
const MARCH_2021_FIVE: [&str; 5] = [
    "xj-chen-mingguo",
    "xj-wang-junzheng",
    "xj-wang-mingshan",
    "xj-xpcc-psb",
    "xj-zhu-hailun",
];

fn set(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| s.to_string()).collect()
}

#[test]
fn as_of_21_march_2021_only_the_us_lists_xinjiang_subjects() {
    let bundled = bundled();
    let query = Query::new(&bundled.ledger, None).unwrap();
    assert_eq!(listed(&query, "2021-03-21", "US-OFAC"), set(&JULY_2020));
    let zhu = query
        .state(
            date("2021-03-21"),
            &Filter {
                subject: Some("xj-zhu-hailun".into()),
                ..Filter::default()
            },
        )
        .unwrap();
    assert_eq!(
        (zhu.listings.len(), zhu.listings[0].since.as_str()),
        (1, "2020-07-09")
    );
    for authority in ["EU-COUNCIL", "UK-FCDO", "CA-GAC"] {
        assert!(
            listed(&query, "2021-03-21", authority).is_empty(),
            "{authority}"
        );
    }
}

#[test]
fn as_of_22_march_2021_the_allies_list_the_same_five_and_china_answers_the_eu() {
    let bundled = bundled();
    let query = Query::new(&bundled.ledger, None).unwrap();
    let mut us = set(&JULY_2020);
    us.extend(set(&["xj-wang-junzheng", "xj-chen-mingguo"]));
    assert_eq!(listed(&query, "2021-03-22", "US-OFAC"), us);
    for authority in ["EU-COUNCIL", "UK-FCDO", "CA-GAC"] {
        assert_eq!(
            listed(&query, "2021-03-22", authority),
            set(&MARCH_2021_FIVE),
            "{authority}"
        );
    }
    let record = bundled
        .ledger
        .record(
            bundled
                .ledger
                .sequence_of("cn-mfa-2021-03-22-eu")
                .unwrap()
                .unwrap(),
        )
        .unwrap()
        .unwrap();
    let EventBody::Retaliation(retaliation) = record.event.body() else {
        panic!("a retaliation")
    };
    let persons = retaliation
        .subjects
        .iter()
        .filter(|s| s.kind.as_str() == "person")
        .count();
    assert_eq!((persons, retaliation.subjects.len() - persons), (10, 4));
    assert_eq!(
        retaliation
            .in_response_to
            .iter()
            .map(|id| id.as_str())
            .collect::<Vec<_>>(),
        vec!["eu-council-2021-03-22-ghr-xinjiang"]
    );
    let state = query
        .state(
            date("2021-03-22"),
            &Filter {
                authority: Some("CN-MFA".into()),
                ..Filter::default()
            },
        )
        .unwrap();
    let of_the_day: Vec<_> = state
        .listings
        .iter()
        .filter(|l| l.since == "2021-03-22")
        .collect();
    assert_eq!(of_the_day.len(), 14);
}

#[test]
fn as_of_28_march_2021_chinas_later_counter_sanctions_are_in_force_too() {
    let bundled = bundled();
    let query = Query::new(&bundled.ledger, None).unwrap();
    let state = query
        .state(
            date("2021-03-28"),
            &Filter {
                authority: Some("CN-MFA".into()),
                ..Filter::default()
            },
        )
        .unwrap();
    let count = |since: &str| {
        let of: Vec<_> = state.listings.iter().filter(|l| l.since == since).collect();
        let persons = of
            .iter()
            .filter(|l| l.subject_kind.as_deref() == Some("person"))
            .count();
        (persons, of.len() - persons)
    };
    assert_eq!(count("2021-03-26"), (9, 4), "UK side");
    assert_eq!(count("2021-03-27"), (3, 1), "US and Canadian side");
    assert_eq!(count("2021-03-22"), (10, 4), "EU side, still in force");
}

#[test]
fn wang_junzhengs_history_shows_four_designations_on_22_march_2021() {
    let bundled = bundled();
    let query = Query::new(&bundled.ledger, None).unwrap();
    let history = query
        .history("xj-wang-junzheng", date("2026-11-28"))
        .unwrap();
    assert_eq!(history.names, vec!["WANG Junzheng", "王君正"]);
    let designations: Vec<(&str, &str)> = history
        .timeline
        .iter()
        .filter(|entry| entry.kind == "designation")
        .map(|entry| {
            (
                entry.effective_on.as_str(),
                entry.event_id.as_deref().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        designations,
        vec![
            ("2021-03-22", "us-ofac-2021-03-22-glomag-xinjiang"),
            ("2021-03-22", "eu-council-2021-03-22-ghr-xinjiang"),
            ("2021-03-22", "uk-fcdo-2021-03-22-ghr-xinjiang"),
            ("2021-03-22", "ca-gac-2021-03-22-sema-china"),
        ]
    );
    let authorities: BTreeSet<&str> = history
        .listings
        .iter()
        .map(|l| l.authority.as_str())
        .collect();
    assert_eq!(
        authorities,
        BTreeSet::from(["CA-GAC", "EU-COUNCIL", "UK-FCDO", "US-OFAC"]),
        "one subject id across all authorities"
    );
}

#[test]
fn the_eu_end_dates_follow_the_renewals_and_later_dates_show_what_the_ledger_knows() {
    let bundled = bundled();
    let query = Query::new(&bundled.ledger, None).unwrap();
    let eu_until = |on: &str| -> Vec<Option<String>> {
        let filter = Filter {
            authority: Some("EU-COUNCIL".into()),
            ..Filter::default()
        };
        query
            .state(date(on), &filter)
            .unwrap()
            .listings
            .into_iter()
            .map(|l| l.until)
            .collect()
    };
    assert_eq!(
        eu_until("2021-06-01"),
        vec![Some("2021-12-08".to_owned()); 5]
    );
    assert_eq!(
        eu_until("2022-06-01"),
        vec![Some("2022-12-08".to_owned()); 5]
    );
    assert_eq!(
        eu_until("2023-06-01"),
        vec![Some("2023-12-08".to_owned()); 5]
    );
    assert_eq!(
        eu_until("2024-06-01"),
        vec![Some("2024-12-08".to_owned()); 5]
    );
    assert_eq!(
        eu_until("2025-06-01"),
        vec![Some("2025-12-08".to_owned()); 5]
    );
    assert!(
        eu_until("2026-01-01").is_empty(),
        "no renewal after 2025-12-08 is recorded, so the ledger shows the listings lapsed"
    );
    let diff = query
        .diff(
            date("2025-12-08"),
            date("2025-12-09"),
            &Filter {
                authority: Some("EU-COUNCIL".into()),
                ..Filter::default()
            },
        )
        .unwrap();
    assert!(
        diff.left_force.iter().all(|left| left.reason == "lapsed") && diff.left_force.len() == 5
    );
}

#[test]
fn every_event_has_sources_and_unconfirmed_facts_say_so() {
    let batch = read_batch(
        BUNDLED_DATASET.as_bytes(),
        "dataset",
        InputFormat::JsonLines,
    )
    .unwrap();
    assert_eq!(batch.events.len(), 26);
    let caveats_of = |id: &str| -> String {
        let event = batch.events.iter().find(|e| e.id().as_str() == id).unwrap();
        event
            .parts()
            .caveats
            .iter()
            .map(|c| c.as_str().to_owned())
            .collect::<Vec<_>>()
            .join(" | ")
    };
    assert!(
        batch
            .events
            .iter()
            .all(|event| !event.parts().sources.is_empty())
    );
    assert!(
        caveats_of("eu-council-2023-12-04-ghr-renewal")
            .contains("unconfirmed: the framework was prolonged")
    );
    assert!(caveats_of("cn-mfa-2020-07-13-us").contains("other measures are unconfirmed"));
    assert!(
        caveats_of("us-ofac-2021-12-10-glomag-xinjiang").contains("confirmed from list data only")
    );
    assert!(caveats_of("stmt-2021-03-24-sassoli").contains("the exact day is unconfirmed"));
}

#[test]
fn the_seed_article_is_bundled_and_cited_by_its_sha256() {
    let article = std::fs::read("data/seed/ani-2021-03-22.txt").unwrap();
    let readme = std::fs::read_to_string("data/README.md").unwrap();
    let digest = "30f483d8c68c5c26428e21c3a603a71557f5f3081cc8466c85c593d6706bfe65";
    assert!(
        readme.contains(digest),
        "data/README.md records the seed's sha256"
    );
    let batch = read_batch(
        BUNDLED_DATASET.as_bytes(),
        "dataset",
        InputFormat::JsonLines,
    )
    .unwrap();
    let citing: Vec<&str> = batch
        .events
        .iter()
        .filter(|event| {
            event
                .parts()
                .sources
                .iter()
                .any(|s| s.sha256.map(|d| d.to_hex()).as_deref() == Some(digest))
        })
        .map(|event| event.id().as_str())
        .collect();
    assert!(
        citing.contains(&"us-ofac-2021-03-22-glomag-xinjiang")
            && citing.contains(&"eu-council-2021-03-22-ghr-xinjiang"),
        "{citing:?}"
    );
    assert!(
        citing.contains(&"stmt-2021-03-22-gacki") && citing.contains(&"stmt-2021-03-22-blinken")
    );
    // The bytes really hash to the recorded digest.
    assert_eq!(sha256_hex(&article), digest);
}

fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[test]
fn the_quickstart_tells_the_story_through_the_binary() {
    let dir = tempfile::tempdir().unwrap();
    let output = common::run_cli(dir.path(), &["quickstart"], None);
    assert_eq!(output.status.code(), Some(0), "{}", common::stderr(&output));
    let text = common::stdout(&output);
    for expected in [
        "(26 events; 26 appended now, 0 already recorded)",
        "Verified: 26 records chain from the genesis to head ",
        "   2021-03-21: CN-MFA 4+1, US-OFAC 6+2 (persons+entities)",
        "   2021-03-22: CA-GAC 4+1, CN-MFA 14+5, EU-COUNCIL 4+1, UK-FCDO 4+1, US-OFAC 8+2 (persons+entities)",
        "   2021-03-28: CA-GAC 4+1, CN-MFA 26+10, EU-COUNCIL 4+1, UK-FCDO 4+1, US-OFAC 8+2 (persons+entities)",
        "   2021-03-22 cn-mfa-2021-03-22-eu: 10 person(s), 4 entities; answers eu-council-2021-03-22-ghr-xinjiang",
        "   2021-03-27 cn-mfa-2021-03-27-us-ca: 3 person(s), 1 entity; answers us-ofac-2021-03-22-glomag-xinjiang and ca-gac-2021-03-22-sema-china",
        "3. xj-wang-junzheng (WANG Junzheng / 王君正) across authorities:",
        "   EU-COUNCIL/EU-GHR: from 2021-03-22 through 2025-12-08 (lapsed)",
        "Note: the EU listings show as lapsed after 2025-12-08 because the ledger records no later renewal",
        "sanctions-ledger --ledger ledger verify",
    ] {
        assert!(text.contains(expected), "missing {expected:?} in:\n{text}");
    }
    // Idempotent: a second run appends nothing and tells the same story.
    let again = common::stdout(&common::run_cli(dir.path(), &["quickstart"], None));
    assert!(
        again.contains("(26 events; 0 appended now, 26 already recorded)"),
        "{again}"
    );
    assert!(again.contains("   2021-03-28: CA-GAC 4+1, CN-MFA 26+10, EU-COUNCIL 4+1, UK-FCDO 4+1, US-OFAC 8+2 (persons+entities)"));
}
