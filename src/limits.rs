//! Every bound on outside data, in one place.
//!
//! Each limit is checked with an error (never a panic or a silent truncation) and is tested at
//! the bound and one past it. Units are in the names. Changing a limit that affects what may be
//! stored (anything marked "format") is a format change: old records must still decode.

/// Largest encoded event, in bytes (format): a record (event, operator and fixed fields) then
/// always fits `RECORD_BYTES_MAX`.
pub const EVENT_BYTES_MAX: usize = 48 * 1024;
/// Largest stored record value (record bytes plus the 32-byte hash), in bytes (format).
pub const RECORD_BYTES_MAX: usize = 64 * 1024;
/// Largest genesis value, in bytes (format).
pub const GENESIS_BYTES_MAX: usize = 1024;
/// Most events in one appended batch (one atomic transaction, held in memory until commit).
pub const BATCH_EVENTS_MAX: usize = 10_000;
/// Longest input line (JSON Lines) or single JSON document, in bytes.
pub const LINE_BYTES_MAX: usize = 256 * 1024;
/// Deepest JSON nesting accepted by intake (objects and arrays).
pub const JSON_DEPTH_MAX: usize = 16;
/// Longest free text (statement text, reasons), in Unicode scalar values.
pub const TEXT_CHARS_MAX: usize = 20_000;
/// Longest short text (names, titles, publishers, roles), in Unicode scalar values.
pub const NAME_CHARS_MAX: usize = 512;
/// Longest identifier (event id, subject id, authority, programme), in bytes (ASCII).
pub const ID_BYTES_MAX: usize = 128;
/// Longest URL, in bytes.
pub const URL_BYTES_MAX: usize = 2048;
/// Most sources on one event.
pub const SOURCES_PER_EVENT_MAX: usize = 32;
/// Most subjects (or subject ids) named by one event.
pub const SUBJECTS_PER_EVENT_MAX: usize = 500;
/// Most names, aliases, identifiers or other list items on one subject or event.
pub const ITEMS_PER_LIST_MAX: usize = 64;
/// Most events one event may link to (`in_response_to`, statements' `about_events`).
pub const LINKS_PER_EVENT_MAX: usize = 64;
/// Longest operator name (who appended a record), in bytes.
pub const OPERATOR_BYTES_MAX: usize = 128;
/// Longest ledger origin name, in bytes.
pub const ORIGIN_BYTES_MAX: usize = 128;
/// How many records at the tail are re-hashed and re-linked when a ledger opens for writing.
pub const TAIL_CHECK_RECORDS: u64 = 64;
/// Most records `log` prints in one call unless told otherwise.
pub const LOG_PAGE_RECORDS_DEFAULT: u64 = 100;
/// sled's page cache, in bytes. sled's default (1 GiB) lets RSS grow to several GiB.
pub const STORE_CACHE_BYTES: u64 = 128 * 1024 * 1024;
/// Subjects per entry of the head views file's sparse index: a question about one subject reads
/// at most this many subjects' blocks.
pub const HEAD_VIEWS_INDEX_EVERY: u64 = 32;
/// Most records a stale head views file may be behind to be brought to the head by making
/// again only the subjects they touched (further behind, it is made whole).
pub const HEAD_VIEWS_CATCH_UP_RECORDS_MAX: u64 = 100_000;
/// Most problems reported for one event (further ones are counted, not listed).
pub const PROBLEMS_PER_EVENT_MAX: usize = 100;
/// Most problems reported for one batch before reading stops.
pub const PROBLEMS_PER_BATCH_MAX: usize = 1_000;
/// How long opening a ledger waits for the log's writer lock, or sled's file lock, before saying it is in use, in ms.
pub const STORE_LOCK_WAIT_MS: u64 = 3_000;
/// Most events one `links` answer follows, in each direction.
pub const LINKS_TRAVERSAL_MAX: usize = 10_000;
/// Most rows a table of the web view shows (the whole answer is a CSV or JSON link away).
pub const WEB_TABLE_ROWS_MAX: usize = 500;
/// Most answers (`in_response_to` links) one graph of who answered whom shows.
pub const GRAPH_EDGES_MAX: usize = 2_000;
/// Largest checkpoint text accepted, in bytes (a body of six short lines and a few signatures).
pub const CHECKPOINT_BYTES_MAX: usize = 4 * 1024;
/// Most signature lines a checkpoint may carry.
pub const CHECKPOINT_SIGNATURES_MAX: usize = 8;
/// Longest key name, in bytes (a name equal to a checkpoint origin, 84 bytes, fits).
pub const KEY_NAME_BYTES_MAX: usize = 128;
/// Largest key file accepted, in bytes.
pub const KEY_FILE_BYTES_MAX: usize = 1024;
/// Largest proof document accepted, in bytes (a record, two checkpoints and 2 x 64 hashes fit).
pub const PROOF_BYTES_MAX: usize = 256 * 1024;
/// Records restored per durable batch.
pub const RESTORE_BATCH_RECORDS: usize = 10_000;
/// Entries `rebuild` gathers before it writes them to the derived store (in key order).
pub const DERIVED_BULK_BATCH: usize = 50_000;
/// Largest segment file of the log, in bytes: a record that would take a segment past it
/// starts the next segment.
pub const SEGMENT_BYTES_MAX: u64 = 64 * 1024 * 1024;
/// Bytes read at a time when the log is read in order (verification, catch-up, replays).
pub const LOG_READ_BLOCK_BYTES: usize = 2 * 1024 * 1024;
/// Frames checked per batch by the parallel reader of the log (bounds its memory).
pub const VERIFY_BATCH_FRAMES: usize = 4096;
/// Most threads the parallel reader of the log uses.
pub const VERIFY_THREADS_MAX: usize = 16;
/// Fewest frames worth giving a thread of its own.
pub const VERIFY_FRAMES_PER_THREAD_MIN: usize = 64;
/// Records caught up from the log per write to the derived store.
pub const DERIVED_CATCH_UP_RECORDS: usize = 10_000;
/// Most acknowledged records whose derived data (index, places, Merkle nodes) is held in memory
/// before it is written to the derived store.
pub const DERIVED_PENDING_RECORDS_MAX: usize = 100_000;
/// Largest value written to one derived entry, in bytes; larger values (a long listing
/// history's evaluated view) are split across entries.
pub const DERIVED_VALUE_BYTES_MAX: usize = 16 * 1024;
/// Largest evaluated view of one listing, in bytes (all its periods, measures and "why"s; about
/// 3 million events about one listing). Stored split into `DERIVED_VALUE_BYTES_MAX` entries.
pub const DERIVED_VIEW_BYTES_MAX: usize = 64 * 1024 * 1024;
/// Listings read from the derived store per scan when every listing is visited (a rebuild, a
/// verification): bounds how long one sled iterator stays open.
pub const LISTINGS_PER_SCAN: usize = 10_000;
/// Skipped entries listed in a snapshot event (`import --skip-bad`); the rest are counted.
pub const SKIPPED_RECORDED_MAX: usize = 100;
/// Largest list file `import` reads, in bytes (the largest official list, the EU's FSF XML, is
/// about 24 MB; OFAC's SDN XML about 10 MB).
pub const IMPORT_FILE_BYTES_MAX: u64 = 256 * 1024 * 1024;
/// Most entries one snapshot may hold. What an import holds in memory grows with the entries
/// (about 2 KB each, measured: names, identifiers, a digest per field, its subject), so this
/// and `IMPORT_FILE_BYTES_MAX` bound it.
pub const IMPORT_ENTRIES_MAX: usize = 2_000_000;
/// Largest entry, in bytes of the file (one XML entry element; the CSV rows of one target).
pub const IMPORT_ENTRY_BYTES_MAX: usize = 1024 * 1024;
/// Largest field (an XML text, a CSV cell, a shared string of a spreadsheet), in bytes.
pub const IMPORT_FIELD_BYTES_MAX: usize = 64 * 1024;
/// Deepest XML nesting an importer accepts.
pub const IMPORT_XML_DEPTH_MAX: usize = 32;
/// Largest decompressed part of a spreadsheet (XLSX) file, in bytes, as its zip directory
/// declares it (checked before anything is decompressed): a guard against compression bombs.
/// The sheet is streamed; its shared strings are held.
pub const IMPORT_XLSX_PART_BYTES_MAX: u64 = 1024 * 1024 * 1024;
/// Largest shared-strings part of a spreadsheet (held in memory), in bytes, as declared.
pub const IMPORT_XLSX_SHARED_STRINGS_BYTES_MAX: usize = 128 * 1024 * 1024;
/// Events an import appends per durable append (a snapshot implies up to one per entry and
/// programme; each append is all or nothing, and re-running the import completes one cut
/// short).
pub const IMPORT_APPEND_BATCH: usize = 5_000;
/// Entry problems an import reports (the rest are counted).
pub const IMPORT_PROBLEMS_MAX: usize = 1_000;
/// Events an import holds in memory between checking and appending them; past this it builds
/// them again, a batch at a time.
pub const IMPORT_EVENTS_HELD_MAX: usize = 50_000;
/// Events an `import --dry-run` lists (the counts cover them all).
pub const IMPORT_DRY_RUN_LISTED_MAX: usize = 10_000;

