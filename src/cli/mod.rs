//! The command-line interface: arguments in, text or JSON out, meaningful exit codes.
//!
//! Presentation only: parses arguments (the only module that names clap), calls intake and the
//! ledger, prints. Exit codes: 0 success, 1 a negative answer (verification failed, a proof or
//! bundle rejected), 2 an error (bad input, a refused append, an unreadable or missing ledger),
//! 3 unanchored or undecided, 4 truncated, 5 diverged or forked (see `audit.rs`).

pub mod answers;
pub(crate) mod audit;
pub mod json;
pub mod output;
pub(crate) mod publish;
pub mod questions;
pub mod tour;

use std::io::{BufReader, IsTerminal};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use crate::domain::Timestamp;
use crate::intake::{self, InputFormat};
use crate::ledger::{AppendOptions, Clock, FixedClock, Ledger, LedgerError, SystemClock};
use answers::Format;
use clap::{Parser, Subcommand, ValueEnum};
use output::{Failure, Out};
use questions::Dialect;

/// The bundled example: real events of 22 March 2021 and what led to them.
pub const BUNDLED_DATASET: &str = include_str!("../../data/xinjiang-2021.jsonl");
/// The name the bundled dataset is reported under.
pub const BUNDLED_DATASET_NAME: &str = "data/xinjiang-2021.jsonl";

#[derive(Parser, Debug)]
#[command(
    name = "sanctions-ledger",
    version,
    about = "An append-only, BLAKE3 hash-chained ledger of sanctions events that auditors can verify offline",
    long_about = "An append-only, BLAKE3 hash-chained ledger of sanctions events: designations, delistings, \
renewals, amendments, counter-sanctions (retaliations), officials' statements and corrections.\n\n\
Exit codes: 0 success (verify: OK, the ledger extends the checkpoint given); 1 a negative answer \
(verification found damage, located by file and byte; a proof or bundle rejected); 2 an error \
(bad input, refused append, missing or unreadable ledger, ledger in use, full disk, unusable \
checkpoint or key); 3 UNANCHORED (verify without a checkpoint: internally consistent only) or \
UNDECIDED; 4 TRUNCATED; 5 DIVERGED or FORKED.",
    after_help = "Start with `sanctions-ledger quickstart`, then `sanctions-ledger --ledger ledger log`."
)]
struct Cli {
    /// The ledger folder.
    #[arg(
        long,
        global = true,
        env = "SANCTIONS_LEDGER_DIR",
        default_value = "ledger",
        value_name = "DIR"
    )]
    ledger: PathBuf,
    /// Print JSON for scripts (results on standard output, errors too).
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(clap::Args, Debug)]
struct KnownArgs {
    /// Count only what was recorded at or before this time: RFC 3339 (2021-03-22T12:00:00Z),
    /// or a date (2021-03-22, meaning 00:00:00 UTC that day). Default: the head.
    #[arg(long, value_name = "TIME")]
    known_at: Option<String>,
}

