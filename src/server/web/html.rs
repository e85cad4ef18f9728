//! HTML building blocks for the web view: escaping, the page frame, tables, definition lists
//! and links. Everything the pages print goes through `esc` (or is a number).

use std::fmt::Write;

/// Text made safe for HTML content and attribute values (quoted with `"`).
pub fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A query string's value, percent-encoded (RFC 3986 unreserved characters kept).
pub fn url_part(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            out.push(byte as char);
        } else {
            let _ = write!(out, "%{byte:02X}");
        }
    }
    out
}

/// A query string from pairs, leaving out empty values: `?a=1&b=2`, or nothing.
pub fn query(pairs: &[(&str, Option<&str>)]) -> String {
    let parts: Vec<String> = pairs
        .iter()
        .filter_map(|(name, value)| {
            value
                .filter(|value| !value.is_empty())
                .map(|value| format!("{name}={}", url_part(value)))
        })
        .collect();
    if parts.is_empty() {
        String::new()
    } else {
        format!("?{}", parts.join("&"))
    }
}

/// A link.
pub fn link(href: &str, text: &str) -> String {
    format!("<a href=\"{}\">{}</a>", esc(href), esc(text))
}

/// A link to a record's page.
pub fn record_link(sequence: u64) -> String {
    format!("<a href=\"/event/{sequence}\">record {sequence}</a>")
}

/// A link to a subject's page.
pub fn subject_link(subject: &str, known_at: Option<&str>) -> String {
    link(
        &format!(
            "/subject/{}{}",
            url_part(subject),
            query(&[("known_at", known_at)])
        ),
        subject,
    )
}

/// Which page of the navigation is shown.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Nav {
    /// `/`.
    Overview,
    /// `/state`.
    State,
    /// `/diff`.
    Diff,
    /// `/graph`.
    Graph,
    /// `/subjects`.
    Subjects,
    /// Another page (a subject, an event).
    Other,
}

/// A whole page: the frame (navigation, skip link, footer), `title` and `body`.
pub fn page(title: &str, nav: Nav, body: &str, footer: &str) -> String {
    let item = |href: &str, label: &str, this: Nav| {
        if nav == this {
            format!("<li><a href=\"{href}\" aria-current=\"page\">{label}</a></li>")
        } else {
            format!("<li><a href=\"{href}\">{label}</a></li>")
        }
    };
    format!(
        "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>{title} · sanctions-ledger</title>\n<link rel=\"stylesheet\" href=\"/assets/style.css\">\n<script src=\"/assets/app.js\" defer></script>\n</head>\n<body>\n<a class=\"skip\" href=\"#main\">Skip to the content</a>\n<header>\n<p class=\"brand\"><a href=\"/\">sanctions-ledger</a></p>\n<nav aria-label=\"Pages\"><ul>{}{}{}{}{}</ul></nav>\n</header>\n<main id=\"main\">\n<h1>{title}</h1>\n{body}\n</main>\n<footer>{footer}</footer>\n</body>\n</html>\n",
        item("/", "Overview", Nav::Overview),
        item("/state", "State as of", Nav::State),
        item("/diff", "Diff", Nav::Diff),
        item("/graph", "Who answered whom", Nav::Graph),
        item("/subjects", "Subjects", Nav::Subjects),
        title = esc(title),
    )
}

/// A table: a caption, a header row and rows of cells already in HTML.
pub fn table(id: &str, caption: &str, header: &[&str], rows: &[Vec<String>]) -> String {
    let mut out = format!(
        "<div class=\"scroll\" tabindex=\"0\" role=\"region\" aria-labelledby=\"{id}-caption\"><table id=\"{id}\"><caption id=\"{id}-caption\">{}</caption><thead><tr>",
        esc(caption)
    );
    for name in header {
        let _ = write!(out, "<th scope=\"col\">{}</th>", esc(name));
    }
    out.push_str("</tr></thead><tbody>");
    for row in rows {
        out.push_str("<tr>");
        for cell in row {
            let _ = write!(out, "<td>{cell}</td>");
        }
        out.push_str("</tr>");
    }
    out.push_str("</tbody></table></div>");
    out
}

