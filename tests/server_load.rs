//! The server under load, against a real server on 127.0.0.1:0: concurrent duplicate appends
//! recorded once, a flood beyond the queue answered 503 at once, slow clients closed at the
//! header timeout while reads go on, and the process killed (SIGKILL) or stopped (SIGTERM)
//! during concurrent appends losing nothing it acknowledged.

mod common;
mod serving;

use std::collections::{BTreeMap, BTreeSet};
use std::io::BufRead;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use sanctions_ledger::ledger::Ledger;
use sanctions_ledger::server::ServerLimits;
use sanctions_ledger::server::tokens::Scope;
use serving::{Served, bundled, designation, token};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_concurrent_appends_of_a_hundred_events_record_each_once() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = bundled(dir.path());
    let (writer, _) = token(&ledger, "crowd", &[Scope::Append]);
    // Room for 1,050 clients connected at once (and the pool's idle connections).
    let limits = ServerLimits {
        connections: 4096,
        queue_requests: 4096,
        ..ServerLimits::default()
    };
    let served = Arc::new(Served::start(&ledger, limits, None));
    let (_, head) = served.get("/v1/head").await;
    let before = head["sequence"].as_u64().unwrap();
    let mut tasks = Vec::new();
    for copy in 0..10 {
        for event in 0..100 {
            let served = Arc::clone(&served);
            let writer = writer.clone();
            tasks.push(tokio::spawn(async move {
                let id = format!("crowd-{event:03}");
                let (status, body) = served
                    .post(
                        "/v1/events",
                        Some(&writer),
                        "application/json",
                        designation(&id).into_bytes(),
                    )
                    .await;
                (id, copy, status, body)
            }));
        }
    }
    let mut sequences: BTreeMap<String, BTreeSet<u64>> = BTreeMap::new();
    let mut appended: BTreeMap<String, u32> = BTreeMap::new();
    for task in tasks {
        let (id, _copy, status, body) = task.await.unwrap();
        assert_eq!(status, 200, "{id}: {body}");
        let outcome = &body["events"][0];
        assert_eq!(outcome["event_id"], id.as_str());
        sequences
            .entry(id.clone())
            .or_default()
            .insert(outcome["sequence"].as_u64().unwrap());
        *appended.entry(id).or_default() += u32::from(outcome["appended"] == true);
    }
    let (_, head) = served.get("/v1/head").await;
    assert_eq!(
        head["sequence"].as_u64().unwrap(),
        before + 100,
        "exactly 100 records"
    );
    assert_eq!(sequences.len(), 100);
    for (id, seen) in &sequences {
        assert_eq!(
            seen.len(),
            1,
            "{id}: every response names one sequence: {seen:?}"
        );
        assert_eq!(appended[id], 1, "{id} is appended by exactly one request");
    }
    let all: BTreeSet<u64> = sequences.values().flatten().copied().collect();
    assert_eq!(all, (before + 1..=before + 100).collect());
    // One new id from 1,000 clients at once, among 50 bad requests (a recorded id with other
    // content, and events naming an unknown one): one record, one sequence for all 1,000, and the bad
    // ones refused without failing their neighbours in a group.
    let mut tasks = Vec::new();
    for client in 0..1050 {
        let served = Arc::clone(&served);
        let writer = writer.clone();
        tasks.push(tokio::spawn(async move {
            let body = match client {
                0..1000 => designation("crowd-one"),
                1000..1025 => {
                    // An id recorded above, with other content.
                    let mut other: serde_json::Value =
                        serde_json::from_str(&designation("crowd-000")).unwrap();
                    other["effective_on"] = serde_json::Value::String("2020-07-10".into());
                    other.to_string()
                }
                _ => {
                    let mut orphan: serde_json::Value =
                        serde_json::from_str(&designation(&format!("crowd-orphan-{client}")))
                            .unwrap();
                    orphan["kind"] = "retaliation".into();
                    orphan["in_response_to"] = serde_json::json!(["never-recorded"]);
                    orphan.to_string()
                }
            };
            let (status, answer) = served
                .post(
                    "/v1/events",
                    Some(&writer),
                    "application/json",
                    body.into_bytes(),
                )
                .await;
            (client, status, answer)
        }));
    }
    let mut one = BTreeSet::new();
    for task in tasks {
        let (client, status, answer) = task.await.unwrap();
        match client {
            0..1000 => {
                assert_eq!(status, 200, "{answer}");
                one.insert(answer["events"][0]["sequence"].as_u64().unwrap());
            }
            1000..1025 => assert_eq!(status, 409, "{answer}"),
            _ => assert_eq!(status, 400, "{answer}"),
        }
    }
    assert_eq!(
        one,
        BTreeSet::from([before + 101]),
        "one record, one sequence for all"
    );
    let (_, head) = served.get("/v1/head").await;
    assert_eq!(head["sequence"].as_u64().unwrap(), before + 101);
    Arc::try_unwrap(served).ok().unwrap().stop();
    let verified = common::run_cli(dir.path(), &["--ledger", "ledger", "verify"], None);
    assert_eq!(
        verified.status.code(),
        Some(3),
        "{}",
        common::stdout(&verified)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_beyond_the_queue_is_answered_503_at_once_and_loses_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = bundled(dir.path());
    let (writer, _) = token(&ledger, "flood", &[Scope::Append]);
    let limits = ServerLimits {
        queue_requests: 1,
        group_requests: 1,
        ..ServerLimits::default()
    };
    let served = Arc::new(Served::start(&ledger, limits, None));
    let mut tasks = Vec::new();
    for event in 0..300 {
        let served = Arc::clone(&served);
        let writer = writer.clone();
        tasks.push(tokio::spawn(async move {
            let id = format!("flood-{event:03}");
            let request = served
                .client
                .post(served.url("/v1/events"))
                .bearer_auth(&writer)
                .header("content-type", "application/json")
                .body(designation(&id));
            let started = Instant::now();
            let response = request.send().await.unwrap();
            let took = started.elapsed();
            let status = response.status().as_u16();
            let retry = response.headers().get("retry-after").cloned();
            (id, status, retry, took)
        }));
    }
    // Reads go on meanwhile.
    for _ in 0..20 {
        let (status, _) = served.get("/v1/head").await;
        assert_eq!(status, 200);
    }
    let mut accepted = Vec::new();
    let mut refused = Vec::new();
    for task in tasks {
        let (id, status, retry, took) = task.await.unwrap();
        match status {
            200 => accepted.push(id),
            503 => {
                assert_eq!(
                    retry.as_ref().map(|value| value.to_str().unwrap()),
                    Some("1")
                );
                refused.push((id, took));
            }
            other => panic!("{id}: status {other}"),
        }
    }
    assert!(
        !refused.is_empty(),
        "a queue of one overflows under 300 writers"
    );
    let mut latencies: Vec<Duration> = refused.iter().map(|(_, took)| *took).collect();
    latencies.sort();
    let p99 = latencies[(latencies.len() * 99 / 100).min(latencies.len() - 1)];
    println!(
        "flood: {} accepted, {} refused with 503; p99 of a 503 (client side, whole request) {p99:?}",
        accepted.len(),
        refused.len()
    );
    Arc::try_unwrap(served).ok().unwrap().stop();
    let ledger = Ledger::open(&ledger).unwrap();
    for id in &accepted {
        assert!(
            ledger.sequence_of(id).unwrap().is_some(),
            "{id} was acknowledged"
        );
    }
    for (id, _) in &refused {
        assert!(
            ledger.sequence_of(id).unwrap().is_none(),
            "{id} was refused"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_clients_are_closed_at_the_header_timeout_while_reads_go_on() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let dir = tempfile::tempdir().unwrap();
    let ledger = bundled(dir.path());
    let timeout = Duration::from_secs(2);
    let limits = ServerLimits {
        header_read_timeout: timeout,
        ..ServerLimits::default()
    };
    let served = Arc::new(Served::start(&ledger, limits, None));
    let address = served.address();
    let mut slow = Vec::new();
    for _ in 0..200 {
        slow.push(tokio::spawn(async move {
            // Timed from before the connection is made: the server's header timer starts when
            // it accepts, which is before the client's connect returns (timed after it, a close
            // could look a few ms early).
            let started = Instant::now();
            let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
            let request = b"GET /v1/head HTTP/1.1\r\nhost: slow\r\nx-slow: abcdefghijklmnopqrstuvwxyz0123456789";
            let mut buffer = [0u8; 512];
            for byte in request {
                if stream.write_all(&[*byte]).await.is_err() {
                    return Some(started.elapsed());
                }
                // A second between bytes, watching for the server closing the connection.
                match tokio::time::timeout(Duration::from_secs(1), stream.read(&mut buffer)).await {
                    Ok(Ok(_)) | Ok(Err(_)) => return Some(started.elapsed()),
                    Err(_) => {}
                }
            }
            None
        }));
    }
    // Reads answer normally meanwhile.
    let mut reads = 0;
    let until = Instant::now() + timeout;
    while Instant::now() < until {
        let (status, _) = served.get("/v1/state?as_of=2021-03-22").await;
        assert_eq!(status, 200);
        reads += 1;
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(reads >= 5);
    let mut closed = Vec::new();
    for connection in slow {
        let closed_after = connection
            .await
            .unwrap()
            .expect("the server closed the slow connection before its headers ended");
        closed.push(closed_after);
    }
    closed.sort();
    assert_eq!(closed.len(), 200);
    // Closed by the header timeout, not by the end of what the client had to send.
    assert!(
        closed[0] >= timeout,
        "closed before the timeout: {:?}",
        closed[0]
    );
    println!(
        "slow clients: 200 closed after {:?}..{:?} (header timeout {timeout:?}); {reads} reads answered meanwhile",
        closed[0], closed[199]
    );
    let (status, _) = served.get("/v1/head").await;
    assert_eq!(status, 200);
    Arc::try_unwrap(served).ok().unwrap().stop();
}

/// The head sequence a server at `base` answers.
async fn head_sequence(client: &reqwest::Client, base: &str) -> u64 {
    let text = client
        .get(format!("{base}/v1/head"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let head: serde_json::Value = serde_json::from_str(&text).unwrap();
    head["sequence"].as_u64().unwrap()
}

/// Starts `serve` as a process on a free loopback port: the child and its address.
fn serve_process(dir: &std::path::Path) -> (std::process::Child, String) {
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_sanctions-ledger"))
        .current_dir(dir)
        .args([
            "--ledger",
            "ledger",
            "--json",
            "serve",
            "--listen",
            "127.0.0.1:0",
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let started: serde_json::Value =
        serde_json::from_str(&line).expect("the server says where it listens");
    (child, started["listening"].as_str().unwrap().to_owned())
}

/// Appends from `writers` concurrent clients until `stop` is set; the ids answered 2xx.
async fn load(base: String, writer: String, writers: usize, stop: Arc<Mutex<bool>>) -> Vec<String> {
    let acknowledged = Arc::new(Mutex::new(Vec::new()));
    let client = reqwest::Client::new();
    let mut tasks = Vec::new();
    for worker in 0..writers {
        let (base, writer, client) = (base.clone(), writer.clone(), client.clone());
        let (acknowledged, stop) = (Arc::clone(&acknowledged), Arc::clone(&stop));
        tasks.push(tokio::spawn(async move {
            for n in 0.. {
                if *stop.lock().unwrap() {
                    break;
                }
                let id = format!("load-{worker:02}-{n:05}");
                let sent = client
                    .post(format!("{base}/v1/events"))
                    .bearer_auth(&writer)
                    .header("content-type", "application/json")
                    .body(designation(&id))
                    .send()
                    .await;
                match sent {
                    Ok(response) if response.status().is_success() => {
                        // Acknowledged only once the whole answer arrived.
                        if response.text().await.is_ok() {
                            acknowledged.lock().unwrap().push(id);
                        }
                    }
                    Ok(_) => {}
                    Err(_) => tokio::time::sleep(Duration::from_millis(20)).await,
                }
            }
        }));
    }
    for task in tasks {
        let _ = task.await;
    }
    Arc::try_unwrap(acknowledged).unwrap().into_inner().unwrap()
}

fn acknowledged_are_recorded_and_verify_is_clean(dir: &std::path::Path, acknowledged: &[String]) {
    assert!(
        acknowledged.len() >= 50,
        "the load got going: {}",
        acknowledged.len()
    );
    {
        let ledger = Ledger::open(&dir.join("ledger")).unwrap();
        for id in acknowledged {
            assert!(
                ledger.sequence_of(id).unwrap().is_some(),
                "{id} was answered 2xx and is not in the log"
            );
        }
    }
    let verified = common::run_cli(dir, &["--ledger", "ledger", "--json", "verify"], None);
    let verdict: serde_json::Value = serde_json::from_slice(&verified.stdout).unwrap();
    assert_eq!(verified.status.code(), Some(3), "{verdict}");
    assert_eq!(verdict["verdict"], "unanchored", "{verdict}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_killed_during_concurrent_appends_keeps_every_acknowledged_event() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = bundled(dir.path());
    let (writer, _) = token(&ledger, "loader", &[Scope::Append]);
    let (mut child, base) = serve_process(dir.path());
    let stop = Arc::new(Mutex::new(false));
    let loading = tokio::spawn(load(base.clone(), writer, 16, Arc::clone(&stop)));
    // Let it run, then SIGKILL it mid-load.
    let client = reqwest::Client::new();
    loop {
        tokio::time::sleep(Duration::from_millis(50)).await;
        if head_sequence(&client, &base).await > 30 + 200 {
            break;
        }
    }
    child.kill().unwrap();
    child.wait().unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    *stop.lock().unwrap() = true;
    let acknowledged = loading.await.unwrap();
    acknowledged_are_recorded_and_verify_is_clean(dir.path(), &acknowledged);
    // And it serves again after the restart, from where it was.
    let (mut child, base) = serve_process(dir.path());
    assert!(head_sequence(&client, &base).await >= 30 + acknowledged.len() as u64);
    child.kill().unwrap();
    child.wait().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_during_concurrent_appends_answers_what_is_in_flight_and_exits_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let ledger = bundled(dir.path());
    let (writer, _) = token(&ledger, "loader", &[Scope::Append]);
    let (mut child, base) = serve_process(dir.path());
    let stop = Arc::new(Mutex::new(false));
    let loading = tokio::spawn(load(base.clone(), writer, 16, Arc::clone(&stop)));
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let status = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let exit = child.wait().unwrap();
    assert_eq!(exit.code(), Some(0), "a graceful stop exits 0");
    *stop.lock().unwrap() = true;
    let acknowledged = loading.await.unwrap();
    acknowledged_are_recorded_and_verify_is_clean(dir.path(), &acknowledged);
    // A graceful stop leaves nothing for recovery to do: the next open reports nothing.
    let opened = common::run_cli(dir.path(), &["--ledger", "ledger", "head"], None);
    assert!(
        common::stderr(&opened).is_empty(),
        "{}",
        common::stderr(&opened)
    );
}
