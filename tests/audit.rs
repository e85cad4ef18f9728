//! Proof for auditors, on real on-disk ledgers: signed checkpoints, inclusion and consistency
//! proofs checked offline, `verify --checkpoint` verdicts after truncation, rewriting and
//! forking, fork evidence from two checkpoints, bundles exported, checked and restored, and
//! every single-bit change to a proof, a checkpoint or a bundle rejected.

mod common;

use common::{clock, ledger_with, options, run_cli, stderr, stdout, synthetic_events, with_db};
use sanctions_ledger::ledger::bundle;
use sanctions_ledger::ledger::checkpoint::{SignedCheckpoint, SignerKey, VerifierKey};
use sanctions_ledger::ledger::{FailureKind, Ledger, LedgerError};
use sanctions_ledger::proof::{self, Proven};
use serde_json::Value;
use std::path::{Path, PathBuf};

fn key() -> SignerKey {
    SignerKey::generate("audit.example/ops").expect("key")
}

/// Appends synthetic events `from..from + count` to the ledger at `path`.
fn append(path: &Path, from: u64, count: u64) {
    common::append_synthetic(&mut Ledger::open(path).expect("open"), from, count);
}

/// Signs a checkpoint of the head and writes it to `file`.
fn checkpoint_to(path: &Path, signer: &SignerKey, file: &Path) -> SignedCheckpoint {
    let mut ledger = Ledger::open(path).expect("open");
    let (_, signed) = ledger
        .checkpoint(signer, &clock(1_000))
        .expect("checkpoint");
    std::fs::write(file, signed.text()).expect("write checkpoint");
    signed
}

fn write_key(dir: &Path, signer: &SignerKey) -> PathBuf {
    let file = dir.join("ops.pub");
    std::fs::write(&file, signer.verifier().text()).unwrap();
    file
}

fn cli(dir: &Path, args: &[&str]) -> (Option<i32>, String) {
    let output = run_cli(dir, args, None);
    let text = format!("{}{}", stdout(&output), stderr(&output));
    (output.status.code(), text)
}

fn verify_against(dir: &Path, ledger: &str, checkpoint: &str) -> (Option<i32>, Value) {
    let output = run_cli(
        dir,
        &[
            "--json",
            "--ledger",
            ledger,
            "verify",
            "--checkpoint",
            checkpoint,
            "--key",
            "ops.pub",
        ],
        None,
    );
    let value = serde_json::from_str(&stdout(&output))
        .unwrap_or_else(|_| panic!("no JSON: {}{}", stdout(&output), stderr(&output)));
    (output.status.code(), value)
}

/// A 30-record ledger with checkpoints kept at 20, 29 and 30 (files cp20, cp29, cp30).
struct Scenario {
    ledger: common::TempLedger,
    signer: SignerKey,
}

fn scenario() -> Scenario {
    let ledger = ledger_with(20, 7);
    let signer = key();
    let dir = ledger.dir.path();
    write_key(dir, &signer);
    checkpoint_to(&ledger.path, &signer, &dir.join("cp20"));
    append(&ledger.path, 20, 9);
    checkpoint_to(&ledger.path, &signer, &dir.join("cp29"));
    append(&ledger.path, 29, 1);
    checkpoint_to(&ledger.path, &signer, &dir.join("cp30"));
    Scenario { ledger, signer }
}

/// Where leaf `leaf`'s entry starts in the first `merkle` chunk (the documented layout).
fn entry_offset(leaf: u64) -> usize {
    (0..leaf)
        .map(|t| 32 * (1 + t.trailing_ones() as usize))
        .sum()
}

/// Cuts the last records off a ledger with sled, leaving it internally consistent: records,
/// their index entries and Merkle leaves go, the head moves back, and the checkpoints the
/// operator kept are thrown away (as someone hiding a truncation would).
fn truncate(path: &Path, keep: u64) {
    common::log_files::rewrite(path, true, |frames| frames.truncate(keep as usize));
    common::log_files::drop_checkpoints(path);
}

