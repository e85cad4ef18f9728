//! Bad list files: a clear refusal with its place, nothing appended, never a panic.

mod common;

use common::{run_cli, stderr, stdout};
use proptest::prelude::*;
use sanctions_ledger::import::formats::{self, FORMATS, Format};
use serde_json::Value;

fn ledger() -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().to_path_buf();
    assert!(run_cli(&path, &["init", "ledger"], None).status.success());
    (dir, path)
}

fn import(dir: &std::path::Path, name: &str, bytes: &[u8], args: &[&str]) -> std::process::Output {
    std::fs::write(dir.join(name), bytes).unwrap();
    let mut all = vec!["--json", "import", name];
    all.extend_from_slice(args);
    run_cli(dir, &all, None)
}

fn error(output: &std::process::Output) -> Value {
    serde_json::from_str(stdout(output).trim())
        .unwrap_or_else(|_| panic!("{}{}", stdout(output), stderr(output)))
}

fn head(dir: &std::path::Path) -> u64 {
    let output = run_cli(dir, &["--json", "head"], None);
    serde_json::from_str::<Value>(stdout(&output).trim()).unwrap()["sequence"]
        .as_u64()
        .unwrap()
}

const UN_HEAD: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<CONSOLIDATED_LIST dateGenerated="2025-12-09T00:00:06.058Z">
<INDIVIDUALS>
<INDIVIDUAL><DATAID>1</DATAID><FIRST_NAME>ONE</FIRST_NAME><UN_LIST_TYPE>Iraq</UN_LIST_TYPE><REFERENCE_NUMBER>IQi.001</REFERENCE_NUMBER><LISTED_ON>2003-04-25</LISTED_ON></INDIVIDUAL>
"#;

#[test]
fn a_doctype_is_refused_before_any_entity_is_expanded() {
    let (_keep, dir) = ledger();
    let xml = "<?xml version=\"1.0\"?>\n<!DOCTYPE CONSOLIDATED_LIST [<!ENTITY x SYSTEM \"file:///etc/passwd\">]>\n<CONSOLIDATED_LIST dateGenerated=\"2025-12-09\"><INDIVIDUALS><INDIVIDUAL><FIRST_NAME>&x;</FIRST_NAME></INDIVIDUAL></INDIVIDUALS></CONSOLIDATED_LIST>";
    let output = import(
        &dir,
        "un.xml",
        xml.as_bytes(),
        &["--list", "un-sc-consolidated"],
    );
    assert_eq!(output.status.code(), Some(2));
    let problem = &error(&output)["error"]["problems"][0];
    assert!(
        problem["reason"].as_str().unwrap().contains("DOCTYPE"),
        "{problem}"
    );
    assert!(
        problem["file"].as_str().unwrap().starts_with("un.xml:2"),
        "{problem}"
    );
    assert_eq!(head(&dir), 0);
}

#[test]
fn invalid_utf8_is_named_with_its_byte_offset() {
    let (_keep, dir) = ledger();
    let mut bytes = UN_HEAD.as_bytes().to_vec();
    let at = bytes.len();
    bytes.extend_from_slice(
        b"<INDIVIDUAL><FIRST_NAME>\xFF</FIRST_NAME></INDIVIDUAL></INDIVIDUALS></CONSOLIDATED_LIST>",
    );
    let output = import(&dir, "un.xml", &bytes, &["--list", "un-sc-consolidated"]);
    assert_eq!(output.status.code(), Some(2));
    let problem = &error(&output)["error"]["problems"][0];
    let place = problem["file"].as_str().unwrap();
    assert!(
        place.contains(&format!(
            "byte offset {}",
            at + "<INDIVIDUAL><FIRST_NAME>".len()
        )),
        "{place}"
    );
    assert!(
        problem["reason"].as_str().unwrap().contains("0xFF"),
        "{problem}"
    );
}

