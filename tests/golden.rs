//! Golden vectors: the record format is a frozen contract.
//!
//! `tests/golden/vectors.json` holds fixed events, their canonical event bytes, record bytes and
//! record hashes, and the genesis; and, built from those records in a real ledger, the Merkle
//! roots at every size, an inclusion and a consistency path, a checkpoint signed with a fixed
//! key, and export bundles. Any change to the encoding, the hash contexts, field order or
//! bincode's behaviour fails here. Changing the file is a format change: bump the format
//! version and review it as such. To regenerate after a deliberate change, run with
//! `SANCTIONS_LEDGER_BLESS_GOLDEN=1` and review the diff.
//!
//! `tests/golden/vectors-v1.json` is the same file as it stood for event schema version 1
//! (before measures per subject, `maintains` and optional source titles): frozen, never
//! blessed. Records written then must still decode (upcast), verify and answer.

mod common;

use sanctions_ledger::domain::{EVENT_SCHEMA_VERSION, Timestamp};
use sanctions_ledger::intake::{event_from_json, event_to_json};
use sanctions_ledger::ledger::chain::{self, Hash};
use sanctions_ledger::ledger::checkpoint::SignerKey;
use sanctions_ledger::ledger::record::{self, Genesis, Record};
use sanctions_ledger::ledger::{AppendOptions, FixedClock, Ledger};
use serde_json::{Value, json};

const VECTORS: &str = "tests/golden/vectors.json";
const CREATED_AT_MICROS: i64 = 1_616_371_200_000_000; // 2021-03-22T00:00:00Z
const ORIGIN: &str = "golden vectors";

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn events() -> Vec<Value> {
    vec![
        json!({"kind": "designation", "id": "golden-designation", "effective_on": "2021-03-22",
               "sources": [{"publisher": "Official Journal of the European Union", "title": "OJ L 99I",
                            "url": "https://eur-lex.europa.eu/eli/reg_impl/2021/478/oj", "published_on": "2021-03-22",
                            "sha256": "645b23f3bef721972cbf68fd2a2710ef57d461eca42e2c0def9e775edcdfadde"}],
               "caveats": ["a caveat"],
               "authority": "EU-COUNCIL", "programme": "EU-GHR", "legal_basis": ["Council Implementing Regulation (EU) 2021/478"],
               "subjects": [{"id": "xj-wang-junzheng", "kind": "person", "names": ["WANG Junzheng", "王君正"],
                             "aliases": ["Wang Jun Zheng"], "identifiers": [{"scheme": "date-of-birth", "value": "May 1963"}]}],
               "measures": ["asset_freeze", "funds_ban", "travel_ban"], "until": "2021-12-08", "reason": "Responsible."}),
        json!({"kind": "retaliation", "id": "golden-retaliation", "effective_on": "2021-03-22",
               "sources": [{"publisher": "ANI", "title": "Seed", "url": "https://www.aninews.in/", "as_reported_by": "CNN"}],
               "authority": "CN-MFA", "programme": "CN-COUNTERMEASURES",
               "subjects": [{"id": "lt-dovile-sakaliene", "kind": "person", "names": ["Dovilė Šakalienė"]},
                            {"id": "de-merics", "kind": "entity", "names": ["Mercator Institute for China Studies"]}],
               "measures": ["entry_ban", "business_ban"], "in_response_to": ["golden-designation"],
               "measures_by_subject": [{"subject": "de-merics", "measures": ["business_ban"]}]}),
        json!({"kind": "statement", "id": "golden-statement", "effective_on": "2021-03-22",
               "sources": [{"publisher": "NBC News", "url": "https://www.nbcnews.com/"}],
               "speaker": "Antony Blinken", "role": "US Secretary of State",
               "text": "Amid growing international condemnation…\nSecond line.", "about_events": ["golden-designation"],
               "about_subjects": ["xj-wang-junzheng"]}),
        json!({"kind": "renewal", "id": "golden-renewal", "effective_on": "2021-12-06",
               "sources": [{"publisher": "EU Council", "title": "Renewal", "url": "https://www.consilium.europa.eu/"}],
               "authority": "EU-COUNCIL", "programme": "EU-GHR", "until": "2022-12-08"}),
        json!({"kind": "delisting", "id": "golden-delisting", "effective_on": "2022-01-01",
               "sources": [{"publisher": "EU Council", "title": "Delisting", "url": "https://www.consilium.europa.eu/"}],
               "authority": "EU-COUNCIL", "programme": "EU-GHR", "subject_ids": ["xj-wang-junzheng"], "reason": "Deceased."}),
        json!({"kind": "amendment", "id": "golden-amendment", "effective_on": "2021-12-13",
               "sources": [{"publisher": "EU Council", "title": "Amendment", "url": "https://www.consilium.europa.eu/"}],
               "subject": {"id": "xj-wang-junzheng", "kind": "person", "names": ["WANG Junzheng"]},
               "authority": "EU-COUNCIL", "programme": "EU-GHR", "measures": ["asset_freeze"]}),
        json!({"kind": "correction", "id": "golden-correction", "effective_on": "2022-01-02",
               "sources": [{"publisher": "EU Council", "title": "Corrigendum", "url": "https://www.consilium.europa.eu/"}],
               "corrects": "golden-delisting", "reason": "Wrong subject.",
               "replacement": {"kind": "delisting", "effective_on": "2022-01-01", "authority": "EU-COUNCIL",
                               "programme": "EU-GHR", "subject_ids": ["de-merics"]}}),
    ]
}