/// A definition list of (term, HTML) pairs.
pub fn facts(id: &str, pairs: &[(&str, String)]) -> String {
    let mut out = format!("<dl id=\"{id}\" class=\"facts\">");
    for (term, value) in pairs {
        let _ = write!(out, "<dt>{}</dt><dd>{value}</dd>", esc(term));
    }
    out.push_str("</dl>");
    out
}

/// Text in a `<code>` element.
pub fn code(text: &str) -> String {
    format!("<code>{}</code>", esc(text))
}

/// A labelled form field.
pub struct Field<'a> {
    /// Its name (the query parameter).
    pub name: &'a str,
    /// Its label.
    pub label: &'a str,
    /// Its current value.
    pub value: Option<&'a str>,
    /// How it is asked: "date", "text", or a select's options.
    pub kind: FieldKind<'a>,
    /// A hint under it.
    pub hint: &'a str,
}

/// How a field is asked.
pub enum FieldKind<'a> {
    /// `<input type=date>`.
    Date,
    /// `<input type=text>`, with suggestions.
    Text(&'a [String]),
    /// `<select>`, "any" first.
    Select(&'a [&'a str]),
}

/// A GET form of fields with a submit button (pages work without script: the button asks).
pub fn form(id: &str, action: &str, fields: &[Field<'_>], button: &str) -> String {
    let mut out = format!(
        "<form id=\"{id}\" class=\"question\" method=\"get\" action=\"{}\">",
        esc(action)
    );
    for field in fields {
        let field_id = format!("{id}-{}", field.name);
        let hint_id = format!("{field_id}-hint");
        let value = esc(field.value.unwrap_or(""));
        let _ = write!(
            out,
            "<div class=\"field\"><label for=\"{field_id}\">{}</label>",
            esc(field.label)
        );
        match &field.kind {
            FieldKind::Date => {
                let _ = write!(
                    out,
                    "<input type=\"date\" id=\"{field_id}\" name=\"{}\" value=\"{value}\" aria-describedby=\"{hint_id}\">",
                    field.name
                );
            }
            FieldKind::Text(suggestions) => {
                let list_id = format!("{field_id}-list");
                let _ = write!(
                    out,
                    "<input type=\"text\" id=\"{field_id}\" name=\"{}\" value=\"{value}\" list=\"{list_id}\" aria-describedby=\"{hint_id}\"><datalist id=\"{list_id}\">",
                    field.name
                );
                for suggestion in *suggestions {
                    let _ = write!(out, "<option value=\"{}\"></option>", esc(suggestion));
                }
                out.push_str("</datalist>");
            }
            FieldKind::Select(options) => {
                let _ = write!(
                    out,
                    "<select id=\"{field_id}\" name=\"{}\" aria-describedby=\"{hint_id}\"><option value=\"\">any</option>",
                    field.name
                );
                for option in *options {
                    let selected = if field.value == Some(*option) {
                        " selected"
                    } else {
                        ""
                    };
                    let _ = write!(
                        out,
                        "<option value=\"{}\"{selected}>{}</option>",
                        esc(option),
                        esc(&option.replace('_', " "))
                    );
                }
                out.push_str("</select>");
            }
        }
        let _ = write!(
            out,
            "<small id=\"{hint_id}\">{}</small></div>",
            esc(field.hint)
        );
    }
    let _ = write!(
        out,
        "<div class=\"field submit\"><button type=\"submit\">{}</button></div></form>",
        esc(button)
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_and_quotes() {
        assert_eq!(
            esc("<a href=\"x\">'&'</a>"),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
    }

    #[test]
    fn query_strings_leave_out_empty_values_and_encode_the_rest() {
        assert_eq!(
            query(&[("a", Some("2021-03-22")), ("b", None), ("c", Some(""))]),
            "?a=2021-03-22"
        );
        assert_eq!(query(&[("q", Some("王 & co"))]), "?q=%E7%8E%8B%20%26%20co");
        assert_eq!(query(&[]), "");
    }
}
