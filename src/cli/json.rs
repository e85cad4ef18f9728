//! The JSON the CLI prints with `--json`: one type per result, and the error shape.
//!
//! A contract for scripts: schemas/output/ is generated from these types (tests/schemas.rs
//! fails if the checked-in files drift). Every result has `"ok": true`; every failure is an
//! [`ErrorResult`] with `"ok": false` and the process's exit code.

use crate::intake::shape::{EventJson, HashHex, Instant};
use schemars::JsonSchema;
use serde::Serialize;

/// A ledger folder was created.
#[derive(Serialize, JsonSchema)]
pub struct InitResult {
    /// Always true.
    #[schemars(extend("const" = true))]
    pub ok: bool,
    /// The folder.
    pub ledger: String,
    /// The origin name in the genesis.
    pub origin: String,
    /// The creation time in the genesis.
    pub created_at: Instant,
    /// The genesis hash: the previous hash of record 1.
    pub genesis_hash: HashHex,
}

/// The last record of a log.
#[derive(Serialize, JsonSchema)]
pub struct HeadRef {
    /// Its sequence (0 for an empty log).
    pub sequence: u64,
    /// Its hash (the genesis hash for an empty log).
    pub hash: HashHex,
}

/// What happened to one event of a batch.
#[derive(Serialize, JsonSchema)]
pub struct AppendedEvent {
    /// The event id.
    pub event_id: String,
    /// Where it is recorded.
    pub sequence: u64,
    /// False if it was already recorded with identical content (nothing appended for it).
    pub appended: bool,
}

/// A batch was appended durably.
#[derive(Serialize, JsonSchema)]
pub struct AppendResult {
    /// Always true.
    #[schemars(extend("const" = true))]
    pub ok: bool,
    /// Events appended now.
    pub appended: u64,
    /// Events already recorded with identical content.
    pub already_recorded: u64,
    /// Whether the derived data (index, places, Merkle nodes, projections) was brought up to date
    /// after the log acknowledged the append. False is not a failed append: the events are
    /// recorded; the derived data is caught up from the log later.
    pub derived_up_to_date: bool,
    /// Why the derived data could not be brought up to date, if it could not.
    pub derived_error: Option<String>,
    /// The head after the append.
    pub head: HeadRef,
    /// One entry per event, in input order.
    pub events: Vec<AppendedEvent>,
}

/// A file was checked without appending.
#[derive(Serialize, JsonSchema)]
pub struct ValidateResult {
    /// Always true.
    #[schemars(extend("const" = true))]
    pub ok: bool,
    /// The file.
    pub file: String,
    /// Valid events in it.
    pub events: u64,
    /// The ledger references were also looked up in, if there was one.
    pub references_checked_in: Option<String>,
}

/// A record as printed.
#[derive(Serialize, JsonSchema)]
pub struct RecordJson {
    /// Its position in the log, from 1.
    pub sequence: u64,
    /// Its hash (BLAKE3 over its stored bytes, verified when read).
    pub hash: HashHex,
    /// The previous record's hash (the genesis hash for record 1).
    pub previous_hash: HashHex,
    /// When the ledger learned the event.
    pub recorded_at: Instant,
    /// Who appended it.
    pub appended_by: String,
    /// The event schema version of its bytes.
    pub schema_version: u16,
    /// The event.
    pub event: EventJson,
}

/// Records, oldest first.
#[derive(Serialize, JsonSchema)]
pub struct LogResult {
    /// Always true.
    #[schemars(extend("const" = true))]
    pub ok: bool,
    /// The last sequence of the log.
    pub head_sequence: u64,
    /// The records listed.
    pub records: Vec<RecordJson>,
}

/// One record.
#[derive(Serialize, JsonSchema)]
pub struct ShowResult {
    /// Always true.
    #[schemars(extend("const" = true))]
    pub ok: bool,
    /// The record.
    pub record: RecordJson,
}

