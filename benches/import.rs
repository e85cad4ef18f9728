//! Benchmarks of `import` on the real list files, against a plain parse of the same file with the
//! same reader, and raw BLAKE3 over the same bytes, in the same run.
//!
//! - `import_<file>/parse`: `formats::read` alone (decoding, the reader, entries built).
//! - `import_<file>/import`: the whole `import` into a fresh ledger: read, compare (no previous
//!   snapshot), plan every event through intake, store the file (fsync), append in batches
//!   (fsync each). Events per second are printed.
//! - `import_<file>/raw_blake3`: BLAKE3 over the file's bytes (the floor of any reading).
//!
//! The files are the largest real ones in `tests/real`: the UK legacy ConList of 2018 (3.6 MB,
//! 2,106 targets) and the OFAC SDN.CSV of 2021-12-09 (2.1 MB, 9,121 entries, 10,928 events).
//! Peak RSS and the 1,000,000-entry synthetic file are measured on the CLI (BENCHMARKS.md says
//! how). Run by hand: `cargo bench --bench import`. CI only builds it.

// criterion_group! generates public functions without documentation.
#![allow(missing_docs)]

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use sanctions_ledger::domain::{CivilDate, Timestamp};
use sanctions_ledger::import::formats::{self, Format};
use sanctions_ledger::import::{list_spec, plan};
use sanctions_ledger::ledger::{FixedClock, Ledger};
use std::hint::black_box;
use std::path::Path;
use std::time::{Duration, Instant};

struct Case {
    name: &'static str,
    path: &'static str,
    list: &'static str,
    format: Format,
    published_on: Option<&'static str>,
}

const CASES: [Case; 2] = [
    Case {
        name: "uk_conlist_csv_2018",
        path: "tests/real/uk_hmt_conlist_csv/conlist_2018-04-13.csv",
        list: "uk-hmt-conlist",
        format: Format::UkConlistCsv,
        published_on: None,
    },
    Case {
        name: "ofac_sdn_csv_2021_12_09",
        path: "tests/real/ofac_sdn_csv/sdn_2021-12-09.csv",
        list: "us-ofac-sdn",
        format: Format::OfacSdnCsv,
        published_on: Some("2021-12-09"),
    },
];

fn options(case: &Case) -> plan::ImportOptions {
    plan::ImportOptions {
        list: list_spec(case.list).expect("list"),
        format: Some(case.format),
        published_on: case
            .published_on
            .map(|d| CivilDate::parse(d).expect("date")),
        source_url: None,
        file_name: case.path.to_owned(),
        dry_run: false,
        skip_bad: false,
        late: false,
        appended_by: "bench".to_owned(),
    }
}

fn clock() -> FixedClock {
    FixedClock(Timestamp::from_unix_micros(1_700_000_000_000_000))
}

fn import_once(bytes: &[u8], case: &Case) -> (Duration, u64) {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut ledger = Ledger::init(&dir.path().join("ledger"), "bench", &clock()).expect("init");
    let started = Instant::now();
    let report =
        plan::import(&mut ledger, bytes, &options(case), &clock(), &mut |_, _| {}).expect("import");
    (started.elapsed(), report.appended)
}

fn bench(c: &mut Criterion) {
    for case in &CASES {
        let bytes = std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join(case.path))
            .expect("a real file");
        let mut group = c.benchmark_group(format!("import_{}", case.name));
        group.sample_size(10);
        group.measurement_time(Duration::from_secs(8));
        group.throughput(Throughput::Bytes(bytes.len() as u64));
        group.bench_function("raw_blake3", |b| b.iter(|| black_box(blake3::hash(&bytes))));
        group.bench_function("parse", |b| {
            b.iter(|| black_box(formats::read(case.format, case.path, &bytes).expect("parse")))
        });
        group.bench_function("import", |b| {
            b.iter_batched(
                || {
                    let dir = tempfile::tempdir().expect("temp dir");
                    let ledger =
                        Ledger::init(&dir.path().join("ledger"), "bench", &clock()).expect("init");
                    (dir, ledger)
                },
                |(dir, mut ledger)| {
                    let report = plan::import(
                        &mut ledger,
                        &bytes,
                        &options(case),
                        &clock(),
                        &mut |_, _| {},
                    )
                    .expect("import");
                    black_box(report.appended);
                    (dir, ledger)
                },
                BatchSize::PerIteration,
            )
        });
        group.finish();
        // The same, timed by hand for the events-per-second figure and the ratio.
        let parse: Duration = (0..5)
            .map(|_| {
                let started = Instant::now();
                black_box(formats::read(case.format, case.path, &bytes).expect("parse"));
                started.elapsed()
            })
            .min()
            .unwrap_or_default();
        let (import, events) = (0..5)
            .map(|_| import_once(&bytes, case))
            .min()
            .unwrap_or_default();
        println!(
            "{}: parse {:.1} ms, import {:.1} ms ({events} events, {:.0} events/s): parse / import = {:.0} %",
            case.name,
            parse.as_secs_f64() * 1e3,
            import.as_secs_f64() * 1e3,
            events as f64 / import.as_secs_f64(),
            100.0 * parse.as_secs_f64() / import.as_secs_f64()
        );
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
