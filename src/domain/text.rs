//! Text and identifier newtypes, valid by construction.
//!
//! Owns the rules every stored string obeys: Unicode NFC (so two spellings of one name hash the
//! same), no control characters, no leading or trailing white space, bounded length. The
//! `new` constructors normalise to NFC; decoding stored bytes goes through `TryFrom<String>`,
//! which refuses text that is not already NFC (stored bytes must be canonical).

use crate::limits;
use compact_str::CompactString;
use serde::{Deserialize, Serialize};
use std::fmt;
use unicode_normalization::UnicodeNormalization;
use unicode_normalization::is_nfc;

/// Why a piece of text was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TextError {
    /// Empty, or only white space.
    #[error("must not be empty")]
    Empty,
    /// Longer than the limit.
    #[error("is {actual} characters long; at most {max} are allowed")]
    TooLong {
        /// Length found.
        actual: usize,
        /// The limit.
        max: usize,
    },
    /// Starts or ends with white space.
    #[error("must not start or end with white space")]
    Untrimmed,
    /// Holds a control character other than newline or tab.
    #[error("holds the control character U+{0:04X}")]
    Control(u32),
    /// Not in Unicode Normalization Form C (only when decoding stored bytes).
    #[error("is not in Unicode normalization form C")]
    NotNfc,
    /// An identifier with a character outside `A-Z a-z 0-9 . _ : / -`, or not starting with a letter or digit.
    #[error(
        "may hold only ASCII letters, digits and . _ : / - and must start with a letter or digit"
    )]
    IdentifierSyntax,
    /// A URL that is not http(s) or holds white space.
    #[error("must be an http:// or https:// URL without white space")]
    UrlSyntax,
    /// A digest that is not 64 lowercase hexadecimal digits.
    #[error("must be 64 lowercase hexadecimal digits")]
    DigestSyntax,
    /// A name holding a bidirectional control or an invisible character.
    #[error(
        "holds U+{code:04X} ({what}) at character {position}: names may not hold bidirectional controls or invisible characters (write the name as it is shown; a zero-width joiner or non-joiner is kept only between two letters of a script that uses it)"
    )]
    Invisible {
        /// The character's code point.
        code: u32,
        /// Its name, in words.
        what: &'static str,
        /// Where, counting characters from 1.
        position: usize,
    },
}

/// Characters a name may not hold: bidirectional controls (which can make a name display as
/// another, "Trojan Source" style) and characters that are invisible or separate lines.
fn invisible(character: char) -> Option<&'static str> {
    Some(match character {
        '\u{00AD}' => "soft hyphen",
        '\u{034F}' => "combining grapheme joiner",
        '\u{061C}' => "Arabic letter mark",
        '\u{180E}' => "Mongolian vowel separator",
        '\u{200B}' => "zero-width space",
        '\u{200C}' => "zero-width non-joiner",
        '\u{200D}' => "zero-width joiner",
        '\u{200E}' => "left-to-right mark",
        '\u{200F}' => "right-to-left mark",
        '\u{2028}' => "line separator",
        '\u{2029}' => "paragraph separator",
        '\u{202A}'..='\u{202E}' => "bidirectional embedding or override",
        '\u{2060}'..='\u{2064}' => "word joiner or invisible operator",
        '\u{2066}'..='\u{2069}' => "bidirectional isolate",
        '\u{FEFF}' => "zero-width no-break space (byte order mark)",
        '\u{FFF9}'..='\u{FFFB}' => "interlinear annotation",
        _ => return None,
    })
}

/// Refuses the characters `invisible` names, except a zero-width joiner or non-joiner between
/// two letters outside ASCII (Persian, Arabic and Indic names need them).
fn check_visible(text: &str) -> Result<(), TextError> {
    if text.is_ascii() {
        return Ok(());
    }
    let characters: Vec<char> = text.chars().collect();
    for (index, character) in characters.iter().enumerate() {
        let Some(what) = invisible(*character) else {
            continue;
        };
        let joiner = matches!(character, '\u{200C}' | '\u{200D}');
        let letter = |at: Option<&char>| at.is_some_and(|c| c.is_alphabetic() && !c.is_ascii());
        if joiner
            && index > 0
            && letter(characters.get(index - 1))
            && letter(characters.get(index + 1))
        {
            continue;
        }
        return Err(TextError::Invisible {
            code: u32::from(*character),
            what,
            position: index + 1,
        });
    }
    Ok(())
}

