//! ICAO Visible Digital Seals for non-constrained environments (VDS-NC):
//! the proof-of-vaccination and proof-of-testing seals of ICAO's technical
//! report (2021) that Australia, Japan and others issue, to be read offline
//! with the issuing country's CSCA certificate.
//!
//! ```text
//! {"data": {"hdr": {"t": "icao.vacc" | "icao.test", "v": 1, "is": "AUS"},
//!           "msg": {"uvci" | "utci", "pid": {"n", ? "dob", …}, "ve" | "tr" …}},
//!  "sig":  {"alg": "ES256" | "ES384" | "ES512",
//!           "cer": base64url(DER barcode signer certificate),
//!           "sigvl": base64url(r‖s)}}
//! ```
//!
//! (Japan's seals wrap that object in a one-element array.) The signature
//! covers the RFC 8785 canonical form ([`json`]) of `data`; the barcode
//! signer certificate must chain to a trusted CSCA ([`pki`]), carry the
//! VDS-NC signer extended key usage, list the seal's document type when it
//! lists any, be inside its validity, and not be on its CSCA's CRL.
//! [`seal`] reads a seal strictly and checks it at an explicit `now`.

pub mod curve;
pub mod json;
pub mod pki;
pub mod seal;

pub use pki::{Crl, Csca, IcaoTrust, Signer};
pub use seal::{decode, is_seal, verify, IcaoVerification, Seal, SealKind};

use crate::verify::reason::{Fault, Faulty};
use thiserror::Error;

/// Largest seal text read: a QR code holds at most 2,953 bytes, and a seal
/// given as a file may be indented.
pub const MAX_TEXT: usize = 16 * 1024;
/// Largest certificate or CRL read (DER).
pub const MAX_DER: usize = 64 * 1024;

/// Why a seal, a certificate or a CRL could not be read.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum IcaoError {
    /// Not a seal at all: not JSON, or JSON without `data` and `sig`.
    #[error("ICAO seal: {0}")]
    NotASeal(String),
    #[error("ICAO seal: {field}: {why}")]
    Field { field: &'static str, why: String },
    #[error("ICAO seal: {0} is missing")]
    Missing(&'static str),
    #[error("CSCA certificate: {0}")]
    Csca(String),
    #[error("CRL: {0}")]
    Crl(String),
}

impl Faulty for IcaoError {
    fn fault(&self) -> Fault {
        match self {
            IcaoError::NotASeal(_) => Fault::NotACode,
            IcaoError::Field { field, .. } => Fault::Invalid { field },
            IcaoError::Missing(field) => Fault::Missing { field },
            IcaoError::Csca(_) | IcaoError::Crl(_) => Fault::Other,
        }
    }
}
