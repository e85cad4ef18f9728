//! Merkle trees over the log, RFC 6962 / RFC 9162: tree hashes, inclusion and consistency
//! proofs, and their verification, generic over the hash.
//!
//! Owns the algorithms only (pure; no store). The ledger's tree is RFC 6962's: SHA-256, with
//! 0x00 before a leaf's data and 0x01 before two children; a leaf's data (an "entry", as C2SP
//! tlog-tiles calls it) is a record's stored bytes. So every RFC 6962 / C2SP client (tiles,
//! witnesses, monitors) computes the same roots and proofs, and the published RFC 6962 vectors
//! test this very hasher (tests/merkle.rs). The first tree format (checkpoint origin
//! `sanctions-ledger/v1/`) hashed with BLAKE3 over record hashes; it is kept, only to check
//! checkpoints issued with it ([`TreeVersion::V1Blake3`]). Verification follows RFC 9162,
//! sections 2.1.3.2 and 2.1.4.2.

use super::chain::{DeriveKey, Hash};
use sha2::Digest as _;
use std::fmt;

/// A 32-byte tree hash.
pub type Digest = [u8; 32];

/// The hash a Merkle tree is built with.
pub trait TreeHasher {
    /// The hash of the empty tree.
    fn empty_root(&self) -> Digest;
    /// The hash of a leaf's data.
    fn hash_leaf(&self, data: &[u8]) -> Digest;
    /// The hash of an interior node from its two children.
    fn hash_children(&self, left: &Digest, right: &Digest) -> Digest;
}

/// RFC 6962's tree hash, the ledger's: SHA-256(0x00 || entry) for a leaf, SHA-256(0x01 || left
/// || right) for a node, SHA-256 of nothing for the empty tree.
#[derive(Clone, Copy, Debug, Default)]
pub struct Rfc6962TreeHasher;

impl TreeHasher for Rfc6962TreeHasher {
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

/// Which tree a checkpoint's root is of (its origin line says).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum TreeVersion {
    /// The first format (origin `sanctions-ledger/v1/`): BLAKE3 derive-key hashes over the
    /// records' 32-byte hashes. Only checked, never issued.
    V1Blake3,
    /// RFC 6962 SHA-256 over the records' stored bytes (origin `sanctions-ledger/v2/`).
    V2Rfc6962,
}

impl TreeVersion {
    /// The tree version the ledger issues.
    pub const CURRENT: TreeVersion = TreeVersion::V2Rfc6962;

    /// Its hasher.
    pub fn hasher(self) -> &'static dyn TreeHasher {
        match self {
            TreeVersion::V1Blake3 => &Blake3TreeHasher,
            TreeVersion::V2Rfc6962 => &Rfc6962TreeHasher,
        }
    }

    /// The leaf hash of a record, given its hash and its stored bytes.
    pub fn leaf(self, record_hash: &Hash, record_bytes: &[u8]) -> Digest {
        match self {
            TreeVersion::V1Blake3 => Blake3TreeHasher.hash_leaf(&record_hash.0),
            TreeVersion::V2Rfc6962 => Rfc6962TreeHasher.hash_leaf(record_bytes),
        }
    }
}

/// Context for leaf hashes in the first (v1, BLAKE3) tree. Frozen.
pub const LEAF_CONTEXT: &str = "sanctions-ledger 2026-11-28 merkle leaf v1";
/// Context for interior-node hashes in the ledger's tree. Frozen.
pub const NODE_CONTEXT: &str = "sanctions-ledger 2026-11-28 merkle node v1";
/// Context for the empty tree's hash. Frozen.
pub const EMPTY_CONTEXT: &str = "sanctions-ledger 2026-11-28 merkle empty v1";

/// The first (v1) tree hash: BLAKE3 derive-key mode, one context per use. Kept to check
/// checkpoints issued with it.
#[derive(Clone, Copy, Debug, Default)]
pub struct Blake3TreeHasher;

