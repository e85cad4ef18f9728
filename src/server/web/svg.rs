//! The web view's pictures, drawn on the server as SVG (no script needed to see them): counts
//! per authority, a subject's listings across the years, and the graph of who answered whom.
//! Each picture has a title and a description for screen readers, and each page also shows
//! the same facts as a table.

use std::collections::BTreeMap;
use std::fmt::Write;

use super::html::esc;
use crate::query::{AnswerGraph, HistoryAnswer};

/// A date `YYYY-MM-DD` as a year with a fraction (for placing it on an axis).
fn year_of(date: &str) -> Option<f64> {
    let mut parts = date.split('-');
    let year: f64 = parts.next()?.parse().ok()?;
    let month: f64 = parts.next()?.parse().ok()?;
    let day: f64 = parts.next()?.parse().ok()?;
    Some(year + (month - 1.0) / 12.0 + (day - 1.0) / 365.0)
}

/// A horizontal bar chart of counts, one bar per label.
pub fn bars(id: &str, title: &str, counts: &[(String, usize)]) -> String {
    let max = counts.iter().map(|(_, n)| *n).max().unwrap_or(0).max(1);
    let (label_width, bar_width, row) = (170.0, 360.0, 26.0);
    let height = row * counts.len() as f64 + 8.0;
    let mut out = format!(
        "<svg id=\"{id}\" class=\"chart\" role=\"img\" aria-labelledby=\"{id}-title\" viewBox=\"0 0 {} {height}\" width=\"100%\" preserveAspectRatio=\"xMinYMin meet\"><title id=\"{id}-title\">{}</title>",
        label_width + bar_width + 60.0,
        esc(title)
    );
    for (index, (label, count)) in counts.iter().enumerate() {
        let y = index as f64 * row + 4.0;
        let width = (*count as f64 / max as f64 * bar_width).max(1.0);
        let _ = write!(
            out,
            "<g class=\"bar\" data-label=\"{label}\" data-count=\"{count}\"><text x=\"{}\" y=\"{}\" text-anchor=\"end\">{label}</text><rect x=\"{label_width}\" y=\"{y}\" width=\"{width:.1}\" height=\"{}\"></rect><text x=\"{}\" y=\"{}\">{count}</text></g>",
            label_width - 8.0,
            y + 15.0,
            row - 8.0,
            label_width + width + 6.0,
            y + 15.0,
            label = esc(label)
        );
    }
    out.push_str("</svg>");
    out
}

