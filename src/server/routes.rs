//! The server's routes: one table (`ROUTES`) that the router is built from and the OpenAPI
//! document is generated from, and a handler per route. Every answer is the command line's JSON
//! for the same question (`cli::questions`, `cli::output`, `cli::audit`), every failure the
//! command line's error JSON with the HTTP status its kind means.
//!
//! Owns request parsing (query parameters, bodies, bearer tokens, `If-Match`) and the mapping of
//! failure kinds to statuses. Must not: answer a question with code of its own.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Path, Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, get, post};
use tokio::sync::oneshot;

use super::Shared;
use super::tokens::{self, Scope};
use super::writer::{AppendJob, Job};
use crate::cli::answers::{self, Format};
use crate::cli::output::{self, Failure};
use crate::cli::questions::{self, Dialect, FilterText};
use crate::ledger::chain::Hash;

/// Where a parameter goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Location {
    /// In the path.
    Path,
    /// In the query string.
    Query,
    /// A request header.
    Header,
}

/// One parameter of a route.
#[derive(Clone, Copy, Debug)]
pub struct Param {
    /// Its name.
    pub name: &'static str,
    /// Where it goes.
    pub location: Location,
    /// Whether it must be given.
    pub required: bool,
    /// What it means.
    pub description: &'static str,
}

/// One route: what the router serves and the OpenAPI document describes.
#[derive(Clone, Copy, Debug)]
pub struct RouteSpec {
    /// GET or POST.
    pub method: &'static str,
    /// The path, with `{name}` for path parameters.
    pub path: &'static str,
    /// The OpenAPI operation id.
    pub operation: &'static str,
    /// What it does.
    pub summary: &'static str,
    /// The scope a bearer token needs (writes), or none (reads are public).
    pub scope: Option<Scope>,
    /// Its parameters.
    pub params: &'static [Param],
    /// The media types of a request body it takes.
    pub body: &'static [&'static str],
    /// The media types of its 200 answer.
    pub answers: &'static [&'static str],
    /// The schema of its JSON answer (a file under schemas/), if it is JSON.
    pub schema: Option<&'static str>,
    /// The statuses it answers besides 200 and `COMMON_STATUSES`.
    pub statuses: &'static [u16],
}

/// Statuses any route may answer: 400 (not HTTP: the HTTP layer's, with no body), 405 (another
/// method than the route's), 408 (the request took longer than its timeout), 431 (a head larger
/// than `SERVER_HEADER_BYTES_MAX`, or of more than 100 fields: the HTTP layer's, no body), 500
/// (the ledger's storage failed), 503 (too many connections, or the server is stopping).
pub const COMMON_STATUSES: [u16; 6] = [400, 405, 408, 431, 500, 503];

const JSON: &[&str] = &["application/json"];
const KNOWN_AT: Param = Param {
    name: "known_at",
    location: Location::Query,
    required: false,
    description: "Count only what was recorded at or before this time: RFC 3339, or a date (its 00:00:00 UTC). Default: the head.",
};
const AUTHORITY: Param = Param {
    name: "authority",
    location: Location::Query,
    required: false,
    description: "Only this authority (e.g. EU-COUNCIL).",
};
const PROGRAMME: Param = Param {
    name: "programme",
    location: Location::Query,
    required: false,
    description: "Only this programme (e.g. EU-GHR).",
};
const SUBJECT: Param = Param {
    name: "subject",
    location: Location::Query,
    required: false,
    description: "Only this subject id.",
};
const KIND: Param = Param {
    name: "kind",
    location: Location::Query,
    required: false,
    description: "Only subjects of this kind: person, entity, vessel or aircraft.",
};
const MEASURE: Param = Param {
    name: "measure",
    location: Location::Query,
    required: false,
    description: "Only listings with this measure in force on the date (e.g. asset_freeze, entry_ban).",
};
const SEQUENCE: Param = Param {
    name: "sequence",
    location: Location::Path,
    required: true,
    description: "The record's sequence number.",
};
const HISTORY_PARAMS: &[Param] = &[
    Param {
        name: "subject",
        location: Location::Path,
        required: true,
        description: "The subject id.",
    },
    KNOWN_AT,
    Param {
        name: "today",
        location: Location::Query,
        required: false,
        description: "Judge lapses as of this date (default: today).",
    },
];
const AUTHORIZATION: Param = Param {
    name: "Authorization",
    location: Location::Header,
    required: true,
    description: "`Bearer TOKEN`, a token from `sanctions-ledger token create` with the route's scope.",
};
const CHECKPOINT: Param = Param {
    name: "checkpoint",
    location: Location::Query,
    required: false,
    description: "The number of a checkpoint the ledger issued (GET /v1/checkpoints); default: the last.",
};