impl TreeHasher for Blake3TreeHasher {
    fn empty_root(&self) -> Digest {
        EMPTY_KEY.hash(&[])
    }
    fn hash_leaf(&self, data: &[u8]) -> Digest {
        LEAF_KEY.hash(&[data])
    }
    fn hash_children(&self, left: &Digest, right: &Digest) -> Digest {
        NODE_KEY.hash(&[left, right])
    }
}

static EMPTY_KEY: DeriveKey = DeriveKey::new(EMPTY_CONTEXT);
static LEAF_KEY: DeriveKey = DeriveKey::new(LEAF_CONTEXT);
static NODE_KEY: DeriveKey = DeriveKey::new(NODE_CONTEXT);

/// Why a proof was rejected.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ProofError {
    /// The leaf index is not inside the tree.
    #[error("leaf index {index} is outside a tree of size {size}")]
    IndexOutOfRange {
        /// The index.
        index: u64,
        /// The tree size.
        size: u64,
    },
    /// The second tree is smaller than the first.
    #[error("tree size {size2} is smaller than {size1}")]
    Shrunk {
        /// The first size.
        size1: u64,
        /// The second size.
        size2: u64,
    },
    /// A consistency proof from the empty tree proves nothing.
    #[error("a consistency proof from an empty tree proves nothing")]
    FromEmpty,
    /// The proof has the wrong number of hashes for the sizes given.
    #[error("the proof has {actual} hashes; {expected} are needed")]
    WrongLength {
        /// Hashes given.
        actual: usize,
        /// Hashes needed.
        expected: usize,
    },
    /// A hash is not 32 bytes.
    #[error("a hash is {0} bytes, not 32")]
    BadHash(usize),
    /// The recomputed root is not the one claimed.
    #[error("the proof leads to a root other than the one claimed")]
    RootMismatch,
}

fn digest(bytes: &[u8]) -> Result<Digest, ProofError> {
    bytes
        .try_into()
        .map_err(|_| ProofError::BadHash(bytes.len()))
}

/// A source of complete-subtree hashes: `node(level, index)` is the tree hash of the
/// `2^level` leaves starting at leaf `index << level`. The ledger reads them from its store;
/// [`LeafSlice`] computes them from leaf hashes in memory. Every tree hash and proof below is
/// built from such nodes, so the stored tree and the in-memory one share one implementation.
pub trait Nodes {
    /// Why a node could not be had.
    type Error;
    /// The hash of the complete subtree of `2^level` leaves starting at `index << level`.
    fn node(&self, level: u32, index: u64) -> Result<Digest, Self::Error>;
}

/// Leaf hashes in memory, as a source of nodes.
pub struct LeafSlice<'a> {
    /// The tree hash.
    pub hasher: &'a dyn TreeHasher,
    /// The leaf hashes.
    pub leaves: &'a [Digest],
}

impl Nodes for LeafSlice<'_> {
    type Error = std::convert::Infallible;
    fn node(&self, level: u32, index: u64) -> Result<Digest, Self::Error> {
        if level == 0 {
            return Ok(self.leaves[index as usize]);
        }
        Ok(self.hasher.hash_children(
            &self.node(level - 1, index * 2)?,
            &self.node(level - 1, index * 2 + 1)?,
        ))
    }
}

/// The tree hash of leaves `[start, end)`, RFC 6962's MTH, from complete subtrees.
pub fn range_hash<N: Nodes>(
    hasher: &dyn TreeHasher,
    nodes: &N,
    start: u64,
    end: u64,
) -> Result<Digest, N::Error> {
    let len = end - start;
    if len == 0 {
        return Ok(hasher.empty_root());
    }
    if len.is_power_of_two() && start.is_multiple_of(len) {
        let level = len.trailing_zeros();
        return nodes.node(level, start >> level);
    }
    let split = largest_power_of_two_below(len);
    Ok(hasher.hash_children(
        &range_hash(hasher, nodes, start, start + split)?,
        &range_hash(hasher, nodes, start + split, end)?,
    ))
}