#[test]
fn keygen_writes_a_private_secret_key_and_a_public_key_to_pin() {
    let dir = tempfile::tempdir().unwrap();
    let (code, text) = cli(dir.path(), &["keygen", "--name", "example.org/ops"]);
    assert_eq!(code, Some(0), "{text}");
    let public = std::fs::read_to_string(dir.path().join("example.org-ops.pub")).unwrap();
    let verifier = VerifierKey::parse(public.trim_end()).expect("a public key");
    assert!(text.contains(&format!("key id      {}", verifier.key_id_hex())));
    assert!(text.contains(public.trim_end()));
    let secret = dir.path().join("example.org-ops.key");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&secret).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let signer = SignerKey::parse(std::fs::read_to_string(&secret).unwrap().trim_end()).unwrap();
    assert_eq!(signer.verifier(), verifier);
    // A key is never overwritten.
    let (code, text) = cli(dir.path(), &["keygen", "--name", "example.org/ops"]);
    assert_eq!(code, Some(2), "{text}");
    assert!(text.contains("never replaced"), "{text}");
}

#[test]
fn checkpoints_are_kept_listed_and_checked_by_verify() {
    let scenario = scenario();
    let dir = scenario.ledger.dir.path();
    let output = run_cli(dir, &["--json", "--ledger", "ledger", "checkpoints"], None);
    let listed: Value = serde_json::from_str(&stdout(&output)).unwrap();
    let sizes: Vec<u64> = listed["checkpoints"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["size"].as_u64().unwrap())
        .collect();
    assert_eq!(sizes, [20, 29, 30]);
    assert_eq!(
        listed["checkpoints"][1]["text"].as_str().unwrap(),
        std::fs::read_to_string(dir.join("cp29")).unwrap()
    );
    let verified = Ledger::open(&scenario.ledger.path)
        .unwrap()
        .verify(&mut |_| {})
        .unwrap();
    assert_eq!(verified.checkpoints_checked, 3);
    let ledger = Ledger::open(&scenario.ledger.path).unwrap();
    let (number, last) = ledger.last_checkpoint().unwrap().unwrap();
    assert_eq!((number, last.checkpoint.size), (3, 30));
    assert_eq!(Some((number, last)), ledger.checkpoints().unwrap().pop());
    drop(ledger);
    // Checkpoints are monotonic in time and each re-read only the records since the last.
    let output = run_cli(
        dir,
        &[
            "--json",
            "--ledger",
            "ledger",
            "checkpoint",
            "--key",
            "missing.key",
        ],
        None,
    );
    assert_eq!(output.status.code(), Some(2));
}

#[test]
fn without_a_checkpoint_the_verdict_is_unanchored_never_ok() {
    let scenario = scenario();
    let dir = scenario.ledger.dir.path();
    let output = run_cli(dir, &["--json", "--ledger", "ledger", "verify"], None);
    assert_eq!(output.status.code(), Some(3));
    let value: Value = serde_json::from_str(&stdout(&output)).unwrap();
    assert_eq!(value["verdict"], "unanchored");
    assert_eq!(value["anchored"], false);
    assert_eq!(value["checkpoints_checked"], 3);
}

#[test]
fn the_ledger_extends_each_earlier_checkpoint() {
    let scenario = scenario();
    let dir = scenario.ledger.dir.path();
    for checkpoint in ["cp20", "cp29", "cp30"] {
        let (code, value) = verify_against(dir, "ledger", checkpoint);
        assert_eq!(
            (code, value["verdict"].as_str()),
            (Some(0), Some("ok")),
            "{value}"
        );
        assert_eq!(value["signature_checked"], true);
    }
}

