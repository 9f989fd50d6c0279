//! The envelope every signed file shares.
//!
//! Every file is a tagged COSE_Sign1 (RFC 9052) whose payload is a CBOR map
//! with text keys. Four keys are common to every file:
//!
//! ```text
//! signed_file = {
//!   "type": tstr,          ; "trust-list" / "revocations" / "revocation-delta" / "rules" / "exposures" / "foreign-trust"
//!   "version": uint,       ; grows with every publication of this type
//!   "issued": uint,        ; unix seconds
//!   "next_update": uint,   ; unix seconds: after this the file is stale (still used, with a warning)
//!   * tstr => any          ; the type's own fields
//! }
//! ```
//!
//! The type is inside the signed payload, so one kind of file can never be
//! passed off as another. Who may sign each type is decided by the caller
//! (see [`super::trust::TrustStore::file_signers`]); this module checks the
//! signature with the algorithm the signer's key is bound to.

use crate::keys::{IssuerKey, SignatureError, SigningKey};
use crate::wire::cbor::{self, Value};
use crate::wire::cose::{CoseSign1, Headers};
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::fmt;
use thiserror::Error;

/// Largest signed file accepted, in bytes (a revocation list of four million
/// entries, with room to spare).
pub const MAX_SIGNED_FILE: usize = 80 * 1024 * 1024;

/// The types of signed file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum FileType {
    TrustList,
    Revocations,
    RevocationDelta,
    Rules,
    /// Venues and time windows where people were exposed.
    Exposures,
    /// Foreign issuers' keys the authority trusts (EU DSCs, SHC issuers).
    ForeignTrust,
}

impl FileType {
    pub const ALL: [FileType; 6] = [
        FileType::TrustList,
        FileType::Revocations,
        FileType::RevocationDelta,
        FileType::Rules,
        FileType::Exposures,
        FileType::ForeignTrust,
    ];

    /// The name carried in the file's `"type"` field.
    pub fn name(self) -> &'static str {
        match self {
            FileType::TrustList => "trust-list",
            FileType::Revocations => "revocations",
            FileType::RevocationDelta => "revocation-delta",
            FileType::Rules => "rules",
            FileType::Exposures => "exposures",
            FileType::ForeignTrust => "foreign-trust",
        }
    }

    pub fn from_name(name: &str) -> Option<FileType> {
        FileType::ALL.into_iter().find(|t| t.name() == name)
    }
}

impl fmt::Display for FileType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Why a signed file was refused. Refusing a file never changes what the
/// checkpoint already holds.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum SignedFileError {
    #[error("{file} is {len} bytes, more than the {max} allowed")]
    TooLarge {
        file: &'static str,
        len: usize,
        max: usize,
    },
    #[error("{file} is malformed: {why}")]
    Malformed { file: &'static str, why: String },
    #[error("{file} is signed by unknown key {kid}")]
    UnknownSigner { file: &'static str, kid: String },
    #[error("{file} is signed by key {kid}, which may not sign {file}s")]
    SignerNotAllowed { file: &'static str, kid: String },
    #[error("{file} has a bad signature (key {kid}): {why}")]
    BadSignature {
        file: &'static str,
        kid: String,
        why: String,
    },
    #[error("expected a {expected} file, got a {found} file")]
    WrongType {
        expected: &'static str,
        found: String,
    },
    #[error("{file}: field {field:?} {why}")]
    Field {
        file: &'static str,
        field: String,
        why: String,
    },
    #[error(
        "{file} version {offered} is older than the version {held} already held (rollback refused)"
    )]
    Rollback {
        file: &'static str,
        held: u64,
        offered: u64,
    },
    #[error("{file} version {version} differs from the copy of version {version} already held (a version is published once)")]
    Conflict { file: &'static str, version: u64 },
}

/// The fields every signed file carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Header {
    pub file_type: FileType,
    pub version: u64,
    /// Unix seconds.
    pub issued_at: i64,
    /// Unix seconds.
    pub next_update: i64,
}

impl Header {
    /// True when `now` (unix seconds) is past the next-update time.
    pub fn is_stale(&self, now: i64) -> bool {
        now > self.next_update
    }
}

/// A file whose signature has been checked: its header, the kid of the key
/// that signed it, and its payload map for the type's own reader.
#[derive(Clone, Debug)]
pub struct Opened {
    pub header: Header,
    pub signer: Vec<u8>,
    /// SHA-256 of the payload: tells a re-publication of the same content
    /// from a conflicting file with the same version.
    pub digest: [u8; 32],
    pub body: Body,
}

