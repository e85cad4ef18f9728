//! The web view's pages, each rendered from the answer the command line and the JSON API give
//! for the same question (`cli::questions`): the pages add no answers of their own, only their
//! presentation (tables, pictures, links between them).

use std::collections::BTreeMap;
use std::fmt::Write;

use super::html::{
    self, Field, FieldKind, code, esc, facts, form, query, record_link, subject_link, table,
};
use super::svg;
use crate::domain::Measure;
use crate::query::{
    AnswerGraph, CoverageJson, DiffAnswer, HistoryAnswer, KnownAt, LinksAnswer, ListingInForce,
    StateAnswer, SubjectsAnswer, WarningJson,
};

/// The footer: what the answer reflects, so anyone holding the log can check it.
pub fn footer(known_at: &KnownAt) -> String {
    let mut out = format!(
        "Reflects records 1..={} of the log (record {} hash <code class=\"hash\">{}</code>)",
        known_at.sequence,
        known_at.sequence,
        esc(&known_at.hash)
    );
    if !known_at.head {
        let _ = write!(
            out,
            "; the ledger's head is record {}, <code class=\"hash\">{}</code>",
            known_at.head_sequence,
            esc(&known_at.head_hash)
        );
    }
    out.push_str(". Every answer here is also given as JSON by the API (<a href=\"/v1/openapi.json\">/v1/openapi.json</a>) and by the command line.");
    out
}

/// "As known at ...", in words.
fn known_words(known_at: &KnownAt) -> String {
    match (&known_at.time, known_at.head) {
        (_, true) => format!(
            "as known at the head (everything recorded, records 1..={})",
            known_at.sequence
        ),
        (Some(time), false) => format!(
            "as known at {} (records 1..={})",
            esc(time),
            known_at.sequence
        ),
        (None, false) => format!("as known at record {}", known_at.sequence),
    }
}

/// The coverage of imported lists and the warnings of an answer, where they apply.
/// The table of imported lists and how far their observation reaches.
pub fn coverage_table(id: &str, caption: &str, coverage: &[CoverageJson]) -> String {
    let rows: Vec<Vec<String>> = coverage
        .iter()
        .map(|list| {
            vec![
                esc(&list.list),
                esc(&list.authority),
                esc(&list.first_observed),
                esc(&list.last_observed),
                list.snapshots.to_string(),
                record_link(list.last_sequence),
            ]
        })
        .collect();
    table(
        id,
        caption,
        &[
            "list",
            "authority",
            "first snapshot",
            "last snapshot",
            "snapshots",
            "last recorded in",
        ],
        &rows,
    )
}

/// A note when a table shows only the first `max` of `total` rows.
fn rows_note(shown: &str, total: usize, max: usize) -> String {
    if total > max {
        format!(
            "<p class=\"note\">Showing the first {max} of {total} {shown} (WEB_TABLE_ROWS_MAX): narrow the question, or take the whole answer as JSON.</p>"
        )
    } else {
        String::new()
    }
}

fn coverage_and_warnings(coverage: &[CoverageJson], warnings: &[WarningJson]) -> String {
    let mut out = String::new();
    if !coverage.is_empty() {
        out.push_str(&coverage_table(
            "coverage",
            "How far each imported list was observed (a date outside its range was not observed)",
            coverage,
        ));
    }
    if !warnings.is_empty() {
        let max = crate::limits::WEB_TABLE_ROWS_MAX;
        out.push_str("<section class=\"warnings\" aria-labelledby=\"warnings-heading\"><h2 id=\"warnings-heading\">Warnings: what this answer depends on that the ledger does not establish</h2>");
        out.push_str(&rows_note("warnings", warnings.len(), max));
        out.push_str("<ul>");
        for warning in warnings.iter().take(max) {
            let kind = match warning.kind.as_str() {
                "no_decision_recorded" => "No decision recorded",
                "outside_observation" => "Outside what was observed",
                _ => "A fact that does not fit",
            };
            let _ = write!(
                out,
                "<li class=\"warning\" data-kind=\"{}\"><strong>{kind}</strong>: {} ({}, {}): {}</li>",
                esc(&warning.kind),
                esc(&warning.listing),
                record_link(warning.sequence),
                esc(&warning.date),
                esc(&warning.message)
            );
        }
        out.push_str("</ul></section>");
    }
    out
}

