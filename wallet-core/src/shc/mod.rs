//! SMART Health Cards (SHC): the `shc:/` QR text, the compact JWS inside it,
//! the issuers' keys (JWKS) and revocation lists (CRLs), and the FHIR
//! bundle a card carries, read into the same credential model as our own
//! codes and EU DCCs.
//!
//! ```text
//! shc:/5676290952432060346029243740446031222959532654603460292540772804336028702864716745...
//!      └ each JWS character as two digits: its code − 45
//! JWS  = b64url(header) "." b64url(raw-deflate(JSON claims)) "." b64url(r‖s)
//!        header {"zip":"DEF","alg":"ES256","kid": RFC 7638 thumbprint of the key}
//! ```
//!
//! [`numeric`] reads the QR text (whole, or the deprecated `shc:/N/M/`
//! chunks), [`jws`] the signed token, [`jwk`] the issuer keys, [`crl`] the
//! revocation lists, [`issuers`] the trusted issuers (one at a time or a
//! directory), [`fhir`] the bundle, [`codes`] the rule-set data that says
//! which vaccine and test codes count, and [`card`] puts them together: a
//! verification at an explicit `now`.

pub mod card;
/// The code table moved to [`crate::credential::codes`] (the EU-shaped
/// readers below `verify` need it too); its old path still works.
pub use crate::credential::codes;
pub mod crl;
pub mod fhir;
pub mod issuers;
pub mod jwk;
pub mod jws;
pub mod numeric;

use crate::verify::reason::{Fault, Faulty};
use thiserror::Error;

/// Longest JWS accepted (a single QR holds at most 1,195 characters; a
/// `.smart-health-card` file may hold longer ones).
pub const MAX_JWS: usize = 64 * 1024;
/// Most bytes a card's payload may inflate to.
pub const MAX_PAYLOAD: usize = 256 * 1024;
/// Longest key identifier accepted (a thumbprint is 43 characters).
pub const MAX_KID: usize = 128;
/// Longest issuer JWKS, CRL or directory file read.
pub const MAX_ISSUER_FILE: usize = 16 * 1024 * 1024;

/// Why SHC text, a key set, a CRL or a directory could not be read.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum ShcError {
    #[error("shc:/ text: {0}")]
    Numeric(String),
    #[error("chunked shc:/ codes: {0}")]
    Chunks(String),
    #[error("JWS: {0}")]
    Jws(String),
    #[error("JWS header: {0}")]
    Header(String),
    #[error("card payload: {0}")]
    Payload(String),
    #[error("FHIR bundle: {0}")]
    Fhir(String),
    #[error("key {kid}: {why}")]
    Key { kid: String, why: String },
    #[error("JWKS: {0}")]
    Jwks(String),
    #[error("CRL: {0}")]
    Crl(String),
    #[error("issuer directory: {0}")]
    Directory(String),
}

impl Faulty for ShcError {
    fn fault(&self) -> Fault {
        use ShcError as E;
        match self {
            E::Numeric(_) => Fault::Damaged,
            E::Chunks(_) => Fault::Parts,
            E::Jws(_) | E::Header(_) | E::Payload(_) => Fault::Structure,
            E::Fhir(_) => Fault::Content,
            E::Key { .. } | E::Jwks(_) | E::Crl(_) | E::Directory(_) => Fault::Other,
        }
    }
}

/// Base64url without padding, as JOSE writes it.
pub(crate) fn b64url(text: &str) -> Result<Vec<u8>, String> {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(text)
        .map_err(|e| format!("not base64url: {e}"))
}

pub(crate) fn b64url_encode(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// A JSON text no longer than `max` bytes, parsed (serde_json bounds the
/// nesting depth at 128).
pub(crate) fn json(bytes: &[u8], max: usize, what: &str) -> Result<serde_json::Value, String> {
    if bytes.len() > max {
        return Err(format!(
            "{what} is {} bytes, more than the {max} allowed",
            bytes.len()
        ));
    }
    serde_json::from_slice(bytes).map_err(|e| format!("{what} is not JSON: {e}"))
}

#[cfg(test)]
mod tests;
