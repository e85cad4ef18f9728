//! The bundled dataset tells the facts file's story: answers asserted exactly
//! (../shared/data/xinjiang-2021-facts.md), and the quickstart that tours it.

mod common;

use sanctions_ledger::cli::{BUNDLED_DATASET, append_bundled, init_bundled};
use sanctions_ledger::domain::{CivilDate, EventBody};
use sanctions_ledger::intake::{InputFormat, read_batch};
use sanctions_ledger::ledger::Ledger;
use sanctions_ledger::projection;
use sanctions_ledger::query::{Filter, Query};
use std::collections::BTreeSet;

struct Bundled {
    _dir: tempfile::TempDir,
    ledger: Ledger,
}

fn bundled() -> Bundled {
    let dir = tempfile::tempdir().unwrap();
    let batch = read_batch(
        BUNDLED_DATASET.as_bytes(),
        "dataset",
        InputFormat::JsonLines,
    )
    .unwrap();
    let mut ledger = init_bundled(&dir.path().join("ledger"), &batch.events).unwrap();
    append_bundled(&mut ledger, &batch.events).unwrap();
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
        .unwrap()
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
fn the_eu_end_dates_follow_the_renewals_and_after_the_last_no_decision_is_recorded() {
    let bundled = bundled();
    let query = Query::new(&bundled.ledger, None).unwrap();
    let eu = Filter {
        authority: Some("EU-COUNCIL".into()),
        ..Filter::default()
    };
    let eu_until = |on: &str| -> Vec<Option<String>> {
        query
            .state(date(on), &eu)
            .unwrap()
            .listings
            .into_iter()
            .map(|l| l.until)
            .collect()
    };
    for (on, until) in [
        ("2021-06-01", "2021-12-08"),
        ("2022-06-01", "2022-12-08"),
        ("2023-06-01", "2023-12-08"),
        ("2024-06-01", "2024-12-08"),
        ("2025-06-01", "2025-12-08"),
        ("2026-01-01", "2026-12-08"),
        ("2026-12-08", "2026-12-08"),
    ] {
        assert_eq!(eu_until(on), vec![Some(until.to_owned()); 5], "{on}");
    }
    // Today the listings are in force, and no warning: the December 2025 renewal is recorded.
    let today = query.state(date("2026-12-01"), &eu).unwrap();
    assert!(today.warnings.is_empty(), "{:?}", today.warnings);
    // After 2026-12-08 nothing is recorded: not in force, and the answer says why it says so.
    let after = query.state(date("2026-12-09"), &eu).unwrap();
    assert!(after.listings.is_empty());
    let undecided: BTreeSet<String> = after
        .warnings
        .iter()
        .filter(|w| w.kind == "no_decision_recorded" && w.date == "2026-12-08")
        .map(|w| w.listing.clone())
        .collect();
    assert_eq!(
        undecided,
        MARCH_2021_FIVE
            .iter()
            .map(|s| format!("EU-COUNCIL/EU-GHR/{s}"))
            .collect::<BTreeSet<_>>()
    );
    assert!(after.warnings.iter().all(|w| {
        w.message
            .contains("whether it was renewed is not known to this ledger")
    }));
    let diff = query
        .diff(date("2026-12-08"), date("2026-12-09"), &eu)
        .unwrap();
    assert_eq!(diff.left_force.len(), 5);
    assert!(
        diff.left_force
            .iter()
            .all(|left| left.reason == "no_decision_recorded" && left.by.is_none())
    );
    assert_eq!(diff.warnings.len(), 5);
    let history = query
        .history("xj-zhu-hailun", date("2027-01-01"))
        .unwrap()
        .unwrap();
    let eu_period = &history
        .listings
        .iter()
        .find(|l| l.authority == "EU-COUNCIL")
        .unwrap()
        .intervals[0];
    assert_eq!(
        (eu_period.end.as_deref(), eu_period.ending.as_str()),
        (Some("2026-12-08"), "no_decision_recorded")
    );
    let row = history
        .timeline
        .iter()
        .find(|entry| entry.kind == "end_date_passed")
        .unwrap();
    assert_eq!(
        (row.effective_on.as_str(), row.status.as_str()),
        ("2026-12-09", "no decision recorded")
    );
}

/// The facts file, section G: who is under which sanctions on 2026-12-01.
#[test]
fn the_state_on_1_december_2026_matches_the_facts_file() {
    let bundled = bundled();
    let query = Query::new(&bundled.ledger, None).unwrap();
    let state = query.state(date("2026-12-01"), &Filter::default()).unwrap();
    assert!(state.warnings.is_empty(), "{:?}", state.warnings);
    let of = |authority: &str| -> BTreeSet<String> {
        state
            .listings
            .iter()
            .filter(|l| l.authority == authority)
            .map(|l| l.subject.clone())
            .collect()
    };
    for authority in ["EU-COUNCIL", "UK-FCDO", "CA-GAC"] {
        assert_eq!(of(authority), set(&MARCH_2021_FIVE), "{authority}");
    }
    let mut us = set(&JULY_2020);
    us.extend(set(&[
        "xj-wang-junzheng",
        "xj-chen-mingguo",
        "xj-shohrat-zakir",
        "xj-erken-tuniyaz",
        "xj-gao-qi",
    ]));
    assert_eq!(of("US-OFAC"), us, "X1: no OFAC delisting found");
    let china = of("CN-MFA");
    // B38: lifted on the four sitting MEPs and the subcommittee.
    for lifted in [
        "eu-michael-gahler",
        "eu-raphael-glucksmann",
        "eu-ilhan-kyuchyuk",
        "eu-miriam-lexmann",
        "eu-ep-droi",
    ] {
        assert!(!china.contains(lifted), "{lifted} was lifted on 2025-04-30");
    }
    // Bütikofer is uncertain (carried as a caveat, not guessed); the PSC, Cogolati, the
    // Alliance of Democracies, the national MPs, the scholars and MERICS stay listed.
    for kept in [
        "eu-reinhard-butikofer",
        "eu-council-psc",
        "be-samuel-cogolati",
        "dk-alliance-of-democracies",
        "nl-sjoerd-sjoerdsma",
        "lt-dovile-sakaliene",
        "de-adrian-zenz",
        "se-bjorn-jerden",
        "de-merics",
    ] {
        assert!(china.contains(kept), "{kept}");
    }
    // B37: the four USCIRF commissioners, since 21 December 2021.
    for commissioner in [
        "us-nadine-maenza",
        "us-nury-turkel",
        "us-anurima-bhargava",
        "us-james-w-carr",
    ] {
        let listing = state
            .listings
            .iter()
            .find(|l| l.subject == commissioner)
            .unwrap();
        assert_eq!(
            (listing.since.as_str(), listing.counter_sanction),
            ("2021-12-21", true)
        );
    }
    // 13 July 2020: 5; the EU side: 14 less the 5 lifted; the UK side: 13; the US and
    // Canadian side: 4; the USCIRF commissioners: 4.
    assert_eq!(china.len(), 5 + 9 + 13 + 4 + 4, "{china:?}");
    // R5: the EU listings run to 2026-12-08.
    assert!(
        state
            .listings
            .iter()
            .filter(|l| l.authority == "EU-COUNCIL")
            .all(|l| l.until.as_deref() == Some("2026-12-08"))
    );
}

#[test]
fn the_entity_is_under_the_measures_the_acts_impose_on_it() {
    let bundled = bundled();
    let query = Query::new(&bundled.ledger, None).unwrap();
    let measures = |subject: &str, authority: &str| -> Vec<String> {
        query
            .state(
                date("2021-03-22"),
                &Filter {
                    subject: Some(subject.into()),
                    authority: Some(authority.into()),
                    ..Filter::default()
                },
            )
            .unwrap()
            .listings[0]
            .measures
            .clone()
    };
    assert_eq!(
        measures("xj-xpcc-psb", "EU-COUNCIL"),
        ["asset_freeze", "funds_ban"]
    );
    assert_eq!(measures("xj-xpcc-psb", "UK-FCDO"), ["asset_freeze"]);
    assert_eq!(measures("xj-xpcc-psb", "CA-GAC"), ["dealings_prohibition"]);
    assert_eq!(
        measures("xj-zhu-hailun", "EU-COUNCIL"),
        ["asset_freeze", "funds_ban", "travel_ban"]
    );
    assert_eq!(
        measures("xj-zhu-hailun", "UK-FCDO"),
        ["asset_freeze", "travel_ban"]
    );
    assert_eq!(
        measures("xj-zhu-hailun", "CA-GAC"),
        ["dealings_prohibition", "entry_ban"]
    );
}

#[test]
fn chinas_27_march_answer_maintains_the_sanctions_of_13_july_2020() {
    let bundled = bundled();
    let query = Query::new(&bundled.ledger, None).unwrap();
    let links = query.links("cn-mfa-2020-07-13-us").unwrap().unwrap();
    let maintained_by: Vec<&str> = links
        .referred_to_by
        .iter()
        .filter(|e| e.relation == "maintains")
        .map(|e| e.event_id.as_str())
        .collect();
    assert_eq!(maintained_by, ["cn-mfa-2021-03-27-us-ca"]);
    // A statement about a counter-sanction is not an answer to it.
    let uscirf = query.links("cn-mfa-2021-12-21-us-uscirf").unwrap().unwrap();
    let by: Vec<(&str, &str)> = uscirf
        .referred_to_by
        .iter()
        .map(|e| (e.event_id.as_str(), e.relation.as_str()))
        .collect();
    assert_eq!(by, [("stmt-2022-01-10-blinken", "about_events")]);
    assert_eq!(
        uscirf
            .refers_to
            .iter()
            .map(|e| (e.event_id.as_str(), e.relation.as_str()))
            .collect::<Vec<_>>(),
        [("us-ofac-2021-12-10-glomag-xinjiang", "in_response_to")]
    );
}

fn events_json() -> Vec<serde_json::Value> {
    BUNDLED_DATASET
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect()
}

#[test]
fn the_dataset_is_in_date_order_so_each_event_is_recorded_when_it_became_public() {
    let dates: Vec<String> = events_json()
        .iter()
        .map(|e| e["effective_on"].as_str().unwrap().to_owned())
        .collect();
    let mut sorted = dates.clone();
    sorted.sort();
    assert_eq!(dates, sorted);
    let bundled = bundled();
    for sequence in 1..=bundled.ledger.head().sequence {
        let view = bundled.ledger.record(sequence).unwrap().unwrap();
        assert_eq!(
            view.record.recorded_at.to_string(),
            format!("{}T00:00:00Z", view.event.effective_on()),
            "record {sequence}"
        );
        assert_eq!(view.record.appended_by, "quickstart");
    }
}

/// The head hash the README publishes: anyone can rebuild the bundled ledger and compare.
#[test]
fn the_bundled_ledger_is_the_same_everywhere_and_its_head_is_in_the_readme() {
    let first = bundled();
    let second = bundled();
    let head = first.ledger.head().hash.to_hex();
    assert_eq!(head, second.ledger.head().hash.to_hex());
    assert_eq!(first.ledger.head().sequence, 30);
    let readme = std::fs::read_to_string("README.md").unwrap();
    let published = format!("head hash `{head}`");
    assert!(
        readme.contains(&published),
        "README.md must publish the bundled ledger's {published}"
    );
    // And the binary's quickstart prints it.
    let dir = tempfile::tempdir().unwrap();
    let output = common::run_cli(dir.path(), &["quickstart"], None);
    assert!(
        common::stdout(&output).contains(&format!("to head {head}")),
        "{}",
        common::stdout(&output)
    );
}

#[test]
fn every_event_carries_the_sources_the_facts_file_gives_and_invents_none() {
    let events = events_json();
    assert_eq!(events.len(), 30);
    let urls: Vec<String> = events
        .iter()
        .flat_map(|e| e["sources"].as_array().unwrap().clone())
        .map(|s| s["url"].as_str().unwrap().to_owned())
        .collect();
    // Among those the first dataset left out (issue 12).
    for host in [
        "complianceconcourse.willkie.com/articles/news-alerts-2021-03-march-20210324-ofac-designates",
        "unilad.co.uk",
        "mondaq.com",
        "einpresswire.com",
        "metronieuws.nl",
        "theepochtimes.com",
        "eurlexa.com",
        "biztweet.cz",
        "greekcitytimes.com",
        "brusselsmorning.com",
        "sapo.pt",
        "jubileecampaign.org",
        "thehill.com",
        "weiming.info",
        "devdiscourse.com",
        "kenyannews.co.ke",
        "pledgetimes.com",
        "zdf.de",
        "acorianooriental.pt",
        "euractiv.com",
        "persecution.org",
        "adnamerica.com",
    ] {
        assert!(
            urls.iter().any(|url| url.contains(host)),
            "no event cites {host}"
        );
    }
    // Titles only where the facts file gives them (a legal act's name, a release's title).
    let titles: BTreeSet<String> = events
        .iter()
        .flat_map(|e| e["sources"].as_array().unwrap().clone())
        .filter_map(|s| s["title"].as_str().map(str::to_owned))
        .collect();
    assert_eq!(
        titles,
        BTreeSet::from([
            "Council Decision (CFSP) 2021/481 (OJ L 99I, 22.3.2021, p. 25)".to_owned(),
            "Special Economic Measures (People's Republic of China) Regulations, SOR/2021-49"
                .to_owned(),
            "UK sanctions perpetrators of gross human rights violations in Xinjiang…".to_owned(),
            "US, allies announce sanctions against Chinese officials for \"serious human rights\" violations"
                .to_owned(),
        ])
    );
    // The seed credits the EU's details to the Official Journal and the SCMP, China's words to
    // Sputnik: not to CNN.
    let ani_credit = |id: &str| -> String {
        let event = events.iter().find(|e| e["id"] == id).unwrap();
        event["sources"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["publisher"] == "ANI")
            .unwrap()["as_reported_by"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let eu = ani_credit("eu-council-2021-03-22-ghr-xinjiang");
    assert!(
        eu.contains("Official Journal") && eu.contains("South China Morning Post"),
        "{eu}"
    );
    assert!(!eu.contains("CNN"), "{eu}");
    let china = ani_credit("cn-mfa-2021-03-22-eu");
    assert!(
        china.contains("Sputnik") && !china.contains("CNN"),
        "{china}"
    );
    // A URL the facts file truncates or elides gets a caveat that says so.
    for event in &events {
        let caveats = event["caveats"]
            .as_array()
            .map(|c| {
                c.iter()
                    .map(|v| v.as_str().unwrap())
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .unwrap_or_default();
        for source in event["sources"].as_array().unwrap() {
            let url = source["url"].as_str().unwrap();
            if url.ends_with('-') {
                assert!(
                    caveats.contains("truncated"),
                    "{}: {url} needs a caveat",
                    event["id"]
                );
            }
        }
    }
    // EU annex entry numbers are labelled as OpenSanctions' numbering.
    assert!(!BUNDLED_DATASET.contains("\"scheme\":\"eu-annex-entry\""));
    assert!(BUNDLED_DATASET.contains("eu-annex-entry (OpenSanctions numbering)"));
}

#[test]
fn unconfirmed_facts_say_so() {
    let batch = read_batch(
        BUNDLED_DATASET.as_bytes(),
        "dataset",
        InputFormat::JsonLines,
    )
    .unwrap();
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
    assert!(caveats_of("cn-mfa-2025-04-30-ep-lifting").contains("Bütikofer"));
    assert!(caveats_of("stmt-2022-01-10-blinken").contains("exact wording is unconfirmed"));
    assert!(caveats_of("eu-council-2025-12-ghr-renewal").contains("confirmed from list data only"));
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
    for id in [
        "us-ofac-2021-03-22-glomag-xinjiang",
        "eu-council-2021-03-22-ghr-xinjiang",
        "cn-mfa-2021-03-22-eu",
        "stmt-2021-03-22-gacki",
        "stmt-2021-03-22-blinken",
        "stmt-2021-03-22-sassoli",
    ] {
        assert!(citing.contains(&id), "{id}: {citing:?}");
    }
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
fn the_tour_tells_the_seeds_story_and_what_is_due() {
    use sanctions_ledger::cli::tour::Tour;
    let bundled = bundled();
    let tour = Tour::build(&bundled.ledger, date("2026-12-01")).unwrap();
    let text = &tour.text;
    let zhu = text
        .find("   ZHU Hailun / 朱海仑 (person): asset_freeze, funds_ban, travel_ban")
        .unwrap();
    for (later, name) in [
        ("   WANG Junzheng / 王君正 (person)", "Wang Junzheng"),
        ("   WANG Mingshan / 王明山 (person)", "Wang Mingshan"),
        ("   CHEN Mingguo / 陈明国 (person)", "Chen Mingguo"),
        (
            "   Xinjiang Production and Construction Corps Public Security Bureau / 新疆生产建设兵团公安局 (entity): asset_freeze, funds_ban\n",
            "the entity",
        ),
    ] {
        assert!(
            text.find(later).is_some_and(|at| at > zhu),
            "{name} after Zhu Hailun:\n{text}"
        );
    }
    for expected in [
        "1. 2021-03-22: EU-COUNCIL lists 5 subjects under EU-GHR",
        "   2021-03-22: CA-GAC 4+1, CN-MFA 14+5, EU-COUNCIL 4+1, UK-FCDO 4+1, US-OFAC 8+2",
        "   2021-03-22 cn-mfa-2021-03-22-eu (the same day): 10 person(s), 4 entities; answers eu-council-2021-03-22-ghr-xinjiang",
        "maintains cn-mfa-2020-07-13-us",
        "3. Since: on 2025-04-30 CN-MFA lifted its counter-sanctions on 5 of the subjects of cn-mfa-2021-03-22-eu",
        "Michael Gahler; Raphaël Glucksmann; Ilhan Kyuchyuk; Miriam Lexmann; Subcommittee on Human Rights of the European Parliament",
        "Caveat: Reinhard Bütikofer",
        "4. Today, 2026-12-01, as the ledger knows it",
        "Due: 5 EU-COUNCIL/EU-GHR listing(s) are in force through 2026-12-08",
        "warning \"no decision recorded\"",
    ] {
        assert!(text.contains(expected), "missing {expected:?} in:\n{text}");
    }
    assert!(
        !text.contains("Warning:"),
        "nothing is undecided on 2026-12-01"
    );
    // After the review date, with nothing recorded, the tour warns instead.
    let later = Tour::build(&bundled.ledger, date("2027-01-15")).unwrap();
    assert!(
        later
            .text
            .contains("Warning: 5 listing(s) are past their end date with no decision recorded"),
        "{}",
        later.text
    );
    assert!(!later.text.contains("Due: 5 EU-COUNCIL"));
}

#[test]
fn the_quickstart_runs_through_the_binary_and_is_idempotent() {
    let dir = tempfile::tempdir().unwrap();
    let output = common::run_cli(dir.path(), &["quickstart"], None);
    assert_eq!(output.status.code(), Some(0), "{}", common::stderr(&output));
    let text = common::stdout(&output);
    for expected in [
        "(30 events; 30 appended now, 0 already recorded)",
        "Verified: 30 records chain from the genesis to head ",
        "   2021-03-21: CN-MFA 4+1, US-OFAC 6+2",
        "   2021-03-28: CA-GAC 4+1, CN-MFA 26+10, EU-COUNCIL 4+1, UK-FCDO 4+1, US-OFAC 8+2",
        "sanctions-ledger --ledger ledger verify",
    ] {
        assert!(text.contains(expected), "missing {expected:?} in:\n{text}");
    }
    // A second run appends nothing (and is not refused for its recorded times).
    let again = common::run_cli(dir.path(), &["quickstart"], None);
    assert_eq!(again.status.code(), Some(0), "{}", common::stderr(&again));
    let again = common::stdout(&again);
    assert!(
        again.contains("(30 events; 0 appended now, 30 already recorded)"),
        "{again}"
    );
}
