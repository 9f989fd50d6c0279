//! JSON as a seal's signature needs it: read strictly (I-JSON, RFC 7493:
//! no duplicate member names, no lone surrogates, bounded size and depth),
//! and written in the JSON Canonicalization Scheme (RFC 8785), the bytes
//! the signature covers.
//!
//! The canonical form comes from `serde_json_canonicalizer` (member names
//! sorted by UTF-16 code units, numbers in ECMAScript's shortest form,
//! RFC 8785's string escapes), tested against RFC 8785's own examples in
//! `tests/jcs.rs`. Duplicate names are refused here, before it: a parser
//! that kept the first of two `"n"` members would show a different name
//! than the one this reader signed over.

use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use serde_json::{Map, Value};
use std::fmt;

/// Deepest nesting read (a seal nests five levels).
pub const MAX_DEPTH: usize = 32;

/// Reads `text` as I-JSON: a duplicate member name anywhere, nesting deeper
/// than [`MAX_DEPTH`], or trailing text is an error naming it.
pub fn parse(text: &str) -> Result<Value, String> {
    let mut de = serde_json::Deserializer::from_str(text);
    let value = Strict::deserialize(&mut de)
        .map(|s| s.0)
        .map_err(|e| e.to_string())?;
    de.end().map_err(|e| e.to_string())?;
    check_depth(&value, 0)?;
    Ok(value)
}

/// The RFC 8785 canonical form of `value`.
pub fn canonical(value: &Value) -> Result<Vec<u8>, String> {
    serde_json_canonicalizer::to_vec(value).map_err(|e| e.to_string())
}

fn check_depth(v: &Value, depth: usize) -> Result<(), String> {
    if depth > MAX_DEPTH {
        return Err(format!("nested deeper than {MAX_DEPTH} levels"));
    }
    match v {
        Value::Array(items) => items.iter().try_for_each(|i| check_depth(i, depth + 1)),
        Value::Object(map) => map.values().try_for_each(|i| check_depth(i, depth + 1)),
        _ => Ok(()),
    }
}

/// A JSON value whose objects had no duplicate member names.
struct Strict(Value);

impl<'de> Deserialize<'de> for Strict {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Strict, D::Error> {
        d.deserialize_any(StrictVisitor).map(Strict)
    }
}

struct StrictVisitor;

impl<'de> Visitor<'de> for StrictVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
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

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value, E> {
        serde_json::Number::from_f64(v)
            .map(Value::Number)
            .ok_or_else(|| E::custom("a number that is not finite"))
    }

    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_string()))
    }

    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut out = Vec::new();
        while let Some(Strict(v)) = seq.next_element()? {
            out.push(v);
        }
        Ok(Value::Array(out))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut out = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            if out.contains_key(&key) {
                return Err(de::Error::custom(format!(
                    "member {:?} appears twice in one object",
                    crate::text::escape(&key)
                )));
            }
            let Strict(v) = map.next_value()?;
            out.insert(key, v);
        }
        Ok(Value::Object(out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duplicate_names_are_refused_anywhere() {
        assert!(parse(r#"{"a":1,"a":1}"#)
            .unwrap_err()
            .contains("\"a\" appears twice"));
        assert!(parse(r#"{"d":{"m":[{"n":"A","n":"B"}]}}"#).is_err());
        assert!(parse(r#"{"a":{"n":1},"b":{"n":1}}"#).is_ok());
    }

    #[test]
    fn trailing_text_lone_surrogates_and_depth_are_refused() {
        assert!(parse(r#"{"a":1} x"#).is_err());
        assert!(parse(r#"{"a":"\ud800"}"#).is_err());
        let deep = format!("{}1{}", "[".repeat(40), "]".repeat(40));
        assert!(parse(&deep).unwrap_err().contains("deeper"));
        let fine = format!("{}1{}", "[".repeat(20), "]".repeat(20));
        assert!(parse(&fine).is_ok());
    }

    #[test]
    fn canonical_sorts_names_and_drops_space() {
        let v = parse("{ \"b\" : [1, 2.50, \"x\"], \"a\" : {\"z\": null, \"é\": true} }").unwrap();
        assert_eq!(
            String::from_utf8(canonical(&v).unwrap()).unwrap(),
            r#"{"a":{"z":null,"é":true},"b":[1,2.5,"x"]}"#
        );
    }
}
