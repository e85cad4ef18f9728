//! Helpers for the server's tests: a bundled ledger, tokens, a real server on 127.0.0.1:0 in
//! this process (its own runtime and threads), and an HTTP client.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use sanctions_ledger::cli::{BUNDLED_DATASET, BUNDLED_DATASET_NAME, append_bundled, init_bundled};
use sanctions_ledger::intake::{InputFormat, read_batch};
use sanctions_ledger::server::tokens::{self, Scope};
use sanctions_ledger::server::{Config, Running, ServerLimits, start};
use serde_json::Value;

/// Builds the bundled ledger (as `quickstart` does) at `dir/ledger`.
pub fn bundled(dir: &Path) -> PathBuf {
    let path = dir.join("ledger");
    let batch = read_batch(
        BUNDLED_DATASET.as_bytes(),
        BUNDLED_DATASET_NAME,
        InputFormat::JsonLines,
    )
    .expect("the bundled dataset reads");
    let mut ledger = init_bundled(&path, &batch.events).expect("init");
    append_bundled(&mut ledger, &batch.events).expect("append the dataset");
    ledger.flush_derived().expect("flush");
    sanctions_ledger::projection::sync(&ledger).expect("projections");
    path
}

/// A token for `principal` with `scopes`: its text and id.
pub fn token(ledger: &Path, principal: &str, scopes: &[Scope]) -> (String, String) {
    let (entry, text) = tokens::create(
        ledger,
        principal,
        scopes,
        sanctions_ledger::domain::Timestamp::from_unix_micros(0),
    )
    .expect("create a token");
    (text, entry.id)
}

/// A server over `ledger`.
pub struct Served {
    running: Option<Running>,
    pub base: String,
    pub client: reqwest::Client,
}

impl Served {
    pub fn start(ledger: &Path, limits: ServerLimits, key: Option<PathBuf>) -> Served {
        let running = start(
            Config {
                ledger: ledger.to_owned(),
                listen: "127.0.0.1:0".parse().unwrap(),
                public: false,
                signing_key: key,
                verifier_key: None,
                limits,
            },
            false,
        )
        .unwrap_or_else(|failure| panic!("the server starts: {}", failure.message()));
        let base = format!("http://{}", running.address);
        Served {
            running: Some(running),
            base,
            client: reqwest::Client::builder()
                .pool_max_idle_per_host(64)
                .build()
                .unwrap(),
        }
    }

    pub fn address(&self) -> std::net::SocketAddr {
        self.running.as_ref().unwrap().address
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// GET `path`: the status and the body as JSON (Null if it is not JSON).
    pub async fn get(&self, path: &str) -> (u16, Value) {
        let response = self.client.get(self.url(path)).send().await.expect("GET");
        let status = response.status().as_u16();
        let text = response.text().await.unwrap_or_default();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    /// POST `body` to `path` with the token (if any) and content type.
    pub async fn post(
        &self,
        path: &str,
        token: Option<&str>,
        content_type: &str,
        body: Vec<u8>,
    ) -> (u16, Value) {
        let mut request = self
            .client
            .post(self.url(path))
            .header("content-type", content_type)
            .body(body);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.expect("POST");
        let status = response.status().as_u16();
        let text = response.text().await.unwrap_or_default();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    /// The head hash.
    pub async fn head_hash(&self) -> String {
        let (status, head) = self.get("/v1/head").await;
        assert_eq!(status, 200);
        head["hash"].as_str().unwrap().to_owned()
    }

    /// Stops it gracefully.
    pub fn stop(mut self) {
        if let Some(running) = self.running.take() {
            running.shutdown().expect("a clean stop");
        }
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        if let Some(running) = self.running.take() {
            let _ = running.shutdown();
        }
    }
}

/// A valid designation event (the bundled dataset's first event's shape) with id `id`, as JSON.
pub fn designation(id: &str) -> String {
    let first = BUNDLED_DATASET.lines().next().unwrap();
    let mut event: Value = serde_json::from_str(first).unwrap();
    event["id"] = Value::String(id.to_owned());
    event.to_string()
}

/// Appends `count` designations (ids `<prefix>-<i>`) to `ledger` in one append, and writes
/// the derived store.
pub fn append_designations(
    ledger: &mut sanctions_ledger::ledger::Ledger,
    prefix: &str,
    count: usize,
) {
    let events: Vec<_> = (0..count)
        .map(|i| {
            let text = designation(&format!("{prefix}-{i}"));
            sanctions_ledger::intake::event_from_json(&serde_json::from_str(&text).unwrap())
                .unwrap()
        })
        .collect();
    let options = sanctions_ledger::ledger::AppendOptions {
        appended_by: "tests".to_owned(),
        recorded_at: None,
    };
    ledger
        .append(&events, &options, &sanctions_ledger::ledger::SystemClock)
        .unwrap();
    ledger.flush_derived().unwrap();
}

/// A fork of the bundled ledger at `source`, made at `at`: the same genesis and the same
/// bundled records, then `count` other designations (ids `<prefix>-<i>`).
pub fn fork_of(source: &Path, at: &Path, prefix: &str, count: usize) {
    use sanctions_ledger::ledger::{Ledger, LedgerOptions};
    let genesis = Ledger::open_read(source).unwrap().genesis_bytes().to_vec();
    let mut fork = Ledger::init_with_genesis(at, &genesis, LedgerOptions::default()).unwrap();
    let batch = read_batch(
        BUNDLED_DATASET.as_bytes(),
        BUNDLED_DATASET_NAME,
        InputFormat::JsonLines,
    )
    .unwrap();
    append_bundled(&mut fork, &batch.events).unwrap();
    append_designations(&mut fork, prefix, count);
}
