//! Signed lists of EU Document Signer Certificates, as national backends
//! publish them for verifier apps.
//!
//! The format: the first line is a base64 ECDSA P-256 / SHA-256 signature
//! (DER, or raw `r‖s` of 64 bytes) over everything after that line's `\n`;
//! the rest is JSON, `{"certificates": [{"kid", "rawData", "country",
//! "certificateType", "thumbprint", "timestamp", "signature"}, ...]}`, of
//! which `rawData` (the base64 DER certificate) is required, and `kid`
//! (base64 of the first 8 bytes of the certificate's SHA-256), when present,
//! must match the certificate. The list-signing key is a P-256 public key
//! pinned once on the device.
//!
//! A list whose signature fails is refused whole. Within a good list, a
//! certificate that cannot be used (an unsupported key, broken DER, a kid
//! that does not match) is skipped and reported, and the rest are trusted.

use super::dsc::{issuer_key_from_certificate, DscError, MAX_CERTIFICATE};
use super::{kid_for_certificate, IssuerKey};
use base64::Engine as _;
use p256::ecdsa::signature::Verifier as _;
use p256::ecdsa::{Signature, VerifyingKey};
use p256::pkcs8::DecodePublicKey;
use serde::Deserialize;
use thiserror::Error;

/// Largest list read, in bytes (a national list of ~600 certificates is
/// about 1 MB).
pub const MAX_DSC_LIST: usize = 8 * 1024 * 1024;
/// Most certificates read from one list.
pub const MAX_DSC_LIST_ENTRIES: usize = 20_000;

#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum DscListError {
    #[error("DSC list is {0} bytes, more than the {MAX_DSC_LIST} allowed")]
    TooLarge(usize),
    #[error("DSC list has no signature line (the first line must be the base64 signature)")]
    NoSignatureLine,
    #[error("DSC list signature is not base64: {0}")]
    SignatureEncoding(String),
    #[error("DSC list signature is neither DER nor 64 raw bytes")]
    SignatureForm,
    #[error("DSC list signature does not verify with the pinned list key")]
    BadSignature,
    #[error("DSC list is not the expected JSON: {0}")]
    Json(String),
    #[error("DSC list has {0} certificates, more than the {MAX_DSC_LIST_ENTRIES} allowed")]
    TooManyEntries(usize),
    #[error("list key is not a P-256 public key (PEM SubjectPublicKeyInfo): {0}")]
    ListKey(String),
}

/// The key a DSC list is signed with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ListKey(VerifyingKey);

impl ListKey {
    /// Reads a P-256 public key from PEM (`-----BEGIN PUBLIC KEY-----`).
    pub fn from_pem(pem: &str) -> Result<ListKey, DscListError> {
        VerifyingKey::from_public_key_pem(pem.trim())
            .map(ListKey)
            .map_err(|e| DscListError::ListKey(e.to_string()))
    }

    /// The key as PEM, as it is pinned.
    pub fn to_pem(&self) -> String {
        use p256::pkcs8::EncodePublicKey;
        self.0
            .to_public_key_pem(p256::pkcs8::LineEnding::LF)
            .unwrap_or_default()
    }
}

/// One certificate of a list, and what became of it.
#[derive(Clone, Debug)]
pub struct ListedCertificate {
    /// The entry's `kid`, as given (base64), or the certificate's own.
    pub kid: String,
    /// The entry's `country`, when given.
    pub country: Option<String>,
    /// The key, or why the certificate cannot be used.
    pub key: Result<IssuerKey, DscError>,
    /// The certificate (DER), when its base64 could be read.
    pub der: Option<Vec<u8>>,
}

#[derive(Deserialize)]
struct Body {
    certificates: Vec<Entry>,
}

#[derive(Deserialize)]
struct Entry {
    #[serde(default)]
    kid: Option<String>,
    #[serde(rename = "rawData")]
    raw_data: String,
    #[serde(default)]
    country: Option<String>,
}

/// Checks a list's signature with `key` and reads every certificate in it.
pub fn read_dsc_list(bytes: &[u8], key: &ListKey) -> Result<Vec<ListedCertificate>, DscListError> {
    if bytes.len() > MAX_DSC_LIST {
        return Err(DscListError::TooLarge(bytes.len()));
    }
    let newline = bytes
        .iter()
        .position(|b| *b == b'\n')
        .ok_or(DscListError::NoSignatureLine)?;
    let (line, body) = (&bytes[..newline], &bytes[newline + 1..]);
    let line = std::str::from_utf8(line)
        .map_err(|_| DscListError::SignatureEncoding("not text".into()))?
        .trim();
    let raw = base64::engine::general_purpose::STANDARD
        .decode(line)
        .map_err(|e| DscListError::SignatureEncoding(e.to_string()))?;
    let signature = if raw.len() == 64 {
        Signature::from_slice(&raw)
    } else {
        Signature::from_der(&raw)
    }
    .map_err(|_| DscListError::SignatureForm)?;
    key.0
        .verify(body, &signature)
        .map_err(|_| DscListError::BadSignature)?;
    let parsed: Body =
        serde_json::from_slice(body).map_err(|e| DscListError::Json(e.to_string()))?;
    if parsed.certificates.len() > MAX_DSC_LIST_ENTRIES {
        return Err(DscListError::TooManyEntries(parsed.certificates.len()));
    }
    Ok(parsed.certificates.into_iter().map(listed).collect())
}

fn listed(entry: Entry) -> ListedCertificate {
    let b64 = base64::engine::general_purpose::STANDARD;
    let der = if entry.raw_data.len() > MAX_CERTIFICATE * 4 / 3 + 4 {
        Err(DscError::TooLarge(entry.raw_data.len() * 3 / 4))
    } else {
        b64.decode(entry.raw_data.trim())
            .map_err(|e| DscError::Der(format!("rawData is not base64: {e}")))
    };
    let own_kid = der
        .as_ref()
        .ok()
        .map(|d| b64.encode(kid_for_certificate(d)));
    let kept = der.as_ref().ok().cloned();
    let key = der.and_then(|der| {
        let key = issuer_key_from_certificate(&der)?;
        match (&entry.kid, &own_kid) {
            (Some(given), Some(own)) if given != own => Err(DscError::Der(format!(
                "kid {given} does not match the certificate's {own}"
            ))),
            _ => Ok(key),
        }
    });
    ListedCertificate {
        kid: entry.kid.or(own_kid).unwrap_or_default(),
        country: entry.country,
        key,
        der: kept,
    }
}

#[cfg(test)]
mod tests;