/// Events an import writes (schema version 3): a snapshot, an observation and a designation a
/// snapshot implied. Their encoding is frozen here by event bytes alone.
fn imported_events() -> Vec<Value> {
    let observed = |basis: &str| json!({"snapshot": "snapshot/us-ofac-sdn/2021-12-10/0123456789abcdef", "list": "us-ofac-sdn", "basis": basis});
    let source = json!([{"publisher": "US Treasury OFAC", "url": "https://www.treasury.gov/ofac/downloads/sdn.csv", "published_on": "2021-12-10"}]);
    vec![
        json!({"kind": "snapshot", "id": "snapshot/us-ofac-sdn/2021-12-10/0123456789abcdef", "effective_on": "2021-12-10",
               "sources": source, "list": "us-ofac-sdn", "authority": "US-OFAC", "publisher": "US Treasury OFAC",
               "format": "ofac-sdn-csv", "entries": 9146, "file_bytes": 2_345_678,
               "blake3": "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff",
               "sha256": "ffeeddccbbaa99887766554433221100ffeeddccbbaa99887766554433221100",
               "implied_events": 2, "skipped": [{"place": "line 7", "reason": "a field is too long"}], "skipped_count": 1}),
        json!({"kind": "observation", "id": "us-ofac-sdn/2021-12-10/0123456789abcdef/observed", "effective_on": "2021-12-10",
               "sources": source, "observed": observed("first_observed"),
               "entries": [{"subject": "xj-wang-junzheng", "identifier": {"scheme": "ofac-uid", "value": "28920"}}]}),
        json!({"kind": "designation", "id": "us-ofac-sdn/2021-12-10/0123456789abcdef/designation/34079/GLOMAG", "effective_on": "2021-12-10",
               "sources": source, "observed": observed("first_observed"),
               "authority": "US-OFAC", "programme": "GLOMAG", "legal_basis": [],
               "subjects": [{"id": "ofac-34079", "kind": "person", "names": ["ZAKIR, Shohrat"],
                             "identifiers": [{"scheme": "ofac-uid", "value": "34079"}]}],
               "measures": ["unspecified"]}),
    ]
}

fn recorded_at(index: usize) -> Timestamp {
    Timestamp::from_unix_micros(CREATED_AT_MICROS + (index as i64 + 1) * 3_600_000_000)
}

