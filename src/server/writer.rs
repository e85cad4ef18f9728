//! The one writer: a thread that takes write requests from the server's bounded queue and
//! commits them. Appends that have queued together become one group (`Ledger::append_group`:
//! one write, one durability barrier), each request still all or nothing; an import or a
//! checkpoint is done alone, in queue order. Every request is answered only after its records
//! are durable, and after the derived data and projections have caught up, so a client that
//! reads after its write sees it.
//!
//! Owns the order of writes. Must not: answer before the durability barrier, or hold the
//! ledger's write lock while answering.

use std::sync::Arc;

use tokio::sync::{mpsc, oneshot, watch};

use super::Shared;
use crate::cli::output::{self, Failure};
use crate::domain::Event;
use crate::ledger::chain::Hash;
use crate::ledger::{AppendOptions, GroupRequest, Ledger, SystemClock};

/// What a request is answered with: the JSON body of a success, or the failure.
pub(crate) type Reply = oneshot::Sender<Result<String, Failure>>;

/// One append request.
pub(crate) struct AppendJob {
    /// Its events, checked by intake.
    pub events: Vec<Event>,
    /// The line of each event in the request body.
    pub lines: Vec<u64>,
    /// The token's principal: the records' operator.
    pub principal: String,
    /// `If-Match`: the head hash the request requires.
    pub expected_head: Option<Hash>,
    /// Where the answer goes.
    pub reply: Reply,
}

/// A write request.
pub(crate) enum Job {
    /// Append events.
    Append(AppendJob),
    /// Import a list snapshot.
    Import {
        /// The file's bytes.
        bytes: Vec<u8>,
        /// How to import it.
        options: Box<crate::import::plan::ImportOptions>,
        /// Where the answer goes.
        reply: Reply,
    },
    /// Sign a checkpoint of the head.
    Checkpoint {
        /// Where the answer goes.
        reply: Reply,
    },
    /// Finish what is queued and end.
    Stop,
}

/// Starts the writer thread. It ends at `Job::Stop` (or when every sender is gone), having
/// flushed the derived store.
pub(crate) fn spawn(
    shared: Arc<Shared>,
    mut jobs: mpsc::Receiver<Job>,
    head: watch::Sender<u64>,
) -> std::thread::JoinHandle<Result<(), String>> {
    // It ends at `Job::Stop`: `Shared` (which it holds) keeps a sender of its own queue.
    let ledger_handle = LedgerHandle(shared);
    std::thread::Builder::new()
        .name("sanctions-ledger-writer".to_owned())
        .spawn(move || {
            let mut waiting: Option<Job> = None;
            loop {
                let job = match waiting.take() {
                    Some(job) => job,
                    None => match jobs.blocking_recv() {
                        Some(job) => job,
                        None => break,
                    },
                };
                match job {
                    Job::Stop => {
                        // Whatever queued before the stop is still answered.
                        jobs.close();
                        while let Ok(job) = jobs.try_recv() {
                            if !matches!(job, Job::Stop) {
                                ledger_handle.alone(job, &head);
                            }
                        }
                        break;
                    }
                    Job::Append(first) => {
                        let mut group = vec![first];
                        let mut events = group[0].events.len();
                        let limit = ledger_handle.0.limits.group_requests.max(1);
                        while group.len() < limit && events < crate::limits::SERVER_GROUP_EVENTS_MAX
                        {
                            match jobs.try_recv() {
                                Ok(Job::Append(next)) => {
                                    events += next.events.len();
                                    group.push(next);
                                }
                                Ok(other) => {
                                    waiting = Some(other);
                                    break;
                                }
                                Err(_) => break,
                            }
                        }
                        ledger_handle.group(group, &head);
                    }
                    other => ledger_handle.alone(other, &head),
                }
            }
            let mut ledger = ledger_handle.write();
            ledger
                .flush_derived()
                .map_err(|error| format!("flushing the derived store at shutdown: {error}"))
        })
        .unwrap_or_else(|error| {
            // No writer thread: writes answer 503 (their replies are dropped).
            std::thread::spawn(move || Err(format!("cannot start the writer thread: {error}")))
        })
}

