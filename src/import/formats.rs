//! The list formats: recognising a file's format from its content, decoding its text, and
//! reading its entries. Each reader refuses a broken entry with its place (line, or XML path
//! and entry id) and goes on, so one report names every broken entry; a file it cannot read
//! at all (not its format, malformed, a limit passed) is one refusal.

use std::collections::BTreeMap;

use super::xml::{self, Node};
use super::{Entry, Parsed, Refusal, collapse, slug};
use crate::domain::{CivilDate, SubjectKind};
use crate::limits;

/// A list file format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Format {
    /// OFAC SDN.CSV: no header, `-0- ` nulls, Latin-1, trailing 0x1A.
    OfacSdnCsv,
    /// OFAC sdnList XML (SDN and consolidated lists).
    OfacXml,
    /// UN Security Council consolidated list XML.
    UnXml,
    /// UK OFSI ConList, legacy CSV (Windows-1252, one row per name variant).
    UkConlistCsv,
    /// UK OFSI ConList, 2022 layout, XLSX.
    UkConlistXlsx,
    /// Canada SEMA consolidated list XML.
    CanadaSemaXml,
    /// EU Financial Sanctions Files XML 1.1.
    EuFsfXml,
    /// OpenSanctions FollowTheMoney entities, one JSON object per line.
    FtmEntities,
    /// OpenSanctions FollowTheMoney delta: ADD/MOD/DEL per line.
    FtmDelta,
}

/// Every format, in order.
pub const FORMATS: [Format; 9] = [
    Format::OfacSdnCsv,
    Format::OfacXml,
    Format::UnXml,
    Format::UkConlistCsv,
    Format::UkConlistXlsx,
    Format::CanadaSemaXml,
    Format::EuFsfXml,
    Format::FtmEntities,
    Format::FtmDelta,
];

impl Format {
    /// Its name (`--format`, and the snapshot event's `format`).
    pub fn as_str(self) -> &'static str {
        match self {
            Format::OfacSdnCsv => "ofac-sdn-csv",
            Format::OfacXml => "ofac-xml",
            Format::UnXml => "un-xml",
            Format::UkConlistCsv => "uk-conlist-csv",
            Format::UkConlistXlsx => "uk-conlist-xlsx",
            Format::CanadaSemaXml => "ca-sema-xml",
            Format::EuFsfXml => "eu-fsf-xml",
            Format::FtmEntities => "ftm-entities",
            Format::FtmDelta => "ftm-delta",
        }
    }

    /// The format named `name`.
    pub fn parse(name: &str) -> Option<Format> {
        FORMATS.into_iter().find(|format| format.as_str() == name)
    }

    /// Whether a file in this format lists only changes (a delta), not the whole list.
    pub fn is_delta(self) -> bool {
        self == Format::FtmDelta
    }
}

/// The format of `bytes`, recognised from the content, or why not.
pub fn detect(bytes: &[u8]) -> Result<Format, String> {
    if bytes.starts_with(b"PK\x03\x04") {
        return Ok(Format::UkConlistXlsx);
    }
    let head = &bytes[..bytes.len().min(8192)];
    let head = head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(head);
    let text = String::from_utf8_lossy(head);
    let trimmed = text.trim_start();
    if trimmed.starts_with('<') {
        let root = root_name(trimmed);
        return match root.as_deref() {
            Some("sdnList") => Ok(Format::OfacXml),
            Some("CONSOLIDATED_LIST") => Ok(Format::UnXml),
            Some("data-set") => Ok(Format::CanadaSemaXml),
            Some("export") => Ok(Format::EuFsfXml),
            Some(other) => Err(format!(
                "an XML file whose root element is <{other}>: not a list format this ledger reads (sdnList, CONSOLIDATED_LIST, data-set, export)"
            )),
            None => Err("an XML file with no root element in its first 8 KiB".into()),
        };
    }
    if trimmed.starts_with('{') {
        let first = trimmed.lines().next().unwrap_or("");
        return Ok(
            if first.contains("\"op\"") && first.contains("\"entity\"") {
                Format::FtmDelta
            } else {
                Format::FtmEntities
            },
        );
    }
    if trimmed.starts_with("Last Updated") {
        return Ok(Format::UkConlistCsv);
    }
    let first_field = trimmed.split(',').next().unwrap_or("");
    if !first_field.is_empty() && first_field.bytes().all(|b| b.is_ascii_digit()) {
        return Ok(Format::OfacSdnCsv);
    }
    Err("not a list format this ledger recognises (OFAC SDN CSV or XML, UN XML, UK ConList CSV or XLSX, Canada SEMA XML, EU FSF XML, OpenSanctions FtM JSON lines); give --format to say which".into())
}

fn root_name(text: &str) -> Option<String> {
    let mut rest = text;
    loop {
        let start = rest.find('<')?;
        rest = &rest[start + 1..];
        if rest.starts_with('?') || rest.starts_with('!') {
            continue;
        }
        let name: String = rest
            .chars()
            .take_while(|c| !c.is_whitespace() && *c != '>' && *c != '/')
            .collect();
        return Some(name.rsplit(':').next().unwrap_or(&name).to_owned());
    }
}

/// Reads `bytes` as `format`. `file` names the file in places.
pub fn read(format: Format, file: &str, bytes: &[u8]) -> Result<Parsed, Refusal> {
    if bytes.len() as u64 > limits::IMPORT_FILE_BYTES_MAX {
        return Err(Refusal::new(
            file,
            format!(
                "{} bytes; at most {} (IMPORT_FILE_BYTES_MAX)",
                bytes.len(),
                limits::IMPORT_FILE_BYTES_MAX
            ),
        ));
    }
    let parsed = match format {
        Format::OfacSdnCsv => ofac_csv(file, bytes)?,
        Format::OfacXml => ofac_xml(file, &utf8(file, bytes)?)?,
        Format::UnXml => un_xml(file, &utf8(file, bytes)?)?,
        Format::UkConlistCsv => uk_csv(file, bytes)?,
        Format::UkConlistXlsx => uk_xlsx(file, bytes)?,
        Format::CanadaSemaXml => canada_xml(file, &utf8(file, bytes)?)?,
        Format::EuFsfXml => eu_xml(file, &utf8(file, bytes)?)?,
        Format::FtmEntities | Format::FtmDelta => ftm(file, &utf8(file, bytes)?, format)?,
    };
    if parsed.entries.len() > limits::IMPORT_ENTRIES_MAX {
        return Err(Refusal::new(
            file,
            format!(
                "{} entries; at most {} (IMPORT_ENTRIES_MAX)",
                parsed.entries.len(),
                limits::IMPORT_ENTRIES_MAX
            ),
        ));
    }
    Ok(parsed)
}