/// The cells of a listing in force.
fn listing_cells(listing: &ListingInForce, known_at: Option<&str>) -> Vec<String> {
    vec![
        esc(&listing.authority),
        esc(&listing.programme),
        subject_link(&listing.subject, known_at),
        listing
            .names
            .iter()
            .map(|name| esc(name))
            .collect::<Vec<_>>()
            .join("<br>"),
        esc(&listing.measures.join(", ").replace('_', " ")),
        match listing.since_basis {
            Some(_) => format!("on or before {}", esc(&listing.since)),
            None => esc(&listing.since),
        },
        esc(listing.until.as_deref().unwrap_or("")),
        if listing.counter_sanction {
            "counter-sanction".into()
        } else {
            String::new()
        },
        listing
            .why
            .iter()
            .map(|sequence| record_link(*sequence))
            .collect::<Vec<_>>()
            .join(", "),
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
    "kind",
    "why (the records)",
];

/// The rows of a table of listings, at most `max` (and a note when there are more).
fn listing_rows(
    listings: &[ListingInForce],
    known_at: Option<&str>,
    max: usize,
) -> (Vec<Vec<String>>, String) {
    let rows = listings
        .iter()
        .take(max)
        .map(|listing| listing_cells(listing, known_at))
        .collect();
    let note = if listings.len() > max {
        format!(
            "<p class=\"note\" id=\"rows-note\">Showing the first {max} of {} listings (WEB_TABLE_ROWS_MAX): narrow the question, or take the whole answer as CSV or JSON.</p>",
            listings.len()
        )
    } else {
        String::new()
    };
    (rows, note)
}

/// The filters a state or diff page was asked with.
#[derive(Default)]
pub struct Asked {
    /// `as_of` (state) or `from` (diff).
    pub date: Option<String>,
    /// `to` (diff).
    pub to: Option<String>,
    /// `known_at`.
    pub known_at: Option<String>,
    /// `authority`.
    pub authority: Option<String>,
    /// `programme`.
    pub programme: Option<String>,
    /// `kind`.
    pub kind: Option<String>,
    /// `measure`.
    pub measure: Option<String>,
}

const KINDS: [&str; 4] = ["person", "entity", "vessel", "aircraft"];

fn measures() -> Vec<&'static str> {
    Measure::ALL
        .iter()
        .map(|measure| measure.as_str())
        .collect()
}

fn filter_fields<'a>(
    asked: &'a Asked,
    authorities: &'a [String],
    programmes: &'a [String],
    measures: &'a [&'a str],
) -> [Field<'a>; 5] {
    [
        Field {
            name: "known_at",
            label: "Known at",
            value: asked.known_at.as_deref(),
            kind: FieldKind::Date,
            hint: "What the ledger had recorded by this day (00:00 UTC); empty: everything.",
        },
        Field {
            name: "authority",
            label: "Authority",
            value: asked.authority.as_deref(),
            kind: FieldKind::Text(authorities),
            hint: "e.g. EU-COUNCIL; empty: all.",
        },
        Field {
            name: "programme",
            label: "Programme",
            value: asked.programme.as_deref(),
            kind: FieldKind::Text(programmes),
            hint: "e.g. EU-GHR; empty: all.",
        },
        Field {
            name: "kind",
            label: "Subject kind",
            value: asked.kind.as_deref(),
            kind: FieldKind::Select(&KINDS),
            hint: "Person, entity, vessel or aircraft.",
        },
        Field {
            name: "measure",
            label: "Measure",
            value: asked.measure.as_deref(),
            kind: FieldKind::Select(measures),
            hint: "Only listings with this measure in force.",
        },
    ]
}

fn distinct<'a>(values: impl Iterator<Item = &'a String>) -> Vec<String> {
    let mut out: Vec<String> = values.cloned().collect();
    out.sort();
    out.dedup();
    out
}