/// The inclusion proof of leaf `index` in the tree of the first `size` leaves (RFC 6962's
/// PATH). Empty when the index is outside the tree.
pub fn inclusion_path<N: Nodes>(
    hasher: &dyn TreeHasher,
    nodes: &N,
    index: u64,
    size: u64,
) -> Result<Vec<Digest>, N::Error> {
    let mut proof = Vec::new();
    if index < size {
        path(hasher, nodes, index, 0, size, &mut proof)?;
    }
    Ok(proof)
}

fn path<N: Nodes>(
    hasher: &dyn TreeHasher,
    nodes: &N,
    index: u64,
    start: u64,
    end: u64,
    proof: &mut Vec<Digest>,
) -> Result<(), N::Error> {
    let len = end - start;
    if len <= 1 {
        return Ok(());
    }
    let split = start + largest_power_of_two_below(len);
    if index < split {
        path(hasher, nodes, index, start, split, proof)?;
        proof.push(range_hash(hasher, nodes, split, end)?);
    } else {
        path(hasher, nodes, index, split, end, proof)?;
        proof.push(range_hash(hasher, nodes, start, split)?);
    }
    Ok(())
}

/// The consistency proof between the trees of the first `size1` and `size2` leaves (RFC 6962's
/// PROOF). Empty when `size1` is 0 or not smaller than `size2`.
pub fn consistency_path<N: Nodes>(
    hasher: &dyn TreeHasher,
    nodes: &N,
    size1: u64,
    size2: u64,
) -> Result<Vec<Digest>, N::Error> {
    let mut proof = Vec::new();
    if size1 > 0 && size1 < size2 {
        subproof(hasher, nodes, size1, 0, size2, true, &mut proof)?;
    }
    Ok(proof)
}

fn subproof<N: Nodes>(
    hasher: &dyn TreeHasher,
    nodes: &N,
    m: u64,
    start: u64,
    end: u64,
    complete: bool,
    proof: &mut Vec<Digest>,
) -> Result<(), N::Error> {
    let len = end - start;
    if m == len {
        if !complete {
            proof.push(range_hash(hasher, nodes, start, end)?);
        }
        return Ok(());
    }
    let split = largest_power_of_two_below(len);
    if m <= split {
        subproof(hasher, nodes, m, start, start + split, complete, proof)?;
        proof.push(range_hash(hasher, nodes, start + split, end)?);
    } else {
        subproof(hasher, nodes, m - split, start + split, end, false, proof)?;
        proof.push(range_hash(hasher, nodes, start, start + split)?);
    }
    Ok(())
}

/// The tree hash of `leaves` (leaf hashes), RFC 6962's MTH.
pub fn root(hasher: &dyn TreeHasher, leaves: &[Digest]) -> Digest {
    let nodes = LeafSlice { hasher, leaves };
    let Ok(root) = range_hash(hasher, &nodes, 0, leaves.len() as u64);
    root
}

/// The largest power of two strictly smaller than `n` (n > 1).
fn largest_power_of_two_below(n: u64) -> u64 {
    1 << (63 - (n - 1).leading_zeros())
}

/// The inclusion proof of leaf `index` in the tree of `leaves` (RFC 6962's PATH).
pub fn inclusion_proof(hasher: &dyn TreeHasher, leaves: &[Digest], index: usize) -> Vec<Digest> {
    let nodes = LeafSlice { hasher, leaves };
    let Ok(proof) = inclusion_path(hasher, &nodes, index as u64, leaves.len() as u64);
    proof
}

/// The consistency proof between the first `size1` leaves and all of `leaves` (RFC 6962's
/// PROOF). Empty when `size1` is 0 or the whole tree.
pub fn consistency_proof(hasher: &dyn TreeHasher, leaves: &[Digest], size1: usize) -> Vec<Digest> {
    let nodes = LeafSlice { hasher, leaves };
    let Ok(proof) = consistency_path(hasher, &nodes, size1 as u64, leaves.len() as u64);
    proof
}