fn compute() -> Value {
    let genesis = Genesis {
        format_version: record::GENESIS_FORMAT_VERSION,
        origin: ORIGIN.to_owned(),
        created_at: Timestamp::from_unix_micros(CREATED_AT_MICROS),
    };
    let genesis_bytes = genesis.to_bytes().unwrap();
    let mut previous = chain::genesis_hash(&genesis_bytes);
    let genesis_json = json!({"origin": ORIGIN, "created_at_micros": CREATED_AT_MICROS,
                              "bytes": hex(&genesis_bytes), "hash": previous.to_hex()});
    let mut records = Vec::new();
    for (index, value) in events().into_iter().enumerate() {
        let event = event_from_json(&value).expect("golden event valid");
        assert_eq!(
            event_to_json(&event),
            value,
            "golden events are written in canonical JSON"
        );
        let event_bytes = record::encode_event(&event).unwrap();
        let record = Record {
            format_version: record::RECORD_FORMAT_VERSION,
            sequence: index as u64 + 1,
            recorded_at: recorded_at(index),
            appended_by: "golden".to_owned(),
            previous_hash: previous.0,
            schema_version: EVENT_SCHEMA_VERSION,
            event_bytes: event_bytes.clone(),
        };
        let record_bytes = record.to_bytes().unwrap();
        previous = chain::record_hash(&record_bytes);
        records.push(json!({"event": value, "event_bytes": hex(&event_bytes),
                            "record_bytes": hex(&record_bytes), "record_hash": previous.to_hex()}));
    }
    let imported: Vec<Value> = imported_events()
        .into_iter()
        .map(|value| {
            let event = event_from_json(&value).expect("imported golden event valid");
            assert_eq!(event_to_json(&event), value, "canonical JSON");
            json!({"event": value, "event_bytes": hex(&record::encode_event(&event).unwrap())})
        })
        .collect();
    json!({
        "contexts": {"record": chain::RECORD_CONTEXT, "genesis": chain::GENESIS_CONTEXT},
        "imported_events": imported,
        "encoding": "bincode 2.0.1, serde path, standard() little-endian varint",
        "genesis": genesis_json,
        "records": records,
        "proofs": compute_proofs(),
    })
}

/// The golden signing key: a fixed seed, its id computed here independently of the ledger's
/// code (SHA-256 of name, newline, 0x01, public key).
fn golden_key() -> (SignerKey, String) {
    use base64::Engine;
    use sha2::Digest;
    let seed = [7u8; 32];
    let public = ed25519_dalek::SigningKey::from_bytes(&seed).verifying_key();
    let mut hasher = sha2::Sha256::new();
    hasher.update(b"golden\n\x01");
    hasher.update(public.as_bytes());
    let id = hex(&hasher.finalize()[..4]);
    let secret = [&[1u8][..], &seed].concat();
    let text = format!(
        "PRIVATE+KEY+golden+{id}+{}",
        base64::engine::general_purpose::STANDARD.encode(secret)
    );
    (SignerKey::parse(&text).expect("golden key"), id)
}

/// A real ledger holding the golden events, appended one by one at their recorded times, and
/// the head hash after each append.
fn golden_ledger(path: &std::path::Path) -> (Ledger, Vec<Hash>) {
    let mut ledger = Ledger::init(
        path,
        ORIGIN,
        &FixedClock(Timestamp::from_unix_micros(CREATED_AT_MICROS)),
    )
    .unwrap();
    let options = AppendOptions {
        appended_by: "golden".to_owned(),
        recorded_at: None,
    };
    let heads = events()
        .into_iter()
        .enumerate()
        .map(|(index, value)| {
            ledger
                .append(
                    &[event_from_json(&value).unwrap()],
                    &options,
                    &FixedClock(recorded_at(index)),
                )
                .unwrap()
                .head
                .hash
        })
        .collect();
    (ledger, heads)
}