/// Every route.
pub const ROUTES: &[RouteSpec] = &[
    RouteSpec {
        method: "GET",
        path: "/v1/head",
        operation: "head",
        summary: "The head: the last sequence and its hash (as `head --json`).",
        scope: None,
        params: &[],
        body: &[],
        answers: JSON,
        schema: Some("output/head.schema.json"),
        statuses: &[400],
    },
    RouteSpec {
        method: "GET",
        path: "/v1/state",
        operation: "state",
        summary: "The listings in force on a date, as known at a time, and why (as `state --json`).",
        scope: None,
        params: &[
            Param {
                name: "as_of",
                location: Location::Query,
                required: true,
                description: "The effective date (YYYY-MM-DD).",
            },
            KNOWN_AT,
            AUTHORITY,
            PROGRAMME,
            SUBJECT,
            KIND,
            MEASURE,
        ],
        body: &[],
        answers: JSON,
        schema: Some("output/state.schema.json"),
        statuses: &[400, 413],
    },
    RouteSpec {
        method: "GET",
        path: "/v1/history/{subject}",
        operation: "history",
        summary: "A subject's timeline across all authorities (as `history --json`).",
        scope: None,
        params: HISTORY_PARAMS,
        body: &[],
        answers: JSON,
        schema: Some("output/history.schema.json"),
        statuses: &[400, 404, 413],
    },
    RouteSpec {
        method: "GET",
        path: "/v1/diff",
        operation: "diff",
        summary: "What came into force, left force or changed between two dates (as `diff --json`).",
        scope: None,
        params: &[
            Param {
                name: "from",
                location: Location::Query,
                required: true,
                description: "The first date (YYYY-MM-DD).",
            },
            Param {
                name: "to",
                location: Location::Query,
                required: true,
                description: "The second date (YYYY-MM-DD), not before `from`.",
            },
            KNOWN_AT,
            AUTHORITY,
            PROGRAMME,
            SUBJECT,
            KIND,
            MEASURE,
        ],
        body: &[],
        answers: JSON,
        schema: Some("output/diff.schema.json"),
        statuses: &[400, 413],
    },
    RouteSpec {
        method: "GET",
        path: "/v1/links/{event}",
        operation: "links",
        summary: "What an event answers and what answered it, transitively (as `links --json`).",
        scope: None,
        params: &[
            Param {
                name: "event",
                location: Location::Path,
                required: true,
                description: "The event id.",
            },
            KNOWN_AT,
        ],
        body: &[],
        answers: JSON,
        schema: Some("output/links.schema.json"),
        statuses: &[400, 404, 413],
    },
    RouteSpec {
        method: "GET",
        path: "/v1/subjects",
        operation: "subjects",
        summary: "Subjects found by any of their names (as `subjects --json`).",
        scope: None,
        params: &[Param {
            name: "q",
            location: Location::Query,
            required: true,
            description: "A name or part of one.",
        }],
        body: &[],
        answers: JSON,
        schema: Some("output/subjects.schema.json"),
        statuses: &[400, 413],
    },
    RouteSpec {
        method: "GET",
        path: "/v1/records",
        operation: "records",
        summary: "Records from a sequence: a page (application/json, as `log --json`), or the change feed (Accept: text/event-stream or application/jsonl): the records from `from`, then each new one as it is acknowledged, with its stored bytes and hash.",
        scope: None,
        params: &[
            Param {
                name: "from",
                location: Location::Query,
                required: false,
                description: "The first sequence (default 1).",
            },
            Param {
                name: "limit",
                location: Location::Query,
                required: false,
                description: "Most records of a page (default 100, at most SERVER_RECORDS_PAGE_MAX); not for the feed.",
            },
        ],
        body: &[],
        answers: &["application/json", "text/event-stream", "application/jsonl"],
        schema: Some("output/log.schema.json"),
        statuses: &[400],
    },
    RouteSpec {
        method: "GET",
        path: "/v1/records/{sequence}",
        operation: "record",
        summary: "One record and its event (as `show --json`).",
        scope: None,
        params: &[SEQUENCE],
        body: &[],
        answers: JSON,
        schema: Some("output/show.schema.json"),
        statuses: &[400, 404],
    },
    RouteSpec {
        method: "GET",
        path: "/v1/checkpoints",
        operation: "checkpoints",
        summary: "Every checkpoint the ledger has issued (as `checkpoints --json`).",
        scope: None,
        params: &[],
        body: &[],
        answers: JSON,
        schema: Some("output/checkpoints.schema.json"),
        statuses: &[400, 413],
    },
    RouteSpec {
        method: "POST",
        path: "/v1/checkpoints",
        operation: "sign_checkpoint",
        summary: "Sign and keep a checkpoint of the head with the server's key (as `checkpoint --json`).",
        scope: Some(Scope::Checkpoint),
        params: &[AUTHORIZATION],
        body: &[],
        answers: JSON,
        schema: Some("output/checkpoint.schema.json"),
        statuses: &[400, 401, 403, 409],
    },
    RouteSpec {
        method: "GET",
        path: "/v1/proofs/inclusion/{sequence}",
        operation: "prove_inclusion",
        summary: "A proof that a record is in the tree a checkpoint commits to (as `prove inclusion`).",
        scope: None,
        params: &[SEQUENCE, CHECKPOINT],
        body: &[],
        answers: JSON,
        schema: Some("proof/inclusion.schema.json"),
        statuses: &[400, 404],
    },
    RouteSpec {
        method: "GET",
        path: "/v1/proofs/consistency",
        operation: "prove_consistency",
        summary: "A proof that one checkpoint's tree is a prefix of another's (as `prove consistency`).",
        scope: None,
        params: &[
            Param {
                name: "from",
                location: Location::Query,
                required: true,
                description: "The earlier checkpoint's number.",
            },
            Param {
                name: "to",
                location: Location::Query,
                required: false,
                description: "The later checkpoint's number (default: the last).",
            },
        ],
        body: &[],
        answers: JSON,
        schema: Some("proof/consistency.schema.json"),
        statuses: &[400, 404],
    },
    RouteSpec {
        method: "GET",
        path: "/v1/bundle",
        operation: "bundle",
        summary: "A self-contained bundle (as `export`), streamed: records from `from` to a checkpoint, proven against it; check it with `verify-bundle`.",
        scope: None,
        params: &[
            Param {
                name: "from",
                location: Location::Query,
                required: false,
                description: "The first record (default 1).",
            },
            CHECKPOINT,
        ],
        body: &[],
        answers: &["application/octet-stream"],
        schema: None,
        statuses: &[400, 404],
    },
    RouteSpec {
        method: "GET",
        path: "/checkpoint",
        operation: "tlog_checkpoint",
        summary: "C2SP tlog-tiles: the newest checkpoint the ledger issued (a signed note, as `tiles` writes it); never cached.",
        scope: None,
        params: &[],
        body: &[],
        answers: &["text/plain; charset=utf-8"],
        schema: None,
        statuses: &[400, 404],
    },
    RouteSpec {
        method: "GET",
        path: "/genesis",
        operation: "tlog_genesis",
        summary: "The log's genesis bytes (beside the C2SP paths: what a mirror needs to start the same log; the checkpoint's origin names its hash).",
        scope: None,
        params: &[],
        body: &[],
        answers: &["application/octet-stream"],
        schema: None,
        statuses: &[400],
    },
    RouteSpec {
        method: "GET",
        path: "/tile/{*tile}",
        operation: "tlog_tile",
        summary: "C2SP tlog-tiles: a hash tile `tile/<L>/<N>[.p/<W>]` or an entry bundle `tile/entries/<N>[.p/<W>]` (the same bytes `tiles` writes), for any tile the log holds whole; immutable, cached for a year.",
        scope: None,
        params: &[Param {
            name: "tile",
            location: Location::Path,
            required: true,
            description: "The tile's path after `tile/`: `<L>/<N>[.p/<W>]` or `entries/<N>[.p/<W>]`, N in three-digit groups (`x001/234`).",
        }],
        body: &[],
        answers: &["application/octet-stream"],
        schema: None,
        statuses: &[400, 404],
    },
    RouteSpec {
        method: "POST",
        path: "/v1/events",
        operation: "append",
        summary: "Append one JSON event (application/json) or a JSON Lines batch (application/jsonl), all or nothing, durably; the token's principal is stored as the records' operator (as `append --json`).",
        scope: Some(Scope::Append),
        params: &[
            AUTHORIZATION,
            Param {
                name: "If-Match",
                location: Location::Header,
                required: false,
                description: "Append only if the head hash is this (412 when the head has moved).",
            },
        ],
        body: &["application/json", "application/jsonl"],
        answers: JSON,
        schema: Some("output/append.schema.json"),
        statuses: &[400, 401, 403, 409, 412, 413, 415],
    },
    RouteSpec {
        method: "POST",
        path: "/v1/imports",
        operation: "import",
        summary: "Import a published list file (the body) as a snapshot (as `import --json`).",
        scope: Some(Scope::Import),
        params: &[
            AUTHORIZATION,
            Param {
                name: "list",
                location: Location::Query,
                required: true,
                description: "Which published list: us-ofac-sdn, us-ofac-consolidated, un-sc-consolidated, uk-hmt-conlist, ca-sema, eu-fsf, or opensanctions:<dataset>.",
            },
            Param {
                name: "format",
                location: Location::Query,
                required: false,
                description: "The file's format, when recognising it from the content is wrong.",
            },
            Param {
                name: "published_on",
                location: Location::Query,
                required: false,
                description: "The publication date (YYYY-MM-DD), required when the file gives none.",
            },
            Param {
                name: "source_url",
                location: Location::Query,
                required: false,
                description: "Where the file was published.",
            },
            Param {
                name: "file_name",
                location: Location::Query,
                required: false,
                description: "How the file is named in the report and in problems (default: request body).",
            },
            Param {
                name: "dry_run",
                location: Location::Query,
                required: false,
                description: "true: plan only, store and append nothing.",
            },
            Param {
                name: "skip_bad",
                location: Location::Query,
                required: false,
                description: "true: append the rest when entries are refused.",
            },
            Param {
                name: "late",
                location: Location::Query,
                required: false,
                description: "true: record a snapshot older than the newest imported as a late observation.",
            },
        ],
        body: &["application/octet-stream"],
        answers: JSON,
        schema: Some("output/import.schema.json"),
        statuses: &[400, 401, 403, 413],
    },
    RouteSpec {
        method: "GET",
        path: "/v1/openapi.json",
        operation: "openapi",
        summary: "This API's OpenAPI 3.1 document (schemas/openapi.json).",
        scope: None,
        params: &[],
        body: &[],
        answers: JSON,
        schema: None,
        statuses: &[400],
    },
    RouteSpec {
        method: "GET",
        path: "/",
        operation: "web_overview",
        summary: "The web view: what the ledger holds, its last checkpoint and witnesses, the lists observed, the server's own check, and the commands to check it yourself (HTML).",
        scope: None,
        params: &[],
        body: &[],
        answers: HTML,
        schema: None,
        statuses: &[400],
    },
    RouteSpec {
        method: "GET",
        path: "/state",
        operation: "web_state",
        summary: "The web view: the listings in force on a date, with counts per authority, coverage and warnings (HTML; without as_of, the question's form).",
        scope: None,
        params: WEB_STATE_PARAMS,
        body: &[],
        answers: HTML,
        schema: None,
        statuses: &[400],
    },
    RouteSpec {
        method: "GET",
        path: "/state.csv",
        operation: "web_state_csv",
        summary: "The listings in force on a date as CSV (as `state --format csv`).",
        scope: None,
        params: WEB_STATE_PARAMS,
        body: &[],
        answers: &["text/csv"],
        schema: None,
        statuses: &[400, 413],
    },
    RouteSpec {
        method: "GET",
        path: "/diff",
        operation: "web_diff",
        summary: "The web view: what came into force, left force or changed between two dates (HTML).",
        scope: None,
        params: &[
            Param {
                name: "from",
                location: Location::Query,
                required: false,
                description: "The first date (YYYY-MM-DD).",
            },
            Param {
                name: "to",
                location: Location::Query,
                required: false,
                description: "The second date (YYYY-MM-DD), not before `from`.",
            },
            KNOWN_AT,
            AUTHORITY,
            PROGRAMME,
            KIND,
            MEASURE,
        ],
        body: &[],
        answers: HTML,
        schema: None,
        statuses: &[400],
    },
    RouteSpec {
        method: "GET",
        path: "/subject/{subject}",
        operation: "web_subject",
        summary: "The web view: a subject's names, identifiers and listings across the years as a picture and tables (HTML).",
        scope: None,
        params: HISTORY_PARAMS,
        body: &[],
        answers: HTML,
        schema: None,
        statuses: &[400, 404],
    },
    RouteSpec {
        method: "GET",
        path: "/subjects",
        operation: "web_subjects",
        summary: "The web view: subjects found by any of their names (HTML).",
        scope: None,
        params: &[Param {
            name: "q",
            location: Location::Query,
            required: false,
            description: "A name or alias, in any script and word order.",
        }],
        body: &[],
        answers: HTML,
        schema: None,
        statuses: &[400],
    },
    RouteSpec {
        method: "GET",
        path: "/graph",
        operation: "web_graph",
        summary: "The web view: the graph of who answered whom (in_response_to), as SVG and a table (HTML).",
        scope: None,
        params: &[KNOWN_AT],
        body: &[],
        answers: HTML,
        schema: None,
        statuses: &[400],
    },
    RouteSpec {
        method: "GET",
        path: "/event/{sequence}",
        operation: "web_event",
        summary: "The web view: one record as recorded, its sources and links, and its inclusion proof against the latest checkpoint checked in the browser (HTML).",
        scope: None,
        params: &[SEQUENCE],
        body: &[],
        answers: HTML,
        schema: None,
        statuses: &[400, 404],
    },
    RouteSpec {
        method: "GET",
        path: "/assets/{asset}",
        operation: "web_asset",
        summary: "The web view's stylesheet (style.css) and script (app.js), embedded in the binary.",
        scope: None,
        params: &[Param {
            name: "asset",
            location: Location::Path,
            required: true,
            description: "style.css or app.js.",
        }],
        body: &[],
        answers: &["text/css", "text/javascript"],
        schema: None,
        statuses: &[400, 404],
    },
];

