//! The questions an auditor asks (state, history, diff, links, subjects), from their text
//! arguments to an answer or a failure: the one implementation the command line and the HTTP
//! server share. Each caller names the arguments its own way (`--as-of` on the command line,
//! `as_of` in a URL), so messages point at what the person actually typed.

use super::output::Failure;
use crate::domain::{CivilDate, Timestamp};
use crate::ledger::{Clock, Ledger, SystemClock};
use crate::query::{DiffAnswer, HistoryAnswer, LinksAnswer, Query, StateAnswer, SubjectsAnswer};

/// How a caller names arguments in messages.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dialect {
    /// Command-line options: `--as-of`.
    Cli,
    /// URL query parameters: `as_of`.
    Http,
}

impl Dialect {
    /// The argument `name` (snake case) as the caller spells it.
    pub fn name(self, name: &str) -> String {
        match self {
            Dialect::Cli => format!("--{}", name.replace('_', "-")),
            Dialect::Http => name.to_owned(),
        }
    }
}

/// The filters of `state` and `diff`, as text.
#[derive(Clone, Debug, Default)]
pub struct FilterText {
    /// Only this authority.
    pub authority: Option<String>,
    /// Only this programme.
    pub programme: Option<String>,
    /// Only this subject id.
    pub subject: Option<String>,
    /// Only subjects of this kind.
    pub kind: Option<String>,
    /// Only listings with this measure in force.
    pub measure: Option<String>,
}

/// A date argument (YYYY-MM-DD).
pub fn parse_date(dialect: Dialect, name: &str, text: &str) -> Result<CivilDate, Failure> {
    CivilDate::parse(text).map_err(|error| {
        Failure::usage(format!(
            "{} \"{text}\" is not a date: {error}; expected YYYY-MM-DD",
            dialect.name(name)
        ))
    })
}

/// A time argument: RFC 3339 (`2021-03-22T12:00:00Z`, an offset, or fractions of a second),
/// or a plain date (`2021-03-22`), which means the start of that day, UTC.
pub fn parse_time(dialect: Dialect, name: &str, text: &str) -> Result<Timestamp, Failure> {
    if let Ok(date) = CivilDate::parse(text) {
        return Ok(Timestamp::from_unix_micros(date.to_days() * 86_400_000_000));
    }
    let timestamp: jiff::Timestamp = text.parse().map_err(|error| {
        Failure::usage(format!(
            "{} \"{text}\" is neither an RFC 3339 time nor a date ({error}); expected e.g. 2021-03-22T12:00:00Z, or 2021-03-22 for the start of that day (UTC)",
            dialect.name(name)
        ))
    })?;
    Ok(Timestamp::from_unix_micros(timestamp.as_microsecond()))
}

/// Today's date, UTC.
pub fn today_utc() -> CivilDate {
    let days = SystemClock.now().unix_micros().div_euclid(86_400_000_000);
    CivilDate::from_days(days).unwrap_or(CivilDate::MAX)
}

/// The one of `all` whose name (`name_of`) is `text`, if `text` is given: else a usage failure
/// naming the option, what it is not, and what would be valid (`valid`).
fn one_of<T: Copy>(
    dialect: Dialect,
    option: &str,
    text: Option<&String>,
    all: &[T],
    name_of: fn(T) -> &'static str,
    what: &str,
    valid: &str,
) -> Result<Option<T>, Failure> {
    let Some(text) = text else {
        return Ok(None);
    };
    all.iter()
        .copied()
        .find(|item| name_of(*item) == text)
        .map(Some)
        .ok_or_else(|| {
            Failure::usage(format!(
                "{} \"{text}\" is not {what}; expected {valid}",
                dialect.name(option)
            ))
        })
}

fn filter(dialect: Dialect, filter: &FilterText) -> Result<crate::query::Filter, Failure> {
    use crate::domain::{Measure, SubjectKind};
    let kind = one_of(
        dialect,
        "kind",
        filter.kind.as_ref(),
        &SubjectKind::ALL,
        SubjectKind::as_str,
        "a subject kind",
        "person, entity, vessel or aircraft",
    )?;
    let measures = Measure::ALL.map(Measure::as_str).join(", ");
    let measure = one_of(
        dialect,
        "measure",
        filter.measure.as_ref(),
        &Measure::ALL,
        Measure::as_str,
        "a measure",
        &format!("one of {measures}"),
    )?;
    Ok(crate::query::Filter {
        authority: filter.authority.clone(),
        programme: filter.programme.clone(),
        subject: filter.subject.clone(),
        kind,
        measure,
    })
}

