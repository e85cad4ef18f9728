//! Official lists in, tested on the real list files in `tests/real` (copied byte for byte from
//! public repositories; `tests/real/PROVENANCE.md` gives each file's origin and sha256). Every
//! expected figure was counted independently of this code (Python's csv, zipfile and
//! ElementTree over the same files; the one-liners are in `tests/real/COUNTS.md`).

mod common;

use common::{run_cli, stderr, stdout};
use serde_json::Value;
use std::path::{Path, PathBuf};

fn real(path: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/real")
        .join(path)
        .display()
        .to_string()
}

fn json(output: &std::process::Output) -> Value {
    serde_json::from_str(stdout(output).trim()).unwrap_or_else(|error| {
        panic!(
            "not JSON ({error}): {}\nstderr: {}",
            stdout(output),
            stderr(output)
        )
    })
}

struct Ledger {
    _dir: tempfile::TempDir,
    dir: PathBuf,
}

impl Ledger {
    fn empty() -> Ledger {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().to_path_buf();
        let output = run_cli(&path, &["init", "ledger"], None);
        assert!(output.status.success(), "{}", stderr(&output));
        Ledger {
            _dir: dir,
            dir: path,
        }
    }

    fn quickstart() -> Ledger {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().to_path_buf();
        let output = run_cli(&path, &["quickstart"], None);
        assert!(output.status.success(), "{}", stderr(&output));
        Ledger {
            _dir: dir,
            dir: path,
        }
    }

    fn run(&self, args: &[&str]) -> std::process::Output {
        run_cli(&self.dir, args, None)
    }

    /// `import --json` of a real file; panics unless it exits 0.
    fn import(&self, file: &str, list: &str, extra: &[&str]) -> Value {
        let path = real(file);
        let mut args = vec!["--json", "import", path.as_str(), "--list", list];
        args.extend_from_slice(extra);
        let output = self.run(&args);
        assert!(
            output.status.success(),
            "import {file}: {}{}",
            stdout(&output),
            stderr(&output)
        );
        json(&output)
    }

    fn answer(&self, args: &[&str]) -> Value {
        let mut all = vec!["--json"];
        all.extend_from_slice(args);
        let output = self.run(&all);
        assert!(output.status.success(), "{args:?}: {}", stderr(&output));
        json(&output)
    }

    /// Every event, as `log --json` gives them.
    fn events(&self) -> Vec<Value> {
        let mut events = Vec::new();
        let mut from = 1u64;
        loop {
            let page = self.answer(&["log", "--from", &from.to_string(), "--limit", "10000"]);
            let records = page["records"].as_array().unwrap().clone();
            if records.is_empty() {
                return events;
            }
            from += records.len() as u64;
            events.extend(records.into_iter().map(|r| r["event"].clone()));
        }
    }
}

fn counts(report: &Value) -> (u64, u64, u64, u64) {
    let events = &report["events"];
    (
        events["designation"].as_u64().unwrap(),
        events["observation"].as_u64().unwrap(),
        events["delisting"].as_u64().unwrap(),
        events["amendment"].as_u64().unwrap(),
    )
}

fn of_kind<'a>(events: &'a [Value], kind: &str, snapshot_date: &str) -> Vec<&'a Value> {
    events
        .iter()
        .filter(|e| e["kind"] == kind)
        .filter(|e| {
            e["observed"]["snapshot"]
                .as_str()
                .is_some_and(|s| s.contains(&format!("/{snapshot_date}/")))
        })
        .collect()
}

const SDN_1: &str = "ofac_sdn_csv/sdn_2021-12-09.csv";
const SDN_2: &str = "ofac_sdn_csv/sdn_2021-12-10.csv";