const HTML: &[&str] = &["text/html"];
const WEB_STATE_PARAMS: &[Param] = &[
    Param {
        name: "as_of",
        location: Location::Query,
        required: false,
        description: "The effective date (YYYY-MM-DD); without it, the page shows the question's form.",
    },
    KNOWN_AT,
    AUTHORITY,
    PROGRAMME,
    KIND,
    MEASURE,
];

type App = Arc<Shared>;

/// The router: every route of `ROUTES`, the timeouts, and JSON for anything unmatched.
pub(crate) fn router(shared: App) -> axum::Router {
    let mut router = axum::Router::new();
    for spec in ROUTES {
        router = router.route(spec.path, method_router(spec));
    }
    router
        .fallback(unmatched)
        .method_not_allowed_fallback(wrong_method)
        .layer(axum::middleware::from_fn_with_state(
            Arc::clone(&shared),
            timeout,
        ))
        .layer(tower_http::catch_panic::CatchPanicLayer::custom(panicked))
        .with_state(shared)
}

fn method_router(spec: &RouteSpec) -> MethodRouter<App> {
    match spec.operation {
        "head" => get(head),
        "state" => get(state),
        "history" => get(history),
        "diff" => get(diff),
        "links" => get(links),
        "subjects" => get(subjects),
        "records" => get(records),
        "record" => get(record),
        "checkpoints" => get(checkpoints),
        "sign_checkpoint" => post(sign_checkpoint),
        "prove_inclusion" => get(prove_inclusion),
        "prove_consistency" => get(prove_consistency),
        "bundle" => get(super::feed::bundle),
        "tlog_checkpoint" => get(super::tiles::checkpoint),
        "tlog_genesis" => get(super::tiles::genesis),
        "tlog_tile" => get(super::tiles::tile),
        "append" => post(append),
        "import" => post(import),
        "web_overview" => get(super::web::overview),
        "web_state" => get(super::web::state),
        "web_state_csv" => get(super::web::state_csv),
        "web_diff" => get(super::web::diff),
        "web_subject" => get(super::web::subject),
        "web_subjects" => get(super::web::subjects),
        "web_graph" => get(super::web::graph),
        "web_event" => get(super::web::event),
        "web_asset" => get(super::web::asset),
        _ => get(openapi),
    }
}

