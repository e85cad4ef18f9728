//! schemas/ is generated from the code and agrees with it: the checked-in files equal what the
//! code generates; every example and every event the tests build validates against the schema;
//! every `--json` output of the CLI validates against its output schema.
//! Regenerate after a deliberate change: `SANCTIONS_LEDGER_BLESS_SCHEMAS=1 cargo test --test schemas`.

mod common;

use common::{run_cli, stdout};
use sanctions_ledger::intake::{InputFormat, check_references, event_to_json, read_batch};
use sanctions_ledger::schemas;
use serde_json::Value;
use std::path::Path;

fn validator(file: &str) -> jsonschema::Validator {
    let schema = schemas::all()
        .into_iter()
        .find(|(name, _)| name == file)
        .unwrap_or_else(|| panic!("no schema {file}"))
        .1;
    jsonschema::options()
        .should_validate_formats(true)
        .build(&schema)
        .expect("a valid JSON Schema")
}

fn assert_valid(validator: &jsonschema::Validator, instance: &Value, what: &str) {
    let errors: Vec<String> = validator
        .iter_errors(instance)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "{what} does not match its schema: {errors:#?}\n{instance:#}"
    );
}

#[test]
fn the_checked_in_schemas_are_what_the_code_generates() {
    let bless = std::env::var_os("SANCTIONS_LEDGER_BLESS_SCHEMAS").is_some();
    let generated = schemas::all();
    for (name, schema) in &generated {
        let path = Path::new("schemas").join(name);
        let text = serde_json::to_string_pretty(schema).unwrap() + "\n";
        if bless {
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, &text).unwrap();
        }
        let on_disk = std::fs::read_to_string(&path)
            .unwrap_or_else(|_| panic!("{} is missing; regenerate schemas/", path.display()));
        assert_eq!(
            on_disk,
            text,
            "{} differs from what the code generates; regenerate it and review the diff",
            path.display()
        );
    }
    // No stale schema file lingers.
    let mut on_disk = Vec::new();
    for dir in [
        "schemas",
        "schemas/output",
        "schemas/events",
        "schemas/proof",
    ] {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.to_string_lossy().ends_with(".schema.json") {
                on_disk.push(
                    path.strip_prefix("schemas")
                        .unwrap()
                        .to_string_lossy()
                        .into_owned(),
                );
            }
        }
    }
    on_disk.sort();
    let mut names: Vec<String> = generated.into_iter().map(|(name, _)| name).collect();
    names.sort();
    assert_eq!(on_disk, names);
}

#[test]
fn every_example_validates_against_the_schema_and_through_intake() {
    let schema = validator("event.schema.json");
    let batch = read_batch(
        schemas::EVENT_EXAMPLES.as_bytes(),
        "examples",
        InputFormat::JsonLines,
    )
    .expect("examples pass intake");
    let unresolved = check_references(&batch, "examples", &mut |_| Ok::<bool, ()>(false)).unwrap();
    assert!(unresolved.is_empty(), "{unresolved:?}");
    let kinds: std::collections::BTreeSet<&str> = batch
        .events
        .iter()
        .map(|event| event.body().kind())
        .collect();
    assert_eq!(kinds.len(), 7, "one example of every kind: {kinds:?}");
    let examples = schemas::all()
        .into_iter()
        .find(|(n, _)| n == "event.schema.json")
        .unwrap()
        .1["examples"]
        .clone();
    for (example, event) in examples.as_array().unwrap().iter().zip(&batch.events) {
        assert_valid(&schema, example, "an example");
        let kind = event.body().kind();
        let of_kind = validator(&format!("events/{kind}.schema.json"));
        assert_valid(&of_kind, example, "an example, against its kind's schema");
        let other = if kind == "statement" {
            "designation"
        } else {
            "statement"
        };
        assert!(
            !validator(&format!("events/{other}.schema.json")).is_valid(example),
            "{kind} example passes the {other} schema"
        );
        assert_eq!(
            &event_to_json(event),
            example,
            "examples are written in the shape the tool prints"
        );
    }
}

#[test]
fn the_bundled_dataset_and_built_events_validate() {
    let event_schema = validator("event.schema.json");
    let batch_schema = validator("batch.schema.json");
    let dataset = read_batch(
        sanctions_ledger::cli::BUNDLED_DATASET.as_bytes(),
        "dataset",
        InputFormat::JsonLines,
    )
    .unwrap();
    let mut all = Vec::new();
    for event in dataset
        .events
        .iter()
        .chain(common::synthetic_events(0, 70).iter())
    {
        let value = event_to_json(event);
        assert_valid(&event_schema, &value, &format!("event {}", event.id()));
        all.push(value);
    }
    assert_valid(&batch_schema, &Value::Array(all), "the batch");
    assert!(
        !batch_schema.is_valid(&Value::Array(vec![])),
        "an empty batch is refused"
    );
}

