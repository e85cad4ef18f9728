//! Witnesses: `checkpoint --witness` submits each new checkpoint with its consistency proof
//! (C2SP tlog-witness) to two witnesses written from the spec (tests/witnessing/), keeps their
//! `cosignature/v1` lines in the signed note, and `verify --checkpoint` and `follow` accept a
//! policy "at least K of these witness keys", naming who cosigned. A fork of the log (same
//! genesis and key, other records) is refused by a witness that saw the original, and the
//! checkpoint is then not kept or published.

mod serving;
mod witnessing;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use sanctions_ledger::ledger::Ledger;
use sanctions_ledger::ledger::checkpoint::{SignedCheckpoint, WitnessKey};
use serde_json::Value;
use serving::{append_designations, bundled};
use witnessing::TestWitness;

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_sanctions-ledger"))
        .args(args)
        .output()
        .unwrap()
}

fn json(output: &Output) -> Value {
    serde_json::from_slice(&output.stdout).unwrap_or_else(|_| {
        panic!(
            "no JSON: {}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        )
    })
}

fn checkpoint(ledger: &Path, key: &Path, witnesses: &[&TestWitness], out: &Path) -> Output {
    let mut args = vec![
        "--ledger".to_owned(),
        ledger.display().to_string(),
        "checkpoint".to_owned(),
        "--key".to_owned(),
        key.display().to_string(),
        "--out".to_owned(),
        out.display().to_string(),
        "--json".to_owned(),
    ];
    for witness in witnesses {
        args.push("--witness".to_owned());
        args.push(format!("{}:{}", witness.url, witness.vkey));
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    run(&args)
}

fn kept(ledger: &Path) -> usize {
    let output = run(&[
        "--ledger",
        ledger.to_str().unwrap(),
        "checkpoints",
        "--json",
    ]);
    json(&output)["checkpoints"].as_array().unwrap().len()
}

#[test]
fn witnesses_cosign_each_checkpoint_and_refuse_a_fork_which_is_then_not_published() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = bundled(dir.path());
    let prefix = dir.path().join("ops");
    let made = json(&run(&[
        "--ledger",
        ledger.to_str().unwrap(),
        "keygen",
        "--for-ledger",
        "--out",
        prefix.to_str().unwrap(),
        "--json",
    ]));
    let key = PathBuf::from(format!("{}.key", prefix.display()));
    let public = format!("{}.pub", prefix.display());
    let log_vkey = made["public_key"].as_str().unwrap().to_owned();
    let first = TestWitness::start("witness-one.example", 11, &log_vkey);
    let second = TestWitness::start("witness-two.example", 12, &log_vkey);
    let w1 = WitnessKey::parse(&first.vkey).unwrap();
    let w2 = WitnessKey::parse(&second.vkey).unwrap();

    // The first checkpoint (size 30): both witnesses cosign ("old 0", no proof).
    let cp1 = dir.path().join("cp1.txt");
    let signed = checkpoint(&ledger, &key, &[&first, &second], &cp1);
    assert!(
        signed.status.success(),
        "{}",
        String::from_utf8_lossy(&signed.stdout)
    );
    let text = std::fs::read(&cp1).unwrap();
    let parsed = SignedCheckpoint::parse(&text).unwrap();
    assert_eq!(parsed.signatures.len(), 3, "the operator and two witnesses");
    assert!(w1.check_cosignature(&parsed).is_ok());
    assert!(w2.check_cosignature(&parsed).is_ok());
    assert_eq!(
        first
            .held
            .lock()
            .unwrap()
            .values()
            .next()
            .map(|held| held.0),
        Some(30)
    );

    // The log grows: the next checkpoint goes with a consistency proof from 30.
    {
        let mut open = Ledger::open(&ledger).unwrap();
        append_designations(&mut open, "grown", 25);
    }
    let cp2 = dir.path().join("cp2.txt");
    let signed = checkpoint(&ledger, &key, &[&first, &second], &cp2);
    assert!(
        signed.status.success(),
        "{}",
        String::from_utf8_lossy(&signed.stdout)
    );
    assert_eq!(
        first
            .held
            .lock()
            .unwrap()
            .values()
            .next()
            .map(|held| held.0),
        Some(55)
    );
    assert_eq!(
        second
            .held
            .lock()
            .unwrap()
            .values()
            .next()
            .map(|held| held.0),
        Some(55)
    );
    assert_eq!(kept(&ledger), 2);

    // The web view's overview names the last checkpoint's cosigners as witnesses.
    {
        use std::io::{Read, Write};
        let served = serving::Served::start(
            &ledger,
            sanctions_ledger::server::ServerLimits::default(),
            None,
        );
        let mut stream = std::net::TcpStream::connect(served.address()).unwrap();
        stream
            .write_all(b"GET / HTTP/1.1\r\nhost: 127.0.0.1\r\nconnection: close\r\n\r\n")
            .unwrap();
        let mut page = String::new();
        stream.read_to_string(&mut page).unwrap();
        assert!(page.starts_with("HTTP/1.1 200"), "{page}");
        assert!(page.contains("number 2: 55 record(s)"), "{page}");
        for witness in ["witness-one.example", "witness-two.example"] {
            let at = page.find(&format!("<code>{witness}+")).expect(witness);
            assert!(
                page[at..].starts_with(&format!("<code>{witness}+"))
                    && page[at..at + 200].contains("(witness cosignature)"),
                "{witness}"
            );
        }
        assert!(page.contains("(operator)"));
        served.stop();
    }

    // verify --checkpoint with a witness policy names who cosigned.
    let ledger_arg = ledger.to_str().unwrap();
    let cp2_arg = cp2.to_str().unwrap();
    let verified = run(&[
        "--ledger",
        ledger_arg,
        "verify",
        "--checkpoint",
        cp2_arg,
        "--key",
        &public,
        "--witness-key",
        &first.vkey,
        "--witness-key",
        &second.vkey,
        "--json",
    ]);
    assert_eq!(
        verified.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&verified.stdout)
    );
    let verified = json(&verified);
    assert_eq!(
        verified["cosigned_by"].as_array().unwrap().len(),
        2,
        "{verified}"
    );
    // A witness that did not cosign fails the policy (2 of 2 required), but 1 of 2 passes.
    let third = TestWitness::start("witness-three.example", 13, &log_vkey);
    let strict = run(&[
        "--ledger",
        ledger_arg,
        "verify",
        "--checkpoint",
        cp2_arg,
        "--key",
        &public,
        "--witness-key",
        &first.vkey,
        "--witness-key",
        &third.vkey,
        "--json",
    ]);
    assert_eq!(strict.status.code(), Some(2));
    assert_eq!(json(&strict)["error"]["kind"], "bad_checkpoint");
    let lenient = run(&[
        "--ledger",
        ledger_arg,
        "verify",
        "--checkpoint",
        cp2_arg,
        "--key",
        &public,
        "--witness-key",
        &first.vkey,
        "--witness-key",
        &third.vkey,
        "--witnesses-required",
        "1",
        "--json",
    ]);
    assert_eq!(lenient.status.code(), Some(0));
    assert_eq!(
        json(&lenient)["cosigned_by"],
        serde_json::json!([w1.signer()])
    );
    // A changed cosignature does not verify.
    let mut bent = String::from_utf8(std::fs::read(&cp2).unwrap()).unwrap();
    let at = bent.find("witness-one.example ").unwrap() + "witness-one.example ".len() + 20;
    let replaced = if &bent[at..at + 1] == "A" { "B" } else { "A" };
    bent.replace_range(at..at + 1, replaced);
    let bent_path = dir.path().join("bent.txt");
    std::fs::write(&bent_path, bent).unwrap();
    let rejected = run(&[
        "--ledger",
        ledger_arg,
        "verify",
        "--checkpoint",
        bent_path.to_str().unwrap(),
        "--key",
        &public,
        "--witness-key",
        &first.vkey,
        "--json",
    ]);
    assert_ne!(rejected.status.code(), Some(0));

    // A mirror with the policy: followed, and it names the cosigners; another policy refuses.
    let tiles = dir.path().join("tiles");
    assert!(
        run(&[
            "--ledger",
            ledger_arg,
            "tiles",
            "--out",
            tiles.to_str().unwrap()
        ])
        .status
        .success()
    );
    let mirror = dir.path().join("mirror");
    let followed = run(&[
        "follow",
        tiles.to_str().unwrap(),
        mirror.to_str().unwrap(),
        "--key",
        &public,
        "--witness-key",
        &first.vkey,
        "--witness-key",
        &second.vkey,
        "--json",
    ]);
    assert_eq!(
        followed.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&followed.stdout)
    );
    assert_eq!(json(&followed)["cosigned_by"].as_array().unwrap().len(), 2);
    let refused = run(&[
        "follow",
        tiles.to_str().unwrap(),
        dir.path().join("mirror-2").to_str().unwrap(),
        "--key",
        &public,
        "--witness-key",
        &third.vkey,
        "--json",
    ]);
    assert_eq!(refused.status.code(), Some(2));
    assert!(
        !dir.path().join("mirror-2").exists(),
        "nothing fetched, no mirror made"
    );

    // A fork: the same genesis and operator key, other records after the first 30.
    let forked = dir.path().join("forked");
    serving::fork_of(&ledger, &forked, "other", 40);
    let fork_cp = dir.path().join("fork.txt");
    let refused = checkpoint(&forked, &key, &[&first], &fork_cp);
    assert_eq!(
        refused.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&refused.stdout)
    );
    let refused = json(&refused);
    assert_eq!(refused["error"]["kind"], "refused");
    let message = refused["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("fork") && message.contains("not kept"),
        "{message}"
    );
    assert_eq!(kept(&forked), 0, "the refused checkpoint is not kept");
    assert!(!fork_cp.exists(), "nor written out");
    assert_eq!(
        first
            .held
            .lock()
            .unwrap()
            .values()
            .next()
            .map(|held| held.0),
        Some(55)
    );
}