/// The leaf whose appending completes node `(level, index)`: the last leaf it covers. The
/// ledger stores each node with that leaf, at position `level` (see [`Frontier::push`]).
pub fn completing_leaf(level: u32, index: u64) -> u64 {
    index
        .saturating_add(1)
        .checked_shl(level)
        .unwrap_or(u64::MAX)
        .saturating_sub(1)
}

/// The right edge of a growing tree: the roots of its complete subtrees, one per set bit of its
/// size, largest first. Appending a leaf costs O(1) amortised hashes; the root costs O(log n).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Frontier {
    size: u64,
    nodes: Vec<Digest>,
}

/// The complete subtrees of a tree of `size` leaves, largest first, as (level, index).
pub fn frontier_positions(size: u64) -> impl Iterator<Item = (u32, u64)> {
    let mut start = 0u64;
    (0..64u32).rev().filter_map(move |level| {
        if size & (1 << level) == 0 {
            return None;
        }
        let position = (level, start >> level);
        start += 1 << level;
        Some(position)
    })
}

impl Frontier {
    /// The frontier of the empty tree.
    pub fn new() -> Frontier {
        Frontier::default()
    }

    /// The frontier of a tree of `size` leaves, its nodes read from `nodes`.
    pub fn load<N: Nodes>(size: u64, nodes: &N) -> Result<Frontier, N::Error> {
        let nodes = frontier_positions(size)
            .map(|(level, index)| nodes.node(level, index))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Frontier { size, nodes })
    }

    /// The frontier of a tree of `size` leaves from its complete subtrees' roots, largest
    /// first; `None` if there are not exactly as many as `size` has set bits.
    pub fn from_nodes(size: u64, nodes: Vec<Digest>) -> Option<Frontier> {
        (nodes.len() == size.count_ones() as usize).then_some(Frontier { size, nodes })
    }

    /// The number of leaves.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Appends a leaf hash; returns the nodes it completes: the leaf itself (level 0), then
    /// each parent that is now complete (levels 1, 2, ...).
    pub fn push(&mut self, hasher: &dyn TreeHasher, leaf: Digest) -> Vec<Digest> {
        let mut completed = Vec::new();
        self.push_into(hasher, leaf, &mut completed);
        completed
    }

    /// [`Frontier::push`], the completed nodes written into `completed` (cleared first): no
    /// allocation per leaf when the caller reuses it.
    pub fn push_into(
        &mut self,
        hasher: &dyn TreeHasher,
        leaf: Digest,
        completed: &mut Vec<Digest>,
    ) {
        completed.clear();
        completed.push(leaf);
        let mut node = leaf;
        let mut size = self.size;
        while size & 1 == 1 {
            let left = self.nodes.pop().unwrap_or(node);
            node = hasher.hash_children(&left, &node);
            completed.push(node);
            size >>= 1;
        }
        self.nodes.push(node);
        self.size += 1;
    }

    /// The tree hash.
    pub fn root(&self, hasher: &dyn TreeHasher) -> Digest {
        let mut nodes = self.nodes.iter().rev();
        let Some(last) = nodes.next() else {
            return hasher.empty_root();
        };
        nodes.fold(*last, |right, left| hasher.hash_children(left, &right))
    }

    /// The complete subtrees' roots, largest first.
    pub fn nodes(&self) -> &[Digest] {
        &self.nodes
    }
}