/// The golden records in a real ledger, a checkpoint of them at a fixed time, and its bundle.
fn compute_proofs() -> Value {
    use sanctions_ledger::ledger::merkle::{self, Rfc6962TreeHasher, TreeHasher};
    use sha2::Digest;
    let dir = tempfile::tempdir().unwrap();
    let (mut ledger, _) = golden_ledger(&dir.path().join("ledger"));
    let roots: Vec<String> = (0..=7)
        .map(|size| hex(&ledger.tree_head(size).unwrap().root))
        .collect();
    let hashes =
        |path: Vec<merkle::Digest>| -> Vec<String> { path.iter().map(|h| hex(h)).collect() };
    let (signer, key_id) = golden_key();
    let time = Timestamp::from_unix_micros(CREATED_AT_MICROS + 86_400_000_000);
    let (_, checkpoint) = ledger.checkpoint(&signer, &FixedClock(time)).unwrap();
    let mut bundle = Vec::new();
    ledger
        .export(&mut bundle, &checkpoint, 1, &mut |_| {})
        .unwrap();
    let mut partial = Vec::new();
    ledger
        .export(&mut partial, &checkpoint, 5, &mut |_| {})
        .unwrap();
    json!({
        "tree": "RFC 6962: SHA-256(0x00 || record bytes) per leaf, SHA-256(0x01 || left || right) per node",
        "contexts": {"bundle": chain::BUNDLE_CONTEXT},
        "empty_root": hex(&Rfc6962TreeHasher.empty_root()),
        "roots_by_size": roots,
        "inclusion_of_record_3_in_7": hashes(ledger.inclusion_proof(3, 7).unwrap()),
        "consistency_3_to_7": hashes(ledger.consistency_proof(3, 7).unwrap()),
        "key": {"seed_byte": 7, "name": "golden", "key_id": key_id, "public": signer.verifier().text()},
        "checkpoint": checkpoint.text(),
        "bundle_from_1": {"bytes": bundle.len(), "sha256": hex(&sha2::Sha256::digest(&bundle)), "trailer": hex(&bundle[bundle.len() - 32..])},
        "bundle_from_5": {"bytes": partial.len(), "hex": hex(&partial)},
    })
}

#[test]
fn the_format_matches_the_golden_vectors() {
    let actual = compute();
    if std::env::var_os("SANCTIONS_LEDGER_BLESS_GOLDEN").is_some() {
        std::fs::write(
            VECTORS,
            serde_json::to_string_pretty(&actual).unwrap() + "\n",
        )
        .unwrap();
    }
    let expected: Value =
        serde_json::from_str(&std::fs::read_to_string(VECTORS).expect("vectors file")).unwrap();
    assert_eq!(
        actual["contexts"], expected["contexts"],
        "hash contexts changed"
    );
    assert_eq!(
        actual["genesis"], expected["genesis"],
        "genesis format changed"
    );
    assert_eq!(
        actual["proofs"], expected["proofs"],
        "the Merkle tree, checkpoint, key or bundle format changed"
    );
    assert_eq!(
        actual["imported_events"], expected["imported_events"],
        "the encoding of snapshot, observation or observed fields changed"
    );
    let (actual_records, expected_records) = (
        actual["records"].as_array().unwrap(),
        expected["records"].as_array().unwrap(),
    );
    assert_eq!(actual_records.len(), expected_records.len());
    for (index, (actual, expected)) in actual_records.iter().zip(expected_records).enumerate() {
        assert_eq!(
            actual["event_bytes"], expected["event_bytes"],
            "event {index}: event encoding changed"
        );
        assert_eq!(
            actual["record_bytes"], expected["record_bytes"],
            "event {index}: record encoding changed"
        );
        assert_eq!(
            actual["record_hash"], expected["record_hash"],
            "event {index}: record hash changed"
        );
    }
}

#[test]
fn the_golden_bytes_decode_back_to_the_golden_events() {
    let expected: Value = serde_json::from_str(&std::fs::read_to_string(VECTORS).unwrap()).unwrap();
    for entry in expected["records"].as_array().unwrap() {
        let bytes = (0..entry["record_bytes"].as_str().unwrap().len())
            .step_by(2)
            .map(|i| {
                u8::from_str_radix(&entry["record_bytes"].as_str().unwrap()[i..i + 2], 16).unwrap()
            })
            .collect::<Vec<u8>>();
        let record = Record::from_bytes(&bytes).unwrap();
        let event = record::decode_event(&record.event_bytes, record.schema_version).unwrap();
        assert_eq!(event_to_json(&event), entry["event"]);
        assert_eq!(chain::record_hash(&bytes).to_hex(), entry["record_hash"]);
    }
}

