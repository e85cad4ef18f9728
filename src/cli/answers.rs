//! Printing query answers: a readable table, JSON (schemas/output/), CSV, or Graphviz dot.

use crate::query::{
    DiffAnswer, HistoryAnswer, KnownAt, LinkedEvent, LinksAnswer, ListingInForce, StateAnswer,
    SubjectsAnswer, WarningJson,
};
use serde::Serialize;

/// How an answer is printed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// A readable table.
    Table,
    /// JSON, as described in schemas/output/.
    Json,
    /// Comma-separated values with a header row (tabular answers).
    Csv,
    /// A Graphviz picture (links only).
    Dot,
}

fn csv_field(text: &str) -> String {
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_owned()
    }
}

fn csv_row(fields: &[String]) -> String {
    fields
        .iter()
        .map(|field| csv_field(field))
        .collect::<Vec<_>>()
        .join(",")
}

/// A header row and one row per item, as CSV.
fn csv(header: &[&str], rows: &[Vec<String>]) -> String {
    let mut lines = vec![header.join(",")];
    lines.extend(rows.iter().map(|row| csv_row(row)));
    lines.join("\n")
}

/// The last line of a table: what the answer reflects, so anyone holding the log can check it.
fn footer(known_at: &KnownAt) -> String {
    if known_at.head {
        format!(
            "\n(reflects records 1..={} of the log, head {})",
            known_at.sequence, known_at.hash
        )
    } else {
        format!(
            "\n(reflects records 1..={} of the log, record {} hash {}; the ledger's head is record {}, {})",
            known_at.sequence,
            known_at.sequence,
            known_at.hash,
            known_at.head_sequence,
            known_at.head_hash
        )
    }
}

fn known(known_at: &KnownAt) -> String {
    match (&known_at.time, known_at.head) {
        (_, true) => format!("as known at the head (record {})", known_at.sequence),
        (Some(time), false) => format!("as known at {time} (records 1..={})", known_at.sequence),
        (None, false) => format!("as known at record {}", known_at.sequence),
    }
}

fn listing_fields(listing: &ListingInForce) -> Vec<String> {
    vec![
        listing.authority.clone(),
        listing.programme.clone(),
        listing.subject.clone(),
        listing.names.join(" / "),
        listing.measures.join(" "),
        // "on or before": a list snapshot showed it without a listing date.
        match listing.since_basis {
            Some(_) => format!("<={}", listing.since),
            None => listing.since.clone(),
        },
        listing.until.clone().unwrap_or_default(),
        if listing.counter_sanction {
            "yes".into()
        } else {
            String::new()
        },
        listing
            .why
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(" "),
    ]
}

const LISTING_HEADER: [&str; 9] = [
    "authority",
    "programme",
    "subject",
    "names",
    "measures",
    "since",
    "until",
    "counter_sanction",
    "why",
];

fn table(header: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (width, field) in widths.iter_mut().zip(row) {
            *width = (*width).max(field.chars().count());
        }
    }
    let line = |fields: Vec<String>| {
        fields
            .iter()
            .zip(&widths)
            .map(|(field, width)| format!("{field:<width$}"))
            .collect::<Vec<_>>()
            .join("  ")
            .trim_end()
            .to_owned()
    };
    let mut out = vec![line(header.iter().map(|h| h.to_uppercase()).collect())];
    out.extend(rows.iter().map(|row| line(row.clone())));
    out.join("\n")
}

/// A query answer as printed with `--format json`: `"ok": true` and the answer's fields.
#[derive(Serialize, schemars::JsonSchema)]
pub struct Answered<T> {
    /// Always true.
    #[schemars(extend("const" = true))]
    pub ok: bool,
    /// The answer.
    #[serde(flatten)]
    pub answer: T,
}

fn json<T: Serialize>(answer: &T) -> String {
    serde_json::to_string(&Answered { ok: true, answer }).unwrap_or_default()
}

