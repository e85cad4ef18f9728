//! Official lists in: a published list file (a snapshot) read into entries, compared with the
//! list's previous snapshot in the ledger, and turned into the events it implies.
//!
//! Owns: recognising and reading each list format ([`formats`]), the list catalogue
//! ([`ListSpec`]), comparing snapshots as sets and planning events ([`plan`]), keeping the file
//! as evidence ([`evidence`]). Must not: write the log other than through [`Ledger::append`]
//! (so every rule of an append holds), or invent a date a list does not give.
//!
//! [`Ledger::append`]: crate::ledger::Ledger::append

pub mod evidence;
pub mod formats;
pub mod plan;
pub mod xml;

use std::collections::{BTreeMap, BTreeSet};

use crate::domain::{CivilDate, Measure, SubjectKind};

/// Why a file or an entry was refused, and where.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refusal {
    /// File and line, or XML path and entry id.
    pub place: String,
    /// Why, and what would be valid.
    pub reason: String,
}

impl Refusal {
    /// A refusal at `place`.
    pub fn new(place: impl Into<String>, reason: impl Into<String>) -> Refusal {
        Refusal {
            place: place.into(),
            reason: reason.into(),
        }
    }
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.place, self.reason)
    }
}

/// One entry of a list, as read: the list's own id for it and what the list says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    /// The list's own id (OFAC uid, UN reference number, UK Group ID, Canada key, EU logical
    /// id, FtM id).
    pub key: String,
    /// Person, entity, vessel or aircraft.
    pub kind: SubjectKind,
    /// Names, primary first, each once.
    pub names: Vec<String>,
    /// Other names, each once.
    pub aliases: Vec<String>,
    /// Identifying details (scheme, value), each once: dates of birth, nationalities,
    /// documents, other lists' ids.
    pub identifiers: Vec<(String, String)>,
    /// The programmes (regimes) it is listed under, as ledger programme ids.
    pub programmes: BTreeSet<String>,
    /// The listing date the list gives, if it gives one.
    pub listed_on: Option<CivilDate>,
    /// Everything the list says of it except programmes: per field (sorted by name), a digest
    /// of its set of values. Two snapshots' entries are the same when these are equal (child
    /// order does not matter); a field whose digest differs is named in the amendment. Digests,
    /// not values, so that a million entries fit in memory.
    pub fields: Vec<(Box<str>, u64)>,
    /// A delta's DEL: the entry leaves the list.
    pub deleted: bool,
    /// Where it is in the file.
    pub place: String,
    /// Field values while the entry is read (sealed into `fields` when it is complete).
    raw: BTreeMap<String, BTreeSet<String>>,
}

impl Entry {
    /// An empty entry with `key`, read at `place`.
    pub fn new(key: impl Into<String>, kind: SubjectKind, place: String) -> Entry {
        Entry {
            key: key.into(),
            kind,
            names: Vec::new(),
            aliases: Vec::new(),
            identifiers: Vec::new(),
            programmes: BTreeSet::new(),
            listed_on: None,
            fields: Vec::new(),
            deleted: false,
            place,
            raw: BTreeMap::new(),
        }
    }

    /// Turns the fields read into their digests (done when the entry is complete).
    pub fn seal(&mut self) {
        use std::hash::{Hash, Hasher};
        for (name, values) in std::mem::take(&mut self.raw) {
            let mut hasher = std::collections::hash_map::DefaultHasher::new();
            values.hash(&mut hasher);
            self.fields.push((name.into_boxed_str(), hasher.finish()));
        }
    }

    /// The names of the fields that differ between two sealed entries, sorted.
    pub fn changed_fields<'a>(&'a self, other: &'a Entry) -> Vec<&'a str> {
        let mine: BTreeMap<&str, u64> = self.fields.iter().map(|(k, v)| (&**k, *v)).collect();
        let theirs: BTreeMap<&str, u64> = other.fields.iter().map(|(k, v)| (&**k, *v)).collect();
        let mut names: Vec<&str> = mine
            .keys()
            .chain(theirs.keys())
            .copied()
            .filter(|name| mine.get(name) != theirs.get(name))
            .collect();
        names.sort_unstable();
        names.dedup();
        names
    }