/// The spec of the route with this operation id.
fn spec(operation: &str) -> &'static RouteSpec {
    ROUTES
        .iter()
        .find(|spec| spec.operation == operation)
        .unwrap_or(&ROUTES[0])
}

/// The HTTP status a failure's kind means (the exit-code meaning: 400 bad input, 404 unknown,
/// 409 conflict, 413 too large, 503 busy; 500 when the ledger's storage failed).
pub fn status_of(kind: &str) -> StatusCode {
    match kind {
        "not_found" => StatusCode::NOT_FOUND,
        "conflict" | "already_exists" | "not_configured" => StatusCode::CONFLICT,
        "too_large" => StatusCode::PAYLOAD_TOO_LARGE,
        "busy" | "in_use" | "storage_full" => StatusCode::SERVICE_UNAVAILABLE,
        "unauthorized" => StatusCode::UNAUTHORIZED,
        "forbidden" => StatusCode::FORBIDDEN,
        "precondition_failed" => StatusCode::PRECONDITION_FAILED,
        "timeout" => StatusCode::REQUEST_TIMEOUT,
        "not_acceptable" => StatusCode::NOT_ACCEPTABLE,
        "method_not_allowed" => StatusCode::METHOD_NOT_ALLOWED,
        "unsupported_media_type" => StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "usage"
        | "invalid_input"
        | "unknown_reference"
        | "duplicate_in_batch"
        | "recorded_time_went_back"
        | "refused"
        | "older_snapshot"
        | "bad_checkpoint" => StatusCode::BAD_REQUEST,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

/// A failure as its JSON, with its status (and Retry-After for 503, WWW-Authenticate for 401).
pub(crate) fn failure(failure: &Failure) -> Response {
    let status = status_of(failure.kind());
    let body = serde_json::to_string(&failure.to_json()).unwrap_or_default();
    let mut response = (status, body).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    if status == StatusCode::SERVICE_UNAVAILABLE {
        headers.insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    }
    if status == StatusCode::UNAUTHORIZED {
        headers.insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Bearer realm=\"sanctions-ledger\""),
        );
    }
    response
}

/// A JSON answer.
pub(crate) fn json(body: String) -> Response {
    (
        StatusCode::OK,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        body,
    )
        .into_response()
}

fn answer(result: Result<String, Failure>) -> Response {
    match result {
        Ok(body) => json(body),
        Err(error) => failure(&error),
    }
}

async fn unmatched(request: Request) -> Response {
    let routes: Vec<String> = ROUTES
        .iter()
        .map(|spec| format!("{} {}", spec.method, spec.path))
        .collect();
    failure(&Failure::not_found(format!(
        "no route {} {}; the routes are: {} (GET /v1/openapi.json describes them)",
        request.method(),
        request.uri().path(),
        routes.join(", ")
    )))
}

async fn wrong_method(request: Request) -> Response {
    let path = request.uri().path().to_owned();
    let allowed: Vec<&str> = ROUTES
        .iter()
        .filter(|spec| axum_matches(spec.path, &path))
        .map(|spec| spec.method)
        .collect();
    let mut response = failure(&Failure::service(
        "method_not_allowed",
        format!(
            "{} is not a method of {path}; it takes {}",
            request.method(),
            allowed.join(", ")
        ),
    ));
    if let Ok(value) = HeaderValue::from_str(&allowed.join(", ")) {
        response.headers_mut().insert(header::ALLOW, value);
    }
    response
}

/// Whether a route's path (with `{name}` segments) matches a request's path.
fn axum_matches(pattern: &str, path: &str) -> bool {
    let (pattern, path): (Vec<&str>, Vec<&str>) =
        (pattern.split('/').collect(), path.split('/').collect());
    pattern.len() == path.len()
        && pattern
            .iter()
            .zip(&path)
            .all(|(want, got)| want.starts_with('{') || want == got)
}

fn panicked(_: Box<dyn std::any::Any + Send + 'static>) -> Response {
    failure(&Failure::service(
        "damaged",
        "the server failed answering this request (a bug); nothing was changed by it",
    ))
}

