//! The auditor's web view, served at `/` by `serve`: server-rendered HTML pages over the same
//! questions as the JSON API (`cli::questions`), with assets embedded in the binary (nothing is
//! fetched from elsewhere). Every table works without script; `app.js` only enhances: the
//! pickers ask as soon as they change, and the event page checks the record's inclusion proof
//! against the latest checkpoint in the browser (WebCrypto SHA-256 and Ed25519).
//!
//! Owns the pages' routes, their parameters and their HTML. Must not: answer a question with
//! code of its own (the pages render the answers `questions` gives).

mod html;
mod pages;
mod svg;

use std::sync::{Arc, Mutex};

use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::Shared;
use super::routes::{Params, QueryPairs, kept_checkpoint, question, status_of};
use crate::cli::answers::{self, Format};
use crate::cli::output::{self, Failure};
use crate::cli::questions::{self, Dialect, FilterText};
use crate::ledger::Ledger;
use crate::ledger::chain::Hash;
use html::{Nav, code, esc, facts, record_link};

type App = Arc<Shared>;

const STYLE: &str = include_str!("assets/style.css");
const SCRIPT: &str = include_str!("assets/app.js");

/// What the server's own check of the log found, shown on the overview.
#[derive(Clone, Debug, Default)]
pub(crate) enum Verification {
    /// Not started (the server was started without it).
    #[default]
    NotRun,
    /// Under way since this time.
    Running(String),
    /// Done.
    Done {
        /// When it ended.
        at: String,
        /// Records 1..=through were checked.
        through: u64,
        /// The verdict in words, or the failure.
        result: Result<String, String>,
    },
}

/// Checks the log (`verify --log-only`: records, chain, tree, kept checkpoints) on a thread of
/// its own, from a reader of its own, and keeps the verdict for the overview.
pub(crate) fn verify_in_background(ledger_path: std::path::PathBuf) -> Arc<Mutex<Verification>> {
    let status = Arc::new(Mutex::new(Verification::Running(now())));
    let keep = Arc::clone(&status);
    let spawned = std::thread::Builder::new()
        .name("sanctions-ledger-verify".to_owned())
        .spawn(move || {
            let verdict = Ledger::open_read(&ledger_path)
                .map_err(|error| error.to_string())
                .and_then(|ledger| {
                    let options = crate::ledger::VerifyOptions {
                        log_only: true,
                        ..Default::default()
                    };
                    ledger
                        .verify_with(&options, &mut |_| {})
                        .map_err(|failure| failure.to_string())
                });
            let done = match verdict {
                Ok(verified) => Verification::Done {
                    at: now(),
                    through: verified.records,
                    result: Ok(format!(
                        "intact: {} record(s) read back, each hash and link checked, the tree recomputed (root {}), {} kept checkpoint(s) matched",
                        verified.records,
                        Hash(verified.tree_root),
                        verified.checkpoints_checked
                    )),
                },
                Err(reason) => Verification::Done {
                    at: now(),
                    through: 0,
                    result: Err(reason),
                },
            };
            *keep.lock().unwrap_or_else(|poisoned| poisoned.into_inner()) = done;
        });
    if spawned.is_err() {
        *status
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = Verification::NotRun;
    }
    status
}

fn now() -> String {
    use crate::ledger::Clock;
    crate::ledger::SystemClock.now().to_string()
}

/// An HTML answer, with headers that keep the page to its own assets.
fn html_response(status: StatusCode, body: String) -> Response {
    let mut response = (status, body).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
        ),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response
}

/// A failure as a page: the message, with the status its kind means.
fn failure_page(failure: &Failure) -> Response {
    let status = status_of(failure.kind());
    let body = format!(
        "<p class=\"error\" role=\"alert\" id=\"error\" data-kind=\"{}\">{}</p><p>{}</p>",
        esc(failure.kind()),
        esc(failure.message()),
        html::link("/", "Back to the overview")
    );
    let title = if status == StatusCode::NOT_FOUND {
        "Not found"
    } else if status.is_client_error() {
        "That question cannot be answered"
    } else {
        "The ledger could not answer"
    };
    html_response(status, html::page(title, Nav::Other, &body, ""))
}