#[test]
fn every_json_output_of_the_cli_validates() {
    let dir = tempfile::tempdir().unwrap();
    let check = |args: &[&str], input: Option<&[u8]>, schema: &str| {
        let output = run_cli(dir.path(), args, input);
        let value: Value = serde_json::from_str(&stdout(&output))
            .unwrap_or_else(|_| panic!("{args:?} printed no JSON: {}", stdout(&output)));
        assert_valid(&validator(schema), &value, &format!("{args:?}"));
        value
    };
    check(
        &["--json", "init", "ledger"],
        None,
        "output/init.schema.json",
    );
    let batch = common::json_lines(&common::synthetic_events(0, 14));
    check(
        &["--json", "append"],
        Some(batch.as_bytes()),
        "output/append.schema.json",
    );
    std::fs::write(dir.path().join("batch.jsonl"), &batch).unwrap();
    check(
        &["--json", "validate", "batch.jsonl"],
        None,
        "output/validate.schema.json",
    );
    check(&["--json", "log"], None, "output/log.schema.json");
    for sequence in 1..=14 {
        check(
            &["--json", "show", &sequence.to_string()],
            None,
            "output/show.schema.json",
        );
    }
    check(&["--json", "head"], None, "output/head.schema.json");
    check(&["--json", "verify"], None, "output/verify.schema.json");
    check(
        &["--json", "--ledger", "qs", "quickstart"],
        None,
        "output/quickstart.schema.json",
    );
    let error = check(
        &["--json", "append"],
        Some(b"{\"kind\": 1}\n"),
        "output/error.schema.json",
    );
    assert_eq!(error["exit_code"], 2);
    let error = check(&["--json", "show", "99"], None, "output/error.schema.json");
    assert_eq!(error["error"]["kind"], "not_found");
    // The auditor's commands, and the proof documents.
    let keygen = check(
        &["--json", "keygen", "--name", "ops"],
        None,
        "output/keygen.schema.json",
    );
    assert_eq!(keygen["public_key_file"], "ops.pub");
    // A checkpoint, more records, a second checkpoint.
    for (file, more) in [("cp1.txt", true), ("cp2.txt", false)] {
        check(
            &["--json", "checkpoint", "--key", "ops.key", "--out", file],
            None,
            "output/checkpoint.schema.json",
        );
        if more {
            let batch = common::json_lines(&common::synthetic_events(14, 5));
            run_cli(dir.path(), &["append"], Some(batch.as_bytes()));
        }
    }
    check(
        &["--json", "checkpoints"],
        None,
        "output/checkpoints.schema.json",
    );
    let verified = check(
        &[
            "--json",
            "verify",
            "--checkpoint",
            "cp1.txt",
            "--key",
            "ops.pub",
        ],
        None,
        "output/verify.schema.json",
    );
    assert_eq!(verified["verdict"], "ok");
    for (args, file, schema) in [
        (
            vec!["prove", "inclusion", "3", "--out", "inclusion.json"],
            "inclusion.json",
            "proof/inclusion.schema.json",
        ),
        (
            vec![
                "prove",
                "consistency",
                "--from",
                "cp1.txt",
                "--to",
                "cp2.txt",
                "--out",
                "consistency.json",
            ],
            "consistency.json",
            "proof/consistency.schema.json",
        ),
    ] {
        let output = run_cli(dir.path(), &args, None);
        assert_eq!(
            output.status.code(),
            Some(0),
            "{args:?}: {}",
            common::stderr(&output)
        );
        let document: Value =
            serde_json::from_slice(&std::fs::read(dir.path().join(file)).unwrap()).unwrap();
        assert_valid(&validator(schema), &document, file);
        check(
            &["--json", "verify-proof", file, "--key", "ops.pub"],
            None,
            "output/verify-proof.schema.json",
        );
    }
    check(
        &[
            "--json",
            "compare-checkpoints",
            "cp1.txt",
            "cp2.txt",
            "--key",
            "ops.pub",
            "--proof",
            "consistency.json",
        ],
        None,
        "output/compare-checkpoints.schema.json",
    );
    check(
        &["--json", "export", "--to", "bundle.bin"],
        None,
        "output/export.schema.json",
    );
    check(
        &["--json", "verify-bundle", "bundle.bin", "--key", "ops.pub"],
        None,
        "output/verify-bundle.schema.json",
    );
    check(
        &[
            "--json",
            "restore",
            "bundle.bin",
            "restored",
            "--key",
            "ops.pub",
        ],
        None,
        "output/restore.schema.json",
    );
    // A failed verification, with its evidence.
    common::log_files::rewrite(&dir.path().join("ledger"), true, |frames| {
        frames.remove(2);
    });
    let failed = check(&["--json", "verify"], None, "output/error.schema.json");
    assert_eq!(
        (
            failed["exit_code"].as_u64(),
            failed["error"]["verify"]["kind"].as_str(),
            failed["error"]["verify"]["file"].as_str()
        ),
        (
            Some(1),
            Some("misplaced"),
            Some("log/00000000000000000001.seg")
        )
    );
}
