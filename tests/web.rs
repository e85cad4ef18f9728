//! The web view (`serve` at `/`): its pages over HTTP (the answers the command line gives, no
//! script needed for any table, hostile text escaped, bad questions answered with a page that
//! says why), and the same pages in Debian's Chromium driven by playwright-core
//! (`tests/web/browser.mjs`): counts, the date picker, the timeline, the graph, the in-browser
//! proof check (verified, and failed through a proxy that flips a byte of the served proof),
//! axe-core's accessibility check, screenshots under `target/web-screenshots/`.

mod serving;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use sanctions_ledger::server::ServerLimits;
use serde_json::{Value, json};
use serving::{Served, bundled, token};

const BIN: &str = env!("CARGO_BIN_EXE_sanctions-ledger");

/// Runs the binary on `ledger`: its JSON answer.
fn cli(ledger: &Path, args: &[&str]) -> Value {
    let output = Command::new(BIN)
        .arg("--ledger")
        .arg(ledger)
        .args(args)
        .arg("--json")
        .output()
        .expect("run the binary");
    assert!(
        output.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("JSON")
}

/// The bundled ledger with a key and one checkpoint: (ledger, secret key, public key text).
fn signed_ledger(dir: &Path) -> (PathBuf, PathBuf, String) {
    let ledger = bundled(dir);
    let prefix = dir.join("operator");
    cli(
        &ledger,
        &["keygen", "--for-ledger", "--out", prefix.to_str().unwrap()],
    );
    let key = dir.join("operator.key");
    cli(&ledger, &["checkpoint", "--key", key.to_str().unwrap()]);
    let public = std::fs::read_to_string(dir.join("operator.pub")).unwrap();
    (ledger, key, public.trim().to_owned())
}

async fn page(served: &Served, path: &str) -> (u16, String, reqwest::header::HeaderMap) {
    let response = served.client.get(served.url(path)).send().await.unwrap();
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    (status, response.text().await.unwrap(), headers)
}

/// How often `needle` occurs in `haystack`.
fn count(haystack: &str, needle: &str) -> usize {
    haystack.matches(needle).count()
}

/// The number in `data-count="N"` after `id="ID"`.
fn data_count(html: &str, id: &str) -> usize {
    let needle = format!("id=\"{id}\" data-count=\"");
    let at = html
        .find(&needle)
        .unwrap_or_else(|| panic!("no #{id} in the page"));
    let rest = &html[at + needle.len()..];
    rest[..rest.find('"').unwrap()].parse().unwrap()
}

fn per_authority(answer: &Value) -> BTreeMap<String, u64> {
    let mut counts = BTreeMap::new();
    for listing in answer["listings"].as_array().unwrap() {
        *counts
            .entry(listing["authority"].as_str().unwrap().to_owned())
            .or_default() += 1;
    }
    counts
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_page_answers_what_the_command_line_answers_without_script() {
    let dir = tempfile::tempdir().unwrap();
    let (ledger, key, _) = signed_ledger(dir.path());
    let dates = [
        "2020-07-10",
        "2021-03-21",
        "2021-03-22",
        "2021-03-28",
        "2025-06-01",
    ];
    let answers: Vec<Value> = dates
        .iter()
        .map(|date| cli(&ledger, &["state", "--as-of", date]))
        .collect();
    let entry_ban = cli(
        &ledger,
        &["state", "--as-of", "2021-03-28", "--measure", "entry_ban"],
    );
    let diff = cli(
        &ledger,
        &["diff", "--from", "2021-03-21", "--to", "2021-03-28"],
    );
    let history = cli(&ledger, &["history", "xj-zhu-hailun"]);
    let served = Served::start(&ledger, ServerLimits::default(), Some(key));

    for (date, answer) in dates.iter().zip(&answers) {
        let (status, html, headers) = page(&served, &format!("/state?as_of={date}")).await;
        assert_eq!(status, 200);
        assert!(
            headers["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/html")
        );
        assert!(
            headers["content-security-policy"]
                .to_str()
                .unwrap()
                .contains("default-src 'none'")
        );
        let listings = answer["listings"].as_array().unwrap().len();
        assert_eq!(data_count(&html, "total"), listings, "{date}");
        // One table row per listing, rendered on the server.
        let table = &html[html.find("<table id=\"listings\"").unwrap()..];
        assert_eq!(
            count(&table[..table.find("</table>").unwrap()], "<tr>") - 1,
            listings
        );
        for (authority, n) in per_authority(answer) {
            assert!(
                html.contains(&format!(
                    "<span class=\"count\" data-authority=\"{authority}\">{n}</span>"
                )),
                "{date}: {authority} {n}"
            );
        }
        // The same answer as CSV: a header and a row per listing.
        let (status, csv, _) = page(&served, &format!("/state.csv?as_of={date}")).await;
        assert_eq!(status, 200);
        assert_eq!(csv.lines().count(), listings + 1, "{date}");
    }
    // No listing in force: said in words, with the warnings of what the ledger does not know.
    let (_, html, _) = page(&served, "/state?as_of=2026-12-09&authority=EU-COUNCIL").await;
    assert_eq!(data_count(&html, "total"), 0);
    assert!(html.contains("id=\"none\""));
    assert!(html.contains("data-kind=\"no_decision_recorded\""));
    // The measure filter is the command line's.
    let (_, html, _) = page(&served, "/state?as_of=2021-03-28&measure=entry_ban").await;
    assert_eq!(
        data_count(&html, "total"),
        entry_ban["listings"].as_array().unwrap().len()
    );
    assert!(
        entry_ban["listings"].as_array().unwrap().len()
            < answers[3]["listings"].as_array().unwrap().len()
    );
    // Empty form fields are no filter.
    let (_, html, _) = page(
        &served,
        "/state?as_of=2021-03-22&known_at=&authority=&programme=&kind=&measure=",
    )
    .await;
    assert_eq!(
        data_count(&html, "total"),
        answers[2]["listings"].as_array().unwrap().len()
    );

    let (status, html, _) = page(&served, "/diff?from=2021-03-21&to=2021-03-28").await;
    assert_eq!(status, 200);
    assert_eq!(
        data_count(&html, "came"),
        diff["came_into_force"].as_array().unwrap().len()
    );
    assert_eq!(
        data_count(&html, "left"),
        diff["left_force"].as_array().unwrap().len()
    );

    let (status, html, _) = page(&served, "/subject/xj-zhu-hailun").await;
    assert_eq!(status, 200);
    let listings = history["listings"].as_array().unwrap();
    assert_eq!(count(&html, "<g class=\"listing\""), listings.len());
    let periods: usize = listings
        .iter()
        .map(|l| l["intervals"].as_array().unwrap().len())
        .sum();
    assert_eq!(count(&html, "<rect class=\"period"), periods);
    for name in history["names"].as_array().unwrap() {
        assert!(html.contains(name.as_str().unwrap()), "{name}");
    }
    // Every identifier any record gave the subject, each with the record that gave it.
    let identifiers = history["identifiers"].as_array().unwrap();
    assert!(
        identifiers.iter().any(|i| i["scheme"] == "date-of-birth"),
        "{identifiers:?}"
    );
    for identifier in identifiers {
        assert!(html.contains(&format!(
            "{}: {} (<a href=\"/event/{}\">",
            identifier["scheme"].as_str().unwrap(),
            identifier["value"].as_str().unwrap(),
            identifier["sequence"]
        )));
    }

    let (status, html, _) = page(&served, "/graph").await;
    assert_eq!(status, 200);
    let log = cli(&ledger, &["log"]);
    let records = log["records"].as_array().unwrap();
    let retaliations = records
        .iter()
        .filter(|r| r["event"]["kind"] == "retaliation")
        .count();
    let answers_recorded: usize = records
        .iter()
        .filter_map(|r| r["event"]["in_response_to"].as_array())
        .map(Vec::len)
        .sum();
    assert_eq!(count(&html, "data-kind=\"retaliation\""), retaliations);
    assert_eq!(count(&html, "<line class=\"edge\""), answers_recorded);

    let (status, html, _) = page(&served, "/event/5").await;
    assert_eq!(status, 200);
    assert!(html.contains(records[4]["hash"].as_str().unwrap()));
    assert!(html.contains("data-checkpoint=\"1\""));
    assert!(html.contains("data-state=\"unchecked\""));

    let (status, html, _) = page(&served, "/").await;
    assert_eq!(status, 200);
    assert!(html.contains(&format!("<span id=\"records\">{}</span>", records.len())));
    assert!(html.contains("sanctions-ledger follow http://127.0.0.1:"));

    // Nothing on any page is loaded from elsewhere: scripts, styles and pictures are the
    // server's own (links to an event's sources are links, not loads).
    for path in [
        "/",
        "/state?as_of=2021-03-22",
        "/graph",
        "/event/5",
        "/subject/xj-zhu-hailun",
    ] {
        let (_, html, _) = page(&served, path).await;
        for load in [
            "src=\"http",
            "<link rel=\"stylesheet\" href=\"http",
            "url(http",
            "@import",
        ] {
            assert!(!html.contains(load), "{path} loads from elsewhere: {load}");
        }
    }
    let (status, css, headers) = page(&served, "/assets/style.css").await;
    assert_eq!(status, 200);
    assert!(!css.contains("url(") && !css.contains("@import"));
    assert!(
        headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/css")
    );
    served.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_questions_get_a_page_that_says_why_and_hostile_text_is_escaped() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = bundled(dir.path());
    let (append, _) = token(
        &ledger,
        "ops",
        &[sanctions_ledger::server::tokens::Scope::Append],
    );
    let served = Served::start(&ledger, ServerLimits::default(), None);
    for (path, status, says) in [
        ("/state?as_of=2021-02-30", 400, "as_of"),
        (
            "/state?as_of=2021-03-22&kind=ship",
            400,
            "person, entity, vessel or aircraft",
        ),
        ("/state?as_of=2021-03-22&measure=jail", 400, "asset_freeze"),
        (
            "/state?as_of=2021-03-22&colour=red",
            400,
            "unknown query parameter",
        ),
        ("/diff?from=2021-03-28&to=2021-03-21", 400, "from"),
        ("/subject/nobody-at-all", 404, "nobody-at-all"),
        ("/event/0", 404, "0"),
        ("/event/999", 404, "999"),
        ("/event/x", 400, "whole number"),
        ("/assets/secret.txt", 404, "style.css and app.js"),
        ("/state.csv", 400, "as_of"),
    ] {
        let (got, html, headers) = page(&served, path).await;
        assert_eq!(got, status, "{path}: {html}");
        assert!(
            headers["content-type"]
                .to_str()
                .unwrap()
                .starts_with("text/html"),
            "{path}"
        );
        assert!(html.contains("role=\"alert\""), "{path}");
        assert!(html.contains(says), "{path} should say {says}: {html}");
    }
    // A subject whose name is markup: shown as text on every page that names it.
    let mut event: Value = serde_json::from_str(&serving::designation("hostile-2021")).unwrap();
    event["subjects"][0]["id"] = json!("xj-hostile");
    event["subjects"][0]["names"] = json!(["<script>alert(1)</script> \"quoted\" & <b>bold</b>"]);
    let (status, answer) = served
        .post(
            "/v1/events",
            Some(&append),
            "application/json",
            event.to_string().into_bytes(),
        )
        .await;
    assert_eq!(status, 200, "{answer}");
    let date = event["effective_on"].as_str().unwrap().to_owned();
    for path in [
        "/subject/xj-hostile".to_owned(),
        format!("/state?as_of={date}"),
        "/subjects?q=alert".to_owned(),
    ] {
        let (status, html, _) = page(&served, &path).await;
        assert_eq!(status, 200, "{path}");
        assert!(!html.contains("<script>alert"), "{path}");
        assert!(!html.contains("<b>bold"), "{path}");
        assert!(
            html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
            "{path}"
        );
    }
    served.stop();
}

/// Installs Chromium, playwright-core and axe-core if they are missing (tests/web/setup.sh).
fn browser_setup() {
    let output = Command::new("bash")
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/web/setup.sh"))
        .output()
        .expect("run tests/web/setup.sh");
    assert!(
        output.status.success(),
        "tests/web/setup.sh failed: the browser tests need Debian's chromium, chromium-driver and fonts-wqy-microhei, and npm:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// A proxy in front of the server that passes everything through, but flips one hex digit of
/// the first node of every inclusion proof's audit path.
async fn tampering_proxy(upstream: String) -> String {
    use axum::body::Body;
    use axum::http::{Request, Response};
    let client = reqwest::Client::new();
    let app = axum::Router::new().fallback(move |request: Request<Body>| {
        let (client, upstream) = (client.clone(), upstream.clone());
        async move {
            let path = request
                .uri()
                .path_and_query()
                .map(|p| p.as_str().to_owned())
                .unwrap_or_default();
            let answer = client
                .get(format!("{upstream}{path}"))
                .send()
                .await
                .unwrap();
            let status = answer.status().as_u16();
            let headers = answer.headers().clone();
            let mut body = answer.bytes().await.unwrap().to_vec();
            if path.starts_with("/v1/proofs/inclusion/") {
                let mut proof: Value = serde_json::from_slice(&body).unwrap();
                let node = proof["path"][0].as_str().unwrap().to_owned();
                let flipped = if node.starts_with('0') { "1" } else { "0" };
                proof["path"][0] = Value::String(format!("{flipped}{}", &node[1..]));
                body = serde_json::to_vec(&proof).unwrap();
            }
            let mut response = Response::builder().status(status);
            for name in ["content-type", "content-security-policy"] {
                if let Some(value) = headers.get(name) {
                    response = response.header(name, value);
                }
            }
            response.body(Body::from(body)).unwrap()
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{address}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_pages_in_chromium_show_the_answers_check_the_proof_and_pass_axe() {
    tokio::task::spawn_blocking(browser_setup).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (ledger, key, public) = signed_ledger(dir.path());
    let state = cli(&ledger, &["state", "--as-of", "2021-03-22"]);
    let other = cli(&ledger, &["state", "--as-of", "2021-03-21"]);
    let known = cli(
        &ledger,
        &["state", "--as-of", "2021-03-22", "--known-at", "2021-03-21"],
    );
    let today = "2026-06-01";
    let history = cli(&ledger, &["history", "xj-zhu-hailun", "--today", today]);
    let diff = cli(
        &ledger,
        &["diff", "--from", "2021-03-21", "--to", "2021-03-28"],
    );
    let log = cli(&ledger, &["log"]);
    let records = log["records"].as_array().unwrap();
    let listings = history["listings"].as_array().unwrap();
    let signer: Vec<&str> = public.splitn(3, '+').collect();
    let served = Served::start(&ledger, ServerLimits::default(), Some(key));
    let tampered = tampering_proxy(served.base.clone()).await;
    let screenshots = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/web-screenshots");
    let input = json!({
        "base": served.base,
        "tampered": tampered,
        "chromium": "/usr/bin/chromium",
        "screenshots": screenshots,
        "records": records.len(),
        "state": {
            "as_of": "2021-03-22",
            "total": state["listings"].as_array().unwrap().len(),
            "per_authority": per_authority(&state),
        },
        "other": {"as_of": "2021-03-21", "total": other["listings"].as_array().unwrap().len()},
        "known": {"known_at": "2021-03-21", "total": known["listings"].as_array().unwrap().len()},
        "subject": {
            "id": "xj-zhu-hailun",
            "today": today,
            "listings": listings.len(),
            "periods": listings.iter().map(|l| l["intervals"].as_array().unwrap().len()).sum::<usize>(),
            "events": history["timeline"].as_array().unwrap().iter().filter(|e| !e["sequence"].is_null()).count(),
        },
        "graph": {
            "retaliations": records.iter().filter(|r| r["event"]["kind"] == "retaliation").count(),
            "edges": records.iter().filter_map(|r| r["event"]["in_response_to"].as_array()).map(Vec::len).sum::<usize>(),
        },
        "diff": {
            "from": "2021-03-21",
            "to": "2021-03-28",
            "came": diff["came_into_force"].as_array().unwrap().len(),
        },
        "event": 5,
        "key_signer": format!("{}+{}", signer[0], signer[1]),
    });
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/web/browser.mjs");
    let output = tokio::task::spawn_blocking(move || {
        Command::new("node")
            .arg(script)
            .arg(input.to_string())
            .output()
            .expect("run node")
    })
    .await
    .unwrap();
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    println!("{said}");
    assert!(
        output.status.success(),
        "the browser checks failed:\n{said}"
    );
    assert!(said.contains("all browser checks passed"));
    for name in [
        "overview",
        "state-2021-03-22",
        "state-after-picker",
        "state-phone",
        "subject",
        "graph",
        "diff",
        "event-verified",
        "event-tampered",
    ] {
        let shot = screenshots.join(format!("{name}.png"));
        let bytes = std::fs::read(&shot).unwrap_or_default();
        assert!(bytes.starts_with(b"\x89PNG"), "{} is a PNG", shot.display());
    }
    served.stop();
}