// The HTTP server (`serve`). Each one is a default that `serve` can be given another value of
// (its --help names the option); tests set them low to reach them.

/// Most bytes of an append request's body (one JSON event or a JSON Lines batch).
pub const SERVER_APPEND_BODY_BYTES_MAX: usize = 16 * 1024 * 1024;
/// Most bytes of an import request's body (a list file), as for a file given to `import`.
pub const SERVER_IMPORT_BODY_BYTES_MAX: usize = IMPORT_FILE_BYTES_MAX as usize;
/// Imports whose bodies are being received or processed at once; more are answered 503.
pub const SERVER_IMPORTS_IN_FLIGHT_MAX: usize = 2;
/// Most bytes of a request's head (request line and headers), as the HTTP layer buffers it; a
/// larger head, or one of more than 100 header fields, is answered 431 and the connection closed.
pub const SERVER_HEADER_BYTES_MAX: usize = 64 * 1024;
/// How long a client may take to send a request's headers before the connection is closed.
pub const SERVER_HEADER_READ_TIMEOUT_MS: u64 = 10_000;
/// How long a request may take, body and answer included (408 after), imports aside.
pub const SERVER_REQUEST_TIMEOUT_MS: u64 = 60_000;
/// How long an import request may take (a 1M-entry list takes minutes).
pub const SERVER_IMPORT_TIMEOUT_MS: u64 = 30 * 60 * 1000;
/// Connections served at once; one more is answered 503 and closed.
pub const SERVER_CONNECTIONS_MAX: usize = 1024;
/// Write requests waiting for the writer; one more is answered 503 with Retry-After at once.
pub const SERVER_QUEUE_REQUESTS_MAX: usize = 1024;
/// Requests the writer takes into one group (one write, one durability barrier).
pub const SERVER_GROUP_REQUESTS_MAX: usize = 256;
/// Events of one group, summed over its requests (a request is never split).
pub const SERVER_GROUP_EVENTS_MAX: usize = 50_000;
/// Most bytes of one query answer; a larger one is refused (413: narrow it with filters).
pub const SERVER_ANSWER_BYTES_MAX: usize = 64 * 1024 * 1024;
/// Most records of one page of `GET /v1/records` (the change feed pages by this too).
pub const SERVER_RECORDS_PAGE_MAX: u64 = 1_000;
/// Change-feed streams open at once; one more is answered 503.
pub const SERVER_FEEDS_MAX: usize = 256;
/// Seconds between keep-alive comments on an idle change feed.
pub const SERVER_FEED_HEARTBEAT_SECS: u64 = 15;
/// How long a graceful shutdown waits for open connections (streams) after answering what was
/// in flight.
pub const SERVER_SHUTDOWN_GRACE_MS: u64 = 5_000;
/// Tokens one ledger keeps (revoked ones included).
pub const TOKENS_MAX: usize = 1_000;
/// Most bytes of a ledger's token file.
pub const TOKENS_FILE_BYTES_MAX: usize = 1024 * 1024;

/// Seconds one request of `follow` to a tiles URL may take (connecting, sending, reading).
pub const FOLLOW_REQUEST_TIMEOUT_SECS: u64 = 60;
/// Largest entry bundle `follow` reads, in bytes: 256 entries of a u16 length and at most
/// 65,535 bytes each (a record is under 49 KiB: an event is at most `EVENT_BYTES_MAX`).
pub const FOLLOW_ENTRY_BUNDLE_BYTES_MAX: usize = 256 * (2 + 65_535);