/// The state page: the question's form, then the answer (if a date was given).
pub fn state(asked: &Asked, answer: Option<&StateAnswer>, rows_max: usize) -> (String, String) {
    let listings: &[ListingInForce] = answer.map_or(&[], |answer| &answer.listings);
    let authorities = distinct(listings.iter().map(|l| &l.authority));
    let programmes = distinct(listings.iter().map(|l| &l.programme));
    let measures = measures();
    let [known, authority, programme, kind, measure] =
        filter_fields(asked, &authorities, &programmes, &measures);
    let fields = [
        Field {
            name: "as_of",
            label: "In force on",
            value: asked.date.as_deref(),
            kind: FieldKind::Date,
            hint: "The effective date asked about.",
        },
        known,
        authority,
        programme,
        kind,
        measure,
    ];
    let mut body = form("question", "/state", &fields, "Show the listings");
    let Some(answer) = answer else {
        body.push_str("<p>Choose a date to see the listings in force on it.</p>");
        return (body, String::new());
    };
    let known_at = asked.known_at.as_deref();
    let params = [
        ("as_of", asked.date.as_deref()),
        ("known_at", known_at),
        ("authority", asked.authority.as_deref()),
        ("programme", asked.programme.as_deref()),
        ("kind", asked.kind.as_deref()),
        ("measure", asked.measure.as_deref()),
    ];
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for listing in &answer.listings {
        *counts.entry(&listing.authority).or_default() += 1;
    }
    let _ = write!(
        body,
        "<p id=\"summary\" class=\"answer\"><strong id=\"total\" data-count=\"{}\">{} listing(s)</strong> in force on {}, {}.</p><p class=\"formats\">The same answer as <a id=\"as-json\" href=\"/v1/state{q}\">JSON</a> or <a id=\"as-csv\" href=\"/state.csv{q}\">CSV</a>; on the command line: {}</p>",
        answer.listings.len(),
        answer.listings.len(),
        esc(&answer.as_of),
        known_words(&answer.known_at),
        code(&command_line("state --as-of", &params)),
        q = esc(&query(&params)),
    );
    let count_rows: Vec<Vec<String>> = counts
        .iter()
        .map(|(authority, count)| {
            vec![
                format!(
                    "<a href=\"/state{}\" data-authority=\"{}\">{}</a>",
                    esc(&query(&[
                        ("as_of", asked.date.as_deref()),
                        ("known_at", known_at),
                        ("authority", Some(authority)),
                    ])),
                    esc(authority),
                    esc(authority)
                ),
                format!(
                    "<span class=\"count\" data-authority=\"{0}\">{1}</span>",
                    esc(authority),
                    count
                ),
            ]
        })
        .collect();
    if counts.is_empty() {
        body.push_str("<p id=\"none\">No listing is in force on that date for this question. The warnings below, if any, say what the ledger does not know.</p>");
        body.push_str(&coverage_and_warnings(&answer.coverage, &answer.warnings));
        return (body, footer(&answer.known_at));
    }
    body.push_str("<section aria-labelledby=\"counts-heading\"><h2 id=\"counts-heading\">Listings per authority</h2><div class=\"pair\">");
    body.push_str(&svg::bars(
        "counts-chart",
        "Listings in force per authority",
        &counts
            .iter()
            .map(|(authority, count)| ((*authority).to_owned(), *count))
            .collect::<Vec<_>>(),
    ));
    body.push_str(&table(
        "counts",
        "Listings in force per authority",
        &["authority", "listings"],
        &count_rows,
    ));
    body.push_str("</div></section>");
    body.push_str(&coverage_and_warnings(&answer.coverage, &answer.warnings));
    let (rows, note) = listing_rows(&answer.listings, known_at, rows_max);
    body.push_str("<section aria-labelledby=\"listings-heading\"><h2 id=\"listings-heading\">The listings, each with why</h2>");
    body.push_str(&note);
    body.push_str(&table(
        "listings",
        &format!("Listings in force on {}", answer.as_of),
        &LISTING_HEADER,
        &rows,
    ));
    body.push_str("</section>");
    (body, footer(&answer.known_at))
}

