//! The server's OpenAPI 3.1 document, generated from the route table (`routes::ROUTES`) and the
//! JSON Schemas the command line's output is described by (`crate::schemas`), so it cannot
//! drift from what is served. Checked in as `schemas/openapi.json` (tests/server_api.rs fails
//! when it differs from this).
//!
//! Owns the document's layout. Must not: describe a route or a status the router does not have.

use serde_json::{Map, Value, json};

use super::routes::{COMMON_STATUSES, Location, ROUTES, RouteSpec};

/// The name of an embedded schema file in `components/schemas`.
fn component(file: &str) -> String {
    file.trim_end_matches(".schema.json")
        .replace(['/', '.'], "-")
}

fn reference(file: &str) -> Value {
    json!({ "$ref": format!("#/components/schemas/{}", component(file)) })
}

/// What a status means, in a few words.
pub fn status_text(status: u16) -> &'static str {
    match status {
        200 => "The answer.",
        400 => {
            "Bad input: a parameter, the body, or an event was refused (each problem named); nothing was changed."
        }
        401 => "No bearer token, or one that is unknown or revoked; nothing was changed.",
        403 => "The token lacks the route's scope; nothing was changed.",
        404 => "The record, subject, event or checkpoint asked for is not in the ledger.",
        405 => "Not a method of this path (the Allow header says which are).",
        408 => "The request took longer than its timeout (SERVER_REQUEST_TIMEOUT_MS).",
        409 => {
            "A conflict: an event id already recorded with other content, or no signing key configured."
        }
        412 => "If-Match named a head hash that is not the head's; nothing was appended.",
        431 => {
            "The request's head is larger than SERVER_HEADER_BYTES_MAX or has more than 100 fields; answered by the HTTP layer, with no body, and the connection closed."
        }
        413 => "The body or the answer is larger than its limit (named in the message).",
        415 => "The body's Content-Type is not one the route takes.",
        500 => {
            "The ledger's storage failed, or damage was found; nothing half-done is acknowledged."
        }
        503 => {
            "Busy (the write queue, connections, imports or feeds are at their limit) or stopping; retry after the Retry-After seconds."
        }
        _ => "",
    }
}

fn operation(spec: &RouteSpec) -> Value {
    let mut operation = Map::new();
    operation.insert("operationId".into(), json!(spec.operation));
    operation.insert("summary".into(), json!(spec.summary));
    let parameters: Vec<Value> = spec
        .params
        .iter()
        .filter(|param| param.name != "Authorization")
        .map(|param| {
            json!({
                "name": param.name,
                "in": match param.location {
                    Location::Path => "path",
                    Location::Query => "query",
                    Location::Header => "header",
                },
                "required": param.required,
                "description": param.description,
                "schema": { "type": "string" },
            })
        })
        .collect();
    if !parameters.is_empty() {
        operation.insert("parameters".into(), Value::Array(parameters));
    }
    if !spec.body.is_empty() {
        let content: Map<String, Value> = spec
            .body
            .iter()
            .map(|media| {
                let schema = match *media {
                    "application/json" => reference("event.schema.json"),
                    "application/jsonl" => json!({
                        "type": "string",
                        "description": "JSON Lines: one event (event.schema.json) per line.",
                    }),
                    _ => json!({ "type": "string", "format": "binary" }),
                };
                ((*media).to_owned(), json!({ "schema": schema }))
            })
            .collect();
        operation.insert(
            "requestBody".into(),
            json!({ "required": true, "content": content }),
        );
    }
    if let Some(scope) = spec.scope {
        operation.insert("security".into(), json!([{ "bearer": [] }]));
        operation.insert("x-scope".into(), json!(scope.as_str()));
    }
    let mut responses = Map::new();
    let answer: Map<String, Value> = spec
        .answers
        .iter()
        .map(|media| {
            let schema = match (*media, spec.schema) {
                ("application/json", Some(file)) => reference(file),
                ("application/json", None) => json!({ "type": "object" }),
                ("text/event-stream", _) => json!({
                    "type": "string",
                    "description": "Server-Sent Events: `event: record`, `id: SEQUENCE`, `data:` a feed record (feed-record.schema.json); `event: error` with the error JSON ends a stream that failed; comment lines are keep-alives.",
                }),
                ("application/jsonl", _) => json!({
                    "type": "string",
                    "description": "JSON Lines: one feed record (feed-record.schema.json) per line; an empty line is a keep-alive; a line with `\"ok\": false` is an error that ends the stream.",
                }),
                _ => json!({ "type": "string", "format": "binary" }),
            };
            ((*media).to_owned(), json!({ "schema": schema }))
        })
        .collect();
    responses.insert(
        "200".into(),
        json!({ "description": status_text(200), "content": answer }),
    );
    let mut statuses: Vec<u16> = spec
        .statuses
        .iter()
        .chain(COMMON_STATUSES.iter())
        .copied()
        .collect();
    statuses.sort_unstable();
    statuses.dedup();
    for status in statuses {
        let mut response = json!({
            "description": status_text(status),
            "content": { "application/json": { "schema": reference("output/error.schema.json") } },
        });
        if status == 503 {
            response["headers"] = json!({
                "Retry-After": { "description": "Seconds to wait.", "schema": { "type": "integer" } }
            });
        }
        responses.insert(status.to_string(), response);
    }
    operation.insert("responses".into(), Value::Object(responses));
    Value::Object(operation)
}

/// The OpenAPI 3.1 document.
pub fn document() -> Value {
    let mut paths: Map<String, Value> = Map::new();
    for spec in ROUTES {
        let item = paths
            .entry(spec.path.replace("{*", "{"))
            .or_insert_with(|| json!({}));
        item[spec.method.to_ascii_lowercase()] = operation(spec);
    }
    let mut wanted: Vec<&str> = ROUTES.iter().filter_map(|spec| spec.schema).collect();
    wanted.extend([
        "output/error.schema.json",
        "event.schema.json",
        "output/feed-record.schema.json",
    ]);
    let schemas: Map<String, Value> = crate::schemas::all()
        .into_iter()
        .filter(|(file, _)| wanted.contains(&file.as_str()))
        .map(|(file, schema)| (component(&file), schema))
        .collect();
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "sanctions-ledger",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "The ledger as a service (`sanctions-ledger serve`). Reads are public and answer with the same JSON as the command line's --json; writes need a bearer token with the route's scope (`sanctions-ledger token create`). Errors are schemas/output/error.schema.json with the HTTP status their kind means. Plain HTTP on loopback: put a TLS-terminating proxy in front to publish it.",
        },
        "servers": [{ "url": "http://127.0.0.1:8080" }],
        "paths": paths,
        "components": {
            "securitySchemes": {
                "bearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "A token from `sanctions-ledger token create --scope SCOPE`; scopes: append, import, checkpoint, admin (all).",
                }
            },
            "schemas": schemas,
        },
    })
}
