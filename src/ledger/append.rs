//! Appending: a batch of events checked against the ledger, encoded into records, written to
//! the log (acknowledged when durable), then added to the pending log-derived data.
//!
//! Owns the rules of an append: all or nothing, idempotent (an event id already recorded with
//! identical content appends nothing), conflicts and unknown references refused, recorded time
//! never going back. Must not: write to the derived store before the log acknowledged (the
//! log is the truth; derived data follows it).

use std::collections::BTreeMap;

use super::chain::{self, Hash};
use super::record::{self, Record};
use super::{
    AppendOptions, AppendOutcome, AppendReport, Clock, FailureKind, Head, Ledger, LedgerError,
    VerifyFailure, check_short_name,
};
use crate::domain::{Event, EventBody, Identifier, Timestamp};
use crate::limits;

/// One request of a group commit: its events (all or nothing) and its options.
#[derive(Clone, Copy, Debug)]
pub struct GroupRequest<'a> {
    /// The request's batch.
    pub events: &'a [Event],
    /// Who appends it, and when.
    pub options: &'a AppendOptions,
    /// Appended only if the head (as the group stands before this request) has this hash.
    pub expected_head: Option<Hash>,
}

/// The records a group commit has accepted so far, not yet written: what later requests of the
/// group are checked against besides the log.
struct Group {
    /// Event id: its sequence, its event bytes, and whether it is a correction.
    ids: BTreeMap<String, (u64, Vec<u8>, bool)>,
    records: Vec<(String, Vec<u8>, Hash)>,
    head: Head,
}

impl Ledger {
    /// Appends a batch: all events or none, durable before this returns. Events already
    /// recorded with identical content are not appended again (their sequence is reported).
    /// Derived data (index, places, Merkle nodes) is updated in memory and written to the
    /// derived store later ([`Ledger::flush_derived`]); the log alone acknowledges.
    pub fn append(
        &mut self,
        events: &[Event],
        options: &AppendOptions,
        clock: &dyn Clock,
    ) -> Result<AppendReport, LedgerError> {
        let request = GroupRequest {
            events,
            options,
            expected_head: None,
        };
        self.append_group(&[request], clock)?
            .pop()
            .unwrap_or(Err(LedgerError::EmptyBatch))
    }