#[derive(clap::Args, Debug)]
struct FilterArgs {
    /// Only this authority (e.g. EU-COUNCIL).
    #[arg(long)]
    authority: Option<String>,
    /// Only this programme (e.g. EU-GHR).
    #[arg(long)]
    programme: Option<String>,
    /// Only this subject id.
    #[arg(long)]
    subject: Option<String>,
    /// Only subjects of this kind (person, entity, vessel, aircraft).
    #[arg(long)]
    kind: Option<String>,
    /// Only listings with this measure in force on the date (asset_freeze, travel_ban,
    /// entry_ban, ...).
    #[arg(long)]
    measure: Option<String>,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum FormatArg {
    /// By file name: `.json` is one event, anything else (and standard input) JSON Lines.
    Auto,
    /// One JSON event.
    Json,
    /// One JSON event per line.
    Jsonl,
}

#[derive(Subcommand, Debug)]
enum ProveCommand {
    /// Prove that record SEQ is in the tree a checkpoint commits to.
    Inclusion {
        /// The record's sequence number.
        sequence: u64,
        /// The checkpoint to prove against (default: the last one the ledger issued).
        #[arg(long, value_name = "FILE")]
        checkpoint: Option<PathBuf>,
        /// Write the proof to this new file instead of standard output.
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
    },
    /// Prove that the tree of one checkpoint is a prefix of another's.
    Consistency {
        /// The earlier checkpoint.
        #[arg(long, value_name = "FILE")]
        from: PathBuf,
        /// The later checkpoint (default: the last one the ledger issued).
        #[arg(long, value_name = "FILE")]
        to: Option<PathBuf>,
        /// Write the proof to this new file instead of standard output.
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
    },
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Create a new, empty ledger (its genesis fixes its identity).
    Init {
        /// The folder to create (default: --ledger).
        dir: Option<PathBuf>,
        /// The ledger's origin name, written into its genesis (default: the folder's name).
        #[arg(long)]
        origin: Option<String>,
    },
    /// Append a JSON event or a JSON Lines batch, all or nothing, durably.
    Append {
        /// The input file, or `-` for standard input.
        #[arg(default_value = "-")]
        file: PathBuf,
        /// How the input is laid out.
        #[arg(long, value_enum, default_value_t = FormatArg::Auto)]
        format: FormatArg,
        /// Who is appending (stored in every record).
        #[arg(long, env = "SANCTIONS_LEDGER_OPERATOR", default_value = "cli")]
        operator: String,
        /// Recorded time for the batch (RFC 3339, or YYYY-MM-DD for 00:00:00 UTC that day), when
        /// replaying an archive of past knowledge; never earlier than the head's, unless every
        /// event is already recorded identically (then nothing is appended and the time does not
        /// matter: re-running an import is safe). Default: now.
        #[arg(long, value_name = "TIME")]
        recorded_at: Option<String>,
    },
    /// Import a published list file (a snapshot): compared with the list's previous snapshot
    /// in the ledger, each new entry becomes a designation (or, for a listing the ledger
    /// already holds in force, an observation), each vanished entry a delisting inferred from
    /// absence, each changed entry an amendment; the snapshot itself is recorded as an event
    /// and the file kept under the ledger's sources/ as evidence. The same file again appends
    /// nothing (exit 0); a snapshot older than the newest imported is refused (exit 2) unless
    /// --late. Broken entries refuse the whole file (exit 2, each named with its place) unless
    /// --skip-bad.
    Import {
        /// The list file.
        file: PathBuf,
        /// Which published list: us-ofac-sdn, us-ofac-consolidated, un-sc-consolidated,
        /// uk-hmt-conlist, ca-sema, eu-fsf, or opensanctions:<dataset>.
        #[arg(long)]
        list: String,
        /// The file's format, when recognising it from the content is wrong: ofac-sdn-csv,
        /// ofac-xml, un-xml, uk-conlist-csv, uk-conlist-xlsx, ca-sema-xml, eu-fsf-xml,
        /// ftm-entities, ftm-delta.
        #[arg(long)]
        format: Option<String>,
        /// The publication date (YYYY-MM-DD), required when the file gives none (OFAC SDN CSV,
        /// Canada SEMA, OpenSanctions); must agree with the file's when it gives one.
        #[arg(long, value_name = "DATE")]
        published_on: Option<String>,
        /// Where the file was published (default: the list's usual address).
        #[arg(long, value_name = "URL")]
        source_url: Option<String>,
        /// Print what would be appended; store and append nothing.
        #[arg(long)]
        dry_run: bool,
        /// Append the rest when entries are refused; the snapshot event records what was
        /// skipped.
        #[arg(long)]
        skip_bad: bool,
        /// Record a snapshot older than the newest imported as a late observation (evidence and
        /// coverage only, no events implied).
        #[arg(long)]
        late: bool,
        /// Who is importing (stored in every record).
        #[arg(long, env = "SANCTIONS_LEDGER_OPERATOR", default_value = "cli")]
        operator: String,
    },
    /// Check an input file without appending anything (references are looked up in the
    /// ledger given by --ledger, if there is one).
    Validate {
        /// The input file, or `-` for standard input.
        #[arg(default_value = "-")]
        file: PathBuf,
        /// How the input is laid out.
        #[arg(long, value_enum, default_value_t = FormatArg::Auto)]
        format: FormatArg,
    },
    /// List records, oldest first.
    Log {
        /// First sequence to list.
        #[arg(long, default_value_t = 1)]
        from: u64,
        /// Most records to list.
        #[arg(long, default_value_t = crate::limits::LOG_PAGE_RECORDS_DEFAULT)]
        limit: u64,
    },
    /// Show one record and its event.
    Show {
        /// The record's sequence number.
        sequence: u64,
    },
    /// Show the head: the last sequence and its hash.
    Head,
    /// Re-hash and re-link the whole log (every core), then check everything derived from it
    /// (index, record places, Merkle tree, projections), and the log against a checkpoint you
    /// kept. Verdicts: OK (exit 0: it extends the checkpoint), UNANCHORED (3: internally
    /// consistent, no checkpoint given), TRUNCATED (4), DIVERGED (5); damage exits 1, naming the
    /// first damage found, its file and byte. Writes nothing to the log.
    Verify {
        /// Check only the log (its records, links, framing, head and kept checkpoints), not the
        /// derived data answers come from; the verdict says so.
        #[arg(long)]
        log_only: bool,
        /// Also re-read every stored list snapshot file (sources/) and check that it implies
        /// exactly the events recorded from it; a changed or missing file fails (exit 1), named.
        #[arg(long)]
        sources: bool,
        /// Accepted for compatibility: the projections are always checked unless --log-only.
        #[arg(long, hide = true)]
        projections: bool,
        /// A checkpoint kept from earlier: the ledger must extend it.
        #[arg(long, value_name = "FILE")]
        checkpoint: Option<PathBuf>,
        /// The operator's public key (file or text): also check the checkpoint's signature.
        #[arg(long, value_name = "PUB")]
        key: Option<String>,
        /// A witness's public key (text or file): the --checkpoint must carry its cosignature.
        /// Repeat for more; the verdict names who cosigned.
        #[arg(long = "witness-key", value_name = "VKEY", requires = "checkpoint")]
        witness_keys: Vec<String>,
        /// How many of the --witness-key witnesses must have cosigned (default: all).
        #[arg(long, value_name = "K", requires = "checkpoint")]
        witnesses_required: Option<usize>,
    },
    /// Make an Ed25519 key pair for signing checkpoints: NAME.key (secret) and NAME.pub.
    Keygen {
        /// The key's name (appears in every signature line).
        #[arg(
            long,
            required_unless_present = "for_ledger",
            conflicts_with = "for_ledger"
        )]
        name: Option<String>,
        /// Name the key as the checkpoints' origin of the ledger at --ledger
        /// (`sanctions-ledger/v2/<genesis hash>`), as C2SP asks of a log's key; witnesses and
        /// tlog clients then find it by the origin.
        #[arg(long)]
        for_ledger: bool,
        /// Where to write, without extension (default: NAME in the current folder).
        #[arg(long, value_name = "PREFIX")]
        out: Option<PathBuf>,
    },
    /// Sign and keep a checkpoint of the head (after re-reading and re-hashing the records
    /// since the last one); prints it.
    Checkpoint {
        /// The secret key from `keygen`.
        #[arg(long, value_name = "FILE")]
        key: PathBuf,
        /// Also write the checkpoint to this new file.
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
        /// A witness to cosign it (C2SP tlog-witness): its URL and its public key (text or file),
        /// as URL:VKEY. Repeat for more. The checkpoint is kept only once enough cosigned.
        #[arg(long = "witness", value_name = "URL:VKEY")]
        witnesses: Vec<String>,
        /// How many witnesses must cosign (default: all given); fewer, and nothing is kept.
        #[arg(long, value_name = "K")]
        witnesses_required: Option<usize>,
    },
    /// List every checkpoint the ledger has issued.
    Checkpoints,
    /// Print an inclusion or consistency proof (JSON, schemas/proof/).
    #[command(subcommand)]
    Prove(ProveCommand),
    /// Check a proof offline with the operator's public key: exit 0 proven, 1 rejected.
    VerifyProof {
        /// The proof file.
        file: PathBuf,
        /// The operator's public key (file or text).
        #[arg(long, value_name = "PUB")]
        key: String,
    },
    /// Compare two checkpoints: SAME or CONSISTENT (exit 0), UNDECIDED (3), or FORKED (5: both
    /// validly signed, same size, different roots; the evidence is printed).
    CompareCheckpoints {
        /// The first checkpoint file.
        first: PathBuf,
        /// The second checkpoint file.
        second: PathBuf,
        /// The operator's public key (file or text).
        #[arg(long, value_name = "PUB")]
        key: String,
        /// A consistency proof between them (for checkpoints of different sizes).
        #[arg(long, value_name = "FILE")]
        proof: Option<PathBuf>,
    },
    /// Write a self-contained bundle: records, the checkpoint they are proven against, proofs.
    Export {
        /// The new bundle file.
        #[arg(long, value_name = "FILE")]
        to: PathBuf,
        /// The first record to include (the rest up to the checkpoint follow).
        #[arg(long, value_name = "SEQ", default_value_t = 1)]
        from: u64,
        /// The checkpoint to prove against (default: the last one the ledger issued).
        #[arg(long, value_name = "FILE")]
        checkpoint: Option<PathBuf>,
        /// Also copy the stored list snapshot files of the bundle's snapshot events into the
        /// folder FILE.sources/ (verify-bundle checks them, restore keeps them).
        #[arg(long)]
        with_sources: bool,
    },
    /// Publish the log as C2SP tlog-tiles: write (or bring up to date) a folder holding the
    /// newest checkpoint, its hash tiles and entry bundles, and the genesis, for any static web
    /// server, rsync or object store. Only new tiles are written (full tiles never change); the
    /// checkpoint is written last. A folder of another log or another history is refused.
    Tiles {
        /// The tiles folder (created if missing).
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
        /// Write nothing: check that every tile of the folder's checkpoint holds the bytes the
        /// ledger gives (exit 0), or name each missing or different one (exit 1).
        #[arg(long)]
        check: bool,
    },
    /// Mirror a log published as tiles (a URL or a folder) into the ledger folder DIR
    /// (created if missing): every record checked, the tree proven against the source's signed
    /// checkpoint, then appended byte for byte. Resumable. A rollback (exit 4, TRUNCATED) or a fork
    /// or rewrite (exit 5, DIVERGED) is refused, appending nothing, with both signed
    /// checkpoints saved in DIR/forks/.
    Follow {
        /// The tiles URL (http:// or https://) or folder.
        source: String,
        /// The mirror's ledger folder.
        dir: PathBuf,
        /// The source operator's public key (file or text): its checkpoints must be signed by it.
        #[arg(long, value_name = "PUB")]
        key: String,
        /// A witness's public key (text or file, type 0x04): the source's checkpoint must carry
        /// its cosignature (C2SP tlog-cosignature). Repeat for more.
        #[arg(long = "witness-key", value_name = "VKEY")]
        witness_keys: Vec<String>,
        /// How many of the --witness-key witnesses must have cosigned (default: all).
        #[arg(long, value_name = "K")]
        witnesses_required: Option<usize>,
    },
    /// Check a bundle with no ledger: exit 0 valid, 1 rejected.
    VerifyBundle {
        /// The bundle file.
        file: PathBuf,
        /// The operator's public key (file or text).
        #[arg(long, value_name = "PUB")]
        key: String,
    },
    /// Rebuild a ledger folder from a full bundle (checked first; byte-identical records).
    Restore {
        /// The bundle file.
        file: PathBuf,
        /// The new ledger folder.
        dir: PathBuf,
        /// The operator's public key (file or text).
        #[arg(long, value_name = "PUB")]
        key: String,
    },
    /// The listings in force on a date, as known at a time, and why. A listing past its end
    /// date with no renewal or delisting recorded after it is not in force, and the answer
    /// warns ("no decision recorded"): that is a gap in what the ledger knows, not a fact.
    State {
        /// The effective date (YYYY-MM-DD).
        #[arg(long, value_name = "DATE")]
        as_of: String,
        #[command(flatten)]
        known: KnownArgs,
        #[command(flatten)]
        filter: FilterArgs,
        /// How to print the answer.
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// A subject's timeline across all authorities, with its periods in force. Every record
    /// about it is shown, retracted or superseded ones too (with the correction that decided).
    /// A subject no record known at --known-at names is an error (exit 2) that says whether it
    /// is recorded later (and when) or not at all.
    History {
        /// The subject id (find it with `subjects`).
        subject: String,
        #[command(flatten)]
        known: KnownArgs,
        /// Judge lapses as of this date (default: today).
        #[arg(long, value_name = "DATE")]
        today: Option<String>,
        /// How to print the answer.
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// What came into force, left force (and why) or changed between two dates. --from must not
    /// be after --to (refused, exit 2). A listing that left force because its end date passed
    /// with no decision recorded says so, with a warning.
    Diff {
        /// The first date (YYYY-MM-DD).
        #[arg(long, value_name = "DATE")]
        from: String,
        /// The second date (YYYY-MM-DD).
        #[arg(long, value_name = "DATE")]
        to: String,
        #[command(flatten)]
        known: KnownArgs,
        #[command(flatten)]
        filter: FilterArgs,
        /// How to print the answer.
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// What an event answers and what answered it, followed transitively.
    Links {
        /// The event id.
        event: String,
        #[command(flatten)]
        known: KnownArgs,
        /// How to print the answer (`dot` draws the graph with Graphviz).
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// Find subjects by any of their names as screeners type them: word order, commas and other
    /// punctuation, case, accents and script variants (full-width letters, Traditional or
    /// Simplified Chinese) do not matter. Exact matches first; shows which name matched.
    Subjects {
        /// A name or part of one, e.g. `"Shohrat Zakir"`, `sakaliene` or `王君正`.
        query: String,
        /// How to print the answer.
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// Rebuild the derived store (event-id index, record places, Merkle tree, projections) from
    /// the log; a store sled cannot open is moved aside first (never deleted).
    Rebuild,
    /// Build a synthetic ledger (realistic mix of events, recorded over 25 years) for
    /// benchmarks and exploration. Deterministic for a seed.
    Gen {
        /// How many events.
        #[arg(long)]
        events: u64,
        /// The seed.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// The folder to create.
        dir: PathBuf,
    },
    /// Build a ledger from the bundled Xinjiang 2021 dataset, verify it, and tour it.
    Quickstart,
    /// Serve the ledger over HTTP: public reads (the same JSON as --json), writes with bearer
    /// tokens, a change feed, and a web view at /; see the README's "The ledger as a service".
    #[command(long_about = SERVE_ABOUT)]
    Serve(ServeArgs),
    /// Create, list and revoke the bearer tokens `serve` accepts for writes.
    #[command(subcommand)]
    Token(TokenCommand),
}

const SERVE_ABOUT: &str = "Serve the ledger over HTTP/1.1 (tokio, hyper, axum).\n\n\
Reads are public: GET /v1/head, /v1/state?as_of=DATE, /v1/history/SUBJECT, /v1/diff?from=&to=, \
/v1/links/EVENT, /v1/subjects?q=, /v1/records?from=SEQ (a page; with Accept: text/event-stream or \
application/jsonl, the change feed), /v1/records/SEQ, /v1/checkpoints, /v1/proofs/inclusion/SEQ, \
/v1/proofs/consistency?from=N, /v1/bundle, /v1/openapi.json. They answer with the same JSON as the \
command line's --json. Writes need `Authorization: Bearer TOKEN` (`sanctions-ledger token create`): \
POST /v1/events (scope append), POST /v1/imports?list=LIST (import), POST /v1/checkpoints \
(checkpoint; needs --key). One writer commits what has queued as one group, one fsync; each \
request is answered after its records are durable. Errors are schemas/output/error.schema.json \
with a matching status (400 bad input, 401/403 token, 404 unknown, 409 conflict, 412 If-Match, \
413 too large, 503 busy, with Retry-After).\n\n\
The web view for people: GET / (overview), /state?as_of=DATE, /diff?from=&to=, /subject/SUBJECT, \
/subjects?q=, /graph (who answered whom), /event/SEQ (the record, with its inclusion proof checked \
in the browser against the key of --public-key, or of --key). HTML rendered on the server; every \
table works without JavaScript; nothing is loaded from elsewhere.\n\n\
TLS: the server speaks plain HTTP and listens on loopback only, unless --public. To publish it, \
put a TLS-terminating reverse proxy in front on the same machine (for example nginx with \
`proxy_pass http://127.0.0.1:8080;`, `proxy_buffering off;` for the change feed, and \
`client_max_body_size` at least the body limits), and keep --listen on 127.0.0.1.\n\n\
SIGTERM or ctrl-c stops it gracefully: it stops accepting, answers what is in flight, flushes and \
exits 0. Exit codes: 0 stopped cleanly, 2 could not start (bad address, missing ledger, ledger in \
use, bad key).";

#[derive(clap::Args, Debug)]
struct ServeArgs {
    /// The address to listen on (port 0 picks a free one; the address is printed).
    #[arg(long, default_value = "127.0.0.1:8080", value_name = "ADDRESS")]
    listen: std::net::SocketAddr,
    /// Allow a non-loopback address (the server speaks plain HTTP: put TLS in front).
    #[arg(long)]
    public: bool,
    /// The secret key (from `keygen`) that POST /v1/checkpoints signs with.
    #[arg(long, value_name = "FILE")]
    key: Option<PathBuf>,
    /// The operator's public key (a .pub file or its text) that the web view's proof check
    /// offers its readers (default: the public half of --key).
    #[arg(long, value_name = "PUB")]
    public_key: Option<String>,
    /// Most write requests waiting for the writer (SERVER_QUEUE_REQUESTS_MAX); beyond, 503.
    #[arg(long, default_value_t = crate::limits::SERVER_QUEUE_REQUESTS_MAX, value_name = "N")]
    queue_max: usize,
    /// Most connections at once (SERVER_CONNECTIONS_MAX); beyond, 503 and closed.
    #[arg(long, default_value_t = crate::limits::SERVER_CONNECTIONS_MAX, value_name = "N")]
    connections_max: usize,
    /// Milliseconds a client may take to send its headers (SERVER_HEADER_READ_TIMEOUT_MS).
    #[arg(long, default_value_t = crate::limits::SERVER_HEADER_READ_TIMEOUT_MS, value_name = "MS")]
    header_timeout_ms: u64,
    /// Milliseconds a request may take, imports aside (SERVER_REQUEST_TIMEOUT_MS); then 408.
    #[arg(long, default_value_t = crate::limits::SERVER_REQUEST_TIMEOUT_MS, value_name = "MS")]
    request_timeout_ms: u64,
    /// Most bytes of an append's body (SERVER_APPEND_BODY_BYTES_MAX); beyond, 413.
    #[arg(long, default_value_t = crate::limits::SERVER_APPEND_BODY_BYTES_MAX, value_name = "BYTES")]
    body_bytes_max: usize,
    /// Most bytes of a query answer (SERVER_ANSWER_BYTES_MAX); beyond, 413.
    #[arg(long, default_value_t = crate::limits::SERVER_ANSWER_BYTES_MAX, value_name = "BYTES")]
    answer_bytes_max: usize,
    /// Most requests the writer commits as one group (SERVER_GROUP_REQUESTS_MAX).
    #[arg(long, default_value_t = crate::limits::SERVER_GROUP_REQUESTS_MAX, value_name = "N")]
    group_max: usize,
}

#[derive(Subcommand, Debug)]
enum TokenCommand {
    /// Make a token; its text is printed once (only its SHA-256 is kept in LEDGER/tokens.json).
    Create {
        /// Who uses it: stored as the operator of every record it appends.
        #[arg(long)]
        name: String,
        /// What it may do (repeat, or separate with commas): append, import, checkpoint, admin.
        #[arg(long, value_delimiter = ',', required = true)]
        scope: Vec<String>,
    },
    /// List the tokens (never their text).
    List,
    /// Revoke a token by its id (from `token list`); takes effect at the server's next request.
    Revoke {
        /// The token's id.
        id: String,
    },
}

/// Runs the CLI and returns its exit code.
pub fn run() -> ExitCode {
    crate::ledger::store::quiet_guarded_panics();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => {
            let code = if error.use_stderr() { 2 } else { 0 };
            let _ = error.print();
            return ExitCode::from(code);
        }
    };
    let mut out = Out::new(cli.json);
    let result = match &cli.command {
        Command::Init { dir, origin } => init(
            &mut out,
            dir.as_deref().unwrap_or(&cli.ledger),
            origin.as_deref(),
        ),
        Command::Append {
            file,
            format,
            operator,
            recorded_at,
        } => append(
            &mut out,
            &cli.ledger,
            file,
            *format,
            operator,
            recorded_at.as_deref(),
        ),
        Command::Import {
            file,
            list,
            format,
            published_on,
            source_url,
            dry_run,
            skip_bad,
            late,
            operator,
        } => import(
            &mut out,
            &cli.ledger,
            file,
            ImportArgs {
                list,
                format: format.as_deref(),
                published_on: published_on.as_deref(),
                source_url: source_url.as_deref(),
                dry_run: *dry_run,
                skip_bad: *skip_bad,
                late: *late,
                operator,
            },
        ),
        Command::Validate { file, format } => validate(&mut out, &cli.ledger, file, *format),
        Command::Log { from, limit } => log(&mut out, &cli.ledger, *from, *limit),
        Command::Show { sequence } => show(&mut out, &cli.ledger, *sequence),
        Command::Head => head(&mut out, &cli.ledger),
        Command::Verify {
            log_only,
            sources,
            projections: _,
            checkpoint,
            key,
            witness_keys,
            witnesses_required,
        } => publish::witness_policy(witness_keys, *witnesses_required).and_then(|policy| {
            audit::verify(
                &mut out,
                &cli.ledger,
                *log_only,
                *sources,
                checkpoint.as_deref(),
                key.as_deref(),
                &policy,
            )
        }),
        Command::Keygen {
            name,
            for_ledger,
            out: prefix,
        } => {
            let name = match name {
                Some(name) if !*for_ledger => Ok(name.clone()),
                _ => crate::ledger::Ledger::open_read(&cli.ledger)
                    .map(|ledger| {
                        crate::ledger::checkpoint::origin_of(
                            crate::ledger::merkle::TreeVersion::CURRENT,
                            &ledger.genesis_hash(),
                        )
                    })
                    .map_err(Failure::ledger),
            };
            name.and_then(|name| audit::keygen(&mut out, &name, prefix.as_deref()))
        }
        Command::Checkpoint {
            key,
            out: path,
            witnesses,
            witnesses_required,
        } => audit::checkpoint(
            &mut out,
            &cli.ledger,
            key,
            path.as_deref(),
            witnesses,
            *witnesses_required,
        ),
        Command::Checkpoints => audit::checkpoints(&mut out, &cli.ledger),
        Command::Prove(ProveCommand::Inclusion {
            sequence,
            checkpoint,
            out: path,
        }) => audit::prove_inclusion(
            &cli.ledger,
            *sequence,
            checkpoint.as_deref(),
            path.as_deref(),
        ),
        Command::Prove(ProveCommand::Consistency {
            from,
            to,
            out: path,
        }) => audit::prove_consistency(&cli.ledger, from, to.as_deref(), path.as_deref()),
        Command::VerifyProof { file, key } => audit::verify_proof(&mut out, file, key),
        Command::CompareCheckpoints {
            first,
            second,
            key,
            proof,
        } => audit::compare(&mut out, first, second, key, proof.as_deref()),
        Command::Export {
            to,
            from,
            checkpoint,
            with_sources,
        } => audit::export(
            &mut out,
            &cli.ledger,
            to,
            *from,
            checkpoint.as_deref(),
            *with_sources,
        ),
        Command::Tiles { out: dir, check } => {
            if *check {
                publish::check_tiles(&mut out, &cli.ledger, dir)
            } else {
                publish::tiles(&mut out, &cli.ledger, dir)
            }
        }
        Command::Follow {
            source,
            dir,
            key,
            witness_keys,
            witnesses_required,
        } => publish::follow(
            &mut out,
            source,
            dir,
            key,
            witness_keys,
            *witnesses_required,
        ),
        Command::VerifyBundle { file, key } => audit::verify_bundle(&mut out, file, key),
        Command::Restore { file, dir, key } => audit::restore(&mut out, file, dir, key),
        Command::State {
            as_of,
            known,
            filter,
            format,
        } => {
            let format = effective_format(cli.json, *format);
            with_query(&cli.ledger, known, true, |query| {
                let text = filter_text(filter);
                if matches!(format, answers::Format::Json | answers::Format::Csv) {
                    // Printed as answered: a full state is never held whole.
                    let (date, filter) = questions::state_question(Dialect::Cli, as_of, &text)?;
                    let mut out =
                        std::io::BufWriter::with_capacity(1 << 16, std::io::stdout().lock());
                    return match answers::state_streamed(query, date, &filter, format, &mut out) {
                        Err(crate::projection::ProjectionError::File { source, .. })
                            if source.kind() == std::io::ErrorKind::BrokenPipe =>
                        {
                            std::process::exit(0)
                        }
                        other => other.map(|()| String::new()).map_err(Failure::projection),
                    };
                }
                let answer = questions::state(query, Dialect::Cli, as_of, &text)?;
                Ok(answers::state(&answer, format))
            })
        }
        Command::History {
            subject,
            known,
            today,
            format,
        } => {
            let format = effective_format(cli.json, *format);
            with_query(&cli.ledger, known, false, |query| {
                let answer = questions::history(query, Dialect::Cli, subject, today.as_deref())?;
                Ok(answers::history(&answer, format))
            })
        }
        Command::Diff {
            from,
            to,
            known,
            filter,
            format,
        } => {
            let format = effective_format(cli.json, *format);
            with_query(&cli.ledger, known, true, |query| {
                let answer = questions::diff(query, Dialect::Cli, from, to, &filter_text(filter))?;
                Ok(answers::diff(&answer, format))
            })
        }
        Command::Links {
            event,
            known,
            format,
        } => {
            let format = effective_format(cli.json, *format);
            with_query(&cli.ledger, known, false, |query| {
                Ok(answers::links(&questions::links(query, event)?, format))
            })
        }
        Command::Subjects {
            query: text,
            format,
        } => {
            let format = effective_format(cli.json, *format);
            let known = KnownArgs { known_at: None };
            with_query(&cli.ledger, &known, false, |query| {
                Ok(answers::subjects(
                    &questions::subjects(query, text)?,
                    format,
                ))
            })
        }
        Command::Rebuild => rebuild(&mut out, &cli.ledger),
        Command::Gen { events, seed, dir } => generate(&mut out, dir, *events, *seed),
        Command::Quickstart => quickstart(&mut out, &cli.ledger),
        Command::Serve(args) => serve(&mut out, &cli.ledger, args),
        Command::Token(command) => token(&mut out, &cli.ledger, command),
    };
    match result {
        Ok(()) => out.exit_code(),
        Err(failure) => out.fail(&failure),
    }
}

/// RFC 3339 text of a recorded time, in UTC.
pub fn format_time(timestamp: Timestamp) -> String {
    timestamp.to_string()
}

fn open(path: &Path) -> Result<Ledger, Failure> {
    let ledger = Ledger::open(path).map_err(Failure::ledger)?;
    report_recovery(&ledger);
    Ok(ledger)
}

/// Says on standard error what opening found and repaired (a torn tail cut and kept aside, a
/// head marker rewritten, whole appends kept, the derived store rebuilt): never silently.
fn report_recovery(ledger: &Ledger) {
    let recovery = ledger.recovery();
    for piece in &recovery.tail {
        output::print_error_line(&format!(
            "note: {} unacknowledged byte(s) after the durable head in log/{} from byte {} (a write a crash tore) were cut{}",
            piece.bytes,
            piece.file,
            piece.offset,
            piece
                .kept_as
                .as_ref()
                .map_or(String::new(), |kept| format!(" and kept in log/{kept}"))
        ));
    }
    if recovery.recovered_records > 0 {
        output::print_error_line(&format!(
            "note: {} record(s) written whole after the durable head (the head marker had not been advanced) were kept",
            recovery.recovered_records
        ));
    }
    if let Some(damage) = &recovery.head_repaired {
        output::print_error_line(&format!(
            "note: the head marker was written again: {damage}"
        ));
    }
    if let Some(reason) = &recovery.derived_rebuilt {
        output::print_error_line(&format!(
            "note: the derived store was rebuilt from the log ({reason}); {} record(s) replayed",
            recovery.derived_caught_up
        ));
    }
}

fn init(out: &mut Out, dir: &Path, origin: Option<&str>) -> Result<(), Failure> {
    let default_origin = dir
        .file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_else(|| "ledger".to_owned());
    let ledger = Ledger::init(dir, origin.unwrap_or(&default_origin), &SystemClock)
        .map_err(Failure::ledger)?;
    out.init(dir, &ledger);
    Ok(())
}

fn input_format(file: &Path, format: FormatArg) -> InputFormat {
    match format {
        FormatArg::Json => InputFormat::Json,
        FormatArg::Jsonl => InputFormat::JsonLines,
        FormatArg::Auto if file.extension().is_some_and(|ext| ext == "json") => InputFormat::Json,
        FormatArg::Auto => InputFormat::JsonLines,
    }
}

fn read_input(file: &Path, format: FormatArg) -> Result<(intake::Batch, String), Failure> {
    let format = input_format(file, format);
    let (label, result) = if file == Path::new("-") {
        let stdin = std::io::stdin();
        (
            "<stdin>".to_owned(),
            intake::read_batch(stdin.lock(), "<stdin>", format),
        )
    } else {
        let label = file.display().to_string();
        let handle = std::fs::File::open(file)
            .map_err(|error| Failure::usage(format!("{label}: cannot open: {error}")))?;
        let result = intake::read_batch(BufReader::new(handle), &label, format);
        (label, result)
    };
    result.map(|batch| (batch, label)).map_err(Failure::input)
}

fn append(
    out: &mut Out,
    ledger_path: &Path,
    file: &Path,
    format: FormatArg,
    operator: &str,
    recorded_at: Option<&str>,
) -> Result<(), Failure> {
    let recorded_at = recorded_at
        .map(|text| questions::parse_time(Dialect::Cli, "recorded_at", text))
        .transpose()?;
    let (batch, label) = read_input(file, format)?;
    let mut ledger = open(ledger_path)?;
    let problems = intake::check_references(&batch, &label, &mut |id| {
        ledger
            .sequence_of(id.as_str())
            .map(|sequence| sequence.is_some())
    })
    .map_err(Failure::ledger)?;
    if !problems.is_empty() {
        return Err(Failure::input(problems));
    }
    let options = AppendOptions {
        appended_by: operator.to_owned(),
        recorded_at,
    };
    let report = ledger
        .append(&batch.events, &options, &SystemClock)
        .map_err(|error| Failure::append(error, &label, &batch.lines))?;
    // The append is acknowledged (durable in the log): what follows only brings derived data up
    // to date, and a failure there never reports the append as failed.
    let derived = derived_up_to_date(&mut ledger);
    out.appended(&report, derived.err().as_deref());
    Ok(())
}

/// After an acknowledged append: the derived store flushed and the projections synced. A
/// failure here never reports the append as failed (the log is the truth; `rebuild` mends).
pub(crate) fn derived_up_to_date(ledger: &mut Ledger) -> Result<(), String> {
    ledger
        .flush_derived()
        .map_err(|error| error.to_string())
        .and_then(|()| {
            crate::projection::sync(ledger)
                .map(|_| ())
                .map_err(|error| error.to_string())
        })
}

/// An import's arguments as text (from the command line or a URL).
pub struct ImportArgs<'a> {
    /// Which published list.
    pub list: &'a str,
    /// The file's format, if given.
    pub format: Option<&'a str>,
    /// The publication date, if given.
    pub published_on: Option<&'a str>,
    /// Where the file was published, if given.
    pub source_url: Option<&'a str>,
    /// Plan only.
    pub dry_run: bool,
    /// Append the rest when entries are refused.
    pub skip_bad: bool,
    /// Record an older snapshot as a late observation.
    pub late: bool,
    /// Who imports.
    pub operator: &'a str,
}

/// The import options `args` ask for, each argument checked and named the caller's way.
pub fn import_options(
    dialect: Dialect,
    args: &ImportArgs<'_>,
    file_name: String,
) -> Result<crate::import::plan::ImportOptions, Failure> {
    use crate::import::formats::Format;
    let list = crate::import::list_spec(args.list)
        .map_err(|reason| Failure::usage(format!("{}: {reason}", dialect.name("list"))))?;
    let format = args
        .format
        .map(|name| {
            Format::parse(name).ok_or_else(|| {
                Failure::usage(format!(
                    "{}: unknown format \"{name}\"; expected one of {}",
                    dialect.name("format"),
                    crate::import::formats::FORMATS
                        .map(Format::as_str)
                        .join(", ")
                ))
            })
        })
        .transpose()?;
    let published_on = args
        .published_on
        .map(|text| questions::parse_date(dialect, "published_on", text))
        .transpose()?;
    Ok(crate::import::plan::ImportOptions {
        list,
        format,
        published_on,
        source_url: args.source_url.map(ToOwned::to_owned),
        file_name,
        dry_run: args.dry_run,
        skip_bad: args.skip_bad,
        late: args.late,
        appended_by: args.operator.to_owned(),
    })
}

fn import(
    out: &mut Out,
    ledger_path: &Path,
    file: &Path,
    args: ImportArgs<'_>,
) -> Result<(), Failure> {
    use crate::import::plan;
    let options = import_options(Dialect::Cli, &args, file.display().to_string())?;
    let size = std::fs::metadata(file)
        .map_err(|error| Failure::usage(format!("{}: {error}", file.display())))?
        .len();
    if size > crate::limits::IMPORT_FILE_BYTES_MAX {
        return Err(Failure::usage(format!(
            "{}: {size} bytes; at most {} (IMPORT_FILE_BYTES_MAX)",
            file.display(),
            crate::limits::IMPORT_FILE_BYTES_MAX
        )));
    }
    let bytes = std::fs::read(file)
        .map_err(|error| Failure::usage(format!("{}: {error}", file.display())))?;
    let mut ledger = open(ledger_path)?;
    let visible = !out.is_json() && std::io::stderr().is_terminal();
    let progress = output::import_progress(visible, bytes.len() as u64, &options.file_name);
    let result = plan::import(
        &mut ledger,
        &bytes,
        &options,
        &SystemClock,
        &mut |done, total| output::import_progress_events(&progress, done, total),
    );
    progress.finish_and_clear();
    let report = result.map_err(Failure::import)?;
    let derived = derived_up_to_date(&mut ledger);
    out.imported(&report, derived.err().as_deref());
    Ok(())
}

fn validate(
    out: &mut Out,
    ledger_path: &Path,
    file: &Path,
    format: FormatArg,
) -> Result<(), Failure> {
    let (batch, label) = read_input(file, format)?;
    // Every limit an append applies: the encoded size of each event too.
    let too_large: Vec<intake::InputProblem> = batch
        .events
        .iter()
        .zip(&batch.lines)
        .filter_map(|(event, line)| {
            crate::ledger::record::encode_event(event)
                .err()
                .map(|error| intake::InputProblem {
                    file: label.clone(),
                    line: Some(*line),
                    pointer: String::new(),
                    reason: format!(
                        "the event's canonical encoding is {error}; make it smaller (fewer subjects, sources or shorter texts)"
                    ),
                })
        })
        .collect();
    if !too_large.is_empty() {
        return Err(Failure::input(too_large));
    }
    // References may name recorded events: look them up when there is a ledger to look in.
    let ledger = if ledger_path.join("log").exists() {
        let mut ledger = Ledger::open_read(ledger_path).map_err(Failure::ledger)?;
        ledger.attach_derived().map_err(Failure::ledger)?;
        Some(ledger)
    } else {
        None
    };
    let problems = intake::check_references(&batch, &label, &mut |id| match &ledger {
        Some(ledger) => ledger
            .sequence_of(id.as_str())
            .map(|sequence| sequence.is_some()),
        None => Ok(false),
    })
    .map_err(Failure::ledger)?;
    let checked_against = ledger.as_ref().map(|_| ledger_path);
    if !problems.is_empty() {
        let mut failure = Failure::input(problems);
        if checked_against.is_none() {
            failure.add_note(&format!(
                "no ledger at {}: references were looked up in the file only (give --ledger DIR)",
                ledger_path.display()
            ));
        }
        return Err(failure);
    }
    out.validated(&label, batch.events.len(), checked_against);
    Ok(())
}

fn log(out: &mut Out, ledger_path: &Path, from: u64, limit: u64) -> Result<(), Failure> {
    let mut ledger = Ledger::open_read(ledger_path).map_err(Failure::ledger)?;
    // The derived store says where records are; without it (damaged), segments are read.
    let _ = ledger.attach_derived();
    let (views, last) = output::log_views(&ledger, from, limit)?;
    out.log(&views, last);
    Ok(())
}

fn show(out: &mut Out, ledger_path: &Path, sequence: u64) -> Result<(), Failure> {
    let mut ledger = Ledger::open_read(ledger_path).map_err(Failure::ledger)?;
    let _ = ledger.attach_derived();
    let view = output::record_or_not_found(&ledger, sequence)?;
    out.show(&view);
    Ok(())
}

fn head(out: &mut Out, ledger_path: &Path) -> Result<(), Failure> {
    // The head is the log's durable head marker: nothing derived is opened.
    let ledger = Ledger::open_read(ledger_path).map_err(Failure::ledger)?;
    out.head(&ledger);
    Ok(())
}

fn effective_format(json: bool, format: answers::Format) -> answers::Format {
    if json { answers::Format::Json } else { format }
}

fn filter_text(filter: &FilterArgs) -> questions::FilterText {
    questions::FilterText {
        authority: filter.authority.clone(),
        programme: filter.programme.clone(),
        subject: filter.subject.clone(),
        kind: filter.kind.clone(),
        measure: filter.measure.clone(),
    }
}

/// Opens the ledger, brings its projections to the head, and answers with `ask`. A question
/// that `head_views` may answer (the state, a diff) known at the head is answered from the head
/// views file when it reflects the head, without opening sled; else from sled, after which the
/// file is written for the next such question.
fn with_query(
    ledger_path: &Path,
    known: &KnownArgs,
    head_views: bool,
    ask: impl FnOnce(&crate::query::Query<'_>) -> Result<String, Failure>,
) -> Result<(), Failure> {
    // The time is checked before the ledger is opened: a mistyped option costs nothing.
    if let Some(text) = &known.known_at {
        questions::parse_time(Dialect::Cli, "known_at", text)?;
    }
    if head_views
        && known.known_at.is_none()
        && let Ok(ledger) = Ledger::open_read(ledger_path)
        && let Some(views) = crate::projection::head_views::HeadViews::open_current(&ledger)
    {
        let query = crate::query::Query::at_head_views(&ledger, views);
        print_answer(&ask(&query)?);
        return Ok(());
    }
    let ledger = open(ledger_path)?;
    crate::projection::sync(&ledger).map_err(Failure::projection)?;
    if head_views {
        refresh_head_views(&ledger);
    }
    let query = questions::query(&ledger, Dialect::Cli, known.known_at.as_deref())?;
    print_answer(&ask(&query)?);
    Ok(())
}

/// Prints an answer `ask` returned (an empty one was printed as it was answered).
fn print_answer(text: &str) {
    if !text.is_empty() {
        output::print_line(text);
    }
}

/// Writes the head views file if it does not reflect the head (the projections must). Best
/// effort: the file only saves later questions the opening of sled, so a failure is a note.
fn refresh_head_views(ledger: &Ledger) {
    use crate::projection::head_views;
    if head_views::HeadViews::open_current(ledger).is_some() {
        return;
    }
    if let Err(error) = head_views::write(ledger) {
        output::print_error_line(&format!(
            "note: the head views file was not written ({error}); questions use the projections in sled"
        ));
    }
}

fn generate(out: &mut Out, dir: &Path, events: u64, seed: u64) -> Result<(), Failure> {
    let mut generator = crate::synth::Generator::new(events, seed);
    let origin = format!("synthetic ledger: {events} events, seed {seed}");
    let mut ledger = Ledger::init(dir, &origin, &FixedClock(generator.recorded_at(0)))
        .map_err(Failure::ledger)?;
    let progress = output::progress_bar(
        events,
        !out.is_json() && std::io::stderr().is_terminal(),
        "generating",
    );
    let batch_size = crate::limits::BATCH_EVENTS_MAX as u64 / 10;
    let mut appended = 0;
    while appended < events {
        let recorded_at = generator.recorded_at(appended);
        let mut batch = Vec::new();
        while (batch.len() as u64) < batch_size {
            match generator.next_event() {
                Some(Ok(event)) => batch.push(event),
                Some(Err(problems)) => {
                    return Err(Failure::usage(format!(
                        "the generator built an invalid event (a bug): {problems:?}"
                    )));
                }
                None => break,
            }
        }
        if batch.is_empty() {
            break;
        }
        let options = AppendOptions {
            appended_by: "gen".to_owned(),
            recorded_at: Some(recorded_at),
        };
        ledger
            .append(&batch, &options, &SystemClock)
            .map_err(Failure::ledger)?;
        appended += batch.len() as u64;
        progress.set_position(appended);
    }
    progress.finish_and_clear();
    crate::projection::sync(&ledger).map_err(Failure::projection)?;
    refresh_head_views(&ledger);
    out.generated(dir, appended, seed, ledger.head());
    Ok(())
}

fn rebuild(out: &mut Out, ledger_path: &Path) -> Result<(), Failure> {
    let (mut ledger, moved_aside) =
        Ledger::open_for_rebuild(ledger_path).map_err(Failure::ledger)?;
    let total = ledger.head().sequence;
    let progress = output::progress_bar(
        total,
        !out.is_json() && std::io::stderr().is_terminal(),
        "rebuilding",
    );
    ledger.rebuild_log_derived().map_err(Failure::ledger)?;
    let result =
        crate::projection::rebuild(&ledger, &mut |sequence| progress.set_position(sequence));
    progress.finish_and_clear();
    result.map_err(Failure::projection)?;
    // Written again whatever it held: rebuild is also the remedy for a damaged one.
    crate::projection::head_views::write(&ledger).map_err(Failure::projection)?;
    out.rebuilt(total, moved_aside.as_deref());
    Ok(())
}

/// The origin (genesis name) of the bundled ledger: with the fixed genesis time and the
/// dataset's own times, every machine builds the same log, to the same head hash.
pub const BUNDLED_ORIGIN: &str = "sanctions-ledger quickstart: Xinjiang 2020-2026";
/// Who the bundled ledger's records say appended them.
pub const BUNDLED_OPERATOR: &str = "quickstart";

/// When a bundled event is recorded: the start (00:00:00 UTC) of the day it became public,
/// which the dataset gives as its effective date.
fn bundled_recorded_at(event: &crate::domain::Event) -> Timestamp {
    Timestamp::from_unix_micros(event.effective_on().to_days() * 86_400_000_000)
}

/// Creates the bundled ledger at `path`: its fixed genesis (origin `BUNDLED_ORIGIN`, created at
/// the first bundled event's recorded time).
pub fn init_bundled(path: &Path, events: &[crate::domain::Event]) -> Result<Ledger, LedgerError> {
    let genesis_time = events
        .first()
        .map_or(Timestamp::from_unix_micros(0), bundled_recorded_at);
    Ledger::init(path, BUNDLED_ORIGIN, &FixedClock(genesis_time))
}

/// Appends the bundled events deterministically: one append per day of the dataset (its lines
/// are in date order), each recorded at the start of that day, by `BUNDLED_OPERATOR`. Events
/// already recorded identically append nothing. On a refusal, the index of the first event of
/// the refused day's batch, and the error.
pub fn append_bundled(
    ledger: &mut Ledger,
    events: &[crate::domain::Event],
) -> Result<crate::ledger::AppendReport, Box<(usize, LedgerError)>> {
    let mut outcomes = Vec::with_capacity(events.len());
    let mut head = ledger.head();
    let mut start = 0;
    while start < events.len() {
        let day = events[start].effective_on();
        let end = start
            + events[start..]
                .iter()
                .take_while(|event| event.effective_on() == day)
                .count();
        let options = AppendOptions {
            appended_by: BUNDLED_OPERATOR.to_owned(),
            recorded_at: Some(bundled_recorded_at(&events[start])),
        };
        let report = ledger
            .append(&events[start..end], &options, &SystemClock)
            .map_err(|error| Box::new((start, error)))?;
        outcomes.extend(report.outcomes);
        head = report.head;
        start = end;
    }
    Ok(crate::ledger::AppendReport { outcomes, head })
}

/// Builds (or, if it exists, tops up) the bundled ledger, deterministically (`init_bundled`,
/// `append_bundled`), verifies it and tours it.
fn quickstart(out: &mut Out, ledger_path: &Path) -> Result<(), Failure> {
    let batch = intake::read_batch(
        BUNDLED_DATASET.as_bytes(),
        BUNDLED_DATASET_NAME,
        InputFormat::JsonLines,
    )
    .map_err(Failure::input)?;
    let mut ledger = if ledger_path.join("log").exists() {
        open(ledger_path)?
    } else {
        init_bundled(ledger_path, &batch.events).map_err(Failure::ledger)?
    };
    let report = append_bundled(&mut ledger, &batch.events).map_err(|refused| {
        let (start, error) = *refused;
        Failure::append(error, BUNDLED_DATASET_NAME, &batch.lines[start..])
    })?;
    ledger.flush_derived().map_err(Failure::ledger)?;
    let verified = ledger.verify(&mut |_| {}).map_err(Failure::verify)?;
    crate::projection::sync(&ledger).map_err(Failure::projection)?;
    let tour = tour::Tour::build(&ledger, questions::today_utc()).map_err(Failure::projection)?;
    out.quickstart(ledger_path, &report, &verified, &tour);
    Ok(())
}

fn serve(out: &mut Out, ledger_path: &Path, args: &ServeArgs) -> Result<(), Failure> {
    use std::time::Duration;
    let limits = crate::server::ServerLimits {
        append_body_bytes: args.body_bytes_max,
        header_read_timeout: Duration::from_millis(args.header_timeout_ms),
        request_timeout: Duration::from_millis(args.request_timeout_ms),
        connections: args.connections_max,
        queue_requests: args.queue_max,
        group_requests: args.group_max,
        answer_bytes: args.answer_bytes_max,
        ..crate::server::ServerLimits::default()
    };
    let config = crate::server::Config {
        ledger: ledger_path.to_owned(),
        listen: args.listen,
        public: args.public,
        signing_key: args.key.clone(),
        verifier_key: args.public_key.clone(),
        limits,
    };
    let mut running = crate::server::start(config, true)?;
    let result = json::ServeResult {
        ok: true,
        listening: format!("http://{}", running.address),
        ledger: ledger_path.display().to_string(),
    };
    out.emit(&result, || {
        format!(
            "listening on http://{} (ledger {}); SIGTERM or ctrl-c stops it gracefully",
            running.address,
            ledger_path.display()
        )
    });
    running
        .join()
        .map_err(|error| Failure::service("log_io", format!("the server stopped: {error}")))?;
    if !out.is_json() {
        output::print_error_line("stopped: everything in flight was answered");
    }
    Ok(())
}

fn token_json(entry: &crate::server::tokens::TokenEntry) -> json::TokenJson {
    json::TokenJson {
        id: entry.id.clone(),
        principal: entry.principal.clone(),
        scopes: entry
            .scopes
            .iter()
            .map(|scope| scope.as_str().to_owned())
            .collect(),
        created_at: entry.created_at.clone(),
        revoked_at: entry.revoked_at.clone(),
    }
}

fn token(out: &mut Out, ledger_path: &Path, command: &TokenCommand) -> Result<(), Failure> {
    use crate::server::tokens::{self, Scope};
    let refused = |error: tokens::TokenError| Failure::usage(error.to_string());
    let now = SystemClock.now();
    match command {
        TokenCommand::Create { name, scope } => {
            let scopes = scope
                .iter()
                .map(|text| {
                    Scope::parse(text.trim()).ok_or_else(|| {
                        Failure::usage(format!(
                            "--scope \"{text}\" is not a scope; expected append, import, checkpoint or admin"
                        ))
                    })
                })
                .collect::<Result<Vec<_>, _>>()?;
            let (entry, secret) =
                tokens::create(ledger_path, name, &scopes, now).map_err(refused)?;
            let result = json::TokenCreateResult {
                ok: true,
                token: token_json(&entry),
                secret: secret.clone(),
            };
            out.emit(&result, || {
                format!(
                    "{secret}\ntoken {} for {} (scopes {}): shown only now, keep it secret; send it as `Authorization: Bearer TOKEN`",
                    entry.id,
                    entry.principal,
                    result.token.scopes.join(", ")
                )
            });
        }
        TokenCommand::List => {
            if !ledger_path.join("log").is_dir() {
                return Err(Failure::ledger(LedgerError::NotALedger {
                    path: ledger_path.to_owned(),
                }));
            }
            let entries = tokens::load(ledger_path).map_err(refused)?;
            let result = json::TokensResult {
                ok: true,
                tokens: entries.iter().map(token_json).collect(),
            };
            out.emit(&result, || {
                if entries.is_empty() {
                    return "no tokens (make one with `sanctions-ledger token create --name NAME --scope append`)".to_owned();
                }
                let mut lines = vec![format!(
                    "{:<8}  {:<20}  {:<28}  {:<27}  revoked",
                    "id", "principal", "scopes", "created"
                )];
                for token in &result.tokens {
                    lines.push(format!(
                        "{:<8}  {:<20}  {:<28}  {:<27}  {}",
                        token.id,
                        token.principal,
                        token.scopes.join(","),
                        token.created_at,
                        token.revoked_at.as_deref().unwrap_or("-")
                    ));
                }
                lines.join("\n")
            });
        }
        TokenCommand::Revoke { id } => {
            let entry = tokens::revoke(ledger_path, id, now).map_err(refused)?;
            let result = json::TokensResult {
                ok: true,
                tokens: vec![token_json(&entry)],
            };
            out.emit(&result, || {
                format!(
                    "revoked token {} ({}) at {}; the server refuses it from its next request",
                    entry.id,
                    entry.principal,
                    entry.revoked_at.as_deref().unwrap_or("")
                )
            });
        }
    }
    Ok(())
}