/// UTF-8 text of `bytes` (a BOM dropped), or the byte offset where it stops being UTF-8.
fn utf8<'a>(file: &str, bytes: &'a [u8]) -> Result<std::borrow::Cow<'a, str>, Refusal> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    std::str::from_utf8(bytes)
        .map(std::borrow::Cow::Borrowed)
        .map_err(|error| {
            let offset = error.valid_up_to();
            Refusal::new(
                format!(
                    "{file}: byte offset {offset} (line {})",
                    line_at(bytes, offset)
                ),
                format!(
                    "invalid UTF-8 (byte 0x{:02X}); this format is UTF-8",
                    bytes.get(offset).copied().unwrap_or(0)
                ),
            )
        })
}

fn line_at(bytes: &[u8], offset: usize) -> usize {
    bytes[..offset.min(bytes.len())]
        .iter()
        .filter(|b| **b == b'\n')
        .count()
        + 1
}

fn field_checked(place: &str, value: &str) -> Result<(), Refusal> {
    if value.len() > limits::IMPORT_FIELD_BYTES_MAX {
        return Err(Refusal::new(
            place,
            format!(
                "a field of {} bytes; at most {} (IMPORT_FIELD_BYTES_MAX)",
                value.len(),
                limits::IMPORT_FIELD_BYTES_MAX
            ),
        ));
    }
    Ok(())
}

/// A date written DD/MM/YYYY (UK), MM/DD/YYYY (OFAC) or YYYY-MM-DD, per `order`.
fn date_dmy(text: &str, month_first: bool) -> Option<CivilDate> {
    let text = text.trim();
    if let Ok(date) = CivilDate::parse(text.get(..10).unwrap_or(text)) {
        return Some(date);
    }
    let parts: Vec<&str> = text.split('/').collect();
    let [a, b, year] = parts.as_slice() else {
        return None;
    };
    let (day, month) = if month_first { (b, a) } else { (a, b) };
    CivilDate::new(
        year.trim().parse().ok()?,
        month.trim().parse().ok()?,
        day.trim().parse().ok()?,
    )
    .ok()
}