fn check_plain(text: &str, chars_max: usize, multiline: bool) -> Result<(), TextError> {
    // One trim, not two: empty (or only white space), then untrimmed.
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Err(TextError::Empty);
    }
    if trimmed.len() != text.len() {
        return Err(TextError::Untrimmed);
    }
    let check = |character: char| {
        let allowed_control = multiline && (character == '\n' || character == '\t');
        if character.is_control() && !allowed_control {
            return Err(TextError::Control(u32::from(character)));
        }
        Ok(())
    };
    // ASCII (most text) is checked byte by byte, without decoding UTF-8.
    let count = if text.is_ascii() {
        text.bytes().map(char::from).try_for_each(check)?;
        text.len()
    } else {
        let mut count = 0usize;
        for character in text.chars() {
            count += 1;
            check(character)?;
        }
        count
    };
    if count > chars_max {
        return Err(TextError::TooLong {
            actual: count,
            max: chars_max,
        });
    }
    Ok(())
}

/// Serializes a checked-text newtype exactly as its `String` would be (the same bytes in every
/// format), from a borrow: serde's `into = "String"` would clone the text on every encode.
macro_rules! serialize_as_str {
    ($name:ident) => {
        impl Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(&self.0)
            }
        }
    };
}

/// Deserializes a checked-text newtype from a borrowed string, checked before it is copied:
/// short text (most ids and names) is then kept inline, so decoding a stored event allocates
/// for its long texts only. `$check` must hold every rule `new` enforces (stored text is
/// already canonical: NFC, trimmed).
macro_rules! deserialize_checked {
    ($name:ident, $check:expr) => {
        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(
                deserializer: D,
            ) -> Result<$name, D::Error> {
                struct Checked;
                impl serde::de::Visitor<'_> for Checked {
                    type Value = $name;
                    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                        f.write_str("a string")
                    }
                    fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<$name, E> {
                        let check: fn(&str) -> Result<(), TextError> = $check;
                        check(text).map_err(E::custom)?;
                        Ok($name(CompactString::from(text)))
                    }
                }
                deserializer.deserialize_str(Checked)
            }
        }

        impl TryFrom<String> for $name {
            type Error = TextError;
            fn try_from(text: String) -> Result<$name, TextError> {
                let check: fn(&str) -> Result<(), TextError> = $check;
                check(&text)?;
                Ok($name(CompactString::from(text)))
            }
        }

        impl From<$name> for String {
            fn from(value: $name) -> String {
                value.0.into_string()
            }
        }
    };
}