/// `state`.
pub fn state(answer: &StateAnswer, format: Format) -> String {
    // Rows are laid out only for the formats that print them (JSON is the answer itself, and a
    // full state has hundreds of thousands of listings).
    let rows = || -> Vec<Vec<String>> { answer.listings.iter().map(listing_fields).collect() };
    match format {
        Format::Json => json(answer),
        Format::Csv | Format::Dot => csv(&LISTING_HEADER, &rows()),
        Format::Table => {
            let rows = rows();
            let mut out = format!(
                "In force on {}, {}: {} listing(s)\n",
                answer.as_of,
                known(&answer.known_at),
                answer.listings.len()
            );
            if !rows.is_empty() {
                out.push_str(&table(&LISTING_HEADER, &rows));
            }
            out.push_str(&coverage_lines(&answer.coverage));
            out.push_str(&warning_lines(&answer.warnings));
            format!("{}{}", out.trim_end(), footer(&answer.known_at))
        }
    }
}

/// `state` in JSON or CSV, printed as it is answered, one listing at a time: a full state of
/// hundreds of thousands of listings is never held whole. The bytes are those of [`state`].
pub fn state_streamed(
    query: &crate::query::Query<'_>,
    date: crate::domain::CivilDate,
    filter: &crate::query::Filter,
    format: Format,
    out: &mut dyn std::io::Write,
) -> Result<(), crate::projection::ProjectionError> {
    use crate::projection::ProjectionError;
    let written = |source: std::io::Error| ProjectionError::File {
        path: "standard output".into(),
        action: "writing",
        source,
    };
    let coverage = query.coverage()?;
    let mut first = true;
    match format {
        Format::Json => {
            write!(
                out,
                "{{\"ok\":true,\"as_of\":{},\"known_at\":{},\"coverage\":{},\"listings\":[",
                serde_json::Value::from(date.to_string()),
                serde_json::to_string(&query.known_at()).unwrap_or_default(),
                serde_json::to_string(&coverage).unwrap_or_default(),
            )
            .map_err(written)?;
            let warnings = query.state_each(date, filter, &coverage, &mut |listing| {
                if !std::mem::take(&mut first) {
                    out.write_all(b",").map_err(written)?;
                }
                serde_json::to_writer(&mut *out, &listing)
                    .map_err(|error| written(std::io::Error::other(error)))
            })?;
            write!(
                out,
                "],\"warnings\":{}}}",
                serde_json::to_string(&warnings).unwrap_or_default()
            )
            .map_err(written)?;
        }
        _ => {
            out.write_all(LISTING_HEADER.join(",").as_bytes())
                .map_err(written)?;
            query.state_each(date, filter, &coverage, &mut |listing| {
                out.write_all(b"\n")
                    .and_then(|()| out.write_all(csv_row(&listing_fields(&listing)).as_bytes()))
                    .map_err(written)
            })?;
        }
    }
    out.write_all(b"\n")
        .and_then(|()| out.flush())
        .map_err(written)
}

/// How far imported lists were observed, under a table ("<=" before a date in SINCE means
/// "listed on or before": first observed in a snapshot that gives no listing date).
fn coverage_lines(coverage: &[crate::query::CoverageJson]) -> String {
    coverage
        .iter()
        .map(|list| {
            format!(
                "\nobserved: {} ({}) from {} to {}, {} snapshot(s)",
                list.list, list.authority, list.first_observed, list.last_observed, list.snapshots
            )
        })
        .collect()
}

/// The warnings under a table: one line each, saying which kind.
fn warning_lines(warnings: &[WarningJson]) -> String {
    warnings
        .iter()
        .map(|warning| {
            let kind = match warning.kind.as_str() {
                "no_decision_recorded" => "warning, no decision recorded",
                "outside_observation" => "warning, outside what was observed",
                _ => "warning, a fact that does not fit",
            };
            format!(
                "\n{kind}: {} (record {}, {}): {}",
                warning.listing, warning.sequence, warning.date, warning.message
            )
        })
        .collect()
}

/// How a period ended, in words for the table.
fn ending_words(ending: &str, ended_by: Option<u64>) -> String {
    match (ending, ended_by) {
        ("open", _) => "in force".into(),
        ("delisted", Some(by)) => format!("delisted by record {by}"),
        ("not_renewed", Some(by)) => format!("not renewed, recorded by record {by}"),
        ("no_decision_recorded", _) => "past its end date, no decision recorded".into(),
        (other, _) => other.into(),
    }
}