/// A CSV file that ends inside a quoted field (an odd number of quote characters: a quote
/// inside a field is doubled) was cut short; the CSV reader would take the cut row as whole.
fn refuse_unterminated_quote(file: &str, text: &str) -> Result<(), Refusal> {
    if text.bytes().filter(|b| *b == b'"').count() % 2 == 1 {
        let last = text.trim_end().lines().count();
        return Err(Refusal::new(
            format!("{file}:{last}"),
            "the file ends inside a quoted field (an odd number of quote characters): it looks cut short; a complete file closes every quote",
        ));
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------
// OFAC SDN CSV

const OFAC_CSV_COLUMNS: usize = 12;

fn ofac_csv(file: &str, bytes: &[u8]) -> Result<Parsed, Refusal> {
    // Latin-1: every byte is the code point of the same value.
    let mut bytes = bytes;
    while let Some(rest) = bytes.strip_suffix(b"\x1A") {
        bytes = rest;
    }
    let text: String = bytes.iter().map(|&b| char::from(b)).collect();
    refuse_unterminated_quote(file, &text)?;
    if !text.is_empty() && !text.ends_with('\n') {
        return Err(Refusal::new(
            format!("{file}:{}", text.lines().count()),
            "the file ends inside a row: SDN.CSV ends with a line break (CRLF, then 0x1A); this one looks cut short",
        ));
    }
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    let mut parsed = Parsed::default();
    let mut seen = BTreeMap::new();
    for row in reader.records() {
        let row = row.map_err(|error| {
            let line = error.position().map_or(0, |p| p.line());
            Refusal::new(format!("{file}:{line}"), format!("not CSV: {error}"))
        })?;
        let line = row.position().map_or(0, |p| p.line());
        let place = format!("{file}:{line}");
        if row.iter().all(|field| field.trim().is_empty()) {
            continue;
        }
        if row.len() != OFAC_CSV_COLUMNS {
            parsed.refused.push(Refusal::new(
                &place,
                format!(
                    "{} columns; SDN.CSV rows have {OFAC_CSV_COLUMNS} (ent_num, SDN_Name, SDN_Type, Program, …, Remarks)",
                    row.len()
                ),
            ));
            continue;
        }
        if let Some(long) = row
            .iter()
            .find(|f| f.len() > limits::IMPORT_FIELD_BYTES_MAX)
        {
            parsed.refused.push(Refusal::new(
                &place,
                format!(
                    "a field of {} bytes; at most {} (IMPORT_FIELD_BYTES_MAX)",
                    long.len(),
                    limits::IMPORT_FIELD_BYTES_MAX
                ),
            ));
            continue;
        }
        let value = |index: usize| {
            let field = row.get(index).unwrap_or("").trim();
            if field == "-0-" { "" } else { field }
        };
        let uid = value(0);
        if uid.is_empty() || !uid.bytes().all(|b| b.is_ascii_digit()) || uid.len() > 12 {
            parsed.refused.push(Refusal::new(
                &place,
                format!("ent_num \"{uid}\" is not a number; it is the entry's uid"),
            ));
            continue;
        }
        let kind = match value(2).to_ascii_lowercase().as_str() {
            "" => SubjectKind::Entity,
            "individual" => SubjectKind::Person,
            "vessel" => SubjectKind::Vessel,
            "aircraft" => SubjectKind::Aircraft,
            other => {
                parsed.refused.push(Refusal::new(
                    format!("{place} (uid {uid})"),
                    format!("SDN_Type \"{other}\"; expected -0- (entity), individual, vessel or aircraft"),
                ));
                continue;
            }
        };
        let mut entry = Entry::new(uid, kind, format!("{place} (uid {uid})"));
        entry.name(value(1));
        for programme in ofac_programmes(value(3)) {
            entry.programmes.insert(programme);
        }
        if entry.programmes.is_empty() {
            parsed.refused.push(Refusal::new(
                entry.place.clone(),
                "no Program: every SDN entry is listed under at least one",
            ));
            continue;
        }
        const NAMES: [&str; 12] = [
            "ent_num",
            "SDN_Name",
            "SDN_Type",
            "Program",
            "Title",
            "Call_Sign",
            "Vess_type",
            "Tonnage",
            "GRT",
            "Vess_flag",
            "Vess_owner",
            "Remarks",
        ];
        for (index, name) in NAMES.iter().enumerate().skip(1) {
            if index != 3 {
                entry.field(name, value(index));
            }
        }
        ofac_remarks(&mut entry, value(11));
        parsed.push(entry, &mut seen);
    }
    Ok(parsed)
}

/// "GLOMAG] [UHRPA" -> GLOMAG, UHRPA.
fn ofac_programmes(text: &str) -> Vec<String> {
    text.split("] [")
        .map(|p| p.trim().trim_matches(|c| c == '[' || c == ']').trim())
        .filter(|p| !p.is_empty())
        .map(ofac_programme)
        .collect()
}

fn ofac_programme(text: &str) -> String {
    let slugged = slug(text);
    if slugged.is_empty() {
        "OFAC-UNNAMED".into()
    } else {
        slugged
    }
}

/// Aliases and identifying details from SDN.CSV's free-text Remarks.
fn ofac_remarks(entry: &mut Entry, remarks: &str) {
    for part in remarks.split(';') {
        let part = part.trim().trim_end_matches('.').trim();
        let lower = part.to_ascii_lowercase();
        if let Some(rest) = lower
            .strip_prefix("a.k.a. ")
            .or_else(|| lower.strip_prefix("f.k.a. "))
        {
            let offset = part.len() - rest.len();
            let alias = part[offset..].trim().trim_matches('\'').trim();
            entry.alias(alias);
        } else if lower.starts_with("dob ") {
            entry.identifier("date-of-birth", &part[4..]);
        } else if lower.starts_with("pob ") {
            entry.identifier("place-of-birth", &part[4..]);
        } else if lower.starts_with("nationality ") {
            entry.identifier("nationality", &part[12..]);
        } else if lower.starts_with("linked to: ") {
            entry.identifier("linked-to", &part[11..]);
        }
    }
}

// ---------------------------------------------------------------------------------------
// XML helpers shared by the XML formats

/// Every field of an entry tree, for comparison as sets: leaves of direct children by name,
/// and each repeated child (an alias, an address, a document) as one canonical value.
fn node_fields(entry: &mut Entry, node: &Node, skip: &[&str]) {
    for (name, value) in &node.attributes {
        entry.field(&format!("@{name}"), value);
    }
    for child in &node.children {
        if skip.contains(&child.name.as_str()) {
            continue;
        }
        if child.children.is_empty() {
            let mut parts = Vec::new();
            child.flatten("", &mut parts);
            for (path, value) in parts {
                entry.field(&path, &value);
            }
        } else {
            for grandchild in &child.children {
                let mut parts = Vec::new();
                grandchild.flatten("", &mut parts);
                parts.sort();
                let canonical: Vec<String> =
                    parts.iter().map(|(k, v)| format!("{k}={v}")).collect();
                entry.field(
                    &format!("{}/{}", child.name, grandchild.name),
                    &canonical.join("; "),
                );
            }
        }
    }
}

fn descendants<'a>(node: &'a Node, name: &str) -> Vec<&'a Node> {
    let mut found = Vec::new();
    node.descendants(name, &mut found);
    found
}

// ---------------------------------------------------------------------------------------
// OFAC sdnList XML

fn ofac_name(node: &Node) -> String {
    match (node.text_of("lastName"), node.text_of("firstName")) {
        (Some(last), Some(first)) => format!("{last}, {first}"),
        (Some(last), None) => last.to_owned(),
        (None, Some(first)) => first.to_owned(),
        (None, None) => String::new(),
    }
}

fn ofac_xml(file: &str, text: &str) -> Result<Parsed, Refusal> {
    let mut parsed = Parsed::default();
    let mut seen = BTreeMap::new();
    let outside = xml::walk(file, text, &["sdnEntry"], &mut |node, line| {
        let uid = node.text_of("uid").unwrap_or("").to_owned();
        let place = format!("{file}:{line} (/sdnList/sdnEntry uid {uid})");
        if uid.is_empty() || !uid.bytes().all(|b| b.is_ascii_digit()) || uid.len() > 12 {
            parsed.refused.push(Refusal::new(
                place,
                format!("uid \"{uid}\" is not a number"),
            ));
            return Ok(());
        }
        let kind = match node.text_of("sdnType").unwrap_or("Entity") {
            "Individual" => SubjectKind::Person,
            "Vessel" => SubjectKind::Vessel,
            "Aircraft" => SubjectKind::Aircraft,
            "Entity" => SubjectKind::Entity,
            other => {
                parsed.refused.push(Refusal::new(
                    place,
                    format!("sdnType \"{other}\"; expected Individual, Entity, Vessel or Aircraft"),
                ));
                return Ok(());
            }
        };
        let mut entry = Entry::new(&uid, kind, place);
        entry.name(&ofac_name(&node));
        for aka in descendants(&node, "aka") {
            entry.alias(&ofac_name(aka));
        }
        for program in descendants(&node, "program") {
            entry.programmes.insert(ofac_programme(&program.text));
        }
        for id in descendants(&node, "id") {
            if let (Some(kind), Some(number)) = (id.text_of("idType"), id.text_of("idNumber")) {
                entry.identifier(&collapse(kind.trim_end_matches(':')).to_lowercase(), number);
            }
        }
        for dob in descendants(&node, "dateOfBirth") {
            entry.identifier("date-of-birth", &dob.text);
        }
        for nationality in descendants(&node, "nationality") {
            if let Some(country) = nationality.text_of("country") {
                entry.identifier("nationality", country);
            }
        }
        for place in descendants(&node, "placeOfBirth") {
            entry.identifier("place-of-birth", &place.text);
        }
        node_fields(&mut entry, &node, &["programList"]);
        if entry.programmes.is_empty() {
            parsed.refused.push(Refusal::new(
                entry.place.clone(),
                "no programList/program: every entry is listed under at least one",
            ));
            return Ok(());
        }
        parsed.push(entry, &mut seen);
        Ok(())
    })?;
    if outside.root.as_ref().map(|r| r.name.as_str()) != Some("sdnList") {
        return Err(Refusal::new(file, "the root element is not sdnList"));
    }
    parsed.published_on = outside
        .texts
        .get("Publish_Date")
        .and_then(|date| date_dmy(date, true));
    if let Some(count) = outside.texts.get("Record_Count") {
        let read = parsed.entries.len() + parsed.refused.len();
        if count.trim().parse::<usize>().ok() != Some(read) {
            return Err(Refusal::new(
                format!("{file} (/sdnList/publshInformation/Record_Count)"),
                format!(
                    "Record_Count says {count}, the file holds {read} sdnEntry elements: incomplete or altered"
                ),
            ));
        }
    }
    Ok(parsed)
}