/// The head of a ledger.
#[derive(Serialize, JsonSchema)]
pub struct HeadResult {
    /// Always true.
    #[schemars(extend("const" = true))]
    pub ok: bool,
    /// The ledger's origin name.
    pub origin: String,
    /// The last sequence (0 for an empty log).
    pub sequence: u64,
    /// Its hash.
    pub hash: HashHex,
    /// Its recorded time (null for an empty log).
    pub recorded_at: Option<Instant>,
    /// The genesis hash.
    pub genesis_hash: HashHex,
}

/// A verification whose log is internally consistent, with its verdict against a checkpoint.
#[derive(Serialize, JsonSchema)]
pub struct VerifyResult {
    /// True for "ok" and "unanchored"; false for "truncated" and "diverged".
    pub ok: bool,
    /// "ok": the ledger extends the checkpoint given; "unanchored": internally consistent, no
    /// checkpoint given; "truncated": the ledger is shorter than the checkpoint; "diverged": the
    /// ledger contradicts the checkpoint (rewritten history, a fork, or another log).
    #[schemars(extend("enum" = ["ok", "unanchored", "truncated", "diverged"]))]
    pub verdict: &'static str,
    /// The process's exit code: 0 ok, 3 unanchored, 4 truncated, 5 diverged.
    #[schemars(extend("enum" = [0, 3, 4, 5]))]
    pub exit_code: u8,
    /// Whether the log was checked against a checkpoint held outside the ledger.
    pub anchored: bool,
    /// Records checked.
    pub records: u64,
    /// The head hash they chain to.
    pub head_hash: HashHex,
    /// The genesis hash they chain from.
    pub genesis_hash: HashHex,
    /// The ledger's origin name.
    pub origin: String,
    /// The Merkle tree hash of all the records, recomputed from their bytes.
    pub tree_root: HashHex,
    /// Checkpoints the ledger keeps that were checked against the records (all of them).
    pub checkpoints_checked: u64,
    /// Whether only the log was checked (`--log-only`): the derived trees answers come from
    /// (index, places, Merkle nodes, projections) were not.
    pub log_only: bool,
    /// Whether the log-derived trees (event-id index, record places, Merkle nodes) were checked
    /// against the records (and matched).
    pub derived_checked: bool,
    /// With `--sources`: stored snapshot files re-read, each found to imply exactly the events
    /// recorded from it; otherwise null.
    pub sources_checked: Option<u64>,
    /// Whether the stored projections were also compared with a replay of the log (and matched).
    pub projections_checked: bool,
    /// Bytes found after the durable head (never acknowledged; cut when the ledger next opens for
    /// writing): file, offset and length of each piece.
    pub unacknowledged_tail: Vec<TailJson>,
    /// What catching the derived store up found (e.g. it was rebuilt from the log, and why).
    pub notes: Vec<String>,
    /// The checkpoint given with --checkpoint.
    pub checkpoint: Option<CheckpointJson>,
    /// Whether its signature was checked (a key was given).
    pub signature_checked: bool,
    /// With `--witness-key`: the witnesses whose cosignature on the checkpoint verified
    /// (`<name>+<key id>`); empty otherwise.
    pub cosigned_by: Vec<String>,
    /// The verdict in words, with the evidence.
    pub detail: String,
}

/// Bytes after the durable head of the log.
#[derive(Serialize, JsonSchema)]
pub struct TailJson {
    /// The file, relative to the ledger folder.
    pub file: String,
    /// The first byte after what is acknowledged.
    pub offset: u64,
    /// How many bytes.
    pub bytes: u64,
    /// Where they were kept when cut, relative to the ledger folder (null: not cut).
    pub kept_as: Option<String>,
}

/// A signed checkpoint.
#[derive(Serialize, JsonSchema)]
pub struct CheckpointJson {
    /// Its number in the ledger that issued it (when listed from a ledger).
    pub number: Option<u64>,
    /// The origin line: the log it is of, by genesis hash.
    pub origin: String,
    /// The number of records it commits to.
    pub size: u64,
    /// The Merkle tree hash of those records (hex).
    pub root: HashHex,
    /// The hash of its last record (the genesis hash for an empty log).
    pub head: HashHex,
    /// When it was made.
    pub time: Instant,
    /// The ledger's origin name.
    pub ledger: String,
    /// Who signed it: `name+key id` per signature.
    pub signed_by: Vec<String>,
    /// The signed note, exactly.
    pub text: String,
}