/// The payload map of a signed file, with typed field readers whose errors
/// name the file and the field.
#[derive(Clone, Debug)]
pub struct Body {
    file: &'static str,
    map: Vec<(Value, Value)>,
}

impl Body {
    pub fn new(file: FileType, map: Vec<(Value, Value)>) -> Body {
        Body {
            file: file.name(),
            map,
        }
    }

    /// A body of a signed statement that is not one of the [`FileType`]s.
    pub(crate) fn named(file: &'static str, map: Vec<(Value, Value)>) -> Body {
        Body { file, map }
    }

    /// An error about `field` of this file.
    pub fn error(&self, field: &str, why: impl Into<String>) -> SignedFileError {
        SignedFileError::Field {
            file: self.file,
            field: field.into(),
            why: why.into(),
        }
    }

    pub fn get(&self, field: &str) -> Option<&Value> {
        cbor::map_get_text(&self.map, field)
    }

    /// Takes a field's value out of the map (for large byte strings).
    pub fn take(&mut self, field: &str) -> Option<Value> {
        let i = self
            .map
            .iter()
            .position(|(k, _)| k.as_text() == Some(field))?;
        Some(self.map.swap_remove(i).1)
    }

    pub fn required(&self, field: &str) -> Result<&Value, SignedFileError> {
        self.get(field)
            .ok_or_else(|| self.error(field, "is missing"))
    }

    pub fn uint(&self, field: &str) -> Result<u64, SignedFileError> {
        value_uint(self.required(field)?)
            .ok_or_else(|| self.error(field, "is not an unsigned integer"))
    }

    /// Unix seconds (an unsigned integer that fits in `i64`).
    pub fn time(&self, field: &str) -> Result<i64, SignedFileError> {
        i64::try_from(self.uint(field)?).map_err(|_| self.error(field, "is out of range"))
    }

    pub fn text(&self, field: &str) -> Result<&str, SignedFileError> {
        self.required(field)?
            .as_text()
            .ok_or_else(|| self.error(field, "is not a text string"))
    }

    pub fn bytes(&self, field: &str) -> Result<&[u8], SignedFileError> {
        match self.required(field)? {
            Value::Bytes(b) => Ok(b),
            _ => Err(self.error(field, "is not a byte string")),
        }
    }

    pub fn array(&self, field: &str) -> Result<&[Value], SignedFileError> {
        match self.required(field)? {
            Value::Array(a) => Ok(a),
            _ => Err(self.error(field, "is not an array")),
        }
    }

    /// The whole map, for deserializing with serde.
    pub fn value(&self) -> Value {
        Value::Map(self.map.clone())
    }
}

/// An unsigned integer value.
pub(crate) fn value_uint(v: &Value) -> Option<u64> {
    match v {
        Value::Integer(i) => u64::try_from(i128::from(*i)).ok(),
        _ => None,
    }
}

/// Signs a file: the header's four fields followed by `fields`.
pub(crate) fn sign(header: &Header, fields: Vec<(&str, Value)>, key: &SigningKey) -> Vec<u8> {
    let mut map = vec![
        (Value::from("type"), Value::from(header.file_type.name())),
        (Value::from("version"), Value::from(header.version)),
        (Value::from("issued"), Value::from(header.issued_at)),
        (Value::from("next_update"), Value::from(header.next_update)),
    ];
    map.extend(fields.into_iter().map(|(k, v)| (Value::from(k), v)));
    sign_map(map, key)
}

/// Signs a CBOR map with text keys as a tagged COSE_Sign1 whose protected
/// header holds the key's algorithm and kid.
pub(crate) fn sign_map(map: Vec<(Value, Value)>, key: &SigningKey) -> Vec<u8> {
    let protected = Headers {
        alg: Some(key.algorithm().cose_id()),
        kid: Some(key.kid().to_vec()),
        other: Vec::new(),
    };
    let payload = cbor::encode(&Value::Map(map));
    let cose =
        CoseSign1::sign::<std::convert::Infallible>(protected, payload, |tbs| Ok(key.sign(tbs)))
            .unwrap_or_else(|never| match never {});
    cose.to_bytes()
}

/// The kid and type of a signed file, read without checking the signature:
/// enough to choose the keys that may have signed it. Nothing read here is
/// trusted until [`open`] has checked the signature.
pub(crate) fn peek(
    bytes: &[u8],
    expected: FileType,
) -> Result<(CoseSign1, Vec<u8>), SignedFileError> {
    let file = expected.name();
    if bytes.len() > MAX_SIGNED_FILE {
        return Err(SignedFileError::TooLarge {
            file,
            len: bytes.len(),
            max: MAX_SIGNED_FILE,
        });
    }
    let malformed = |why: String| SignedFileError::Malformed { file, why };
    let cose = CoseSign1::from_bytes_limited(bytes, MAX_SIGNED_FILE)
        .map_err(|e| malformed(e.to_string()))?;
    let kid = cose
        .protected
        .kid
        .clone()
        .ok_or_else(|| malformed("no key identifier (kid) in the protected header".into()))?;
    if cose.protected.alg.is_none() {
        return Err(malformed(
            "no algorithm (alg) in the protected header".into(),
        ));
    }
    Ok((cose, kid))
}