/// The size of a request's head as sent: request line and header lines.
fn head_bytes(request: &Request) -> usize {
    let line = request.method().as_str().len() + request.uri().to_string().len() + 12;
    request
        .headers()
        .iter()
        .map(|(name, value)| name.as_str().len() + value.len() + 4)
        .sum::<usize>()
        + line
}

/// The head limit (431: hyper's own buffer limit lets a head that arrives in one read pass) and
/// the whole-request timeout (the import route's is longer): 408 after it.
async fn timeout(State(shared): State<App>, request: Request, next: Next) -> Response {
    let head = head_bytes(&request);
    if head > crate::limits::SERVER_HEADER_BYTES_MAX {
        let mut response = failure(&Failure::service(
            "too_large",
            format!(
                "the request's head (request line and headers) is {head} bytes; at most {} are read (SERVER_HEADER_BYTES_MAX)",
                crate::limits::SERVER_HEADER_BYTES_MAX
            ),
        ));
        *response.status_mut() = StatusCode::from_u16(431).unwrap_or(StatusCode::BAD_REQUEST);
        response
            .headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
        return response;
    }
    let limit = if request.uri().path() == "/v1/imports" {
        shared.limits.import_timeout
    } else {
        shared.limits.request_timeout
    };
    match tokio::time::timeout(limit, next.run(request)).await {
        Ok(response) => response,
        Err(_) => failure(&Failure::service(
            "timeout",
            format!(
                "the request took longer than {} ms (SERVER_REQUEST_TIMEOUT_MS); a write that was already queued is still done: read the head to see",
                limit.as_millis()
            ),
        )),
    }
}

/// The query parameters of a request, each checked against the route's: an unknown or repeated
/// one is refused, naming the ones the route takes.
pub(crate) struct Params(BTreeMap<String, String>);

impl Params {
    pub(crate) fn of(
        operation: &str,
        query: Result<Query<Vec<(String, String)>>, axum::extract::rejection::QueryRejection>,
    ) -> Result<Params, Failure> {
        let spec = spec(operation);
        let Query(pairs) = query
            .map_err(|error| Failure::usage(format!("the query string cannot be read: {error}")))?;
        let allowed: Vec<&str> = spec
            .params
            .iter()
            .filter(|param| param.location == Location::Query)
            .map(|param| param.name)
            .collect();
        let mut params = BTreeMap::new();
        for (name, value) in pairs {
            if !allowed.contains(&name.as_str()) {
                return Err(Failure::usage(format!(
                    "unknown query parameter \"{name}\"; {} {} takes {}",
                    spec.method,
                    spec.path,
                    if allowed.is_empty() {
                        "none".to_owned()
                    } else {
                        allowed.join(", ")
                    }
                )));
            }
            if params.insert(name.clone(), value).is_some() {
                return Err(Failure::usage(format!(
                    "the query parameter \"{name}\" is given twice; give it once"
                )));
            }
        }
        for param in spec.params {
            if param.required
                && param.location == Location::Query
                && !params.contains_key(param.name)
            {
                return Err(Failure::usage(format!(
                    "the query parameter \"{}\" is required: {}",
                    param.name, param.description
                )));
            }
        }
        Ok(Params(params))
    }

    pub(crate) fn get(&self, name: &str) -> Option<String> {
        self.0.get(name).cloned()
    }

    /// A required parameter (checked present by `of`).
    fn required(&self, name: &str) -> String {
        self.get(name).unwrap_or_default()
    }

    /// A number parameter, or `default`.
    pub(crate) fn number(&self, name: &str, default: u64) -> Result<u64, Failure> {
        match self.0.get(name) {
            None => Ok(default),
            Some(text) => text.parse().map_err(|_| {
                Failure::usage(format!(
                    "the query parameter \"{name}\" is \"{text}\"; expected a whole number"
                ))
            }),
        }
    }

    /// An optional number parameter.
    pub(crate) fn optional_number(&self, name: &str) -> Result<Option<u64>, Failure> {
        self.0.get(name).map(|_| self.number(name, 0)).transpose()
    }

    fn flag(&self, name: &str) -> Result<bool, Failure> {
        match self.0.get(name).map(String::as_str) {
            None | Some("false") => Ok(false),
            Some("true") | Some("") => Ok(true),
            Some(other) => Err(Failure::usage(format!(
                "the query parameter \"{name}\" is \"{other}\"; expected true or false"
            ))),
        }
    }

    fn filter(&self) -> FilterText {
        FilterText {
            authority: self.get("authority"),
            programme: self.get("programme"),
            subject: self.get("subject"),
            kind: self.get("kind"),
            measure: self.get("measure"),
        }
    }
}

/// The question's `Query`: as known at `known_at`, never past the record the projections
/// reflect (the writer brings them to the head after each write, while reads go on).
pub(crate) fn question<'a>(
    ledger: &'a crate::ledger::Ledger,
    known_at: Option<&str>,
) -> Result<crate::query::Query<'a>, Failure> {
    let reflected = crate::projection::applied(ledger)
        .map_err(Failure::projection)?
        .map_or(0, |(sequence, _)| sequence);
    questions::query_up_to(ledger, Dialect::Http, known_at, reflected)
}

pub(crate) type QueryPairs =
    Result<Query<Vec<(String, String)>>, axum::extract::rejection::QueryRejection>;

/// Answers a question on a blocking thread; an answer larger than the limit is refused (413).
async fn ask(
    shared: App,
    question: impl FnOnce(&crate::ledger::Ledger) -> Result<String, Failure> + Send + 'static,
) -> Response {
    let limit = shared.limits.answer_bytes;
    answer(shared.read(question).await.and_then(|body| {
        if body.len() > limit {
            Err(Failure::service(
                "too_large",
                format!(
                    "the answer is {} bytes; at most {limit} are sent (SERVER_ANSWER_BYTES_MAX): narrow the question (authority, programme, subject, kind)",
                    body.len()
                ),
            ))
        } else {
            Ok(body)
        }
    }))
}

/// Answers on a blocking thread, an answer bounded by its route (a page, a proof, one record).
async fn read(
    shared: App,
    question: impl FnOnce(&crate::ledger::Ledger) -> Result<String, Failure> + Send + 'static,
) -> Response {
    answer(shared.read(question).await)
}