#[test]
fn a_broken_entry_refuses_the_whole_file_unless_skip_bad_which_records_it() {
    let (_keep, dir) = ledger();
    let xml = format!(
        "{UN_HEAD}<INDIVIDUAL><DATAID>2</DATAID><FIRST_NAME>TWO</FIRST_NAME><UN_LIST_TYPE>Iraq</UN_LIST_TYPE><REFERENCE_NUMBER>IQi.002</REFERENCE_NUMBER><LISTED_ON>25 April</LISTED_ON></INDIVIDUAL>\n</INDIVIDUALS></CONSOLIDATED_LIST>\n"
    );
    let output = import(
        &dir,
        "un.xml",
        xml.as_bytes(),
        &["--list", "un-sc-consolidated"],
    );
    assert_eq!(output.status.code(), Some(2));
    let failure = error(&output);
    let problem = &failure["error"]["problems"][0];
    assert_eq!(
        problem["file"],
        "un.xml:5 (/CONSOLIDATED_LIST/INDIVIDUALS/INDIVIDUAL IQi.002)"
    );
    assert!(
        problem["reason"]
            .as_str()
            .unwrap()
            .contains("LISTED_ON \"25 April\" is not a date YYYY-MM-DD")
    );
    assert_eq!(head(&dir), 0, "nothing from a rejected file is appended");
    assert!(!dir.join("ledger/sources").exists(), "nor stored");

    let output = import(
        &dir,
        "un.xml",
        xml.as_bytes(),
        &["--list", "un-sc-consolidated", "--skip-bad"],
    );
    assert!(output.status.success(), "{}", stderr(&output));
    let report = error(&output);
    assert_eq!(report["entries"], 1);
    assert_eq!(report["refused_count"], 1);
    let shown = run_cli(&dir, &["--json", "show", "1"], None);
    let snapshot: Value = serde_json::from_str(stdout(&shown).trim()).unwrap();
    assert_eq!(snapshot["record"]["event"]["skipped_count"], 1);
    assert_eq!(
        snapshot["record"]["event"]["skipped"][0]["place"],
        "un.xml:5 (/CONSOLIDATED_LIST/INDIVIDUALS/INDIVIDUAL IQi.002)"
    );
}