// ---------------------------------------------------------------------------------------
// UN consolidated XML

fn un_xml(file: &str, text: &str) -> Result<Parsed, Refusal> {
    let mut parsed = Parsed::default();
    let mut seen = BTreeMap::new();
    let outside = xml::walk(file, text, &["INDIVIDUAL", "ENTITY"], &mut |node, line| {
        let reference = node.text_of("REFERENCE_NUMBER").unwrap_or("").to_owned();
        let container = if node.name == "INDIVIDUAL" {
            "INDIVIDUALS"
        } else {
            "ENTITIES"
        };
        let place = format!(
            "{file}:{line} (/CONSOLIDATED_LIST/{container}/{} {reference})",
            node.name
        );
        if reference.is_empty() || reference.len() > 48 {
            parsed.refused.push(Refusal::new(
                place,
                "no REFERENCE_NUMBER: it is the entry's id (e.g. IQi.074)",
            ));
            return Ok(());
        }
        let kind = if node.name == "INDIVIDUAL" {
            SubjectKind::Person
        } else {
            SubjectKind::Entity
        };
        let mut entry = Entry::new(&reference, kind, place);
        let name: Vec<&str> = ["FIRST_NAME", "SECOND_NAME", "THIRD_NAME", "FOURTH_NAME"]
            .iter()
            .filter_map(|part| node.text_of(part))
            .collect();
        entry.name(&name.join(" "));
        if let Some(original) = node.text_of("NAME_ORIGINAL_SCRIPT") {
            entry.name(original);
        }
        for alias in descendants(&node, "ALIAS_NAME") {
            entry.alias(&alias.text);
        }
        match node.text_of("UN_LIST_TYPE") {
            Some(regime) => {
                entry.programmes.insert(format!("UN-{}", slug(regime)));
            }
            None => {
                parsed.refused.push(Refusal::new(
                    entry.place.clone(),
                    "no UN_LIST_TYPE: the regime is the programme",
                ));
                return Ok(());
            }
        }
        if let Some(listed) = node.text_of("LISTED_ON") {
            match CivilDate::parse(listed.get(..10).unwrap_or(listed)) {
                Ok(date) => entry.listed_on = Some(date),
                Err(_) => {
                    parsed.refused.push(Refusal::new(
                        entry.place.clone(),
                        format!("LISTED_ON \"{listed}\" is not a date YYYY-MM-DD"),
                    ));
                    return Ok(());
                }
            }
        }
        for dob in descendants(&node, "INDIVIDUAL_DATE_OF_BIRTH") {
            if let Some(date) = dob.text_of("DATE").or_else(|| dob.text_of("YEAR")) {
                entry.identifier("date-of-birth", date);
            }
        }
        if let Some(nationality) = node.child("NATIONALITY") {
            for value in &nationality.children {
                entry.identifier("nationality", &value.text);
            }
        }
        for document in descendants(&node, "INDIVIDUAL_DOCUMENT") {
            if let (Some(kind), Some(number)) = (
                document.text_of("TYPE_OF_DOCUMENT"),
                document.text_of("NUMBER"),
            ) {
                entry.identifier(&kind.to_lowercase(), number);
            }
        }
        node_fields(&mut entry, &node, &["UN_LIST_TYPE"]);
        parsed.push(entry, &mut seen);
        Ok(())
    })?;
    let root = outside.root.filter(|root| root.name == "CONSOLIDATED_LIST");
    let Some(root) = root else {
        return Err(Refusal::new(
            file,
            "the root element is not CONSOLIDATED_LIST",
        ));
    };
    parsed.published_on = root
        .attribute("dateGenerated")
        .and_then(|d| date_dmy(d, false));
    Ok(parsed)
}

// ---------------------------------------------------------------------------------------
// Canada SEMA XML

/// "Russia / Russie" -> "Russia"; a regulation's label -> its abbreviation in parentheses.
fn canada_regime(label: &str) -> String {
    let english = label.split(" / ").next().unwrap_or(label).trim();
    if let (Some(open), Some(close)) = (english.rfind('('), english.rfind(')'))
        && open < close
    {
        return english[open + 1..close].to_owned();
    }
    english.to_owned()
}