#[test]
fn a_log_truncated_by_one_record_is_truncated() {
    let scenario = scenario();
    let dir = scenario.ledger.dir.path();
    truncate(&scenario.ledger.path, 29);
    let (code, value) = verify_against(dir, "ledger", "cp30");
    assert_eq!(code, Some(4), "{value}");
    assert_eq!(value["verdict"], "truncated");
    assert!(
        value["detail"]
            .as_str()
            .unwrap()
            .contains("1 record(s) are gone"),
        "{value}"
    );
    // What remains still extends the earlier checkpoints.
    assert_eq!(verify_against(dir, "ledger", "cp29").0, Some(0));
}

#[test]
fn a_log_truncated_by_many_records_is_truncated() {
    let scenario = scenario();
    let dir = scenario.ledger.dir.path();
    truncate(&scenario.ledger.path, 12);
    for checkpoint in ["cp20", "cp29", "cp30"] {
        let (code, value) = verify_against(dir, "ledger", checkpoint);
        assert_eq!(
            (code, value["verdict"].as_str()),
            (Some(4), Some("truncated")),
            "{value}"
        );
    }
}

#[test]
fn a_truncation_that_keeps_the_operators_checkpoints_is_damage() {
    let scenario = scenario();
    truncate(&scenario.ledger.path, 25);
    // Put one kept checkpoint back: the log no longer reaches it.
    let text = std::fs::read_to_string(scenario.ledger.dir.path().join("cp30")).unwrap();
    common::log_files::add_checkpoint(&scenario.ledger.path, text.as_bytes());
    let failure = Ledger::open_read(&scenario.ledger.path)
        .unwrap()
        .verify(&mut |_| {})
        .unwrap_err();
    assert_eq!(failure.kind, FailureKind::CheckpointMismatch, "{failure}");
}

/// A copy of the scenario's ledger restored from its records up to `keep`, then rewritten
/// from there with other events (hashes all recomputed: internally consistent).
fn rewritten(scenario: &Scenario, keep: u64, name: &str) -> PathBuf {
    let dir = scenario.ledger.dir.path();
    let bundle_file = dir.join(format!("{name}.bundle"));
    let ledger = Ledger::open(&scenario.ledger.path).unwrap();
    let at = ledger
        .checkpoints()
        .unwrap()
        .into_iter()
        .find(|(_, signed)| signed.checkpoint.size == keep)
        .expect("a kept checkpoint of that size")
        .1;
    let file = std::fs::File::create(&bundle_file).unwrap();
    ledger.export(&file, &at, 1, &mut |_| {}).unwrap();
    drop(ledger);
    let path = dir.join(name);
    bundle::restore(
        &bundle_file,
        &path,
        &scenario.signer.verifier(),
        &mut |_| {},
    )
    .unwrap();
    let mut copy = Ledger::open(&path).unwrap();
    // Event 994 is a designation; the events after it refer only to events from 994 on.
    let others: Vec<_> = synthetic_events(994, 30 - keep);
    copy.append(&others, &options(), &clock(5_000)).unwrap();
    path
}

#[test]
fn a_log_rewritten_from_a_middle_point_diverges() {
    let scenario = scenario();
    let dir = scenario.ledger.dir.path();
    rewritten(&scenario, 20, "rewritten");
    let internally = run_cli(dir, &["--ledger", "rewritten", "verify"], None);
    assert_eq!(internally.status.code(), Some(3), "internally consistent");
    for checkpoint in ["cp29", "cp30"] {
        let (code, value) = verify_against(dir, "rewritten", checkpoint);
        assert_eq!(
            (code, value["verdict"].as_str()),
            (Some(5), Some("diverged")),
            "{value}"
        );
    }
    // The prefix it kept is still what cp20 signed.
    assert_eq!(verify_against(dir, "rewritten", "cp20").0, Some(0));
}

