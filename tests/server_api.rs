//! The HTTP API against a real server on 127.0.0.1:0: authorisation on every write route, the
//! route inventory and OpenAPI document, every documented status answered (and no other), the
//! same JSON as the command line for every read, and each limit at its bound.

mod common;
mod serving;

use std::collections::BTreeSet;
use std::path::Path;
use std::time::Duration;

use sanctions_ledger::server::openapi;
use sanctions_ledger::server::tokens::Scope;
use sanctions_ledger::server::{ServerLimits, routes_table};
use serde_json::Value;
use serving::{Served, bundled, designation, token};

fn jsonl(events: &[String]) -> Vec<u8> {
    events.join("\n").into_bytes()
}

#[test]
fn the_checked_in_openapi_document_is_what_the_code_generates() {
    let generated = serde_json::to_string_pretty(&openapi::document()).unwrap() + "\n";
    let path = Path::new("schemas/openapi.json");
    if std::env::var_os("SANCTIONS_LEDGER_BLESS_SCHEMAS").is_some() {
        std::fs::write(path, &generated).unwrap();
    }
    let on_disk = std::fs::read_to_string(path).expect("schemas/openapi.json");
    assert_eq!(
        on_disk, generated,
        "schemas/openapi.json differs from the code; regenerate it (SANCTIONS_LEDGER_BLESS_SCHEMAS=1)"
    );
    let document: Value = serde_json::from_str(&on_disk).unwrap();
    assert_eq!(document["openapi"], "3.1.0");
    // Every route is in it, and nothing more.
    let mut documented = BTreeSet::new();
    for (path, item) in document["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            documented.insert(format!("{} {path}", method.to_uppercase()));
        }
    }
    let routes: BTreeSet<String> = routes_table()
        .iter()
        // axum's catch-all `{*tile}` is OpenAPI's `{tile}`.
        .map(|spec| format!("{} {}", spec.method, spec.path.replace("{*", "{")))
        .collect();
    assert_eq!(documented, routes);
    // Every $ref resolves inside the document.
    let text = on_disk.as_str();
    for piece in text.split("\"$ref\": \"#/components/schemas/").skip(1) {
        let name = &piece[..piece.find('"').unwrap()];
        assert!(
            document["components"]["schemas"][name].is_object(),
            "{name} is referenced but not in components"
        );
    }
}

#[test]
fn every_mutating_route_is_behind_a_scope_and_every_read_is_public() {
    for spec in routes_table() {
        match spec.method {
            "GET" => assert!(spec.scope.is_none(), "{} is a read", spec.path),
            _ => assert!(
                spec.scope.is_some(),
                "{} {} changes the ledger and needs a scope",
                spec.method,
                spec.path
            ),
        }
    }
}