/// A subject's listings across the years: one row (and one bar per period in force) per
/// listing, the events about it as marks on the row of the listing they shaped (or on the top
/// row), each linked to its record.
pub fn timeline(answer: &HistoryAnswer, today: &str) -> String {
    let today_year = year_of(today).unwrap_or(2030.0);
    let mut years: Vec<f64> = answer
        .timeline
        .iter()
        .filter_map(|entry| year_of(&entry.effective_on))
        .collect();
    for listing in &answer.listings {
        for interval in &listing.intervals {
            years.extend(year_of(&interval.start));
            years.extend(interval.end.as_deref().and_then(year_of));
        }
    }
    let first = years.iter().copied().fold(today_year, f64::min).floor();
    let last = (years.iter().copied().fold(today_year, f64::max) + 1.0).floor();
    let span = (last - first).max(1.0);
    let (left, width, row) = (230.0, 700.0, 34.0);
    let x = |year: f64| left + (year - first) / span * width;
    let rows = answer.listings.len() + 1;
    let height = row * rows as f64 + 40.0;
    let mut out = format!(
        "<svg id=\"timeline\" class=\"timeline\" role=\"group\" aria-labelledby=\"timeline-title timeline-desc\" viewBox=\"0 0 {} {height}\" width=\"100%\" preserveAspectRatio=\"xMinYMin meet\"><title id=\"timeline-title\">Listings of {} across the years</title><desc id=\"timeline-desc\">One row per listing, a bar for each period in force (to today, {today}, when still in force); marks for the events about the subject. The table below gives the same facts.</desc>",
        left + width + 20.0,
        esc(&answer.subject),
    );
    // Year lines and labels.
    let mut year = first;
    while year <= last {
        let _ = write!(
            out,
            "<line class=\"year\" x1=\"{0:.1}\" x2=\"{0:.1}\" y1=\"20\" y2=\"{1}\"></line><text class=\"year\" x=\"{0:.1}\" y=\"14\" text-anchor=\"middle\">{2}</text>",
            x(year),
            height - 10.0,
            year as i64
        );
        year += if span > 20.0 { 5.0 } else { 1.0 };
    }
    let _ = write!(
        out,
        "<line class=\"today\" x1=\"{0:.1}\" x2=\"{0:.1}\" y1=\"20\" y2=\"{1}\"></line>",
        x(today_year),
        height - 10.0
    );
    // Which row each record's mark goes on: the listing whose periods it shaped.
    let mut row_of: BTreeMap<u64, usize> = BTreeMap::new();
    for (index, listing) in answer.listings.iter().enumerate() {
        for interval in &listing.intervals {
            for sequence in interval.why.iter().chain(interval.ended_by.iter()) {
                row_of.entry(*sequence).or_insert(index + 1);
            }
        }
    }
    let top = |index: usize| 24.0 + index as f64 * row;
    let _ = write!(
        out,
        "<text class=\"row-label\" x=\"{}\" y=\"{}\" text-anchor=\"end\">other events</text>",
        left - 8.0,
        top(0) + 19.0
    );
    for (index, listing) in answer.listings.iter().enumerate() {
        let y = top(index + 1);
        let name = format!("{}/{}", listing.authority, listing.programme);
        let _ = write!(
            out,
            "<g class=\"listing\" data-listing=\"{0}\"><text class=\"row-label\" x=\"{1}\" y=\"{2}\" text-anchor=\"end\">{0}</text>",
            esc(&name),
            left - 8.0,
            y + 19.0
        );
        for interval in &listing.intervals {
            let (Some(start), end) = (
                year_of(&interval.start),
                interval.end.as_deref().and_then(year_of),
            ) else {
                continue;
            };
            let end_year = match (end, interval.ending.as_str()) {
                (Some(end), _) => end.min(today_year.max(start)),
                (None, _) => today_year,
            };
            let class = if interval.counter_sanction {
                "period counter"
            } else if interval.ending == "open" {
                "period open"
            } else {
                "period ended"
            };
            let _ = write!(
                out,
                "<rect class=\"{class}\" data-start=\"{}\" data-end=\"{}\" x=\"{:.1}\" y=\"{}\" width=\"{:.1}\" height=\"{}\"><title>{}: {} to {} ({})</title></rect>",
                esc(&interval.start),
                esc(interval.end.as_deref().unwrap_or("")),
                x(start),
                y + 6.0,
                (x(end_year) - x(start)).max(2.0),
                row - 14.0,
                esc(&name),
                esc(&interval.start),
                esc(interval.end.as_deref().unwrap_or("open-ended")),
                esc(&interval.ending.replace('_', " "))
            );
        }
        out.push_str("</g>");
    }
    for entry in &answer.timeline {
        let (Some(year), Some(sequence)) = (year_of(&entry.effective_on), entry.sequence) else {
            continue;
        };
        let y = top(row_of.get(&sequence).copied().unwrap_or(0)) + row / 2.0;
        let cx = x(year);
        let shape = match entry.kind.as_str() {
            "designation" | "retaliation" => format!(
                "<path class=\"mark\" d=\"M{cx:.1} {:.1} l6 10 h-12 z\"></path>",
                y - 6.0
            ),
            "delisting" => format!(
                "<path class=\"mark\" d=\"M{:.1} {:.1} l12 12 m0 -12 l-12 12\"></path>",
                cx - 6.0,
                y - 6.0
            ),
            "renewal" => format!(
                "<rect class=\"mark\" x=\"{:.1}\" y=\"{:.1}\" width=\"9\" height=\"9\"></rect>",
                cx - 4.5,
                y - 4.5
            ),
            _ => format!("<circle class=\"mark\" cx=\"{cx:.1}\" cy=\"{y:.1}\" r=\"5\"></circle>"),
        };
        let _ = write!(
            out,
            "<a href=\"/event/{sequence}\" class=\"mark mark-{}\" data-sequence=\"{sequence}\"><title>{} record {sequence}, {}: {} ({})</title>{shape}</a>",
            esc(&entry.kind),
            esc(&entry.effective_on),
            esc(&entry.kind),
            esc(&entry.summary),
            esc(&entry.status)
        );
    }
    out.push_str("</svg>");
    out
}

