//! Merkle proofs: the published RFC 6962 vectors (tests/vectors/rfc6962-merkle, copied with
//! their PROVENANCE.md and Apache-2.0 LICENSE from transparency-dev/merkle) pass with the
//! ledger's own tree hash (`Rfc6962TreeHasher`), which also equals an independent SHA-256
//! written here; proofs of every tree size from 1 to 1,000 verify with it and with the first
//! format's BLAKE3 hasher (still used to check v1 checkpoints), both from leaves in memory and
//! from nodes kept as the ledger keeps them (grown leaf by leaf; random larger trees too); every
//! single-bit change to a valid proof is rejected.

use base64::Engine;
use sanctions_ledger::ledger::merkle::{
    Blake3TreeHasher, Digest, Frontier, Nodes, Rfc6962TreeHasher, TreeHasher, completing_leaf,
    consistency_path, consistency_proof, inclusion_path, inclusion_proof, range_hash, root,
    verify_consistency, verify_inclusion,
};
use serde_json::Value;
use sha2::Digest as _;
use std::path::Path;

/// RFC 6962's tree hash written independently of the ledger's: SHA-256 with 0x00 before
/// leaves and 0x01 before interior nodes.
struct Rfc6962;

impl TreeHasher for Rfc6962 {
    fn empty_root(&self) -> Digest {
        sha2::Sha256::digest([]).into()
    }
    fn hash_leaf(&self, data: &[u8]) -> Digest {
        sha2::Sha256::new()
            .chain_update([0u8])
            .chain_update(data)
            .finalize()
            .into()
    }
    fn hash_children(&self, left: &Digest, right: &Digest) -> Digest {
        sha2::Sha256::new()
            .chain_update([1u8])
            .chain_update(left)
            .chain_update(right)
            .finalize()
            .into()
    }
}

fn bytes(value: &Value) -> Vec<u8> {
    match value.as_str() {
        Some(text) => base64::engine::general_purpose::STANDARD
            .decode(text)
            .expect("base64"),
        None => Vec::new(),
    }
}

fn proof(value: &Value) -> Vec<Vec<u8>> {
    value
        .as_array()
        .map(|items| items.iter().map(bytes).collect())
        .unwrap_or_default()
}

fn vector_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            vector_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "json") {
            out.push(path);
        }
    }
}

#[test]
fn every_rfc6962_vector_gives_the_expected_verdict() {
    let mut files = Vec::new();
    vector_files(Path::new("tests/vectors/rfc6962-merkle"), &mut files);
    assert_eq!(files.len(), 196, "all vectors present");
    let (mut happy, mut damaged) = (0, 0);
    for file in files {
        let vector: Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
        let want_error = vector["wantErr"].as_bool().unwrap();
        let path = proof(&vector["proof"]);
        let path: Vec<&[u8]> = path.iter().map(Vec::as_slice).collect();
        let result = if vector.get("leafIdx").is_some() {
            verify_inclusion(
                &Rfc6962TreeHasher,
                vector["leafIdx"].as_u64().unwrap(),
                vector["treeSize"].as_u64().unwrap(),
                &bytes(&vector["leafHash"]),
                &path,
                &bytes(&vector["root"]),
            )
        } else {
            verify_consistency(
                &Rfc6962TreeHasher,
                vector["size1"].as_u64().unwrap(),
                vector["size2"].as_u64().unwrap(),
                &bytes(&vector["root1"]),
                &bytes(&vector["root2"]),
                &path,
            )
        };
        assert_eq!(
            result.is_err(),
            want_error,
            "{}: {} -> {result:?}",
            file.display(),
            vector["desc"]
        );
        if want_error { damaged += 1 } else { happy += 1 }
    }
    assert!(
        happy >= 10 && damaged >= 150,
        "{happy} happy paths, {damaged} damaged proofs"
    );
}

fn leaves(hasher: &dyn TreeHasher, count: usize) -> Vec<Digest> {
    (0..count)
        .map(|index| hasher.hash_leaf(format!("record {index}").as_bytes()))
        .collect()
}

/// Nodes kept as the ledger keeps them: with the leaf that completed them.
struct Completed(Vec<Vec<Digest>>);

impl Nodes for Completed {
    type Error = String;
    fn node(&self, level: u32, index: u64) -> Result<Digest, String> {
        let leaf = completing_leaf(level, index);
        self.0
            .get(leaf as usize)
            .and_then(|nodes| nodes.get(level as usize))
            .copied()
            .ok_or_else(|| format!("no node ({level}, {index})"))
    }
}