/// Verifies that `leaf_hash` is leaf `index` of the tree of `size` leaves whose hash is `root`
/// (RFC 9162, 2.1.3.2). Hashes are byte slices so that a wrong length is an error, not a panic.
pub fn verify_inclusion(
    hasher: &dyn TreeHasher,
    index: u64,
    size: u64,
    leaf_hash: &[u8],
    proof: &[&[u8]],
    root: &[u8],
) -> Result<(), ProofError> {
    if index >= size {
        return Err(ProofError::IndexOutOfRange { index, size });
    }
    let expected = inclusion_length(index, size);
    if proof.len() != expected {
        return Err(ProofError::WrongLength {
            actual: proof.len(),
            expected,
        });
    }
    let (leaf_hash, root) = (digest(leaf_hash)?, digest(root)?);
    let (mut f_n, mut s_n) = (index, size - 1);
    let mut r = leaf_hash;
    for element in proof {
        let p = digest(element)?;
        if s_n == 0 {
            return Err(ProofError::WrongLength {
                actual: proof.len(),
                expected,
            });
        }
        if f_n & 1 == 1 || f_n == s_n {
            r = hasher.hash_children(&p, &r);
            if f_n & 1 == 0 {
                while f_n & 1 == 0 && f_n != 0 {
                    f_n >>= 1;
                    s_n >>= 1;
                }
            }
        } else {
            r = hasher.hash_children(&r, &p);
        }
        f_n >>= 1;
        s_n >>= 1;
    }
    if s_n == 0 && r == root {
        Ok(())
    } else {
        Err(ProofError::RootMismatch)
    }
}

/// How many hashes an inclusion proof of `index` in a tree of `size` has.
fn inclusion_length(index: u64, size: u64) -> usize {
    let inner = 64 - (index ^ (size - 1)).leading_zeros() as usize;
    let border = (index >> inner).count_ones() as usize;
    inner + border
}

/// Verifies that the tree of `size1` leaves with hash `root1` is a prefix of the tree of `size2`
/// leaves with hash `root2` (RFC 9162, 2.1.4.2).
pub fn verify_consistency(
    hasher: &dyn TreeHasher,
    size1: u64,
    size2: u64,
    root1: &[u8],
    root2: &[u8],
    proof: &[&[u8]],
) -> Result<(), ProofError> {
    if size2 < size1 {
        return Err(ProofError::Shrunk { size1, size2 });
    }
    if size1 == 0 {
        return Err(ProofError::FromEmpty);
    }
    if size1 == size2 {
        // The same tree: nothing to prove but that the roots are the same bytes.
        if !proof.is_empty() {
            return Err(ProofError::WrongLength {
                actual: proof.len(),
                expected: 0,
            });
        }
        return if root1 == root2 {
            Ok(())
        } else {
            Err(ProofError::RootMismatch)
        };
    }
    let (root1, root2) = (digest(root1)?, digest(root2)?);
    let mut path: Vec<Digest> = proof
        .iter()
        .map(|element| digest(element))
        .collect::<Result<_, _>>()?;
    if path.is_empty() {
        return Err(ProofError::WrongLength {
            actual: 0,
            expected: 1,
        });
    }
    if size1.is_power_of_two() {
        path.insert(0, root1);
    }
    let (mut f_n, mut s_n) = (size1 - 1, size2 - 1);
    while f_n & 1 == 1 {
        f_n >>= 1;
        s_n >>= 1;
    }
    let (mut f_r, mut s_r) = (path[0], path[0]);
    for c in &path[1..] {
        if s_n == 0 {
            return Err(ProofError::WrongLength {
                actual: proof.len(),
                expected: proof.len() - 1,
            });
        }
        if f_n & 1 == 1 || f_n == s_n {
            f_r = hasher.hash_children(c, &f_r);
            s_r = hasher.hash_children(c, &s_r);
            if f_n & 1 == 0 {
                while f_n & 1 == 0 && f_n != 0 {
                    f_n >>= 1;
                    s_n >>= 1;
                }
            }
        } else {
            s_r = hasher.hash_children(&s_r, c);
        }
        f_n >>= 1;
        s_n >>= 1;
    }
    if s_n == 0 && f_r == root1 && s_r == root2 {
        Ok(())
    } else {
        Err(ProofError::RootMismatch)
    }
}

impl fmt::Display for Blake3TreeHasher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "BLAKE3 ({LEAF_CONTEXT} / {NODE_CONTEXT})")
    }
}
