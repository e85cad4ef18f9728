//! The ledger as a service (`sanctions-ledger serve`): an HTTP/1.1 API on tokio, hyper and axum.
//! Reads are public and answer with the command line's JSON, through the same question code
//! (`cli::questions`); writes need a bearer token with a scope (`tokens`) and go through one
//! bounded queue to one writer thread (`writer`), which commits what has queued as one group:
//! one write, one durability barrier, an answer to each request with its own sequences.
//!
//! Owns the runtime, the listening socket, connection limits and timeouts, graceful shutdown.
//! Must not: answer a write before it is durable, or let anything but the writer thread change
//! the ledger. The core stays synchronous: the ledger is used from blocking threads only.

mod feed;
pub mod openapi;
mod routes;
mod tiles;
mod web;
pub use routes::{COMMON_STATUSES, Location, Param, RouteSpec, status_of};

/// Every route the server has (what the router is built from and OpenAPI describes).
pub fn routes_table() -> &'static [RouteSpec] {
    routes::ROUTES
}
pub mod tokens;
mod writer;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use tokio::sync::{Semaphore, mpsc, watch};

use crate::cli::output::Failure;
use crate::ledger::Ledger;
use crate::ledger::checkpoint::SignerKey;
use crate::limits;

/// The server's limits; each defaults to its constant in `limits` and can be set by `serve`.
#[derive(Clone, Copy, Debug)]
pub struct ServerLimits {
    /// `SERVER_APPEND_BODY_BYTES_MAX`.
    pub append_body_bytes: usize,
    /// `SERVER_IMPORT_BODY_BYTES_MAX`.
    pub import_body_bytes: usize,
    /// `SERVER_IMPORTS_IN_FLIGHT_MAX`.
    pub imports_in_flight: usize,
    /// `SERVER_HEADER_READ_TIMEOUT_MS`.
    pub header_read_timeout: Duration,
    /// `SERVER_REQUEST_TIMEOUT_MS`.
    pub request_timeout: Duration,
    /// `SERVER_IMPORT_TIMEOUT_MS`.
    pub import_timeout: Duration,
    /// `SERVER_CONNECTIONS_MAX`.
    pub connections: usize,
    /// `SERVER_QUEUE_REQUESTS_MAX`.
    pub queue_requests: usize,
    /// `SERVER_GROUP_REQUESTS_MAX`.
    pub group_requests: usize,
    /// `SERVER_ANSWER_BYTES_MAX`.
    pub answer_bytes: usize,
    /// `SERVER_RECORDS_PAGE_MAX`.
    pub records_page: u64,
    /// `SERVER_FEEDS_MAX`.
    pub feeds: usize,
}

impl Default for ServerLimits {
    fn default() -> ServerLimits {
        ServerLimits {
            append_body_bytes: limits::SERVER_APPEND_BODY_BYTES_MAX,
            import_body_bytes: limits::SERVER_IMPORT_BODY_BYTES_MAX,
            imports_in_flight: limits::SERVER_IMPORTS_IN_FLIGHT_MAX,
            header_read_timeout: Duration::from_millis(limits::SERVER_HEADER_READ_TIMEOUT_MS),
            request_timeout: Duration::from_millis(limits::SERVER_REQUEST_TIMEOUT_MS),
            import_timeout: Duration::from_millis(limits::SERVER_IMPORT_TIMEOUT_MS),
            connections: limits::SERVER_CONNECTIONS_MAX,
            queue_requests: limits::SERVER_QUEUE_REQUESTS_MAX,
            group_requests: limits::SERVER_GROUP_REQUESTS_MAX,
            answer_bytes: limits::SERVER_ANSWER_BYTES_MAX,
            records_page: limits::SERVER_RECORDS_PAGE_MAX,
            feeds: limits::SERVER_FEEDS_MAX,
        }
    }
}

/// How to serve.
#[derive(Clone, Debug)]
pub struct Config {
    /// The ledger folder.
    pub ledger: PathBuf,
    /// Where to listen.
    pub listen: SocketAddr,
    /// Allow a non-loopback address.
    pub public: bool,
    /// The checkpoint signing key (`POST /v1/checkpoints` needs one).
    pub signing_key: Option<PathBuf>,
    /// The operator's public key (a file or its text) that the web view's proof check offers
    /// (default: the signing key's public half, if one is given).
    pub verifier_key: Option<String>,
    /// The limits.
    pub limits: ServerLimits,
}