/// Grows a tree leaf by leaf, as the ledger does, keeping what each leaf completed.
fn grow(hasher: &dyn TreeHasher, leaves: &[Digest]) -> (Frontier, Completed) {
    let mut frontier = Frontier::new();
    let completed = leaves
        .iter()
        .map(|leaf| frontier.push(hasher, *leaf))
        .collect();
    (frontier, Completed(completed))
}

fn check_every_size(hasher: &dyn TreeHasher) {
    let all = leaves(hasher, 1000);
    let mut frontier = Frontier::new();
    let (_, stored) = grow(hasher, &all);
    for size in 1..=1000usize {
        let tree = &all[..size];
        let tree_root = root(hasher, tree);
        frontier.push(hasher, tree[size - 1]);
        assert_eq!(
            frontier.root(hasher),
            tree_root,
            "incremental root at {size}"
        );
        assert_eq!(
            Frontier::load(size as u64, &stored),
            Ok(frontier.clone()),
            "frontier loaded from stored nodes at {size}"
        );
        for index in [0, size / 3, size - 1] {
            assert_eq!(
                inclusion_path(hasher, &stored, index as u64, size as u64),
                Ok(inclusion_proof(hasher, tree, index)),
                "inclusion proof from stored nodes, {index} of {size}"
            );
        }
        assert_eq!(
            consistency_path(hasher, &stored, size as u64 / 2, size as u64),
            Ok(consistency_proof(hasher, tree, size / 2)),
            "consistency proof from stored nodes, {} -> {size}",
            size / 2
        );
        let bound = 2 * (usize::BITS - size.leading_zeros()) as usize;
        for index in [0, size / 3, size / 2, size - 1] {
            let path = inclusion_proof(hasher, tree, index);
            assert!(
                path.len() <= bound,
                "inclusion proof of {} hashes in a tree of {size}",
                path.len()
            );
            let slices: Vec<&[u8]> = path.iter().map(|p| p.as_slice()).collect();
            assert_eq!(
                verify_inclusion(
                    hasher,
                    index as u64,
                    size as u64,
                    &tree[index],
                    &slices,
                    &tree_root
                ),
                Ok(()),
                "index {index} of {size}"
            );
            if size > 1 {
                let other = (index + 1) % size;
                assert!(
                    verify_inclusion(
                        hasher,
                        other as u64,
                        size as u64,
                        &tree[index],
                        &slices,
                        &tree_root
                    )
                    .is_err()
                );
            }
        }
        for first in [1, size / 2, size - 1, size]
            .into_iter()
            .filter(|first| *first >= 1)
        {
            let path = consistency_proof(hasher, tree, first);
            assert!(
                path.len() <= bound,
                "consistency proof of {} hashes in a tree of {size}",
                path.len()
            );
            let slices: Vec<&[u8]> = path.iter().map(|p| p.as_slice()).collect();
            let first_root = root(hasher, &tree[..first]);
            assert_eq!(
                verify_consistency(
                    hasher,
                    first as u64,
                    size as u64,
                    &first_root,
                    &tree_root,
                    &slices
                ),
                Ok(()),
                "{first} -> {size}"
            );
        }
    }
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(24))]
    /// Random larger trees, grown leaf by leaf: proofs read from stored nodes verify, and
    /// prove nothing for a neighbouring leaf or a wrong old root.
    #[test]
    fn proofs_from_stored_nodes_verify_on_random_larger_trees(
        size in 1001u64..60_000,
        index_seed in proptest::prelude::any::<u64>(),
        first_seed in proptest::prelude::any::<u64>(),
    ) {
        let hasher = &Rfc6962TreeHasher;
        let all = leaves(hasher, size as usize);
        let (frontier, stored) = grow(hasher, &all);
        let tree_root = frontier.root(hasher);
        proptest::prop_assert_eq!(range_hash(hasher, &stored, 0, size), Ok(tree_root));
        let index = index_seed % size;
        let path = inclusion_path(hasher, &stored, index, size).unwrap();
        proptest::prop_assert!(path.len() <= 2 * (64 - size.leading_zeros()) as usize);
        let slices: Vec<&[u8]> = path.iter().map(|p| p.as_slice()).collect();
        proptest::prop_assert_eq!(
            verify_inclusion(hasher, index, size, &all[index as usize], &slices, &tree_root),
            Ok(())
        );
        let other = (index + 1) % size;
        proptest::prop_assert!(
            verify_inclusion(hasher, index, size, &all[other as usize], &slices, &tree_root).is_err()
        );
        let first = 1 + first_seed % size;
        let first_root = range_hash(hasher, &stored, 0, first).unwrap();
        let path = consistency_path(hasher, &stored, first, size).unwrap();
        let slices: Vec<&[u8]> = path.iter().map(|p| p.as_slice()).collect();
        proptest::prop_assert_eq!(
            verify_consistency(hasher, first, size, &first_root, &tree_root, &slices),
            Ok(())
        );
        if first < size {
            proptest::prop_assert!(
                verify_consistency(hasher, first, size, &[7u8; 32], &tree_root, &slices).is_err()
            );
        }
    }
}

