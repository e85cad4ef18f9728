//! Synthetic ledgers for benchmarks and exploration: `sanctions-ledger gen`.
//!
//! Deterministic for a seed. A realistic mix: many authorities, programmes and subjects (names
//! in Latin, Cyrillic and Chinese script), designations (EU-style ones with end dates that are
//! renewed every year), delistings, amendments, counter-sanctions answering recent designations,
//! statements, retractions and supersessions, recorded over years, some effective dates earlier
//! than their recording (late knowledge). Every reference names an earlier event.

use crate::domain::{CivilDate, Event, Timestamp};
use crate::intake::event_from_json;
use serde_json::{Value, json};

/// A small, fast, deterministic generator (xorshift64*).
pub struct Random(u64);

impl Random {
    /// A generator for `seed`.
    pub fn new(seed: u64) -> Random {
        Random(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    /// The next number.
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    /// A number below `n` (n > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }
}

const PROGRAMMES: [(&str, &str, bool); 14] = [
    ("US-OFAC", "GLOMAG", false),
    ("US-OFAC", "SDGT", false),
    ("US-OFAC", "RUSSIA-EO14024", false),
    ("US-OFAC", "IRAN", false),
    ("EU-COUNCIL", "EU-GHR", true),
    ("EU-COUNCIL", "EU-RUS", true),
    ("EU-COUNCIL", "EU-IRAN", true),
    ("UK-FCDO", "UK-GHR", false),
    ("UK-FCDO", "UK-RUS", false),
    ("CA-GAC", "CA-SEMA-CHINA", false),
    ("CA-GAC", "CA-SEMA-RUSSIA", false),
    ("UN-SC", "UN-1267", false),
    ("AU-DFAT", "AU-THEMATIC", false),
    ("JP-MOFA", "JP-FOREX", false),
];
const RETALIATORS: [(&str, &str); 2] =
    [("CN-MFA", "CN-COUNTERMEASURES"), ("RU-MFA", "RU-STOPLIST")];
const SYLLABLES: [&str; 16] = [
    "an", "bo", "chen", "dov", "el", "fa", "gul", "hai", "ivan", "jun", "ka", "lun", "mir", "nur",
    "ol", "zhe",
];
const CJK: [&str; 12] = [
    "王", "陈", "朱", "明", "山", "国", "海", "正", "君", "新", "安", "华",
];
const CYRILLIC: [&str; 10] = ["Ан", "Бо", "Ва", "Ге", "До", "Ев", "Жу", "За", "Ив", "Ко"];
const MEASURES: [&str; 6] = [
    "asset_freeze",
    "funds_ban",
    "travel_ban",
    "entry_ban",
    "dealings_prohibition",
    "business_ban",
];

/// Generates events in order; see the module documentation.
pub struct Generator {
    random: Random,
    total: u64,
    index: u64,
    subjects: u64,
    designations: Vec<String>,
    recent: Vec<(String, bool)>,
    start_days: i64,
    next_renewal_year: i32,
    pending_renewals: Vec<&'static str>,
}

impl Generator {
    /// A generator of `total` events from `seed`.
    pub fn new(total: u64, seed: u64) -> Generator {
        Generator {
            random: Random::new(seed),
            total,
            index: 0,
            subjects: (total / 25).clamp(50, 200_000),
            designations: Vec::new(),
            recent: Vec::new(),
            start_days: CivilDate::parse("2000-01-01")
                .map(CivilDate::to_days)
                .unwrap_or(10_957),
            next_renewal_year: 2000,
            pending_renewals: Vec::new(),
        }
    }

    /// Days of the timeline covered by the events (25 years).
    const SPAN_DAYS: i64 = 25 * 365;

    fn day_of(&self, index: u64) -> i64 {
        self.start_days + (index as i64 * Self::SPAN_DAYS) / self.total.max(1) as i64
    }

    /// The recorded time of event `index`: spread over the same 25 years, never decreasing.
    pub fn recorded_at(&self, index: u64) -> Timestamp {
        let micros_per_day = 86_400_000_000i64;
        Timestamp::from_unix_micros(
            self.day_of(index) * micros_per_day + (index as i64 % 86_400) * 1_000_000,
        )
    }

    fn name(&mut self, subject: u64) -> Vec<String> {
        let mut latin = String::new();
        let mut value = subject;
        for _ in 0..3 {
            latin.push_str(SYLLABLES[(value % 16) as usize]);
            value /= 16;
        }
        let mut names = vec![format!(
            "{} {}",
            latin.to_uppercase(),
            SYLLABLES[(subject % 7) as usize]
        )];
        match subject % 3 {
            0 => names.push(format!(
                "{}{}{}",
                CJK[(subject % 12) as usize],
                CJK[(subject / 12 % 12) as usize],
                CJK[(subject / 144 % 12) as usize]
            )),
            1 => names.push(format!(
                "{}{}",
                CYRILLIC[(subject % 10) as usize],
                CYRILLIC[(subject / 10 % 10) as usize].to_lowercase()
            )),
            _ => {}
        }
        names
    }

    fn subject(&mut self, subject: u64) -> Value {
        let kind = match subject % 10 {
            0..=6 => "person",
            7 | 8 => "entity",
            _ => "vessel",
        };
        json!({"id": format!("subject-{subject}"), "kind": kind, "names": self.name(subject),
               "identifiers": [{"scheme": "synthetic-id", "value": subject.to_string()}]})
    }

    fn date(&self, days: i64) -> String {
        CivilDate::from_days(days)
            .map(|d| d.to_string())
            .unwrap_or_else(|| "2000-01-01".into())
    }

    /// The next event, or `None` after `total`. An event the generator built wrongly (a bug)
    /// comes back with its problems, never silently dropped.
    pub fn next_event(&mut self) -> Option<Result<Event, Vec<crate::domain::Problem>>> {
        if self.index >= self.total {
            return None;
        }
        let index = self.index;
        self.index += 1;
        let id = format!("gen-{index}");
        let today = self.day_of(index);
        // Some events take effect before they are recorded (late knowledge).
        let effective = today
            - if self.random.below(5) == 0 {
                self.random.below(90) as i64
            } else {
                0
            };
        let (authority, programme, dated) =
            PROGRAMMES[self.random.below(PROGRAMMES.len() as u64) as usize];
        let subject_count = 1 + self.random.below(4);
        let first_subject = self.random.below(self.subjects);
        let subject_ids: Vec<u64> = (0..subject_count)
            .map(|offset| (first_subject + offset * 7) % self.subjects)
            .collect();
        let december = CivilDate::new(self.next_renewal_year, 12, 1)
            .map(CivilDate::to_days)
            .unwrap_or(i64::MAX);
        if today >= december {
            self.pending_renewals
                .extend(["EU-IRAN", "EU-RUS", "EU-GHR"]);
            self.next_renewal_year += 1;
        }
        let roll = self.random.below(100);
        let mut event = match roll {
            _ if self.designations.is_empty() || roll < 30 => {
                let subjects: Vec<Value> = subject_ids.iter().map(|s| self.subject(*s)).collect();
                let measures: Vec<&str> = (0..2)
                    .map(|k| MEASURES[((first_subject + k) % 6) as usize])
                    .collect::<std::collections::BTreeSet<_>>()
                    .into_iter()
                    .collect();
                let mut event = json!({"kind": "designation", "authority": authority, "programme": programme,
                                       "legal_basis": [format!("{programme} act {}", index / 1000)], "subjects": subjects, "measures": measures});
                if dated {
                    event["until"] = json!(self.date(effective + 365));
                }
                self.designations.push(id.clone());
                if self.designations.len() > 64 {
                    self.designations.remove(0);
                }
                event
            }
            // The EU renews each regime's listings once a year, in early December.
            _ if !self.pending_renewals.is_empty() => {
                let programme = self.pending_renewals.pop().unwrap_or("EU-GHR");
                json!({"kind": "renewal", "authority": "EU-COUNCIL", "programme": programme, "until": self.date(today + 372)})
            }
            30..=37 => {
                let subjects: Vec<Value> = subject_ids.iter().map(|s| self.subject(*s)).collect();
                json!({"kind": "designation", "authority": authority, "programme": programme,
                       "legal_basis": [format!("{programme} act {}", index / 1000)], "subjects": subjects, "measures": ["asset_freeze"]})
            }
            38..=45 => json!({"kind": "delisting", "authority": authority, "programme": programme,
                              "subject_ids": subject_ids.iter().map(|s| format!("subject-{s}")).collect::<Vec<_>>()}),
            46..=55 => {
                let subject = self.subject(subject_ids[0]);
                json!({"kind": "amendment", "subject": subject, "authority": authority, "programme": programme,
                       "measures": [MEASURES[(index % 6) as usize]], "reason": "Statement of reasons updated."})
            }
            56..=62 => {
                let (authority, programme) = RETALIATORS[self.random.below(2) as usize];
                let answers = self.designations
                    [self.random.below(self.designations.len() as u64) as usize]
                    .clone();
                let subjects: Vec<Value> = subject_ids
                    .iter()
                    .map(|s| self.subject(*s + 1_000_000))
                    .collect();
                json!({"kind": "retaliation", "authority": authority, "programme": programme, "subjects": subjects,
                       "measures": ["entry_ban", "business_ban"], "in_response_to": [answers]})
            }
            63..=92 => {
                let about = self.designations
                    [self.random.below(self.designations.len() as u64) as usize]
                    .clone();
                json!({"kind": "statement", "speaker": format!("Spokesperson {}", index % 97), "role": "Spokesperson",
                       "text": format!("On event {about}: the measures are justified."), "about_events": [about],
                       "about_subjects": [format!("subject-{}", subject_ids[0])]})
            }
            _ => {
                let (target, is_correction) =
                    self.recent[self.random.below(self.recent.len().max(1) as u64) as usize
                        % self.recent.len().max(1)]
                    .clone();
                let mut correction = json!({"kind": "correction", "corrects": target, "reason": "Recorded in error."});
                if !is_correction && self.random.below(2) == 0 {
                    let subjects: Vec<Value> =
                        subject_ids.iter().map(|s| self.subject(*s)).collect();
                    correction["replacement"] = json!({"kind": "designation", "effective_on": self.date(effective), "authority": authority,
                        "programme": programme, "legal_basis": ["Corrected act"], "subjects": subjects, "measures": ["asset_freeze"]});
                }
                correction
            }
        };
        let is_correction = event["kind"] == "correction";
        event["id"] = json!(id);
        event["effective_on"] = json!(self.date(effective));
        event["sources"] = json!([{"publisher": format!("{authority} gazette"), "title": format!("Notice {index}"),
                                   "url": format!("https://example.org/{}/{index}", authority.to_lowercase())}]);
        self.recent.push((id, is_correction));
        if self.recent.len() > 256 {
            self.recent.remove(0);
        }
        Some(event_from_json(&event))
    }
}