/// Questions about `ledger` as known at `known_at` (text; default: the head). Its projections
/// must be in sync.
pub fn query<'a>(
    ledger: &'a Ledger,
    dialect: Dialect,
    known_at: Option<&str>,
) -> Result<Query<'a>, Failure> {
    query_up_to(ledger, dialect, known_at, ledger.head().sequence)
}

/// As `query`, counting no record after `up_to` (the record the projections reflect while
/// they are being brought up to the head).
pub fn query_up_to<'a>(
    ledger: &'a Ledger,
    dialect: Dialect,
    known_at: Option<&str>,
    up_to: u64,
) -> Result<Query<'a>, Failure> {
    let known_at = known_at
        .map(|text| parse_time(dialect, "known_at", text))
        .transpose()?;
    Query::new_up_to(ledger, known_at, up_to).map_err(Failure::projection)
}

/// `state`: the listings in force on `as_of`.
pub fn state(
    query: &Query<'_>,
    dialect: Dialect,
    as_of: &str,
    filter_text: &FilterText,
) -> Result<StateAnswer, Failure> {
    let (date, filter) = state_question(dialect, as_of, filter_text)?;
    query.state(date, &filter).map_err(Failure::projection)
}

/// A state question's date and filters, checked.
pub fn state_question(
    dialect: Dialect,
    as_of: &str,
    filter_text: &FilterText,
) -> Result<(CivilDate, crate::query::Filter), Failure> {
    Ok((
        parse_date(dialect, "as_of", as_of)?,
        filter(dialect, filter_text)?,
    ))
}

/// `history`: a subject's timeline, lapses judged as of `today` (default: today).
pub fn history(
    query: &Query<'_>,
    dialect: Dialect,
    subject: &str,
    today: Option<&str>,
) -> Result<HistoryAnswer, Failure> {
    let today = match today {
        Some(text) => parse_date(dialect, "today", text)?,
        None => today_utc(),
    };
    match query.history(subject, today).map_err(Failure::projection)? {
        Some(answer) => Ok(answer),
        None => Err(Failure::not_found(unknown_subject(query, subject)?)),
    }
}

/// `diff`: what changed between two dates.
pub fn diff(
    query: &Query<'_>,
    dialect: Dialect,
    from: &str,
    to: &str,
    filter_text: &FilterText,
) -> Result<DiffAnswer, Failure> {
    let (from, to) = (
        parse_date(dialect, "from", from)?,
        parse_date(dialect, "to", to)?,
    );
    crate::query::check_diff_dates(from, to).map_err(Failure::usage)?;
    query
        .diff(from, to, &filter(dialect, filter_text)?)
        .map_err(Failure::projection)
}

/// `links`: what an event answers and what answered it.
pub fn links(query: &Query<'_>, event: &str) -> Result<LinksAnswer, Failure> {
    query
        .links(event)
        .map_err(Failure::projection)?
        .ok_or_else(|| {
            Failure::not_found(format!(
                "no event \"{event}\" is recorded (as known at that time)"
            ))
        })
}

/// `subjects`: subjects by any of their names.
pub fn subjects(query: &Query<'_>, text: &str) -> Result<SubjectsAnswer, Failure> {
    query.subjects(text).map_err(Failure::projection)
}

/// Why `history` has nothing for `subject` as known at the question's time: not yet recorded
/// then (and when it was), or not in the ledger at all.
fn unknown_subject(query: &Query<'_>, subject: &str) -> Result<String, Failure> {
    let known = query.known_at();
    Ok(
        match query
            .first_record_about(subject)
            .map_err(Failure::projection)?
        {
            Some((sequence, recorded_at)) => format!(
                "subject \"{subject}\" is not yet known at {}: the ledger first records it in record {sequence}, recorded {recorded_at}; ask with a later known-at time (or none, for everything recorded)",
                known
                    .time
                    .unwrap_or_else(|| format!("record {}", known.sequence))
            ),
            None => format!(
                "no subject \"{subject}\" is in the ledger; find ids with `sanctions-ledger subjects NAME`"
            ),
        },
    )
}