#[test]
fn a_real_ledger_reproduces_the_golden_chain() {
    let expected: Value = serde_json::from_str(&std::fs::read_to_string(VECTORS).unwrap()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ledger");
    let (ledger, heads) = golden_ledger(&path);
    assert_eq!(ledger.genesis_hash().to_hex(), expected["genesis"]["hash"]);
    for (index, head) in heads.iter().enumerate() {
        assert_eq!(
            Some(*head),
            Hash::from_hex(expected["records"][index]["record_hash"].as_str().unwrap())
        );
    }
    drop(ledger);
    let verified = Ledger::open(&path).unwrap().verify(&mut |_| {}).unwrap();
    assert_eq!(
        verified.head_hash.to_hex(),
        expected["records"][6]["record_hash"]
    );
}

const VECTORS_V1: &str = "tests/golden/vectors-v1.json";
const VECTORS_V2: &str = "tests/golden/vectors-v2.json";

fn unhex(text: &str) -> Vec<u8> {
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap())
        .collect()
}

/// Writes the records of an older version's vector file into a fresh ledger's log, checking
/// that each still decodes (upcast) to the event JSON frozen with it, and opens and verifies it.
fn older_version_ledger(vectors: &str, version: u16) -> (tempfile::TempDir, Ledger) {
    use sanctions_ledger::ledger::log::{FileStorage, Log, LogOptions};
    let v1: Value = serde_json::from_str(&std::fs::read_to_string(vectors).unwrap()).unwrap();
    let genesis = unhex(v1["genesis"]["bytes"].as_str().unwrap());
    let records: Vec<(Vec<u8>, Hash)> = v1["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|entry| {
            let bytes = unhex(entry["record_bytes"].as_str().unwrap());
            let record = Record::from_bytes(&bytes).unwrap();
            assert_eq!(record.schema_version, version);
            // Upcast: the older event reads as it was written (the new fields empty).
            let event = record::decode_event(&record.event_bytes, version).unwrap();
            assert_eq!(event_to_json(&event), entry["event"]);
            let hash = chain::record_hash(&bytes);
            assert_eq!(hash.to_hex(), entry["record_hash"]);
            (bytes, hash)
        })
        .collect();
    // A ledger written by that version's code: its log files hold exactly these bytes.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ledger");
    std::fs::create_dir(&path).unwrap();
    let storage = FileStorage::writer(&path.join("log"), true)
        .unwrap()
        .unwrap();
    let mut log = Log::create(Box::new(storage), &genesis, LogOptions::default()).unwrap();
    let frames: Vec<(&[u8], Hash)> = records.iter().map(|(b, h)| (b.as_slice(), *h)).collect();
    log.append(&frames).unwrap();
    drop(log);
    let ledger = Ledger::open(&path).unwrap();
    let verified = ledger.verify(&mut |_| {}).unwrap();
    assert_eq!(verified.records, 7);
    assert_eq!(verified.head_hash.to_hex(), v1["records"][6]["record_hash"]);
    (dir, ledger)
}

#[test]
fn version_2_records_still_decode_verify_and_answer() {
    let (_dir, ledger) = older_version_ledger(VECTORS_V2, 2);
    sanctions_ledger::projection::sync(&ledger).unwrap();
    let query = sanctions_ledger::query::Query::new(&ledger, None).unwrap();
    let today = sanctions_ledger::domain::CivilDate::parse("2022-06-01").unwrap();
    let history = query.history("xj-wang-junzheng", today).unwrap().unwrap();
    let listings: Vec<(&str, &str)> = history
        .listings
        .iter()
        .map(|l| (l.authority.as_str(), l.programme.as_str()))
        .collect();
    assert_eq!(listings, vec![("EU-COUNCIL", "EU-GHR")]);
}

