//! Generates the JSON Schemas (draft 2020-12) published in schemas/ from the Rust types.
//!
//! Owns the list of schema files, their ids, titles and examples. The event schema's examples
//! are the real events of `schemas/examples/events.jsonl`. tests/schemas.rs fails when the
//! checked-in files differ from what this produces, so they cannot drift from the code.

use crate::cli::answers::Answered;
use crate::cli::json::{
    AppendResult, BundleCheckResult, CheckpointResult, CheckpointsResult, CompareResult,
    ErrorResult, ExportResult, FeedRecord, FollowResult, GenResult, HeadResult, ImportResult,
    InitResult, KeygenResult, LogResult, ProofCheckResult, QuickstartResult, RebuildResult,
    RestoreResult, ServeResult, ShowResult, TilesCheckResult, TilesResult, TokenCreateResult,
    TokensResult, ValidateResult, VerifyResult,
};
use crate::intake::shape::EventJson;
use crate::limits;
use crate::proof::{ConsistencyProofJson, InclusionProofJson};
use crate::query::{DiffAnswer, HistoryAnswer, LinksAnswer, StateAnswer, SubjectsAnswer};
use schemars::{JsonSchema, schema_for};
use serde_json::{Value, json};

/// Real events of the Xinjiang 2021 episode, one or more of every kind (JSON Lines).
pub const EVENT_EXAMPLES: &str = include_str!("../schemas/examples/events.jsonl");

fn with_identity(mut schema: Value, file: &str, title: &str, description: &str) -> Value {
    if let Some(object) = schema.as_object_mut() {
        object.insert(
            "$id".into(),
            json!(format!("urn:sanctions-ledger:schema:{file}")),
        );
        object.insert("title".into(), json!(title));
        object.insert("description".into(), json!(description));
    }
    schema
}

fn output<T: JsonSchema>(file: &str, command: &str) -> (String, Value) {
    let schema = serde_json::to_value(schema_for!(T)).unwrap_or(Value::Null);
    let name = format!("output/{file}.schema.json");
    let description = format!(
        "What `sanctions-ledger {command} --json` prints on standard output when it succeeds."
    );
    (
        name.clone(),
        with_identity(schema, &name, &format!("{command} result"), &description),
    )
}