/// Renders a page on a blocking thread with the ledger shared for reading.
async fn render(
    shared: App,
    operation: &'static str,
    query: QueryPairs,
    page: impl FnOnce(&Ledger, &Shared, &Params) -> Result<String, Failure> + Send + 'static,
) -> Response {
    let params = match Params::of(operation, query) {
        Ok(params) => params,
        Err(error) => return failure_page(&error),
    };
    let keep = Arc::clone(&shared);
    match shared
        .read(move |ledger| page(ledger, &keep, &params))
        .await
    {
        Ok(body) => html_response(StatusCode::OK, body),
        Err(error) => failure_page(&error),
    }
}

/// A parameter, empty taken as not given (a form sends its empty fields).
fn given(params: &Params, name: &str) -> Option<String> {
    params.get(name).filter(|value| !value.trim().is_empty())
}

fn asked(params: &Params, date: &str, to: Option<&str>) -> pages::Asked {
    pages::Asked {
        date: given(params, date),
        to: to.and_then(|to| given(params, to)),
        known_at: given(params, "known_at"),
        authority: given(params, "authority"),
        programme: given(params, "programme"),
        kind: given(params, "kind"),
        measure: given(params, "measure"),
    }
}

fn filter_of(asked: &pages::Asked) -> FilterText {
    FilterText {
        authority: asked.authority.clone(),
        programme: asked.programme.clone(),
        subject: None,
        kind: asked.kind.clone(),
        measure: asked.measure.clone(),
    }
}