#[test]
fn two_signed_checkpoints_of_one_size_with_different_roots_prove_a_fork() {
    let scenario = scenario();
    let dir = scenario.ledger.dir.path();
    let fork = rewritten(&scenario, 29, "fork");
    checkpoint_to(&fork, &scenario.signer, &dir.join("fork30"));
    let (code, text) = cli(
        dir,
        &["compare-checkpoints", "cp30", "fork30", "--key", "ops.pub"],
    );
    assert_eq!(code, Some(5), "{text}");
    assert!(text.starts_with("FORKED"), "{text}");
    let ours = SignedCheckpoint::parse(&std::fs::read(dir.join("cp30")).unwrap()).unwrap();
    let theirs = SignedCheckpoint::parse(&std::fs::read(dir.join("fork30")).unwrap()).unwrap();
    for root in [ours.checkpoint.root, theirs.checkpoint.root] {
        assert!(text.contains(&sanctions_ledger::ledger::chain::Hash(root).to_hex()));
    }
    // The fork also diverges from the checkpoint an auditor kept.
    assert_eq!(verify_against(dir, "fork", "cp30").0, Some(5));
    // Same checkpoint twice: same.
    let (code, _) = cli(
        dir,
        &["compare-checkpoints", "cp30", "cp30", "--key", "ops.pub"],
    );
    assert_eq!(code, Some(0));
}

#[test]
fn checkpoints_of_different_sizes_need_a_consistency_proof() {
    let scenario = scenario();
    let dir = scenario.ledger.dir.path();
    let (code, text) = cli(
        dir,
        &["compare-checkpoints", "cp20", "cp30", "--key", "ops.pub"],
    );
    assert_eq!(code, Some(3), "{text}");
    assert!(text.starts_with("UNDECIDED"), "{text}");
    let (code, text) = cli(
        dir,
        &[
            "--ledger",
            "ledger",
            "prove",
            "consistency",
            "--from",
            "cp20",
            "--to",
            "cp30",
            "--out",
            "c.json",
        ],
    );
    assert_eq!(code, Some(0), "{text}");
    let (code, text) = cli(
        dir,
        &[
            "compare-checkpoints",
            "cp20",
            "cp30",
            "--key",
            "ops.pub",
            "--proof",
            "c.json",
        ],
    );
    assert_eq!(code, Some(0), "{text}");
    assert!(text.starts_with("CONSISTENT"), "{text}");
    // A proof between other checkpoints proves nothing about these.
    let (code, text) = cli(
        dir,
        &[
            "compare-checkpoints",
            "cp29",
            "cp30",
            "--key",
            "ops.pub",
            "--proof",
            "c.json",
        ],
    );
    assert_eq!(code, Some(1), "{text}");
}

#[test]
fn a_checkpoint_of_another_log_or_with_a_bad_signature_is_refused() {
    let scenario = scenario();
    let dir = scenario.ledger.dir.path();
    let other = dir.join("other");
    let mut another = Ledger::init(&other, "another ledger", &clock(0)).unwrap();
    another
        .append(&synthetic_events(0, 30), &options(), &clock(0))
        .unwrap();
    drop(another);
    checkpoint_to(&other, &scenario.signer, &dir.join("other30"));
    let (code, value) = verify_against(dir, "ledger", "other30");
    assert_eq!(
        (code, value["verdict"].as_str()),
        (Some(5), Some("diverged"))
    );
    assert!(
        value["detail"]
            .as_str()
            .unwrap()
            .contains("a different (or replaced) log")
    );
    let stranger = key();
    std::fs::write(dir.join("stranger.pub"), stranger.verifier().text()).unwrap();
    let (code, text) = cli(
        dir,
        &[
            "--ledger",
            "ledger",
            "verify",
            "--checkpoint",
            "cp30",
            "--key",
            "stranger.pub",
        ],
    );
    assert_eq!(code, Some(2), "{text}");
    assert!(text.contains("no signature by the key"), "{text}");
}

