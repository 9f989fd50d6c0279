//! Bounded CBOR (RFC 8949) decoding and small helpers over [`ciborium::Value`].
//!
//! Every CBOR item that reaches this crate from outside goes through
//! [`decode`]: it limits nesting depth, rejects trailing bytes, and relies on
//! the envelope's size limit to bound the input, so no length field can make
//! it allocate more than the input holds.

pub use ciborium::Value;
use thiserror::Error;

/// Deepest nesting accepted. Our structures need 4 levels; EU DCC payloads 6.
pub const MAX_DEPTH: usize = 16;

/// Largest CBOR item accepted, in bytes: one credential's COSE structure.
pub const MAX_ITEM: usize = super::MAX_CREDENTIAL_BYTES;

#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum CborError {
    #[error("CBOR item is {len} bytes, more than the {max} allowed")]
    TooLarge { len: usize, max: usize },
    #[error("invalid CBOR: {0}")]
    Invalid(String),
    #[error("CBOR nested deeper than {MAX_DEPTH} levels")]
    TooDeep,
    #[error("{0} bytes of trailing data after the CBOR item")]
    TrailingData(usize),
}

/// Decodes exactly one CBOR item of at most [`MAX_ITEM`] bytes.
pub fn decode(bytes: &[u8]) -> Result<Value, CborError> {
    decode_limited(bytes, MAX_ITEM)
}

/// Decodes exactly one CBOR item of at most `max` bytes (signed files such
/// as a revocation list are larger than a credential).
pub(crate) fn decode_limited(bytes: &[u8], max: usize) -> Result<Value, CborError> {
    if bytes.len() > max {
        return Err(CborError::TooLarge {
            len: bytes.len(),
            max,
        });
    }
    // Definite lengths larger than the remaining input cannot be satisfied;
    // check them up front so the decoder never reserves memory for them.
    check_lengths(bytes)?;
    let mut rest = bytes;
    let value: Value = ciborium::de::from_reader_with_recursion_limit(&mut rest, MAX_DEPTH)
        .map_err(|e| match e {
            ciborium::de::Error::RecursionLimitExceeded => CborError::TooDeep,
            other => CborError::Invalid(other.to_string()),
        })?;
    if !rest.is_empty() {
        return Err(CborError::TrailingData(rest.len()));
    }
    Ok(value)
}

/// Encodes a value (ciborium writes the shortest form of every head).
pub fn encode(value: &Value) -> Vec<u8> {
    let mut out = Vec::new();
    // Writing to a Vec cannot fail.
    if ciborium::ser::into_writer(value, &mut out).is_err() {
        out.clear();
    }
    out
}

/// Writes a CBOR item head (major type and argument) in its shortest form.
pub(crate) fn write_head(out: &mut Vec<u8>, major: u8, arg: u64) {
    let m = major << 5;
    match arg {
        0..=23 => out.push(m | arg as u8),
        24..=0xff => out.extend_from_slice(&[m | 24, arg as u8]),
        0x100..=0xffff => {
            out.push(m | 25);
            out.extend_from_slice(&(arg as u16).to_be_bytes());
        }
        0x1_0000..=0xffff_ffff => {
            out.push(m | 26);
            out.extend_from_slice(&(arg as u32).to_be_bytes());
        }
        _ => {
            out.push(m | 27);
            out.extend_from_slice(&arg.to_be_bytes());
        }
    }
}

/// Walks the item heads without building values and refuses any definite
/// length (of bytes, text, array or map) that exceeds the bytes that remain.
/// Every array element and map entry takes at least one byte, so this bound
/// is sound for containers too.
fn check_lengths(bytes: &[u8]) -> Result<(), CborError> {
    let mut pos = 0usize;
    while pos < bytes.len() {
        let initial = bytes[pos];
        pos += 1;
        let major = initial >> 5;
        let info = initial & 0x1f;
        let arg: u64 = match info {
            0..=23 => u64::from(info),
            24..=27 => {
                let n = 1usize << (info - 24);
                let Some(slice) = bytes.get(pos..pos + n) else {
                    return Err(CborError::Invalid("truncated item head".into()));
                };
                pos += n;
                slice.iter().fold(0u64, |acc, b| (acc << 8) | u64::from(*b))
            }
            31 => continue, // indefinite length or break: nothing to bound here
            _ => {
                return Err(CborError::Invalid(format!(
                    "reserved additional info {info}"
                )))
            }
        };
        let remaining = (bytes.len() - pos) as u64;
        match major {
            2 | 3 => {
                if arg > remaining {
                    return Err(CborError::Invalid(format!(
                        "string of {arg} bytes but only {remaining} bytes remain"
                    )));
                }
                pos += arg as usize;
            }
            4 | 5 => {
                let min = if major == 5 {
                    arg.saturating_mul(2)
                } else {
                    arg
                };
                if min > remaining {
                    return Err(CborError::Invalid(format!(
                        "container of {arg} items but only {remaining} bytes remain"
                    )));
                }
            }
            _ => {}
        }
    }
    Ok(())
}

/// Looks up an integer key in a CBOR map.
pub fn map_get(map: &[(Value, Value)], key: i64) -> Option<&Value> {
    map.iter()
        .find(|(k, _)| as_i64(k) == Some(key))
        .map(|(_, v)| v)
}

/// Looks up a text key in a CBOR map.
pub(crate) fn map_get_text<'a>(map: &'a [(Value, Value)], key: &str) -> Option<&'a Value> {
    map.iter()
        .find(|(k, _)| k.as_text() == Some(key))
        .map(|(_, v)| v)
}

/// An integer value that fits in `i64`.
pub(crate) fn as_i64(v: &Value) -> Option<i64> {
    match v {
        Value::Integer(i) => i64::try_from(i128::from(*i)).ok(),
        _ => None,
    }
}

/// A NumericDate (RFC 8392 §2) as whole seconds: an integer, or a float
/// (which RFC 8392 allows, and some issuers write) rounded down.
pub(crate) fn as_seconds(v: &Value) -> Option<i64> {
    match v {
        Value::Float(f) if f.is_finite() && f.abs() < 1e15 => Some(f.floor() as i64),
        Value::Tag(1, inner) => as_seconds(inner),
        other => as_i64(other),
    }
}

/// Refuses maps that contain the same key twice (RFC 8949 §5.6: invalid).
pub(crate) fn check_unique_keys(map: &[(Value, Value)]) -> Result<(), CborError> {
    for (i, (k, _)) in map.iter().enumerate() {
        if map[..i].iter().any(|(other, _)| other == k) {
            return Err(CborError::Invalid(format!("duplicate map key {k:?}")));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests;