/// `GET /`: what the ledger holds, its last checkpoint and witnesses, the lists observed, the
/// server's own check, and the commands that check it independently.
pub(crate) async fn overview(
    State(shared): State<App>,
    headers: HeaderMap,
    query: QueryPairs,
) -> Response {
    let host = headers
        .get(header::HOST)
        .and_then(|value| value.to_str().ok())
        .filter(|host| {
            host.chars()
                .all(|c| c.is_ascii_alphanumeric() || ".-:[]".contains(c))
        })
        .unwrap_or("127.0.0.1:8080")
        .to_owned();
    render(shared, "web_overview", query, move |ledger, shared, _| {
        let head = ledger.head();
        let genesis = ledger.genesis_hash();
        let origin = crate::ledger::checkpoint::origin_of(
            crate::ledger::merkle::TreeVersion::CURRENT,
            &genesis,
        );
        let query = question(ledger, None)?;
        let coverage = query.coverage().map_err(Failure::projection)?;
        let last = ledger.last_checkpoint().map_err(Failure::ledger)?;
        let mut body = String::new();
        let checkpoint = match &last {
            Some((number, signed)) => {
                let behind = head.sequence.saturating_sub(signed.checkpoint.size);
                format!(
                    "number {number}: {} record(s), root {}, made {}{}",
                    signed.checkpoint.size,
                    code(&Hash(signed.checkpoint.root).to_hex()),
                    esc(&signed.checkpoint.time.to_string()),
                    if behind > 0 {
                        format!("; {behind} record(s) appended since")
                    } else {
                        String::new()
                    }
                )
            }
            None => "none yet: the operator signs one with <code>sanctions-ledger checkpoint --key KEY</code>".into(),
        };
        let signers = match &last {
            Some((_, signed)) => {
                let operator = &signed.checkpoint.name;
                let mut names: Vec<String> = Vec::new();
                for signature in &signed.signatures {
                    let role = if signature.signature.len() == 72 {
                        "witness cosignature"
                    } else if signature.name == *operator || signature.name == origin {
                        "operator"
                    } else {
                        "signature"
                    };
                    names.push(format!("{} ({role})", code(&signature.signer())));
                }
                names.join("<br>")
            }
            None => "—".into(),
        };
        let verification = shared
            .verification
            .lock()
            .map(|status| status.clone())
            .unwrap_or_default();
        let verified = match verification {
            Verification::NotRun => "not checked by this server".to_owned(),
            Verification::Running(since) => {
                format!("this server is checking the log now (since {})", esc(&since))
            }
            Verification::Done {
                at,
                through,
                result: Ok(words),
            } => format!(
                "<span id=\"verified\" data-state=\"intact\">{} at {}, records 1..={through}</span>",
                esc(&words),
                esc(&at)
            ),
            Verification::Done {
                at,
                result: Err(reason),
                ..
            } => format!(
                "<span id=\"verified\" data-state=\"failed\" class=\"error\">FAILED at {}: {}</span>",
                esc(&at),
                esc(&reason)
            ),
        };
        body.push_str(&facts(
            "holds",
            &[
                (
                    "Records",
                    format!("<span id=\"records\">{}</span>", head.sequence),
                ),
                ("Head", code(&head.hash.to_hex())),
                ("Genesis", code(&genesis.to_hex())),
                ("Log origin", code(&origin)),
                ("Last checkpoint", checkpoint),
                ("Signed by", signers),
                ("Verified", verified),
            ],
        ));
        body.push_str("<h2>Lists observed</h2>");
        if coverage.is_empty() {
            body.push_str("<p>No official list has been imported: every record was appended as an event (each with its sources).</p>");
        } else {
            body.push_str(&pages::coverage_table(
                "lists",
                "Imported lists and how far their observation reaches",
                &coverage,
            ));
        }
        let base = format!("http://{host}");
        let key = shared
            .verifier
            .as_ref()
            .map_or_else(|| "OPERATOR.pub".to_owned(), |key| key.text());
        body.push_str("<h2>Check it yourself</h2><p>Nothing here asks you to trust this server. Mirror the log, check every record, and compare the signed checkpoint with the operator's public key you hold (from the operator, not from this page):</p>");
        body.push_str(&format!(
            "<pre id=\"commands\"><code>sanctions-ledger follow {base}/ mirror --key {}\nsanctions-ledger --ledger mirror verify\ncurl -s {base}/checkpoint -o checkpoint.txt\nsanctions-ledger --ledger mirror verify --checkpoint checkpoint.txt --key {}</code></pre>",
            esc(&key),
            esc(&key)
        ));
        body.push_str(&format!(
            "<p>Start from {}, {}, {} or {}.</p>",
            html::link("/state?as_of=2021-03-22", "the state on 22 March 2021"),
            html::link("/graph", "who answered whom"),
            html::link("/subjects", "a subject by name"),
            record_link(head.sequence.max(1))
        ));
        Ok(html::page(
            "What this ledger holds",
            Nav::Overview,
            &body,
            &pages::footer(&query.known_at()),
        ))
    })
    .await
}

/// `GET /state`: the listings in force on a date.
pub(crate) async fn state(State(shared): State<App>, query: QueryPairs) -> Response {
    let rows_max = crate::limits::WEB_TABLE_ROWS_MAX;
    render(shared, "web_state", query, move |ledger, _, params| {
        let asked = asked(params, "as_of", None);
        let answer = match &asked.date {
            Some(as_of) => {
                let query = question(ledger, asked.known_at.as_deref())?;
                Some(questions::state(
                    &query,
                    Dialect::Http,
                    as_of,
                    &filter_of(&asked),
                )?)
            }
            None => None,
        };
        let (body, footer) = pages::state(&asked, answer.as_ref(), rows_max);
        let title = match &asked.date {
            Some(date) => format!("In force on {date}"),
            None => "State as of a date".to_owned(),
        };
        Ok(html::page(&title, Nav::State, &body, &footer))
    })
    .await
}

