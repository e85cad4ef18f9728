//! A bounded, streaming XML walk for list files: quick-xml underneath, local names only (the
//! namespaces of these files changed over time), any DOCTYPE refused (no entity expansion, no
//! external entities), depth, entry and field sizes limited. Each entry element is collected
//! into a small tree and handed over whole; everything else streams past.

use std::collections::BTreeMap;

use quick_xml::events::{BytesStart, Event};
use quick_xml::reader::Reader;

use super::Refusal;
use crate::limits;

/// One element of an entry: its local name, attributes, text and children.
#[derive(Clone, Debug, Default)]
pub struct Node {
    /// Local name.
    pub name: String,
    /// Attributes by local name.
    pub attributes: BTreeMap<String, String>,
    /// Its own text (children's text excluded), whitespace-trimmed.
    pub text: String,
    /// Child elements, in file order.
    pub children: Vec<Node>,
}

impl Node {
    /// The first child named `name`.
    pub fn child(&self, name: &str) -> Option<&Node> {
        self.children.iter().find(|child| child.name == name)
    }

    /// The trimmed text of the first child named `name`, if not empty.
    pub fn text_of(&self, name: &str) -> Option<&str> {
        self.child(name)
            .map(|child| child.text.as_str())
            .filter(|text| !text.is_empty())
    }

    /// Every descendant (depth first) named `name`.
    pub fn descendants<'a>(&'a self, name: &str, found: &mut Vec<&'a Node>) {
        for child in &self.children {
            if child.name == name {
                found.push(child);
            }
            child.descendants(name, found);
        }
    }

    /// An attribute's value, if not empty.
    pub fn attribute(&self, name: &str) -> Option<&str> {
        self.attributes
            .get(name)
            .map(String::as_str)
            .filter(|value| !value.is_empty())
    }

    /// Every leaf's path and text and every attribute, below this node (for comparing entries
    /// as sets: the caller sorts them).
    pub fn flatten(&self, prefix: &str, out: &mut Vec<(String, String)>) {
        let path = if prefix.is_empty() {
            self.name.clone()
        } else {
            format!("{prefix}/{}", self.name)
        };
        for (name, value) in &self.attributes {
            out.push((format!("{path}@{name}"), value.clone()));
        }
        if !self.text.is_empty() {
            out.push((path.clone(), self.text.clone()));
        }
        for child in &self.children {
            child.flatten(&path, out);
        }
    }
}

/// What a walk saw outside its entries.
#[derive(Debug, Default)]
pub struct Outside {
    /// The root element's local name and attributes.
    pub root: Option<Node>,
    /// The text of leaf elements outside entries, by local name (first seen).
    pub texts: BTreeMap<String, String>,
}

fn local(name: &str) -> String {
    name.rsplit(':').next().unwrap_or(name).to_owned()
}

fn start_node(start: &BytesStart<'_>, place: &dyn Fn() -> String) -> Result<Node, Refusal> {
    let mut node = Node {
        name: local(start.name().as_ref()),
        ..Node::default()
    };
    for attribute in start.attributes() {
        let attribute =
            attribute.map_err(|error| Refusal::new(place(), format!("bad attribute: {error}")))?;
        let key = local(attribute.key.as_ref());
        if key == "xmlns" || attribute.key.as_ref().starts_with("xmlns:") {
            continue;
        }
        let value = attribute
            .normalized_value(quick_xml::XmlVersion::Implicit1_0)
            .map_err(|error| Refusal::new(place(), format!("bad attribute value: {error}")))?;
        check_field(&value, place)?;
        node.attributes.insert(key, value.trim().to_owned());
    }
    Ok(node)
}

fn check_field(value: &str, place: &dyn Fn() -> String) -> Result<(), Refusal> {
    if value.len() > limits::IMPORT_FIELD_BYTES_MAX {
        return Err(Refusal::new(
            place(),
            format!(
                "a field of {} bytes; at most {} (IMPORT_FIELD_BYTES_MAX)",
                value.len(),
                limits::IMPORT_FIELD_BYTES_MAX
            ),
        ));
    }
    Ok(())
}

