//! `follow`: a mirror of a live server through 1,000 appends answers every question as the
//! source does; a source that rolls back, forks, rewrites or serves a changed entry is refused,
//! nothing appended, with both signed checkpoints kept as evidence; a follower killed with
//! SIGKILL mid-way resumes without loss or duplication.

mod common;
mod serving;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

use sanctions_ledger::ledger::Ledger;
use sanctions_ledger::server::ServerLimits;
use sanctions_ledger::server::tokens::Scope;
use serde_json::Value;
use serving::{Served, append_designations, bundled, designation, fork_of, token};

fn binary() -> Command {
    Command::new(env!("CARGO_BIN_EXE_sanctions-ledger"))
}

fn run(args: &[&str]) -> Output {
    binary().args(args).output().unwrap()
}

fn ok_json(args: &[&str]) -> Value {
    let output = run(args);
    assert!(
        output.status.success(),
        "{args:?}: {}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

struct Keys {
    secret: PathBuf,
    public: String,
}

fn keys(dir: &Path) -> Keys {
    keys_named(dir, "ops", "ops.example/log")
}

fn follow(source: &str, mirror: &Path, keys: &Keys) -> (i32, Value) {
    let output = run(&[
        "follow",
        source,
        mirror.to_str().unwrap(),
        "--key",
        &keys.public,
        "--json",
    ]);
    let value = serde_json::from_slice(&output.stdout).unwrap_or_else(|_| {
        panic!(
            "follow printed no JSON: {}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        )
    });
    (output.status.code().unwrap_or(-1), value)
}

fn head_of(ledger: &Path) -> u64 {
    ok_json(&["--ledger", ledger.to_str().unwrap(), "head", "--json"])["sequence"]
        .as_u64()
        .unwrap()
}

fn append(ledger: &Path, prefix: &str, count: usize) {
    append_designations(&mut Ledger::open(ledger).unwrap(), prefix, count);
}

/// `checkpoint`, then `tiles` into `out`; the checkpoint's text.
fn publish(ledger: &Path, keys: &Keys, out: &Path) -> String {
    let ledger = ledger.to_str().unwrap();
    ok_json(&[
        "--ledger",
        ledger,
        "checkpoint",
        "--key",
        keys.secret.to_str().unwrap(),
        "--json",
    ]);
    ok_json(&[
        "--ledger",
        ledger,
        "tiles",
        "--out",
        out.to_str().unwrap(),
        "--json",
    ]);
    std::fs::read_to_string(out.join("checkpoint")).unwrap()
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let path = entry.unwrap().path();
        let target = to.join(path.file_name().unwrap());
        if path.is_dir() {
            copy_tree(&path, &target);
        } else {
            std::fs::copy(&path, &target).unwrap();
        }
    }
}

/// The one evidence folder in the mirror, with both checkpoints.
fn evidence(mirror: &Path, verdict: &str) -> Vec<PathBuf> {
    let mut found: Vec<PathBuf> = std::fs::read_dir(mirror.join("forks"))
        .map(|entries| entries.map(|entry| entry.unwrap().path()).collect())
        .unwrap_or_default();
    found.retain(|path| path.to_string_lossy().ends_with(verdict));
    found.sort();
    found
}

#[test]
fn a_mirror_follows_a_live_server_through_1000_appends_and_answers_as_it_does() {
    let dir = tempfile::tempdir().unwrap();
    let source = bundled(dir.path());
    let keys = keys(dir.path());
    let (writer, _) = token(&source, "feeder", &[Scope::Append, Scope::Checkpoint]);
    let served = Served::start(&source, ServerLimits::default(), Some(keys.secret.clone()));
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let mirror = dir.path().join("mirror");
    let mut previous = 0;
    for round in 0..10 {
        let batch: Vec<String> = (0..100)
            .map(|i| designation(&format!("live-{round}-{i}")))
            .collect();
        let (status, body) = runtime.block_on(served.post(
            "/v1/events",
            Some(&writer),
            "application/jsonl",
            batch.join("\n").into_bytes(),
        ));
        assert_eq!(status, 200, "{body}");
        if round == 4 {
            // Appended but not yet signed: the mirror stays at the last checkpoint.
            let (code, followed) = follow(&served.base, &mirror, &keys);
            assert_eq!(code, 0, "{followed}");
            assert_eq!(followed["appended"], 0);
            continue;
        }
        let (status, body) = runtime.block_on(served.post(
            "/v1/checkpoints",
            Some(&writer),
            "application/json",
            Vec::new(),
        ));
        assert_eq!(status, 200, "{body}");
        let (code, followed) = follow(&served.base, &mirror, &keys);
        assert_eq!(code, 0, "{followed}");
        let records = followed["records"].as_u64().unwrap();
        assert_eq!(records, 30 + 100 * (round + 1));
        assert_eq!(followed["appended"].as_u64().unwrap(), records - previous);
        assert_eq!(followed["created"], round == 0);
        previous = records;
    }
    // Every question answers the same from the mirror (its CLI) as from the source (its server).
    let mirror_arg = mirror.to_str().unwrap();
    let (_, head) = runtime.block_on(served.get("/v1/head"));
    let mirror_head = ok_json(&["--ledger", mirror_arg, "head", "--json"]);
    assert_eq!(head["hash"], mirror_head["hash"]);
    assert_eq!(head["sequence"], 1030);
    let questions: Vec<(String, Vec<&str>)> = vec![
        (
            "/v1/state?as_of=2021-03-22".into(),
            vec!["state", "--as-of", "2021-03-22", "--format", "json"],
        ),
        (
            "/v1/state?as_of=2024-01-01&authority=CN-MFA".into(),
            vec![
                "state",
                "--as-of",
                "2024-01-01",
                "--authority",
                "CN-MFA",
                "--format",
                "json",
            ],
        ),
        (
            "/v1/history/xj-xpcc-psb".into(),
            vec!["history", "xj-xpcc-psb", "--format", "json"],
        ),
        (
            "/v1/diff?from=2021-01-01&to=2021-12-31".into(),
            vec![
                "diff",
                "--from",
                "2021-01-01",
                "--to",
                "2021-12-31",
                "--format",
                "json",
            ],
        ),
        (
            "/v1/links/us-ofac-2020-07-09-glomag-xinjiang".into(),
            vec![
                "links",
                "us-ofac-2020-07-09-glomag-xinjiang",
                "--format",
                "json",
            ],
        ),
        (
            "/v1/subjects?q=chen".into(),
            vec!["subjects", "chen", "--format", "json"],
        ),
    ];
    for (path, args) in questions {
        let (status, served_answer) = runtime.block_on(served.get(&path));
        assert_eq!(status, 200, "{path}");
        let mut full = vec!["--ledger", mirror_arg];
        full.extend(args);
        assert_eq!(ok_json(&full), served_answer, "{path}");
    }
    served.stop();
    // The mirror's own verify checks every record and the source's checkpoints it kept.
    let verified = run(&["--ledger", mirror_arg, "verify", "--json"]);
    let verified: Value = serde_json::from_slice(&verified.stdout).unwrap();
    assert_eq!(verified["checkpoints_checked"], 9, "{verified}");
    assert_eq!(verified["records"], 1030);
    let source_verify = run(&["--ledger", source.to_str().unwrap(), "verify", "--json"]);
    let source_verify: Value = serde_json::from_slice(&source_verify.stdout).unwrap();
    assert_eq!(verified["tree_root"], source_verify["tree_root"]);
}

#[test]
fn rollbacks_forks_rewrites_and_changed_entries_are_refused_with_evidence() {
    let dir = tempfile::tempdir().unwrap();
    let source = bundled(dir.path());
    let keys = keys(dir.path());
    let tiles = dir.path().join("tiles");
    let first = publish(&source, &keys, &tiles);
    let at_30 = dir.path().join("tiles-30");
    copy_tree(&tiles, &at_30);
    append(&source, "grown", 20);
    let second = publish(&source, &keys, &tiles);
    let mirror = dir.path().join("mirror");
    let (code, followed) = follow(tiles.to_str().unwrap(), &mirror, &keys);
    assert_eq!(
        (code, followed["records"].as_u64()),
        (0, Some(50)),
        "{followed}"
    );

    // A rollback: the source serves its older (validly signed) checkpoint.
    let (code, refused) = follow(at_30.to_str().unwrap(), &mirror, &keys);
    assert_eq!(code, 4, "{refused}");
    assert_eq!(refused["verdict"], "TRUNCATED");
    let found = evidence(&mirror, "truncated");
    assert_eq!(found.len(), 1);
    assert_eq!(
        std::fs::read_to_string(found[0].join("held.checkpoint")).unwrap(),
        second
    );
    assert_eq!(
        std::fs::read_to_string(found[0].join("source.checkpoint")).unwrap(),
        first
    );
    assert_eq!(head_of(&mirror), 50);

    // A fork: the same genesis and first 30 records, other records after, signed at the same
    // size with the same key.
    let forked = dir.path().join("forked");
    fork_of(&source, &forked, "other", 20);
    let fork_tiles = dir.path().join("fork-tiles");
    let fork_checkpoint = publish(&forked, &keys, &fork_tiles);
    let (code, refused) = follow(fork_tiles.to_str().unwrap(), &mirror, &keys);
    assert_eq!(code, 5, "{refused}");
    assert_eq!(refused["verdict"], "DIVERGED");
    let found = evidence(&mirror, "diverged");
    assert_eq!(found.len(), 1);
    assert_eq!(
        std::fs::read_to_string(found[0].join("held.checkpoint")).unwrap(),
        second
    );
    assert_eq!(
        std::fs::read_to_string(found[0].join("source.checkpoint")).unwrap(),
        fork_checkpoint
    );
    let about: Value =
        serde_json::from_str(&std::fs::read_to_string(found[0].join("verdict.json")).unwrap())
            .unwrap();
    assert_eq!(about["verdict"], "DIVERGED");
    assert_eq!(head_of(&mirror), 50);
    // The fork grows: records 51.. do not extend what the mirror holds (a rewrite).
    append(&forked, "other-more", 10);
    publish(&forked, &keys, &fork_tiles);
    let (code, refused) = follow(fork_tiles.to_str().unwrap(), &mirror, &keys);
    assert_eq!(code, 5, "{refused}");
    assert!(
        refused["detail"].as_str().unwrap().contains("rewrote"),
        "{refused}"
    );
    assert_eq!(head_of(&mirror), 50);

    // A changed entry in a bundle of new records: refused, nothing appended.
    append(&source, "later", 20);
    publish(&source, &keys, &tiles);
    let changed = dir.path().join("changed");
    copy_tree(&tiles, &changed);
    let bundle = changed.join("tile/entries/000.p/70");
    let mut bytes = std::fs::read(&bundle).unwrap();
    let at = bytes.len() - 100;
    bytes[at] ^= 0x20;
    std::fs::write(&bundle, bytes).unwrap();
    let (code, refused) = follow(changed.to_str().unwrap(), &mirror, &keys);
    assert_ne!(code, 0, "{refused}");
    assert_eq!(head_of(&mirror), 50);
    // Another key's checkpoint is refused too.
    let other_keys = keys_named(dir.path(), "other", "other");
    let (code, refused) = follow(tiles.to_str().unwrap(), &mirror, &other_keys);
    assert_eq!(code, 2, "{refused}");
    assert_eq!(refused["error"]["kind"], "bad_checkpoint");
    // The genuine source: followed.
    let (code, followed) = follow(tiles.to_str().unwrap(), &mirror, &keys);
    assert_eq!(
        (code, followed["records"].as_u64()),
        (0, Some(70)),
        "{followed}"
    );
    let verified = run(&["--ledger", mirror.to_str().unwrap(), "verify"]);
    assert_eq!(verified.status.code(), Some(3), "unanchored but clean");
}

fn keys_named(dir: &Path, file: &str, name: &str) -> Keys {
    let prefix = dir.join(file);
    ok_json(&[
        "keygen",
        "--name",
        name,
        "--out",
        prefix.to_str().unwrap(),
        "--json",
    ]);
    Keys {
        secret: PathBuf::from(format!("{}.key", prefix.display())),
        public: format!("{}.pub", prefix.display()),
    }
}

#[test]
fn a_follower_killed_mid_way_resumes_without_loss_or_duplication() {
    let dir = tempfile::tempdir().unwrap();
    let source = dir.path().join("source");
    ok_json(&[
        "gen",
        "--events",
        "30000",
        "--seed",
        "5",
        source.to_str().unwrap(),
        "--json",
    ]);
    let keys = keys(dir.path());
    let tiles = dir.path().join("tiles");
    publish(&source, &keys, &tiles);
    let mirror = dir.path().join("mirror");
    let mut partial_seen = false;
    let mut kills = 0;
    for attempt in 0..40u64 {
        let mut child = binary()
            .args([
                "follow",
                tiles.to_str().unwrap(),
                mirror.to_str().unwrap(),
                "--key",
                &keys.public,
            ])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(20 + (attempt * 37) % 400));
        if child.try_wait().unwrap().is_some() {
            break;
        }
        child.kill().unwrap();
        child.wait().unwrap();
        kills += 1;
        if mirror.join("log").exists() {
            let head = head_of(&mirror);
            if head > 0 && head < 30_000 {
                partial_seen = true;
            }
        }
    }
    assert!(kills > 0, "the follower was killed at least once");
    let (code, followed) = follow(tiles.to_str().unwrap(), &mirror, &keys);
    assert_eq!(code, 0, "{followed}");
    assert_eq!(followed["records"], 30000);
    let verified = run(&["--ledger", mirror.to_str().unwrap(), "verify", "--json"]);
    let verified: Value = serde_json::from_slice(&verified.stdout).unwrap();
    assert_eq!(verified["verdict"], "unanchored", "{verified}");
    assert_eq!(verified["records"], 30000);
    let source_head = ok_json(&["--ledger", source.to_str().unwrap(), "head", "--json"]);
    assert_eq!(verified["head_hash"], source_head["hash"]);
    eprintln!("{kills} kill(s); a mirror part-way seen: {partial_seen}");
}