async fn head(State(shared): State<App>, query: QueryPairs) -> Response {
    if let Err(error) = Params::of("head", query) {
        return failure(&error);
    }
    read(shared, |ledger| {
        Ok(serde_json::to_string(&output::head_result(ledger)).unwrap_or_default())
    })
    .await
}

/// A question route: its parameters checked, then `question` asked on a blocking thread (the
/// answer bounded by `SERVER_ANSWER_BYTES_MAX`).
async fn asked(
    shared: App,
    operation: &'static str,
    query: QueryPairs,
    question: impl FnOnce(&crate::ledger::Ledger, &Params) -> Result<String, Failure> + Send + 'static,
) -> Response {
    match Params::of(operation, query) {
        Ok(params) => ask(shared, move |ledger| question(ledger, &params)).await,
        Err(error) => failure(&error),
    }
}

async fn state(State(shared): State<App>, query: QueryPairs) -> Response {
    asked(shared, "state", query, |ledger, params| {
        let query = known(ledger, params)?;
        let (as_of, filter) = (params.required("as_of"), params.filter());
        let answer = questions::state(&query, Dialect::Http, &as_of, &filter)?;
        Ok(answers::state(&answer, Format::Json))
    })
    .await
}

async fn history(
    State(shared): State<App>,
    Path(subject): Path<String>,
    query: QueryPairs,
) -> Response {
    asked(shared, "history", query, move |ledger, params| {
        let query = known(ledger, params)?;
        let today = params.get("today");
        let answer = questions::history(&query, Dialect::Http, &subject, today.as_deref())?;
        Ok(answers::history(&answer, Format::Json))
    })
    .await
}

async fn diff(State(shared): State<App>, query: QueryPairs) -> Response {
    asked(shared, "diff", query, |ledger, params| {
        let query = known(ledger, params)?;
        let (from, to) = (params.required("from"), params.required("to"));
        let answer = questions::diff(&query, Dialect::Http, &from, &to, &params.filter())?;
        Ok(answers::diff(&answer, Format::Json))
    })
    .await
}

async fn links(
    State(shared): State<App>,
    Path(event): Path<String>,
    query: QueryPairs,
) -> Response {
    asked(shared, "links", query, move |ledger, params| {
        let query = known(ledger, params)?;
        Ok(answers::links(
            &questions::links(&query, &event)?,
            Format::Json,
        ))
    })
    .await
}

async fn subjects(State(shared): State<App>, query: QueryPairs) -> Response {
    asked(shared, "subjects", query, |ledger, params| {
        let query = question(ledger, None)?;
        let answer = questions::subjects(&query, &params.required("q"))?;
        Ok(answers::subjects(&answer, Format::Json))
    })
    .await
}

/// The question as known at the `known_at` parameter (default: what the projections reflect).
fn known<'a>(
    ledger: &'a crate::ledger::Ledger,
    params: &Params,
) -> Result<crate::query::Query<'a>, Failure> {
    question(ledger, params.get("known_at").as_deref())
}

/// Which form of `GET /v1/records` the client asked for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum RecordsForm {
    /// One page of JSON.
    Page,
    /// Server-Sent Events, following the head.
    EventStream,
    /// JSON Lines, following the head.
    JsonLines,
}

fn records_form(headers: &HeaderMap) -> RecordsForm {
    let accept = headers
        .get(header::ACCEPT)
        .and_then(|value| value.to_str().ok())
        .unwrap_or("");
    if accept.contains("text/event-stream") {
        RecordsForm::EventStream
    } else if accept.contains("application/jsonl") || accept.contains("application/x-ndjson") {
        RecordsForm::JsonLines
    } else {
        RecordsForm::Page
    }
}

async fn records(State(shared): State<App>, headers: HeaderMap, query: QueryPairs) -> Response {
    let params = match Params::of("records", query) {
        Ok(params) => params,
        Err(error) => return failure(&error),
    };
    let from = match params.number("from", 1) {
        Ok(from) => from.max(1),
        Err(error) => return failure(&error),
    };
    let form = records_form(&headers);
    if form != RecordsForm::Page {
        if params.get("limit").is_some() {
            return failure(&Failure::usage(
                "the change feed has no \"limit\": it follows the head until the client closes it; ask for application/json to page",
            ));
        }
        return super::feed::follow(shared, from, form).await;
    }
    let page_max = shared.limits.records_page;
    let limit = match params.number("limit", crate::limits::LOG_PAGE_RECORDS_DEFAULT) {
        Ok(limit) if limit <= page_max => limit,
        Ok(limit) => {
            return failure(&Failure::usage(format!(
                "limit {limit} is more than the {page_max} records of a page (SERVER_RECORDS_PAGE_MAX); page with from"
            )));
        }
        Err(error) => return failure(&error),
    };
    read(shared, move |ledger| {
        let (views, last) = output::log_views(ledger, from, limit)?;
        Ok(serde_json::to_string(&output::log_result(&views, last)).unwrap_or_default())
    })
    .await
}

fn sequence_of(text: &str) -> Result<u64, Failure> {
    text.parse().map_err(|_| {
        Failure::usage(format!(
            "\"{text}\" is not a sequence number; expected a whole number from 1"
        ))
    })
}

async fn record(
    State(shared): State<App>,
    Path(sequence): Path<String>,
    query: QueryPairs,
) -> Response {
    if let Err(error) = Params::of("record", query) {
        return failure(&error);
    }
    let sequence = match sequence_of(&sequence) {
        Ok(sequence) => sequence,
        Err(error) => return failure(&error),
    };
    read(shared, move |ledger| {
        let view = output::record_or_not_found(ledger, sequence)?;
        let result = crate::cli::json::ShowResult {
            ok: true,
            record: output::record_json(&view),
        };
        Ok(serde_json::to_string(&result).unwrap_or_default())
    })
    .await
}

async fn checkpoints(State(shared): State<App>, query: QueryPairs) -> Response {
    if let Err(error) = Params::of("checkpoints", query) {
        return failure(&error);
    }
    ask(shared, |ledger| {
        let (_, result) = crate::cli::audit::checkpoints_result(ledger)?;
        Ok(serde_json::to_string(&result).unwrap_or_default())
    })
    .await
}