#[test]
fn proofs_of_every_tree_size_up_to_1000_verify_with_the_ledgers_sha256_tree() {
    check_every_size(&Rfc6962TreeHasher);
}

#[test]
fn proofs_of_every_tree_size_up_to_1000_verify_with_the_first_formats_blake3_hasher() {
    check_every_size(&Blake3TreeHasher);
}

#[test]
fn the_ledgers_tree_hash_is_rfc_6962_sha256_written_independently() {
    let ours = Rfc6962TreeHasher;
    assert_eq!(ours.empty_root(), Rfc6962.empty_root());
    // The empty tree's hash, as RFC 6962 section 2.1 and every CT log give it.
    assert_eq!(
        ours.empty_root()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>(),
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    );
    for data in [&b""[..], b"a", &[0u8; 200], &[1u8; 1]] {
        assert_eq!(ours.hash_leaf(data), Rfc6962.hash_leaf(data));
    }
    let (a, b) = (ours.hash_leaf(b"a"), ours.hash_leaf(b"b"));
    assert_eq!(ours.hash_children(&a, &b), Rfc6962.hash_children(&a, &b));
    let leaves: Vec<Digest> = (0..37u8).map(|i| Rfc6962.hash_leaf(&[i])).collect();
    assert_eq!(root(&ours, &leaves), root(&Rfc6962, &leaves));
}

#[test]
fn every_single_bit_change_to_a_valid_proof_is_rejected() {
    let hasher = Rfc6962TreeHasher;
    for size in [2usize, 7, 64, 1000] {
        let tree = leaves(&hasher, size);
        let tree_root = root(&hasher, &tree);
        let index = size / 2;
        let path = inclusion_proof(&hasher, &tree, index);
        for element in 0..path.len() {
            for bit in 0..256 {
                let mut damaged = path.clone();
                damaged[element][bit / 8] ^= 1 << (bit % 8);
                let slices: Vec<&[u8]> = damaged.iter().map(|p| p.as_slice()).collect();
                assert!(
                    verify_inclusion(
                        &hasher,
                        index as u64,
                        size as u64,
                        &tree[index],
                        &slices,
                        &tree_root
                    )
                    .is_err()
                );
            }
        }
        let first = size / 2 + 1;
        let path = consistency_proof(&hasher, &tree, first);
        let first_root = root(&hasher, &tree[..first]);
        for element in 0..path.len() {
            for bit in 0..256 {
                let mut damaged = path.clone();
                damaged[element][bit / 8] ^= 1 << (bit % 8);
                let slices: Vec<&[u8]> = damaged.iter().map(|p| p.as_slice()).collect();
                assert!(
                    verify_consistency(
                        &hasher,
                        first as u64,
                        size as u64,
                        &first_root,
                        &tree_root,
                        &slices
                    )
                    .is_err(),
                    "size {size}, element {element}, bit {bit}"
                );
            }
        }
    }
}

#[test]
fn leaf_and_node_hashes_are_domain_separated() {
    let hasher = Rfc6962TreeHasher;
    let (a, b) = (hasher.hash_leaf(b"a"), hasher.hash_leaf(b"b"));
    let mut joined = a.to_vec();
    joined.extend_from_slice(&b);
    assert_ne!(
        hasher.hash_children(&a, &b),
        hasher.hash_leaf(&joined),
        "a leaf cannot pose as a node"
    );
    assert_ne!(hasher.empty_root(), hasher.hash_leaf(b""));
}