#[test]
fn version_1_records_still_decode_verify_and_answer() {
    use sanctions_ledger::query::{Filter, Query};
    let (_dir, mut ledger) = older_version_ledger(VECTORS_V1, 1);
    sanctions_ledger::projection::sync(&ledger).unwrap();
    {
        let query = Query::new(&ledger, None).unwrap();
        let state = query
            .state(
                sanctions_ledger::domain::CivilDate::parse("2021-06-01").unwrap(),
                &Filter::default(),
            )
            .unwrap();
        let listed: Vec<(&str, &str, Vec<String>)> = state
            .listings
            .iter()
            .map(|l| (l.authority.as_str(), l.subject.as_str(), l.measures.clone()))
            .collect();
        assert_eq!(
            listed,
            vec![
                (
                    "CN-MFA",
                    "de-merics",
                    vec!["entry_ban".into(), "business_ban".into()]
                ),
                (
                    "CN-MFA",
                    "lt-dovile-sakaliene",
                    vec!["entry_ban".into(), "business_ban".into()]
                ),
                (
                    "EU-COUNCIL",
                    "xj-wang-junzheng",
                    vec![
                        "asset_freeze".into(),
                        "funds_ban".into(),
                        "travel_ban".into()
                    ]
                ),
            ]
        );
    }
    // A version-2 event appends after them; the mixed chain verifies.
    let event = event_from_json(
        &json!({"kind": "statement", "id": "after-v1", "effective_on": "2022-02-01",
        "sources": [{"publisher": "Someone", "url": "https://example.org/"}],
        "speaker": "Someone", "text": "Words.", "about_events": ["golden-retaliation"]}),
    )
    .unwrap();
    let options = AppendOptions {
        appended_by: "golden".to_owned(),
        recorded_at: None,
    };
    let report = ledger
        .append(
            &[event],
            &options,
            &FixedClock(Timestamp::from_unix_micros(
                CREATED_AT_MICROS + 400 * 86_400_000_000,
            )),
        )
        .unwrap();
    assert_eq!(report.head.sequence, 8);
    let appended = ledger.record(8).unwrap().unwrap();
    assert_eq!(appended.record.schema_version, EVENT_SCHEMA_VERSION);
    assert_eq!(ledger.verify(&mut |_| {}).unwrap().records, 8);
}

const TREE_V1: &str = "tests/golden/tree-v1-blake3.json";

