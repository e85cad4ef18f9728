//! What the server streams: the change feed (`GET /v1/records` with Accept `text/event-stream`
//! or `application/jsonl`: the records from a sequence, then each new one as it is
//! acknowledged, with the stored bytes and hash so a follower can check them itself) and bundles
//! (`GET /v1/bundle`, written to a temporary file under the read lock, then streamed without it).
//!
//! Owns the feed's framing and pacing. Must not: hold the ledger's lock while a client reads.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use tokio::sync::{OwnedSemaphorePermit, watch};

use super::Shared;
use super::routes::{self, Params, RecordsForm};
use crate::cli::json::FeedRecord;
use crate::cli::output::{self, Failure};
use crate::intake::shape::HashHex;
use crate::ledger::RecordView;
use crate::limits;

fn feed_record(view: &RecordView) -> Result<FeedRecord, Failure> {
    let bytes = view.record.to_bytes().map_err(|error| {
        Failure::service(
            "damaged",
            format!("record {} cannot be encoded: {error}", view.record.sequence),
        )
    })?;
    Ok(FeedRecord {
        sequence: view.record.sequence,
        hash: HashHex(view.hash.to_hex()),
        bytes: base64::engine::general_purpose::STANDARD.encode(bytes),
        record: output::record_json(view),
    })
}

fn frame(form: RecordsForm, record: &FeedRecord) -> Bytes {
    let json = serde_json::to_string(record).unwrap_or_default();
    Bytes::from(match form {
        RecordsForm::EventStream => {
            format!("id: {}\nevent: record\ndata: {json}\n\n", record.sequence)
        }
        _ => format!("{json}\n"),
    })
}

fn error_frame(form: RecordsForm, failure: &Failure) -> Bytes {
    let json = serde_json::to_string(&failure.to_json()).unwrap_or_default();
    Bytes::from(match form {
        RecordsForm::EventStream => format!("event: error\ndata: {json}\n\n"),
        _ => format!("{json}\n"),
    })
}

fn heartbeat(form: RecordsForm) -> Bytes {
    Bytes::from_static(match form {
        RecordsForm::EventStream => b": keep-alive\n\n",
        _ => b"\n",
    })
}

struct Feed {
    shared: Arc<Shared>,
    next: u64,
    form: RecordsForm,
    buffer: VecDeque<Bytes>,
    head: watch::Receiver<u64>,
    stopping: watch::Receiver<bool>,
    done: bool,
    _permit: OwnedSemaphorePermit,
}

async fn step(mut feed: Feed) -> Option<(Result<Bytes, Infallible>, Feed)> {
    loop {
        if let Some(chunk) = feed.buffer.pop_front() {
            return Some((Ok(chunk), feed));
        }
        if feed.done || *feed.stopping.borrow() {
            return None;
        }
        let head = *feed.head.borrow_and_update();
        if feed.next <= head {
            let from = feed.next;
            let to = head.min(from.saturating_add(feed.shared.limits.records_page.max(1) - 1));
            let form = feed.form;
            let page = feed
                .shared
                .read(move |ledger| {
                    ledger
                        .records(from, to)
                        .map(|view| {
                            let view = view.map_err(Failure::ledger)?;
                            Ok(frame(form, &feed_record(&view)?))
                        })
                        .collect::<Result<Vec<Bytes>, Failure>>()
                })
                .await;
            match page {
                Ok(frames) => {
                    feed.next = to + 1;
                    feed.buffer.extend(frames);
                }
                Err(failure) => {
                    feed.buffer.push_back(error_frame(feed.form, &failure));
                    feed.done = true;
                }
            }
            continue;
        }
        let beat = Duration::from_secs(limits::SERVER_FEED_HEARTBEAT_SECS);
        tokio::select! {
            changed = feed.head.changed() => {
                if changed.is_err() {
                    feed.done = true;
                }
            }
            _ = feed.stopping.changed() => {}
            _ = tokio::time::sleep(beat) => feed.buffer.push_back(heartbeat(feed.form)),
        }
    }
}