/// The kept checkpoint numbered `number` (default: the last).
pub(crate) fn kept_checkpoint(
    ledger: &crate::ledger::Ledger,
    number: Option<u64>,
) -> Result<crate::ledger::checkpoint::SignedCheckpoint, Failure> {
    let kept = ledger.checkpoints().map_err(Failure::ledger)?;
    let count = kept.len() as u64;
    let wanted = number.unwrap_or(count);
    kept.into_iter()
        .find(|(kept_number, _)| *kept_number == wanted)
        .map(|(_, signed)| signed)
        .ok_or_else(|| {
            Failure::not_found(if count == 0 {
                "the ledger has issued no checkpoint yet (POST /v1/checkpoints signs one)"
                    .to_owned()
            } else {
                format!("no checkpoint {wanted}; the ledger has issued 1..={count}")
            })
        })
}

async fn prove_inclusion(
    State(shared): State<App>,
    Path(sequence): Path<String>,
    query: QueryPairs,
) -> Response {
    let params = match Params::of("prove_inclusion", query) {
        Ok(params) => params,
        Err(error) => return failure(&error),
    };
    let (sequence, number) = match (sequence_of(&sequence), params.optional_number("checkpoint")) {
        (Ok(sequence), Ok(number)) => (sequence, number),
        (Err(error), _) | (_, Err(error)) => return failure(&error),
    };
    read(shared, move |ledger| {
        let checkpoint = kept_checkpoint(ledger, number)?;
        if sequence == 0 || sequence > checkpoint.checkpoint.size {
            return Err(Failure::not_found(format!(
                "record {sequence} is not in the checkpoint's tree (records 1..={})",
                checkpoint.checkpoint.size
            )));
        }
        let document = crate::proof::prove_inclusion(ledger, sequence, &checkpoint)
            .map_err(crate::cli::audit::proof_failure)?;
        Ok(serde_json::to_string(&document).unwrap_or_default())
    })
    .await
}

async fn prove_consistency(State(shared): State<App>, query: QueryPairs) -> Response {
    let params = match Params::of("prove_consistency", query) {
        Ok(params) => params,
        Err(error) => return failure(&error),
    };
    let numbers = params
        .number("from", 0)
        .and_then(|from| Ok((from, params.optional_number("to")?)));
    let (from, to) = match numbers {
        Ok(numbers) => numbers,
        Err(error) => return failure(&error),
    };
    read(shared, move |ledger| {
        let first = kept_checkpoint(ledger, Some(from))?;
        let second = kept_checkpoint(ledger, to)?;
        let document = crate::proof::prove_consistency(ledger, &first, &second)
            .map_err(crate::cli::audit::proof_failure)?;
        Ok(serde_json::to_string(&document).unwrap_or_default())
    })
    .await
}

async fn openapi(query: QueryPairs) -> Response {
    if let Err(error) = Params::of("openapi", query) {
        return failure(&error);
    }
    json(serde_json::to_string_pretty(&super::openapi::document()).unwrap_or_default())
}

/// The principal of a valid bearer token with `scope`, or 401 (no token, an unknown or revoked
/// one) or 403 (a token without the scope).
fn authorise(shared: &Shared, headers: &HeaderMap, scope: Scope) -> Result<String, Failure> {
    let presented = headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "))
        .map(str::trim);
    let Some(presented) = presented else {
        return Err(Failure::service(
            "unauthorized",
            format!(
                "this route writes and needs `Authorization: Bearer TOKEN` with the {} scope (create one with `sanctions-ledger token create --name NAME --scope {}`)",
                scope.as_str(),
                scope.as_str()
            ),
        ));
    };
    let tokens = shared
        .tokens
        .tokens(&shared.ledger_path)
        .map_err(|error| Failure::service("damaged", error.to_string()))?;
    match tokens::check(&tokens, presented) {
        tokens::Check::Valid(entry) if entry.allows(scope) => Ok(entry.principal),
        tokens::Check::Valid(entry) => Err(Failure::service(
            "forbidden",
            format!(
                "the token {} ({}) has the scope(s) {}, not {}",
                entry.id,
                entry.principal,
                entry
                    .scopes
                    .iter()
                    .map(|scope| scope.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
                scope.as_str()
            ),
        )),
        tokens::Check::Revoked(time) => Err(Failure::service(
            "unauthorized",
            format!("the token was revoked at {time}"),
        )),
        tokens::Check::Unknown => Err(Failure::service(
            "unauthorized",
            "the bearer token is not one of this ledger's (`sanctions-ledger token list` shows them)",
        )),
    }
}

/// 503 when the writer's queue is full: checked before a write's body is read (and again when
/// it is queued), so a flood is refused at once, not after its bodies were parsed.
fn queue_full(shared: &Shared) -> Failure {
    Failure::service(
        "busy",
        format!(
            "the write queue is full ({} requests waiting, SERVER_QUEUE_REQUESTS_MAX); nothing was appended: retry after a second",
            shared.limits.queue_requests
        ),
    )
}

fn room_in_queue(shared: &Shared) -> Result<(), Failure> {
    if shared.queue.capacity() == 0 {
        Err(queue_full(shared))
    } else {
        Ok(())
    }
}

/// Puts a job on the writer's queue: 503 at once when it is full.
fn enqueue(
    shared: &Shared,
    job: impl FnOnce(super::writer::Reply) -> Job,
) -> Result<oneshot::Receiver<Result<String, Failure>>, Failure> {
    let (reply, answer) = oneshot::channel();
    match shared.queue.try_send(job(reply)) {
        Ok(()) => Ok(answer),
        Err(tokio::sync::mpsc::error::TrySendError::Full(_)) => Err(queue_full(shared)),
        Err(tokio::sync::mpsc::error::TrySendError::Closed(_)) => Err(Failure::service(
            "busy",
            "the server is stopping; nothing was appended",
        )),
    }
}

async fn answered(answer: oneshot::Receiver<Result<String, Failure>>) -> Response {
    match answer.await {
        Ok(result) => self::answer(result),
        Err(_) => failure(&Failure::service(
            "busy",
            "the writer stopped before answering (the server is stopping); read the head to see whether the write was done",
        )),
    }
}

/// Reads a body of at most `limit` bytes: 413 beyond it, naming the limit.
async fn body_bytes(
    body: Body,
    headers: &HeaderMap,
    limit: usize,
    name: &str,
) -> Result<Vec<u8>, Failure> {
    let too_large = |size: String| {
        Failure::service(
            "too_large",
            format!("the body is {size} bytes; at most {limit} are taken ({name})"),
        )
    };
    if let Some(length) = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<u64>().ok())
        && length > limit as u64
    {
        return Err(too_large(length.to_string()));
    }
    match axum::body::to_bytes(body, limit).await {
        Ok(bytes) => Ok(bytes.to_vec()),
        Err(error) => {
            let over = std::error::Error::source(&error)
                .is_some_and(|source| source.is::<http_body_util::LengthLimitError>());
            if over {
                Err(too_large(format!("more than {limit}")))
            } else {
                Err(Failure::usage(format!(
                    "the body could not be read: {error}"
                )))
            }
        }
    }
}