    /// Adds a name (primary names first), once, whitespace collapsed.
    pub fn name(&mut self, name: &str) {
        let name = collapse(name);
        if !name.is_empty() && !self.names.contains(&name) {
            self.aliases.retain(|alias| *alias != name);
            self.names.push(name);
        }
    }

    /// Adds an alias, once, unless it is already a name.
    pub fn alias(&mut self, alias: &str) {
        let alias = collapse(alias);
        if !alias.is_empty() && !self.names.contains(&alias) && !self.aliases.contains(&alias) {
            self.aliases.push(alias);
        }
    }

    /// Adds an identifying detail, once.
    pub fn identifier(&mut self, scheme: &str, value: &str) {
        let value = collapse(value);
        if !value.is_empty() {
            let pair = (collapse(scheme), value);
            if !self.identifiers.contains(&pair) {
                self.identifiers.push(pair);
            }
        }
    }

    /// Records a field's value for comparison.
    pub fn field(&mut self, field: &str, value: &str) {
        let value = value.trim();
        if !value.is_empty() {
            self.raw
                .entry(field.to_owned())
                .or_default()
                .insert(value.to_owned());
        }
    }
}

/// A list's text as a single-line name: bidirectional controls and invisible format
/// characters dropped (list files carry them as typing noise; the stored file keeps them), a
/// zero-width joiner or non-joiner kept only between two letters, control characters and
/// whitespace runs as one space, trimmed.
pub fn collapse(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut cleaned = String::with_capacity(text.len());
    for (at, &c) in chars.iter().enumerate() {
        match c {
            '\u{200E}'
            | '\u{200F}'
            | '\u{061C}'
            | '\u{202A}'..='\u{202E}'
            | '\u{2066}'..='\u{2069}'
            | '\u{200B}'
            | '\u{2060}'
            | '\u{FEFF}'
            | '\u{00AD}' => {}
            '\u{200C}' | '\u{200D}' => {
                let before = at
                    .checked_sub(1)
                    .and_then(|i| chars.get(i))
                    .is_some_and(|c| c.is_alphabetic());
                let after = chars.get(at + 1).is_some_and(|c| c.is_alphabetic());
                if before && after {
                    cleaned.push(c);
                }
            }
            c if c.is_control() => cleaned.push(' '),
            c => cleaned.push(c),
        }
    }
    cleaned.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Upper-case ASCII slug of a regime name: "ISIL (Da'esh) and Al-Qaida" -> "ISIL-DA-ESH-AND-AL-QAIDA".
pub fn slug(text: &str) -> String {
    let mut slug = String::new();
    for c in text.chars() {
        if c.is_ascii_alphanumeric() {
            slug.push(c.to_ascii_uppercase());
        } else if !slug.is_empty() && !slug.ends_with('-') {
            slug.push('-');
        }
    }
    while slug.ends_with('-') {
        slug.pop();
    }
    slug.truncate(48);
    slug
}

/// A file read: its entries, what was refused, and what it says of itself.
#[derive(Debug, Default)]
pub struct Parsed {
    /// The entries, in file order, each key once.
    pub entries: Vec<Entry>,
    /// Entries refused, with place and reason.
    pub refused: Vec<Refusal>,
    /// The publication date the file gives, if it gives one.
    pub published_on: Option<CivilDate>,
}

impl Parsed {
    /// Adds an entry; a key seen before is a refusal (each entry once).
    pub fn push(&mut self, mut entry: Entry, seen: &mut BTreeMap<String, String>) {
        entry.seal();
        if let Some(first) = seen.get(&entry.key) {
            self.refused.push(Refusal::new(
                entry.place.clone(),
                format!("entry id {} appears twice (first at {first})", entry.key),
            ));
            return;
        }
        if entry.names.is_empty() {
            self.refused.push(Refusal::new(
                entry.place.clone(),
                format!("entry {} has no name", entry.key),
            ));
            return;
        }
        seen.insert(entry.key.clone(), entry.place.clone());
        self.entries.push(entry);
    }
}

/// A published list the ledger can import.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ListSpec {
    /// Its name on the command line and in the ledger (e.g. "us-ofac-sdn").
    pub list: String,
    /// The authority its listings are recorded under.
    pub authority: &'static str,
    /// Who publishes it.
    pub publisher: &'static str,
    /// The identifier scheme of its entry ids.
    pub scheme: &'static str,
    /// Subject ids of new subjects: this prefix, then the entry id.
    pub subject_prefix: String,
    /// The formats it is published in.
    pub formats: &'static [formats::Format],
    /// The measures its listings carry, when the list does not say per entry.
    pub measures: &'static [Measure],
    /// Where it is published.
    pub url: &'static str,
}

