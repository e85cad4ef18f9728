//! Benchmarks of the projections and queries on synthetic ledgers (`sanctions-ledger gen`).
//!
//! Always on a 10,000-event ledger; with `SANCTIONS_LEDGER_BENCH_LARGE=DIR` also on a
//! 1,000,000-event ledger in DIR (built by `sanctions-ledger gen --events 1000000 --seed 7 DIR`
//! if absent; that takes minutes). Measured in one run: a one-subject `state` query, a full
//! `state` query (answer built, not printed), `history`, `diff`, opening the ledger (with the
//! projections check); the same questions answered from the head views file on the log opened
//! alone, beside a raw read of that file; and, once per size (too slow to repeat at 1M), a full `rebuild` next to a
//! full `verify` of the same ledger; then the floors sled itself sets under those targets (a raw
//! scan of the listings a full `state` reads; a raw copy of every derived entry). Figures go in
//! BENCHMARKS.md.

// criterion_group! generates public functions without documentation.
#![allow(missing_docs)]

mod common;
#[path = "common/raw.rs"]
mod raw;

use common::ledgers;
use criterion::{Criterion, criterion_group, criterion_main};
use raw::raw_store;
use sanctions_ledger::domain::CivilDate;
use sanctions_ledger::ledger::Ledger;
use sanctions_ledger::ledger::store::{DERIVED_TREES, Derived};
use sanctions_ledger::projection;
use sanctions_ledger::query::{Filter, Query};
use std::hint::black_box;
use std::path::Path;
use std::time::{Duration, Instant};

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
        // The same questions from the head views file, on the log opened alone (what the CLI
        // does when the file reflects the head), beside a raw read of the file's bytes.
        projection::head_views::write(&ledger).unwrap();
        drop(ledger);
        let log_only = Ledger::open_read(&path).unwrap();
        let views = || projection::head_views::HeadViews::open_current(&log_only).unwrap();
        let from_file = Query::at_head_views(&log_only, views());
        let file = projection::head_views::path_of(&path);
        let mut group = c.benchmark_group(format!("head_views_{label}"));
        group
            .sample_size(20)
            .measurement_time(Duration::from_secs(5));
        group.bench_function("open_log_and_head_views", |b| {
            b.iter(|| {
                let ledger = Ledger::open_read(&path).unwrap();
                black_box(projection::head_views::HeadViews::open_current(&ledger).is_some())
            })
        });
        group.bench_function("state_one_subject", |b| {
            b.iter(|| black_box(from_file.state(as_of, &one).unwrap()))
        });
        group.bench_function("state_full", |b| {
            b.iter(|| black_box(from_file.state(as_of, &Filter::default()).unwrap()))
        });
        group.bench_function("diff_full_one_year", |b| {
            b.iter(|| black_box(from_file.diff(as_of, later, &Filter::default()).unwrap()))
        });
        group.bench_function("raw_read_of_the_file", |b| {
            b.iter(|| black_box(std::fs::read(&file).unwrap().len()))
        });
        group.finish();
        drop(from_file);
        drop(log_only);
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
        drop(ledger);
        floors(c, &label, &path, verify);
    }
}

/// Baselines in sled itself, on the same ledger, that bound the targets from below: a raw scan
/// of the tree a full-scope `state` at the head reads (one entry per listing, not decoded), and
/// a raw copy of every derived entry into a fresh store in the batches `rebuild` uses, without
/// fsync (what writing the projections costs before any replay or evaluation).
fn floors(c: &mut Criterion, label: &str, path: &Path, verify: Duration) {
    let db = raw_store(&path.join("derived"));
    let tree = |derived: Derived| {
        let (_, name) = DERIVED_TREES[derived as usize];
        db.open_tree(name).unwrap()
    };
    let current = tree(Derived::Current);
    let mut group = c.benchmark_group(format!("floors_{label}"));
    group
        .sample_size(20)
        .measurement_time(Duration::from_secs(5));
    group.bench_function("raw_sled_scan_current", |b| {
        b.iter(|| {
            let mut bytes = 0;
            for item in current.iter() {
                let (key, value) = item.unwrap();
                bytes += key.len() + value.len();
            }
            black_box(bytes)
        })
    });
    group.finish();

    let copy_dir = tempfile::tempdir().unwrap();
    let copy = raw_store(copy_dir.path());
    let (mut entries, mut bytes) = (0u64, 0u64);
    let started = Instant::now();
    for (derived, name) in DERIVED_TREES {
        let target = copy.open_tree(name).unwrap();
        let mut batch = sled::Batch::default();
        let mut pending = 0;
        for item in tree(derived).iter() {
            let (key, value) = item.unwrap();
            entries += 1;
            bytes += (key.len() + value.len()) as u64;
            batch.insert(key, value);
            pending += 1;
            if pending == sanctions_ledger::limits::DERIVED_BULK_BATCH {
                target.apply_batch(std::mem::take(&mut batch)).unwrap();
                pending = 0;
            }
        }
        target.apply_batch(batch).unwrap();
    }
    copy.flush().unwrap();
    let copied = started.elapsed();
    eprintln!(
        "{label}: raw copy of {entries} derived entries ({:.0} MB) into a fresh store {:.2} s = {:.2}x verify",
        bytes as f64 / 1e6,
        copied.as_secs_f64(),
        copied.as_secs_f64() / verify.as_secs_f64()
    );
}

criterion_group!(benches, queries);
criterion_main!(benches);