/// The command line that asks the same question.
fn command_line(command: &str, params: &[(&str, Option<&str>)]) -> String {
    let mut out = format!("sanctions-ledger {command}");
    for (index, (name, value)) in params.iter().enumerate() {
        let Some(value) = value.filter(|value| !value.is_empty()) else {
            continue;
        };
        if index == 0 {
            let _ = write!(out, " {value}");
        } else {
            let _ = write!(out, " --{} {value}", name.replace('_', "-"));
        }
    }
    out
}

/// The diff page.
pub fn diff(asked: &Asked, answer: Option<&DiffAnswer>, rows_max: usize) -> (String, String) {
    let measures = measures();
    let [known, authority, programme, kind, measure] = filter_fields(asked, &[], &[], &measures);
    let fields = [
        Field {
            name: "from",
            label: "From",
            value: asked.date.as_deref(),
            kind: FieldKind::Date,
            hint: "The first date.",
        },
        Field {
            name: "to",
            label: "To",
            value: asked.to.as_deref(),
            kind: FieldKind::Date,
            hint: "The second date, not before the first.",
        },
        known,
        authority,
        programme,
        kind,
        measure,
    ];
    let mut body = form("question", "/diff", &fields, "Show what changed");
    let Some(answer) = answer else {
        body.push_str("<p>Choose two dates to see what came into force, left force or changed between them.</p>");
        return (body, String::new());
    };
    let known_at = asked.known_at.as_deref();
    let params = [
        ("from", asked.date.as_deref()),
        ("to", asked.to.as_deref()),
        ("known_at", known_at),
        ("authority", asked.authority.as_deref()),
        ("programme", asked.programme.as_deref()),
        ("kind", asked.kind.as_deref()),
        ("measure", asked.measure.as_deref()),
    ];
    let _ = write!(
        body,
        "<p id=\"summary\" class=\"answer\">From {} to {}, {}: <strong id=\"came\" data-count=\"{}\">{} came into force</strong>, <strong id=\"left\" data-count=\"{}\">{} left force</strong>, <strong id=\"changed-count\" data-count=\"{}\">{} changed</strong>.</p><p class=\"formats\">The same answer as <a href=\"/v1/diff{}\">JSON</a>.</p>",
        esc(&answer.from),
        esc(&answer.to),
        known_words(&answer.known_at),
        answer.came_into_force.len(),
        answer.came_into_force.len(),
        answer.left_force.len(),
        answer.left_force.len(),
        answer.changed.len(),
        answer.changed.len(),
        esc(&query(&params)),
    );
    body.push_str(&coverage_and_warnings(&answer.coverage, &answer.warnings));
    let (rows, note) = listing_rows(&answer.came_into_force, known_at, rows_max);
    let _ = write!(body, "<h2>Came into force</h2>{note}");
    body.push_str(&table(
        "came-into-force",
        "In force on the second date, not on the first",
        &LISTING_HEADER,
        &rows,
    ));
    let left: Vec<Vec<String>> = answer
        .left_force
        .iter()
        .take(rows_max)
        .map(|left| {
            let mut cells = listing_cells(&left.listing, known_at);
            cells.push(format!(
                "{}{}",
                esc(&left.reason.replace('_', " ")),
                left.by
                    .map_or(String::new(), |by| format!(" ({})", record_link(by)))
            ));
            cells
        })
        .collect();
    let mut header = LISTING_HEADER.to_vec();
    header.push("why it left");
    body.push_str("<h2>Left force</h2>");
    body.push_str(&rows_note("listings", answer.left_force.len(), rows_max));
    body.push_str(&table(
        "left-force",
        "In force on the first date, not on the second",
        &header,
        &left,
    ));
    let changed: Vec<Vec<String>> = answer
        .changed
        .iter()
        .take(rows_max)
        .map(|changed| {
            vec![
                esc(&changed.before.authority),
                esc(&changed.before.programme),
                subject_link(&changed.before.subject, known_at),
                esc(&changed.before.measures.join(", ").replace('_', " ")),
                esc(&changed.after.measures.join(", ").replace('_', " ")),
                esc(changed.before.until.as_deref().unwrap_or("")),
                esc(changed.after.until.as_deref().unwrap_or("")),
            ]
        })
        .collect();
    body.push_str("<h2>Changed</h2>");
    body.push_str(&rows_note("listings", answer.changed.len(), rows_max));
    body.push_str(&table(
        "changed",
        "In force on both dates, with other measures or another end date",
        &[
            "authority",
            "programme",
            "subject",
            "measures before",
            "measures after",
            "until before",
            "until after",
        ],
        &changed,
    ));
    (body, footer(&answer.known_at))
}