#[test]
fn every_record_is_proven_included_and_every_pair_of_checkpoints_consistent() {
    let ledger = ledger_with(1, 1);
    let signer = key();
    let verifier = signer.verifier();
    let mut kept = Vec::new();
    for size in [1u64, 2, 10, 16, 23, 37] {
        let mut opened = Ledger::open(&ledger.path).unwrap();
        let head = opened.head().sequence;
        if head < size {
            opened
                .append(&synthetic_events(head, size - head), &options(), &clock(0))
                .unwrap();
        }
        kept.push(opened.checkpoint(&signer, &clock(0)).unwrap().1);
    }
    let opened = Ledger::open(&ledger.path).unwrap();
    for checkpoint in &kept {
        for sequence in 1..=checkpoint.checkpoint.size {
            let document = proof::prove_inclusion(&opened, sequence, checkpoint).unwrap();
            let bound = 2 * (64 - checkpoint.checkpoint.size.leading_zeros()) as usize;
            assert!(document.path.len() <= bound);
            let text = serde_json::to_vec_pretty(&document).unwrap();
            match proof::verify_document(&text, &verifier).unwrap() {
                Proven::Inclusion {
                    sequence: proven, ..
                } => assert_eq!(proven, sequence),
                other => panic!("{other:?}"),
            }
            assert!(proof::verify_document(&text, &key().verifier()).is_err());
        }
        assert!(
            proof::prove_inclusion(&opened, checkpoint.checkpoint.size + 1, checkpoint).is_err()
        );
    }
    for (i, from) in kept.iter().enumerate() {
        for to in &kept[i..] {
            let document = proof::prove_consistency(&opened, from, to).unwrap();
            let text = serde_json::to_vec(&document).unwrap();
            assert!(matches!(
                proof::verify_document(&text, &verifier),
                Ok(Proven::Consistency { .. })
            ));
        }
    }
    // Backwards is refused.
    assert!(proof::prove_consistency(&opened, &kept[3], &kept[1]).is_err());
}

/// Flips every bit of `bytes` in turn; `accepts` must refuse every variant.
fn assert_every_bit_flip_rejected(bytes: &[u8], what: &str, accepts: impl Fn(&[u8]) -> bool) {
    assert!(accepts(bytes), "the untouched {what} must be accepted");
    let mut copy = bytes.to_vec();
    for index in 0..bytes.len() {
        for bit in 0..8 {
            copy[index] ^= 1 << bit;
            assert!(
                !accepts(&copy),
                "{what}: flipping bit {bit} of byte {index} ({:?}) was accepted",
                bytes[index] as char
            );
            copy[index] ^= 1 << bit;
        }
    }
}

#[test]
fn every_single_bit_change_to_a_checkpoint_or_a_proof_is_rejected() {
    let ledger = ledger_with(12, 12);
    let signer = key();
    let verifier = signer.verifier();
    let mut opened = Ledger::open(&ledger.path).unwrap();
    let (_, first) = opened.checkpoint(&signer, &clock(0)).unwrap();
    opened
        .append(&synthetic_events(12, 9), &options(), &clock(1))
        .unwrap();
    let (_, second) = opened.checkpoint(&signer, &clock(1)).unwrap();
    assert_every_bit_flip_rejected(second.text().as_bytes(), "checkpoint", |bytes| {
        SignedCheckpoint::open(bytes, &verifier).is_ok_and(|opened| opened == second)
    });
    let inclusion = proof::prove_inclusion(&opened, 7, &second).unwrap();
    let inclusion = serde_json::to_vec_pretty(&inclusion).unwrap();
    assert_every_bit_flip_rejected(&inclusion, "inclusion proof", |bytes| {
        proof::verify_document(bytes, &verifier).is_ok()
    });
    let consistency = proof::prove_consistency(&opened, &first, &second).unwrap();
    let consistency = serde_json::to_vec_pretty(&consistency).unwrap();
    assert_every_bit_flip_rejected(&consistency, "consistency proof", |bytes| {
        proof::verify_document(bytes, &verifier).is_ok()
    });
}

