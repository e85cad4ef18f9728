//! Benchmarks of the projections and queries on synthetic ledgers (`sanctions-ledger gen`).
//!
//! Always on a 10,000-event ledger; with `SANCTIONS_LEDGER_BENCH_LARGE=DIR` also on a
//! 1,000,000-event ledger in DIR (built by `sanctions-ledger gen --events 1000000 --seed 7 DIR`
//! if absent; that takes minutes). Measured in one run: a one-subject `state` query, a full
//! `state` query (answer built, not printed), `history`, `diff`, opening the ledger (with the
//! projections check), and, once per size (too slow to repeat at 1M), a full `rebuild` next to a
//! full `verify` of the same ledger. Figures go in BENCHMARKS.md.

// criterion_group! generates public functions without documentation.
#![allow(missing_docs)]

use criterion::{Criterion, criterion_group, criterion_main};
use sanctions_ledger::domain::CivilDate;
use sanctions_ledger::ledger::{AppendOptions, Ledger, SystemClock};
use sanctions_ledger::projection;
use sanctions_ledger::query::{Filter, Query};
use sanctions_ledger::synth::Generator;
use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

fn build(path: &Path, events: u64) {
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

fn ledgers() -> Vec<(String, PathBuf, Option<tempfile::TempDir>)> {
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

fn queries(c: &mut Criterion) {
    let as_of = CivilDate::parse("2012-06-01").unwrap();
    let later = CivilDate::parse("2013-06-01").unwrap();
    for (label, path, _keep) in ledgers() {
        let ledger = Ledger::open(&path).unwrap();
        projection::sync(&ledger).unwrap();
        let head = ledger.head().sequence;
        let query = Query::new(&ledger, None).unwrap();
        let full = query.state(as_of, &Filter::default()).unwrap();
        let subject = full.listings[full.listings.len() / 2].subject.clone();
        eprintln!(
            "{label}: {head} records; full state on {as_of}: {} listings; one subject: {subject}",
            full.listings.len()
        );
        let one = Filter {
            subject: Some(subject.clone()),
            ..Filter::default()
        };
        let mut group = c.benchmark_group(format!("queries_{label}"));
        group
            .sample_size(20)
            .measurement_time(Duration::from_secs(5));
        group.bench_function("state_one_subject", |b| {
            b.iter(|| black_box(query.state(as_of, &one).unwrap()))
        });
        group.bench_function("state_full", |b| {
            b.iter(|| black_box(query.state(as_of, &Filter::default()).unwrap()))
        });
        group.bench_function("history_one_subject", |b| {
            b.iter(|| black_box(query.history(&subject, later).unwrap()))
        });
        group.bench_function("diff_full_one_year", |b| {
            b.iter(|| black_box(query.diff(as_of, later, &Filter::default()).unwrap()))
        });
        let past = Query::new(
            &ledger,
            Some(ledger.record(head / 2).unwrap().unwrap().record.recorded_at),
        )
        .unwrap();
        group.bench_function("state_one_subject_known_at_midway", |b| {
            b.iter(|| black_box(past.state(as_of, &one).unwrap()))
        });
        group.finish();
        drop(past);
        drop(query);
        drop(ledger);
        let mut group = c.benchmark_group(format!("open_{label}"));
        group.sample_size(10);
        group.bench_function("open_and_check_projections", |b| {
            b.iter(|| {
                let ledger = Ledger::open(&path).unwrap();
                black_box(projection::sync(&ledger).unwrap());
            })
        });
        group.finish();
        // Once per size: a full rebuild next to a full verify of the same ledger.
        let ledger = Ledger::open(&path).unwrap();
        let started = Instant::now();
        ledger.verify(&mut |_| {}).unwrap();
        let verify = started.elapsed();
        let started = Instant::now();
        projection::rebuild(&ledger, &mut |_| {}).unwrap();
        let rebuild = started.elapsed();
        eprintln!(
            "{label}: verify {:.2} s, rebuild {:.2} s, rebuild / verify = {:.2}",
            verify.as_secs_f64(),
            rebuild.as_secs_f64(),
            rebuild.as_secs_f64() / verify.as_secs_f64()
        );
    }
}

criterion_group!(benches, queries);
criterion_main!(benches);