/// What every request handler shares.
pub(crate) struct Shared {
    /// The ledger: read by any blocking thread, changed only by the writer.
    pub ledger: RwLock<Ledger>,
    pub ledger_path: PathBuf,
    pub limits: ServerLimits,
    /// The writer's queue.
    pub queue: mpsc::Sender<writer::Job>,
    /// The head sequence after each acknowledged group (the change feed waits on it).
    pub head: watch::Receiver<u64>,
    /// Becomes true when the server begins to shut down (change feeds end).
    pub stopping: watch::Receiver<bool>,
    pub signer: Option<SignerKey>,
    pub imports: Arc<Semaphore>,
    pub feeds: Arc<Semaphore>,
    /// Append bodies read by intake at once (one core is left for reads).
    pub intake: Semaphore,
    /// The token file as last read.
    pub tokens: tokens::TokenCache,
    /// The operator's public key the web view offers for its proof check.
    pub verifier: Option<crate::ledger::checkpoint::VerifierKey>,
    /// The server's own check of the log (started when it starts), for the web view.
    pub verification: Arc<std::sync::Mutex<web::Verification>>,
}

impl Shared {
    /// Runs `read` on a blocking thread with the ledger shared for reading.
    pub async fn read<T: Send + 'static>(
        self: &Arc<Shared>,
        read: impl FnOnce(&Ledger) -> Result<T, Failure> + Send + 'static,
    ) -> Result<T, Failure> {
        let shared = Arc::clone(self);
        tokio::task::spawn_blocking(move || {
            let ledger = shared
                .ledger
                .read()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            read(&ledger)
        })
        .await
        .unwrap_or_else(|error| {
            Err(Failure::service(
                "damaged",
                format!("a read stopped unexpectedly: {error}"),
            ))
        })
    }
}

/// A running server: its address, and how to stop it.
pub struct Running {
    /// The address it listens on (the port chosen, for `:0`).
    pub address: SocketAddr,
    stop: watch::Sender<bool>,
    done: Option<std::thread::JoinHandle<Result<(), String>>>,
}

impl Running {
    /// Stops gracefully (as on SIGTERM) and waits until everything in flight is answered.
    pub fn shutdown(mut self) -> Result<(), String> {
        let _ = self.stop.send(true);
        self.join()
    }

    /// Waits until the server stops (by a signal, or `shutdown`).
    pub fn join(&mut self) -> Result<(), String> {
        match self.done.take() {
            Some(done) => done
                .join()
                .unwrap_or_else(|_| Err("the server thread panicked".to_owned())),
            None => Ok(()),
        }
    }
}

/// Whether `address` is a loopback address (served without `--public`).
pub fn is_loopback(address: &SocketAddr) -> bool {
    address.ip().is_loopback()
}

/// Opens the ledger, binds the address and starts serving on a runtime of its own (threads in
/// this process). Returns once it listens. SIGTERM and ctrl-c stop it gracefully when
/// `signals` is set.
pub fn start(config: Config, signals: bool) -> Result<Running, Failure> {
    if !config.public && !is_loopback(&config.listen) {
        return Err(Failure::usage(format!(
            "--listen {} is not a loopback address: the server speaks plain HTTP, so serve it beside a TLS-terminating proxy on loopback, or give --public to listen there anyway",
            config.listen
        )));
    }
    let signer = config
        .signing_key
        .as_deref()
        .map(crate::cli::audit::load_signer)
        .transpose()?;
    let verifier = match (&config.verifier_key, &signer) {
        (Some(text), _) => Some(crate::cli::audit::load_verifier(text)?),
        (None, Some(signer)) => Some(signer.verifier()),
        (None, None) => None,
    };
    let ledger = Ledger::open(&config.ledger).map_err(Failure::ledger)?;
    crate::projection::sync(&ledger).map_err(Failure::projection)?;
    remove_leftover_bundles(&config.ledger);
    let head_sequence = ledger.head().sequence;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("sanctions-ledger-http")
        .build()
        .map_err(|error| Failure::usage(format!("cannot start the runtime: {error}")))?;
    // Bound here, with std, so that a caller inside a runtime of its own (a test) can start
    // one; handed to tokio on the server's thread.
    let listener = std::net::TcpListener::bind(config.listen)
        .and_then(|listener| listener.set_nonblocking(true).map(|()| listener))
        .map_err(|error| Failure::usage(format!("--listen {}: {error}", config.listen)))?;
    let address = listener
        .local_addr()
        .map_err(|error| Failure::usage(format!("--listen {}: {error}", config.listen)))?;
    let (queue, jobs) = mpsc::channel(config.limits.queue_requests.max(1));
    let (head_sender, head) = watch::channel(head_sequence);
    let (stop, stopping) = watch::channel(false);
    let shared = Arc::new(Shared {
        ledger: RwLock::new(ledger),
        ledger_path: config.ledger.clone(),
        limits: config.limits,
        queue,
        head,
        stopping: stopping.clone(),
        signer,
        imports: Arc::new(Semaphore::new(config.limits.imports_in_flight.max(1))),
        feeds: Arc::new(Semaphore::new(config.limits.feeds.max(1))),
        intake: Semaphore::new(
            std::thread::available_parallelism()
                .map_or(1, |cores| cores.get().saturating_sub(1))
                .max(1),
        ),
        tokens: tokens::TokenCache::default(),
        verifier,
        verification: web::verify_in_background(config.ledger.clone()),
    });
    let writer = writer::spawn(Arc::clone(&shared), jobs, head_sender);
    let stop_for_signals = stop.clone();
    let done = std::thread::Builder::new()
        .name("sanctions-ledger-serve".to_owned())
        .spawn(move || {
            runtime.block_on(async move {
                if signals {
                    tokio::spawn(async move {
                        wait_for_signal().await;
                        let _ = stop_for_signals.send(true);
                    });
                }
                match tokio::net::TcpListener::from_std(listener) {
                    Ok(listener) => serve(listener, shared, stopping).await,
                    Err(error) => eprintln!("error: the listening socket: {error}"),
                }
            });
            writer
                .join()
                .unwrap_or_else(|_| Err("the writer thread panicked".to_owned()))
        })
        .map_err(|error| Failure::usage(format!("cannot start the server thread: {error}")))?;
    Ok(Running {
        address,
        stop,
        done: Some(done),
    })
}