/// A subject's page: names, identifiers, the timeline picture and its table.
pub fn subject(answer: &HistoryAnswer, known_at: Option<&str>, today: &str) -> (String, String) {
    let mut body = String::new();
    let names = answer
        .names
        .iter()
        .map(|name| format!("<span class=\"name\">{}</span>", esc(name)))
        .collect::<Vec<_>>()
        .join("; ");
    let identifiers = answer
        .identifiers
        .iter()
        .map(|identifier| {
            format!(
                "{}: {} ({})",
                esc(&identifier.scheme),
                esc(&identifier.value),
                record_link(identifier.sequence)
            )
        })
        .collect::<Vec<_>>()
        .join("<br>");
    body.push_str(&facts(
        "subject-facts",
        &[
            ("Subject id", code(&answer.subject)),
            (
                "Kind",
                esc(answer.kind.as_deref().unwrap_or("not recorded")),
            ),
            ("Names, in every script recorded", names),
            ("Also known as", esc(&answer.aliases.join("; "))),
            (
                "Identifiers",
                if identifiers.is_empty() {
                    "none recorded".into()
                } else {
                    identifiers
                },
            ),
            ("Known", known_words(&answer.known_at)),
        ],
    ));
    let _ = write!(
        body,
        "<form id=\"question\" class=\"question\" method=\"get\" action=\"/subject/{}\"><div class=\"field\"><label for=\"question-known_at\">Known at</label><input type=\"date\" id=\"question-known_at\" name=\"known_at\" value=\"{}\" aria-describedby=\"known-hint\"><small id=\"known-hint\">See the picture as the ledger had it on an earlier day (00:00 UTC).</small></div><div class=\"field submit\"><button type=\"submit\">Show</button></div></form>",
        esc(&html::url_part(&answer.subject)),
        esc(known_at.unwrap_or(""))
    );
    let _ = write!(
        body,
        "<p class=\"formats\">The same answer as <a href=\"/v1/history/{}{}\">JSON</a>; on the command line: {}</p>",
        esc(&html::url_part(&answer.subject)),
        esc(&query(&[("known_at", known_at)])),
        code(&command_line(
            "history",
            &[("subject", Some(&answer.subject)), ("known_at", known_at)]
        )),
    );
    body.push_str("<section aria-labelledby=\"timeline-heading\"><h2 id=\"timeline-heading\">Listings across the years</h2><p class=\"legend\"><span class=\"key open\"></span> in force <span class=\"key ended\"></span> ended <span class=\"key counter\"></span> counter-sanction; marks: ▲ designation or counter-sanction, ■ renewal, ✕ delisting, ● other (statements, amendments, corrections)</p><div class=\"scroll\">");
    body.push_str(&svg::timeline(answer, today));
    body.push_str("</div></section>");
    let periods: Vec<Vec<String>> = answer
        .listings
        .iter()
        .flat_map(|listing| {
            listing.intervals.iter().map(move |interval| {
                vec![
                    esc(&listing.authority),
                    esc(&listing.programme),
                    esc(&interval.start),
                    esc(interval.end.as_deref().unwrap_or("open-ended")),
                    format!(
                        "{}{}",
                        esc(&interval.ending.replace('_', " ")),
                        interval
                            .ended_by
                            .map_or(String::new(), |by| format!(" ({})", record_link(by)))
                    ),
                    if interval.counter_sanction {
                        "counter-sanction".into()
                    } else {
                        String::new()
                    },
                    interval
                        .why
                        .iter()
                        .map(|sequence| record_link(*sequence))
                        .collect::<Vec<_>>()
                        .join(", "),
                ]
            })
        })
        .collect();
    body.push_str(&table(
        "periods",
        "Periods in force, per listing",
        &[
            "authority",
            "programme",
            "from",
            "to",
            "how it stands",
            "kind",
            "why",
        ],
        &periods,
    ));
    let events: Vec<Vec<String>> = answer
        .timeline
        .iter()
        .map(|entry| {
            vec![
                esc(&entry.effective_on),
                entry.sequence.map_or(String::new(), record_link),
                esc(&entry.kind.replace('_', " ")),
                esc(&entry.summary),
                esc(&entry.status),
                esc(entry.recorded_at.as_deref().unwrap_or("")),
            ]
        })
        .collect();
    body.push_str(&table(
        "events",
        "Every event about the subject, by effective date",
        &[
            "effective",
            "record",
            "kind",
            "what",
            "status",
            "recorded at",
        ],
        &events,
    ));
    body.push_str(&coverage_and_warnings(&answer.coverage, &answer.warnings));
    (body, footer(&answer.known_at))
}