/// The writer's access to the ledger.
struct LedgerHandle(Arc<Shared>);

impl LedgerHandle {
    fn read(&self) -> std::sync::RwLockReadGuard<'_, Ledger> {
        self.0
            .ledger
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Ledger> {
        self.0
            .ledger
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Commits a group of appends and answers each.
    fn group(&self, group: Vec<AppendJob>, head: &watch::Sender<u64>) {
        let options: Vec<AppendOptions> = group
            .iter()
            .map(|job| AppendOptions {
                appended_by: job.principal.clone(),
                recorded_at: None,
            })
            .collect();
        let requests: Vec<GroupRequest<'_>> = group
            .iter()
            .zip(&options)
            .map(|(job, options)| GroupRequest {
                events: &job.events,
                options,
                expected_head: job.expected_head,
            })
            .collect();
        // The write lock only for the append (one write, one barrier) and the derived store's
        // flush; the projections are brought up under a read lock, so reads go on meanwhile
        // (answering as known at the record the projections reflect). Each request is answered
        // after both: a client that reads after its write sees it.
        let (outcome, flushed, sequence) = {
            let mut ledger = self.write();
            let outcome = ledger.append_group(&requests, &SystemClock);
            let flushed = ledger.flush_derived().map_err(|error| error.to_string());
            (outcome, flushed, ledger.head().sequence)
        };
        let derived = flushed.and_then(|()| {
            let ledger = self.read();
            crate::projection::sync(&ledger)
                .map(|_| ())
                .map_err(|error| error.to_string())
        });
        let _ = head.send(sequence);
        match outcome {
            Ok(results) => {
                for (job, result) in group.into_iter().zip(results) {
                    let answer = match result {
                        Ok(report) => Ok(json(&output::append_result(
                            &report,
                            derived.as_ref().err().map(String::as_str),
                        ))),
                        Err(error) => Err(Failure::append(error, "request body", &job.lines)),
                    };
                    let _ = job.reply.send(answer);
                }
            }
            Err(error) => {
                // Nothing of the group was acknowledged: every request is told so.
                let failure = Failure::ledger(error);
                for job in group {
                    let _ = job.reply.send(Err(Failure::service(
                        failure.kind(),
                        format!("{}; nothing was appended", failure.message()),
                    )));
                }
            }
        }
    }

    /// An import or a checkpoint, on its own.
    fn alone(&self, job: Job, head: &watch::Sender<u64>) {
        match job {
            Job::Append(job) => self.group(vec![job], head),
            Job::Import {
                bytes,
                options,
                reply,
            } => {
                let (answer, sequence) = {
                    let mut ledger = self.write();
                    let result = crate::import::plan::import(
                        &mut ledger,
                        &bytes,
                        &options,
                        &SystemClock,
                        &mut |_, _| {},
                    );
                    let derived = caught_up(&mut ledger);
                    let answer = result.map_err(Failure::import).map(|report| {
                        json(&output::import_result(
                            &report,
                            derived.as_ref().err().map(String::as_str),
                        ))
                    });
                    (answer, ledger.head().sequence)
                };
                let _ = head.send(sequence);
                let _ = reply.send(answer);
            }
            Job::Checkpoint { reply } => {
                let answer = match &self.0.signer {
                    None => Err(Failure::service(
                        "not_configured",
                        "the server was started without a signing key: start it with `serve --key FILE` to sign checkpoints",
                    )),
                    Some(signer) => {
                        let mut ledger = self.write();
                        crate::cli::audit::sign_checkpoint(&mut ledger, signer)
                            .map(|(_, _, result)| json(&result))
                    }
                };
                let _ = reply.send(answer);
            }
            Job::Stop => {}
        }
    }
}

fn caught_up(ledger: &mut Ledger) -> Result<(), String> {
    crate::cli::derived_up_to_date(ledger)
}

fn json(value: &impl serde::Serialize) -> String {
    serde_json::to_string(value).unwrap_or_default()
}