/// The lists `import` knows, by name.
pub const LISTS: [&str; 7] = [
    "us-ofac-sdn",
    "us-ofac-consolidated",
    "un-sc-consolidated",
    "uk-hmt-conlist",
    "ca-sema",
    "eu-fsf",
    "opensanctions:<dataset>",
];

/// The list named `name`, or why not.
pub fn list_spec(name: &str) -> Result<ListSpec, String> {
    use formats::Format::*;
    let spec = |authority, publisher, scheme, prefix: &str, formats, measures, url| ListSpec {
        list: name.to_owned(),
        authority,
        publisher,
        scheme,
        subject_prefix: prefix.to_owned(),
        formats,
        measures,
        url,
    };
    Ok(match name {
        "us-ofac-sdn" => spec(
            "US-OFAC",
            "US Treasury, Office of Foreign Assets Control",
            "ofac-uid",
            "ofac-",
            &[OfacSdnCsv, OfacXml],
            &[Measure::AssetFreeze, Measure::TransactionBan],
            "https://www.treasury.gov/ofac/downloads/sdn.csv",
        ),
        "us-ofac-consolidated" => spec(
            "US-OFAC",
            "US Treasury, Office of Foreign Assets Control",
            "ofac-uid",
            "ofac-",
            &[OfacXml],
            &[Measure::Unspecified],
            "https://www.treasury.gov/ofac/downloads/consolidated/consolidated.xml",
        ),
        "un-sc-consolidated" => spec(
            "UN-SC",
            "United Nations Security Council",
            "un-reference",
            "un-",
            &[UnXml],
            &[Measure::Unspecified],
            "https://scsanctions.un.org/resources/xml/en/consolidated.xml",
        ),
        "uk-hmt-conlist" => spec(
            "UK-FCDO",
            "HM Treasury, Office of Financial Sanctions Implementation",
            "uk-ofsi-group-id",
            "uk-ofsi-",
            &[UkConlistCsv, UkConlistXlsx],
            &[Measure::AssetFreeze],
            "https://ofsistorage.blob.core.windows.net/publishlive/2022format/ConList.xlsx",
        ),
        "ca-sema" => spec(
            "CA-GAC",
            "Global Affairs Canada",
            "ca-sema-key",
            "ca-sema-",
            &[CanadaSemaXml],
            &[Measure::DealingsProhibition],
            "https://www.international.gc.ca/world-monde/assets/office_docs/international_relations-relations_internationales/sanctions/sema-lmes.xml",
        ),
        "eu-fsf" => spec(
            "EU-COUNCIL",
            "European Commission, Financial Sanctions Database",
            "eu-fsf-logical-id",
            "eu-fsf-",
            &[EuFsfXml],
            &[Measure::AssetFreeze, Measure::FundsBan],
            "https://webgate.ec.europa.eu/fsd/fsf/public/files/xmlFullSanctionsList_1_1/content",
        ),
        _ => match name.strip_prefix("opensanctions:") {
            Some(dataset)
                if !dataset.is_empty()
                    && dataset.len() <= 48
                    && dataset
                        .bytes()
                        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_') =>
            {
                spec(
                    "OPENSANCTIONS",
                    "OpenSanctions",
                    "opensanctions-id",
                    "os-",
                    &[FtmEntities, FtmDelta],
                    &[Measure::Unspecified],
                    "https://www.opensanctions.org/datasets/",
                )
            }
            _ => {
                return Err(format!(
                    "unknown list \"{name}\"; expected one of {} (a dataset name is lower-case letters, digits and _)",
                    LISTS.join(", ")
                ));
            }
        },
    })
}
