//! JSON as a seal's signature needs it: read strictly (I-JSON, RFC 7493:
//! no duplicate member names, no lone surrogates, bounded size and depth),
//! and written in the JSON Canonicalization Scheme (RFC 8785), the bytes
//! the signature covers.
//!
//! The canonical form is written here from the parsed value (RFC 8785 §3.2:
//! member names sorted by their UTF-16 code units, no whitespace,
//! ECMAScript's string escapes, numbers as ECMAScript prints them), tested
//! byte for byte against the reference inputs
//! and outputs of RFC 8785's author in `tests/jcs.rs`. The
//! `serde_json_canonicalizer` crate gives the same bytes, but re-parses
//! every member name and keeps a B-tree per object: 45 KB of the browser's
//! module, which a first visit could not afford. A number that is not a
//! whole number is read here from its text to the exact double it names
//! (serde_json's own reading may be one unit off, and its exact mode adds
//! 30 KB of tables; seals carry whole numbers only, so this path is cold).
//! Duplicate names are refused before any of this: a parser that kept the
//! first of two `"n"` members would show a different name than the one
//! this reader signed over.

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
    let mut value = value;
    let texts = number_texts(text);
    let mut next = texts.iter();
    exact_numbers(&mut value, &mut next)?;
    Ok(value)
}

/// The RFC 8785 canonical form of `value`.
pub fn canonical(value: &Value) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    write_canonical(value, &mut out)?;
    Ok(out)
}

fn write_canonical(value: &Value, out: &mut Vec<u8>) -> Result<(), String> {
    match value {
        Value::Null => out.extend_from_slice(b"null"),
        Value::Bool(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
        Value::Number(n) => write_number(n, out)?,
        Value::String(s) => write_string(s, out),
        Value::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_canonical(item, out)?;
            }
            out.push(b']');
        }
        Value::Object(map) => {
            let mut members: Vec<(Vec<u16>, &String, &Value)> = map
                .iter()
                .map(|(k, v)| (k.encode_utf16().collect(), k, v))
                .collect();
            members.sort_unstable_by(|a, b| a.0.cmp(&b.0));
            out.push(b'{');
            for (i, (_, k, v)) in members.into_iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_string(k, out);
                out.push(b':');
                write_canonical(v, out)?;
            }
            out.push(b'}');
        }
    }
    Ok(())
}

/// A number as ECMAScript's `Number.prototype.toString` prints the double
/// it is (RFC 8785 §3.2.2.3): integers beyond 2^53 are doubles too.
fn write_number(n: &serde_json::Number, out: &mut Vec<u8>) -> Result<(), String> {
    let f = n
        .as_f64()
        .filter(|f| f.is_finite())
        .ok_or("a number that is not a finite double")?;
    out.extend_from_slice(es_number(f).as_bytes());
    Ok(())
}

/// ECMAScript's `Number.prototype.toString` of a finite double (ECMA-262
/// §6.1.6.1.20): the shortest digits that read back to it (Rust's own
/// formatting gives them: `{:e}`), laid out plainly from 1e-6 up to 1e21
/// and exponentially beyond. Checked against the `ryu-js` crate in
/// `tests/jcs.rs`.
pub fn es_number(f: f64) -> String {
    if f == 0.0 {
        // −0 prints as 0.
        return "0".into();
    }
    let sci = format!("{:e}", f.abs());
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    // f = 0.d1…dk × 10^n
    let n = exp.parse::<i64>().unwrap_or(0) + 1;
    let (digits, n) = even_on_tie(f.abs(), digits, n);
    let k = digits.len() as i64;
    let sign = if f < 0.0 { "-" } else { "" };
    let body = if k <= n && n <= 21 {
        format!("{digits}{}", "0".repeat((n - k) as usize))
    } else if 0 < n && n <= 21 {
        format!("{}.{}", &digits[..n as usize], &digits[n as usize..])
    } else if -6 < n && n <= 0 {
        format!("0.{}{digits}", "0".repeat((-n) as usize))
    } else {
        let e = n - 1;
        let e = if e < 0 {
            format!("-{}", -e)
        } else {
            format!("+{e}")
        };
        if k == 1 {
            format!("{digits}e{e}")
        } else {
            format!("{}.{}e{e}", &digits[..1], &digits[1..])
        }
    };
    format!("{sign}{body}")
}