/// A key pair was made.
#[derive(Serialize, JsonSchema)]
pub struct KeygenResult {
    /// Always true.
    #[schemars(extend("const" = true))]
    pub ok: bool,
    /// The key's name.
    pub name: String,
    /// Its id: 8 hex digits.
    pub key_id: String,
    /// The public key to pin: `<name>+<key id>+<base64>`.
    pub public_key: String,
    /// Where the public key was written.
    pub public_key_file: String,
    /// Where the secret key was written (mode 0600).
    pub secret_key_file: String,
}

/// A checkpoint was signed and kept.
#[derive(Serialize, JsonSchema)]
pub struct CheckpointResult {
    /// Always true.
    #[schemars(extend("const" = true))]
    pub ok: bool,
    /// The checkpoint.
    pub checkpoint: CheckpointJson,
    /// Records re-read from the store and re-hashed before signing.
    pub records_rechecked: u64,
    /// Where the checkpoint was also written, if --out was given.
    pub written_to: Option<String>,
}

/// The checkpoints a ledger has issued.
#[derive(Serialize, JsonSchema)]
pub struct CheckpointsResult {
    /// Always true.
    #[schemars(extend("const" = true))]
    pub ok: bool,
    /// Oldest first.
    pub checkpoints: Vec<CheckpointJson>,
}

/// A proof that checked out.
#[derive(Serialize, JsonSchema)]
pub struct ProofCheckResult {
    /// Always true (a rejected proof is an error with exit code 1).
    #[schemars(extend("const" = true))]
    pub ok: bool,
    /// Always "proven".
    #[schemars(extend("const" = "proven"))]
    pub verdict: &'static str,
    /// "inclusion" or "consistency".
    #[schemars(extend("enum" = ["inclusion", "consistency"]))]
    pub proof: &'static str,
    /// For an inclusion proof: the record's sequence.
    pub sequence: Option<u64>,
    /// For an inclusion proof: the record's hash.
    pub record_hash: Option<HashHex>,
    /// For an inclusion proof: the event's id.
    pub event_id: Option<String>,
    /// The checkpoint proven against (the later one for consistency).
    pub checkpoint: CheckpointJson,
    /// For a consistency proof: the earlier checkpoint.
    pub from_checkpoint: Option<CheckpointJson>,
    /// What was proven, in words.
    pub detail: String,
}

/// Two checkpoints compared.
#[derive(Serialize, JsonSchema)]
pub struct CompareResult {
    /// False when they prove a fork.
    pub ok: bool,
    /// "same": identical trees; "consistent": the first is a prefix of the second (a valid
    /// consistency proof was given); "forked": both validly signed, same size, different
    /// roots (proof the operator forked the log); "undecided": sizes differ and no valid
    /// consistency proof was given.
    #[schemars(extend("enum" = ["same", "consistent", "forked", "undecided"]))]
    pub verdict: &'static str,
    /// The process's exit code: 0 same or consistent, 3 undecided, 5 forked.
    #[schemars(extend("enum" = [0, 3, 5]))]
    pub exit_code: u8,
    /// The first checkpoint.
    pub first: CheckpointJson,
    /// The second checkpoint.
    pub second: CheckpointJson,
    /// The verdict in words, with the evidence.
    pub detail: String,
}

/// A bundle was written.
#[derive(Serialize, JsonSchema)]
pub struct ExportResult {
    /// Always true.
    #[schemars(extend("const" = true))]
    pub ok: bool,
    /// With `--with-sources`: snapshot files copied into FILE.sources/; otherwise null.
    pub sources: Option<u64>,
    /// The file.
    pub file: String,
    /// The first record's sequence.
    pub first: u64,
    /// Records in it.
    pub records: u64,
    /// Its size in bytes.
    pub bytes: u64,
    /// The checkpoint its records are proven against.
    pub checkpoint: CheckpointJson,
}