/// A ledger whose log kept a checkpoint of the first tree format (issued before the tree
/// became RFC 6962 SHA-256: origin `sanctions-ledger/v1/`, BLAKE3 over record hashes): the
/// golden ledger's own checkpoint of that time, frozen in tests/golden/tree-v1-blake3.json. It
/// still verifies (kept and as an auditor's `--checkpoint`), an inclusion proof issued against
/// it still checks offline, a changed root is caught, and the next checkpoint is RFC 6962 with
/// the same head, so the two relate as the same history.
#[test]
fn a_checkpoint_of_the_first_blake3_tree_still_verifies_and_the_next_one_is_rfc_6962() {
    use base64::Engine;
    use sanctions_ledger::ledger::checkpoint::SignedCheckpoint;
    use sanctions_ledger::ledger::log::{FileStorage, Log, LogOptions};
    use sanctions_ledger::ledger::merkle::TreeVersion;
    use sanctions_ledger::ledger::{Anchoring, VerifyOptions};
    use sanctions_ledger::proof::{self, Relation};
    let frozen: Value = serde_json::from_str(&std::fs::read_to_string(TREE_V1).unwrap()).unwrap();
    let v1_text = frozen["checkpoint"].as_str().unwrap();
    let v1 = SignedCheckpoint::parse(v1_text.as_bytes()).unwrap();
    assert_eq!(v1.checkpoint.tree, TreeVersion::V1Blake3);
    let (signer, _) = golden_key();
    let verifier = signer.verifier();
    let keep = |path: &std::path::Path, text: &str| {
        let storage = FileStorage::writer(&path.join("log"), false)
            .unwrap()
            .unwrap();
        let mut log = Log::open(Box::new(storage), true, LogOptions::default()).unwrap();
        log.add_checkpoint(text.as_bytes()).unwrap();
    };
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ledger");
    let (ledger, _) = golden_ledger(&path);
    // Its roots are not the RFC 6962 tree's, so only the v1 tree can give them.
    assert_ne!(
        ledger.tree_head(7).unwrap().root.to_vec(),
        base64::engine::general_purpose::STANDARD
            .decode(v1_text.lines().nth(2).unwrap())
            .unwrap()
    );
    drop(ledger);
    keep(&path, v1_text);
    let mut ledger = Ledger::open(&path).unwrap();
    let verified = ledger.verify(&mut |_| {}).unwrap();
    assert_eq!(verified.checkpoints_checked, 1);
    let options = VerifyOptions {
        sizes: [7].into(),
        v1_roots: true,
        ..VerifyOptions::default()
    };
    let verified = ledger.verify_with(&options, &mut |_| {}).unwrap();
    assert_eq!(
        verified.against(Some(&v1.checkpoint)),
        Anchoring::Extends { since: 0 }
    );
    // Its inclusion proof of record 3, as issued then, still checks offline.
    let record = ledger.record_bytes(3).unwrap();
    let document = json!({
        "proof": "inclusion",
        "checkpoint": v1_text,
        "sequence": 3,
        "record": base64::engine::general_purpose::STANDARD.encode(&record),
        "record_hash": chain::record_hash(&record).to_hex(),
        "path": frozen["inclusion_of_record_3_in_7"],
    });
    let text = serde_json::to_vec(&document).unwrap();
    proof::verify_document(&text, &verifier).expect("the v1 proof checks");
    let mut bent = document.clone();
    bent["sequence"] = json!(4);
    bent["record"] =
        json!(base64::engine::general_purpose::STANDARD.encode(ledger.record_bytes(4).unwrap()));
    bent["record_hash"] = json!(chain::record_hash(&ledger.record_bytes(4).unwrap()).to_hex());
    assert!(proof::verify_document(&serde_json::to_vec(&bent).unwrap(), &verifier).is_err());
    // Proofs are not made against it: they are made against RFC 6962 checkpoints.
    let refused = proof::prove_inclusion(&ledger, 3, &v1).unwrap_err();
    assert!(
        refused.to_string().contains("first tree format"),
        "{refused}"
    );
    // The next checkpoint re-reads everything, checks the v1 root on the way, and is v2.
    let time = Timestamp::from_unix_micros(CREATED_AT_MICROS + 2 * 86_400_000_000);
    let (number, v2) = ledger.checkpoint(&signer, &FixedClock(time)).unwrap();
    assert_eq!(number, 2);
    assert_eq!(v2.checkpoint.tree, TreeVersion::V2Rfc6962);
    assert!(v2.text().starts_with("sanctions-ledger/v2/"));
    assert_eq!(v2.checkpoint.head, v1.checkpoint.head);
    assert_eq!(
        proof::relate(&v1.checkpoint, &v2.checkpoint, None, &verifier).unwrap(),
        Relation::Same
    );
    assert_eq!(ledger.verify(&mut |_| {}).unwrap().checkpoints_checked, 2);
    drop(ledger);

    // The same ledger with the v1 checkpoint's root changed (re-signed, so only the tree can
    // tell): verify finds the kept checkpoint is not a tree of the records, and signing refuses.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ledger");
    let (ledger, _) = golden_ledger(&path);
    drop(ledger);
    let mut wrong = v1.checkpoint.clone();
    wrong.root[0] ^= 1;
    keep(&path, &signer.sign(wrong).text());
    let mut ledger = Ledger::open(&path).unwrap();
    let failure = ledger.verify(&mut |_| {}).unwrap_err();
    assert_eq!(
        failure.kind,
        sanctions_ledger::ledger::verify::FailureKind::CheckpointMismatch,
        "{failure:?}"
    );
    assert!(ledger.checkpoint(&signer, &FixedClock(time)).is_err());
}