macro_rules! text_type {
    ($(#[$doc:meta])* $name:ident, $chars_max:expr, $multiline:expr, $visible_only:expr) => {
        $(#[$doc])*
        #[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(CompactString);

        serialize_as_str!($name);
        deserialize_checked!($name, |text| {
            // ASCII text is always NFC; the table lookup is only needed beyond it.
            if !text.is_ascii() && !is_nfc(text) {
                return Err(TextError::NotNfc);
            }
            check_plain(text, $name::CHARS_MAX, $multiline)?;
            if $visible_only {
                check_visible(text)?;
            }
            Ok(())
        });

        impl $name {
            /// Most characters allowed.
            pub const CHARS_MAX: usize = $chars_max;

            /// Checked text, normalised to NFC first.
            pub fn new(text: &str) -> Result<$name, TextError> {
                let normalised: String = if text.is_ascii() { text.to_owned() } else { text.nfc().collect() };
                check_plain(&normalised, Self::CHARS_MAX, $multiline)?;
                if $visible_only {
                    check_visible(&normalised)?;
                }
                Ok($name(CompactString::from(normalised)))
            }
            /// The text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

text_type!(
    /// A short single-line text: a name, title, publisher, role, legal act.
    Name,
    limits::NAME_CHARS_MAX,
    false,
    true
);
text_type!(
    /// A long text that may span lines: a statement's words, a reason.
    Text,
    limits::TEXT_CHARS_MAX,
    true,
    false
);

fn check_identifier(text: &str) -> Result<(), TextError> {
    if text.is_empty() {
        return Err(TextError::Empty);
    }
    if text.len() > limits::ID_BYTES_MAX {
        return Err(TextError::TooLong {
            actual: text.len(),
            max: limits::ID_BYTES_MAX,
        });
    }
    let first_ok = text.as_bytes()[0].is_ascii_alphanumeric();
    let rest_ok = text
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b':' | b'/' | b'-'));
    if first_ok && rest_ok {
        Ok(())
    } else {
        Err(TextError::IdentifierSyntax)
    }
}

/// A stable identifier: an event id (the idempotency key), a subject id, an authority or a
/// programme code. ASCII `[A-Za-z0-9][A-Za-z0-9._:/-]*`, at most `ID_BYTES_MAX` bytes.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Identifier(CompactString);

serialize_as_str!(Identifier);
deserialize_checked!(Identifier, check_identifier);

impl Identifier {
    /// A checked identifier.
    pub fn new(text: &str) -> Result<Identifier, TextError> {
        check_identifier(text)?;
        Ok(Identifier(CompactString::from(text)))
    }
    /// The identifier.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Identifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

fn check_url(text: &str) -> Result<(), TextError> {
    if text.is_empty() {
        return Err(TextError::Empty);
    }
    if text.len() > limits::URL_BYTES_MAX {
        return Err(TextError::TooLong {
            actual: text.len(),
            max: limits::URL_BYTES_MAX,
        });
    }
    let rest = text
        .strip_prefix("https://")
        .or_else(|| text.strip_prefix("http://"));
    // ASCII (nearly every URL) is checked byte by byte, without decoding UTF-8.
    let clean = if text.is_ascii() {
        !text
            .bytes()
            .any(|b| b.is_ascii_whitespace() || b.is_ascii_control())
    } else {
        !text.chars().any(|c| c.is_whitespace() || c.is_control())
    };
    match rest {
        Some(rest) if !rest.is_empty() && clean => Ok(()),
        _ => Err(TextError::UrlSyntax),
    }
}

/// An http(s) URL of a source document. Kept as given (not normalised), bounded.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Url(CompactString);

serialize_as_str!(Url);
deserialize_checked!(Url, check_url);

impl Url {
    /// A checked URL.
    pub fn new(text: &str) -> Result<Url, TextError> {
        check_url(text)?;
        Ok(Url(CompactString::from(text)))
    }
    /// The URL.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A SHA-256 digest of a source document, as published alongside official lists.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Sha256Digest([u8; 32]);

impl Sha256Digest {
    /// Parses 64 lowercase hexadecimal digits.
    pub fn parse_hex(text: &str) -> Result<Sha256Digest, TextError> {
        let bytes = text.as_bytes();
        if bytes.len() != 64 {
            return Err(TextError::DigestSyntax);
        }
        let nibble = |b: u8| match b {
            b'0'..=b'9' => Some(b - b'0'),
            b'a'..=b'f' => Some(b - b'a' + 10),
            _ => None,
        };
        let mut digest = [0u8; 32];
        for (index, pair) in bytes.chunks_exact(2).enumerate() {
            let (Some(high), Some(low)) = (nibble(pair[0]), nibble(pair[1])) else {
                return Err(TextError::DigestSyntax);
            };
            digest[index] = high << 4 | low;
        }
        Ok(Sha256Digest(digest))
    }
    /// The digest as 64 lowercase hexadecimal digits.
    pub fn to_hex(&self) -> String {
        self.0.iter().map(|b| format!("{b:02x}")).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_refuse_bidi_controls_and_invisible_characters_naming_them() {
        for (text, code, position) in [
            ("WANG\u{202E}gnuj", 0x202E, 5),
            ("\u{2066}ZHU Hailun\u{2069}", 0x2066, 1),
            ("ZHU\u{200B}Hailun", 0x200B, 4),
            ("ZHU Hailun\u{2028}x", 0x2028, 11),
            ("\u{200D}", 0x200D, 1),
            ("A\u{200D}B", 0x200D, 2),
            ("ZHU\u{FEFF}", 0xFEFF, 4),
            ("\u{200F}محمد", 0x200F, 1),
        ] {
            match Name::new(text) {
                Err(TextError::Invisible {
                    code: found,
                    position: at,
                    ..
                }) => {
                    assert_eq!((found, at), (code, position), "{text:?}")
                }
                other => panic!("{text:?}: {other:?}"),
            }
        }
        let error = Name::new("a\u{202E}b").unwrap_err().to_string();
        assert!(
            error.contains("U+202E (bidirectional embedding or override) at character 2"),
            "{error}"
        );
        // A zero-width non-joiner inside a Persian word, and a joiner in Devanagari, are kept.
        assert!(Name::new("می\u{200C}خواهم").is_ok());
        assert!(Name::new("क\u{200D}ष").is_ok());
        // Statement texts are not names: they may quote right-to-left text with its marks.
        assert!(Text::new("He said \u{200F}نعم\u{200F}.").is_ok());
    }

    #[test]
    fn names_are_normalised_to_nfc() {
        // "Šakalienė" written with combining marks (NFD) becomes the precomposed form.
        let decomposed = "S\u{30c}akaliene\u{307}";
        let name = Name::new(decomposed).unwrap();
        assert_eq!(name.as_str(), "Šakalienė");
        assert_eq!(
            Name::try_from(decomposed.to_owned()),
            Err(TextError::NotNfc)
        );
        assert!(Name::try_from("王君正".to_owned()).is_ok());
    }

    #[test]
    fn text_bounds_hold_at_and_past_the_limit() {
        let at_limit = "x".repeat(Name::CHARS_MAX);
        assert!(Name::new(&at_limit).is_ok());
        let past_limit = "x".repeat(Name::CHARS_MAX + 1);
        assert_eq!(
            Name::new(&past_limit),
            Err(TextError::TooLong {
                actual: Name::CHARS_MAX + 1,
                max: Name::CHARS_MAX
            })
        );
        assert_eq!(Name::new("  "), Err(TextError::Empty));
        assert_eq!(Name::new(" a"), Err(TextError::Untrimmed));
        assert_eq!(Name::new("a\nb"), Err(TextError::Control(10)));
        assert!(Text::new("a\nb").is_ok());
    }

    #[test]
    fn identifiers_are_plain_ascii() {
        assert!(Identifier::new("us-ofac/2021-03-22:glomag_1.a").is_ok());
        let at_limit = "a".repeat(limits::ID_BYTES_MAX);
        assert!(Identifier::new(&at_limit).is_ok());
        assert!(matches!(
            Identifier::new(&format!("{at_limit}a")),
            Err(TextError::TooLong { .. })
        ));
        for bad in ["-x", "a b", "é", ""] {
            assert!(Identifier::new(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn urls_and_digests() {
        assert!(Url::new("https://home.treasury.gov/news/press-releases/sm1055").is_ok());
        assert_eq!(Url::new("ftp://x"), Err(TextError::UrlSyntax));
        assert_eq!(Url::new("https://a b"), Err(TextError::UrlSyntax));
        assert_eq!(Url::new("https://"), Err(TextError::UrlSyntax));
        let hex = "645b23f3bef721972cbf68fd2a2710ef57d461eca42e2c0def9e775edcdfadde";
        assert_eq!(Sha256Digest::parse_hex(hex).unwrap().to_hex(), hex);
        assert!(Sha256Digest::parse_hex(&hex.to_uppercase()).is_err());
        assert!(Sha256Digest::parse_hex(&hex[1..]).is_err());
    }
}