/// Bundles written for streaming by a server that stopped before it could remove them (they are
/// copies of records, never the records themselves).
fn remove_leftover_bundles(ledger: &std::path::Path) {
    let Ok(entries) = std::fs::read_dir(feed::bundle_folder(ledger)) else {
        return;
    };
    for entry in entries.flatten() {
        if entry.file_name().to_string_lossy().starts_with("bundle-") {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        if let Ok(mut terminate) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = terminate.recv() => {}
                _ = tokio::signal::ctrl_c() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}

/// Accepts connections until told to stop, then lets those open finish (bounded).
async fn serve(
    listener: tokio::net::TcpListener,
    shared: Arc<Shared>,
    mut stopping: watch::Receiver<bool>,
) {
    use hyper_util::rt::{TokioIo, TokioTimer};
    let connections = Arc::new(Semaphore::new(shared.limits.connections.max(1)));
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let app = routes::router(Arc::clone(&shared));
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(shared.limits.header_read_timeout)
        .max_buf_size(limits::SERVER_HEADER_BYTES_MAX)
        .keep_alive(true);
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            _ = stopping.wait_for(|stop| *stop) => break,
        };
        let Ok((stream, _peer)) = accepted else {
            // Out of file descriptors and the like: wait a moment rather than spin.
            tokio::time::sleep(Duration::from_millis(10)).await;
            continue;
        };
        let _ = stream.set_nodelay(true);
        let Ok(permit) = Arc::clone(&connections).try_acquire_owned() else {
            tokio::spawn(refuse_connection(stream, shared.limits.connections));
            continue;
        };
        let service = hyper_util::service::TowerToHyperService::new(app.clone());
        let connection = http.serve_connection(TokioIo::new(stream), service);
        let watched = graceful.watch(connection);
        tokio::spawn(async move {
            let _ = watched.await;
            drop(permit);
        });
    }
    drop(listener);
    drop(app);
    let grace = Duration::from_millis(limits::SERVER_SHUTDOWN_GRACE_MS);
    let _ = tokio::time::timeout(grace, graceful.shutdown()).await;
    // Everything answered (or the grace is over): the writer finishes what is queued, flushes
    // the derived store and ends.
    let _ = shared.queue.send(writer::Job::Stop).await;
}

/// Answers a connection beyond the limit with 503 and closes it.
async fn refuse_connection(mut stream: tokio::net::TcpStream, limit: usize) {
    use tokio::io::AsyncWriteExt;
    let failure = Failure::service(
        "busy",
        format!(
            "the server serves {limit} connections at once (SERVER_CONNECTIONS_MAX); try again shortly"
        ),
    );
    let body = serde_json::to_string(&failure.to_json()).unwrap_or_default();
    let response = format!(
        "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\nretry-after: 1\r\nconnection: close\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    );
    let _ = tokio::time::timeout(
        Duration::from_secs(1),
        stream.write_all(response.as_bytes()),
    )
    .await;
    let _ = stream.shutdown().await;
}