fn media_type(headers: &HeaderMap) -> String {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .unwrap_or("")
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase()
}

async fn append(
    State(shared): State<App>,
    headers: HeaderMap,
    query: QueryPairs,
    body: Body,
) -> Response {
    match append_request(shared, headers, query, body).await {
        Ok(answer) => answered(answer).await,
        Err(error) => failure(&error),
    }
}

async fn append_request(
    shared: App,
    headers: HeaderMap,
    query: QueryPairs,
    body: Body,
) -> Result<oneshot::Receiver<Result<String, Failure>>, Failure> {
    Params::of("append", query)?;
    let principal = authorise(&shared, &headers, Scope::Append)?;
    room_in_queue(&shared)?;
    let format = match media_type(&headers).as_str() {
        "application/json" => crate::intake::InputFormat::Json,
        "application/jsonl" | "application/x-ndjson" | "application/json-seq" => {
            crate::intake::InputFormat::JsonLines
        }
        other => {
            return Err(Failure::service(
                "unsupported_media_type",
                format!(
                    "Content-Type \"{other}\": send one event as application/json or a batch as application/jsonl (one event per line)"
                ),
            ));
        }
    };
    let expected_head = match headers.get(header::IF_MATCH) {
        None => None,
        Some(value) => {
            let text = value.to_str().unwrap_or("").trim().trim_matches('"');
            Some(Hash::from_hex(text).ok_or_else(|| {
                Failure::usage(format!(
                    "If-Match \"{text}\" is not a head hash; expected 64 lowercase hexadecimal digits (GET /v1/head)"
                ))
            })?)
        }
    };
    let bytes = body_bytes(
        body,
        &headers,
        shared.limits.append_body_bytes,
        "SERVER_APPEND_BODY_BYTES_MAX",
    )
    .await?;
    // Intake is CPU work: on a blocking thread, and only so many at once, so that the runtime's
    // threads stay free for reads however many writers send.
    let batch = {
        let _permit = shared.intake.acquire().await;
        tokio::task::spawn_blocking(move || {
            crate::intake::read_batch(bytes.as_slice(), "request body", format)
                .map_err(Failure::input)
        })
        .await
        .unwrap_or_else(|error| {
            Err(Failure::service(
                "damaged",
                format!("reading the body stopped unexpectedly: {error}"),
            ))
        })?
    };
    if batch.events.is_empty() {
        return Err(Failure::usage(
            "the body holds no event; send one JSON event, or JSON Lines with one event per line",
        ));
    }
    // Every unresolved reference reported at once, as `append` does, before queueing.
    let batch = shared
        .read(move |ledger| {
            let problems = crate::intake::check_references(&batch, "request body", &mut |id| {
                ledger
                    .sequence_of(id.as_str())
                    .map(|sequence| sequence.is_some())
            })
            .map_err(Failure::ledger)?;
            if problems.is_empty() {
                Ok(batch)
            } else {
                Err(Failure::input(problems))
            }
        })
        .await?;
    enqueue(&shared, |reply| {
        Job::Append(AppendJob {
            events: batch.events,
            lines: batch.lines,
            principal,
            expected_head,
            reply,
        })
    })
}

async fn sign_checkpoint(
    State(shared): State<App>,
    headers: HeaderMap,
    query: QueryPairs,
) -> Response {
    let queued = Params::of("sign_checkpoint", query)
        .and_then(|_| authorise(&shared, &headers, Scope::Checkpoint))
        .and_then(|_| enqueue(&shared, |reply| Job::Checkpoint { reply }));
    match queued {
        Ok(answer) => answered(answer).await,
        Err(error) => failure(&error),
    }
}

async fn import(
    State(shared): State<App>,
    headers: HeaderMap,
    query: QueryPairs,
    body: Body,
) -> Response {
    let params = match Params::of("import", query) {
        Ok(params) => params,
        Err(error) => return failure(&error),
    };
    let principal = match authorise(&shared, &headers, Scope::Import) {
        Ok(principal) => principal,
        Err(error) => return failure(&error),
    };
    if let Err(error) = room_in_queue(&shared) {
        return failure(&error);
    }
    let Ok(_permit) = Arc::clone(&shared.imports).try_acquire_owned() else {
        return failure(&Failure::service(
            "busy",
            format!(
                "{} imports are in progress (SERVER_IMPORTS_IN_FLIGHT_MAX); retry when one is done",
                shared.limits.imports_in_flight
            ),
        ));
    };
    let flags = (|| {
        Ok::<_, Failure>((
            params.flag("dry_run")?,
            params.flag("skip_bad")?,
            params.flag("late")?,
        ))
    })();
    let (dry_run, skip_bad, late) = match flags {
        Ok(flags) => flags,
        Err(error) => return failure(&error),
    };
    let (list, format, published_on, source_url) = (
        params.required("list"),
        params.get("format"),
        params.get("published_on"),
        params.get("source_url"),
    );
    let args = crate::cli::ImportArgs {
        list: &list,
        format: format.as_deref(),
        published_on: published_on.as_deref(),
        source_url: source_url.as_deref(),
        dry_run,
        skip_bad,
        late,
        operator: &principal,
    };
    let file_name = params
        .get("file_name")
        .unwrap_or_else(|| "request body".to_owned());
    let options = match crate::cli::import_options(Dialect::Http, &args, file_name) {
        Ok(options) => options,
        Err(error) => return failure(&error),
    };
    let bytes = match body_bytes(
        body,
        &headers,
        shared.limits.import_body_bytes,
        "SERVER_IMPORT_BODY_BYTES_MAX",
    )
    .await
    {
        Ok(bytes) => bytes,
        Err(error) => return failure(&error),
    };
    match enqueue(&shared, |reply| Job::Import {
        bytes,
        options: Box::new(options),
        reply,
    }) {
        Ok(answer) => answered(answer).await,
        Err(error) => failure(&error),
    }
}