/// Where the shortest digits `digits` (×10^(n−k)) of `f` have a neighbour
/// in their last place exactly as close to `f` (so as short, and reading
/// back to `f` too), ECMAScript takes the even one; Rust's formatting may
/// take the other. Decided exactly, with big integers.
fn even_on_tie(f: f64, digits: String, n: i64) -> (String, i64) {
    use rsa::BigUint;
    let odd = digits.bytes().last().is_some_and(|d| (d - b'0') % 2 == 1);
    if !odd {
        return (digits, n);
    }
    let bits = f.to_bits();
    let (raw_exp, frac) = ((bits >> 52) as i64 & 0x7ff, bits & ((1 << 52) - 1));
    let (m, e) = if raw_exp == 0 {
        (frac, -1074)
    } else {
        (frac | (1 << 52), raw_exp - 1075)
    };
    let k = digits.len() as i64;
    let p = n - k;
    let (a, b) = ((-e).max(0), (-p).max(0));
    let Some(d) = BigUint::parse_bytes(digits.as_bytes(), 10) else {
        return (digits, n);
    };
    let scale = |x: BigUint, ten: i64, two: i64| (x * pow10(ten as u32)) << (two as usize);
    let v = scale(BigUint::from(m), b, e + a);
    let c = scale(d.clone(), p + b, a);
    let one = BigUint::from(1u8);
    let (other, tie) = if v > c {
        let o = &d + &one;
        let co = scale(o.clone(), p + b, a);
        let tie = &v - &c == &co - &v;
        (o, tie)
    } else if v < c && d > one {
        let o = &d - &one;
        let co = scale(o.clone(), p + b, a);
        let tie = &c - &v == &v - &co;
        (o, tie)
    } else {
        return (digits, n);
    };
    if !tie {
        return (digits, n);
    }
    let text = other.to_str_radix(10);
    let n = n + text.len() as i64 - k;
    let trimmed = text.trim_end_matches('0');
    (
        if trimmed.is_empty() {
            text
        } else {
            trimmed.to_string()
        },
        n,
    )
}

/// A string with RFC 8785's escapes (§3.2.2.2): `"` and `\`, the five
/// short control escapes, other controls as `\u00xx`; everything else as
/// it is, in UTF-8.
fn write_string(s: &str, out: &mut Vec<u8>) {
    out.push(b'"');
    for c in s.chars() {
        match c {
            '"' => out.extend_from_slice(b"\\\""),
            '\\' => out.extend_from_slice(b"\\\\"),
            '\u{8}' => out.extend_from_slice(b"\\b"),
            '\t' => out.extend_from_slice(b"\\t"),
            '\n' => out.extend_from_slice(b"\\n"),
            '\u{c}' => out.extend_from_slice(b"\\f"),
            '\r' => out.extend_from_slice(b"\\r"),
            c if (c as u32) < 0x20 => {
                out.extend_from_slice(format!("\\u{:04x}", c as u32).as_bytes())
            }
            c => {
                let mut buf = [0u8; 4];
                out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
            }
        }
    }
    out.push(b'"');
}

/// The numbers of valid JSON `text`, as written, in document order.
fn number_texts(text: &str) -> Vec<&str> {
    let b = text.as_bytes();
    let (mut out, mut i, mut in_string) = (Vec::new(), 0, false);
    while i < b.len() {
        let c = b[i];
        if in_string {
            match c {
                b'\\' => i += 1,
                b'"' => in_string = false,
                _ => {}
            }
            i += 1;
        } else if c == b'"' {
            in_string = true;
            i += 1;
        } else if c == b'-' || c.is_ascii_digit() {
            let start = i;
            while i < b.len() && matches!(b[i], b'0'..=b'9' | b'-' | b'+' | b'.' | b'e' | b'E') {
                i += 1;
            }
            out.push(&text[start..i]);
        } else {
            i += 1;
        }
    }
    out
}

/// Puts in each number of `v` (in document order) the exact value its text
/// names: a whole number that fits 64 bits as an integer, any other as the
/// double nearest to it (ties to even).
fn exact_numbers<'a>(
    v: &mut Value,
    texts: &mut impl Iterator<Item = &'a &'a str>,
) -> Result<(), String> {
    match v {
        Value::Number(n) => {
            let text = texts.next().ok_or("a number was not found in the text")?;
            *n = exact(text)?;
        }
        Value::Array(items) => {
            for item in items {
                exact_numbers(item, texts)?;
            }
        }
        Value::Object(map) => {
            for (_, item) in map.iter_mut() {
                exact_numbers(item, texts)?;
            }
        }
        _ => {}
    }
    Ok(())
}

/// The number JSON text `t` names, exactly.
fn exact(t: &str) -> Result<serde_json::Number, String> {
    if !t.contains(['.', 'e', 'E']) {
        if let Ok(i) = t.parse::<i64>() {
            return Ok(i.into());
        }
        if let Ok(u) = t.parse::<u64>() {
            return Ok(u.into());
        }
    }
    let f = nearest_double(t).ok_or_else(|| format!("the number {t} is not a finite double"))?;
    serde_json::Number::from_f64(f).ok_or_else(|| format!("the number {t} is not finite"))
}