/// `GET /state.csv`: the same answer as CSV.
pub(crate) async fn state_csv(State(shared): State<App>, query: QueryPairs) -> Response {
    let params = match Params::of("web_state_csv", query) {
        Ok(params) => params,
        Err(error) => return failure_page(&error),
    };
    let limit = shared.limits.answer_bytes;
    let result = shared
        .read(move |ledger| {
            let asked = asked(&params, "as_of", None);
            let as_of = asked.date.clone().ok_or_else(|| {
                Failure::usage("the query parameter \"as_of\" is required: the effective date (YYYY-MM-DD)")
            })?;
            let query = question(ledger, asked.known_at.as_deref())?;
            let answer = questions::state(&query, Dialect::Http, &as_of, &filter_of(&asked))?;
            let body = answers::state(&answer, Format::Csv);
            if body.len() > limit {
                return Err(Failure::service(
                    "too_large",
                    format!(
                        "the answer is {} bytes; at most {limit} are sent (SERVER_ANSWER_BYTES_MAX): narrow the question",
                        body.len()
                    ),
                ));
            }
            Ok((as_of, body))
        })
        .await;
    match result {
        Ok((as_of, body)) => {
            let mut response = (StatusCode::OK, body).into_response();
            let headers = response.headers_mut();
            headers.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/csv; charset=utf-8"),
            );
            if let Ok(value) = HeaderValue::from_str(&format!(
                "attachment; filename=\"state-{}.csv\"",
                as_of.replace(|c: char| !c.is_ascii_alphanumeric() && c != '-', "")
            )) {
                headers.insert(header::CONTENT_DISPOSITION, value);
            }
            response
        }
        Err(error) => failure_page(&error),
    }
}

/// `GET /diff`: what changed between two dates.
pub(crate) async fn diff(State(shared): State<App>, query: QueryPairs) -> Response {
    let rows_max = crate::limits::WEB_TABLE_ROWS_MAX;
    render(shared, "web_diff", query, move |ledger, _, params| {
        let asked = asked(params, "from", Some("to"));
        let answer = match (&asked.date, &asked.to) {
            (Some(from), Some(to)) => {
                let query = question(ledger, asked.known_at.as_deref())?;
                Some(questions::diff(
                    &query,
                    Dialect::Http,
                    from,
                    to,
                    &filter_of(&asked),
                )?)
            }
            _ => None,
        };
        let (body, footer) = pages::diff(&asked, answer.as_ref(), rows_max);
        Ok(html::page(
            "What changed between two dates",
            Nav::Diff,
            &body,
            &footer,
        ))
    })
    .await
}

/// `GET /subject/{subject}`: a subject's names, identifiers and listings across the years.
pub(crate) async fn subject(
    State(shared): State<App>,
    Path(subject): Path<String>,
    query: QueryPairs,
) -> Response {
    render(shared, "web_subject", query, move |ledger, _, params| {
        let known_at = given(params, "known_at");
        let today = given(params, "today").unwrap_or_else(|| questions::today_utc().to_string());
        let query = question(ledger, known_at.as_deref())?;
        let answer = questions::history(&query, Dialect::Http, &subject, Some(&today))?;
        let (body, footer) = pages::subject(&answer, known_at.as_deref(), &today);
        let title = match answer.names.first() {
            Some(name) => format!("{name} ({})", answer.subject),
            None => answer.subject.clone(),
        };
        Ok(html::page(&title, Nav::Other, &body, &footer))
    })
    .await
}

/// `GET /subjects`: subjects by name.
pub(crate) async fn subjects(State(shared): State<App>, query: QueryPairs) -> Response {
    render(shared, "web_subjects", query, |ledger, _, params| {
        let text = given(params, "q");
        let answer = match &text {
            Some(text) => Some(questions::subjects(&question(ledger, None)?, text)?),
            None => None,
        };
        let (body, footer) = pages::subjects(text.as_deref(), answer.as_ref());
        Ok(html::page("Find a subject", Nav::Subjects, &body, &footer))
    })
    .await
}