/// Walks `text`, handing every element whose local name is in `entries` (at any depth) to
/// `entry` as a tree, with its line. A malformed file, a DOCTYPE, or a limit passed is a
/// refusal of the whole file; `entry` decides about each entry.
pub fn walk(
    file: &str,
    text: &str,
    entries: &[&str],
    entry: &mut dyn FnMut(Node, usize) -> Result<(), Refusal>,
) -> Result<Outside, Refusal> {
    let mut reader = Reader::from_str(text);
    reader.config_mut().trim_text(false);
    let mut outside = Outside::default();
    // The names of the open elements (for places); outside an entry, `stack` is empty.
    let mut names: Vec<String> = Vec::new();
    let mut stack: Vec<Node> = Vec::new();
    let mut entry_line = 0usize;
    let mut entry_bytes = 0usize;
    let mut outside_text = String::new();
    let mut lines = LineCounter::default();
    loop {
        let position = usize::try_from(reader.buffer_position()).unwrap_or(usize::MAX);
        let line = lines.at(text, position);
        let place_at = |names: &[String]| format!("{file}:{line} (/{})", names.join("/"));
        let event = reader.read_event().map_err(|error| {
            Refusal::new(place_at(&names), format!("not well-formed XML: {error}"))
        })?;
        if !stack.is_empty() {
            entry_bytes +=
                usize::try_from(reader.buffer_position()).unwrap_or(usize::MAX) - position;
            if entry_bytes > limits::IMPORT_ENTRY_BYTES_MAX {
                return Err(Refusal::new(
                    place_at(&names),
                    format!(
                        "an entry of more than {} bytes (IMPORT_ENTRY_BYTES_MAX)",
                        limits::IMPORT_ENTRY_BYTES_MAX
                    ),
                ));
            }
        }
        match event {
            Event::DocType(_) => {
                return Err(Refusal::new(
                    place_at(&names),
                    "a DOCTYPE declaration: refused (no entity expansion, no external entities)",
                ));
            }
            Event::Start(start) => {
                if names.len() >= limits::IMPORT_XML_DEPTH_MAX {
                    return Err(Refusal::new(
                        place_at(&names),
                        format!(
                            "elements nested more than {} deep (IMPORT_XML_DEPTH_MAX)",
                            limits::IMPORT_XML_DEPTH_MAX
                        ),
                    ));
                }
                let node = start_node(&start, &|| place_at(&names))?;
                names.push(node.name.clone());
                if stack.is_empty() && entries.contains(&node.name.as_str()) {
                    entry_line = line;
                    entry_bytes = 0;
                    stack.push(node);
                } else if stack.is_empty() {
                    if names.len() == 1 && outside.root.is_none() {
                        outside.root = Some(node);
                    }
                    outside_text.clear();
                } else {
                    stack.push(node);
                }
            }
            Event::Empty(start) => {
                let node = start_node(&start, &|| place_at(&names))?;
                if let Some(parent) = stack.last_mut() {
                    parent.children.push(node);
                } else if entries.contains(&node.name.as_str()) {
                    entry(node, line)?;
                } else if names.is_empty() && outside.root.is_none() {
                    outside.root = Some(node);
                }
            }
            Event::End(_) => {
                let name = names.pop();
                if let Some(mut node) = stack.pop() {
                    node.text = node.text.trim().to_owned();
                    if let Some(parent) = stack.last_mut() {
                        parent.children.push(node);
                    } else {
                        entry(node, entry_line)?;
                    }
                } else if let Some(name) = name {
                    let value = outside_text.trim();
                    if !value.is_empty() {
                        outside
                            .texts
                            .entry(name)
                            .or_insert_with(|| value.to_owned());
                    }
                    outside_text.clear();
                }
            }
            Event::Text(content) => {
                let content = content.xml10_content();
                push_text(&mut stack, &mut outside_text, &content, &|| {
                    place_at(&names)
                })?;
            }
            Event::CData(content) => {
                let content = content.xml10_content();
                push_text(&mut stack, &mut outside_text, &content, &|| {
                    place_at(&names)
                })?;
            }
            Event::GeneralRef(reference) => {
                let resolved = match reference.resolve_char_ref() {
                    Ok(Some(c)) => c.to_string(),
                    Ok(None) => match reference.xml10_content().as_ref() {
                        "amp" => "&".into(),
                        "lt" => "<".into(),
                        "gt" => ">".into(),
                        "quot" => "\"".into(),
                        "apos" => "'".into(),
                        other => {
                            return Err(Refusal::new(
                                place_at(&names),
                                format!(
                                    "the entity &{other}; is not one of XML's five (amp, lt, gt, quot, apos)"
                                ),
                            ));
                        }
                    },
                    Err(error) => {
                        return Err(Refusal::new(
                            place_at(&names),
                            format!("bad character reference: {error}"),
                        ));
                    }
                };
                push_text(&mut stack, &mut outside_text, &resolved, &|| {
                    place_at(&names)
                })?;
            }
            Event::Eof => {
                if !names.is_empty() {
                    return Err(Refusal::new(
                        place_at(&names),
                        "the file ends inside an element",
                    ));
                }
                return Ok(outside);
            }
            Event::Decl(_) | Event::PI(_) | Event::Comment(_) => {}
        }
    }
}

/// Line numbers of increasing byte offsets, counted once.
#[derive(Default)]
struct LineCounter {
    offset: usize,
    line: usize,
}

impl LineCounter {
    fn at(&mut self, text: &str, offset: usize) -> usize {
        let offset = offset.min(text.len());
        if offset > self.offset {
            self.line += text.as_bytes()[self.offset..offset]
                .iter()
                .filter(|b| **b == b'\n')
                .count();
            self.offset = offset;
        }
        self.line + 1
    }
}

fn push_text(
    stack: &mut [Node],
    outside: &mut String,
    content: &str,
    place: &dyn Fn() -> String,
) -> Result<(), Refusal> {
    let target = match stack.last_mut() {
        Some(node) => &mut node.text,
        None => outside,
    };
    target.push_str(content);
    check_field(target, place)
}