fn canada_xml(file: &str, text: &str) -> Result<Parsed, Refusal> {
    let mut parsed = Parsed::default();
    let mut seen = BTreeMap::new();
    let outside = xml::walk(file, text, &["record"], &mut |node, line| {
        let country = node.text_of("Country").unwrap_or("");
        let schedule = node.text_of("Schedule").unwrap_or("");
        let item = node.text_of("Item").unwrap_or("");
        let key = format!(
            "{}-{}-{}",
            slug(&canada_regime(country)),
            slug(schedule),
            slug(item)
        )
        .to_lowercase();
        let place = format!("{file}:{line} (/data-set/record {country} | {schedule} | {item})");
        if country.is_empty() || item.is_empty() {
            parsed.refused.push(Refusal::new(
                place,
                "no Country or no Item: an entry's key is Country + Schedule + Item",
            ));
            return Ok(());
        }
        let person = node.text_of("LastName").is_some() || node.text_of("GivenName").is_some();
        let kind = if person {
            SubjectKind::Person
        } else {
            SubjectKind::Entity
        };
        let mut entry = Entry::new(key, kind, place);
        if person {
            match (node.text_of("LastName"), node.text_of("GivenName")) {
                (Some(last), Some(given)) => entry.name(&format!("{last}, {given}")),
                (Some(one), None) | (None, Some(one)) => entry.name(one),
                (None, None) => {}
            }
        }
        if let Some(entity) = node.text_of("Entity") {
            entry.name(entity);
        }
        if let Some(aliases) = node.text_of("Aliases") {
            for alias in aliases.split(", ") {
                entry.alias(alias);
            }
        }
        if let Some(dob) = node.text_of("DateOfBirth") {
            entry.identifier("date-of-birth", dob);
        }
        entry.identifier(
            "ca-sema-schedule-item",
            &format!("{country} | {schedule} | {item}"),
        );
        entry
            .programmes
            .insert(format!("CA-SEMA-{}", slug(&canada_regime(country))));
        node_fields(&mut entry, &node, &[]);
        parsed.push(entry, &mut seen);
        Ok(())
    })?;
    if outside.root.as_ref().map(|r| r.name.as_str()) != Some("data-set") {
        return Err(Refusal::new(file, "the root element is not data-set"));
    }
    Ok(parsed)
}

// ---------------------------------------------------------------------------------------
// EU FSF XML 1.1

fn eu_xml(file: &str, text: &str) -> Result<Parsed, Refusal> {
    let mut parsed = Parsed::default();
    let mut seen = BTreeMap::new();
    let outside = xml::walk(file, text, &["sanctionEntity"], &mut |node, line| {
        let logical = node.attribute("logicalId").unwrap_or("").to_owned();
        let place = format!("{file}:{line} (/export/sanctionEntity logicalId {logical})");
        if logical.is_empty() || !logical.bytes().all(|b| b.is_ascii_digit()) || logical.len() > 12
        {
            parsed.refused.push(Refusal::new(
                place,
                format!("logicalId \"{logical}\" is not a number"),
            ));
            return Ok(());
        }
        let kind = match node.child("subjectType").and_then(|t| t.attribute("code")) {
            Some("person") => SubjectKind::Person,
            Some("enterprise") | None => SubjectKind::Entity,
            Some(other) => {
                parsed.refused.push(Refusal::new(
                    place,
                    format!("subjectType code \"{other}\"; expected person or enterprise"),
                ));
                return Ok(());
            }
        };
        let mut entry = Entry::new(&logical, kind, place);
        // The primary name is the alias with the smallest logicalId (child order is not
        // stable between releases); the others are aliases.
        let mut aliases: Vec<(u64, &str)> = node
            .children
            .iter()
            .filter(|c| c.name == "nameAlias")
            .filter_map(|alias| {
                let id = alias
                    .attribute("logicalId")
                    .and_then(|id| id.parse().ok())
                    .unwrap_or(u64::MAX);
                alias.attribute("wholeName").map(|name| (id, name))
            })
            .collect();
        aliases.sort_unstable();
        for (index, (_, name)) in aliases.iter().enumerate() {
            if index == 0 {
                entry.name(name);
            } else {
                entry.alias(name);
            }
        }
        if let Some(reference) = node.attribute("euReferenceNumber") {
            entry.identifier("eu-reference-number", reference);
        }
        if let Some(un) = node.attribute("unitedNationId") {
            entry.identifier("un-reference", un);
        }
        for birth in node.children.iter().filter(|c| c.name == "birthdate") {
            if let Some(date) = birth
                .attribute("birthdate")
                .or_else(|| birth.attribute("year"))
            {
                entry.identifier("date-of-birth", date);
            }
        }
        for citizenship in node.children.iter().filter(|c| c.name == "citizenship") {
            if let Some(country) = citizenship.attribute("countryDescription") {
                entry.identifier("nationality", country);
            }
        }
        for identification in node.children.iter().filter(|c| c.name == "identification") {
            if let (Some(kind), Some(number)) = (
                identification.attribute("identificationTypeDescription"),
                identification.attribute("number"),
            ) {
                entry.identifier(&kind.to_lowercase(), number);
            }
        }
        let mut dates = Vec::new();
        for regulation in node.children.iter().filter(|c| c.name == "regulation") {
            if let Some(programme) = regulation.attribute("programme") {
                entry.programmes.insert(format!("EU-{}", slug(programme)));
            }
            if let Some(date) = regulation
                .attribute("entryIntoForceDate")
                .and_then(|d| date_dmy(d, false))
            {
                dates.push(date);
            }
        }
        if let Some(date) = node
            .attribute("designationDate")
            .and_then(|d| date_dmy(d, false))
        {
            dates.push(date);
        }
        entry.listed_on = dates.into_iter().min();
        if entry.programmes.is_empty() {
            parsed.refused.push(Refusal::new(
                entry.place.clone(),
                "no regulation with a programme: the regime is the programme",
            ));
            return Ok(());
        }
        let mut flat = Vec::new();
        for child in &node.children {
            if child.name != "regulation" {
                child.flatten("", &mut flat);
            }
        }
        for (path, value) in flat {
            entry.field(&path, &value);
        }
        for (name, value) in &node.attributes {
            entry.field(&format!("@{name}"), value);
        }
        parsed.push(entry, &mut seen);
        Ok(())
    })?;
    let Some(root) = outside.root.filter(|root| root.name == "export") else {
        return Err(Refusal::new(file, "the root element is not export"));
    };
    parsed.published_on = root
        .attribute("generationDate")
        .and_then(|d| date_dmy(d, false));
    Ok(parsed)
}

