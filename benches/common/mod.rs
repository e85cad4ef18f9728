//! Synthetic ledgers shared by the benchmarks: always a 10,000-event ledger; with
//! `SANCTIONS_LEDGER_BENCH_LARGE=DIR` also the 1,000,000-event ledger in DIR (built by
//! `sanctions-ledger gen --events 1000000 --seed 7 DIR` if absent; that takes minutes).

use sanctions_ledger::ledger::{AppendOptions, Ledger, SystemClock};
use sanctions_ledger::projection;
use sanctions_ledger::synth::Generator;
use std::path::{Path, PathBuf};

pub fn build(path: &Path, events: u64) {
    let mut generator = Generator::new(events, 7);
    let mut ledger = Ledger::init(
        path,
        "bench",
        &sanctions_ledger::ledger::FixedClock(generator.recorded_at(0)),
    )
    .unwrap();
    let mut appended = 0;
    while appended < events {
        let recorded_at = Some(generator.recorded_at(appended));
        let batch: Vec<_> = (0..1000)
            .map_while(|_| generator.next_event())
            .map(|event| event.unwrap())
            .collect();
        if batch.is_empty() {
            break;
        }
        appended += batch.len() as u64;
        ledger
            .append(
                &batch,
                &AppendOptions {
                    appended_by: "bench".into(),
                    recorded_at,
                },
                &SystemClock,
            )
            .unwrap();
    }
    projection::sync(&ledger).unwrap();
}

pub fn ledgers() -> Vec<(String, PathBuf, Option<tempfile::TempDir>)> {
    let small = tempfile::tempdir().unwrap();
    let small_path = small.path().join("ledger");
    build(&small_path, 10_000);
    let mut ledgers = vec![("10k".to_owned(), small_path, Some(small))];
    if let Some(dir) = std::env::var_os("SANCTIONS_LEDGER_BENCH_LARGE") {
        let path = PathBuf::from(dir);
        if !path.join("conf").exists() {
            build(&path, 1_000_000);
        }
        let records = Ledger::open(&path).unwrap().head().sequence;
        let label = if records >= 1_000_000 {
            format!("{}M", records / 1_000_000)
        } else {
            format!("{}k", records / 1000)
        };
        ledgers.push((label, path, None));
    }
    ledgers
}