#[test]
fn every_single_bit_change_to_a_bundle_is_rejected() {
    let ledger = ledger_with(6, 6);
    let signer = key();
    let verifier = signer.verifier();
    let mut opened = Ledger::open(&ledger.path).unwrap();
    let (_, signed) = opened.checkpoint(&signer, &clock(0)).unwrap();
    for first in [1, 4] {
        let mut bytes = Vec::new();
        opened
            .export(&mut bytes, &signed, first, &mut |_| {})
            .unwrap();
        assert_every_bit_flip_rejected(&bytes, &format!("bundle from {first}"), |bytes| {
            bundle::read(bytes, &verifier, &mut |_| Ok(())).is_ok()
        });
        // Cut short anywhere, or with a byte more: rejected too.
        for length in [0, 8, bytes.len() / 2, bytes.len() - 1] {
            assert!(bundle::read(&bytes[..length], &verifier, &mut |_| Ok(())).is_err());
        }
        let mut longer = bytes.clone();
        longer.push(0);
        assert!(bundle::read(longer.as_slice(), &verifier, &mut |_| Ok(())).is_err());
    }
}

#[test]
fn a_bundle_is_checked_offline_and_restores_a_byte_identical_ledger() {
    let scenario = scenario();
    let dir = scenario.ledger.dir.path();
    let (code, text) = cli(dir, &["--ledger", "ledger", "export", "--to", "all.bundle"]);
    assert_eq!(code, Some(0), "{text}");
    let (code, text) = cli(
        dir,
        &[
            "--ledger",
            "ledger",
            "export",
            "--to",
            "tail.bundle",
            "--from",
            "21",
            "--checkpoint",
            "cp29",
        ],
    );
    assert_eq!(code, Some(0), "{text}");
    // Checked with no ledger folder at all, in another directory.
    let elsewhere = tempfile::tempdir().unwrap();
    for file in ["all.bundle", "tail.bundle", "ops.pub"] {
        std::fs::copy(dir.join(file), elsewhere.path().join(file)).unwrap();
    }
    let (code, text) = cli(
        elsewhere.path(),
        &["verify-bundle", "all.bundle", "--key", "ops.pub"],
    );
    assert_eq!(code, Some(0), "{text}");
    assert!(text.starts_with("VALID: records 1..=30"), "{text}");
    let (code, text) = cli(
        elsewhere.path(),
        &["verify-bundle", "tail.bundle", "--key", "ops.pub"],
    );
    assert_eq!(code, Some(0), "{text}");
    assert!(text.starts_with("VALID: records 21..=29"), "{text}");
    assert!(!elsewhere.path().join("ledger").exists());
    // The wrong key: rejected.
    let stranger = key();
    let (code, _) = cli(
        elsewhere.path(),
        &[
            "verify-bundle",
            "all.bundle",
            "--key",
            &stranger.verifier().text(),
        ],
    );
    assert_eq!(code, Some(1));
    // Restore: same records byte for byte, same head, same answers.
    let (code, text) = cli(
        elsewhere.path(),
        &["restore", "all.bundle", "copy", "--key", "ops.pub"],
    );
    assert_eq!(code, Some(0), "{text}");
    let original = Ledger::open(&scenario.ledger.path).unwrap();
    let copy = Ledger::open(&elsewhere.path().join("copy")).unwrap();
    assert_eq!(copy.head(), original.head());
    assert_eq!(copy.genesis_hash(), original.genesis_hash());
    for sequence in 1..=30 {
        assert_eq!(
            copy.record_bytes(sequence).unwrap(),
            original.record_bytes(sequence).unwrap()
        );
    }
    drop((original, copy));
    std::fs::copy(dir.join("cp30"), elsewhere.path().join("cp30")).unwrap();
    assert_eq!(verify_against(elsewhere.path(), "copy", "cp30").0, Some(0));
    let state = |dir: &Path, ledger: &str| {
        stdout(&run_cli(
            dir,
            &[
                "--ledger",
                ledger,
                "--json",
                "state",
                "--as-of",
                "2021-03-20",
            ],
            None,
        ))
    };
    assert_eq!(state(elsewhere.path(), "copy"), state(dir, "ledger"));
    // Only a full bundle restores; nothing is left behind when refused.
    let (code, text) = cli(
        elsewhere.path(),
        &["restore", "tail.bundle", "part", "--key", "ops.pub"],
    );
    assert_eq!(code, Some(2), "{text}");
    assert!(!elsewhere.path().join("part").exists());
}