#[test]
fn the_publication_date_is_required_when_the_file_gives_none_and_must_agree_when_it_does() {
    let (_keep, dir) = ledger();
    let csv = b"36,\"AEROCARIBBEAN AIRLINES\",-0- ,\"CUBA\",-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,\"Havana, Cuba.\"\r\n\x1a";
    let output = import(&dir, "sdn.csv", csv, &["--list", "us-ofac-sdn"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        error(&output)["error"]["message"]
            .as_str()
            .unwrap()
            .contains("--published-on")
    );
    let output = import(
        &dir,
        "un.xml",
        format!("{UN_HEAD}</INDIVIDUALS></CONSOLIDATED_LIST>").as_bytes(),
        &[
            "--list",
            "un-sc-consolidated",
            "--published-on",
            "2025-12-10",
        ],
    );
    assert_eq!(output.status.code(), Some(2));
    assert!(
        error(&output)["error"]["message"]
            .as_str()
            .unwrap()
            .contains("says it was published 2025-12-09")
    );
    let output = import(&dir, "sdn.csv", csv, &["--list", "un-sc-consolidated"]);
    assert_eq!(
        output.status.code(),
        Some(2),
        "a format the list is not published in"
    );
    assert!(
        error(&output)["error"]["message"]
            .as_str()
            .unwrap()
            .contains("not how un-sc-consolidated is published")
    );
    let output = import(
        &dir,
        "sdn.csv",
        csv,
        &["--list", "us-ofac-sdn", "--published-on", "2021-12-09"],
    );
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(head(&dir), 2);
}

#[test]
fn an_unknown_list_or_format_names_what_is_valid() {
    let (_keep, dir) = ledger();
    let output = import(&dir, "x.csv", b"1,2", &["--list", "us-ofac-sdm"]);
    assert_eq!(output.status.code(), Some(2));
    let message = error(&output)["error"]["message"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        message.contains("us-ofac-sdn, us-ofac-consolidated"),
        "{message}"
    );
    let output = import(
        &dir,
        "x.csv",
        b"1,2",
        &["--list", "us-ofac-sdn", "--format", "csv"],
    );
    assert_eq!(output.status.code(), Some(2));
    assert!(
        error(&output)["error"]["message"]
            .as_str()
            .unwrap()
            .contains("ofac-sdn-csv, ofac-xml")
    );
}

#[test]
fn deep_nesting_and_a_huge_field_are_refused_at_their_limits() {
    let deep = format!(
        "<CONSOLIDATED_LIST dateGenerated=\"2025-12-09\">{}{}</CONSOLIDATED_LIST>",
        "<a>".repeat(sanctions_ledger::limits::IMPORT_XML_DEPTH_MAX),
        "</a>".repeat(sanctions_ledger::limits::IMPORT_XML_DEPTH_MAX)
    );
    let refused = formats::read(Format::UnXml, "deep.xml", deep.as_bytes()).unwrap_err();
    assert!(refused.reason.contains("IMPORT_XML_DEPTH_MAX"), "{refused}");
    let ok = format!(
        "<CONSOLIDATED_LIST dateGenerated=\"2025-12-09\">{}{}</CONSOLIDATED_LIST>",
        "<a>".repeat(sanctions_ledger::limits::IMPORT_XML_DEPTH_MAX - 1),
        "</a>".repeat(sanctions_ledger::limits::IMPORT_XML_DEPTH_MAX - 1)
    );
    assert!(formats::read(Format::UnXml, "ok.xml", ok.as_bytes()).is_ok());
    let long = "x".repeat(sanctions_ledger::limits::IMPORT_FIELD_BYTES_MAX + 1);
    let huge = format!(
        "{UN_HEAD}<INDIVIDUAL><COMMENTS1>{long}</COMMENTS1></INDIVIDUAL></INDIVIDUALS></CONSOLIDATED_LIST>"
    );
    let refused = formats::read(Format::UnXml, "huge.xml", huge.as_bytes()).unwrap_err();
    assert!(
        refused.reason.contains("IMPORT_FIELD_BYTES_MAX"),
        "{refused}"
    );
}

fn samples() -> Vec<(Format, Vec<u8>)> {
    let real = |path: &str| {
        std::fs::read(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("tests/real")
                .join(path),
        )
        .unwrap()
    };
    let head = |bytes: Vec<u8>| bytes[..bytes.len().min(24_000)].to_vec();
    vec![
        (Format::OfacSdnCsv, head(real("ofac_sdn_csv/sdn_2021-12-09.csv"))),
        (Format::OfacXml, head(real("ofac_consolidated_xml/cons_2025-10-22.xml"))),
        (Format::UnXml, head(real("un_consolidated_xml/un_2025-12-09.xml"))),
        (Format::UkConlistCsv, head(real("uk_hmt_conlist_csv/conlist_2014-04-02.csv"))),
        (Format::CanadaSemaXml, head(real("canada_sema_xml/sema-lmes_2020-04-15.xml"))),
        (Format::FtmEntities, real("opensanctions_ftm/eu_fsf_sample.entities.ftm.json")),
        (Format::FtmDelta, real("opensanctions_ftm/sanctions_20240527194702-wnk.entities.delta.json")),
        (Format::UkConlistXlsx, real("uk_ofsi_conlist_xlsx/conlist_2025-04-10.xlsx")[..30_000].to_vec()),
        (Format::EuFsfXml, b"<export xmlns=\"http://eu.europa.ec/fpi/fsd/export\" generationDate=\"2021-03-22T10:00:00\"><sanctionEntity logicalId=\"1\"><subjectType code=\"person\"/><nameAlias wholeName=\"A B\"/><regulation programme=\"CHN\"/></sanctionEntity></export>".to_vec()),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// A short no-panic campaign on stable Rust over every reader: real files' openings with
    /// bytes flipped, cut or spliced (a longer one is `cargo test --release --test
    /// import_input -- --ignored`).
    #[test]
    fn no_reader_panics_on_mutated_real_input(which in 0usize..9, edits in proptest::collection::vec((any::<u32>(), any::<u8>()), 0..16), cut in any::<u32>()) {
        let (format, mut bytes) = samples().swap_remove(which);
        for (at, byte) in edits {
            if !bytes.is_empty() {
                let at = at as usize % bytes.len();
                bytes[at] = byte;
            }
        }
        if !bytes.is_empty() && cut % 3 == 0 {
            bytes.truncate(cut as usize % bytes.len());
        }
        let _ = formats::read(format, "fuzz", &bytes);
        let _ = formats::detect(&bytes);
        for other in FORMATS {
            let _ = formats::read(other, "fuzz", &bytes[..bytes.len().min(4096)]);
        }
    }
}

#[test]
#[ignore = "long no-panic campaign: run with --ignored"]
fn no_reader_panics_long_campaign() {
    let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig {
        cases: 20_000,
        ..ProptestConfig::default()
    });
    runner
        .run(
            &(
                0usize..9,
                proptest::collection::vec((any::<u32>(), any::<u8>()), 0..64),
            ),
            |(which, edits)| {
                let (format, mut bytes) = samples().swap_remove(which);
                for (at, byte) in edits {
                    let at = at as usize % bytes.len();
                    bytes[at] = byte;
                }
                let _ = formats::read(format, "fuzz", &bytes);
                Ok(())
            },
        )
        .unwrap();
}

#[test]
fn a_file_cut_short_is_refused_not_read_as_complete() {
    let (_keep, dir) = ledger();
    let real = std::fs::read(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/real/ofac_sdn_csv/sdn_2021-12-09.csv"),
    )
    .unwrap();
    // Cut inside the quoted Remarks of a row, as a broken download would.
    let cut = &real[..real.len() / 2];
    let output = import(
        &dir,
        "sdn.csv",
        cut,
        &["--list", "us-ofac-sdn", "--published-on", "2021-12-09"],
    );
    assert_eq!(output.status.code(), Some(2));
    let problem = &error(&output)["error"]["problems"][0];
    assert!(
        problem["reason"].as_str().unwrap().contains("cut short"),
        "{problem}"
    );
    assert_eq!(head(&dir), 0);
    // An sdnList whose Record_Count disagrees with its entries.
    let xml = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/real/ofac_consolidated_xml/cons_2025-10-22.xml"),
    )
    .unwrap();
    let altered = xml.replacen(
        "<Record_Count>443</Record_Count>",
        "<Record_Count>444</Record_Count>",
        1,
    );
    assert_ne!(altered, xml);
    let output = import(
        &dir,
        "cons.xml",
        altered.as_bytes(),
        &["--list", "us-ofac-consolidated"],
    );
    assert_eq!(output.status.code(), Some(2));
    let problem = &error(&output)["error"]["problems"][0];
    assert!(
        problem["reason"]
            .as_str()
            .unwrap()
            .contains("Record_Count says 444, the file holds 443"),
        "{problem}"
    );
}

