//! The C2SP tlog-tiles paths, served from the ledger: `/checkpoint`, `/tile/...`, and the
//! genesis beside them. The same bytes `sanctions-ledger tiles` writes into a folder, so a
//! client, a mirror or a witness reads the log the same way from either.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::Shared;
use super::routes::{self, QueryPairs};
use crate::cli::output::Failure;
use crate::cli::publish::tiles_failure;
use crate::ledger::tiles::{Tile, TilesError};

/// Full tiles and entry bundles never change: clients and caches may keep them for a year.
const IMMUTABLE: &str = "public, max-age=31536000, immutable";

fn answer(bytes: Vec<u8>, content_type: &'static str, cache: &'static str) -> Response {
    let mut response = (StatusCode::OK, bytes).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    response
}

pub(crate) async fn checkpoint(State(shared): State<Arc<Shared>>, query: QueryPairs) -> Response {
    if let Err(error) = routes::Params::of("tlog_checkpoint", query) {
        return routes::failure(&error);
    }
    let found = shared
        .read(|ledger| match ledger.publishable_checkpoint() {
            Ok(signed) => Ok(signed.text().into_bytes()),
            Err(TilesError::NoCheckpoint(message)) => Err(Failure::not_found(message)),
            Err(error) => Err(tiles_failure(error)),
        })
        .await;
    match found {
        Ok(text) => answer(text, "text/plain; charset=utf-8", "no-cache"),
        Err(error) => routes::failure(&error),
    }
}

pub(crate) async fn genesis(State(shared): State<Arc<Shared>>, query: QueryPairs) -> Response {
    if let Err(error) = routes::Params::of("tlog_genesis", query) {
        return routes::failure(&error);
    }
    match shared
        .read(|ledger| Ok(ledger.genesis_bytes().to_vec()))
        .await
    {
        Ok(bytes) => answer(bytes, "application/octet-stream", IMMUTABLE),
        Err(error) => routes::failure(&error),
    }
}

pub(crate) async fn tile(
    State(shared): State<Arc<Shared>>,
    Path(path): Path<String>,
    query: QueryPairs,
) -> Response {
    if let Err(error) = routes::Params::of("tlog_tile", query) {
        return routes::failure(&error);
    }
    let Some(tile) = Tile::parse(&format!("tile/{path}")) else {
        return routes::failure(&Failure::not_found(format!(
            "tile/{path} is not a tile path: tile/<L>/<N>[.p/<W>] or tile/entries/<N>[.p/<W>], N in three-digit groups (x001/234), W from 1 to 255"
        )));
    };
    let found = shared
        .read(move |ledger| match ledger.tile(&tile) {
            Ok(bytes) => Ok(bytes),
            Err(error @ TilesError::BeyondHead { .. }) => {
                Err(Failure::not_found(error.to_string()))
            }
            Err(error) => Err(tiles_failure(error)),
        })
        .await;
    match found {
        Ok(bytes) => answer(bytes, "application/octet-stream", IMMUTABLE),
        Err(error) => routes::failure(&error),
    }
}