/// `diff`.
pub fn diff(answer: &DiffAnswer, format: Format) -> String {
    let rows = || {
        let mut rows = Vec::new();
        for listing in &answer.came_into_force {
            rows.push(
                [
                    vec!["came into force".to_owned(), String::new()],
                    listing_fields(listing),
                ]
                .concat(),
            );
        }
        for left in &answer.left_force {
            let by = match (left.reason.as_str(), left.by) {
                ("no_decision_recorded", _) => "end date passed, no decision recorded".to_owned(),
                (reason, Some(by)) => format!("{} by record {by}", reason.replace('_', " ")),
                (reason, None) => reason.replace('_', " "),
            };
            rows.push(
                [
                    vec!["left force".to_owned(), by],
                    listing_fields(&left.listing),
                ]
                .concat(),
            );
        }
        for changed in &answer.changed {
            rows.push(
                [
                    vec![
                        "changed".to_owned(),
                        format!(
                            "was {} until {}",
                            changed.before.measures.join(" "),
                            changed.before.until.clone().unwrap_or_else(|| "-".into())
                        ),
                    ],
                    listing_fields(&changed.after),
                ]
                .concat(),
            );
        }
        rows
    };
    let header: Vec<&str> = ["change", "detail"]
        .into_iter()
        .chain(LISTING_HEADER)
        .collect();
    match format {
        Format::Json => json(answer),
        Format::Csv | Format::Dot => csv(&header, &rows()),
        Format::Table => {
            let rows = rows();
            let mut out = format!(
                "From {} to {}, {}: {} change(s)\n",
                answer.from,
                answer.to,
                known(&answer.known_at),
                rows.len()
            );
            if !rows.is_empty() {
                out.push_str(&table(&header, &rows));
            }
            out.push_str(&coverage_lines(&answer.coverage));
            out.push_str(&warning_lines(&answer.warnings));
            format!("{}{}", out.trim_end(), footer(&answer.known_at))
        }
    }
}

/// `history`.
pub fn history(answer: &HistoryAnswer, format: Format) -> String {
    let rows = || -> Vec<Vec<String>> {
        answer
            .timeline
            .iter()
            .map(|entry| {
                vec![
                    entry.effective_on.clone(),
                    entry.sequence.map(|s| s.to_string()).unwrap_or_default(),
                    entry.kind.clone(),
                    entry.summary.clone(),
                    entry.status.clone(),
                ]
            })
            .collect()
    };
    let header = ["effective_on", "record", "kind", "summary", "status"];
    match format {
        Format::Json => json(answer),
        Format::Csv | Format::Dot => csv(&header, &rows()),
        Format::Table => {
            let rows = rows();
            let mut out = format!(
                "{} ({}), {}\n",
                answer.subject,
                answer.names.join(" / "),
                known(&answer.known_at)
            );
            if !answer.aliases.is_empty() {
                out.push_str(&format!(
                    "  also known as: {}\n",
                    answer.aliases.join(" / ")
                ));
            }
            if !answer.identifiers.is_empty() {
                let identifiers: Vec<String> = answer
                    .identifiers
                    .iter()
                    .map(|identifier| format!("{} {}", identifier.scheme, identifier.value))
                    .collect();
                out.push_str(&format!("  identifiers: {}\n", identifiers.join("; ")));
            }
            for listing in &answer.listings {
                for interval in &listing.intervals {
                    out.push_str(&format!(
                        "  {}/{}: {} .. {} ({}){}\n",
                        listing.authority,
                        listing.programme,
                        interval.start,
                        interval.end.clone().unwrap_or_else(|| "open-ended".into()),
                        ending_words(&interval.ending, interval.ended_by),
                        if interval.counter_sanction {
                            ", counter-sanction"
                        } else {
                            ""
                        }
                    ));
                }
            }
            out.push('\n');
            out.push_str(&table(&header, &rows));
            out.push_str(&coverage_lines(&answer.coverage));
            out.push_str(&warning_lines(&answer.warnings));
            format!("{}{}", out.trim_end(), footer(&answer.known_at))
        }
    }
}

fn dot_id(text: &str) -> String {
    format!("\"{}\"", text.replace('\\', "\\\\").replace('"', "\\\""))
}