// ---------------------------------------------------------------------------------------
// UK OFSI ConList: legacy CSV and 2022 XLSX, one row per name variant, grouped by Group ID

/// Rows of a ConList, grouped into entries by Group ID.
struct UkGroups<'a> {
    file: &'a str,
    header: Vec<String>,
    groups: BTreeMap<String, Entry>,
    order: Vec<String>,
    refused: Vec<Refusal>,
    /// Bytes of the rows read so far per Group ID (an entry is at most
    /// `IMPORT_ENTRY_BYTES_MAX`), and the groups refused for it.
    bytes: BTreeMap<String, usize>,
    too_large: std::collections::BTreeSet<String>,
}

/// "Global Human Rights" -> "UK-GHR" (the FCDO's own short name); others "UK-" and a slug.
fn uk_programme(regime: &str) -> String {
    match regime.trim() {
        "Global Human Rights" => "UK-GHR".into(),
        other => format!("UK-{}", slug(other)),
    }
}

impl<'a> UkGroups<'a> {
    fn new(file: &'a str) -> UkGroups<'a> {
        UkGroups {
            file,
            header: Vec::new(),
            groups: BTreeMap::new(),
            order: Vec::new(),
            refused: Vec::new(),
            bytes: BTreeMap::new(),
            too_large: std::collections::BTreeSet::new(),
        }
    }

    /// The two heading rows: `Last Updated` and the list date, then the column names.
    fn heading(
        &mut self,
        index: usize,
        cells: &[String],
        place: &str,
        published_on: &mut Option<CivilDate>,
    ) -> Result<(), Refusal> {
        if index == 0 {
            if cells.first().map(|c| c.trim()) != Some("Last Updated") {
                return Err(Refusal::new(
                    place,
                    "the first row is not \"Last Updated\", then the list date DD/MM/YYYY",
                ));
            }
            *published_on = cells.get(1).and_then(|d| date_dmy(d, false));
            return Ok(());
        }
        self.header = cells.iter().map(|c| c.trim().to_owned()).collect();
        for needed in ["Name 6", "Group Type", "Alias Type", "Regime", "Group ID"] {
            if self.column(needed).is_none() {
                return Err(Refusal::new(
                    place,
                    format!("the header has no column \"{needed}\""),
                ));
            }
        }
        Ok(())
    }

    fn column(&self, name: &str) -> Option<usize> {
        self.header.iter().position(|h| h == name)
    }

    fn row(&mut self, line: usize, cells: &[String]) {
        let place = format!("{}:{line}", self.file);
        let header = self.header.clone();
        let get = |name: &str| -> String {
            header
                .iter()
                .position(|h| h == name)
                .and_then(|i| cells.get(i))
                .map(|v| v.trim().to_owned())
                .unwrap_or_default()
        };
        if cells.iter().all(|c| c.trim().is_empty()) {
            return;
        }
        let group = get("Group ID");
        if group.is_empty() || !group.bytes().all(|b| b.is_ascii_digit()) || group.len() > 12 {
            self.refused.push(Refusal::new(
                &place,
                format!("Group ID \"{group}\" is not a number; it is the target's id"),
            ));
            return;
        }
        if self.too_large.contains(&group) {
            return;
        }
        let size = self.bytes.entry(group.clone()).or_default();
        *size += cells.iter().map(String::len).sum::<usize>();
        if *size > limits::IMPORT_ENTRY_BYTES_MAX {
            self.groups.remove(&group);
            self.too_large.insert(group.clone());
            self.refused.push(Refusal::new(
                format!("{place} (Group ID {group})"),
                format!(
                    "the rows of this Group ID pass {} bytes (IMPORT_ENTRY_BYTES_MAX)",
                    limits::IMPORT_ENTRY_BYTES_MAX
                ),
            ));
            return;
        }
        let kind = match get("Group Type").as_str() {
            "Individual" => SubjectKind::Person,
            "Entity" => SubjectKind::Entity,
            "Ship" => SubjectKind::Vessel,
            other => {
                self.refused.push(Refusal::new(
                    format!("{place} (Group ID {group})"),
                    format!("Group Type \"{other}\"; expected Individual, Entity or Ship"),
                ));
                return;
            }
        };
        let name = {
            let surname = get("Name 6");
            let given: Vec<String> = (1..=5)
                .map(|i| get(&format!("Name {i}")))
                .filter(|n| !n.is_empty())
                .collect();
            if given.is_empty() {
                surname
            } else if surname.is_empty() {
                given.join(" ")
            } else {
                format!("{surname}, {}", given.join(" "))
            }
        };
        if !self.groups.contains_key(&group) {
            self.order.push(group.clone());
        }
        let entry = self
            .groups
            .entry(group.clone())
            .or_insert_with(|| Entry::new(&group, kind, format!("{place} (Group ID {group})")));
        match get("Alias Type").as_str() {
            "Primary name" => entry.name(&name),
            _ => entry.alias(&name),
        }
        if let Some(script) = Some(get("Name Non-Latin Script")).filter(|s| !s.is_empty()) {
            entry.alias(&script);
        }
        let regime = get("Regime");
        if !regime.is_empty() {
            let programme = uk_programme(&regime);
            if let Some(date) = date_dmy(&get("Listed On"), false) {
                let earliest = entry.listed_on.map_or(date, |d| d.min(date));
                entry.listed_on = Some(earliest);
            }
            entry.programmes.insert(programme);
        }
        for (scheme, column) in [
            ("date-of-birth", "DOB"),
            ("nationality", "Nationality"),
            ("passport", "Passport Number"),
            ("national-id", "National Identification Number"),
        ] {
            let value = get(column);
            entry.identifier(scheme, &value);
        }
        let other = get("Other Information");
        if let Some(start) = other.find("(UK Sanctions List Ref):") {
            let rest = &other[start + "(UK Sanctions List Ref):".len()..];
            let reference: String = rest
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric())
                .collect();
            entry.identifier("uk-sanctions-list-ref", &reference);
        }
        for (index, column) in header.iter().enumerate() {
            if column == "Group ID" || column == "Regime" {
                continue;
            }
            if let Some(value) = cells.get(index) {
                entry.field(column, value);
            }
        }
        // Which regime each row's other details belong to matters for a target listed twice.
        if !regime.is_empty() {
            entry.field("Regime", &regime);
        }
    }