#[test]
fn an_xlsx_whose_parts_declare_more_than_the_limits_is_refused_before_decompressing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bomb.xlsx");
    // Python's zipfile writes a real deflated zip: 129 MiB of spaces as sharedStrings.xml.
    let script = format!(
        "import zipfile\nwith zipfile.ZipFile({:?}, 'w', zipfile.ZIP_DEFLATED) as z:\n    z.writestr('[Content_Types].xml', '<Types/>')\n    z.writestr('xl/sharedStrings.xml', ' ' * ({} + 1))\n",
        path.display().to_string(),
        sanctions_ledger::limits::IMPORT_XLSX_SHARED_STRINGS_BYTES_MAX
    );
    let status = std::process::Command::new("python3")
        .arg("-c")
        .arg(&script)
        .status()
        .expect("python3");
    assert!(status.success());
    let bytes = std::fs::read(&path).unwrap();
    assert!(
        bytes.len() < 2 * 1024 * 1024,
        "{} bytes: deflated",
        bytes.len()
    );
    let refused = formats::read(Format::UkConlistXlsx, "bomb.xlsx", &bytes).unwrap_err();
    assert!(
        refused
            .reason
            .contains("IMPORT_XLSX_SHARED_STRINGS_BYTES_MAX"),
        "{refused}"
    );
    assert!(refused.place.contains("xl/sharedStrings.xml"), "{refused}");
    // At the bound it passes the check (and fails later, for want of a workbook).
    let script = script.replace(" + 1))", "))");
    assert!(
        std::process::Command::new("python3")
            .arg("-c")
            .arg(&script)
            .status()
            .unwrap()
            .success()
    );
    let bytes = std::fs::read(&path).unwrap();
    let refused = formats::read(Format::UkConlistXlsx, "bomb.xlsx", &bytes).unwrap_err();
    assert!(!refused.reason.contains("IMPORT_XLSX"), "{refused}");
}