    /// Appends several requests with one write and one durability barrier (group commit). Each
    /// request is all or nothing on its own: it is checked against the log and the requests
    /// accepted before it in the group, so one refused request never fails its neighbours, and
    /// an event id offered by several requests is recorded once (each gets its sequence). The
    /// outer error is the group's: nothing of it was acknowledged (a write that failed).
    pub fn append_group(
        &mut self,
        requests: &[GroupRequest<'_>],
        clock: &dyn Clock,
    ) -> Result<Vec<Result<AppendReport, LedgerError>>, LedgerError> {
        self.store()?;
        let mut group = Group {
            ids: BTreeMap::new(),
            records: Vec::new(),
            head: self.head,
        };
        let results: Vec<Result<AppendReport, LedgerError>> = requests
            .iter()
            .map(|request| self.plan_request(&mut group, request, clock))
            .collect();
        if let Some(recorded_at) = group.head.recorded_at
            && !group.records.is_empty()
        {
            self.write_records(group.records, recorded_at)?;
        }
        Ok(results)
    }

    /// Where an event id is recorded: in the group being planned, or in the log.
    fn sequence_in(&self, group: &Group, id: &str) -> Result<Option<u64>, LedgerError> {
        match group.ids.get(id) {
            Some((sequence, _, _)) => Ok(Some(*sequence)),
            None => self.sequence_of(id),
        }
    }

    /// Checks one request of a group and, if it is accepted, adds its records to the group.
    fn plan_request(
        &self,
        group: &mut Group,
        request: &GroupRequest<'_>,
        clock: &dyn Clock,
    ) -> Result<AppendReport, LedgerError> {
        let (events, options) = (request.events, request.options);
        if let Some(expected) = request.expected_head
            && expected != group.head.hash
        {
            return Err(LedgerError::HeadMoved {
                expected,
                sequence: group.head.sequence,
                actual: group.head.hash,
            });
        }
        if events.is_empty() {
            return Err(LedgerError::EmptyBatch);
        }
        if events.len() > limits::BATCH_EVENTS_MAX {
            return Err(LedgerError::BatchTooLarge {
                count: events.len(),
                max: limits::BATCH_EVENTS_MAX,
            });
        }
        check_short_name(&options.appended_by, limits::OPERATOR_BYTES_MAX)
            .map_err(|reason| LedgerError::InvalidOperator { reason })?;

        let unresolved = crate::domain::unresolved_references(events, &mut |reference| {
            self.sequence_in(group, reference.as_str())
                .map(|sequence| sequence.is_some())
        })?;
        if let Some(first) = unresolved.into_iter().next() {
            return Err(LedgerError::UnknownReference {
                index: first.index,
                event_id: events[first.index].id().to_string(),
                pointer: first.pointer,
                reference: first.reference.to_string(),
            });
        }
        self.refuse_superseded_corrections(group, events)?;
        let mut batch_ids: BTreeMap<&Identifier, usize> = BTreeMap::new();
        let mut outcomes = Vec::with_capacity(events.len());
        let mut fresh: Vec<(usize, Vec<u8>)> = Vec::new();
        for (index, event) in events.iter().enumerate() {
            let event_id = event.id();
            if let Some(&first_index) = batch_ids.get(event_id) {
                return Err(LedgerError::DuplicateInBatch {
                    event_id: event_id.to_string(),
                    first_index,
                    index,
                });
            }
            let event_bytes =
                record::encode_event(event).map_err(|source| LedgerError::Encoding {
                    index,
                    event_id: event_id.to_string(),
                    source,
                })?;
            let stored = match group.ids.get(event_id.as_str()) {
                Some((sequence, bytes, _)) => Some((*sequence, bytes.clone())),
                None => match self.sequence_of(event_id.as_str())? {
                    Some(sequence) => {
                        let stored = self.record(sequence)?.ok_or_else(|| {
                            LedgerError::Damaged(VerifyFailure::new(
                                sequence,
                                FailureKind::IndexMismatch,
                                format!("\"{event_id}\" is indexed at a missing record"),
                            ))
                        })?;
                        Some((sequence, stored.record.event_bytes))
                    }
                    None => None,
                },
            };
            if let Some((sequence, stored_bytes)) = stored {
                if stored_bytes != event_bytes {
                    return Err(LedgerError::Conflict {
                        index,
                        event_id: event_id.to_string(),
                        sequence,
                        stored_digest: chain::event_digest(&stored_bytes),
                        offered_digest: chain::event_digest(&event_bytes),
                    });
                }
                outcomes.push(AppendOutcome {
                    event_id: event_id.to_string(),
                    sequence,
                    appended: false,
                });
            } else {
                outcomes.push(AppendOutcome {
                    event_id: event_id.to_string(),
                    sequence: 0,
                    appended: true,
                });
                fresh.push((index, event_bytes));
            }
            batch_ids.insert(event_id, index);
        }
        if fresh.is_empty() {
            // Nothing to record: an append that appends nothing is never refused for its time.
            return Ok(AppendReport {
                outcomes,
                head: group.head,
            });
        }
        let head_time = group
            .head
            .recorded_at
            .unwrap_or(Timestamp::from_unix_micros(i64::MIN));
        let recorded_at = match options.recorded_at {
            Some(offered) if offered < head_time => {
                return Err(LedgerError::RecordedTimeWentBack {
                    head: head_time,
                    offered,
                });
            }
            Some(offered) => offered,
            // A clock behind the head (skew, a replay before) is held at the head's time.
            None => clock.now().max(head_time),
        };

        let mut records = Vec::with_capacity(fresh.len());
        let mut previous_hash = group.head.hash;
        let mut sequence = group.head.sequence;
        for (index, event_bytes) in fresh {
            sequence += 1;
            let record = Record {
                format_version: record::RECORD_FORMAT_VERSION,
                sequence,
                recorded_at,
                appended_by: options.appended_by.clone(),
                previous_hash: previous_hash.0,
                schema_version: crate::domain::EVENT_SCHEMA_VERSION,
                event_bytes,
            };
            let bytes = record.to_bytes().map_err(|source| LedgerError::Encoding {
                index,
                event_id: events[index].id().to_string(),
                source,
            })?;
            if bytes.len() + 32 > limits::RECORD_BYTES_MAX {
                return Err(LedgerError::Encoding {
                    index,
                    event_id: events[index].id().to_string(),
                    source: super::encoding::EncodingError::TooLarge {
                        actual: bytes.len() + 32,
                        max: limits::RECORD_BYTES_MAX,
                    },
                });
            }
            let hash = chain::record_hash(&bytes);
            outcomes[index].sequence = sequence;
            records.push((index, record.event_bytes, bytes, hash));
            previous_hash = hash;
        }
        // Accepted: the group takes its records.
        for (index, event_bytes, bytes, hash) in records {
            let event = &events[index];
            let id = event.id().as_str().to_owned();
            let correction = matches!(event.body(), EventBody::Correction(_));
            group.ids.insert(
                id.clone(),
                (outcomes[index].sequence, event_bytes, correction),
            );
            group.records.push((id, bytes, hash));
        }
        group.head = Head {
            sequence,
            hash: previous_hash,
            recorded_at: Some(recorded_at),
        };
        Ok(AppendReport {
            outcomes,
            head: group.head,
        })
    }

    /// A correction may retract a correction, never supersede it: what would a replacement of
    /// a correction mean? Refused, naming the event.
    fn refuse_superseded_corrections(
        &self,
        group: &Group,
        events: &[Event],
    ) -> Result<(), LedgerError> {
        for (index, event) in events.iter().enumerate() {
            let EventBody::Correction(correction) = event.body() else {
                continue;
            };
            if correction.replacement.is_none() {
                continue;
            }
            let in_batch = events[..index]
                .iter()
                .find(|earlier| earlier.id() == &correction.corrects);
            let target_is_correction = match in_batch {
                Some(earlier) => matches!(earlier.body(), EventBody::Correction(_)),
                None => match group.ids.get(correction.corrects.as_str()) {
                    Some((_, _, is_correction)) => *is_correction,
                    None => match self.sequence_of(correction.corrects.as_str())? {
                        Some(sequence) => self.record(sequence)?.is_some_and(|view| {
                            matches!(view.event.body(), EventBody::Correction(_))
                        }),
                        None => false,
                    },
                },
            };
            if target_is_correction {
                return Err(LedgerError::SupersededCorrection {
                    index,
                    event_id: event.id().to_string(),
                    target: correction.corrects.to_string(),
                });
            }
        }
        Ok(())
    }

    /// Writes encoded records (event id, record bytes, hash; in sequence order from the head's
    /// next, already linked) to the log, durably, then adds them to the pending derived data.
    /// `recorded_at` is the last one's recorded time.
    pub(crate) fn write_records(
        &mut self,
        records: Vec<(String, Vec<u8>, Hash)>,
        recorded_at: Timestamp,
    ) -> Result<Head, LedgerError> {
        let Some((_, _, last_hash)) = records.last() else {
            return Ok(self.head);
        };
        let last_hash = *last_hash;
        let frames: Vec<(&[u8], Hash)> = records
            .iter()
            .map(|(_, bytes, hash)| (bytes.as_slice(), *hash))
            .collect();
        let places = self.log.append(&frames)?;
        let first = self.head.sequence + 1;
        self.head = Head {
            sequence: self.head.sequence + records.len() as u64,
            hash: last_hash,
            recorded_at: Some(recorded_at),
        };
        for (offset, ((event_id, bytes, hash), place)) in
            records.into_iter().zip(places).enumerate()
        {
            let leaf = super::leaf_hash(&bytes);
            self.push_pending(event_id, first + offset as u64, place, hash, leaf);
        }
        if self.pending.len() >= limits::DERIVED_PENDING_RECORDS_MAX {
            // Acknowledged already: a derived store that fails here is caught up later.
            let _ = self.flush_derived();
        }
        Ok(self.head)
    }
}