    fn finish(mut self) -> Parsed {
        let mut parsed = Parsed {
            refused: std::mem::take(&mut self.refused),
            ..Parsed::default()
        };
        let mut seen = BTreeMap::new();
        for group in self.order {
            if let Some(mut entry) = self.groups.remove(&group) {
                if entry.names.is_empty() && !entry.aliases.is_empty() {
                    // Two real targets have only "Primary name variation" rows.
                    let first = entry.aliases.remove(0);
                    entry.name(&first);
                }
                if entry.programmes.is_empty() {
                    parsed.refused.push(Refusal::new(
                        entry.place.clone(),
                        "no Regime on any row: the regime is the programme",
                    ));
                    continue;
                }
                parsed.push(entry, &mut seen);
            }
        }
        parsed
    }
}

fn uk_csv(file: &str, bytes: &[u8]) -> Result<Parsed, Refusal> {
    let (text, _, _) = encoding_rs::WINDOWS_1252.decode(bytes);
    refuse_unterminated_quote(file, &text)?;
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    let mut groups = UkGroups::new(file);
    let mut published_on = None;
    for (index, row) in reader.records().enumerate() {
        let row = row.map_err(|error| {
            let line = error.position().map_or(0, |p| p.line());
            Refusal::new(format!("{file}:{line}"), format!("not CSV: {error}"))
        })?;
        let line = row.position().map_or(0, |p| p.line()) as usize;
        let cells: Vec<String> = row.iter().map(ToOwned::to_owned).collect();
        for cell in &cells {
            field_checked(&format!("{file}:{line}"), cell)?;
        }
        match index {
            0 | 1 => groups.heading(
                index,
                &cells,
                &format!("{file}:{}", index + 1),
                &mut published_on,
            )?,
            _ => groups.row(line, &cells),
        }
    }
    let mut parsed = groups.finish();
    parsed.published_on = published_on;
    Ok(parsed)
}

/// The sizes an XLSX file's zip directory declares for its parts, against the limits, before
/// anything is decompressed (a guard against compression bombs).
fn check_xlsx_parts(file: &str, bytes: &[u8]) -> Result<(), Refusal> {
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes))
        .map_err(|error| Refusal::new(file, format!("not a readable XLSX (zip) file: {error}")))?;
    for index in 0..archive.len() {
        let part = archive
            .by_index_raw(index)
            .map_err(|error| Refusal::new(file, format!("zip entry {index}: {error}")))?;
        let name = part.name().map(|n| n.into_owned()).unwrap_or_default();
        let size = part.size();
        if size > limits::IMPORT_XLSX_PART_BYTES_MAX {
            return Err(Refusal::new(
                format!("{file} (part {name})"),
                format!(
                    "{size} bytes decompressed; at most {} (IMPORT_XLSX_PART_BYTES_MAX)",
                    limits::IMPORT_XLSX_PART_BYTES_MAX
                ),
            ));
        }
        if name.ends_with("sharedStrings.xml")
            && size > limits::IMPORT_XLSX_SHARED_STRINGS_BYTES_MAX as u64
        {
            return Err(Refusal::new(
                format!("{file} (part {name})"),
                format!(
                    "shared strings of {size} bytes; at most {} (IMPORT_XLSX_SHARED_STRINGS_BYTES_MAX)",
                    limits::IMPORT_XLSX_SHARED_STRINGS_BYTES_MAX
                ),
            ));
        }
    }
    Ok(())
}

fn uk_xlsx(file: &str, bytes: &[u8]) -> Result<Parsed, Refusal> {
    use calamine::{DataRef, Reader, Xlsx};
    check_xlsx_parts(file, bytes)?;
    let refuse = |reason: String| Refusal::new(file, reason);
    let mut workbook: Xlsx<_> = Xlsx::new(std::io::Cursor::new(bytes))
        .map_err(|error| refuse(format!("not a readable XLSX workbook: {error}")))?;
    let sheet = workbook
        .sheet_names()
        .first()
        .cloned()
        .ok_or_else(|| refuse("the workbook has no sheet".into()))?;
    let mut cells = workbook
        .worksheet_cells_reader(&sheet)
        .map_err(|error| refuse(format!("sheet \"{sheet}\" is not readable: {error}")))?;
    let mut groups = UkGroups::new(file);
    let mut published_on = None;
    let mut row_cells: Vec<String> = Vec::new();
    let mut current_row: Option<u32> = None;
    let mut finish_row =
        |row: u32, cells: &mut Vec<String>, groups: &mut UkGroups<'_>| -> Result<(), Refusal> {
            let line = row as usize + 1;
            match row {
                0 | 1 => groups.heading(
                    row as usize,
                    cells,
                    &format!("{file}: sheet {sheet} row {}", row + 1),
                    &mut published_on,
                )?,
                _ => groups.row(line, cells),
            }
            cells.clear();
            Ok(())
        };
    loop {
        let cell = cells
            .next_cell()
            .map_err(|error| refuse(format!("sheet \"{sheet}\": {error}")))?;
        let Some(cell) = cell else { break };
        let (row, column) = cell.get_position();
        if current_row.is_some_and(|current| current != row) {
            finish_row(current_row.unwrap_or(0), &mut row_cells, &mut groups)?;
        }
        current_row = Some(row);
        let value = match cell.get_value() {
            DataRef::SharedString(s) => (*s).to_owned(),
            DataRef::String(s) | DataRef::DateTimeIso(s) | DataRef::DurationIso(s) => s.clone(),
            DataRef::Int(i) => i.to_string(),
            DataRef::Bool(b) => b.to_string(),
            DataRef::Empty => String::new(),
            other => {
                return Err(Refusal::new(
                    format!(
                        "{file}: sheet {sheet} row {} column {}",
                        row + 1,
                        column + 1
                    ),
                    format!("a {other:?} cell; this format's cells are text"),
                ));
            }
        };
        field_checked(&format!("{file}: sheet {sheet} row {}", row + 1), &value)?;
        let column = column as usize;
        if column > 256 {
            return Err(Refusal::new(
                format!("{file}: sheet {sheet} row {}", row + 1),
                "a cell past column 256",
            ));
        }
        if row_cells.len() <= column {
            row_cells.resize(column + 1, String::new());
        }
        row_cells[column] = value;
    }
    if let Some(row) = current_row {
        finish_row(row, &mut row_cells, &mut groups)?;
    }
    let mut parsed = groups.finish();
    parsed.published_on = published_on;
    Ok(parsed)
}