/// `links`.
pub fn links(answer: &LinksAnswer, format: Format) -> String {
    match format {
        Format::Json => json(answer),
        Format::Dot => {
            let mut out = vec!["digraph links {".to_owned(), "  rankdir=LR;".to_owned()];
            out.push(format!(
                "  {} [shape=box, style=bold];",
                dot_id(&answer.event_id)
            ));
            for event in answer.refers_to.iter().chain(&answer.referred_to_by) {
                out.push(format!(
                    "  {} [shape=box, label={}];",
                    dot_id(&event.event_id),
                    dot_id(&format!(
                        "{}\\n{} {}",
                        event.event_id, event.kind, event.effective_on
                    ))
                ));
            }
            for edge in &answer.edges {
                out.push(format!(
                    "  {} -> {} [label={}];",
                    dot_id(&edge.from),
                    dot_id(&edge.to),
                    dot_id(&edge.relation)
                ));
            }
            out.push("}".to_owned());
            out.join("\n")
        }
        Format::Csv => {
            let mut lines = vec!["from,to,relation".to_owned()];
            lines.extend(
                answer.edges.iter().map(|edge| {
                    csv_row(&[edge.from.clone(), edge.to.clone(), edge.relation.clone()])
                }),
            );
            lines.join("\n")
        }
        Format::Table => {
            let mut out = format!("{}, {}\n", answer.event_id, known(&answer.known_at));
            let groups = [
                (&answer.refers_to, "in_response_to", "answers"),
                (
                    &answer.refers_to,
                    "maintains",
                    "maintains (says still in effect)",
                ),
                (&answer.refers_to, "about_events", "speaks about"),
                (&answer.refers_to, "corrects", "corrects"),
                (&answer.refers_to, "replacement", "its replacement names"),
                (&answer.referred_to_by, "in_response_to", "answered by"),
                (&answer.referred_to_by, "maintains", "maintained by"),
                (
                    &answer.referred_to_by,
                    "about_events",
                    "spoken about by (statements)",
                ),
                (&answer.referred_to_by, "corrects", "corrected by"),
                (
                    &answer.referred_to_by,
                    "replacement",
                    "named by the replacement in",
                ),
            ];
            let mut any = false;
            for (events, relation, label) in groups {
                let members: Vec<&LinkedEvent> =
                    events.iter().filter(|e| e.relation == relation).collect();
                if members.is_empty() {
                    continue;
                }
                any = true;
                out.push_str(&format!("{label} ({}):\n", members.len()));
                for event in members {
                    out.push_str(&format!(
                        "  {} {} {} [{}] {}{}\n",
                        event.sequence,
                        event.effective_on,
                        event.event_id,
                        event.status,
                        event.summary,
                        event
                            .via
                            .as_ref()
                            .map_or(String::new(), |via| format!(" (via {via})"))
                    ));
                }
            }
            if !any {
                out.push_str("no other event names it, and it names none\n");
            }
            if answer.truncated {
                out.push_str(&format!(
                    "(stopped at {} linked events: LINKS_TRAVERSAL_MAX)\n",
                    crate::limits::LINKS_TRAVERSAL_MAX
                ));
            }
            format!("{}{}", out.trim_end(), footer(&answer.known_at))
        }
    }
}

/// `subjects`.
pub fn subjects(answer: &SubjectsAnswer, format: Format) -> String {
    let rows = || -> Vec<Vec<String>> {
        answer
            .subjects
            .iter()
            .map(|s| {
                vec![
                    s.subject.clone(),
                    s.kind.clone(),
                    s.matched_name.clone(),
                    s.r#match.replace('_', " "),
                    s.names.join(" / "),
                    s.listings.to_string(),
                ]
            })
            .collect()
    };
    let header = [
        "subject",
        "kind",
        "matched_name",
        "match",
        "names",
        "listings",
    ];
    match format {
        Format::Json => json(answer),
        Format::Csv | Format::Dot => csv(&header, &rows()),
        Format::Table => {
            let rows = rows();
            let out = format!(
                "{} subject(s) match \"{}\"\n{}",
                rows.len(),
                answer.query,
                table(&header, &rows)
            );
            format!("{}{}", out.trim_end(), footer(&answer.known_at))
        }
    }
}