/// The double nearest to the decimal `t` (JSON number syntax), ties to
/// even, with the big integers the `rsa` crate brings; none when it
/// overflows.
fn nearest_double(t: &str) -> Option<f64> {
    use rsa::BigUint;
    let (negative, t) = match t.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, t),
    };
    let (mantissa, exp) = match t.find(['e', 'E']) {
        Some(i) => (&t[..i], t[i + 1..].parse::<i64>().ok()?),
        None => (t, 0),
    };
    let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let digits: String = [int, frac].concat();
    let digits = digits.trim_start_matches('0');
    let exp10 = exp.checked_sub(i64::try_from(frac.len()).ok()?)?;
    let sign = |x: f64| if negative { -x } else { x };
    if digits.is_empty() {
        return Some(sign(0.0));
    }
    let magnitude = exp10 + digits.len() as i64;
    if magnitude > 310 {
        return None;
    }
    if magnitude < -330 {
        return Some(sign(0.0));
    }
    let d = BigUint::parse_bytes(digits.as_bytes(), 10)?;
    // value = m · 2^e2, with m of at least 55 bits and `sticky` for any
    // remainder below it.
    let (m, e2, sticky) = if exp10 >= 0 {
        (d * pow10(exp10 as u32), 0i64, false)
    } else {
        let den = pow10((-exp10) as u32);
        let k = (55 + den.bits() as i64 - d.bits() as i64).max(0);
        let num = d << (k as usize);
        let q = &num / &den;
        let r = num - &q * &den;
        (q, -k, r != BigUint::from(0u8))
    };
    let len = m.bits() as i64;
    // The lowest bit kept: 53 significant bits, or fewer below the normal range.
    let target = (e2 + len - 53).max(-1074);
    let shift = target - e2;
    let (mut mant, round_up) = if shift <= 0 {
        (m << ((-shift) as usize), false)
    } else {
        let s = shift as usize;
        let kept = &m >> s;
        let dropped = &m - (&kept << s);
        let half = BigUint::from(1u8) << (s - 1);
        let odd = kept.to_bytes_le().first().is_some_and(|b| b & 1 == 1);
        let up = dropped > half || (dropped == half && (sticky || odd));
        (kept, up)
    };
    if round_up {
        mant += BigUint::from(1u8);
    }
    let mut mant = mant
        .to_bytes_be()
        .iter()
        .fold(0u64, |acc, b| (acc << 8) | u64::from(*b));
    let mut target = target;
    if mant >= 1 << 53 {
        mant >>= 1;
        target += 1;
    }
    let exp_field = if mant >= 1 << 52 { target + 1075 } else { 0 };
    if exp_field >= 2047 {
        return None;
    }
    let bits = ((exp_field as u64) << 52) | (mant & ((1 << 52) - 1));
    Some(sign(f64::from_bits(bits)))
}

/// 10^n.
fn pow10(mut n: u32) -> rsa::BigUint {
    let mut result = rsa::BigUint::from(1u8);
    let mut base = rsa::BigUint::from(10u8);
    while n > 0 {
        if n & 1 == 1 {
            result *= &base;
        }
        base = &base * &base;
        n >>= 1;
    }
    result
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
    fn numbers_are_read_to_the_exact_double_their_text_names() {
        let mut seed = 0x1234_5678_9abc_def0u64;
        for _ in 0..20_000 {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let f = f64::from_bits(seed);
            if !f.is_finite() {
                continue;
            }
            // Rust's shortest text, its full-precision text, and a long one.
            for text in [format!("{f:e}"), format!("{f:.30e}"), format!("{f}")] {
                let want = text.parse::<f64>().unwrap();
                assert_eq!(
                    nearest_double(&text).map(f64::to_bits),
                    Some(want.to_bits()),
                    "{text}"
                );
            }
        }
        for (text, want) in [
            ("333333333.33333329", 333_333_333.333_333_3_f64),
            ("5e-324", 5e-324),
            ("2.4703282292062327e-324", 0.0),
            ("2.4703282292062328e-324", 5e-324),
            ("1.7976931348623157e308", f64::MAX),
            ("9007199254740993", 9_007_199_254_740_992.0),
            ("0.000000000000000000000000001", 1e-27),
            ("-0.0", -0.0),
        ] {
            assert_eq!(
                nearest_double(text).map(f64::to_bits),
                Some(want.to_bits()),
                "{text}"
            );
        }
        assert_eq!(nearest_double("1.8e308"), None);
        assert_eq!(nearest_double("1e400"), None);
        assert_eq!(nearest_double("1e-400"), Some(0.0));
        // Whole numbers stay integers; the text decides, not serde's reading.
        let v = parse(r#"[1, -2, 18446744073709551615, 1.5, 1e2, "9.9"]"#).unwrap();
        assert_eq!(
            v.to_string(),
            "[1,-2,18446744073709551615,1.5,100.0,\"9.9\"]"
        );
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
