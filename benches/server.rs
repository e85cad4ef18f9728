//! Benchmarks of the server over loopback (a real `serve` in this process, a real HTTP client),
//! beside the raw durability barrier in the same run:
//!
//! - `server_append/raw_barrier`: write + fsync of one record's bytes to a file: one durability
//!   barrier on this disk, the floor of any acknowledged append.
//! - `server_append/clients_{1,8,64}`: appends through `POST /v1/events` by that many concurrent
//!   clients, each request a new designation of new subjects (new listings); elements/s is
//!   appends per second, so group commit shows as the 8- and 64-client rates over the 1-client.
//! - `server_read/state_one_subject`, `server_read/history`: one client, idle server.
//! - After them, read latency p50/p99 idle and under a write load of 64 clients, printed (our
//!   own load; `benches/server_load.sh` measures the same with wrk, a load generator not ours).
//!
//! Run by hand: `cargo bench --bench server`. CI only builds it.

// criterion_group! generates public functions without documentation.
#![allow(missing_docs)]

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
// The tests' helpers: the bundled ledger, built as `quickstart` builds it.
#[path = "../tests/serving/mod.rs"]
mod serving;
use sanctions_ledger::cli::BUNDLED_DATASET;
use sanctions_ledger::server::ServerLimits;
use sanctions_ledger::server::tokens::Scope;
use serde_json::Value;

/// The bundled dataset's first designation with a new id and new subject ids.
fn event(id: &str) -> String {
    let mut event: Value = serde_json::from_str(BUNDLED_DATASET.lines().next().unwrap()).unwrap();
    event["id"] = Value::String(id.to_owned());
    for subject in event["subjects"].as_array_mut().unwrap() {
        let new = format!("{}-{id}", subject["id"].as_str().unwrap());
        subject["id"] = Value::String(new);
    }
    event.to_string()
}

/// A served bundled ledger (the tests' `Served`), its append token, and the next event number.
struct Server {
    served: serving::Served,
    _dir: tempfile::TempDir,
    token: String,
    next: Arc<AtomicU64>,
}

impl Server {
    fn start() -> Server {
        Server::start_with(ServerLimits::default())
    }

    fn start_with(limits: ServerLimits) -> Server {
        let dir = tempfile::tempdir().unwrap();
        let ledger = serving::bundled(dir.path());
        let (token, _) = serving::token(&ledger, "bench", &[Scope::Append]);
        Server {
            served: serving::Served::start(&ledger, limits, None),
            _dir: dir,
            token,
            next: Arc::new(AtomicU64::new(0)),
        }
    }

    async fn append(&self) {
        assert!(self.try_append().await.is_success());
    }

    /// One append: the status it got.
    async fn try_append(&self) -> reqwest::StatusCode {
        let id = format!("bench-{}", self.next.fetch_add(1, Ordering::Relaxed));
        let response = self
            .served
            .client
            .post(self.served.url("/v1/events"))
            .bearer_auth(&self.token)
            .header("content-type", "application/json")
            .body(event(&id))
            .send()
            .await
            .unwrap();
        let status = response.status();
        response.bytes().await.unwrap();
        status
    }

    async fn get(&self, path: &str) {
        let response = self
            .served
            .client
            .get(self.served.url(path))
            .send()
            .await
            .unwrap();
        assert!(response.status().is_success());
        response.bytes().await.unwrap();
    }
}