/// The change feed from `from`.
pub(crate) async fn follow(shared: Arc<Shared>, from: u64, form: RecordsForm) -> Response {
    let Ok(permit) = Arc::clone(&shared.feeds).try_acquire_owned() else {
        return routes::failure(&Failure::service(
            "busy",
            format!(
                "{} change feeds are open (SERVER_FEEDS_MAX); retry shortly",
                shared.limits.feeds
            ),
        ));
    };
    let feed = Feed {
        head: shared.head.clone(),
        stopping: shared.stopping.clone(),
        shared,
        next: from,
        form,
        buffer: VecDeque::new(),
        done: false,
        _permit: permit,
    };
    let content_type = match form {
        RecordsForm::EventStream => "text/event-stream",
        _ => "application/jsonl",
    };
    (
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
        ],
        Body::from_stream(futures_util::stream::unfold(feed, step)),
    )
        .into_response()
}

/// Where bundles are written before they are streamed (inside the ledger folder; emptied of
/// leftovers when the server starts).
pub(crate) fn bundle_folder(ledger: &std::path::Path) -> std::path::PathBuf {
    ledger.join("tmp")
}

/// `GET /v1/bundle`.
pub(crate) async fn bundle(
    State(shared): State<Arc<Shared>>,
    query: Result<Query<Vec<(String, String)>>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let params = match Params::of("bundle", query) {
        Ok(params) => params,
        Err(error) => return routes::failure(&error),
    };
    let numbers = params
        .number("from", 1)
        .and_then(|from| Ok((from, params.optional_number("checkpoint")?)));
    let (from, number) = match numbers {
        Ok(numbers) => numbers,
        Err(error) => return routes::failure(&error),
    };
    let written = shared
        .read(move |ledger| {
            let checkpoint = routes::kept_checkpoint(ledger, number)?;
            let folder = bundle_folder(ledger.path());
            let io = |error: std::io::Error| {
                Failure::service("log_io", format!("{}: {error}", folder.display()))
            };
            std::fs::create_dir_all(&folder).map_err(io)?;
            let path = folder.join(format!(
                "bundle-{}-{from}-{}",
                std::process::id(),
                crate::ledger::Clock::now(&crate::ledger::SystemClock).unix_micros()
            ));
            let file = std::fs::OpenOptions::new()
                .read(true)
                .write(true)
                .create_new(true)
                .open(&path)
                .map_err(io)?;
            let exported = ledger.export(&file, &checkpoint, from, &mut |_| {});
            // The file is read through its handle: its name is not needed any more.
            let _ = std::fs::remove_file(&path);
            exported.map_err(crate::cli::audit::bundle_failure)?;
            Ok(file)
        })
        .await;
    let file = match written {
        Ok(file) => file,
        Err(error) => return routes::failure(&error),
    };
    let length = file.metadata().map(|metadata| metadata.len()).ok();
    let mut file = tokio::fs::File::from_std(file);
    if let Err(error) = tokio::io::AsyncSeekExt::rewind(&mut file).await {
        return routes::failure(&Failure::service("log_io", error.to_string()));
    }
    let chunks = futures_util::stream::unfold(Some(file), |file| async move {
        use tokio::io::AsyncReadExt;
        let mut file = file?;
        let mut buffer = vec![0u8; 64 * 1024];
        match file.read(&mut buffer).await {
            Ok(0) => None,
            Ok(read) => {
                buffer.truncate(read);
                Some((Ok::<Bytes, std::io::Error>(Bytes::from(buffer)), Some(file)))
            }
            Err(error) => Some((Err(error), None)),
        }
    });
    let mut response = (
        StatusCode::OK,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/octet-stream"),
        )],
        Body::from_stream(chunks),
    )
        .into_response();
    if let Some(length) = length
        && let Ok(value) = HeaderValue::from_str(&length.to_string())
    {
        response.headers_mut().insert(header::CONTENT_LENGTH, value);
    }
    response
}