/// The graph page.
pub fn graph(graph: &AnswerGraph, known_at: Option<&str>) -> (String, String) {
    let mut body = format!(
        "<form id=\"question\" class=\"question\" method=\"get\" action=\"/graph\"><div class=\"field\"><label for=\"question-known_at\">Known at</label><input type=\"date\" id=\"question-known_at\" name=\"known_at\" value=\"{}\" aria-describedby=\"known-hint\"><small id=\"known-hint\">The answers the ledger had recorded by this day.</small></div><div class=\"field submit\"><button type=\"submit\">Show</button></div></form><p id=\"summary\" class=\"answer\">{} event(s), {} answer(s), {}.{}</p>",
        esc(known_at.unwrap_or("")),
        graph.nodes.len(),
        graph.edges.len(),
        known_words(&graph.known_at),
        if graph.truncated {
            format!(
                " Only the first {} answers are drawn (GRAPH_EDGES_MAX).",
                crate::limits::GRAPH_EDGES_MAX
            )
        } else {
            String::new()
        }
    );
    body.push_str("<div class=\"scroll graph-box\">");
    body.push_str(&svg::answer_graph(graph));
    body.push_str("</div>");
    let by_id: BTreeMap<&str, (u64, &str, &str)> = graph
        .nodes
        .iter()
        .map(|node| {
            (
                node.event_id.as_str(),
                (
                    node.sequence,
                    node.actor.as_str(),
                    node.effective_on.as_str(),
                ),
            )
        })
        .collect();
    let describe = |id: &str| match by_id.get(id) {
        Some((sequence, actor, date)) => format!(
            "{} ({}, {}, {})",
            esc(id),
            esc(actor),
            esc(date),
            record_link(*sequence)
        ),
        None => esc(id),
    };
    let rows: Vec<Vec<String>> = graph
        .edges
        .iter()
        .map(|edge| vec![describe(&edge.from), describe(&edge.to)])
        .collect();
    body.push_str(&table(
        "answers",
        "Each answer and what it answers",
        &["the answer", "answers"],
        &rows,
    ));
    (body, footer(&graph.known_at))
}