/// `total` appends by `clients` concurrent clients; how long they took.
async fn appends(server: &Arc<Server>, clients: u64, total: u64) -> Duration {
    let started = Instant::now();
    let mut tasks = Vec::new();
    for client in 0..clients {
        let server = Arc::clone(server);
        let share = total / clients + u64::from(client < total % clients);
        tasks.push(tokio::spawn(async move {
            for _ in 0..share {
                server.append().await;
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    started.elapsed()
}

const STATE: &str = "/v1/state?as_of=2021-03-22&subject=xj-wang-junzheng";
const HISTORY: &str = "/v1/history/xj-wang-junzheng?today=2026-12-01";

fn bench(c: &mut Criterion) {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let mut group = c.benchmark_group("server_append");
    group.throughput(Throughput::Elements(1));
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(5));
    // One record's bytes: what one append of the benchmark's event stores.
    let record_bytes = event("bench-0").len() + 100;
    let raw_dir = tempfile::tempdir().unwrap();
    let mut raw = std::fs::File::create(raw_dir.path().join("raw")).unwrap();
    let bytes = vec![0x5a_u8; record_bytes];
    group.bench_function("raw_barrier", |b| {
        b.iter(|| {
            use std::io::Write;
            raw.write_all(&bytes).unwrap();
            raw.sync_all().unwrap();
        })
    });
    let server = Arc::new(Server::start());
    for clients in [1_u64, 8, 64] {
        group.bench_function(format!("clients_{clients}"), |b| {
            b.iter_custom(|iters| runtime.block_on(appends(&server, clients, iters)))
        });
    }
    group.finish();
    let mut group = c.benchmark_group("server_read");
    for (name, path) in [("state_one_subject", STATE), ("history", HISTORY)] {
        group.bench_function(name, |b| b.iter(|| runtime.block_on(server.get(path))));
    }
    group.finish();
    latencies(&runtime, &server);
    drop(server);
    flood(&runtime);
}

/// A flood of appends beyond the queue (a queue of 4, one request per group, 256 clients for
/// two seconds): how fast the 503s are answered, and reads meanwhile.
fn flood(runtime: &tokio::runtime::Runtime) {
    let server = Arc::new(Server::start_with(ServerLimits {
        queue_requests: 4,
        group_requests: 1,
        ..ServerLimits::default()
    }));
    let until = Instant::now() + Duration::from_secs(2);
    let clients: Vec<_> = (0..256)
        .map(|_| {
            let server = Arc::clone(&server);
            runtime.spawn(async move {
                let mut taken = Vec::new();
                while Instant::now() < until {
                    let started = Instant::now();
                    let status = server.try_append().await;
                    taken.push((status.as_u16(), started.elapsed()));
                }
                taken
            })
        })
        .collect();
    let reads = runtime.block_on(read_latencies(&server, STATE, 300));
    let mut refused = Vec::new();
    let mut accepted = 0;
    for client in clients {
        for (status, took) in runtime.block_on(client).unwrap() {
            match status {
                503 => refused.push(took),
                _ => accepted += 1,
            }
        }
    }
    refused.sort();
    if refused.is_empty() {
        println!("server_flood: no 503 ({accepted} accepted)");
        return;
    }
    println!(
        "server_flood: {} answered 503 (p50 {:?}, p99 {:?}), {accepted} accepted; reads meanwhile p50 {:?} p99 {:?}",
        refused.len(),
        percentile(&refused, 50),
        percentile(&refused, 99),
        percentile(&reads, 50),
        percentile(&reads, 99)
    );
}

fn percentile(sorted: &[Duration], p: usize) -> Duration {
    sorted[(sorted.len() * p / 100).min(sorted.len() - 1)]
}

async fn read_latencies(server: &Server, path: &str, count: usize) -> Vec<Duration> {
    let mut taken = Vec::with_capacity(count);
    for _ in 0..count {
        let started = Instant::now();
        server.get(path).await;
        taken.push(started.elapsed());
    }
    taken.sort();
    taken
}

/// p50/p99 of reads, idle and under 64 clients appending.
fn latencies(runtime: &tokio::runtime::Runtime, server: &Arc<Server>) {
    for (name, path) in [("state (one subject)", STATE), ("history", HISTORY)] {
        let idle = runtime.block_on(read_latencies(server, path, 2000));
        let stop = Arc::new(AtomicBool::new(false));
        let appended = Arc::new(AtomicU64::new(0));
        let writers: Vec<_> = (0..64)
            .map(|_| {
                let (server, stop, appended) =
                    (Arc::clone(server), Arc::clone(&stop), Arc::clone(&appended));
                runtime.spawn(async move {
                    while !stop.load(Ordering::Relaxed) {
                        server.append().await;
                        appended.fetch_add(1, Ordering::Relaxed);
                    }
                })
            })
            .collect();
        runtime.block_on(async { tokio::time::sleep(Duration::from_millis(500)).await });
        let started = Instant::now();
        let before = appended.load(Ordering::Relaxed);
        let loaded = runtime.block_on(read_latencies(server, path, 1000));
        let rate =
            (appended.load(Ordering::Relaxed) - before) as f64 / started.elapsed().as_secs_f64();
        stop.store(true, Ordering::Relaxed);
        for writer in writers {
            runtime.block_on(writer).unwrap();
        }
        println!(
            "server_read latency {name}: idle p50 {:?} p99 {:?}; under 64 appending clients ({rate:.0} appends/s) p50 {:?} p99 {:?} (p99 ratio {:.1}x)",
            percentile(&idle, 50),
            percentile(&idle, 99),
            percentile(&loaded, 50),
            percentile(&loaded, 99),
            percentile(&loaded, 99).as_secs_f64() / percentile(&idle, 99).as_secs_f64()
        );
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
