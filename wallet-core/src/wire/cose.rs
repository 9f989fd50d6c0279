//! COSE_Sign1 (RFC 9052 §4.2) as plain data.
//!
//! ```text
//! COSE_Sign1 = [
//!     protected   : bstr .cbor header_map / bstr .size 0,
//!     unprotected : header_map,
//!     payload     : bstr / nil,
//!     signature   : bstr
//! ]
//! Sig_structure = [ "Signature1", body_protected : bstr,
//!                   external_aad : bstr, payload : bstr ]
//! ```
//!
//! This module never chooses an algorithm library: [`CoseSign1::to_be_signed`]
//! hands out the exact bytes the signature covers, built from the protected
//! header *as it arrived* (never a re-encoding), and the caller's
//! [`crate::keys::IssuerKey`] does the math.

use crate::wire::cbor::{self, CborError, Value};
use thiserror::Error;

/// CBOR tag for COSE_Sign1.
pub const TAG_COSE_SIGN1: u64 = 18;
/// CBOR tag for a CWT (RFC 8392 §6), sometimes wrapped around the COSE tag.
pub const TAG_CWT: u64 = 61;
/// Header label `alg`.
pub const HEADER_ALG: i64 = 1;
/// Header label `kid`.
pub const HEADER_KID: i64 = 4;

#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum CoseError {
    #[error(transparent)]
    Cbor(#[from] CborError),
    #[error("not a COSE_Sign1 structure: {0}")]
    Structure(String),
    #[error("bad header: {0}")]
    Header(String),
}

/// How the structure was tagged on the wire.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tagging {
    /// `18([...])`, the normal form.
    Sign1,
    /// `61(18([...]))`: a CWT tag around the COSE tag.
    CwtSign1,
    /// A bare array.
    Untagged,
}

/// The header parameters this system reads; anything else is kept as-is.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Headers {
    /// `alg` (1): a COSE algorithm identifier.
    pub alg: Option<i64>,
    /// `kid` (4): key identifier bytes.
    pub kid: Option<Vec<u8>>,
    /// Any other header parameters, in wire order.
    pub other: Vec<(Value, Value)>,
}

impl Headers {
    fn from_map(map: Vec<(Value, Value)>) -> Result<Headers, CoseError> {
        cbor::check_unique_keys(&map)?;
        let mut h = Headers::default();
        for (k, v) in map {
            match cbor::as_i64(&k) {
                Some(HEADER_ALG) => {
                    h.alg =
                        Some(match &v {
                            Value::Integer(_) => cbor::as_i64(&v)
                                .ok_or_else(|| CoseError::Header("alg out of range".into()))?,
                            _ => return Err(CoseError::Header(
                                "alg is not an integer (text algorithm names are not supported)"
                                    .into(),
                            )),
                        })
                }
                Some(HEADER_KID) => match v {
                    Value::Bytes(b) => h.kid = Some(b),
                    _ => return Err(CoseError::Header("kid is not a byte string".into())),
                },
                _ => h.other.push((k, v)),
            }
        }
        Ok(h)
    }

    fn to_map(&self) -> Vec<(Value, Value)> {
        let mut map = Vec::new();
        if let Some(alg) = self.alg {
            map.push((Value::from(HEADER_ALG), Value::from(alg)));
        }
        if let Some(kid) = &self.kid {
            map.push((Value::from(HEADER_KID), Value::Bytes(kid.clone())));
        }
        map.extend(self.other.iter().cloned());
        map
    }

    fn is_empty(&self) -> bool {
        self.alg.is_none() && self.kid.is_none() && self.other.is_empty()
    }
}

/// A COSE_Sign1 message, with its protected header's original bytes.
#[derive(Clone, Debug, PartialEq)]
pub struct CoseSign1 {
    /// The protected header exactly as it arrived (the bstr's content).
    pub protected_bytes: Vec<u8>,
    /// The protected header, decoded.
    pub protected: Headers,
    pub unprotected: Headers,
    pub payload: Vec<u8>,
    pub signature: Vec<u8>,
    pub tagging: Tagging,
}

impl CoseSign1 {
    /// Parses a tagged (18, or 61 around 18) or untagged COSE_Sign1 of at
    /// most [`cbor::MAX_ITEM`] bytes.
    pub fn from_bytes(bytes: &[u8]) -> Result<CoseSign1, CoseError> {
        CoseSign1::from_bytes_limited(bytes, cbor::MAX_ITEM)
    }