/// Every schema file: its path below schemas/ and its content.
pub fn all() -> Vec<(String, Value)> {
    let examples: Vec<Value> = EVENT_EXAMPLES
        .lines()
        .filter(|line| !line.trim().is_empty())
        .filter_map(|line| serde_json::from_str(line).ok())
        .collect();
    let mut event = with_identity(
        serde_json::to_value(schema_for!(EventJson)).unwrap_or(Value::Null),
        "event.schema.json",
        "Sanctions event (schema version 3)",
        "One sanctions event, as appended (a JSON file holding one event, or one line of a JSON Lines batch) \
         and as printed in records. `kind` selects the fields. Beyond this schema, intake checks: real calendar \
         dates; end dates not before the effective date; no duplicate subjects, measures or links; references \
         (`in_response_to`, `corrects`, `about_events`) naming events in the ledger or earlier in the batch; \
         no duplicate keys in an object; text normalised to Unicode NFC.",
    );
    event["examples"] = Value::Array(examples);
    designation_needs_legal_basis_unless_observed(&mut event);
    let mut batch_schema = serde_json::to_value(schema_for!(Vec<EventJson>)).unwrap_or(Value::Null);
    designation_needs_legal_basis_unless_observed(&mut batch_schema);
    batch_schema["minItems"] = json!(1);
    batch_schema["maxItems"] = json!(limits::BATCH_EVENTS_MAX);
    let batch = with_identity(
        batch_schema,
        "batch.schema.json",
        "Batch of sanctions events",
        "A batch appended all or nothing. On disk it is JSON Lines: one event (see event.schema.json) per line, \
         blank lines skipped, each line at most 262144 bytes. Read as an array, the lines must satisfy this \
         schema; event ids must also be unique within the batch.",
    );
    let mut error = serde_json::to_value(schema_for!(ErrorResult)).unwrap_or(Value::Null);
    error = with_identity(
        error,
        "output/error.schema.json",
        "error result",
        "What every `sanctions-ledger` command prints on standard output with --json when it fails (exit code 1 or 2).",
    );
    let per_kind = per_kind_schemas(&event);
    let mut files = vec![
        ("event.schema.json".to_owned(), event),
        ("batch.schema.json".to_owned(), batch),
        output::<InitResult>("init", "init"),
        output::<AppendResult>("append", "append"),
        output::<ValidateResult>("validate", "validate"),
        output::<LogResult>("log", "log"),
        output::<ShowResult>("show", "show"),
        output::<HeadResult>("head", "head"),
        output::<VerifyResult>("verify", "verify"),
        output::<QuickstartResult>("quickstart", "quickstart"),
        output::<RebuildResult>("rebuild", "rebuild"),
        output::<ImportResult>("import", "import"),
        output::<GenResult>("gen", "gen"),
        output::<Answered<StateAnswer>>("state", "state"),
        output::<Answered<HistoryAnswer>>("history", "history"),
        output::<Answered<DiffAnswer>>("diff", "diff"),
        output::<Answered<LinksAnswer>>("links", "links"),
        output::<Answered<SubjectsAnswer>>("subjects", "subjects"),
        output::<KeygenResult>("keygen", "keygen"),
        output::<CheckpointResult>("checkpoint", "checkpoint"),
        output::<CheckpointsResult>("checkpoints", "checkpoints"),
        output::<ProofCheckResult>("verify-proof", "verify-proof"),
        output::<CompareResult>("compare-checkpoints", "compare-checkpoints"),
        output::<ExportResult>("export", "export"),
        output::<TilesResult>("tiles", "tiles"),
        output::<TilesCheckResult>("tiles-check", "tiles --check"),
        output::<FollowResult>("follow", "follow"),
        output::<BundleCheckResult>("verify-bundle", "verify-bundle"),
        output::<RestoreResult>("restore", "restore"),
        output::<TokenCreateResult>("token-create", "token create"),
        output::<TokensResult>("tokens", "token list"),
        output::<ServeResult>("serve", "serve"),
        (
            "output/feed-record.schema.json".to_owned(),
            with_identity(
                serde_json::to_value(schema_for!(FeedRecord)).unwrap_or(Value::Null),
                "output/feed-record.schema.json",
                "change feed record",
                "One record of the server's change feed (GET /v1/records with Accept text/event-stream or application/jsonl): its sequence, hash, stored bytes and decoded form.",
            ),
        ),
        ("output/error.schema.json".to_owned(), error),
        (
            "proof/inclusion.schema.json".to_owned(),
            with_identity(
                serde_json::to_value(schema_for!(InclusionProofJson)).unwrap_or(Value::Null),
                "proof/inclusion.schema.json",
                "Inclusion proof",
                "What `sanctions-ledger prove inclusion` prints, and `verify-proof` checks: a record's stored \
                 bytes, the signed checkpoint it is proven against, and the audit path (RFC 9162, 2.1.3) from its \
                 leaf to the checkpoint's root. Hex is lowercase; base64 is padded; unknown fields are refused.",
            ),
        ),
        (
            "proof/consistency.schema.json".to_owned(),
            with_identity(
                serde_json::to_value(schema_for!(ConsistencyProofJson)).unwrap_or(Value::Null),
                "proof/consistency.schema.json",
                "Consistency proof",
                "What `sanctions-ledger prove consistency` prints, and `verify-proof` checks: two signed \
                 checkpoints of one log and the consistency path (RFC 9162, 2.1.4) showing the earlier tree is a \
                 prefix of the later one. Hex is lowercase; unknown fields are refused.",
            ),
        ),
    ];
    files.extend(per_kind);
    files
}

/// A designation needs at least one legal act unless a list snapshot implied it (`observed`):
/// a rule across two fields, written into every designation branch as if/then.
fn designation_needs_legal_basis_unless_observed(schema: &mut Value) {
    match schema {
        Value::Object(object) => {
            if object
                .get("properties")
                .and_then(|p| p.get("kind"))
                .and_then(|k| k.get("const"))
                == Some(&json!("designation"))
            {
                object.insert("if".into(), json!({"not": {"required": ["observed"]}}));
                object.insert(
                    "then".into(),
                    json!({"properties": {"legal_basis": {"minItems": 1}}}),
                );
            }
            for value in object.values_mut() {
                designation_needs_legal_basis_unless_observed(value);
            }
        }
        Value::Array(items) => items
            .iter_mut()
            .for_each(designation_needs_legal_basis_unless_observed),
        _ => {}
    }
}

/// One schema file per event kind: the event schema's branch for that kind, with the shared
/// definitions and that kind's examples.
fn per_kind_schemas(event: &Value) -> Vec<(String, Value)> {
    let branches = event["oneOf"].as_array().cloned().unwrap_or_default();
    let examples = event["examples"].as_array().cloned().unwrap_or_default();
    branches
        .into_iter()
        .filter_map(|branch| {
            let kind = branch["properties"]["kind"]["const"].as_str()?.to_owned();
            let name = format!("events/{kind}.schema.json");
            let mut schema = branch.clone();
            let description = branch["description"]
                .as_str()
                .unwrap_or_default()
                .to_owned();
            schema["$schema"] = event["$schema"].clone();
            schema["$defs"] = event["$defs"].clone();
            schema = with_identity(
                schema,
                &name,
                &format!("Sanctions event of kind {kind} (schema version 1)"),
                &description,
            );
            let of_kind: Vec<Value> = examples
                .iter()
                .filter(|example| example["kind"] == kind.as_str())
                .cloned()
                .collect();
            if !of_kind.is_empty() {
                schema["examples"] = Value::Array(of_kind);
            }
            Some((name, schema))
        })
        .collect()
}
