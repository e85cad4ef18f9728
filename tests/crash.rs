//! Crash test: a real child process appends in a loop and prints each acknowledged sequence;
//! it is killed with SIGKILL at random moments; after each kill the ledger opens for writing
//! (torn tail cut, derived store caught up), verifies, and holds every acknowledged sequence.
//! Segments are tiny, so nearly every append rolls over to a new segment file; every third
//! round the derived store is deleted first and the child is killed early, while it rebuilds
//! the store from the log (it prints "opened" once it has caught up).
//!
//! The child is this test binary re-executed with `SANCTIONS_LEDGER_CRASH_CHILD` set, running
//! only `crash_child_process_entry` (which does nothing in a normal run).

mod common;

use sanctions_ledger::ledger::log::LogOptions;
use sanctions_ledger::ledger::{Ledger, LedgerOptions, SystemClock};
use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::time::Duration;

const CHILD_ENV: &str = "SANCTIONS_LEDGER_CRASH_CHILD";
/// SIGKILLs in a normal run (the issue asks for at least 20 in CI).
const KILLS: u32 = 24;

#[test]
fn crash_child_process_entry() {
    let Some(path) = std::env::var_os(CHILD_ENV) else {
        return;
    };
    let mut ledger =
        Ledger::open_with(std::path::Path::new(&path), options()).expect("child opens the ledger");
    let stdout = std::io::stdout();
    writeln!(stdout.lock(), "opened").expect("print");
    let mut next = ledger.head().sequence;
    loop {
        let size = 1 + next % 5;
        let report = ledger
            .append(
                &common::synthetic_events(next, size),
                &common::options(),
                &SystemClock,
            )
            .expect("child append");
        let mut out = stdout.lock();
        for outcome in &report.outcomes {
            assert!(outcome.appended);
            writeln!(out, "ack {}", outcome.sequence).expect("print ack");
        }
        out.flush().expect("flush acks");
        next += size;
    }
}

/// Segments of 2 KiB: a roll-over every few records.
fn options() -> LedgerOptions {
    LedgerOptions {
        log: LogOptions {
            segment_bytes_max: 2 * 1024,
        },
    }
}

/// A small deterministic generator (fixed seed): the kill moments are random but repeatable.
struct Lcg(u64);

impl Lcg {
    fn next_in(&mut self, low: u64, high: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        low + (self.0 >> 33) % (high - low)
    }
}

#[test]
fn acknowledged_appends_survive_sigkill() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ledger");
    drop(Ledger::init(&path, "crash test", &common::clock(0)).unwrap());
    let mut acknowledged = BTreeSet::new();
    let mut random = Lcg(0x5EED_2021_0322);
    let mut kills_mid_run = 0;
    let mut kills_during_catch_up = 0;
    for round in 0..KILLS {
        let catch_up_round = round % 3 == 2;
        if catch_up_round {
            std::fs::remove_dir_all(path.join("derived")).unwrap();
        }
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args([
                "crash_child_process_entry",
                "--exact",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(CHILD_ENV, &path)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn child");
        let stdout = child.stdout.take().unwrap();
        let reader = std::thread::spawn(move || {
            let lines: Vec<String> = BufReader::new(stdout)
                .lines()
                .map_while(Result::ok)
                .collect();
            let opened = lines.iter().any(|line| line.ends_with("opened"));
            let acks = lines
                .iter()
                .filter_map(|line| {
                    line.strip_prefix("ack ")
                        .and_then(|n| n.parse::<u64>().ok())
                })
                .collect::<Vec<u64>>();
            (opened, acks)
        });
        let wait = if catch_up_round {
            random.next_in(2, 40)
        } else {
            random.next_in(30, 250)
        };
        std::thread::sleep(Duration::from_millis(wait));
        if child.try_wait().unwrap().is_none() {
            kills_mid_run += 1;
        }
        child.kill().expect("SIGKILL");
        child.wait().unwrap();
        let (opened, acks) = reader.join().unwrap();
        if !opened {
            kills_during_catch_up += 1;
        }
        acknowledged.extend(acks);

        let ledger = Ledger::open_with(&path, options())
            .unwrap_or_else(|error| panic!("round {round}: reopen failed: {error}"));
        let verified = ledger
            .verify(&mut |_| {})
            .unwrap_or_else(|failure| panic!("round {round}: verify failed: {failure}"));
        let highest = acknowledged.last().copied().unwrap_or(0);
        assert!(
            verified.records >= highest,
            "round {round}: acknowledged {highest}, ledger holds {}",
            verified.records
        );
        for sequence in &acknowledged {
            assert!(
                ledger.record(*sequence).unwrap().is_some(),
                "round {round}: acknowledged {sequence} is lost"
            );
        }
    }
    assert_eq!(
        kills_mid_run, KILLS,
        "every kill must land while the child is running"
    );
    assert!(
        kills_during_catch_up >= 1,
        "some kills must land while the child catches the derived store up"
    );
    let segments = std::fs::read_dir(path.join("log"))
        .unwrap()
        .filter(|entry| {
            entry
                .as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .ends_with(".seg")
        })
        .count();
    assert!(
        segments > 20,
        "the appends rolled over ({segments} segments)"
    );
    eprintln!(
        "{KILLS} kills, {kills_during_catch_up} before the child had caught up, {} acknowledged, {segments} segments",
        acknowledged.len()
    );
    assert!(
        acknowledged.len() > KILLS as usize,
        "the children acknowledged too little to prove anything"
    );
    // Records appended but killed before their "ack" line was printed may exist beyond the
    // acknowledged ones; that is allowed. What may never happen is checked above: an
    // acknowledged sequence missing after a crash.
}
