//! Names as screeners type them: the words of a name, folded so that order, punctuation, case,
//! accents and script variants do not matter, and how well a query matches a name.
//!
//! Folding (index and query alike): Unicode compatibility forms unified (NFKC: full-width
//! letters, ligatures), Traditional Chinese characters written as Simplified (OpenCC's
//! Traditional-to-Simplified tables), accents and other combining marks removed, lowercase,
//! letters with no decomposition spelled in Latin (ß ss, æ ae, ø o, ł l, đ d, ı i, þ th),
//! apostrophes dropped (O'Brien, OBrien), and every other non-letter, non-digit a word break
//! (commas, hyphens, dots, the middle dot of transliterated Uyghur names). Pure.

use std::sync::OnceLock;

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

/// How a name matched a query, best first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Match {
    /// The same words, in any order ("Shohrat Zakir" for "ZAKIR, Shohrat").
    Exact,
    /// Every word of the query is a word of the name ("Zakir" for "ZAKIR, Shohrat").
    AllWords,
    /// Every word of the query begins a word of the name ("Zak Shoh").
    WordPrefixes,
    /// The query, without spaces, is part of the name without spaces (scripts written without
    /// spaces, such as Chinese: "海仑" in "朱海仑").
    Contains,
}

impl Match {
    /// The published name (schemas/output).
    pub fn as_str(self) -> &'static str {
        match self {
            Match::Exact => "exact",
            Match::AllWords => "all_words",
            Match::WordPrefixes => "word_prefixes",
            Match::Contains => "contains",
        }
    }
}

fn traditional_to_simplified(text: &str) -> String {
    static CONVERTER: OnceLock<Option<ferrous_opencc::OpenCC>> = OnceLock::new();
    let converter = CONVERTER.get_or_init(|| {
        ferrous_opencc::OpenCC::from_config(ferrous_opencc::config::BuiltinConfig::T2s).ok()
    });
    match converter {
        Some(converter) => converter.convert(text),
        // The tables are compiled in; without them, names still match within one script.
        None => text.to_owned(),
    }
}

fn spelled(c: char, into: &mut String) {
    match c {
        'ß' => into.push_str("ss"),
        'æ' => into.push_str("ae"),
        'œ' => into.push_str("oe"),
        'ø' => into.push('o'),
        'ł' => into.push('l'),
        'đ' | 'ð' => into.push('d'),
        'ı' => into.push('i'),
        'þ' => into.push_str("th"),
        other => into.push(other),
    }
}

fn is_apostrophe(c: char) -> bool {
    matches!(
        c,
        '\'' | '\u{2019}' | '\u{2018}' | '\u{02BC}' | '`' | '\u{00B4}'
    )
}

/// The folded words of a name (or query), in their order.
pub fn words(name: &str) -> Vec<String> {
    let compatible: String = name.nfkc().collect();
    let simplified = if compatible.is_ascii() {
        compatible
    } else {
        traditional_to_simplified(&compatible)
    };
    let mut folded = String::with_capacity(simplified.len());
    for c in simplified.nfd().filter(|c| !is_combining_mark(*c)) {
        for lower in c.to_lowercase() {
            spelled(lower, &mut folded);
        }
    }
    let mut words = Vec::new();
    let mut word = String::new();
    for c in folded.chars() {
        if c.is_alphanumeric() {
            word.push(c);
        } else if !is_apostrophe(c) && !word.is_empty() {
            words.push(std::mem::take(&mut word));
        }
    }
    if !word.is_empty() {
        words.push(word);
    }
    words
}

/// A name as the name index stores it: its folded words, joined by one space.
pub fn index_form(name: &str) -> String {
    words(name).join(" ")
}

/// How `name` (folded words) matches `query` (folded words), if it does. An empty query
/// matches nothing.
pub fn rank(query: &[String], name: &[String]) -> Option<Match> {
    if query.is_empty() || name.is_empty() {
        return None;
    }
    let mut sorted_query: Vec<&str> = query.iter().map(String::as_str).collect();
    let mut sorted_name: Vec<&str> = name.iter().map(String::as_str).collect();
    sorted_query.sort_unstable();
    sorted_name.sort_unstable();
    if sorted_query == sorted_name {
        return Some(Match::Exact);
    }
    if each_takes_a_word(query, name, |word, candidate| word == candidate) {
        return Some(Match::AllWords);
    }
    if each_takes_a_word(query, name, |word, candidate| candidate.starts_with(word)) {
        return Some(Match::WordPrefixes);
    }
    let joined_name: String = name.concat();
    let joined_query: String = query.concat();
    joined_name
        .contains(joined_query.as_str())
        .then_some(Match::Contains)
}

/// Whether each query word can take a distinct name word that `fits` it (greedy over the
/// longest query words first, which is exact for equality and near enough for prefixes).
fn each_takes_a_word(query: &[String], name: &[String], fits: impl Fn(&str, &str) -> bool) -> bool {
    let mut order: Vec<&String> = query.iter().collect();
    order.sort_by_key(|word| std::cmp::Reverse(word.len()));
    let mut taken = vec![false; name.len()];
    order.iter().all(|word| {
        let free = name
            .iter()
            .enumerate()
            .find(|(index, candidate)| !taken[*index] && fits(word, candidate));
        match free {
            Some((index, _)) => {
                taken[index] = true;
                true
            }
            None => false,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rank_of(query: &str, name: &str) -> Option<Match> {
        rank(&words(query), &words(name))
    }

    #[test]
    fn order_punctuation_case_and_accents_do_not_matter() {
        assert_eq!(
            rank_of("Shohrat Zakir", "ZAKIR, Shohrat"),
            Some(Match::Exact)
        );
        assert_eq!(rank_of("gao qi", "GAO, Qi"), Some(Match::Exact));
        assert_eq!(
            rank_of("Dovile Sakaliene", "Dovilė Šakalienė"),
            Some(Match::Exact)
        );
        assert_eq!(
            rank_of("Raphael Glucksmann", "Raphaël GLUCKSMANN"),
            Some(Match::Exact)
        );
        assert_eq!(rank_of("OBrien", "Neil O'Brien"), Some(Match::AllWords));
        assert_eq!(rank_of("Zakir", "ZAKIR, Shohrat"), Some(Match::AllWords));
        assert_eq!(
            rank_of("zak shoh", "ZAKIR, Shohrat"),
            Some(Match::WordPrefixes)
        );
        assert_eq!(rank_of("Bjoern", "Björn Jerdén"), None);
        assert_eq!(
            rank_of("ＺＡＫＩＲ", "ZAKIR, Shohrat"),
            Some(Match::AllWords)
        );
        assert_eq!(
            rank_of("Duncan Smith", "Iain Duncan-Smith"),
            Some(Match::AllWords)
        );
    }

    #[test]
    fn traditional_and_simplified_chinese_match() {
        assert_eq!(rank_of("朱海崙", "朱海仑"), Some(Match::Exact));
        assert_eq!(rank_of("海崙", "朱海仑"), Some(Match::Contains));
        assert_eq!(rank_of("陳全國", "陈全国"), Some(Match::Exact));
    }

    #[test]
    fn nothing_matches_an_empty_query_and_words_are_not_reused() {
        assert_eq!(rank_of("", "ZAKIR, Shohrat"), None);
        assert_eq!(rank_of(",,", "ZAKIR, Shohrat"), None);
        assert_eq!(rank_of("zakir zakir", "ZAKIR, Shohrat"), None);
        assert_eq!(
            rank_of("Erken Tuniyaz", "TUNIYAZ, Erken"),
            Some(Match::Exact)
        );
    }
}
