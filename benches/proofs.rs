//! Benchmarks of the auditor's proofs on synthetic ledgers (see benches/common): inclusion and
//! consistency proofs made from the stored Merkle nodes and checked offline, against the raw
//! RFC 9162 path check over the same hashes as a baseline; their sizes; and, once per size, the
//! time of a first checkpoint (which re-reads and re-hashes every record) next to `verify`.
//! Figures go in BENCHMARKS.md.

// criterion_group! generates public functions without documentation.
#![allow(missing_docs)]

mod common;

use common::ledgers;
use criterion::{Criterion, criterion_group, criterion_main};
use sanctions_ledger::ledger::checkpoint::{Checkpoint, SignerKey};
use sanctions_ledger::ledger::merkle::{self, Rfc6962TreeHasher};
use sanctions_ledger::ledger::{Ledger, SystemClock, leaf_hash};
use sanctions_ledger::proof;
use std::hint::black_box;
use std::time::{Duration, Instant};

fn proofs(c: &mut Criterion) {
    let signer = SignerKey::generate("bench.example/ops").unwrap();
    let verifier = signer.verifier();
    for (label, path, _keep) in ledgers() {
        let mut ledger = Ledger::open(&path).unwrap();
        let head = ledger.head().sequence;
        let started = Instant::now();
        ledger.verify(&mut |_| {}).unwrap();
        let verify = started.elapsed();
        let started = Instant::now();
        let checkpoints_before = ledger.checkpoints().unwrap().len();
        let (_, checkpoint) = ledger.checkpoint(&signer, &SystemClock).unwrap();
        let first_checkpoint = started.elapsed();
        let started = Instant::now();
        let (_, again) = ledger.checkpoint(&signer, &SystemClock).unwrap();
        let next_checkpoint = started.elapsed();
        eprintln!(
            "{label}: {head} records; verify {:.2} s; checkpoint ({}) {:.3} s; next checkpoint with no new records {:.4} s",
            verify.as_secs_f64(),
            if checkpoints_before == 0 {
                "first: re-reads every record"
            } else {
                "re-reads the records since the last"
            },
            first_checkpoint.as_secs_f64(),
            next_checkpoint.as_secs_f64()
        );
        let size = checkpoint.checkpoint.size;
        let sequence = size / 3 + 1;
        let inclusion = proof::prove_inclusion(&ledger, sequence, &checkpoint).unwrap();
        let inclusion_text = serde_json::to_vec_pretty(&inclusion).unwrap();
        // A checkpoint of the first half, signed here from the stored tree: consistency from
        // half to all is the typical proof an auditor asks for.
        let half_tree = ledger.tree_head(size / 2).unwrap();
        let half = signer.sign(Checkpoint {
            size: half_tree.size,
            root: half_tree.root,
            head: half_tree.head,
            ..checkpoint.checkpoint.clone()
        });
        let consistency = proof::prove_consistency(&ledger, &half, &again).unwrap();
        let consistency_text = serde_json::to_vec_pretty(&consistency).unwrap();
        let bound = 2 * (64 - size.leading_zeros());
        eprintln!(
            "{label}: inclusion proof of record {sequence} in {size}: {} hashes (bound 2 log2 n = {bound}), document {} bytes; consistency {} -> {}: {} hashes, document {} bytes",
            inclusion.path.len(),
            inclusion_text.len(),
            half.checkpoint.size,
            again.checkpoint.size,
            consistency.path.len(),
            consistency_text.len()
        );
        // Baseline: the bare RFC 9162 check over the same hashes, nothing parsed or signed.
        let record_bytes = ledger.record_bytes(sequence).unwrap();
        let path_hashes = ledger.inclusion_proof(sequence, size).unwrap();
        let slices: Vec<&[u8]> = path_hashes.iter().map(|h| h.as_slice()).collect();
        let leaf = leaf_hash(&record_bytes);
        let root = checkpoint.checkpoint.root;

        let mut group = c.benchmark_group(format!("proofs_{label}"));
        group
            .sample_size(20)
            .measurement_time(Duration::from_secs(5));
        let mut next = 0u64;
        group.bench_function("prove_inclusion_from_stored_nodes", |b| {
            b.iter(|| {
                next = (next + 7919) % size;
                black_box(ledger.inclusion_proof(next + 1, size).unwrap())
            })
        });
        group.bench_function("prove_inclusion_document", |b| {
            b.iter(|| black_box(proof::prove_inclusion(&ledger, sequence, &checkpoint).unwrap()))
        });
        group.bench_function("verify_inclusion_document_offline", |b| {
            b.iter(|| black_box(proof::verify_document(&inclusion_text, &verifier).unwrap()))
        });
        group.bench_function("raw_rfc9162_inclusion_check", |b| {
            b.iter(|| {
                merkle::verify_inclusion(
                    &Rfc6962TreeHasher,
                    sequence - 1,
                    size,
                    &leaf,
                    &slices,
                    &root,
                )
                .unwrap()
            })
        });
        group.bench_function("prove_consistency_from_stored_nodes", |b| {
            b.iter(|| {
                black_box(
                    ledger
                        .consistency_proof(half.checkpoint.size, again.checkpoint.size)
                        .unwrap(),
                )
            })
        });
        group.bench_function("verify_consistency_document_offline", |b| {
            b.iter(|| black_box(proof::verify_document(&consistency_text, &verifier).unwrap()))
        });
        group.finish();
    }
}

criterion_group!(benches, proofs);
criterion_main!(benches);