/// A tiles folder written or brought up to date (`tiles`).
#[derive(Serialize, JsonSchema)]
pub struct TilesResult {
    /// Always true.
    #[schemars(extend("const" = true))]
    pub ok: bool,
    /// The folder.
    pub out: String,
    /// The records the published checkpoint commits to.
    pub size: u64,
    /// The records the folder's checkpoint committed to before (0: a new folder).
    pub previous_size: u64,
    /// Hash tiles written (`tile/<L>/...`).
    pub hash_tiles: u64,
    /// Entry bundles written (`tile/entries/...`).
    pub entry_bundles: u64,
    /// Tiles already in the folder with the bytes they should have (left as they were).
    pub unchanged: u64,
    /// Bytes written, with the checkpoint and the genesis.
    pub bytes: u64,
    /// The checkpoint published (the folder's `checkpoint` file).
    pub checkpoint: CheckpointJson,
}

/// A tiles folder checked against the ledger (`tiles --check`).
#[derive(Serialize, JsonSchema)]
pub struct TilesCheckResult {
    /// True if every tile holds the ledger's bytes (exit 0); false otherwise (exit 1).
    pub ok: bool,
    /// The folder.
    pub out: String,
    /// The size of the folder's checkpoint.
    pub size: u64,
    /// Tiles compared.
    pub tiles: u64,
    /// Each missing or different file: `<path>: <why>`.
    pub wrong: Vec<String>,
}

/// What `follow` found and did.
#[derive(Serialize, JsonSchema)]
pub struct FollowResult {
    /// True for OK; false for TRUNCATED or DIVERGED (nothing appended, evidence saved).
    pub ok: bool,
    /// OK, TRUNCATED (the source rolled back) or DIVERGED (it forked, rewrote, or is another log).
    #[schemars(extend("enum" = ["OK", "TRUNCATED", "DIVERGED"]))]
    pub verdict: &'static str,
    /// The process's exit code: 0, 4 or 5.
    pub exit_code: u8,
    /// The tiles URL or folder followed.
    pub source: String,
    /// The mirror's ledger folder.
    pub mirror: String,
    /// Whether this run created the mirror.
    pub created: bool,
    /// The mirror's records before.
    pub before: u64,
    /// Records appended by this run.
    pub appended: u64,
    /// The mirror's records now.
    pub records: u64,
    /// Entry bundles fetched.
    pub bundles: u64,
    /// Bytes fetched.
    pub bytes: u64,
    /// The source's checkpoint the mirror now keeps (OK only).
    pub checkpoint: Option<CheckpointJson>,
    /// The witnesses of `--witness-key` whose cosignature on it verified (`<name>+<key id>`).
    pub cosigned_by: Vec<String>,
    /// The folder with both signed checkpoints and the verdict (TRUNCATED, DIVERGED only).
    pub evidence: Option<String>,
    /// What was found, for people.
    pub detail: String,
}

/// A bundle checked out.
#[derive(Serialize, JsonSchema)]
pub struct BundleCheckResult {
    /// Always true (a rejected bundle is an error with exit code 1).
    #[schemars(extend("const" = true))]
    pub ok: bool,
    /// When FILE.sources/ is beside the bundle: the snapshot files in it, each hashing to the
    /// BLAKE3 a snapshot event of the bundle records (exactly those); otherwise null.
    pub sources_checked: Option<u64>,
    /// Always "valid".
    #[schemars(extend("const" = "valid"))]
    pub verdict: &'static str,
    /// The file.
    pub file: String,
    /// The first record's sequence.
    pub first: u64,
    /// Records checked.
    pub records: u64,
    /// Its size in bytes.
    pub bytes: u64,
    /// The ledger's origin name.
    pub origin: String,
    /// The genesis hash.
    pub genesis_hash: HashHex,
    /// The checkpoint the records are proven against.
    pub checkpoint: CheckpointJson,
}

/// A ledger folder was rebuilt from a bundle.
#[derive(Serialize, JsonSchema)]
pub struct RestoreResult {
    /// Always true.
    #[schemars(extend("const" = true))]
    pub ok: bool,
    /// Snapshot files restored into the ledger's sources/ from FILE.sources/, if it was there.
    pub sources: Option<u64>,
    /// The new folder.
    pub ledger: String,
    /// Records restored.
    pub records: u64,
    /// The head.
    pub head: HeadRef,
    /// The checkpoint the bundle was proven against (kept in the new ledger).
    pub checkpoint: CheckpointJson,
}