/// The graph of who answered whom: one column per actor (ordered by their first event), one
/// row per event by date; an arrow from each answer to what it answers; each node a link to
/// its record.
pub fn answer_graph(graph: &AnswerGraph) -> String {
    let mut columns: Vec<&str> = Vec::new();
    for node in &graph.nodes {
        if !columns.contains(&node.actor.as_str()) {
            columns.push(&node.actor);
        }
    }
    let (column, row, box_width, box_height) = (230.0, 62.0, 200.0, 46.0);
    let width = column * columns.len().max(1) as f64 + 20.0;
    let height = row * graph.nodes.len().max(1) as f64 + 50.0;
    let place: BTreeMap<&str, (f64, f64)> = graph
        .nodes
        .iter()
        .enumerate()
        .map(|(index, node)| {
            let at = columns
                .iter()
                .position(|actor| *actor == node.actor)
                .unwrap_or(0);
            (
                node.event_id.as_str(),
                (10.0 + at as f64 * column, 40.0 + index as f64 * row),
            )
        })
        .collect();
    let mut out = format!(
        "<svg id=\"graph\" class=\"graph\" role=\"group\" aria-labelledby=\"graph-title graph-desc\" viewBox=\"0 0 {width} {height}\" width=\"{width}\" height=\"{height}\"><title id=\"graph-title\">Who answered whom</title><desc id=\"graph-desc\">{} events in columns by who acted, by date from the top; an arrow goes from each answer to the event it answers. The table below lists the same answers.</desc><defs><marker id=\"arrow\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" markerWidth=\"8\" markerHeight=\"8\" orient=\"auto-start-reverse\"><path d=\"M0 0 L10 5 L0 10 z\"></path></marker></defs>",
        graph.nodes.len()
    );
    for (index, actor) in columns.iter().enumerate() {
        let _ = write!(
            out,
            "<text class=\"column\" x=\"{:.1}\" y=\"22\" text-anchor=\"middle\">{}</text>",
            10.0 + index as f64 * column + box_width / 2.0,
            esc(actor)
        );
    }
    for edge in &graph.edges {
        let (Some(from), Some(to)) = (place.get(edge.from.as_str()), place.get(edge.to.as_str()))
        else {
            continue;
        };
        let (x1, x2) = if (from.0 - to.0).abs() < 1.0 {
            (from.0, to.0)
        } else if from.0 > to.0 {
            (from.0, to.0 + box_width)
        } else {
            (from.0 + box_width, to.0)
        };
        let _ = write!(
            out,
            "<line class=\"edge\" data-from=\"{}\" data-to=\"{}\" x1=\"{x1:.1}\" y1=\"{:.1}\" x2=\"{x2:.1}\" y2=\"{:.1}\" marker-end=\"url(#arrow)\"></line>",
            esc(&edge.from),
            esc(&edge.to),
            from.1 + box_height / 2.0,
            to.1 + box_height / 2.0
        );
    }
    for node in &graph.nodes {
        let Some((x, y)) = place.get(node.event_id.as_str()) else {
            continue;
        };
        let _ = write!(
            out,
            "<a href=\"/event/{seq}\" class=\"node node-{kind}\" data-kind=\"{kind}\" data-sequence=\"{seq}\" data-event=\"{id}\"><title>record {seq}: {summary} ({status})</title><rect x=\"{x:.1}\" y=\"{y:.1}\" width=\"{box_width}\" height=\"{box_height}\" rx=\"6\"></rect><text x=\"{:.1}\" y=\"{:.1}\">{date} {kind_words}</text><text x=\"{:.1}\" y=\"{:.1}\" class=\"small\">{short}</text></a>",
            x + 8.0,
            y + 18.0,
            x + 8.0,
            y + 36.0,
            seq = node.sequence,
            kind = esc(&node.kind),
            kind_words = esc(&node.kind.replace('_', " ")),
            id = esc(&node.event_id),
            summary = esc(&node.summary),
            status = esc(&node.status),
            date = esc(&node.effective_on),
            short = esc(&node.event_id.chars().take(30).collect::<String>()),
        );
    }
    out.push_str("</svg>");
    out
}