// ---------------------------------------------------------------------------------------
// OpenSanctions FollowTheMoney

/// An entity's FtM referent as (scheme, value) of the list it came from.
fn ftm_referent(referent: &str) -> Option<(&'static str, &str)> {
    for (prefix, scheme) in [
        ("ofac-", "ofac-uid"),
        ("gb-hmt-", "uk-ofsi-group-id"),
        ("eu-fsf-", "eu-fsf-reference"),
    ] {
        if let Some(value) = referent.strip_prefix(prefix)
            && !value.is_empty()
        {
            return Some((scheme, value));
        }
    }
    None
}

/// The placeholder programme of an FtM entry, replaced by the dataset's (`OS-<DATASET>`).
pub const FTM_PROGRAMME: &str = "OS";

fn ftm(file: &str, text: &str, format: Format) -> Result<Parsed, Refusal> {
    let mut parsed = Parsed::default();
    let mut seen = BTreeMap::new();
    for (index, line) in text.lines().enumerate() {
        let place = format!("{file}:{}", index + 1);
        if line.trim().is_empty() {
            continue;
        }
        if line.len() > limits::IMPORT_ENTRY_BYTES_MAX {
            return Err(Refusal::new(
                place,
                format!(
                    "a line of {} bytes; at most {} (IMPORT_ENTRY_BYTES_MAX)",
                    line.len(),
                    limits::IMPORT_ENTRY_BYTES_MAX
                ),
            ));
        }
        let value: serde_json::Value = match crate::intake::parse_strict(line) {
            Ok(value) => value,
            Err(reason) => {
                parsed.refused.push(Refusal::new(
                    format!("{place}:{}", reason.column),
                    format!("not JSON: {}", reason.reason),
                ));
                continue;
            }
        };
        let (op, entity) = if format == Format::FtmDelta {
            let op = value.get("op").and_then(|op| op.as_str()).unwrap_or("");
            if !matches!(op, "ADD" | "MOD" | "DEL") {
                parsed.refused.push(Refusal::new(
                    place,
                    format!("op \"{op}\"; expected ADD, MOD or DEL"),
                ));
                continue;
            }
            (op, value.get("entity").cloned().unwrap_or_default())
        } else {
            ("ADD", value)
        };
        let id = entity
            .get("id")
            .and_then(|id| id.as_str())
            .unwrap_or("")
            .to_owned();
        if id.is_empty() || id.len() > 96 || !id.bytes().all(|b| b.is_ascii_graphic()) {
            parsed.refused.push(Refusal::new(
                place,
                format!("id \"{id}\": an entity needs an id of printable ASCII, at most 96 bytes"),
            ));
            continue;
        }
        let place = format!("{place} (id {id})");
        if op == "DEL" {
            let mut entry = Entry::new(&id, SubjectKind::Entity, place);
            entry.names.push(format!("(deleted {id})"));
            entry.deleted = true;
            parsed.push(entry, &mut seen);
            continue;
        }
        let schema = entity.get("schema").and_then(|s| s.as_str()).unwrap_or("");
        let kind = match schema {
            "Person" => SubjectKind::Person,
            "Organization" | "Company" | "LegalEntity" | "PublicBody" => SubjectKind::Entity,
            "Vessel" => SubjectKind::Vessel,
            "Airplane" => SubjectKind::Aircraft,
            // Addresses, sanctions and other linked records are not subjects.
            _ => continue,
        };
        let properties = entity.get("properties").cloned().unwrap_or_default();
        let values = |name: &str| -> Vec<String> {
            properties
                .get(name)
                .and_then(|v| v.as_array())
                .map(|items| {
                    items
                        .iter()
                        .filter_map(|i| i.as_str().map(ToOwned::to_owned))
                        .collect()
                })
                .unwrap_or_default()
        };
        let topics = values("topics");
        if format == Format::FtmEntities
            && !topics.iter().any(|t| t == "sanction")
            && entity.get("target").and_then(|t| t.as_bool()) != Some(true)
        {
            continue;
        }
        let mut entry = Entry::new(&id, kind, place);
        if let Some(caption) = entity.get("caption").and_then(|c| c.as_str()) {
            entry.name(caption);
        }
        for name in values("name") {
            entry.name(&name);
        }
        for alias in values("alias") {
            entry.alias(&alias);
        }
        for dob in values("birthDate") {
            entry.identifier("date-of-birth", &dob);
        }
        for nationality in values("nationality") {
            entry.identifier("nationality", &nationality);
        }
        if let Some(referents) = entity.get("referents").and_then(|r| r.as_array()) {
            for referent in referents.iter().filter_map(|r| r.as_str()) {
                if let Some((scheme, value)) = ftm_referent(referent) {
                    entry.identifier(scheme, value);
                }
            }
        }
        // The programme is the dataset imported (`opensanctions:<dataset>`); the planner
        // names it, as the file does not say which of its datasets an import is of.
        entry.programmes.insert(FTM_PROGRAMME.to_owned());
        if let Some(object) = properties.as_object() {
            for (name, items) in object {
                if ["modifiedAt", "lastSeen"].contains(&name.as_str()) {
                    continue;
                }
                for item in items
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|i| i.as_str())
                {
                    entry.field(name, item);
                }
            }
        }
        entry.field("schema", schema);
        parsed.push(entry, &mut seen);
    }
    Ok(parsed)
}