/// Checks a signed file of type `expected` against `signers` (the keys that
/// may sign that type, with the file's kid) and returns its header and body.
/// Signed files must carry kid and alg in the protected header.
pub(crate) fn open(
    cose: CoseSign1,
    expected: FileType,
    signers: &[&IssuerKey],
) -> Result<Opened, SignedFileError> {
    let file = expected.name();
    let (payload, kid) = verify(cose, file, signers)?;
    let digest: [u8; 32] = Sha256::digest(&payload).into();
    let map = payload_map(payload, file)?;
    let body = Body::new(expected, map);
    let found = body.text("type")?;
    if found != file {
        return Err(SignedFileError::WrongType {
            expected: file,
            found: found.to_string(),
        });
    }
    let header = Header {
        file_type: expected,
        version: body.uint("version")?,
        issued_at: body.time("issued")?,
        next_update: body.time("next_update")?,
    };
    if header.next_update < header.issued_at {
        return Err(body.error("next_update", "is before \"issued\""));
    }
    Ok(Opened {
        header,
        signer: kid,
        digest,
        body,
    })
}

/// Checks a COSE_Sign1's signature against `signers` (the keys with its
/// kid that may sign it, each bound to its algorithm) and returns the
/// payload it covers and the kid. `file` names it in errors.
pub(crate) fn verify(
    cose: CoseSign1,
    file: &'static str,
    signers: &[&IssuerKey],
) -> Result<(Vec<u8>, Vec<u8>), SignedFileError> {
    let malformed = |why: String| SignedFileError::Malformed { file, why };
    let (Some(kid), Some(alg)) = (cose.protected.kid.clone(), cose.protected.alg) else {
        return Err(malformed(
            "kid and alg must be in the protected header".into(),
        ));
    };
    let kid_hex = hex::encode(&kid);
    if signers.is_empty() {
        return Err(SignedFileError::UnknownSigner { file, kid: kid_hex });
    }
    let tbs = cose.to_be_signed();
    let mut why = SignatureError::Mismatch;
    let mut verified = false;
    for key in signers {
        match key.verify(alg, &tbs, &cose.signature) {
            Ok(()) => {
                verified = true;
                break;
            }
            Err(e) => why = e,
        }
    }
    drop(tbs);
    if !verified {
        return Err(SignedFileError::BadSignature {
            file,
            kid: kid_hex,
            why: why.to_string(),
        });
    }
    Ok((cose.payload, kid))
}

/// A payload as a CBOR map with unique keys (bounded like a signed file).
pub(crate) fn payload_map(
    payload: Vec<u8>,
    file: &'static str,
) -> Result<Vec<(Value, Value)>, SignedFileError> {
    let malformed = |why: String| SignedFileError::Malformed { file, why };
    let value = cbor::decode_limited(&payload, MAX_SIGNED_FILE)
        .map_err(|e| malformed(format!("payload: {e}")))?;
    drop(payload);
    let Value::Map(map) = value else {
        return Err(malformed("payload is not a CBOR map".into()));
    };
    cbor::check_unique_keys(&map).map_err(|e| malformed(format!("payload: {e}")))?;
    Ok(map)
}

/// Decides whether a newer file may replace the one held: a lower version is
/// a rollback, the same version with different content is a conflict, the
/// same version with the same content is no change (`Ok(false)`).
pub(crate) fn check_succession(
    file: FileType,
    held: Option<(u64, &[u8])>,
    offered: (u64, &[u8]),
) -> Result<bool, SignedFileError> {
    let Some((held_version, held_digest)) = held else {
        return Ok(true);
    };
    let (version, digest) = offered;
    if version < held_version {
        return Err(SignedFileError::Rollback {
            file: file.name(),
            held: held_version,
            offered: version,
        });
    }
    if version == held_version {
        use subtle::ConstantTimeEq;
        if bool::from(held_digest.ct_eq(digest)) {
            return Ok(false);
        }
        return Err(SignedFileError::Conflict {
            file: file.name(),
            version,
        });
    }
    Ok(true)
}

#[cfg(test)]
mod tests;
