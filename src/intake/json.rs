//! Strict JSON reading: one value per document, refusing what an auditor could misread.
//!
//! Owns turning untrusted text into a `serde_json::Value`: duplicate keys are refused (which
//! value would have counted?), nesting is bounded by `JSON_DEPTH_MAX`, a byte-order mark and
//! trailing data are refused. Errors carry the line and column within the document.

use crate::limits;
use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};
use std::fmt;

/// Why a document is not acceptable JSON.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JsonError {
    /// 1-based line within the document (0 if unknown).
    pub line: usize,
    /// 1-based column.
    pub column: usize,
    /// What is wrong.
    pub reason: String,
}

struct StrictSeed {
    depth: usize,
}

impl<'de> DeserializeSeed<'de> for StrictSeed {
    type Value = Value;
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(StrictVisitor { depth: self.depth })
    }
}

struct StrictVisitor {
    depth: usize,
}

impl StrictVisitor {
    fn nested<E: de::Error>(&self) -> Result<usize, E> {
        if self.depth >= limits::JSON_DEPTH_MAX {
            Err(E::custom(format_args!(
                "nested deeper than {} levels; events need far fewer",
                limits::JSON_DEPTH_MAX
            )))
        } else {
            Ok(self.depth + 1)
        }
    }
}

impl<'de> Visitor<'de> for StrictVisitor {
    type Value = Value;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }
    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let depth = self.nested()?;
        let mut items = Vec::new();
        while let Some(item) = seq.next_element_seed(StrictSeed { depth })? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let depth = self.nested()?;
        let mut object = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            if object.contains_key(&key) {
                return Err(de::Error::custom(format_args!(
                    "duplicate key \"{key}\" in one object; each key may appear once"
                )));
            }
            let value = map.next_value_seed(StrictSeed { depth })?;
            object.insert(key, value);
        }
        Ok(Value::Object(object))
    }
}

/// Parses one JSON document strictly.
pub fn parse_strict(text: &str) -> Result<Value, JsonError> {
    if text.starts_with('\u{feff}') {
        return Err(JsonError {
            line: 1,
            column: 1,
            reason: "starts with a byte-order mark (U+FEFF); save the file as UTF-8 without one"
                .to_owned(),
        });
    }
    if text.trim().is_empty() {
        return Err(JsonError {
            line: 1,
            column: 1,
            reason: "empty; expected a JSON object".to_owned(),
        });
    }
    let mut deserializer = serde_json::Deserializer::from_str(text);
    let result = StrictSeed { depth: 0 }
        .deserialize(&mut deserializer)
        .and_then(|value| deserializer.end().map(|()| value));
    result.map_err(|error| JsonError {
        line: error.line(),
        column: error.column(),
        reason: error
            .to_string()
            .split(" at line ")
            .next()
            .unwrap_or_default()
            .to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_what_could_be_misread() {
        assert!(parse_strict(r#"{"a": 1}"#).is_ok());
        let duplicate = parse_strict("{\"a\": 1,\n \"a\": 2}").unwrap_err();
        assert!(
            duplicate.reason.contains("duplicate key \"a\""),
            "{duplicate:?}"
        );
        assert_eq!(duplicate.line, 2);
        assert!(
            parse_strict("\u{feff}{}")
                .unwrap_err()
                .reason
                .contains("byte-order mark")
        );
        assert!(
            parse_strict("{} x")
                .unwrap_err()
                .reason
                .contains("trailing")
        );
        assert!(parse_strict("   ").unwrap_err().reason.contains("empty"));
    }

    #[test]
    fn depth_is_bounded_at_the_limit() {
        let nested = |depth: usize| format!("{}{}", "[".repeat(depth), "]".repeat(depth));
        assert!(parse_strict(&nested(limits::JSON_DEPTH_MAX)).is_ok());
        let error = parse_strict(&nested(limits::JSON_DEPTH_MAX + 1)).unwrap_err();
        assert!(error.reason.contains("nested deeper"), "{error:?}");
        // Far deeper input is refused the same way, without exhausting the stack.
        assert!(
            parse_strict(&nested(100_000))
                .unwrap_err()
                .reason
                .contains("nested deeper")
        );
    }
}