#[test]
fn the_sdn_pair_imports_as_its_entries_then_exactly_the_25_designations_of_10_december() {
    let ledger = Ledger::empty();
    let first = ledger.import(SDN_1, "us-ofac-sdn", &["--published-on", "2021-12-09"]);
    assert_eq!(first["status"], "imported");
    assert_eq!(first["format"], "ofac-sdn-csv");
    assert_eq!(first["entries"], 9121);
    assert_eq!(first["refused_count"], 0);
    // 10,927 (entry, programme) pairs: one designation each (Python: sum of "] ["-split
    // programmes over the 9,121 rows).
    assert_eq!(counts(&first), (10_927, 0, 0, 0));
    assert_eq!(first["appended"], 10_928);
    let second = ledger.import(SDN_2, "us-ofac-sdn", &["--published-on", "2021-12-10"]);
    assert_eq!(second["entries"], 9146);
    assert_eq!(
        (
            second["added"].clone(),
            second["removed"].clone(),
            second["changed"].clone()
        ),
        (25.into(), 0.into(), 0.into())
    );
    assert_eq!(counts(&second), (25, 0, 0, 0));
    assert_eq!(second["previous"]["published_on"], "2021-12-09");

    let events = ledger.events();
    let subjects: std::collections::BTreeSet<&str> = events
        .iter()
        .filter(|e| e["kind"] == "designation")
        .flat_map(|e| e["subjects"].as_array().unwrap())
        .map(|s| s["id"].as_str().unwrap())
        .collect();
    assert_eq!(subjects.len(), 9146, "one subject per entry");
    let new: Vec<(&str, &str)> = of_kind(&events, "designation", "2021-12-10")
        .iter()
        .map(|e| {
            (
                e["subjects"][0]["id"].as_str().unwrap(),
                e["subjects"][0]["names"][0].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(new.len(), 25);
    assert!(new.contains(&("ofac-34079", "ZAKIR, Shohrat")), "{new:?}");
    assert!(new.contains(&("ofac-34119", "TUNIYAZ, Erken")), "{new:?}");
    let zakir = of_kind(&events, "designation", "2021-12-10")
        .into_iter()
        .find(|e| e["subjects"][0]["id"] == "ofac-34079")
        .unwrap();
    assert_eq!(zakir["programme"], "GLOMAG");
    assert_eq!(zakir["effective_on"], "2021-12-10");
    assert_eq!(zakir["observed"]["basis"], "first_observed");
    assert_eq!(zakir["observed"]["after"], "2021-12-09");
    assert!(
        zakir["subjects"][0]["identifiers"]
            .as_array()
            .unwrap()
            .contains(&serde_json::json!({"scheme": "ofac-uid", "value": "34079"}))
    );
    // The first snapshot gives no listing date: "on or before", never an invented day.
    let state = ledger.answer(&["state", "--as-of", "2021-12-09", "--subject", "ofac-29159"]);
    let listing = &state["listings"][0];
    assert_eq!(listing["since"], "2021-12-09");
    assert_eq!(
        listing["since_basis"],
        "listed on or before 2021-12-09, first observed then in us-ofac-sdn"
    );

    // The same file again appends nothing and says so.
    let again = ledger.import(SDN_2, "us-ofac-sdn", &["--published-on", "2021-12-10"]);
    assert_eq!(again["status"], "already_imported");
    assert_eq!(again["appended"], 0);
    assert_eq!(again["already_recorded"], 26);
    assert_eq!(again["head_sequence"], second["head_sequence"]);
}

#[test]
fn an_older_snapshot_after_a_newer_one_is_refused_unless_late() {
    let ledger = Ledger::empty();
    ledger.import(SDN_2, "us-ofac-sdn", &["--published-on", "2021-12-10"]);
    let head = ledger.answer(&["head"]);
    let path = real(SDN_1);
    let refused = ledger.run(&[
        "--json",
        "import",
        &path,
        "--list",
        "us-ofac-sdn",
        "--published-on",
        "2021-12-09",
    ]);
    assert_eq!(refused.status.code(), Some(2));
    let error = json(&refused);
    assert_eq!(error["error"]["kind"], "older_snapshot");
    assert!(
        error["error"]["message"]
            .as_str()
            .unwrap()
            .contains("--late")
    );
    assert_eq!(ledger.answer(&["head"]), head, "nothing appended");
    let late = ledger.import(
        SDN_1,
        "us-ofac-sdn",
        &["--published-on", "2021-12-09", "--late"],
    );
    assert_eq!(late["status"], "late");
    assert_eq!(counts(&late), (0, 0, 0, 0));
    assert_eq!(late["appended"], 1);
    let coverage = &ledger.answer(&["state", "--as-of", "2021-12-10"])["coverage"][0];
    assert_eq!(coverage["first_observed"], "2021-12-09");
    assert_eq!(coverage["last_observed"], "2021-12-10");
    assert_eq!(coverage["snapshots"], 2);
}

#[test]
fn on_the_quickstart_ledger_the_sdn_pair_joins_the_curated_xinjiang_subjects() {
    let ledger = Ledger::quickstart();
    let first = ledger.import(SDN_1, "us-ofac-sdn", &["--published-on", "2021-12-09"]);
    // The ten Xinjiang entries (matched by the dataset's OFAC uids) are observations of
    // listings the ledger already holds in force, in one observation event.
    assert_eq!(counts(&first), (10_927 - 10, 1, 0, 0));
    let second = ledger.import(SDN_2, "us-ofac-sdn", &["--published-on", "2021-12-10"]);
    // ZAKIR and TUNIYAZ are in the dataset from 10 December 2021 too.
    assert_eq!(counts(&second), (23, 1, 0, 0));
    let events = ledger.events();
    for duplicate in ["ofac-31492", "ofac-29159", "ofac-34079", "ofac-34119"] {
        assert!(
            !events.iter().any(|e| e["subjects"]
                .as_array()
                .is_some_and(|s| s.iter().any(|s| s["id"] == duplicate))),
            "{duplicate} duplicates a curated subject"
        );
    }
    let observation = of_kind(&events, "observation", "2021-12-09")[0];
    let observed: Vec<&str> = observation["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["subject"].as_str().unwrap())
        .collect();
    assert_eq!(observed.len(), 10);
    assert!(observed.contains(&"xj-wang-junzheng"));

    let history = ledger.answer(&["history", "xj-wang-junzheng", "--today", "2026-12-01"]);
    let kinds: Vec<(&str, &str)> = history["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["effective_on"].as_str().unwrap(),
                t["kind"].as_str().unwrap(),
            )
        })
        .collect();
    assert!(
        kinds.contains(&("2021-03-22", "designation")),
        "the curated designation: {kinds:?}"
    );
    assert!(
        kinds.contains(&("2021-12-09", "observation")),
        "the SDN observation: {kinds:?}"
    );
    assert_eq!(history["coverage"][0]["list"], "us-ofac-sdn");
    let us: Vec<&Value> = history["listings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|l| l["authority"] == "US-OFAC")
        .collect();
    assert_eq!(us.len(), 1, "one US listing, not a second from the import");

    // Before the first SDN observation, a state question about US-OFAC says so.
    let state = ledger.answer(&["state", "--as-of", "2021-06-01", "--authority", "US-OFAC"]);
    let warnings: Vec<&Value> = state["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|w| w["kind"] == "outside_observation")
        .collect();
    assert_eq!(warnings.len(), 1, "{state}");
    assert_eq!(warnings[0]["listing"], "us-ofac-sdn");
    assert!(
        warnings[0]["message"]
            .as_str()
            .unwrap()
            .contains("before the first snapshot")
    );
    let table = stdout(&ledger.run(&["state", "--as-of", "2021-06-01", "--authority", "US-OFAC"]));
    assert!(
        table.contains("warning, outside what was observed: us-ofac-sdn"),
        "{table}"
    );
    // Inside the observed span: no such warning.
    let inside = ledger.answer(&["state", "--as-of", "2021-12-10", "--authority", "US-OFAC"]);
    assert!(
        !inside["warnings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|w| w["kind"] == "outside_observation")
    );
}

const UK_1: &str = "uk_ofsi_conlist_xlsx/conlist_2025-04-10.xlsx";
const UK_2: &str = "uk_ofsi_conlist_xlsx/conlist_2025-04-14.xlsx";

#[test]
fn the_uk_xlsx_pair_yields_2_designations_no_delisting_3_amendments() {
    let ledger = Ledger::empty();
    let first = ledger.import(UK_1, "uk-hmt-conlist", &[]);
    assert_eq!(first["format"], "uk-conlist-xlsx");
    assert_eq!(first["published_on"], "2025-04-10", "from cell B1");
    assert_eq!(first["entries"], 4686, "targets counted by Group ID");
    let second = ledger.import(UK_2, "uk-hmt-conlist", &[]);
    assert_eq!(second["entries"], 4688);
    assert_eq!(counts(&second), (2, 0, 0, 3));
    let events = ledger.events();
    let mut designated: Vec<&str> = of_kind(&events, "designation", "2025-04-14")
        .iter()
        .map(|e| e["subjects"][0]["id"].as_str().unwrap())
        .collect();
    designated.sort_unstable();
    assert_eq!(designated, ["uk-ofsi-16856", "uk-ofsi-16857"]);
    let majid = of_kind(&events, "designation", "2025-04-14")
        .into_iter()
        .find(|e| e["subjects"][0]["id"] == "uk-ofsi-16857")
        .unwrap();
    assert_eq!(majid["effective_on"], "2025-04-14", "Listed On");
    assert_eq!(majid["observed"]["basis"], "listed_on");
    assert_eq!(majid["programme"], "UK-IRAN");
    let mut amended: Vec<&str> = of_kind(&events, "amendment", "2025-04-14")
        .iter()
        .map(|e| e["subject"]["id"].as_str().unwrap())
        .collect();
    amended.sort_unstable();
    assert_eq!(amended, ["uk-ofsi-16201", "uk-ofsi-16413", "uk-ofsi-16849"]);
    let tauber = of_kind(&events, "amendment", "2025-04-14")
        .into_iter()
        .find(|e| e["subject"]["id"] == "uk-ofsi-16849")
        .unwrap();
    let reason = tauber["reason"].as_str().unwrap();
    assert!(
        reason.contains("Nationality") && reason.contains("Last Updated"),
        "{reason}"
    );
}

#[test]
fn the_uk_xinjiang_targets_join_the_bundled_datasets_subjects() {
    let ledger = Ledger::quickstart();
    let first = ledger.import(UK_1, "uk-hmt-conlist", &[]);
    let (designations, observations, _, _) = counts(&first);
    assert_eq!(observations, 1);
    assert_eq!(
        designations,
        4702 - 5,
        "the five Xinjiang GHR targets are observed, not designated again"
    );
    let events = ledger.events();
    let observation = of_kind(&events, "observation", "2025-04-10")[0];
    let mut observed: Vec<(&str, &str)> = observation["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["subject"].as_str().unwrap(),
                e["identifier"]["value"].as_str().unwrap(),
            )
        })
        .collect();
    observed.sort_unstable();
    assert_eq!(
        observed,
        [
            ("xj-chen-mingguo", "14074"),
            ("xj-wang-junzheng", "14077"),
            ("xj-wang-mingshan", "14076"),
            ("xj-xpcc-psb", "14079"),
            ("xj-zhu-hailun", "14078"),
        ]
    );
    assert!(!events.iter().any(|e| {
        e["subjects"]
            .as_array()
            .is_some_and(|s| s.iter().any(|s| s["id"] == "uk-ofsi-14077"))
    }));
}

#[test]
fn the_un_pair_is_one_delisting_inferred_from_absence() {
    let ledger = Ledger::empty();
    let first = ledger.import(
        "un_consolidated_xml/un_2025-12-09.xml",
        "un-sc-consolidated",
        &[],
    );
    assert_eq!(first["entries"], 1000);
    assert_eq!(first["published_on"], "2025-12-09", "from dateGenerated");
    let second = ledger.import(
        "un_consolidated_xml/un_2025-12-10.xml",
        "un-sc-consolidated",
        &[],
    );
    assert_eq!(second["entries"], 999);
    assert_eq!(counts(&second), (0, 0, 1, 0));
    let events = ledger.events();
    let delisting = of_kind(&events, "delisting", "2025-12-10")[0];
    assert_eq!(delisting["subject_ids"], serde_json::json!(["un-iqi.074"]));
    assert_eq!(delisting["observed"]["basis"], "absent");
    assert_eq!(delisting["observed"]["after"], "2025-12-09");
    assert!(
        delisting["reason"]
            .as_str()
            .unwrap()
            .contains("inferred from absence")
    );
    // UN entries give LISTED_ON: designations take that date.
    let designation = events
        .iter()
        .find(|e| e["kind"] == "designation" && e["subjects"][0]["id"] == "un-iqi.074")
        .unwrap();
    assert_eq!(designation["observed"]["basis"], "listed_on");
    assert_ne!(designation["effective_on"], "2025-12-09");
}

#[test]
fn the_ofac_consolidated_triple_is_one_removal_then_two_changed_entries() {
    let ledger = Ledger::empty();
    let first = ledger.import(
        "ofac_consolidated_xml/cons_2025-10-22.xml",
        "us-ofac-consolidated",
        &[],
    );
    assert_eq!(first["format"], "ofac-xml");
    assert_eq!(first["entries"], 443, "Record_Count");
    assert_eq!(first["published_on"], "2025-10-22", "Publish_Date");
    let second = ledger.import(
        "ofac_consolidated_xml/cons_2025-12-18.xml",
        "us-ofac-consolidated",
        &[],
    );
    assert_eq!(
        counts(&second),
        (0, 0, 1, 0),
        "uid 26182 removed; reordered ids are not changes"
    );
    let third = ledger.import(
        "ofac_consolidated_xml/cons_2026-01-08.xml",
        "us-ofac-consolidated",
        &[],
    );
    assert_eq!(counts(&third), (0, 0, 0, 2));
    let events = ledger.events();
    assert_eq!(
        of_kind(&events, "delisting", "2025-12-18")[0]["subject_ids"],
        serde_json::json!(["ofac-26182"])
    );
    let mut amended: Vec<&str> = of_kind(&events, "amendment", "2026-01-08")
        .iter()
        .map(|e| e["subject"]["id"].as_str().unwrap())
        .collect();
    amended.sort_unstable();
    assert_eq!(amended, ["ofac-17018", "ofac-18721"]);
}

#[test]
fn canada_uk_legacy_and_opensanctions_files_import_with_their_independent_counts() {
    let ledger = Ledger::empty();
    let canada = ledger.import(
        "canada_sema_xml/sema-lmes_2020-04-15.xml",
        "ca-sema",
        &["--published-on", "2020-04-15"],
    );
    assert_eq!(canada["entries"], 1369);
    assert_eq!(counts(&canada), (1369, 0, 0, 0));
    let uk_2014 = ledger.import(
        "uk_hmt_conlist_csv/conlist_2014-04-02.csv",
        "uk-hmt-conlist",
        &[],
    );
    assert_eq!(uk_2014["format"], "uk-conlist-csv");
    assert_eq!(uk_2014["entries"], 2297);
    assert_eq!(uk_2014["published_on"], "2014-04-02");
    let uk_2018 = ledger.import(
        "uk_hmt_conlist_csv/conlist_2018-04-13.csv",
        "uk-hmt-conlist",
        &[],
    );
    assert_eq!(uk_2018["entries"], 2106);
    assert_eq!(
        (
            uk_2018["added"].as_u64(),
            uk_2018["removed"].as_u64(),
            uk_2018["changed"].as_u64()
        ),
        (Some(642), Some(833), Some(704))
    );
    let ftm = ledger.import(
        "opensanctions_ftm/eu_fsf_sample.entities.ftm.json",
        "opensanctions:eu_fsf",
        &["--published-on", "2024-06-14"],
    );
    assert_eq!(ftm["format"], "ftm-entities");
    assert_eq!(
        ftm["entries"], 6,
        "4 Person, 2 Organization; the Address is not a subject"
    );
    let delta = ledger.import(
        "opensanctions_ftm/sanctions_20240527194702-wnk.entities.delta.json",
        "opensanctions:sanctions",
        &["--published-on", "2024-05-27"],
    );
    assert_eq!(delta["format"], "ftm-delta");
    assert_eq!(counts(&delta), (2, 0, 0, 0), "two ADD operations");
}

/// A ledger holding the UN pair; the first import's report.
fn un_pair() -> (Ledger, Value) {
    let ledger = Ledger::empty();
    let first = ledger.import(
        "un_consolidated_xml/un_2025-12-09.xml",
        "un-sc-consolidated",
        &[],
    );
    ledger.import(
        "un_consolidated_xml/un_2025-12-10.xml",
        "un-sc-consolidated",
        &[],
    );
    (ledger, first)
}

#[test]
fn verify_sources_passes_and_names_the_file_when_a_stored_byte_is_changed() {
    let (ledger, report) = un_pair();
    let ok = ledger.run(&["--json", "verify", "--sources"]);
    assert_eq!(ok.status.code(), Some(3), "{}", stderr(&ok));
    assert_eq!(json(&ok)["sources_checked"], 2);
    let stored = ledger
        .dir
        .join("ledger/sources")
        .join(report["blake3"].as_str().unwrap());
    let original = std::fs::read(&stored).unwrap();
    let mut permissions = std::fs::metadata(&stored).unwrap().permissions();
    #[allow(clippy::permissions_set_readonly_false)]
    permissions.set_readonly(false);
    std::fs::set_permissions(&stored, permissions).unwrap();
    let mut changed = original.clone();
    changed[1000] ^= 0x01;
    std::fs::write(&stored, &changed).unwrap();
    let failed = ledger.run(&["--json", "verify", "--sources"]);
    assert_eq!(failed.status.code(), Some(1));
    let message = json(&failed)["error"]["message"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        message.contains(&stored.file_name().unwrap().to_string_lossy().to_string()),
        "{message}"
    );
    assert!(
        message.contains("snapshot/un-sc-consolidated/2025-12-09/"),
        "{message}"
    );
    // Without --sources the log and projections still verify: the evidence is checked apart.
    assert_eq!(ledger.run(&["verify"]).status.code(), Some(3));
    std::fs::write(&stored, &original).unwrap();
    std::fs::remove_file(&stored).unwrap();
    let missing = ledger.run(&["verify", "--sources"]);
    assert_eq!(missing.status.code(), Some(1));
    assert!(
        stderr(&missing).contains("No such file"),
        "{}",
        stderr(&missing)
    );
}

#[test]
fn a_dry_run_prints_the_plan_and_stores_nothing() {
    let ledger = Ledger::empty();
    let path = real("un_consolidated_xml/un_2025-12-09.xml");
    let output = ledger.run(&[
        "--json",
        "import",
        &path,
        "--list",
        "un-sc-consolidated",
        "--dry-run",
    ]);
    assert!(output.status.success(), "{}", stderr(&output));
    let report = json(&output);
    assert_eq!(report["status"], "dry_run");
    assert_eq!(report["planned"].as_array().unwrap().len(), 1001);
    assert_eq!(report["planned"][0]["kind"], "snapshot");
    assert_eq!(ledger.answer(&["head"])["sequence"], 0);
    assert!(!ledger.dir.join("ledger/sources").exists());
}

fn fixture(path: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(path)
        .display()
        .to_string()
}

#[test]
fn the_hand_made_eu_fsf_pair_is_read_by_local_names_and_compared_as_sets() {
    // HAND-MADE fixtures (tests/fixtures/eu-fsf/README.md): no official FSF file was obtained.
    let ledger = Ledger::empty();
    let first_path = fixture("eu-fsf/fsf_2021-03-22.xml");
    let output = ledger.run(&["--json", "import", &first_path, "--list", "eu-fsf"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let first = json(&output);
    assert_eq!(first["format"], "eu-fsf-xml");
    assert_eq!(first["published_on"], "2021-03-22");
    assert_eq!(first["entries"], 4);
    assert_eq!(counts(&first), (4, 0, 0, 0));
    let second_path = fixture("eu-fsf/fsf_2021-12-06.xml");
    let output = ledger.run(&["--json", "import", &second_path, "--list", "eu-fsf"]);
    assert!(output.status.success(), "{}", stderr(&output));
    let second = json(&output);
    assert_eq!(
        counts(&second),
        (1, 0, 1, 1),
        "900003 new, 900002 gone, 900001 amended; 900004 reordered only"
    );
    let events = ledger.events();
    let listed = events
        .iter()
        .find(|e| e["kind"] == "designation" && e["subjects"][0]["id"] == "eu-fsf-900001")
        .unwrap();
    assert_eq!(listed["effective_on"], "2021-03-22");
    assert_eq!(listed["observed"]["basis"], "listed_on");
    assert_eq!(listed["programme"], "EU-CHN");
    assert_eq!(listed["subjects"][0]["names"][0], "EXAMPLE Person One");
    let four = events
        .iter()
        .find(|e| e["kind"] == "designation" && e["subjects"][0]["id"] == "eu-fsf-900004")
        .unwrap();
    assert_eq!(
        four["effective_on"], "2014-03-17",
        "entryIntoForceDate when no designationDate"
    );
    let five = events
        .iter()
        .find(|e| e["kind"] == "designation" && e["subjects"][0]["id"] == "eu-fsf-900005")
        .unwrap();
    assert_eq!(five["subjects"][0]["names"][0], "Placeholder Trading & Co.");
    assert_eq!(
        five["observed"]["basis"], "first_observed",
        "no date in the file"
    );
    let new = of_kind(&events, "designation", "2021-12-06");
    assert_eq!(new[0]["subjects"][0]["id"], "eu-fsf-900003");
    assert_eq!(new[0]["observed"]["basis"], "first_observed");
    assert_eq!(
        of_kind(&events, "delisting", "2021-12-06")[0]["subject_ids"],
        serde_json::json!(["eu-fsf-900002"])
    );
    let amended = of_kind(&events, "amendment", "2021-12-06")[0];
    assert_eq!(amended["subject"]["id"], "eu-fsf-900001");
    assert_eq!(
        amended["subject"]["aliases"],
        serde_json::json!(["Ekzampl Person Odin"])
    );
}

#[test]
fn a_bundle_carries_the_snapshot_files_on_request_and_restore_keeps_them() {
    let (ledger, _) = un_pair();
    let run = |args: &[&str]| {
        let output = ledger.run(args);
        assert!(
            output.status.success(),
            "{args:?}: {}{}",
            stdout(&output),
            stderr(&output)
        );
        output
    };
    run(&["keygen", "--name", "example.org/ops"]);
    run(&["checkpoint", "--key", "example.org-ops.key"]);
    let exported = json(&run(&[
        "--json",
        "export",
        "--to",
        "all.bundle",
        "--with-sources",
    ]));
    assert_eq!(exported["sources"], 2);
    assert!(ledger.dir.join("all.bundle.sources").is_dir());
    let checked = json(&run(&[
        "--json",
        "verify-bundle",
        "all.bundle",
        "--key",
        "example.org-ops.pub",
    ]));
    assert_eq!(checked["sources_checked"], 2);
    let restored = json(&run(&[
        "--json",
        "restore",
        "all.bundle",
        "copy",
        "--key",
        "example.org-ops.pub",
    ]));
    assert_eq!(restored["sources"], 2);
    let verified = ledger.run(&["--json", "--ledger", "copy", "verify", "--sources"]);
    assert_eq!(verified.status.code(), Some(3), "{}", stderr(&verified));
    assert_eq!(json(&verified)["sources_checked"], 2);
    // A changed file beside the bundle is named, and the bundle rejected.
    let file = std::fs::read_dir(ledger.dir.join("all.bundle.sources"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let mut bytes = std::fs::read(&file).unwrap();
    bytes[10] ^= 0x20;
    std::fs::write(&file, &bytes).unwrap();
    let rejected = ledger.run(&[
        "--json",
        "verify-bundle",
        "all.bundle",
        "--key",
        "example.org-ops.pub",
    ]);
    assert_eq!(rejected.status.code(), Some(1));
    let message = json(&rejected)["error"]["message"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        message.contains(&file.file_name().unwrap().to_string_lossy().to_string()),
        "{message}"
    );
}

#[test]
fn an_ftm_delta_applies_to_the_previous_snapshot_mod_is_an_amendment_del_a_delisting() {
    let ledger = Ledger::empty();
    let add = ledger.import(
        "opensanctions_ftm/sanctions_20240527194702-wnk.entities.delta.json",
        "opensanctions:sanctions",
        &["--published-on", "2024-05-27"],
    );
    assert_eq!(add["entries"], 2);
    // A hand-made delta on top of the real one (ids from it; the MOD renames, the DEL removes).
    let delta = concat!(
        r#"{"op": "MOD", "entity": {"id": "NK-2sJaJRaPJcWUfMbHjTtWcL", "caption": "Janan Agha", "schema": "Person", "properties": {"name": ["Janan Agha"], "alias": ["Jinan Agha"], "topics": ["sanction"]}, "datasets": ["un_sc_sanctions"]}}"#,
        "\n",
        r#"{"op": "DEL", "entity": {"id": "NK-2T3S8Hu29ktYnKSTgQp2wL"}}"#,
        "\n"
    );
    std::fs::write(ledger.dir.join("later.delta.json"), delta).unwrap();
    let output = ledger.run(&[
        "--json",
        "import",
        "later.delta.json",
        "--list",
        "opensanctions:sanctions",
        "--published-on",
        "2024-05-28",
    ]);
    assert!(output.status.success(), "{}", stderr(&output));
    let later = json(&output);
    assert_eq!(later["format"], "ftm-delta");
    assert_eq!(later["entries"], 1, "the list after the delta");
    assert_eq!(counts(&later), (0, 0, 1, 1));
    let events = ledger.events();
    assert_eq!(
        of_kind(&events, "delisting", "2024-05-28")[0]["subject_ids"],
        serde_json::json!(["os-nk-2t3s8hu29ktynkstgqp2wl"])
    );
    assert_eq!(
        of_kind(&events, "delisting", "2024-05-28")[0]["programme"],
        "OS-SANCTIONS"
    );
    assert_eq!(
        of_kind(&events, "amendment", "2024-05-28")[0]["subject"]["aliases"],
        serde_json::json!(["Jinan Agha"])
    );
    // verify --sources replays the chain of deltas from the stored files.
    let verified = ledger.run(&["--json", "verify", "--sources"]);
    assert_eq!(verified.status.code(), Some(3), "{}", stderr(&verified));
    assert_eq!(json(&verified)["sources_checked"], 2);
}

#[test]
fn an_unchanged_list_published_again_adds_one_snapshot_event_and_nothing_per_listing() {
    let ledger = Ledger::empty();
    ledger.import(
        "un_consolidated_xml/un_2025-12-10.xml",
        "un-sc-consolidated",
        &[],
    );
    let before = ledger.answer(&["history", "un-iqi.001"]);
    // The same content published the next day (the file's own date is given over by copying
    // it with a changed dateGenerated).
    let text = std::fs::read_to_string(real("un_consolidated_xml/un_2025-12-10.xml")).unwrap();
    let next = text.replacen(
        "dateGenerated=\"2025-12-10",
        "dateGenerated=\"2025-12-11",
        1,
    );
    assert_ne!(text, next);
    std::fs::write(ledger.dir.join("next.xml"), next).unwrap();
    let output = ledger.run(&[
        "--json",
        "import",
        "next.xml",
        "--list",
        "un-sc-consolidated",
    ]);
    assert!(output.status.success(), "{}", stderr(&output));
    let report = json(&output);
    assert_eq!(report["appended"], 1, "the snapshot alone");
    assert_eq!(counts(&report), (0, 0, 0, 0));
    let after = ledger.answer(&["history", "un-iqi.001"]);
    assert_eq!(
        after["timeline"], before["timeline"],
        "no event per listing per snapshot"
    );
    assert_eq!(after["coverage"][0]["last_observed"], "2025-12-11");
    assert_eq!(after["coverage"][0]["snapshots"], 2);
}