#[test]
fn a_damaged_merkle_node_is_found_and_rebuilt_from_the_log() {
    let ledger = ledger_with(20, 7);
    with_db(&ledger.path, |db| {
        let merkle = db.open_tree("merkle").unwrap();
        let mut value = merkle.get(0u64.to_be_bytes()).unwrap().unwrap().to_vec();
        // Leaf 11 (record 12): its level-1 node.
        value[entry_offset(11) + 40] ^= 1;
        merkle.insert(0u64.to_be_bytes(), value).unwrap();
    });
    let mut opened = Ledger::open_read(&ledger.path).unwrap();
    opened.attach_derived().unwrap();
    let failure = opened.verify(&mut |_| {}).unwrap_err();
    drop(opened);
    assert_eq!(
        (failure.kind, failure.sequence),
        (FailureKind::MerkleMismatch, 12)
    );
    // A checkpoint is refused rather than signing a root the records do not give.
    let refused = Ledger::open(&ledger.path)
        .unwrap()
        .checkpoint(&key(), &clock(0));
    assert!(
        matches!(refused, Err(LedgerError::Damaged(_))),
        "{refused:?}"
    );
    assert_eq!(
        Ledger::open(&ledger.path)
            .unwrap()
            .checkpoints()
            .unwrap()
            .len(),
        0
    );
    let (code, text) = cli(ledger.dir.path(), &["--ledger", "ledger", "rebuild"]);
    assert_eq!(code, Some(0), "{text}");
    Ledger::open(&ledger.path)
        .unwrap()
        .verify(&mut |_| {})
        .unwrap();
}

#[test]
fn a_ledger_without_its_merkle_tree_gets_it_back_on_open() {
    let ledger = ledger_with(25, 6);
    let root = Ledger::open(&ledger.path).unwrap().tree_head(25).unwrap();
    with_db(&ledger.path, |db| {
        db.open_tree("merkle").unwrap().clear().unwrap()
    });
    let reopened = Ledger::open(&ledger.path).unwrap();
    assert_eq!(reopened.tree_head(25).unwrap(), root);
    reopened.verify(&mut |_| {}).unwrap();
}

#[test]
fn proofs_read_from_a_tree_of_many_chunks_verify() {
    // Batches of 37 cross the tree's 64-leaf chunks at every offset.
    let ledger = ledger_with(300, 37);
    let signer = key();
    let verifier = signer.verifier();
    let (_, middle) = Ledger::open(&ledger.path)
        .unwrap()
        .checkpoint(&signer, &clock(0))
        .unwrap();
    append(&ledger.path, 300, 77);
    let mut opened = Ledger::open(&ledger.path).unwrap();
    let (_, last) = opened.checkpoint(&signer, &clock(1)).unwrap();
    assert_eq!((middle.checkpoint.size, last.checkpoint.size), (300, 377));
    for sequence in 1..=377 {
        let text =
            serde_json::to_vec(&proof::prove_inclusion(&opened, sequence, &last).unwrap()).unwrap();
        assert!(
            proof::verify_document(&text, &verifier).is_ok(),
            "record {sequence}"
        );
    }
    let text =
        serde_json::to_vec(&proof::prove_consistency(&opened, &middle, &last).unwrap()).unwrap();
    assert!(proof::verify_document(&text, &verifier).is_ok());
    // The same root after the tree is recomputed from the log.
    let root = opened.tree_head(377).unwrap();
    drop(opened);
    with_db(&ledger.path, |db| {
        db.open_tree("merkle").unwrap().clear().unwrap()
    });
    let reopened = Ledger::open(&ledger.path).unwrap();
    assert_eq!(reopened.tree_head(377).unwrap(), root);
    assert_eq!(
        reopened.tree_head(300).unwrap().root,
        middle.checkpoint.root
    );
    reopened.verify(&mut |_| {}).unwrap();
}