/// `GET /graph`: who answered whom.
pub(crate) async fn graph(State(shared): State<App>, query: QueryPairs) -> Response {
    render(shared, "web_graph", query, |ledger, _, params| {
        let known_at = given(params, "known_at");
        let query = question(ledger, known_at.as_deref())?;
        let graph = query.answer_graph().map_err(Failure::projection)?;
        let (body, footer) = pages::graph(&graph, known_at.as_deref());
        Ok(html::page("Who answered whom", Nav::Graph, &body, &footer))
    })
    .await
}

/// `GET /event/{sequence}`: one record as recorded, its links, and the proof check.
pub(crate) async fn event(
    State(shared): State<App>,
    Path(sequence): Path<String>,
    query: QueryPairs,
) -> Response {
    render(shared, "web_event", query, move |ledger, shared, _| {
        let sequence: u64 = sequence.parse().map_err(|_| {
            Failure::usage(format!(
                "\"{sequence}\" is not a record's sequence number; expected a whole number from 1"
            ))
        })?;
        let view = output::record_or_not_found(ledger, sequence)?;
        let record = output::record_json(&view);
        let event = serde_json::to_value(&record.event).unwrap_or_default();
        let pretty = serde_json::to_string_pretty(&event).unwrap_or_default();
        let query = question(ledger, None)?;
        let id = view.event.id().to_string();
        let mut body = facts(
            "record",
            &[
                (
                    "Sequence",
                    format!("<span id=\"sequence\">{sequence}</span>"),
                ),
                (
                    "Record hash (BLAKE3)",
                    format!("<code id=\"record-hash\">{}</code>", esc(&view.hash.to_hex())),
                ),
                ("Previous record's hash", code(&view.record.previous().to_hex())),
                ("Recorded at", esc(&view.record.recorded_at.to_string())),
                ("Appended by", esc(&view.record.appended_by)),
                ("Event id", code(&id)),
                ("Kind", esc(view.event.body().kind())),
                ("Effective on", esc(&view.event.effective_on().to_string())),
            ],
        );
        let sources = event
            .get("sources")
            .and_then(|sources| sources.as_array())
            .cloned()
            .unwrap_or_default();
        body.push_str("<h2>Sources</h2>");
        if sources.is_empty() {
            body.push_str("<p>None given in the record.</p>");
        } else {
            body.push_str("<ul id=\"sources\">");
            for source in &sources {
                let text = |name: &str| source.get(name).and_then(|v| v.as_str()).unwrap_or("");
                body.push_str(&format!(
                    "<li>{}: <a href=\"{}\" rel=\"noreferrer noopener\">{}</a>{}</li>",
                    esc(text("publisher")),
                    esc(text("url")),
                    esc(if text("title").is_empty() {
                        text("url")
                    } else {
                        text("title")
                    }),
                    if text("published_on").is_empty() {
                        String::new()
                    } else {
                        format!(", published {}", esc(text("published_on")))
                    }
                ));
            }
            body.push_str("</ul>");
        }
        body.push_str("<h2>Linked events</h2>");
        match questions::links(&query, &id) {
            Ok(answer) => body.push_str(&pages::links(&answer)),
            Err(error) => body.push_str(&format!("<p>{}</p>", esc(error.message()))),
        }
        body.push_str(&proof_section(ledger, shared, sequence, &view.hash)?);
        body.push_str(&format!(
            "<h2>The event as recorded</h2><p>As the JSON API gives it (<a href=\"/v1/records/{sequence}\">/v1/records/{sequence}</a>); the record's stored bytes are what the proof above checks.</p><pre id=\"event-json\" tabindex=\"0\"><code>{}</code></pre>",
            esc(&pretty)
        ));
        let title = format!(
            "Record {sequence}: {} of {}",
            view.event.body().kind(),
            view.event.effective_on()
        );
        Ok(html::page(
            &title,
            Nav::Other,
            &body,
            &pages::footer(&query.known_at()),
        ))
    })
    .await
}