/// A list file imported (or, with --dry-run, planned).
#[derive(Serialize, JsonSchema)]
pub struct ImportResult {
    /// Always true.
    #[schemars(extend("const" = true))]
    pub ok: bool,
    /// Set when the import is durable but bringing derived data up to date failed.
    pub derived_error: Option<String>,
    /// What was read, planned and appended.
    #[serde(flatten)]
    pub report: crate::import::plan::ImportReport,
}

/// The projections were rebuilt from the log.
#[derive(Serialize, JsonSchema)]
pub struct RebuildResult {
    /// Always true.
    #[schemars(extend("const" = true))]
    pub ok: bool,
    /// Records replayed.
    pub records: u64,
    /// Where a derived store that could not be opened was moved (never deleted), if one was.
    pub moved_aside: Option<String>,
}

/// One problem with an input.
#[derive(Serialize, JsonSchema)]
pub struct ProblemJson {
    /// The file, or `<stdin>`.
    pub file: String,
    /// 1-based line, where one applies.
    pub line: Option<u64>,
    /// JSON pointer (RFC 6901) within the event; empty for the whole line.
    pub pointer: String,
    /// What is wrong, and what would be valid.
    pub reason: String,
}

/// The first damage verification found.
#[derive(Serialize, JsonSchema)]
pub struct VerifyFailureJson {
    /// Always "failed".
    #[schemars(extend("const" = "failed"))]
    pub verdict: &'static str,
    /// The kind of damage.
    #[schemars(extend("enum" = ["hash_mismatch", "broken_link", "gap", "misplaced", "undecodable", "time_went_back", "head_mismatch", "index_mismatch", "merkle_mismatch", "checkpoint_mismatch", "unreadable", "frame_damaged", "segment_damaged", "projection_mismatch"]))]
    pub kind: &'static str,
    /// The sequence of the first bad record (0 for the genesis or metadata).
    pub sequence: u64,
    /// The file holding the damage, relative to the ledger folder (when it is located in one).
    pub file: Option<String>,
    /// The byte offset of the damage in that file.
    pub offset: Option<u64>,
    /// The hash the ledger stores or expects, where one applies.
    pub stored_hash: Option<HashHex>,
    /// The hash recomputed from stored bytes, where one applies.
    pub actual_hash: Option<HashHex>,
    /// Evidence in words.
    pub detail: String,
}

/// Every kind of failure the command line and the server report (`ErrorJson::kind`).
pub const ERROR_KINDS: [&str; 34] = [
    // Input and arguments.
    "usage",
    "invalid_input",
    "not_found",
    "conflict",
    "unknown_reference",
    "duplicate_in_batch",
    "recorded_time_went_back",
    "refused",
    "older_snapshot",
    "bad_checkpoint",
    // The ledger folder and its storage.
    "not_a_ledger",
    "already_exists",
    "old_layout",
    "in_use",
    "storage_full",
    "incomplete",
    "log_io",
    "derived_store",
    "damaged",
    "projection",
    "evidence",
    // Negative answers.
    "verification_failed",
    "proof_rejected",
    "bundle_rejected",
    // The HTTP service.
    "unauthorized",
    "forbidden",
    "too_large",
    "busy",
    "precondition_failed",
    "timeout",
    "not_acceptable",
    "unsupported_media_type",
    "not_configured",
    "method_not_allowed",
];

/// What went wrong.
#[derive(Serialize, JsonSchema)]
pub struct ErrorJson {
    /// A stable name for the kind of failure.
    #[schemars(extend("enum" = ERROR_KINDS.as_slice()))]
    pub kind: &'static str,
    /// The message a person reads.
    pub message: String,
    /// Every problem found in the input (empty when the failure is not about input).
    pub problems: Vec<ProblemJson>,
    /// For a failed verification: the evidence.
    pub verify: Option<VerifyFailureJson>,
}