/// The request a write route is sent in the authorisation matrix.
fn write_request(operation: &str) -> (&'static str, &'static str, Vec<u8>) {
    match operation {
        "append" => (
            "/v1/events",
            "application/json",
            designation("auth-matrix-event").into_bytes(),
        ),
        "import" => (
            "/v1/imports?list=opensanctions:eu_fsf&published_on=2024-05-27",
            "application/octet-stream",
            std::fs::read("tests/real/opensanctions_ftm/eu_fsf_sample.entities.ftm.json").unwrap(),
        ),
        "sign_checkpoint" => ("/v1/checkpoints", "application/json", Vec::new()),
        other => panic!("no write request for {other}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_write_route_refuses_missing_wrong_revoked_and_unscoped_tokens() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = bundled(dir.path());
    let key = keygen(dir.path());
    let (revoked, revoked_id) = token(&ledger, "revoked", &[Scope::Admin]);
    sanctions_ledger::server::tokens::revoke(
        &ledger,
        &revoked_id,
        sanctions_ledger::domain::Timestamp::from_unix_micros(1),
    )
    .unwrap();
    let (good, _) = token(&ledger, "writer", &[Scope::Admin]);
    let served = Served::start(&ledger, ServerLimits::default(), Some(key));
    let writes: Vec<_> = routes_table()
        .iter()
        .filter(|spec| spec.scope.is_some())
        .collect();
    assert_eq!(writes.len(), 3, "append, import, checkpoint");
    for spec in writes {
        let scope = spec.scope.unwrap();
        // A token with every scope but this one (admin aside).
        let others: Vec<Scope> = [Scope::Append, Scope::Import, Scope::Checkpoint]
            .into_iter()
            .filter(|other| *other != scope)
            .collect();
        let (unscoped, _) = token(&ledger, "unscoped", &others);
        let (path, content_type, body) = write_request(spec.operation);
        let cases: [(&str, Option<&str>, u16); 4] = [
            ("no token", None, 401),
            ("a wrong token", Some("slt_00000000_notatoken"), 401),
            ("a revoked token", Some(&revoked), 401),
            ("a token without the scope", Some(&unscoped), 403),
        ];
        for (what, presented, status) in cases {
            let before = served.head_hash().await;
            let checkpoints_before = served.get("/v1/checkpoints").await.1;
            let (answered, error) = served
                .post(path, presented, content_type, body.clone())
                .await;
            assert_eq!(answered, status, "{} with {what}: {error}", spec.path);
            let kind = if status == 401 {
                "unauthorized"
            } else {
                "forbidden"
            };
            assert_eq!(error["error"]["kind"], kind);
            assert_eq!(served.head_hash().await, before, "{what} changed the log");
            assert_eq!(served.get("/v1/checkpoints").await.1, checkpoints_before);
        }
        // The right token is taken (and the write is made by it).
        let (status, answer) = served.post(path, Some(&good), content_type, body).await;
        assert_eq!(status, 200, "{}: {answer}", spec.path);
    }
    // The principal is the records' operator.
    let (_, log) = served.get("/v1/records?from=31&limit=1").await;
    assert_eq!(log["records"][0]["appended_by"], "writer");
    // A token revoked while the server runs is refused from the next request.
    let (live, live_id) = token(&ledger, "soon-revoked", &[Scope::Append]);
    let body = || designation("revoked-while-serving").into_bytes();
    let (status, _) = served
        .post("/v1/events", Some(&live), "application/json", body())
        .await;
    assert_eq!(status, 200);
    sanctions_ledger::server::tokens::revoke(
        &ledger,
        &live_id,
        sanctions_ledger::domain::Timestamp::from_unix_micros(2),
    )
    .unwrap();
    let (status, error) = served
        .post("/v1/events", Some(&live), "application/json", body())
        .await;
    assert_eq!(status, 401, "{error}");
    assert!(
        error["error"]["message"]
            .as_str()
            .unwrap()
            .contains("revoked")
    );
}

fn keygen(dir: &Path) -> std::path::PathBuf {
    let output = common::run_cli(dir, &["keygen", "--name", "ops"], None);
    assert!(output.status.success(), "{}", common::stderr(&output));
    dir.join("ops.key")
}

/// Runs the CLI with --json on `ledger` and parses what it prints.
fn cli_json(dir: &Path, args: &[&str]) -> Value {
    let mut full = vec!["--ledger", "ledger", "--json"];
    full.extend_from_slice(args);
    let output = common::run_cli(dir, &full, None);
    serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|_| panic!("{args:?}: {}", common::stderr(&output)))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_read_route_answers_what_the_cli_answers() {
    let dir = tempfile::tempdir().unwrap();
    bundled(dir.path());
    keygen(dir.path());
    let signed = common::run_cli(
        dir.path(),
        &[
            "--ledger",
            "ledger",
            "checkpoint",
            "--key",
            "ops.key",
            "--out",
            "one.ckpt",
        ],
        None,
    );
    assert!(signed.status.success(), "{}", common::stderr(&signed));
    // The CLI's answers first: while the server runs, it holds the ledger.
    let subject = "xj-xpcc-psb";
    let questions: Vec<(String, Vec<&str>)> = vec![
        ("/v1/head".into(), vec!["head"]),
        (
            "/v1/state?as_of=2021-03-22".into(),
            vec!["state", "--as-of", "2021-03-22"],
        ),
        (
            "/v1/state?as_of=2021-03-22&known_at=2021-03-01&authority=US-OFAC".into(),
            vec![
                "state",
                "--as-of",
                "2021-03-22",
                "--known-at",
                "2021-03-01",
                "--authority",
                "US-OFAC",
            ],
        ),
        (
            "/v1/state?as_of=2024-01-01&kind=entity".into(),
            vec!["state", "--as-of", "2024-01-01", "--kind", "entity"],
        ),
        (
            format!("/v1/history/{subject}?today=2026-01-01"),
            vec!["history", subject, "--today", "2026-01-01"],
        ),
        (
            "/v1/diff?from=2021-03-01&to=2021-03-31".into(),
            vec!["diff", "--from", "2021-03-01", "--to", "2021-03-31"],
        ),
        (
            "/v1/links/us-ofac-2020-07-09-glomag-xinjiang".into(),
            vec!["links", "us-ofac-2020-07-09-glomag-xinjiang"],
        ),
        (
            "/v1/subjects?q=Chen%20Quanguo".into(),
            vec!["subjects", "Chen Quanguo"],
        ),
        (
            "/v1/records?from=3&limit=5".into(),
            vec!["log", "--from", "3", "--limit", "5"],
        ),
        ("/v1/records".into(), vec!["log"]),
        ("/v1/records/7".into(), vec!["show", "7"]),
        ("/v1/checkpoints".into(), vec!["checkpoints"]),
        (
            "/v1/proofs/inclusion/7".into(),
            vec!["prove", "inclusion", "7"],
        ),
        (
            "/v1/proofs/consistency?from=1".into(),
            vec!["prove", "consistency", "--from", "one.ckpt"],
        ),
        // Failures too: the same error JSON.
        (
            "/v1/history/no-such-subject".into(),
            vec!["history", "no-such-subject"],
        ),
        ("/v1/records/999".into(), vec!["show", "999"]),
    ];
    let expected: Vec<Value> = questions
        .iter()
        .map(|(_, args)| cli_json(dir.path(), args))
        .collect();
    let exported = common::run_cli(
        dir.path(),
        &["--ledger", "ledger", "export", "--to", "cli.bundle"],
        None,
    );
    assert!(exported.status.success());
    let served = Served::start(&dir.path().join("ledger"), ServerLimits::default(), None);
    for ((path, args), expected) in questions.iter().zip(expected) {
        let (status, answer) = served.get(path).await;
        assert_eq!(answer, expected, "{path} vs {args:?}");
        let want = if expected["ok"] == false { 404 } else { 200 };
        assert_eq!(status, want, "{path}");
    }
    // The bundle streamed is the bundle `export` writes, byte for byte.
    let bytes = served
        .client
        .get(served.url("/v1/bundle"))
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert_eq!(
        bytes.as_ref(),
        std::fs::read(dir.path().join("cli.bundle")).unwrap()
    );
    served.stop();
}

/// A request of the status table: its route's operation, the status it must get, and how to
/// send it.
struct Case {
    operation: &'static str,
    status: u16,
    method: &'static str,
    path: String,
    token: Option<String>,
    content_type: &'static str,
    body: Vec<u8>,
    headers: Vec<(&'static str, String)>,
}

fn case(operation: &'static str, status: u16, path: &str) -> Case {
    Case {
        operation,
        status,
        method: "GET",
        path: path.to_owned(),
        token: None,
        content_type: "application/json",
        body: Vec::new(),
        headers: Vec::new(),
    }
}

fn post(operation: &'static str, status: u16, path: &str, token: &str, body: Vec<u8>) -> Case {
    Case {
        method: "POST",
        token: Some(token.to_owned()),
        body,
        ..case(operation, status, path)
    }
}

async fn send(served: &Served, case: &Case) -> (u16, Value) {
    let mut request = match case.method {
        "GET" => served.client.get(served.url(&case.path)),
        "DELETE" => served.client.delete(served.url(&case.path)),
        _ => served
            .client
            .post(served.url(&case.path))
            .header("content-type", case.content_type)
            .body(case.body.clone()),
    };
    if let Some(token) = &case.token {
        request = request.bearer_auth(token);
    }
    for (name, value) in &case.headers {
        request = request.header(*name, value);
    }
    let response = request.send().await.expect("the request is answered");
    let status = response.status().as_u16();
    let text = response.text().await.unwrap_or_default();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_documented_status_is_answered_and_no_other() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = bundled(dir.path());
    let key = keygen(dir.path());
    let (admin, _) = token(&ledger, "admin", &[Scope::Admin]);
    let (reader, _) = token(&ledger, "reader", &[Scope::Import]);
    let mut observed: BTreeSet<(String, u16)> = BTreeSet::new();
    let ftm =
        std::fs::read("tests/real/opensanctions_ftm/eu_fsf_sample.entities.ftm.json").unwrap();
    let mut conflicting: Value = serde_json::from_str(&designation("status-table-1")).unwrap();
    conflicting["effective_on"] = Value::String("2020-07-10".into());

    // The server as configured by default (with a signing key).
    {
        let served = Served::start(&ledger, ServerLimits::default(), Some(key.clone()));
        let head = served.head_hash().await;
        let cases = vec![
            case("head", 200, "/v1/head"),
            case("head", 400, "/v1/head?extra=1"),
            case("state", 200, "/v1/state?as_of=2021-03-22"),
            case("state", 400, "/v1/state?as_of=2021-02-30"),
            case("history", 200, "/v1/history/xj-xpcc-psb"),
            case("history", 400, "/v1/history/xj-xpcc-psb?today=tomorrow"),
            case("history", 404, "/v1/history/nobody"),
            case("diff", 200, "/v1/diff?from=2021-01-01&to=2021-12-31"),
            case("diff", 400, "/v1/diff?from=2021-12-31&to=2021-01-01"),
            case("links", 200, "/v1/links/us-ofac-2020-07-09-glomag-xinjiang"),
            case("links", 400, "/v1/links/x?known_at=yesterday"),
            case("links", 404, "/v1/links/no-such-event"),
            case("subjects", 200, "/v1/subjects?q=chen"),
            case("subjects", 400, "/v1/subjects"),
            case("records", 200, "/v1/records?from=1&limit=1000"),
            case("records", 400, "/v1/records?limit=1001"),
            case("record", 200, "/v1/records/1"),
            case("record", 400, "/v1/records/one"),
            case("record", 404, "/v1/records/31"),
            case("prove_inclusion", 404, "/v1/proofs/inclusion/1"),
            case("bundle", 404, "/v1/bundle"),
            case("tlog_checkpoint", 404, "/checkpoint"),
            case("tlog_genesis", 200, "/genesis"),
            case("tlog_genesis", 400, "/genesis?x=1"),
            case("tlog_tile", 200, "/tile/entries/000.p/30"),
            case("tlog_tile", 400, "/tile/0/000.p/30?x=1"),
            case("tlog_tile", 404, "/tile/0/000.p/31"),
            post(
                "sign_checkpoint",
                200,
                "/v1/checkpoints",
                &admin,
                Vec::new(),
            ),
            post(
                "sign_checkpoint",
                400,
                "/v1/checkpoints?now=1",
                &admin,
                Vec::new(),
            ),
            post(
                "sign_checkpoint",
                401,
                "/v1/checkpoints",
                "slt_wrong",
                Vec::new(),
            ),
            post(
                "sign_checkpoint",
                403,
                "/v1/checkpoints",
                &reader,
                Vec::new(),
            ),
            case("checkpoints", 200, "/v1/checkpoints"),
            case("checkpoints", 400, "/v1/checkpoints?all=1"),
            case("prove_inclusion", 200, "/v1/proofs/inclusion/1"),
            case("prove_inclusion", 400, "/v1/proofs/inclusion/first"),
            case("prove_consistency", 200, "/v1/proofs/consistency?from=1"),
            case("prove_consistency", 400, "/v1/proofs/consistency"),
            case("prove_consistency", 404, "/v1/proofs/consistency?from=9"),
            case("bundle", 200, "/v1/bundle?from=2"),
            case("tlog_checkpoint", 200, "/checkpoint"),
            case("tlog_checkpoint", 400, "/checkpoint?x=1"),
            case("bundle", 400, "/v1/bundle?from=first"),
            post(
                "append",
                200,
                "/v1/events",
                &admin,
                designation("status-table-1").into_bytes(),
            ),
            post(
                "append",
                400,
                "/v1/events",
                &admin,
                b"{\"kind\": \"designation\"}".to_vec(),
            ),
            post(
                "append",
                401,
                "/v1/events",
                "slt_wrong",
                designation("x").into_bytes(),
            ),
            post(
                "append",
                403,
                "/v1/events",
                &reader,
                designation("x").into_bytes(),
            ),
            post(
                "append",
                409,
                "/v1/events",
                &admin,
                conflicting.to_string().into_bytes(),
            ),
            Case {
                headers: vec![("if-match", head.clone())],
                ..post(
                    "append",
                    412,
                    "/v1/events",
                    &admin,
                    designation("status-table-2").into_bytes(),
                )
            },
            Case {
                content_type: "text/plain",
                ..post(
                    "append",
                    415,
                    "/v1/events",
                    &admin,
                    designation("x").into_bytes(),
                )
            },
            Case {
                content_type: "application/octet-stream",
                ..post(
                    "import",
                    200,
                    "/v1/imports?list=opensanctions:eu_fsf&published_on=2024-05-27",
                    &admin,
                    ftm.clone(),
                )
            },
            post(
                "import",
                400,
                "/v1/imports?list=nowhere",
                &admin,
                ftm.clone(),
            ),
            post(
                "import",
                401,
                "/v1/imports?list=opensanctions:eu_fsf",
                "slt_wrong",
                ftm.clone(),
            ),
            post(
                "import",
                403,
                "/v1/imports?list=opensanctions:eu_fsf",
                &served_token(&ledger, Scope::Append),
                ftm.clone(),
            ),
            Case {
                method: "DELETE",
                ..case("head", 405, "/v1/head")
            },
            case("openapi", 200, "/v1/openapi.json"),
            case("openapi", 400, "/v1/openapi.json?v=2"),
        ];
        for case in &cases {
            let (status, body) = send(&served, case).await;
            assert_eq!(status, case.status, "{} {}: {body}", case.method, case.path);
            if status != 200 {
                assert_eq!(body["ok"], false, "{}: error JSON", case.path);
            }
            observed.insert((case.operation.to_owned(), status));
        }
        // The web view's pages: their failures are pages (HTML), not error JSON.
        for case in [
            case("web_overview", 200, "/"),
            case("web_overview", 400, "/?x=1"),
            case("web_state", 200, "/state?as_of=2021-03-22"),
            case("web_state", 400, "/state?as_of=2021-02-30"),
            case("web_state_csv", 200, "/state.csv?as_of=2021-03-22"),
            case("web_state_csv", 400, "/state.csv"),
            case("web_diff", 200, "/diff?from=2021-01-01&to=2021-12-31"),
            case("web_diff", 400, "/diff?from=2021-12-31&to=2021-01-01"),
            case("web_subject", 200, "/subject/xj-xpcc-psb"),
            case("web_subject", 400, "/subject/xj-xpcc-psb?today=tomorrow"),
            case("web_subject", 404, "/subject/nobody"),
            case("web_subjects", 200, "/subjects?q=chen"),
            case("web_subjects", 400, "/subjects?name=chen"),
            case("web_graph", 200, "/graph"),
            case("web_graph", 400, "/graph?known_at=yesterday"),
            case("web_event", 200, "/event/1"),
            case("web_event", 400, "/event/first"),
            case("web_event", 404, "/event/99"),
            case("web_asset", 200, "/assets/app.js"),
            case("web_asset", 400, "/assets/app.js?v=2"),
            case("web_asset", 404, "/assets/app.wasm"),
        ] {
            let response = served
                .client
                .get(served.url(&case.path))
                .send()
                .await
                .unwrap();
            let status = response.status().as_u16();
            let media = response.headers()["content-type"]
                .to_str()
                .unwrap()
                .to_owned();
            let text = response.text().await.unwrap();
            assert_eq!(status, case.status, "GET {}: {text}", case.path);
            if status != 200 {
                assert!(media.starts_with("text/html"), "{}: {media}", case.path);
                assert!(text.contains("role=\"alert\""), "{}: {text}", case.path);
            }
            observed.insert((case.operation.to_owned(), status));
        }
        served.stop();
    }
    // Without a signing key: 409 for checkpoints.
    {
        let served = Served::start(&ledger, ServerLimits::default(), None);
        let (status, body) = send(
            &served,
            &post(
                "sign_checkpoint",
                409,
                "/v1/checkpoints",
                &admin,
                Vec::new(),
            ),
        )
        .await;
        assert_eq!(status, 409, "{body}");
        assert_eq!(body["error"]["kind"], "not_configured");
        observed.insert(("sign_checkpoint".into(), 409));
        served.stop();
    }
    // Small limits: 413 for bodies and answers.
    {
        let limits = ServerLimits {
            answer_bytes: 200,
            append_body_bytes: 100,
            import_body_bytes: 100,
            ..ServerLimits::default()
        };
        let served = Served::start(&ledger, limits, None);
        for case in [
            case("state", 413, "/v1/state?as_of=2021-03-22"),
            case("history", 413, "/v1/history/xj-xpcc-psb"),
            case("diff", 413, "/v1/diff?from=2021-01-01&to=2021-12-31"),
            case("links", 413, "/v1/links/us-ofac-2020-07-09-glomag-xinjiang"),
            case("subjects", 413, "/v1/subjects?q=chen"),
            case("checkpoints", 413, "/v1/checkpoints"),
            post(
                "append",
                413,
                "/v1/events",
                &admin,
                designation("too-large").into_bytes(),
            ),
            Case {
                content_type: "application/octet-stream",
                ..post(
                    "import",
                    413,
                    "/v1/imports?list=opensanctions:eu_fsf",
                    &admin,
                    ftm.clone(),
                )
            },
        ] {
            let (status, body) = send(&served, &case).await;
            assert_eq!(status, 413, "{}: {body}", case.path);
            assert_eq!(body["error"]["kind"], "too_large");
            observed.insert((case.operation.to_owned(), status));
        }
        let (status, _) = send(
            &served,
            &case("web_state_csv", 413, "/state.csv?as_of=2021-03-22"),
        )
        .await;
        assert_eq!(status, 413);
        observed.insert(("web_state_csv".to_owned(), status));
        served.stop();
    }
    // The common statuses are provoked once each where they can be without damage: 405 here,
    // 408 and 503 in limits_hold_at_their_bounds and tests/server_load.rs.
    let mut documented: BTreeSet<(String, u16)> = routes_table()
        .iter()
        .flat_map(|spec| {
            std::iter::once(200)
                .chain(spec.statuses.iter().copied())
                .map(|status| (spec.operation.to_owned(), status))
        })
        .collect();
    documented.insert(("head".to_owned(), 405));
    // 431 from the HTTP layer: provoked in limits_hold_at_their_bounds.
    assert_eq!(
        observed, documented,
        "observed vs documented (route, status)"
    );
}

fn served_token(ledger: &Path, scope: Scope) -> String {
    token(ledger, "scoped", &[scope]).0
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn limits_hold_at_their_bounds() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = bundled(dir.path());
    let (admin, _) = token(&ledger, "admin", &[Scope::Admin]);
    let event = designation("at-the-bound");
    // The body limit: exactly the limit is taken, one byte more is refused.
    let limits = ServerLimits {
        append_body_bytes: event.len() + 10,
        records_page: 5,
        ..ServerLimits::default()
    };
    let served = Served::start(&ledger, limits, None);
    let before = served.head_hash().await;
    // One byte over: refused, nothing appended; exactly the limit: appended.
    for (padding, status) in [(11, 413), (10, 200)] {
        let body = format!("{event}{}", " ".repeat(padding)).into_bytes();
        let (answered, answer) = served
            .post("/v1/events", Some(&admin), "application/json", body)
            .await;
        assert_eq!(answered, status, "{answer}");
        if status == 413 {
            let message = answer["error"]["message"].as_str().unwrap();
            assert!(
                message.contains("SERVER_APPEND_BODY_BYTES_MAX"),
                "{message}"
            );
            assert_eq!(served.head_hash().await, before);
        }
    }
    // Paging: the page limit is taken, one more is refused.
    let (status, page) = served.get("/v1/records?limit=5").await;
    assert_eq!(
        (status, page["records"].as_array().unwrap().len()),
        (200, 5)
    );
    let (status, _) = served.get("/v1/records?limit=6").await;
    assert_eq!(status, 400);
    served.stop();

    // Answers: one of exactly the limit is sent, one byte over is refused.
    let question = "/v1/state?as_of=2021-03-22";
    let length = {
        let served = Served::start(&ledger, ServerLimits::default(), None);
        let body = served
            .client
            .get(served.url(question))
            .send()
            .await
            .unwrap();
        body.bytes().await.unwrap().len()
    };
    for (limit, status) in [(length, 200), (length - 1, 413)] {
        let limits = ServerLimits {
            answer_bytes: limit,
            ..ServerLimits::default()
        };
        let served = Served::start(&ledger, limits, None);
        let (answered, answer) = served.get(question).await;
        assert_eq!(
            answered, status,
            "answer of {length} bytes, limit {limit}: {answer}"
        );
        served.stop();
    }

    // The request head: 60 KiB of headers are read, 70 KiB or 101 fields are answered 431.
    {
        let served = Served::start(&ledger, ServerLimits::default(), None);
        let head_of = |bytes: usize, fields: usize| {
            let mut request = b"GET /v1/head HTTP/1.1\r\nhost: x\r\n".to_vec();
            for field in 0..fields {
                request.extend_from_slice(format!("x-field-{field}: 1\r\n").as_bytes());
            }
            request.extend_from_slice(b"x-padding: ");
            request.extend(std::iter::repeat_n(b'a', bytes));
            request.extend_from_slice(b"\r\nconnection: close\r\n\r\n");
            request
        };
        let answer = raw_exchange(served.address(), &head_of(60 * 1024, 0)).await;
        assert!(
            answer.starts_with("HTTP/1.1 200"),
            "{}",
            &answer[..answer.len().min(200)]
        );
        let answer = raw_exchange(served.address(), &head_of(70 * 1024, 0)).await;
        assert!(
            answer.starts_with("HTTP/1.1 431"),
            "{}",
            &answer[..answer.len().min(300)]
        );
        assert!(
            answer.contains("SERVER_HEADER_BYTES_MAX"),
            "{}",
            &answer[..answer.len().min(300)]
        );
        let answer = raw_exchange(served.address(), &head_of(10, 101)).await;
        assert!(answer.starts_with("HTTP/1.1 431"), "{answer}");
        let answer = raw_exchange(served.address(), b"NOT HTTP\r\n\r\n").await;
        assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
        served.stop();
    }

    // Connections: the limit is served, one more is answered 503 and closed.
    let limits = ServerLimits {
        connections: 3,
        ..ServerLimits::default()
    };
    let served = Served::start(&ledger, limits, None);
    let mut open = Vec::new();
    for _ in 0..3 {
        open.push(
            tokio::net::TcpStream::connect(served.address())
                .await
                .unwrap(),
        );
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    let extra = raw_exchange(
        served.address(),
        b"GET /v1/head HTTP/1.1\r\nhost: x\r\n\r\n",
    )
    .await;
    assert!(extra.starts_with("HTTP/1.1 503"), "{extra}");
    assert!(extra.contains("retry-after: 1"), "{extra}");
    drop(open);
    tokio::time::sleep(Duration::from_millis(200)).await;
    let (status, _) = served.get("/v1/head").await;
    assert_eq!(status, 200, "a freed connection slot is served again");
    served.stop();

    // The whole-request timeout: a body that never completes is answered 408, nothing appended.
    let limits = ServerLimits {
        request_timeout: Duration::from_millis(300),
        ..ServerLimits::default()
    };
    let served = Served::start(&ledger, limits, None);
    let head = served.head_hash().await;
    let partial = format!(
        "POST /v1/events HTTP/1.1\r\nhost: x\r\nauthorization: Bearer {admin}\r\ncontent-type: application/json\r\ncontent-length: 1000\r\n\r\n{{\"kind\":"
    );
    let answer = raw_exchange(served.address(), partial.as_bytes()).await;
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("\"timeout\""), "{answer}");
    assert_eq!(served.head_hash().await, head);
    served.stop();

    // Change feeds: the limit is served, one more is refused.
    let limits = ServerLimits {
        feeds: 1,
        ..ServerLimits::default()
    };
    let served = Served::start(&ledger, limits, None);
    // JSON depth: an event nested JSON_DEPTH_MAX levels deep is read whole (and refused for
    // its unknown field), one level more is refused for its depth.
    let nested = |levels: usize| {
        let mut value: Value = serde_json::from_str(&designation("deep")).unwrap();
        let mut inner = Value::String("x".into());
        for _ in 1..levels {
            inner = Value::Array(vec![inner]);
        }
        value["note"] = inner;
        value.to_string().into_bytes()
    };
    let max = sanctions_ledger::limits::JSON_DEPTH_MAX;
    let (status, body) = served
        .post("/v1/events", Some(&admin), "application/json", nested(max))
        .await;
    assert_eq!(status, 400, "{body}");
    assert!(body.to_string().contains("unknown field"), "{body}");
    let (status, body) = served
        .post(
            "/v1/events",
            Some(&admin),
            "application/json",
            nested(max + 1),
        )
        .await;
    assert_eq!(status, 400, "{body}");
    assert!(body.to_string().contains("nested deeper than"), "{body}");
    let first = served
        .client
        .get(served.url("/v1/records?from=1"))
        .header("accept", "text/event-stream")
        .send()
        .await
        .unwrap();
    assert_eq!(first.status(), 200);
    let second = served
        .client
        .get(served.url("/v1/records?from=1"))
        .header("accept", "text/event-stream")
        .send()
        .await
        .unwrap();
    assert_eq!(second.status(), 503);
    drop(first);
    served.stop();
}

/// Sends raw bytes on a new connection and reads the answer until the server closes it (or a
/// few seconds pass).
async fn raw_exchange(address: std::net::SocketAddr, request: &[u8]) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
    stream.write_all(request).await.unwrap();
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut answer)).await;
    String::from_utf8_lossy(&answer).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_change_feed_sends_the_records_then_each_new_one_verifiably() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = bundled(dir.path());
    let (admin, _) = token(&ledger, "feeder", &[Scope::Append]);
    let served = Served::start(&ledger, ServerLimits::default(), None);
    let mut feed = served
        .client
        .get(served.url("/v1/records?from=29"))
        .header("accept", "application/jsonl")
        .send()
        .await
        .unwrap();
    assert_eq!(feed.headers()["content-type"], "application/jsonl");
    let mut lines: Vec<Value> = Vec::new();
    let mut pending = String::new();
    let mut appended = false;
    while lines.len() < 4 {
        let chunk = tokio::time::timeout(Duration::from_secs(10), feed.chunk())
            .await
            .expect("the feed sends")
            .unwrap()
            .expect("the feed stays open");
        pending.push_str(std::str::from_utf8(&chunk).unwrap());
        while let Some(end) = pending.find('\n') {
            let line: String = pending.drain(..=end).collect();
            if !line.trim().is_empty() {
                lines.push(serde_json::from_str(&line).unwrap());
            }
        }
        if lines.len() == 2 && !appended {
            // Caught up (records 29 and 30): new records follow as they are acknowledged.
            let batch = jsonl(&[designation("feed-1"), designation("feed-2")]);
            let (status, body) = served
                .post("/v1/events", Some(&admin), "application/jsonl", batch)
                .await;
            assert_eq!(status, 200, "{body}");
            appended = true;
        }
    }
    let sequences: Vec<u64> = lines
        .iter()
        .map(|line| line["sequence"].as_u64().unwrap())
        .collect();
    assert_eq!(sequences, [29, 30, 31, 32]);
    // Each record's bytes hash to its hash, and each links to the one before.
    for pair in lines.windows(2) {
        assert_eq!(pair[1]["record"]["previous_hash"], pair[0]["hash"]);
    }
    for line in &lines {
        use base64::Engine;
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(line["bytes"].as_str().unwrap())
            .unwrap();
        let record = sanctions_ledger::ledger::record::Record::from_bytes(&bytes).unwrap();
        assert_eq!(record.sequence, line["sequence"].as_u64().unwrap());
        assert_eq!(
            sanctions_ledger::ledger::chain::record_hash(&bytes).to_hex(),
            line["hash"].as_str().unwrap()
        );
    }
    assert_eq!(lines[2]["record"]["appended_by"], "feeder");
    drop(feed);
    served.stop();
}