    /// Parses a COSE_Sign1 of at most `max` bytes.
    pub fn from_bytes_limited(bytes: &[u8], max: usize) -> Result<CoseSign1, CoseError> {
        let value = cbor::decode_limited(bytes, max)?;
        let (tagging, inner) = match value {
            Value::Tag(TAG_COSE_SIGN1, inner) => (Tagging::Sign1, *inner),
            Value::Tag(TAG_CWT, inner) => match *inner {
                Value::Tag(TAG_COSE_SIGN1, inner) => (Tagging::CwtSign1, *inner),
                _ => {
                    return Err(CoseError::Structure(
                        "CWT tag 61 does not wrap a COSE_Sign1 tag 18".into(),
                    ))
                }
            },
            Value::Tag(other, _) => {
                return Err(CoseError::Structure(format!(
                    "tag {other} (expected 18, COSE_Sign1)"
                )))
            }
            v @ Value::Array(_) => (Tagging::Untagged, v),
            _ => return Err(CoseError::Structure("expected an array of 4 items".into())),
        };
        let Value::Array(items) = inner else {
            return Err(CoseError::Structure("expected an array of 4 items".into()));
        };
        let [protected, unprotected, payload, signature]: [Value; 4] =
            items.try_into().map_err(|v: Vec<Value>| {
                CoseError::Structure(format!("array has {} items, expected 4", v.len()))
            })?;
        let Value::Bytes(protected_bytes) = protected else {
            return Err(CoseError::Structure(
                "protected header is not a byte string".into(),
            ));
        };
        let protected = if protected_bytes.is_empty() {
            Headers::default()
        } else {
            match cbor::decode(&protected_bytes)? {
                Value::Map(m) => Headers::from_map(m)?,
                _ => {
                    return Err(CoseError::Header(
                        "protected header is not a CBOR map".into(),
                    ))
                }
            }
        };
        let Value::Map(unprotected) = unprotected else {
            return Err(CoseError::Structure(
                "unprotected header is not a map".into(),
            ));
        };
        let unprotected = Headers::from_map(unprotected)?;
        let payload = match payload {
            Value::Bytes(p) => p,
            Value::Null => {
                return Err(CoseError::Structure(
                    "detached payloads are not supported".into(),
                ))
            }
            _ => return Err(CoseError::Structure("payload is not a byte string".into())),
        };
        let Value::Bytes(signature) = signature else {
            return Err(CoseError::Structure(
                "signature is not a byte string".into(),
            ));
        };
        Ok(CoseSign1 {
            protected_bytes,
            protected,
            unprotected,
            payload,
            signature,
            tagging,
        })
    }

    /// The algorithm: from the protected header, else from the unprotected one.
    /// Whichever header it comes from, the key decides whether it is accepted.
    pub fn alg(&self) -> Option<i64> {
        self.protected.alg.or(self.unprotected.alg)
    }

    /// The key identifier: from the protected header, else from the unprotected one.
    pub fn kid(&self) -> Option<&[u8]> {
        self.protected
            .kid
            .as_deref()
            .or(self.unprotected.kid.as_deref())
    }

    /// The Sig_structure bytes that the signature covers (empty external AAD).
    pub fn to_be_signed(&self) -> Vec<u8> {
        sig_structure(&self.protected_bytes, &self.payload)
    }

    /// Builds and signs a message. `sign` receives the to-be-signed bytes.
    pub fn sign<E>(
        protected: Headers,
        payload: Vec<u8>,
        sign: impl FnOnce(&[u8]) -> Result<Vec<u8>, E>,
    ) -> Result<CoseSign1, E> {
        let protected_bytes = if protected.is_empty() {
            Vec::new()
        } else {
            cbor::encode(&Value::Map(protected.to_map()))
        };
        let signature = sign(&sig_structure(&protected_bytes, &payload))?;
        Ok(CoseSign1 {
            protected_bytes,
            protected,
            unprotected: Headers::default(),
            payload,
            signature,
            tagging: Tagging::Sign1,
        })
    }

    /// Serialises the message with its tagging.
    pub fn to_bytes(&self) -> Vec<u8> {
        let array = Value::Array(vec![
            Value::Bytes(self.protected_bytes.clone()),
            Value::Map(self.unprotected.to_map()),
            Value::Bytes(self.payload.clone()),
            Value::Bytes(self.signature.clone()),
        ]);
        let value = match self.tagging {
            Tagging::Sign1 => Value::Tag(TAG_COSE_SIGN1, Box::new(array)),
            Tagging::CwtSign1 => Value::Tag(
                TAG_CWT,
                Box::new(Value::Tag(TAG_COSE_SIGN1, Box::new(array))),
            ),
            Tagging::Untagged => array,
        };
        cbor::encode(&value)
    }
}

/// Writes the Sig_structure directly, so a large payload (a revocation list)
/// is copied once rather than cloned into a CBOR value and encoded again.
fn sig_structure(protected: &[u8], payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(payload.len() + protected.len() + 32);
    out.push(0x84); // array of 4
    cbor::write_head(&mut out, 3, b"Signature1".len() as u64);
    out.extend_from_slice(b"Signature1");
    cbor::write_head(&mut out, 2, protected.len() as u64);
    out.extend_from_slice(protected);
    out.push(0x40); // empty external_aad
    cbor::write_head(&mut out, 2, payload.len() as u64);
    out.extend_from_slice(payload);
    out
}

#[cfg(test)]
mod tests;