/// Any failure: exit code 1 (a negative answer) or 2 (an error).
#[derive(Serialize, JsonSchema)]
pub struct ErrorResult {
    /// Always false.
    #[schemars(extend("const" = false))]
    pub ok: bool,
    /// The process's exit code.
    #[schemars(extend("enum" = [1, 2]))]
    pub exit_code: u8,
    /// What went wrong.
    pub error: ErrorJson,
}

/// The quickstart built (or found) its ledger and verified it.
#[derive(Serialize, JsonSchema)]
pub struct QuickstartResult {
    /// Always true.
    #[schemars(extend("const" = true))]
    pub ok: bool,
    /// The ledger folder.
    pub ledger: String,
    /// The bundled dataset it was built from.
    pub dataset: &'static str,
    /// Events in the dataset.
    pub events: u64,
    /// Events appended by this run (0 when it ran before).
    pub appended: u64,
    /// Records verified.
    pub records: u64,
    /// The head hash after verification.
    pub head_hash: HashHex,
    /// The tour's state summaries: listings in force per authority on each date.
    pub states: Vec<StateSummary>,
}

/// Listings in force per authority on one date.
#[derive(Clone, Serialize, JsonSchema)]
pub struct StateSummary {
    /// The date.
    pub as_of: String,
    /// Per authority.
    pub authorities: Vec<AuthorityCount>,
}

/// How many listings one authority had in force.
#[derive(Clone, Serialize, JsonSchema)]
pub struct AuthorityCount {
    /// The authority.
    pub authority: String,
    /// Persons listed.
    pub persons: u64,
    /// Entities (and other non-persons) listed.
    pub entities: u64,
}

/// A synthetic ledger was generated.
#[derive(Serialize, JsonSchema)]
pub struct GenResult {
    /// Always true.
    #[schemars(extend("const" = true))]
    pub ok: bool,
    /// The folder.
    pub ledger: String,
    /// Events generated.
    pub events: u64,
    /// The seed.
    pub seed: u64,
    /// The head.
    pub head: HeadRef,
}

/// One record of the server's change feed (`GET /v1/records`, Accept `text/event-stream` or
/// `application/jsonl`).
#[derive(Serialize, JsonSchema)]
pub struct FeedRecord {
    /// Its sequence.
    pub sequence: u64,
    /// Its hash: BLAKE3 over `bytes` (check it), linked by `record.previous_hash`.
    pub hash: HashHex,
    /// The record's stored bytes, base64 (standard alphabet, padded).
    pub bytes: String,
    /// The record decoded, as `log --json` shows it.
    pub record: RecordJson,
}

/// A token, as `token create`, `token list` and `token revoke` show it (never its text but once).
#[derive(Serialize, JsonSchema)]
pub struct TokenJson {
    /// Its public id (the token's first part; what `token revoke` names).
    pub id: String,
    /// Who uses it: the operator of every record it appends.
    pub principal: String,
    /// What it may do: append, import, checkpoint, admin.
    pub scopes: Vec<String>,
    /// When it was created.
    pub created_at: String,
    /// When it was revoked, if it was.
    pub revoked_at: Option<String>,
}

/// A token was created.
#[derive(Serialize, JsonSchema)]
pub struct TokenCreateResult {
    /// Always true.
    #[schemars(extend("const" = true))]
    pub ok: bool,
    /// The token.
    pub token: TokenJson,
    /// Its text, shown this once (only its SHA-256 is kept): give it as `Authorization: Bearer`.
    pub secret: String,
}

/// The ledger's tokens.
#[derive(Serialize, JsonSchema)]
pub struct TokensResult {
    /// Always true.
    #[schemars(extend("const" = true))]
    pub ok: bool,
    /// Every token, revoked ones too.
    pub tokens: Vec<TokenJson>,
}

/// The server listens.
#[derive(Serialize, JsonSchema)]
pub struct ServeResult {
    /// Always true.
    #[schemars(extend("const" = true))]
    pub ok: bool,
    /// Its address, e.g. `http://127.0.0.1:8080`.
    pub listening: String,
    /// The ledger folder served.
    pub ledger: String,
}
