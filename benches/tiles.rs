//! Benchmarks of publishing and mirroring (see benches/common for the ledgers: 10k always,
//! 1M with SANCTIONS_LEDGER_BENCH_LARGE=DIR): writing a whole tiles folder against a raw write
//! of the same files (same paths, same bytes, each fsynced); `follow` of that folder into a new
//! mirror, in records per second, against raw SHA-256 and BLAKE3 over the same entry bytes; and
//! one inclusion proof checked with Cloudflare's `tlog_tiles` against our own check. Figures go
//! in BENCHMARKS.md.

// criterion_group! generates public functions without documentation.
#![allow(missing_docs)]

mod common;

use common::ledgers;
use criterion::{Criterion, criterion_group, criterion_main};
use sanctions_ledger::ledger::checkpoint::SignerKey;
use sanctions_ledger::ledger::merkle::{self, Rfc6962TreeHasher};
use sanctions_ledger::ledger::tiles::{self, Tile};
use sanctions_ledger::ledger::{Ledger, SystemClock, leaf_hash};
use sanctions_ledger::mirror::{self, Source, WitnessPolicy};
use std::hint::black_box;
use std::io::Write;
use std::path::Path;
use std::time::{Duration, Instant};

fn all_files(root: &Path) -> Vec<(String, Vec<u8>)> {
    let mut found = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let name = path
                    .strip_prefix(root)
                    .unwrap()
                    .to_string_lossy()
                    .into_owned();
                found.push((name, std::fs::read(&path).unwrap()));
            }
        }
    }
    found
}

/// The baseline: the same files written and fsynced, with nothing computed.
fn raw_write(files: &[(String, Vec<u8>)], out: &Path) {
    for (name, bytes) in files {
        let path = out.join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        let mut file = std::fs::File::create(&path).unwrap();
        file.write_all(bytes).unwrap();
        file.sync_all().unwrap();
    }
}

fn seconds(run: impl FnOnce()) -> f64 {
    let started = Instant::now();
    run();
    started.elapsed().as_secs_f64()
}

fn tiles_and_follow(c: &mut Criterion) {
    let signer = SignerKey::generate("bench.example/ops").unwrap();
    let verifier = signer.verifier();
    for (label, path, _keep) in ledgers() {
        let mut ledger = Ledger::open(&path).unwrap();
        let (_, checkpoint) = ledger.checkpoint(&signer, &SystemClock).unwrap();
        let size = checkpoint.checkpoint.size;
        let scratch = tempfile::tempdir().unwrap();
        let folder = scratch.path().join("tiles");
        let mut written = None;
        let ours = seconds(|| {
            written =
                Some(tiles::write_tiles(&ledger, &checkpoint, &folder, &mut |_, _| {}).unwrap());
        });
        let written = written.unwrap();
        let files = all_files(&folder);
        let bytes: u64 = files.iter().map(|(_, bytes)| bytes.len() as u64).sum();
        let count = files.len() as f64;
        let raw = seconds(|| raw_write(&files, &scratch.path().join("raw")));
        eprintln!(
            "{label}: tiles of {size} records: {} files ({} hash tiles, {} entry bundles), {:.1} MB: written in {ours:.2} s ({:.0} files/s, {:.1} MB/s); raw write of the same files, each fsynced: {raw:.2} s ({:.0} files/s); ratio {:.2}",
            files.len(),
            written.hash_tiles,
            written.entry_bundles,
            bytes as f64 / 1e6,
            count / ours,
            bytes as f64 / 1e6 / ours,
            count / raw,
            ours / raw
        );
        drop(ledger);
        // follow of the folder into a new mirror, against the raw hashes over the same bytes.
        let mirror = scratch.path().join("mirror");
        let source = Source::parse(folder.to_str().unwrap());
        let followed = seconds(|| {
            mirror::follow(
                &source,
                &mirror,
                &verifier,
                &WitnessPolicy::default(),
                &mut |_, _| {},
            )
            .unwrap();
        });
        // The entry bundles of the final tree: the bytes follow fetches and hashes.
        let mut entries: Vec<u8> = Vec::new();
        for tile in tiles::new_tiles(0, size) {
            if tile.kind == tiles::TileKind::Entries {
                entries.extend(std::fs::read(folder.join(tile.path())).unwrap());
            }
        }
        let sha = seconds(|| {
            black_box(sanctions_ledger::ledger::chain::sha256(&entries));
        });
        let b3 = seconds(|| {
            black_box(blake3::hash(&entries));
        });
        eprintln!(
            "{label}: follow of {size} records from the folder: {followed:.2} s ({:.0} records/s, {:.1} MB/s); raw SHA-256 over the same {:.1} MB: {sha:.3} s ({:.0} MB/s), raw BLAKE3: {b3:.3} s ({:.0} MB/s)",
            size as f64 / followed,
            entries.len() as f64 / 1e6 / followed,
            entries.len() as f64 / 1e6,
            entries.len() as f64 / 1e6 / sha,
            entries.len() as f64 / 1e6 / b3
        );
        // One inclusion proof, checked by tlog_tiles and by us.
        let ledger = Ledger::open(&path).unwrap();
        let sequence = size / 3 + 1;
        let record = ledger.record_bytes(sequence).unwrap();
        let path_hashes = ledger.inclusion_proof(sequence, size).unwrap();
        let root = checkpoint.checkpoint.root;
        let theirs: Vec<tlog_tiles::Hash> =
            path_hashes.iter().map(|h| tlog_tiles::Hash(*h)).collect();
        let slices: Vec<&[u8]> = path_hashes.iter().map(|h| h.as_slice()).collect();
        let mut group = c.benchmark_group(format!("tiles_{label}"));
        group
            .sample_size(30)
            .measurement_time(Duration::from_secs(3));
        group.bench_function("inclusion_check_tlog_tiles", |b| {
            b.iter(|| {
                tlog_tiles::check_record(
                    black_box(&theirs),
                    size,
                    tlog_tiles::Hash(root),
                    sequence - 1,
                    tlog_tiles::record_hash(&record),
                )
                .unwrap()
            })
        });
        group.bench_function("inclusion_check_ours", |b| {
            b.iter(|| {
                merkle::verify_inclusion(
                    &Rfc6962TreeHasher,
                    sequence - 1,
                    size,
                    &leaf_hash(black_box(&record)),
                    &slices,
                    &root,
                )
                .unwrap()
            })
        });
        let tile = Tile::parse("tile/0/000").unwrap();
        group.bench_function("serve_one_hash_tile_from_the_ledger", |b| {
            b.iter(|| black_box(ledger.tile(&tile).unwrap()))
        });
        group.finish();
    }
}

criterion_group!(benches, tiles_and_follow);
criterion_main!(benches);