/// The subjects search page.
pub fn subjects(text: Option<&str>, answer: Option<&SubjectsAnswer>) -> (String, String) {
    let mut body = form(
        "question",
        "/subjects",
        &[Field {
            name: "q",
            label: "Name",
            value: text,
            kind: FieldKind::Text(&[]),
            hint: "Any name or alias, in any script and word order (e.g. Chen Mingguo, 陈明国).",
        }],
        "Find",
    );
    let Some(answer) = answer else {
        return (body, String::new());
    };
    let rows: Vec<Vec<String>> = answer
        .subjects
        .iter()
        .map(|found| {
            vec![
                subject_link(&found.subject, None),
                esc(&found.kind),
                esc(&found.matched_name),
                esc(&found.r#match.replace('_', " ")),
                esc(&found.names.join("; ")),
                found.listings.to_string(),
            ]
        })
        .collect();
    let _ = write!(
        body,
        "<p id=\"summary\" class=\"answer\">{} subject(s) match.</p>",
        answer.subjects.len()
    );
    body.push_str(&table(
        "subjects",
        "Subjects whose names match, best first",
        &[
            "subject",
            "kind",
            "matched name",
            "how",
            "names",
            "listings",
        ],
        &rows,
    ));
    (body, footer(&answer.known_at))
}

/// What the event page shows of the links around an event.
pub fn links(answer: &LinksAnswer) -> String {
    let rows: Vec<Vec<String>> = answer
        .refers_to
        .iter()
        .map(|event| ("names", event))
        .chain(
            answer
                .referred_to_by
                .iter()
                .map(|event| ("named by", event)),
        )
        .map(|(direction, event)| {
            vec![
                format!("{direction} ({})", esc(&event.relation.replace('_', " "))),
                record_link(event.sequence),
                esc(&event.effective_on),
                esc(&event.kind),
                esc(&event.summary),
                esc(&event.status),
            ]
        })
        .collect();
    if rows.is_empty() {
        return "<p>No other event names it, and it names none.</p>".into();
    }
    table(
        "links",
        "Events it names and events that name it",
        &["how", "record", "effective", "kind", "what", "status"],
        &rows,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn listing(index: usize) -> ListingInForce {
        ListingInForce {
            authority: format!("A{}", index % 3),
            programme: "P".into(),
            subject: format!("s-{index}"),
            subject_kind: Some("person".into()),
            names: vec![format!("Name {index}")],
            measures: vec!["asset_freeze".into()],
            since: "2021-03-22".into(),
            since_basis: None,
            until: None,
            counter_sanction: false,
            why: vec![index as u64 + 1],
        }
    }

    #[test]
    fn a_large_state_is_counted_whole_and_shown_up_to_the_row_limit() {
        let max = crate::limits::WEB_TABLE_ROWS_MAX;
        let total = max + 100;
        let answer = StateAnswer {
            as_of: "2021-03-22".into(),
            known_at: KnownAt {
                sequence: total as u64,
                hash: "00".repeat(32),
                time: None,
                head: true,
                head_sequence: total as u64,
                head_hash: "00".repeat(32),
            },
            coverage: Vec::new(),
            listings: (0..total).map(listing).collect(),
            warnings: (0..total)
                .map(|index| WarningJson {
                    kind: "no_decision_recorded".into(),
                    listing: format!("A/P/s-{index}"),
                    date: "2021-01-01".into(),
                    sequence: 1,
                    message: "m".into(),
                })
                .collect(),
        };
        let asked = Asked {
            date: Some("2021-03-22".into()),
            ..Asked::default()
        };
        let (body, _) = state(&asked, Some(&answer), max);
        assert!(body.contains(&format!("data-count=\"{total}\"")));
        let table = &body[body.find("<table id=\"listings\"").unwrap()..];
        let table = &table[..table.find("</table>").unwrap()];
        assert_eq!(
            table.matches("<tr>").count(),
            max + 1,
            "the header and {max} rows"
        );
        assert!(body.contains(&format!("Showing the first {max} of {total} listings")));
        assert_eq!(body.matches("<li class=\"warning\"").count(), max);
        assert!(body.contains(&format!("Showing the first {max} of {total} warnings")));
        let counted: usize = (0..3)
            .map(|a| {
                let needle = format!("data-authority=\"A{a}\">");
                let at = body
                    .find(&format!("<span class=\"count\" {needle}"))
                    .unwrap();
                let rest = &body[at..];
                let start = rest.find('>').unwrap() + 1;
                rest[start..start + rest[start..].find('<').unwrap()]
                    .parse::<usize>()
                    .unwrap()
            })
            .sum();
        assert_eq!(counted, total, "the counts are of the whole answer");
    }
}