/// The proof section of an event page: the latest checkpoint that covers the record, the key
/// it is checked against, and where the browser writes what it checked.
fn proof_section(
    ledger: &Ledger,
    shared: &Shared,
    sequence: u64,
    hash: &Hash,
) -> Result<String, Failure> {
    let mut out = String::from(
        "<section id=\"proof-section\" aria-labelledby=\"proof-heading\"><h2 id=\"proof-heading\">Proof that this record is in the signed log</h2>",
    );
    let checkpoint = match kept_checkpoint(ledger, None) {
        Ok(signed) if signed.checkpoint.size >= sequence => Some(signed),
        Ok(_) | Err(_) => None,
    };
    let Some(signed) = checkpoint else {
        out.push_str("<p id=\"proof-result\" data-state=\"none\">No checkpoint covers this record yet: it was appended after the last one the operator signed (or none is signed). The operator signs one with <code>sanctions-ledger checkpoint --key KEY</code>.</p></section>");
        return Ok(out);
    };
    let number = ledger.checkpoints().map_err(Failure::ledger)?.len();
    let key = shared
        .verifier
        .as_ref()
        .map(|key| key.text())
        .unwrap_or_default();
    out.push_str(&format!(
        "<div id=\"proof\" data-sequence=\"{sequence}\" data-checkpoint=\"{number}\" data-record-hash=\"{}\" data-origin=\"{}\" data-size=\"{}\"><p>Checked here, in your browser: the record's stored bytes are hashed (SHA-256, RFC 6962 leaf), the audit path served by <code>/v1/proofs/inclusion/{sequence}</code> is followed to a root, the root is compared with checkpoint {number}'s (size {}), and the checkpoint's Ed25519 signature is checked against the key below. The record's own BLAKE3 hash is compared with the one shown above, not recomputed (browsers have no BLAKE3).</p><form id=\"proof-form\"><div class=\"field wide\"><label for=\"proof-key\">The operator's public key</label><input type=\"text\" id=\"proof-key\" name=\"key\" value=\"{}\" spellcheck=\"false\" autocomplete=\"off\" aria-describedby=\"proof-key-hint\"><small id=\"proof-key-hint\">{}</small></div><div class=\"field submit\"><button type=\"submit\" id=\"proof-check\">Check the proof</button></div></form><p id=\"proof-result\" data-state=\"unchecked\" role=\"status\" aria-live=\"polite\">Not checked: this needs JavaScript. Without it, check offline: <code>sanctions-ledger prove inclusion {sequence} --out proof.json</code>, then <code>sanctions-ledger verify-proof proof.json --key KEY</code>.</p><ol id=\"proof-steps\"></ol></div></section>",
        esc(&hash.to_hex()),
        esc(&signed.checkpoint.origin()),
        signed.checkpoint.size,
        signed.checkpoint.size,
        esc(&key),
        if key.is_empty() {
            "This server was not given the operator's key: paste the one you hold."
        } else {
            "Filled in by this server: compare it with the key you hold, or paste yours."
        }
    ));
    Ok(out)
}

/// `GET /assets/{name}`: the stylesheet and the script, embedded in the binary.
pub(crate) async fn asset(Path(name): Path<String>, query: QueryPairs) -> Response {
    if let Err(error) = Params::of("web_asset", query) {
        return failure_page(&error);
    }
    let (body, media) = match name.as_str() {
        "style.css" => (STYLE, "text/css; charset=utf-8"),
        "app.js" => (SCRIPT, "text/javascript; charset=utf-8"),
        other => {
            return failure_page(&Failure::not_found(format!(
                "no asset \"{other}\"; the assets are style.css and app.js"
            )));
        }
    };
    let mut response = (StatusCode::OK, body).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(media));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    response
}
